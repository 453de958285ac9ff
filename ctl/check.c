// SPDX-License-Identifier: MIT
/*
 * cellctl check: the config (every error, file:line, by pam_cell's own
 * parser), what a login of USER through SVC would get (pam_cell's own
 * decision and checks), and the system around it. Each finding is one
 * line: "ok", "note" (worth knowing), or "FAIL" (a confined login would be
 * refused, or is less safe than it should be) with its fix.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "ctl.h"
#include "decide.h"
#include "image.h"
#include "net.h"
#include "session.h"
#include "systemd.h"
#include "util.h"

static int fails;

static void say(const char *tag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(const char *tag, const char *fmt, ...)
{
	va_list ap;

	printf("  %-4s  ", tag);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (strcmp(tag, "FAIL") == 0)
		fails++;
}

static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* ---- PAM: which services' session stacks load pam_cell ---- */

/* A service's session stack, includes followed, in order. */
struct stack_walk {
	bool found;    /* loads pam_cell.so */
	char mod[600]; /* which one */
	char env[400]; /* "file:line" of a pam_env reading ~ after it, or "" */
};

static void walk_stack(const char *service, int depth, struct stack_walk *w)
{
	char path[300], line[1024];
	int n = 0;
	FILE *f;

	if (depth > 8 || strchr(service, '/'))
		return;
	snprintf(path, sizeof(path), "/etc/pam.d/%s", service);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char type[32], ctl[128], m[256];

		n++;
		if (sscanf(line, " @include %255s", m) == 1) {
			walk_stack(m, depth + 1, w);
			continue;
		}
		if (sscanf(line, " %31s %127s %255s", type, ctl, m) != 3 || type[0] == '#')
			continue;
		if (strcmp(type, "session") != 0 && strcmp(type, "-session") != 0)
			continue;
		if (strcmp(ctl, "include") == 0 || strcmp(ctl, "substack") == 0) {
			walk_stack(m, depth + 1, w);
		} else if (strstr(m, "pam_cell.so") && !w->found) {
			w->found = true;
			if (m[0] == '/')
				snprintf(w->mod, sizeof(w->mod), "%s", m);
			else
				snprintf(w->mod, sizeof(w->mod), "%s/%s", CELL_PAMDIR, m);
		} else if (w->found && !w->env[0] && strstr(m, "pam_env.so") &&
			   strstr(line, "user_readenv=1")) {
			snprintf(w->env, sizeof(w->env), "%s:%d", path, n);
		}
	}
	fclose(f);
}

static bool stack_loads(const char *service, struct stack_walk *w)
{
	memset(w, 0, sizeof(*w));
	walk_stack(service, 0, w);
	return w->found;
}

