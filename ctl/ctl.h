/* SPDX-License-Identifier: MIT */
#ifndef CELL_CTL_H
#define CELL_CTL_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "registry.h"

/*
 * cellctl: the admin's tool (root). One file per group of commands; what
 * they share is here. Exit status: 0 done / all good, 1 a problem (said on
 * stderr with its fix), 2 usage.
 */
enum { EXIT_OK = 0, EXIT_PROBLEM = 1, EXIT_USAGE = 2, EXIT_NOT_CONFINED = 3 };

struct ctl {
	const char *conf; /* cell.conf */
	bool json;
};

void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void __attribute__((noreturn)) ctl_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The live cells (verified: PID 1, namespaces, owner) whose id is `what`,
 * or whose user is `what`, or all of them for NULL. Sorted oldest first.
 * Returns how many; *out is malloc'd. */
size_t ctl_cells(const char *what, struct cell_record **out);

/* The cell's cgroup directories, from its PID 1's /proc/PID/cgroup: only
 * those whose last component is the cell's (cell-ID.scope or ID). */
#define CTL_MAX_CG 8
struct ctl_cgroup {
	char dir[CTL_MAX_CG][512];
	char ctrls[CTL_MAX_CG][64]; /* "" for the unified hierarchy */
	int n;
};
int ctl_cell_cgroup(const struct cell_record *r, struct ctl_cgroup *cg);

/* Run a program (absolute path, NULL-terminated arguments, at most 7) with
 * a clean environment; its exit status, or -1. */
int ctl_run(const char *prog, ...);

/* JSON string output. */
void json_str(FILE *f, const char *s);

int cmd_list(struct ctl *c, int argc, char **argv);
int cmd_stop(struct ctl *c, int argc, char **argv);
int cmd_enter(struct ctl *c, int argc, char **argv);
int cmd_check(struct ctl *c, int argc, char **argv);
int cmd_enable(struct ctl *c, int argc, char **argv);
int cmd_disable(struct ctl *c, int argc, char **argv);
int cmd_log(struct ctl *c, int argc, char **argv);
int cmd_image(struct ctl *c, int argc, char **argv);
int cmd_user(struct ctl *c, int argc, char **argv);

#endif
