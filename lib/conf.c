// SPDX-License-Identifier: MIT
/*
 * cell.conf: a small line grammar.
 *
 *   # comment
 *   include = /etc/security/cell.d/NAME.conf  global keys come first
 *   exempt = root @admins
 *   [defaults]                                 profile keys for everyone
 *   identity = keep-id
 *   [group cellusers]                          who is confined, and how
 *   hostname = lab-%u
 *   [user alice]
 *
 * Every error is reported as "file:line: message"; parsing goes on to the end
 * so that all of them are reported at once, and any error refuses every
 * confined login (the caller's decision, see conf_is_exempt).
 */
#include "conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "env.h"
#include "idmap.h"
#include "rootfs.h"
#include "util.h"

#define CONF_MAX_SIZE (1 << 20)

struct parse_ctx {
	struct cell_conf *c;
	const char *file;
	int line;
	bool in_section;	  /* a [header] was seen in this file */
	struct cell_section *sec; /* NULL after a broken header */
};

static void add_error(struct cell_conf *c, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add_error(struct cell_conf *c, const char *file, int line, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->nerrors < CONF_MAX_ERRORS) {
		if (!file)
			snprintf(c->errors[c->nerrors], sizeof(c->errors[0]), "%s", msg);
		else if (line > 0)
			snprintf(c->errors[c->nerrors], sizeof(c->errors[0]), "%s:%d: %s", file,
				 line, msg);
		else
			snprintf(c->errors[c->nerrors], sizeof(c->errors[0]), "%s: %s", file, msg);
	}
	c->nerrors++;
}

const char *identity_name(enum cell_identity id)
{
	switch (id) {
	case IDENTITY_KEEP_ID:
		return "keep-id";
	case IDENTITY_ROOT:
		return "root";
	case IDENTITY_SELF:
		return "self";
	default:
		return "?";
	}
}

static void profile_builtin(struct cell_profile *p)
{
	memset(p, 0, sizeof(*p));
	p->identity = IDENTITY_KEEP_ID;
	strcpy(p->shell, "/bin/bash");
	strcpy(p->hostname, "cell");
	strcpy(p->path, "/usr/local/bin:/usr/bin:/bin");
	p->subid_count = 65536;
	p->tmpfs_size = 64ULL << 20;
	strcpy(p->services, "*");
	strcpy(p->rootfs, "host");
	strcpy(p->net, "host");
	p->net_isolate = true;
	p->landlock = true;
	p->overlay = OVERLAY_PERSISTENT;
	p->upper_max = 256ULL << 20;
	p->pids_max = 2048;
	p->memory_max.pct = 50;
	p->cpu_weight = 100;
	p->pty_max = 64;
	p->rlimits[SB_RLIMIT_CORE].set = true; /* core = 0: no core files of cell processes */
}

static unsigned long long memory_bytes(const struct cell_memory_max *m)
{
	struct sysinfo si;

	if (m->bytes || !m->pct)
		return m->bytes;
	if (sysinfo(&si) < 0)
		return 0;
	return (unsigned long long)si.totalram * si.mem_unit / 100 * m->pct;
}

unsigned long long conf_memory_max(const struct cell_profile *p)
{
	return memory_bytes(&p->memory_max);
}

unsigned long long conf_user_memory_max(const struct cell_profile *p)
{
	return memory_bytes(&p->user_memory_max);
}

void conf_init(struct cell_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->cellsh, sizeof(c->cellsh), "%s", CELLSH_PATH);
	snprintf(c->cell_init, sizeof(c->cell_init), "%s", CELL_INIT_PATH);
	c->subid_min = 100000;
	c->defaults.kind = SECTION_DEFAULTS;
	profile_builtin(&c->defaults.profile);
}

void conf_free(struct cell_conf *c)
{
	for (size_t i = 0; i < c->nexempt; i++)
		free(c->exempt[i]);
	free(c->exempt);
	free(c->sections);
	free(c->files);
	c->exempt = NULL;
	c->sections = NULL;
	c->files = NULL;
	c->nexempt = c->nsections = 0;
	c->files_len = 0;
}

/* Remember a file read, for the cells to hide (newline-separated: a path
 * with a newline or other control character is refused). */
static int note_file(struct cell_conf *c, const char *path)
{
	size_t n = strlen(path);
	char *f;

	for (const char *p = path; *p; p++)
		if (iscntrl((unsigned char)*p))
			return -1;
	f = realloc(c->files, c->files_len + n + 2);
	if (!f)
		return -1;
	c->files = f;
	if (c->files_len)
		c->files[c->files_len++] = '\n';
	memcpy(c->files + c->files_len, path, n + 1);
	c->files_len += n;
	return 0;
}

/* ---- value checkers: return NULL if fine, else why not ---- */

static const char *check_abs_path(const char *v)
{
	if (v[0] != '/')
		return "must be an absolute path";
	for (const char *p = v; *p; p++)
		if (isspace((unsigned char)*p) || !isprint((unsigned char)*p))
			return "must not contain spaces or control characters";
	return NULL;
}

static const char *check_hostname(const char *v)
{
	size_t len = strlen(v);

	if (len == 0 || len > 63)
		return "must be 1 to 63 characters";
	for (const char *p = v; *p; p++) {
		if (*p == '%' && p[1] == 'u') {
			p++;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return "may hold only letters, digits, '-', '.' and %u";
	}
	return NULL;
}

static const char *check_path_list(const char *v)
{
	char buf[512], *save = NULL;

	if (strlen(v) >= sizeof(buf))
		return "is too long";
	strcpy(buf, v);
	for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save))
		if (check_abs_path(d))
			return "must be a ':'-separated list of absolute directories";
	if (v[0] == ':' || strstr(v, "::") || v[strlen(v) - 1] == ':')
		return "must not contain empty entries (they mean the current directory)";
	return NULL;
}

/* A profile's name: letters, digits, '-', '_', '.'; no glob. */
static const char *check_name(const char *v)
{
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
			return "may hold only letters, digits, '-', '_' and '.'";
	return NULL;
}

