/* SPDX-License-Identifier: MIT */
#ifndef CELL_ENV_H
#define CELL_ENV_H

#include <stdbool.h>

/* Is this environment entry ("NAME=value") one that makes the loader, libc
 * or a shell run or read what its sender chose (LD_*, BASH_ENV, IFS, ...)?
 * pam_cell removes them from a confined login's PAM environment, which the
 * login program's host-side helpers (sshd's /etc/ssh/sshrc) inherit. */
bool env_denied(const char *entry);

/* A clean environment for the shell in the cell: HOME, USER, LOGNAME,
 * SHELL, PATH, CELL_ID from the record, then the allow-listed, sane values
 * of `outer`. A static array, valid until the next call; NULL when out of
 * memory. */
char **env_build(char *const *outer, const char *user, const char *home, const char *shell,
		 const char *path, const char *cell_id);

#endif
