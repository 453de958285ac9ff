// SPDX-License-Identifier: MIT
/*
 * cell-manager-gate: may user UID have a service manager of their own on the
 * host (systemd --user, user@UID.service)? systemd runs this before starting
 * one (ExecCondition= in user@.service.d/cell.conf):
 *
 *   cell-manager-gate [--conf PATH] UID
 *
 * Exit 0: yes, the user is not confined through any service. Exit 1: no, or
 * it cannot be decided (the account or cell.conf cannot be read): systemd
 * then skips the unit without failing it. A confined user's manager would
 * run on the host, outside every cell, the units and generators the user
 * writes into ~/.config/systemd from inside a cell, and it would hold every
 * capability in the user's cells (it runs as the owner of their user
 * namespaces): so it does not start.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "util.h"

enum { MAY_START = 0, MUST_NOT = 1 };

int main(int argc, char **argv)
{
	_cleanup_free_ struct cell_conf *c = calloc(1, sizeof(*c));
	_cleanup_free_ struct login_decision *d = calloc(1, sizeof(*d));
	const char *conf = CELL_CONF_PATH;
	struct passwd pw, *found = NULL;
	char buf[16384];
	unsigned long uid;
	int r;

	if (argc == 4 && strcmp(argv[1], "--conf") == 0 && argv[2][0] == '/') {
		conf = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 2 || parse_ulong(argv[1], &uid) < 0) {
		fprintf(stderr, "usage: cell-manager-gate [--conf PATH] UID\n");
		return MUST_NOT;
	}
	if (!c || !d)
		return MUST_NOT;
	r = getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &found);
	if (!found) {
		fprintf(stderr,
			"cell: no service manager for uid %lu: its account cannot be read (%s)\n",
			uid, r ? strerror(r) : "no such user");
		return MUST_NOT;
	}
	login_decide(c, conf, pw.pw_name, NULL, d);
	if (d->have_acct)
		account_free(&d->acct);
	conf_free(c);
	switch (d->verdict) {
	case LOGIN_EXEMPT:
	case LOGIN_IGNORE:
		return MAY_START;
	case LOGIN_CONFINE:
		fprintf(stderr,
			"cell: no host-side service manager for %s: confined by %s (it would run "
			"the user's units outside the cell)\n",
			pw.pw_name, d->why);
		return MUST_NOT;
	default:
		fprintf(stderr, "cell: no service manager for %s: %s\n", pw.pw_name, d->why);
		return MUST_NOT;
	}
}
