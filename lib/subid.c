// SPDX-License-Identifier: MIT
/* The subordinate ranges from the host: the only file that talks to
 * libsubid, so the rest stays unit-testable. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <shadow/subid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "idmap.h"
#include "util.h"

/* shadow's rule: /etc/nsswitch.conf names at most one 'subid:' source;
 * none, or "files", means /etc/subuid and /etc/subgid. */
static int subid_source_is_files(bool *files, struct cell_err *e)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen("/etc/nsswitch.conf", "re");

	*files = true;
	if (!f)
		return errno == ENOENT ? 0 : cell_err_sys(e, "reading /etc/nsswitch.conf");
	while (getline(&line, &cap, f) > 0) {
		char word[64] = "";

		if (sscanf(line, " subid: %63s", word) == 1) {
			*files = strcmp(word, "files") == 0;
			break;
		}
	}
	fclose(f);
	return 0;
}

/* libsubid, loaded on first need (a 'subid:' source other than files):
 * linked, it and the libraries it pulls in (libsemanage, libselinux,
 * libaudit, ...) cost every login ~2 ms in the dynamic loader. Found by
 * its soname, as the link would: the loader's trusted directories. */
#define LIBSUBID "libsubid.so.4"
static struct {
	void *handle;
	__typeof__(subid_init) *init;
	__typeof__(subid_get_uid_ranges) *uid_ranges;
	__typeof__(subid_get_gid_ranges) *gid_ranges;
	__typeof__(subid_get_uid_owners) *uid_owners;
	__typeof__(subid_get_gid_owners) *gid_owners;
} lib;

