/* SPDX-License-Identifier: MIT */
#ifndef CELL_TEMPLATE_H
#define CELL_TEMPLATE_H

#include "err.h"

/*
 * The template mount namespace a cell's PID 1 is cloned in, so that its new
 * mount namespace is a copy of two mounts rather than of the host's whole
 * table: an empty read-only tmpfs as its root and, on /proc, the procfs of a
 * pid namespace whose only process has exited (the kernel lets a user
 * namespace mount a procfs only where one is fully visible already; this
 * one shows no process). Made by root once per boot and held by an nsfs
 * bind mount on CELL_RUN_DIR/template.mnt, as `ip netns` holds network
 * namespaces; remade when that is missing or not a mount namespace. (The
 * package's removal and the tests' cleanup detach it.)
 */
#define TEMPLATE_NAME "template.mnt"

/* An fd (O_RDONLY, O_CLOEXEC) of the template namespace, made if needed.
 * Root only. */
int template_open(struct cell_err *e);

#endif
