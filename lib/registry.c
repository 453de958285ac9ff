// SPDX-License-Identifier: MIT
#include "registry.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

int registry_dir(struct cell_err *e)
{
	return open_run_dir(true, e);
}

/* ---- the record: one row per field ---- */

enum field_type { F_STR, F_NUM };

struct field {
	const char *name;
	enum field_type type;
	size_t off, size;
};

/* One row per field reads best as a table. */
/* clang-format off */
#define STR(f) { #f, F_STR, offsetof(struct cell_record, f), sizeof(((struct cell_record *)0)->f) }
#define NUM(f) { #f, F_NUM, offsetof(struct cell_record, f), sizeof(((struct cell_record *)0)->f) }
#define NS(i, n) { "ns_" n, F_NUM, offsetof(struct cell_record, ns) + (i) * sizeof(unsigned long), \
		   sizeof(unsigned long) }

static const struct field fields[] = {
	STR(id), NUM(pid), NUM(starttime), NUM(uid), NUM(gid), STR(user), STR(service),
	STR(tty), STR(rhost), STR(section), STR(profile), NUM(identity), NUM(inside_uid), NUM(inside_gid), STR(home), STR(shell),
	STR(path), STR(hostname), NUM(created), NUM(shared), STR(rlimits),
	STR(seccomp_allow), STR(seccomp_deny), STR(profile_digest), STR(rootfs),
	STR(env_keep), STR(env_deny), STR(env_set), STR(net), NUM(landlock),
	NS(NS_USER, "user"), NS(NS_MNT, "mnt"), NS(NS_PID, "pid"), NS(NS_UTS, "uts"),
	NS(NS_IPC, "ipc"), NS(NS_CGROUP, "cgroup"), NS(NS_TIME, "time"), NS(NS_NET, "net"),
};
/* clang-format on */

/* Numbers are unsigned in every field (pid, ids, times, flags). */
static unsigned long long num_get(const void *p, size_t size)
{
	switch (size) {
	case 1:
		return *(const unsigned char *)p;
	case 4:
		return *(const uint32_t *)p;
	default:
		return *(const uint64_t *)p;
	}
}

static bool num_set(void *p, size_t size, unsigned long long v)
{
	switch (size) {
	case 1:
		if (v > 1)
			return false;
		*(unsigned char *)p = (unsigned char)v;
		return true;
	case 4:
		if (v > UINT32_MAX)
			return false;
		*(uint32_t *)p = (uint32_t)v;
		return true;
	default:
		*(uint64_t *)p = v;
		return true;
	}
}

int registry_format(const struct cell_record *r, char *buf, size_t size, struct cell_err *e)
{
	size_t off = 0;
	int n = snprintf(buf, size, "version=%d\n", CELL_RECORD_VERSION);

	for (size_t i = 0; n >= 0 && (size_t)n < size - off && i <= ARRAY_SIZE(fields); i++) {
		const struct field *f = &fields[i];
		const char *p;

		off += (size_t)n;
		if (i == ARRAY_SIZE(fields))
			return 0;
		p = (const char *)r + f->off;
		if (f->type == F_STR) {
			if (!memchr(p, '\0', f->size) || strchr(p, '\n'))
				return cell_err_set(e, EINVAL, "registry: bad value for %s",
						    f->name);
			n = snprintf(buf + off, size - off, "%s=%s\n", f->name, p);
		} else {
			n = snprintf(buf + off, size - off, "%s=%llu\n", f->name,
				     num_get(p, f->size));
		}
	}
	return cell_err_set(e, E2BIG, "registry record too long");
}

