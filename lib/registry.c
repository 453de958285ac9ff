// SPDX-License-Identifier: MIT
#include "registry.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

bool cell_id_valid(const char *id)
{
	size_t i;

	for (i = 0; id[i]; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return i == CELL_ID_LEN;
}

int cell_id_new(char id[CELL_ID_LEN + 1], struct cell_err *e)
{
	unsigned char raw[CELL_ID_LEN / 2];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return cell_err_sys(e, "getrandom");
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

static int open_run_dir(bool create, struct cell_err *e)
{
	_cleanup_close_ int dfd = -1, real = -1;

	/* /run is root's; a pre-existing CELL_RUN_DIR must be too (checked below). */
	if (create && mkdir(CELL_RUN_DIR, 0711) < 0 && errno != EEXIST)
		return cell_err_sys(e, "creating %s", CELL_RUN_DIR);
	dfd = open_trusted_path(CELL_RUN_DIR, true, e);
	if (dfd < 0 || !create)
		return steal_fd(&dfd);
	/* 0711 whatever the login program's umask (pam_umask 077 is common):
	 * users must reach their own record, but not list the others. */
	real = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (real < 0 || fchmod(real, 0711) < 0)
		return cell_err_sys(e, "setting the mode of %s", CELL_RUN_DIR);
	return steal_fd(&dfd);
}

static bool value_ok(const char *v)
{
	return !strchr(v, '\n');
}

int registry_write(const struct cell_record *r, struct cell_err *e)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	char buf[8192];
	int len;

	if (!value_ok(r->user) || !value_ok(r->service) || !value_ok(r->tty) ||
	    !value_ok(r->home) || !value_ok(r->shell) || !value_ok(r->path) ||
	    !value_ok(r->rlimits) || !value_ok(r->seccomp_allow) || !value_ok(r->seccomp_deny))
		return cell_err_set(e, EINVAL, "newline in a registry value");
	len = snprintf(buf, sizeof(buf),
		       "id=%s\npid=%d\nstarttime=%llu\nuid=%u\ngid=%u\nuser=%s\n"
		       "service=%s\ntty=%s\nidentity=%d\ninside_uid=%lu\ninside_gid=%lu\n"
		       "home=%s\nshell=%s\npath=%s\nhostname=%s\ncreated=%lld\n"
		       "shared=%d\nrlimits=%s\nseccomp_allow=%s\nseccomp_deny=%s\n",
		       r->id, (int)r->pid, r->starttime, (unsigned)r->uid,
		       (unsigned)r->gid, r->user, r->service, r->tty, (int)r->identity,
		       r->inside_uid, r->inside_gid, r->home, r->shell, r->path,
		       r->hostname, r->created, r->shared ? 1 : 0, r->rlimits,
		       r->seccomp_allow, r->seccomp_deny);
	for (int i = 0; i < NS_COUNT && len > 0 && (size_t)len < sizeof(buf); i++)
		len += snprintf(buf + len, sizeof(buf) - (size_t)len, "ns_%s=%lu\n",
				ns_names[i], r->ns[i]);
	if (len < 0 || (size_t)len >= sizeof(buf))
		return cell_err_set(e, E2BIG, "registry record too long");
	dfd = open_run_dir(true, e);
	if (dfd < 0)
		return cell_err_prefix(e, "registry: ");
	/* O_EXCL|O_NOFOLLOW in a root-only directory: nothing can be planted. */
	fd = openat(dfd, r->id, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return cell_err_sys(e, "registry: creating %s/%s", CELL_RUN_DIR, r->id);
	/* 0644 whatever the umask: cellsh, running as the user, reads it. */
	if (fchmod(fd, 0644) < 0 || write_all(fd, buf, (size_t)len) < 0) {
		cell_err_sys(e, "registry: writing %s/%s", CELL_RUN_DIR, r->id);
		unlinkat(dfd, r->id, 0);
		return -1;
	}
	return 0;
}

static int field(const char *buf, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);

	for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			const char *v = p + klen + 1, *nl = strchrnul(v, '\n');

			if ((size_t)(nl - v) >= size)
				return -1;
			memcpy(out, v, (size_t)(nl - v));
			out[nl - v] = '\0';
			return 0;
		}
	}
	return -1;
}

static int field_ul(const char *buf, const char *key, unsigned long *out)
{
	char v[32];

	return field(buf, key, v, sizeof(v)) < 0 || parse_ulong(v, out) < 0 ? -1 : 0;
}

