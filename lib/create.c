// SPDX-License-Identifier: MIT
/*
 * Building a cell. pam_cell (root, in the login program) does only this:
 *   1. exec cell-init from a root-owned path  - opened component by component
 *      with O_NOFOLLOW, all root-owned, so no user can swap the binary; the
 *      child closes every inherited fd but the socket and the life pipe, so
 *      nothing of the login program (sockets, keys, PAM data) reaches a
 *      process the user can touch.
 *   2. verify the cell's PID 1                 - a child of that cell-init (our
 *      own unreaped child), in a user namespace owned by the user, sharing no
 *      namespace with the host; a pidfd pins it from then on.
 * cell-init's first process stays root as the cell's monitor: it writes the
 * maps (cell_write_maps) into its own child, puts it in the cell's cgroups,
 * and later tears the cell down. Everything else runs as the user.
 */
#include "create.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "idmap.h"
#include "initargs.h"
#include "proto.h"
#include "timing.h"
#include "util.h"

static int write_proc_file(int piddir, const char *name, const char *data, struct cell_err *e)
{
	_cleanup_close_ int fd = openat(piddir, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	size_t len = strlen(data);
	ssize_t n;

	if (fd < 0)
		return cell_err_sys(e, "opening /proc/PID/%s", name);
	/* One write: the kernel accepts a map only whole. */
	n = write(fd, data, len);
	if (n != (ssize_t)len)
		return cell_err_sys(e, "writing /proc/PID/%s", name);
	return 0;
}

int cell_write_maps(int procfd, pid_t pid, uid_t uid, const char *uid_map, const char *gid_map,
		    unsigned long *userns_ino, struct cell_err *e)
{
	_cleanup_close_ int piddir = -1, nsfd = -1, selfns = -1;
	struct stat st, self;
	uid_t owner;

	piddir = proc_open_pid(procfd, pid, e);
	if (piddir < 0)
		return -1;
	nsfd = openat(piddir, "ns/user", O_RDONLY | O_CLOEXEC);
	selfns = openat(procfd, "self/ns/user", O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || selfns < 0 || fstat(nsfd, &st) < 0 || fstat(selfns, &self) < 0)
		return cell_err_sys(e, "reading the user namespace of cell-init");
	if (st.st_ino == self.st_ino)
		return cell_err_set(e, EPROTO, "cell-init did not make a user namespace");
	if (ioctl(nsfd, NS_GET_OWNER_UID, &owner) < 0)
		return cell_err_sys(e, "NS_GET_OWNER_UID");
	if (owner != uid)
		return cell_err_set(e, EPERM, "cell user namespace is owned by uid %u, not %u",
				    (unsigned)owner, (unsigned)uid);
	*userns_ino = (unsigned long)st.st_ino;
	/* setgroups=deny before gid_map: dropping a group must never unlock a file. */
	if (write_proc_file(piddir, "setgroups", "deny", e) < 0 ||
	    write_proc_file(piddir, "gid_map", gid_map, e) < 0 ||
	    write_proc_file(piddir, "uid_map", uid_map, e) < 0)
		return -1;
	return 0;
}

int cell_verify_pid1(int procfd, pid_t pid1, pid_t parent, uid_t uid, bool own_net,
		     struct cell_handle *h, struct cell_err *e)
{
	_cleanup_close_ int piddir = -1, pidfd = -1, selfdir = -1, userns = -1;
	unsigned long self_ns[NS_COUNT];
	pid_t ppid = 0;
	uid_t owner;

	pidfd = pidfd_open(pid1, 0);
	if (pidfd < 0)
		return cell_err_sys(e, "pidfd_open of the cell's PID 1 (%d)", (int)pid1);
	piddir = proc_open_pid(procfd, pid1, e);
	selfdir = proc_open_pid(procfd, getpid(), e);
	if (piddir < 0 || selfdir < 0 || proc_stat(piddir, &ppid, &h->starttime, e) < 0 ||
	    proc_ns_inodes(piddir, h->ns, e) < 0 || proc_ns_inodes(selfdir, self_ns, e) < 0)
		return -1;
	/* A child of a process that does not reap it yet: its pid is stable. */
	if (ppid != parent)
		return cell_err_set(e, EPROTO, "pid %d is not a child of cell-init (%d)", (int)pid1,
				    (int)parent);
	userns = openat(piddir, "ns/user", O_RDONLY | O_CLOEXEC);
	if (userns < 0 || ioctl(userns, NS_GET_OWNER_UID, &owner) < 0)
		return cell_err_sys(e, "reading the user namespace of pid %d", (int)pid1);
	if (owner != uid)
		return cell_err_set(e, EPROTO, "pid %d is in a user namespace of uid %u, not %u",
				    (int)pid1, (unsigned)owner, (unsigned)uid);
	for (int i = 0; i < NS_COUNT; i++) {
		if (i == NS_NET && !own_net) {
			/* net = host: it must be the host's, recorded as 0. */
			if (h->ns[i] != self_ns[i])
				return cell_err_set(e, EPROTO,
						    "net = host, but the cell has a "
						    "network namespace of its own");
			h->ns[i] = 0;
		} else if (h->ns[i] == self_ns[i]) {
			return cell_err_set(e, EPROTO, "the cell shares the host's %s namespace",
					    ns_names[i]);
		}
	}
	if (!pidfd_alive(pidfd))
		return cell_err_set(e, ESRCH, "the cell's PID 1 died during setup");
	h->pid = pid1;
	h->pidfd = steal_fd(&pidfd);
	return 0;
}

/* In the forked child: no allocation, no return. */
static void __attribute__((noreturn))
exec_cell_init(int initfd, int sock, int life, char *const argv[])
{
	static char path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	static char *const envp[] = { path, NULL };
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int null;

	/* Out of the way of 0-4 first: a login program may run with a closed
	 * stdin/stdout/stderr, so these fds may be anywhere. */
	sock = fcntl(sock, F_DUPFD_CLOEXEC, 10);
	initfd = fcntl(initfd, F_DUPFD_CLOEXEC, 10);
	life = fcntl(life, F_DUPFD_CLOEXEC, 10);
	if (sock < 0 || initfd < 0 || life < 0)
		_exit(127);

	/* The login program's signal handlers and mask are not ours. */
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Out of the login's session: terminal signals never reach the cell. */
	setsid();
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(127);
	/* dup2's target is not close-on-exec: fds 3 and 4 survive the exec. */
	if (dup2(sock, CELL_INIT_FD) < 0 || dup2(life, CELL_LIFE_FD) < 0)
		_exit(127);
	/* Everything above fd 4 closes at exec, including initfd itself. */
	if (close_range(CELL_LIFE_FD + 1, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		_exit(127);
	syscall(SYS_execveat, initfd, "", argv, envp, AT_EMPTY_PATH);
	_exit(127);
}

int cell_kill(int pidfd, struct cell_err *e)
{
	if (pidfd_send_signal(pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
		return cell_err_sys(e, "killing the cell");
	return 0;
}

int cell_create(const struct cell_spec *s, struct cell_handle *h, struct cell_err *e)
{
	_cleanup_close_ int initfd = -1, procfd = -1, mine = -1, theirs = -1;
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
	child = fork();
	if (child < 0) {
		cell_err_sys(e, "fork");
		goto out;
	}
	if (child == 0)
		exec_cell_init(initfd, theirs, s->life_fd, argv);
	closep(&theirs);
	theirs = -1;
	timing_mark("spawn");

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
