/* SPDX-License-Identifier: MIT */
#ifndef CELL_CONF_H
#define CELL_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "sandbox.h"

#ifndef CELL_CONF_PATH
#define CELL_CONF_PATH "/etc/security/cell.conf"
#endif
#ifndef CELLSH_PATH
#define CELLSH_PATH "/usr/local/bin/cellsh"
#endif
#ifndef CELL_INIT_PATH
#define CELL_INIT_PATH "/usr/local/libexec/cell/cell-init"
#endif

#define CONF_MAX_ERRORS 32
#define CONF_MAX_DEPTH	8

enum cell_identity { IDENTITY_KEEP_ID, IDENTITY_ROOT, IDENTITY_SELF };

/* net = ...: the cell's network (net.h). */
enum cell_net { NET_HOST, NET_NONE, NET_USER, NET_BRIDGE };
/* net = user: the user-mode stack (net_stack = ...). */
enum cell_net_stack { NET_STACK_AUTO, NET_STACK_PASTA, NET_STACK_SLIRP };

/* rootfs = image:NAME: what the cell writes on top of the image. */
enum cell_overlay { OVERLAY_PERSISTENT, OVERLAY_VOLATILE, OVERLAY_NONE };

/* Where images and the users' upper layers live (root's, 0700). */
#ifndef CELL_STATE_DIR
#define CELL_STATE_DIR "/var/lib/cell"
#endif
#define IMAGE_NAME_MAX 64

/* An image name: [A-Za-z0-9][A-Za-z0-9._-]*, at most IMAGE_NAME_MAX - 1. */
bool conf_image_name_ok(const char *name);

#define MEMORY_MAX_MIN (16ULL << 20)

struct cell_memory_max {
	unsigned long long bytes; /* 0: none, or see pct */
	unsigned pct;		  /* a share of RAM, 1..100 */
};

/* What a cell looks like: built-in defaults, then [defaults], then a match.
 * Each key is one row of profile_keys[] in conf.c. */
#define CELL_LINGER_FOREVER (~0UL)

struct cell_profile {
	unsigned long long set; /* bit i: key i of the table set here */
	enum cell_identity identity;
	char shell[256];	       /* executed inside the cell */
	char hostname[64];	       /* may hold %u, expanded per user */
	char path[512];		       /* PATH inside the cell */
	unsigned long subid_count;     /* subordinate ids mapped (not 'self') */
	unsigned long long tmpfs_size; /* /tmp, /var/tmp, /dev/shm each */
	char services[512];	       /* PAM service glob patterns */
	char rootfs[80];	       /* "host" or "image:NAME" */
	enum cell_overlay overlay;     /* image only */
	unsigned long long upper_max;  /* image, volatile/none: the upper tmpfs' size */
	bool share_user;	       /* share = user: one cell for all sessions */
	unsigned long linger;	       /* share = user: seconds the cell outlives its last
			       * session; 0 no; CELL_LINGER_FOREVER yes */
	unsigned long pids_max;	       /* cgroup pids.max, 0: none */
	unsigned long max_cells;       /* live cells per user, 0: no cap */
	/* The parent cgroup of all the user's cells: 0 (none) where unset. */
	unsigned long user_pids_max;
	struct cell_memory_max user_memory_max;
	unsigned long user_cpu_weight;
	struct cell_memory_max memory_max;
	unsigned long cpu_weight;      /* 1..10000, 100 = an equal share */
	unsigned long pty_max;	       /* ptys of the cell's devpts */
	bool proc_views;	       /* /proc/meminfo, loadavg, stat, uptime describe the cell */
	char net[32];		       /* "host", "none", "user" or "bridge:NAME" */
	char net_pool[32];	       /* bridge: the cells' addresses, a.b.c.d/N */
	bool net_isolate;	       /* bridge: cells on it cannot reach one another */
	char net_dns[128];	       /* the cell's nameservers, space-separated; "" the host's */
	enum cell_net_stack net_stack; /* user: pasta, slirp4netns, or the first installed */
	bool net_host_loopback;	       /* user: the gateway address reaches the host's lo */
	bool landlock;		       /* scope abstract unix sockets to the session */
	struct sb_rlimit rlimits[SB_NRLIMITS];
	char seccomp_allow[256]; /* names from sb_seccomp_default */
	char seccomp_deny[512];	 /* extra syscalls denied */
	/* "bind = SRC:DST[:ro|rw]", repeatable: one "SRC:DST:MODE\tfile:line"
	 * line each, %u and %h not yet expanded. */
	char binds[2048];
	/* The login's environment in the cell (env.h): name globs, and
	 * NAME=VALUE entries, space-separated. */
	char env_keep[256];
	char env_deny[256];
	char env_set[1024];
};