static void check_pam(void)
{
	static const char *const logins[] = { "sshd", "login", "su", "su-l", "cron", "atd" };
	char loading[2048] = "", path[300];
	struct stack_walk w;
	struct dirent *d;
	DIR *dir;

	dir = opendir("/etc/pam.d");
	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.' || !stack_loads(d->d_name, &w))
			continue;
		if (access(w.mod, R_OK) < 0)
			say("FAIL",
			    "/etc/pam.d/%s loads %s, which is missing: every login through %s "
			    "fails ('Module is unknown'); reinstall cell, or remove the line",
			    d->d_name, w.mod, d->d_name);
		/* Only a host-side helper run with the PAM environment can use
		 * what pam_env adds back (cellsh is static, the cell's shell gets
		 * a clean environment): sshd's /etc/ssh/sshrc is one. */
		if (w.env[0])
			say(strncmp(d->d_name, "sshd", 4) == 0 &&
					    access("/etc/ssh/sshrc", F_OK) == 0
				    ? "FAIL"
				    : "note",
			    "/etc/pam.d/%s: pam_env with user_readenv=1 at %s runs after pam_cell "
			    "and adds the user's ~/.pam_environment back to what the login "
			    "program hands its host-side helpers (sshd runs /etc/ssh/sshrc with "
			    "it): load pam_cell after it, at the end of /etc/pam.d/%s",
			    d->d_name, w.env, d->d_name);
		if (strlen(loading) + strlen(d->d_name) + 2 < sizeof(loading))
			strcat(strcat(loading, " "), d->d_name);
	}
	if (dir)
		closedir(dir);
	if (*loading)
		say("ok", "PAM services that build cells:%s", loading);
	else
		say("FAIL", "no PAM service loads pam_cell.so: add 'session required pam_cell.so' "
			    "at the end of /etc/pam.d/sshd (and login, su), or run "
			    "pam-auth-update and select cell");
	for (size_t i = 0; i < ARRAY_SIZE(logins); i++) {
		bool scheduler = strcmp(logins[i], "cron") == 0 || strcmp(logins[i], "atd") == 0;

		snprintf(path, sizeof(path), "/etc/pam.d/%s", logins[i]);
		if (access(path, F_OK) < 0 || stack_loads(logins[i], &w))
			continue;
		/* cron and atd never start the login shell: without pam_cell to
		 * refuse them, a confined user's jobs run on the host. */
		if (scheduler)
			say("FAIL",
			    "/etc/pam.d/%s does not load pam_cell: %s would run a confined user's "
			    "jobs with /bin/sh on the host; add 'session required pam_cell.so' at "
			    "its end (pam_cell refuses those jobs, cell.conf(5) SCHEDULED JOBS)",
			    logins[i], logins[i]);
		else
			say("note",
			    "/etc/pam.d/%s does not load pam_cell: confined users get nothing "
			    "through %s (cellsh refuses without a cell), never a host shell",
			    logins[i], logins[i]);
	}
}

/* ---- the kernel ---- */

static int try_in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn() == 0 ? 0 : 1);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int r = fd < 0 ? -1 : write_all(fd, text, strlen(text));

	if (fd >= 0)
		close(fd);
	return r;
}

/* As nobody: a user namespace, and overlayfs mounted inside it. */
static int overlay_in_userns(void)
{
	if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
	    setresuid(65534, 65534, 65534) < 0 || prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0 ||
	    unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0 ||
	    write_file("/proc/self/setgroups", "deny") < 0 ||
	    write_file("/proc/self/uid_map", "0 65534 1") < 0 ||
	    write_file("/proc/self/gid_map", "0 65534 1") < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("t", "/tmp", "tmpfs", 0, NULL) < 0 || mkdir("/tmp/l", 0700) < 0 ||
	    mkdir("/tmp/u", 0700) < 0 || mkdir("/tmp/w", 0700) < 0 || mkdir("/tmp/m", 0700) < 0)
		return -1;
	return mount("o", "/tmp/m", "overlay", 0, "lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w");
}

/* As root: an idmapped clone of the mount holding /usr (what an image
 * root filesystem maps into a cell), to the user namespace of a child. */
static int idmapped_mount(void)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP };
	char path[64], c = 0;
	int ready[2], done[2], tree = -1, ns = -1, r = -1;
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		/* Unshare, say so, and live until the parent is done. */
		close(done[1]);
		close(ready[0]);
		c = unshare(CLONE_NEWUSER) == 0 ? 'u' : 'x';
		if (write(ready[1], &c, 1) == 1)
			(void)!read(done[0], &c, 1);
		_exit(0);
	}
	close(ready[1]);
	close(done[0]);
	if (pid > 0 && read(ready[0], &c, 1) == 1 && c == 'u') {
		snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
		if (write_file(path, "0 65534 1") == 0) {
			snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
			if (write_file(path, "0 65534 1") == 0) {
				snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
				ns = open(path, O_RDONLY | O_CLOEXEC);
			}
		}
		tree = open_tree(AT_FDCWD, "/usr", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (ns >= 0 && tree >= 0) {
			attr.userns_fd = (unsigned long long)ns;
			r = mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr));
		}
	}
	if (tree >= 0)
		close(tree);
	if (ns >= 0)
		close(ns);
	close(done[1]);
	close(ready[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return r;
}

/* Every login moves its shell into the cell's cgroup: by default the
 * kernel may then wait for an RCU grace period (cgroup_threadgroup_rwsem).
 * Measured as cellsh:cgroup under sshd: 0.5 ms on a fresh 2-core VM, 8 to
 * 16 ms on the same kind of VM once its cgroup state had grown (thousands
 * of cells made and gone). favordynmods makes the move cheap, and forks and
 * exits dearer: the admin's call. */
static void check_dynmods(void)
{
	char line[512];
	const char *k;
	bool on = false;
	FILE *f = fopen("/proc/mounts", "re");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "cgroup", 6) == 0 && strstr(line, "favordynmods"))
			on = true;
	if (f)
		fclose(f);
	/* kstrtobool's yes: 1, y, t(rue) */
	if (read_small("/proc/cmdline", line, sizeof(line)) == 0 &&
	    (k = strstr(line, "cgroup_favordynmods=")) && k[20] && strchr("1yYtT", k[20]))
		on = true;
	if (!on)
		say("note",
		    "cgroups without favordynmods: moving each login's shell into its cell "
		    "may wait for an RCU grace period (up to several ms per login); for quicker logins "
		    "at the cost of dearer forks and exits: mount -o remount,favordynmods "
		    "/sys/fs/cgroup (v2), or boot with cgroup_favordynmods=true (Linux >= 6.7)");
}

