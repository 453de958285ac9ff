// SPDX-License-Identifier: MIT
#include "harden.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "util.h"

static int last_cap(void)
{
	int last = CAP_LAST_CAP;

	/* The running kernel may know more capabilities than our headers. */
	while (prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
		last++;
	return last;
}

int harden_drop_caps(struct cell_err *e)
{
	return harden_drop_caps_keep(-1, false, e);
}

int harden_drop_caps_keep(int keep, bool effective, struct cell_err *e)
{
	int last = last_cap();
	cap_t none;
	cap_value_t kept = keep;

	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return cell_err_sys(e, "dropping capability %d from the bounding set", c);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return cell_err_sys(e, "clearing ambient capabilities");
	/* uid 0 inside (identity 'root') must not regain anything at exec. */
	if (prctl(PR_SET_SECUREBITS,
		  SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
			  SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
			  SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
		  0, 0, 0) < 0)
		return cell_err_sys(e, "locking securebits");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return cell_err_sys(e, "setting no_new_privs");
	none = cap_init();
	if (!none)
		return cell_err_sys(e, "cap_init");
	if (keep >= 0 &&
	    (cap_set_flag(none, CAP_PERMITTED, 1, &kept, CAP_SET) < 0 ||
	     (effective && cap_set_flag(none, CAP_EFFECTIVE, 1, &kept, CAP_SET) < 0))) {
		cap_free(none);
		return cell_err_sys(e, "cap_set_flag");
	}
	if (cap_set_proc(none) < 0) {
		cell_err_sys(e, "clearing capability sets");
		cap_free(none);
		return -1;
	}
	cap_free(none);

	/* Prove it. */
	{
		cap_t now = cap_get_proc(), empty = cap_init();
		int differs =
			!now || !empty ||
			(keep >= 0 && cap_set_flag(empty, CAP_PERMITTED, 1, &kept, CAP_SET) < 0) ||
			(keep >= 0 && effective &&
			 cap_set_flag(empty, CAP_EFFECTIVE, 1, &kept, CAP_SET) < 0) ||
			cap_compare(now, empty) != 0;

		cap_free(now);
		cap_free(empty);
		if (differs)
			return cell_err_set(e, EPERM,
					    "capabilities still held after dropping them");
	}
	if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_SYS_ADMIN, 0, 0) != 0 ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return cell_err_set(e, EPERM, "privilege drop did not take");
	return 0;
}

int harden_become_user(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups, bool keep_groups,
		       struct cell_err *e)
{
	uid_t ru, eu, su, probe_uid = uid == 0 ? 1 : 0;
	gid_t rg, eg, sg, probe_gid = gid == 0 ? 1 : 0;

	/* Groups, then gid, then uid: each step needs the privilege the next
	 * one gives up. */
	if (!keep_groups && setgroups(ngroups, groups) < 0)
		return cell_err_sys(e, "setgroups");
	if (setresgid(gid, gid, gid) < 0)
		return cell_err_sys(e, "setresgid(%u)", (unsigned)gid);
	if (setresuid(uid, uid, uid) < 0)
		return cell_err_sys(e, "setresuid(%u)", (unsigned)uid);
	/* Prove it, as OpenSSH's permanently_set_uid does: all three ids of
	 * both kinds are the new ones, and neither can change again. */
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != uid ||
	    eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
		return cell_err_set(e, EPERM, "the change to uid %u gid %u did not take",
				    (unsigned)uid, (unsigned)gid);
	if (setresuid(probe_uid, probe_uid, probe_uid) == 0 ||
	    setresgid(probe_gid, probe_gid, probe_gid) == 0)
		return cell_err_set(e, EPERM,
				    "uid %u could still change its ids after the "
				    "drop",
				    (unsigned)uid);
	return 0;
}

/* The initial user namespace maps every id: "0 0 4294967295". A cell's maps
 * are written by its root monitor from the user's ranges and never do. */
static bool in_initial_userns(void)
{
	char buf[256] = "";
	int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return true; /* cannot tell: as if it were */
	buf[n] = '\0';
	return strstr(buf, "4294967295") != NULL;
}

int harden_userns_root(struct cell_err *e)
{
	uid_t ru, eu, su;

	/* Only in a user namespace below the host's: in the initial one every
	 * capability would be the host's. */
	if (in_initial_userns())
		return cell_err_set(e, EPERM,
				    "refusing to keep capabilities outside a cell's "
				    "user namespace");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return cell_err_sys(e, "clearing ambient capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return cell_err_sys(e, "setting no_new_privs");
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return cell_err_sys(e, "becoming the cell's root");
	if (getresuid(&ru, &eu, &su) < 0 || ru || eu || su ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return cell_err_set(e, EPERM, "becoming the cell's root did not take");
	return 0;
}