static const char *check_patterns(const char *v)
{
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(" -_.*?[]", *p))
			return "may hold only service names and the glob characters * ? []";
	return NULL;
}

/* ---- profile keys: one row each (parser, storage); everything else -
 * the "already set" bits, merging a section over [defaults], the list of
 * valid keys in messages, the profile digest - comes from the table. ---- */

struct profile_key;
typedef const char *(*key_parser)(const struct profile_key *k, void *dst, const char *v);

struct profile_key {
	const char *name;
	key_parser parse;
	size_t off, size;
	bool text; /* a NUL-terminated string (for the digest) */
};

static const char *parse_identity(const struct profile_key *k, void *dst, const char *v)
{
	enum cell_identity *id = dst;

	(void)k;
	if (strcmp(v, "keep-id") == 0)
		*id = IDENTITY_KEEP_ID;
	else if (strcmp(v, "root") == 0)
		*id = IDENTITY_ROOT;
	else if (strcmp(v, "self") == 0)
		*id = IDENTITY_SELF;
	else
		return "must be one of keep-id, root, self";
	return NULL;
}

/* A string after a check; never truncated. */
static const char *store(const struct profile_key *k, void *dst, const char *v, const char *why)
{
	if (why)
		return why;
	return str_copy(dst, k->size, v) ? "is too long" : NULL;
}

static const char *parse_shell(const struct profile_key *k, void *dst, const char *v)
{
	return store(k, dst, v, check_abs_path(v));
}

static const char *parse_hostname(const struct profile_key *k, void *dst, const char *v)
{
	return store(k, dst, v, check_hostname(v));
}

static const char *parse_path(const struct profile_key *k, void *dst, const char *v)
{
	return store(k, dst, v, check_path_list(v));
}

static const char *parse_services(const struct profile_key *k, void *dst, const char *v)
{
	return store(k, dst, v, check_patterns(v));
}

bool conf_image_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= IMAGE_NAME_MAX || !isalnum((unsigned char)name[0]))
		return false;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("._-", *c))
			return false;
	return true;
}

const char *conf_image(const struct cell_profile *p)
{
	return strncmp(p->rootfs, "image:", 6) == 0 ? p->rootfs + 6 : NULL;
}

static const char *parse_rootfs(const struct profile_key *k, void *dst, const char *v)
{
	const char *why = NULL;

	if (strncmp(v, "image:", 6) == 0) {
		if (!conf_image_name_ok(v + 6))
			why = "image:NAME needs a NAME of letters, digits, '.', '_' and '-' "
			      "(an entry of " CELL_STATE_DIR "/images; cellctl image list)";
	} else if (strcmp(v, "host") != 0) {
		why = "must be 'host' (the host's system, read-only) or 'image:NAME' (an "
		      "image under " CELL_STATE_DIR "/images)";
	}
	return store(k, dst, v, why);
}

/* The keys whose value is one word of a list, stored as its index. */
static const char *const overlay_names[] = {
	[OVERLAY_PERSISTENT] = "persistent", [OVERLAY_VOLATILE] = "volatile", [OVERLAY_NONE] = "none"
};
static const char *const net_stack_names[] = {
	[NET_STACK_AUTO] = "auto", [NET_STACK_PASTA] = "pasta", [NET_STACK_SLIRP] = "slirp4netns"
};

static const char *word_name(const char *const *names, size_t n, int i)
{
	return i >= 0 && (size_t)i < n ? names[i] : "?";
}

/* v's index in names, or -1. */
static int word_index(const char *const *names, size_t n, const char *v)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return (int)i;
	return -1;
}

const char *overlay_name(enum cell_overlay o)
{
	return word_name(overlay_names, ARRAY_SIZE(overlay_names), (int)o);
}

const char *net_stack_name(enum cell_net_stack s)
{
	return word_name(net_stack_names, ARRAY_SIZE(net_stack_names), (int)s);
}

static const char *parse_overlay(const struct profile_key *k, void *dst, const char *v)
{
	int i = word_index(overlay_names, ARRAY_SIZE(overlay_names), v);

	(void)k;
	if (i >= 0) {
		*(enum cell_overlay *)dst = (enum cell_overlay)i;
		return NULL;
	}
	return "must be 'persistent' (the user's changes kept across logins), 'volatile' "
	       "(kept until logout) or 'none' (the image read-only)";
}

enum cell_net conf_net(const struct cell_profile *p, char *bridge)
{
	if (bridge)
		*bridge = '\0';
	if (strcmp(p->net, "none") == 0)
		return NET_NONE;
	if (strcmp(p->net, "user") == 0)
		return NET_USER;
	if (strncmp(p->net, "bridge:", 7) == 0) {
		if (bridge)
			snprintf(bridge, 16, "%s", p->net + 7);
		return NET_BRIDGE;
	}
	return NET_HOST;
}

