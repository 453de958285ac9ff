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
enum { CG_PIDS, CG_MEMORY, CG_CPU, CG_CPUACCT, CG_COUNT };
/* cpuacct is v1's alone (v2 counts cpu time in every cgroup's cpu.stat):
 * a cell has it only for its proc views, where the host mounts it. */

struct cell_limits {
	unsigned long pids_max;	       /* 0: no limit */
	unsigned long long memory_max; /* bytes, 0: no limit */
	unsigned long cpu_weight;      /* 1..10000, 100 is the default share */
	bool account;		       /* memory and cpu accounting without limits (proc views) */
};

/* Where each controller is mounted; several may share one (v2) directory. */
struct cgroup_layout {
	char mount[CG_COUNT][128];
	bool v2[CG_COUNT];
	char v2mount[128]; /* the unified hierarchy, with or without controllers */
};

int cgroup_layout(struct cgroup_layout *l, struct cell_err *e);
/* Its two ways, for tests: the usual places (false: not all there), and
 * the whole mount table. */
bool cgroup_layout_usual(struct cgroup_layout *l);
int cgroup_layout_scan(struct cgroup_layout *l, struct cell_err *e);

/* Is systemd PID 1 (sd_booted(3))? Then cgroups are systemd's to hand out
 * (systemd.c asks for them). */
bool systemd_booted(void);

/* The name of the user's parent cgroup of all their cells: "u<uid>". */
#define CG_USER_DIR_LEN 24
void cgroup_user_dir(unsigned long uid, char buf[CG_USER_DIR_LEN]);

/* Create <hierarchy>/cell/<id> for every controller and set the limits;
 * with any of the user's limits set (ulim), <hierarchy>/cell/<user>/<id>,
 * the user's limits on <user> (all of that user's cells under it). */
int cgroup_create(const struct cgroup_layout *l, const char *user, const struct cell_limits *ulim,
		  const char *id, const struct cell_limits *lim, struct cell_err *e);

/*
 * The cell's cgroup in every hierarchy it has, as cgroup.procs files opened
 * once by the monitor while it is root with every capability: the kernel
 * checks a move against the opener's credentials, so the monitor can still
 * move processes after it dropped them.
 */
#define CG_MAX_HIER (CG_COUNT + 1)
struct cell_cgroup {
	int procs[CG_MAX_HIER];
	int n;
};

/* The directory cgroup_create made (the same user and ulim). */
int cgroup_open_direct(const struct cgroup_layout *l, const char *user,
		       const struct cell_limits *ulim, const char *id, struct cell_cgroup *cg,
		       struct cell_err *e);
/* The calling process's own cgroup, which must be systemd's unit (a scope
 * that holds it) in the unified hierarchy. */
int cgroup_open_unit(const struct cgroup_layout *l, const char *unit, struct cell_cgroup *cg,
		     struct cell_err *e);
/* Move pid (its whole thread group) into the cell's cgroup. */
int cgroup_move(const struct cell_cgroup *cg, pid_t pid, struct cell_err *e);
void cgroup_close(struct cell_cgroup *cg);

/* Remove the cell's cgroups, waiting up to timeout_ms for them to empty,
 * and the user's directory if it was the last in it. Returns the number of
 * directories that could not be removed. */
int cgroup_destroy(const struct cgroup_layout *l, const char *user, const struct cell_limits *ulim,
		   const char *id, int timeout_ms);
/* The same where the user's limits are not known (a cell whose monitor
 * was SIGKILLed): below <user> and below the parent alike. */
int cgroup_destroy_either(const struct cgroup_layout *l, const char *user, const char *id,
			  int timeout_ms);

#endif
