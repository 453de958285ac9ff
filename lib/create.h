/* SPDX-License-Identifier: MIT */
#ifndef CELL_CREATE_H
#define CELL_CREATE_H

#include <stddef.h>
#include <sys/types.h>

#include "conf.h"
#include "err.h"
#include "proc.h"

struct cell_spec {
	const char *user;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;		/* supplementary groups, kept (setgroups=deny) */
	size_t ngroups;
	const char *home;
	const struct cell_profile *profile;
	const char *uid_map, *gid_map;	/* formatted by idmap_format */
	const char *cell_init;		/* root-owned path, checked again here */
	int timeout_ms;
};

struct cell_handle {
	pid_t pid;			/* PID 1 of the cell, a child of the caller */
	int pidfd;
	unsigned long long starttime;
	unsigned long ns[NS_COUNT];
};

/* Root only, single-threaded caller: build a cell. Fails closed: on any
 * error nothing of the cell is left running. */
int cell_create(const struct cell_spec *s, struct cell_handle *h, struct cell_err *e);

/* SIGKILL the cell's PID 1 (ends its pid namespace). Never waits. */
int cell_kill(int pidfd, struct cell_err *e);

#endif
