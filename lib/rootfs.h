/* SPDX-License-Identifier: MIT */
#ifndef CELL_ROOTFS_H
#define CELL_ROOTFS_H

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

struct rootfs_spec {
	const char *home; /* absolute, from passwd */
	uid_t uid;	  /* home must be owned by this uid */
	/* The user's own passwd and group lines in the cell's /etc/passwd and
	 * /etc/group, which hold the host's system accounts and no one else. */
	const char *user, *group, *shell;
	gid_t gid;
	const char *binds;	       /* binds_resolve() lines: SRC DST MODE DEV INO */
	unsigned long long tmpfs_size; /* /tmp, /var/tmp, /dev/shm */
	unsigned long pty_max;	       /* the devpts instance's 'max' */
	const char *hide;	       /* '\n'-separated host files to mask (cell.conf and its
			   * includes), NULL or "" for none */
	int proc_views;		       /* cell-procfs's mount (detached), or -1: see build_proc */
	/* A network namespace of its own (net != host): the cell's own
	 * /etc/hosts, and /etc/resolv.conf naming these nameservers. */
	bool own_net;
	const char *dns;
	const char *hostname;
	/* The host's system accounts and groups as pam_cell kept them, checked
	 * by the monitor (etcextract.h): fds above 2, else the host's files. */
	int sys_accounts[2];
};

/*
 * The 'host' profile, built allow-list style in the caller's new mount
 * namespace (the caller holds CAP_SYS_ADMIN in the cell's user namespace
 * only): a fresh tmpfs root; read-only nosuid nodev binds of the host's
 * /usr /bin /sbin /lib* (symlinks recreated); /etc a read-only overlayfs
 * over host_etc (the monitor's non-recursive clone of the host's /etc: a
 * less privileged mount namespace may not clone one, its submounts are
 * locked) with the cell's own passwd and group, and absent what the host
 * keeps about other users (shadow, gshadow, passwd- and group-, subuid,
 * subgid) and /etc/security (cell.conf, the PAM policy), the host's mounts
 * below /etc bound on top; the user's home read-write nosuid nodev; fresh
 * /tmp /var/tmp /run /dev/shm; /dev with null zero full random urandom tty
 * and a new devpts of at most pty_max ptys; a fresh /proc; every file of
 * s->hide below /etc absent, elsewhere unreadable; then pivot_root, the
 * old root detached, the root made read-only.
 */
int rootfs_build_host(const struct rootfs_spec *s, int host_etc, struct cell_err *e);

/* rootfs = image:NAME: what the monitor prepared (image.h). */
struct rootfs_image {
	const char *name;
	int lower;		      /* the image, idmapped, read-only, detached */
	int layers;		      /* persistent: users/USER/NAME, detached; else -1 */
	int overlay;		      /* enum cell_overlay */
	unsigned long long upper_max; /* volatile/none: the tmpfs upper's size */
	bool own_accounts;	      /* identity = root: the image's /etc/passwd as is */
};

/*
 * The same cell around an image instead of the host's system: overlayfs
 * (userxattr, in the cell's user namespace) of the image's idmapped tree
 * under the user's persistent upper, or under a tmpfs of upper_max
 * (volatile; none: the root made read-only once built). /var is the
 * image's; the rest as for the host (home, /tmp, /var/tmp, /run, /dev,
 * binds, /proc; the accounts unless own_accounts).
 */
int rootfs_build_image(const struct rootfs_spec *s, const struct rootfs_image *img,
		       struct cell_err *e);

#endif