static const char *parse_net(const struct profile_key *k, void *dst, const char *v)
{
	const char *br = v + 7;

	(void)k;
	if (strcmp(v, "host") && strcmp(v, "none") && strcmp(v, "user") &&
	    (strncmp(v, "bridge:", 7) != 0 || !*br || strlen(br) > 15 ||
	     strspn(br, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
		     strlen(br)))
		return "must be 'host' (the host's network, loopback and abstract sockets "
		       "included), 'none' (loopback alone), 'user' (outbound through pasta or "
		       "slirp4netns) or 'bridge:NAME' (a veth on the admin's bridge NAME)";
	snprintf(dst, 32, "%s", v);
	return NULL;
}

static const char *parse_net_stack(const struct profile_key *k, void *dst, const char *v)
{
	int i = word_index(net_stack_names, ARRAY_SIZE(net_stack_names), v);

	(void)k;
	if (i >= 0) {
		*(enum cell_net_stack *)dst = (enum cell_net_stack)i;
		return NULL;
	}
	return "must be 'auto' (pasta if installed, else slirp4netns), 'pasta' or 'slirp4netns'";
}

static const char *parse_net_pool(const struct profile_key *k, void *dst, const char *v)
{
	unsigned a, b, c, d, n;
	char end;

	(void)k;
	if (sscanf(v, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &n, &end) != 5 || a > 255 || b > 255 ||
	    c > 255 || d > 255 || n < 16 || n > 29)
		return "must be an IPv4 network such as 10.77.0.0/24 (/16 to /29): the first "
		       "address is the bridge's (the cells' gateway), the cells get the others";
	snprintf(dst, 32, "%s", v);
	return NULL;
}

static const char *parse_net_dns(const struct profile_key *k, void *dst, const char *v)
{
	char copy[128], *save = NULL;
	unsigned char addr[16];
	int n = 0;

	(void)k;
	if (snprintf(copy, sizeof(copy), "%s", v) >= (int)sizeof(copy))
		return "is too long";
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save), n++)
		if (n >= 3 ||
		    (inet_pton(AF_INET, t, addr) != 1 && inet_pton(AF_INET6, t, addr) != 1))
			return "must be up to 3 IP addresses, space-separated";
	snprintf(dst, 128, "%s", v);
	return NULL;
}

static const char *parse_yes_no(const struct profile_key *k, void *dst, const char *v)
{
	bool *on = dst;

	(void)k;
	if (strcmp(v, "yes") == 0)
		*on = true;
	else if (strcmp(v, "no") == 0)
		*on = false;
	else
		return "must be 'yes' or 'no'";
	return NULL;
}

static const char *parse_upper_max(const struct profile_key *k, void *dst, const char *v)
{
	unsigned long long *n = dst;

	(void)k;
	if (strcmp(v, "none") == 0) {
		*n = 0;
		return NULL;
	}
	/* ext4 needs a few MB for itself: 16M leaves room for something. */
	if (parse_size(v, n) < 0 || *n < (16ULL << 20))
		return "must be a size of at least 16M, such as 512M or 2G, or 'none'";
	return NULL;
}

static const char *parse_seccomp_allow(const struct profile_key *k, void *dst, const char *v)
{
	return store(k, dst, v, sb_seccomp_check_allow(v));
}

static const char *parse_seccomp_deny(const struct profile_key *k, void *dst, const char *v)
{
	return store(k, dst, v, sb_seccomp_check_deny(v));
}

/* env_keep, env_deny: space-separated name globs. */
static const char *parse_env_names(const struct profile_key *k, void *dst, const char *v)
{
	static char why[200];
	char buf[512], *save = NULL;

	if (str_copy(buf, sizeof(buf), v) < 0)
		return "is too long";
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (!env_rule_name_ok(t)) {
			snprintf(
				why, sizeof(why),
				"holds '%.64s', not a variable name or glob (letters, digits, _, * "
				"and ?)",
				t);
			return why;
		}
		if (!strpbrk(t, "*?") && env_denied(t)) {
			snprintf(why, sizeof(why),
				 "holds %.64s, which never enters a cell: it makes the loader or a "
				 "shell run or read what the user chose",
				 t);
			return why;
		}
	}
	return store(k, dst, v, NULL);
}

/* env_set: space-separated NAME=VALUE, values without spaces. */
static const char *parse_env_set(const struct profile_key *k, void *dst, const char *v)
{
	static char why[300];
	char buf[1100], *save = NULL;

	if (str_copy(buf, sizeof(buf), v) < 0)
		return "is too long";
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (!env_set_entry_ok(t)) {
			snprintf(
				why, sizeof(why),
				"holds '%.80s': each must be NAME=VALUE, NAME neither a loader or shell "
				"variable (LD_*, BASH_ENV, ...) nor one the cell sets (HOME, USER, "
				"LOGNAME, SHELL, PATH: use 'path =', CELL_ID)",
				t);
			return why;
		}
	}
	return store(k, dst, v, NULL);
}

/* "bind" is repeatable and records where each line is: do_bind() parses it. */
static const char *parse_bind_unused(const struct profile_key *k, void *dst, const char *v)
{
	(void)k, (void)dst, (void)v;
	return "is parsed by do_bind";
}

/* An absolute path of clean components (or one starting with %h); %u and
 * %h only. */
static const char *check_bind_path(const char *v)
{
	/* %h (the home) is absolute itself. */
	bool home = strncmp(v, "%h", 2) == 0 && (v[2] == '/' || v[2] == '\0');
	const char *why = check_abs_path(home ? "/" : v);

	for (const char *p = v; !why && *p; p++)
		if (isspace((unsigned char)*p) || !isprint((unsigned char)*p))
			why = "must not contain spaces or control characters";
	if (why)
		return why;
	if (strstr(v, "//") || strstr(v, "/./") || strstr(v, "/../") ||
	    (strlen(v) >= 3 && strcmp(v + strlen(v) - 3, "/..") == 0) ||
	    (strlen(v) >= 2 && strcmp(v + strlen(v) - 2, "/.") == 0))
		return "must be a clean path (no '//', '.' or '..' component)";
	for (const char *p = strchr(v, '%'); p; p = strchr(p + 2, '%'))
		if (p[1] != 'u' && p[1] != 'h')
			return "may use only %u (the user name) and %h (the home)";
	return NULL;
}

static const char *parse_subid_count(const struct profile_key *k, void *dst, const char *v)
{
	unsigned long *n = dst;

	(void)k;
	if (parse_ulong(v, n) < 0 || *n == 0 || *n > ID_MAX)
		return "must be a whole number from 1 to 4294967294";
	return NULL;
}

static const char *parse_tmpfs_size(const struct profile_key *k, void *dst, const char *v)
{
	(void)k;
	return parse_size(v, dst) < 0 ? "must be a size such as 64M or 1G" : NULL;
}

