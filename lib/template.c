// SPDX-License-Identifier: MIT
#include "template.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry.h"
#include "rootfs.h"
#include "util.h"

#define TEMPLATE_LOCK_MS 30000
#define TEMPLATE_MSG_MAX 400 /* a failed step, as the maker reports it */

/* The template, if CELL_RUN_DIR/template.mnt holds one. */
static int open_ns(int dfd)
{
	struct statfs sf;
	int fd = openat(dfd, TEMPLATE_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstatfs(fd, &sf) < 0 || sf.f_type != NSFS_MAGIC ||
	    ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Whatever is mounted on the name in our mount namespace, detached. The
 * name itself stays: a login program in a private mount namespace (a
 * systemd unit's namespacing, the tests' unshare -m) holds its own
 * template on it, since copies of a namespace leave nsfs binds of mount
 * namespaces out, and removing the name would detach the host's too. */
static void clear_point(int dfd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dfd, TEMPLATE_NAME);
	while (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
		;
}

/* The maker's word on `up` that a step failed: 'f', the step and errno's
 * text (err: its own message, if the step gave one), then _exit. */
static void __attribute__((noreturn)) fail(int up, const char *step, const char *err)
{
	char msg[TEMPLATE_MSG_MAX];
	int n = snprintf(msg, sizeof(msg), "f%s: %s", step, err ? err : strerror(errno));

	if (n > 0)
		(void)!write(up, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
	_exit(1);
}

/* The maker, a forked child of root's: builds the template as its own
 * mount namespace, says so on `up` ('t', or fail's report), and waits to
 * be killed. */
static void __attribute__((noreturn)) build(int up)
{
	static const char *const root_opts[] = { "mode",      "0755", "size", "4096",
						 "nr_inodes", "4",    NULL };
	const unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	struct cell_err e = { 0 };
	struct stat st;
	int root, tmp, status;
	pid_t first;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail(up, "prctl(PR_SET_PDEATHSIG)", NULL);
	if (unshare(CLONE_NEWNS | CLONE_NEWPID) < 0)
		fail(up, "unshare(CLONE_NEWNS | CLONE_NEWPID)", NULL);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		fail(up, "making its copy of the host's mounts private", NULL);
	/* Attached on /tmp itself (an entry of root's /, root's own, not
	 * followed if a link) in this private copy only, for pivot_root. */
	root = rootfs_fs_new("tmpfs", root_opts, attrs, &e);
	if (root < 0)
		fail(up, "its root tmpfs", e.msg);
	tmp = open("/tmp", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tmp < 0 || fstat(tmp, &st) < 0)
		fail(up, "/tmp, where it attaches its root", NULL);
	if (st.st_uid != 0)
		fail(up, "/tmp, where it attaches its root", "not root's directory");
	if (move_mount(root, "", tmp, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0 ||
	    mkdirat(root, "proc", 0555) < 0)
		fail(up, "attaching its root on /tmp", NULL);
	/* The new pid namespace's first process mounts its procfs and exits
	 * (its own failure reported as the maker's): the procfs stays,
	 * showing no process. */
	first = fork();
	if (first == 0) {
		int proc = rootfs_fs_new("proc", NULL, attrs, &e);

		if (proc < 0)
			fail(up, "the procfs of its pid namespace", e.msg);
		if (move_mount(proc, "", root, "proc", MOVE_MOUNT_F_EMPTY_PATH) < 0)
			fail(up, "attaching the procfs of its pid namespace", NULL);
		_exit(0);
	}
	if (first < 0)
		fail(up, "fork of its pid namespace's first process", NULL);
	if (waitpid(first, &status, 0) != first || status != 0)
		_exit(1); /* first reported why */
	/* The host's tree detached: the namespace holds the two mounts alone. */
	if (fchdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		fail(up, "pivot_root into its root", NULL);
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		fail(up, "detaching the host's mounts", NULL);
	if (mount_setattr(AT_FDCWD, "/", 0, &ro, sizeof(ro)) < 0)
		fail(up, "making its root read-only", NULL);
	if (write(up, "t", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/* A new template: an fd of it, held on the name too (a failure to hold it
 * costs the next login the making, not this one). */
static int make(int dfd, struct cell_err *e)
{
	_cleanup_close_ int tree = -1, point = -1;
	struct stat st;
	int up[2], ns = -1;
	char word[TEMPLATE_MSG_MAX], path[64];
	ssize_t n;
	pid_t maker;

	if (pipe2(up, O_CLOEXEC) < 0)
		return cell_err_sys(e, "pipe");
	maker = fork();
	if (maker == 0) {
		close(up[0]);
		build(up[1]);
	}
	close(up[1]);
	if (maker < 0) {
		close(up[0]);
		return cell_err_sys(e, "fork");
	}
	/* 't', or the failed step; nothing if the maker was killed. */
	while ((n = read(up[0], word, sizeof(word) - 1)) < 0 && errno == EINTR)
		;
	word[n > 0 ? n : 0] = '\0';
	if (word[0] != 't') {
		cell_err_set(e, ECHILD,
			     "making the template mount namespace: %s. Every cell starts from it: "
			     "the login program must be able to make mount and pid namespaces "
			     "and mount tmpfs and proc (check its seccomp or LSM policy and the "
			     "sysctls user.max_mnt_namespaces and user.max_pid_namespaces)",
			     word[0] == 'f' ? word + 1 : "its maker ended without a word");
		goto out;
	}
	/* Our own unreaped child: its pid is stable. */
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)maker);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0) {
		cell_err_sys(e, "opening the template mount namespace");
		goto out;
	}
	clear_point(dfd);
	tree = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	point = openat(dfd, TEMPLATE_NAME, O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		       0600);
	if (tree >= 0 && point >= 0 && fstat(point, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == 0)
		move_mount(tree, "", point, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
out:
	close(up[0]);
	kill(maker, SIGKILL);
	while (waitpid(maker, NULL, 0) < 0 && errno == EINTR)
		;
	return ns;
}

int template_open(struct cell_err *e)
{
	_cleanup_close_ int dfd = -1, lock = -1;
	int fd;

	dfd = registry_dir(e);
	if (dfd < 0)
		return -1;
	fd = open_ns(dfd);
	if (fd >= 0)
		return fd;
	/* One maker at a time; the others find its work done. */
	lock = registry_lock("lock-template", TEMPLATE_LOCK_MS, e);
	if (lock < 0)
		return cell_err_prefix(e, "the template mount namespace: ");
	fd = open_ns(dfd);
	if (fd >= 0)
		return fd;
	return make(dfd, e);
}
