/* SPDX-License-Identifier: MIT */
#ifndef CELL_PROTO_H
#define CELL_PROTO_H

/*
 * pam_cell <-> cell-init, over a SOCK_SEQPACKET pair on cell-init's fd 3:
 *   init -> pam  'U'          user namespace made, waiting for maps
 *   pam  -> init 'G'          setgroups/gid_map/uid_map written
 *   init -> pam  'P' value    host pid of the cell's PID 1
 *   PID1 -> pam  'R'          root filesystem built, capabilities dropped
 *   any  -> pam  'E' code txt a step failed (code is an errno value)
 * Nothing cell-init says is trusted beyond "done": root verifies the pid.
 */
#include "err.h"

#define CELL_INIT_FD 3

enum { MSG_USERNS = 'U', MSG_GO = 'G', MSG_PID = 'P', MSG_READY = 'R', MSG_ERROR = 'E' };

struct cell_msg {
	char type;
	int code;
	long long value;
	char text[900];
};

int msg_send(int fd, char type, int code, long long value, const char *text);

/* Wait until deadline_ms (CLOCK_MONOTONIC milliseconds) for one message. */
int msg_recv(int fd, struct cell_msg *m, long long deadline_ms, struct cell_err *e);

long long now_ms(void);

#endif
