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

int cell_write_maps(int procfd, pid_t pid, uid_t uid, const char *uid_map,
		    const char *gid_map, unsigned long *userns_ino, struct cell_err *e)
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

int cell_verify_pid1(int procfd, pid_t pid1, pid_t parent, uid_t uid,
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
	if (piddir < 0 || selfdir < 0 ||
	    proc_stat(piddir, &ppid, &h->starttime, e) < 0 ||
	    proc_ns_inodes(piddir, h->ns, e) < 0 || proc_ns_inodes(selfdir, self_ns, e) < 0)
		return -1;
	/* A child of a process that does not reap it yet: its pid is stable. */
	if (ppid != parent)
		return cell_err_set(e, EPROTO, "pid %d is not a child of cell-init (%d)",
				    (int)pid1, (int)parent);
	userns = openat(piddir, "ns/user", O_RDONLY | O_CLOEXEC);
	if (userns < 0 || ioctl(userns, NS_GET_OWNER_UID, &owner) < 0)
		return cell_err_sys(e, "reading the user namespace of pid %d", (int)pid1);
	if (owner != uid)
		return cell_err_set(e, EPROTO, "pid %d is in a user namespace of uid %u, not %u",
				    (int)pid1, (unsigned)owner, (unsigned)uid);
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

/* In the forked child: no allocation, no return. */
static void __attribute__((noreturn)) exec_cell_init(int initfd, int sock, int life,
						      char *const argv[])
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
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
	enum { A_ID, A_UID, A_GID, A_GROUPS, A_HOME, A_HOST, A_TMPFS, A_PIDS, A_MEM, A_CPU,
	       A_SHARED, A_INSIDE, A_UIDMAP, A_GIDMAP, A_COUNT };
	static const char *const keys[A_COUNT] = { "id", "uid", "gid", "groups", "home",
		"hostname", "tmpfs", "pids_max", "memory_max", "cpu_weight", "shared",
		"inside_uid", "uid_map", "gid_map" };
	char groups[2048] = "", *argv[A_COUNT + 2] = { "cell-init" };
	_cleanup_close_ int initfd = -1, procfd = -1, mine = -1, theirs = -1;
	long long deadline = now_ms() + s->timeout_ms;
	struct cell_msg m;
	pid_t child, pid1 = 0;
	int sv[2], r = -1;
	size_t off = 0;

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
	for (size_t i = 0; i < s->ngroups && off < sizeof(groups); i++)
		off += (size_t)snprintf(groups + off, sizeof(groups) - off, "%s%u",
					i ? "," : "", (unsigned)s->groups[i]);
	if (off >= sizeof(groups))
		return cell_err_set(e, E2BIG, "too many groups");
	{
		const struct cell_profile *p = s->profile;
		char v[A_COUNT][40];
		const char *val[A_COUNT];

		snprintf(v[A_UID], sizeof(v[0]), "%u", (unsigned)s->uid);
		snprintf(v[A_GID], sizeof(v[0]), "%u", (unsigned)s->gid);
		snprintf(v[A_TMPFS], sizeof(v[0]), "%llu", p->tmpfs_size);
		snprintf(v[A_PIDS], sizeof(v[0]), "%lu", p->pids_max);
		snprintf(v[A_MEM], sizeof(v[0]), "%llu", s->memory_max);
		snprintf(v[A_CPU], sizeof(v[0]), "%lu", p->cpu_weight);
		snprintf(v[A_SHARED], sizeof(v[0]), "%d", p->share_user ? 1 : 0);
		snprintf(v[A_INSIDE], sizeof(v[0]), "%lu", idmap_inside_self(p->identity, s->uid));
		for (int i = 0; i < A_COUNT; i++)
			val[i] = v[i];
		val[A_ID] = s->id;
		val[A_GROUPS] = groups;
		val[A_HOME] = s->home;
		val[A_HOST] = p->hostname;
		val[A_UIDMAP] = s->uid_map;
		val[A_GIDMAP] = s->gid_map;
		for (int i = 0; i < A_COUNT; i++) {
			if (asprintf(&argv[i + 1], "%s=%s", keys[i], val[i]) < 0) {
				argv[i + 1] = NULL;
				cell_err_set(e, ENOMEM, "out of memory");
				goto out;
			}
		}
	}

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

	/* 'P' then 'R' from cell-init's monitor, or 'E' with the reason. */
	while (!pid1 || !h->pid) {
		if (msg_recv(mine, &m, deadline, e) < 0)
			goto out;
		if (m.type == MSG_PID && !pid1 && m.value > 1 && m.value < (1LL << 31)) {
			pid1 = (pid_t)m.value;
		} else if (m.type == MSG_READY && pid1) {
			if (cell_verify_pid1(procfd, pid1, child, s->uid, h, e) < 0)
				goto out;
		} else if (m.type == MSG_ERROR) {
			cell_err_set(e, m.code, "cell-init: %s", m.text);
			goto out;
		} else {
			cell_err_set(e, EPROTO, "cell-init: unexpected message '%c'", m.type);
			goto out;
		}
	}
	h->monitor = child;
	r = 0;
out:
	/* On failure nothing is killed from here: closing the socket (and the
	 * caller closing the life pipe) makes the monitor kill the cell, remove
	 * its cgroups and exit, so this never waits on a dying cell. */
	for (int i = 1; argv[i]; i++)
		free(argv[i]);
	return r;
}