static void check_kernel(void)
{
	char v[64];
	struct cgroup_layout l;
	struct cell_err e = { 0 };
	static const char *const names[] = { "pids", "memory", "cpu", "cpuacct" };

	if (read_small("/proc/sys/user/max_user_namespaces", v, sizeof(v)) == 0 && atol(v) > 0)
		say("ok", "user namespaces: user.max_user_namespaces = %s", v);
	else
		say("FAIL",
		    "user namespaces are off (user.max_user_namespaces = %s): sysctl -w "
		    "user.max_user_namespaces=15000",
		    v);
	if (read_small("/proc/sys/kernel/unprivileged_userns_clone", v, sizeof(v)) == 0 &&
	    strcmp(v, "1") != 0)
		say("FAIL",
		    "kernel.unprivileged_userns_clone = %s: cells need it: sysctl -w "
		    "kernel.unprivileged_userns_clone=1",
		    v);
	if (read_small("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", v, sizeof(v)) ==
		    0 &&
	    strcmp(v, "0") != 0)
		say("note",
		    "kernel.apparmor_restrict_unprivileged_userns = %s: cell-init needs an "
		    "AppArmor profile allowing userns, or set it to 0",
		    v);
	if (try_in_child(overlay_in_userns) == 0)
		say("ok", "overlayfs mounts inside a user namespace");
	else
		say("note", "overlayfs cannot be mounted inside a user namespace (Linux >= 5.11 "
			    "needed): image root filesystems will not work");
	if (try_in_child(idmapped_mount) == 0)
		say("ok", "idmapped mounts of the filesystem holding /usr");
	else
		say("note", "no idmapped mount of the filesystem holding /usr (Linux >= 5.12 and "
			    "a filesystem that supports them): image root filesystems will not "
			    "work");
	if (cgroup_layout(&l, &e) < 0) {
		say("FAIL", "cgroups: %s", e.msg);
		return;
	}
	for (int i = 0; i < CG_COUNT; i++) {
		if (i == CG_CPUACCT && !l.mount[i][0])
			continue; /* v2 counts cpu time without it */
		if (l.mount[i][0])
			say("ok", "cgroup %s controller: %s at %s", names[i], l.v2[i] ? "v2" : "v1",
			    l.mount[i]);
		else
			say("note", "no %s controller: a profile that sets %s refuses its logins",
			    names[i],
			    i == CG_PIDS     ? "pids_max"
			    : i == CG_MEMORY ? "memory_max"
					     : "cpu_weight");
	}
	if (systemd_booted())
		say("ok", "systemd is PID 1: each cell is a transient unit cell-ID.scope");
	check_dynmods();
}

/* ---- where pam_cell's log lines go ---- */

