// SPDX-License-Identifier: MIT
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "binds.h"
#include "cgroup.h"
#include "create.h"
#include "etcextract.h"
#include "idmap.h"
#include "initargs.h"
#include "join.h"
#include "net.h"
#include "proto.h"
#include "registry.h"
#include "sandbox.h"
#include "subidcache.h"
#include "timing.h"
#include "util.h"

/* pam_cell's wait for cell-init; the monitor's own deadline is longer. */
#define CREATE_TIMEOUT_MS 20000
#define LOCK_TIMEOUT_MS	  (CREATE_TIMEOUT_MS + 5000)
/* A SIGKILLed monitor's cell: how long its last processes may take to
 * leave its cgroups at the logout. */
#define DEAD_CGROUP_TIMEOUT_MS 2000
#define MAP_SIZE	       8192

/* One kind of ids (uid or gid): the ranges, every check, the map. */
static int build_map(const struct cell_conf *c, const struct cell_profile *p,
		     const struct cell_account *a, bool gid, const struct subid_stamp *stamp,
		     char *map, bool *by_source, struct cell_err *e)
{
	_cleanup_free_ struct id_range *r = NULL;
	_cleanup_free_ struct idmap *m = malloc(sizeof(*m));
	const char *kind = gid ? "gid" : "uid";
	unsigned long own = gid ? a->gid : a->uid;
	bool source = false;
	size_t n = 0;

	if (!m)
		return cell_err_set(e, ENOMEM, "out of memory");
	if (p->identity != IDENTITY_SELF) {
		/* A verdict kept under the same account files (subidcache.c)
		 * stands for subid_ranges' and subid_check_accounts' reading of
		 * every account; the profile's own checks run every time. */
		bool cached = stamp && subid_cache_get(stamp, a->name, a->uid, gid, &r, &n);

		if ((!cached && subid_ranges(a->name, a->uid, gid, &r, &n, &source, e) < 0) ||
		    subid_validate(r, n, own, c->subid_min, kind, a->name, e) < 0 ||
		    (!cached && subid_check_accounts(a->name, gid, r, n, e) < 0))
			return -1;
		if (!cached && !source && stamp)
			subid_cache_put(stamp, a->name, a->uid, gid, r, n);
	}
	*by_source |= source;
	if (idmap_build(p->identity, own, r, n, p->subid_count, kind, a->name, m, e) < 0 ||
	    idmap_format(m, map, MAP_SIZE, e) < 0)
		return -1;
	return 0;
}

int session_check_ids(const struct cell_conf *c, const struct cell_profile *p,
		      const struct cell_account *a, struct cell_err *e)
{
	_cleanup_free_ char *map = malloc(MAP_SIZE);
	bool source = false;

	if (!map)
		return cell_err_set(e, ENOMEM, "out of memory");
	/* Checked afresh: no kept verdict (cellctl check). */
	if (build_map(c, p, a, false, NULL, map, &source, e) < 0 ||
	    build_map(c, p, a, true, NULL, map, &source, e) < 0)
		return -1;
	return 0;
}

/* See proto.h: "J PID START" when a login program joins a shared cell,
 * "C PID" when its session closes. 0: told; MONITOR_GONE: the write found
 * no reader (EPIPE: the monitor is the life pipe's only one); -1: failed. */
#define MONITOR_GONE 1
static int tell_monitor(int fd, bool join)
{
	_cleanup_close_ int procfd = -1, self = -1;
	struct life_note n = { .op = join ? LIFE_JOIN : LIFE_CLOSE, .pid = getpid() };
	struct cell_err e;
	char line[64];
	ssize_t written;
	pid_t ppid;
	int len;

	if (join &&
	    ((procfd = proc_open_root(&e)) < 0 || (self = proc_open_pid(procfd, n.pid, &e)) < 0 ||
	     proc_stat(self, &ppid, &n.start, &e) < 0))
		return -1;
	len = life_note_format(&n, line, sizeof(line));
	if (len <= 0)
		return -1;
	/* One write below PIPE_BUF is atomic; a full FIFO only delays what the
	 * monitor learns from the pidfd anyway. */
	written = write_nosigpipe(fd, line, (size_t)len);
	if (written == len)
		return 0;
	return written < 0 && errno == EPIPE ? MONITOR_GONE : -1;
}

