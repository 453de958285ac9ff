// SPDX-License-Identifier: MIT
#include "pty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "util.h"

int pty_open(struct cell_pty *p, struct cell_err *e)
{
	struct termios t;
	struct winsize ws;
	int n;

	p->master = p->slave = -1;
	p->name[0] = '\0';
	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->master < 0 || unlockpt(p->master) < 0 ||
	    (p->slave = ioctl(p->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 ||
	    ioctl(p->master, TIOCGPTN, &n) < 0) {
		if (errno == ENOSPC)
			cell_err_sys(e,
				     "a terminal in the cell: its pty_max ptys are in use (raise "
				     "pty_max in cell.conf, or end a session)");
		else
			cell_err_sys(e, "a terminal in the cell");
		if (p->master >= 0)
			close(p->master);
		p->master = -1;
		return -1;
	}
	snprintf(p->name, sizeof(p->name), "/dev/pts/%d", n);
	if (tcgetattr(0, &t) == 0)
		tcsetattr(p->slave, TCSANOW, &t);
	if (ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(p->master, TIOCSWINSZ, &ws);
	return 0;
}

int pty_attach(struct cell_pty *p, struct cell_err *e)
{
	if (setsid() < 0 || ioctl(p->slave, TIOCSCTTY, 0) < 0 || dup2(p->slave, 0) < 0 ||
	    dup2(p->slave, 1) < 0 || dup2(p->slave, 2) < 0)
		return cell_err_sys(e, "the cell's terminal");
	if (p->slave > 2)
		close(p->slave);
	close(p->master);
	p->slave = p->master = -1;
	return 0;
}

static void relay_set(sigset_t *s)
{
	sigemptyset(s);
	sigaddset(s, SIGCHLD);
	sigaddset(s, SIGWINCH);
	sigaddset(s, SIGHUP);
	sigaddset(s, SIGTERM);
	sigaddset(s, SIGCONT);
}

void pty_block_signals(void)
{
	sigset_t s;

	relay_set(&s);
	sigprocmask(SIG_BLOCK, &s, NULL);
}

static void copy_winsize(int master)
{
	struct winsize ws;

	if (ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

void pty_relay(struct cell_pty *p, pid_t pid, bool forward, int *status)
{
	struct termios saved, raw;
	bool term = tcgetattr(0, &saved) == 0, done = false;
	int in = 0, m = p->master, sfd;
	sigset_t set;
	char buf[16384];

	if (p->slave >= 0) {
		close(p->slave);
		p->slave = -1;
	}
	relay_set(&set);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	if (term) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
	}
	while (!done) {
		struct pollfd f[3] = { { .fd = m, .events = POLLIN },
				       { .fd = in, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };
		ssize_t n;

		if (poll(f, 3, sfd < 0 ? 200 : -1) < 0 && errno != EINTR)
			break;
		if (f[2].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGWINCH)
					copy_winsize(p->master);
				else if (forward && si.ssi_signo != SIGCHLD)
					kill(pid, (int)si.ssi_signo);
				if (si.ssi_signo == SIGHUP)
					in = -1; /* the outer terminal is gone */
			}
		}
		if (f[0].revents & POLLIN) {
			n = read(m, buf, sizeof(buf));
			if (n > 0 && write_all(1, buf, (size_t)n) < 0)
				in = -1;
		} else if (f[0].revents & (POLLHUP | POLLERR)) {
			m = -1; /* no one holds the cell's side: wait for the child */
		}
		if (f[1].revents & POLLIN) {
			n = read(in, buf, sizeof(buf));
			if (n > 0)
				write_all(p->master, buf, (size_t)n);
			else
				in = -1;
		} else if (f[1].revents & (POLLHUP | POLLERR)) {
			in = -1;
		}
		if (waitpid(pid, status, WNOHANG) == pid)
			done = true;
	}
	/* What the child wrote last. */
	fcntl(p->master, F_SETFL, O_NONBLOCK);
	for (ssize_t n; (n = read(p->master, buf, sizeof(buf))) > 0;)
		write_all(1, buf, (size_t)n);
	if (term)
		tcsetattr(0, TCSANOW, &saved);
	if (sfd >= 0)
		close(sfd);
	close(p->master);
	p->master = -1;
}
