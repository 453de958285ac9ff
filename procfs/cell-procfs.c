// SPDX-License-Identifier: MIT
/*
 * cell-procfs: the proc views' server, one per host. A cell's monitor
 * (root) mounts /run/cell/procfs (FUSE, read-only, allow_other) and starts
 * this program with the /dev/fuse connection as fd 3; it drops to nobody
 * before it reads a request and serves three files, made for each read
 * from the reader's cgroup (procview.h): meminfo, loadavg, stat. The
 * cell's PID 1 binds them over its /proc.
 *
 * The kernel names the reader in every request (its pid in our pid
 * namespace, the host's); /proc/PID/cgroup and the cgroup files are
 * world-readable, so nobody may read them. A reader whose cgroup cannot be
 * read (it exited, or it is not in our pid namespace) gets the host's file,
 * which is world-readable too. Nothing a request carries but the pid and
 * the offset is used, and the pid only to find files to read.
 *
 * The FUSE protocol is spoken directly (linux/fuse.h): six operations on a
 * fixed tree need no library.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/fuse.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "procmount.h"
#include "procview.h"
#include "systemd.h"
#include "util.h"

#define FUSE_FD	    3
#define MAX_WRITE   4096
#define BUF_SIZE    (FUSE_MIN_READ_BUFFER + MAX_WRITE)
#define MAX_HANDLES (1 << 20)  /* 24 MiB at most; each costs its reader an fd */
#define CACHE_MAX   (8U << 20) /* bytes kept for readers part way through a file */

enum { NODE_ROOT = FUSE_ROOT_ID, NODE_MEMINFO, NODE_LOADAVG, NODE_STAT, NODE_END };
static const char *const node_names[NODE_END] = {
	[NODE_MEMINFO] = "meminfo", [NODE_LOADAVG] = "loadavg", [NODE_STAT] = "stat"
};

static struct cgroup_layout layout;

/* ---- reading the figures ---- */

/* A whole file of /proc or a cgroup, malloc'd. These are seq_files: a read
 * fills the buffer unless the file ends first, so a short read is the end
 * (one read for the small ones, as procps does). */
static char *slurp(const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	size_t len = 0, cap = 4096;
	char *buf = NULL;
	ssize_t r;

	if (fd < 0)
		return NULL;
	for (;;) {
		char *grown;

		if (len + 1 >= cap && cap < max)
			cap *= 2;
		grown = len + 1 < cap ? realloc(buf, cap) : NULL;
		if (!grown)
			break;
		buf = grown;
		r = read(fd, buf + len, cap - len - 1);
		if (r <= 0 || (size_t)r < cap - len - 1) {
			if (r > 0)
				len += (size_t)r;
			if (r >= 0) {
				buf[len] = '\0';
				close(fd);
				return buf;
			}
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)r;
	}
	close(fd);
	free(buf);
	return NULL;
}

/* The reader's cgroup in each controller's hierarchy: from the first line
 * that names it (a cgroup name with a newline, in a delegated v2 subtree,
 * can only add lines after the real one). */
struct reader {
	pid_t pid;
	char path[CG_COUNT][256]; /* "" where unknown */
	char v2path[256];
	double boot_offset; /* seconds, the time namespace's (<= 0) */
	long inner_pid;
};

static void copy_path(char *dst, size_t size, const char *src, size_t len)
{
	if (len < size) {
		memcpy(dst, src, len);
		dst[len] = '\0';
	}
}

static bool has_ctl(const char *list, size_t len, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p < list + len;) {
		const char *comma = memchr(p, ',', (size_t)(list + len - p));
		size_t wl = comma ? (size_t)(comma - p) : (size_t)(list + len - p);

		if (wl == n && strncmp(p, name, n) == 0)
			return true;
		p += wl + 1;
	}
	return false;
}

static const char *const ctl_names[CG_COUNT] = { "pids", "memory", "cpu", "cpuacct" };

