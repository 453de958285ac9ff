// SPDX-License-Identifier: MIT
/*
 * cellsh: the login shell of confined users. Not setuid, no file
 * capabilities. It finds the session's cell (CELL_ID from pam_cell), verifies
 * it, joins every namespace and execs the profile's shell inside with no
 * privilege left. Without a valid cell it gives no shell at all.
 *
 *   cellsh                   interactive (login shell if argv[0] starts with '-')
 *   cellsh -l                login shell
 *   cellsh -c COMMAND [ARG0 [ARG...]]   COMMAND passed verbatim
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "env.h"
#include "harden.h"
#include "join.h"
#include "net.h"
#include "pty.h"
#include "sandbox.h"
#include "timing.h"
#include "util.h"

#define EXIT_NO_CELL 126

static pid_t child_pid;
static struct cell_pty pty = { -1, -1, "" }; /* on a terminal: the cell's own */
/* Set by the shell's child, on memory it shares with the stopped parent
 * (CLONE_VM), which clears it once the child has exec'd or exited. */
static bool in_child;

static void __attribute__((noreturn)) die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("cellsh: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	/* The child must not run the parent's exit handlers on shared memory. */
	if (in_child)
		_exit(EXIT_NO_CELL);
	exit(EXIT_NO_CELL);
}

/* The profile's filter from the per-profile cache (sandbox.h), read
 * before entering the cell (its /run/cell is not the host's); none: the
 * child compiles it. */
static struct sb_filter filter;

