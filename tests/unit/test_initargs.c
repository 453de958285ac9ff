// SPDX-License-Identifier: MIT
/* cell-init's argument vocabulary, the registry record and the
 * environment rules: every value crosses a process boundary into root's
 * or the user's code, so each decoder refuses what the encoder never makes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "util.h"
#include "initargs.h"
#include "proto.h"
#include "registry.h"

static struct init_args sample(void)
{
	struct init_args a = {
		.id = "0123456789abcdef0123456789abcdef", .user = "al.ice", .uid = 1001, .gid = 1002,
		.inside_uid = 0, .inside_gid = 0, .group = "staff", .shell = "/bin/bash",
		.ngroups = 2, .home = "/home/al ice", .hostname = "lab-al",
		.tmpfs = 64ULL << 20, .pty_max = 64,
		.limits = { .pids_max = 2048, .memory_max = 1ULL << 33, .cpu_weight = 100 },
		.shared = true, .uid_map = "0 1001 1\n1 100000 65536\n", .gid_map = "0 1002 1\n",
		.hide = "/etc/security/cell.conf\n/etc/cell.d/a b.conf",
		.image = "deb12", .overlay = 1, .upper_max = 256ULL << 20,
	};

	a.groups[0] = 27;
	a.groups[1] = 4294967294U;
	return a;
}

static int count(char **v)
{
	int n = 0;

	while (v[n])
		n++;
	return n;
}

static void test_round_trip(void **state)
{
	(void)state;
	struct init_args in = sample(), *out = malloc(sizeof(*out));
	struct cell_err e = { 0 };
	char **argv;

	assert_non_null(out);
	assert_int_equal(initargs_encode(&in, &argv, &e), 0);
	assert_string_equal(argv[0], "cell-init");
	assert_int_equal(initargs_decode(count(argv), argv, out, &e), 0);
	assert_string_equal(out->id, in.id);
	assert_string_equal(out->user, "al.ice");
	assert_int_equal(out->uid, 1001);
	assert_int_equal(out->gid, 1002);
	assert_int_equal(out->ngroups, 2);
	assert_int_equal(out->groups[1], 4294967294U);
	assert_string_equal(out->home, "/home/al ice");
	assert_int_equal(out->limits.memory_max, 1ULL << 33);
	assert_int_equal(out->pty_max, 64);
	assert_true(out->shared);
	assert_string_equal(out->uid_map, in.uid_map);
	assert_string_equal(out->hide, in.hide);
	assert_string_equal(out->group, "staff");
	assert_string_equal(out->shell, "/bin/bash");
	assert_int_equal(out->inside_gid, 0);
	assert_string_equal(out->image, "deb12");
	assert_int_equal(out->overlay, 1);
	assert_int_equal(out->upper_max, 256ULL << 20);
	initargs_free(argv);
	/* no supplementary groups at all */
	in.ngroups = 0;
	assert_int_equal(initargs_encode(&in, &argv, &e), 0);
	assert_int_equal(initargs_decode(count(argv), argv, out, &e), 0);
	assert_int_equal(out->ngroups, 0);
	initargs_free(argv);
	free(out);
}

/* Decode a hand-made argv with one argument replaced. */
static int decode_with(const char *replace, const char *value, struct cell_err *e)
{
	struct init_args in = sample(), *out = malloc(sizeof(*out));
	char **argv;
	int r, n;

	assert_non_null(out);
	assert_int_equal(initargs_encode(&in, &argv, e), 0);
	n = count(argv);
	for (int i = 1; i < n; i++) {
		size_t len = strlen(replace);

		if (strncmp(argv[i], replace, len) == 0 && argv[i][len] == '=') {
			free(argv[i]);
			if (!value) {	/* drop it */
				argv[i] = argv[n - 1];
				argv[--n] = NULL;
			} else {
				assert_true(asprintf(&argv[i], "%s", value) > 0);
			}
			break;
		}
	}
	r = initargs_decode(n, argv, out, e);
	initargs_free(argv);
	free(out);
	return r;
}

