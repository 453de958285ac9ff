// SPDX-License-Identifier: MIT
/*
 * Building a cell, as root inside the login program. Root does exactly these
 * privileged things, each safe for the reason given:
 *   1. exec cell-init from a root-owned path  - opened component by component
 *      with O_NOFOLLOW, all root-owned, so no user can swap the binary;
 *      the child closes every inherited fd first, so nothing of the login
 *      program (sockets, keys, PAM data) reaches a process the user can touch.
 *   2. write setgroups/gid_map/uid_map        - through a verified procfs, into
 *      our own unreaped child (its pid cannot be recycled), maps computed
 *      from validated subordinate ranges.
 *   3. verify the cell's PID 1                 - must be our child (CLONE_PARENT)
 *      in the user namespace we mapped; a pidfd pins it from then on.
 * Everything else happens in cell-init after it has dropped to the user.
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

#include "proto.h"
#include "util.h"

static int write_proc_file(int piddir, const char *name, const char *data,
			   struct cell_err *e)
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

static int write_maps(int procfd, pid_t pid, const struct cell_spec *s,
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
	if (owner != s->uid)
		return cell_err_set(e, EPERM, "cell user namespace is owned by uid %u, not %u",
				    (unsigned)owner, (unsigned)s->uid);
	*userns_ino = (unsigned long)st.st_ino;
	/* setgroups=deny before gid_map: dropping a group must never unlock a file. */
	if (write_proc_file(piddir, "setgroups", "deny", e) < 0 ||
	    write_proc_file(piddir, "gid_map", s->gid_map, e) < 0 ||
	    write_proc_file(piddir, "uid_map", s->uid_map, e) < 0)
		return -1;
	return 0;
}

static int verify_pid1(int procfd, pid_t pid1, unsigned long userns_ino,
		       struct cell_handle *h, struct cell_err *e)
{
	_cleanup_close_ int piddir = -1, pidfd = -1, selfdir = -1;
	unsigned long self_ns[NS_COUNT];
	pid_t ppid = 0;

	pidfd = pidfd_open(pid1, 0);
	if (pidfd < 0)
		return cell_err_sys(e, "pidfd_open of the cell's PID 1 (%d)", (int)pid1);
	piddir = proc_open_pid(procfd, pid1, e);
	selfdir = proc_open_pid(procfd, getpid(), e);
	if (piddir < 0 || selfdir < 0 ||
	    proc_stat(piddir, &ppid, &h->starttime, e) < 0 ||
	    proc_ns_inodes(piddir, h->ns, e) < 0 || proc_ns_inodes(selfdir, self_ns, e) < 0)
		return -1;
	/* Our own child, so its pid is stable until we or the login program reap it. */
	if (ppid != getpid())
		return cell_err_set(e, EPROTO, "pid %d is not a child of the login program",
				    (int)pid1);
	if (h->ns[NS_USER] != userns_ino)
		return cell_err_set(e, EPROTO, "pid %d is not in the cell's user namespace",
				    (int)pid1);
	for (int i = 0; i < NS_COUNT; i++)
		if (h->ns[i] == self_ns[i])
			return cell_err_set(e, EPROTO, "the cell shares the host's %s namespace",
					    ns_names[i]);
	if (!pidfd_alive(pidfd))
		return cell_err_set(e, ESRCH, "the cell's PID 1 died during setup");
	h->pid = pid1;
	h->pidfd = steal_fd(&pidfd);
	return 0;
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* SIGKILL and reap pid, but only if it is our own child (so its pid cannot
 * have been recycled: nobody else reaps it while we are in this call). */
static void kill_if_our_child(int procfd, pid_t pid)
{
	_cleanup_close_ int dir = -1;
	struct cell_err ignored;
	unsigned long long start;
	pid_t ppid = 0;

	dir = proc_open_pid(procfd, pid, &ignored);
	if (dir < 0 || proc_stat(dir, &ppid, &start, &ignored) < 0 || ppid != getpid())
		return;
	kill(pid, SIGKILL);
	reap(pid);
}

/* In the forked child: no allocation, no return. */
static void __attribute__((noreturn)) exec_cell_init(int initfd, int sock,
						      char *const argv[])
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int null;