static const char *parse_share(const struct profile_key *k, void *dst, const char *v)
{
	bool *share = dst;

	(void)k;
	if (strcmp(v, "none") == 0)
		*share = false;
	else if (strcmp(v, "user") == 0)
		*share = true;
	else
		return "must be 'none' (a cell per session) or 'user' (one per user)";
	return NULL;
}

/* linger = no | yes | DURATION (90, 90s, 30m, 12h, 7d) */
static const char *parse_linger(const struct profile_key *k, void *dst, const char *v)
{
	unsigned long *secs = dst, n = 0, unit = 1;
	const char *end = v;
	char *e;

	(void)k;
	if (strcmp(v, "no") == 0) {
		*secs = 0;
		return NULL;
	}
	if (strcmp(v, "yes") == 0) {
		*secs = CELL_LINGER_FOREVER;
		return NULL;
	}
	errno = 0;
	if (*v >= '0' && *v <= '9') {
		n = strtoul(v, &e, 10);
		end = e;
	}
	if (*end && end[1] == '\0')
		unit = *end == 's'   ? 1
		       : *end == 'm' ? 60
		       : *end == 'h' ? 3600
		       : *end == 'd' ? 86400
				     : 0;
	else if (*end)
		unit = 0;
	if (end == v || errno || !unit || n == 0 || n > 366UL * 86400 / unit)
		return "must be 'no', 'yes' (until cellctl stop) or a duration up to a year "
		       "(90s, 30m, 12h, 7d)";
	*secs = n * unit;
	return NULL;
}

static const char *parse_pids_max(const struct profile_key *k, void *dst, const char *v)
{
	unsigned long *n = dst;

	(void)k;
	if (strcmp(v, "none") == 0) {
		*n = 0;
		return NULL;
	}
	if (parse_ulong(v, n) < 0 || *n < 8 || *n > 4194304)
		return "must be a number from 8 to 4194304, or 'none'";
	return NULL;
}

static const char *parse_max_cells(const struct profile_key *k, void *dst, const char *v)
{
	unsigned long *n = dst;

	(void)k;
	if (strcmp(v, "none") == 0) {
		*n = 0;
		return NULL;
	}
	if (parse_ulong(v, n) < 0 || *n < 1 || *n > 100000)
		return "must be a number from 1 to 100000, or 'none'";
	return NULL;
}

static const char *parse_memory_max(const struct profile_key *k, void *dst, const char *v)
{
	struct cell_memory_max *m = dst;
	unsigned long pct;
	size_t n = strlen(v);

	(void)k;
	m->bytes = 0;
	m->pct = 0;
	if (strcmp(v, "none") == 0)
		return NULL;
	if (n > 1 && v[n - 1] == '%') {
		char num[16];

		if (n - 1 >= sizeof(num))
			return "must be a size (512M, 2G), a share of RAM (1% to 100%) or 'none'";
		memcpy(num, v, n - 1);
		num[n - 1] = '\0';
		if (parse_ulong(num, &pct) < 0 || pct < 1 || pct > 100)
			return "must be a size (512M, 2G), a share of RAM (1% to 100%) or 'none'";
		m->pct = (unsigned)pct;
		return NULL;
	}
	if (parse_size(v, &m->bytes) < 0 || m->bytes < MEMORY_MAX_MIN)
		return "must be a size of at least 16M (512M, 2G), a share of RAM "
		       "(1% to 100%) or 'none'";
	return NULL;
}

static const char *parse_cpu_weight(const struct profile_key *k, void *dst, const char *v)
{
	unsigned long *n = dst;

	(void)k;
	if (parse_ulong(v, n) < 0 || *n < 1 || *n > 10000)
		return "must be a number from 1 to 10000 (100 is an equal share)";
	return NULL;
}

static const char *parse_pty_max(const struct profile_key *k, void *dst, const char *v)
{
	unsigned long *n = dst;

	(void)k;
	if (parse_ulong(v, n) < 0 || *n < 1 || *n > 4096)
		return "must be a number from 1 to 4096";
	return NULL;
}

static const char *parse_rlimit(const struct profile_key *k, void *dst, const char *v)
{
	(void)k;
	return sb_rlimit_parse_value(v, dst);
}

#define FIELD(f) offsetof(struct cell_profile, f), sizeof(((struct cell_profile *)0)->f)
/* One row per key reads best as a table. */
/* clang-format off */
#define KEY(name, parser) { #name, parser, FIELD(name), false }
#define TEXT_KEY(name, parser) { #name, parser, FIELD(name), true }
#define RLIMIT_KEY(name, i) { "rlimit_" #name, parse_rlimit, FIELD(rlimits[i]), false }

static const struct profile_key profile_keys[] = {
	KEY(identity, parse_identity),
	TEXT_KEY(shell, parse_shell),
	TEXT_KEY(hostname, parse_hostname),
	TEXT_KEY(path, parse_path),
	KEY(subid_count, parse_subid_count),
	KEY(tmpfs_size, parse_tmpfs_size),
	TEXT_KEY(services, parse_services),
	TEXT_KEY(rootfs, parse_rootfs),
	KEY(overlay, parse_overlay),
	KEY(upper_max, parse_upper_max),
	{ "share", parse_share, FIELD(share_user), false },
	KEY(linger, parse_linger),
	KEY(pids_max, parse_pids_max),
	KEY(max_cells, parse_max_cells),
	KEY(memory_max, parse_memory_max),
	KEY(cpu_weight, parse_cpu_weight),
	KEY(user_pids_max, parse_pids_max),
	KEY(user_memory_max, parse_memory_max),
	KEY(user_cpu_weight, parse_cpu_weight),
	TEXT_KEY(seccomp_allow, parse_seccomp_allow),
	TEXT_KEY(seccomp_deny, parse_seccomp_deny),
	{ "bind", parse_bind_unused, FIELD(binds), true },
	TEXT_KEY(env_keep, parse_env_names),
	TEXT_KEY(env_deny, parse_env_names),
	TEXT_KEY(env_set, parse_env_set),
	KEY(pty_max, parse_pty_max),
	KEY(proc_views, parse_yes_no),
	TEXT_KEY(net, parse_net),
	TEXT_KEY(net_pool, parse_net_pool),
	KEY(net_isolate, parse_yes_no),
	TEXT_KEY(net_dns, parse_net_dns),
	KEY(net_stack, parse_net_stack),
	KEY(net_host_loopback, parse_yes_no),
	KEY(landlock, parse_yes_no),
	RLIMIT_KEY(nofile, 0), RLIMIT_KEY(nproc, 1), RLIMIT_KEY(core, 2),
	RLIMIT_KEY(fsize, 3), RLIMIT_KEY(as, 4), RLIMIT_KEY(stack, 5),
	RLIMIT_KEY(memlock, 6), RLIMIT_KEY(cpu, 7),
};
/* clang-format on */

