// SPDX-License-Identifier: MIT
/* cell.conf parser and policy: every error message with its line number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

static struct cell_conf *parse(const char *text)
{
	struct cell_conf *c = malloc(sizeof(*c));

	assert_non_null(c);
	conf_init(c);
	conf_parse_string(c, "t.conf", text);
	return c;
}

static void done(struct cell_conf *c)
{
	conf_free(c);
	free(c);
}

/* The text must give exactly this one error. */
static void one_error(const char *text, const char *expected)
{
	struct cell_conf *c = parse(text);

	if (c->nerrors != 1 || strcmp(c->errors[0], expected) != 0)
		print_error("text: %s\nwant: %s\ngot %zu: %s\n", text, expected, c->nerrors,
			    c->nerrors ? c->errors[0] : "(none)");
	assert_int_equal(c->nerrors, 1);
	assert_string_equal(c->errors[0], expected);
	done(c);
}

static void test_valid_full(void **state)
{
	(void)state;
	struct cell_conf *c = parse("# comment\n"
				    "cellsh = /opt/cell/bin/cellsh   # trailing comment\n"
				    "cell_init = /opt/cell/libexec/cell-init\n"
				    "subid_min = 200000\n"
				    "exempt = root @admins\n"
				    "\n"
				    "[defaults]\n"
				    "  identity = keep-id\n"
				    "  hostname = lab-%u\n"
				    "[group students]\n"
				    "identity = self\n"
				    "services = sshd login\n"
				    "[user alice]\n"
				    "shell = /bin/sh\n"
				    "subid_count = 1000\n"
				    "tmpfs_size = 16M\n"
				    "path = /usr/bin:/bin\n"
				    "rootfs = host\n"
				    "upper_max = none\n");

	assert_int_equal(c->nerrors, 0);
	assert_string_equal(c->cellsh, "/opt/cell/bin/cellsh");
	assert_string_equal(c->cell_init, "/opt/cell/libexec/cell-init");
	assert_int_equal(c->subid_min, 200000);
	assert_int_equal(c->nexempt, 2);
	assert_string_equal(c->exempt[1], "@admins");
	assert_int_equal(c->nsections, 2);
	assert_int_equal(c->sections[1].profile.subid_count, 1000);
	assert_int_equal(c->sections[1].profile.tmpfs_size, 16ULL << 20);
	/* none: a persistent upper without a size limit */
	assert_int_equal(c->sections[1].profile.upper_max, 0);
	done(c);
}

