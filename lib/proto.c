// SPDX-License-Identifier: MIT
#include "proto.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int msg_send(int fd, char type, int code, long long value, const char *text)
{
	struct cell_msg m;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.code = code;
	m.value = value;
	if (text)
		snprintf(m.text, sizeof(m.text), "%s", text);
	do
		n = send(fd, &m, sizeof(m), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(m) ? 0 : -1;
}

int msg_recv(int fd, struct cell_msg *m, long long deadline_ms, struct cell_err *e)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	for (;;) {
		long long left = deadline_ms - now_ms();
		int r;

		if (left <= 0)
			return cell_err_set(e, ETIMEDOUT, "cell-init did not answer in time");
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cell_err_sys(e, "poll");
		if (r == 0)
			continue;
		n = recv(fd, m, sizeof(*m), MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return cell_err_sys(e, "recv from cell-init");
		if (n == 0)
			return cell_err_set(e, EPIPE, "cell-init exited before the cell was ready");
		if (n != (ssize_t)sizeof(*m))
			return cell_err_set(e, EPROTO, "short message from cell-init");
		m->text[sizeof(m->text) - 1] = '\0';
		return 0;
	}
}
