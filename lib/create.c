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
 * (cell_create, the part only pam_cell runs, is spawn.c's.) cell-init's
 * first process stays root as the cell's monitor: it
 * writes the maps (cell_write_maps) into its own child, puts it in the
 * cell's cgroups, and later tears the cell down. Everything else runs as
 * the user.
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

int cell_kill(int pidfd, struct cell_err *e)
{
	if (pidfd_send_signal(pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
		return cell_err_sys(e, "killing the cell");
	return 0;
}
