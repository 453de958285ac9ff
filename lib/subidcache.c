// SPDX-License-Identifier: MIT
/*
 * The verdict of the subordinate-id checks, kept across logins (root's,
 * CELL_RUN_DIR/subid/{u,g}UID, 0600). Those checks read every account,
 * group and range on the host: 22 ms a login with 20,000 accounts. What
 * they read is five files; a verdict is reused only while all five are
 * the same files, unchanged (device, inode, size, mtime, ctime), and only
 * where nothing else adds accounts: NSS passwd and group from files
 * (systemd's module too, whose users live in 60000-65535: a range that
 * reaches there is not kept). A verdict is kept only when every file is
 * older than two seconds, so that a change made in the clock tick of our
 * stat(2) still changes the stamp (git's "racy" rule).
 */
#include "subidcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry.h"
#include "util.h"

#define CACHE_DIR     "subid"
#define CACHE_MAX     8192
#define SYSTEMD_FIRST 60000UL /* systemd's NSS users (homed, dynamic): up to 65535 */

static const char *const stamped[] = { "/etc/passwd", "/etc/group", "/etc/subuid", "/etc/subgid",
				       "/etc/nsswitch.conf" };

/* Is every source of nsswitch.conf's `db:` line files or systemd (and is
 * systemd one)? Action items ([NOTFOUND=return]) are not sources. */
static bool nss_line_ok(const char *text, const char *db, bool *systemd)
{
	size_t dlen = strlen(db);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *q = p + strspn(p, " \t");

		if (strncmp(q, db, dlen) != 0 || q[dlen] != ':')
			continue;
		q += dlen + 1;
		for (;;) {
			size_t n;

			q += strspn(q, " \t");
			if (!*q || *q == '\n' || *q == '#')
				return true;
			n = strcspn(q, " \t\n#");
			if (*q == '[')
				n = strcspn(q, "]\n") + (q[strcspn(q, "]\n")] == ']');
			else if (n == 7 && strncmp(q, "systemd", 7) == 0)
				*systemd = true;
			else if (n != 5 || strncmp(q, "files", 5) != 0)
				return false;
			q += n;
		}
	}
	return true; /* no line: glibc's default, files */
}

void subid_stamp_take(struct subid_stamp *st)
{
	_cleanup_free_ char *nss = NULL;
	struct cell_err ignored;
	size_t len = 0;

	memset(st, 0, sizeof(*st));
	st->keep = true;
	for (size_t i = 0; i < ARRAY_SIZE(stamped); i++) {
		char one[STAMP_MAX];
		struct stat s;
		int n;

		if (stat(stamped[i], &s) < 0) {
			if (errno != ENOENT)
				return; /* cannot tell: no cache */
			memset(&s, 0, sizeof(s));
		}
		st->keep &= file_stamp(&s, one);
		n = snprintf(st->text + len, sizeof(st->text) - len, "%s;", one);
		if (n < 0 || (size_t)n >= sizeof(st->text) - len)
			return;
		len += (size_t)n;
	}
	nss = read_root_file(AT_FDCWD, "/etc/nsswitch.conf", "/etc/nsswitch.conf", 1u << 20,
			     &ignored);
	if (!nss && ignored.code != ENOENT)
		return;
	if (!nss_line_ok(nss ? nss : "", "passwd", &st->systemd) ||
	    !nss_line_ok(nss ? nss : "", "group", &st->systemd) ||
	    !nss_line_ok(nss ? nss : "", "subid", &(bool){ false }))
		return; /* (a subid: source but files is libsubid's: not kept) */
	st->usable = true;
}

/* systemd's NSS users may appear without any file changing: a range that
 * reaches their ids is checked every time. */
static bool cacheable(const struct subid_stamp *st, const struct id_range *r, size_t n)
{
	for (size_t i = 0; st->systemd && i < n; i++)
		if (r[i].start <= 65535 && r[i].start + r[i].count > SYSTEMD_FIRST)
			return false;
	return true;
}