_Static_assert(ARRAY_SIZE(profile_keys) <= 8 * sizeof(((struct cell_profile *)0)->set),
	       "one bit of cell_profile.set per profile key");
_Static_assert(SB_NRLIMITS == 8 && SB_RLIMIT_CORE == 2, "the rlimit rows follow sb_rlimit_names[]");

static const char *const global_keys[] = { "include", "exempt", "cellsh", "cell_init",
					   "subid_min" };

const char *conf_profile_key(size_t i)
{
	return i < ARRAY_SIZE(profile_keys) ? profile_keys[i].name : NULL;
}

/* "a, b, c; in a section: d, e" from the two tables. */
static void valid_keys(char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(global_keys) && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? ", " : "",
					global_keys[i]);
	for (size_t i = 0; i < ARRAY_SIZE(profile_keys) && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s",
					i ? ", " : "; in a section: ", profile_keys[i].name);
	if (off < size)
		snprintf(buf + off, size - off, "; in [user] or [group]: profile");
}

static size_t parse_text(struct cell_conf *c, const char *file, const char *text);

/*
 * Read a config file that root trusts: every directory from / down to it
 * root-owned and not group/other-writable, no symlink anywhere
 * (open_trusted_path), then the file opened below the last one with
 * O_NOFOLLOW and O_NONBLOCK (a planted FIFO must not hang a login), a
 * regular file, root-owned and not group/other-writable on the open fd.
 * Every message starts with the path. Returns malloc'd text, or NULL.
 */
static char *read_trusted_conf(const char *path, struct cell_err *e)
{
	_cleanup_close_ int dir = -1;
	_cleanup_free_ char *parent = strdup(path);
	const char *base = strrchr(path, '/');

	if (!parent) {
		cell_err_set(e, ENOMEM, "%s: out of memory", path);
		return NULL;
	}
	if (path[0] != '/' || !base || !base[1]) {
		cell_err_set(e, EINVAL, "%s: not an absolute path of a file", path);
		return NULL;
	}
	parent[base - path] = '\0';
	dir = open_trusted_path(parent[0] ? parent : "/", true, e);
	if (dir < 0) {
		cell_err_prefix(e, "%s: ", path);
		return NULL;
	}
	return read_root_file(dir, base + 1, path, CONF_MAX_SIZE, e);
}

static void do_include_file(struct parse_ctx *x, const char *path)
{
	struct cell_conf *c = x->c;
	_cleanup_free_ char *text = NULL;
	struct cell_err e;

	text = read_trusted_conf(path, &e);
	if (!text) {
		add_error(c, x->file, x->line, "include %s", e.msg);
		return;
	}
	if (note_file(c, path) < 0) {
		add_error(c, x->file, x->line,
			  "include %s: a control character in the name, "
			  "or out of memory",
			  path);
		return;
	}
	c->depth++;
	parse_text(c, path, text);
	c->depth--;
}

/* The directory part of a pattern does not exist (ENOENT). */
static bool missing_dir(const char *pattern)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(pattern, '/');
	struct stat st;

	if (!slash || slash == pattern || (size_t)(slash - pattern) >= sizeof(dir) ||
	    strpbrk(pattern, "*?[") < slash)
		return false;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - pattern), pattern);
	return lstat(dir, &st) < 0 && errno == ENOENT;
}

static void do_include(struct parse_ctx *x, const char *pattern)
{
	glob_t g;
	int r;

	if (pattern[0] != '/') {
		add_error(x->c, x->file, x->line, "include: '%s' must be an absolute path",
			  pattern);
		return;
	}
	if (x->c->depth >= CONF_MAX_DEPTH) {
		add_error(x->c, x->file, x->line,
			  "include: nested deeper than %d files (an include loop?)",
			  CONF_MAX_DEPTH);
		return;
	}
	r = glob(pattern, GLOB_ERR, NULL, &g);
	if (r == GLOB_NOMATCH) {
		/* A literal name must exist; a pattern may match nothing. */
		if (!strpbrk(pattern, "*?["))
			add_error(x->c, x->file, x->line, "include %s: no such file", pattern);
		return;
	}
	if (r == GLOB_ABORTED && strpbrk(pattern, "*?[") && missing_dir(pattern)) {
		globfree(&g);
		return; /* a drop-in directory not made yet holds no file */
	}
	if (r != 0) {
		add_error(x->c, x->file, x->line, "include %s: cannot be read", pattern);
		return;
	}
	for (size_t i = 0; i < g.gl_pathc; i++)
		do_include_file(x, g.gl_pathv[i]);
	globfree(&g);
}

static void do_exempt(struct parse_ctx *x, const char *v)
{
	char buf[1024], *save = NULL;

	if (strlen(v) >= sizeof(buf)) {
		add_error(x->c, x->file, x->line, "exempt: list too long");
		return;
	}
	strcpy(buf, v);
	for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		char **n;

		if (strlen(w) > 63 || (w[0] == '@' && !w[1])) {
			add_error(x->c, x->file, x->line, "exempt: bad name '%s'", w);
			continue;
		}
		n = realloc(x->c->exempt, (x->c->nexempt + 1) * sizeof(*n));
		if (!n || !(n[x->c->nexempt] = strdup(w))) {
			if (n)
				x->c->exempt = n;
			add_error(x->c, x->file, x->line, "out of memory");
			return;
		}
		x->c->exempt = n;
		x->c->nexempt++;
	}
}

