// SPDX-License-Identifier: MIT
#include "account.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
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

enum nss_kind { NSS_PWNAM, NSS_GRGID, NSS_GRNAM };

struct nss_query {
	enum nss_kind kind;
	const char *name; /* NSS_PWNAM, NSS_GRNAM */
	gid_t gid;	  /* NSS_GRGID */
	const char *what; /* "user alice", "group 27": for messages */
	const char *why;  /* appended to an error */
	struct passwd pw;
	struct group gr;
};

/* One NSS lookup, with a buffer (kept in *buf) that doubles on ERANGE.
 * Returns 1 found, 0 not found, -1 on any other answer. */
static int nss_get(struct nss_query *q, char **buf, struct cell_err *e)
{
	size_t size =
		first_size(q->kind == NSS_PWNAM ? _SC_GETPW_R_SIZE_MAX : _SC_GETGR_R_SIZE_MAX);
	struct passwd *pres = NULL;
	struct group *gres = NULL;
	int r;

	for (;;) {
		char *nb = realloc(*buf, size);

		if (!nb)
			return cell_err_set(e, ENOMEM, "out of memory");
		*buf = nb;
		switch (q->kind) {
		case NSS_PWNAM:
			r = getpwnam_r(q->name, &q->pw, nb, size, &pres);
			break;
		case NSS_GRGID:
			r = getgrgid_r(q->gid, &q->gr, nb, size, &gres);
			break;
		default:
			r = getgrnam_r(q->name, &q->gr, nb, size, &gres);
			break;
		}
		if (r != ERANGE)
			break;
		if (size >= NSS_BUF_MAX)
			return cell_err_set(e, ERANGE, "the entry of %s is larger than %u bytes%s",
					    q->what, NSS_BUF_MAX, q->why);
		size *= 2;
	}
	if (r != 0 && !not_found(r))
		return cell_err_set(e, r,
				    "cannot look up %s: %s (check the '%s:' sources in "
				    "/etc/nsswitch.conf)%s",
				    q->what, strerror(r), q->kind == NSS_PWNAM ? "passwd" : "group",
				    q->why);
	return r == 0 && (pres || gres) ? 1 : 0;
}

static int lookup_passwd(const char *user, struct cell_account *a, struct cell_err *e)
{
	char what[300];
	struct nss_query q = { .kind = NSS_PWNAM, .name = user, .what = what, .why = "" };
	int found;

	snprintf(what, sizeof(what), "user %.256s", user);
	found = nss_get(&q, &a->pwbuf, e);
	if (found < 0)
		return -1;
	if (!found)
		return cell_err_set(e, ENOENT, "user %s not found in passwd", user);
	a->name = q.pw.pw_name;
	a->home = q.pw.pw_dir;
	a->shell = q.pw.pw_shell;
	a->uid = q.pw.pw_uid;
	a->gid = q.pw.pw_gid;
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
	char what[32];
	struct nss_query q = { .kind = NSS_GRGID,
			       .gid = gid,
			       .what = what,
			       .why = "; a group that cannot be read could be the one that "
				      "confines this user" };
	int found;

	*name = NULL;
	snprintf(what, sizeof(what), "group %u", (unsigned)gid);
	found = nss_get(&q, &buf, e);
	if (found < 0)
		return -1;
	if (found && !(*name = strdup(q.gr.gr_name)))
		return cell_err_set(e, ENOMEM, "out of memory");
	return 0;
}

int account_verify_group(const struct cell_account *a, const char *group, struct cell_err *e)
{
	_cleanup_free_ char *buf = NULL;
	char what[300];
	struct nss_query q = {
		.kind = NSS_GRNAM, .name = group, .what = what, .why = "; it confines its members"
	};
	int found;

	for (size_t i = 0; i < a->ngnames; i++)
		if (strcmp(a->gnames[i], group) == 0)
			return 0; /* listed: nothing was left out */
	snprintf(what, sizeof(what), "group %.256s", group);
	found = nss_get(&q, &buf, e);
	if (found <= 0)
		return found;
	for (char **m = q.gr.gr_mem; *m; m++)
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
		if (name && i == 0)
			a->gname = name;
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
