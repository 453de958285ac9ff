// SPDX-License-Identifier: MIT
/*
 * The root monitor of one cell: cell-init's first process, exec'd by
 * pam_cell's child (create.c) with fd 3 a socket to pam_cell and fd 4 the
 * read end of the cell's life pipe.
 *
 *   monitor (root, for the cell's whole life)
 *     gets the cell's cgroup: on a systemd host the transient scope
 *     pam_cell had systemd start around it (spawn.c), else <hierarchy>/cell/<id>
 *     (cgroup.c); forks the user side; writes its uid/gid maps and puts it
 *     in the cgroup; checks PID 1; listens on the join socket; then waits
 *     until the cell ends (PID 1 dies), its last session goes (see proto.h
 *     for the life pipe) or it is told to stop (SIGTERM: systemctl stop,
 *     loginctl terminate-*), kills it and removes its registry entry and
 *     cgroups. It runs nothing of the user's and takes no input but "done"
 *     messages, the life pipe's notes (each checked with proc_pin), pidfds,
 *     and connections to the join socket (serve_join).
 *   user side (the user, dropped for good right after the fork)
 *     unshares a user namespace owned by the user, waits for the maps, then
 *     clones PID 1 (CLONE_PARENT: the monitor's child) into new
 *     mnt/uts/ipc/pid/cgroup namespaces and exits.
 *   PID 1 (the user, capabilities only inside the cell's user namespace)
 *     builds the root fs, sets the hostname, drops its capabilities, becomes
 *     joinable, reaps.
 * The forked user side and PID 1 report failures to the monitor and _exit;
 * nothing here prints.
 */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "conf.h"
#include "create.h"
#include "etcextract.h"
#include "harden.h"
#include "idmap.h"
#include "image.h"
#include "net.h"
#include "procmount.h"
#include "proto.h"
#include "registry.h"
#include "rootfs.h"
#include "template.h"
#include "timing.h"
#include "util.h"

/* pam_cell gives up first (its CREATE_TIMEOUT_MS, 20 s) and closes the
 * socket, which ends a setup here; this deadline only bounds a monitor whose
 * pam_cell hangs. */
#define SETUP_TIMEOUT_MS	30000
#define LOCK_TIMEOUT_MS		30000
#define CGROUP_EMPTY_TIMEOUT_MS 60000
#define CGROUP_FAIL_TIMEOUT_MS	5000

/* Where fail() reports: pam_cell's socket in the monitor, the monitor's in
 * the user side and PID 1. */
static int chan = CELL_INIT_FD;

static void __attribute__((noreturn)) fail(const struct cell_err *e)
{
	msg_send(chan, MSG_ERROR, e->code, 0, e->msg);
	_exit(1);
}

/* A prctl the design depends on: failing it ends this process. */
static void must_prctl(int option, unsigned long arg, const char *what)
{
	struct cell_err e = { 0 };

	if (prctl(option, arg, 0, 0, 0) < 0) {
		cell_err_sys(&e, "%s", what);
		fail(&e);
	}
}

