/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_IFLIST_H
#define LINECAP_IFLIST_H

/*
 * -D, --list-interfaces: every capture source of this machine, one numbered line each, as
 * tcpdump -D prints them: PCI network devices bound to a DPDK driver (vfio-pci, uio), the
 * kernel's network interfaces (what AF_XDP or AF_PACKET capture), then DPDK's virtual devices
 * as examples. Everything comes from sysfs (and an ethtool ioctl where one is given): no EAL,
 * no hugepages, no port touched, nothing created; it works unprivileged as far as sysfs
 * lets it read.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* What ETHTOOL_GDRVINFO and ETHTOOL_GCHANNELS say of one kernel interface. */
struct lc_iflist_ethtool {
	char driver[32];	/* the netdev's driver ("veth", "ixgbe"); "" when not said */
	bool channels;		/* the counts below are known */
	uint32_t rx, tx, combined;
};

/* Where the listing reads from: the real machine (lc_iflist_env_default), or a fake tree in
 * tests. */
struct lc_iflist_env {
	const char *sysfs;	/* sysfs's root: "/sys" */
	const char *pci_ids;	/* pci.ids, for device names; NULL or unreadable: numbers only */
	const char *kernel;	/* release of the running kernel ("6.1.0-18-amd64"); NULL: uname */
	/* Fill info for interface ifname: 0, or a negative errno (then sysfs alone is used).
	 * NULL: sysfs alone (the queues under /sys/class/net/IF/queues). */
	int (*ethtool)(const char *ifname, struct lc_iflist_ethtool *info, void *arg);
	void *arg;
	/* Write interface ifname's addresses, "10.0.0.5/24, 2001:db8::5/64" (IPv6 link-local
	 * left out), into buf; return how many, or a negative errno. NULL: none known. */
	int (*addresses)(const char *ifname, char *buf, size_t len, void *arg);
	const char *procfs;	/* procfs's root, for net/route and net/ipv6_route: "/proc";
				 * NULL: no routes read */
};

/*
 * What ties a kernel interface to this host's own traffic. Such an interface is captured
 * through AF_PACKET by default (both directions, the kernel keeps every frame): AF_XDP
 * redirects every received frame of its queues to linecap, away from the kernel, which is
 * right for a dedicated capture port only.
 */
struct lc_iflist_host {
	bool loopback;		/* the loopback (AF_XDP cannot attach to it) */
	int naddrs;		/* addresses other than IPv6 link-local */
	char addrs[160];	/* "10.0.0.5/24, 2001:db8::5/64" (cut short with "...") */
	bool default_route;	/* an IPv4 or IPv6 default route goes out through it */
	char upper[64];		/* the device it is a port of (bridge, bond, team, VLAN,
				 * macvlan: sysfs master and upper_*); "" none */
};

/* What env says of ifname (sysfs, env->addresses, env->procfs); parts it cannot read are
 * left empty. */
void lc_iflist_host_of(const struct lc_iflist_env *env, const char *ifname,
		       struct lc_iflist_host *h);

/*
 * Should -i ifname capture through AF_PACKET rather than AF_XDP, by default? Yes (1) for the
 * loopback and for an interface that carries this host's traffic (addresses, a default route,
 * a port of another device); why then says so in words ("this host's addresses
 * (10.0.0.5/24) and a default route", "the loopback"). No (0): a capture port; why "".
 * The one rule both -D and -i follow.
 */
int lc_iflist_prefers_af_packet(const struct lc_iflist_host *h, char *why, size_t len);

/* Interface ifname's addresses from getifaddrs(3) (env->addresses of the real machine). */
int lc_iflist_addresses(const char *ifname, char *buf, size_t len, void *arg);

/* What line n of the list (lc_iflist_print's numbering) names, for -i N as tcpdump takes
 * it. */
enum lc_iflist_kind {
	LC_IFLIST_DPDK_PORT = 1,	/* a PCI device bound to a DPDK driver: name is it */
	LC_IFLIST_PCI_UNBOUND,		/* a PCI device with no driver: not capturable yet */
	LC_IFLIST_KERNEL,		/* a kernel interface: name is it */
	LC_IFLIST_EXAMPLE,		/* a virtual device example: name is the pattern */
};

/* The source on line n of the list: its kind, and its name in name. -ENOENT when the list
 * has no line n (*lines: how many it has), -EIO when it could not be made. */
int lc_iflist_nth(const struct lc_iflist_env *env, int n, char *name, size_t len,
		  int *lines);

/* The real machine's: /sys, the system's pci.ids, uname, lc_iflist_ethtool_ioctl. */
void lc_iflist_env_default(struct lc_iflist_env *env);

/* ETHTOOL_GDRVINFO and ETHTOOL_GCHANNELS on ifname in the caller's network namespace
 * (neither needs privileges). 0 when either answered (info->driver "" or info->channels
 * false for the one that did not), or a negative errno (-ENODEV: no such interface). */
int lc_iflist_ethtool_ioctl(const char *ifname, struct lc_iflist_ethtool *info, void *arg);

/* Write the list to f, numbered from 1: "1.0000:3b:00.0 [DPDK port: vfio-pci, ...]". A
 * directory of sysfs that cannot be read leaves its part of the list empty (not an error).
 * Returns the number of lines written, or -EIO when f failed. */
int lc_iflist_print(FILE *f, const struct lc_iflist_env *env);

#endif
