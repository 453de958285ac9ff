/* SPDX-License-Identifier: MIT */
#ifndef CELL_SANDBOX_H
#define CELL_SANDBOX_H
/*
 * What every process that enters a cell gets on top of the capability drop:
 * resource limits and a seccomp filter, both from the profile (carried to
 * cellsh in the root-owned registry record).
 */
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define SB_NRLIMITS    8
#define SB_UNLIMITED   (~0ULL)
#define SB_RLIMIT_CORE 2 /* index in sb_rlimit_names */

struct sb_rlimit {
	bool set;
	unsigned long long soft, hard; /* SB_UNLIMITED for no limit */
};

/* nofile, nproc, core, fsize, as, stack, memlock, cpu: index i of the arrays. */
extern const char *const sb_rlimit_names[SB_NRLIMITS];

/* "N", "SOFT:HARD", sizes like 64M, "unlimited". NULL if fine, else why not. */
const char *sb_rlimit_parse_value(const char *v, struct sb_rlimit *r);
/* "nofile=1024:4096 core=0:0" <-> array; the registry's form. */
int sb_rlimits_format(const struct sb_rlimit r[SB_NRLIMITS], char *buf, size_t size);
int sb_rlimits_parse(const char *s, struct sb_rlimit r[SB_NRLIMITS]);
/* Lower the limits (a limit above the current hard one is clamped to it). */
int sb_rlimits_apply(const struct sb_rlimit r[SB_NRLIMITS], struct cell_err *e);

/*
 * The seccomp filter returns EPERM for: the ioctls TIOCSTI and TIOCLINUX
 * (always), and the default set below unless `allow` names them; plus every
 * syscall named in `deny`. "userns" in allow permits nested user namespaces.
 */
extern const char *const sb_seccomp_default[];
const char *sb_seccomp_check_allow(const char *list);
const char *sb_seccomp_check_deny(const char *list);
/* Needs no_new_privs (or CAP_SYS_ADMIN). */
int sb_seccomp_load(const char *allow, const char *deny, struct cell_err *e);

/*
 * The filter of (allow, deny) compiled once per profile rather than per
 * join (libseccomp takes ~0.5 ms): dirfd's "seccomp-HASH" holds a header
 * naming both lists, then the program. Root (pam_cell) writes it if
 * missing (best effort: 0 or -1, nothing else depends on it).
 * sb_seccomp_cached reads it into *f, checking that root owns it, nobody
 * else may write it, and it names exactly these lists: 1, or 0 when there
 * is no such file (the caller compiles: sb_seccomp_load), -1 if one is
 * there but bad. sb_seccomp_load_prog sets no_new_privs and loads it.
 */
struct sb_filter {
	size_t len; /* instructions */
	unsigned char *prog;
};
int sb_seccomp_cache(int dirfd, const char *allow, const char *deny, struct cell_err *e);
int sb_seccomp_cached(int dirfd, const char *allow, const char *deny, struct sb_filter *f,
		      struct cell_err *e);
int sb_seccomp_load_prog(const struct sb_filter *f, struct cell_err *e);

#endif
