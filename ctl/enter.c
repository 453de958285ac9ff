// SPDX-License-Identifier: MIT
/*
 * cellctl enter: root runs a shell or a command in a live cell, as the
 * cell's user (default) or as the cell's uid 0 (--root), with what cellsh
 * gives a login and nothing of the host:
 *   - the cell is verified (record, PID 1 pinned by a pidfd, namespaces);
 *   - we go into the cell's cgroup first (its limits count us);
 *   - root's supplementary groups go before the join (a cell has
 *     setgroups=deny: they could not be dropped inside);
 *   - every namespace, user first; then in a child: every capability gone,
 *     the in-cell ids proved final, only fds 0-2, the profile's rlimits, a
 *     clean environment, the seccomp filter, exec;
 *   - on a terminal, the child gets a new terminal from the cell's own
 *     devpts, and we relay to it: the admin's terminal is never an fd inside
 *     the cell (a process there could otherwise write to it or, as the same
 *     uid, take it over).
 * The relaying parent stays outside the cell's pid namespace, holds no
 * capability and is not dumpable.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "ctl.h"
#include "env.h"
#include "harden.h"
#include "join.h"
#include "pty.h"
#include "sandbox.h"
#include "util.h"

extern char **environ;

/* A record names one cell; a user may have several. */
static struct cell_record pick(const char *what)
{
	struct cell_record *v, r;
	size_t n = ctl_cells(what, &v);

	if (n == 0)
		ctl_die(EXIT_PROBLEM,
			"no live cell is '%s' or belongs to a user '%s' (cellctl list)", what,
			what);
	if (n > 1 && !cell_id_valid(what)) {
		ctl_warn("user %s has %zu live cells; name one:", what, n);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "  %s  %s %s\n", v[i].id, v[i].service, v[i].tty);
		exit(EXIT_PROBLEM);
	}
	r = v[0];
	free(v);
	return r;
}

static void join_cgroup(const struct cell_record *r)
{
	struct ctl_cgroup cg;
	char pid[24], path[600];

	if (ctl_cell_cgroup(r, &cg) < 0)
		ctl_die(EXIT_PROBLEM, "cell %s: cannot find its cgroup", r->id);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	for (int i = 0; i < cg.n; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/cgroup.procs", cg.dir[i]);
		fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 || write_all(fd, pid, strlen(pid)) < 0)
			ctl_die(EXIT_PROBLEM, "cell %s: moving into %s: %s", r->id, path,
				strerror(errno));
		close(fd);
	}
}

static void __attribute__((noreturn))
child(const struct cell_record *r, bool root, struct cell_pty *pty, char **cmd)
{
	const char *base = strrchr(r->shell, '/') ? strrchr(r->shell, '/') + 1 : r->shell;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	uid_t uid = root ? 0 : (uid_t)r->inside_uid;
	gid_t gid = root ? 0 : (gid_t)r->inside_gid;
	struct sb_rlimit rl[SB_NRLIMITS];
	struct cell_err e = { 0 };
	char arg0[300], **env, *shell[2];

	sigset_t none;

	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (pty && pty_attach(pty, &e) < 0)
		ctl_die(EXIT_PROBLEM, "%s", e.msg);
	/* We are host root, unmapped in the cell: take the in-cell ids with the
	 * cell's CAP_SETUID/CAP_SETGID, then drop every capability and prove
	 * the ids final (harden_become_user with the same ids). */
	if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
		if (root)
			ctl_die(EXIT_PROBLEM,
				"cell %s has no uid 0 to enter as (identity = self maps only the "
				"user): %s",
				r->id, strerror(errno));
		ctl_die(EXIT_PROBLEM, "taking uid %u in cell %s: %s", (unsigned)uid, r->id,
			strerror(errno));
	}
	if (harden_drop_caps(&e) < 0)
		ctl_die(EXIT_PROBLEM, "%s", e.msg);
	if (harden_become_user(uid, gid, NULL, 0, true, &e) < 0) {
		if (root)
			ctl_die(EXIT_PROBLEM,
				"cell %s has no uid 0 to enter as (identity = self maps only "
				"the user): %s",
				r->id, e.msg);
		ctl_die(EXIT_PROBLEM, "%s", e.msg);
	}
	if (close_range(3, ~0U, 0) < 0)
		ctl_die(EXIT_PROBLEM, "close_range: %s", strerror(errno));
	if ((root || chdir(r->home) < 0) && chdir("/") < 0)
		ctl_die(EXIT_PROBLEM, "chdir: %s", strerror(errno));
	if (sb_rlimits_parse(r->rlimits, rl) < 0 || sb_rlimits_apply(rl, &e) < 0)
		ctl_die(EXIT_PROBLEM, "cell %s: its rlimits: %s", r->id, e.msg);
	/* The admin's own environment stays out: the allow-list mode. */
	env = env_build(environ,
			&(struct env_own){ .user = root ? "root" : r->user,
					   .home = root ? "/" : r->home,
					   .shell = r->shell,
					   .path = r->path,
					   .cell_id = r->id },
			NULL);
	if (!env)
		ctl_die(EXIT_PROBLEM, "out of memory");
	if (!cmd) {
		snprintf(arg0, sizeof(arg0), "-%s", base);
		shell[0] = arg0;
		shell[1] = NULL;
	}
	if (sb_seccomp_load(r->seccomp_allow, r->seccomp_deny, &e) < 0)
		ctl_die(EXIT_PROBLEM, "%s", e.msg);
	if (cmd)
		execvpe(cmd[0], cmd, env);
	else
		execve(r->shell, shell, env);
	ctl_die(127, "cannot run %s in cell %s: %s", cmd ? cmd[0] : r->shell, r->id,
		strerror(errno));
}

