/* SPDX-License-Identifier: MIT */
#ifndef CELL_DECIDE_H
#define CELL_DECIDE_H

#include <stdbool.h>

#include "account.h"
#include "conf.h"

/*
 * Who logs in and what cell.conf says of them: the one decision pam_cell,
 * the user-manager gate and any later tool make, in one order. The account
 * and the config are read here; an account or a config that cannot be
 * read fully refuses, unless the user is exempt by name (break-glass must
 * work when NSS or the config does not).
 */
enum login_verdict {
	LOGIN_REFUSE,  /* why says why */
	LOGIN_EXEMPT,  /* listed in 'exempt' (degraded: despite an error) */
	LOGIN_IGNORE,  /* not confined: no section, or not this service */
	LOGIN_CONFINE, /* match holds the profile */
};

struct login_decision {
	enum login_verdict verdict;
	bool degraded;	/* exempt although the config or account failed */
	bool have_acct; /* acct was read (account_free it) */
	struct cell_account acct;
	struct cell_match match; /* for LOGIN_CONFINE and LOGIN_IGNORE */
	char why[1600];
};

/* c is conf_init'ed and loaded here (conf_free it). service NULL: confined
 * through any service at all (the services key is not looked at). */
void login_decide(struct cell_conf *c, const char *conf_path, const char *user, const char *service,
		  struct login_decision *d);

/* For LOGIN_CONFINE: what the account must be for a cell to hold it (uid
 * not 0, cellsh as its login shell). 0, or -1 with the reason and fix. */
int login_confinable(const struct cell_conf *c, const struct login_decision *d, char *why,
		     size_t size);

#endif
