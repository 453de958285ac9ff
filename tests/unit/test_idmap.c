// SPDX-License-Identifier: MIT
/* Subordinate-range validation and id-map arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idmap.h"

#define R(s, c) ((struct id_range){ (s), (c) })

static void refused(const struct id_range *r, size_t n, unsigned long own, const char *needle)
{
	struct cell_err e = { 0 };

	assert_int_equal(subid_validate(r, n, own, 100000, "uid", "alice", &e), -1);
	if (!strstr(e.msg, needle))
		print_error("want '%s' in '%s'\n", needle, e.msg);
	assert_non_null(strstr(e.msg, needle));
	/* Every refusal says how to fix it. */
	assert_non_null(strstr(e.msg, "usermod --add-subuids"));
}

static void test_validate(void **state)
{
	(void)state;
	struct cell_err e = { 0 };
	struct id_range good[] = { R(100000, 65536), R(300000, 10) };
	struct id_range over[] = { R(4294967000UL, 1000) };
	struct id_range edge[] = { R(4294967295UL - 65536, 65536) };
	struct id_range zero[] = { R(200000, 0) };
	struct id_range low[] = { R(0, 65536) };
	struct id_range sys[] = { R(99999, 10) };
	struct id_range own[] = { R(100000, 65536) };
	struct id_range overlap[] = { R(100000, 65536), R(165535, 10) };
	struct id_range dup[] = { R(100000, 10), R(100000, 10) };

	assert_int_equal(subid_validate(good, 2, 1000, 100000, "uid", "alice", &e), 0);
	/* the largest usable range ends exactly at 4294967294 */
	assert_int_equal(subid_validate(edge, 1, 1000, 100000, "uid", "alice", &e), 0);
	refused(NULL, 0, 1000, "has no subordinate uid range in /etc/subuid");
	refused(over, 1, 1000, "runs past the largest id 4294967294");
	refused(zero, 1, 1000, "range 200000:0 of alice is empty");
	refused(low, 1, 1000, "starts below subid_min 100000");
	refused(sys, 1, 1000, "starts below subid_min 100000");
	refused(own, 1, 150000, "contains the user's own uid 150000");
	refused(overlap, 2, 1000, "ranges 100000:65536 and 165535:10 of alice overlap");
	refused(dup, 2, 1000, "overlap");
}

/* Another owner's range anywhere in ours, not only at its ends. */
static void test_subid_file(void **state)
{
	(void)state;
	struct cell_err e = { 0 };
	struct id_range mine[] = { R(100000, 65536) };
	const char *ok = "alice:100000:65536\nbob:165536:65536\n\n1001:100000:10\n";

	/* own lines by name and by numeric uid 1001; bob's range only touches */
	assert_int_equal(subid_check_file(ok, "/etc/subuid", "alice", 1001, mine, 1, "uid", &e), 0);
	/* strictly inside: the case the two-ends check missed */
	assert_int_equal(subid_check_file("alice:100000:65536\ncarol:120000:100\n", "/etc/subuid",
					  "alice", 1001, mine, 1, "uid", &e), -1);
	assert_non_null(strstr(e.msg, "range 100000:65536 of alice overlaps 120000:100 of carol "
				      "(/etc/subuid:2)"));
	assert_non_null(strstr(e.msg, "usermod --del-subuids/--add-subuids"));
	/* overlapping the start, and holding ours entirely */
	assert_int_equal(subid_check_file("dave:99999:2\n", "/etc/subuid", "alice", 1001, mine, 1,
					  "uid", &e), -1);
	assert_int_equal(subid_check_file("erin:0:4294967295\n", "/etc/subuid", "alice", 1001,
					  mine, 1, "uid", &e), -1);
	/* another numeric owner */
	assert_int_equal(subid_check_file("1002:100001:1\n", "/etc/subuid", "alice", 1001, mine,
					  1, "uid", &e), -1);
	/* a line that cannot be read: whose ids are those? refuse */
	assert_int_equal(subid_check_file("alice:100000:65536\ngarbage\n", "/etc/subgid",
					  "alice", 1001, mine, 1, "gid", &e), -1);
	assert_non_null(strstr(e.msg, "/etc/subgid:2: not 'owner:start:count'"));
	assert_int_equal(subid_check_file("x:1:2:3\n", "/etc/subuid", "alice", 1001, mine, 1,
					  "uid", &e), -1);
	/* an account's own id inside the range */
	assert_int_equal(subid_check_id(100500, "mallory", "alice", mine, 1, "uid", &e), -1);
	assert_non_null(strstr(e.msg, "contains uid 100500 of mallory"));
	assert_int_equal(subid_check_id(99999, "x", "alice", mine, 1, "uid", &e), 0);
	assert_int_equal(subid_check_id(165536, "x", "alice", mine, 1, "uid", &e), 0);
}

/* The user's own ranges, as shadow reads them: by name or numeric uid, in
 * the file's order, empty ranges left out; a bad line anywhere refuses. */
static void test_subid_parse(void **state)
{
	(void)state;
	struct cell_err e = { 0 };
	struct id_range *r = NULL;
	size_t n = 99;
	const char *text = "bob:165536:65536\nalice:100000:65536\n\n1001:300000:10 \n"
			   "alice:400000:0\nalicia:500000:5\n";

	assert_int_equal(subid_parse_file(text, "/etc/subuid", "alice", 1001, "uid", &r, &n, &e),
			 0);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].start, 100000);
	assert_int_equal(r[0].count, 65536);
	assert_int_equal(r[1].start, 300000);
	assert_int_equal(r[1].count, 10);
	free(r);
	assert_int_equal(subid_parse_file("bob:1:2\n", "/etc/subuid", "alice", 1001, "uid", &r,
					  &n, &e),
			 0);
	assert_int_equal(n, 0);
	assert_null(r);
	assert_int_equal(subid_parse_file("alice:100000:65536\nalice:x:1\n", "/etc/subgid",
					  "alice", 1001, "gid", &r, &n, &e),
			 -1);
	assert_null(r);
	assert_int_equal(n, 0);
	assert_non_null(strstr(e.msg, "/etc/subgid:2: not 'owner:start:count'"));
}

