// SPDX-License-Identifier: MIT
/*
 * cell-init: the cell's root monitor (lib/monitor.c), exec'd by pam_cell's
 * child with fd 3 a socket to pam_cell, fd 4 the read end of the cell's
 * life pipe, on a systemd host fd 5 a pipe to wait on, and nothing else
 * open. A checklist: refuse any other start,
 * read the arguments, build the cell, drop every capability but CAP_KILL,
 * tell pam_cell, watch, tear down.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "harden.h"
#include "monitor.h"
#include "proto.h"
#include "timing.h"

/* Before the cell exists: tell pam_cell why, and stop. */
static void __attribute__((noreturn)) fail(const struct cell_err *e)
{
	msg_send(CELL_INIT_FD, MSG_ERROR, e->code, 0, e->msg);
	_exit(1);
}

/* pam_cell's life-pipe reader is ours; a writer of our own makes the FIFO
 * never report a hangup: what counts is the sessions' pidfds, not who still
 * holds a copy of a write end. */
static void keep_life_pipe_open(void)
{
	struct cell_err e = { 0 };
	char self[32];
	int keep;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", CELL_LIFE_FD);
	keep = open(self, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (keep < 0 || fcntl(CELL_LIFE_FD, F_SETFL, O_NONBLOCK) < 0) {
		cell_err_sys(&e, "reopening the life pipe");
		fail(&e);
	}
}

int main(int argc, char **argv)
{
	struct monitor m = { .cell = { .pidfd = -1 }, .layers_lock = -1, .net_claim = -1 };
	struct cell_err e = { 0 };
	long long started = timing_now_ns();
	struct stat st, lst;
	int left;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("cell-init %s\n", CELL_VERSION);
		return 0;
	}
	/* Only pam_cell starts this: as root, with the socket on fd 3 and the
	 * life pipe on fd 4. */
	if (geteuid() != 0 || fstat(CELL_INIT_FD, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	    fstat(CELL_LIFE_FD, &lst) < 0 || !S_ISFIFO(lst.st_mode)) {
		fprintf(stderr, "cell-init: started by pam_cell.so only; not a command\n");
		return 2;
	}
	/* On a systemd host, nothing before the cell's scope holds us: pam_cell
	 * writes 'g' then, and closes the pipe unwritten if systemd refused. */
	if (fstat(CELL_GO_FD, &st) == 0 && S_ISFIFO(st.st_mode)) {
		char go = 0;
		ssize_t n;

		while ((n = read(CELL_GO_FD, &go, 1)) < 0 && errno == EINTR)
			;
		if (n != 1 || go != 'g')
			return 1; /* no scope, no cell; pam_cell says why */
	}
	if (close_range(CELL_LIFE_FD + 1, ~0U, 0) < 0) {
		cell_err_sys(&e, "close_range");
		fail(&e);
	}
	signal(SIGPIPE, SIG_IGN);
	openlog("cell-init", LOG_PID, LOG_AUTHPRIV);
	if (initargs_decode(argc, argv, &m.args, &e) < 0 || cgroup_layout(&m.layout, &e) < 0)
		fail(&e);
	/* The login program that started us is the cell's first session. */
	m.parent = getppid();
	m.parentfd = pidfd_open(m.parent, 0);
	if (m.parentfd < 0 || getppid() != m.parent) {
		cell_err_set(&e, ESRCH, "the login program went away");
		fail(&e);
	}
	m.procfd = proc_open_root(&e);
	if (m.procfd < 0)
		fail(&e);
	keep_life_pipe_open();
	timing_start(m.args.timing, started);
	timing_mark("start");

	if (monitor_build(&m, &e) < 0) {
		msg_send(CELL_INIT_FD, MSG_ERROR, e.code, 0, e.msg);
		monitor_abort(&m);
		return 1;
	}
	/* From here on the monitor only waits, signals PID 1 (CAP_KILL: it runs
	 * as the user), moves the user's processes through cgroup.procs files
	 * it opened before (the kernel checks the opener) and removes files
	 * that uid 0 owns (/run/cell, the cgroup directories): every other
	 * capability goes, for good. */
	if (harden_drop_caps_keep(CAP_KILL, true, &e) < 0) {
		msg_send(CELL_INIT_FD, MSG_ERROR, e.code, 0, e.msg);
		monitor_abort(&m);
		return 1;
	}
	timing_mark("caps");
	/* Ours, then PID 1's (timing.h). */
	if (cell_timing.on) {
		msg_send(CELL_INIT_FD, MSG_TIMING, 0, 0, cell_timing.text);
		msg_send(CELL_INIT_FD, MSG_TIMING, 0, 0, cell_timing.other[0]);
	}
	if (msg_send(CELL_INIT_FD, MSG_PID, 0, m.cell.pid, NULL) < 0 ||
	    msg_send(CELL_INIT_FD, MSG_READY, 0, 0, NULL) < 0)
		cell_kill(m.cell.pidfd, &e); /* pam_cell gave up */
	close(CELL_INIT_FD);

	switch (monitor_watch(&m)) {
	case MONITOR_LAST_SESSION_CLOSED:
		syslog(LOG_INFO, "cell %s ended: its last session closed", m.args.id);
		break;
	case MONITOR_STOPPED:
		syslog(LOG_INFO,
		       "cell %s stopped by a signal (systemctl stop, loginctl "
		       "terminate-session or terminate-user, or an admin)",
		       m.args.id);
		break;
	default:
		break;
	}
	left = monitor_teardown(&m);
	if (left)
		syslog(LOG_WARNING, "cell %s: %d cgroup(s) still in use; left in place under %s",
		       m.args.id, left, CELL_CGROUP_PARENT);
	return 0;
}