static void test_errors_each(void **state)
{
	(void)state;
	one_error("\n\nbogus line\n", "t.conf:3: expected 'key = value', '[section]' or a comment");
	one_error("[user a]\nfoo = 1\n",
		  "t.conf:2: unknown key 'foo' (valid keys: include, exempt, cellsh, cell_init, "
		  "subid_min; in a section: identity, shell, hostname, path, subid_count, "
		  "tmpfs_size, services, rootfs, overlay, upper_max, share, linger, pids_max, max_cells, memory_max, cpu_weight, user_pids_max, user_memory_max, user_cpu_weight, "
		  "seccomp_allow, seccomp_deny, bind, env_keep, env_deny, env_set, pty_max, proc_views, net, net_pool, net_isolate, net_dns, net_stack, net_host_loopback, landlock, rlimit_nofile, rlimit_nproc, rlimit_core, "
		  "rlimit_fsize, rlimit_as, rlimit_stack, rlimit_memlock, rlimit_cpu; in [user] or "
		  "[group]: profile)");
	one_error("[user a]\nnet_stack = vde\n",
		  "t.conf:2: net_stack: 'vde' must be 'auto' (pasta if installed, else slirp4netns), "
		  "'pasta' or 'slirp4netns'");
	one_error("[users a]\n", "t.conf:1: unknown section '[users]': use [defaults], [user NAME], [group NAME] or [profile NAME]");
	one_error("[user]\n", "t.conf:1: unknown section '[user]': use [defaults], [user NAME], [group NAME] or [profile NAME]");
	one_error("[user a\n", "t.conf:1: section header must end with ']'");
	one_error("[user a]\n[user a]\n", "t.conf:2: duplicate section [user a] (first at t.conf:1)");
	one_error("[defaults]\n[defaults]\n", "t.conf:2: duplicate section [defaults] (first at t.conf:1)");
	one_error("[user a]\nidentity = root\nidentity = self\n",
		  "t.conf:3: 'identity' is already set in this section");
	one_error("[user a]\nidentity = god\n",
		  "t.conf:2: identity: 'god' must be one of keep-id, root, self");
	one_error("[user a]\nshell = bash\n", "t.conf:2: shell: 'bash' must be an absolute path");
	one_error("[user a]\nhostname = a_b\n",
		  "t.conf:2: hostname: 'a_b' may hold only letters, digits, '-', '.' and %u");
	one_error("[user a]\npath = /bin::/usr/bin\n",
		  "t.conf:2: path: '/bin::/usr/bin' must not contain empty entries (they mean the current directory)");
	one_error("[user a]\npath = bin\n",
		  "t.conf:2: path: 'bin' must be a ':'-separated list of absolute directories");
	one_error("[user a]\nsubid_count = 0\n",
		  "t.conf:2: subid_count: '0' must be a whole number from 1 to 4294967294");
	one_error("[user a]\nsubid_count = 99999999999999999999999\n",
		  "t.conf:2: subid_count: '99999999999999999999999' must be a whole number from 1 to 4294967294");
	one_error("[user a]\ntmpfs_size = lots\n", "t.conf:2: tmpfs_size: 'lots' must be a size such as 64M or 1G");
	one_error("[user a]\nservices = ssh;rm\n",
		  "t.conf:2: services: 'ssh;rm' may hold only service names and the glob characters * ? []");
	one_error("[user a]\nrootfs = debian\n",
		  "t.conf:2: rootfs: 'debian' must be 'host' (the host's system, read-only) or 'image:NAME' (an image under /var/lib/cell/images)");
	one_error("[user a]\nrootfs = image:../etc\n",
		  "t.conf:2: rootfs: 'image:../etc' image:NAME needs a NAME of letters, digits, '.', '_' and '-' (an entry of /var/lib/cell/images; cellctl image list)");
	one_error("[user a]\noverlay = yes\n",
		  "t.conf:2: overlay: 'yes' must be 'persistent' (the user's changes kept across logins), 'volatile' (kept until logout) or 'none' (the image read-only)");
	one_error("[user a]\nupper_max = 10k\n",
		  "t.conf:2: upper_max: '10k' must be a size of at least 16M, such as 512M or 2G, or "
		  "'none'");
	one_error("[user a]\nenv_keep = LD_PRELOAD\n",
		  "t.conf:2: env_keep: 'LD_PRELOAD' holds LD_PRELOAD, which never enters a cell: it "
		  "makes the loader or a shell run or read what the user chose");
	one_error("[user a]\nenv_deny = A-B\n",
		  "t.conf:2: env_deny: 'A-B' holds 'A-B', not a variable name or glob (letters, "
		  "digits, _, * and ?)");
	one_error("[user a]\nenv_set = PATH=/x\n",
		  "t.conf:2: env_set: 'PATH=/x' holds 'PATH=/x': each must be NAME=VALUE, NAME "
		  "neither a loader or shell "
		  "variable (LD_*, BASH_ENV, ...) nor one the cell sets (HOME, USER, LOGNAME, "
		  "SHELL, PATH: use 'path =', CELL_ID)");
	one_error("[user a]\nupper_max = 8M\n",
		  "t.conf:2: upper_max: '8M' must be a size of at least 16M, such as 512M or 2G, or "
		  "'none'");
	one_error("[user a]\nexempt = bob\n",
		  "t.conf:2: 'exempt' is a global key: move it above the first [section]");
	one_error("identity = root\n",
		  "t.conf:1: 'identity' belongs in a section: put it under [defaults], [user NAME] or [group NAME]");
	one_error("cellsh = cellsh\n", "t.conf:1: cellsh: 'cellsh' must be an absolute path");
	one_error("subid_min = 0\n", "t.conf:1: subid_min: '0' must be a whole number from 1 to 4294967294");
	one_error("shell =\n", "t.conf:1: 'shell' has no value");
	one_error("= x\n", "t.conf:1: missing key before '='");
	one_error("exempt = @\n", "t.conf:1: exempt: bad name '@'");
	one_error("include = relative.conf\n", "t.conf:1: include: 'relative.conf' must be an absolute path");
	one_error("include = /nonexistent/cell-test.conf\n",
		  "t.conf:1: include /nonexistent/cell-test.conf: no such file");
	one_error("[user a]\nshell = /bin/sh\x01\n", "t.conf:2: control character in line");
	one_error("[user a]\nbind = /srv\n", "t.conf:2: bind: '/srv' must be SRC:DST or SRC:DST:ro|rw");
	one_error("[user a]\nbind = /srv:/x:rx\n", "t.conf:2: bind: mode 'rx' must be ro or rw");
	one_error("[user a]\nbind = srv:/x\n", "t.conf:2: bind: SRC 'srv' must be an absolute path");
	one_error("[user a]\nbind = /a/../b:/x\n",
		  "t.conf:2: bind: SRC '/a/../b' must be a clean path (no '//', '.' or '..' component)");
	one_error("[user a]\nbind = /a:/x/%g\n",
		  "t.conf:2: bind: DST '/x/%g' may use only %u (the user name) and %h (the home)");
	one_error("[user a]\nbind = /a:/dev/x\n",
		  "t.conf:2: bind: DST '/dev/x' would cover what the cell builds (/, /proc, /dev, /sys)");
	{
		/* Repeatable, each line with its file:line; ro by default. */
		struct cell_conf *c = parse("[user a]\nbind = /s/%u:/srv/s\nbind = /p:%h/p:rw\n");

		assert_int_equal(c->nerrors, 0);
		assert_string_equal(c->sections[0].profile.binds,
				    "/s/%u:/srv/s:ro\tt.conf:2\n/p:%h/p:rw\tt.conf:3\n");
		done(c);
	}
	{
		/* 32 binds a cell holds; the 33rd is an error with its line. */
		char text[2048] = "[user a]\n";

		for (int i = 0; i < 33; i++)
			snprintf(text + strlen(text), sizeof(text) - strlen(text),
				 "bind = /s:/d%d\n", i);
		one_error(text, "t.conf:34: bind: more than 32 bind lines in this section: bind "
				"a directory that holds them instead");
	}
}

