// SPDX-License-Identifier: MIT
/* Test helper: dlopen a PAM module the way libpam does and resolve its
 * session entry points. Prints "ok" or the dlerror. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	void *h;

	if (argc != 2)
		return 2;
	h = dlopen(argv[1], RTLD_NOW);
	if (!h) {
		printf("dlopen: %s\n", dlerror());
		return 1;
	}
	if (!dlsym(h, "pam_sm_open_session") || !dlsym(h, "pam_sm_close_session")) {
		printf("dlsym: %s\n", dlerror());
		return 1;
	}
	puts("ok");
	return 0;
}
