// SPDX-License-Identifier: MIT
#include "account.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* A group line of a few thousand members is tens of KiB; 16 MiB is no
 * real account's. */
#define NSS_BUF_MAX (16u << 20)

/* getpwnam_r(3): "0 or ENOENT or ESRCH ..." all mean "not found"; other
 * errors (EIO from a directory that is down, ENOMEM) are errors. */
static bool not_found(int r)
{
	return r == ENOENT || r == ESRCH;
}

static size_t first_size(int name)
{
	long s = sysconf(name);

	return s > 0 && s < 65536 ? (size_t)s : 4096;
}

/* getpwnam_r with a buffer that grows on ERANGE. */
static int lookup_passwd(const char *user, struct cell_account *a, struct cell_err *e)
{
	struct passwd pw, *res = NULL;
	size_t size = first_size(_SC_GETPW_R_SIZE_MAX);
	int r;

	for (;;) {
		char *buf = realloc(a->pwbuf, size);

		if (!buf)
			return cell_err_set(e, ENOMEM, "out of memory");
		a->pwbuf = buf;
		r = getpwnam_r(user, &pw, buf, size, &res);
		if (r != ERANGE)
			break;
		if (size >= NSS_BUF_MAX)
			return cell_err_set(e, ERANGE,
					    "the passwd entry of %s is larger than "
					    "%u bytes",
					    user, NSS_BUF_MAX);
		size *= 2;
	}
	if (r != 0 && !not_found(r))
		return cell_err_set(e, r,
				    "cannot look up user %s: %s (check the 'passwd:' "
				    "sources in /etc/nsswitch.conf)",
				    user, strerror(r));
	if (r != 0 || !res)
		return cell_err_set(e, ENOENT, "user %s not found in passwd", user);
	a->name = pw.pw_name;
	a->home = pw.pw_dir;
	a->shell = pw.pw_shell;
	a->uid = pw.pw_uid;
	a->gid = pw.pw_gid;
	return 0;
}

static int lookup_gids(struct cell_account *a, struct cell_err *e)
{
	int n = 64;

	for (;;) {
		gid_t *g = realloc(a->gids, (size_t)n * sizeof(*g));
		int want = n;

		if (!g)
			return cell_err_set(e, ENOMEM, "out of memory");
		a->gids = g;
		if (getgrouplist(a->name, a->gid, g, &want) >= 0) {
			a->ngids = (size_t)want;
			break;
		}
		if (want <= n || want > CELL_MAX_GROUPS)
			return cell_err_set(e, E2BIG, "user %s is in more than %d groups", a->name,
					    CELL_MAX_GROUPS);
		n = want;
	}
	return 0;
}

/* The name of gid, or NULL in *name when no group has that id. */
static int lookup_group_name(gid_t gid, char **name, struct cell_err *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = first_size(_SC_GETGR_R_SIZE_MAX);
	struct group gr, *res = NULL;
	int r;

	*name = NULL;
	for (;;) {
		char *nb = realloc(buf, size);

		if (!nb)
			return cell_err_set(e, ENOMEM, "out of memory");
		buf = nb;
		r = getgrgid_r(gid, &gr, buf, size, &res);
		if (r != ERANGE)
			break;
		if (size >= NSS_BUF_MAX)
			return cell_err_set(e, ERANGE,
					    "the entry of group %u is larger than "
					    "%u bytes",
					    (unsigned)gid, NSS_BUF_MAX);
		size *= 2;
	}
	if (r != 0 && !not_found(r))
		return cell_err_set(e, r,
				    "cannot look up group %u: %s (check the 'group:' "
				    "sources in /etc/nsswitch.conf); a group that cannot be "
				    "read could be the one that confines this user",
				    (unsigned)gid, strerror(r));
	if (r == 0 && res && !(*name = strdup(gr.gr_name)))
		return cell_err_set(e, ENOMEM, "out of memory");
	return 0;
}

int account_verify_group(const struct cell_account *a, const char *group, struct cell_err *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = first_size(_SC_GETGR_R_SIZE_MAX);
	struct group gr, *res = NULL;
	int r;

	for (size_t i = 0; i < a->ngnames; i++)
		if (strcmp(a->gnames[i], group) == 0)
			return 0; /* listed: nothing was left out */
	for (;;) {
		char *nb = realloc(buf, size);

		if (!nb)
			return cell_err_set(e, ENOMEM, "out of memory");
		buf = nb;
		r = getgrnam_r(group, &gr, buf, size, &res);
		if (r != ERANGE || size >= NSS_BUF_MAX)
			break;
		size *= 2;
	}
	if (r != 0 && !not_found(r))
		return cell_err_set(e, r,
				    "cannot look up group %s: %s (check the 'group:' sources in "
				    "/etc/nsswitch.conf); it confines its members",
				    group, strerror(r));
	if (r != 0 || !res)
		return 0;
	for (char **m = gr.gr_mem; *m; m++)
		if (strcmp(*m, a->name) == 0)
			return cell_err_set(
				e, EIO,
				"user %s is a member of group %s, which confines its "
				"members, but the list of the user's groups left it out: "
				"an NSS 'group:' source failed (check "
				"/etc/nsswitch.conf)",
				a->name, group);
	return 0;
}

int account_lookup(const char *user, struct cell_account *a, struct cell_err *e)
{
	memset(a, 0, sizeof(*a));
	if (lookup_passwd(user, a, e) < 0 || lookup_gids(a, e) < 0)
		return -1;
	a->gnames = calloc(a->ngids, sizeof(*a->gnames));
	if (!a->gnames)
		return cell_err_set(e, ENOMEM, "out of memory");
	for (size_t i = 0; i < a->ngids; i++) {
		char *name;

		if (lookup_group_name(a->gids[i], &name, e) < 0)
			return cell_err_prefix(e, "user %s: ", user);
		if (name)
			a->gnames[a->ngnames++] = name;
	}
	return 0;
}

void account_free(struct cell_account *a)
{
	for (size_t i = 0; i < a->ngnames; i++)
		free(a->gnames[i]);
	free(a->gnames);
	free(a->gids);
	free(a->pwbuf);
	memset(a, 0, sizeof(*a));
}
