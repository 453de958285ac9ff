// SPDX-License-Identifier: MIT
/*
 * The hand-written minimum a cell costs, as the unprivileged user: one clone
 * with five namespaces (user, mount, pid, uts, ipc), a map write, one bind,
 * proc, pivot_root, then exec true. No checks beyond what the kernel needs.
 *
 *   minimal ROOT    (ROOT: a directory of the user's with empty usr/ proc/
 *                    old/ subdirectories)
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *root;
static int sync_pipe[2];

static int child(void *arg)
{
	char c, path[4096];

	(void)arg;
	if (read(sync_pipe[0], &c, 1) != 1)
		return 1;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(root, root, NULL, MS_BIND, NULL) < 0)
		return 2;
	snprintf(path, sizeof(path), "%s/usr", root);
	if (mount("/usr", path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return 3;
	snprintf(path, sizeof(path), "%s/proc", root);
	if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return 4;
	if (chdir(root) < 0 || syscall(SYS_pivot_root, ".", "old") < 0 ||
	    umount2("old", MNT_DETACH) < 0 || chdir("/") < 0)
		return 5;
	execl("/usr/bin/true", "true", (char *)NULL);
	return 6;
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		exit(7);
	close(fd);
}

int main(int argc, char **argv)
{
	static char stack[256 * 1024];
	char path[64], map[64];
	pid_t pid;
	int st;

	if (argc != 2)
		return 2;
	root = argv[1];
	if (pipe(sync_pipe) < 0)
		return 1;
	pid = clone(child, stack + sizeof(stack), CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID |
		    CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD, NULL);
	if (pid < 0)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/setgroups", pid);
	write_file(path, "deny");
	snprintf(map, sizeof(map), "%u %u 1", getgid(), getgid());
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	write_file(path, map);
	snprintf(map, sizeof(map), "%u %u 1", getuid(), getuid());
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	write_file(path, map);
	if (write(sync_pipe[1], "g", 1) != 1 || waitpid(pid, &st, 0) < 0)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
