// SPDX-License-Identifier: MIT
/* cellctl list and stop, and finding a cell and its cgroup. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "ctl.h"
#include "join.h"
#include "util.h"

static int by_age(const void *a, const void *b)
{
	const struct cell_record *x = a, *y = b;

	return x->created < y->created ? -1 : x->created > y->created;
}

size_t ctl_cells(const char *what, struct cell_record **out)
{
	struct cell_record *all = NULL, r;
	size_t n = 0, cap = 0;
	struct dirent *d;
	DIR *dir;

	*out = NULL;
	dir = opendir(CELL_RUN_DIR);
	if (!dir)
		return 0; /* no cell was ever made since boot */
	while ((d = readdir(dir))) {
		struct cell_err e = { 0 };
		struct cell_join j;

		if (!cell_id_valid(d->d_name))
			continue;
		if (registry_read(d->d_name, &r, &e) < 0) {
			ctl_warn("skipping %s/%s: %s", CELL_RUN_DIR, d->d_name, e.msg);
			continue;
		}
		if (what && strcmp(what, r.id) != 0 && strcmp(what, r.user) != 0)
			continue;
		/* Only cells whose PID 1 and namespaces are still the recorded
		 * ones: a stale record is not a cell. */
		if (cell_verify(&r, r.uid, &j, &e) < 0)
			continue;
		cell_join_close(&j);
		if (n == cap) {
			struct cell_record *more =
				realloc(all, (cap = cap ? cap * 2 : 8) * sizeof(r));

			if (!more)
				ctl_die(EXIT_PROBLEM, "out of memory");
			all = more;
		}
		all[n++] = r;
	}
	closedir(dir);
	if (n)
		qsort(all, n, sizeof(*all), by_age);
	*out = all;
	return n;
}

/* Where the hierarchy with these controllers ("" = unified) is mounted. */
static int cg_mount(const char *ctrls, char *out, size_t size)
{
	char line[1024], want[64];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int found = -1;

	if (!f)
		return -1;
	snprintf(want, sizeof(want), ",%s,", ctrls);
	while (found < 0 && fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS... - FSTYPE SOURCE SUPEROPTS */
		char mnt[512], fstype[32], super[512], opts[520];
		const char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1 ||
		    sscanf(dash + 3, "%31s %*s %511s", fstype, super) != 2)
			continue;
		if (!*ctrls && strcmp(fstype, "cgroup2") == 0)
			found = 0;
		snprintf(opts, sizeof(opts), ",%s,", super);
		if (*ctrls && strcmp(fstype, "cgroup") == 0 && strstr(opts, want))
			found = 0;
		if (found == 0 && str_copy(out, size, mnt) < 0)
			found = -1;
	}
	fclose(f);
	return found;
}

int ctl_cell_cgroup(const struct cell_record *r, struct ctl_cgroup *cg)
{
	char path[64], line[1024], unit[64];
	FILE *f;

	cg->n = 0;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)r->pid);
	snprintf(unit, sizeof(unit), "cell-%s.scope", r->id);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (cg->n < CTL_MAX_CG && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *base,
		     mnt[256];
		const char *first;

		if (!c2)
			continue;
		*c2 = '\0';
		c2[1 + strcspn(c2 + 1, "\n")] = '\0';
		base = strrchr(c2 + 1, '/');
		if (!base || (strcmp(base + 1, r->id) != 0 && strcmp(base + 1, unit) != 0))
			continue; /* a hierarchy the cell has no cgroup of its own in */
		/* A v1 line may name several controllers ("cpu,cpuacct"). */
		first = c1 + 1;
		if (cg_mount(first, mnt, sizeof(mnt)) < 0)
			continue;
		snprintf(cg->dir[cg->n], sizeof(cg->dir[0]), "%s%s", mnt, c2 + 1);
		snprintf(cg->ctrls[cg->n], sizeof(cg->ctrls[0]), "%s", first);
		cg->n++;
	}
	fclose(f);
	return cg->n ? 0 : -1;
}

