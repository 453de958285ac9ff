/* SPDX-License-Identifier: MIT */
#ifndef CELL_INITARGS_H
#define CELL_INITARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "account.h"
#include "cgroup.h"
#include "err.h"

/*
 * What pam_cell tells cell-init, as argv "name=value" words (the monitor
 * takes no other input). The table in initargs.c is the only list of them:
 * encoding and decoding both come from it.
 */
struct init_args {
	const char *id;		       /* 32 hex digits */
	const char *user;	       /* the account's name (logs, systemd's unit) */
	unsigned long uid, gid;	       /* the user's, on the host; uid > 0 */
	unsigned long inside_uid;      /* the user's uid as the cell sees it */
	unsigned long inside_gid;      /* and primary gid */
	const char *group;	       /* the primary group's name, maybe "" */
	const char *shell;	       /* the profile's shell, for the cell's passwd */
	const char *binds;	       /* binds_resolve() lines, maybe "" */
	gid_t groups[CELL_MAX_GROUPS]; /* supplementary groups */
	size_t ngroups;
	const char *home; /* absolute */
	const char *hostname;
	unsigned long long tmpfs; /* bytes for /tmp, /var/tmp, /dev/shm */
	unsigned long pty_max;	  /* ptys of the cell's devpts */
	struct cell_limits limits;
	struct cell_limits user_limits; /* the user's parent cgroup; all 0: none */
	bool shared;
	unsigned long long linger; /* seconds, 0 or CELL_LINGER_FOREVER (conf.h) */
	const char *uid_map, *gid_map;
	const char *hide;	       /* '\n'-separated absolute paths, maybe none */
	const char *image;	       /* rootfs = image:NAME: NAME, or "" for host */
	unsigned long overlay;	       /* enum cell_overlay */
	unsigned long long upper_max;  /* volatile/none: the upper tmpfs' size */
	bool proc_views;	       /* the cell's /proc/meminfo etc. (procview.h) */
	unsigned long net;	       /* enum cell_net (net.h) */
	const char *bridge, *net_pool; /* bridge:NAME */
	bool net_isolate;
	const char *net_dns;	 /* the cell's nameservers, "" none */
	unsigned long net_stack; /* net = user: enum cell_net_stack, never AUTO */
	bool net_host_loopback;	 /* net = user: the gateway reaches the host's lo */
	bool timing;		 /* report the monitor's phases (timing.h) */
};

/* A malloc'd argv (argv[0] "cell-init", NULL-terminated); initargs_free. */
int initargs_encode(const struct init_args *a, char ***argv, struct cell_err *e);
void initargs_free(char **argv);

/* Every name exactly once, every value checked; the strings point into
 * argv. An error names the argument. */
int initargs_decode(int argc, char *const *argv, struct init_args *a, struct cell_err *e);

#endif
