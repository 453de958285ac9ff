// SPDX-License-Identifier: MIT
/*
 * pam_cell's decisions through the real PAM library, without touching
 * /etc/pam.d or the machine's accounts: pam_wrapper reads the service from a
 * private directory, nss_wrapper answers for users and groups from private
 * files (libpamtest drives the stack, cmocka checks). Only decisions are
 * tested here (no cell is built): refusals, PAM_IGNORE, exemptions. The
 * config must be root-owned to be trusted, so most cases need root and
 * skip without it, saying so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpamtest.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAM_IGNORED PAM_SUCCESS

#ifndef BUILDDIR
#define BUILDDIR "build"
#endif

static char dir[64];

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* A service: the session stack of pam_cell with these arguments.
 * pam_wrapper copies the service files when it loads: all are made before. */
static void service(const char *name, const char *args)
{
	char text[512];

	/* pam_permit after it: pam_cell's PAM_IGNORE makes the stack succeed
	 * (a stack of only ignoring modules fails), its refusal fails it. No
	 * case here builds a cell, so success means pam_cell ignored. */
	snprintf(text, sizeof(text),
		 "session required %s/pam_cell.so %s\nsession required %s/pam_permit.so\n",
		 BUILDDIR, args, PAMDIR);
	write_file(name, text, 0644);
}

static void config(const char *text)
{
	char full[2048];

	snprintf(full, sizeof(full), "cellsh = /usr/local/bin/cellsh\n%s", text);
	write_file("cell.conf", full, 0644);
}

/* Open a session as user; the PAM result and the first error message. */
static int open_as(const char *svc, const char *user, char *err, size_t size)
{
	char *errs[8] = { NULL }, *infos[8] = { NULL };
	struct pamtest_conv_data conv = { .out_err = errs, .out_info = infos };
	struct pam_testcase tc[] = { pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS) };
	enum pamtest_err r;

	for (int i = 0; i < 8; i++) {
		errs[i] = calloc(1, PAM_MAX_MSG_SIZE);
		infos[i] = calloc(1, PAM_MAX_MSG_SIZE);
	}
	r = run_pamtest(svc, user, &conv, tc, NULL);
	assert_true(r == PAMTEST_ERR_OK || r == PAMTEST_ERR_CASE);
	snprintf(err, size, "%s", errs[0]);
	for (int i = 0; i < 8; i++) {
		free(errs[i]);
		free(infos[i]);
	}
	return tc[0].op_rv;
}

static bool need_root(void)
{
	if (geteuid() == 0)
		return true;
	print_message("skipping: pam_cell trusts only a root-owned config, so this case "
		      "needs root\n");
	skip();
	return false;
}

static void test_bad_argument(void **state)
{
	char err[PAM_MAX_MSG_SIZE];

	(void)state;
	assert_int_equal(open_as("celltest-bad", "alice", err, sizeof(err)), PAM_SESSION_ERR);
}

static void test_untrusted_config(void **state)
{
	char err[PAM_MAX_MSG_SIZE];

	(void)state;
	config("[user alice]\n");
	if (geteuid() == 0)
		assert_int_equal(chown(dir, 1000, 0), 0); /* a user's directory */
	assert_int_equal(open_as("celltest", "alice", err, sizeof(err)), PAM_SESSION_ERR);
	assert_non_null(strstr(err, "not root: fix with 'chown root:"));
	if (geteuid() == 0)
		assert_int_equal(chown(dir, 0, 0), 0);
}