static char *fmt(const struct idmap *m)
{
	static char buf[16384];
	struct cell_err e = { 0 };

	assert_true(idmap_format(m, buf, sizeof(buf), &e) >= 0);
	return buf;
}

static void test_keep_id(void **state)
{
	(void)state;
	struct cell_err e = { 0 };
	struct idmap m;
	struct id_range one[] = { R(100000, 65536) };
	struct id_range split[] = { R(100000, 500), R(300000, 65036) };

	assert_int_equal(idmap_build(IDENTITY_KEEP_ID, 1000, one, 1, 65536, "uid", "a", &m, &e), 0);
	assert_string_equal(fmt(&m), "1000 1000 1\n0 100000 1000\n1001 101000 64536\n");
	/* ranges split around the user's own id */
	assert_int_equal(idmap_build(IDENTITY_KEEP_ID, 1000, split, 2, 65536, "uid", "a", &m, &e), 0);
	assert_string_equal(fmt(&m), "1000 1000 1\n0 100000 500\n500 300000 500\n1001 300500 64536\n");
	/* fewer ids wanted than the user's own id: no skip needed */
	assert_int_equal(idmap_build(IDENTITY_KEEP_ID, 1000, one, 1, 10, "uid", "a", &m, &e), 0);
	assert_string_equal(fmt(&m), "1000 1000 1\n0 100000 10\n");
}

static void test_root_and_self(void **state)
{
	(void)state;
	struct cell_err e = { 0 };
	struct idmap m;
	struct id_range one[] = { R(100000, 65536) };

	assert_int_equal(idmap_build(IDENTITY_ROOT, 1000, one, 1, 65536, "uid", "a", &m, &e), 0);
	assert_string_equal(fmt(&m), "0 1000 1\n1 100000 65536\n");
	assert_int_equal(idmap_inside_self(IDENTITY_ROOT, 1000), 0);
	/* self needs no range at all */
	assert_int_equal(idmap_build(IDENTITY_SELF, 1000, NULL, 0, 65536, "uid", "a", &m, &e), 0);
	assert_string_equal(fmt(&m), "1000 1000 1\n");
	assert_int_equal(idmap_inside_self(IDENTITY_SELF, 1000), 1000);
}

static void test_too_small(void **state)
{
	(void)state;
	struct cell_err e = { 0 };
	struct idmap m;
	struct id_range small[] = { R(100000, 100) };

	assert_int_equal(idmap_build(IDENTITY_KEEP_ID, 1000, small, 1, 65536, "uid", "bob", &m, &e), -1);
	assert_string_equal(e.msg, "user bob has 100 subordinate uids, the profile maps subid_count = "
				   "65536: fix with 'usermod --add-subuids FIRST-LAST bob' or lower subid_count");
	assert_int_equal(idmap_build(IDENTITY_KEEP_ID, 1000, NULL, 0, 65536, "uid", "bob", &m, &e), -1);
}

static void test_line_limit(void **state)
{
	(void)state;
	struct cell_err e = { 0 };
	struct idmap *m = malloc(sizeof(*m));
	struct id_range r[400];

	for (int i = 0; i < 400; i++)
		r[i] = R(100000 + 10UL * (unsigned long)i, 1);
	/* 339 ranges + own line = 340: the most the kernel takes */
	assert_int_equal(idmap_build(IDENTITY_ROOT, 1000, r, 339, 339, "uid", "a", m, &e), 0);
	assert_int_equal(m->n, 340);
	assert_int_equal(idmap_build(IDENTITY_ROOT, 1000, r, 400, 400, "uid", "a", m, &e), -1);
	assert_non_null(strstr(e.msg, "more than 340 lines"));
	free(m);
}

static void test_page_limit(void **state)
{
	(void)state;
	struct cell_err e = { 0 };
	struct idmap *m = malloc(sizeof(*m));
	struct id_range r[300];
	char buf[32768];

	/* 300 lines of ~33 bytes each exceed one page: the kernel would refuse. */
	for (int i = 0; i < 300; i++)
		r[i] = R(4000000000UL + 10UL * (unsigned long)i, 1);
	assert_int_equal(idmap_build(IDENTITY_ROOT, 1000, r, 300, 300, "uid", "a", m, &e), 0);
	assert_int_equal(idmap_format(m, buf, sizeof(buf), &e), -1);
	assert_non_null(strstr(e.msg, "the kernel takes less than"));
	free(m);
}

static void test_overflow_inside(void **state)
{
	(void)state;
	struct cell_err e = { 0 };
	struct idmap m;
	struct id_range big[] = { R(100000, 4294867295UL) };

	/* root identity: inside ids 1..want must not pass ID_MAX */
	assert_int_equal(idmap_build(IDENTITY_ROOT, 1000, big, 1, 4294967294UL, "uid", "a", &m, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_subid_file), cmocka_unit_test(test_subid_parse),     cmocka_unit_test(test_keep_id),
		cmocka_unit_test(test_root_and_self), cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_line_limit),   cmocka_unit_test(test_page_limit),
		cmocka_unit_test(test_overflow_inside),
	};

	return cmocka_run_group_tests_name("idmap", tests, NULL, NULL);
}