	/* Out of the way of 0-3 first: a login program may run with a closed
	 * stdin/stdout/stderr, so these fds may be anywhere. */
	sock = fcntl(sock, F_DUPFD_CLOEXEC, 10);
	initfd = fcntl(initfd, F_DUPFD_CLOEXEC, 10);
	if (sock < 0 || initfd < 0)
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
	if (dup2(sock, CELL_INIT_FD) < 0)	/* dup2's target is not close-on-exec */
		_exit(127);
	/* Everything above fd 3 closes at exec, including initfd itself. */
	if (close_range(CELL_INIT_FD + 1, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
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
	char a_uid[32], a_gid[32], a_groups[2048], a_home[300], a_host[80], a_tmpfs[48];
	char *argv[] = { "cell-init", a_uid, a_gid, a_groups, a_home, a_host, a_tmpfs, NULL };
	_cleanup_close_ int initfd = -1, procfd = -1, mine = -1, theirs = -1;
	long long deadline = now_ms() + s->timeout_ms;
	unsigned long userns_ino = 0;
	struct cell_msg m;
	pid_t child, pid1 = 0;
	int sv[2];
	size_t off;

	memset(h, 0, sizeof(*h));
	h->pidfd = -1;
	if (geteuid() != 0)
		return cell_err_set(e, EPERM, "creating a cell needs root (pam_cell runs in "
				    "the login program's session stack)");
	initfd = open_trusted_path(s->cell_init, false, e);
	if (initfd < 0)
		return cell_err_prefix(e, "cell_init: ");
	procfd = proc_open_root(e);
	if (procfd < 0)
		return -1;

	snprintf(a_uid, sizeof(a_uid), "uid=%u", (unsigned)s->uid);
	snprintf(a_gid, sizeof(a_gid), "gid=%u", (unsigned)s->gid);
	off = (size_t)snprintf(a_groups, sizeof(a_groups), "groups=");
	for (size_t i = 0; i < s->ngroups && off < sizeof(a_groups); i++)
		off += (size_t)snprintf(a_groups + off, sizeof(a_groups) - off, "%s%u",
					i ? "," : "", (unsigned)s->groups[i]);
	if (off >= sizeof(a_groups) ||
	    (size_t)snprintf(a_home, sizeof(a_home), "home=%s", s->home) >= sizeof(a_home))
		return cell_err_set(e, E2BIG, "too many groups or home path too long");
	snprintf(a_host, sizeof(a_host), "hostname=%s", s->profile->hostname);
	snprintf(a_tmpfs, sizeof(a_tmpfs), "tmpfs=%llu", s->profile->tmpfs_size);

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return cell_err_sys(e, "socketpair");
	mine = sv[0];
	theirs = sv[1];
	child = fork();
	if (child < 0)
		return cell_err_sys(e, "fork");
	if (child == 0)
		exec_cell_init(initfd, theirs, argv);
	closep(&theirs);
	theirs = -1;

	if (msg_recv(mine, &m, deadline, e) < 0)
		goto fail;
	if (m.type != MSG_USERNS) {
		if (m.type == MSG_ERROR)
			cell_err_set(e, m.code, "cell-init: %s", m.text);
		else
			cell_err_set(e, EPROTO, "cell-init: unexpected message '%c'", m.type);
		goto fail;
	}
	if (write_maps(procfd, child, s, &userns_ino, e) < 0)
		goto fail;
	if (msg_send(mine, MSG_GO, 0, 0, NULL) < 0) {
		cell_err_sys(e, "telling cell-init to go on");
		goto fail;
	}
	/* 'P' (from cell-init) and 'R' (from PID 1) may come in either order. */
	for (bool ready = false; !ready || !pid1;) {
		if (msg_recv(mine, &m, deadline, e) < 0)
			goto fail;
		if (m.type == MSG_PID && !pid1 && m.value > 1 && m.value < (1LL << 31)) {
			pid1 = (pid_t)m.value;
		} else if (m.type == MSG_READY) {
			ready = true;
		} else if (m.type == MSG_ERROR) {
			cell_err_set(e, m.code, "cell-init: %s", m.text);
			goto fail;
		} else {
			cell_err_set(e, EPROTO, "cell-init: unexpected message '%c'", m.type);
			goto fail;
		}
	}
	if (verify_pid1(procfd, pid1, userns_ino, h, e) < 0)
		goto fail;
	/* cell-init's first process has nothing left to do once PID 1 exists:
	 * kill it so that reaping our own child can never block. */
	kill(child, SIGKILL);
	reap(child);
	return 0;

fail:
	/* Fail closed: kill what was started, never waiting on the cell. */
	kill(child, SIGKILL);
	if (pid1 > 0)
		kill_if_our_child(procfd, pid1);
	reap(child);
	return -1;
}
