// SPDX-License-Identifier: MIT
#include "net.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "registry.h"
#include "tools.h"
#include "util.h"

static bool have_tool(enum cell_tool t)
{
	_cleanup_close_ int fd = tool_open(t);

	return fd >= 0;
}

int net_user_stack(enum cell_net_stack want, struct cell_err *e)
{
	if (want != NET_STACK_SLIRP && have_tool(TOOL_PASTA))
		return NET_STACK_PASTA;
	if (want == NET_STACK_PASTA)
		return cell_err_set(e, ENOENT,
				    "net = user with net_stack = pasta: pasta is not installed "
				    "(install passt, or set net_stack = auto)");
	if (have_tool(TOOL_SLIRP))
		return NET_STACK_SLIRP;
	return cell_err_set(e, ENOENT, "net = user needs a user-mode network stack: %s",
			    want == NET_STACK_SLIRP
				    ? "install slirp4netns (net_stack = slirp4netns)"
				    : "install passt (or slirp4netns)");
}

int net_lo_up(struct cell_err *e)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return cell_err_sys(e, "reading the cell's lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return cell_err_sys(e, "bringing the cell's lo up");
	return 0;
}

int net_hosts_text(const char *hostname, const char *addr, char *buf, size_t size)
{
	int n = snprintf(buf, size,
			 "127.0.0.1\tlocalhost\n"
			 "::1\tlocalhost ip6-localhost ip6-loopback\n"
			 "%s\t%s\n",
			 addr && *addr ? addr : "127.0.1.1", hostname);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int net_resolv_text(const char *dns, char *buf, size_t size)
{
	char copy[128], *save = NULL;
	size_t off = 0;
	int n = snprintf(buf, size, "# the cell's (net = ...): cell.conf's net_dns\n");

	if (n < 0 || (size_t)n >= size || str_copy(copy, sizeof(copy), dns) < 0)
		return -1;
	off = (size_t)n;
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		n = snprintf(buf + off, size - off, "nameserver %s\n", t);
		if (n < 0 || (size_t)n >= size - off)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

void net_host_dns(char *buf, size_t size)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, off = 0;
	FILE *f = fopen("/etc/resolv.conf", "re");

	*buf = '\0';
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		char addr[64];
		unsigned char bin[16];
		int n;

		if (sscanf(line, "nameserver %63s", addr) != 1 ||
		    (inet_pton(AF_INET, addr, bin) == 1 && bin[0] == 127) ||
		    (inet_pton(AF_INET6, addr, bin) == 1 && strcmp(addr, "::1") == 0) ||
		    (inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1))
			continue;
		n = snprintf(buf + off, size - off, "%s%s", off ? " " : "", addr);
		if (n < 0 || (size_t)n >= size - off) {
			buf[off] = '\0';
			break;
		}
		off += (size_t)n;
	}
	fclose(f);
}

void net_host_gateway(char *buf, size_t size)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/net/route", "re");

	*buf = '\0';
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		unsigned long dest, gw;
		struct in_addr a;

		if (sscanf(line, "%*s %lx %lx", &dest, &gw) == 2 && dest == 0 && gw != 0) {
			a.s_addr = (in_addr_t)gw;
			inet_ntop(AF_INET, &a, buf, (socklen_t)size);
			break;
		}
	}
	fclose(f);
}

/* pool's network address and prefix, or -1. */
static int pool_base(const char *pool, uint32_t *base, unsigned *prefix)
{
	unsigned a, b, c, d, p;

	if (sscanf(pool, "%u.%u.%u.%u/%u", &a, &b, &c, &d, &p) != 5 || p < 16 || p > 29 ||
	    a > 255 || b > 255 || c > 255 || d > 255)
		return -1;
	*base = ((uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d) &
		~((1u << (32 - p)) - 1);
	*prefix = p;
	return 0;
}

int net_pool_index(const char *pool, const char *addr)
{
	struct in_addr in;
	uint32_t base, host;
	unsigned p;

	if (pool_base(pool, &base, &p) < 0 || inet_pton(AF_INET, addr, &in) != 1)
		return -1;
	host = ntohl(in.s_addr);
	/* In the pool, neither its network address nor its broadcast. */
	if (host <= base || host - base >= (1u << (32 - p)) - 1)
		return -1;
	return (int)(host - base);
}

int net_pool_addr(const char *pool, unsigned n, char *buf, size_t size, unsigned *prefix)
{
	uint32_t base;
	struct in_addr out;
	unsigned p;

	if (pool_base(pool, &base, &p) < 0)
		return -1;
	/* Neither the network's address nor its broadcast. */
	if (n == 0 || n >= (1u << (32 - p)) - 1)
		return -1;
	out.s_addr = htonl(base + n);
	if (!inet_ntop(AF_INET, &out, buf, (socklen_t)size))
		return -1;
	*prefix = p;
	return 0;
}

/* The kernel's struct from ABI 6 on (older headers lack 'scoped'). */
struct ruleset_attr_v6 {
	__u64 handled_access_fs;
	__u64 handled_access_net;
	__u64 scoped;
};
#define SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)

int net_landlock_scope(struct cell_err *e)
{
	struct ruleset_attr_v6 attr = { .scoped = SCOPE_ABSTRACT_UNIX_SOCKET };
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	_cleanup_close_ int fd = -1;

	if (abi < 6)
		return 1; /* no Landlock, or before the scopes */
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		return cell_err_sys(e, "landlock_create_ruleset");
	if (syscall(SYS_landlock_restrict_self, fd, 0) < 0)
		return cell_err_sys(e, "landlock_restrict_self");
	return 0;
}