static void test_refusals(void **state)
{
	(void)state;
	struct cell_err e = { 0 };
	char *many;
	size_t off = 0;

	assert_int_equal(decode_with("uid", "uid=0", &e), -1);
	assert_string_equal(e.msg, "bad value for 'uid'");
	assert_int_equal(decode_with("uid", "uid=4294967295", &e), -1);
	assert_int_equal(decode_with("gid", "gid=-1", &e), -1);
	assert_int_equal(decode_with("id", "id=../../etc", &e), -1);
	assert_int_equal(decode_with("home", "home=relative", &e), -1);
	assert_int_equal(decode_with("shell", "shell=bash", &e), -1);
	assert_int_equal(decode_with("shared", "shared=2", &e), -1);
	assert_int_equal(decode_with("groups", "groups=1,,2", &e), -1);
	assert_int_equal(decode_with("groups", "groups=1,", &e), -1);
	assert_int_equal(decode_with("groups", "groups=x", &e), -1);
	assert_int_equal(decode_with("tmpfs", "tmpfs=0", &e), -1);
	/* The image names a directory root opens: nothing that leaves images/. */
	assert_int_equal(decode_with("image", "image=../../etc", &e), -1);
	assert_string_equal(e.msg, "bad value for 'image'");
	assert_int_equal(decode_with("image", "image=.hidden", &e), -1);
	assert_int_equal(decode_with("image", "image=", &e), 0);
	assert_int_equal(decode_with("overlay", "overlay=3", &e), -1);
	assert_string_equal(e.msg, "bad value for 'overlay'");
	assert_int_equal(decode_with("uid", "bogus=1", &e), -1);
	assert_string_equal(e.msg, "unknown argument 'bogus'");
	assert_int_equal(decode_with("uid", "gid=5", &e), -1);
	assert_string_equal(e.msg, "argument 'gid' given twice");
	assert_int_equal(decode_with("pty_max", NULL, &e), -1);
	assert_string_equal(e.msg, "missing argument 'pty_max'");
	assert_int_equal(decode_with("uid", "noequals", &e), -1);

	/* One group past the bound: refused, and nothing written past the
	 * array (the old parser wrote groups[1024] first; ASan would see it). */
	many = malloc(8 + (CELL_MAX_GROUPS + 1) * 3);
	assert_non_null(many);
	off = (size_t)sprintf(many, "groups=");
	for (int i = 0; i <= CELL_MAX_GROUPS; i++)
		off += (size_t)sprintf(many + off, "%s%d", i ? "," : "", i % 10);
	assert_int_equal(decode_with("groups", many, &e), -1);
	assert_string_equal(e.msg, "bad value for 'groups'");
	/* exactly the bound is fine */
	off = (size_t)sprintf(many, "groups=");
	for (int i = 0; i < CELL_MAX_GROUPS; i++)
		off += (size_t)sprintf(many + off, "%s%d", i ? "," : "", i % 10);
	assert_int_equal(decode_with("groups", many, &e), 0);
	free(many);
}

static void test_record(void **state)
{
	(void)state;
	struct cell_record *r = calloc(1, sizeof(*r)), *back = calloc(1, sizeof(*back));
	struct cell_err e = { 0 };
	char buf[16384], *p;

	assert_non_null(r);
	assert_non_null(back);
	strcpy(r->id, "0123456789abcdef0123456789abcdef");
	r->pid = 4194304;
	r->starttime = 123456789012ULL;
	r->uid = 4294967294U;
	r->gid = 7;
	strcpy(r->user, "alice");
	strcpy(r->service, "sshd");
	strcpy(r->rhost, "2001:db8::7");
	strcpy(r->section, "[group lab*]");
	memset(r->home, 'h', sizeof(r->home) - 1);	/* a home of PATH_MAX - 1 bytes */
	r->home[0] = '/';
	r->identity = IDENTITY_ROOT;
	r->shared = true;
	r->created = 1700000000;
	strcpy(r->profile_digest, "00112233aabbccdd");
	strcpy(r->rootfs, "image:deb12");
	strcpy(r->env_keep, "SSH_AUTH_SOCK LC_*");
	strcpy(r->env_set, "EDITOR=vi MAILDIR=%h/Mail");
	for (int i = 0; i < NS_COUNT; i++)
		r->ns[i] = 4026531835UL + (unsigned long)i;
	assert_int_equal(registry_format(r, buf, sizeof(buf), &e), 0);
	assert_int_equal(strncmp(buf, "version=5\n", 10), 0);
	assert_int_equal(registry_parse(buf, back, &e), 0);
	assert_memory_equal(r, back, sizeof(*r));

	/* too small a buffer is an error, never a shorter record */
	assert_int_equal(registry_format(r, buf, 4000, &e), -1);
	assert_int_equal(registry_format(r, buf, sizeof(buf), &e), 0);
	/* a newline in a value would forge a field */
	strcpy(r->tty, "pts/1\nuid=0");
	assert_int_equal(registry_format(r, buf, sizeof(buf), &e), -1);
	strcpy(r->tty, "pts/1");
	assert_int_equal(registry_format(r, buf, sizeof(buf), &e), 0);
	/* a repeated field, a missing one, another version, an overflow */
	{
		char twice[16400];

		snprintf(twice, sizeof(twice), "%suid=0\n", buf);
		assert_int_equal(registry_parse(twice, back, &e), -1);
		assert_non_null(strstr(e.msg, "repeated field 'uid'"));
	}
	p = strstr(buf, "gid=7\n");
	memmove(p, p + 6, strlen(p + 6) + 1);
	assert_int_equal(registry_parse(buf, back, &e), -1);
	assert_string_equal(e.msg, "registry record lacks gid");
	assert_int_equal(registry_parse("version=3\n", back, &e), -1);
	assert_non_null(strstr(e.msg, "registry record of another version (this is version 5)"));
	assert_int_equal(registry_parse("version=1\nid=0123456789abcdef0123456789abcdef\n", back, &e),
			 -1);
	assert_non_null(strstr(e.msg, "another version"));
	assert_int_equal(registry_parse("version=5\nuid=4294967296\n", back, &e), -1);
	free(r);
	free(back);
}

