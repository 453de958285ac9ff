/* SPDX-License-Identifier: MIT */
#ifndef CELL_SYSTEMD_H
#define CELL_SYSTEMD_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "err.h"

struct scope_spec {
	const char *id;	   /* the cell's id: the unit is cell-<id>.scope */
	const char *user;  /* for the unit's description */
	unsigned long uid; /* the scope goes in user-<uid>.slice */
	const struct cell_limits *limits;
	const struct cell_limits *user_limits; /* set on user-<uid>.slice, 0s: none */
	/* A scope of a host service instead (limits NULL): this unit, in
	 * system.slice, holding pid. */
	const char *unit;
	pid_t pid;
};

/* Ask systemd for cell-<id>.scope with Delegate=yes and the limits, holding
 * the calling process (or s->unit holding s->pid), and wait until it is
 * started. */
int systemd_scope_start(const struct scope_spec *s, struct cell_err *e);

#endif
