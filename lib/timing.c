// SPDX-License-Identifier: MIT
/* Phase marks of a cell's start. See timing.h. */
#include "timing.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

struct cell_timing cell_timing;

long long timing_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

void timing_start(bool on, long long start_ns)
{
	memset(&cell_timing, 0, sizeof(cell_timing));
	cell_timing.on = on;
	if (!on)
		return;
	cell_timing.last_ns = start_ns ? start_ns : timing_now_ns();
	snprintf(cell_timing.text, sizeof(cell_timing.text), "@%lld", cell_timing.last_ns);
}

void timing_mark(const char *phase)
{
	long long now;
	size_t len;

	if (!cell_timing.on)
		return;
	now = timing_now_ns();
	len = strlen(cell_timing.text);
	snprintf(cell_timing.text + len, sizeof(cell_timing.text) - len, " %s=%.3f", phase,
		 (double)(now - cell_timing.last_ns) / 1e6);
	cell_timing.last_ns = now;
}

void timing_add(const char *text)
{
	if (cell_timing.on && cell_timing.others < 2)
		snprintf(cell_timing.other[cell_timing.others++], sizeof(cell_timing.other[0]),
			 "%s", text);
}