static void test_all_errors_reported(void **state)
{
	(void)state;
	struct cell_conf *c = parse("bad one\n[user a]\nidentity = x\nfoo = 2\n[nope]\nshell = y\n");

	/* Parsing goes on past each error: all four are reported, in order. */
	assert_int_equal(c->nerrors, 4);
	assert_string_equal(c->errors[0], "t.conf:1: expected 'key = value', '[section]' or a comment");
	assert_true(strncmp(c->errors[1], "t.conf:3: identity:", 19) == 0);
	assert_true(strncmp(c->errors[2], "t.conf:4: unknown key 'foo'", 27) == 0);
	assert_true(strncmp(c->errors[3], "t.conf:5: unknown section", 25) == 0);
	/* line 6 is under a broken header: not reported twice */
	done(c);
}

static void test_error_cap(void **state)
{
	(void)state;
	char text[8192] = "";
	struct cell_conf *c;

	for (int i = 0; i < CONF_MAX_ERRORS + 10; i++)
		strcat(text, "x\n");
	c = parse(text);
	assert_int_equal(c->nerrors, CONF_MAX_ERRORS + 10);	/* counted */
	assert_string_equal(c->errors[CONF_MAX_ERRORS - 1],
			    "t.conf:32: expected 'key = value', '[section]' or a comment");
	done(c);
}

