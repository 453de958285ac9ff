// SPDX-License-Identifier: MIT
/*
 * libsubid_celltest.so: a subid source for shadow's libsubid (the
 * "subid: celltest" line of nsswitch.conf), as sssd's is. It knows one
 * owner's range, CELLTEST_SUBID ("name:start:count", uids and gids alike),
 * and answers every lookup with SUBID_STATUS_ERROR_CONN when
 * CELLTEST_SUBID_FAIL is set (a directory that is down). Used by
 * tests/e2e/test_nss.sh with LD_LIBRARY_PATH pointing here.
 */
#include <pwd.h>
#include <shadow/subid.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

enum subid_status shadow_subid_has_range(const char *owner, unsigned long start,
					 unsigned long count, enum subid_type t, bool *result);
enum subid_status shadow_subid_list_owner_ranges(const char *owner, enum subid_type t,
						 struct subid_range **ranges, int *count);
enum subid_status shadow_subid_find_subid_owners(unsigned long id, enum subid_type t,
						 uid_t **uids, int *count);

/* CELLTEST_SUBID parsed, or false. */
static bool the_range(char name[64], unsigned long *start, unsigned long *count)
{
	const char *v = getenv("CELLTEST_SUBID");

	return v && sscanf(v, "%63[^:]:%lu:%lu", name, start, count) == 3;
}

enum subid_status shadow_subid_has_range(const char *owner, unsigned long start,
					 unsigned long count, enum subid_type t, bool *result)
{
	char name[64];
	unsigned long s, c;

	(void)t;
	if (getenv("CELLTEST_SUBID_FAIL"))
		return SUBID_STATUS_ERROR_CONN;
	*result = the_range(name, &s, &c) && strcmp(owner, name) == 0 && start >= s &&
		  start + count <= s + c;
	return SUBID_STATUS_SUCCESS;
}

enum subid_status shadow_subid_list_owner_ranges(const char *owner, enum subid_type t,
						 struct subid_range **ranges, int *count)
{
	char name[64];
	unsigned long s, c;

	(void)t;
	*ranges = NULL;
	*count = 0;
	if (getenv("CELLTEST_SUBID_FAIL"))
		return SUBID_STATUS_ERROR_CONN;
	if (!the_range(name, &s, &c) || strcmp(owner, name) != 0)
		return SUBID_STATUS_SUCCESS;
	*ranges = malloc(sizeof(**ranges));
	if (!*ranges)
		return SUBID_STATUS_ERROR;
	(*ranges)[0] = (struct subid_range){ s, c };
	*count = 1;
	return SUBID_STATUS_SUCCESS;
}

enum subid_status shadow_subid_find_subid_owners(unsigned long id, enum subid_type t,
						 uid_t **uids, int *count)
{
	char name[64];
	unsigned long s, c;
	struct passwd *pw;

	(void)t;
	*uids = NULL;
	*count = 0;
	if (getenv("CELLTEST_SUBID_FAIL"))
		return SUBID_STATUS_ERROR_CONN;
	if (!the_range(name, &s, &c) || id < s || id >= s + c || !(pw = getpwnam(name)))
		return SUBID_STATUS_SUCCESS;
	*uids = malloc(sizeof(**uids));
	if (!*uids)
		return SUBID_STATUS_ERROR;
	(*uids)[0] = pw->pw_uid;
	*count = 1;
	return SUBID_STATUS_SUCCESS;
}
