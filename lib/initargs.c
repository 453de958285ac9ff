// SPDX-License-Identifier: MIT
#include "initargs.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "idmap.h"
#include "registry.h"
#include "util.h"

enum arg_type {
	T_ID,	  /* const char *: a cell id */
	T_PATH,	  /* const char *: absolute */
	T_STR,	  /* const char * */
	T_UID,	  /* unsigned long: 1..ID_MAX */
	T_IDNUM,  /* unsigned long: 0..ID_MAX */
	T_ULONG,  /* unsigned long */
	T_U64,	  /* unsigned long long */
	T_SIZE,	  /* unsigned long long, 64M-style or bytes */
	T_BOOL,	  /* bool: 0 or 1 */
	T_GROUPS, /* groups/ngroups: comma-separated ids, maybe none */
	T_IMAGE,  /* const char *: "" or an image name (conf_image_name_ok) */
};

struct arg {
	const char *name;
	enum arg_type type;
	size_t off;
};

/* clang-format off */
#define ARG(name, type, field) { name, type, offsetof(struct init_args, field) }
/* clang-format on */

static const struct arg args[] = {
	ARG("id", T_ID, id),
	ARG("user", T_STR, user),
	ARG("uid", T_UID, uid),
	ARG("gid", T_IDNUM, gid),
	ARG("groups", T_GROUPS, groups),
	ARG("home", T_PATH, home),
	ARG("hostname", T_STR, hostname),
	ARG("tmpfs", T_SIZE, tmpfs),
	ARG("pty_max", T_ULONG, pty_max),
	ARG("pids_max", T_ULONG, limits.pids_max),
	ARG("memory_max", T_U64, limits.memory_max),
	ARG("cpu_weight", T_ULONG, limits.cpu_weight),
	ARG("shared", T_BOOL, shared),
	ARG("inside_uid", T_IDNUM, inside_uid),
	ARG("inside_gid", T_IDNUM, inside_gid),
	ARG("group", T_STR, group),
	ARG("shell", T_PATH, shell),
	ARG("binds", T_STR, binds),
	ARG("uid_map", T_STR, uid_map),
	ARG("gid_map", T_STR, gid_map),
	ARG("hide", T_STR, hide),
	ARG("image", T_IMAGE, image),
	ARG("overlay", T_ULONG, overlay),
	ARG("upper_max", T_U64, upper_max), /* 0: none */
	ARG("linger", T_U64, linger),
	ARG("user_pids_max", T_ULONG, user_limits.pids_max),
	ARG("user_memory_max", T_U64, user_limits.memory_max),
	ARG("user_cpu_weight", T_ULONG, user_limits.cpu_weight),
	ARG("proc_views", T_BOOL, proc_views),
	ARG("net", T_ULONG, net),
	ARG("bridge", T_STR, bridge),
	ARG("net_pool", T_STR, net_pool),
	ARG("net_isolate", T_BOOL, net_isolate),
	ARG("net_dns", T_STR, net_dns),
	ARG("net_stack", T_ULONG, net_stack),
	ARG("net_host_loopback", T_BOOL, net_host_loopback),
	ARG("timing", T_BOOL, timing),
};

_Static_assert(ARRAY_SIZE(args) <= 64, "one bit of 'seen' per argument");

static int encode_groups(const struct init_args *a, char **out)
{
	size_t size = a->ngroups * 11 + 1, off = 0;
	char *buf = malloc(size);

	if (!buf)
		return -1;
	buf[0] = '\0';
	for (size_t i = 0; i < a->ngroups; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%u", i ? "," : "",
					(unsigned)a->groups[i]);
	*out = buf;
	return 0;
}

static int encode_one(const struct init_args *a, const struct arg *r, char **out)
{
	const char *p = (const char *)a + r->off;
	_cleanup_free_ char *groups = NULL;
	int n = -1;

	switch (r->type) {
	case T_ID:
	case T_PATH:
	case T_STR:
	case T_IMAGE:
		n = asprintf(out, "%s=%s", r->name,
			     *(const char *const *)p ? *(const char *const *)p : "");
		break;
	case T_UID:
	case T_IDNUM:
	case T_ULONG:
		n = asprintf(out, "%s=%lu", r->name, *(const unsigned long *)p);
		break;
	case T_U64:
	case T_SIZE:
		n = asprintf(out, "%s=%llu", r->name, *(const unsigned long long *)p);
		break;
	case T_BOOL:
		n = asprintf(out, "%s=%d", r->name, *(const bool *)p ? 1 : 0);
		break;
	case T_GROUPS:
		if (encode_groups(a, &groups) == 0)
			n = asprintf(out, "%s=%s", r->name, groups);
		break;
	default:
		break;
	}
	if (n < 0)
		*out = NULL;
	return n < 0 ? -1 : 0;
}

