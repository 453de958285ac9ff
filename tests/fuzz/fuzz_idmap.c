// SPDX-License-Identifier: MIT
/* libFuzzer: subordinate-range checks, map arithmetic and formatting, and
 * the rlimit string round trip, on arbitrary ranges and ids. */
#include <stdint.h>
#include <string.h>

#include "idmap.h"
#include "sandbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t take(const uint8_t **d, size_t *n)
{
	uint32_t v = 0;

	for (int i = 0; i < 4 && *n; i++, (*d)++, (*n)--)
		v = v << 8 | **d;
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct id_range r[8];
	static struct idmap m;
	static char out[8192];
	struct cell_err e;
	size_t n;
	uint32_t own, min, want, mode;

	own = take(&data, &size);
	min = take(&data, &size);
	want = take(&data, &size);
	mode = take(&data, &size);
	n = take(&data, &size) % 9;
	for (size_t i = 0; i < n; i++) {
		r[i].start = take(&data, &size);
		r[i].count = take(&data, &size);
	}
	if (subid_validate(r, n, own, min, "uid", "fuzz", &e) == 0 || mode % 3 == 2) {
		enum cell_identity id = (enum cell_identity)(mode % 3);

		if (idmap_build(id, own, r, n, want, "uid", "fuzz", &m, &e) == 0)
			idmap_format(&m, out, sizeof(out), &e);
	}
	{
		struct sb_rlimit rl[SB_NRLIMITS];
		char s[300], back[512];

		n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
		memcpy(s, data, n);
		s[n] = '\0';
		if (sb_rlimits_parse(s, rl) == 0)
			sb_rlimits_format(rl, back, sizeof(back));
	}
	return 0;
}
