/* SPDX-License-Identifier: MIT */
#ifndef CELL_PTY_H
#define CELL_PTY_H

/*
 * A terminal of the cell's own for a login on a terminal (cellsh) or an
 * admin's shell (cellctl enter): the shell's fds 0-2 are a pty of the
 * cell's devpts, which ttyname() resolves inside, and the caller, outside
 * the cell's pid namespace, relays between it and the outer terminal. The
 * outer terminal (sshd's pty, the admin's) is never an fd in the cell.
 */
#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

struct cell_pty {
	int master, slave; /* -1 when closed */
	char name[32];	   /* the slave's path in the cell: /dev/pts/N */
};

/* A pty of the devpts at /dev/ptmx of the caller's mount namespace (call it
 * after joining the cell's): the slave comes from the master itself
 * (TIOCGPTPEER), never by a name the cell could have replaced. It starts
 * with the outer terminal's (fd 0) modes and window size. */
int pty_open(struct cell_pty *p, struct cell_err *e);

/* In the child: a new session whose controlling terminal, and fds 0-2, are
 * the slave. */
int pty_attach(struct cell_pty *p, struct cell_err *e);

/* The signals the relay handles itself: block them before the fork (the
 * child unblocks every signal before it execs). */
void pty_block_signals(void);

/*
 * Copy between fds 0/1 (raw while relaying, restored after) and the master
 * until the child pid ends; its wait status in *status. Window-size changes
 * (SIGWINCH) go to the cell's terminal; SIGHUP, SIGTERM and SIGCONT go to
 * the child if forward. Sleeps in poll: no wake-up while the session idles.
 */
void pty_relay(struct cell_pty *p, pid_t pid, bool forward, int *status);

#endif
