// SPDX-License-Identifier: MIT
/* Cell ids and size parsing: what cellsh accepts from its environment; the
 * bridge pool's addresses, both ways; a write to a gone reader that raises
 * no SIGPIPE; an idle process's stack given back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "net.h"
#include "registry.h"
#include "util.h"

static void test_ids(void **state)
{
	(void)state;
	struct cell_err e = { 0 };
	char a[CELL_ID_LEN + 1], b[CELL_ID_LEN + 1];

	assert_int_equal(cell_id_new(a, &e), 0);
	assert_int_equal(cell_id_new(b, &e), 0);
	assert_true(cell_id_valid(a));
	assert_string_not_equal(a, b);
	assert_true(cell_id_valid("0123456789abcdef0123456789abcdef"));
	assert_false(cell_id_valid("0123456789abcdef0123456789abcde"));	/* short */
	assert_false(cell_id_valid("0123456789abcdef0123456789abcdef0"));	/* long */
	assert_false(cell_id_valid("0123456789ABCDEF0123456789abcdef"));	/* case */
	assert_false(cell_id_valid("../../../../etc/passwd/0123456789ab"));
	assert_false(cell_id_valid(""));
}

static void test_numbers(void **state)
{
	(void)state;
	unsigned long v;
	unsigned long long s;

	assert_int_equal(parse_ulong("42", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_ulong("-1", &v), -1);
	assert_int_equal(parse_ulong("1x", &v), -1);
	assert_int_equal(parse_ulong("", &v), -1);
	assert_int_equal(parse_ulong("18446744073709551616", &v), -1);
	assert_int_equal(parse_size("64M", &s), 0);
	assert_int_equal(s, 64ULL << 20);
	assert_int_equal(parse_size("2g", &s), 0);
	assert_int_equal(s, 2ULL << 30);
	assert_int_equal(parse_size("0", &s), -1);
	assert_int_equal(parse_size("M", &s), -1);
	assert_int_equal(parse_size("99999999999G", &s), -1);
}

static bool sigpipe_pending(void)
{
	sigset_t p;

	return sigpending(&p) == 0 && sigismember(&p, SIGPIPE);
}

/* The close note pam_cell writes to a SIGKILLed monitor: under SIGPIPE's
 * default action a plain write would kill the login program. */
static void test_nosigpipe(void **state)
{
	(void)state;
	sigset_t pipe_set, old;
	int fds[2];

	signal(SIGPIPE, SIG_DFL);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write_nosigpipe(fds[1], "x", 1), 1);
	close(fds[0]);
	errno = 0;
	assert_int_equal(write_nosigpipe(fds[1], "x", 1), -1);
	assert_int_equal(errno, EPIPE);
	assert_false(sigpipe_pending()); /* we are alive, and nothing is left */

	/* A SIGPIPE the program had pending (blocked) before stays pending. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &old);
	raise(SIGPIPE);
	errno = 0;
	assert_int_equal(write_nosigpipe(fds[1], "x", 1), -1);
	assert_int_equal(errno, EPIPE);
	assert_true(sigpipe_pending());
	signal(SIGPIPE, SIG_IGN); /* discards it */
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(fds[1]);
}

/* net_pool_index undoes net_pool_addr over a whole pool, and names no
 * address outside it (its network and broadcast addresses included). */
static void test_pool(void **state)
{
	(void)state;
	char a[32];
	unsigned prefix = 0;

	for (unsigned n = 1; n < 255; n++) {
		assert_int_equal(net_pool_addr("10.77.0.0/24", n, a, sizeof(a), &prefix), 0);
		assert_int_equal(prefix, 24);
		assert_int_equal(net_pool_index("10.77.0.0/24", a), (int)n);
	}
	assert_int_equal(net_pool_addr("10.77.0.0/24", 255, a, sizeof(a), &prefix), -1);
	assert_int_equal(net_pool_addr("10.77.0.0/20", 4000, a, sizeof(a), &prefix), 0);
	assert_string_equal(a, "10.77.15.160");
	assert_int_equal(net_pool_index("10.77.0.0/20", "10.77.15.160"), 4000);
	assert_int_equal(net_pool_index("10.77.0.0/24", "10.77.0.0"), -1);	/* network */
	assert_int_equal(net_pool_index("10.77.0.0/24", "10.77.0.255"), -1);	/* broadcast */
	assert_int_equal(net_pool_index("10.77.0.0/24", "10.77.1.2"), -1);	/* outside */
	assert_int_equal(net_pool_index("10.77.0.0/24", "10.76.255.2"), -1);	/* below */
	assert_int_equal(net_pool_index("10.77.0.0/24", "not-an-address"), -1);
	assert_int_equal(net_pool_index("10.77.0.0/8", "10.77.0.2"), -1);	/* pool too wide */
	assert_int_equal(net_pool_index("10.77.0.300/24", "10.77.0.2"), -1);
}

/* 64 KiB of stack touched below a frame as deep as release_idle_memory's;
 * returns the lowest address touched. */
static __attribute__((noinline)) uintptr_t touch_stack(void)
{
	volatile char buf[64 * 1024];

	for (size_t i = 0; i < sizeof(buf); i += 512)
		buf[i] = 1;
	return (uintptr_t)&buf[0];
}

/* The pages a deep call touched are resident, then given back; the caller's
 * own frame is left alone. */
static void test_idle_memory(void **state)
{
	(void)state;
	const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	volatile int mine = 42;
	uintptr_t probe = (touch_stack() & ~(page - 1)) + 4 * page;
	unsigned char v = 0;

	assert_int_equal(mincore((void *)probe, page, &v), 0);
	assert_true(v & 1);
	release_idle_memory();
	assert_int_equal(mincore((void *)probe, page, &v), 0);
	assert_false(v & 1);
	assert_int_equal(mine, 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_nosigpipe),
		cmocka_unit_test(test_idle_memory),
	};

	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
