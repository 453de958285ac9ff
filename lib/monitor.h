/* SPDX-License-Identifier: MIT */
#ifndef CELL_MONITOR_H
#define CELL_MONITOR_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "create.h"
#include "err.h"
#include "initargs.h"

/* A cell's root monitor (see monitor.c for its three roles). */
struct monitor {
	struct init_args args; /* from pam_cell (initargs_decode) */
	struct cgroup_layout layout;
	bool systemd;			/* the cgroup is systemd's scope cell-<id>.scope */
	struct cell_cgroup cg;		/* the cell's cgroup.procs files */
	struct cell_handle cell;	/* PID 1, once built */
	int joinfd;			/* the join socket (registry.h), listening */
	int sigfd;			/* SIGTERM, SIGINT, SIGHUP */
	pid_t user;			/* the user side, while building */
	int procfd;			/* a verified /proc */
	pid_t parent;			/* the login program: the first session */
	int parentfd;			/* its pidfd */
	int layers_lock;		/* image_fds.lock: the persistent upper is ours */
	int net_claim;			/* bridge: CELL_RUN_DIR/ID.net, locked (net.h) */
	pid_t pasta;			/* net = user: pasta, our child, or 0 */
	char user_dir[CG_USER_DIR_LEN]; /* cgroup_user_dir */
};

enum monitor_end {
	MONITOR_PID1_EXITED,	     /* the cell ended by itself (or was killed) */
	MONITOR_SESSION_CLOSED,	     /* its only session's login program went */
	MONITOR_LAST_SESSION_CLOSED, /* a shared cell's last session went */
	MONITOR_WATCH_FAILED,	     /* the life pipe broke: the cell was killed */
	MONITOR_STOPPED,	     /* a stop signal came: the cell was killed */
};

/* Build the cell: its cgroup, the user side, maps, PID 1 verified, the join
 * socket. On failure call monitor_abort. */
int monitor_build(struct monitor *m, struct cell_err *e);
/* Kill what a failed build left (our children only) and its cgroups. */
void monitor_abort(struct monitor *m);
/* Wait until the cell is over; PID 1 is killed if it still runs. */
enum monitor_end monitor_watch(struct monitor *m);
/* Reap PID 1, remove the record (and a shared cell's files) and cgroups.
 * Returns how many cgroup directories are still busy. */
int monitor_teardown(struct monitor *m);

#endif
