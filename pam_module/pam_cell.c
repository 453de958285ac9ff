// SPDX-License-Identifier: MIT
/*
 * pam_cell.so: open_session builds the cell of a confined user, close_session
 * ends it. Runs as root inside the login program (sshd, login, su), which is
 * single-threaded and calls close_session from the same process later.
 *
 *   session required pam_cell.so [conf=/etc/security/cell.conf] [debug] [timing]
 *
 * A checklist over the engine: who logs in (account), what cell.conf says
 * (conf), the checks a confined login must pass, the cell (session), then
 * what the login program hands to the user's shell (the PAM environment).
 * Every decision is one syslog line (authpriv). Any doubt refuses the
 * session (PAM_SESSION_ERR): the login program then gives no shell.
 */
#include <errno.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "account.h"
#include "conf.h"
#include "decide.h"
#include "env.h"
#include "proto.h"
#include "session.h"
#include "timing.h"
#include "util.h"

#define DATA_KEY "pam_cell_state"

struct args {
	const char *conf;
	bool debug;
	bool timing; /* tell the application where the start spent its time */
};

struct login {
	const char *user, *service, *tty, *rhost;
	struct login_decision d; /* the account, the profile */
};

static int parse_args(pam_handle_t *pamh, int argc, const char **argv, struct args *a)
{
	a->conf = CELL_CONF_PATH;
	a->debug = false;
	a->timing = false;
	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "conf=", 5) == 0 && argv[i][5] == '/')
			a->conf = argv[i] + 5;
		else if (strcmp(argv[i], "debug") == 0)
			a->debug = true;
		else if (strcmp(argv[i], "timing") == 0)
			a->timing = true;
		else {
			pam_syslog(pamh, LOG_ERR,
				   "unknown module argument '%s' "
				   "(valid: conf=/ABSOLUTE/PATH, debug, timing): refusing",
				   argv[i]);
			return -1;
		}
	}
	return 0;
}

