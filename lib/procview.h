/* SPDX-License-Identifier: MIT */
#ifndef CELL_PROCVIEW_H
#define CELL_PROCVIEW_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"

/*
 * Proc views (proc_views = yes): /proc/meminfo, /proc/loadavg and /proc/stat
 * as the cell should see them, made on every read by cell-procfs from the
 * host's file and the reader's cgroup. This part only formats (no I/O but
 * the FILE it writes); cell-procfs reads the figures.
 */

#define PV_NONE (~0ULL) /* no limit */

/* A cgroup's memory, in bytes; limits are the smallest up to the root. */
struct pv_mem {
	unsigned long long limit, usage;
	unsigned long long swap_limit, swap_usage;
	/* memory.stat (v1: its total_* lines) */
	unsigned long long file, anon, shmem, mapped, dirty, writeback;
	unsigned long long active_anon, inactive_anon, active_file, inactive_file, unevictable;
	unsigned long long slab_reclaimable, slab_unreclaimable;
};

/* The number after "KEY" and sep at the start of a line of text (memory.stat,
 * cpu.stat: ' '; /proc/meminfo: ':'), 0 if there is none. */
unsigned long long pv_field(const char *text, const char *key, char sep);

/* The host's /proc/meminfo with the memory lines of m. */
int pv_meminfo(const char *host, const struct pv_mem *m, FILE *out);

/* A cgroup's cpu time and tasks, and the reader's clock. */
struct pv_cpu {
	unsigned long long user, system; /* clock ticks (USER_HZ) */
	unsigned long hz;		 /* USER_HZ */
	double age;			 /* seconds since the cell started */
	long long btime;		 /* the cell's boot time, seconds since the epoch */
	unsigned running, blocked;	 /* tasks in state R, D */
};

/* The host's /proc/stat with the cpu lines of c (the cell's time split
 * evenly over the host's CPUs, the rest idle), btime and procs_*. */
int pv_stat(const char *host, const struct pv_cpu *c, FILE *out);

/* The load averages of one cgroup: its cpu use (CPUs busy) smoothed over
 * 1, 5 and 15 minutes, brought up to date at each read. Between two reads
 * the cell used (usage - last_usage) seconds of cpu time; that rate goes
 * into the exponential averages with the weight its interval has, which is
 * what a sampler would have computed, without one running. */
struct pv_load {
	double at;     /* CLOCK_MONOTONIC seconds of the last update; 0: never */
	double usage;  /* cpu seconds then */
	double avg[3]; /* 1, 5, 15 min */
};
void pv_load_update(struct pv_load *l, double now, double usage, double age);
int pv_loadavg(const struct pv_load *l, unsigned running, unsigned threads, long lastpid,
	       FILE *out);

#endif