static void forward(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

/* In the cell's mount namespace: does path exist there? */
static bool visible(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* In the shell's child, already inside every namespace. */
static void __attribute__((noreturn))
run_shell(const struct cell_join *j, int argc, char **argv, int cmd_index, bool login)
{
	const struct cell_record *r = &j->rec;
	const char *base = strrchr(r->shell, '/') ? strrchr(r->shell, '/') + 1 : r->shell;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	char arg0[300], **args, **env;
	struct sb_rlimit rl[SB_NRLIMITS];
	struct cell_err e = { 0 };
	/* Our own copy: pty_attach clears what it closes, and the parent,
	 * whose memory this is, still relays through its master. */
	struct cell_pty mine = pty;
	char pty_name[sizeof(pty.name)];
	int n = 0;

	snprintf(pty_name, sizeof(pty_name), "%s", pty.name);

	sigset_t none;

	timing_mark("fork");
	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (mine.master >= 0 && pty_attach(&mine, &e) < 0)
		die("%s", e.msg);
	/* setns gave us every capability in the cell: drop them, then take the
	 * in-cell ids (the ones we already have) and prove they are final. */
	if (cell_root_keeps_caps(r)) {
		if (harden_userns_root(&e) < 0)
			die("%s", e.msg);
	} else if (harden_drop_caps(&e) < 0 ||
		   harden_become_user((uid_t)r->inside_uid, (gid_t)r->inside_gid, NULL, 0, true,
				      &e) < 0) {
		die("%s", e.msg);
	}
	/* Only fds 0-2 reach the shell. */
	if (close_range(3, ~0U, 0) < 0)
		die("close_range: %s", strerror(errno));
	if (chdir(r->home) < 0 && chdir("/") < 0)
		die("chdir: %s", strerror(errno));
	if (sb_rlimits_parse(r->rlimits, rl) < 0)
		die("cell %s: malformed rlimits in its record", r->id);
	if (sb_rlimits_apply(rl, &e) < 0)
		die("%s", e.msg);

	args = calloc((size_t)argc + 3, sizeof(*args));
	if (!args)
		die("out of memory");
	snprintf(arg0, sizeof(arg0), "%s%s", login ? "-" : "", base);
	args[n++] = arg0;
	if (cmd_index > 0) {
		static char dash_c[] = "-c";

		args[n++] = dash_c;
		for (int i = cmd_index; i < argc; i++)
			args[n++] = argv[i]; /* verbatim */
	}
	args[n] = NULL;
	env = env_build(environ,
			&(struct env_own){ .user = r->user,
					   .home = r->home,
					   .shell = r->shell,
					   .path = r->path,
					   .cell_id = r->id,
					   .tty = pty_name[0] ? pty_name : NULL },
			&(struct env_rules){ .keep = r->env_keep,
					     .deny = r->env_deny,
					     .set = r->env_set,
					     .visible = visible });
	if (!env)
		die("out of memory");
	/* net = host shares the host's abstract unix sockets (D-Bus, X11,
	 * systemd, container runtimes: scoped by network namespace, not by
	 * mount): this session may reach none made outside it. */
	if (r->landlock && strcmp(r->net, "host") == 0 && net_landlock_scope(&e) < 0)
		die("%s", e.msg);
	timing_mark("setup");
	/* Last: after it, only the exec. */
	if ((filter.prog ? sb_seccomp_load_prog(&filter, &e)
			 : sb_seccomp_load(r->seccomp_allow, r->seccomp_deny, &e)) < 0)
		die("%s", e.msg);
	timing_mark("seccomp");
	if (cell_timing.on)
		dprintf(2, "cell timing cellsh %s\n", cell_timing.text);
	execve(r->shell, args, env);
	die("cannot run %s in the cell: %s", r->shell, strerror(errno));
}

/*
 * The shell's process: clone_vfork (util.h), as lib/spawn.c starts
 * cell-init: the child shares our memory and we are stopped until its
 * exec (or _exit), so no page table is copied (a fork's copy and its
 * undoing at the exec cost about 1 ms of every join on a paravirtualised
 * host). cellsh is single-threaded and nothing runs
 * here while the child does; what the child allocates stays allocated in
 * our heap (a few KiB, until we exit). Credentials, capabilities, the
 * seccomp filter, rlimits, signal dispositions and fds are per process
 * (no CLONE_THREAD, CLONE_SIGHAND, CLONE_FILES): the child's drop is its
 * own. Nothing in the cell can trace it meanwhile: the memory is not
 * dumpable (PR_SET_DUMPABLE 0 in main), and its owner is the host's user
 * namespace.
 */
struct shell_ctx {
	const struct cell_join *j;
	int argc;
	char **argv;
	int cmd_index;
	bool login;
};

static int shell_child(void *arg)
{
	const struct shell_ctx *c = arg;

	in_child = true;
	run_shell(c->j, c->argc, c->argv, c->cmd_index, c->login);
}

static int relay_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		struct rlimit no_core = { 0, 0 };

		/* Die the same way, so the caller (sshd) reports the signal. */
		setrlimit(RLIMIT_CORE, &no_core);
		signal(sig, SIG_DFL);
		raise(sig);
		return 128 + sig;
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct cellsh_args args;
	struct cell_err e = { 0 };
	struct cell_join j;
	const char *id;
	char why[200];
	int status;

	timing_start(getenv("CELL_TIMING") && strcmp(getenv("CELL_TIMING"), "1") == 0, 0);
	if (cellsh_parse_args(argc, argv, &args, why, sizeof(why)) < 0)
		die("%s", why);
	if (args.version) {
		printf("cellsh %s\n", CELL_VERSION);
		return 0;
	}

	id = getenv("CELL_ID");
	if ((!id || !*id) && getenv("CELL_WHY"))
		die("this session has no cell: %.600s. cellsh is the login shell of confined "
		    "users and gives no shell outside a cell: ask the admin to confine this "
		    "user (cell.conf(5)), or to give them an ordinary shell with chsh",
		    getenv("CELL_WHY"));
	if (!id || !*id)
		die("this session has no cell (CELL_ID is not set). cellsh is the login "
		    "shell of users confined by pam_cell.so: log in through a PAM service "
		    "with 'session required pam_cell.so' (see cell.conf(5)), or give this "
		    "user an ordinary shell with chsh");
	/* Nothing inside the cell may trace us while we hold its capabilities. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die("PR_SET_DUMPABLE: %s", strerror(errno));
	if (cell_open(id, getuid(), &j, &e) < 0)
		die("refusing to join: %s", e.msg);
	timing_mark("open");
	/* Into the cell's cgroup first: the shell is forked from here. */
	if (cell_join_cgroup(id, &e) < 0)
		die("refusing to run outside the cell's cgroup: %s", e.msg);
	timing_mark("cgroup");
	{
		/* Root's directory, every component checked, as the record's. */
		_cleanup_close_ int run = open_trusted_path(CELL_RUN_DIR, true, &e);

		if (run < 0 || sb_seccomp_cached(run, j.rec.seccomp_allow, j.rec.seccomp_deny,
						 &filter, &e) < 0)
			die("%s", e.msg);
	}
	timing_mark("filter");
	if (cell_enter(&j, &e) < 0)
		die("%s", e.msg);
	timing_mark("enter");
	/* On a terminal, the shell gets one of the cell's devpts (ttyname()
	 * works inside, the outer pty is never an fd in the cell) and we relay. */
	if (isatty(0)) {
		if (pty_open(&pty, &e) < 0)
			die("%s", e.msg);
		pty_block_signals();
	}

	child_pid = clone_vfork(shell_child,
				&(struct shell_ctx){ .j = &j,
						     .argc = argc,
						     .argv = argv,
						     .cmd_index = args.cmd_index,
						     .login = args.login },
				512 * 1024);
	in_child = false;
	if (child_pid < 0) {
		int err = errno;

		die("starting the shell's process: %s%s", strerror(err),
		    err == EAGAIN ? " (the cell has as many processes as its profile's "
				    "pids_max in cell.conf allows, or the user as many as "
				    "their RLIMIT_NPROC: end some, or ask the admin to "
				    "raise the limit)"
				  : "");
	}

	/* The parent stays outside the cell's pid namespace only to relay. */
	cell_join_close(&j);
	if (harden_drop_caps(&e) < 0) {
		kill(child_pid, SIGKILL);
		die("%s", e.msg);
	}
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	if (pty.master >= 0) {
		pty_relay(&pty, child_pid, true, &status);
		return relay_status(status);
	}
	signal(SIGHUP, forward);
	signal(SIGTERM, forward);
	signal(SIGCONT, forward);
	while (waitpid(child_pid, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	}
	return relay_status(status);
}
