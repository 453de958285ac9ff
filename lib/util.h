/* SPDX-License-Identifier: MIT */
#ifndef CELL_UTIL_H
#define CELL_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "err.h"

/* One cleanup idiom everywhere: scope-bound release, steal to keep. */
#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}

#define _cleanup_free_	_cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

static inline int steal_fd(int *fd)
{
	int r = *fd;

	*fd = -1;
	return r;
}

static inline void *steal_ptr(void *pp)
{
	void **p = pp, *r = *p;

	*p = NULL;
	return r;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Copy a string whole, or not at all: -1 if it does not fit. Privileged
 * data is never silently shortened. */
int str_copy(char *dst, size_t size, const char *src);

/* write(2)/read(2) until done, retrying EINTR; -1 with errno on failure. */
int write_all(int fd, const void *buf, size_t len);
/* One write(2) that cannot raise SIGPIPE in the calling thread, whatever
 * the host program (a login program pam_cell runs in) did with it: -1
 * with errno EPIPE if the reader is gone. */
ssize_t write_nosigpipe(int fd, const void *buf, size_t len);
/* Root's file name below dir (root's directory) replaced whole: written
 * to a temporary of its own (O_EXCL), chmod'ed, then renamed over name.
 * -1 with errno (nothing left behind). */
int replace_file_at(int dir, const char *name, const void *buf, size_t len, mode_t mode);
ssize_t read_all(int fd, void *buf, size_t len);

/* Run fn(arg) in a child that shares our memory and runs until it execs
 * or exits, we stopped meanwhile (CLONE_VM | CLONE_VFORK), on a stack of
 * stack_size bytes of its own with a guard page below: no page table is
 * copied, as fork would. Returns the child's pid, or -1 with errno. The
 * child may write only what it owns or we no longer need, and ends with
 * an exec or _exit. */
pid_t clone_vfork(int (*fn)(void *), void *arg, size_t stack_size);

/* Read a small file below dirfd (O_NOFOLLOW) into buf, NUL-terminated. */
int read_small_at(int dirfd, const char *name, char *buf, size_t size, struct cell_err *e);

/*
 * Open a file or directory that root trusts: every component from / is
 * opened with O_NOFOLLOW, owned by root and not writable by group or
 * others. Returns an O_PATH|O_CLOEXEC fd of the last component.
 */
int open_trusted_path(const char *path, bool want_dir, struct cell_err *e);

/* Read a file root trusts whole: `name` below dirfd (or AT_FDCWD), opened
 * O_NOFOLLOW|O_NONBLOCK (a planted FIFO cannot hang us), a regular file,
 * root-owned and not group/other-writable on the open fd, at most max
 * bytes. Messages start with `path`. Returns malloc'd text, or NULL. */
char *read_root_file(int dirfd, const char *name, const char *path, size_t max, struct cell_err *e);

/* fstat check: root-owned and not group/other-writable. */
int check_root_owned(int fd, const char *what, struct cell_err *e);

/* A file's identity and change times as text (device, inode, size, mtime,
 * ctime): what a result drawn from it is kept under (subidcache.c,
 * etcextract.c). Returns false when the file changed within the last
 * STAMP_RACY_S seconds: a change in the same clock tick as the stat could
 * leave the stamp as it was, so nothing drawn from it then is kept (git's
 * "racy" rule). */
#define STAMP_MAX    96
#define STAMP_RACY_S 2
struct stat;
bool file_stamp(const struct stat *st, char buf[STAMP_MAX]);

/* Strict decimal parse of an unsigned long (no sign, no junk, no overflow). */
int parse_ulong(const char *s, unsigned long *out);

/* Parse a size like 64M, 1G, 4096 into bytes. */
int parse_size(const char *s, unsigned long long *out);

/* The number of threads of this process (from /proc/self/status), or -1. */
int count_threads(void);

/* In a forked child before it execs a helper: default signal dispositions
 * and an empty mask; in (or /dev/null if -1) as stdin, /dev/null as stdout
 * and stderr, fd3 (if >= 0) as fd 3; every other fd close-on-exec. */
int child_std_fds(int in, int fd3);

/* A process that now only waits (the monitor, PID 1) gives back the memory
 * building the cell took: what malloc holds free and the stack pages below
 * the caller's frame (zero-filled again if ever touched). Single-threaded
 * callers only. */
void release_idle_memory(void);

#endif
