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

/*
 * The one way to become a user for good: supplementary groups (unless
 * keep_groups: a cell has setgroups=deny), then gid, then uid; then prove
 * all six ids are the new ones and that neither uid nor gid can change
 * again. cell-init (root -> the user) and cellsh (the in-cell identity,
 * after dropping its capabilities) both use it.
 */
int harden_become_user(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups, bool keep_groups,
		       struct cell_err *e);

/*
 * identity = root over an image: the cell's root with every capability of
 * the cell's user namespace (which setns gave us) and none elsewhere:
 * refused outside a non-initial user namespace; ambient set cleared,
 * no_new_privs set, uid and gid 0. The exec'd shell keeps them (uid 0,
 * SECBIT_NOROOT not set). The seccomp filter still comes after.
 */
int harden_userns_root(struct cell_err *e);

#endif
