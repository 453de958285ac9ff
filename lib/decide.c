// SPDX-License-Identifier: MIT
#include "decide.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void set(struct login_decision *d, enum login_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set(struct login_decision *d, enum login_verdict v, const char *fmt, ...)
{
	va_list ap;

	d->verdict = v;
	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
}

void login_decide(struct cell_conf *c, const char *conf_path, const char *user, const char *service,
		  struct login_decision *d)
{
	struct cell_err lookup = { 0 };
	struct cell_account *a = &d->acct;

	memset(d, 0, sizeof(*d));
	d->have_acct = account_lookup(user, a, &lookup) == 0;
	conf_init(c);
	if (conf_load(c, conf_path) > 0) {
		if (conf_is_exempt(c, user, (const char *const *)a->gnames, a->ngnames)) {
			d->degraded = true;
			set(d, LOGIN_EXEMPT, "although %s has %zu error(s)", conf_path, c->nerrors);
			return;
		}
		set(d, LOGIN_REFUSE,
		    "%s has %zu error(s), the first: %s; every confined login is refused until "
		    "it is fixed",
		    conf_path, c->nerrors, c->errors[0]);
		return;
	}
	if (!d->have_acct) {
		if (conf_is_exempt(c, user, NULL, 0)) {
			d->degraded = true;
			set(d, LOGIN_EXEMPT, "although the account could not be read: %s",
			    lookup.msg);
			return;
		}
		set(d, LOGIN_REFUSE,
		    "%s; whether this login is confined cannot be decided without it", lookup.msg);
		return;
	}
	for (size_t i = 0; i < c->nsections; i++) {
		const struct cell_section *sec = &c->sections[i];

		if (sec->kind == SECTION_GROUP && !strpbrk(sec->pattern, "*?[") &&
		    !conf_is_exempt(c, user, NULL, 0) &&
		    account_verify_group(a, sec->pattern, &lookup) < 0) {
			set(d, LOGIN_REFUSE, "%s", lookup.msg);
			return;
		}
	}
	conf_decide(c, user, (const char *const *)a->gnames, a->ngnames, service, &d->match);
	switch (d->match.decision) {
	case CELL_EXEMPT:
		set(d, LOGIN_EXEMPT, "%s", d->match.why);
		break;
	case CELL_IGNORE:
		set(d, LOGIN_IGNORE, "%s", d->match.why);
		break;
	default:
		set(d, LOGIN_CONFINE, "%s", d->match.why);
		break;
	}
}

int login_confinable(const struct cell_conf *c, const struct login_decision *d, char *why,
		     size_t size)
{
	const struct cell_account *a = &d->acct;

	if (a->uid == 0) {
		snprintf(why, size,
			 "user %s has uid 0, which a cell cannot confine (%s): list it in 'exempt'",
			 a->name, d->match.why);
		return -1;
	}
	if (strcmp(a->shell, c->cellsh) != 0) {
		snprintf(why, size,
			 "user %s is confined by %s but their login shell is '%s', so the shell "
			 "would run outside the cell: fix with 'chsh -s %s %s'",
			 a->name, d->match.why, a->shell, c->cellsh, a->name);
		return -1;
	}
	return 0;
}
