// SPDX-License-Identifier: MIT
/*
 * The proc views' server from root's side (a cell's monitor): make sure
 * cell-procfs serves /run/cell/procfs, and hand out a clone of its mount.
 * Run as root in the host's namespaces, under lock-procfs so that two
 * monitors never start two servers.
 */
#include "procmount.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry.h"
#include "util.h"

#define PROCFS_DIR     CELL_RUN_DIR "/procfs"
#define FUSE_MAGIC     0x65735546
#define PROCFS_LOCK_MS 10000

/* Served, and answering? statfs of a FUSE mount goes to its server: a dead
 * one answers ENOTCONN at once. */
static bool serving(void)
{
	struct statfs sf;

	return statfs(PROCFS_DIR, &sf) == 0 && sf.f_type == FUSE_MAGIC;
}

/* cell-procfs beside the running cell-init (cell.conf's cell_init may put
 * it anywhere root trusts), opened with every directory checked. */
static int open_server(struct cell_err *e)
{
	char self[PATH_MAX], path[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return cell_err_sys(e, "finding cell-init's own path");
	self[n] = '\0';
	snprintf(path, sizeof(path), "%s/cell-procfs", dirname(self));
	return open_trusted_path(path, false, e);
}

/* Mount a new connection and start the server on it; its pid in *pid. */
static int start(int exe, pid_t *pid, struct cell_err *e)
{
	_cleanup_close_ int fuse = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	char opts[128];
	int p[2];
	pid_t child;

	if (fuse < 0)
		return cell_err_sys(e, "opening /dev/fuse (load the fuse module, or set "
				       "proc_views = no)");
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other", fuse);
	/* Root's directory below root's /run/cell: nothing of a user's in the path. */
	if (mkdir(PROCFS_DIR, 0755) < 0 && errno != EEXIST)
		return cell_err_sys(e, "creating %s", PROCFS_DIR);
	if (mount("cell-procfs", PROCFS_DIR, "fuse.cell-procfs",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, opts) < 0)
		return cell_err_sys(e, "mounting %s", PROCFS_DIR);
	if (pipe2(p, O_CLOEXEC) < 0) {
		cell_err_sys(e, "pipe2");
		umount2(PROCFS_DIR, MNT_DETACH);
		return -1;
	}
	child = fork();
	if (child < 0) {
		cell_err_sys(e, "fork");
		close(p[0]);
		close(p[1]);
		umount2(PROCFS_DIR, MNT_DETACH);
		return -1;
	}
	if (child == 0) {
		static char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
		static char *const envp[] = { path_env, NULL };
		static char arg0[] = "cell-procfs";
		static char *const argv[] = { arg0, NULL };
		pid_t server;

		/* Out of the monitor's session, and not its child: it outlives
		 * the cell. */
		setsid();
		server = fork();
		if (server != 0) {
			(void)!write(p[1], &server, sizeof(server));
			_exit(server < 0);
		}
		if (child_std_fds(-1, fuse) < 0)
			_exit(127);
		syscall(SYS_execveat, exe, "", argv, envp, AT_EMPTY_PATH);
		_exit(127);
	}
	close(p[1]);
	if (read(p[0], pid, sizeof(*pid)) != sizeof(*pid))
		*pid = 0;
	close(p[0]);
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
	if (*pid <= 0) {
		umount2(PROCFS_DIR, MNT_DETACH);
		return cell_err_set(e, ECHILD, "cell-procfs did not start");
	}
	return 0;
}

int procview_mount(struct cell_err *e)
{
	_cleanup_close_ int lock = -1, exe = -1;
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
					     MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC };
	int clone;

	lock = registry_lock("lock-procfs", PROCFS_LOCK_MS, e);
	if (lock < 0)
		return cell_err_prefix(e, "proc views: ");
	if (!serving()) {
		pid_t pid;

		/* A server that died leaves its mount behind: out with it. */
		umount2(PROCFS_DIR, MNT_DETACH);
		exe = open_server(e);
		if (exe < 0 || start(exe, &pid, e) < 0)
			return cell_err_prefix(e, "proc views: ");
		/* It answers once it is set up (under systemd: in a scope of its
		 * own, which it asks for first, not the cell's, which ends with
		 * the cell); statfs waits for that, or fails if it died. */
		if (!serving()) {
			kill(pid, SIGKILL);
			umount2(PROCFS_DIR, MNT_DETACH);
			return cell_err_set(
				e, ECHILD,
				"proc views: cell-procfs stopped before serving: its "
				"reason is in the system log (journalctl -t cell-procfs, "
				"or /var/log/syslog)");
		}
	}
	/* A clone for the cell's PID 1 to take its files from. */
	clone = open_tree(AT_FDCWD, PROCFS_DIR, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (clone < 0 || mount_setattr(clone, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0) {
		cell_err_sys(e, "proc views: cloning %s", PROCFS_DIR);
		if (clone >= 0)
			close(clone);
		return -1;
	}
	return clone;
}
