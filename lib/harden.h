/* SPDX-License-Identifier: MIT */
#ifndef CELL_HARDEN_H
#define CELL_HARDEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/*
 * Leave no privilege: bounding set and ambient set emptied, securebits
 * locked so that uid 0 inside gains nothing at exec, all three capability
 * sets cleared, no_new_privs set. Then prove it.
 */
int harden_drop_caps(struct cell_err *e);

/* The same, but `keep` stays in the permitted set (and the effective one if
 * asked). The cell's PID 1 keeps one capability that grants nothing outside
 * the initial user namespace, so that the kernel's ptrace check (a tracer in
 * the same namespace must hold a superset of the target's permitted set)
 * stops every process inside the cell from tracing or reading it. The root
 * monitor keeps only CAP_KILL. */
int harden_drop_caps_keep(int keep, bool effective, struct cell_err *e);

/* Take the in-cell identity (no setgroups: the cell has setgroups=deny). */
int harden_set_ids(uid_t uid, gid_t gid, struct cell_err *e);

/* Build a clean environment for the shell. Returns a NULL-terminated
 * array of static storage; values from `outer` pass only if allow-listed
 * and sane. */
char **harden_env(char *const *outer, const char *user, const char *home,
		  const char *shell, const char *path, const char *cell_id);

#endif