/* The life pipe: what root writes, and the monitor accepts only that. */
static void test_life_notes(void **state)
{
	(void)state;
	struct life_note n = { LIFE_JOIN, 4194304, 18446744073709551615ULL }, back;
	char line[64];
	const char *bad[] = { "J 1 5", "J 0 5", "J 5 0", "J 5", "J -5 3", "J 05 3", "J 5 3 ",
			      "J 5 3x", "C 5 3", "C", "X 5", "J  5 3", "C 4194305", "" };

	assert_int_equal(life_note_format(&n, line, sizeof(line)),
			 (int)strlen("J 4194304 18446744073709551615\n"));
	line[strlen(line) - 1] = '\0';
	assert_int_equal(life_note_parse(line, &back), 0);
	assert_int_equal(back.op, LIFE_JOIN);
	assert_int_equal(back.pid, 4194304);
	assert_true(back.start == n.start);
	n = (struct life_note){ LIFE_CLOSE, 77, 0 };
	assert_int_equal(life_note_format(&n, line, sizeof(line)), 5);
	assert_int_equal(life_note_parse("C 77", &back), 0);
	assert_int_equal(back.pid, 77);
	assert_int_equal(life_note_format(&n, line, 3), -1); /* never a cut line */
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (life_note_parse(bad[i], &back) == 0)
			print_error("accepted '%s'\n", bad[i]);
		assert_int_equal(life_note_parse(bad[i], &back), -1);
	}
}

static void test_env(void **state)
{
	(void)state;
	const char *denied[] = { "LD_PRELOAD=/tmp/x.so", "LD_AUDIT=x", "GCONV_PATH=/tmp",
				 "GLIBC_TUNABLES=x", "BASH_ENV=/tmp/rc", "ENV=/tmp/rc", "IFS=x",
				 "MALLOC_CHECK_=3", "BASH_FUNC_ls%%=() { x; }", "PS4=$(x)",
				 "SHELLOPTS=xtrace", "LOCPATH=/tmp", "LD_PRELOAD" };
	const char *fine[] = { "LANG=C.UTF-8", "TERM=xterm", "PATH=/bin", "ENVIRONMENT=x",
			       "LDAP_URI=x", "http_proxy=x", "IFSX=1" };
	static char term[] = "TERM=xterm", preload[] = "LD_PRELOAD=/tmp/x.so", lang[] = "LANG=C";
	char *outer[] = { term, preload, lang, NULL };
	char longhome[5000];
	char **env;

	for (size_t i = 0; i < sizeof(denied) / sizeof(*denied); i++)
		assert_true(env_denied(denied[i]));
	for (size_t i = 0; i < sizeof(fine) / sizeof(*fine); i++)
		assert_false(env_denied(fine[i]));
	/* a long HOME arrives whole (it used to be cut at 600 bytes) */
	memset(longhome, 'h', sizeof(longhome) - 1);
	longhome[0] = '/';
	longhome[sizeof(longhome) - 1] = '\0';
	env = env_build(outer,
			&(struct env_own){ .user = "u", .home = longhome, .shell = "/bin/sh",
					   .path = "/bin", .cell_id = "id" },
			NULL);
	assert_non_null(env);
	assert_int_equal(strlen(env[0]), strlen("HOME=") + sizeof(longhome) - 1);
	for (char **v = env; *v; v++)
		assert_null(strstr(*v, "LD_PRELOAD"));
}

static bool only_tmp_visible(const char *path)
{
	return strncmp(path, "/tmp", 4) == 0;
}