static void check_log(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
	char target[256];
	ssize_t n = readlink("/dev/log", target, sizeof(target) - 1);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool up = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	if (fd >= 0)
		close(fd);
	target[n > 0 ? n : 0] = '\0';
	if (!up)
		say("note", "nothing reads /dev/log: pam_cell's log lines are lost (users still "
			    "see each refusal with its cause); start rsyslog or journald");
	else if (strstr(target, "journal"))
		say("ok", "log: the journal (cellctl log, or journalctl SYSLOG_FACILITY=10)");
	else if (access("/var/log/auth.log", F_OK) == 0)
		say("ok", "log: syslog, authpriv: /var/log/auth.log (cellctl log)");
	else
		say("ok", "log: a syslog daemon reads /dev/log (facility authpriv)");
}

/* ---- sshd for a confined user ---- */

static void check_sshd(const char *user, const char *config)
{
	static const char *const sshd = "/usr/sbin/sshd";
	char spec[512], out[65536] = "", *fwd, *tcp;
	int p[2], status;
	size_t len = 0;
	pid_t pid;

	if (access(sshd, X_OK) < 0)
		return;
	snprintf(spec, sizeof(spec), "user=%s,host=localhost,addr=127.0.0.1", user);
	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0)
		return;
	if (pid == 0) {
		dup2(p[1], 1);
		if (config)
			execl(sshd, sshd, "-T", "-f", config, "-C", spec, (char *)NULL);
		else
			execl(sshd, sshd, "-T", "-C", spec, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	for (ssize_t n;
	     len < sizeof(out) - 1 && (n = read(p[0], out + len, sizeof(out) - 1 - len)) > 0;)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		say("note", "sshd -T -C %s failed: sshd's own config has a problem", spec);
		return;
	}
	fwd = strstr(out, "\ndisableforwarding yes");
	tcp = strstr(out, "\nallowtcpforwarding no");
	if (fwd ||
	    (tcp && strstr(out, "\nallowagentforwarding no") &&
	     strstr(out, "\nallowstreamlocalforwarding no") && strstr(out, "\nx11forwarding no")))
		say("ok", "sshd: forwarding off for %s", user);
	else
		say("FAIL",
		    "sshd serves port, agent, X11 and socket forwarding to %s on the host: "
		    "put them in group cell (cellctl enable does) and install the snippet "
		    "as /etc/ssh/sshd_config.d/cell.conf (the package does; else copy "
		    "share/cell/sshd_cell.conf), then reload sshd",
		    user);
	if (strstr(out, "\npermituserrc no"))
		say("ok", "sshd: no ~/.ssh/rc for %s", user);
	else
		say("FAIL",
		    "sshd runs ~/.ssh/rc of %s through a host-side /bin/sh: add "
		    "'PermitUserRC no' to the cell snippet",
		    user);
	if (strstr(out, "\npermittunnel no"))
		say("ok", "sshd: no tunnels for %s", user);
	else
		say("FAIL", "sshd gives %s tun/tap tunnels: add 'PermitTunnel no'", user);
	if (strstr(out, "internal-sftp"))
		say("FAIL", "sshd's sftp is internal-sftp, which runs on the host: use "
			    "'Subsystem sftp /usr/lib/openssh/sftp-server'");
}

/* ---- one user ---- */

/* rootfs = image:NAME: the image as pam_cell's monitor opens it, and the
 * user's upper layer if there is one. */
