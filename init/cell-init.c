// SPDX-License-Identifier: MIT
/*
 * cell-init: exec'd by pam_cell's child with fd 3 a socket to pam_cell, fd 4
 * the read end of the cell's life pipe, and nothing else open.
 *
 *   monitor (root, this process, for the cell's whole life)
 *     creates the cell's cgroups; forks the user side; writes its uid/gid
 *     maps and puts it in the cgroups; checks PID 1; then waits until the
 *     cell ends (PID 1 dies) or its last session goes (every write end of the
 *     life pipe closed, also when a login program is SIGKILLed), kills it and
 *     removes its registry entry and cgroups. It runs nothing of the user's
 *     and takes no input but "done" messages and the pipe's hangup.
 *   user side (the user, dropped for good right after the fork)
 *     unshares a user namespace owned by the user, waits for the maps, then
 *     clones PID 1 (CLONE_PARENT: the monitor's child) into new
 *     mnt/uts/ipc/pid/cgroup namespaces and exits.
 *   PID 1 (the user, capabilities only inside the cell's user namespace)
 *     builds the root fs, sets the hostname, drops its capabilities, becomes
 *     joinable, reaps.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "cgroup.h"
#include "create.h"
#include "harden.h"
#include "proto.h"
#include "registry.h"
#include "rootfs.h"
#include "util.h"

#define MAX_GROUPS 1024
#define SETUP_TIMEOUT_MS 30000
#define CGROUP_EMPTY_TIMEOUT_MS 60000

struct init_args {
	const char *id;
	uid_t uid;
	uid_t inside_uid;		/* the user's uid as the cell sees it */
	gid_t gid;
	gid_t groups[MAX_GROUPS];
	size_t ngroups;
	const char *home;
	const char *hostname;
	unsigned long long tmpfs;
	struct cell_limits limits;
	bool shared;
	const char *uid_map, *gid_map;
};

/* Where fail() reports: pam_cell's socket in the monitor, the monitor's in
 * the user side and PID 1. */
static int chan = CELL_INIT_FD;

static void __attribute__((noreturn)) fail(const struct cell_err *e)
{
	msg_send(chan, MSG_ERROR, e->code, 0, e->msg);
	_exit(1);
}

static int parse_args(int argc, char **argv, struct init_args *a, struct cell_err *e)
{
	unsigned long v;
	unsigned seen = 0;

	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '='), *val;
		bool ok = true;

		if (!eq)
			return cell_err_set(e, EINVAL, "bad argument '%s'", argv[i]);
		*eq = '\0';
		val = eq + 1;
		if (strcmp(argv[i], "id") == 0) {
			a->id = val, seen |= 1u << 0, ok = cell_id_valid(val);
		} else if (strcmp(argv[i], "uid") == 0) {
			ok = parse_ulong(val, &v) == 0 && v > 0;
			a->uid = (uid_t)v, seen |= 1u << 1;
		} else if (strcmp(argv[i], "gid") == 0) {
			ok = parse_ulong(val, &v) == 0;
			a->gid = (gid_t)v, seen |= 1u << 2;
		} else if (strcmp(argv[i], "groups") == 0) {
			char *save = NULL;

			for (char *g = strtok_r(val, ",", &save); g && ok; g = strtok_r(NULL, ",", &save)) {
				ok = a->ngroups < MAX_GROUPS && parse_ulong(g, &v) == 0;
				a->groups[a->ngroups++] = (gid_t)v;
			}
			seen |= 1u << 3;
		} else if (strcmp(argv[i], "home") == 0) {
			a->home = val, seen |= 1u << 4, ok = val[0] == '/';
		} else if (strcmp(argv[i], "hostname") == 0) {
			a->hostname = val, seen |= 1u << 5;
		} else if (strcmp(argv[i], "tmpfs") == 0) {
			ok = parse_size(val, &a->tmpfs) == 0, seen |= 1u << 6;
		} else if (strcmp(argv[i], "pids_max") == 0) {
			ok = parse_ulong(val, &a->limits.pids_max) == 0, seen |= 1u << 7;
		} else if (strcmp(argv[i], "memory_max") == 0) {
			/* bytes; 0 is "no limit" */
			ok = parse_ulong(val, &v) == 0, seen |= 1u << 8;
			a->limits.memory_max = v;
		} else if (strcmp(argv[i], "cpu_weight") == 0) {
			ok = parse_ulong(val, &a->limits.cpu_weight) == 0, seen |= 1u << 9;
		} else if (strcmp(argv[i], "shared") == 0) {
			ok = parse_ulong(val, &v) == 0 && v <= 1;
			a->shared = v == 1, seen |= 1u << 10;
		} else if (strcmp(argv[i], "inside_uid") == 0) {
			ok = parse_ulong(val, &v) == 0;
			a->inside_uid = (uid_t)v, seen |= 1u << 13;
		} else if (strcmp(argv[i], "uid_map") == 0) {
			a->uid_map = val, seen |= 1u << 11;
		} else if (strcmp(argv[i], "gid_map") == 0) {
			a->gid_map = val, seen |= 1u << 12;
		} else {
			ok = false;
		}
		if (!ok)
			return cell_err_set(e, EINVAL, "bad argument '%s=%s'", argv[i], val);
	}
	if (seen != (1u << 14) - 1)
		return cell_err_set(e, EINVAL, "missing arguments");
	return 0;
}

