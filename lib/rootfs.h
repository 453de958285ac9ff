/* SPDX-License-Identifier: MIT */
#ifndef CELL_ROOTFS_H
#define CELL_ROOTFS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
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

#define ROOTFS_SYS_DIRS	  7  /* /usr /bin /sbin /lib /lib32 /lib64 /libx32 */
#define ROOTFS_EXTRA_DIRS 4  /* /opt /var/lib/dpkg /var/lib/apt /var/cache/man */
#define ROOTFS_DEV_NODES  6  /* null zero full random urandom tty */
#define ROOTFS_BINDS_MAX  32 /* bind lines per profile (conf.c refuses more) */
#define ROOTFS_LINK_MAX	  64 /* a system directory's symlink target, with its NUL */

/*
 * What a cell shows of the host's trees, as detached clones root made in
 * the host's mount namespace: private (nothing propagates either way),
 * their attributes set. PID 1 starts in the template namespace
 * (template.h) and reaches nothing of the host's by path; it attaches
 * these. -1 where there is none.
 *
 * The monitor makes the system part before it forks the user side
 * (rootfs_clone_host), which PID 1 inherits with the memory; the user side
 * looks up the user's own paths as the user (rootfs_user_lookups) and the
 * monitor clones what it found (rootfs_clone_user), sent with 'G'.
 */
struct rootfs_trees {
	int hostroot;		  /* O_PATH of the host's /: for the user's lookups, and read
		       * only (the accounts where pam_cell kept none) */
	int sys[ROOTFS_SYS_DIRS]; /* read-only, nosuid, nodev, recursive */
	/* or a symlink (merged /usr: usr/bin); short, as the struct lives in
	 * the monitor and PID 1 for the cell's life */
	char sys_link[ROOTFS_SYS_DIRS][ROOTFS_LINK_MAX];
	int extra[ROOTFS_EXTRA_DIRS]; /* read-only, nosuid, nodev */
	int dev[ROOTFS_DEV_NODES];    /* nosuid, noexec */
	int etc;		      /* read-only, nosuid, nodev, without its submounts */
	int etc_all;		      /* with them: where PID 1 finds and binds them */
	int home;		      /* nosuid, nodev, recursive */
	int binds[ROOTFS_BINDS_MAX];  /* nosuid, nodev, read-only unless rw */
	size_t nbinds;
};

/* Every fd slot of struct rootfs_trees. */
#define ROOTFS_TREES_FDS \
	(4 + ROOTFS_SYS_DIRS + ROOTFS_EXTRA_DIRS + ROOTFS_DEV_NODES + ROOTFS_BINDS_MAX)

/* A new filesystem instance as a detached mount (fsopen, fsconfig, fsmount;
 * no path involved): opts are key, value pairs (a NULL value sets a flag),
 * NULL-terminated. */
int rootfs_fs_new(const char *type, const char *const *opts, unsigned attrs, struct cell_err *e);

/* Every slot -1, no links. */
void rootfs_trees_init(struct rootfs_trees *t);
/* Pointers to the open fds of t, in a fixed order: how many. */
size_t rootfs_trees_fds(struct rootfs_trees *t, int **out, size_t max);
void rootfs_trees_close(struct rootfs_trees *t);

/* Root, in the host's mount namespace: the host's /, /dev's nodes and,
 * for rootfs = host, the system directories, the extra directories (those
 * not the user's, writable by no one else) and /etc. */
int rootfs_clone_host(struct rootfs_trees *t, bool host_rootfs, uid_t uid, struct cell_err *e);

/* The user side, as the user (host ids), from t->hostroot: the home
 * (owned by uid, a directory) and each bind's source (still the inode
 * pam_cell checked), opened O_PATH into fds[0] and fds[1..]; *n of them.
 * An error names the path and the fix. */
int rootfs_user_lookups(const struct rootfs_trees *t, const char *home, uid_t uid,
			const char *binds, int *fds, size_t *n, struct cell_err *e);

/* Root: clones of the user side's lookups, reached through
 * /proc/PID/fd/N (PID the monitor's unreaped child, its fd numbers in
 * text) and checked again: the home and binds into t. */
int rootfs_clone_user(struct rootfs_trees *t, int procfd, pid_t pid, const char *text, uid_t uid,
		      const char *home, const char *binds, struct cell_err *e);

/* Whether a home path is one a cell can bind: clean, absolute, not in
 * what the cell builds itself. */
int rootfs_home_valid(const char *home, struct cell_err *e);

/*
 * The 'host' profile, built allow-list style by PID 1 (CAP_SYS_ADMIN in the
 * cell's user namespace only) on top of its root (the template's) from the
 * trees t: a fresh tmpfs root, entered with chroot; its own /proc;
 * read-only nosuid nodev binds of the host's /usr /bin /sbin /lib*
 * (symlinks recreated); /etc a read-only overlayfs over t->etc (root's
 * non-recursive clone of the host's /etc) with the cell's own passwd and
 * group, and absent what the host keeps about other users (shadow, gshadow,
 * passwd- and group-, subuid, subgid) and /etc/security (cell.conf, the PAM
 * policy), the host's mounts below /etc (found in t->etc_all) bound on top;
 * the user's home read-write nosuid nodev; fresh /tmp /var/tmp /run
 * /dev/shm; /dev with null zero full random urandom tty and a new devpts of
 * at most pty_max ptys; the binds; every file of s->hide below /etc absent,
 * elsewhere unreadable; then the root made read-only. The caller copies the
 * tree into the cell's user namespace afterwards (monitor.c: lock_mounts).
 */
int rootfs_build_host(const struct rootfs_spec *s, const struct rootfs_trees *t,
		      struct cell_err *e);

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
		       const struct rootfs_trees *t, struct cell_err *e);

#endif