/*
 * Join the user's live shared cell if there is one that this login may
 * join. Returns 1 joined, 0 not (s->note may say why), -1 on error.
 */
static int join_shared(const struct session_who *w, const char *digest, struct cell_session *s,
		       struct cell_err *e)
{
	const struct cell_account *a = w->acct;
	_cleanup_close_ int life = -1;
	struct cell_record rec;
	struct cell_join j;
	char id[CELL_ID_LEN + 1];
	struct cell_err ignored;

	if (registry_shared_get(a->uid, id) < 0)
		return 0;
	if (registry_read(id, &rec, &ignored) < 0 || !rec.shared ||
	    cell_verify(&rec, a->uid, &j, &ignored) < 0) {
		registry_shared_clear(a->uid, id); /* stale */
		return 0;
	}
	if (strcmp(rec.user, a->name) != 0 || strcmp(rec.home, a->home) != 0) {
		/* The uid belongs to another account now: the cell of the old one
		 * must not be joined, nor outlive it. */
		snprintf(s->note, sizeof(s->note),
			 "ended shared cell %s of user %.64s (home %.200s), "
			 "whose uid %u now belongs to %.64s",
			 id, rec.user, rec.home, (unsigned)a->uid, a->name);
		cell_kill(j.pidfd, &ignored);
		registry_shared_clear(a->uid, id);
		cell_join_close(&j);
		return 0;
	}
	if (strcmp(rec.profile_digest, digest) != 0) {
		snprintf(s->note, sizeof(s->note),
			 "not joining shared cell %s: its profile "
			 "changed since it was made (it lives on with its sessions)",
			 id);
		cell_join_close(&j);
		return 0;
	}
	life = registry_life_join(id, &ignored);	 /* ENXIO: no monitor any more */
	if (life < 0 || tell_monitor(life, true) != 0) { /* gone or failed: no join */
		cell_join_close(&j);
		registry_shared_clear(a->uid, id);
		return 0;
	}
	memcpy(s->id, id, sizeof(s->id));
	s->rec = rec;
	s->pidfd = steal_fd(&j.pidfd);
	s->life = steal_fd(&life);
	cell_join_close(&j);
	(void)e;
	return 1;
}

static int fill_record(const struct session_who *w, const struct cell_profile *p,
		       const struct cell_handle *h, const char *digest, struct cell_record *r,
		       struct cell_err *e)
{
	const struct cell_account *a = w->acct;
	const struct {
		char *dst;
		size_t size;
		const char *src, *what;
	} strs[] = {
		{ r->user, sizeof(r->user), a->name, "user name" },
		{ r->service, sizeof(r->service), w->service, "PAM service" },
		{ r->tty, sizeof(r->tty), w->tty, "tty" },
		{ r->rhost, sizeof(r->rhost), w->rhost, "remote host" },
		{ r->section, sizeof(r->section), w->section, "section" },
		{ r->profile, sizeof(r->profile), w->profile ? w->profile : "", "profile" },
		{ r->home, sizeof(r->home), a->home, "home directory" },
		{ r->shell, sizeof(r->shell), p->shell, "shell" },
		{ r->path, sizeof(r->path), p->path, "path" },
		{ r->hostname, sizeof(r->hostname), p->hostname, "hostname" },
		{ r->seccomp_allow, sizeof(r->seccomp_allow), p->seccomp_allow, "seccomp_allow" },
		{ r->seccomp_deny, sizeof(r->seccomp_deny), p->seccomp_deny, "seccomp_deny" },
		{ r->profile_digest, sizeof(r->profile_digest), digest, "digest" },
		{ r->rootfs, sizeof(r->rootfs), p->rootfs, "rootfs" },
		{ r->env_keep, sizeof(r->env_keep), p->env_keep, "env_keep" },
		{ r->env_deny, sizeof(r->env_deny), p->env_deny, "env_deny" },
		{ r->env_set, sizeof(r->env_set), p->env_set, "env_set" },
		{ r->net, sizeof(r->net), p->net, "net" },
	};

