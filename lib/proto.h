/* SPDX-License-Identifier: MIT */
#ifndef CELL_PROTO_H
#define CELL_PROTO_H

/*
 * Messages over SOCK_SEQPACKET pairs.
 * pam_cell <-> cell-init's monitor (root), on the monitor's fd 3:
 *   mon  -> pam  'P' value    host pid of the cell's PID 1
 *   mon  -> pam  'R'          the cell is built; pam_cell verifies PID 1 itself
 *   mon  -> pam  'E' code txt a step failed (code is an errno value)
 * monitor <-> its user-side child and the cell's PID 1:
 *   user -> mon  'U' txt      user namespace made, waiting for maps; txt: the
 *                             numbers of its fds of the user's own lookups
 *                             (the home, then each bind's source)
 *   mon  -> user 'G' [fds] txt  setgroups/gid_map/uid_map written, in the
 *                             cgroups; root's clones of those lookups, for
 *                             rootfs = image:NAME the image's idmapped tree and
 *                             the upper and work dirs, the proc views' mount;
 *                             txt names each fd (rootfs.h, ROOTFS_GO_*)
 *   user -> PID1 'N' [fd]     (on a pair of their own) the mount namespace to
 *                             build in, owned by a user namespace of the
 *                             user side's (rootfs.h: why)
 *   user -> mon  'P' value    host pid of the cell's PID 1
 *   PID1 -> mon  'R'          root filesystem built, capabilities dropped
 * Nothing a user-side process says is trusted beyond "done": root verifies.
 * cellsh -> monitor, on the cell's join socket (registry.h):
 *   connecting asks to be moved into the cell's cgroup; the monitor answers
 *   mon  -> cellsh 'M'        moved
 *   mon  -> cellsh 'E' code txt  refused
 *
 * The life pipe (a pipe, or for a shared cell the root-only FIFO
 * /run/cell/ID.life), read by the monitor on its fd 4, written by root only
 * (pam_cell in each login program, session.c), one line per write:
 *   "J PID STARTTIME\n"  login program PID joined the shared cell; the
 *                        monitor watches it (a pidfd) only if PID still has
 *                        that start time (proc_pin)
 *   "C PID\n"            that login program's session closed
 * The login program that created the cell is its first session. The cell
 * ends when PID 1 dies or no session is left (checked under the user's
 * lock for a shared cell, so a login cannot join meanwhile).
 */
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

#define CELL_INIT_FD 3
#define CELL_LIFE_FD 4 /* read end of the life pipe, in the monitor */
/* On a host systemd booted only: a pipe where pam_cell writes 'g' once the
 * cell's scope holds cell-init, which waits for it before anything else. */
#define CELL_GO_FD    5
#define PID_MAX_LIMIT (1 << 22) /* the kernel's largest pid_max */

enum {
	MSG_USERNS = 'U',
	MSG_GO = 'G',
	MSG_PID = 'P',
	MSG_READY = 'R',
	MSG_MNTNS = 'N',
	MSG_ERROR = 'E',
	MSG_MOVED = 'M',
	MSG_TIMING = 'T' /* the monitor's phases (timing.h), when asked */
};

struct cell_msg {
	char type;
	int code;
	long long value;
	char text[900];
};

int msg_send(int fd, char type, int code, long long value, const char *text);

/* A message of type with nfds (<= MSG_MAX_FDS) fds passed along (value is
 * nfds) and text (or NULL). The receiver asks for them with msg_recv_fds;
 * msg_recv refuses a message that carries any. */
#define MSG_MAX_FDS 64
int msg_send_fds(int fd, char type, const int *fds, size_t nfds, const char *text);
int msg_recv_fds(int fd, struct cell_msg *m, long long deadline_ms, int *fds, size_t nfds,
		 struct cell_err *e);

/* Wait until deadline_ms (CLOCK_MONOTONIC milliseconds) for one message. */
int msg_recv(int fd, struct cell_msg *m, long long deadline_ms, struct cell_err *e);

long long now_ms(void);

/* One line of the life pipe (above), without its newline. */
enum { LIFE_JOIN = 'J', LIFE_CLOSE = 'C' };

struct life_note {
	char op;		  /* LIFE_JOIN or LIFE_CLOSE */
	pid_t pid;		  /* the login program, > 1 */
	unsigned long long start; /* its start time (LIFE_JOIN), > 0 */
};

/* "J PID START\n" or "C PID\n": the length, or -1 if it does not fit. */
int life_note_format(const struct life_note *n, char *buf, size_t size);
/* Exactly one of those lines (no newline): 0, or -1 for anything else. */
int life_note_parse(const char *line, struct life_note *n);

#endif
