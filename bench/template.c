// SPDX-License-Identifier: MIT
/*
 * A probe of the bare mechanism cells start with (lib/template.c,
 * ARCHITECTURE.md "The template mount namespace"): a mount namespace started
 * from a small template namespace instead of a copy of the host's, against
 * the copy and pivot_root cells made before. Both build the same root: a tmpfs, a clone
 * of the host's /usr made by root and handed in (as the monitor would), a
 * procfs of the cell's own.
 *
 * The template: an empty read-only tmpfs as its root and, on /proc, the
 * procfs of a pid namespace whose only process has exited. The kernel lets
 * a user namespace mount a procfs only where one is fully visible already;
 * that one shows no process. A cell's PID 1 is cloned in it with a new user
 * and mount namespace (a copy of two mounts), mounts its root on top of
 * "/" and chroots: no pivot_root, whose walk of every task on the host grows
 * with the host's processes. Below the cell's root lies only the template.
 *
 *   template [-v] N    as root: N starts each way, in turns; prints the
 *                      medians in ms ("template MS copy MS"). -v: first
 *                      what a cell and a joiner see.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MUST(x)                                                                     \
	do {                                                                        \
		if ((x) < 0) {                                                      \
			fprintf(stderr, "template: %s: %s\n", #x, strerror(errno)); \
			_exit(1);                                                   \
		}                                                                   \
	} while (0)

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* A detached mount of a new filesystem, nosuid, nodev, noexec. */
static int new_fs(const char *type, const char *key, const char *value)
{
	int fs = (int)syscall(SYS_fsopen, type, FSOPEN_CLOEXEC), m;

	if (fs < 0 || (key && syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, value, 0) < 0) ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -1;
	m = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
			 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	close(fs);
	return m;
}

static int attach(int mfd, int dirfd, const char *path)
{
	return (int)syscall(SYS_move_mount, mfd, "", dirfd, path,
			    MOVE_MOUNT_F_EMPTY_PATH | (*path ? 0 : MOVE_MOUNT_T_EMPTY_PATH));
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	MUST(fd);
	MUST(write(fd, text, strlen(text)));
	close(fd);
}

/* The template namespace, held by the returned fd. */
static int make_template(void)
{
	int up[2], fd, status;
	char c, path[64];
	pid_t t;

	MUST(pipe2(up, O_CLOEXEC));
	t = fork();
	MUST(t);
	if (t == 0) {
		int root;
		pid_t first;
		struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };

		MUST(unshare(CLONE_NEWNS | CLONE_NEWPID));
		MUST(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
		MUST(root = new_fs("tmpfs", "mode", "0755"));
		MUST(attach(root, AT_FDCWD, "/tmp"));
		MUST(mkdir("/tmp/proc", 0555));
		first = fork(); /* PID 1 of the new pid namespace: gone at once */
		MUST(first);
		if (first == 0) {
			int proc = new_fs("proc", NULL, NULL);

			_exit(proc < 0 || attach(proc, AT_FDCWD, "/tmp/proc") < 0);
		}
		MUST(waitpid(first, &status, 0));
		if (status != 0)
			_exit(1);
		MUST(chdir("/tmp"));
		MUST(syscall(SYS_pivot_root, ".", "."));
		MUST(umount2(".", MNT_DETACH));
		MUST(chdir("/"));
		MUST(syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, &ro, sizeof(ro)));
		MUST(write(up[1], "t", 1));
		pause();
		_exit(0);
	}
	if (read(up[0], &c, 1) != 1)
		exit(1);
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)t);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	MUST(fd);
	kill(t, SIGKILL);
	waitpid(t, NULL, 0);
	close(up[0]);
	close(up[1]);
	return fd;
}

static int count_mounts(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n++;
	if (f)
		fclose(f);
	return n;
}