	r->pid = h->pid;
	r->starttime = h->starttime;
	r->uid = a->uid;
	r->gid = a->gid;
	memcpy(r->ns, h->ns, sizeof(r->ns));
	r->identity = p->identity;
	r->inside_uid = idmap_inside_self(p->identity, a->uid);
	r->inside_gid = idmap_inside_self(p->identity, a->gid);
	r->created = (long long)time(NULL);
	r->shared = p->share_user;
	r->landlock = p->landlock;
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
		if (str_copy(strs[i].dst, strs[i].size, strs[i].src) < 0)
			return cell_err_set(e, ENAMETOOLONG,
					    "the %s '%.80s...' is longer than "
					    "the %zu bytes a cell records",
					    strs[i].what, strs[i].src, strs[i].size - 1);
	if (sb_rlimits_format(p->rlimits, r->rlimits, sizeof(r->rlimits)) < 0)
		return cell_err_set(e, E2BIG, "rlimits too long");
	return 0;
}

/* The cell's life pipe: a FIFO in the registry that later logins can join
 * for a shared cell, an anonymous pipe otherwise. */
static int life_pipe(bool shared, const char *id, int *reader, int *writer, struct cell_err *e)
{
	int fds[2];

	if (shared)
		return registry_life_create(id, reader, writer, e);
	if (pipe2(fds, O_CLOEXEC) < 0)
		return cell_err_sys(e, "pipe2");
	*reader = fds[0];
	*writer = fds[1];
	return 0;
}

/* What cell-init is told (a->ngids is at most CELL_MAX_GROUPS). */
static void fill_init_args(struct init_args *args, const char *id, const struct cell_conf *c,
			   const struct cell_profile *p, const struct cell_account *a,
			   const char *uidmap, const char *gidmap)
{
	*args = (struct init_args){
		.id = id,
		.user = a->name,
		.uid = a->uid,
		.gid = a->gid,
		.ngroups = a->ngids,
		.inside_uid = idmap_inside_self(p->identity, a->uid),
		.inside_gid = idmap_inside_self(p->identity, a->gid),
		.group = a->gname ? a->gname : "",
		.shell = p->shell,
		.home = a->home,
		.hostname = p->hostname,
		.tmpfs = p->tmpfs_size,
		.pty_max = p->pty_max,
		.limits = { .pids_max = p->pids_max,
			    .memory_max = conf_memory_max(p),
			    .cpu_weight = p->cpu_weight },
		.user_limits = { .pids_max = p->user_pids_max,
				 .memory_max = conf_user_memory_max(p),
				 .cpu_weight = p->user_cpu_weight },
		.shared = p->share_user,
		.linger = p->share_user ? p->linger : 0,
		.uid_map = uidmap,
		.gid_map = gidmap,
		.hide = c->files ? c->files : "",
		.image = conf_image(p) ? conf_image(p) : "",
		.overlay = p->overlay,
		.upper_max = p->upper_max,
		.proc_views = p->proc_views,
		.net_pool = p->net_pool,
		.net_isolate = p->net_isolate,
		.bridge = "",
		.net_dns = "",
		.net_host_loopback = p->net_host_loopback,
	};
	memcpy(args->groups, a->gids, a->ngids * sizeof(gid_t));
}

#define BINDS_SIZE 16384

/* Build a new cell and register it. From the moment it exists, closing
 * s->life (session_release) ends it. */
static int create(const struct cell_conf *c, const struct cell_profile *p,
		  const struct session_who *w, const char *digest, struct cell_session *s,
		  struct cell_err *e)
{
	const struct cell_account *a = w->acct;
	_cleanup_close_ int reader = -1, writer = -1;
	_cleanup_free_ char *uidmap = malloc(MAP_SIZE), *gidmap = malloc(MAP_SIZE);
	_cleanup_free_ struct init_args *args = calloc(1, sizeof(*args));
	_cleanup_free_ char *binds = malloc(BINDS_SIZE);
	char bridge[16], dns[128] = "";
	struct subid_stamp stamp;
	struct cell_handle h;

