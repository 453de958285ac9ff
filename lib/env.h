/* SPDX-License-Identifier: MIT */
#ifndef CELL_ENV_H
#define CELL_ENV_H

#include <stdbool.h>

/* Is this environment entry ("NAME=value") one that makes the loader, libc
 * or a shell run or read what its sender chose (LD_*, BASH_ENV, IFS, ...)?
 * pam_cell removes them from a confined login's PAM environment, which the
 * login program's host-side helpers (sshd's /etc/ssh/sshrc) inherit. */
bool env_denied(const char *entry);

/* What the cell sets itself, whatever the login brought. */
struct env_own {
	const char *user, *home, *shell, *path, *cell_id;
	const char *tty; /* the cell's terminal (pty.h): SSH_TTY names it, or NULL */
};

/* The profile's rules (cell.conf(5)): env_keep and env_deny are
 * space-separated name globs, env_set space-separated NAME=VALUE (%u, %h
 * expanded); visible tells whether a path exists in the cell. */
struct env_rules {
	const char *keep, *deny, *set;
	bool (*visible)(const char *path);
};

/*
 * The shell's environment in the cell: HOME, USER, LOGNAME, SHELL, PATH,
 * CELL_ID from the record, then the login's own (outer), then env_set.
 * From outer (rules given), every variable with a sane name and a value
 * without control characters passes, except: what env_denied says (never),
 * what env_deny names, and unless env_keep names them, the built-in soft
 * list (SSH_AUTH_SOCK, XDG_RUNTIME_DIR, DISPLAY, SSH_TTY, ...) and those
 * whose value names a host path the cell cannot see. rules NULL (cellctl
 * enter: an admin's environment) lets only TERM, LANG, LC_*, TZ and the
 * like through. A static array, valid until the next call; NULL when out
 * of memory.
 */
char **env_build(char *const *outer, const struct env_own *own, const struct env_rules *rules);

/* For cell.conf's env_keep/env_deny globs and env_set entries. */
bool env_rule_name_ok(const char *glob);
bool env_set_entry_ok(const char *entry);

#endif
