// SPDX-License-Identifier: MIT
/*
 * cell_create (create.h), pam_cell's part of building a cell: start
 * cell-init and wait for its monitor's word. On a host systemd booted, ask
 * systemd for the cell's scope holding cell-init while it waits for our
 * go (systemd.c), so that the cell starts in it and cell-init needs no libsystemd
 * of its own: it is static (started for every cell), and so is cellsh,
 * which uses create.c but never this file.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "create.h"
#include "initargs.h"
#include "proto.h"
#include "systemd.h"
#include "timing.h"
#include "util.h"

/* What the child needs, on the parent's memory (CLONE_VM). */
struct spawn_ctx {
	int initfd, sock, life, go_fd;
	char *const *argv;
};

/*
 * The child, started with CLONE_VM | CLONE_VFORK on a stack of its own: it
 * shares the login program's memory and the login program is stopped until
 * the exec, so no page table is copied (fork's copy cost 1-2 ms of every
 * start from a large login program) and nothing here writes that memory
 * but errno. System calls only, no allocation, no return. A wait for
 * systemd's scope would stop the login program too: cell-init waits for
 * the byte on CELL_GO_FD after its exec instead.
 */
static int spawn_child(void *arg)
{
	static char path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	static char *const envp[] = { path, NULL };
	const struct spawn_ctx *c = arg;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	int sock, initfd, life, go_fd = -1, null;
	sigset_t none;

	/* Out of the way of 0-5 first: a login program may run with a closed
	 * stdin/stdout/stderr, so these fds may be anywhere. */
	sock = fcntl(c->sock, F_DUPFD_CLOEXEC, 10);
	initfd = fcntl(c->initfd, F_DUPFD_CLOEXEC, 10);
	life = fcntl(c->life, F_DUPFD_CLOEXEC, 10);
	if (c->go_fd >= 0 && (go_fd = fcntl(c->go_fd, F_DUPFD_CLOEXEC, 10)) < 0)
		_exit(127);
	if (sock < 0 || initfd < 0 || life < 0)
		_exit(127);

	/* The login program's signal handlers and mask are not ours (the
	 * handlers are our copy: no CLONE_SIGHAND). */
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Out of the login's session: terminal signals never reach the cell. */
	setsid();
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(127);
	/* Everything above fd 4 closes at exec, initfd itself included... */
	if (close_range(CELL_LIFE_FD + 1, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		_exit(127);
	/* ...but dup2's targets, which are not close-on-exec: 3, 4 (and 5). */
	if (dup2(sock, CELL_INIT_FD) < 0 || dup2(life, CELL_LIFE_FD) < 0 ||
	    (go_fd >= 0 && dup2(go_fd, CELL_GO_FD) < 0))
		_exit(127);
	syscall(SYS_execveat, initfd, "", c->argv, envp, AT_EMPTY_PATH);
	_exit(127);
}

int cell_create(const struct cell_spec *s, struct cell_handle *h, struct cell_err *e)
{
	_cleanup_close_ int initfd = -1, procfd = -1, mine = -1, theirs = -1, go_r = -1, go_w = -1;
	const struct init_args *a = s->args;
	bool scope = systemd_booted();
	long long deadline = now_ms() + s->timeout_ms;
	char **argv = NULL;
	struct cell_msg m;
	pid_t child, pid1 = 0;
	int sv[2], r = -1;

	memset(h, 0, sizeof(*h));
	h->pidfd = -1;
	if (geteuid() != 0)
		return cell_err_set(e, EPERM,
				    "creating a cell needs root (pam_cell runs in "
				    "the login program's session stack)");
	initfd = open_trusted_path(s->cell_init, false, e);
	if (initfd < 0)
		return cell_err_prefix(e, "cell_init: ");
	procfd = proc_open_root(e);
	if (procfd < 0 || initargs_encode(s->args, &argv, e) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		cell_err_sys(e, "socketpair");
		goto out;
	}
	mine = sv[0];
	theirs = sv[1];
	if (scope) {
		int go[2];

		if (pipe2(go, O_CLOEXEC) < 0) {
			cell_err_sys(e, "pipe2");
			goto out;
		}
		go_r = go[0];
		go_w = go[1];
	}
	child = clone_vfork(spawn_child,
			    &(struct spawn_ctx){ .initfd = initfd,
						 .sock = theirs,
						 .life = s->life_fd,
						 .go_fd = go_r,
						 .argv = argv },
			    64 * 1024);
	if (child < 0) {
		cell_err_sys(e, "starting cell-init");
		goto out;
	}
	closep(&theirs);
	closep(&go_r);
	theirs = go_r = -1;
	timing_mark("spawn");
	if (scope) {
		struct cell_limits lim = a->limits;

		/* The cell's scope, its first process cell-init, which waits
		 * until then (and exits without a byte from us). */
		lim.account = a->proc_views; /* the views read the cell's own usage */
		if (systemd_scope_start(&(struct scope_spec){ .id = a->id,
							      .user = a->user,
							      .uid = a->uid,
							      .limits = &lim,
							      .user_limits = &a->user_limits,
							      .pid = child },
					e) < 0)
			goto out;
		if (write(go_w, "g", 1) != 1) {
			cell_err_sys(e, "starting cell-init");
			goto out;
		}
		timing_mark("scope");
	}

	/* 'P' then 'R' from cell-init's monitor, or 'E' with the reason. */
	while (!pid1 || !h->pid) {
		if (msg_recv(mine, &m, deadline, e) < 0)
			goto out;
		if (m.type == MSG_PID && !pid1 && m.value > 1 && m.value <= PID_MAX_LIMIT) {
			pid1 = (pid_t)m.value;
		} else if (m.type == MSG_READY && pid1) {
			timing_mark("monitor");
			if (cell_verify_pid1(procfd, pid1, child, (uid_t)s->args->uid,
					     s->args->net != NET_HOST, h, e) < 0)
				goto out;
		} else if (m.type == MSG_TIMING) {
			timing_add(m.text);
		} else if (m.type == MSG_ERROR) {
			cell_err_set(e, m.code, "cell-init: %s", m.text);
			goto out;
		} else {
			cell_err_set(e, EPROTO, "cell-init: unexpected message '%c'", m.type);
			goto out;
		}
	}
	r = 0;
out:
	/* On failure nothing is killed from here: closing the socket (and the
	 * caller closing the life pipe) makes the monitor kill the cell, remove
	 * its cgroups and exit, so this never waits on a dying cell. The
	 * monitor stays our unreaped child until the login program exits; it
	 * is reaped then (by init), which costs one zombie per login. */
	initargs_free(argv);
	return r;
}