static void test_long_line(void **state)
{
	(void)state;
	char text[3000];

	memset(text, 'a', 2000);
	strcpy(text + 2000, "\n");
	one_error(text, "t.conf:1: line longer than 1023 characters");
}

static char tmpdir[64];

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void test_include(void **state)
{
	(void)state;
	struct cell_conf *c;
	char text[512], path[512];

	if (geteuid() != 0) {
		print_message("skipping: included files are trusted only when root-owned, "
			      "so this test needs root\n");
		skip();
		return;
	}
	/* Not under /tmp: every directory above an included file must be
	 * root's and not writable by others (mkdtemp makes it 0700). */
	snprintf(tmpdir, sizeof(tmpdir), "/run/cellunit.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	write_file("a.conf", "[user inc]\nidentity = self\n", 0644);
	write_file("b.conf", "oops\n", 0644);
	write_file("w.conf", "[user w]\n", 0664);
	snprintf(text, sizeof(text), "include = %s/a.conf\n", tmpdir);
	c = parse(text);
	assert_int_equal(c->nerrors, 0);
	assert_int_equal(c->nsections, 1);
	assert_string_equal(c->sections[0].pattern, "inc");
	done(c);

	/* An error inside an included file names that file and its line. */
	snprintf(text, sizeof(text), "\ninclude = %s/b.conf\n", tmpdir);
	snprintf(path, sizeof(path), "%s/b.conf:1: expected 'key = value', '[section]' or a comment", tmpdir);
	one_error(text, path);

	/* A group-writable include is refused with the fix. */
	snprintf(text, sizeof(text), "include = %s/w.conf\n", tmpdir);
	snprintf(path, sizeof(path), "t.conf:1: include %s/w.conf is writable by group or others "
		 "(mode 0664): fix with 'chmod go-w %s/w.conf'", tmpdir, tmpdir);
	one_error(text, path);

	/* So is one in a directory others may write (they could swap it). */
	assert_int_equal(chmod(tmpdir, 0777), 0);
	snprintf(text, sizeof(text), "include = %s/a.conf\n", tmpdir);
	snprintf(path, sizeof(path), "t.conf:1: include %s/a.conf: %s is writable by group or "
		 "others (mode 0777): fix with 'chmod go-w %s'", tmpdir, tmpdir, tmpdir);
	one_error(text, path);
	assert_int_equal(chmod(tmpdir, 0700), 0);
	/* And one reached through a symlink. */
	{
		char link[300];

		snprintf(link, sizeof(link), "%s-link", tmpdir);
		assert_int_equal(symlink(tmpdir, link), 0);
		snprintf(text, sizeof(text), "include = %s/a.conf\n", link);
		c = parse(text);
		unlink(link);
		assert_int_equal(c->nerrors, 1);
		assert_non_null(strstr(c->errors[0], "is a symlink: name the real path"));
		done(c);
	}

	/* A self-include stops at the nesting limit instead of looping. */
	snprintf(text, sizeof(text), "include = %s/loop.conf\n", tmpdir);
	write_file("loop.conf", text, 0644);
	c = parse(text);
	assert_int_equal(c->nerrors, 1);
	assert_non_null(strstr(c->errors[0], "nested deeper than 8 files"));
	done(c);

	/* A glob that matches nothing is fine; a literal name must exist. */
	snprintf(text, sizeof(text), "include = %s/none-*.conf\n", tmpdir);
	c = parse(text);
	assert_int_equal(c->nerrors, 0);
	done(c);
	for (const char *const *f = (const char *const[]){ "a.conf", "b.conf", "w.conf",
							  "loop.conf", NULL }; *f; f++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, *f);
		unlink(path);
	}
	rmdir(tmpdir);
}