static void test_decisions(void **state)
{
	char err[PAM_MAX_MSG_SIZE];

	(void)state;
	if (!need_root())
		return;
	config("exempt = root admin\n[user alice]\n[user bashy]\n[user zero]\n[group huge]\n");
	/* no section matches */
	assert_int_equal(open_as("celltest", "carol", err, sizeof(err)), PAM_IGNORED);
	/* exempt */
	assert_int_equal(open_as("celltest", "admin", err, sizeof(err)), PAM_IGNORED);
	/* confined, shell not cellsh: refused with the fix */
	assert_int_equal(open_as("celltest", "bashy", err, sizeof(err)), PAM_SESSION_ERR);
	assert_non_null(strstr(err, "login shell is '/bin/bash'"));
	assert_non_null(strstr(err, "chsh -s /usr/local/bin/cellsh bashy"));
	/* confined uid 0 */
	assert_int_equal(open_as("celltest", "zero", err, sizeof(err)), PAM_SESSION_ERR);
	assert_non_null(strstr(err, "list it in 'exempt'"));
	/* a member of a confining group is confined by it */
	assert_int_equal(open_as("celltest", "member", err, sizeof(err)), PAM_SESSION_ERR);
	assert_non_null(strstr(err, "confined by [group huge]"));
	/* unknown to NSS */
	assert_int_equal(open_as("celltest", "ghost", err, sizeof(err)), PAM_SESSION_ERR);
	assert_non_null(strstr(err, "user ghost not found in passwd"));

	/* A confining group of 24 KiB: real glibc reads it (tests/e2e/
	 * test_nss.sh); nss_wrapper 1.1 fails the lookup with -1. Either way
	 * its member is refused, never ignored (the old bug: an unreadable
	 * group was skipped and its member let through unconfined) - and so is
	 * everyone else while it cannot be read, since anyone could be in it. */
	config("exempt = root admin\n[group big]\n");
	assert_int_equal(open_as("celltest", "member2", err, sizeof(err)), PAM_SESSION_ERR);
	assert_true(strstr(err, "cannot look up group") || strstr(err, "confined by [group big]"));
	assert_int_equal(open_as("celltest", "carol", err, sizeof(err)), PAM_SESSION_ERR);
	assert_true(strstr(err, "cannot look up group big") != NULL);
	/* break-glass still works */
	assert_int_equal(open_as("celltest", "admin", err, sizeof(err)), PAM_IGNORED);
}

static void test_config_errors(void **state)
{
	char err[PAM_MAX_MSG_SIZE];

	(void)state;
	if (!need_root())
		return;
	config("exempt = admin\n[user alice]\nidentity = sometimes\n");
	/* exempt users still get in: break-glass */
	assert_int_equal(open_as("celltest", "admin", err, sizeof(err)), PAM_IGNORED);
	/* everyone else is refused, even users no section names */
	assert_int_equal(open_as("celltest", "carol", err, sizeof(err)), PAM_SESSION_ERR);
	assert_non_null(strstr(err, "cell.conf:4: identity: 'sometimes' must be one of"));
	assert_non_null(strstr(err, "every confined login is refused until it is fixed"));
}

/* systemd's user manager opens a PAM session through the "systemd-user"
 * service: for a confined user that would be a host-side process holding
 * every capability in the user's namespaces, so it is refused, whichever
 * services the user is confined through. Others get theirs. */
static void test_user_manager(void **state)
{
	char err[PAM_MAX_MSG_SIZE];

	(void)state;
	if (!need_root())
		return;
	config("exempt = root admin\n[user alice]\nservices = sshd\n");
	assert_int_equal(open_as("systemd-user", "alice", err, sizeof(err)), PAM_SESSION_ERR);
	assert_non_null(strstr(err, "no service manager of their own"));
	assert_non_null(strstr(err, "[user alice]"));
	assert_int_equal(open_as("systemd-user", "carol", err, sizeof(err)), PAM_IGNORED);
	assert_int_equal(open_as("systemd-user", "admin", err, sizeof(err)), PAM_IGNORED);
}

/* cron and atd run a job with /bin/sh, not the login shell: a confined
 * user's job would run on the host, so its session is refused, whether the
 * user is confined through cron or only has cellsh as the shell. */
