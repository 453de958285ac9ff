// SPDX-License-Identifier: MIT
/* The proc views' formatting (lib/procview.c): what free, top, uptime and
 * vmstat parse, from fixed figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "procview.h"

static const char host_meminfo[] = "MemTotal:       16000000 kB\n"
				   "MemFree:        12000000 kB\n"
				   "MemAvailable:   14000000 kB\n"
				   "Buffers:            2040 kB\n"
				   "Cached:           249740 kB\n"
				   "SwapTotal:       4000000 kB\n"
				   "SwapFree:        4000000 kB\n"
				   "KernelStack:        5000 kB\n"
				   "Inactive(anon):    11111 kB\n";

static char *render_mem(const struct pv_mem *m)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(pv_meminfo(host_meminfo, m, f), 0);
	fclose(f);
	return out;
}

static void test_meminfo_limited(void **state)
{
	struct pv_mem m = { .limit = 200ULL << 20,
			    .usage = 50ULL << 20,
			    .swap_limit = 0,
			    .file = 10ULL << 20,
			    .inactive_file = 6ULL << 20,
			    .active_file = 4ULL << 20,
			    .inactive_anon = 1ULL << 20 };
	char *out = render_mem(&m);

	(void)state;
	/* The kernel's columns: name and colon in 16, the number in 8 more. */
	assert_non_null(strstr(out, "MemTotal:         204800 kB\n"));
	assert_non_null(strstr(out, "MemFree:          153600 kB\n"));
	/* Free plus the file cache it could reclaim. */
	assert_non_null(strstr(out, "MemAvailable:     163840 kB\n"));
	assert_non_null(strstr(out, "Buffers:               0 kB\n"));
	assert_non_null(strstr(out, "Cached:            10240 kB\n"));
	assert_non_null(strstr(out, "Inactive(anon):     1024 kB\n"));
	/* memory_max covers swap: none to use. */
	assert_non_null(strstr(out, "SwapTotal:             0 kB\n"));
	assert_non_null(strstr(out, "SwapFree:              0 kB\n"));
	/* What the cell has no figure of stays the host's, in place. */
	assert_non_null(strstr(out, "KernelStack:        5000 kB\n"));
	assert_int_equal(strncmp(out, "MemTotal:", 9), 0);
	free(out);
}

static void test_meminfo_unlimited(void **state)
{
	struct pv_mem m = { .limit = PV_NONE,
			    .usage = 20000ULL << 20, /* more than the host: capped */
			    .swap_limit = PV_NONE,
			    .swap_usage = 1000ULL << 10 };
	char *out = render_mem(&m);

	(void)state;
	assert_non_null(strstr(out, "MemTotal:       16000000 kB\n"));
	assert_non_null(strstr(out, "MemFree:               0 kB\n"));
	assert_non_null(strstr(out, "SwapTotal:       4000000 kB\n"));
	assert_non_null(strstr(out, "SwapFree:        3999000 kB\n"));
	free(out);
}

static void test_meminfo_not_meminfo(void **state)
{
	struct pv_mem m = { 0 };
	FILE *f = fopen("/dev/null", "w");

	(void)state;
	assert_int_equal(pv_meminfo("garbage\n", &m, f), -1);
	fclose(f);
}

static void test_stat(void **state)
{
	static const char host[] = "cpu  1000 5 2000 90000 10 0 3 0 0 0\n"
				   "cpu0 500 2 1000 45000 5 0 1 0 0 0\n"
				   "cpu1 500 3 1000 45000 5 0 2 0 0 0\n"
				   "intr 12345 1 2 3\n"
				   "ctxt 999\n"
				   "btime 1700000000\n"
				   "processes 4242\n"
				   "procs_running 7\n"
				   "procs_blocked 1\n";
	struct pv_cpu c = { .user = 301, .system = 100, .hz = 100, .age = 10.0, .btime = 1800000000,
			    .running = 2, .blocked = 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	assert_int_equal(pv_stat(host, &c, f), 0);
	fclose(f);
	/* 2 CPUs x 10 s x 100 Hz = 2000 ticks, 401 of them the cell's. */
	assert_non_null(strstr(out, "cpu  301 0 100 1599 0 0 0 0 0 0\n"));
	/* Split evenly, the first CPU taking the remainder. */
	assert_non_null(strstr(out, "cpu0 151 0 50 799 0 0 0 0 0 0\n"));
	assert_non_null(strstr(out, "cpu1 150 0 50 800 0 0 0 0 0 0\n"));
	assert_non_null(strstr(out, "btime 1800000000\n"));
	assert_non_null(strstr(out, "procs_running 2\n"));
	assert_non_null(strstr(out, "procs_blocked 0\n"));
	assert_non_null(strstr(out, "intr 12345 1 2 3\nctxt 999\n"));
	assert_null(strstr(out, "90000"));
	free(out);
}

static void test_load(void **state)
{
	struct pv_load l = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	/* A fresh cell (age 0): nothing yet. */
	pv_load_update(&l, 100.0, 0.0, 0.0);
	assert_true(l.avg[0] == 0.0);
	/* One CPU busy for 60 s: the 1-minute average is 1 - 1/e. */
	pv_load_update(&l, 160.0, 60.0, 60.0);
	assert_in_range((long)(l.avg[0] * 1000), 631, 633);
	assert_in_range((long)(l.avg[2] * 1000), 63, 65); /* 1 - e^(-1/15) */
	/* Then idle for 5 minutes: each decays by e^(-300/period). */
	pv_load_update(&l, 460.0, 60.0, 360.0);
	assert_in_range((long)(l.avg[0] * 100000), 425, 427);
	/* A clock that went back changes nothing. */
	pv_load_update(&l, 450.0, 99.0, 350.0);
	assert_true(l.usage == 60.0);
	f = open_memstream(&out, &len);
	assert_int_equal(pv_loadavg(&l, 1, 12, 345, f), 0);
	fclose(f);
	assert_string_equal(out, "0.00 0.07 0.05 1/12 345\n");
	free(out);
}

static void test_load_first_read(void **state)
{
	struct pv_load l = { 0 };

	(void)state;
	/* First read of a cell 300 s old that used 150 s: half a CPU. */
	pv_load_update(&l, 1000.0, 150.0, 300.0);
	assert_in_range((long)(l.avg[0] * 1000), 496, 497); /* 0.5 (1 - e^-5) */
	assert_in_range((long)(l.avg[1] * 1000), 315, 317); /* 0.5 (1 - e^-1) */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meminfo_limited),	   cmocka_unit_test(test_meminfo_unlimited),
		cmocka_unit_test(test_meminfo_not_meminfo), cmocka_unit_test(test_stat),
		cmocka_unit_test(test_load),		   cmocka_unit_test(test_load_first_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
