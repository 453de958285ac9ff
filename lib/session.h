/* SPDX-License-Identifier: MIT */
#ifndef CELL_SESSION_H
#define CELL_SESSION_H

#include <stdbool.h>

#include "account.h"
#include "conf.h"
#include "err.h"
#include "registry.h"

/*
 * A confined login's cell, as pam_cell opens and closes it (root, in the
 * single-threaded login program):
 *   open:  with share = user, under the user's lock, join their live shared
 *          cell if it is verified (cell_verify), still this account's (user
 *          name and home: a uid given to a new account never joins the old
 *          one's cell, which is ended), and of the same resolved profile
 *          (digest); otherwise check the subordinate ranges, build a new
 *          cell (cell_create) and register it. The login program stays
 *          in its own cgroup (on a systemd host, logind's session scope);
 *          cellsh has the monitor move the shell into the cell's.
 *   close: tell the monitor this session ended; a cell of its own is killed
 *          (never waited for) and unregistered.
 */
struct session_who {
	const struct cell_account *acct;
	const char *service, *tty, *rhost;
	const char *section; /* "[user alice]": which section confined it */
	const char *profile; /* the [profile NAME] it used, or "" */
};

struct cell_session {
	char id[CELL_ID_LEN + 1];
	int pidfd;	      /* the cell's PID 1 */
	int life;	      /* our write end of the cell's life pipe */
	bool shared;	      /* share = user */
	bool joined;	      /* an existing shared cell */
	bool subid_by_source; /* ranges vouched for by a non-files NSS source */
	char note[512];	      /* what open saw that the log should say */
	struct cell_record rec;
	long long started_ms;
};

int session_open(const struct cell_conf *c, const struct cell_profile *p,
		 const struct session_who *w, struct cell_session *s, struct cell_err *e);

/* The subordinate-id checks and maps session_open makes, without making a
 * cell (cellctl check). */
int session_check_ids(const struct cell_conf *c, const struct cell_profile *p,
		      const struct cell_account *a, struct cell_err *e);

/* Every step runs; the first error is returned. */
int session_close(struct cell_session *s, struct cell_err *e);

/* Release the fds (a forked child of the login program, or after close). */
void session_release(struct cell_session *s);

#endif