int initargs_encode(const struct init_args *a, char ***argv, struct cell_err *e)
{
	char **v = calloc(ARRAY_SIZE(args) + 2, sizeof(*v));

	*argv = NULL;
	if (!v)
		return cell_err_set(e, ENOMEM, "out of memory");
	if (a->ngroups > CELL_MAX_GROUPS) {
		free(v);
		return cell_err_set(e, E2BIG, "more than %d groups", CELL_MAX_GROUPS);
	}
	v[0] = strdup("cell-init");
	for (size_t i = 0; v[0] && i < ARRAY_SIZE(args); i++) {
		if (encode_one(a, &args[i], &v[i + 1]) < 0) {
			initargs_free(v);
			return cell_err_set(e, ENOMEM, "out of memory");
		}
	}
	if (!v[0]) {
		free(v);
		return cell_err_set(e, ENOMEM, "out of memory");
	}
	*argv = v;
	return 0;
}

void initargs_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* Strict: digits only, separated by single commas; at most CELL_MAX_GROUPS. */
static bool decode_groups(const char *v, struct init_args *a)
{
	a->ngroups = 0;
	while (*v) {
		char num[16];
		size_t len = strcspn(v, ",");
		unsigned long g;

		if (len == 0 || len >= sizeof(num) || a->ngroups >= CELL_MAX_GROUPS)
			return false;
		memcpy(num, v, len);
		num[len] = '\0';
		if (parse_ulong(num, &g) < 0 || g > ID_MAX)
			return false;
		a->groups[a->ngroups++] = (gid_t)g;
		v += len;
		if (*v == ',' && !*++v)
			return false; /* a trailing comma */
	}
	return true;
}

static bool decode_one(const struct arg *r, const char *v, struct init_args *a)
{
	char *p = (char *)a + r->off;
	unsigned long n;

	switch (r->type) {
	case T_ID:
		*(const char **)p = v;
		return cell_id_valid(v);
	case T_PATH:
		*(const char **)p = v;
		return v[0] == '/';
	case T_STR:
		*(const char **)p = v;
		return true;
	case T_UID:
	case T_IDNUM:
		if (parse_ulong(v, &n) < 0 || n > ID_MAX || (r->type == T_UID && n == 0))
			return false;
		*(unsigned long *)p = n;
		return true;
	case T_ULONG:
		return parse_ulong(v, (unsigned long *)p) == 0;
	case T_U64:
		if (parse_ulong(v, &n) < 0)
			return false;
		*(unsigned long long *)p = n;
		return true;
	case T_SIZE:
		return parse_size(v, (unsigned long long *)p) == 0;
	case T_BOOL:
		if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
			return false;
		*(bool *)p = v[0] == '1';
		return true;
	case T_GROUPS:
		return decode_groups(v, a);
	case T_IMAGE:
		*(const char **)p = v;
		return !*v || conf_image_name_ok(v);
	default:
		return false;
	}
}

int initargs_decode(int argc, char *const *argv, struct init_args *a, struct cell_err *e)
{
	uint64_t seen = 0;

	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		size_t k, len;

		if (!eq)
			return cell_err_set(e, EINVAL, "bad argument '%.64s'", argv[i]);
		len = (size_t)(eq - argv[i]);
		for (k = 0; k < ARRAY_SIZE(args); k++)
			if (strlen(args[k].name) == len && memcmp(argv[i], args[k].name, len) == 0)
				break;
		if (k == ARRAY_SIZE(args))
			return cell_err_set(e, EINVAL, "unknown argument '%.*s'", (int)len,
					    argv[i]);
		if (seen & (1ULL << k))
			return cell_err_set(e, EINVAL, "argument '%s' given twice", args[k].name);
		seen |= 1ULL << k;
		if (!decode_one(&args[k], eq + 1, a))
			return cell_err_set(e, EINVAL, "bad value for '%s'", args[k].name);
	}
	for (size_t k = 0; k < ARRAY_SIZE(args); k++)
		if (!(seen & (1ULL << k)))
			return cell_err_set(e, EINVAL, "missing argument '%s'", args[k].name);
	if (a->overlay > OVERLAY_NONE)
		return cell_err_set(e, EINVAL, "bad value for 'overlay'");
	if (a->net > NET_BRIDGE)
		return cell_err_set(e, EINVAL, "bad value for 'net'");
	if (a->net_stack > NET_STACK_SLIRP ||
	    (a->net == NET_USER && a->net_stack == NET_STACK_AUTO))
		return cell_err_set(e, EINVAL, "bad value for 'net_stack'");
	return 0;
}