static void test_scheduler(void **state)
{
	char err[PAM_MAX_MSG_SIZE];

	(void)state;
	if (!need_root())
		return;
	config("exempt = root admin\n[user alice]\n");
	assert_int_equal(open_as("cron", "alice", err, sizeof(err)), PAM_SESSION_ERR);
	assert_non_null(strstr(err, "scheduled jobs of confined users are refused: cron runs a "
				    "job with /bin/sh on the host, outside any cell"));
	assert_int_equal(open_as("atd", "alice", err, sizeof(err)), PAM_SESSION_ERR);
	/* not confined through cron, but cellsh is the shell: still refused */
	config("exempt = root admin\n[user alice]\nservices = sshd\n");
	assert_int_equal(open_as("cron", "alice", err, sizeof(err)), PAM_SESSION_ERR);
	assert_non_null(strstr(err, "service 'cron' not in 'services = sshd'"));
	/* others' jobs run as before */
	assert_int_equal(open_as("cron", "carol", err, sizeof(err)), PAM_IGNORED);
	assert_int_equal(open_as("cron", "admin", err, sizeof(err)), PAM_IGNORED);
}

static int setup(void **state)
{
	char passwd[1024], *group;
	size_t off;

	(void)state;
	snprintf(dir, sizeof(dir), "/run/cellpam.XXXXXX");
	if (!mkdtemp(dir)) {
		snprintf(dir, sizeof(dir), "/tmp/cellpam.XXXXXX"); /* not root */
		assert_non_null(mkdtemp(dir));
	}
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(passwd, sizeof(passwd),
		 "root:x:0:0:root:/root:/bin/bash\n"
		 "alice:x:1001:1001::/home/alice:/usr/local/bin/cellsh\n"
		 "bashy:x:1002:1002::/home/bashy:/bin/bash\n"
		 "carol:x:1003:1003::/home/carol:/bin/bash\n"
		 "admin:x:1004:1004::/home/admin:/bin/bash\n"
		 "zero:x:0:0::/root:/usr/local/bin/cellsh\n"
		 "member:x:1005:1005::/home/member:/bin/bash\n"
		 "member2:x:1006:1006::/home/member2:/bin/bash\n");
	write_file("passwd", passwd, 0644);
	group = malloc(40000);
	assert_non_null(group);
	off = (size_t)sprintf(group, "root:x:0:\nalice:x:1001:\nbashy:x:1002:\ncarol:x:1003:\n"
				     "admin:x:1004:\nmember:x:1005:\nhuge:x:2000:");
	for (int i = 0; i < 20; i++)
		off += (size_t)sprintf(group + off, "m%014d,", i);
	off += (size_t)sprintf(group + off, "member\nmember2:x:1006:\nbig:x:2001:");
	for (int i = 0; i < 1500; i++)
		off += (size_t)sprintf(group + off, "m%014d,", i);
	sprintf(group + off, "member2\n");
	write_file("group", group, 0644);
	free(group);
	snprintf(passwd, sizeof(passwd), "conf=%s/cell.conf", dir);
	service("celltest", passwd);
	service("celltest-bad", "conf=/nonexistent bogus");
	service("systemd-user", passwd);
	service("cron", passwd);
	service("atd", passwd);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_argument),
		cmocka_unit_test(test_untrusted_config),
		cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_user_manager),
		cmocka_unit_test(test_scheduler),
	};

	(void)argc;
	/* The wrappers must be preloaded before the program starts: run again
	 * with them (and their files, made by setup) in the environment. */
	if (!getenv("PAM_WRAPPER")) {
		setup(NULL);
		char path[256];

		setenv("LD_PRELOAD", "libpam_wrapper.so:libnss_wrapper.so", 1);
		setenv("PAM_WRAPPER", "1", 1);
		setenv("PAM_WRAPPER_SERVICE_DIR", dir, 1);
		snprintf(path, sizeof(path), "%s/passwd", dir);
		setenv("NSS_WRAPPER_PASSWD", path, 1);
		snprintf(path, sizeof(path), "%s/group", dir);
		setenv("NSS_WRAPPER_GROUP", path, 1);
		setenv("CELLTEST_DIR", dir, 1);
		execv("/proc/self/exe", argv);
		perror("re-exec with pam_wrapper");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s", getenv("CELLTEST_DIR"));
	{
		int r = cmocka_run_group_tests_name("pam", tests, NULL, teardown);

		return r;
	}
}
