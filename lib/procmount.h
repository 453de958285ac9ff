/* SPDX-License-Identifier: MIT */
#ifndef CELL_PROCMOUNT_H
#define CELL_PROCMOUNT_H

#include "err.h"

/*
 * Root (a cell's monitor, host namespaces): make sure cell-procfs (found
 * beside cell-init) serves /run/cell/procfs, starting it if no one does
 * (under systemd in cell-procfs.scope, so it outlives the cell), and return
 * a detached read-only clone of that mount for the cell's PID 1, or -1.
 */
int procview_mount(struct cell_err *e);

#endif