static int reader_find(pid_t pid, bool clock, struct reader *r)
{
	char path[64];
	_cleanup_free_ char *cg = NULL, *status = NULL, *offsets = NULL;

	memset(r, 0, sizeof(*r));
	r->pid = pid;
	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	cg = slurp(path, 65536);
	if (!cg)
		return -1;
	for (char *line = cg, *nl; *line; line = nl + 1) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line) - 1;
		if (!c2 || c2 > nl)
			continue;
		if (c2 == c1 + 1 && strncmp(line, "0:", 2) == 0) {
			if (!r->v2path[0])
				copy_path(r->v2path, sizeof(r->v2path), c2 + 1,
					  (size_t)(nl - c2 - (*nl == '\n' ? 1 : 0)));
			continue;
		}
		for (int c = 0; c < CG_COUNT; c++)
			if (!layout.v2[c] && !r->path[c][0] &&
			    has_ctl(c1 + 1, (size_t)(c2 - c1 - 1), ctl_names[c]))
				copy_path(r->path[c], sizeof(r->path[c]), c2 + 1,
					  (size_t)(nl - c2 - (*nl == '\n' ? 1 : 0)));
	}
	for (int c = 0; c < CG_COUNT; c++)
		if (layout.v2[c])
			str_copy(r->path[c], sizeof(r->path[c]), r->v2path);
	if (!clock)
		return 0; /* meminfo needs no more */
	snprintf(path, sizeof(path), "/proc/%d/timens_offsets", (int)pid);
	offsets = slurp(path, 4096);
	for (char *p = offsets; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		long long s, ns;

		if (sscanf(p, "boottime %lld %lld", &s, &ns) == 2 ||
		    sscanf(p, "7 %lld %lld", &s, &ns) == 2)
			r->boot_offset = (double)s + (double)ns / 1e9;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	status = slurp(path, 65536);
	if (status) {
		char *p = strstr(status, "\nNSpid:");

		for (p = p ? p + 7 : NULL; p && *p && *p != '\n';) {
			char *end;
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			r->inner_pid = v;
			p = end;
		}
	}
	return 0;
}

/* A file of the reader's cgroup (or of its ancestor `up` levels above). */
static char *cg_file(const struct reader *r, int c, int up, const char *name)
{
	char path[PATH_MAX], rel[256];
	const char *mount = layout.v2[c] ? layout.v2mount : layout.mount[c];

	if (!mount[0] || !r->path[c][0])
		return NULL;
	str_copy(rel, sizeof(rel), r->path[c]);
	for (int i = 0; i < up; i++) {
		char *slash = strrchr(rel, '/');

		if (!slash)
			return NULL;
		*slash = '\0';
	}
	if (strstr(rel, "/..") ||
	    (size_t)snprintf(path, sizeof(path), "%s%s/%s", mount, rel, name) >= sizeof(path))
		return NULL;
	return slurp(path, 1 << 20);
}

static unsigned long long cg_num(const struct reader *r, int c, int up, const char *name,
				 unsigned long long dflt)
{
	_cleanup_free_ char *s = cg_file(r, c, up, name);
	char *end;
	unsigned long long v;

	if (!s)
		return dflt;
	if (strncmp(s, "max", 3) == 0)
		return PV_NONE;
	errno = 0;
	v = strtoull(s, &end, 10);
	return errno || end == s ? dflt : v;
}

/* The smallest limit from the reader's cgroup up to the root. */
static unsigned long long cg_limit(const struct reader *r, int c, const char *name)
{
	unsigned long long lim = PV_NONE;
	int depth = 0;

	for (const char *p = r->path[c]; *p; p++)
		depth += *p == '/';
	for (int up = 0; up < depth; up++) {
		unsigned long long v = cg_num(r, c, up, name, PV_NONE);

		/* v1's "no limit" is a page-rounded LLONG_MAX */
		if (v < lim && v < (1ULL << 62))
			lim = v;
	}
	return lim;
}

static unsigned long long stat_key(const char *text, const char *key)
{
	return pv_field(text, key, ' ');
}

