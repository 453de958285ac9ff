// SPDX-License-Identifier: MIT
#include "proto.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* One message; fds passed with it land in fds[] (O_CLOEXEC), and any fd
 * beyond what was asked for is closed and makes it an error (-2 with
 * errno EPROTO). */
static ssize_t recv_one(int fd, struct cell_msg *m, int *fds, size_t nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MSG_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr h = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	ssize_t n = recvmsg(fd, &h, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	bool extra = (h.msg_flags & MSG_CTRUNC) != 0;

	if (n < 0)
		return n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int got;

			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (i < nfds && fds[i] < 0)
				fds[i] = got;
			else {
				close(got);
				extra = true;
			}
		}
	}
	if (extra) {
		errno = EPROTO;
		return -2;
	}
	return n;
}

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

int msg_send_fds(int fd, char type, const int *fds, size_t nfds, const char *text)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MSG_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct cell_msg m;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (nfds > MSG_MAX_FDS)
		return -1;
	memset(&m, 0, sizeof(m));
	memset(&u, 0, sizeof(u));
	m.type = type;
	m.value = (long long)nfds;
	if (text)
		snprintf(m.text, sizeof(m.text), "%s", text);
	if (nfds) {
		h.msg_control = u.buf;
		h.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&h);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(fd, &h, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(m) ? 0 : -1;
}

int msg_recv(int fd, struct cell_msg *m, long long deadline_ms, struct cell_err *e)
{
	return msg_recv_fds(fd, m, deadline_ms, NULL, 0, e);
}

int msg_recv_fds(int fd, struct cell_msg *m, long long deadline_ms, int *fds, size_t nfds,
		 struct cell_err *e)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	for (size_t i = 0; i < nfds; i++)
		fds[i] = -1;

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
		n = recv_one(fd, m, fds, nfds);
		if (n == -2)
			return cell_err_set(e, EPROTO,
					    "a message from cell-init with fds not asked for");
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

int life_note_format(const struct life_note *n, char *buf, size_t size)
{
	int len = n->op == LIFE_JOIN	? snprintf(buf, size, "J %d %llu\n", (int)n->pid, n->start)
		  : n->op == LIFE_CLOSE ? snprintf(buf, size, "C %d\n", (int)n->pid)
					: -1;

	return len > 0 && (size_t)len < size ? len : -1;
}

/* A decimal number and what follows it (space or end). */
static const char *number(const char *p, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	const char *start = p;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (max - (unsigned long long)(*p - '0')) / 10)
			return NULL;
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	if (p == start || (p - start > 1 && *start == '0'))
		return NULL;
	*out = v;
	return p;
}

int life_note_parse(const char *line, struct life_note *n)
{
	unsigned long long pid, start = 0;
	const char *p = line + 2;

	if ((line[0] != LIFE_JOIN && line[0] != LIFE_CLOSE) || line[1] != ' ' ||
	    !(p = number(p, PID_MAX_LIMIT, &pid)) || pid <= 1)
		return -1;
	if (line[0] == LIFE_JOIN && (*p++ != ' ' || !(p = number(p, ~0ULL, &start)) || !start))
		return -1;
	if (*p != '\0')
		return -1;
	n->op = line[0];
	n->pid = (pid_t)pid;
	n->start = start;
	return 0;
}
