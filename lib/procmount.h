/* SPDX-License-Identifier: MIT */
#ifndef CELL_PROCMOUNT_H
#define CELL_PROCMOUNT_H

#include "err.h"

/* The server's own scope under systemd (it asks for it), so that it
 * outlives the cell that started it. */
#define PROCFS_SCOPE "cell-procfs.scope"

/*
 * Root (a cell's monitor, host namespaces): make sure cell-procfs (found
 * beside cell-init) serves /run/cell/procfs, starting it if no one does,
 * and return a detached read-only clone of that mount for the cell's
 * PID 1, or -1.
 */
int procview_mount(struct cell_err *e);

#endif