static void entry_name(char *buf, size_t size, uid_t uid, bool gid)
{
	snprintf(buf, size, "%c%u", gid ? 'g' : 'u', (unsigned)uid);
}

/* CELL_RUN_DIR/subid, root's 0700 (made if create). */
static int open_cache_dir(bool create)
{
	_cleanup_close_ int run = -1, dir = -1;
	struct cell_err ignored;

	run = registry_dir(&ignored);
	if (run < 0)
		return -1;
	if (create && mkdirat(run, CACHE_DIR, 0700) < 0 && errno != EEXIST)
		return -1;
	dir = openat(run, CACHE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0 || check_root_owned(dir, CELL_RUN_DIR "/" CACHE_DIR, &ignored) < 0)
		return -1;
	return steal_fd(&dir);
}

bool subid_cache_get(const struct subid_stamp *st, const char *user, uid_t uid, bool gid,
		     struct id_range **out, size_t *n)
{
	_cleanup_close_ int dir = -1, fd = -1;
	_cleanup_free_ struct id_range *r = NULL;
	char name[32], buf[CACHE_MAX], head[sizeof(st->text) + 320];
	struct cell_err ignored;
	size_t count = 0;
	ssize_t len;
	char *p;

	*out = NULL;
	*n = 0;
	if (!st->usable || (dir = open_cache_dir(false)) < 0)
		return false;
	entry_name(name, sizeof(name), uid, gid);
	fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || check_root_owned(fd, name, &ignored) < 0)
		return false;
	len = read_all(fd, buf, sizeof(buf) - 1);
	if (len <= 0 || (size_t)len >= sizeof(buf) - 1)
		return false;
	buf[len] = '\0';
	/* "stamp STAMP\nuser NAME UID\n" then "range START COUNT\n" per range */
	snprintf(head, sizeof(head), "stamp %s\nuser %s %u\n", st->text, user, (unsigned)uid);
	if (strncmp(buf, head, strlen(head)) != 0)
		return false;
	for (p = buf + strlen(head); *p; p = strchr(p, '\n') + 1) {
		unsigned long s, c;
		struct id_range *more;
		int used = 0;

		if (!strchr(p, '\n') || sscanf(p, "range %lu %lu%n", &s, &c, &used) != 2 ||
		    p[used] != '\n' || c == 0 || s + c < s ||
		    !(more = realloc(r, (count + 1) * sizeof(*r))))
			return false;
		r = more;
		r[count++] = (struct id_range){ s, c };
	}
	if (!count || !cacheable(st, r, count))
		return false;
	*out = steal_ptr(&r);
	*n = count;
	return true;
}

void subid_cache_put(const struct subid_stamp *st, const char *user, uid_t uid, bool gid,
		     const struct id_range *r, size_t n)
{
	_cleanup_close_ int dir = -1;
	struct subid_stamp now;
	char name[32], buf[CACHE_MAX];
	size_t len;
	int k;

	if (!st->usable || !st->keep || !n || !cacheable(st, r, n))
		return;
	/* What was checked is what the stamp names: unchanged meanwhile. */
	subid_stamp_take(&now);
	if (!now.usable || strcmp(now.text, st->text) != 0)
		return;
	k = snprintf(buf, sizeof(buf), "stamp %s\nuser %s %u\n", st->text, user, (unsigned)uid);
	for (size_t i = 0; k > 0 && (size_t)k < sizeof(buf) && i < n; i++) {
		len = (size_t)k;
		k += snprintf(buf + len, sizeof(buf) - len, "range %lu %lu\n", r[i].start,
			      r[i].count);
	}
	if (k <= 0 || (size_t)k >= sizeof(buf) || (dir = open_cache_dir(true)) < 0)
		return;
	entry_name(name, sizeof(name), uid, gid);
	replace_file_at(dir, name, buf, (size_t)k, 0600); /* (not kept: checked next time) */
}
