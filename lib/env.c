// SPDX-License-Identifier: MIT
/* What environment crosses into a cell, and what may not stay in a
 * confined login's PAM environment. Pure: no privilege, no I/O. */
#include "env.h"

#include <ctype.h>
#include <fnmatch.h>
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

/* A variable name: letters, digits and '_', not starting with a digit, at
 * most 127 long (upper_only: the allow-list mode's names). */
static bool sane_name(const char *name, const char *eq, bool upper_only)
{
	if (eq == name || eq - name > 127 || (*name >= '0' && *name <= '9'))
		return false;
	for (const char *p = name; p < eq; p++) {
		bool upper = (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_';

		if (!upper && (upper_only || !(*p >= 'a' && *p <= 'z')))
			return false;
	}
	return true;
}

/* Any text without control characters, at most max bytes. */
static bool printable_value(const char *v, size_t max)
{
	size_t n = 0;

	for (; *v; v++, n++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return false;
	return n <= max;
}

/* Passed through from the login program when their values look sane. */
static const char *const allowed[] = {
	"TERM=", "COLORTERM=",	    "LANG=",	   "LANGUAGE=", "LC_",
	"TZ=",	 "SSH_CONNECTION=", "SSH_CLIENT=", "SSH_TTY=",	NULL
};

/* Dropped by default in the pass-through mode, env_keep brings them back:
 * what names a host socket, display or file the cell cannot reach or must
 * not (the agent: ssh forwarding is off in a cell), the host's pty, and
 * what the shell sets itself. */
static const char *const soft_denied[] = { "SSH_AUTH_SOCK",
					   "SSH_AGENT_PID",
					   "SSH_TTY",
					   "XDG_RUNTIME_DIR",
					   "XDG_SESSION_ID",
					   "DBUS_SESSION_BUS_ADDRESS",
					   "XAUTHORITY",
					   "DISPLAY",
					   "WAYLAND_DISPLAY",
					   "MAIL",
					   "KRB5CCNAME",
					   "CELL_WHY",
					   "PWD",
					   "OLDPWD",
					   "SHLVL",
					   "_",
					   NULL };

/* Does NAME (up to eq) match a glob of the space-separated list? */
static bool name_in(const char *list, const char *name, size_t len)
{
	char buf[512], pat[128], nm[128], *save = NULL;

	if (!list || !*list || len >= sizeof(nm) || strlen(list) >= sizeof(buf))
		return false;
	memcpy(nm, name, len);
	nm[len] = '\0';
	strcpy(buf, list);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (strlen(t) >= sizeof(pat))
			continue;
		strcpy(pat, t);
		if (fnmatch(pat, nm, 0) == 0)
			return true;
	}
	return false;
}

static bool in_names(const char *const *names, const char *name, size_t len)
{
	for (size_t i = 0; names[i]; i++)
		if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
			return true;
	return false;
}

/* The path a value names, if it names one: "/x", "unix:path=/x", "FILE:/x". */
static const char *named_path(const char *v)
{
	static const char *const prefixes[] = { "unix:path=", "FILE:", "" };

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		size_t n = strlen(prefixes[i]);

		if (strncmp(v, prefixes[i], n) == 0 && v[n] == '/' && !strchr(v + n, ':'))
			return v + n;
	}
	return NULL;
}

bool env_rule_name_ok(const char *glob)
{
	size_t n = strlen(glob);

	if (!n || n > 127 || (*glob >= '0' && *glob <= '9'))
		return false;
	for (const char *p = glob; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '*' && *p != '?')
			return false;
	return true;
}

bool env_set_entry_ok(const char *entry)
{
	const char *eq = strchr(entry, '=');
	static const char *const own[] = { "HOME", "USER",    "LOGNAME", "SHELL",
					   "PATH", "CELL_ID", NULL };

	return eq && sane_name(entry, eq, false) && !env_denied(entry) &&
	       !in_names(own, entry, (size_t)(eq - entry)) && printable_value(eq + 1, 1024);
}

