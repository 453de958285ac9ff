/* SPDX-License-Identifier: MIT */
#ifndef CELL_TIMING_H
#define CELL_TIMING_H

#include <stdbool.h>

/*
 * Where a cell's start spends its time (make bench prints it): each process
 * on the path (pam_cell, the monitor, cellsh) takes marks when asked to
 * (pam_cell's module argument "timing", the monitor's init argument,
 * cellsh's CELL_TIMING=1) and reports them as one line of text:
 *   "@START phase=MS phase=MS ..."
 * START is CLOCK_MONOTONIC in ns when timing began (comparable across the
 * processes of one host), each MS the time since the previous mark. Off,
 * every call is a no-op. One per process: each of them is single-threaded.
 */
struct cell_timing {
	bool on;
	long long last_ns;
	char text[640];
	char other[2][640]; /* other processes' reports (the monitor's, PID 1's) */
	unsigned others;
};

extern struct cell_timing cell_timing;

/* Begin (start_ns: when, 0 now). */
void timing_start(bool on, long long start_ns);
void timing_mark(const char *phase);
/* Keep another process's report (text), as it is, in the next .other. */
void timing_add(const char *text);
long long timing_now_ns(void);

#endif
