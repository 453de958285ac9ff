/* SPDX-License-Identifier: MIT */
#ifndef CELL_ERR_H
#define CELL_ERR_H

/*
 * The engine never prints and never exits. Every fallible function returns a
 * negative int and fills a struct cell_err; each layer may prefix context.
 * The front end (PAM module: pam_syslog; cellsh: stderr) reports it.
 */
struct cell_err {
	int code;	/* errno value, or 0 for a policy refusal */
	char msg[1024]; /* one line: what happened, why, and how to fix it */
};

/* Set the error; returns -1 so callers can `return cell_err_set(...)`. */
int cell_err_set(struct cell_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like cell_err_set with the current errno, appending ": strerror". */
int cell_err_sys(struct cell_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepend context ("creating cell: ") to an error already set; returns -1. */
int cell_err_prefix(struct cell_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
