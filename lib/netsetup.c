// SPDX-License-Identifier: MIT
/*
 * A cell's network from root's side (the monitor): the veth pair of
 * net = bridge:NAME and pasta for net = user. See net.h.
 */
#include "net.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harden.h"
#include "registry.h"
#include "tools.h"
#include "util.h"

#define NET_LOCK_MS 10000

/* The user-mode stack's common ground: its program found (tool, an fd of
 * tool_open) and /dev/net/tun open to users (the stack, as the user,
 * opens it in the cell's namespace). 0, or -1 naming the fix. */
static int stack_ready(int tool, const char *name, const char *package, struct cell_err *e)
{
	struct stat st;

	if (tool < 0)
		return cell_err_set(e, ENOENT, "net = user needs %s: install %s", name, package);
	if (stat("/dev/net/tun", &st) < 0 || !S_ISCHR(st.st_mode) || (st.st_mode & 0666) != 0666)
		return cell_err_set(e, EACCES,
				    "net = user needs /dev/net/tun open to users (mode 0666, as "
				    "udev makes it): chmod 0666 /dev/net/tun");
	return 0;
}

/* Fork; the child, with nothing but /dev/null open, a clean environment,
 * the user's credentials and death with the monitor, runs the tool by fd
 * with argv. Returns the child's pid (the caller's to kill and reap). */
static pid_t spawn_as_user(int tool, const char *const *argv, uid_t uid, gid_t gid,
			   struct cell_err *e)
{
	pid_t pid = fork();