static bool check_image(const struct cell_profile *p, const char *user, bool quiet)
{
	const char *name = conf_image(p);
	struct cell_err e = { 0 };
	int fd;

	if (!name)
		return true;
	fd = image_open(name, &e);
	if (fd < 0) {
		say("FAIL", "rootfs image:%s: %s", name, e.msg);
		return false;
	}
	close(fd);
	if (p->overlay != OVERLAY_PERSISTENT) {
		if (!quiet)
			say("ok", "rootfs image:%s, overlay %s (a tmpfs of %llu M)", name,
			    overlay_name(p->overlay), p->upper_max >> 20);
		return true;
	}
	if (p->upper_max &&
	    (access(IMAGE_MKFS, X_OK) < 0 || access(IMAGE_LOOP_CONTROL, F_OK) < 0)) {
		say("FAIL",
		    "rootfs image:%s: upper_max = %llu M needs %s (e2fsprogs) and %s (modprobe "
		    "loop), for the user's upper filesystem: install them, or set upper_max = none",
		    name, p->upper_max >> 20, IMAGE_MKFS, IMAGE_LOOP_CONTROL);
		return false;
	}
	fd = image_user_dir(user, name, false, &e);
	if (fd < 0 && e.code != ENOENT) {
		say("FAIL", "rootfs image:%s: %s", name, e.msg);
		return false;
	}
	if (!quiet)
		say("ok", "rootfs image:%s, overlay persistent: %s, %s", name,
		    fd >= 0 ? "the user's upper layer is in place"
			    : "the upper layer is made at the first login",
		    p->upper_max ? "in a filesystem of upper_max" : "no size limit");
	if (fd >= 0)
		close(fd);
	return true;
}

/* proc_views = yes: what the monitor needs to start cell-procfs. */
static bool check_views(const struct cell_conf *c, const struct cell_profile *p, bool quiet)
{
	char dir[sizeof(c->cell_init)], path[sizeof(c->cell_init) + 16];
	char *slash;

	if (!p->proc_views)
		return true;
	str_copy(dir, sizeof(dir), c->cell_init);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/cell-procfs", dir);
	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		say("FAIL",
		    "proc_views = yes needs /dev/fuse (%s): modprobe fuse, or set proc_views = no",
		    strerror(errno));
		return false;
	}
	if (access(path, X_OK) < 0) {
		say("FAIL",
		    "proc_views = yes needs %s beside cell_init (%s): install it, or set "
		    "proc_views = no",
		    path, strerror(errno));
		return false;
	}
	if (!getpwnam("nobody")) {
		say("FAIL", "proc_views = yes: cell-procfs runs as 'nobody', and there is no such "
			    "account: add one");
		return false;
	}
	if (!quiet)
		say("ok", "proc views: /dev/fuse and %s", path);
	return true;
}

/* net = ...: what the monitor needs for the profile's mode, and the sshd
 * snippet's forwarding group holding only users whose cell shares the
 * host's network (else sshd's -L would reach what their cell cannot). */
static bool check_net(const struct cell_profile *p, const struct cell_account *a, bool quiet)
{
	char bridge[16], path[64];
	enum cell_net mode = conf_net(p, bridge);
	struct stat st;
	bool good = true;

	for (size_t i = 0; i < a->ngnames; i++)
		if (strcmp(a->gnames[i], "cell-forward") == 0 && mode != NET_HOST) {
			say("FAIL",
			    "%s is in group cell-forward (ssh -L to the host's loopback) but "
			    "its profile has net = %s: sshd would reach what the cell cannot. "
			    "Take it out (gpasswd -d %s cell-forward); cell-connect(1) forwards "
			    "into its cell",
			    a->name, p->net, a->name);
			good = false;
		}
	switch (mode) {
	case NET_USER: {
		struct cell_err e = { 0 };
		int stack = net_user_stack(p->net_stack, &e);

		if (stack < 0) {
			say("FAIL", "%s", e.msg);
			return false;
		}
		if (!quiet)
			say("ok", "net = user runs %s%s",
			    net_stack_name((enum cell_net_stack)stack),
			    p->net_host_loopback
				    ? " (net_host_loopback = yes: the gateway address is the "
				      "host's 127.0.0.1)"
				    : "");
		if (stat("/dev/net/tun", &st) < 0 || (st.st_mode & 0666) != 0666) {
			say("FAIL", "net = user needs /dev/net/tun open to users: chmod 0666 "
				    "/dev/net/tun (udev makes it so)");
			return false;
		}
		break;
	}
	case NET_BRIDGE:
		snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", bridge);
		if (stat(path, &st) < 0) {
			say("FAIL",
			    "net = bridge:%s: there is no bridge %s: create it (ip link add "
			    "%s type bridge), give it net_pool's first address, set it up",
			    bridge, bridge, bridge);
			return false;
		}
		if (!*p->net_pool) {
			say("FAIL", "net = bridge:%s needs net_pool (e.g. 10.77.0.0/24)", bridge);
			return false;
		}
		break;
	case NET_HOST:
		if (p->landlock &&
		    syscall(SYS_landlock_create_ruleset, NULL, 0, 1 /* _VERSION */) < 6 && !quiet)
			say("note", "landlock = yes: this kernel has no Landlock ABI 6 (Linux >= "
				    "6.12): net = host cells reach the host's abstract sockets");
		break;
	default:
		break;
	}
	if (good && !quiet)
		say("ok", "net = %s", p->net);
	return good;
}