int cmd_enter(struct ctl *c, int argc, char **argv)
{
	const char *what = NULL;
	char **cmd = NULL;
	struct cell_err e = { 0 };
	struct cell_record r;
	struct cell_join j;
	bool root = false, tty;
	struct cell_pty pty = { -1, -1, "" };
	int status = 0;
	gid_t groups[256];
	int ngroups = (int)ARRAY_SIZE(groups);
	pid_t pid;

	(void)c;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--root") == 0)
			root = true;
		else if (strcmp(argv[i], "--") == 0 && i + 1 < argc) {
			cmd = argv + i + 1;
			break;
		} else if (argv[i][0] != '-' && !what)
			what = argv[i];
		else
			ctl_die(EXIT_USAGE,
				"usage: cellctl enter CELL|USER [--root] [-- COMMAND [ARG...]]");
	}
	if (!what)
		ctl_die(EXIT_USAGE,
			"usage: cellctl enter CELL|USER [--root] [-- COMMAND [ARG...]]");
	/* Nothing in the cell may trace us while we hold its capabilities. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		ctl_die(EXIT_PROBLEM, "PR_SET_DUMPABLE: %s", strerror(errno));
	r = pick(what);
	if (cell_verify(&r, r.uid, &j, &e) < 0)
		ctl_die(EXIT_PROBLEM, "%s", e.msg);
	join_cgroup(&r);
	/* The user's own groups (as cellsh has them), or none for --root. */
	if (root)
		ngroups = 0;
	else if (getgrouplist(r.user, r.gid, groups, &ngroups) < 0)
		ctl_die(EXIT_PROBLEM, "user %s is in more than %zu groups", r.user,
			ARRAY_SIZE(groups));
	if (setgroups((size_t)ngroups, groups) < 0 || setresgid(r.gid, r.gid, r.gid) < 0)
		ctl_die(EXIT_PROBLEM, "setting the groups of %s: %s", r.user, strerror(errno));
	if (cell_enter(&j, &e) < 0)
		ctl_die(EXIT_PROBLEM, "%s", e.msg);
	tty = isatty(0);
	/* The cell's own devpts: we are in its mount namespace now. */
	if (tty && pty_open(&pty, &e) < 0)
		ctl_die(EXIT_PROBLEM, "cell %s: %s", r.id, e.msg);
	if (tty)
		pty_block_signals();
	pid = fork();
	if (pid < 0)
		ctl_die(EXIT_PROBLEM, "fork: %s", strerror(errno));
	if (pid == 0)
		child(&r, root, tty ? &pty : NULL, cmd);
	cell_join_close(&j);
	if (harden_drop_caps(&e) < 0) {
		kill(pid, SIGKILL);
		ctl_die(EXIT_PROBLEM, "%s", e.msg);
	}
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	if (tty)
		pty_relay(&pty, pid, false, &status);
	else
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : EXIT_PROBLEM;
}
