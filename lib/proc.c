// SPDX-License-Identifier: MIT
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "util.h"

const char *const ns_names[NS_COUNT] = {
	"user", "mnt", "pid", "uts", "ipc", "cgroup", "time", "net"
};
const int ns_clone_flags[NS_COUNT] = { CLONE_NEWUSER, CLONE_NEWNS,     CLONE_NEWPID,  CLONE_NEWUTS,
				       CLONE_NEWIPC,  CLONE_NEWCGROUP, CLONE_NEWTIME, CLONE_NEWNET };

#define PROC_ROOT_INO 1

int proc_open_root(struct cell_err *e)
{
	_cleanup_close_ int fd = open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct statfs sfs;
	struct stat st;

	if (fd < 0)
		return cell_err_sys(e, "opening /proc");
	/* Not something mounted over /proc: the root inode of a real procfs. */
	if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0)
		return cell_err_sys(e, "fstat /proc");
	if (sfs.f_type != PROC_SUPER_MAGIC || st.st_ino != PROC_ROOT_INO)
		return cell_err_set(e, EPERM, "/proc is not the root of a procfs mount");
	return steal_fd(&fd);
}

int proc_open_pid(int procfd, pid_t pid, struct cell_err *e)
{
	char name[24];
	int fd;

	snprintf(name, sizeof(name), "%d", (int)pid);
	fd = openat(procfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cell_err_sys(e, "opening /proc/%d", (int)pid);
	return fd;
}

int proc_stat(int piddir, pid_t *ppid, unsigned long long *starttime, struct cell_err *e)
{
	char buf[1024], *p;
	int field;

	if (read_small_at(piddir, "stat", buf, sizeof(buf), e) < 0)
		return -1;
	/* comm may hold spaces and ')': fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return cell_err_set(e, EINVAL, "malformed /proc/PID/stat");
	p++;
	for (field = 3; p && *p; field++) {
		while (*p == ' ')
			p++;
		if (field == 4)
			*ppid = (pid_t)strtol(p, NULL, 10);
		if (field == 22) {
			*starttime = strtoull(p, NULL, 10);
			return 0;
		}
		p = strchr(p, ' ');
	}
	return cell_err_set(e, EINVAL, "malformed /proc/PID/stat");
}

int proc_uid(int piddir, uid_t *uid, struct cell_err *e)
{
	char buf[4096], *p;

	if (read_small_at(piddir, "status", buf, sizeof(buf), e) < 0)
		return -1;
	p = strstr(buf, "\nUid:");
	if (!p)
		return cell_err_set(e, EINVAL, "no Uid line in /proc/PID/status");
	*uid = (uid_t)strtoul(p + 5, NULL, 10); /* the real uid comes first */
	return 0;
}

int proc_all_uids(int piddir, uid_t uid, struct cell_err *e)
{
	char buf[4096], *p;
	unsigned long ids[4];

	if (read_small_at(piddir, "status", buf, sizeof(buf), e) < 0)
		return -1;
	p = strstr(buf, "\nUid:");
	if (!p || sscanf(p + 5, "%lu %lu %lu %lu", &ids[0], &ids[1], &ids[2], &ids[3]) != 4)
		return cell_err_set(e, EINVAL, "no Uid line in /proc/PID/status");
	for (int i = 0; i < 4; i++)
		if (ids[i] != (unsigned long)uid)
			return cell_err_set(e, EPERM, "the process does not run as uid %u alone",
					    (unsigned)uid);
	return 0;
}

int proc_ns_inodes(int piddir, unsigned long ino[NS_COUNT], struct cell_err *e)
{
	char name[32];
	struct stat st;

	for (int i = 0; i < NS_COUNT; i++) {
		snprintf(name, sizeof(name), "ns/%s", ns_names[i]);
		if (fstatat(piddir, name, &st, 0) < 0)
			return cell_err_sys(e, "stat /proc/PID/%s", name);
		ino[i] = (unsigned long)st.st_ino;
	}
	return 0;
}

int pidfd_alive(int pidfd)
{
	return pidfd_send_signal(pidfd, 0, NULL, 0) == 0;
}

int proc_pin(int procfd, pid_t pid, unsigned long long starttime, int *piddir, struct cell_err *e)
{
	_cleanup_close_ int pidfd = -1, dir = -1;
	unsigned long long start = 0;
	pid_t ppid;

	if (pid <= 1)
		return cell_err_set(e, EINVAL, "pid %d is not a recorded process", (int)pid);
	/* pidfd first: whatever /proc says next is about this process if it
	 * is still alive afterwards. */
	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0)
		return cell_err_sys(e, "process %d is gone", (int)pid);
	dir = proc_open_pid(procfd, pid, e);
	if (dir < 0 || proc_stat(dir, &ppid, &start, e) < 0) {
		if (!pidfd_alive(pidfd))
			e->code = ESRCH; /* it died meanwhile */
		return -1;
	}
	if (start != starttime)
		return cell_err_set(e, ESRCH, "pid %d is another process now (recycled pid)",
				    (int)pid);
	if (!pidfd_alive(pidfd))
		return cell_err_set(e, ESRCH, "process %d ended", (int)pid);
	if (piddir)
		*piddir = steal_fd(&dir);
	return steal_fd(&pidfd);
}
