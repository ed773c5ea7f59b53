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
};

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