static void do_global(struct parse_ctx *x, const char *key, const char *v)
{
	struct cell_conf *c = x->c;
	const char *why;

	if (strcmp(key, "include") == 0) {
		do_include(x, v);
	} else if (strcmp(key, "exempt") == 0) {
		do_exempt(x, v);
	} else if (strcmp(key, "cellsh") == 0 || strcmp(key, "cell_init") == 0) {
		bool sh = strcmp(key, "cellsh") == 0;
		char *dst = sh ? c->cellsh : c->cell_init;

		if ((why = check_abs_path(v)))
			add_error(c, x->file, x->line, "%s: '%s' %s", key, v, why);
		else if (str_copy(dst, sh ? sizeof(c->cellsh) : sizeof(c->cell_init), v) < 0)
			add_error(c, x->file, x->line, "%s: path too long", key);
	} else if (strcmp(key, "subid_min") == 0) {
		if (parse_ulong(v, &c->subid_min) < 0 || c->subid_min == 0 || c->subid_min > ID_MAX)
			add_error(c, x->file, x->line,
				  "subid_min: '%s' must be a whole number from 1 to 4294967294", v);
	}
}

static void do_section_header(struct parse_ctx *x, char *s)
{
	struct cell_conf *c = x->c;
	char *end = strchr(s, ']'), *kind, *pat, *save = NULL;
	struct cell_section *n;
	enum section_kind k;
	size_t idx;

	x->in_section = true;
	if (!end || end[1] != '\0') {
		add_error(c, x->file, x->line, "section header must end with ']'");
		x->sec = NULL;
		return;
	}
	*end = '\0';
	kind = strtok_r(s + 1, " \t", &save);
	pat = strtok_r(NULL, " \t", &save);
	if (kind && strcmp(kind, "defaults") == 0 && !pat) {
		if (c->have_defaults) {
			add_error(c, x->file, x->line, "duplicate section [defaults] (first at %s)",
				  c->defaults.where);
			x->sec = NULL;
			return;
		}
		c->have_defaults = true;
		snprintf(c->defaults.where, sizeof(c->defaults.where), "%s:%d", x->file, x->line);
		x->sec = &c->defaults;
		return;
	}
	if (!kind || !pat || strtok_r(NULL, " \t", &save) ||
	    (strcmp(kind, "user") != 0 && strcmp(kind, "group") != 0 &&
	     strcmp(kind, "profile") != 0)) {
		add_error(c, x->file, x->line,
			  "unknown section '[%s]': use [defaults], [user NAME], [group NAME] or "
			  "[profile NAME]",
			  kind ? kind : "");
		x->sec = NULL;
		return;
	}
	k = kind[0] == 'u' ? SECTION_USER : kind[0] == 'g' ? SECTION_GROUP : SECTION_PROFILE;
	if (strlen(pat) >= sizeof(n->pattern) ||
	    (k == SECTION_PROFILE ? check_name(pat) : check_patterns(pat))) {
		add_error(c, x->file, x->line, "[%s %s]: not a valid name or pattern", kind, pat);
		x->sec = NULL;
		return;
	}
	for (size_t i = 0; i < c->nsections; i++) {
		if (c->sections[i].kind == k && strcmp(c->sections[i].pattern, pat) == 0) {
			add_error(c, x->file, x->line, "duplicate section [%s %s] (first at %s)",
				  kind, pat, c->sections[i].where);
			x->sec = NULL;
			return;
		}
	}
	n = realloc(c->sections, (c->nsections + 1) * sizeof(*n));
	if (!n) {
		add_error(c, x->file, x->line, "out of memory");
		x->sec = NULL;
		return;
	}
	c->sections = n;
	idx = c->nsections++;
	memset(&n[idx], 0, sizeof(n[0]));
	n[idx].kind = k;
	strcpy(n[idx].pattern, pat);
	snprintf(n[idx].where, sizeof(n[0].where), "%s:%d", x->file, x->line);
	x->sec = &n[idx];
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* A '#' at the start of a line or after white space starts a comment. */
static void strip_comment(char *s)
{
	for (char *p = s; *p; p++) {
		if (*p == '#' && (p == s || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

/* "profile = NAME" in a [user] or [group] section: start from [profile
 * NAME]. Whether NAME exists is checked once every file is read. */
static void do_use_profile(struct parse_ctx *x, const char *v)
{
	struct cell_section *s = x->sec;

	if (!x->in_section || (s && s->kind != SECTION_USER && s->kind != SECTION_GROUP)) {
		add_error(x->c, x->file, x->line,
			  "'profile' belongs in a [user NAME] or [group NAME] section");
	} else if (!s) {
		/* inside a broken header: already reported */
	} else if (s->use[0]) {
		add_error(x->c, x->file, x->line, "'profile' is already set in this section");
	} else if (strlen(v) >= sizeof(s->use) || check_name(v)) {
		add_error(x->c, x->file, x->line, "profile: '%s' is not a profile name", v);
	} else {
		strcpy(s->use, v);
		snprintf(s->use_where, sizeof(s->use_where), "%s:%d", x->file, x->line);
	}
}

static bool path_under(const char *p, const char *dir)
{
	size_t l = strlen(dir);

	return strncmp(p, dir, l) == 0 && (p[l] == '\0' || p[l] == '/');
}

/* "bind = SRC:DST[:ro|rw]": checked, then added with its file:line. */
static void do_bind(struct parse_ctx *x, const char *v)
{
	struct cell_profile *p = &x->sec->profile;
	char buf[1024], *f[4] = { NULL }, *save = NULL, line[1400];
	const char *why;
	size_t n = 0, i;

	if (str_copy(buf, sizeof(buf), v) < 0) {
		add_error(x->c, x->file, x->line, "bind: too long");
		return;
	}
	for (char *t = strtok_r(buf, ":", &save); t && n < 4; t = strtok_r(NULL, ":", &save))
		f[n++] = t;
	if (n < 2 || n > 3 || strstr(v, "::")) {
		add_error(x->c, x->file, x->line, "bind: '%s' must be SRC:DST or SRC:DST:ro|rw", v);
		return;
	}
	if (n == 3 && strcmp(f[2], "ro") != 0 && strcmp(f[2], "rw") != 0) {
		add_error(x->c, x->file, x->line, "bind: mode '%s' must be ro or rw", f[2]);
		return;
	}
	for (i = 0; i < 2; i++) {
		if ((why = check_bind_path(f[i]))) {
			add_error(x->c, x->file, x->line, "bind: %s '%s' %s", i ? "DST" : "SRC",
				  f[i], why);
			return;
		}
	}
	if (strcmp(f[1], "/") == 0 || path_under(f[1], "/proc") || path_under(f[1], "/dev") ||
	    path_under(f[1], "/sys")) {
		add_error(x->c, x->file, x->line,
			  "bind: DST '%s' would cover what the cell builds (/, /proc, /dev, /sys)",
			  f[1]);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(profile_keys) && strcmp(profile_keys[i].name, "bind"); i++)
		;
	snprintf(line, sizeof(line), "%s:%s:%s\t%s:%d\n", f[0], f[1], n == 3 ? f[2] : "ro", x->file,
		 x->line);
	if (strlen(p->binds) + strlen(line) >= sizeof(p->binds)) {
		add_error(x->c, x->file, x->line, "bind: too many bind lines in this section");
		return;
	}
	{
		size_t lines = 0;

		for (const char *q = p->binds; (q = strchr(q, '\n')); q++)
			lines++;
		if (lines >= ROOTFS_BINDS_MAX) {
			add_error(x->c, x->file, x->line,
				  "bind: more than %d bind lines in this section: bind a "
				  "directory that holds them instead",
				  ROOTFS_BINDS_MAX);
			return;
		}
	}
	strcat(p->binds, line);
	p->set |= 1ULL << i;
}

/* One "key = value": a global key, a profile key (the table), or an error. */
static void do_key(struct parse_ctx *x, const char *key, const char *val)
{
	struct cell_conf *c = x->c;
	char keys[600];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(global_keys); i++) {
		if (strcmp(key, global_keys[i]) != 0)
			continue;
		if (x->in_section)
			add_error(c, x->file, x->line,
				  "'%s' is a global key: move it above the first [section]", key);
		else
			do_global(x, key, val);
		return;
	}
	if (strcmp(key, "profile") == 0) {
		do_use_profile(x, val);
		return;
	}
	if (strcmp(key, "bind") == 0 && x->in_section && x->sec) {
		do_bind(x, val);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(profile_keys) && strcmp(key, profile_keys[i].name); i++)
		;
	if (i == ARRAY_SIZE(profile_keys)) {
		valid_keys(keys, sizeof(keys));
		add_error(c, x->file, x->line, "unknown key '%s' (valid keys: %s)", key, keys);
	} else if (!x->in_section) {
		add_error(c, x->file, x->line,
			  "'%s' belongs in a section: put it under [defaults], [user NAME] or "
			  "[group NAME]",
			  key);
	} else if (!x->sec) {
		/* inside a broken header: already reported */
	} else if (x->sec->profile.set & (1ULL << i)) {
		add_error(c, x->file, x->line, "'%s' is already set in this section", key);
	} else {
		const char *why = profile_keys[i].parse(
			&profile_keys[i], (char *)&x->sec->profile + profile_keys[i].off, val);

		if (why)
			add_error(c, x->file, x->line, "%s: '%s' %s", key, val, why);
		else
			x->sec->profile.set |= 1ULL << i;
	}
}

static void do_line(struct parse_ctx *x, char *raw)
{
	struct cell_conf *c = x->c;
	char *s, *eq, *key, *val;

	strip_comment(raw);
	s = trim(raw);
	if (*s == '\0')
		return;
	for (char *p = s; *p; p++) {
		if (!isprint((unsigned char)*p) && *p != '\t') {
			add_error(c, x->file, x->line, "control character in line");
			return;
		}
	}
	if (*s == '[') {
		do_section_header(x, s);
		return;
	}
	eq = strchr(s, '=');
	if (!eq) {
		add_error(c, x->file, x->line, "expected 'key = value', '[section]' or a comment");
		return;
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (*key == '\0') {
		add_error(c, x->file, x->line, "missing key before '='");
		return;
	}
	if (*val == '\0') {
		add_error(c, x->file, x->line, "'%s' has no value", key);
		return;
	}
	do_key(x, key, val);
}

static size_t parse_text(struct cell_conf *c, const char *file, const char *text)
{
	struct parse_ctx x = { .c = c, .file = file };
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[1024];

		x.line++;
		if (len >= sizeof(line)) {
			add_error(c, file, x.line, "line longer than %zu characters",
				  sizeof(line) - 1);
		} else {
			memcpy(line, p, len);
			line[len] = '\0';
			if (memchr(p, '\0', len))
				add_error(c, file, x.line, "NUL byte in line");
			else
				do_line(&x, line);
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return c->nerrors;
}

static const struct cell_section *find_profile(const struct cell_conf *c, const char *name)
{
	for (size_t i = 0; i < c->nsections; i++)
		if (c->sections[i].kind == SECTION_PROFILE &&
		    strcmp(c->sections[i].pattern, name) == 0)
			return &c->sections[i];
	return NULL;
}

/* Once every file is read: each "profile = NAME" names a [profile NAME]. */
static size_t finish(struct cell_conf *c)
{
	for (size_t i = 0; i < c->nsections; i++) {
		const struct cell_section *s = &c->sections[i];

		if (s->use[0] && !find_profile(c, s->use))
			add_error(c, NULL, 0,
				  "%s: profile '%s' is not defined: add a [profile %s] "
				  "section or fix the name",
				  s->use_where, s->use, s->use);
	}
	return c->nerrors;
}

size_t conf_parse_string(struct cell_conf *c, const char *name, const char *text)
{
	parse_text(c, name, text);
	return finish(c);
}

size_t conf_load(struct cell_conf *c, const char *path)
{
	_cleanup_free_ char *text = NULL;
	struct cell_err e;

	text = read_trusted_conf(path, &e);
	if (!text) {
		add_error(c, NULL, 0, "%s", e.msg);
		return c->nerrors;
	}
	if (note_file(c, path) < 0) {
		add_error(c, NULL, 0, "%s: a control character in the name, or out of memory",
			  path);
		return c->nerrors;
	}
	parse_text(c, path, text);
	return finish(c);
}

/* ---- policy ---- */

static bool in_groups(const char *name, const char *const *groups, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(groups[i], name) == 0)
			return true;
	return false;
}

bool conf_is_exempt(const struct cell_conf *c, const char *user, const char *const *groups,
		    size_t ngroups)
{
	for (size_t i = 0; i < c->nexempt; i++) {
		const char *x = c->exempt[i];

		if (x[0] == '@' ? in_groups(x + 1, groups, ngroups) : strcmp(x, user) == 0)
			return true;
	}
	return false;
}

/* Every key set in src replaces dst's value. */
static void merge_profile(struct cell_profile *dst, const struct cell_profile *src)
{
	for (size_t i = 0; i < ARRAY_SIZE(profile_keys); i++)
		if (src->set & (1ULL << i))
			memcpy((char *)dst + profile_keys[i].off,
			       (const char *)src + profile_keys[i].off, profile_keys[i].size);
}

/* FNV-1a over every key's value: strings up to their NUL, the rest as
 * stored. Not a cryptographic digest: it tells whether root's config for a
 * user changed, and only root writes that config. */
void conf_profile_digest(const struct cell_profile *p, char out[17])
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < ARRAY_SIZE(profile_keys); i++) {
		const struct profile_key *k = &profile_keys[i];
		const unsigned char *v = (const unsigned char *)p + k->off;
		size_t n = k->text ? strnlen((const char *)v, k->size) + 1 : k->size;

		for (const char *c = k->name; *c; c++)
			h = (h ^ (unsigned char)*c) * 0x100000001b3ULL;
		for (size_t b = 0; b < n; b++)
			h = (h ^ v[b]) * 0x100000001b3ULL;
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static bool service_matches(const char *patterns, const char *service)
{
	char buf[512], *save = NULL;

	strcpy(buf, patterns);
	for (char *p = strtok_r(buf, " \t", &save); p; p = strtok_r(NULL, " \t", &save))
		if (fnmatch(p, service, 0) == 0)
			return true;
	return false;
}

/* %u becomes the user name, with characters a hostname cannot hold as '-'. */
static void expand_hostname(char *dst, size_t size, const char *tmpl, const char *user)
{
	size_t o = 0;

	for (const char *p = tmpl; *p && o + 1 < size; p++) {
		if (p[0] == '%' && p[1] == 'u') {
			for (const char *u = user; *u && o + 1 < size; u++)
				dst[o++] = isalnum((unsigned char)*u) || *u == '-' ? *u : '-';
			p++;
		} else {
			dst[o++] = *p;
		}
	}
	dst[o] = '\0';
}

void conf_decide(const struct cell_conf *c, const char *user, const char *const *groups,
		 size_t ngroups, const char *service, struct cell_match *out)
{
	const struct cell_section *hit = NULL, *named = NULL;
	char host[64];

	memset(out, 0, sizeof(*out));
	if (conf_is_exempt(c, user, groups, ngroups)) {
		out->decision = CELL_EXEMPT;
		snprintf(out->why, sizeof(out->why), "listed in 'exempt'");
		return;
	}
	/* The first [user] section that matches wins; else the first [group]. */
	for (size_t i = 0; i < c->nsections && !hit; i++)
		if (c->sections[i].kind == SECTION_USER &&
		    fnmatch(c->sections[i].pattern, user, 0) == 0)
			hit = &c->sections[i];
	for (size_t i = 0; i < c->nsections && !hit; i++) {
		if (c->sections[i].kind != SECTION_GROUP)
			continue;
		for (size_t g = 0; g < ngroups; g++)
			if (fnmatch(c->sections[i].pattern, groups[g], 0) == 0) {
				hit = &c->sections[i];
				break;
			}
	}
	if (!hit) {
		out->decision = CELL_IGNORE;
		snprintf(out->why, sizeof(out->why), "no [user] or [group] section matches");
		return;
	}
	/* Built-in defaults, [defaults], the named [profile], the section. */
	out->profile = c->defaults.profile;
	out->profile.set = c->defaults.profile.set;
	if (hit->use[0] && (named = find_profile(c, hit->use))) {
		merge_profile(&out->profile, &named->profile);
		out->profile.set |= named->profile.set;
		strcpy(out->profile_name, named->pattern);
	}
	merge_profile(&out->profile, &hit->profile);
	out->profile.set |= hit->profile.set;
	snprintf(out->why, sizeof(out->why), "[%s %s] at %s%s%s%s%s",
		 hit->kind == SECTION_USER ? "user" : "group", hit->pattern, hit->where,
		 named ? " with [profile " : "", named ? named->pattern : "", named ? "] at " : "",
		 named ? named->where : "");
	if (service && !service_matches(out->profile.services, service)) {
		out->decision = CELL_IGNORE;
		snprintf(out->why, sizeof(out->why),
			 "service '%s' not in 'services = %s' of [%s %s] at %s", service,
			 out->profile.services, hit->kind == SECTION_USER ? "user" : "group",
			 hit->pattern, hit->where);
		return;
	}
	expand_hostname(host, sizeof(host), out->profile.hostname, user);
	strcpy(out->profile.hostname, host);
	out->decision = CELL_CONFINE;
}
