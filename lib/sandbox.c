// SPDX-License-Identifier: MIT
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "registry.h"
#include "util.h"

const char *const sb_rlimit_names[SB_NRLIMITS] = {
	"nofile", "nproc", "core", "fsize", "as", "stack", "memlock", "cpu",
};
static const int rlimit_res[SB_NRLIMITS] = {
	RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_CORE,    RLIMIT_FSIZE,
	RLIMIT_AS,     RLIMIT_STACK, RLIMIT_MEMLOCK, RLIMIT_CPU,
};

static int parse_one(const char *s, unsigned long long *out)
{
	if (strcmp(s, "unlimited") == 0 || strcmp(s, "infinity") == 0) {
		*out = SB_UNLIMITED;
		return 0;
	}
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	return parse_size(s, out);
}

const char *sb_rlimit_parse_value(const char *v, struct sb_rlimit *r)
{
	char buf[64];
	char *colon;

	if (strlen(v) >= sizeof(buf))
		return "is too long";
	strcpy(buf, v);
	colon = strchr(buf, ':');
	if (colon)
		*colon = '\0';
	if (parse_one(buf, &r->soft) < 0 || (colon && parse_one(colon + 1, &r->hard) < 0))
		return "must be a number or size, SOFT:HARD, or 'unlimited'";
	if (!colon)
		r->hard = r->soft;
	if (r->soft > r->hard)
		return "has a soft limit above its hard limit";
	r->set = true;
	return NULL;
}

int sb_rlimits_format(const struct sb_rlimit r[SB_NRLIMITS], char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < SB_NRLIMITS; i++) {
		char soft[24], hard[24];
		int n;

		if (!r[i].set)
			continue;
		snprintf(soft, sizeof(soft), "%llu", r[i].soft);
		snprintf(hard, sizeof(hard), "%llu", r[i].hard);
		n = snprintf(buf + off, size - off, "%s%s=%s:%s", off ? " " : "",
			     sb_rlimit_names[i], r[i].soft == SB_UNLIMITED ? "unlimited" : soft,
			     r[i].hard == SB_UNLIMITED ? "unlimited" : hard);
		if (n < 0 || (size_t)n >= size - off)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

int sb_rlimits_parse(const char *s, struct sb_rlimit r[SB_NRLIMITS])
{
	char buf[512], *save = NULL;

	memset(r, 0, sizeof(*r) * SB_NRLIMITS);
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(t, '=');
		int i;

		if (!eq)
			return -1;
		*eq = '\0';
		for (i = 0; i < SB_NRLIMITS && strcmp(t, sb_rlimit_names[i]) != 0; i++)
			;
		if (i == SB_NRLIMITS || sb_rlimit_parse_value(eq + 1, &r[i]) != NULL)
			return -1;
	}
	return 0;
}

int sb_rlimits_apply(const struct sb_rlimit r[SB_NRLIMITS], struct cell_err *e)
{
	for (int i = 0; i < SB_NRLIMITS; i++) {
		struct rlimit cur, want;

		if (!r[i].set)
			continue;
		if (getrlimit(rlimit_res[i], &cur) < 0)
			return cell_err_sys(e, "getrlimit(%s)", sb_rlimit_names[i]);
		want.rlim_cur = r[i].soft == SB_UNLIMITED ? RLIM_INFINITY : r[i].soft;
		want.rlim_max = r[i].hard == SB_UNLIMITED ? RLIM_INFINITY : r[i].hard;
		/* Only ever lower: without privilege a hard limit cannot rise. */
		if (want.rlim_max > cur.rlim_max)
			want.rlim_max = cur.rlim_max;
		if (want.rlim_cur > want.rlim_max)
			want.rlim_cur = want.rlim_max;
		if (setrlimit(rlimit_res[i], &want) < 0)
			return cell_err_sys(e, "setrlimit(%s)", sb_rlimit_names[i]);
	}
	return 0;
}

/* ---- seccomp ---- */