static const char *find(char **env, const char *name)
{
	size_t n = strlen(name);

	for (; *env; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

/* The pass-through mode (cellsh): the login's environment minus the rules. */
static void test_env_rules(void **state)
{
	(void)state;
	static char v[][80] = { "http_proxy=http://proxy:3128", "LD_PRELOAD=/tmp/x.so",
				"SSH_AUTH_SOCK=/tmp/ssh-x/agent.1", "X_ONE=1",
				"KEEP_ME=/nowhere/file", "GONE=/nowhere/file", "SSH_CONNECTION=1 2 3 4",
				"HOME=/evil", "EDITOR=vi", "BASH_ENV=/tmp/rc", "BAD=a\nb",
				"XDG_RUNTIME_DIR=/run/user/1000", "LANG=C.UTF-8", "9X=1" };
	char *outer[ARRAY_SIZE(v) + 1];
	const struct env_own own = { .user = "alice", .home = "/home/alice", .shell = "/bin/sh",
				     .path = "/bin", .cell_id = "id" };
	struct env_rules rules = { .keep = "SSH_AUTH_SOCK KEEP_*",
				   .deny = "X_*",
				   .set = "EDITOR=nano MAILDIR=%h/Mail WHO=%u",
				   .visible = only_tmp_visible };
	char **env;

	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		outer[i] = v[i];
	outer[ARRAY_SIZE(v)] = NULL;
	env = env_build(outer, &own, &rules);
	assert_non_null(env);
	assert_string_equal(find(env, "http_proxy"), "http://proxy:3128"); /* pam_env's */
	assert_string_equal(find(env, "SSH_CONNECTION"), "1 2 3 4");
	assert_string_equal(find(env, "LANG"), "C.UTF-8");
	assert_null(find(env, "LD_PRELOAD"));			      /* never */
	assert_null(find(env, "BASH_ENV"));
	assert_string_equal(find(env, "SSH_AUTH_SOCK"), "/tmp/ssh-x/agent.1"); /* kept */
	assert_null(find(env, "X_ONE"));					/* env_deny */
	assert_string_equal(find(env, "KEEP_ME"), "/nowhere/file"); /* kept: no path check */
	assert_null(find(env, "GONE"));			    /* a host path the cell lacks */
	assert_null(find(env, "XDG_RUNTIME_DIR"));	    /* soft-denied */
	assert_string_equal(find(env, "HOME"), "/home/alice"); /* the cell's own */
	assert_string_equal(find(env, "EDITOR"), "nano");      /* env_set replaces */
	assert_string_equal(find(env, "MAILDIR"), "/home/alice/Mail");
	assert_string_equal(find(env, "WHO"), "alice");
	assert_null(find(env, "BAD"));
	assert_null(find(env, "9X"));
	for (char **e = env; *e; e++) /* each name once */
		for (char **f = e + 1; *f; f++)
			assert_false(strcspn(*e, "=") == strcspn(*f, "=") &&
				     strncmp(*e, *f, strcspn(*e, "=")) == 0);
	/* on the cell's own terminal, SSH_TTY names it */
	{
		static char tty[] = "SSH_TTY=/dev/pts/9";
		char *o2[] = { tty, NULL };
		struct env_own own2 = own;

		own2.tty = "/dev/pts/3";
		assert_string_equal(find(env_build(o2, &own2, &rules), "SSH_TTY"), "/dev/pts/3");
		assert_null(find(env_build(o2, &own, &rules), "SSH_TTY")); /* the host's: not */
		env = env_build(outer, &own, &rules);
	}
	/* more env_set entries than slots (each replacing the last): no overflow */
	{
		static char many[1096];
		struct env_rules r2 = rules;

		for (size_t o = 0; o + 4 < sizeof(many); o += 4)
			memcpy(many + o, "A=1 ", 4);
		r2.set = many;
		env = env_build(outer, &own, &r2);
		assert_non_null(env);
		assert_string_equal(find(env, "A"), "1");
		env = env_build(outer, &own, &rules);
	}
	/* the allow-list mode (cellctl enter): an admin's proxy stays out */
	env = env_build(outer, &own, NULL);
	assert_null(find(env, "http_proxy"));
	assert_string_equal(find(env, "LANG"), "C.UTF-8");
	/* cell.conf's checks */
	assert_true(env_rule_name_ok("LC_*"));
	assert_false(env_rule_name_ok("A-B"));
	assert_true(env_set_entry_ok("EDITOR=vi"));
	assert_false(env_set_entry_ok("LD_PRELOAD=/x"));
	assert_false(env_set_entry_ok("PATH=/x"));
	assert_false(env_set_entry_ok("NOVALUE"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_life_notes),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_env_rules),
	};

	return cmocka_run_group_tests_name("initargs", tests, NULL, NULL);
}
