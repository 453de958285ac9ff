// SPDX-License-Identifier: MIT
#include "util.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int str_copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t sigpipe, old, pending;
	bool was_pending;
	ssize_t n;
	int err;

	/* SIGPIPE goes to the thread that wrote: blocked here, a pending one
	 * of ours is taken back below; one pending before is left alone. */
	sigemptyset(&sigpipe);
	sigaddset(&sigpipe, SIGPIPE);
	if ((err = pthread_sigmask(SIG_BLOCK, &sigpipe, &old)) != 0) {
		errno = err; /* pthread_sigmask returns it, errno is untouched */
		return -1;
	}
	was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	err = errno;
	if (n < 0 && err == EPIPE && !was_pending)
		while (sigtimedwait(&sigpipe, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return n;
}

ssize_t read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int read_small_at(int dirfd, const char *name, char *buf, size_t size, struct cell_err *e)
{
	_cleanup_close_ int fd = -1;
	ssize_t n;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cell_err_sys(e, "opening %s", name);
	n = read_all(fd, buf, size - 1);
	if (n < 0)
		return cell_err_sys(e, "reading %s", name);
	buf[n] = '\0';
	return (int)n;
}

int check_root_owned(int fd, const char *what, struct cell_err *e)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return cell_err_sys(e, "fstat %s", what);
	if (st.st_uid != 0)
		return cell_err_set(e, EPERM,
				    "%s is owned by uid %u, not root: "
				    "fix with 'chown root: %s'",
				    what, (unsigned)st.st_uid, what);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return cell_err_set(e, EPERM,
				    "%s is writable by group or others (mode %04o): "
				    "fix with 'chmod go-w %s'",
				    what, (unsigned)(st.st_mode & 07777), what);
	return 0;
}

int open_trusted_path(const char *path, bool want_dir, struct cell_err *e)
{
	char buf[PATH_MAX], *save = NULL, *comp;
	char sofar[PATH_MAX] = "";
	_cleanup_close_ int cur = -1;
	struct stat st;

	if (path[0] != '/')
		return cell_err_set(e, EINVAL, "%s: not an absolute path", path);
	if (strlen(path) >= sizeof(buf))
		return cell_err_set(e, ENAMETOOLONG, "%s: path too long", path);
	strcpy(buf, path);

	cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return cell_err_sys(e, "opening /");
	if (check_root_owned(cur, "/", e) < 0)
		return -1;
	for (comp = strtok_r(buf, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		int next;

		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0)
			return cell_err_set(e, EINVAL, "%s: '.' or '..' in a trusted path", path);
		/* O_NOFOLLOW on every component: a symlink anywhere is refused. */
		next = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			return cell_err_sys(e, "opening %s", path);
		close(cur);
		cur = next;
		strncat(sofar, "/", sizeof(sofar) - strlen(sofar) - 1);
		strncat(sofar, comp, sizeof(sofar) - strlen(sofar) - 1);
		if (fstat(cur, &st) < 0)
			return cell_err_sys(e, "fstat %s", sofar);
		if (S_ISLNK(st.st_mode))
			return cell_err_set(e, ELOOP, "%s is a symlink: name the real path", sofar);
		if (check_root_owned(cur, sofar, e) < 0)
			return -1;
	}
	if (fstat(cur, &st) < 0)
		return cell_err_sys(e, "fstat %s", path);
	if (want_dir && !S_ISDIR(st.st_mode))
		return cell_err_set(e, ENOTDIR, "%s: not a directory", path);
	if (!want_dir && !S_ISREG(st.st_mode))
		return cell_err_set(e, EINVAL, "%s: not a regular file", path);
	return steal_fd(&cur);
}

char *read_root_file(int dirfd, const char *name, const char *path, size_t max, struct cell_err *e)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *text = NULL;
	struct stat st;
	ssize_t n;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		cell_err_sys(e, "%s: cannot open", path);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		cell_err_set(e, EINVAL, "%s: not a regular file", path);
		return NULL;
	}
	if (check_root_owned(fd, path, e) < 0)
		return NULL;
	if ((size_t)st.st_size > max) {
		cell_err_set(e, EFBIG, "%s: larger than %zu bytes", path, max);
		return NULL;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		cell_err_set(e, ENOMEM, "%s: out of memory", path);
		return NULL;
	}
	n = read_all(fd, text, (size_t)st.st_size);
	if (n < 0) {
		cell_err_sys(e, "%s: read", path);
		return NULL;
	}
	text[n] = '\0';
	return steal_ptr(&text);
}