/* root -> user, for good (harden_become_user proves it). */
static int drop_to_user(const struct init_args *a, struct cell_err *e)
{
	if (harden_become_user((uid_t)a->uid, (gid_t)a->gid, a->groups, a->ngroups, false, e) < 0)
		return -1;
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

/* The kept system accounts and groups (etcextract.h), opened and checked
 * by the monitor as root, on these fds of the user side and PID 1. */
#define SYS_PASSWD_FD 4
#define SYS_GROUP_FD  5
static int sys_accounts[2] = { -1, -1 };

/* The host's trees (rootfs.h): the system part made by the monitor before
 * its fork, the user's added from 'G'; the user side's and PID 1's. */
static struct rootfs_trees trees;

/* What 'G' carries besides the user's trees: an image's tree and (persistent)
 * the user's layers, the proc views' mount. */
struct go_fds {
	int lower, layers, views;
};

/* Into the mount namespace the user side made for the build ('N' on pair):
 * owned by a user namespace below the cell's, so that the copy PID 1 makes
 * of it once built (lock_mounts) crosses into the cell's. */
static void enter_build_ns(int pair)
{
	struct cell_err e = { 0 };
	struct cell_msg m;
	int ns = -1;

	if (msg_recv_fds(pair, &m, now_ms() + SETUP_TIMEOUT_MS, &ns, 1, &e) < 0 ||
	    m.type != MSG_MNTNS || ns < 0) {
		if (!e.msg[0])
			cell_err_set(&e, EPROTO, "the build's mount namespace did not come");
		fail(&e);
	}
	if (setns(ns, CLONE_NEWNS) < 0) {
		cell_err_sys(&e, "entering the build's mount namespace");
		fail(&e);
	}
	close(ns);
	close(pair);
}

/*
 * The built tree, copied into a mount namespace of the cell's own user
 * namespace: a copy across user namespaces locks every mount's read-only,
 * nosuid, nodev, noexec and atime flags and every mount on another
 * (MNT_LOCK_*, MNT_LOCKED), as the kernel does for any less privileged
 * copy. The trees root cloned carry no locks of their own, and the cell's
 * own mounts would have none: now no process of the cell, root inside
 * included, can clear a flag or unmount a mount to see below it. The
 * build's namespace goes with its last process.
 */
static void lock_mounts(void)
{
	struct cell_err e = { 0 };

	if (unshare(CLONE_NEWNS) < 0) {
		cell_err_sys(&e, "copying the built tree into the cell's mount namespace");
		fail(&e);
	}
}

static void __attribute__((noreturn))
run_pid1(const struct init_args *a, const struct go_fds *g, int pair, int nsdir)
{
	struct rootfs_spec rs = { .home = a->home,
				  .uid = (uid_t)a->inside_uid,
				  .user = a->user,
				  .group = a->group,
				  .shell = a->shell,
				  .gid = (gid_t)a->inside_gid,
				  .binds = a->binds,
				  .tmpfs_size = a->tmpfs,
				  .pty_max = a->pty_max,
				  .hide = a->hide,
				  .proc_views = g->views,
				  .own_net = a->net != NET_HOST,
				  .dns = a->net_dns,
				  .hostname = a->hostname,
				  .sys_accounts = { sys_accounts[0], sys_accounts[1] } };
	struct cell_err e = { 0 };

	/* A clone does not inherit it: die with the monitor from the start. */
	must_prctl(PR_SET_PDEATHSIG, SIGKILL, "PR_SET_PDEATHSIG");
	timing_start(a->timing, 0);
	close(nsdir); /* the user side's */
	enter_build_ns(pair);
	timing_mark("build-ns");
	if (a->net != NET_HOST && net_lo_up(&e) < 0)
		fail(&e);
	if (*a->image) {
		const struct rootfs_image img = { .name = a->image,
						  .lower = g->lower,
						  .layers = g->layers,
						  .overlay = (int)a->overlay,
						  .upper_max = a->upper_max,
						  .own_accounts = a->inside_uid == 0 };

		if (rootfs_build_image(&rs, &img, &trees, &e) < 0)
			fail(&e);
		/* The layers are the overlay's now; PID 1 keeps no fd of them. */
		if (g->lower >= 0)
			close(g->lower);
		if (g->layers >= 0)
			close(g->layers);
	} else if (rootfs_build_host(&rs, &trees, &e) < 0) {
		fail(&e);
	}
	rootfs_trees_close(&trees); /* all attached now */
	for (int i = 0; i < 2; i++)
		if (sys_accounts[i] >= 0)
			close(sys_accounts[i]);
	if (g->views >= 0)
		close(g->views); /* its files are bound over /proc now */
	lock_mounts();
	timing_mark("lock");
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
	/* The kernel clears it on some credential changes: set it again after
	 * the last one. */
	must_prctl(PR_SET_PDEATHSIG, SIGKILL, "PR_SET_PDEATHSIG");
	timing_mark("hostname+caps");
	if ((cell_timing.on && msg_send(chan, MSG_TIMING, 0, 0, cell_timing.text) < 0) ||
	    msg_send(chan, MSG_READY, 0, 0, NULL) < 0)
		_exit(1);
	close(chan);
	release_idle_memory(); /* for the cell's life it only reaps */
	reap_forever();
}

/* 'G''s fds by the letters its text gives them (send_go writes them):
 * the user's trees into `trees`, the rest into g. */
static int take_go(const struct init_args *a, const struct cell_msg *m, int *fds, size_t n,
		   struct go_fds *g, struct cell_err *e)
{
	size_t k = 0;

	*g = (struct go_fds){ -1, -1, -1 };
	if (strlen(m->text) != n)
		return cell_err_set(e, EPROTO, "'G' names %zu trees but carries %zu",
				    strlen(m->text), n);
	for (size_t i = 0; i < n; i++) {
		int *slot = m->text[i] == 'l'				? &g->lower
			    : m->text[i] == 'u'				? &g->layers
			    : m->text[i] == 'v'				? &g->views
			    : m->text[i] == 'h'				? &trees.home
			    : m->text[i] == 'b' && k < ROOTFS_BINDS_MAX ? &trees.binds[k++]
									: NULL;

		if (!slot || *slot >= 0)
			return cell_err_set(e, EPROTO, "'G' came with a tree it names '%c'",
					    m->text[i]);
		*slot = fds[i];
		fds[i] = -1;
	}
	trees.nbinds = k;
	if (trees.home < 0 || (*a->image && g->lower < 0) ||
	    (*a->image && a->overlay == OVERLAY_PERSISTENT) != (g->layers >= 0) ||
	    !!a->proc_views != (g->views >= 0))
		return cell_err_set(e, EPROTO, "'G' came without the trees it must carry");
	return 0;
}

/* The user side: never returns. nsdir: /proc/self/ns of the host's procfs,
 * opened before it entered the template. */
static void __attribute__((noreturn)) user_side(const struct init_args *a, int nsdir)
{
	struct cell_err e = { 0 };
	struct cell_msg m;
	int fds[MSG_MAX_FDS], looked[1 + ROOTFS_BINDS_MAX], pair[2], ns;
	char text[sizeof(m.text)];
	struct go_fds g;
	size_t n, len = 0;
	pid_t pid1;

	if (drop_to_user(a, &e) < 0)
		fail(&e);
	/* The uid change cleared it: die with the monitor. */
	must_prctl(PR_SET_PDEATHSIG, SIGKILL, "PR_SET_PDEATHSIG");
	/* The user's own paths, as the user, before holding any capability
	 * anywhere: root clones what these fds name ('U'). */
	if (rootfs_user_lookups(&trees, a->home, (uid_t)a->uid, a->binds, looked, &n, &e) < 0)
		fail(&e);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%d", i ? " " : "",
					looked[i]);
	if (unshare(CLONE_NEWUSER) < 0) {
		cell_err_sys(&e, "unshare(CLONE_NEWUSER) (are user namespaces enabled? "
				 "see user.max_user_namespaces)");
		fail(&e);
	}
	/* The cell's clocks (set_clock): PID 1 is born into this namespace. */
	if (unshare(CLONE_NEWTIME) < 0) {
		cell_err_sys(&e, "unshare(CLONE_NEWTIME) (Linux >= 5.6 with CONFIG_TIME_NS)");
		fail(&e);
	}
	if (len >= sizeof(text) || msg_send(chan, MSG_USERNS, 0, 0, text) < 0)
		_exit(1);
	/* With 'G': the user's trees and what the profile needs (take_go).
	 * PID 1 inherits them. */
	if (msg_recv_fds(chan, &m, now_ms() + SETUP_TIMEOUT_MS, fds, MSG_MAX_FDS, &e) < 0 ||
	    m.type != MSG_GO)
		_exit(1); /* the monitor gave up: it reports the reason */
	if (take_go(a, &m, fds, (size_t)m.value, &g, &e) < 0)
		fail(&e);
	for (size_t i = 0; i < n; i++)
		close(looked[i]);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
		cell_err_sys(&e, "socketpair");
		fail(&e);
	}
	/* CLONE_PARENT: PID 1 is the monitor's child, not ours. No CLONE_NEWNS:
	 * it starts in the template and builds in the namespace sent below. */
	pid1 = (pid_t)syscall(SYS_clone,
			      CLONE_PARENT | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID |
				      CLONE_NEWCGROUP | (a->net != NET_HOST ? CLONE_NEWNET : 0),
			      NULL, NULL, NULL, 0);
	if (pid1 < 0) {
		cell_err_sys(&e, "clone of the cell's PID 1");
		fail(&e);
	}
	if (pid1 == 0) {
		close(pair[0]);
		run_pid1(a, &g, pair[1], nsdir);
	}
	/* The build's mount namespace: a copy of the template (two mounts),
	 * owned by a user namespace of ours below the cell's. It goes when PID 1
	 * has copied it (lock_mounts) and we have exited. */
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
		cell_err_sys(&e, "unshare of the build's user and mount namespaces");
		fail(&e);
	}
	ns = openat(nsdir, "mnt", O_RDONLY | O_CLOEXEC);
	if (ns < 0 || msg_send_fds(pair[0], MSG_MNTNS, &ns, 1, NULL) < 0) {
		cell_err_sys(&e, "handing PID 1 the build's mount namespace");
		fail(&e);
	}
	msg_send(chan, MSG_PID, 0, pid1, NULL);
	_exit(0);
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* The cell's cgroup, with the profile's limits. On a systemd host the
 * scope pam_cell asked systemd for before our exec (spawn.c), which holds
 * us; else cgroup.c makes it. */