int registry_read(const char *id, struct cell_record *r, struct cell_err *e)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	unsigned long v[7];
	char buf[8192], key[32];
	struct stat st;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	if (!cell_id_valid(id))
		return cell_err_set(e, EINVAL, "'%s' is not a cell id (32 hex digits)", id);
	dfd = open_run_dir(false, e);
	if (dfd < 0 && e->code == ENOENT)
		return cell_err_set(e, ENOENT, "no live cell %s (no cell exists at all)", id);
	if (dfd < 0)
		return cell_err_prefix(e, "registry: ");
	fd = openat(dfd, id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return cell_err_set(e, ENOENT, "no live cell %s (it has ended, "
					    "or the session never had one)", id);
		return cell_err_sys(e, "registry: opening %s/%s", CELL_RUN_DIR, id);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022))
		return cell_err_set(e, EPERM, "registry entry %s/%s is not a root-owned file",
				    CELL_RUN_DIR, id);
	n = read_all(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return cell_err_sys(e, "registry: reading %s", id);
	buf[n] = '\0';
	if (field(buf, "id", r->id, sizeof(r->id)) < 0 || strcmp(r->id, id) != 0 ||
	    field_ul(buf, "pid", &v[0]) < 0 || field_ul(buf, "uid", &v[1]) < 0 ||
	    field_ul(buf, "gid", &v[2]) < 0 || field_ul(buf, "identity", &v[3]) < 0 ||
	    field_ul(buf, "inside_uid", &r->inside_uid) < 0 ||
	    field_ul(buf, "inside_gid", &r->inside_gid) < 0 ||
	    field_ul(buf, "starttime", &v[4]) < 0 || field_ul(buf, "created", &v[5]) < 0 ||
	    field(buf, "user", r->user, sizeof(r->user)) < 0 ||
	    field(buf, "service", r->service, sizeof(r->service)) < 0 ||
	    field(buf, "tty", r->tty, sizeof(r->tty)) < 0 ||
	    field(buf, "home", r->home, sizeof(r->home)) < 0 ||
	    field(buf, "shell", r->shell, sizeof(r->shell)) < 0 ||
	    field(buf, "path", r->path, sizeof(r->path)) < 0 ||
	    field(buf, "hostname", r->hostname, sizeof(r->hostname)) < 0 ||
	    field_ul(buf, "shared", &v[6]) < 0 ||
	    field(buf, "rlimits", r->rlimits, sizeof(r->rlimits)) < 0 ||
	    field(buf, "seccomp_allow", r->seccomp_allow, sizeof(r->seccomp_allow)) < 0 ||
	    field(buf, "seccomp_deny", r->seccomp_deny, sizeof(r->seccomp_deny)) < 0)
		return cell_err_set(e, EINVAL, "registry entry %s is malformed", id);
	for (int i = 0; i < NS_COUNT; i++) {
		snprintf(key, sizeof(key), "ns_%s", ns_names[i]);
		if (field_ul(buf, key, &r->ns[i]) < 0)
			return cell_err_set(e, EINVAL, "registry entry %s lacks %s", id, key);
	}
	r->pid = (pid_t)v[0];
	r->uid = (uid_t)v[1];
	r->gid = (gid_t)v[2];
	r->identity = (enum cell_identity)v[3];
	r->starttime = v[4];
	r->created = (long long)v[5];
	r->shared = v[6] != 0;
	return 0;
}

int registry_remove(const char *id, struct cell_err *e)
{
	_cleanup_close_ int dfd = -1;

	if (!cell_id_valid(id))
		return cell_err_set(e, EINVAL, "'%s' is not a cell id", id);
	dfd = open_run_dir(false, e);
	if (dfd < 0)
		return -1;
	if (unlinkat(dfd, id, 0) < 0 && errno != ENOENT)
		return cell_err_sys(e, "removing %s/%s", CELL_RUN_DIR, id);
	return 0;
}

static bool record_alive(const struct cell_record *r)
{
	_cleanup_close_ int procfd = -1, piddir = -1;
	struct cell_err e;
	unsigned long long start;
	pid_t ppid;

	procfd = proc_open_root(&e);
	if (procfd < 0)
		return true;	/* cannot tell: keep it */
	piddir = proc_open_pid(procfd, r->pid, &e);
	if (piddir < 0)
		return errno != ENOENT;
	if (proc_stat(piddir, &ppid, &start, &e) < 0)
		return true;
	return start == r->starttime;
}

int registry_sweep(void)
{
	_cleanup_close_ int dfd = -1;
	struct cell_record r;
	struct cell_err e;
	struct dirent *de;
	DIR *d;
	int removed = 0, lfd;

	dfd = open_run_dir(false, &e);
	if (dfd < 0)
		return 0;
	lfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lfd < 0 || !(d = fdopendir(lfd))) {
		if (lfd >= 0)
			close(lfd);
		return 0;
	}
	while ((de = readdir(d))) {
		if (!cell_id_valid(de->d_name) || registry_read(de->d_name, &r, &e) < 0)
			continue;
		if (!record_alive(&r) && unlinkat(dfd, de->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

/* ---- shared cells (share = user) ----
 * In CELL_RUN_DIR, all root-owned and created by root only:
 *   lock-UID     flock()ed around finding, joining, creating and ending the
 *                user's shared cell, so that these never interleave;
 *   shared-UID   the id of the user's shared cell;
 *   ID.life      a FIFO (0600): the monitor holds the read end, every session
 *                a write end; when the last write end closes, the cell ends.
 */

int registry_lock_user(uid_t uid, int timeout_ms, struct cell_err *e)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	char name[32];
	struct stat st;

	dfd = open_run_dir(true, e);
	if (dfd < 0)
		return cell_err_prefix(e, "registry: ");
	snprintf(name, sizeof(name), "lock-%u", (unsigned)uid);
	fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0)
		return cell_err_sys(e, "opening %s/%s", CELL_RUN_DIR, name);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0)
		return cell_err_set(e, EPERM, "%s/%s is not a root-owned file", CELL_RUN_DIR, name);
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited += 10) {
		if (errno != EWOULDBLOCK || waited >= timeout_ms)
			return cell_err_sys(e, "locking %s/%s", CELL_RUN_DIR, name);
		nanosleep(&pause, NULL);
	}
	return steal_fd(&fd);
}

