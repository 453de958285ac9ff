// SPDX-License-Identifier: MIT
/* What environment crosses into a cell, and what may not stay in a
 * confined login's PAM environment. Pure: no privilege, no I/O. */
#include "env.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/*
 * Names that make a loader, libc or shell run or read something of the
 * caller's choosing: glibc's own list for set-id programs (unsecvars.h), the
 * shell startup variables, and bash's exported functions.
 */
static const char *const denied_env[] = {
	"LD_",
	"GCONV_PATH=",
	"GETCONF_DIR=",
	"GLIBC_TUNABLES=",
	"HOSTALIASES=",
	"LOCALDOMAIN=",
	"LOCPATH=",
	"MALLOC_",
	"NIS_PATH=",
	"NLSPATH=",
	"RESOLV_HOST_CONF=",
	"RES_OPTIONS=",
	"TMPDIR=",
	"TZDIR=",
	"BASH_ENV=",
	"ENV=",
	"SHELLOPTS=",
	"BASHOPTS=",
	"PS4=",
	"IFS=",
	"CDPATH=",
	"GLOBIGNORE=",
	"PROMPT_COMMAND=",
	"BASH_FUNC_",
	NULL,
};

bool env_denied(const char *entry)
{
	for (size_t i = 0; denied_env[i]; i++)
		if (strncmp(entry, denied_env[i], strlen(denied_env[i])) == 0)
			return true;
	/* "NAME" with no '=' (as pam_getenvlist never gives, but a caller may
	 * ask about a bare name) */
	for (size_t i = 0; denied_env[i]; i++) {
		size_t n = strlen(denied_env[i]);

		if (denied_env[i][n - 1] == '=' && strlen(entry) == n - 1 &&
		    strncmp(entry, denied_env[i], n - 1) == 0)
			return true;
	}
	return false;
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
static const char *const allowed[] = {
	"TERM=", "COLORTERM=",	    "LANG=",	   "LANGUAGE=", "LC_",
	"TZ=",	 "SSH_CONNECTION=", "SSH_CLIENT=", "SSH_TTY=",	NULL
};

char **env_build(char *const *outer, const char *user, const char *home, const char *shell,
		 const char *path, const char *cell_id)
{
	static char *env[64], *made[6];
	const char *const mine[][2] = {
		{ "HOME", home },   { "USER", user }, { "LOGNAME", user },
		{ "SHELL", shell }, { "PATH", path }, { "CELL_ID", cell_id }
	};
	size_t n = 0;

	/* Whole values or nothing: a shortened HOME or PATH names another place. */
	_Static_assert(ARRAY_SIZE(mine) == ARRAY_SIZE(made), "one slot per own variable");
	for (size_t i = 0; i < ARRAY_SIZE(made); i++) {
		free(made[i]);
		made[i] = NULL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(mine); i++) {
		if (asprintf(&made[i], "%s=%s", mine[i][0], mine[i][1]) < 0) {
			made[i] = NULL;
			return NULL;
		}
		env[n++] = made[i];
	}
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