static int make_cgroup(const struct monitor *m, struct cell_cgroup *cg, struct cell_err *e)
{
	const struct init_args *a = &m->args;
	struct cell_limits lim = a->limits;
	char unit[64];

	lim.account = a->proc_views; /* the views read the cell's own usage */
	if (!m->systemd) {
		if (cgroup_create(&m->layout, m->user_dir, &a->user_limits, a->id, &lim, e) < 0)
			return -1;
		return cgroup_open_direct(&m->layout, m->user_dir, &a->user_limits, a->id, cg, e);
	}
	snprintf(unit, sizeof(unit), "cell-%s.scope", a->id);
	return cgroup_open_unit(&m->layout, unit, cg, e);
}

/* 'G' to the user side, each fd named in its text (take_go): root's
 * clones of the user's home and binds, which the user side looked up as the
 * user (lookups: its 'U' text); for rootfs = image:NAME the image's tree
 * idmapped through the cell's user namespace (only root can make it: the
 * image's filesystem belongs to the host) and the user's upper and work
 * directories, which no user can reach by path; the proc views' mount. */
static int send_go(const struct init_args *a, int chan_fd, int procfd, pid_t user,
		   unsigned long userns_ino, const char *lookups, int *layers_lock,
		   struct cell_err *e)
{
	struct image_fds f = { -1, -1, -1 };
	struct rootfs_trees u;
	_cleanup_close_ int userns = -1, views = -1;
	unsigned long owner = a->uid, group = a->gid;
	int go[MSG_MAX_FDS];
	char names[MSG_MAX_FDS + 1], path[64];
	size_t n = 0;
	struct stat st;
	int r = -1;

