// SPDX-License-Identifier: MIT
#include "procview.h"

#include <math.h>
#include <string.h>

#include "util.h"

static unsigned long long min_ull(unsigned long long a, unsigned long long b)
{
	return a < b ? a : b;
}

unsigned long long pv_field(const char *text, const char *key, char sep)
{
	size_t n = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, n) == 0 && p[n] == sep)
			return strtoull(p + n + 1, NULL, 10);
	return 0;
}

/* The value of "Name:   123 kB" in /proc/meminfo text, 0 if absent. */
static unsigned long long host_kb(const char *host, const char *name)
{
	return pv_field(host, name, ':');
}

int pv_meminfo(const char *host, const struct pv_mem *m, FILE *out)
{
	unsigned long long host_total = host_kb(host, "MemTotal");
	unsigned long long total = min_ull(host_total, m->limit / 1024);
	unsigned long long used = min_ull(m->usage / 1024, total);
	unsigned long long reclaim =
		(m->active_file + m->inactive_file + m->slab_reclaimable) / 1024;
	unsigned long long swap_total = min_ull(host_kb(host, "SwapTotal"), m->swap_limit / 1024);
	const struct {
		const char *name;
		unsigned long long kb;
	} mine[] = {
		{ "MemTotal", total },
		{ "MemFree", total - used },
		{ "MemAvailable", min_ull(total - used + reclaim, total) },
		{ "Buffers", 0 },
		{ "Cached", m->file / 1024 },
		{ "SwapCached", 0 },
		{ "Active", (m->active_anon + m->active_file) / 1024 },
		{ "Inactive", (m->inactive_anon + m->inactive_file) / 1024 },
		{ "Active(anon)", m->active_anon / 1024 },
		{ "Inactive(anon)", m->inactive_anon / 1024 },
		{ "Active(file)", m->active_file / 1024 },
		{ "Inactive(file)", m->inactive_file / 1024 },
		{ "Unevictable", m->unevictable / 1024 },
		{ "SwapTotal", swap_total },
		{ "SwapFree", swap_total - min_ull(m->swap_usage / 1024, swap_total) },
		{ "Dirty", m->dirty / 1024 },
		{ "Writeback", m->writeback / 1024 },
		{ "AnonPages", m->anon / 1024 },
		{ "Mapped", m->mapped / 1024 },
		{ "Shmem", m->shmem / 1024 },
		{ "Slab", (m->slab_reclaimable + m->slab_unreclaimable) / 1024 },
		{ "SReclaimable", m->slab_reclaimable / 1024 },
		{ "SUnreclaim", m->slab_unreclaimable / 1024 },
	};

	if (!host_total)
		return -1; /* not /proc/meminfo */
	for (const char *p = host; *p;) {
		const char *nl = strchr(p, '\n'), *colon = strchr(p, ':');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		bool done = false;

		for (size_t i = 0; colon && colon < p + len && i < ARRAY_SIZE(mine); i++) {
			if (strlen(mine[i].name) != (size_t)(colon - p) ||
			    strncmp(p, mine[i].name, (size_t)(colon - p)) != 0)
				continue;
			/* The kernel's layout: the name and colon in 16 columns, the
			 * number in 8 more. */
			fprintf(out, "%s:%*llu kB\n", mine[i].name,
				(int)(24 - strlen(mine[i].name) - 1), mine[i].kb);
			done = true;
			break;
		}
		if (!done)
			fprintf(out, "%.*s\n", (int)len, p);
		p += len + (nl ? 1 : 0);
	}
	return ferror(out) ? -1 : 0;
}

/* Is the line at p the "cpu" or a "cpuN" line? */
static bool cpu_line(const char *p)
{
	if (strncmp(p, "cpu", 3) != 0)
		return false;
	p += 3;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == ' ';
}

int pv_stat(const char *host, const struct pv_cpu *c, FILE *out)
{
	unsigned long long ncpu = 0, per_idle, total_idle;
	bool cpus_written = false;

	for (const char *p = host; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (cpu_line(p) && p[3] != ' ')
			ncpu++;
	if (!ncpu)
		return -1; /* not /proc/stat */
	per_idle = (unsigned long long)(c->age * (double)c->hz);
	total_idle = per_idle * ncpu;
	total_idle -= min_ull(c->user + c->system, total_idle);
	for (const char *p = host; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (cpu_line(p)) {
			/* One block in place of the host's: the total, then each CPU's
			 * even share (the first takes the remainder). */
			for (unsigned long long i = 0; !cpus_written && i <= ncpu; i++) {
				unsigned long long u = c->user, s = c->system, idle = total_idle;

				if (i > 0) {
					u = c->user / ncpu + (i == 1 ? c->user % ncpu : 0);
					s = c->system / ncpu + (i == 1 ? c->system % ncpu : 0);
					idle = per_idle - min_ull(u + s, per_idle);
					fprintf(out, "cpu%llu", i - 1);
				} else {
					fputs("cpu ", out);
				}
				fprintf(out, " %llu 0 %llu %llu 0 0 0 0 0 0\n", u, s, idle);
			}
			cpus_written = true;
		} else if (strncmp(p, "btime ", 6) == 0) {
			fprintf(out, "btime %lld\n", c->btime);
		} else if (strncmp(p, "procs_running ", 14) == 0) {
			fprintf(out, "procs_running %u\n", c->running);
		} else if (strncmp(p, "procs_blocked ", 14) == 0) {
			fprintf(out, "procs_blocked %u\n", c->blocked);
		} else {
			fprintf(out, "%.*s\n", (int)len, p);
		}
		p += len + (nl ? 1 : 0);
	}
	return ferror(out) ? -1 : 0;
}

static const double load_period[3] = { 60, 300, 900 };

void pv_load_update(struct pv_load *l, double now, double usage, double age)
{
	double dt, rate;

	if (l->at == 0) {
		/* The first read: as if the cell had used cpu evenly since it
		 * started (age 0, or a clock we cannot read: start from zero). */
		l->at = now;
		l->usage = usage;
		if (age <= 0)
			return;
		rate = usage / age;
		for (int i = 0; i < 3; i++)
			l->avg[i] = rate * (1 - exp(-age / load_period[i]));
		return;
	}
	dt = now - l->at;
	if (dt <= 0)
		return;
	rate = usage > l->usage ? (usage - l->usage) / dt : 0;
	for (int i = 0; i < 3; i++) {
		double keep = exp(-dt / load_period[i]);

		l->avg[i] = l->avg[i] * keep + rate * (1 - keep);
	}
	l->at = now;
	l->usage = usage;
}

int pv_loadavg(const struct pv_load *l, unsigned running, unsigned threads, long lastpid, FILE *out)
{
	unsigned long hundredths[3];

	for (int i = 0; i < 3; i++)
		hundredths[i] = (unsigned long)(l->avg[i] * 100 + 0.5);
	fprintf(out, "%lu.%02lu %lu.%02lu %lu.%02lu %u/%u %ld\n", hundredths[0] / 100,
		hundredths[0] % 100, hundredths[1] / 100, hundredths[1] % 100, hundredths[2] / 100,
		hundredths[2] % 100, running, threads, lastpid);
	return ferror(out) ? -1 : 0;
}