/* root -> user, for good. Groups, then gid, then uid; then prove it. */
static int drop_to_user(const struct init_args *a, struct cell_err *e)
{
	if (setgroups(a->ngroups, a->groups) < 0)
		return cell_err_sys(e, "setgroups");
	if (setresgid(a->gid, a->gid, a->gid) < 0)
		return cell_err_sys(e, "setresgid");
	if (setresuid(a->uid, a->uid, a->uid) < 0)
		return cell_err_sys(e, "setresuid");
	if (setresuid(0, 0, 0) == 0 || (a->gid != 0 && setegid(0) == 0) ||
	    geteuid() != a->uid)
		return cell_err_set(e, EPERM, "root could be regained after dropping it");
	/* Not traceable by the user until the cell is built (PID 1 re-enables). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return cell_err_sys(e, "PR_SET_DUMPABLE");
	return 0;
}

static void __attribute__((noreturn)) reap_forever(void)
{
	sigset_t chld;
	int sig;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	for (;;) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		sigwait(&chld, &sig);
	}
}

static void __attribute__((noreturn)) run_pid1(const struct init_args *a)
{
	struct rootfs_spec rs = { .home = a->home, .uid = a->inside_uid, .tmpfs_size = a->tmpfs };
	struct cell_err e = { 0 };

	/* A clone does not inherit it: die with the monitor from the start. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (rootfs_build_host(&rs, &e) < 0)
		fail(&e);
	if (sethostname(a->hostname, strlen(a->hostname)) < 0) {
		cell_err_sys(&e, "sethostname");
		fail(&e);
	}
	/* Every capability goes, but one that means nothing outside the initial
	 * user namespace stays permitted: with it no process in the cell can
	 * ptrace PID 1 or read its memory, although PID 1 must be dumpable. */
	if (harden_drop_caps_keep(CAP_WAKE_ALARM, false, &e) < 0)
		fail(&e);
	/* Joinable from now on: setns needs a dumpable target. Safe: this
	 * process was exec'd fresh and holds no usable capability. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) {
		cell_err_sys(&e, "PR_SET_DUMPABLE");
		fail(&e);
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (msg_send(chan, MSG_READY, 0, 0, NULL) < 0)
		_exit(1);
	close(chan);
	reap_forever();
}

/* The user side: never returns. */
static void __attribute__((noreturn)) user_side(const struct init_args *a)
{
	struct cell_err e = { 0 };
	struct cell_msg m;
	pid_t pid1;

	if (drop_to_user(a, &e) < 0)
		fail(&e);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (unshare(CLONE_NEWUSER) < 0) {
		cell_err_sys(&e, "unshare(CLONE_NEWUSER) (are user namespaces enabled? "
			     "see user.max_user_namespaces)");
		fail(&e);
	}
	if (msg_send(chan, MSG_USERNS, 0, 0, NULL) < 0)
		_exit(1);
	if (msg_recv(chan, &m, now_ms() + SETUP_TIMEOUT_MS, &e) < 0 || m.type != MSG_GO)
		_exit(1);	/* the monitor gave up: it reports the reason */

	/* CLONE_PARENT: PID 1 is the monitor's child, not ours. */
	pid1 = (pid_t)syscall(SYS_clone, CLONE_PARENT | CLONE_NEWNS | CLONE_NEWUTS |
				  CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWCGROUP,
			      NULL, NULL, NULL, 0);
	if (pid1 < 0) {
		cell_err_sys(&e, "clone of the cell's PID 1");
		fail(&e);
	}
	if (pid1 == 0)
		run_pid1(a);
	msg_send(chan, MSG_PID, 0, pid1, NULL);
	_exit(0);
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Build the cell; on success h describes PID 1. */
static int setup(const struct init_args *a, const struct cgroup_layout *l,
		 struct cell_handle *h, pid_t *user, struct cell_err *e)
{
	_cleanup_close_ int procfd = -1, mine = -1;
	long long deadline = now_ms() + SETUP_TIMEOUT_MS;
	unsigned long userns_ino = 0;
	struct cell_msg m;
	pid_t pid1 = 0;
	int sv[2];

	procfd = proc_open_root(e);
	if (procfd < 0 || cgroup_create(l, a->id, &a->limits, e) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return cell_err_sys(e, "socketpair");
	mine = sv[0];
	*user = fork();
	if (*user < 0) {
		close(sv[1]);
		return cell_err_sys(e, "fork");
	}
	if (*user == 0) {
		/* Only the socket to us stays open on the user side. */
		if (dup2(sv[1], CELL_INIT_FD) < 0)
			_exit(1);
		close_range(CELL_INIT_FD + 1, ~0U, 0);
		chan = CELL_INIT_FD;
		user_side(a);
	}
	close(sv[1]);

	if (msg_recv(mine, &m, deadline, e) < 0)
		return -1;
	if (m.type == MSG_ERROR)
		return cell_err_set(e, m.code, "%s", m.text);
	if (m.type != MSG_USERNS)
		return cell_err_set(e, EPROTO, "unexpected message '%c'", m.type);
	/* Our own unreaped child: its pid is stable while we write. */
	if (cell_write_maps(procfd, *user, a->uid, a->uid_map, a->gid_map, &userns_ino, e) < 0 ||
	    cgroup_attach(l, a->id, *user, e) < 0)
		return -1;
	if (msg_send(mine, MSG_GO, 0, 0, NULL) < 0)
		return cell_err_sys(e, "telling the user side to go on");
	/* 'P' (user side) and 'R' (PID 1) may come in either order. */
	for (bool ready = false; !ready || !pid1;) {
		if (msg_recv(mine, &m, deadline, e) < 0)
			return -1;
		if (m.type == MSG_PID && !pid1 && m.value > 1 && m.value < (1LL << 31))
			pid1 = (pid_t)m.value;
		else if (m.type == MSG_READY)
			ready = true;
		else if (m.type == MSG_ERROR)
			return cell_err_set(e, m.code, "%s", m.text);
		else
			return cell_err_set(e, EPROTO, "unexpected message '%c'", m.type);
	}
	if (cell_verify_pid1(procfd, pid1, getpid(), a->uid, h, e) < 0)
		return -1;
	if (h->ns[NS_USER] != userns_ino)
		return cell_err_set(e, EPROTO, "PID 1 is not in the mapped user namespace");
	return 0;
}

static void end_shared(const struct init_args *a)
{
	struct cell_err e;
	int lock = registry_lock_user(a->uid, 30000, &e);

	registry_shared_clear(a->uid, a->id);
	registry_life_remove(a->id);
	if (lock >= 0)
		close(lock);
}

/*
 * The sessions of this cell: the login program that created it (our parent)
 * and, for a shared cell, every login program that joined. Each is watched
 * through a pidfd, so a SIGKILLed login program counts as gone even if its
 * children (sshd's unprivileged half) live on. Root writes the changes into
 * the root-only life FIFO:  "J PID STARTTIME\n" joined,  "C PID\n" closed.
 */
#define MAX_SESSIONS 1024

struct sessions {
	struct pollfd p[MAX_SESSIONS + 2];	/* [0] life FIFO, [1] PID 1, then sessions */
	pid_t pid[MAX_SESSIONS + 2];
	int n;
};

static void session_add(struct sessions *s, int procfd, pid_t pid, unsigned long long start)
{
	_cleanup_close_ int dir = -1, fd = -1;
	struct cell_err e;
	unsigned long long now;
	pid_t ppid;

	if (s->n >= MAX_SESSIONS + 2 || pid <= 1)
		return;
	fd = pidfd_open(pid, 0);
	/* The start time proves it is the process root named, not a reuse. */
	if (fd < 0 || (dir = proc_open_pid(procfd, pid, &e)) < 0 ||
	    proc_stat(dir, &ppid, &now, &e) < 0 || (start && now != start) || !pidfd_alive(fd))
		return;
	s->p[s->n] = (struct pollfd){ .fd = steal_fd(&fd), .events = POLLIN };
	s->pid[s->n++] = pid;
}

static void session_drop(struct sessions *s, int i)
{
	close(s->p[i].fd);
	s->p[i] = s->p[s->n - 1];
	s->pid[i] = s->pid[s->n - 1];
	s->n--;
}

/* Apply every complete line waiting in the FIFO. */
static void read_events(struct sessions *s, int procfd)
{
	static char buf[4096];
	static size_t have;
	ssize_t r;

	while ((r = read(CELL_LIFE_FD, buf + have, sizeof(buf) - 1 - have)) > 0) {
		char *line = buf, *nl;

		have += (size_t)r;
		buf[have] = '\0';
		while ((nl = strchr(line, '\n'))) {
			unsigned long long start = 0;
			int pid = 0;

			*nl = '\0';
			if (sscanf(line, "J %d %llu", &pid, &start) == 2 && start)
				session_add(s, procfd, pid, start);
			else if (sscanf(line, "C %d", &pid) == 1)
				for (int i = 2; i < s->n; i++)
					if (s->pid[i] == pid) {
						session_drop(s, i);
						break;
					}
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (have >= sizeof(buf) - 1)
			have = 0;	/* a line that long is not ours */
	}
}

/* Return when the cell has ended, or after killing it once its last
 * session is gone. */
static void watch(const struct init_args *a, const struct cell_handle *h, int procfd,
		  pid_t parent, int parentfd)
{
	static struct sessions s;
	struct cell_err e;

	s.p[0] = (struct pollfd){ .fd = CELL_LIFE_FD, .events = POLLIN };
	s.p[1] = (struct pollfd){ .fd = h->pidfd, .events = POLLIN };
	s.p[2] = (struct pollfd){ .fd = parentfd, .events = POLLIN };
	s.pid[2] = parent;
	s.n = 3;
	for (;;) {
		if (poll(s.p, (nfds_t)s.n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (s.p[1].revents)
			return;		/* PID 1 is gone */
		if (s.p[0].revents & (POLLERR | POLLNVAL))
			break;
		if (s.p[0].revents & POLLIN)
			read_events(&s, procfd);
		for (int i = s.n - 1; i >= 2; i--)
			if (s.p[i].revents)
				session_drop(&s, i);	/* that login program exited */
		if (s.n > 2)
			continue;
		if (!a->shared)
			break;
		/* Under the user's lock no session can join meanwhile: if none
		 * did, the cell is over. */
		{
			int lock = registry_lock_user(a->uid, 30000, &e);

			read_events(&s, procfd);
			if (s.n == 2) {
				registry_shared_clear(a->uid, a->id);
				registry_remove(a->id, &e);
				registry_life_remove(a->id);
				cell_kill(h->pidfd, &e);
				if (lock >= 0)
					close(lock);
				syslog(LOG_INFO, "cell %s ended: its last session closed", a->id);
				return;
			}
			if (lock >= 0)
				close(lock);
		}
	}
	cell_kill(h->pidfd, &e);
}

int main(int argc, char **argv)
{
	struct init_args a = { 0 };
	struct cell_handle h = { .pidfd = -1 };
	struct cgroup_layout layout;
	struct cell_err e = { 0 };
	struct stat st, lst;
	pid_t user = 0, parent;
	int left, parentfd, procfd, keep;

	/* Only pam_cell starts this: as root, with the socket on fd 3 and the
	 * life pipe on fd 4. */
	if (geteuid() != 0 || fstat(CELL_INIT_FD, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	    fstat(CELL_LIFE_FD, &lst) < 0 || !S_ISFIFO(lst.st_mode)) {
		fprintf(stderr, "cell-init: started by pam_cell.so only; not a command\n");
		return 2;
	}
	close_range(CELL_LIFE_FD + 1, ~0U, 0);
	signal(SIGPIPE, SIG_IGN);
	openlog("cell-init", LOG_PID, LOG_AUTHPRIV);
	if (parse_args(argc, argv, &a, &e) < 0)
		fail(&e);
	if (cgroup_layout(&layout, &e) < 0)
		fail(&e);
	/* The login program that started us is the cell's first session. */
	parent = getppid();
	parentfd = pidfd_open(parent, 0);
	if (parentfd < 0 || getppid() != parent) {
		cell_err_set(&e, ESRCH, "the login program went away");
		fail(&e);
	}
	procfd = proc_open_root(&e);
	if (procfd < 0)
		fail(&e);
	/* A writer of our own: the FIFO never reports a hangup, and what counts
	 * is the sessions' pidfds, not who still holds a copy of a write end. */
	keep = open("/proc/self/fd/4", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (keep < 0 || fcntl(CELL_LIFE_FD, F_SETFL, O_NONBLOCK) < 0) {
		cell_err_sys(&e, "reopening the life pipe");
		fail(&e);
	}

	if (setup(&a, &layout, &h, &user, &e) < 0) {
		msg_send(CELL_INIT_FD, MSG_ERROR, e.code, 0, e.msg);
		/* Our children only: the user side, and PID 1 if it exists. */
		if (user > 0)
			kill(user, SIGKILL);
		if (h.pidfd >= 0)
			cell_kill(h.pidfd, &e);
		while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
			;
		cgroup_destroy(&layout, a.id, 5000);
		return 1;
	}
	/* The user side has nothing left to do. */
	kill(user, SIGKILL);
	reap(user);
	/* From here on the monitor only waits, signals PID 1 (CAP_KILL: it runs
	 * as the user) and removes files that uid 0 owns (/run/cell, the cgroup
	 * directories): every other capability goes, for good. */
	if (harden_drop_caps_keep(CAP_KILL, true, &e) < 0) {
		msg_send(CELL_INIT_FD, MSG_ERROR, e.code, 0, e.msg);
		cell_kill(h.pidfd, &e);
		reap(h.pid);
		cgroup_destroy(&layout, a.id, 5000);
		return 1;
	}
	if (msg_send(CELL_INIT_FD, MSG_PID, 0, h.pid, NULL) < 0 ||
	    msg_send(CELL_INIT_FD, MSG_READY, 0, 0, NULL) < 0)
		cell_kill(h.pidfd, &e);	/* pam_cell gave up */
	close(CELL_INIT_FD);

	watch(&a, &h, procfd, parent, parentfd);
	reap(h.pid);
	/* Idempotent: pam_cell may have removed it already. */
	registry_remove(a.id, &e);
	if (a.shared)
		end_shared(&a);
	left = cgroup_destroy(&layout, a.id, CGROUP_EMPTY_TIMEOUT_MS);
	if (left)
		syslog(LOG_WARNING, "cell %s: %d cgroup(s) still in use after %d s; left in "
		       "place under %s", a.id, left, CGROUP_EMPTY_TIMEOUT_MS / 1000,
		       CELL_CGROUP_PARENT);
	return 0;
}
