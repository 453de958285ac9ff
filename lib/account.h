/* SPDX-License-Identifier: MIT */
#ifndef CELL_ACCOUNT_H
#define CELL_ACCOUNT_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* More supplementary groups than this is refused (the kernel allows 65536;
 * no login we confine needs more, and the cell-init argument stays small). */
#define CELL_MAX_GROUPS 1024

/*
 * A login's account as NSS answers: the passwd entry and every group with
 * its name. Any NSS error (an unreachable LDAP, a group line too large for
 * a buffer, out of memory) is an error, never a shorter answer: a group left
 * out could be the one that confines the user.
 */
struct cell_account {
	const char *name, *home, *shell; /* point into pwbuf */
	uid_t uid;
	gid_t gid;
	gid_t *gids; /* primary first */
	size_t ngids;
	char **gnames;	   /* names of the gids that have one */
	const char *gname; /* the primary group's name (in gnames), or NULL */
	size_t ngnames;
	char *pwbuf;
};

int account_lookup(const char *user, struct cell_account *a, struct cell_err *e);
void account_free(struct cell_account *a);

/*
 * getgrouplist(3) reports no NSS error: a source that fails there leaves a
 * group out silently. For a group that confines (named literally in a
 * section), ask for the group itself: an error, or a member list naming the
 * user while the user's groups did not, is an error.
 */
int account_verify_group(const struct cell_account *a, const char *group, struct cell_err *e);

#endif
