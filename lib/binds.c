// SPDX-License-Identifier: MIT
#include "binds.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* %u and %h; nothing that could split a field or climb out of a path. */
static int expand(const char *in, const char *user, const char *home, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = in; *p; p++) {
		const char *v = NULL;

		if (p[0] == '%' && (p[1] == 'u' || p[1] == 'h'))
			v = p[1] == 'u' ? user : home;
		if (v) {
			size_t l = strlen(v);

			if (o + l >= size)
				return -1;
			memcpy(out + o, v, l);
			o += l;
			p++;
		} else {
			if (o + 1 >= size)
				return -1;
			out[o++] = *p;
		}
	}
	out[o] = '\0';
	if (strpbrk(out, "\t\n:") || strstr(out, "/../") || strstr(out, "//"))
		return -1;
	return 0;
}

int binds_resolve(const char *lines, const char *user, const char *home, uid_t uid, char *out,
		  size_t size, struct cell_err *e)
{
	size_t off = 0;

	out[0] = '\0';
	for (const char *p = lines ? lines : ""; *p;) {
		size_t len = strcspn(p, "\n");
		char line[1400], *tab, *src, *dst, *mode, s[PATH_MAX], d[PATH_MAX];
		struct open_how how = { .flags = O_PATH | O_CLOEXEC,
					.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
		_cleanup_close_ int fd = -1;
		struct stat st;
		int n;

		if (len >= sizeof(line))
			return cell_err_set(e, E2BIG, "a bind line is too long");
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (p[len] == '\n');
		tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = '\0'; /* line: SRC:DST:MODE, tab + 1: file:line */
		src = line;
		dst = strchr(src, ':');
		mode = dst ? strchr(dst + 1, ':') : NULL;
		if (!mode)
			return cell_err_set(e, EINVAL, "%s: bind: malformed", tab + 1);
		*dst++ = '\0';
		*mode++ = '\0';
		if (expand(src, user, home, s, sizeof(s)) < 0 ||
		    expand(dst, user, home, d, sizeof(d)) < 0)
			return cell_err_set(e, EINVAL,
					    "%s: bind %s:%s: the user name or home makes it an "
					    "unusable path",
					    tab + 1, src, dst);
		fd = (int)syscall(SYS_openat2, AT_FDCWD, s, &how, sizeof(how));
		if (fd < 0)
			return cell_err_sys(e,
					    "%s: bind: opening %s (a missing path, or a symlink "
					    "in it: name the real path)",
					    tab + 1, s);
		if (fstat(fd, &st) < 0)
			return cell_err_sys(e, "%s: bind: fstat %s", tab + 1, s);
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
			return cell_err_set(e, EINVAL,
					    "%s: bind: %s is neither a directory nor a file",
					    tab + 1, s);
		/* Root's, or the user's own: never another user's files. */
		if (st.st_uid != 0 && st.st_uid != uid)
			return cell_err_set(e, EPERM,
					    "%s: bind: %s is owned by uid %u, neither root nor "
					    "%s: chown it, or bind another path",
					    tab + 1, s, (unsigned)st.st_uid, user);
		n = snprintf(out + off, size - off, "%s\t%s\t%s\t%llu\t%llu\n", s, d, mode,
			     (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
		if (n < 0 || (size_t)n >= size - off)
			return cell_err_set(e, E2BIG, "%s: bind: too many binds", tab + 1);
		off += (size_t)n;
	}
	return 0;
}
