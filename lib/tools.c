// SPDX-License-Identifier: MIT
/* The host's programs root's side runs. See tools.h. */
#include "tools.h"

#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static const char *const paths[][4] = {
	[TOOL_IP] = { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" },
	[TOOL_PASTA] = { "/usr/bin/passt", "/usr/sbin/passt" },
	[TOOL_SLIRP] = { "/usr/bin/slirp4netns", "/usr/sbin/slirp4netns" },
};

int tool_open(enum cell_tool t)
{
	for (size_t i = 0; i < ARRAY_SIZE(paths[t]) && paths[t][i]; i++) {
		struct cell_err ignored;
		int fd = open_trusted_path(paths[t][i], false, &ignored);
		struct stat st;

		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return fd;
		if (fd >= 0)
			close(fd);
	}
	return -1;
}
