// SPDX-License-Identifier: MIT
/*
 * bench driver, run as root: the PAM session stack of SERVICE for USER, the
 * way a login program drives it.
 *
 *   driver run  SERVICE USER N CELLSH   N times: open the session, run
 *                                       "CELLSH -c true" as the user with the
 *                                       session's environment, close it;
 *                                       prints one line per run: milliseconds
 *   driver timing SERVICE USER N CELLSH as run, with pam_cell's "timing" in
 *                                       SERVICE and CELL_TIMING=1 for cellsh:
 *                                       prints "PHASE MS" lines per run, the
 *                                       phases of one start in order
 *   driver netns N                      N times: a child times its own
 *                                       unshare(CLONE_NEWNET), the kernel's
 *                                       cost of a network namespace; prints
 *                                       milliseconds per run
 *   driver hold SERVICE USER N          open N sessions (N cells) and keep
 *                                       them; print "ready SECONDS" and wait
 *                                       for a line on stdin; close all and
 *                                       print "closed SECONDS"
 */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* pam_cell's timing lines (PAM info messages), kept by conv. */
static char timing_pam[700], timing_monitor[700], timing_pid1[700];

static int conv(int n, const struct pam_message **m, struct pam_response **r, void *d)
{
	(void)d;
	for (int i = 0; i < n; i++) {
		const char *t = m[i]->msg;

		if (m[i]->msg_style != PAM_TEXT_INFO || !t)
			continue;
		if (strncmp(t, "cell timing pam_cell ", 21) == 0)
			snprintf(timing_pam, sizeof(timing_pam), "%s", t + 21);
		else if (strncmp(t, "cell timing monitor ", 20) == 0)
			snprintf(timing_monitor, sizeof(timing_monitor), "%s", t + 20);
		else if (strncmp(t, "cell timing pid1 ", 17) == 0)
			snprintf(timing_pid1, sizeof(timing_pid1), "%s", t + 17);
	}
	*r = calloc((size_t)n, sizeof(**r));
	return *r ? PAM_SUCCESS : PAM_BUF_ERR;
}

static pam_handle_t *open_one(const char *service, const char *user)
{
	struct pam_conv c = { conv, NULL };
	pam_handle_t *h = NULL;
	int r;

	if (pam_start(service, user, &c, &h) != PAM_SUCCESS)
		return NULL;
	r = pam_open_session(h, 0);
	if (r != PAM_SUCCESS) {
		fprintf(stderr, "driver: pam_open_session: %s\n", pam_strerror(h, r));
		pam_end(h, r);
		return NULL;
	}
	return h;
}

static void close_one(pam_handle_t *h)
{
	pam_end(h, pam_close_session(h, 0));
}

/* cellsh -c true as the user; with err_fd >= 0, CELL_TIMING=1 and its
 * standard error to err_fd. */
