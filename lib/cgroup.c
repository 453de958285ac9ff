// SPDX-License-Identifier: MIT
/*
 * Per-cell cgroups, run as root (pam_cell, cell-init's monitor). Every
 * directory touched is on a cgroup filesystem (statfs checks it), where
 * only root creates entries and there are no symlinks; the paths are built
 * from the hierarchy's mount point and the cell id (32 hex digits), never
 * from anything a user controls.
 */
#include "cgroup.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>

#include "util.h"

static const char *const cg_names[CG_COUNT] = { "pids", "memory", "cpu", "cpuacct" };

/* Is `name` one of the comma-separated words in `list`? */
static bool has_word(const char *list, const char *name, char sep)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p; p = strchr(p, sep), p = p ? p + 1 : NULL)
		if (strncmp(p, name, n) == 0 &&
		    (p[n] == sep || p[n] == '\0' || p[n] == '\n' || p[n] == ' '))
			return true;
	return false;
}

bool systemd_booted(void)
{
	struct stat st;

	/* sd_booted(3)'s test: this directory exists only under systemd as PID 1. */
	return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

/* Every mount of the table read: the kernel writes a line per host mount,
 * 3.3 ms at 2000 mounts, so only where the usual places do not answer. */
int cgroup_layout_scan(struct cgroup_layout *l, struct cell_err *e)
{
	_cleanup_free_ char *line = NULL;
	char v2mount[128] = "", v2ctrl[512] = "";
	size_t cap = 0;
	FILE *f;

	memset(l, 0, sizeof(*l));
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return cell_err_sys(e, "reading /proc/self/mountinfo");
	while (getline(&line, &cap, f) > 0) {
		char mnt[256], fstype[64], opts[512];
		const char *dash = strstr(line, " - ");

		/* id parent maj:min root MOUNTPOINT ... - FSTYPE SOURCE SUPEROPTS */
		if (!dash || sscanf(line, "%*s %*s %*s %*s %255s", mnt) != 1 ||
		    sscanf(dash + 3, "%63s %*s %511s", fstype, opts) != 2 || strchr(mnt, '\\') ||
		    strlen(mnt) >= sizeof(l->mount[0]))
			continue;
		if (strcmp(fstype, "cgroup2") == 0 && !v2mount[0]) {
			char path[300];
			int fd;

			str_copy(v2mount, sizeof(v2mount), mnt); /* length checked above */
			str_copy(l->v2mount, sizeof(l->v2mount), mnt);
			snprintf(path, sizeof(path), "%s/cgroup.controllers", mnt);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				ssize_t n = read_all(fd, v2ctrl, sizeof(v2ctrl) - 1);

				v2ctrl[n > 0 ? n : 0] = '\0';
				close(fd);
			}
		} else if (strcmp(fstype, "cgroup") == 0) {
			for (int c = 0; c < CG_COUNT; c++)
				if (!l->mount[c][0] && has_word(opts, cg_names[c], ','))
					str_copy(l->mount[c], sizeof(l->mount[c]), mnt);
		}
	}
	fclose(f);
	for (int c = 0; c < CG_COUNT; c++) {
		if (v2mount[0] && has_word(v2ctrl, cg_names[c], ' ')) {
			str_copy(l->mount[c], sizeof(l->mount[c]), v2mount);
			l->v2[c] = true;
		}
	}
	return 0;
}

/* Is path itself the root of a mount of this file system type (no symlink
 * followed)? */
static bool mount_root_of(const char *path, long magic)
{
	struct statx sx;
	struct statfs sf;

	return statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx) == 0 &&
	       (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) && S_ISDIR(sx.stx_mode) &&
	       statfs(path, &sf) == 0 && sf.f_type == magic;
}

/* Without the mount table: where systemd and the distributions mount them.
 * /proc/self/cgroup names every v1 hierarchy by its controllers; each of
 * ours must be a cgroup mount root at /sys/fs/cgroup/<controllers>, and the
 * unified one at /sys/fs/cgroup or /sys/fs/cgroup/unified. False (nothing
 * decided) where any is elsewhere or missing. The mount table is root's in
 * either case: this reads the same answer where it finds one. */
