// SPDX-License-Identifier: MIT
/*
 * On a host that systemd booted, a cell's cgroup is a transient scope that
 * systemd creates and owns: cell-<id>.scope in the user's slice, with
 * Delegate=yes and the profile's limits as unit properties, the way
 * container managers ask for theirs. pam_cell asks, for the monitor it
 * forked and holds back until the scope is there (create.c); everything
 * the monitor forks starts there. cell-procfs asks for its own scope.
 *
 * libsystemd is loaded only here, on such hosts (dlopen), so that a host
 * without systemd pays nothing for it, and never in cell-init, which is
 * static (systemd_booted is cgroup.c's). The connection is systemd's private
 * socket (root only: no D-Bus daemon, no policy in between), the way
 * systemctl talks to PID 1 as root.
 */
#include "systemd.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "proto.h"
#include "util.h"

#define SYSTEMD_PRIVATE	 "unix:path=/run/systemd/private"
#define JOB_TIMEOUT_USEC (20ULL * 1000 * 1000)

/* The few sd-bus calls used, resolved from libsystemd.so.0. */
static struct {
	void *lib;
	int (*bus_new)(sd_bus **);
	int (*set_address)(sd_bus *, const char *);
	int (*start)(sd_bus *);
	sd_bus *(*close_unref)(sd_bus *);
	int (*new_call)(sd_bus *, sd_bus_message **, const char *, const char *, const char *,
			const char *);
	int (*append)(sd_bus_message *, const char *, ...);
	int (*open)(sd_bus_message *, char, const char *);
	int (*close)(sd_bus_message *);
	int (*call)(sd_bus *, sd_bus_message *, uint64_t, sd_bus_error *, sd_bus_message **);
	int (*read)(sd_bus_message *, const char *, ...);
	sd_bus_message *(*unref)(sd_bus_message *);
	void (*error_free)(sd_bus_error *);
	int (*match_signal)(sd_bus *, sd_bus_slot **, const char *, const char *, const char *,
			    const char *, sd_bus_message_handler_t, void *);
	int (*process)(sd_bus *, sd_bus_message **);
	int (*wait)(sd_bus *, uint64_t);
} sd;

static int load(struct cell_err *e)
{
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
#define SYM(field, name) { name, offsetof(__typeof__(sd), field) }
		SYM(bus_new, "sd_bus_new"),
		SYM(set_address, "sd_bus_set_address"),
		SYM(start, "sd_bus_start"),
		SYM(close_unref, "sd_bus_flush_close_unref"),
		SYM(new_call, "sd_bus_message_new_method_call"),
		SYM(append, "sd_bus_message_append"),
		SYM(open, "sd_bus_message_open_container"),
		SYM(close, "sd_bus_message_close_container"),
		SYM(call, "sd_bus_call"),
		SYM(read, "sd_bus_message_read"),
		SYM(unref, "sd_bus_message_unref"),
		SYM(error_free, "sd_bus_error_free"),
		SYM(match_signal, "sd_bus_match_signal"),
		SYM(process, "sd_bus_process"),
		SYM(wait, "sd_bus_wait"),
#undef SYM
	};

	if (sd.lib)
		return 0;
	/* cell-init's environment is PATH alone: the loader's cache decides. */
	sd.lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!sd.lib)
		return cell_err_set(e, ENOENT,
				    "systemd is PID 1 but libsystemd.so.0 cannot be loaded (%s): "
				    "install libsystemd0",
				    dlerror());
	for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
		void *f = dlsym(sd.lib, syms[i].name);

		if (!f)
			return cell_err_set(e, ENOENT, "libsystemd.so.0 has no %s", syms[i].name);
		memcpy((char *)&sd + syms[i].off, &f, sizeof(f));
	}
	return 0;
}

struct job_wait {
	const char *path; /* the job we wait for */
	char result[32];  /* JobRemoved's result, once it came */
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct job_wait *w = userdata;
	const char *path, *unit, *result;
	uint32_t id;

