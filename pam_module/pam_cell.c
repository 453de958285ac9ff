// SPDX-License-Identifier: MIT
/*
 * pam_cell.so: open_session builds the cell of a confined user, close_session
 * ends it. Runs as root inside the login program (sshd, login, su), which is
 * single-threaded and calls close_session from the same process later.
 *
 *   session required pam_cell.so [conf=/etc/security/cell.conf] [debug]
 *
 * Every decision is one syslog line (authpriv). Any doubt refuses the
 * session (PAM_SESSION_ERR): the login program then gives no shell.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "conf.h"
#include "create.h"
#include "idmap.h"
#include "proto.h"
#include "registry.h"
#include "util.h"

#define DATA_KEY "pam_cell_state"
#define MAX_GROUPS 1024
#define CREATE_TIMEOUT_MS 20000

struct args {
	const char *conf;
	bool debug;
};

struct state {
	char id[CELL_ID_LEN + 1];
	int pidfd;			/* the cell's PID 1 */
	int life;			/* our write end of the cell's life pipe */
	bool shared;
	struct cgroup_layout layout;
	struct cgroup_origin origin;	/* where the login program was before */
	long long started_ms;
};

struct who {
	const char *user, *service, *tty, *rhost;
	struct passwd pw;
	char pwbuf[4096];
	gid_t gids[MAX_GROUPS];
	int ngids;
	char *gnames[MAX_GROUPS];
	size_t ngnames;
};

static int parse_args(pam_handle_t *pamh, int argc, const char **argv, struct args *a)
{
	a->conf = CELL_CONF_PATH;
	a->debug = false;
	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "conf=", 5) == 0 && argv[i][5] == '/')
			a->conf = argv[i] + 5;
		else if (strcmp(argv[i], "debug") == 0)
			a->debug = true;
		else {
			pam_syslog(pamh, LOG_ERR, "unknown module argument '%s' "
				   "(valid: conf=/ABSOLUTE/PATH, debug): refusing", argv[i]);
			return -1;
		}
	}
	return 0;
}

