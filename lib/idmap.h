/* SPDX-License-Identifier: MIT */
#ifndef CELL_IDMAP_H
#define CELL_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "conf.h"
#include "err.h"

#define IDMAP_MAX_LINES 340	/* the kernel's limit since Linux 4.15 */
#define ID_MAX 4294967294UL	/* (uid_t)-1 is not an id */

struct id_range {
	unsigned long start, count;
};

struct idmap_line {
	unsigned long inside, outside, count;
};

struct idmap {
	struct idmap_line line[IDMAP_MAX_LINES];
	size_t n;
};

/*
 * Check a user's subordinate ranges: non-empty, no zero count, no overflow
 * past ID_MAX, nothing below `min` (system and user accounts live there),
 * not containing the user's own id, not overlapping each other.
 * kind is "uid" or "gid" (for messages).
 */
int subid_validate(const struct id_range *r, size_t n, unsigned long own,
		   unsigned long min, const char *kind, const char *user,
		   struct cell_err *e);

/*
 * Build the map for an identity. keep-id: the user is themselves, the
 * other inside ids 0..want come from the ranges; root: inside 0 is the user,
 * 1..want the ranges; self: only the user's own id. Needs `want` ids from
 * validated ranges (not for self).
 */
int idmap_build(enum cell_identity id, unsigned long own,
		const struct id_range *r, size_t n, unsigned long want,
		const char *kind, const char *user, struct idmap *m,
		struct cell_err *e);

/* Format as the kernel wants it ("inside outside count\n"...), < page size. */
int idmap_format(const struct idmap *m, char *buf, size_t size,
		 struct cell_err *e);

/* The in-cell id that the user's own id has under this identity. */
unsigned long idmap_inside_self(enum cell_identity id, unsigned long own);

/* libsubid lookup (subid.c): /etc/subuid or the NSS subid source. */
int subid_lookup(const char *user, bool gid, struct id_range **out, size_t *n,
		 struct cell_err *e);

/* Refuse ranges another user also holds (checked at both ends of each
 * range, through libsubid's owner lookup). */
int subid_check_unshared(const char *user, uid_t uid, bool gid, const struct id_range *r,
			 size_t n, struct cell_err *e);

#endif
