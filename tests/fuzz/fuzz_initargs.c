// SPDX-License-Identifier: MIT
/* libFuzzer: what crosses into root's code as text - cell-init's argv
 * (NUL-separated words), a registry record, a life-pipe line - must decode
 * or be refused,
 * never overrun; whatever decodes must encode and decode to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "initargs.h"
#include "proto.h"
#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void args_round_trip(char **argv, int argc)
{
	struct init_args *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct cell_err e;
	char **again;
	int n = 0;

	if (a && b && initargs_decode(argc, argv, a, &e) == 0) {
		if (initargs_encode(a, &again, &e) < 0)
			abort();
		while (again[n])
			n++;
		if (initargs_decode(n, again, b, &e) < 0 || b->ngroups != a->ngroups ||
		    memcmp(b->groups, a->groups, a->ngroups * sizeof(gid_t)) != 0 ||
		    strcmp(b->home, a->home) != 0 || b->uid != a->uid)
			abort();
		initargs_free(again);
	}
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[40];
	struct cell_record *r = malloc(sizeof(*r));
	struct cell_err e;
	int argc = 0;

	if (!buf || !r)
		goto out;
	memcpy(buf, data, size);
	buf[size] = '\0';
	{
		struct life_note n;
		char line[64];

		/* A parsed life note formats back to the same line. */
		if (life_note_parse(buf, &n) == 0 &&
		    (life_note_format(&n, line, sizeof(line)) != (int)strlen(buf) + 1 ||
		     strncmp(line, buf, strlen(buf)) != 0))
			abort();
	}
	if (registry_parse(buf, r, &e) == 0) {
		static char text[16384];

		if (registry_format(r, text, sizeof(text), &e) < 0)
			abort();
	}
	for (char *p = buf; p <= buf + size && argc < 39; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	args_round_trip(argv, argc);
out:
	free(buf);
	free(r);
	return 0;
}