	if (!uidmap || !gidmap || !args || !binds)
		return cell_err_set(e, ENOMEM, "out of memory");
	/* As root, on the host's view: each SRC root's or the user's own. */
	if (binds_resolve(p->binds, a->name, a->home, a->uid, binds, BINDS_SIZE, e) < 0)
		return -1;
	if (a->ngids > CELL_MAX_GROUPS)
		return cell_err_set(e, E2BIG, "user %s is in more than %d groups", a->name,
				    CELL_MAX_GROUPS);
	/* The host's system accounts as every cell starts with them: kept
	 * anew only when /etc/passwd or /etc/group changed (etcextract.c). */
	etc_extract_refresh();
	subid_stamp_take(&stamp);
	if (build_map(c, p, a, false, &stamp, uidmap, &s->subid_by_source, e) < 0 ||
	    build_map(c, p, a, true, &stamp, gidmap, &s->subid_by_source, e) < 0 ||
	    cell_id_new(s->id, e) < 0)
		return -1;
	timing_mark("subids");
	fill_init_args(args, s->id, c, p, a, uidmap, gidmap);
	args->binds = binds;
	args->timing = cell_timing.on;
	/* The network: the bridge's name, the user-mode stack (the profile's,
	 * or the first installed), and the nameservers the cell is told (the
	 * profile's; else for its own namespace the host's that are not on
	 * loopback; with pasta, the gateway, whose port 53 pasta forwards to
	 * the host's resolver; with slirp4netns, its resolver 10.0.2.3). */
	args->net = conf_net(p, bridge);
	args->bridge = bridge;
	if (args->net == NET_USER) {
		int stack = net_user_stack(p->net_stack, e);

		if (stack < 0)
			return -1;
		args->net_stack = (unsigned long)stack;
	}
	if (*p->net_dns)
		str_copy(dns, sizeof(dns), p->net_dns);
	else if (args->net == NET_USER && args->net_stack == NET_STACK_SLIRP)
		str_copy(dns, sizeof(dns), NET_SLIRP_DNS);
	else if (args->net == NET_USER)
		net_host_gateway(dns, sizeof(dns));
	else if (args->net == NET_BRIDGE)
		net_host_dns(dns, sizeof(dns));
	args->net_dns = args->net == NET_HOST ? "" : dns;
	if (life_pipe(p->share_user, s->id, &reader, &writer, e) < 0)
		return -1;
	{
		const struct cell_spec spec = { .args = args,
						.cell_init = c->cell_init,
						.timeout_ms = CREATE_TIMEOUT_MS,
						.life_fd = reader };

		if (cell_create(&spec, &h, e) < 0) {
			if (p->share_user)
				registry_life_remove(s->id);
			return cell_err_prefix(e, "creating the cell: ");
		}
	}
	s->pidfd = h.pidfd;
	s->life = steal_fd(&writer);
	timing_mark("verify");
	memset(&s->rec, 0, sizeof(s->rec));
	memcpy(s->rec.id, s->id, sizeof(s->rec.id));
	if (fill_record(w, p, &h, digest, &s->rec, e) < 0)
		return -1;
	if (registry_write(&s->rec, e) < 0)
		return cell_err_prefix(e, "registering the cell: ");
	if (p->share_user && registry_shared_set(a->uid, s->id, e) < 0) {
		registry_remove(s->id, (uid_t)a->uid, &(struct cell_err){ 0 });
		return cell_err_prefix(e, "registering the shared cell: ");
	}
	/* The profile's seccomp filter, compiled once for all its cells
	 * (cellsh compiles it itself if this fails). */
	{
		_cleanup_close_ int run = registry_dir(&(struct cell_err){ 0 });

		if (run >= 0)
			sb_seccomp_cache(run, p->seccomp_allow, p->seccomp_deny,
					 &(struct cell_err){ 0 });
	}
	timing_mark("registry+filter");
	return 0;
}

