/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_KIF_H
#define LINECAP_KIF_H

/*
 * -i NAME of a kernel interface (tcpdump's habit: -i eth0). Two paths, and they differ for
 * the host:
 *   - net_af_packet (AF_PACKET, a TPACKET_V2 ring and a copy), as tcpdump: both directions,
 *     and the kernel keeps every frame. The default for an interface that carries this
 *     host's traffic (lc_iflist_prefers_af_packet: addresses, a default route, a port of a
 *     bridge, bond or VLAN) and for the loopback.
 *   - net_af_xdp (AF_XDP: zero-copy where the driver allows, else copy mode): its XDP
 *     program redirects every received frame of its queues to linecap, away from the kernel
 *     (no ARP, no replies while linecap runs), and it sees no frame the host sends. The
 *     default for a dedicated capture port (no addresses), falling back to AF_PACKET where
 *     AF_XDP cannot attach.
 * `af_xdp:NAME` and `af_packet:NAME` choose the path outright (af_xdp: on an interface with
 * the host's traffic with a warning).
 *
 * Everything here runs before EAL and reads only sysfs, two ioctls and one netlink request:
 * it decides the path, the queues and the EAL device string. The fall back from AF_XDP to
 * AF_PACKET once EAL runs (AF_XDP failing at queue set-up) is lc_port_open's (port.c).
 */
#include <net/if.h>
#include <stddef.h>

enum lc_kif_path {
	LC_KIF_AF_XDP = 1,
	LC_KIF_AF_PACKET,
};

/* The AF_XDP fill ring DPDK's net_af_xdp (22.11 and later) fills from the pool at queue
 * set-up and keeps full while it runs: ETH_AF_XDP_DFLT_NUM_DESCS mbufs per queue, which its
 * close never gives back to the pool (they go with the pool's memory). */
#define LC_AF_XDP_FILL_MBUFS 2048u

/* The af_packet ring linecap asks for: frames of 2 KiB (the pool's data room: the driver
 * copies a frame into one mbuf without checking its room), 4096 of them per queue. */
#define LC_AF_PACKET_FRAME 2048u
#define LC_AF_PACKET_FRAMES 4096u

struct lc_kif {
	char ifname[IF_NAMESIZE];	/* "" when -i is not a kernel interface */
	char driver[32];		/* its netdev driver ("veth", "ixgbe"); "" unknown */
	char pci[32];			/* the PCI address of its device; "" none */
	unsigned int rx_queues;		/* the kernel's RX queues (sysfs queues/rx-*) */
	unsigned int xdp_queues;	/* queues net_af_xdp can bind: its combined channels
					 * (1 for a device without channels, as DPDK counts) */
	int rxtx_channels;		/* its driver has RX and TX channels, not combined
					 * ones (veth): ethtool -L NAME rx N tx N */
	int forced;			/* af_xdp:NAME or af_packet:NAME given */
	int loopback;			/* the loopback */
	int host_traffic;		/* it carries this host's traffic (or is the loopback) */
	char host[384];			/* which, in words (lc_iflist_prefers_af_packet) */
	enum lc_kif_path path;		/* chosen before EAL */
	char why[384];			/* why not AF_XDP, when path is AF_PACKET */
	char warn[640];			/* af_xdp:NAME on the host's interface: the warning */
};

/*
 * Is devspec (-i as given) a kernel interface? A PCI address and a DPDK virtual device
 * (net_..., or anything with ',' or '=') are not: 0, k zeroed. `af_xdp:NAME`,
 * `af_packet:NAME` and a NAME under /sys/class/net are: 1, k filled and the path chosen:
 * AF_PACKET for an interface that carries this host's traffic (k->host says how) or the
 * loopback; else AF_XDP unless this kernel has no AF_XDP sockets, or the interface already
 * has an XDP program that is not ours, or has RX queues AF_XDP cannot bind (k->why says
 * which). af_xdp:NAME on the host's interface: k->warn says what it costs the host.
 * A name that is none of these: -ENODEV with "-i NAME: no such interface (...)" in err
 * ("any" gets a line of its own); without CAP_NET_RAW: -EPERM with a line saying so.
 */
int lc_kif_resolve(const char *devspec, struct lc_kif *k, char *err, size_t errlen);

/*
 * -i N, a number, as tcpdump takes the Nth line of its -D: the name on line N of linecap -D
 * into name when it is a kernel interface or a PCI device bound to DPDK (1); 0 when devspec
 * is no number (or an interface is named so); else -ENODEV or -EINVAL with a line in err
 * (no such line, a PCI device without a driver, a virtual device example).
 */
int lc_kif_number(const char *devspec, char *name, size_t len, char *err, size_t errlen);

/*
 * The RX queues to capture k with: asked (--queues; 0: derive) or every RX queue the kernel
 * has. For AF_XDP, asking more queues than the interface has is -EINVAL with a line saying
 * how to give it more (ethtool -L); fewer leaves channels uncaptured: *warn says so.
 * Returns 0 and *queues, or -EINVAL with a reason in err.
 */
int lc_kif_queues(const struct lc_kif *k, unsigned int asked, unsigned int *queues,
		  char *warn, size_t warnlen, char *err, size_t errlen);

/*
 * Before EAL, for a kernel interface: without verbose, silence libbpf and libxdp, which DPDK's
 * net_af_xdp loads and which print their own chatter on stderr ("libbpf: elf: skipping
 * unrecognized data section", "libxdp: No bpffs found at /sys/fs/bpf", a dozen lines at each
 * start). Both are loaded here (dlopen, so linecap does not link them) and given a print
 * function that drops everything; absent, nothing is done. With verbose: left as they are.
 */
void lc_kif_quiet_libs(int verbose);

/* The DPDK device string for path: "net_af_xdp0,iface=NAME,start_queue=0,queue_count=Q" or
 * "net_af_packet0,iface=NAME,qpairs=Q,blocksz=...,framesz=...,framecnt=...". Its name
 * (the part before the first comma) into name. */
void lc_kif_devargs(const struct lc_kif *k, enum lc_kif_path path, unsigned int queues,
		    char *buf, size_t len, char *name, size_t namelen);

/* Are this process's AF_XDP sockets bound in zero-copy mode? 1 yes (all of them), 0 copy
 * mode (any of them), -1 none found. */
int lc_kif_xdp_zero_copy(void);

/*
 * The start-up line (without "linecap: "): which interface, whether it carries this host's
 * traffic, the path and what it sees: "-i lcv1: kernel interface (driver veth), no
 * addresses (a capture port): captured through AF_XDP (copy mode), received frames only;
 * the kernel no longer sees them while linecap runs, 1 queue", "-i eth0: kernel interface
 * (driver ixgbe) with this host's addresses (10.0.0.5/24): captured through AF_PACKET, both
 * directions, the host keeps its traffic (...)", or "... AF_PACKET, both directions: AF_XDP
 * could not attach: WHY"; for a capture port's PCI device, how to bypass the kernel.
 */
void lc_kif_describe(const struct lc_kif *k, enum lc_kif_path path, int zero_copy,
		     const char *why, unsigned int queues, char *buf, size_t len);

#endif