/* Refuse: log the reason for the admin, tell the user in one line. */
static int refuse(pam_handle_t *pamh, int flags, const struct login *l, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(pam_handle_t *pamh, int flags, const struct login *l, const char *fmt, ...)
{
	char msg[1600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pam_syslog(pamh, LOG_ERR, "refused user=%s service=%s: %s [cell " CELL_VERSION "]",
		   l->user ? l->user : "?", l->service ? l->service : "?", msg);
	if (!(flags & PAM_SILENT))
		pam_error(pamh, "cell: session refused: %s", msg);
	return PAM_SESSION_ERR;
}

static const char *item(pam_handle_t *pamh, int type, const char *none)
{
	const void *v = NULL;

	return pam_get_item(pamh, type, &v) == PAM_SUCCESS && v ? v : none;
}

static void cleanup_session(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh;
	/* PAM_DATA_REPLACE, or pam_end in a forked child: only drop our fds. */
	(void)status;
	session_release(data);
	free(data);
}

/*
 * The login program copies the PAM environment into the user's session,
 * and into its own host-side helpers (sshd runs /etc/ssh/sshrc with /bin/sh
 * on the host): nothing that makes a loader or shell run the user's choice
 * may stay in it (pam_env with user_readenv=1 reads ~/.pam_environment).
 * Modules after pam_cell in the stack can add variables again: pam_cell
 * belongs last (cell.conf(5)).
 */
static int scrub_pam_env(pam_handle_t *pamh, char *removed, size_t size)
{
	char **env = pam_getenvlist(pamh);
	size_t off = 0;
	int r = 0;

	removed[0] = '\0';
	if (!env)
		return -1;
	for (char **v = env; *v; v++) {
		if (env_denied(*v)) {
			size_t n = strcspn(*v, "=");
			char name[256];

			if (n >= sizeof(name))
				n = sizeof(name) - 1;
			memcpy(name, *v, n);
			name[n] = '\0';
			/* A bare name removes the variable. */
			if (pam_putenv(pamh, name) != PAM_SUCCESS)
				r = -1;
			if (off < size)
				off += (size_t)snprintf(removed + off, size - off, "%s%s",
							off ? "," : "", name);
		}
		free(*v);
	}
	free(env);
	return r;
}

/* What decide and check_confinable return for a login to confine (else
 * the PAM result: PAM_IGNORE, or a refusal). No PAM result is negative. */
#define CONFINED (-1)

/* The PAM services of job schedulers: they run a job with /bin/sh (the
 * crontab's SHELL), never the login shell, so a session cannot put the job
 * in a cell: it would run on the host. */
static bool scheduler(const char *service)
{
	static const char *const names[] = { "cron", "crond", "atd", "anacron" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(service, names[i]) == 0)
			return true;
	return false;
}

/* Who logs in and what cell.conf says of them (decide.c), logged. */
static int decide(pam_handle_t *pamh, int flags, const struct args *a, struct login *l,
		  struct cell_conf *c)
{
	struct login_decision *d = &l->d;

	/* systemd's PAM service for user@.service: a host-side manager of the
	 * user's (cell-manager-gate keeps it from starting; this says it again
	 * for a stack that includes pam_cell). Confined through any service,
	 * the user gets none. */
	login_decide(c, a->conf, l->user,
		     strcmp(l->service, "systemd-user") == 0 ? NULL : l->service, d);
	if (d->verdict == LOGIN_CONFINE && strcmp(l->service, "systemd-user") == 0)
		return refuse(pamh, flags, l,
			      "a confined user gets no service manager of their own on the host "
			      "(confined by %s)",
			      d->why);
	/* Confined, or cellsh as the shell (confined through other services):
	 * the job would run outside any cell. */
	if (scheduler(l->service) &&
	    (d->verdict == LOGIN_CONFINE ||
	     (d->verdict == LOGIN_IGNORE && d->have_acct && strcmp(d->acct.shell, c->cellsh) == 0)))
		return refuse(pamh, flags, l,
			      "scheduled jobs of confined users are refused: %s runs a job with "
			      "/bin/sh on the host, outside any cell (%s; cell.conf(5), SCHEDULED "
			      "JOBS)",
			      l->service, d->why);
	switch (d->verdict) {
	case LOGIN_REFUSE:
		for (size_t i = 0; i < c->nerrors && i < CONF_MAX_ERRORS; i++)
			pam_syslog(pamh, LOG_ERR, "%s", c->errors[i]);
		return refuse(pamh, flags, l, "%s", d->why);
	case LOGIN_EXEMPT:
		/* Degraded: "... unconfined although <what could not be read>". */
		pam_syslog(pamh, d->degraded ? LOG_WARNING : LOG_NOTICE,
			   d->degraded ? "exempt user=%s service=%s: let through unconfined %s "
					 "[cell " CELL_VERSION "]"
				       : "exempt user=%s service=%s: let through unconfined (%s) "
					 "[cell " CELL_VERSION "]",
			   l->user, l->service, d->why);
		return PAM_IGNORE;
	case LOGIN_IGNORE:
		if (d->have_acct && strcmp(d->acct.shell, c->cellsh) == 0) {
			/* cellsh will find no cell and give no shell: say why now,
			 * and hand cellsh the cause to show (CELL_WHY: only text the
			 * user reads; setting it themselves changes nothing). */
			char env[2400];

			pam_syslog(
				pamh, LOG_NOTICE,
				"no cell for user=%s service=%s, whose login shell is cellsh: %s "
				"[cell " CELL_VERSION "]",
				l->user, l->service, d->why);
			snprintf(
				env, sizeof(env),
				"CELL_WHY=no section of %.256s confines %.256s through '%.64s' (%.1600s)",
				a->conf, l->user, l->service, d->why);
			pam_putenv(pamh, env);
			return PAM_IGNORE;
		}
		/* Logged at debug priority: most syslog setups drop it on busy hosts. */
		pam_syslog(pamh, LOG_DEBUG,
			   "not confined user=%s service=%s: %s [cell " CELL_VERSION "]", l->user,
			   l->service, d->why);
		return PAM_IGNORE;
	default:
		return CONFINED;
	}
}

/* What a confined login must be for its cell to hold. */
static int check_confinable(pam_handle_t *pamh, int flags, const struct login *l,
			    const struct cell_conf *c)
{
	char why[1600];
	int threads;

	if (login_confinable(c, &l->d, why, sizeof(why)) < 0)
		return refuse(pamh, flags, l, "%s", why);
	threads = count_threads();
	if (threads != 1)
		return refuse(pamh, flags, l,
			      "the login program has %d threads (-1: unknown); a cell can only "
			      "be built from a single-threaded login program",
			      threads);
	return CONFINED;
}

/* The environment the login program hands on, and the session to PAM. */
static int hand_over(pam_handle_t *pamh, int flags, const struct login *l, struct cell_session *s,
		     long long t0)
{
	const struct cell_match *match = &l->d.match;
	struct cell_err e = { 0 };
	char env[64], removed[512];

	if (s->note[0])
		pam_syslog(pamh, LOG_NOTICE, "user=%s: %s", l->user, s->note);
	if (s->subid_by_source)
		pam_syslog(pamh, LOG_NOTICE,
			   "user=%s: the 'subid:' source of nsswitch.conf is not files: that no "
			   "other user holds part of the subordinate ranges is that source's "
			   "duty (only both ends were checked)",
			   l->user);
	snprintf(env, sizeof(env), "CELL_ID=%s", s->id);
	if (scrub_pam_env(pamh, removed, sizeof(removed)) < 0 ||
	    pam_putenv(pamh, env) != PAM_SUCCESS) {
		session_close(s, &e);
		return refuse(pamh, flags, l, "setting the session's environment failed");
	}
	if (removed[0])
		pam_syslog(pamh, LOG_NOTICE, "user=%s: removed from the PAM environment: %s",
			   l->user, removed);
	if (pam_set_data(pamh, DATA_KEY, s, cleanup_session) != PAM_SUCCESS) {
		session_close(s, &e);
		return refuse(pamh, flags, l, "pam_set_data failed");
	}
	pam_syslog(pamh, LOG_INFO,
		   "cell %s %s user=%s uid=%u service=%s tty=%s rhost=%s profile=%s identity=%s "
		   "pid=%d ns=user:%lu,mnt:%lu,pid:%lu,uts:%lu,ipc:%lu,cgroup:%lu in %lld ms "
		   "[cell " CELL_VERSION "]",
		   s->id,
		   s->joined   ? "joined (shared)"
		   : s->shared ? "created (shared)"
			       : "created",
		   l->user, (unsigned)s->rec.uid, l->service, l->tty, l->rhost, match->why,
		   identity_name(s->rec.identity), (int)s->rec.pid, s->rec.ns[NS_USER],
		   s->rec.ns[NS_MNT], s->rec.ns[NS_PID], s->rec.ns[NS_UTS], s->rec.ns[NS_IPC],
		   s->rec.ns[NS_CGROUP], now_ms() - t0);
	return PAM_SUCCESS;
}

static int open_session(pam_handle_t *pamh, int flags, const struct args *a, struct login *l)
{
	_cleanup_free_ struct cell_conf *c = calloc(1, sizeof(*c));
	_cleanup_free_ struct cell_session *s = calloc(1, sizeof(*s));
	struct cell_err e = { 0 };
	long long t0 = now_ms();
	int ret;

	timing_start(a->timing, 0);
	if (pam_get_user(pamh, &l->user, NULL) != PAM_SUCCESS || !l->user || !*l->user)
		return refuse(pamh, flags, l, "no user name from PAM");
	l->service = item(pamh, PAM_SERVICE, "?");
	l->tty = item(pamh, PAM_TTY, "");
	l->rhost = item(pamh, PAM_RHOST, "");
	if (!c || !s)
		return refuse(pamh, flags, l, "out of memory");

	ret = decide(pamh, flags, a, l, c);
	timing_mark("conf");
	if (ret == CONFINED)
		ret = check_confinable(pamh, flags, l, c);
	timing_mark("checks");
	if (ret == CONFINED) {
		char section[300];
		const struct session_who who = { .acct = &l->d.acct,
						 .service = l->service,
						 .tty = l->tty,
						 .rhost = l->rhost,
						 .section = section,
						 .profile = l->d.match.profile_name };

		/* "[user alice] at /etc/security/cell.conf:12": the section. */
		snprintf(section, sizeof(section), "%.*s", (int)strcspn(l->d.match.why, "]") + 1,
			 l->d.match.why);

		if (session_open(c, &l->d.match.profile, &who, s, &e) < 0)
			ret = refuse(pamh, flags, l, "%s (profile %s)", e.msg, l->d.match.why);
		else if ((ret = hand_over(pamh, flags, l, s, t0)) == PAM_SUCCESS)
			s = NULL; /* PAM owns it now */
		timing_mark("hand-over");
	}
	/* Three lines for the application (make bench's driver): ours, the
	 * monitor's and PID 1's (timing.h). */
	if (cell_timing.on && ret == PAM_SUCCESS) {
		pam_info(pamh, "cell timing pam_cell %s", cell_timing.text);
		pam_info(pamh, "cell timing monitor %s", cell_timing.other[0]);
		pam_info(pamh, "cell timing pid1 %s", cell_timing.other[1]);
	}
	conf_free(c);
	return ret;
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	_cleanup_free_ struct login *l = calloc(1, sizeof(*l));
	struct args a;
	int r;

	if (parse_args(pamh, argc, argv, &a) < 0)
		return PAM_SESSION_ERR;
	if (!l)
		return PAM_SESSION_ERR;
	r = open_session(pamh, flags, &a, l);
	if (l->d.have_acct)
		account_free(&l->d.acct);
	return r;
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const void *data = NULL;
	struct cell_session *s;
	struct cell_err e = { 0 };
	const char *user;
	struct args a;

	(void)flags;
	if (parse_args(pamh, argc, argv, &a) < 0)
		return PAM_SESSION_ERR;
	if (pam_get_data(pamh, DATA_KEY, &data) != PAM_SUCCESS || !data)
		return PAM_IGNORE; /* we made no cell in this handle */
	/* libpam hands our own pointer back as const: it is ours to change. */
	s = (struct cell_session *)(uintptr_t)data;
	user = item(pamh, PAM_USER, "?");
	if (session_close(s, &e) < 0)
		pam_syslog(pamh, LOG_ERR, "cell %s: %s", s->id, e.msg);
	if (s->shared)
		pam_syslog(pamh, LOG_INFO,
			   "cell %s: session of user=%s closed after %lld ms "
			   "(shared: the cell ends with its last session)",
			   s->id, user, now_ms() - s->started_ms);
	else
		pam_syslog(pamh, LOG_INFO, "cell %s ended user=%s after %lld ms", s->id, user,
			   now_ms() - s->started_ms);
	pam_set_data(pamh, DATA_KEY, NULL, NULL); /* runs cleanup_session */
	return PAM_SUCCESS;
}
