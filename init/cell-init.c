// SPDX-License-Identifier: MIT
/*
 * cell-init: exec'd by pam_cell's child with fd 3 a socket to pam_cell and
 * nothing else open. Privilege phases, once:
 *
 *   root (fresh exec)  -> set the user's groups, gid, uid; prove root is gone
 *   user               -> unshare a user namespace owned by the user; root
 *                         (pam_cell) writes its maps from outside
 *   user, caps in ns   -> clone PID 1 (CLONE_PARENT: a child of the login
 *                         program) into new mnt/uts/ipc/pid/cgroup namespaces;
 *                         PID 1 builds the root fs, sets the hostname, drops
 *                         every capability, becomes joinable, reaps.
 *
 * Nothing here runs with host privilege after the first phase.
 */
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harden.h"
#include "proto.h"
#include "rootfs.h"
#include "util.h"

#define MAX_GROUPS 1024

struct init_args {
	uid_t uid;
	gid_t gid;
	gid_t groups[MAX_GROUPS];
	size_t ngroups;
	const char *home;
	const char *hostname;
	unsigned long long tmpfs;
};

static void __attribute__((noreturn)) fail(const struct cell_err *e)
{
	msg_send(CELL_INIT_FD, MSG_ERROR, e->code, 0, e->msg);
	_exit(1);
}

static int parse_args(int argc, char **argv, struct init_args *a, struct cell_err *e)
{
	unsigned long v;
	int seen = 0;

	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '='), *val;

		if (!eq)
			return cell_err_set(e, EINVAL, "bad argument '%s'", argv[i]);
		val = eq + 1;
		if (strncmp(argv[i], "uid=", 4) == 0 && parse_ulong(val, &v) == 0 && v > 0) {
			a->uid = (uid_t)v, seen |= 1;
		} else if (strncmp(argv[i], "gid=", 4) == 0 && parse_ulong(val, &v) == 0) {
			a->gid = (gid_t)v, seen |= 2;
		} else if (strncmp(argv[i], "groups=", 7) == 0) {
			char *save = NULL;

			for (char *g = strtok_r(val, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
				if (a->ngroups >= MAX_GROUPS || parse_ulong(g, &v) < 0)
					return cell_err_set(e, EINVAL, "bad group list");
				a->groups[a->ngroups++] = (gid_t)v;
			}
			seen |= 4;
		} else if (strncmp(argv[i], "home=", 5) == 0) {
			a->home = val, seen |= 8;
		} else if (strncmp(argv[i], "hostname=", 9) == 0) {
			a->hostname = val, seen |= 16;
		} else if (strncmp(argv[i], "tmpfs=", 6) == 0 && parse_size(val, &a->tmpfs) == 0) {
			seen |= 32;
		} else {
			return cell_err_set(e, EINVAL, "bad argument '%s'", argv[i]);
		}
	}
	if (seen != 63)
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
	struct rootfs_spec rs = { .home = a->home, .uid = a->uid, .tmpfs_size = a->tmpfs };
	struct cell_err e = { 0 };

	/* A clone does not inherit it: die with the login program from the
	 * start, also if pam_cell gives up while the root is being built. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (rootfs_build_host(&rs, &e) < 0)
		fail(&e);
	if (sethostname(a->hostname, strlen(a->hostname)) < 0) {
		cell_err_sys(&e, "sethostname");
		fail(&e);
	}
	if (harden_drop_caps(&e) < 0)
		fail(&e);
	/* Joinable from now on: setns needs a dumpable target. Safe: this
	 * process was exec'd fresh and holds no capability any more. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) {
		cell_err_sys(&e, "PR_SET_DUMPABLE");
		fail(&e);
	}
	/* Again, in case a credential change cleared it. If the login program
	 * is already gone, the send below fails and PID 1 exits. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (msg_send(CELL_INIT_FD, MSG_READY, 0, 0, NULL) < 0)
		_exit(1);
	close(CELL_INIT_FD);
	reap_forever();
}

int main(int argc, char **argv)
{
	struct init_args a = { 0 };
	struct cell_err e = { 0 };
	struct cell_msg m;
	struct stat st;
	pid_t pid1;

	/* Only pam_cell starts this: as root, with the socket on fd 3. */
	if (geteuid() != 0 || fstat(CELL_INIT_FD, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "cell-init: started by pam_cell.so only; not a command\n");
		return 2;
	}
	close_range(CELL_INIT_FD + 1, ~0U, 0);
	if (parse_args(argc, argv, &a, &e) < 0 || drop_to_user(&a, &e) < 0)
		fail(&e);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

	if (unshare(CLONE_NEWUSER) < 0) {
		cell_err_sys(&e, "unshare(CLONE_NEWUSER) (are user namespaces enabled? "
			     "see user.max_user_namespaces)");
		fail(&e);
	}
	if (msg_send(CELL_INIT_FD, MSG_USERNS, 0, 0, NULL) < 0)
		_exit(1);
	if (msg_recv(CELL_INIT_FD, &m, now_ms() + 60000, &e) < 0 || m.type != MSG_GO)
		_exit(1);	/* pam_cell gave up: it reports the reason */

	/* CLONE_PARENT: PID 1 is the login program's child, not ours. */
	pid1 = (pid_t)syscall(SYS_clone, CLONE_PARENT | CLONE_NEWNS | CLONE_NEWUTS |
				  CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWCGROUP,
			      NULL, NULL, NULL, 0);
	if (pid1 < 0) {
		cell_err_sys(&e, "clone of the cell's PID 1");
		fail(&e);
	}
	if (pid1 == 0)
		run_pid1(&a);
	msg_send(CELL_INIT_FD, MSG_PID, 0, pid1, NULL);
	return 0;
}