static int libsubid_load(struct cell_err *e)
{
	static FILE *quiet;
	void *h;

	if (lib.handle)
		return 0;
	h = dlopen(LIBSUBID, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return cell_err_set(e, ENOENT,
				    "/etc/nsswitch.conf names a 'subid:' source other than "
				    "files, which only libsubid reads, and %s does not load "
				    "(%s): install libsubid4",
				    LIBSUBID, dlerror());
	lib.init = (__typeof__(lib.init))dlsym(h, "subid_init");
	lib.uid_ranges = (__typeof__(lib.uid_ranges))dlsym(h, "subid_get_uid_ranges");
	lib.gid_ranges = (__typeof__(lib.gid_ranges))dlsym(h, "subid_get_gid_ranges");
	lib.uid_owners = (__typeof__(lib.uid_owners))dlsym(h, "subid_get_uid_owners");
	lib.gid_owners = (__typeof__(lib.gid_owners))dlsym(h, "subid_get_gid_owners");
	if (!lib.init || !lib.uid_ranges || !lib.gid_ranges || !lib.uid_owners || !lib.gid_owners) {
		dlclose(h);
		return cell_err_set(e, ENOSYS, "%s lacks the functions of shadow's libsubid",
				    LIBSUBID);
	}
	/* libsubid prints to stderr unless given a stream, and subid_init(NULL)
	 * opens /dev/null without O_CLOEXEC on every call (an fd leaked into
	 * the login program and the user's shell). One close-on-exec stream,
	 * opened once per process. */
	if (!quiet && !(quiet = fopen("/dev/null", "we"))) {
		dlclose(h);
		return cell_err_sys(e, "opening /dev/null for libsubid");
	}
	lib.init("cell", quiet);
	lib.handle = h;
	return 0;
}

static int libsubid_lookup(const char *user, bool gid, struct id_range **out, size_t *n,
			   struct cell_err *e)
{
	struct subid_range *ranges = NULL;
	struct id_range *r;
	int k;

	if (libsubid_load(e) < 0)
		return -1;
	k = gid ? lib.gid_ranges(user, &ranges) : lib.uid_ranges(user, &ranges);
	if (k < 0)
		return cell_err_set(e, EIO,
				    "cannot read subordinate %s ranges of %s (libsubid "
				    "failed: check the 'subid:' line of /etc/nsswitch.conf)",
				    gid ? "gid" : "uid", user);
	if (k == 0) {
		free(ranges);
		return 0;
	}
	r = calloc((size_t)k, sizeof(*r));
	if (!r) {
		free(ranges);
		return cell_err_set(e, ENOMEM, "out of memory");
	}
	for (int i = 0; i < k; i++)
		r[i] = (struct id_range){ ranges[i].start, ranges[i].count };
	free(ranges);
	*out = r;
	*n = (size_t)k;
	return 0;
}

/* libsubid's owner lookup of both ends of each range: all another source
 * offers. An error refuses. */
static int check_ends(const char *user, uid_t uid, bool gid, const struct id_range *r, size_t n,
		      struct cell_err *e)
{
	const char *kind = gid ? "gid" : "uid";

	for (size_t i = 0; i < n; i++) {
		unsigned long ends[2] = { r[i].start, r[i].start + r[i].count - 1 };

		for (int k = 0; k < 2; k++) {
			_cleanup_free_ uid_t *owners = NULL;
			int m = gid ? lib.gid_owners((gid_t)ends[k], &owners)
				    : lib.uid_owners((uid_t)ends[k], &owners);

			if (m < 0)
				return cell_err_set(e, EIO,
						    "cannot tell who else owns subordinate "
						    "%s %lu (libsubid failed): refusing",
						    kind, ends[k]);
			for (int j = 0; j < m; j++)
				if (owners[j] != uid)
					return cell_err_set(
						e, EEXIST,
						"subordinate %s %lu of %s is also given to uid %u: "
						"two users sharing ids could enter each other's "
						"files and processes; give %s a range of its own "
						"(usermod --del-sub%ss/--add-sub%ss)",
						kind, ends[k], user, (unsigned)owners[j], user,
						kind, kind);
		}
	}
	return 0;
}

int subid_ranges(const char *user, uid_t uid, bool gid, struct id_range **out, size_t *n,
		 bool *by_source, struct cell_err *e)
{
	const char *path = gid ? "/etc/subgid" : "/etc/subuid", *kind = gid ? "gid" : "uid";
	_cleanup_free_ char *text = NULL;
	bool files;

	*out = NULL;
	*n = 0;
	*by_source = false;
	if (subid_source_is_files(&files, e) < 0)
		return -1;
	if (!files) {
		*by_source = true;
		if (libsubid_lookup(user, gid, out, n, e) < 0)
			return -1;
		return check_ends(user, uid, gid, *out, *n, e);
	}
	/* It holds every user's ranges: root's file, whole; a missing file
	 * gives no ranges, as it does to shadow. */
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	text = read_root_file(AT_FDCWD, path, path, 64u << 20, e);
	if (!text || subid_parse_file(text, path, user, uid, kind, out, n, e) < 0)
		return -1;
	return subid_check_file(text, path, user, uid, *out, *n, kind, e);
}

/* getpwent_r/getgrent_r with a buffer that grows on ERANGE (glibc then
 * returns the same entry again). */
int subid_check_accounts(const char *user, bool gid, const struct id_range *r, size_t n,
			 struct cell_err *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 4096;
	int ret = 0, err;

	if (!(buf = malloc(size)))
		return cell_err_set(e, ENOMEM, "out of memory");
	gid ? setgrent() : setpwent();
	for (;;) {
		struct passwd pw, *pres = NULL;
		struct group gr, *gres = NULL;

		err = gid ? getgrent_r(&gr, buf, size, &gres) : getpwent_r(&pw, buf, size, &pres);
		if (err == ERANGE && size < (16u << 20)) {
			char *nb = realloc(buf, size * 2);

			if (!nb) {
				ret = cell_err_set(e, ENOMEM, "out of memory");
				break;
			}
			buf = nb;
			size *= 2;
			continue;
		}
		if (err == ENOENT || (err == 0 && !pres && !gres))
			break;
		if (err != 0) {
			ret = cell_err_set(e, err,
					   "cannot list the %s to check the subordinate "
					   "ranges of %s: %s",
					   gid ? "groups" : "accounts", user, strerror(err));
			break;
		}
		if (gid ? subid_check_id(gr.gr_gid, gr.gr_name, user, r, n, "gid", e) < 0
			: strcmp(pw.pw_name, user) != 0 &&
				    subid_check_id(pw.pw_uid, pw.pw_name, user, r, n, "uid", e) <
					    0) {
			ret = -1;
			break;
		}
	}
	gid ? endgrent() : endpwent();
	return ret;
}