int registry_shared_get(uid_t uid, char id[CELL_ID_LEN + 1])
{
	_cleanup_close_ int dfd = -1, fd = -1;
	struct cell_err e;
	char name[32], buf[CELL_ID_LEN + 2];
	struct stat st;
	ssize_t n;

	dfd = open_run_dir(false, &e);
	snprintf(name, sizeof(name), "shared-%u", (unsigned)uid);
	if (dfd < 0 || (fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0 ||
	    fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0)
		return -1;
	n = read_all(fd, buf, sizeof(buf) - 1);
	if (n != CELL_ID_LEN)
		return -1;
	buf[n] = '\0';
	if (!cell_id_valid(buf))
		return -1;
	memcpy(id, buf, CELL_ID_LEN + 1);
	return 0;
}

int registry_shared_set(uid_t uid, const char *id, struct cell_err *e)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	char name[32];

	dfd = open_run_dir(true, e);
	if (dfd < 0)
		return cell_err_prefix(e, "registry: ");
	snprintf(name, sizeof(name), "shared-%u", (unsigned)uid);
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		return cell_err_sys(e, "removing %s/%s", CELL_RUN_DIR, name);
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, id, CELL_ID_LEN) < 0)
		return cell_err_sys(e, "writing %s/%s", CELL_RUN_DIR, name);
	return 0;
}

void registry_shared_clear(uid_t uid, const char *id)
{
	_cleanup_close_ int dfd = -1;
	char cur[CELL_ID_LEN + 1], name[32];
	struct cell_err e;

	snprintf(name, sizeof(name), "shared-%u", (unsigned)uid);
	if (registry_shared_get(uid, cur) == 0 && strcmp(cur, id) == 0 &&
	    (dfd = open_run_dir(false, &e)) >= 0)
		unlinkat(dfd, name, 0);
}

static void life_name(char *buf, size_t size, const char *id)
{
	snprintf(buf, size, "%s.life", id);
}

int registry_life_create(const char *id, int *reader, int *writer, struct cell_err *e)
{
	_cleanup_close_ int dfd = -1, r = -1, w = -1;
	char name[48];

	if (!cell_id_valid(id))
		return cell_err_set(e, EINVAL, "'%s' is not a cell id", id);
	dfd = open_run_dir(true, e);
	if (dfd < 0)
		return cell_err_prefix(e, "registry: ");
	life_name(name, sizeof(name), id);
	/* A fresh random name in a root-only directory: mkfifo fails if planted. */
	if (mkfifoat(dfd, name, 0600) < 0)
		return cell_err_sys(e, "creating %s/%s", CELL_RUN_DIR, name);
	r = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	w = r < 0 ? -1 : openat(dfd, name, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (r < 0 || w < 0) {
		cell_err_sys(e, "opening %s/%s", CELL_RUN_DIR, name);
		unlinkat(dfd, name, 0);
		return -1;
	}
	*reader = steal_fd(&r);
	*writer = steal_fd(&w);
	return 0;
}

int registry_life_join(const char *id, struct cell_err *e)
{
	_cleanup_close_ int dfd = -1, w = -1;
	char name[48];
	struct stat st;

	if (!cell_id_valid(id))
		return cell_err_set(e, EINVAL, "'%s' is not a cell id", id);
	dfd = open_run_dir(false, e);
	if (dfd < 0)
		return -1;
	life_name(name, sizeof(name), id);
	/* O_NONBLOCK: ENXIO at once when no monitor holds the read end. */
	w = openat(dfd, name, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (w < 0)
		return cell_err_sys(e, "opening %s/%s", CELL_RUN_DIR, name);
	if (fstat(w, &st) < 0 || !S_ISFIFO(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077))
		return cell_err_set(e, EPERM, "%s/%s is not root's FIFO", CELL_RUN_DIR, name);
	return steal_fd(&w);
}

void registry_life_remove(const char *id)
{
	_cleanup_close_ int dfd = -1;
	struct cell_err e;
	char name[48];

	if (!cell_id_valid(id) || (dfd = open_run_dir(false, &e)) < 0)
		return;
	life_name(name, sizeof(name), id);
	unlinkat(dfd, name, 0);
}