const char *const sb_seccomp_default[] = {
	"keyctl",
	"add_key",
	"request_key", /* kernel keyrings are not namespaced */
	"bpf",
	"perf_event_open",
	"userfaultfd", /* kernel attack surface */
	"kexec_load",
	"kexec_file_load",
	"init_module",
	"finit_module",
	"delete_module",
	"open_by_handle_at", /* file handles bypass the mount tree */
	"io_uring_setup",
	"io_uring_enter",
	"io_uring_register", /* bypass seccomp */
	"userns",	     /* nested user namespaces */
	NULL,
};

/* Lists are names separated by spaces or commas. Copy the next name into w
 * (truncated to size) and return its length, or 0 at the end. */
static size_t next_word(const char **p, char *w, size_t size)
{
	size_t len;

	while (**p == ' ' || **p == ',')
		(*p)++;
	len = strcspn(*p, " ,");
	snprintf(w, size, "%.*s", (int)len, *p);
	*p += len;
	return len;
}

static bool in_list(const char *list, const char *name)
{
	char w[48];

	for (const char *p = list ? list : ""; next_word(&p, w, sizeof(w));)
		if (strcmp(w, name) == 0)
			return true;
	return false;
}

static bool word_ok(const char *w, size_t len)
{
	if (len == 0 || len > 40 || strlen(w) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= '0' && w[i] <= '9') || w[i] == '_'))
			return false;
	return true;
}

/* "names something outside the default deny set (keyctl add_key ...)",
 * from the array itself. */
static const char *outside_default_message(void)
{
	static char msg[512];
	size_t off;

	if (msg[0])
		return msg;
	off = (size_t)snprintf(msg, sizeof(msg), "names something outside the default deny set (");
	for (size_t i = 0; sb_seccomp_default[i] && off < sizeof(msg); i++)
		off += (size_t)snprintf(msg + off, sizeof(msg) - off, "%s%s", i ? " " : "",
					sb_seccomp_default[i]);
	if (off < sizeof(msg))
		snprintf(msg + off, sizeof(msg) - off, ")");
	return msg;
}

const char *sb_seccomp_check_allow(const char *list)
{
	char w[48];
	size_t len;

	for (const char *p = list; (len = next_word(&p, w, sizeof(w)));) {
		bool known = false;

		if (!word_ok(w, len))
			return "must list syscall names from the default deny set, or 'userns'";
		for (size_t i = 0; sb_seccomp_default[i]; i++)
			known |= strcmp(w, sb_seccomp_default[i]) == 0;
		if (!known)
			return outside_default_message();
	}
	return NULL;
}

const char *sb_seccomp_check_deny(const char *list)
{
	char w[48];
	size_t len;

	for (const char *p = list; (len = next_word(&p, w, sizeof(w)));) {
		if (!word_ok(w, len))
			return "must be a list of syscall names";
		if (seccomp_syscall_resolve_name(w) == __NR_SCMP_ERROR)
			return "names a syscall this architecture does not have";
	}
	return NULL;
}

static int deny(scmp_filter_ctx ctx, const char *name, unsigned n, const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0; /* not on this architecture: nothing to deny */
	return seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), nr, n, cmp);
}

#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452 /* Linux 6.6, the same number on every architecture */
#endif

/*
 * No set-id bits from a cell: a set-uid file made in the home runs as the
 * user on the host, in the host's user namespace, which holds every
 * capability over the user's cells. Like systemd's RestrictSUIDSGID=:
 * chmod-like calls and every call that creates a file, directory or node
 * with S_ISUID or S_ISGID in its mode fail with EPERM.
 */