/* memory_max in bytes for this machine (memory_pct resolved), 0 for none. */
unsigned long long conf_memory_max(const struct cell_profile *p);
/* The same for user_memory_max. */
unsigned long long conf_user_memory_max(const struct cell_profile *p);

enum section_kind { SECTION_DEFAULTS, SECTION_USER, SECTION_GROUP, SECTION_PROFILE };

struct cell_section {
	enum section_kind kind;
	char pattern[64];
	char where[320]; /* "file:line" of the header */
	struct cell_profile profile;
	char use[64];	     /* [user]/[group]: "profile = NAME", or empty */
	char use_where[320]; /* "file:line" of that key */
};

struct cell_conf {
	char cellsh[256];	 /* the only login shell a confined user may have */
	char cell_init[256];	 /* helper pam_cell execs, root-owned path */
	unsigned long subid_min; /* lowest subordinate id accepted */
	char **exempt;		 /* user names and @groups */
	size_t nexempt;
	struct cell_section *sections; /* [user], [group], [profile], in file order */
	size_t nsections;
	struct cell_section defaults;
	bool have_defaults;
	char *files; /* every file read, '\n'-separated: cells hide them */
	size_t files_len;
	char errors[CONF_MAX_ERRORS][700];
	size_t nerrors; /* total; only the first CONF_MAX_ERRORS kept */
	int depth;
};

enum cell_decision { CELL_IGNORE, CELL_EXEMPT, CELL_CONFINE };

struct cell_match {
	enum cell_decision decision;
	struct cell_profile profile; /* resolved; hostname expanded */
	char profile_name[64];	     /* the [profile NAME] used, or empty */
	char why[1200];		     /* which section or rule decided */
};

void conf_init(struct cell_conf *c);
void conf_free(struct cell_conf *c);

/* Parse a file (must be root-owned, not group/other-writable). Returns the
 * number of errors; each is in c->errors as "file:line: message". */
size_t conf_load(struct cell_conf *c, const char *path);

/* Parse text as if it were the file `name` (unit tests, includes aside). */
size_t conf_parse_string(struct cell_conf *c, const char *name, const char *text);

/* Is user (a member of groups) exempt? Usable even when the config has errors. */
bool conf_is_exempt(const struct cell_conf *c, const char *user, const char *const *groups,
		    size_t ngroups);

/* Decide for user, with groups, logging in through PAM service (NULL: any
 * service, the profile's services key aside). */
void conf_decide(const struct cell_conf *c, const char *user, const char *const *groups,
		 size_t ngroups, const char *service, struct cell_match *out);

const char *identity_name(enum cell_identity id);
const char *overlay_name(enum cell_overlay o);
const char *net_stack_name(enum cell_net_stack s);

/* The profile's network mode, and for bridge:NAME the bridge (a buffer of
 * at least IFNAMSIZ). */
enum cell_net conf_net(const struct cell_profile *p, char *bridge);

/* The image of rootfs = image:NAME, or NULL for rootfs = host. */
const char *conf_image(const struct cell_profile *p);

/* The name of profile key i (the table's order), NULL past the last. */
const char *conf_profile_key(size_t i);

/* A short digest of the resolved profile (16 hex digits): a shared cell is
 * joined only by logins whose profile has the same digest. */
void conf_profile_digest(const struct cell_profile *p, char out[17]);

#endif
