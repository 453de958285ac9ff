// SPDX-License-Identifier: MIT
/*
 * The host's system accounts and groups, which every cell's /etc/passwd
 * and /etc/group start with, kept in CELL_RUN_DIR/etc/{passwd,group} (root's,
 * 0644: the lines are the public ones of the world-readable files) under the
 * stat(2) stamp of the host's file. PID 1 reads the kept lines when the
 * stamp is still the host file's, the whole host file otherwise: a cell's
 * start then reads the 50 system lines, not one line per account on the
 * host (2.7 ms at 20,000 accounts). Kept only when the host file is over
 * STAMP_RACY_S old (util.h), as the subordinate-id verdicts (subidcache.c).
 */
#include "etcextract.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "registry.h"
#include "util.h"

#define EXTRACT_DIR   "etc"
#define HEADER	      "#cell system lines of "
#define SYSTEM_ID_END 1000 /* login.defs' UID_MIN/GID_MIN default */

long etc_line_id(const char *line)
{
	const char *p = strchr(line, ':');

	p = p ? strchr(p + 1, ':') : NULL;
	if (!p || p[1] < '0' || p[1] > '9')
		return -1;
	return strtol(p + 1, NULL, 10);
}

bool etc_system_line(char *line, bool groups)
{
	long id = etc_line_id(line);
	char *last;

	if (!(id >= 0 && (id < SYSTEM_ID_END || id == 65534)) || !strchr(line, '\n'))
		return false;
	/* A group's members name people: cleared. */
	if (groups && (last = strrchr(line, ':')))
		strcpy(last + 1, "\n");
	return true;
}

/* The kept file's first line names this stamp. */
static bool header_is(FILE *f, const char *name, const char *stamp)
{
	char line[256], want[256];

	snprintf(want, sizeof(want), HEADER "/etc/%s %s\n", name, stamp);
	return fgets(line, sizeof(line), f) && strcmp(line, want) == 0;
}

int etc_extract_open(bool groups)
{
	const char *name = groups ? "group" : "passwd";
	struct open_how how = { .flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
				.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	char path[64], stamp[STAMP_MAX], head[256], want[256];
	struct cell_err ignored;
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/etc/%s", name);
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	file_stamp(&st, stamp);
	snprintf(want, sizeof(want), HEADER "/etc/%s %s\n", name, stamp);
	snprintf(path, sizeof(path), "%s/%s/%s", CELL_RUN_DIR, EXTRACT_DIR, name);
	fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd < 0)
		return -1;
	n = pread(fd, head, sizeof(head) - 1, 0);
	head[n > 0 ? n : 0] = '\0';
	if (check_root_owned(fd, path, &ignored) < 0 || strncmp(head, want, strlen(want)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

FILE *etc_extract_lines(int fd)
{
	char line[256];
	int own = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	FILE *f;

	if (own < 0)
		return NULL;
	if (lseek(own, 0, SEEK_SET) < 0 || !(f = fdopen(own, "re"))) {
		close(own);
		return NULL;
	}
	if (!fgets(line, sizeof(line), f) || strncmp(line, HEADER, strlen(HEADER)) != 0) {
		fclose(f);
		return NULL;
	}
	return f;
}

/* One file: kept anew when its stamp changed and it is old enough. */
static void refresh(int dir, bool groups)
{
	const char *name = groups ? "group" : "passwd";
	_cleanup_free_ char *line = NULL, *text = NULL;
	char path[32], stamp[STAMP_MAX], now[STAMP_MAX] = "";
	size_t cap = 0, len = 0;
	struct stat st;
	FILE *in, *out, *kept;
	int fd;

	snprintf(path, sizeof(path), "/etc/%s", name);
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || !file_stamp(&st, stamp))
		return;
	fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 && (kept = fdopen(fd, "re"))) {
		bool same = header_is(kept, name, stamp);

		fclose(kept);
		if (same)
			return;
	} else if (fd >= 0) {
		close(fd);
	}
	/* Root's own file, read as root: its system lines, in memory. */
	if (!(in = fopen(path, "re")))
		return;
	if (!(out = open_memstream(&text, &len))) {
		fclose(in);
		return;
	}
	fprintf(out, HEADER "%s %s\n", path, stamp);
	while (getline(&line, &cap, in) > 0)
		if (etc_system_line(line, groups))
			fputs(line, out);
	fclose(in);
	if (fclose(out) != 0)
		return;
	/* Kept only if the file did not change while it was read. */
	if (stat(path, &st) == 0)
		file_stamp(&st, now);
	if (strcmp(now, stamp) == 0)
		replace_file_at(dir, name, text, len, 0644);
}

void etc_extract_refresh(void)
{
	_cleanup_close_ int run = -1, dir = -1;
	struct cell_err ignored;

	run = registry_dir(&ignored);
	if (run < 0 || (mkdirat(run, EXTRACT_DIR, 0755) < 0 && errno != EEXIST))
		return;
	dir = openat(run, EXTRACT_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	/* 0755 whatever the umask: PID 1, as the user, reads it. */
	if (dir < 0 || check_root_owned(dir, CELL_RUN_DIR "/" EXTRACT_DIR, &ignored) < 0 ||
	    fchmod(dir, 0755) < 0)
		return;
	refresh(dir, false);
	refresh(dir, true);
}
