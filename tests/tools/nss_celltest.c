// SPDX-License-Identifier: MIT
/*
 * libnss_celltest.so.2: an NSS group source that fails (UNAVAIL, EIO) for
 * the one gid named in CELLTEST_FAIL_GID, for every user's group list when
 * CELLTEST_FAIL_INITGROUPS is set, and knows nothing else. Used by
 * tests/e2e/test_nss.sh as "group: celltest [unavail=return] files" in a
 * private mount namespace, with LD_LIBRARY_PATH pointing here: an LDAP
 * server that is down, for one group.
 *
 * As a passwd source it knows one account, CELLTEST_USER
 * ("name:uid:gid:home:shell"), which /etc/passwd lacks: a user who exists
 * only in a directory (LDAP, sssd).
 */
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

enum nss_status _nss_celltest_getpwnam_r(const char *name, struct passwd *pw, char *buf,
					 size_t len, int *errnop);
enum nss_status _nss_celltest_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len,
					 int *errnop);

/* CELLTEST_USER as a passwd entry in buf, or NOTFOUND. */
static enum nss_status the_user(struct passwd *pw, char *buf, size_t len, int *errnop)
{
	static char x[] = "x", empty[] = "";
	const char *v = getenv("CELLTEST_USER");
	char *f[5], *save = NULL;
	size_t n = v ? strlen(v) : 0;

	if (!v) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	if (n + 1 > len) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	memcpy(buf, v, n + 1);
	for (int i = 0; i < 5; i++)
		if (!(f[i] = strtok_r(i ? NULL : buf, ":", &save))) {
			*errnop = ENOENT;
			return NSS_STATUS_NOTFOUND;
		}
	pw->pw_name = f[0];
	pw->pw_passwd = x;
	pw->pw_uid = (uid_t)strtoul(f[1], NULL, 10);
	pw->pw_gid = (gid_t)strtoul(f[2], NULL, 10);
	pw->pw_gecos = empty;
	pw->pw_dir = f[3];
	pw->pw_shell = f[4];
	return NSS_STATUS_SUCCESS;
}

enum nss_status _nss_celltest_getpwnam_r(const char *name, struct passwd *pw, char *buf,
					 size_t len, int *errnop)
{
	enum nss_status st = the_user(pw, buf, len, errnop);

	if (st == NSS_STATUS_SUCCESS && strcmp(pw->pw_name, name) != 0) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	return st;
}

enum nss_status _nss_celltest_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len,
					 int *errnop)
{
	enum nss_status st = the_user(pw, buf, len, errnop);

	if (st == NSS_STATUS_SUCCESS && pw->pw_uid != uid) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	return st;
}

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
