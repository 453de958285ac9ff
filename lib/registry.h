/* SPDX-License-Identifier: MIT */
#ifndef CELL_REGISTRY_H
#define CELL_REGISTRY_H

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "conf.h"
#include "err.h"
#include "proc.h"

#ifndef CELL_RUN_DIR
#define CELL_RUN_DIR "/run/cell"
#endif
#define CELL_ID_LEN 32

#define CELL_RECORD_VERSION 5
#define CELL_DIGEST_LEN	    16 /* hex digits of cell_profile_digest */

/*
 * One live cell, as root recorded it in CELL_RUN_DIR/ID (root-owned, 0644,
 * in a 0711 directory: a user can read an entry whose id they know, but
 * cannot list the others). On disk: "version=1" then one "name=value" line
 * per field of the table in registry.c, which is the only list of them.
 */
struct cell_record {
	char id[CELL_ID_LEN + 1];
	pid_t pid;		      /* the cell's PID 1, in the host pid ns */
	unsigned long long starttime; /* guards against a recycled pid */
	uid_t uid;
	gid_t gid;
	char user[256];
	char service[64];
	char tty[256];
	char rhost[256];	    /* PAM_RHOST: the remote host, or empty */
	char section[300];	    /* the config section that confined it: "[user alice]" */
	char profile[64];	    /* its "profile = NAME", or empty */
	unsigned long ns[NS_COUNT]; /* namespace inode numbers */
	enum cell_identity identity;
	unsigned long inside_uid, inside_gid;
	char home[PATH_MAX];
	char shell[256];
	char path[512];
	char hostname[64];
	long long created; /* CLOCK_REALTIME seconds */
	bool shared;	   /* share = user: joined by every session */
	char rlimits[256]; /* sb_rlimits_format */
	char seccomp_allow[256];
	char seccomp_deny[512];
	char profile_digest[CELL_DIGEST_LEN + 1];	  /* of the resolved profile */
	char rootfs[80];				  /* "host" or "image:NAME" */
	char env_keep[256], env_deny[256], env_set[1024]; /* the profile's (env.h) */
	char net[32];					  /* the profile's net = ... */
	bool landlock; /* net = host: cellsh scopes abstract sockets (net.h) */
};

/* The record as text and back (pure: the unit tests and fuzzers use them).
 * format fails on a value with a newline or a buffer too small; parse on
 * any missing, unknown, repeated or out-of-range field. */
/* identity = root over an image: the shell is the cell's root with the
 * capabilities of the cell's user namespace (only there is the whole tree
 * the cell's own: over the host's, root could unmount the masks). */
bool cell_root_keeps_caps(const struct cell_record *r);

int registry_format(const struct cell_record *r, char *buf, size_t size, struct cell_err *e);
int registry_parse(const char *text, struct cell_record *r, struct cell_err *e);

bool cell_id_valid(const char *id);
int cell_id_new(char id[CELL_ID_LEN + 1], struct cell_err *e);

int registry_write(const struct cell_record *r, struct cell_err *e);
int registry_read(const char *id, struct cell_record *r, struct cell_err *e);
/* The record, and its link in the uid's index (registry_count_user). */
int registry_remove(const char *id, uid_t uid, struct cell_err *e);

/* Remove entries whose PID 1 is gone (a monitor that was SIGKILLed could
 * not remove its own) and join sockets nobody listens on. Root only; with
 * every_s > 0 only if the last sweep was at least every_s seconds ago (its
 * cost grows with the live cells: kept off the login's path and rare).
 * Returns how many records were removed. */
int registry_sweep(int every_s);

/* How many live cells the registry holds for uid, counting no further
 * than limit (their records alone, through the uid's index), or -1 when
 * the registry cannot be read. */
long registry_count_user(uid_t uid, unsigned long limit, struct cell_err *e);

/* Shared cells (share = user); see registry.c. Root only. */
int registry_lock_user(uid_t uid, int timeout_ms, struct cell_err *e); /* fd */
/* The same for CELL_RUN_DIR/NAME (a fixed name of ours), e.g. lock-procfs. */
int registry_lock(const char *name, int timeout_ms, struct cell_err *e);
/* CELL_RUN_DIR itself (made if missing, checked root's): an O_DIRECTORY fd. */
int registry_dir(struct cell_err *e);
/* That directory to list (dfd: registry_dir's), or NULL. */
DIR *registry_list(int dfd);
/* Remove CELL_RUN_DIR/ID.net, a bridge address claim (net.h). */
void registry_net_remove(const char *id);
int registry_shared_get(uid_t uid, char id[CELL_ID_LEN + 1]);
int registry_shared_set(uid_t uid, const char *id, struct cell_err *e);
void registry_shared_clear(uid_t uid, const char *id);
int registry_life_create(const char *id, int *reader, int *writer, struct cell_err *e);
int registry_life_join(const char *id, struct cell_err *e); /* write end fd */
void registry_life_remove(const char *id);

/* ID.linger (root's 0644): a shared cell with no session left, lingering
 * until the CLOCK_REALTIME second it holds, or -1: until cellctl stop.
 * Written and removed by the cell's monitor; get returns -1 when the cell
 * is not lingering. */
int registry_linger_set(const char *id, long long until, struct cell_err *e);
void registry_linger_clear(const char *id);
int registry_linger_get(const char *id, long long *until);

/* The join socket CELL_RUN_DIR/ID.join (registry.c): the monitor listens
 * (root, before it drops its capabilities), cellsh connects. */
int registry_join_listen(const char *id, uid_t uid, struct cell_err *e);
int registry_join_connect(const char *id, struct cell_err *e);
void registry_join_remove(const char *id);

#endif