static void read_mem(const struct reader *r, struct pv_mem *m)
{
	bool v2 = layout.v2[CG_MEMORY];
	_cleanup_free_ char *st = cg_file(r, CG_MEMORY, 0, "memory.stat");
	const char *pre = v2 ? "" : "total_";
	char k[64];

#define STAT(field, v2name, v1name) \
	(snprintf(k, sizeof(k), "%s%s", pre, v2 ? v2name : v1name), m->field = stat_key(st, k))
	memset(m, 0, sizeof(*m));
	if (v2) {
		m->limit = cg_limit(r, CG_MEMORY, "memory.max");
		m->usage = cg_num(r, CG_MEMORY, 0, "memory.current", 0);
		m->swap_limit = cg_limit(r, CG_MEMORY, "memory.swap.max");
		m->swap_usage = cg_num(r, CG_MEMORY, 0, "memory.swap.current", 0);
	} else {
		unsigned long long memsw = cg_limit(r, CG_MEMORY, "memory.memsw.limit_in_bytes");

		m->limit = cg_limit(r, CG_MEMORY, "memory.limit_in_bytes");
		m->usage = cg_num(r, CG_MEMORY, 0, "memory.usage_in_bytes", 0);
		m->swap_limit = memsw == PV_NONE || m->limit == PV_NONE ? memsw
				: memsw > m->limit			? memsw - m->limit
									: 0;
		memsw = cg_num(r, CG_MEMORY, 0, "memory.memsw.usage_in_bytes", 0);
		m->swap_usage = memsw > m->usage ? memsw - m->usage : 0;
	}
	if (!r->path[CG_MEMORY][0] || !st) {
		/* Not in a memory cgroup we can read: the host's figures. */
		m->limit = m->swap_limit = PV_NONE;
		return;
	}
	STAT(file, "file", "cache");
	STAT(anon, "anon", "rss");
	STAT(shmem, "shmem", "shmem");
	STAT(mapped, "file_mapped", "mapped_file");
	STAT(dirty, "file_dirty", "dirty");
	STAT(writeback, "file_writeback", "writeback");
	STAT(active_anon, "active_anon", "active_anon");
	STAT(inactive_anon, "inactive_anon", "inactive_anon");
	STAT(active_file, "active_file", "active_file");
	STAT(inactive_file, "inactive_file", "inactive_file");
	STAT(unevictable, "unevictable", "unevictable");
	if (v2) {
		STAT(slab_reclaimable, "slab_reclaimable", "");
		STAT(slab_unreclaimable, "slab_unreclaimable", "");
	}
#undef STAT
}

/* cpu seconds of the reader's cgroup, and its user/system ticks. */
static double read_cpu(const struct reader *r, unsigned long hz, struct pv_cpu *c)
{
	if (layout.v2[CG_CPU] || !layout.mount[CG_CPUACCT][0]) {
		_cleanup_free_ char *st = cg_file(r, CG_CPU, 0, "cpu.stat");

		if (!st || !layout.v2[CG_CPU])
			return 0;
		c->user = stat_key(st, "user_usec") * hz / 1000000;
		c->system = stat_key(st, "system_usec") * hz / 1000000;
		return (double)stat_key(st, "usage_usec") / 1e6;
	} else {
		_cleanup_free_ char *st = cg_file(r, CG_CPUACCT, 0, "cpuacct.stat");

		c->user = stat_key(st, "user");
		c->system = stat_key(st, "system");
		return (double)cg_num(r, CG_CPUACCT, 0, "cpuacct.usage", 0) / 1e9;
	}
}

/* Tasks of the reader's cgroup in state R and D, and all of them. */
static void count_tasks(const struct reader *r, unsigned *running, unsigned *blocked, unsigned *all)
{
	_cleanup_free_ char *list =
		cg_file(r, CG_CPU, 0, layout.v2[CG_CPU] ? "cgroup.threads" : "tasks");

	*running = *blocked = *all = 0;
	for (char *p = list; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char path[64], buf[512];
		long tid = strtol(p, NULL, 10);
		int fd;
		ssize_t n;

		if (tid <= 0)
			continue;
		++*all;
		if (*all > 1024)
			continue; /* counted, not inspected */
		snprintf(path, sizeof(path), "/proc/%ld/stat", tid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			char *paren;

			buf[n] = '\0';
			paren = strrchr(buf, ')');
			if (paren && paren[1] == ' ' && paren[2] == 'R')
				++*running;
			else if (paren && paren[1] == ' ' && paren[2] == 'D')
				++*blocked;
		}
	}
}