static int deny_setid(scmp_filter_ctx ctx)
{
	static const struct {
		const char *name;
		int nr;	       /* when libseccomp may not know the name */
		int mode_arg;  /* which argument holds the mode */
		int flags_arg; /* -1, or the open flags argument */
	} calls[] = {
		{ "chmod", 0, 1, -1 },	  { "fchmod", 0, 1, -1 },
		{ "fchmodat", 0, 2, -1 }, { "fchmodat2", __NR_fchmodat2, 2, -1 },
		{ "mkdir", 0, 1, -1 },	  { "mkdirat", 0, 2, -1 },
		{ "mknod", 0, 1, -1 },	  { "mknodat", 0, 2, -1 },
		{ "creat", 0, 1, -1 },	  { "open", 0, 2, 1 },
		{ "openat", 0, 3, 2 },
	};
	static const unsigned long bits[] = { S_ISUID, S_ISGID };
	/* O_TMPFILE includes O_DIRECTORY: match its own bit. */
	static const unsigned long creating[] = { O_CREAT, __O_TMPFILE };
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(calls) && !r; i++) {
		int nr = seccomp_syscall_resolve_name(calls[i].name);

		if (nr == __NR_SCMP_ERROR)
			nr = calls[i].nr;
		if (nr <= 0)
			continue; /* not on this architecture */
		for (size_t b = 0; b < ARRAY_SIZE(bits) && !r; b++) {
			struct scmp_arg_cmp mode = { (unsigned)calls[i].mode_arg,
						     SCMP_CMP_MASKED_EQ, bits[b], bits[b] };

			if (calls[i].flags_arg < 0) {
				r = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
							   &mode);
				continue;
			}
			for (size_t c = 0; c < ARRAY_SIZE(creating) && !r; c++) {
				struct scmp_arg_cmp cmp[2] = {
					{ (unsigned)calls[i].flags_arg, SCMP_CMP_MASKED_EQ,
					  creating[c], creating[c] },
					mode,
				};

				r = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), nr, 2, cmp);
			}
		}
	}
	/* openat2 passes flags and mode in memory a filter cannot read: make it
	 * look absent, so that libc and programs fall back to openat. */
	if (!r) {
		int nr = seccomp_syscall_resolve_name("openat2");

		if (nr != __NR_SCMP_ERROR)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
	}
	return r;
}

static int build(scmp_filter_ctx ctx, const char *allow, const char *extra)
{
	/* ioctl's request is an int in the kernel: only its low 32 bits count,
	 * so mask the rest (TIOCSTI | 1<<32 is still TIOCSTI). */
	static const unsigned long ttys[] = { TIOCSTI, TIOCLINUX };
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(ttys) && !r; i++) {
		struct scmp_arg_cmp c = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, ttys[i]);

		r = deny(ctx, "ioctl", 1, &c);
	}
	if (!r)
		r = deny_setid(ctx);
	for (size_t i = 0; sb_seccomp_default[i] && !r; i++) {
		if (in_list(allow, sb_seccomp_default[i]) ||
		    strcmp(sb_seccomp_default[i], "userns") == 0)
			continue;
		r = deny(ctx, sb_seccomp_default[i], 0, NULL);
	}
	if (!r && !in_list(allow, "userns")) {
		struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);

		r = deny(ctx, "unshare", 1, &c);
		if (!r)
			r = deny(ctx, "clone", 1, &c);
		if (!r)
			r = deny(ctx, "setns", 0, NULL);
		/* clone3 passes its flags in memory a filter cannot read: make it
		 * look absent so that libc falls back to clone, which is checked. */
		if (!r) {
			int nr = seccomp_syscall_resolve_name("clone3");

			if (nr != __NR_SCMP_ERROR)
				r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
		}
	}
	{
		char w[48];

		for (const char *p = extra; !r && next_word(&p, w, sizeof(w));)
			r = deny(ctx, w, 0, NULL);
	}
	return r;
}

int sb_seccomp_load(const char *allow, const char *extra, struct cell_err *e)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;

	if (!ctx)
		return cell_err_set(e, ENOMEM, "seccomp_init failed");
	/* Syscalls of other ABIs (i386, x32) hit the default "bad arch" kill. */
	r = build(ctx, allow ? allow : "", extra ? extra : "");
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return cell_err_set(e, -r, "loading the seccomp filter: %s", strerror(-r));
	return 0;
}

/* ---- the per-profile cache ---- */

#define CACHE_MAX (64u << 10)

/* "cell-seccomp 1\nALLOW\nDENY\n" and its name, seccomp-<FNV-1a 64 of it>. */
static int cache_header(const char *allow, const char *deny, char *hdr, size_t hsize, char name[32])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int n = snprintf(hdr, hsize, "cell-seccomp 1\n%s\n%s\n", allow ? allow : "",
			 deny ? deny : "");

	if (n < 0 || (size_t)n >= hsize)
		return -1;
	for (int i = 0; i < n; i++)
		h = (h ^ (unsigned char)hdr[i]) * 0x100000001b3ULL;
	snprintf(name, 32, "seccomp-%016llx", (unsigned long long)h);
	return n;
}

