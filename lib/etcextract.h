/* SPDX-License-Identifier: MIT */
#ifndef CELL_ETCEXTRACT_H
#define CELL_ETCEXTRACT_H

#include <stdbool.h>
#include <stdio.h>

/* The numeric id (third field) of a passwd or group line, or -1. */
long etc_line_id(const char *line);
/* Is line (with its newline) a system account's or group's (ids below
 * 1000, and 65534)? A group's member list is cleared in place. */
bool etc_system_line(char *line, bool groups);

/* Root (pam_cell): keep the host's system lines anew where /etc/passwd or
 * /etc/group changed (etcextract.c). Errors leave the cells to read the
 * host files. */
void etc_extract_refresh(void);
/* The monitor (root): the kept lines, if they are root's and of the host
 * file as it is now (an fd PID 1 inherits), else -1. */
int etc_extract_open(bool groups);
/* PID 1: that fd as a stream past its header (of a dup: the fd stays
 * the caller's), or NULL. */
FILE *etc_extract_lines(int fd);

#endif
