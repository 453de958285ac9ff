// SPDX-License-Identifier: MIT
/*
 * libnss_celltest.so.2: an NSS group source that fails (UNAVAIL, EIO) for
 * the one gid named in CELLTEST_FAIL_GID, for every user's group list when
 * CELLTEST_FAIL_INITGROUPS is set, and knows nothing else. Used by
 * tests/e2e/test_nss.sh as "group: celltest [unavail=return] files" in a
 * private mount namespace, with LD_LIBRARY_PATH pointing here: an LDAP
 * server that is down, for one group.
 */
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <stdlib.h>
#include <sys/types.h>

enum nss_status _nss_celltest_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len,
					 int *errnop);
enum nss_status _nss_celltest_getgrnam_r(const char *name, struct group *gr, char *buf,
					 size_t len, int *errnop);
enum nss_status _nss_celltest_initgroups_dyn(const char *user, gid_t group, long *start,
					     long *size, gid_t **groups, long limit,
					     int *errnop);

enum nss_status _nss_celltest_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len,
					 int *errnop)
{
	const char *fail = getenv("CELLTEST_FAIL_GID");

	(void)gr, (void)buf, (void)len;
	if (fail && strtoul(fail, NULL, 10) == gid) {
		*errnop = EIO;
		return NSS_STATUS_UNAVAIL;
	}
	*errnop = ENOENT;
	return NSS_STATUS_NOTFOUND;
}

enum nss_status _nss_celltest_getgrnam_r(const char *name, struct group *gr, char *buf,
					 size_t len, int *errnop)
{
	(void)name, (void)gr, (void)buf, (void)len;
	*errnop = ENOENT;
	return NSS_STATUS_NOTFOUND;
}

/* Membership comes from the next source (files). */
enum nss_status _nss_celltest_initgroups_dyn(const char *user, gid_t group, long *start,
					     long *size, gid_t **groups, long limit,
					     int *errnop)
{
	(void)user, (void)group, (void)start, (void)size, (void)groups, (void)limit;
	if (getenv("CELLTEST_FAIL_INITGROUPS")) {
		*errnop = EIO;
		return NSS_STATUS_UNAVAIL;
	}
	*errnop = ENOENT;
	return NSS_STATUS_NOTFOUND;
}
