// SPDX-License-Identifier: MIT
/* The only file that talks to libsubid, so the rest stays unit-testable. */
#include <errno.h>
#include <shadow/subid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idmap.h"

int subid_lookup(const char *user, bool gid, struct id_range **out, size_t *n,
		 struct cell_err *e)
{
	struct subid_range *ranges = NULL;
	struct id_range *r;
	int k;

	*out = NULL;
	*n = 0;
	/* libsubid prints to stderr unless given a stream, and subid_init(NULL)
	 * opens /dev/null without O_CLOEXEC on every call (an fd leaked into
	 * the login program and the user's shell). One close-on-exec stream,
	 * opened once per process. */
	static FILE *quiet;

	if (!quiet) {
		quiet = fopen("/dev/null", "we");
		if (!quiet)
			return cell_err_sys(e, "opening /dev/null for libsubid");
		subid_init("cell", quiet);
	}
	k = gid ? subid_get_gid_ranges(user, &ranges)
		: subid_get_uid_ranges(user, &ranges);
	if (k < 0)
		return cell_err_set(e, EIO,
				    "cannot read subordinate %s ranges of %s (libsubid "
				    "failed: check /etc/sub%s and the 'subid:' line of "
				    "/etc/nsswitch.conf)", gid ? "gid" : "uid", user,
				    gid ? "gid" : "uid");
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

int subid_check_unshared(const char *user, uid_t uid, bool gid, const struct id_range *r,
			 size_t n, struct cell_err *e)
{
	for (size_t i = 0; i < n; i++) {
		unsigned long ends[2] = { r[i].start, r[i].start + r[i].count - 1 };

		/* Another user's range that holds either end of ours overlaps it. */
		for (int k = 0; k < 2; k++) {
			uid_t *owners = NULL;
			int m = gid ? subid_get_gid_owners((gid_t)ends[k], &owners)
				    : subid_get_uid_owners((uid_t)ends[k], &owners);

			for (int j = 0; j < m; j++) {
				if (owners[j] != uid) {
					uid_t other = owners[j];

					free(owners);
					return cell_err_set(e, EEXIST,
						"subordinate %s %lu of %s is also given to uid %u: two "
						"users sharing ids could enter each other's files and "
						"processes; give %s a range of its own (usermod "
						"--del-sub%ss/--add-sub%ss)", gid ? "gid" : "uid",
						ends[k], user, (unsigned)other, user,
						gid ? "gid" : "uid", gid ? "gid" : "uid");
				}
			}
			free(owners);
		}
	}
	return 0;
}