	rootfs_trees_init(&u);
	/* Before anything else the cell gets: the server may have to start. */
	if (a->proc_views && (views = procview_mount(e)) < 0)
		return -1;
	/* Our own unreaped child, waiting for this answer: its fds stay. */
	if (rootfs_clone_user(&u, procfd, user, lookups, (uid_t)a->uid, a->home, a->binds, e) < 0)
		goto out;
	if (*a->image) {
		/* Our own unreaped child, in the namespace whose maps we just wrote. */
		snprintf(path, sizeof(path), "%d/ns/user", (int)user);
		userns = openat(procfd, path, O_RDONLY | O_CLOEXEC);
		if (userns < 0 || fstat(userns, &st) < 0) {
			cell_err_sys(e, "opening the cell's user namespace");
			goto out;
		}
		if (st.st_ino != userns_ino) {
			cell_err_set(e, EPROTO, "the user side left its user namespace");
			goto out;
		}
		/* The upper belongs to the cell's root (or the user, with no root). */
		idmap_text_host_of(a->uid_map, 0, &owner);
		idmap_text_host_of(a->gid_map, 0, &group);
		if (image_prepare(a->image, a->user, userns, a->overlay == OVERLAY_PERSISTENT,
				  a->upper_max, (uid_t)owner, (gid_t)group, &f, e) < 0)
			goto out;
		/* Held until this process exits, after the last of the cell. */
		*layers_lock = steal_fd(&f.lock);
		go[n] = f.lower, names[n++] = 'l';
		if (f.layers >= 0)
			go[n] = f.layers, names[n++] = 'u';
	}
	if (views >= 0)
		go[n] = views, names[n++] = 'v';
	go[n] = u.home, names[n++] = 'h';
	for (size_t i = 0; i < u.nbinds; i++)
		go[n] = u.binds[i], names[n++] = 'b';
	names[n] = '\0';
	if (msg_send_fds(chan_fd, MSG_GO, go, n, names) < 0) {
		cell_err_sys(e, "telling the user side to go on");
		goto out;
	}
	r = 0;
out:
	image_fds_close(&f);
	rootfs_trees_close(&u);
	return r;
}

/*
 * The cell's time namespace (the user side made it; PID 1 is born into it,
 * cellsh joins it). With proc views its boot time is the cell's start, so
 * /proc/uptime, the start times in /proc/PID/stat and btime agree on the
 * cell's age and ps and top stay consistent; without, the host's clocks.
 * Root writes the offset, as it writes the maps: the file belongs to root
 * while the user side is not dumpable. Whole seconds back: the cell's
 * clock starts below 1 s.
 */
