// SPDX-License-Identifier: MIT
/* Where the cgroup hierarchies are: the usual places, checked without the
 * mount table, must give what the whole table gives, and must decline (not
 * guess) where a hierarchy is not where it usually is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"

static void test_same_answer(void **state)
{
	(void)state;
	struct cgroup_layout fast, scan;
	struct cell_err e = { 0 };

	if (!cgroup_layout_usual(&fast))
		skip(); /* this host mounts its cgroups elsewhere: nothing to compare */
	assert_int_equal(cgroup_layout_scan(&scan, &e), 0);
	assert_string_equal(fast.v2mount, scan.v2mount);
	for (int c = 0; c < CG_COUNT; c++) {
		assert_string_equal(fast.mount[c], scan.mount[c]);
		assert_int_equal(fast.v2[c], scan.v2[c]);
	}
	/* and the layout a cell uses is that one */
	assert_int_equal(cgroup_layout(&scan, &e), 0);
	assert_memory_equal(&fast, &scan, sizeof(fast));
}

/* In a mount namespace of the test's own, a tmpfs over the unified
 * hierarchy (and /sys/fs/cgroup/unified): not the usual layout any more. */
static void test_declines_elsewhere(void **state)
{
	(void)state;
	struct cgroup_layout l;

	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0)
		skip(); /* needs root for a mount namespace of its own */
	assert_int_equal(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	assert_int_equal(mount("t", "/sys/fs/cgroup", "tmpfs", 0, "size=4k"), 0);
	assert_false(cgroup_layout_usual(&l));
	/* a v1 hierarchy where its directory should be is not one either */
	assert_int_equal(mkdir("/sys/fs/cgroup/unified", 0755), 0);
	assert_int_equal(mount("none", "/sys/fs/cgroup/unified", "cgroup2", 0, NULL), 0);
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[512];
	bool v1 = false;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		v1 |= strncmp(line, "0:", 2) != 0 && (strstr(line, ":pids:") || strstr(line, "memory"));
	fclose(f);
	if (v1) /* a hybrid host: its v1 hierarchies are under the tmpfs now */
		assert_false(cgroup_layout_usual(&l));
	else { /* unified only: the unified hierarchy at its other usual place */
		assert_true(cgroup_layout_usual(&l));
		assert_string_equal(l.v2mount, "/sys/fs/cgroup/unified");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_answer),
		cmocka_unit_test(test_declines_elsewhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