	(void)err;
	if (w->path && sd.read(m, "uoss", &id, &path, &unit, &result) >= 0 &&
	    strcmp(path, w->path) == 0 && str_copy(w->result, sizeof(w->result), result) < 0)
		str_copy(w->result, sizeof(w->result), "unknown");
	return 0;
}

/* The unit's properties: a(sv). */
static int append_props(sd_bus_message *m, const struct scope_spec *s)
{
	char desc[160], user[33];
	char slice[64];
	uint32_t pid = (uint32_t)(s->pid ? s->pid : getpid());
	size_t i;
	int r;

	if (!s->limits) {
		r = sd.open(m, 'a', "(sv)");
		if (r >= 0)
			r = sd.append(m, "(sv)(sv)(sv)(sv)", "Description", "s", s->unit, "Slice",
				      "s", "system.slice", "PIDs", "au", 1, pid, "CollectMode", "s",
				      "inactive-or-failed");
		if (r >= 0)
			r = sd.close(m);
		return r;
	}

	/* D-Bus strings must be UTF-8: the name as a safe subset. */
	for (i = 0; s->user[i] && i < sizeof(user) - 1; i++)
		user[i] =
			strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			       s->user[i])
				? s->user[i]
				: '_';
	user[i] = '\0';
	snprintf(desc, sizeof(desc), "cell %s of %s (uid %lu)", s->id, user, s->uid);
	snprintf(slice, sizeof(slice), "user-%lu.slice", s->uid);
	r = sd.open(m, 'a', "(sv)");
	if (r >= 0)
		r = sd.append(m, "(sv)(sv)(sv)(sv)(sv)(sv)", "Description", "s", desc, "Slice", "s",
			      slice, "PIDs", "au", 1, pid, "Delegate", "b", 1, "CollectMode", "s",
			      "inactive-or-failed", "TimeoutStopUSec", "t", 10ULL * 1000 * 1000);
	if (r >= 0)
		r = sd.append(m, "(sv)", "CPUWeight", "t", (uint64_t)s->limits->cpu_weight);
	if (r >= 0 && s->limits->account)
		r = sd.append(m, "(sv)", "MemoryAccounting", "b", 1);
	if (r >= 0 && s->limits->pids_max)
		r = sd.append(m, "(sv)", "TasksMax", "t", (uint64_t)s->limits->pids_max);
	/* memory_max covers swap too, as in the direct cgroup code. */
	if (r >= 0 && s->limits->memory_max)
		r = sd.append(m, "(sv)(sv)", "MemoryMax", "t", (uint64_t)s->limits->memory_max,
			      "MemorySwapMax", "t", (uint64_t)0);
	if (r >= 0)
		r = sd.close(m);
	return r;
}

static int set_slice_limits(sd_bus *bus, const struct scope_spec *s, struct cell_err *e)
{
	const struct cell_limits *u = s->user_limits;
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	char slice[64];
	int r;

	snprintf(slice, sizeof(slice), "user-%lu.slice", s->uid);
	r = sd.new_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
			"org.freedesktop.systemd1.Manager", "SetUnitProperties");
	if (r >= 0)
		r = sd.append(m, "sb", slice, 1);
	if (r >= 0)
		r = sd.open(m, 'a', "(sv)");
	if (r >= 0 && u->cpu_weight)
		r = sd.append(m, "(sv)", "CPUWeight", "t", (uint64_t)u->cpu_weight);
	if (r >= 0 && u->pids_max)
		r = sd.append(m, "(sv)", "TasksMax", "t", (uint64_t)u->pids_max);
	if (r >= 0 && u->memory_max)
		r = sd.append(m, "(sv)(sv)", "MemoryMax", "t", (uint64_t)u->memory_max,
			      "MemorySwapMax", "t", (uint64_t)0);
	if (r >= 0)
		r = sd.close(m);
	if (r >= 0)
		r = sd.call(bus, m, JOB_TIMEOUT_USEC, &err, &reply);
	if (r < 0)
		cell_err_set(e, -r, "systemd refused the user's limits on %s: %s", slice,
			     err.message ? err.message : strerror(-r));
	sd.error_free(&err);
	if (reply)
		sd.unref(reply);
	if (m)
		sd.unref(m);
	return r < 0 ? -1 : 0;
}

