// SPDX-License-Identifier: MIT
#include "harden.h"

#include <ctype.h>
#include <errno.h>
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
			  SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED, 0, 0, 0) < 0)
		return cell_err_sys(e, "locking securebits");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return cell_err_sys(e, "setting no_new_privs");
	none = cap_init();
	if (!none)
		return cell_err_sys(e, "cap_init");
	if (keep >= 0 && (cap_set_flag(none, CAP_PERMITTED, 1, &kept, CAP_SET) < 0 ||
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
		int differs = !now || !empty ||
			      (keep >= 0 && cap_set_flag(empty, CAP_PERMITTED, 1, &kept, CAP_SET) < 0) ||
			      (keep >= 0 && effective &&
			       cap_set_flag(empty, CAP_EFFECTIVE, 1, &kept, CAP_SET) < 0) ||
			      cap_compare(now, empty) != 0;

		cap_free(now);
		cap_free(empty);
		if (differs)
			return cell_err_set(e, EPERM, "capabilities still held after dropping them");
	}
	if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_SYS_ADMIN, 0, 0) != 0 ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return cell_err_set(e, EPERM, "privilege drop did not take");
	return 0;
}

int harden_set_ids(uid_t uid, gid_t gid, struct cell_err *e)
{
	uid_t r, ef, s;

	if (setresgid(gid, gid, gid) < 0)
		return cell_err_sys(e, "setresgid(%u)", (unsigned)gid);
	if (setresuid(uid, uid, uid) < 0)
		return cell_err_sys(e, "setresuid(%u)", (unsigned)uid);
	if (getresuid(&r, &ef, &s) < 0 || r != uid || ef != uid || s != uid)
		return cell_err_set(e, EPERM, "uid change did not take");
	return 0;
}

static bool sane_value(const char *v, size_t max)
{
	size_t n = 0;

	for (; *v; v++, n++)
		if (!isalnum((unsigned char)*v) && !strchr("-_.:@+=/ ,", *v))
			return false;
	return n <= max;
}

/* A variable name: upper-case letters, digits and '_', at most 63 long. */
static bool sane_name(const char *name, const char *eq)
{
	if (eq == name || eq - name > 63)
		return false;
	for (const char *p = name; p < eq; p++)
		if (!(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') && *p != '_')
			return false;
	return true;
}

/* Passed through from the login program when their values look sane. */
static const char *const allowed[] = { "TERM=", "COLORTERM=", "LANG=", "LANGUAGE=",
				       "LC_", "TZ=", "SSH_CONNECTION=", "SSH_CLIENT=",
				       "SSH_TTY=", NULL };

char **harden_env(char *const *outer, const char *user, const char *home,
		  const char *shell, const char *path, const char *cell_id)
{
	static char storage[6][600];
	static char *env[64];
	size_t n = 0;

	snprintf(storage[0], sizeof(storage[0]), "HOME=%s", home);
	snprintf(storage[1], sizeof(storage[1]), "USER=%s", user);
	snprintf(storage[2], sizeof(storage[2]), "LOGNAME=%s", user);
	snprintf(storage[3], sizeof(storage[3]), "SHELL=%s", shell);
	snprintf(storage[4], sizeof(storage[4]), "PATH=%s", path);
	snprintf(storage[5], sizeof(storage[5]), "CELL_ID=%s", cell_id);
	for (size_t i = 0; i < ARRAY_SIZE(storage); i++)
		env[n++] = storage[i];
	for (; outer && *outer && n + 1 < ARRAY_SIZE(env); outer++) {
		const char *eq = strchr(*outer, '=');

		if (!eq)
			continue;
		for (size_t i = 0; allowed[i]; i++) {
			if (strncmp(*outer, allowed[i], strlen(allowed[i])) == 0 &&
			    sane_name(*outer, eq) && sane_value(eq + 1, 256)) {
				env[n++] = *outer;
				break;
			}
		}
	}
	env[n] = NULL;
	return env;
}