/* Refuse: log the reason for the admin, tell the user in one line. */
static int refuse(pam_handle_t *pamh, int flags, const struct who *w, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(pam_handle_t *pamh, int flags, const struct who *w, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pam_syslog(pamh, LOG_ERR, "refused user=%s service=%s: %s",
		   w->user ? w->user : "?", w->service ? w->service : "?", msg);
	if (!(flags & PAM_SILENT))
		pam_error(pamh, "cell: session refused: %s", msg);
	return PAM_SESSION_ERR;
}

static void free_groups(struct who *w)
{
	for (size_t i = 0; i < w->ngnames; i++)
		free(w->gnames[i]);
	w->ngnames = 0;
}

static int lookup_user(pam_handle_t *pamh, struct who *w, char *why, size_t whylen)
{
	struct passwd *res = NULL;
	const void *item;

	if (pam_get_user(pamh, &w->user, NULL) != PAM_SUCCESS || !w->user || !*w->user) {
		snprintf(why, whylen, "no user name from PAM");
		return -1;
	}
	w->service = pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS && item ? item : "?";
	w->tty = pam_get_item(pamh, PAM_TTY, &item) == PAM_SUCCESS && item ? item : "";
	w->rhost = pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS && item ? item : "";
	if (getpwnam_r(w->user, &w->pw, w->pwbuf, sizeof(w->pwbuf), &res) != 0 || !res) {
		snprintf(why, whylen, "user %s not found in passwd", w->user);
		return -1;
	}
	w->ngids = MAX_GROUPS;
	if (getgrouplist(w->user, w->pw.pw_gid, w->gids, &w->ngids) < 0) {
		snprintf(why, whylen, "user %s is in more than %d groups", w->user, MAX_GROUPS);
		return -1;
	}
	for (int i = 0; i < w->ngids; i++) {
		struct group gr, *gres = NULL;
		char buf[8192];

		if (getgrgid_r(w->gids[i], &gr, buf, sizeof(buf), &gres) == 0 && gres) {
			w->gnames[w->ngnames] = strdup(gr.gr_name);
			if (!w->gnames[w->ngnames]) {
				snprintf(why, whylen, "out of memory");
				return -1;
			}
			w->ngnames++;
		}
	}
	return 0;
}

static void cleanup_state(pam_handle_t *pamh, void *data, int status)
{
	struct state *s = data;

	(void)pamh;
	/* PAM_DATA_REPLACE / pam_end in a forked child: only drop our fd. */
	(void)status;
	if (s->pidfd >= 0)
		close(s->pidfd);
	if (s->life >= 0)
		close(s->life);
	free(s);
}

static int build_maps(const struct cell_conf *c, const struct cell_profile *p,
		      const struct who *w, char *uidmap, char *gidmap, size_t size,
		      struct cell_err *e)
{
	_cleanup_free_ struct id_range *ur = NULL, *gr = NULL;
	size_t nu = 0, ng = 0;
	struct idmap *m = malloc(sizeof(*m));
	int r = -1;

	if (!m)
		return cell_err_set(e, ENOMEM, "out of memory");
	if (p->identity != IDENTITY_SELF) {
		if (subid_lookup(w->user, false, &ur, &nu, e) < 0 ||
		    subid_validate(ur, nu, w->pw.pw_uid, c->subid_min, "uid", w->user, e) < 0 ||
		    subid_check_unshared(w->user, w->pw.pw_uid, false, ur, nu, e) < 0 ||
		    subid_lookup(w->user, true, &gr, &ng, e) < 0 ||
		    subid_validate(gr, ng, w->pw.pw_gid, c->subid_min, "gid", w->user, e) < 0 ||
		    subid_check_unshared(w->user, w->pw.pw_uid, true, gr, ng, e) < 0)
			goto out;
	}
	if (idmap_build(p->identity, w->pw.pw_uid, ur, nu, p->subid_count, "uid", w->user, m, e) < 0 ||
	    idmap_format(m, uidmap, size, e) < 0 ||
	    idmap_build(p->identity, w->pw.pw_gid, gr, ng, p->subid_count, "gid", w->user, m, e) < 0 ||
	    idmap_format(m, gidmap, size, e) < 0)
		goto out;
	r = 0;
out:
	free(m);
	return r;
}

/* Tell the cell's monitor about this login program: "J PID START" when it
 * joins a shared cell, "C PID" when its session closes. One write of less
 * than PIPE_BUF bytes is atomic; a full FIFO only delays what the monitor
 * learns from the pidfd anyway. */
static int life_note(int fd, bool join)
{
	_cleanup_close_ int procfd = -1, self = -1;
	unsigned long long start = 0;
	struct cell_err e;
	char line[64];
	pid_t ppid;
	int n;

	if (join && ((procfd = proc_open_root(&e)) < 0 ||
		     (self = proc_open_pid(procfd, getpid(), &e)) < 0 ||
		     proc_stat(self, &ppid, &start, &e) < 0))
		return -1;
	n = join ? snprintf(line, sizeof(line), "J %d %llu\n", (int)getpid(), start)
		 : snprintf(line, sizeof(line), "C %d\n", (int)getpid());
	return write(fd, line, (size_t)n) == n ? 0 : -1;
}

/* Join the user's live shared cell, if there is one: everything from
 * root-owned files, the cell checked like cellsh checks it. */
static int join_shared(uid_t uid, struct cell_record *rec, struct state *st)
{
	_cleanup_close_ int procfd = -1, piddir = -1, pidfd = -1, life = -1;
	char id[CELL_ID_LEN + 1];
	unsigned long long start;
	struct cell_err e;
	pid_t ppid;

	if (registry_shared_get(uid, id) < 0)
		return -1;
	if (registry_read(id, rec, &e) < 0 || rec->uid != uid || !rec->shared)
		goto stale;
	life = registry_life_join(id, &e);	/* ENXIO: no monitor any more */
	pidfd = pidfd_open(rec->pid, 0);
	if (life < 0 || pidfd < 0 || (procfd = proc_open_root(&e)) < 0 ||
	    (piddir = proc_open_pid(procfd, rec->pid, &e)) < 0 ||
	    proc_stat(piddir, &ppid, &start, &e) < 0 || start != rec->starttime ||
	    !pidfd_alive(pidfd) || life_note(life, true) < 0)
		goto stale;
	memcpy(st->id, id, sizeof(st->id));
	st->pidfd = steal_fd(&pidfd);
	st->life = steal_fd(&life);
	return 0;
stale:
	registry_shared_clear(uid, id);
	return -1;
}

/* Build a new cell and register it. */
static int create(const struct who *w, const struct cell_profile *p, const char *cell_init,
		  const char *uidmap, const char *gidmap, struct cell_record *rec,
		  struct state *st, struct cell_err *e)
{
	_cleanup_close_ int reader = -1, writer = -1;
	struct cell_handle h;
	int fds[2];

	if (cell_id_new(st->id, e) < 0)
		return -1;
	if (p->share_user) {
		if (registry_life_create(st->id, &reader, &writer, e) < 0)
			return -1;
	} else {
		if (pipe2(fds, O_CLOEXEC) < 0)
			return cell_err_sys(e, "pipe2");
		reader = fds[0];
		writer = fds[1];
	}
	{
		struct cell_spec spec = {
			.id = st->id, .user = w->user, .uid = w->pw.pw_uid,
			.gid = w->pw.pw_gid, .groups = w->gids, .ngroups = (size_t)w->ngids,
			.home = w->pw.pw_dir, .profile = p, .uid_map = uidmap,
			.gid_map = gidmap, .cell_init = cell_init,
			.timeout_ms = CREATE_TIMEOUT_MS, .life_fd = reader,
			.memory_max = conf_memory_max(p),
		};

		if (cell_create(&spec, &h, e) < 0) {
			if (p->share_user)
				registry_life_remove(st->id);
			return cell_err_prefix(e, "creating the cell: ");
		}
	}
	/* Records of login programs that were killed without closing. */
	registry_sweep();
	memset(rec, 0, sizeof(*rec));
	memcpy(rec->id, st->id, sizeof(rec->id));
	rec->pid = h.pid;
	rec->starttime = h.starttime;
	rec->uid = w->pw.pw_uid;
	rec->gid = w->pw.pw_gid;
	memcpy(rec->ns, h.ns, sizeof(rec->ns));
	rec->identity = p->identity;
	rec->inside_uid = idmap_inside_self(rec->identity, rec->uid);
	rec->inside_gid = idmap_inside_self(rec->identity, rec->gid);
	rec->created = (long long)time(NULL);
	rec->shared = p->share_user;
	snprintf(rec->user, sizeof(rec->user), "%s", w->user);
	snprintf(rec->service, sizeof(rec->service), "%s", w->service);
	snprintf(rec->tty, sizeof(rec->tty), "%s", w->tty);
	snprintf(rec->home, sizeof(rec->home), "%s", w->pw.pw_dir);
	snprintf(rec->shell, sizeof(rec->shell), "%s", p->shell);
	snprintf(rec->path, sizeof(rec->path), "%s", p->path);
	snprintf(rec->hostname, sizeof(rec->hostname), "%s", p->hostname);
	snprintf(rec->seccomp_allow, sizeof(rec->seccomp_allow), "%s", p->seccomp_allow);
	snprintf(rec->seccomp_deny, sizeof(rec->seccomp_deny), "%s", p->seccomp_deny);
	st->pidfd = h.pidfd;
	st->life = steal_fd(&writer);
	/* From here on, closing st->life (the caller does on failure) ends the cell. */
	if (sb_rlimits_format(p->rlimits, rec->rlimits, sizeof(rec->rlimits)) < 0)
		return cell_err_set(e, E2BIG, "rlimits too long");
	if (registry_write(rec, e) < 0)
		return cell_err_prefix(e, "registering the cell: ");
	if (p->share_user && registry_shared_set(rec->uid, rec->id, e) < 0) {
		registry_remove(rec->id, &(struct cell_err){ 0 });
		return cell_err_prefix(e, "registering the shared cell: ");
	}
	return 0;
}

static int open_session(pam_handle_t *pamh, int flags, const struct args *a, struct who *w)
{
	struct cell_conf *c = NULL;
	struct cell_match match;
	struct cell_record rec;
	struct cell_err e = { 0 };
	struct state *st = NULL;
	char uidmap[8192], gidmap[8192], env[64], why[512];
	long long t0 = now_ms();
	int ret = PAM_SESSION_ERR;
	int threads, lock = -1;
	bool joined = false;

	if (lookup_user(pamh, w, why, sizeof(why)) < 0)
		return refuse(pamh, flags, w, "%s", why);
	c = malloc(sizeof(*c));
	if (!c)
		return refuse(pamh, flags, w, "out of memory");
	conf_init(c);
	if (conf_load(c, a->conf) > 0) {
		if (conf_is_exempt(c, w->user, (const char *const *)w->gnames, w->ngnames)) {
			pam_syslog(pamh, LOG_WARNING, "exempt user=%s service=%s: let through "
				   "unconfined although %s has %zu error(s)", w->user,
				   w->service, a->conf, c->nerrors);
			ret = PAM_IGNORE;
			goto out;
		}
		for (size_t i = 0; i < c->nerrors && i < CONF_MAX_ERRORS; i++)
			pam_syslog(pamh, LOG_ERR, "%s", c->errors[i]);
		ret = refuse(pamh, flags, w, "%s has %zu error(s), the first: %s; every "
			     "confined login is refused until it is fixed", a->conf,
			     c->nerrors, c->errors[0]);
		goto out;
	}
	conf_decide(c, w->user, (const char *const *)w->gnames, w->ngnames, w->service, &match);
	if (match.decision == CELL_EXEMPT) {
		pam_syslog(pamh, LOG_NOTICE, "exempt user=%s service=%s: let through "
			   "unconfined (%s)", w->user, w->service, match.why);
		ret = PAM_IGNORE;
		goto out;
	}
	if (match.decision == CELL_IGNORE) {
		/* Logged at debug priority: most syslog setups drop it on busy hosts. */
		pam_syslog(pamh, LOG_DEBUG, "not confined user=%s service=%s: %s",
			   w->user, w->service, match.why);
		ret = PAM_IGNORE;
		goto out;
	}
	/* Confined from here on: any failure refuses the session. */
	if (w->pw.pw_uid == 0) {
		ret = refuse(pamh, flags, w, "user %s has uid 0, which a cell cannot confine "
			     "(%s): list it in 'exempt'", w->user, match.why);
		goto out;
	}
	if (strcmp(w->pw.pw_shell, c->cellsh) != 0) {
		ret = refuse(pamh, flags, w, "user %s is confined by %s but their login shell "
			     "is '%s', so the shell would run outside the cell: fix with "
			     "'chsh -s %s %s'", w->user, match.why, w->pw.pw_shell,
			     c->cellsh, w->user);
		goto out;
	}
	threads = count_threads();
	if (threads != 1) {
		ret = refuse(pamh, flags, w, "the login program has %d threads; a cell can "
			     "only be built from a single-threaded login program", threads);
		goto out;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		ret = refuse(pamh, flags, w, "out of memory");
		goto out;
	}
	st->pidfd = st->life = -1;
	st->shared = match.profile.share_user;
	if (cgroup_layout(&st->layout, &e) < 0 || cgroup_origin_save(&st->layout, &st->origin, &e) < 0) {
		ret = refuse(pamh, flags, w, "%s", e.msg);
		goto out;
	}
	if (st->shared) {
		/* Held until the session is set up: no other login of this user
		 * can join, create or end their shared cell meanwhile. */
		lock = registry_lock_user(w->pw.pw_uid, CREATE_TIMEOUT_MS + 5000, &e);
		if (lock < 0) {
			ret = refuse(pamh, flags, w, "%s", e.msg);
			goto out;
		}
		joined = join_shared(w->pw.pw_uid, &rec, st) == 0;
	}
	if (!joined) {
		if (build_maps(c, &match.profile, w, uidmap, gidmap, sizeof(uidmap), &e) < 0) {
			ret = refuse(pamh, flags, w, "%s (profile %s)", e.msg, match.why);
			goto out;
		}
		if (create(w, &match.profile, c->cell_init, uidmap, gidmap, &rec, st, &e) < 0) {
			ret = refuse(pamh, flags, w, "%s", e.msg);
			goto out;
		}
	}
	/* The session's processes (the shell is forked from here) count
	 * against the cell's limits from now on. */
	if (cgroup_attach(&st->layout, st->id, getpid(), &e) < 0) {
		ret = refuse(pamh, flags, w, "joining the cell's cgroup: %s", e.msg);
		goto undo;
	}
	snprintf(env, sizeof(env), "CELL_ID=%s", st->id);
	if (pam_putenv(pamh, env) != PAM_SUCCESS) {
		ret = refuse(pamh, flags, w, "exporting CELL_ID to the session failed");
		goto undo;
	}
	st->started_ms = now_ms();
	if (pam_set_data(pamh, DATA_KEY, st, cleanup_state) != PAM_SUCCESS) {
		ret = refuse(pamh, flags, w, "pam_set_data failed");
		goto undo;
	}
	pam_syslog(pamh, LOG_INFO, "cell %s %s user=%s uid=%u service=%s tty=%s "
		   "rhost=%s profile=%s identity=%s pid=%d ns=user:%lu,mnt:%lu,pid:%lu,"
		   "uts:%lu,ipc:%lu,cgroup:%lu in %lld ms", st->id,
		   joined ? "joined (shared)" : st->shared ? "created (shared)" : "created",
		   w->user, (unsigned)rec.uid, w->service, w->tty, w->rhost, match.why,
		   identity_name(rec.identity), (int)rec.pid, rec.ns[NS_USER], rec.ns[NS_MNT],
		   rec.ns[NS_PID], rec.ns[NS_UTS], rec.ns[NS_IPC], rec.ns[NS_CGROUP],
		   now_ms() - t0);
	st = NULL;	/* PAM owns it now */
	ret = PAM_SUCCESS;
	goto out;

undo:
	cgroup_origin_restore(&st->layout, &st->origin, &e);
	if (!st->shared) {
		cell_kill(st->pidfd, &e);
		registry_remove(st->id, &e);
	}
	/* A new shared cell with no other session ends when st->life closes. */
out:
	if (lock >= 0)
		close(lock);
	if (st)
		cleanup_state(pamh, st, 0);
	conf_free(c);
	free(c);
	return ret;
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct args a;
	struct who *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return PAM_BUF_ERR;
	if (parse_args(pamh, argc, argv, &a) < 0) {
		free(w);
		return PAM_SESSION_ERR;
	}
	r = open_session(pamh, flags, &a, w);
	free_groups(w);
	free(w);
	return r;
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const void *data = NULL;
	struct state *st;
	struct cell_err e = { 0 };
	struct args a;
	const char *user = "?";

	(void)flags;
	if (parse_args(pamh, argc, argv, &a) < 0)
		return PAM_SESSION_ERR;
	if (pam_get_data(pamh, DATA_KEY, &data) != PAM_SUCCESS || !data)
		return PAM_IGNORE;	/* we made no cell in this handle */
	st = (struct state *)data;
	pam_get_item(pamh, PAM_USER, (const void **)&user);
	/* Out of the cell's cgroups, so that they can be removed. */
	if (cgroup_origin_restore(&st->layout, &st->origin, &e) < 0)
		pam_syslog(pamh, LOG_WARNING, "cell %s: moving back out of its cgroup: %s",
			   st->id, e.msg);
	life_note(st->life, false);
	if (st->shared) {
		/* If this was its last session, the cell's monitor ends the cell.
		 * Nothing here waits. */
		pam_syslog(pamh, LOG_INFO, "cell %s: session of user=%s closed after %lld ms "
			   "(shared: the cell ends with its last session)", st->id,
			   user ? user : "?", now_ms() - st->started_ms);
	} else {
		/* SIGKILL to PID 1 ends the whole pid namespace; never wait for it:
		 * the monitor reaps it and removes the cgroups. */
		if (cell_kill(st->pidfd, &e) < 0)
			pam_syslog(pamh, LOG_ERR, "cell %s: %s", st->id, e.msg);
		if (registry_remove(st->id, &e) < 0)
			pam_syslog(pamh, LOG_ERR, "cell %s: %s", st->id, e.msg);
		pam_syslog(pamh, LOG_INFO, "cell %s ended user=%s after %lld ms", st->id,
			   user ? user : "?", now_ms() - st->started_ms);
	}
	pam_set_data(pamh, DATA_KEY, NULL, NULL);	/* runs cleanup_state */
	return PAM_SUCCESS;
}
