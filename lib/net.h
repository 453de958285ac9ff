/* SPDX-License-Identifier: MIT */
#ifndef CELL_NET_H
#define CELL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "conf.h"
#include "err.h"

/*
 * A cell's network (net = ...). host: the host's namespace, shared. The
 * others: a network namespace of the cell's own (PID 1 is cloned into it),
 * with lo up, and
 *   none    nothing else;
 *   user    pasta (or slirp4netns), run as the user in the cell's cgroup,
 *           sets up its addresses and routes (pasta copies the host's) and
 *           carries its traffic through sockets of the host's (no host
 *           privilege, no NAT rule);
 *   bridge  a veth pair made by the root monitor: eth0 in the cell with an
 *           address from the profile's pool, the other end on the admin's
 *           bridge. It goes with the namespace, whoever is killed.
 */

/* PID 1 (CAP_NET_ADMIN in the cell's user namespace): bring lo up. */
int net_lo_up(struct cell_err *e);

/* The cell's /etc/hosts and /etc/resolv.conf ("" dns: no nameserver). */
int net_hosts_text(const char *hostname, const char *addr, char *buf, size_t size);
int net_resolv_text(const char *dns, char *buf, size_t size);

/* The host's nameservers that a namespace of its own can reach (not on
 * loopback), space-separated, or "" (root, pam_cell: from /etc/resolv.conf). */
void net_host_dns(char *buf, size_t size);
/* The host's IPv4 default gateway, or "" (pasta copies it into the cell). */
void net_host_gateway(char *buf, size_t size);

/* The n-th address of pool (a.b.c.d/N): 1 the bridge's (the gateway), 2..
 * the cells'. Returns -1 past the pool's last host address. */
int net_pool_addr(const char *pool, unsigned n, char *buf, size_t size, unsigned *prefix);
/* Its inverse: which n addr is in pool, or -1 if it is not one of its
 * host addresses. */
int net_pool_index(const char *pool, const char *addr);

struct net_bridge {
	const char *bridge, *pool;
	bool isolate;
};

/*
 * Root (the monitor), for bridge:NAME: claim an address of the pool (the
 * lowest no live cell holds: CELL_RUN_DIR/ID.net, locked by its monitor
 * for the cell's life; *claim is that fd, to keep), then make the veth pair
 * for PID 1's network namespace (netns, an fd the monitor opened) with
 * ip(8): eth0 inside with the address and a default route through the
 * bridge's address, the host's end on the bridge (isolated from the other
 * cells' ends if asked), both up. addr receives the cell's address.
 */
int net_bridge_up(const struct net_bridge *b, const char *id, pid_t pid1, int netns, int *claim,
		  char *addr, size_t addr_size, struct cell_err *e);

/* net = user's stack for want (auto: pasta if installed, else slirp4netns),
 * or -1 naming the package to install (root, pam_cell). */
int net_user_stack(enum cell_net_stack want, struct cell_err *e);
/* slirp4netns's resolver in the cell (--configure). */
#define NET_SLIRP_DNS "10.0.2.3"

struct net_user {
	uid_t uid; /* the stack runs as the user */
	gid_t gid;
	pid_t pid1;	    /* the cell's PID 1: its user and network namespaces */
	const char *dns;    /* pasta: the address it answers DNS on, "" none */
	bool host_loopback; /* the gateway address reaches the host's loopback */
};

/* Root, for net = user: fork pasta or slirp4netns, drop it to the user,
 * and return its pid; the caller moves it into the cell's cgroup and kills
 * it at the end. */
pid_t net_pasta_start(const struct net_user *u, struct cell_err *e);
pid_t net_slirp_start(const struct net_user *u, struct cell_err *e);
/* Wait (up to timeout_ms) until the namespace of pid1 has a default route. */
int net_wait_route(pid_t pid1, int timeout_ms, struct cell_err *e);

/* cellsh, for net = host: a Landlock domain for this session that scopes
 * abstract unix sockets (no connect to one made outside it: the host's
 * D-Bus, X11, systemd, container runtimes). 1 when the kernel lacks
 * Landlock ABI 6 (Linux < 6.12): nothing done. Needs no_new_privs. */
int net_landlock_scope(struct cell_err *e);

#endif