static long long read_num(const char *dir, const char *file, const char *key)
{
	char path[700], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		size_t k = key ? strlen(key) : 0;

		if (!key || (strncmp(line, key, k) == 0 && line[k] == ' ')) {
			v = strtoll(line + k, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

struct usage {
	long procs, sessions;
	long long mem, cpu_us; /* -1: unknown */
};

static pid_t ppid_of(pid_t pid)
{
	char path[64], buf[1024], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p ? (pid_t)strtol(p + 4, NULL, 10) : -1; /* ") S PPID" */
}

static int has_pid(const pid_t *v, long n, pid_t p)
{
	for (long i = 0; i < n; i++)
		if (v[i] == p)
			return 1;
	return 0;
}

/* Processes, sessions (a process whose parent is outside the cell's cgroup,
 * other than PID 1 and the monitor: each login's cellsh), memory, CPU. */
static void cell_usage(const struct cell_record *r, struct usage *u)
{
	struct ctl_cgroup cg;
	pid_t monitor = ppid_of(r->pid), *pids = NULL;
	long n = 0, cap = 0;

	*u = (struct usage){ -1, -1, -1, -1 };
	if (ctl_cell_cgroup(r, &cg) < 0)
		return;
	for (int i = 0; i < cg.n; i++) {
		const char *d = cg.dir[i], *c = cg.ctrls[i];
		char path[700], line[32];
		FILE *f;

		if (!*c) { /* unified */
			if (u->mem < 0)
				u->mem = read_num(d, "memory.current", NULL);
			if (u->cpu_us < 0)
				u->cpu_us = read_num(d, "cpu.stat", "usage_usec");
		}
		if (strstr(c, "memory") && u->mem < 0)
			u->mem = read_num(d, "memory.usage_in_bytes", NULL);
		if (strstr(c, "cpuacct") && u->cpu_us < 0) {
			long long ns = read_num(d, "cpuacct.usage", NULL);

			u->cpu_us = ns < 0 ? -1 : ns / 1000;
		}
		if (pids)
			continue;
		snprintf(path, sizeof(path), "%s/cgroup.procs", d);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (n == cap) {
				pid_t *more = realloc(pids, (size_t)(cap = cap ? cap * 2 : 64) *
								    sizeof(*pids));

				if (!more)
					break;
				pids = more;
			}
			pids[n++] = (pid_t)strtol(line, NULL, 10);
		}
		fclose(f);
	}
	if (pids) {
		u->procs = n;
		u->sessions = 0;
		for (long i = 0; i < n; i++)
			if (pids[i] != r->pid && pids[i] != monitor &&
			    !has_pid(pids, n, ppid_of(pids[i])))
				u->sessions++;
		free(pids);
	}
}

static void human(char *buf, size_t size, long long bytes)
{
	if (bytes < 0)
		snprintf(buf, size, "-");
	else if (bytes >= 1LL << 30)
		snprintf(buf, size, "%.1fG", (double)bytes / (1 << 30));
	else
		snprintf(buf, size, "%.1fM", (double)bytes / (1 << 20));
}

static void age(char *buf, size_t size, long long secs)
{
	if (secs < 120)
		snprintf(buf, size, "%llds", secs);
	else if (secs < 7200)
		snprintf(buf, size, "%lldm", secs / 60);
	else if (secs < 172800)
		snprintf(buf, size, "%lldh", secs / 3600);
	else
		snprintf(buf, size, "%lldd", secs / 86400);
}

int cmd_list(struct ctl *c, int argc, char **argv)
{
	struct cell_record *v;
	long long now = (long long)time(NULL);
	size_t n;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			c->json = true;
		else
			ctl_die(EXIT_USAGE, "usage: cellctl list [--json]");
	}
	n = ctl_cells(NULL, &v);
	if (c->json)
		fputs("[", stdout);
	else
		printf("%-32s %-12s %-8s %-8s %-15s %8s %5s %-10s %-16s %4s %5s %7s %8s %6s\n",
		       "CELL", "USER", "SERVICE", "TTY", "FROM", "PID1", "AGE", "PROFILE",
		       "SECTION", "SESS", "PROCS", "MEM", "CPU", "LINGER");
	for (size_t i = 0; i < n; i++) {
		const struct cell_record *r = &v[i];
		struct usage u;
		char mem[32], a[32], cpu[32], lg[32] = "-";
		long long until = 0, left = 0;
		bool lingering = registry_linger_get(r->id, &until) == 0;

		cell_usage(r, &u);
		if (lingering) {
			left = until < 0 ? -1 : until > now ? until - now : 0;
			if (left < 0)
				snprintf(lg, sizeof(lg), "yes");
			else
				age(lg, sizeof(lg), left);
		}
		if (c->json) {
			printf("%s\n {\"id\": ", i ? "," : "");
			json_str(stdout, r->id);
			printf(", \"user\": ");
			json_str(stdout, r->user);
			printf(", \"uid\": %u, \"service\": ", (unsigned)r->uid);
			json_str(stdout, r->service);
			printf(", \"tty\": ");
			json_str(stdout, r->tty);
			printf(", \"rhost\": ");
			json_str(stdout, r->rhost);
			printf(", \"pid1\": %d, \"created\": %lld, \"age_s\": %lld, \"section\": ",
			       (int)r->pid, r->created, now - r->created);
			json_str(stdout, r->section);
			printf(", \"profile\": ");
			json_str(stdout, r->profile);
			printf(", \"rootfs\": ");
			json_str(stdout, r->rootfs);
			printf(", \"shared\": %s, \"sessions\": %ld, \"processes\": %ld, "
			       "\"memory_bytes\": %lld, \"cpu_usec\": %lld, \"lingering\": %s",
			       r->shared ? "true" : "false", u.sessions, u.procs, u.mem, u.cpu_us,
			       lingering ? "true" : "false");
			/* seconds left; -1: until cellctl stop */
			if (lingering)
				printf(", \"linger_left_s\": %lld", left);
			printf("}");
			continue;
		}
		human(mem, sizeof(mem), u.mem);
		age(a, sizeof(a), now - r->created);
		if (u.cpu_us < 0)
			snprintf(cpu, sizeof(cpu), "-");
		else
			snprintf(cpu, sizeof(cpu), "%.1fs", (double)u.cpu_us / 1e6);
		printf("%-32s %-12s %-8s %-8s %-15s %8d %5s %-10s %-16s %4ld %5ld %7s %8s %6s\n",
		       r->id, r->user, r->service, *r->tty ? r->tty : "-",
		       *r->rhost ? r->rhost : "-", (int)r->pid, a, *r->profile ? r->profile : "-",
		       r->section, u.sessions, u.procs, mem, cpu, lg);
	}
	if (c->json)
		puts(n ? "\n]" : "]");
	free(v);
	return EXIT_OK;
}

/* Killing PID 1 (through a pidfd that cell_verify pinned: never another
 * process) ends every process of the pid namespace; each session's cellsh
 * then returns, the login programs close their sessions, and the monitor
 * removes the record and cgroups. */
int cmd_stop(struct ctl *c, int argc, char **argv)
{
	struct cell_record *v;
	int status = EXIT_OK;
	size_t n;

	(void)c;
	if (argc != 2)
		ctl_die(EXIT_USAGE, "usage: cellctl stop CELL|USER");
	n = ctl_cells(argv[1], &v);
	if (n == 0)
		ctl_die(EXIT_PROBLEM,
			"no live cell is '%s' or belongs to a user '%s' (cellctl list)", argv[1],
			argv[1]);
	for (size_t i = 0; i < n; i++) {
		struct cell_err e = { 0 };
		struct cell_join j;
		struct pollfd p;

		if (cell_verify(&v[i], v[i].uid, &j, &e) < 0) {
			printf("cell %s of %s: already gone\n", v[i].id, v[i].user);
			continue;
		}
		if (pidfd_send_signal(j.pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH) {
			ctl_warn("cell %s: signalling its PID 1: %s", v[i].id, strerror(errno));
			status = EXIT_PROBLEM;
		} else {
			p = (struct pollfd){ .fd = j.pidfd, .events = POLLIN };
			poll(&p, 1, 5000);
			printf("cell %s of %s: stopped\n", v[i].id, v[i].user);
		}
		cell_join_close(&j);
	}
	/* The monitor removes the record when it sees PID 1 go. */
	for (int t = 0; t < 100; t++) {
		struct cell_record *left;
		size_t m = ctl_cells(argv[1], &left);

		free(left);
		if (m == 0)
			break;
		usleep(50000);
	}
	free(v);
	return status;
}
