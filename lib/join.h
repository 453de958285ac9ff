/* SPDX-License-Identifier: MIT */
#ifndef CELL_JOIN_H
#define CELL_JOIN_H

#include <sys/types.h>

#include "err.h"
#include "registry.h"

struct cell_join {
	struct cell_record rec;
	int nsfd[NS_COUNT];
	int pidfd;
};

/*
 * Find and verify the cell `id` for the caller: the registry entry is
 * root's, names the caller's uid; PID 1 is alive with the recorded start
 * time and owned by the caller; every namespace has the recorded inode;
 * the user namespace is owned by the caller. The namespace fds are opened
 * while a pidfd proves the pid was not recycled.
 */
int cell_open(const char *id, uid_t caller, struct cell_join *j, struct cell_err *e);

/* The checks of cell_open on a record already read: the one verification
 * of a live cell, for cellsh (as the user) and pam_cell's shared-cell join
 * (as root). On success j holds the pidfd and namespace fds. */
int cell_verify(const struct cell_record *rec, uid_t owner, struct cell_join *j,
		struct cell_err *e);

/* setns() into every namespace of the cell (user first). */
/* Have the cell's monitor move this process into the cell's cgroup (its
 * join socket, registry.h): before cell_enter, which leaves the host's
 * /run behind. */
#define JOIN_TIMEOUT_MS 10000
int cell_join_cgroup(const char *id, struct cell_err *e);

int cell_enter(struct cell_join *j, struct cell_err *e);

void cell_join_close(struct cell_join *j);

#endif