static bool check_user(const struct cell_conf *c, const struct login_decision *d, bool quiet)
{
	const struct cell_profile *p = &d->match.profile;
	struct cell_err e = { 0 };
	char why[1600];
	bool good = true;

	if (login_confinable(c, d, why, sizeof(why)) < 0) {
		say("FAIL", "%s", why);
		good = false;
	} else if (!quiet) {
		say("ok", "login shell %s", d->acct.shell);
	}
	if (session_check_ids(c, p, &d->acct, &e) < 0) {
		say("FAIL", "%s", e.msg);
		good = false;
	} else if (!quiet) {
		say("ok", "subordinate ids: %s",
		    p->identity == IDENTITY_SELF ? "none needed (identity = self)"
						 : "valid, not shared with anyone");
	}
	good = check_views(c, p, quiet) && good;
	good = check_net(p, &d->acct, quiet) && good;
	return check_image(p, d->acct.name, quiet) && good;
}

static void print_decision(const struct login_decision *d, const char *user, const char *svc)
{
	const struct cell_profile *p = &d->match.profile;
	unsigned long long mem = conf_memory_max(p);

	switch (d->verdict) {
	case LOGIN_REFUSE:
		say("FAIL", "a login of %s%s%s is refused: %s", user, svc ? " through " : "",
		    svc ? svc : "", d->why);
		break;
	case LOGIN_EXEMPT:
		say("ok", "%s is exempt (%s): logs in unconfined", user, d->why);
		break;
	case LOGIN_IGNORE:
		say("ok", "%s is not confined%s%s: %s", user, svc ? " through " : "",
		    svc ? svc : "", d->why);
		break;
	case LOGIN_CONFINE:
		say("ok", "%s is confined by %s", user, d->match.why);
		say("ok",
		    "%s%s: identity %s, shell %s, hostname %s, share %s, services %s, pids_max "
		    "%lu, memory_max %llu%s, cpu_weight %lu, pty_max %lu",
		    d->match.profile_name[0] ? "profile " : "settings", d->match.profile_name,
		    identity_name(p->identity), p->shell, p->hostname,
		    p->share_user ? "user" : "none", p->services, p->pids_max, mem >> 20,
		    mem ? "M" : " (none)", p->cpu_weight, p->pty_max);
		break;
	default:
		break;
	}
}

