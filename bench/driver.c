// SPDX-License-Identifier: MIT
/*
 * bench driver, run as root: the PAM session stack of SERVICE for USER, the
 * way a login program drives it.
 *
 *   driver run  SERVICE USER N CELLSH   N times: open the session, run
 *                                       "CELLSH -c true" as the user with the
 *                                       session's environment, close it;
 *                                       prints one line per run: milliseconds
 *   driver hold SERVICE USER N          open N sessions (N cells) and keep
 *                                       them; print "ready SECONDS" and wait
 *                                       for a line on stdin; close all and
 *                                       print "closed SECONDS"
 */
#include <grp.h>
#include <pwd.h>
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

static int conv(int n, const struct pam_message **m, struct pam_response **r, void *d)
{
	(void)m, (void)d;
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

static int run_true(pam_handle_t *h, const struct passwd *pw, const char *cellsh)
{
	pid_t p = fork();
	int st;

	if (p == 0) {
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

int main(int argc, char **argv)
{
	struct passwd *pw;
	int n;

	if (argc < 5 || !(pw = getpwnam(argv[3])) || (n = atoi(argv[4])) <= 0) {
		fprintf(stderr, "usage: driver run SERVICE USER N CELLSH | hold SERVICE USER N\n");
		return 2;
	}
	if (strcmp(argv[1], "run") == 0 && argc == 6) {
		for (int i = 0; i < n; i++) {
			double t0 = now();
			pam_handle_t *h = open_one(argv[2], argv[3]);

			if (!h || run_true(h, pw, argv[5]) < 0) {
				fprintf(stderr, "driver: run %d failed\n", i);
				return 1;
			}
			close_one(h);
			printf("%.3f\n", (now() - t0) * 1000);
		}
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