static int set_clock(int procfd, pid_t user, struct cell_err *e)
{
	_cleanup_close_ int fd = -1;
	struct timespec now;
	char path[64], line[64];
	int n;

	snprintf(path, sizeof(path), "%d/timens_offsets", (int)user);
	fd = openat(procfd, path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	clock_gettime(CLOCK_BOOTTIME, &now);
	n = snprintf(line, sizeof(line), "boottime %lld 0\n", -(long long)now.tv_sec);
	if (fd < 0 || write(fd, line, (size_t)n) != n)
		return cell_err_sys(e, "setting the cell's boot time");
	return 0;
}

/* *keep[i] onto fd 3 + i (closed where it is -1), every other fd closed. */
static int keep_fds(int **keep, size_t n)
{
	int high[5 + ROOTFS_TREES_FDS];

	if (n > ARRAY_SIZE(high))
		return -1;
	/* First above every target, so that no move overwrites one to come. */
	for (size_t i = 0; i < n; i++) {
		high[i] = *keep[i] >= 0 ? fcntl(*keep[i], F_DUPFD_CLOEXEC, 3 + (int)n) : -1;
		if (*keep[i] >= 0 && high[i] < 0)
			return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int to = 3 + (int)i;

		if (high[i] >= 0 && dup3(high[i], to, O_CLOEXEC) != to)
			return -1;
		if (high[i] < 0)
			close(to);
		*keep[i] = high[i] >= 0 ? to : -1;
	}
	return close_range(3 + (unsigned)n, ~0U, 0);
}

/* Build the cell; on success h describes PID 1. */
static int build(struct monitor *mon, struct cell_handle *h, pid_t *user, struct cell_err *e)
{
	const struct init_args *a = &mon->args;
	_cleanup_close_ int procfd = -1, mine = -1, tmpl = -1;
	long long deadline = now_ms() + SETUP_TIMEOUT_MS;
	unsigned long userns_ino = 0;
	struct cell_msg m;
	pid_t pid1 = 0;
	int sv[2];

	procfd = proc_open_root(e);
	if (procfd < 0 || make_cgroup(mon, &mon->cg, e) < 0)
		return -1;
	timing_mark("cgroups");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return cell_err_sys(e, "socketpair");
	mine = sv[0];
	/* The host's system accounts, as pam_cell kept them: checked here as
	 * root (a user namespace sees root's files as nobody's), read by PID 1
	 * instead of one line per account of the host's files. */
	if (!*a->image)
		for (int i = 0; i < 2; i++)
			sys_accounts[i] = etc_extract_open(i == 1);
	/* The host's trees the cell shows, and the template PID 1 starts in. */
	rootfs_trees_init(&trees);
	if (rootfs_clone_host(&trees, !*a->image, (uid_t)a->uid, e) < 0 ||
	    (tmpl = template_open(e)) < 0) {
		close(sv[1]);
		return -1;
	}
	timing_mark("trees+template");
	*user = fork();
	if (*user < 0) {
		close(sv[1]);
		return cell_err_sys(e, "fork");
	}
	if (*user == 0) {
		/* Only what it needs stays open on the user side: the socket to
		 * us, the kept accounts, the host's /proc/self/ns, the template,
		 * the host's trees. */
		int nsdir = openat(procfd, "self/ns", O_PATH | O_DIRECTORY | O_CLOEXEC);
		int *keep[5 + ROOTFS_TREES_FDS] = { &sv[1], &sys_accounts[0], &sys_accounts[1],
						    &nsdir, &tmpl };
		size_t n = 5;

		n += rootfs_trees_fds(&trees, keep + n, ARRAY_SIZE(keep) - n);
		if (nsdir < 0 || keep_fds(keep, n) < 0)
			_exit(1);
		chan = CELL_INIT_FD;
		/* Root enters the template (template.h: empty, read-only, its
		 * own), so that PID 1's namespaces copy two mounts, not the
		 * host's table. The host stays reachable through the fds kept. */
		if (setns(tmpl, CLONE_NEWNS) < 0) {
			cell_err_sys(e, "entering the template mount namespace");
			fail(e);
		}
		close(tmpl);
		user_side(a, nsdir);
	}
	close(sv[1]);
	for (int i = 0; i < 2; i++)
		if (sys_accounts[i] >= 0) {
			close(sys_accounts[i]);
			sys_accounts[i] = -1;
		}
	rootfs_trees_close(&trees); /* the user side's and PID 1's now */

	if (msg_recv(mine, &m, deadline, e) < 0)
		return -1;
	if (m.type == MSG_ERROR)
		return cell_err_set(e, m.code, "%s", m.text);
	if (m.type != MSG_USERNS)
		return cell_err_set(e, EPROTO, "unexpected message '%c'", m.type);
	timing_mark("fork+unshare");
	/* Our own unreaped child: its pid is stable while we write. */
	if (cell_write_maps(procfd, *user, (uid_t)a->uid, a->uid_map, a->gid_map, &userns_ino, e) <
		    0 ||
	    (a->proc_views && set_clock(procfd, *user, e) < 0))
		return -1;
	timing_mark("maps");
	/* A phase of its own: without favordynmods a move may wait for an RCU
	 * grace period, longer on a host whose cgroups have churned. */
	if (cgroup_move(&mon->cg, *user, e) < 0)
		return -1;
	timing_mark("cgroup-move");
	if (send_go(a, mine, procfd, *user, userns_ino, m.text, &mon->layers_lock, e) < 0)
		return -1;
	timing_mark("go");
	/* 'P' (user side) and 'R' (PID 1) may come in either order. */
	for (bool ready = false; !ready || !pid1;) {
		if (msg_recv(mine, &m, deadline, e) < 0)
			return -1;
		if (m.type == MSG_PID && !pid1 && m.value > 1 && m.value <= PID_MAX_LIMIT)
			pid1 = (pid_t)m.value;
		else if (m.type == MSG_READY)
			ready = true;
		else if (m.type == MSG_TIMING)
			timing_add(m.text); /* PID 1's */
		else if (m.type == MSG_ERROR)
			return cell_err_set(e, m.code, "%s", m.text);
		else
			return cell_err_set(e, EPROTO, "unexpected message '%c'", m.type);
	}
	timing_mark("clone+pid1");
	if (cell_verify_pid1(procfd, pid1, getpid(), (uid_t)a->uid, a->net != NET_HOST, h, e) < 0)
		return -1;
	if (h->ns[NS_USER] != userns_ino)
		return cell_err_set(e, EPROTO, "PID 1 is not in the mapped user namespace");
	timing_mark("verify");
	return 0;
}

static void end_shared(const struct init_args *a)
{
	struct cell_err e;
	int lock = registry_lock_user((uid_t)a->uid, LOCK_TIMEOUT_MS, &e);

	registry_shared_clear((uid_t)a->uid, a->id);
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

/* The poll set: four fixed slots, then one pidfd per session. */
enum { SLOT_LIFE, SLOT_PID1, SLOT_JOIN, SLOT_SIGNAL, FIRST_SESSION };

struct sessions {
	struct pollfd p[MAX_SESSIONS + FIRST_SESSION];
	pid_t pid[MAX_SESSIONS + FIRST_SESSION];
	int n;
};

/* Watch a login program that joined: only if it is the process root named
 * (proc_pin: the start time in its note), so a reused pid is never watched. */
static void session_add(struct sessions *s, int procfd, pid_t pid, unsigned long long start)
{
	struct cell_err e;
	int fd;

	if (s->n >= MAX_SESSIONS + FIRST_SESSION || pid <= 1)
		return;
	fd = proc_pin(procfd, pid, start, NULL, &e);
	if (fd < 0)
		return;
	s->p[s->n] = (struct pollfd){ .fd = fd, .events = POLLIN };
	s->pid[s->n++] = pid;
}

static void session_drop(struct sessions *s, int i)
{
	close(s->p[i].fd);
	s->p[i] = s->p[s->n - 1];
	s->pid[i] = s->pid[s->n - 1];
	s->n--;
}

/* A login program's session closed: stop watching it. */
static void session_close_note(struct sessions *s, pid_t pid)
{
	for (int i = FIRST_SESSION; i < s->n; i++)
		if (s->pid[i] == pid) {
			session_drop(s, i);
			return;
		}
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
			struct life_note n = { 0 }; /* op stays 0 if the line is not one */

			*nl = '\0';
			/* A line root did not write is ignored. */
			if (life_note_parse(line, &n) == 0 && n.op == LIFE_JOIN)
				session_add(s, procfd, n.pid, n.start);
			else if (n.op == LIFE_CLOSE)
				session_close_note(s, n.pid);
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (have >= sizeof(buf) - 1)
			have = 0; /* a line that long is not ours */
	}
}

/*
 * One connection to the join socket: cellsh asks to be moved into the cell's
 * cgroup. Granted only to a process whose every uid is the cell's user (the
 * socket is theirs alone, and SO_PEERCRED names the process that
 * connected), and only into this cell's cgroup: that confines the process
 * further and gives it nothing. The pid is pinned by a pidfd before it is
 * checked and is still alive after the move, so the pid moved was that
 * process. Never blocks: the socket is non-blocking, the answer one small
 * datagram on a fresh connection.
 */
static void serve_join(const struct init_args *a, int procfd, const struct cell_cgroup *cg,
		       int listener)
{
	_cleanup_close_ int c = -1, pidfd = -1, piddir = -1;
	struct cell_err e = { 0 };
	struct ucred peer;
	socklen_t len = sizeof(peer);

	c = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c < 0)
		return;
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0 || peer.pid <= 1 ||
	    peer.uid != (uid_t)a->uid) {
		msg_send(c, MSG_ERROR, EPERM, 0, "not a process of the cell's user");
		return;
	}
	pidfd = pidfd_open(peer.pid, 0);
	if (pidfd < 0 || (piddir = proc_open_pid(procfd, peer.pid, &e)) < 0 ||
	    proc_all_uids(piddir, (uid_t)a->uid, &e) < 0 || cgroup_move(cg, peer.pid, &e) < 0 ||
	    !pidfd_alive(pidfd)) {
		msg_send(c, MSG_ERROR, e.code ? e.code : ESRCH, 0,
			 e.msg[0] ? e.msg : "the process went away");
		return;
	}
	msg_send(c, MSG_MOVED, 0, 0, NULL);
}