bool cgroup_layout_usual(struct cgroup_layout *l)
{
	_cleanup_free_ char *line = NULL;
	char v2ctrl[512] = "";
	size_t cap = 0;
	bool ok = true;
	FILE *f;
	int fd;

	memset(l, 0, sizeof(*l));
	if (mount_root_of("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC))
		str_copy(l->v2mount, sizeof(l->v2mount), "/sys/fs/cgroup");
	else if (mount_root_of("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC))
		str_copy(l->v2mount, sizeof(l->v2mount), "/sys/fs/cgroup/unified");
	else
		return false;
	{
		char path[160];

		snprintf(path, sizeof(path), "%s/cgroup.controllers", l->v2mount);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return false;
		ssize_t n = read_all(fd, v2ctrl, sizeof(v2ctrl) - 1);

		close(fd);
		if (n < 0)
			return false;
		v2ctrl[n] = '\0';
	}
	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return false;
	/* HIERARCHY-ID:CONTROLLERS:PATH, v1's with a nonzero id */
	while (ok && getline(&line, &cap, f) > 0) {
		char *ctrl = strchr(line, ':'), *end;
		char mnt[sizeof(l->mount[0])];
		bool ours = false;

		if (!ctrl || strncmp(line, "0:", 2) == 0 || !(end = strchr(++ctrl, ':')))
			continue;
		*end = '\0';
		for (int c = 0; c < CG_COUNT; c++)
			ours |= has_word(ctrl, cg_names[c], ',');
		if (!ours)
			continue;
		if (snprintf(mnt, sizeof(mnt), "/sys/fs/cgroup/%s", ctrl) >= (int)sizeof(mnt) ||
		    !mount_root_of(mnt, CGROUP_SUPER_MAGIC)) {
			ok = false;
			break;
		}
		for (int c = 0; c < CG_COUNT; c++)
			if (!l->mount[c][0] && has_word(ctrl, cg_names[c], ','))
				str_copy(l->mount[c], sizeof(l->mount[c]), mnt);
	}
	fclose(f);
	if (!ok)
		return false;
	for (int c = 0; c < CG_COUNT; c++) {
		if (has_word(v2ctrl, cg_names[c], ' ')) {
			str_copy(l->mount[c], sizeof(l->mount[c]), l->v2mount);
			l->v2[c] = true;
		}
	}
	return true;
}

int cgroup_layout(struct cgroup_layout *l, struct cell_err *e)
{
	return cgroup_layout_usual(l) ? 0 : cgroup_layout_scan(l, e);
}

/* Root's cgroup directories are 0711 whatever the login program's umask
 * (pam_umask 077): not listable, so no user learns the cells of others,
 * but traversable, so cell-procfs (nobody) reads the files of a cgroup
 * whose path a reader's /proc/PID/cgroup names. */
#define CG_DIR_MODE 0711

/* An fd on a directory that must be on a cgroup file system. */
static int open_cg_dir(int at, const char *name, struct cell_err *e)
{
	_cleanup_close_ int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct statfs sf;

	if (fd < 0)
		return cell_err_sys(e, "opening cgroup directory %s", name);
	if (fstatfs(fd, &sf) < 0 ||
	    (sf.f_type != CGROUP_SUPER_MAGIC && sf.f_type != CGROUP2_SUPER_MAGIC))
		return cell_err_set(e, EINVAL, "%s is not on a cgroup file system", name);
	return steal_fd(&fd);
}

static int write_at(int dir, const char *file, const char *val, struct cell_err *e)
{
	_cleanup_close_ int fd = openat(dir, file, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		return cell_err_sys(e, "writing '%s' to cgroup file %s", val, file);
	return 0;
}

/* Is controller c needed for these limits? Always cpu: a cell outside a cpu
 * cgroup competes per process, so one cell of many busy processes starves
 * every other user's. Memory and cpuacct also to be counted on their own
 * (proc views: free and top read the cell's usage). */
static bool wanted(int c, const struct cell_limits *lim)
{
	switch (c) {
	case CG_PIDS:
		return lim->pids_max > 0;
	case CG_MEMORY:
		return lim->memory_max > 0 || lim->account;
	case CG_CPUACCT:
		return lim->account;
	default:
		return true;
	}
}

/* v2: a controller reaches a child only through subtree_control. */
static int enable_below(int dir, const struct cgroup_layout *l, int c, struct cell_err *e)
{
	char ctl[32];

	if (!l->v2[c])
		return 0;
	snprintf(ctl, sizeof(ctl), "+%s", cg_names[c]);
	return write_at(dir, "cgroup.subtree_control", ctl, e);
}

/* <mount>/cell, or with a user directory <mount>/cell/<user>, of
 * controller c (made, with c enabled below it, if create), or -1. */
static int open_parent(const struct cgroup_layout *l, int c, const char *user, bool create,
		       struct cell_err *e)
{
	_cleanup_close_ int root = -1, parent = -1;

	root = open_cg_dir(AT_FDCWD, l->mount[c], e);
	if (root < 0)
		return -1;
	if (create && mkdirat(root, CELL_CGROUP_PARENT, 0755) < 0 && errno != EEXIST)
		return cell_err_sys(e, "creating %s/%s", l->mount[c], CELL_CGROUP_PARENT);
	if (create && enable_below(root, l, c, e) < 0)
		return -1;
	parent = open_cg_dir(root, CELL_CGROUP_PARENT, e);
	if (parent < 0 || (create && enable_below(parent, l, c, e) < 0))
		return -1;
	if (create && fchmod(parent, CG_DIR_MODE) < 0)
		return cell_err_sys(e, "chmod %s/%s", l->mount[c], CELL_CGROUP_PARENT);
	if (!user)
		return steal_fd(&parent);
	if (create && mkdirat(parent, user, 0755) < 0 && errno != EEXIST)
		return cell_err_sys(e, "creating cgroup %s/%s/%s", l->mount[c], CELL_CGROUP_PARENT,
				    user);
	root = open_cg_dir(parent, user, e); /* reused: the user's directory */
	if (root < 0 || (create && enable_below(root, l, c, e) < 0))
		return -1;
	if (create && fchmod(root, CG_DIR_MODE) < 0)
		return cell_err_sys(e, "chmod %s/%s/%s", l->mount[c], CELL_CGROUP_PARENT, user);
	return steal_fd(&root);
}

static int set_limit(int dir, int c, bool v2, const struct cell_limits *lim, struct cell_err *e)
{
	char v[32];

	switch (c) {
	case CG_CPUACCT:
		return 0; /* nothing to limit, it counts */
	case CG_PIDS:
		snprintf(v, sizeof(v), "%lu", lim->pids_max);
		return write_at(dir, "pids.max", v, e);
	case CG_MEMORY:
		if (!lim->memory_max)
			return 0; /* counted only */
		snprintf(v, sizeof(v), "%llu", lim->memory_max);
		if (v2) {
			if (write_at(dir, "memory.max", v, e) < 0)
				return -1;
			/* memory_max covers swap too. */
			if (faccessat(dir, "memory.swap.max", F_OK, 0) == 0)
				return write_at(dir, "memory.swap.max", "0", e);
			return 0;
		}
		if (write_at(dir, "memory.limit_in_bytes", v, e) < 0)
			return -1;
		if (faccessat(dir, "memory.memsw.limit_in_bytes", F_OK, 0) == 0)
			return write_at(dir, "memory.memsw.limit_in_bytes", v, e);
		return 0;
	default:
		if (v2) {
			snprintf(v, sizeof(v), "%lu", lim->cpu_weight);
			return write_at(dir, "cpu.weight", v, e);
		}
		/* v1 shares: 1024 is the default, as 100 is for v2's weight. */
		snprintf(v, sizeof(v), "%lu",
			 lim->cpu_weight * 1024 / 100 < 2 ? 2 : lim->cpu_weight * 1024 / 100);
		return write_at(dir, "cpu.shares", v, e);
	}
}

/* Is any of the user's limits set? Then the cells go in a parent of theirs. */
static bool any_limit(const struct cell_limits *u)
{
	return u && (u->pids_max || u->memory_max || u->cpu_weight);
}

int cgroup_create(const struct cgroup_layout *l, const char *user, const struct cell_limits *ulim,
		  const char *id, const struct cell_limits *lim, struct cell_err *e)
{
	if (!any_limit(ulim))
		user = NULL;
	for (int c = 0; c < CG_COUNT; c++) {
		_cleanup_close_ int parent = -1, dir = -1;
		bool user_wants = user && (c == CG_CPU ? ulim->cpu_weight > 0 : wanted(c, ulim));

		if (!wanted(c, lim) && !user_wants)
			continue;
		if (!l->mount[c][0] && c == CG_CPUACCT)
			continue; /* v2, or no accounting to be had: proc views show 0 */
		if (!l->mount[c][0] && c == CG_CPU)
			return cell_err_set(e, ENOENT,
					    "no cgroup hierarchy (v1 or v2) offers the "
					    "cpu controller, which every cell needs so that one "
					    "cannot starve the others: enable it");
		if (!l->mount[c][0])
			return cell_err_set(e, ENOENT,
					    "the profile sets a %s limit but no cgroup "
					    "hierarchy (v1 or v2) offers the %s controller: "
					    "mount it, or unset the limit in cell.conf",
					    cg_names[c], cg_names[c]);
		/* A user's last cell may remove the user's directory between our
		 * mkdir of it and of ours: then again. */
		for (int tries = 0; tries < 3; tries++) {
			if (parent >= 0)
				close(parent);
			parent = open_parent(l, c, user, true, e);
			if (parent < 0)
				return -1;
			if (mkdirat(parent, id, 0755) == 0 || errno == EEXIST)
				break;
			if (errno != ENOENT || tries == 2)
				return cell_err_sys(e, "creating cgroup %s/%s/%s%s%s", l->mount[c],
						    CELL_CGROUP_PARENT, user ? user : "",
						    user ? "/" : "", id);
		}
		dir = open_cg_dir(parent, id, e);
		if (dir >= 0 && fchmod(dir, CG_DIR_MODE) < 0)
			return cell_err_sys(e, "chmod of the cell's cgroup");
		if (dir < 0 || (wanted(c, lim) && set_limit(dir, c, l->v2[c], lim, e) < 0))
			return -1;
		/* The user's limits: the same for each of their cells, rewritten. */
		if (user_wants && set_limit(parent, c, l->v2[c], ulim, e) < 0)
			return -1;
	}
	return 0;
}

void cgroup_user_dir(unsigned long uid, char buf[CG_USER_DIR_LEN])
{
	snprintf(buf, CG_USER_DIR_LEN, "u%lu", uid);
}

/* cgroup_destroy below <parent>/<user> (user NULL: below the parent).
 * *waited: the ms already waited, against timeout_ms for the whole call. */
static int destroy_below(const struct cgroup_layout *l, const char *user, const char *id,
			 int timeout_ms, int *waited)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	int left = 0;

	for (int c = 0; c < CG_COUNT; c++) {
		_cleanup_close_ int parent = -1, top = -1;
		struct cell_err ignored;

		if (!l->mount[c][0] || (parent = open_parent(l, c, user, false, &ignored)) < 0)
			continue;
		/* rmdir fails with EBUSY while a process is still in it. */
		while (unlinkat(parent, id, AT_REMOVEDIR) < 0) {
			if (errno == ENOENT)
				break;
			if (errno != EBUSY || *waited >= timeout_ms) {
				left++;
				break;
			}
			nanosleep(&pause, NULL);
			*waited += 20;
		}
		/* The user's directory goes with their last cell (EBUSY else). */
		if (user && (top = open_parent(l, c, NULL, false, &ignored)) >= 0)
			unlinkat(top, user, AT_REMOVEDIR);
	}
	return left;
}

int cgroup_destroy(const struct cgroup_layout *l, const char *user, const struct cell_limits *ulim,
		   const char *id, int timeout_ms)
{
	int waited = 0;

	return destroy_below(l, any_limit(ulim) ? user : NULL, id, timeout_ms, &waited);
}

int cgroup_destroy_either(const struct cgroup_layout *l, const char *user, const char *id,
			  int timeout_ms)
{
	int waited = 0;

	/* The shape not used has no such directory: ENOENT, nothing waits. */
	return destroy_below(l, NULL, id, timeout_ms, &waited) +
	       destroy_below(l, user, id, timeout_ms, &waited);
}

/* Add <mount>/<rel>/cgroup.procs, unless that hierarchy is in already. */
static int add_procs(struct cell_cgroup *cg, const char **seen, const char *mount, const char *rel,
		     struct cell_err *e)
{
	_cleanup_close_ int root = -1, dir = -1;
	int fd;

	for (int i = 0; i < cg->n; i++)
		if (seen[i] && strcmp(seen[i], mount) == 0)
			return 0;
	if (cg->n >= CG_MAX_HIER)
		return cell_err_set(e, E2BIG, "more cgroup hierarchies than expected");
	while (*rel == '/')
		rel++;
	root = open_cg_dir(AT_FDCWD, mount, e);
	if (root < 0)
		return -1;
	dir = *rel ? open_cg_dir(root, rel, e) : steal_fd(&root);
	if (dir < 0)
		return -1;
	fd = openat(dir, "cgroup.procs", O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cell_err_sys(e, "opening %s/%s/cgroup.procs", mount, rel);
	seen[cg->n] = mount;
	cg->procs[cg->n++] = fd;
	return 0;
}

int cgroup_open_direct(const struct cgroup_layout *l, const char *user,
		       const struct cell_limits *ulim, const char *id, struct cell_cgroup *cg,
		       struct cell_err *e)
{
	const char *seen[CG_MAX_HIER] = { NULL };
	char rel[128];

	cg->n = 0;
	if (any_limit(ulim) && user)
		snprintf(rel, sizeof(rel), "%s/%s/%s", CELL_CGROUP_PARENT, user, id);
	else
		snprintf(rel, sizeof(rel), "%s/%s", CELL_CGROUP_PARENT, id);
	for (int c = 0; c < CG_COUNT; c++) {
		struct stat st;
		char path[256];

		/* Only the controllers cgroup_create made a directory in. */
		snprintf(path, sizeof(path), "%s/%s", l->mount[c], rel);
		if (!l->mount[c][0] || stat(path, &st) < 0)
			continue;
		if (add_procs(cg, seen, l->mount[c], rel, e) < 0) {
			cgroup_close(cg);
			return -1;
		}
	}
	return 0;
}

int cgroup_open_unit(const struct cgroup_layout *l, const char *unit, struct cell_cgroup *cg,
		     struct cell_err *e)
{
	const char *seen[CG_MAX_HIER] = { NULL };
	_cleanup_free_ char *line = NULL;
	bool unified = false;
	size_t cap = 0;
	FILE *f;
	int r = 0;

	cg->n = 0;
	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return cell_err_sys(e, "reading /proc/self/cgroup");
	/* N:controllers:path; 0::path for the unified hierarchy. */
	while (r == 0 && getline(&line, &cap, f) > 0) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		const char *path, *base, *mount = NULL;

		if (!c2)
			continue;
		*c2 = '\0';
		path = c2 + 1;
		c2[1 + strcspn(path, "\n")] = '\0';
		base = strrchr(path, '/');
		if (!base || strcmp(base + 1, unit) != 0)
			continue; /* a hierarchy systemd does not put the unit in */
		if (c1[1] == '\0') {
			mount = l->v2mount[0] ? l->v2mount : NULL;
			unified = mount != NULL;
		}
		for (int c = 0; !mount && c < CG_COUNT; c++)
			if (!l->v2[c] && l->mount[c][0] && has_word(c1 + 1, cg_names[c], ','))
				mount = l->mount[c];
		if (mount)
			r = add_procs(cg, seen, mount, path, e);
	}
	fclose(f);
	if (r == 0 && !unified)
		r = cell_err_set(e, ENOENT,
				 "systemd started %s but this process is not in its cgroup of "
				 "the unified hierarchy",
				 unit);
	if (r < 0)
		cgroup_close(cg);
	return r;
}

int cgroup_move(const struct cell_cgroup *cg, pid_t pid, struct cell_err *e)
{
	char v[24];
	int len = snprintf(v, sizeof(v), "%d", (int)pid);

	for (int i = 0; i < cg->n; i++)
		if (pwrite(cg->procs[i], v, (size_t)len, 0) != len)
			return cell_err_sys(e, "moving process %d into the cell's cgroup",
					    (int)pid);
	return 0;
}

void cgroup_close(struct cell_cgroup *cg)
{
	for (int i = 0; i < cg->n; i++)
		close(cg->procs[i]);
	cg->n = 0;
}