int systemd_scope_start(const struct scope_spec *s, struct cell_err *e)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	struct job_wait w = { .path = NULL };
	char unit[64];
	sd_bus *bus = NULL;
	int r;

	if (load(e) < 0)
		return -1;
	if (s->unit)
		str_copy(unit, sizeof(unit), s->unit);
	else
		snprintf(unit, sizeof(unit), "cell-%s.scope", s->id);
	r = sd.bus_new(&bus);
	if (r >= 0)
		r = sd.set_address(bus, SYSTEMD_PRIVATE);
	if (r >= 0)
		r = sd.start(bus);
	if (r < 0) {
		cell_err_set(e, -r,
			     "connecting to systemd (%s): %s; /run/systemd/system says systemd "
			     "is PID 1, and each cell is a scope it starts: see 'systemctl "
			     "is-system-running'",
			     SYSTEMD_PRIVATE, strerror(-r));
		goto out;
	}
	/* Before the call: the job may finish before the reply is read. */
	r = sd.match_signal(bus, NULL, NULL, "/org/freedesktop/systemd1",
			    "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, &w);
	if (r >= 0)
		r = sd.new_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
				"org.freedesktop.systemd1.Manager", "StartTransientUnit");
	if (r >= 0)
		r = sd.append(m, "ss", unit, "fail");
	if (r >= 0)
		r = append_props(m, s);
	if (r >= 0)
		r = sd.append(m, "a(sa(sv))", 0); /* no auxiliary units */
	if (r < 0) {
		cell_err_set(e, -r, "building the request for %s: %s", unit, strerror(-r));
		goto out;
	}
	r = sd.call(bus, m, JOB_TIMEOUT_USEC, &err, &reply);
	if (r < 0) {
		cell_err_set(e, -r, "systemd refused to start %s: %s", unit,
			     err.message ? err.message : strerror(-r));
		goto out;
	}
	r = sd.read(reply, "o", &w.path);
	if (r < 0) {
		cell_err_set(e, -r, "reading systemd's answer for %s", unit);
		goto out;
	}
	for (long long end = now_ms() + (long long)(JOB_TIMEOUT_USEC / 1000); !w.result[0];) {
		long long left = end - now_ms();

		if (left <= 0) {
			cell_err_set(e, ETIMEDOUT, "systemd did not start %s within %llu s", unit,
				     JOB_TIMEOUT_USEC / 1000000);
			r = -1;
			goto out;
		}
		r = sd.process(bus, NULL);
		if (r == 0)
			r = sd.wait(bus, (uint64_t)left * 1000);
		if (r < 0) {
			cell_err_set(e, -r, "waiting for systemd to start %s: %s", unit,
				     strerror(-r));
			goto out;
		}
	}
	if (strcmp(w.result, "done") != 0) {
		cell_err_set(e, EIO, "systemd could not start %s (job result: %s)", unit, w.result);
		r = -1;
		goto out;
	}
	/* The user's limits: on their slice, which holds all their cells (and
	 * their login programs' session scopes), runtime only. After the scope:
	 * starting it loads the slice, which a login without logind may lack;
	 * the cell is not built yet, so nothing of it ran unlimited. */
	if (s->limits && s->user_limits &&
	    (s->user_limits->pids_max || s->user_limits->memory_max || s->user_limits->cpu_weight))
		r = set_slice_limits(bus, s, e);
out:
	sd.error_free(&err);
	if (reply)
		sd.unref(reply);
	if (m)
		sd.unref(m);
	if (bus)
		sd.close_unref(bus);
	return r < 0 ? -1 : 0;
}
