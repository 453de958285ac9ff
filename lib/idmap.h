/* SPDX-License-Identifier: MIT */
#ifndef CELL_IDMAP_H
#define CELL_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "conf.h"
#include "err.h"

#define IDMAP_MAX_LINES 340	     /* the kernel's limit since Linux 4.15 */
#define ID_MAX		4294967294UL /* (uid_t)-1 is not an id */

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
int subid_validate(const struct id_range *r, size_t n, unsigned long own, unsigned long min,
		   const char *kind, const char *user, struct cell_err *e);

/*
 * Build the map for an identity. keep-id: the user is themselves, the
 * other inside ids 0..want come from the ranges; root: inside 0 is the user,
 * 1..want the ranges; self: only the user's own id. Needs `want` ids from
 * validated ranges (not for self).
 */
int idmap_build(enum cell_identity id, unsigned long own, const struct id_range *r, size_t n,
		unsigned long want, const char *kind, const char *user, struct idmap *m,
		struct cell_err *e);

/* Format as the kernel wants it ("inside outside count\n"...), < page size. */
int idmap_format(const struct idmap *m, char *buf, size_t size, struct cell_err *e);

/* The host id of in-cell id `inside` under a map in the kernel's text
 * form: 0, or -1 when it is not mapped. */
int idmap_text_host_of(const char *map, unsigned long inside, unsigned long *out);

/* The in-cell id that the user's own id has under this identity. */
unsigned long idmap_inside_self(enum cell_identity id, unsigned long own);

/*
 * The user's subordinate ranges (subid.c), refused if another user also
 * holds any id of them. Where the NSS 'subid' source is files (none named
 * in /etc/nsswitch.conf, the default), /etc/subuid or /etc/subgid is read
 * whole, as shadow's tools read it, and every line checked
 * (subid_parse_file, subid_check_file); with another source libsubid is
 * loaded (only then: it and its libraries cost a login ~2 ms) and asked,
 * both ends of each range are checked with its owner lookup, the rest is
 * that source's duty, and *by_source says so. Any error refuses.
 */
int subid_ranges(const char *user, uid_t uid, bool gid, struct id_range **out, size_t *n,
		 bool *by_source, struct cell_err *e);

/* The pure parts: `text` is the file `file`; lines of `user` or of its
 * numeric id own_id are the user's own, and subid_parse_file returns them
 * (count > 0, in the file's order; malloc'd). kind is "uid" or "gid". */
int subid_parse_file(const char *text, const char *file, const char *user, unsigned long own_id,
		     const char *kind, struct id_range **out, size_t *n, struct cell_err *e);
int subid_check_file(const char *text, const char *file, const char *user, unsigned long own_id,
		     const struct id_range *r, size_t n, const char *kind, struct cell_err *e);

/* Refuse ranges that contain a real id of another account or group, which
 * the cell would map onto the host's. subid_check_accounts enumerates what
 * NSS lists (getpwent/getgrent); subid_check_id checks one id. */
int subid_check_accounts(const char *user, bool gid, const struct id_range *r, size_t n,
			 struct cell_err *e);
int subid_check_id(unsigned long id, const char *what, const char *user, const struct id_range *r,
		   size_t n, const char *kind, struct cell_err *e);

#endif
