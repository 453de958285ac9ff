// SPDX-License-Identifier: MIT
/* libFuzzer: the cell.conf parser and policy on arbitrary text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cell_conf c;
	static const char *const groups[] = { "cell", "staff", "wheel" };
	struct cell_match m;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	conf_init(&c);
	conf_parse_string(&c, "fuzz.conf", text);
	conf_decide(&c, "alice", groups, 3, "sshd", &m);
	conf_decide(&c, "root", groups, 0, "login", &m);
	(void)conf_is_exempt(&c, "bob", groups, 1);
	(void)conf_memory_max(&m.profile);
	conf_free(&c);
	free(text);
	return 0;
}