static int write_file(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -1 : write_all(fd, text, strlen(text));
}

/* SIGTERM, SIGINT, SIGHUP as a file descriptor: a request to stop the cell
 * (systemd's stop of the scope, loginctl terminate-*, an admin). */
static int stop_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* Return when the cell has ended, or after killing it once its last
 * session is gone or a stop was asked for. */
static enum monitor_end watch(struct monitor *m)
{
	const struct init_args *a = &m->args;
	static struct sessions s;
	struct cell_err e;
	bool lingering = false;
	long long until_ms = 0; /* lingering: CLOCK_MONOTONIC, LLONG_MAX forever */

	s.p[SLOT_LIFE] = (struct pollfd){ .fd = CELL_LIFE_FD, .events = POLLIN };
	s.p[SLOT_PID1] = (struct pollfd){ .fd = m->cell.pidfd, .events = POLLIN };
	s.p[SLOT_JOIN] = (struct pollfd){ .fd = m->joinfd, .events = POLLIN };
	s.p[SLOT_SIGNAL] = (struct pollfd){ .fd = m->sigfd, .events = POLLIN };
	s.p[FIRST_SESSION] = (struct pollfd){ .fd = m->parentfd, .events = POLLIN };
	s.pid[FIRST_SESSION] = m->parent;
	s.n = FIRST_SESSION + 1;
	release_idle_memory(); /* from here on it mostly sleeps in poll */
	for (;;) {
		int timeout = -1, r;

		if (lingering && until_ms != LLONG_MAX) {
			long long left = until_ms - now_ms();

			timeout = left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
		}
		r = poll(s.p, (nfds_t)s.n, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (r == 0) /* lingering, and the time is up: see below */
			goto no_session;
		if (s.p[SLOT_PID1].revents)
			return MONITOR_PID1_EXITED;
		if (s.p[SLOT_SIGNAL].revents) {
			cell_kill(m->cell.pidfd, &e);
			if (a->shared)
				end_shared(a);
			return MONITOR_STOPPED;
		}
		if (s.p[SLOT_LIFE].revents & (POLLERR | POLLNVAL))
			break;
		if (s.p[SLOT_LIFE].revents & POLLIN)
			read_events(&s, m->procfd);
		for (int i = s.n - 1; i >= FIRST_SESSION; i--)
			if (s.p[i].revents)
				session_drop(&s, i); /* that login program exited */
		/* After the sessions: a flood of connections cannot hide that the
		 * last session went. One per round. (Lingering: a login joining.) */
		if ((s.n > FIRST_SESSION || lingering) && (s.p[SLOT_JOIN].revents & POLLIN))
			serve_join(a, m->procfd, &m->cg, m->joinfd);
		if (s.n > FIRST_SESSION) {
			if (lingering) { /* a login came back in time */
				lingering = false;
				registry_linger_clear(a->id);
			}
			continue;
		}
		if (!a->shared)
			break;
	no_session:
		if (lingering && now_ms() < until_ms)
			continue;
		/* Under the user's lock no session can join meanwhile: if none
		 * did, the cell is over (or, with linger, lingers first). */
		{
			int lock = registry_lock_user((uid_t)a->uid, LOCK_TIMEOUT_MS, &e);

			read_events(&s, m->procfd);
			if (s.n == FIRST_SESSION && !lingering && a->linger) {
				bool forever = a->linger == CELL_LINGER_FOREVER;

				lingering = true;
				until_ms = forever ? LLONG_MAX
						   : now_ms() + (long long)a->linger * 1000;
				registry_linger_set(
					a->id,
					forever ? -1 : (long long)time(NULL) + (long long)a->linger,
					&e);
				if (lock >= 0)
					close(lock);
				continue;
			}
			if (s.n == FIRST_SESSION) {
				registry_linger_clear(a->id);
				registry_shared_clear((uid_t)a->uid, a->id);
				registry_remove(a->id, (uid_t)a->uid, &e);
				registry_life_remove(a->id);
				cell_kill(m->cell.pidfd, &e);
				if (lock >= 0)
					close(lock);
				return MONITOR_LAST_SESSION_CLOSED;
			}
			if (lock >= 0)
				close(lock);
		}
	}
	cell_kill(m->cell.pidfd, &e);
	return a->shared ? MONITOR_WATCH_FAILED : MONITOR_SESSION_CLOSED;
}

/* ---- the monitor's life, for cell-init's main ---- */

/* The cell's network beyond lo (net.h), once PID 1 is verified: the veth
 * pair on the bridge, or pasta (as the user, in the cell's cgroup). The
 * login waits for it: a first connection must not fail. */
static int make_net(struct monitor *m, struct cell_err *e)
{
	const struct init_args *a = &m->args;
	char path[64];

	if (a->net == NET_BRIDGE) {
		const struct net_bridge b = { a->bridge, a->net_pool, a->net_isolate };
		_cleanup_close_ int ns = -1;
		struct stat st;
		char addr[32];

		/* PID 1 is our unreaped child: its namespace, checked anyway. */
		snprintf(path, sizeof(path), "%d/ns/net", (int)m->cell.pid);
		ns = openat(m->procfd, path, O_RDONLY | O_CLOEXEC);
		if (ns < 0 || fstat(ns, &st) < 0 || st.st_ino != m->cell.ns[NS_NET])
			return cell_err_sys(e, "opening the cell's network namespace");
		return net_bridge_up(&b, a->id, m->cell.pid, ns, &m->net_claim, addr, sizeof(addr),
				     e);
	}
	if (a->net == NET_USER) {
		/* pasta answers DNS on the gateway (forwarding it to the host's
		 * resolver) when the cell's resolv.conf names the gateway. */
		char dns[64] = "", gw[64];
		struct net_user u = { (uid_t)a->uid, (gid_t)a->gid, m->cell.pid, dns,
				      a->net_host_loopback };

		net_host_gateway(gw, sizeof(gw));
		if (sscanf(a->net_dns, "%63s", dns) != 1 || strcmp(dns, gw) != 0)
			dns[0] = '\0';
		m->pasta = a->net_stack == NET_STACK_SLIRP ? net_slirp_start(&u, e)
							   : net_pasta_start(&u, e);
		if (m->pasta < 0) {
			m->pasta = 0;
			return -1;
		}
		if (cgroup_move(&m->cg, m->pasta, e) < 0)
			return -1;
		return net_wait_route(m->cell.pid, 5000, e);
	}
	return 0;
}

static void drop_net(struct monitor *m)
{
	if (m->pasta > 0) {
		kill(m->pasta, SIGKILL);
		reap(m->pasta);
		m->pasta = 0;
	}
	if (m->net_claim >= 0) {
		registry_net_remove(m->args.id);
		close(m->net_claim);
		m->net_claim = -1;
	}
}

int monitor_build(struct monitor *m, struct cell_err *e)
{
	m->cell.pidfd = m->joinfd = m->sigfd = -1;
	/* The parent cgroup of all the user's cells (with user limits). */
	cgroup_user_dir(m->args.uid, m->user_dir);
	m->cg.n = 0;
	m->user = 0;
	m->systemd = systemd_booted();
	if (build(m, &m->cell, &m->user, e) < 0 || make_net(m, e) < 0)
		return -1;
	timing_mark("net");
	/* The user side has nothing left to do. */
	kill(m->user, SIGKILL);
	reap(m->user);
	m->user = 0;
	m->joinfd = registry_join_listen(m->args.id, (uid_t)m->args.uid, e);
	if (m->joinfd < 0)
		return -1;
	m->sigfd = stop_signals();
	if (m->sigfd < 0)
		return cell_err_sys(e, "signalfd");
	timing_mark("join-socket");
	/* The cell's memory limit may bring its OOM killer: never onto the
	 * monitor, which would take the cell's clean end with it. Best effort:
	 * it needs CAP_SYS_RESOURCE, which some containers' root lacks (the
	 * monitor is then as likely a victim as any small process, and PID 1
	 * dies with it: the cell still ends). */
	write_file("/proc/self/oom_score_adj", "-1000");
	return 0;
}

/* The cgroup's end: systemd removes a scope once the monitor, its last
 * process, exits; a directory of our own we remove. */
static int drop_cgroup(struct monitor *m, int timeout_ms)
{
	cgroup_close(&m->cg);
	if (m->systemd)
		return 0;
	return cgroup_destroy(&m->layout, m->user_dir, &m->args.user_limits, m->args.id,
			      timeout_ms);
}

void monitor_abort(struct monitor *m)
{
	struct cell_err e;

	/* Our children only: the user side, and PID 1 if it exists. */
	if (m->user > 0)
		kill(m->user, SIGKILL);
	if (m->cell.pidfd >= 0)
		cell_kill(m->cell.pidfd, &e);
	drop_net(m);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	if (m->joinfd >= 0)
		registry_join_remove(m->args.id);
	drop_cgroup(m, CGROUP_FAIL_TIMEOUT_MS);
}

enum monitor_end monitor_watch(struct monitor *m)
{
	return watch(m);
}

int monitor_teardown(struct monitor *m)
{
	struct cell_err e;

	reap(m->cell.pid);
	registry_join_remove(m->args.id);
	/* Idempotent: pam_cell may have removed it already. */
	registry_remove(m->args.id, (uid_t)m->args.uid, &e);
	registry_linger_clear(m->args.id);
	if (m->args.shared)
		end_shared(&m->args);
	drop_net(m); /* pasta leaves the cgroup */
	return drop_cgroup(m, CGROUP_EMPTY_TIMEOUT_MS);
}
