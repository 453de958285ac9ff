// SPDX-License-Identifier: MIT
#include "args.h"

#include <stdio.h>
#include <string.h>

int cellsh_parse_args(int argc, char *const *argv, struct cellsh_args *a, char *err, size_t errlen)
{
	/* execve with an empty argv (the pkexec CVE-2021-4034 class): argv[1]
	 * would be the environment. */
	if (argc < 1 || !argv || !argv[0]) {
		snprintf(err, errlen, "started without argv[0]; refusing");
		return -1;
	}
	/* Every field is set before any return, whichever way it goes. */
	a->version = false;
	a->login = argv[0][0] == '-'; /* sshd and login start a login shell as "-NAME" */
	a->cmd_index = 0;
	if (argc == 2 && argv[1] && strcmp(argv[1], "--version") == 0) {
		a->version = true;
		return 0;
	}
	if (argc >= 2 && argv[1] && strcmp(argv[1], "-c") == 0) {
		if (argc < 3 || !argv[2]) {
			snprintf(err, errlen, "-c needs a command");
			return -1;
		}
		a->cmd_index = 2;
		return 0;
	}
	if (argc == 2 && argv[1] &&
	    (strcmp(argv[1], "-l") == 0 || strcmp(argv[1], "--login") == 0)) {
		a->login = true;
		return 0;
	}
	if (argc > 1) {
		snprintf(err, errlen,
			 "usage: cellsh [-l | -c COMMAND [ARG0 [ARG...]] | --version]");
		return -1;
	}
	return 0;
}
