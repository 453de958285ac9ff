// SPDX-License-Identifier: MIT
/*
 * cell-connect HOST PORT: join stdin and stdout to a TCP connection made
 * from where it runs. Run through cellsh (ssh user@host cell-connect
 * 127.0.0.1 8080) it connects inside the cell's network namespace, which
 * sshd's own forwarding (-L) cannot: sshd connects from the host's. The
 * client side of a port forward is then any stdio-to-port tool, e.g.
 *   ssh -o ProxyCommand='ssh %r@HOST cell-connect 127.0.0.1 %p' ...
 *   socat TCP-LISTEN:9000,fork EXEC:"ssh USER@HOST cell-connect 127.0.0.1 8080"
 * It reaches exactly what the cell reaches. Runs as the user; no privilege.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int dial(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int r = getaddrinfo(host, port, &hints, &res), fd = -1;

	if (r != 0) {
		fprintf(stderr, "cell-connect: %s port %s: %s\n", host, port, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		r = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
		errno = r;
	}
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr, "cell-connect: %s port %s: %s\n", host, port, strerror(errno));
	return fd;
}

/* Copy what is there from `from` to `to`; 0 at end of input. */
static ssize_t pump(int from, int to)
{
	char buf[65536];
	ssize_t n = read(from, buf, sizeof(buf));

	for (ssize_t off = 0; n > 0 && off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		off += w;
	}
	return n < 0 && errno == EINTR ? 1 : n;
}

int main(int argc, char **argv)
{
	struct pollfd p[2];
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: cell-connect HOST PORT\n");
		return 2;
	}
	fd = dial(argv[1], argv[2]);
	if (fd < 0)
		return 1;
	p[0] = (struct pollfd){ .fd = 0, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (p[1].fd >= 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = pump(0, fd);

			if (n < 0)
				return 1;
			if (n == 0) { /* the client is done sending */
				shutdown(fd, SHUT_WR);
				p[0].fd = -1;
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = pump(fd, 1);

			if (n <= 0)
				break;
		}
	}
	return 0;
}
