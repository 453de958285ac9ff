/* SPDX-License-Identifier: MIT */
#ifndef CELL_BINDS_H
#define CELL_BINDS_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/*
 * "bind = SRC:DST[:ro|rw]" lines of a profile (conf.h: "SRC:DST:MODE\twhere"
 * each), resolved for one user, as root on the host: %u and %h expanded,
 * SRC opened without following a symlink at any component, and accepted
 * only when it is a directory or regular file owned by root or by the
 * user. Out: one "SRC\tDST\tMODE\tDEV\tINO" line each, for cell-init, whose
 * PID 1 opens SRC the same way and binds it only if it is still the same
 * inode. An error names the line's file:line and the fix.
 */
int binds_resolve(const char *lines, const char *user, const char *home, uid_t uid, char *out,
		  size_t size, struct cell_err *e);

#endif
