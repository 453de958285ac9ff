/* SPDX-License-Identifier: MIT */
#ifndef CELL_CGROUP_H
#define CELL_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

#define CELL_CGROUP_PARENT "cell" /* cells live in <hierarchy>/cell/<id> */

/* The controllers a cell uses. Each comes from cgroup v2 when the unified
 * hierarchy offers it, else from its own v1 hierarchy. */
enum { CG_PIDS, CG_MEMORY, CG_CPU, CG_COUNT };

struct cell_limits {
	unsigned long pids_max;	       /* 0: no limit */
	unsigned long long memory_max; /* bytes, 0: no limit */
	unsigned long cpu_weight;      /* 1..10000, 100 is the default share */
};

/* Where each controller is mounted; several may share one (v2) directory. */
struct cgroup_layout {
	char mount[CG_COUNT][128];
	bool v2[CG_COUNT];
};

int cgroup_layout(struct cgroup_layout *l, struct cell_err *e);

/* Create <hierarchy>/cell/<id> for every controller and set the limits. */
int cgroup_create(const struct cgroup_layout *l, const char *id, const struct cell_limits *lim,
		  struct cell_err *e);

/* Move pid into the cell's cgroups. */
int cgroup_attach(const struct cgroup_layout *l, const char *id, pid_t pid, struct cell_err *e);

/* Remove the cell's cgroups, waiting up to timeout_ms for them to empty.
 * Returns the number of directories that could not be removed. */
int cgroup_destroy(const struct cgroup_layout *l, const char *id, int timeout_ms);

/* A process's own cgroup in each controller's hierarchy, to move it back. */
struct cgroup_origin {
	char path[CG_COUNT][PATH_MAX];
};
int cgroup_origin_save(const struct cgroup_layout *l, struct cgroup_origin *o, struct cell_err *e);
int cgroup_origin_restore(const struct cgroup_layout *l, const struct cgroup_origin *o,
			  struct cell_err *e);

#endif
