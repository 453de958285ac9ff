/* SPDX-License-Identifier: MIT */
#ifndef CELL_CREATE_H
#define CELL_CREATE_H

#include <stddef.h>
#include <sys/types.h>

#include "conf.h"
#include "err.h"
#include "proc.h"

struct init_args;

struct cell_spec {
	const struct init_args *args; /* what cell-init is told (initargs.h) */
	const char *cell_init;	      /* root-owned path, checked again here */
	int timeout_ms;
	int life_fd; /* read end of the life pipe/FIFO: the cell
					 * ends when every write end is closed */
};

struct cell_handle {
	pid_t pid; /* PID 1 of the cell, the monitor's child */
	int pidfd;
	unsigned long long starttime;
	unsigned long ns[NS_COUNT];
};

/* Root only, single-threaded caller: build a cell. Fails closed: on any
 * error nothing of the cell is left running. */
int cell_create(const struct cell_spec *s, struct cell_handle *h, struct cell_err *e);

/* Root: write setgroups=deny, gid_map, uid_map of pid (whose user namespace
 * must be owned by uid). Returns the namespace's inode in *userns_ino. */
int cell_write_maps(int procfd, pid_t pid, uid_t uid, const char *uid_map, const char *gid_map,
		    unsigned long *userns_ino, struct cell_err *e);

/* Check that pid1 is a cell's PID 1: a child of `parent`, in a user namespace
 * owned by uid, sharing no namespace with the caller (but the network one
 * unless own_net: then ns[NS_NET] is 0). Fills h (pid, pidfd, starttime, ns). */
int cell_verify_pid1(int procfd, pid_t pid1, pid_t parent, uid_t uid, bool own_net,
		     struct cell_handle *h, struct cell_err *e);

/* SIGKILL the cell's PID 1 (ends its pid namespace). Never waits. */
int cell_kill(int pidfd, struct cell_err *e);

#endif