static double clock_s(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The load state of each cgroup read lately, least recently used out. */
#define LOADS 1024
static struct {
	char path[160];
	double used; /* CLOCK_MONOTONIC of the last read */
	struct pv_load load;
} loads[LOADS];

static struct pv_load *load_of(const char *path, double now)
{
	int victim = 0;

	for (int i = 0; i < LOADS; i++) {
		if (loads[i].path[0] && strcmp(loads[i].path, path) == 0) {
			loads[i].used = now;
			return &loads[i].load;
		}
		if (loads[i].used < loads[victim].used)
			victim = i;
	}
	if (str_copy(loads[victim].path, sizeof(loads[victim].path), path) < 0)
		return NULL;
	loads[victim].used = now;
	memset(&loads[victim].load, 0, sizeof(loads[victim].load));
	return &loads[victim].load;
}

/* The file as this reader sees it, malloc'd (len set), or NULL. */
static char *render(int node, pid_t pid, size_t *len)
{
	static const char *const host_files[NODE_END] = { [NODE_MEMINFO] = "/proc/meminfo",
							  [NODE_LOADAVG] = "/proc/loadavg",
							  [NODE_STAT] = "/proc/stat" };
	_cleanup_free_ char *host = slurp(host_files[node], 16 << 20);
	unsigned long hz = (unsigned long)sysconf(_SC_CLK_TCK);
	struct reader r;
	char *out = NULL;
	FILE *f;
	int rc = -1;

	if (!host)
		return NULL;
	if (reader_find(pid, node != NODE_MEMINFO, &r) < 0) {
		*len = strlen(host);
		return steal_ptr(&host); /* the host's own, as for any process */
	}
	f = open_memstream(&out, len);
	if (!f)
		return NULL;
	if (node == NODE_MEMINFO) {
		struct pv_mem m;

		read_mem(&r, &m);
		rc = pv_meminfo(host, &m, f);
	} else {
		struct pv_cpu c = { .hz = hz };
		double usage = read_cpu(&r, hz, &c);
		unsigned all;

		c.age = clock_s(CLOCK_BOOTTIME) + r.boot_offset;
		c.btime = (long long)(clock_s(CLOCK_REALTIME) - c.age);
		count_tasks(&r, &c.running, &c.blocked, &all);
		if (node == NODE_STAT) {
			rc = pv_stat(host, &c, f);
		} else {
			double now = clock_s(CLOCK_MONOTONIC);
			const char *key = r.path[layout.v2[CG_CPU] ? CG_CPU : CG_CPUACCT];
			struct pv_load fresh = { 0 }, *l = load_of(key, now);

			if (!l)
				l = &fresh;
			pv_load_update(l, now, usage, c.age);
			rc = pv_loadavg(l, c.running ? c.running : 1, all ? all : 1, r.inner_pid,
					f);
		}
	}
	if (fclose(f) != 0 || rc < 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* ---- the FUSE side ---- */

struct handle {
	int node; /* 0: free */
	char *cache;
	size_t len;
	size_t end; /* the length of the text last made, whole, for this handle */
};
static struct handle *handles;
static size_t nhandles, cached;

static void reply(const struct fuse_in_header *in, int err, const void *data, size_t len)
{
	struct fuse_out_header out = { .len = (uint32_t)(sizeof(out) + len),
				       .error = -err,
				       .unique = in->unique };
	struct iovec iov[2] = { { &out, sizeof(out) }, { (void *)(uintptr_t)data, len } };

	/* ENOENT: the request was interrupted; anything else, nothing to do. */
	(void)!writev(FUSE_FD, iov, len ? 2 : 1);
}

static void fill_attr(struct fuse_attr *a, uint64_t node)
{
	memset(a, 0, sizeof(*a));
	a->ino = node;
	a->mode = node == NODE_ROOT ? S_IFDIR | 0555 : S_IFREG | 0444;
	a->nlink = node == NODE_ROOT ? 2 : 1;
	a->blksize = 4096;
}

static void do_lookup(const struct fuse_in_header *in, const char *name)
{
	struct fuse_entry_out e = { 0 };

	for (int n = NODE_MEMINFO; n < NODE_END && in->nodeid == NODE_ROOT; n++) {
		if (strcmp(name, node_names[n]) != 0)
			continue;
		e.nodeid = (uint64_t)n;
		e.entry_valid = e.attr_valid = 3600;
		fill_attr(&e.attr, e.nodeid);
		reply(in, 0, &e, sizeof(e));
		return;
	}
	reply(in, ENOENT, NULL, 0);
}

static void do_getattr(const struct fuse_in_header *in)
{
	struct fuse_attr_out a = { .attr_valid = 3600 };

	if (in->nodeid < NODE_ROOT || in->nodeid >= NODE_END)
		return reply(in, ENOENT, NULL, 0);
	fill_attr(&a.attr, in->nodeid);
	reply(in, 0, &a, sizeof(a));
}

static void do_open(const struct fuse_in_header *in, const struct fuse_open_in *o)
{
	struct fuse_open_out out = { .open_flags = FOPEN_DIRECT_IO };
	size_t i;

	if (in->nodeid <= NODE_ROOT || in->nodeid >= NODE_END)
		return reply(in, in->nodeid == NODE_ROOT ? EISDIR : ENOENT, NULL, 0);
	if ((o->flags & O_ACCMODE) != O_RDONLY)
		return reply(in, EACCES, NULL, 0);
	for (i = 0; i < nhandles && handles[i].node; i++)
		;
	if (i == nhandles) {
		size_t grow = nhandles ? nhandles * 2 : 64;
		struct handle *h;

		if (grow > MAX_HANDLES || !(h = realloc(handles, grow * sizeof(*h))))
			return reply(in, ENFILE, NULL, 0);
		memset(h + nhandles, 0, (grow - nhandles) * sizeof(*h));
		handles = h;
		nhandles = grow;
	}
	handles[i] = (struct handle){ .node = (int)in->nodeid };
	out.fh = i;
	reply(in, 0, &out, sizeof(out));
}

static struct handle *handle_of(uint64_t fh)
{
	return fh < nhandles && handles[fh].node ? &handles[fh] : NULL;
}

static void drop_cache(struct handle *h)
{
	cached -= h->len;
	free(h->cache);
	h->cache = NULL;
	h->len = 0;
}

/* A read at offset 0 makes the file afresh; a reader part way through it
 * goes on in the same text (while the cache has room), so a line is never
 * torn between two versions. */
static void do_read(const struct fuse_in_header *in, const struct fuse_read_in *rd)
{
	struct handle *h = handle_of(rd->fh);
	_cleanup_free_ char *text = NULL;
	size_t len = 0, n;

	if (!h)
		return reply(in, EBADF, NULL, 0);
	/* The read after the last byte (every reader's EOF probe): no need to
	 * make the file again to say so. */
	if (rd->offset > 0 && !h->cache && h->end && rd->offset >= h->end)
		return reply(in, 0, NULL, 0);
	if (rd->offset == 0 || !h->cache) {
		drop_cache(h);
		text = render(h->node, (pid_t)in->pid, &len);
		if (!text)
			return reply(in, EIO, NULL, 0);
	} else {
		text = steal_ptr(&h->cache);
		len = h->len;
		cached -= h->len;
		h->len = 0;
	}
	h->end = len;
	if (rd->offset >= len)
		return reply(in, 0, NULL, 0);
	n = len - rd->offset < rd->size ? len - rd->offset : rd->size;
	reply(in, 0, text + rd->offset, n);
	if (rd->offset + n < len && cached + len <= CACHE_MAX) {
		h->cache = steal_ptr(&text);
		h->len = len;
		cached += len;
	}
}

static void do_release(const struct fuse_in_header *in, const struct fuse_release_in *rl)
{
	struct handle *h = handle_of(rl->fh);

	if (h) {
		drop_cache(h);
		h->node = 0;
	}
	reply(in, 0, NULL, 0);
}

static void do_readdir(const struct fuse_in_header *in, const struct fuse_read_in *rd)
{
	char buf[512];
	size_t len = 0;

	if (in->nodeid != NODE_ROOT)
		return reply(in, ENOTDIR, NULL, 0);
	for (uint64_t n = rd->offset + 1; n < NODE_END; n++) {
		const char *name = n == NODE_ROOT ? "." : node_names[n];
		size_t sz = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + strlen(name));
		struct fuse_dirent *d = (struct fuse_dirent *)(void *)(buf + len);

		if (len + sz > rd->size || len + sz > sizeof(buf))
			break;
		memset(d, 0, sz);
		d->ino = n;
		d->off = n;
		d->namelen = (uint32_t)strlen(name);
		d->type = n == NODE_ROOT ? DT_DIR : DT_REG;
		memcpy(d->name, name, d->namelen);
		len += sz;
	}
	reply(in, 0, buf, len);
}

static void do_init(const struct fuse_in_header *in, const struct fuse_init_in *i)
{
	struct fuse_init_out o = { .major = FUSE_KERNEL_VERSION,
				   .minor = i->minor < FUSE_KERNEL_MINOR_VERSION
						    ? i->minor
						    : FUSE_KERNEL_MINOR_VERSION,
				   .max_readahead = i->max_readahead,
				   .max_write = MAX_WRITE,
				   .max_background = 16,
				   .congestion_threshold = 12,
				   .time_gran = 1 };

	if (i->major != FUSE_KERNEL_VERSION)
		return reply(in, EPROTO, NULL, 0);
	reply(in, 0, &o, sizeof(o));
}

static void serve(void)
{
	static char buf[BUF_SIZE] __attribute__((aligned(8)));

	for (;;) {
		ssize_t n = read(FUSE_FD, buf, sizeof(buf));
		const struct fuse_in_header *in = (const void *)buf;
		const void *arg = buf + sizeof(*in);

		if (n < 0 && (errno == EINTR || errno == ENOENT || errno == EAGAIN))
			continue;
		if (n < 0)
			return; /* ENODEV: unmounted */
		if ((size_t)n < sizeof(*in) || in->len != (uint32_t)n)
			continue;
		switch (in->opcode) {
		case FUSE_INIT:
			do_init(in, arg);
			break;
		case FUSE_LOOKUP:
			buf[n - 1] = '\0';
			do_lookup(in, arg);
			break;
		case FUSE_GETATTR:
			do_getattr(in);
			break;
		case FUSE_OPEN:
		case FUSE_OPENDIR:
			if (in->opcode == FUSE_OPENDIR) {
				struct fuse_open_out o = { 0 };

				if (in->nodeid != NODE_ROOT)
					reply(in, ENOTDIR, NULL, 0);
				else
					reply(in, 0, &o, sizeof(o));
				break;
			}
			do_open(in, arg);
			break;
		case FUSE_READ:
			do_read(in, arg);
			break;
		case FUSE_READDIR:
			do_readdir(in, arg);
			break;
		case FUSE_RELEASE:
			do_release(in, arg);
			break;
		case FUSE_RELEASEDIR:
			reply(in, 0, NULL, 0);
			break;
		case FUSE_STATFS: {
			struct fuse_statfs_out s = { .st = { .bsize = 4096, .namelen = 255 } };

			reply(in, 0, &s, sizeof(s));
			break;
		}
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break; /* no answer */
		case FUSE_DESTROY:
			reply(in, 0, NULL, 0);
			return;
		default:
			reply(in, ENOSYS, NULL, 0);
		}
	}
}

/* root -> nobody, for good; the connection stays open. */
static int drop(void)
{
	struct passwd *pw = getpwnam("nobody");
	uid_t uid;
	gid_t gid;
	uid_t r, e, s;

	if (!pw || pw->pw_uid == 0 || pw->pw_gid == 0)
		return syslog(LOG_ERR, "no 'nobody' account to run as: add one"), -1;
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return syslog(LOG_ERR, "dropping to nobody: %m"), -1;
	if (getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid || setuid(0) == 0)
		return syslog(LOG_ERR, "still privileged after the drop"), -1;
	/* Not traceable, no privilege from any exec. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return syslog(LOG_ERR, "prctl: %m"), -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct cell_err e = { 0 };
	struct stat st;

	(void)argv;
	openlog("cell-procfs", LOG_PID, LOG_DAEMON);
	if (argc != 1 || fstat(FUSE_FD, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    major(st.st_rdev) != 10 || minor(st.st_rdev) != 229) {
		fprintf(stderr, "cell-procfs: started by cell-init only, with /dev/fuse as fd 3\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (cgroup_layout(&layout, &e) < 0) {
		syslog(LOG_ERR, "%s", e.msg);
		return 1;
	}
	/* Under systemd, a unit of our own, asked for while root and before
	 * answering anything: the cell's scope we started in ends with it. */
	if (systemd_booted() &&
	    systemd_scope_start(&(struct scope_spec){ .unit = PROCFS_SCOPE, .pid = getpid() }, &e) <
		    0) {
		syslog(LOG_ERR, "%s", e.msg);
		return 1;
	}
	if (drop() < 0)
		return 1;
	serve();
	return 0;
}