	if (pid < 0)
		return cell_err_sys(e, "fork");
	if (pid == 0) {
		static char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
		char *const envp[] = { path_env, NULL };
		struct cell_err ce;

		if (child_std_fds(-1, -1) < 0 ||
		    harden_become_user(uid, gid, NULL, 0, false, &ce) < 0 ||
		    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
			_exit(126);
		/* execveat by syscall(2): its varargs take the const array. */
		syscall(SYS_execveat, tool, "", argv, envp, AT_EMPTY_PATH);
		_exit(127);
	}
	return pid;
}

/* ip -batch - with these commands on its stdin; in netns if >= 0. A clean
 * environment, nothing but the pipe and /dev/null open. */
static int run_ip(int netns, const char *cmds, struct cell_err *e)
{
	_cleanup_close_ int ip = tool_open(TOOL_IP);
	int p[2], status;
	pid_t pid;

	if (ip < 0)
		return cell_err_set(e, ENOENT, "net = bridge needs ip(8): install iproute2");
	if (pipe2(p, O_CLOEXEC) < 0)
		return cell_err_sys(e, "pipe2");
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return cell_err_sys(e, "fork");
	}
	if (pid == 0) {
		static char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
		char *const envp[] = { path_env, NULL };
		static char a0[] = "ip", a1[] = "-batch", a2[] = "-";
		char *const argv[] = { a0, a1, a2, NULL };

		if ((netns >= 0 && setns(netns, CLONE_NEWNET) < 0) || child_std_fds(p[0], -1) < 0)
			_exit(126);
		syscall(SYS_execveat, ip, "", argv, envp, AT_EMPTY_PATH);
		_exit(127);
	}
	close(p[0]);
	if (write_all(p[1], cmds, strlen(cmds)) < 0) {
		close(p[1]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return cell_err_sys(e, "writing to ip(8)");
	}
	close(p[1]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return cell_err_sys(e, "waiting for ip(8)");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return cell_err_set(e, EIO, "ip(8) failed (exit %d) on: %.200s",
				    WIFEXITED(status) ? WEXITSTATUS(status) : -1, cmds);
	return 0;
}

/* Claim the lowest address of the pool that no live cell on this bridge
 * holds. Every ID.net is flock()ed by its monitor while its cell lives; one
 * nobody holds is a dead cell's, removed. */
static int claim_addr(const struct net_bridge *b, const char *id, int *claim, char *addr,
		      size_t addr_size, struct cell_err *e)
{
	_cleanup_close_ int lock = -1, dfd = -1, fd = -1;
	unsigned char used[1024] = { 0 }; /* a bit per host number: the first 8190 */
	char name[48], text[96], me[32];
	unsigned prefix;
	struct dirent *de;
	DIR *d;

	lock = registry_lock("lock-net", NET_LOCK_MS, e);
	dfd = lock >= 0 ? registry_dir(e) : -1;
	if (dfd < 0)
		return cell_err_prefix(e, "net = bridge: ");
	d = registry_list(dfd);
	if (!d)
		return cell_err_sys(e, "listing %s", CELL_RUN_DIR);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		_cleanup_close_ int other = -1;
		char br[32], a[32];
		ssize_t n;
		int i;

		if (len <= 4 || strcmp(de->d_name + len - 4, ".net") != 0)
			continue;
		other = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (other < 0)
			continue;
		if (flock(other, LOCK_SH | LOCK_NB) == 0) {
			unlinkat(dfd, de->d_name, 0); /* its monitor is gone */
			continue;
		}
		n = read(other, text, sizeof(text) - 1);
		text[n > 0 ? n : 0] = '\0';
		if (sscanf(text, "%31s %31s", br, a) != 2 || strcmp(br, b->bridge) != 0)
			continue;
		/* O(1) a cell (the candidates' strings compared, it was up to 8190). */
		i = net_pool_index(b->pool, a);
		if (i >= 2 && i < 8192)
			used[i / 8] |= (unsigned char)(1u << (i % 8));
	}
	closedir(d);
	for (unsigned i = 2;; i++) {
		if (i >= 8192 || net_pool_addr(b->pool, i, me, sizeof(me), &prefix) < 0)
			return cell_err_set(
				e, EADDRNOTAVAIL,
				"net = bridge:%s: every address of net_pool %s is taken "
				"by a live cell: widen the pool",
				b->bridge, b->pool);
		if (!(used[i / 8] & (1u << (i % 8))))
			break;
	}
	snprintf(name, sizeof(name), "%s.net", id);
	fd = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || fchmod(fd, 0644) < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
		return cell_err_sys(e, "creating %s/%s", CELL_RUN_DIR, name);
	snprintf(text, sizeof(text), "%s %s\n", b->bridge, me);
	if (write_all(fd, text, strlen(text)) < 0)
		return cell_err_sys(e, "writing %s/%s", CELL_RUN_DIR, name);
	if (str_copy(addr, addr_size, me) < 0)
		return cell_err_set(e, ENAMETOOLONG, "address too long");
	*claim = steal_fd(&fd);
	return 0;
}

int net_bridge_up(const struct net_bridge *b, const char *id, pid_t pid1, int netns, int *claim,
		  char *addr, size_t addr_size, struct cell_err *e)
{
	char path[96], gw[32], cmds[512], host_end[IFNAMSIZ];
	unsigned prefix;
	struct stat st;

	/* Checked by name under /sys: the admin's bridge must be there. */
	snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", b->bridge);
	if (stat(path, &st) < 0)
		return cell_err_set(
			e, ENODEV,
			"net = bridge:%s: there is no bridge %s (create it: ip link add "
			"%s type bridge; ip addr add GATEWAY dev %s; ip link set %s up)",
			b->bridge, b->bridge, b->bridge, b->bridge, b->bridge);
	if (net_pool_addr(b->pool, 1, gw, sizeof(gw), &prefix) < 0)
		return cell_err_set(e, EINVAL, "net = bridge:%s needs net_pool (e.g. 10.77.0.0/24)",
				    b->bridge);
	if (claim_addr(b, id, claim, addr, addr_size, e) < 0)
		return -1;
	/* The host's end: "cv" and the first 12 digits of the id (unique
	 * among live cells, 14 characters < IFNAMSIZ). */
	snprintf(host_end, sizeof(host_end), "cv%.12s", id);
	snprintf(cmds, sizeof(cmds),
		 "link add %s type veth peer name eth0 netns %d\n"
		 "link set %s master %s\n"
		 "link set %s type bridge_slave isolated %s\n"
		 "link set %s up\n",
		 host_end, (int)pid1, host_end, b->bridge, host_end, b->isolate ? "on" : "off",
		 host_end);
	if (run_ip(-1, cmds, e) < 0)
		return cell_err_prefix(e, "net = bridge:%s: ", b->bridge);
	snprintf(cmds, sizeof(cmds),
		 "addr add %s/%u dev eth0\n"
		 "link set eth0 up\n"
		 "route add default via %s\n",
		 addr, prefix, gw);
	if (run_ip(netns, cmds, e) < 0)
		return cell_err_prefix(e, "net = bridge:%s, in the cell: ", b->bridge);
	return 0;
}

pid_t net_pasta_start(const struct net_user *u, struct cell_err *e)
{
	_cleanup_close_ int pasta = tool_open(TOOL_PASTA);
	char userns[64], netns[64];
	/* -t/-u none: no port of the host forwarded in; -T/-U none: none of
	 * the cell's forwarded out. */
	const char *argv[] = { "pasta", "--foreground", "--quiet",  "--config-net", "-t",
			       "none",	"-u",		"none",	    "-T",	    "none",
			       "-U",	"none",		"--userns", userns,	    "--netns",
			       netns,	NULL,		NULL,	    NULL,	    NULL };
	size_t n = 16;

	if (stack_ready(pasta, "pasta", "passt", e) < 0)
		return -1;
	snprintf(userns, sizeof(userns), "/proc/%d/ns/user", (int)u->pid1);
	snprintf(netns, sizeof(netns), "/proc/%d/ns/net", (int)u->pid1);
	/* The gateway address is the real gateway, not the host's loopback,
	 * unless net_host_loopback = yes. */
	if (!u->host_loopback)
		argv[n++] = "--no-map-gw";
	if (*u->dns) {
		argv[n++] = "--dns-forward";
		argv[n++] = u->dns;
	}
	return spawn_as_user(pasta, argv, u->uid, u->gid, e);
}

pid_t net_slirp_start(const struct net_user *u, struct cell_err *e)
{
	_cleanup_close_ int slirp = tool_open(TOOL_SLIRP);
	char userns[80], netns[64];
	/* --configure: tap0 with 10.0.2.100/24, the default route through
	 * 10.0.2.2 and DNS on 10.0.2.3; --enable-seccomp: its own syscall
	 * filter. */
	const char *argv[] = { "slirp4netns",
			       "--configure",
			       "--mtu=65520",
			       "--enable-seccomp",
			       "--netns-type=path",
			       userns,
			       NULL,
			       NULL,
			       NULL,
			       NULL };
	size_t n = 6;

	if (stack_ready(slirp, "slirp4netns", "slirp4netns", e) < 0)
		return -1;
	snprintf(userns, sizeof(userns), "--userns-path=/proc/%d/ns/user", (int)u->pid1);
	snprintf(netns, sizeof(netns), "/proc/%d/ns/net", (int)u->pid1);
	/* 10.0.2.2 is not the host's loopback, unless net_host_loopback = yes. */
	if (!u->host_loopback)
		argv[n++] = "--disable-host-loopback";
	argv[n++] = netns;
	argv[n++] = "tap0";
	return spawn_as_user(slirp, argv, u->uid, u->gid, e);
}

int net_wait_route(pid_t pid1, int timeout_ms, struct cell_err *e)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/net/route", (int)pid1);
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		_cleanup_free_ char *line = NULL;
		size_t cap = 0;
		FILE *f = fopen(path, "re");
		bool found = false;

		while (f && getline(&line, &cap, f) > 0) {
			unsigned long dest;

			if (sscanf(line, "%*s %lx", &dest) == 1 && dest == 0 &&
			    strncmp(line, "Iface", 5) != 0)
				found = true;
		}
		if (f)
			fclose(f);
		if (found)
			return 0;
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	return cell_err_set(e, ETIMEDOUT,
			    "net = user: the user-mode stack did not set up the cell's network "
			    "within %d ms",
			    timeout_ms);
}
