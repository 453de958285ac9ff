// SPDX-License-Identifier: MIT
/*
 * attack: what the escape suite runs inside a cell, as the confined user.
 * Each subcommand tries one thing and prints "NAME: ok" if it worked or
 * "NAME: ERRNO_NAME" (e.g. "chroot: EPERM") if it did not. The suite
 * decides what counts as an escape.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int report(const char *what, long r)
{
	if (r >= 0)
		printf("%s: ok\n", what);
	else
		printf("%s: %s\n", what, strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
	return r >= 0 ? 0 : 1;
}

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static int setid_all(const char *dir)
{
	char f[512], d[512];
	struct open_how { unsigned long long flags, mode, resolve; } how = { O_CREAT | O_WRONLY,
									  04755, 0 };
	int fd, bad = 0;

	snprintf(f, sizeof(f), "%s/setid-file", dir);
	snprintf(d, sizeof(d), "%s/setid-dir", dir);
	fd = open(f, O_CREAT | O_WRONLY, 0755);
	bad |= report("plain-create", fd);	/* control: creating works */
	if (fd >= 0) {
		bad |= report("plain-fchmod", fchmod(fd, 0700));	/* control */
		report("fchmod-suid", fchmod(fd, 04755));
		report("fchmod-sgid", fchmod(fd, 02755));
		close(fd);
	}
	report("chmod-suid", chmod(f, 04755));
	report("fchmodat-suid", fchmodat(AT_FDCWD, f, 04755, 0));
	report("fchmodat2-suid", syscall(SYS_fchmodat2, AT_FDCWD, f, 04755, 0));
	unlink(f);
	fd = open(f, O_CREAT | O_WRONLY | O_EXCL, 04755);
	report("open-creat-suid", fd);
	if (fd >= 0)
		close(fd);
	unlink(f);
	fd = (int)syscall(SYS_openat, AT_FDCWD, f, O_CREAT | O_WRONLY | O_EXCL, 02755);
	report("openat-creat-sgid", fd);
	if (fd >= 0)
		close(fd);
	unlink(f);
	fd = creat(f, 04755);
	report("creat-suid", fd);
	if (fd >= 0)
		close(fd);
	unlink(f);
	fd = open(dir, O_TMPFILE | O_WRONLY, 04755);
	report("tmpfile-suid", fd);
	if (fd >= 0)
		close(fd);
	report("openat2", syscall(SYS_openat2, AT_FDCWD, f, &how, sizeof(how)));
	unlink(f);
	report("mkdir-sgid", mkdir(d, 02755));
	rmdir(d);
	report("mknod-suid", mknod(f, S_IFREG | 04755, 0));
	unlink(f);
	return bad;
}

/* Open ptys until the devpts instance says no; print how many. */
static int ptys(int most)
{
	int n = 0;

	while (n < most) {
		int fd = open("/dev/ptmx", O_RDWR | O_NOCTTY);

		if (fd < 0) {
			printf("ptys: %d, then %s\n", n, strerrorname_np(errno));
			return 0;
		}
		n++;
	}
	printf("ptys: %d, then none refused\n", n);
	return 0;
}

/* The classic: chroot into a subdirectory, climb out with "..", chroot ".". */
static int double_chroot(void)
{
	struct stat before, after;
	long r;

	stat("/", &before);
	mkdir("chroot-escape", 0700);
	r = chroot("chroot-escape");
	report("chroot", r);
	if (r == 0) {
		for (int i = 0; i < 64; i++)
			if (chdir("..") < 0)
				break;
		report("chroot-dot", chroot("."));
	}
	stat("/", &after);
	printf("root: %lu:%lu\n", (unsigned long)after.st_dev, (unsigned long)after.st_ino);
	return 0;
}

static int tiocsti(const char *text, int high)
{
	unsigned long req = TIOCSTI | (high ? 1UL << 32 : 0);
	int fails = 0;

	for (const char *p = text; *p; p++) {
		if (syscall(SYS_ioctl, 0, req, p) < 0) {
			fails = 1;
			break;
		}
	}
	return report(high ? "tiocsti-high" : "tiocsti", fails ? -1 : 0);
}

static int fds(void)
{
	char path[300], target[4096];
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	ssize_t n;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		printf("fd %s -> %s\n", de->d_name, target);
	}
	n = readlink("/proc/self/cwd", target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	printf("cwd -> %s\n", target);
	n = readlink("/proc/self/root", target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	printf("root -> %s\n", target);
	return 0;
}

static int ptrace_pid(pid_t pid)
{
	long r = ptrace(PTRACE_ATTACH, pid, NULL, NULL);

	report("ptrace", r);
	if (r == 0) {
		waitpid(pid, NULL, __WALL);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	}
	return 0;
}

/* For `seconds`, attach to every new process that appears; count the ones
 * that were cellsh (a joining process) and that we managed to attach. */
static int ptrace_watch(int seconds)
{
	time_t end = time(NULL) + seconds;
	int attached_joiner = 0, seen_joiner = 0, attached = 0;
	pid_t self = getpid();

	while (time(NULL) < end) {
		DIR *d = opendir("/proc");
		struct dirent *de;

		while (d && (de = readdir(d))) {
			pid_t pid = atoi(de->d_name);
			char path[64], exe[256];
			ssize_t n;
			int joiner;

			if (pid <= 1 || pid == self)
				continue;
			snprintf(path, sizeof(path), "/proc/%d/exe", pid);
			n = readlink(path, exe, sizeof(exe) - 1);
			exe[n > 0 ? n : 0] = '\0';
			joiner = strstr(exe, "cellsh") != NULL;
			/* Only processes whose exe we cannot read: non-dumpable ones. */
			if (n > 0 && !joiner)
				continue;
			seen_joiner += joiner || n < 0;
			/* SEIZE: no SIGSTOP is left behind if it works. */
			if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) == 0) {
				/* Still the joiner (not yet exec'd into the user's
				 * own, traceable, shell)? Then the attack worked. */
				n = readlink(path, exe, sizeof(exe) - 1);
				exe[n > 0 ? n : 0] = '\0';
				attached++;
				/* (ENOENT: it already exited; that is not a hit.) */
				attached_joiner += (n < 0 && errno != ENOENT) || strstr(exe, "cellsh") != NULL;
				if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) == 0)
					waitpid(pid, NULL, __WALL);
				ptrace(PTRACE_DETACH, pid, NULL, NULL);
			}
		}
		if (d)
			closedir(d);
	}
	printf("ptrace-watch: seen %d non-dumpable or cellsh, attached %d\n", seen_joiner,
	       attached_joiner);
	(void)attached;
	return 0;
}

