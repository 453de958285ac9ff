/* SPDX-License-Identifier: MIT */
#ifndef CELL_PROC_H
#define CELL_PROC_H

#include <sys/types.h>

#include "err.h"

/* NS_NET is the cell's own unless net = host: then 0 in a record (shared). */
enum { NS_USER, NS_MNT, NS_PID, NS_UTS, NS_IPC, NS_CGROUP, NS_TIME, NS_NET, NS_COUNT };

extern const char *const ns_names[NS_COUNT]; /* "user", "mnt", ... */
extern const int ns_clone_flags[NS_COUNT];   /* CLONE_NEWUSER, ... */

/* An O_PATH fd on /proc, checked to be the root of a procfs mount. */
int proc_open_root(struct cell_err *e);

/* O_PATH directory fd of /proc/PID below a verified proc root. */
int proc_open_pid(int procfd, pid_t pid, struct cell_err *e);

/* ppid, start time (clock ticks since boot) and uid of a process. */
int proc_stat(int piddir, pid_t *ppid, unsigned long long *starttime, struct cell_err *e);
int proc_uid(int piddir, uid_t *uid, struct cell_err *e);
/* 0 if the real, effective, saved and filesystem uids are all uid. */
int proc_all_uids(int piddir, uid_t uid, struct cell_err *e);

/* Inode numbers of the process's namespaces. */
int proc_ns_inodes(int piddir, unsigned long ino[NS_COUNT], struct cell_err *e);

/*
 * The one answer to "is pid still the process recorded with starttime?":
 * a pidfd opened before the start time is read, and alive after it. Returns
 * that pidfd (the process stays pinned while it is open) and, if piddir is
 * not NULL, its /proc directory; -1 with e->code ESRCH if it is gone or
 * another process now.
 */
int proc_pin(int procfd, pid_t pid, unsigned long long starttime, int *piddir, struct cell_err *e);

/* Is the process behind pidfd still alive (so a pid read before is its)? */
int pidfd_alive(int pidfd);

#endif