static void decide(const char *conf, const char *user, const char *group,
		   const char *service, enum cell_decision want, struct cell_match *m)
{
	struct cell_conf *c = parse(conf);
	const char *groups[] = { group };

	assert_int_equal(c->nerrors, 0);
	conf_decide(c, user, groups, group ? 1 : 0, service, m);
	if (m->decision != want)
		print_error("%s/%s/%s: %s\n", user, group, service, m->why);
	assert_int_equal(m->decision, want);
	done(c);
}

static void test_policy(void **state)
{
	(void)state;
	const char *conf = "exempt = root @wheel\n"
			   "[defaults]\nhostname = box-%u\n"
			   "[group lab]\nidentity = self\nservices = sshd login\n"
			   "[user al*]\nidentity = root\n"
			   "[user alice]\nshell = /bin/sh\n";
	struct cell_match m;

	decide(conf, "root", NULL, "sshd", CELL_EXEMPT, &m);
	decide(conf, "bob", "wheel", "sshd", CELL_EXEMPT, &m);
	assert_string_equal(m.why, "listed in 'exempt'");
	decide(conf, "carol", "users", "sshd", CELL_IGNORE, &m);
	assert_string_equal(m.why, "no [user] or [group] section matches");
	/* group match, service filter */
	decide(conf, "dave", "lab", "sshd", CELL_CONFINE, &m);
	assert_int_equal(m.profile.identity, IDENTITY_SELF);
	assert_string_equal(m.profile.hostname, "box-dave");
	decide(conf, "dave", "lab", "su", CELL_IGNORE, &m);
	assert_non_null(strstr(m.why, "service 'su' not in 'services = sshd login'"));
	/* the first matching [user] wins over later ones and over groups */
	decide(conf, "alice", "lab", "su", CELL_CONFINE, &m);
	assert_int_equal(m.profile.identity, IDENTITY_ROOT);
	assert_string_equal(m.profile.shell, "/bin/bash");
	assert_string_equal(m.why, "[user al*] at t.conf:7");
	/* %u with characters a hostname cannot hold */
	decide(conf, "al_x.y", NULL, "sshd", CELL_CONFINE, &m);
	assert_string_equal(m.profile.hostname, "box-al-x-y");
}

/* [profile NAME]: a named set of keys a [user] or [group] starts from. */
static void test_profiles(void **state)
{
	(void)state;
	const char *conf = "[defaults]\npids_max = 100\nhostname = d\n"
			   "[profile students]\npids_max = 50\nmemory_max = 256M\nhostname = s\n"
			   "[group lab]\nprofile = students\nhostname = lab\n"
			   "[user bob]\npids_max = 9\n";
	struct cell_match m;

	/* defaults, then the profile, then the section's own keys */
	decide(conf, "al", "lab", "sshd", CELL_CONFINE, &m);
	assert_int_equal(m.profile.pids_max, 50);
	assert_int_equal(m.profile.memory_max.bytes, 256ULL << 20);
	assert_string_equal(m.profile.hostname, "lab");
	assert_string_equal(m.profile_name, "students");
	assert_string_equal(m.why, "[group lab] at t.conf:8 with [profile students] at t.conf:4");
	/* a profile matches no one by itself */
	decide(conf, "students", "students", "sshd", CELL_IGNORE, &m);
	decide(conf, "bob", NULL, "sshd", CELL_CONFINE, &m);
	assert_int_equal(m.profile.pids_max, 9);
	assert_string_equal(m.profile_name, "");
	assert_string_equal(m.profile.hostname, "d");

	one_error("[user a]\nprofile = nope\n",
		  "t.conf:2: profile 'nope' is not defined: add a [profile nope] section or fix "
		  "the name");
	one_error("[defaults]\nprofile = x\n[profile x]\n",
		  "t.conf:2: 'profile' belongs in a [user NAME] or [group NAME] section");
	one_error("[profile x]\nprofile = x\n",
		  "t.conf:2: 'profile' belongs in a [user NAME] or [group NAME] section");
	one_error("[profile a*]\n", "t.conf:1: [profile a*]: not a valid name or pattern");
	one_error("[profile x]\n[profile x]\n",
		  "t.conf:2: duplicate section [profile x] (first at t.conf:1)");
	one_error("[profile x]\n[user a]\nprofile = x\nprofile = x\n",
		  "t.conf:4: 'profile' is already set in this section");
}

