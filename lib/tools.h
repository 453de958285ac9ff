/* SPDX-License-Identifier: MIT */
#ifndef CELL_TOOLS_H
#define CELL_TOOLS_H

/* The host's programs that root's side of cell runs: ip(8) for bridges,
 * pasta(1) (passt's binary, in pasta mode by its argv[0]) and slirp4netns(1)
 * for net = user. */
enum cell_tool { TOOL_IP, TOOL_PASTA, TOOL_SLIRP };

/*
 * An O_PATH fd of the tool at the first of Debian's paths that
 * open_trusted_path accepts (every directory root's, nothing group- or
 * world-writable) and that is an executable regular file, or -1. Run it
 * by this fd (execveat), so what was checked is what runs.
 */
int tool_open(enum cell_tool t);

#endif