static int caps(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Cap", 3) || !strncmp(line, "Uid", 3) || !strncmp(line, "NoNewPrivs", 10))
			fputs(line, stdout);
	if (f)
		fclose(f);
	printf("euid: %d\n", (int)geteuid());
	return report("raw-socket", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";
	char buf[64];

	if (!strcmp(c, "chroot"))
		return double_chroot();
	if (!strcmp(c, "tiocsti"))
		return tiocsti(argc > 2 ? argv[2] : "x", 0);
	if (!strcmp(c, "tiocsti-high"))
		return tiocsti(argc > 2 ? argv[2] : "x", 1);
	if (!strcmp(c, "tioclinux")) {
		char sub = 11;	/* TIOCL_GETSHIFTSTATE-ish: any subcode */

		return report("tioclinux", ioctl(0, TIOCLINUX, &sub));
	}
	if (!strcmp(c, "fds"))
		return fds();
	if (!strcmp(c, "ptrace") && argc > 2)
		return ptrace_pid(atoi(argv[2]));
	if (!strcmp(c, "ptrace-watch") && argc > 2)
		return ptrace_watch(atoi(argv[2]));
	if (!strcmp(c, "caps"))
		return caps();
	if (!strcmp(c, "openw") && argc > 2)
		return report("openw", open(argv[2], O_WRONLY));
	if (!strcmp(c, "read") && argc > 2) {
		int fd = open(argv[2], O_RDONLY);
		long r = fd < 0 ? -1 : read(fd, buf, sizeof(buf));

		return report("read", r);
	}
	if (!strcmp(c, "setgroups"))
		return report("setgroups", setgroups(0, NULL));
	if (!strcmp(c, "mount"))
		return report("mount", mount("none", "/tmp", "tmpfs", 0, NULL));
	if (!strcmp(c, "umount"))
		return report("umount", umount2("/proc", MNT_DETACH));
	if (!strcmp(c, "pivot_root"))
		return report("pivot_root", syscall(SYS_pivot_root, "/tmp", "/tmp"));
	if (!strcmp(c, "unshare-user"))
		return report("unshare-user", unshare(CLONE_NEWUSER));
	if (!strcmp(c, "clone-user")) {
		long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);

		if (r == 0)
			_exit(0);
		if (r > 0)
			waitpid((pid_t)r, NULL, 0);
		return report("clone-user", r);
	}
	if (!strcmp(c, "sethostname"))
		return report("sethostname", sethostname("escaped", 7));
	if (!strcmp(c, "kill") && argc > 2)
		return report("kill", kill(atoi(argv[2]), 0));
	if (!strcmp(c, "keyctl"))
		return report("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
	if (!strcmp(c, "add_key"))
		return report("add_key", syscall(SYS_add_key, "user", "cell", "x", 1, KEY_SPEC_PROCESS_KEYRING));
	if (!strcmp(c, "bpf")) {
		union bpf_attr a;

		memset(&a, 0, sizeof(a));
		return report("bpf", syscall(SYS_bpf, BPF_PROG_GET_NEXT_ID, &a, sizeof(a)));
	}
	if (!strcmp(c, "perf_event_open")) {
		struct perf_event_attr a;

		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.type = PERF_TYPE_SOFTWARE;
		a.config = PERF_COUNT_SW_TASK_CLOCK;
		a.exclude_kernel = 1;
		return report("perf_event_open", syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
	}
	if (!strcmp(c, "userfaultfd"))
		return report("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY));
	if (!strcmp(c, "open_by_handle_at"))
		return report("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0));
	if (!strcmp(c, "init_module"))
		return report("init_module", syscall(SYS_init_module, NULL, 0, ""));
	if (!strcmp(c, "kexec_load"))
		return report("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
	if (!strcmp(c, "io_uring_setup"))
		return report("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
	/* Set-id bits by every call that can set them (a path in the home). */
	if (!strcmp(c, "setid") && argc > 2)
		return setid_all(argv[2]);
	if (!strcmp(c, "ptys") && argc > 2)
		return ptys(atoi(argv[2]));
	fprintf(stderr, "attack: unknown or incomplete subcommand '%s'\n", c);
	return 2;
}