int registry_parse(const char *text, struct cell_record *r, struct cell_err *e)
{
	bool seen[ARRAY_SIZE(fields)] = { false };
	char version[24];
	int line = 0,
	    hlen = snprintf(version, sizeof(version), "version=%d\n", CELL_RECORD_VERSION);

	memset(r, 0, sizeof(*r));
	if (strncmp(text, version, (size_t)hlen) != 0)
		return cell_err_set(e, EPROTO,
				    "registry record of another version (this is "
				    "version %d): a cell of an older or newer cell is still "
				    "running; end it (pkill -KILL -u USER) or reboot",
				    CELL_RECORD_VERSION);
	for (const char *p = text + hlen; *p;) {
		const char *nl = strchrnul(p, '\n'), *eq = memchr(p, '=', (size_t)(nl - p));
		size_t i, klen, vlen;

		line++;
		if (!eq)
			return cell_err_set(e, EINVAL, "registry record line %d has no '='", line);
		klen = (size_t)(eq - p);
		vlen = (size_t)(nl - eq - 1);
		for (i = 0; i < ARRAY_SIZE(fields); i++)
			if (strlen(fields[i].name) == klen && memcmp(p, fields[i].name, klen) == 0)
				break;
		if (i == ARRAY_SIZE(fields) || seen[i])
			return cell_err_set(e, EINVAL,
					    "registry record: unknown or repeated "
					    "field '%.*s'",
					    (int)klen, p);
		seen[i] = true;
		if (fields[i].type == F_STR) {
			if (vlen >= fields[i].size)
				return cell_err_set(e, EINVAL, "registry record: %s too long",
						    fields[i].name);
			memcpy((char *)r + fields[i].off, eq + 1, vlen);
		} else {
			char num[24];
			unsigned long v;

			if (vlen >= sizeof(num) ||
			    (memcpy(num, eq + 1, vlen), num[vlen] = '\0',
			     parse_ulong(num, &v) < 0) ||
			    !num_set((char *)r + fields[i].off, fields[i].size, v))
				return cell_err_set(e, EINVAL, "registry record: bad %s",
						    fields[i].name);
		}
		p = *nl ? nl + 1 : nl;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (!seen[i])
			return cell_err_set(e, EINVAL, "registry record lacks %s", fields[i].name);
	if (!cell_id_valid(r->id) || r->pid <= 1 || r->identity > IDENTITY_SELF)
		return cell_err_set(e, EINVAL, "registry record has impossible values");
	return 0;
}

/* ---- the per-user index ----
 * CELL_RUN_DIR/by-uid/UID/ID: a hard link to each record of that uid's
 * cells (root's directories, 0700), so that counting a user's cells reads
 * theirs, not every cell's: 37 us a record, 75 ms a login at 2000 cells. */
#define BY_UID "by-uid"

/* by-uid/UID under the registry fd dfd, made if create; -1 if missing. */
static int open_user_index(int dfd, uid_t uid, bool create, struct cell_err *e)
{
	_cleanup_close_ int top = -1, dir = -1;
	char name[16];
	struct stat st;

	snprintf(name, sizeof(name), "%u", (unsigned)uid);
	if (create && mkdirat(dfd, BY_UID, 0700) < 0 && errno != EEXIST)
		return cell_err_sys(e, "registry: creating %s/%s", CELL_RUN_DIR, BY_UID);
	top = openat(dfd, BY_UID, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (top < 0)
		return cell_err_sys(e, "registry: opening %s/%s", CELL_RUN_DIR, BY_UID);
	if (create && mkdirat(top, name, 0700) < 0 && errno != EEXIST)
		return cell_err_sys(e, "registry: creating %s/%s/%s", CELL_RUN_DIR, BY_UID, name);
	dir = openat(top, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return cell_err_sys(e, "registry: opening %s/%s/%s", CELL_RUN_DIR, BY_UID, name);
	/* Only root makes entries in CELL_RUN_DIR: checked all the same. */
	if (fstat(dir, &st) < 0 || st.st_uid != 0 || (st.st_mode & 022))
		return cell_err_set(e, EPERM, "%s/%s/%s is not root's directory", CELL_RUN_DIR,
				    BY_UID, name);
	return steal_fd(&dir);
}

/* Link the record (just written) into its user's index. A last cell's
 * monitor may remove an emptied user directory meanwhile: then again. */
static int index_add(int dfd, const struct cell_record *r, struct cell_err *e)
{
	for (int tries = 0; tries < 3; tries++) {
		_cleanup_close_ int dir = open_user_index(dfd, (uid_t)r->uid, true, e);

		if (dir < 0)
			return -1;
		if (linkat(dfd, r->id, dir, r->id, 0) == 0)
			return 0;
		if (errno != ENOENT)
			break;
	}
	return cell_err_sys(e, "registry: linking %s into %s/%s (is /run full or read-only? df %s)",
			    r->id, CELL_RUN_DIR, BY_UID, CELL_RUN_DIR);
}

/* Out of its user's index; the directories too once empty (rmdir fails
 * while they are not): no cell, nothing of the index left. */
static void index_remove(int dfd, uid_t uid, const char *id)
{
	_cleanup_close_ int top = -1, dir = -1;
	struct cell_err ignored;
	char name[16];

	dir = open_user_index(dfd, uid, false, &ignored);
	if (dir < 0)
		return;
	unlinkat(dir, id, 0);
	snprintf(name, sizeof(name), "%u", (unsigned)uid);
	top = openat(dfd, BY_UID, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (top >= 0 && unlinkat(top, name, AT_REMOVEDIR) == 0)
		unlinkat(dfd, BY_UID, AT_REMOVEDIR);
}

int registry_write(const struct cell_record *r, struct cell_err *e)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	char buf[16384];

	if (registry_format(r, buf, sizeof(buf), e) < 0)
		return -1;
	dfd = open_run_dir(true, e);
	if (dfd < 0)
		return cell_err_prefix(e, "registry: ");
	/* O_EXCL|O_NOFOLLOW in a root-only directory: nothing can be planted. */
	fd = openat(dfd, r->id, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return cell_err_sys(e, "registry: creating %s/%s", CELL_RUN_DIR, r->id);
	/* 0644 whatever the umask: cellsh, running as the user, reads it. */
	if (fchmod(fd, 0644) < 0 || write_all(fd, buf, strlen(buf)) < 0) {
		cell_err_sys(e, "registry: writing %s/%s", CELL_RUN_DIR, r->id);
		unlinkat(dfd, r->id, 0);
		return -1;
	}
	if (index_add(dfd, r, e) < 0) {
		unlinkat(dfd, r->id, 0);
		return -1;
	}
	return 0;
}

/* The record named id in directory dfd (CELL_RUN_DIR or a user's index):
 * a root-owned regular file, written by root only, for that cell. */
static int read_record_at(int dfd, const char *id, struct cell_record *r, struct cell_err *e)
{
	_cleanup_close_ int fd = -1;
	char buf[16384];
	struct stat st;
	ssize_t n;

	fd = openat(dfd, id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return cell_err_set(e, ENOENT,
					    "no live cell %s (it has ended, "
					    "or the session never had one)",
					    id);
		return cell_err_sys(e, "registry: opening %s/%s", CELL_RUN_DIR, id);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		return cell_err_set(e, EPERM, "registry entry %s/%s is not a root-owned file",
				    CELL_RUN_DIR, id);
	n = read_all(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return cell_err_sys(e, "registry: reading %s", id);
	buf[n] = '\0';
	if (registry_parse(buf, r, e) < 0)
		return cell_err_prefix(e, "cell %s: ", id);
	if (strcmp(r->id, id) != 0)
		return cell_err_set(e, EINVAL, "registry entry %s names another cell", id);
	return 0;
}

int registry_read(const char *id, struct cell_record *r, struct cell_err *e)
{
	_cleanup_close_ int dfd = -1;

	memset(r, 0, sizeof(*r));
	if (!cell_id_valid(id))
		return cell_err_set(e, EINVAL, "'%s' is not a cell id (32 hex digits)", id);
	dfd = open_run_dir(false, e);
	if (dfd < 0 && e->code == ENOENT)
		return cell_err_set(e, ENOENT, "no live cell %s (no cell exists at all)", id);
	if (dfd < 0)
		return cell_err_prefix(e, "registry: ");
	return read_record_at(dfd, id, r, e);
}

int registry_remove(const char *id, uid_t uid, struct cell_err *e)
{
	_cleanup_close_ int dfd = -1;

	if (!cell_id_valid(id))
		return cell_err_set(e, EINVAL, "'%s' is not a cell id", id);
	dfd = open_run_dir(false, e);
	if (dfd < 0)
		return -1;
	index_remove(dfd, uid, id);
	if (unlinkat(dfd, id, 0) < 0 && errno != ENOENT)
		return cell_err_sys(e, "removing %s/%s", CELL_RUN_DIR, id);
	return 0;
}

/* Keep a record unless its PID 1 is surely gone or another process now. */
static bool record_alive(const struct cell_record *r)
{
	_cleanup_close_ int procfd = -1, pidfd = -1;
	struct cell_err e = { 0 };

	procfd = proc_open_root(&e);
	if (procfd < 0)
		return true; /* cannot tell: keep it */
	pidfd = proc_pin(procfd, r->pid, r->starttime, NULL, &e);
	return pidfd >= 0 || e.code != ESRCH;
}

static int join_addr(const char *id, struct sockaddr_un *sa, struct cell_err *e);

/* Is name "ID.join" with no monitor listening any more (a SIGKILLed one)? */
static bool join_stale(const char *name, char id[CELL_ID_LEN + 1])
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa;
	struct cell_err e;

	if (strlen(name) != CELL_ID_LEN + 5 || strcmp(name + CELL_ID_LEN, ".join") != 0)
		return false;
	memcpy(id, name, CELL_ID_LEN);
	id[CELL_ID_LEN] = '\0';
	if (join_addr(id, &sa, &e) < 0)
		return false;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	       errno == ECONNREFUSED;
}

/* The registry directory to list (dfd: open_run_dir's), or NULL. */
DIR *registry_list(int dfd)
{
	int lfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = lfd < 0 ? NULL : fdopendir(lfd);

	if (!d && lfd >= 0)
		close(lfd);
	return d;
}

int registry_sweep(int every_s)
{
	_cleanup_close_ int dfd = -1, stamp = -1;
	struct cell_record r;
	struct cell_err e;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int removed = 0;

	dfd = open_run_dir(false, &e);
	if (dfd < 0)
		return 0;
	/* "swept": its mtime is the last sweep's time (root's file in root's
	 * directory; a racing second sweep does no harm). */
	if (every_s > 0) {
		stamp = openat(dfd, "swept", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (stamp < 0 || fstat(stamp, &st) < 0)
			return 0;
		if (st.st_size > 0 && time(NULL) - st.st_mtime < every_s)
			return 0;
		if (pwrite(stamp, "1", 1, 0) != 1 || futimens(stamp, NULL) < 0)
			return 0;
	}
	if (!(d = registry_list(dfd)))
		return 0;
	while ((de = readdir(d))) {
		char id[CELL_ID_LEN + 1];

		if (join_stale(de->d_name, id)) {
			unlinkat(dfd, de->d_name, 0);
			continue;
		}
		if (!cell_id_valid(de->d_name) || registry_read(de->d_name, &r, &e) < 0)
			continue;
		if (!record_alive(&r) && unlinkat(dfd, de->d_name, 0) == 0) {
			index_remove(dfd, (uid_t)r.uid, de->d_name);
			registry_linger_clear(de->d_name);
			removed++;
		}
	}
	closedir(d);
	return removed;
}

long registry_count_user(uid_t uid, unsigned long limit, struct cell_err *e)
{
	_cleanup_close_ int dfd = -1, dir = -1;
	struct cell_record r;
	struct cell_err ignored;
	struct dirent *de;
	long n = 0;
	DIR *d;

	/* Made if missing: a registry that cannot be read cannot say no. */
	dfd = open_run_dir(true, e);
	if (dfd < 0)
		return cell_err_prefix(e, "counting the user's cells: ");
	dir = open_user_index(dfd, uid, false, e);
	if (dir < 0 && e->code == ENOENT)
		return 0; /* no cell of theirs was ever indexed, or the last has gone */
	if (dir < 0)
		return cell_err_prefix(e, "counting the user's cells: ");
	if (!(d = fdopendir(dir)))
		return cell_err_sys(e, "counting the user's cells: listing %s/%s", CELL_RUN_DIR,
				    BY_UID);
	dir = -1; /* the DIR's now */
	/* Up to the limit: each record read costs a /proc lookup (37 us). */
	while ((unsigned long)n < limit && (de = readdir(d))) {
		if (!cell_id_valid(de->d_name))
			continue;
		memset(&r, 0, sizeof(r));
		if (read_record_at(dirfd(d), de->d_name, &r, &ignored) < 0) {
			/* Gone meanwhile; else counted: a limit is never lifted
			 * by a record that could not be read. */
			n += ignored.code != ENOENT;
		} else if (record_alive(&r)) {
			n++;
		} else { /* its monitor was SIGKILLed before it could unlink it */
			unlinkat(dirfd(d), de->d_name, 0);
		}
	}
	closedir(d);
	return n;
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
	char name[32];

	snprintf(name, sizeof(name), "lock-%u", (unsigned)uid);
	return registry_lock(name, timeout_ms, e);
}

int registry_lock(const char *name, int timeout_ms, struct cell_err *e)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	struct stat st;

	dfd = open_run_dir(true, e);
	if (dfd < 0)
		return cell_err_prefix(e, "registry: ");
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
	if (dfd < 0 ||
	    (fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0 ||
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

/* Remove ID.SUFFIX from the registry, if it is there. */
static void remove_id_file(const char *id, const char *suffix)
{
	_cleanup_close_ int dfd = -1;
	struct cell_err e;
	char name[48];

	if (!cell_id_valid(id) || (dfd = open_run_dir(false, &e)) < 0)
		return;
	snprintf(name, sizeof(name), "%s.%s", id, suffix);
	unlinkat(dfd, name, 0);
}

void registry_life_remove(const char *id)
{
	remove_id_file(id, "life");
}

void registry_net_remove(const char *id)
{
	remove_id_file(id, "net");
}

static void linger_name(char *buf, size_t size, const char *id)
{
	snprintf(buf, size, "%s.linger", id);
}

int registry_linger_set(const char *id, long long until, struct cell_err *e)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	char name[48], text[32];
	int n;

	if (!cell_id_valid(id))
		return cell_err_set(e, EINVAL, "'%s' is not a cell id", id);
	dfd = open_run_dir(true, e);
	if (dfd < 0)
		return cell_err_prefix(e, "registry: ");
	linger_name(name, sizeof(name), id);
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		return cell_err_sys(e, "removing %s/%s", CELL_RUN_DIR, name);
	n = snprintf(text, sizeof(text), "%lld\n", until);
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || fchmod(fd, 0644) < 0 || write_all(fd, text, (size_t)n) < 0)
		return cell_err_sys(e, "writing %s/%s", CELL_RUN_DIR, name);
	return 0;
}

void registry_linger_clear(const char *id)
{
	remove_id_file(id, "linger");
}

int registry_linger_get(const char *id, long long *until)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	struct cell_err e;
	char name[48], buf[32];
	struct stat st;
	ssize_t n;

	if (!cell_id_valid(id) || (dfd = open_run_dir(false, &e)) < 0)
		return -1;
	linger_name(name, sizeof(name), id);
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0)
		return -1;
	n = read_all(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	*until = strtoll(buf, NULL, 10);
	return 0;
}

/* ---- the join socket ----
 *   ID.join      a unix socket the monitor listens on, owned by the cell's
 *                user (0600): cellsh connects to have the monitor move it
 *                into the cell's cgroup (monitor.c says what is checked).
 */
static int join_addr(const char *id, struct sockaddr_un *sa, struct cell_err *e)
{
	if (!cell_id_valid(id))
		return cell_err_set(e, EINVAL, "'%s' is not a cell id", id);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s.join", CELL_RUN_DIR, id);
	return 0;
}

int registry_join_listen(const char *id, uid_t uid, struct cell_err *e)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	struct sockaddr_un sa;
	char name[48];

	dfd = open_run_dir(true, e);
	if (dfd < 0 || join_addr(id, &sa, e) < 0)
		return -1;
	snprintf(name, sizeof(name), "%s.join", id);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cell_err_sys(e, "socket");
	/* A fresh random name in a root-only directory: bind fails if planted.
	 * Only the user may connect; the monitor checks every peer anyway. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return cell_err_sys(e, "creating %s", sa.sun_path);
	if (fchownat(dfd, name, uid, 0, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(dfd, name, 0600, 0) < 0 || listen(fd, 16) < 0) {
		cell_err_sys(e, "setting up %s", sa.sun_path);
		unlinkat(dfd, name, 0);
		return -1;
	}
	return steal_fd(&fd);
}

int registry_join_connect(const char *id, struct cell_err *e)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa;
	struct ucred peer;
	socklen_t len = sizeof(peer);

	if (join_addr(id, &sa, e) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cell_err_sys(e, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return cell_err_sys(e, "connecting to the cell's monitor (%s)", sa.sun_path);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0 || peer.uid != 0)
		return cell_err_set(e, EPERM, "%s is not root's", sa.sun_path);
	return steal_fd(&fd);
}

void registry_join_remove(const char *id)
{
	remove_id_file(id, "join");
}

bool cell_root_keeps_caps(const struct cell_record *r)
{
	return r->identity == IDENTITY_ROOT && strncmp(r->rootfs, "image:", 6) == 0;
}
