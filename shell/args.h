/* SPDX-License-Identifier: MIT */
#ifndef CELLSH_ARGS_H
#define CELLSH_ARGS_H

#include <stdbool.h>
#include <stddef.h>

/* What cellsh was asked to do: an interactive shell (login or not), or
 * "-c COMMAND [ARG0 [ARG...]]" with argv[cmd_index..] passed on verbatim. */
struct cellsh_args {
	bool login;
	bool version;  /* --version */
	int cmd_index; /* 0: no -c */
};

/* Returns 0, or -1 with a one-line reason in err. Never reads outside argv
 * (argc entries, argv[0] may be NULL) and keeps no pointer into it. */
int cellsh_parse_args(int argc, char *const *argv, struct cellsh_args *a, char *err, size_t errlen);

#endif