/* PID 1: its root, then ready. */
static void __attribute__((noreturn))
pid1(bool from_template, int usr, int go, int ready, bool verbose)
{
	char c;
	int root, proc;

	if (read(go, &c, 1) != 1)
		_exit(1);
	MUST(setresgid(0, 0, 0));
	MUST(setresuid(0, 0, 0));
	MUST(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	MUST(root = new_fs("tmpfs", "mode", "0755"));
	/* On the template: on top of its root. On the host's copy: on /tmp,
	 * where pivot_root can take it. */
	MUST(attach(root, AT_FDCWD, from_template ? "/" : "/tmp"));
	MUST(mkdirat(root, "usr", 0755));
	MUST(mkdirat(root, "proc", 0555));
	MUST(attach(usr, root, "usr"));
	MUST(proc = new_fs("proc", NULL, NULL));
	MUST(attach(proc, root, "proc"));
	MUST(fchdir(root));
	if (from_template) {
		MUST(chroot("."));
	} else {
		MUST(syscall(SYS_pivot_root, ".", "."));
		MUST(umount2(".", MNT_DETACH));
	}
	MUST(chdir("/"));
	if (verbose) {
		struct mount_attr clr = { .attr_clr = MOUNT_ATTR_NOSUID };

		printf("  the cell sees %d mounts; /usr/bin %s; its /proc/1 %s\n", count_mounts(),
		       access("/usr/bin", F_OK) ? "missing" : "there",
		       access("/proc/1/status", R_OK) ? "missing" : "there");
		/* A tree root cloned and handed in carries no lock: the cell's
		 * root (and anyone with its user namespace's capabilities) can
		 * change its attributes. */
		printf("  clearing nosuid on the /usr root made: %s\n",
		       syscall(SYS_mount_setattr, AT_FDCWD, "/usr", 0, &clr, sizeof(clr)) == 0
			       ? "allowed (not locked)"
			       : strerror(errno));
	}
	MUST(write(ready, "r", 1));
	pause();
	_exit(0);
}

/* A joiner's view: setns into PID 1's user and mount namespaces. */
static void join_and_look(pid_t p)
{
	pid_t j = fork();

	MUST(j);
	if (j == 0) {
		char path[64];
		int u, m;

		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)p);
		MUST(u = open(path, O_RDONLY | O_CLOEXEC));
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)p);
		MUST(m = open(path, O_RDONLY | O_CLOEXEC));
		MUST(setns(u, CLONE_NEWUSER));
		MUST(setns(m, CLONE_NEWNS));
		printf("  a joiner lands in %s\n",
		       access("/usr/bin", F_OK) == 0 && access("/etc", F_OK) < 0
			       ? "the cell's root"
			       : "something else");
		_exit(0);
	}
	waitpid(j, NULL, 0);
}

/* One cell, from the template (tmpl >= 0) or a copy of our namespace:
 * the ms from clone to ready. */
static double one_cell(int tmpl, bool verbose)
{
	int go[2], ready[2], usr, host = -1;
	char c, path[64];
	double t0, t;
	pid_t p;

	/* The monitor's part: root's clone of the host's tree. */
	usr = (int)syscall(SYS_open_tree, AT_FDCWD, "/usr",
			   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	MUST(usr);
	MUST(pipe2(go, O_CLOEXEC));
	MUST(pipe2(ready, O_CLOEXEC));
	if (tmpl >= 0)
		MUST(host = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
	t0 = now_ms();
	if (tmpl >= 0)
		MUST(setns(tmpl, CLONE_NEWNS));
	p = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | SIGCHLD, NULL,
			   NULL, NULL, NULL);
	MUST(p);
	if (p == 0)
		pid1(tmpl >= 0, usr, go[0], ready[1], verbose);
	if (tmpl >= 0)
		MUST(setns(host, CLONE_NEWNS));
	/* Root in the cell is nobody on the host: no user's range. */
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)p);
	write_file(path, "0 65534 1\n");
	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)p);
	write_file(path, "deny");
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)p);
	write_file(path, "0 65534 1\n");
	MUST(write(go[1], "g", 1));
	if (read(ready[0], &c, 1) != 1)
		exit(1);
	t = now_ms() - t0;
	if (verbose)
		join_and_look(p);
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
	close(usr);
	if (host >= 0)
		close(host);
	for (int i = 0; i < 2; i++) {
		close(go[i]);
		close(ready[i]);
	}
	return t;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	bool verbose = argc > 2 && strcmp(argv[1], "-v") == 0;
	int n = atoi(argv[argc - 1]), tmpl;
	double *a, *b;
	const struct timespec pause_between = { 0, 20 * 1000 * 1000 };

	if (argc < 2 || n < 1 || n > 10000) {
		fprintf(stderr, "usage: template [-v] N\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	tmpl = make_template();
	if (verbose) {
		printf("from the template:\n");
		one_cell(tmpl, true);
		printf("from a copy of the host's table:\n");
		one_cell(-1, true);
	}
	a = calloc((size_t)n, sizeof(*a));
	b = calloc((size_t)n, sizeof(*b));
	if (!a || !b)
		return 1;
	/* In turns, apart: the namespace a start leaves is torn down before
	 * the next (a copy of a large table takes a while to go). */
	for (int i = 0; i < n; i++) {
		a[i] = one_cell(tmpl, false);
		nanosleep(&pause_between, NULL);
		b[i] = one_cell(-1, false);
		nanosleep(&pause_between, NULL);
	}
	qsort(a, (size_t)n, sizeof(*a), by_value);
	qsort(b, (size_t)n, sizeof(*b), by_value);
	printf("template %.3f copy %.3f\n", a[n / 2], b[n / 2]);
	free(a);
	free(b);
	return 0;
}