/* "%u" and "%h" of an env_set value: the user and the home. */
static char *expand(const char *entry, const char *user, const char *home)
{
	size_t size = strlen(entry) + 1;
	char *out, *w;

	for (const char *p = entry; *p; p++)
		if (p[0] == '%' && (p[1] == 'u' || p[1] == 'h'))
			size += strlen(p[1] == 'u' ? user : home);
	out = malloc(size);
	if (!out)
		return NULL;
	w = out;
	for (const char *p = entry; *p; p++) {
		if (p[0] == '%' && (p[1] == 'u' || p[1] == 'h')) {
			const char *v = p[1] == 'u' ? user : home;

			memcpy(w, v, strlen(v));
			w += strlen(v);
			p++;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	return out;
}

#define ENV_MAX 256

char **env_build(char *const *outer, const struct env_own *own, const struct env_rules *rules)
{
	static char *env[ENV_MAX + 1], *made[ENV_MAX];
	static size_t nmade;
	const char *const mine[][2] = { { "HOME", own->home },	  { "USER", own->user },
					{ "LOGNAME", own->user }, { "SHELL", own->shell },
					{ "PATH", own->path },	  { "CELL_ID", own->cell_id } };
	size_t n = 0, first_outer;

	for (size_t i = 0; i < nmade; i++)
		free(made[i]);
	nmade = 0;
	/* Whole values or nothing: a shortened HOME or PATH names another place. */
	for (size_t i = 0; i < ARRAY_SIZE(mine); i++) {
		if (asprintf(&made[nmade], "%s=%s", mine[i][0], mine[i][1]) < 0)
			return NULL;
		env[n++] = made[nmade++];
	}
	first_outer = n;
	for (; outer && *outer && n < ENV_MAX; outer++) {
		const char *eq = strchr(*outer, '=');
		size_t len = eq ? (size_t)(eq - *outer) : 0;
		const char *path;
		bool dup = false;

		if (!eq)
			continue;
		if (!rules) { /* the allow-list mode (cellctl enter) */
			for (size_t i = 0; allowed[i]; i++) {
				if (strncmp(*outer, allowed[i], strlen(allowed[i])) == 0 &&
				    sane_name(*outer, eq, true) && sane_value(eq + 1, 256)) {
					env[n++] = *outer;
					break;
				}
			}
			continue;
		}
		if (!sane_name(*outer, eq, false) || !printable_value(eq + 1, 4096) ||
		    env_denied(*outer) ||
		    in_names((const char *const[]){ "HOME", "USER", "LOGNAME", "SHELL", "PATH",
						    "CELL_ID", NULL },
			     *outer, len))
			continue;
		if (name_in(rules->deny, *outer, len))
			continue;
		/* ssh -t: SSH_TTY names the cell's own terminal, not the host's. */
		if (own->tty && len == 7 && strncmp(*outer, "SSH_TTY", 7) == 0 && nmade < ENV_MAX) {
			if (asprintf(&made[nmade], "SSH_TTY=%s", own->tty) < 0)
				return NULL;
			env[n++] = made[nmade++];
			continue;
		}
		if (!name_in(rules->keep, *outer, len)) {
			if (in_names(soft_denied, *outer, len))
				continue;
			/* A host path the cell cannot see means nothing inside. */
			path = named_path(eq + 1);
			if (path && rules->visible && !rules->visible(path))
				continue;
		}
		for (size_t i = first_outer; i < n && !dup; i++)
			dup = strncmp(env[i], *outer, len + 1) == 0;
		if (!dup)
			env[n++] = *outer;
	}
	/* env_set last: it replaces what came from the login. */
	if (rules && rules->set && *rules->set) {
		char buf[1100], *save = NULL;

		if (strlen(rules->set) >= sizeof(buf))
			return NULL;
		strcpy(buf, rules->set);
		/* nmade too: an entry that replaces one adds to made, not to env. */
		for (char *t = strtok_r(buf, " ", &save); t && n < ENV_MAX && nmade < ENV_MAX;
		     t = strtok_r(NULL, " ", &save)) {
			size_t len = strcspn(t, "=");
			char *v;

			if (!env_set_entry_ok(t))
				continue;
			v = expand(t, own->user, own->home);
			if (!v)
				return NULL;
			made[nmade++] = v;
			for (size_t i = first_outer; i < n; i++) {
				if (strncmp(env[i], t, len + 1) == 0) {
					env[i] = env[--n];
					break;
				}
			}
			env[n++] = v;
		}
	}
	env[n] = NULL;
	return env;
}