int parse_ulong(const char *s, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		if (v > (ULONG_MAX - (unsigned long)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*out = v;
	return 0;
}

int parse_size(const char *s, unsigned long long *out)
{
	char num[32];
	size_t len = strlen(s);
	unsigned long long mult = 1;
	unsigned long v;

	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 'k':
	case 'K':
		mult = 1ULL << 10;
		break;
	case 'm':
	case 'M':
		mult = 1ULL << 20;
		break;
	case 'g':
	case 'G':
		mult = 1ULL << 30;
		break;
	default:
		break;
	}
	if (mult != 1)
		num[len - 1] = '\0';
	if (parse_ulong(num, &v) < 0 || v == 0)
		return -1;
	if ((unsigned long long)v > (1ULL << 50) / mult)
		return -1;
	*out = (unsigned long long)v * mult;
	return 0;
}

int count_threads(void)
{
	char buf[4096], *p;
	struct cell_err e;
	_cleanup_close_ int dfd = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	unsigned long n;

	if (dfd < 0 || read_small_at(dfd, "status", buf, sizeof(buf), &e) < 0)
		return -1;
	p = strstr(buf, "\nThreads:");
	if (!p)
		return -1;
	p += strlen("\nThreads:");
	while (*p == '\t' || *p == ' ')
		p++;
	*strchrnul(p, '\n') = '\0';
	if (parse_ulong(p, &n) < 0)
		return -1;
	return (int)n;
}

int child_std_fds(int in, int fd3)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* An ignored signal stays ignored across exec (pasta refuses to start
	 * with SIGPIPE ignored), and a blocked one stays blocked. */
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* dup2's targets are not close-on-exec; everything above is. */
	if (null < 0 || dup2(in >= 0 ? in : null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(null, 2) < 0 || (fd3 >= 0 && dup2(fd3, 3) < 0) ||
	    close_range(fd3 >= 0 ? 4 : 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return -1;
	return 0;
}

bool file_stamp(const struct stat *st, char buf[STAMP_MAX])
{
	time_t now = time(NULL);

	snprintf(buf, STAMP_MAX, "%lx:%lx:%lld:%lld.%09ld:%lld.%09ld", (unsigned long)st->st_dev,
		 (unsigned long)st->st_ino, (long long)st->st_size, (long long)st->st_mtim.tv_sec,
		 st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
	return st->st_mtime <= now - STAMP_RACY_S && st->st_ctime <= now - STAMP_RACY_S;
}

int replace_file_at(int dir, const char *name, const void *buf, size_t len, mode_t mode)
{
	char tmp[80];
	int fd, err;

	if (snprintf(tmp, sizeof(tmp), ".%s.%ld", name, (long)getpid()) >= (int)sizeof(tmp))
		return errno = ENAMETOOLONG, -1;
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	/* The mode whatever the umask. */
	if (fchmod(fd, mode) < 0 || write_all(fd, buf, len) < 0) {
		err = errno;
		close(fd);
		unlinkat(dir, tmp, 0);
		return errno = err, -1;
	}
	if (close(fd) < 0 || renameat(dir, tmp, dir, name) < 0) {
		err = errno;
		unlinkat(dir, tmp, 0);
		return errno = err, -1;
	}
	return 0;
}

/*
 * The stack below this frame is found with mincore(), not by a name in
 * /proc: it fails on the first page that is not mapped, and the kernel keeps
 * a gap of unmapped pages below a stack, so the walk stops at the stack's
 * own end and nothing else is ever discarded. Two pages stay below the frame
 * for madvise's own call. At most 1 MiB is looked at.
 */
void release_idle_memory(void)
{
	const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	volatile char here = 0;
	uintptr_t top = ((uintptr_t)&here & ~(page - 1)) - 2 * page, low = top;
	unsigned char resident;

	malloc_trim(0);
	for (int i = 0; i < 256 && low >= page; i++) {
		if (mincore((void *)(low - page), page, &resident) < 0)
			break;
		low -= page;
	}
	if (low < top)
		madvise((void *)low, top - low, MADV_DONTNEED);
}

pid_t clone_vfork(int (*fn)(void *), void *arg, size_t stack_size)
{
	const size_t guard = 4096;
	char *stack;
	pid_t pid;
	int err;

	stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -1;
	/* An overflow faults instead of writing what lies below. */
	if (mprotect(stack, guard, PROT_NONE) < 0) {
		err = errno;
		munmap(stack, stack_size);
		errno = err;
		return -1;
	}
	/* Returns once the child has exec'd or exited (CLONE_VFORK): its
	 * stack is ours to free then. */
	pid = clone(fn, stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
	err = errno;
	munmap(stack, stack_size);
	errno = err;
	return pid;
}