static void test_limits_and_sandbox(void **state)
{
	(void)state;
	struct cell_conf *c = parse("[defaults]\n"
				    "pids_max = 100\n"
				    "memory_max = 25%\n"
				    "rlimit_nofile = 256:1024\n"
				    "[user bob]\n"
				    "share = user\n"
				    "memory_max = 512M\n"
				    "cpu_weight = 50\n"
				    "seccomp_allow = userns, keyctl\n"
				    "seccomp_deny = ptrace mount\n"
				    "rlimit_core = unlimited\n");
	struct cell_match m;
	struct sb_rlimit rl[SB_NRLIMITS];
	char buf[256];

	assert_int_equal(c->nerrors, 0);
	conf_decide(c, "bob", NULL, 0, "sshd", &m);
	assert_int_equal(m.decision, CELL_CONFINE);
	assert_true(m.profile.share_user);
	assert_int_equal(m.profile.pids_max, 100);
	assert_int_equal(conf_memory_max(&m.profile), 512ULL << 20);
	assert_int_equal(m.profile.cpu_weight, 50);
	assert_string_equal(m.profile.seccomp_allow, "userns, keyctl");
	assert_string_equal(m.profile.seccomp_deny, "ptrace mount");
	/* nofile from [defaults], core overridden, the rest unset. */
	assert_int_equal(sb_rlimits_format(m.profile.rlimits, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "nofile=256:1024 core=unlimited:unlimited");
	assert_int_equal(sb_rlimits_parse(buf, rl), 0);
	assert_true(rl[0].set && rl[0].soft == 256 && rl[0].hard == 1024);
	assert_true(rl[2].set && rl[2].soft == SB_UNLIMITED);
	assert_false(rl[1].set);
	assert_int_equal(sb_rlimits_parse("nofile=2:1", rl), -1);
	assert_int_equal(sb_rlimits_parse("bogus=1", rl), -1);
	done(c);

	/* Built-in defaults: limits on, core files off, one cell per session. */
	c = parse("[user carol]\n");
	conf_decide(c, "carol", NULL, 0, "sshd", &m);
	assert_false(m.profile.share_user);
	assert_int_equal(m.profile.pids_max, 2048);
	assert_int_equal(m.profile.memory_max.pct, 50);
	assert_true(conf_memory_max(&m.profile) > 0);
	assert_true(m.profile.rlimits[2].set && m.profile.rlimits[2].hard == 0);
	done(c);

	one_error("[defaults]\nshare = host\n",
		  "t.conf:2: share: 'host' must be 'none' (a cell per session) or 'user' (one per user)");
	one_error("[defaults]\npids_max = 3\n",
		  "t.conf:2: pids_max: '3' must be a number from 8 to 4194304, or 'none'");
	one_error("[defaults]\nmemory_max = 101%\n",
		  "t.conf:2: memory_max: '101%' must be a size (512M, 2G), a share of RAM (1% to 100%) or 'none'");
	one_error("[defaults]\ncpu_weight = 0\n",
		  "t.conf:2: cpu_weight: '0' must be a number from 1 to 10000 (100 is an equal share)");
	one_error("[defaults]\nseccomp_deny = frobnicate\n",
		  "t.conf:2: seccomp_deny: 'frobnicate' names a syscall this architecture does not have");
	one_error("[defaults]\nseccomp_allow = ioctl\n",
		  "t.conf:2: seccomp_allow: 'ioctl' names something outside the default deny set "
		  "(keyctl add_key request_key bpf perf_event_open userfaultfd kexec_load "
		  "kexec_file_load init_module finit_module delete_module open_by_handle_at "
		  "io_uring_setup io_uring_enter io_uring_register userns)");
	one_error("[defaults]\nrlimit_nofile = 10:5\n",
		  "t.conf:2: rlimit_nofile: '10:5' has a soft limit above its hard limit");
}

/* The digest changes with any key's value, and only with the values. */
static void test_digest(void **state)
{
	(void)state;
	struct cell_conf *c = parse("[user a]\n[user b]\nrlimit_nofile = 99\n[user c]\n"
				    "hostname = cell\n[user d]\npty_max = 8\n");
	struct cell_match m;
	char da[17], db[17], dc[17], dd[17], da2[17];

	assert_int_equal(c->nerrors, 0);
	conf_decide(c, "a", NULL, 0, "sshd", &m);
	conf_profile_digest(&m.profile, da);
	conf_decide(c, "a", NULL, 0, "sshd", &m);
	conf_profile_digest(&m.profile, da2);
	conf_decide(c, "b", NULL, 0, "sshd", &m);
	conf_profile_digest(&m.profile, db);
	conf_decide(c, "c", NULL, 0, "sshd", &m);
	conf_profile_digest(&m.profile, dc);
	conf_decide(c, "d", NULL, 0, "sshd", &m);
	conf_profile_digest(&m.profile, dd);
	assert_int_equal(m.profile.pty_max, 8);
	assert_int_equal(strlen(da), 16);
	assert_string_equal(da, da2);
	assert_string_not_equal(da, db);
	/* hostname = cell is the built-in value: the same profile */
	assert_string_equal(da, dc);
	assert_string_not_equal(da, dd);
	done(c);
	one_error("[defaults]\npty_max = 0\n", "t.conf:2: pty_max: '0' must be a number from 1 to 4096");
}

static bool on_macro_line(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = text; (p = strstr(p, word)); p += n) {
		const char *bol = p;

		while (bol > text && bol[-1] != '\n')
			bol--;
		if (*bol == '.' && (p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')) &&
		    !(isalnum((unsigned char)p[n]) || p[n] == '_'))
			return true;
	}
	return false;
}

/* Every key of the table is documented in cell.conf(5) and the shipped file. */
static void test_keys_documented(void **state)
{
	(void)state;
	static char man[1 << 17], shipped[1 << 16];
	FILE *f;
	size_t n;

	f = fopen(SRCDIR "/man/cell.conf.5", "r");
	assert_non_null(f);
	n = fread(man, 1, sizeof(man) - 1, f);
	man[n] = '\0';
	fclose(f);
	f = fopen(SRCDIR "/conf/cell.conf", "r");
	assert_non_null(f);
	n = fread(shipped, 1, sizeof(shipped) - 1, f);
	shipped[n] = '\0';
	fclose(f);
	for (size_t i = 0; conf_profile_key(i); i++) {
		char want[80];

		/* man: on a macro line (.B, .BI, .TP ...) as a whole word */
		if (!on_macro_line(man, conf_profile_key(i)))
			print_error("%s is not documented in man/cell.conf.5\n", conf_profile_key(i));
		assert_true(on_macro_line(man, conf_profile_key(i)));
		snprintf(want, sizeof(want), "%s = ", conf_profile_key(i));
		if (!strstr(shipped, want))
			print_error("%s is not in conf/cell.conf\n", conf_profile_key(i));
		assert_non_null(strstr(shipped, want));
	}
}

static void test_exempt_with_errors(void **state)
{
	(void)state;
	struct cell_conf *c = parse("exempt = admin\n[user x]\nidentity = nope\n");
	const char *g[] = { "users" };

	/* A broken config still lets exempt (break-glass) users be recognised. */
	assert_int_equal(c->nerrors, 1);
	assert_true(conf_is_exempt(c, "admin", g, 1));
	assert_false(conf_is_exempt(c, "x", g, 1));
	done(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_full),
		cmocka_unit_test(test_errors_each),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_error_cap),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_exempt_with_errors),
		cmocka_unit_test(test_limits_and_sandbox),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_keys_documented),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
