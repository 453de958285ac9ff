/* SPDX-License-Identifier: MIT */
#ifndef CELL_SUBIDCACHE_H
#define CELL_SUBIDCACHE_H

#include <stdbool.h>
#include <sys/types.h>

#include "idmap.h"

/* What the subordinate-id checks read, as stat(2) saw it (subidcache.c). */
struct subid_stamp {
	char text[512];
	bool usable;  /* NSS adds no accounts beyond the files (and systemd's) */
	bool systemd; /* systemd's NSS module is a source */
	bool keep;    /* every file older than the racy window: a verdict may be kept */
};

void subid_stamp_take(struct subid_stamp *st);

/* The user's ranges (uid ranges, or gid with gid) that passed every check
 * under this same stamp, or false (then check, and put what passed). */
bool subid_cache_get(const struct subid_stamp *st, const char *user, uid_t uid, bool gid,
		     struct id_range **out, size_t *n);
void subid_cache_put(const struct subid_stamp *st, const char *user, uid_t uid, bool gid,
		     const struct id_range *r, size_t n);

#endif