int session_open(const struct cell_conf *c, const struct cell_profile *p,
		 const struct session_who *w, struct cell_session *s, struct cell_err *e)
{
	_cleanup_close_ int lock = -1;
	char digest[CELL_DIGEST_LEN + 1];
	struct cell_err ignored;
	int joined = 0;

	memset(s, 0, sizeof(*s));
	s->pidfd = s->life = -1;
	s->shared = p->share_user;
	conf_profile_digest(p, digest);
	if (s->shared || p->max_cells) {
		/* Held until the session is set up: no other login of this user
		 * can join, create or end their shared cell, or count their
		 * cells, meanwhile. */
		lock = registry_lock_user(w->acct->uid, LOCK_TIMEOUT_MS, e);
		if (lock < 0)
			return -1;
	}
	if (s->shared) {
		joined = join_shared(w, digest, s, e);
		if (joined < 0)
			return -1;
	}
	s->joined = joined == 1;
	if (!s->joined && p->max_cells) {
		long live = registry_count_user(w->acct->uid, p->max_cells, e);

		if (live < 0)
			return -1;
		if ((unsigned long)live >= p->max_cells)
			return cell_err_set(
				e, EUSERS,
				"user %s already has %ld live cell(s), as many as "
				"'max_cells = %lu' allows: end one (cellctl list; cellctl "
				"stop) or raise max_cells",
				w->acct->name, live, p->max_cells);
	}
	/* The login program stays where it is (on a systemd host, in its
	 * logind session scope): cellsh asks the monitor to move the shell
	 * into the cell's cgroup (monitor.c). */
	if (!s->joined && create(c, p, w, digest, s, e) < 0)
		goto undo;
	s->started_ms = now_ms();
	return 0;
undo:
	if (!s->shared && s->pidfd >= 0) {
		cell_kill(s->pidfd, &ignored);
		registry_remove(s->id, w->acct->uid, &ignored);
	}
	/* A shared cell's monitor drops this session; with none left, it ends. */
	if (s->shared && s->life >= 0)
		tell_monitor(s->life, false);
	session_release(s);
	return -1;
}

/* What a SIGKILLed monitor of this session's cell left in the registry:
 * names of this cell only (its id), so nothing of another cell goes. */
static void forget_dead_monitor(const struct cell_session *s)
{
	char user_dir[CG_USER_DIR_LEN];
	struct cgroup_layout l;
	struct cell_err ignored;
	int lock;

	registry_join_remove(s->id);
	registry_linger_clear(s->id);
	/* Its cgroups (systemd removes a scope itself): rmdir of this cell's
	 * own names, which only an empty cgroup allows; its last processes
	 * (PID 1 got SIGKILL with its monitor) may take a moment to go. */
	if (!systemd_booted() && cgroup_layout(&l, &ignored) == 0) {
		cgroup_user_dir((unsigned long)s->rec.uid, user_dir);
		cgroup_destroy_either(&l, user_dir, s->id, DEAD_CGROUP_TIMEOUT_MS);
	}
	/* A shared cell's names only under the user's lock (a login may be
	 * joining it); without the lock they are the next sweep's. */
	if (!s->shared ||
	    (lock = registry_lock_user((uid_t)s->rec.uid, LOCK_TIMEOUT_MS, &ignored)) < 0)
		return;
	registry_shared_clear((uid_t)s->rec.uid, s->id);
	registry_life_remove(s->id);
	registry_remove(s->id, (uid_t)s->rec.uid, &ignored);
	close(lock);
}

int session_close(struct cell_session *s, struct cell_err *e)
{
	struct cell_err later;
	/* The monitor was SIGKILLed: what it removes at its end is ours to
	 * remove, not the next sweep's (after PID 1's kill below). */
	bool monitor_gone = tell_monitor(s->life, false) == MONITOR_GONE;
	int r = 0;

	if (!s->shared) {
		/* SIGKILL to PID 1 ends the whole pid namespace; never wait for it:
		 * the monitor reaps it and removes the cgroups. If this was a
		 * shared cell's last session, its monitor ends it. */
		if (cell_kill(s->pidfd, r ? &later : e) < 0)
			r = -1;
		if (registry_remove(s->id, (uid_t)s->rec.uid, r ? &later : e) < 0)
			r = -1;
	}
	if (monitor_gone)
		forget_dead_monitor(s);
	session_release(s);
	/* What SIGKILLed monitors left, at a logout (not on a login's path),
	 * once a minute at most. */
	registry_sweep(60);
	return r;
}

void session_release(struct cell_session *s)
{
	closep(&s->pidfd);
	closep(&s->life);
	s->pidfd = s->life = -1;
}