int cmd_check(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *svc = NULL, *sshd_config = NULL;
	struct cell_conf *c = calloc(1, sizeof(*c));
	struct login_decision *d = calloc(1, sizeof(*d));
	char line[300], *first_confined = NULL;
	bool user_ok = false, confined = false, broken = false;
	struct passwd *pw;
	size_t nconfined = 0, nbad = 0;

	if (!c || !d)
		ctl_die(EXIT_PROBLEM, "out of memory");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			user = argv[++i];
		else if (strcmp(argv[i], "--service") == 0 && i + 1 < argc)
			svc = argv[++i];
		else if (strcmp(argv[i], "--sshd-config") == 0 && i + 1 < argc)
			sshd_config = argv[++i];
		else
			ctl_die(EXIT_USAGE, "usage: cellctl check [--user USER] [--service SVC] "
					    "[--sshd-config PATH]");
	}

	printf("config %s:\n", ctl->conf);
	conf_init(c);
	if (conf_load(c, ctl->conf) > 0) {
		for (size_t i = 0; i < c->nerrors && i < CONF_MAX_ERRORS; i++)
			say("FAIL", "%s", c->errors[i]);
		if (c->nerrors > CONF_MAX_ERRORS)
			say("FAIL", "... and %zu more", c->nerrors - CONF_MAX_ERRORS);
		printf("  every confined login is refused until the config is fixed (exempt "
		       "users still get in)\n");
		broken = true;
	} else {
		say("ok", "%zu section(s), no errors", c->nsections);
	}
	/* The rest of the system is checked all the same: one run, every fix. */
	if (access(c->cellsh, X_OK) == 0)
		say("ok", "cellsh = %s", c->cellsh);
	else
		say("FAIL", "cellsh = %s: %s", c->cellsh, strerror(errno));
	if (access(c->cell_init, X_OK) == 0)
		say("ok", "cell_init = %s", c->cell_init);
	else
		say("FAIL", "cell_init = %s: %s", c->cell_init, strerror(errno));
	{
		FILE *f = fopen("/etc/shells", "re");
		bool listed = false;

		while (f && fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			if (strcmp(line, c->cellsh) == 0)
				listed = true;
		}
		if (f)
			fclose(f);
		if (listed)
			say("ok", "%s is in /etc/shells", c->cellsh);
		else
			say("note",
			    "%s is not in /etc/shells: chsh, ftp and some sshd setups refuse "
			    "such users; add it (add-shell %s)",
			    c->cellsh, c->cellsh);
	}
	conf_free(c);

	if (user) {
		printf("a login of %s%s%s:\n", user, svc ? " through " : "", svc ? svc : "");
		login_decide(c, ctl->conf, user, svc, d);
		print_decision(d, user, svc);
		confined = d->verdict == LOGIN_CONFINE;
		if (confined)
			user_ok = check_user(c, d, false);
		if (d->have_acct)
			account_free(&d->acct);
		conf_free(c);
	}

	printf("confined users:\n");
	/* Names first, decisions after: deciding looks accounts up (NSS,
	 * libsubid), which must not run inside a getpwent() walk. */
	char **names = NULL;
	size_t nnames = 0;
	setpwent();
	while (!broken && (pw = getpwent())) {
		char **grown = realloc(names, (nnames + 1) * sizeof(*names));

		if (!grown || !(grown[nnames] = strdup(pw->pw_name))) {
			names = grown ? grown : names;
			say("FAIL", "out of memory listing accounts");
			break;
		}
		names = grown;
		nnames++;
	}
	endpwent();
	for (size_t i = 0; i < nnames; i++) {
		login_decide(c, ctl->conf, names[i], NULL, d);
		if (d->verdict == LOGIN_CONFINE) {
			nconfined++;
			if (!first_confined)
				first_confined = strdup(names[i]);
			if (!check_user(c, d, true))
				nbad++;
		}
		if (d->have_acct)
			account_free(&d->acct);
		conf_free(c);
		free(names[i]);
	}
	free(names);
	if (broken)
		say("note", "not known until the config parses");
	else if (nconfined)
		say(nbad ? "note" : "ok",
		    "%zu confined account(s) listed by NSS, %zu with a problem "
		    "above",
		    nconfined, nbad);
	else
		say("note", "no account NSS lists is confined yet (cellctl enable USER)");

	printf("PAM:\n");
	check_pam();
	printf("kernel:\n");
	check_kernel();
	if (user || first_confined) {
		printf("sshd:\n");
		check_sshd(user && confined ? user
			   : first_confined ? first_confined
					    : user,
			   sshd_config);
	}
	printf("logging:\n");
	check_log();
	free(first_confined);
	free(c);
	free(d);
	if (fails) {
		printf("%d problem(s): %s\n", fails,
		       user && confined && !user_ok ? "a confined login would be refused"
						    : "see FAIL above");
		return EXIT_PROBLEM;
	}
	if (user && !confined) {
		printf("no problem found; %s is not confined\n", user);
		return EXIT_NOT_CONFINED;
	}
	printf("no problem found%s\n", user ? ": a confined login would work" : "");
	return EXIT_OK;
}