int sb_seccomp_cache(int dirfd, const char *allow, const char *deny, struct cell_err *e)
{
	char hdr[1024], name[32], tmp[48];
	scmp_filter_ctx ctx;
	int n = cache_header(allow, deny, hdr, sizeof(hdr), name), r;
	_cleanup_close_ int fd = -1;

	if (n < 0)
		return cell_err_set(e, E2BIG, "the seccomp lists are too long to cache");
	if (faccessat(dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	/* Root's file in root's directory, renamed into place whole. */
	snprintf(tmp, sizeof(tmp), "%s.%d", name, (int)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return cell_err_sys(e, "creating the seccomp cache");
	/* Readable by every cellsh whatever the login program's umask. */
	if (fchmod(fd, 0644) < 0) {
		unlinkat(dirfd, tmp, 0);
		return cell_err_sys(e, "chmod of the seccomp cache");
	}
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		unlinkat(dirfd, tmp, 0);
		return cell_err_set(e, ENOMEM, "seccomp_init failed");
	}
	r = build(ctx, allow ? allow : "", deny ? deny : "");
	if (r == 0)
		r = write(fd, hdr, (size_t)n + 1) == n + 1 ? 0 : -EIO; /* with its NUL */
	if (r == 0)
		r = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	if (r < 0 || renameat(dirfd, tmp, dirfd, name) < 0) {
		unlinkat(dirfd, tmp, 0);
		return cell_err_set(e, r < 0 ? -r : errno, "writing the seccomp cache");
	}
	return 0;
}

int sb_seccomp_cached(int dirfd, const char *allow, const char *deny, struct sb_filter *f,
		      struct cell_err *e)
{
	char hdr[1024], name[32];
	_cleanup_free_ unsigned char *buf = NULL;
	int n = cache_header(allow, deny, hdr, sizeof(hdr), name);
	_cleanup_close_ int fd = -1;
	struct stat st;
	size_t got = 0;

	f->prog = NULL;
	f->len = 0;
	if (n < 0)
		return 0;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	/* None, or not readable to us (then it is no one's to abuse): compile. */
	if (fd < 0)
		return errno == ENOENT || errno == EACCES
			       ? 0
			       : cell_err_sys(e, "opening the seccomp cache %s", name);
	if (fstat(fd, &st) < 0)
		return cell_err_sys(e, "reading the seccomp cache %s", name);
	/* Someone but root could have written it: refuse, and say so. */
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		return cell_err_set(e, EPERM,
				    "the seccomp cache " CELL_RUN_DIR "/%s is not a file "
				    "root alone may write: refusing to use it or to run without "
				    "it; remove it (the next login makes it anew) and find out "
				    "who changed it",
				    name);
	/* Root's, but not what we write: compile instead. */
	if (st.st_size <= n + 1 || st.st_size > CACHE_MAX)
		return 0;
	buf = malloc((size_t)st.st_size);
	if (!buf)
		return cell_err_set(e, ENOMEM, "out of memory");
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);

		if (k <= 0)
			return cell_err_sys(e, "reading the seccomp cache %s", name);
		got += (size_t)k;
	}
	/* Its lists must be ours (not merely its name: a hash may collide). */
	if (memcmp(buf, hdr, (size_t)n + 1) != 0)
		return 0;
	got -= (size_t)n + 1;
	if (got % sizeof(struct sock_filter) || got / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return 0;
	f->len = got / sizeof(struct sock_filter);
	f->prog = malloc(got);
	if (!f->prog)
		return cell_err_set(e, ENOMEM, "out of memory");
	memcpy(f->prog, buf + n + 1, got);
	return 1;
}

int sb_seccomp_load_prog(const struct sb_filter *f, struct cell_err *e)
{
	struct sock_fprog prog = { .len = (unsigned short)f->len,
				   .filter = (struct sock_filter *)(void *)f->prog };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return cell_err_sys(e, "PR_SET_NO_NEW_PRIVS");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return cell_err_sys(e, "loading the seccomp filter");
	return 0;
}
