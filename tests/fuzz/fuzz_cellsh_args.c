// SPDX-License-Identifier: MIT
/* libFuzzer: cellsh's argument handling, with NUL-separated arguments, and
 * the environment filter on the same strings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "env.h"
#include "harden.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[65];
	struct cellsh_args a;
	char err[200];
	int argc = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (char *p = buf; p <= buf + size && argc < 64; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	/* argc 0 too: execve with an empty argv. */
	if (cellsh_parse_args(size ? argc : 0, argv, &a, err, sizeof(err)) == 0 &&
	    a.cmd_index && a.cmd_index >= argc)
		abort();	/* -c accepted without a command */
	env_build(argv,
		  &(struct env_own){ .user = "u", .home = "/home/u", .shell = "/bin/bash",
				     .path = "/usr/bin:/bin", .cell_id = "0123" },
		  &(struct env_rules){ .keep = "LANG", .deny = "X_*", .set = "A=%u B=%h" });
	free(buf);
	return 0;
}