static int run_true(pam_handle_t *h, const struct passwd *pw, const char *cellsh, int err_fd)
{
	pid_t p = fork();
	int st;

	if (p == 0) {
		if (err_fd >= 0 && (pam_putenv(h, "CELL_TIMING=1") != PAM_SUCCESS ||
				    dup2(err_fd, 2) < 0))
			_exit(127);
		char **env = pam_getenvlist(h);

		if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
		    setuid(pw->pw_uid) < 0 || chdir(pw->pw_dir) < 0)
			_exit(127);
		execle(cellsh, "cellsh", "-c", "true", (char *)NULL, env);
		_exit(127);
	}
	if (p < 0 || waitpid(p, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* "@START a=MS b=MS ...": START (ns) into *start and, if mark is one of
 * the phases, the time (ns) its mark was taken into *at_mark; each phase
 * printed with prefix. Returns the time of the last mark (ns), or -1. */
static double print_phases(const char *prefix, const char *text, const char *mark,
			   double *start, double *at_mark)
{
	char copy[700], *save = NULL, *t;
	double at;

	snprintf(copy, sizeof(copy), "%s", text);
	t = strtok_r(copy, " ", &save);
	if (!t || t[0] != '@')
		return -1;
	*start = at = atof(t + 1);
	while ((t = strtok_r(NULL, " ", &save))) {
		char *eq = strchr(t, '=');

		if (!eq)
			continue;
		*eq = '\0';
		printf("%s%s %s\n", prefix, t, eq + 1);
		at += atof(eq + 1) * 1e6;
		if (mark && at_mark && strcmp(t, mark) == 0)
			*at_mark = at;
	}
	return at;
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* One start, timed inside: every phase from pam_open_session to the
 * session's close, in the order they happen. */
static int timing_run(const char *service, const struct passwd *pw, const char *cellsh)
{
	double t0, t1, t2, t3, t4, pam_start, pam_end, spawn = 0, mon_start, mon_end, go = 0,
		pid1_start, sh_start, sh_end;
	char err[1024] = "";
	pam_handle_t *h;
	int p[2], r;
	ssize_t n;

	timing_pam[0] = timing_monitor[0] = timing_pid1[0] = '\0';
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	t0 = now_ns();
	h = open_one(service, pw->pw_name);
	t1 = now_ns();
	if (!h || !*timing_pam || !*timing_monitor || !*timing_pid1) {
		fprintf(stderr, "driver: no timing from pam_cell (is 'timing' in its line?)\n");
		return -1;
	}
	t2 = now_ns();
	r = run_true(h, pw, cellsh, p[1]);
	t3 = now_ns();
	close(p[1]);
	n = read(p[0], err, sizeof(err) - 1);
	close(p[0]);
	err[n > 0 ? n : 0] = '\0';
	close_one(h);
	t4 = now_ns();
	char *line = strstr(err, "cell timing cellsh ");

	if (r < 0 || !line) {
		fprintf(stderr, "driver: cellsh failed or gave no timing: %s\n", err);
		return -1;
	}
	line[strcspn(line, "\n")] = '\0';
	/* In the order of a login: the PAM stack up to pam_cell, pam_cell (its
	 * "spawn" forks the monitor, "monitor" waits for its report: the
	 * monitor's own phases below, from its exec on), the rest of the
	 * stack, cellsh, the shell, the close. */
	if (sscanf(timing_pam, "@%lf", &pam_start) != 1)
		return -1;
	printf("pam-stack-before-pam_cell %.3f\n", (pam_start - t0) / 1e6);
	pam_end = print_phases("pam_cell:", timing_pam, "spawn", &pam_start, &spawn);
	if (sscanf(timing_monitor, "@%lf", &mon_start) != 1 || pam_end < 0 || !spawn)
		return -1;
	printf("  monitor:exec %.3f\n", (mon_start - spawn) / 1e6);
	mon_end = print_phases("  monitor:", timing_monitor, "go", &mon_start, &go);
	/* PID 1's: from the user side's clone (after the monitor's "go"). */
	if (sscanf(timing_pid1, "@%lf", &pid1_start) != 1 || !go)
		return -1;
	printf("    pid1:clone %.3f\n", (pid1_start - go) / 1e6);
	if (print_phases("    pid1:", timing_pid1, NULL, &pid1_start, NULL) < 0)
		return -1;
	printf("pam-stack-after-pam_cell %.3f\n", (t1 - pam_end) / 1e6);
	if (sscanf(line + 19, "@%lf", &sh_start) != 1)
		return -1;
	printf("exec-cellsh %.3f\n", (sh_start - t2) / 1e6);
	sh_end = print_phases("cellsh:", line + 19, NULL, &sh_start, NULL);
	if (mon_end < 0 || sh_end < 0)
		return -1;
	printf("exec-shell+true+exit %.3f\n", (t3 - sh_end) / 1e6);
	printf("pam_close_session %.3f\n", (t4 - t3) / 1e6);
	printf("total %.3f\n", (t4 - t0) / 1e6);
	return 0;
}

/* The kernel's own cost of a new network namespace, timed in a child (the
 * teardown, asynchronous, is not in it); 20 ms apart so one's teardown is
 * not the next one's. */
static int netns_cost(int n)
{
	for (int i = 0; i < n; i++) {
		int p[2];
		double ms = -1;
		pid_t pid;

		if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0)
			return 1;
		if (pid == 0) {
			double t = now();

			ms = unshare(CLONE_NEWNET) == 0 ? (now() - t) * 1000 : -1;
			_exit(write(p[1], &ms, sizeof(ms)) == sizeof(ms) ? 0 : 1);
		}
		close(p[1]);
		if (read(p[0], &ms, sizeof(ms)) != sizeof(ms) || ms < 0)
			return 1;
		close(p[0]);
		waitpid(pid, NULL, 0);
		printf("%.3f\n", ms);
		usleep(20000);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct passwd *pw;
	int n;

	if (argc == 3 && strcmp(argv[1], "netns") == 0)
		return netns_cost(atoi(argv[2]));
	if (argc < 5 || !(pw = getpwnam(argv[3])) || (n = atoi(argv[4])) <= 0) {
		fprintf(stderr, "usage: driver run|timing SERVICE USER N CELLSH | hold SERVICE USER "
				"N\n");
		return 2;
	}
	if (strcmp(argv[1], "run") == 0 && argc == 6) {
		for (int i = 0; i < n; i++) {
			double t0 = now();
			pam_handle_t *h = open_one(argv[2], argv[3]);

			if (!h || run_true(h, pw, argv[5], -1) < 0) {
				fprintf(stderr, "driver: run %d failed\n", i);
				return 1;
			}
			close_one(h);
			printf("%.3f\n", (now() - t0) * 1000);
		}
		return 0;
	}
	if (strcmp(argv[1], "timing") == 0 && argc == 6) {
		for (int i = 0; i < n; i++)
			if (timing_run(argv[2], pw, argv[5]) < 0)
				return 1;
		return 0;
	}
	if (strcmp(argv[1], "hold") == 0) {
		pam_handle_t **hs = calloc((size_t)n, sizeof(*hs));
		struct rlimit nofile = { 65536, 65536 };
		char line[16];
		double t0 = now();

		setrlimit(RLIMIT_NOFILE, &nofile);
		for (int i = 0; i < n; i++)
			if (!(hs[i] = open_one(argv[2], argv[3]))) {
				fprintf(stderr, "driver: session %d failed\n", i);
				n = i;
				break;
			}
		printf("ready %d %.3f\n", n, now() - t0);
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			line[0] = '\0';
		t0 = now();
		/* Last opened first: each session moves us back to where we were
		 * when it opened. */
		for (int i = n - 1; i >= 0; i--)
			close_one(hs[i]);
		printf("closed %.3f\n", now() - t0);
		return 0;
	}
	fprintf(stderr, "driver: unknown mode %s\n", argv[1]);
	return 2;
}
