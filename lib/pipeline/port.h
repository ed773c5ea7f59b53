/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_PORT_H
#define LINECAP_PORT_H

/*
 * The capture port: finding it, configuring N RX queues (symmetric RSS when N > 1 and the
 * port can), promiscuous mode, frames up to LC_MAX_FRAME bytes (scattered RX, or large
 * mbufs on a NIC that cannot scatter), and the mbuf pool on the port's NUMA socket.
 *
 * Before EAL starts, lc_port_inspect() reads what the device string alone tells: for a
 * net_pcap replay, the files, their link type and their packet counts (a replay with
 * infinite_rx=1 preloads every packet into the pool, so the pool is sized for it).
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "linecap/config.h"
#include "kif.h"
#include "kif_drops.h"

#define LC_MAX_FRAME 9600u
#define LC_RX_DESC 1024u
#define LC_POOL_CACHE 256u
#define LC_MBUF_SMALL RTE_MBUF_DEFAULT_BUF_SIZE
#define LC_MBUF_LARGE (LC_MAX_FRAME + RTE_PKTMBUF_HEADROOM)

struct lc_port_plan {
	char driver[64];	   /* part of the device name before its digits: "net_pcap" */
	char name[128];		   /* device name: "net_pcap0", "0000:3b:00.0" */
	int is_pcap_replay;	   /* net_pcap with rx_pcap= files */
	int infinite;		   /* infinite_rx=1 */
	unsigned int nfiles;
	uint64_t file_packets[LC_QUEUES_MAX];
	uint64_t replay_mbufs;	   /* mbufs an infinite replay keeps for itself */
	struct lc_kif kif;	   /* -i NAME of a kernel interface (kif.ifname ""; not one) */
	char devargs[512];	   /* the device EAL gets for a kernel interface (else -i) */
	unsigned int held_per_queue;	/* mbufs the driver keeps per queue (AF_XDP fill ring) */
};

struct lc_port {
	uint16_t port_id;
	int socket;
	unsigned int nb_queues;
	int rss;		/* RSS configured */
	int scatter;		/* scattered RX enabled */
	uint32_t mtu;
	uint16_t data_room;
	struct rte_mempool *pool;
	char name[RTE_ETH_NAME_MAX_LEN];
	char driver[64];
	uint16_t max_rx_queues;
	int hw_ts;		/* RX timestamp offload on (its clock still to be calibrated) */
	int hw_ts_offset;	/* the mbuf dynfield and flag drivers put it in */
	uint64_t hw_ts_flag;
	unsigned int held;	/* mbufs the driver keeps until its close and never gives back */
	int no_promisc;		/* -p: promiscuous mode off */
	int promisc_undo;	/* a kernel interface linecap made promiscuous: undo at close */
	int kif_was_promisc;	/* a kernel interface promiscuous before the port started: so
				 * after its close (its drivers clear the flag) */
	int link_down;		/* lc_port_link_watch: the link was seen down */
	double link_down_s;	/* ... for this long */
	const struct lc_kif *kif;	/* a kernel interface: how it is captured */
	enum lc_kif_path kif_path;
	char kif_why[256];	/* why AF_XDP fell back to AF_PACKET at set-up */
	struct lc_kif_drops *kif_drops;	/* AF_PACKET: its sockets' drops, counted as imissed */
};

struct lc_port_counters {
	uint64_t ipackets, imissed, rx_nombuf, ierrors;
};

/* Read what the device string tells before EAL. 0, or -errno with a reason in err. */
int lc_port_inspect(const char *devspec, struct lc_port_plan *plan, char *err, size_t errlen);

/* A kernel interface's queues (lc_kif_queues: asked is --queues, 0 to derive), and its
 * device string for them in plan->devargs. 0, or -EINVAL with a reason in err. */
int lc_port_kif_queues(struct lc_port_plan *plan, unsigned int asked, unsigned int *queues,
		       char *err, size_t errlen);

/* Find the port EAL probed for the device. 0, or -ENODEV with a reason in err. */
int lc_port_find(const struct lc_port_plan *plan, uint16_t *port_id, char *err,
		 size_t errlen);

/*
 * Configure port_id with nb_queues RX queues and a pool of nb_mbufs mbufs on its socket;
 * with want_hw_ts, RX timestamps from the device where it offers them (p->hw_ts says).
 * Does not start it. Returns 0, or -errno with a reason in err.
 */
int lc_port_setup(struct lc_port *p, uint16_t port_id, unsigned int nb_queues,
		  unsigned int nb_mbufs, int want_hw_ts, char *err, size_t errlen);

/*
 * Once lc_port_setup returned rc: take -p (cfg->no_promisc) for lc_port_start, and for a
 * kernel interface (plan->kif) how it is captured; where AF_XDP could not set up its queues
 * (rc < 0), fall back to AF_PACKET: the af_xdp device is removed and an af_packet one set
 * up in its place with the same queues and nb_mbufs. Returns rc, or the fall back's.
 */
int lc_port_after_setup(struct lc_port *p, const struct lc_port_plan *plan,
			const struct lc_config *cfg, unsigned int nb_mbufs, int rc, char *err,
			size_t errlen);

/* Start the port and turn on promiscuous mode (unless -p); for a kernel interface, say how
 * it is captured. 0, or -errno with a reason in err. */
int lc_port_start(struct lc_port *p, char *err, size_t errlen);

/* One line on the link: "link up, 10 Gbps, full-duplex". */
void lc_port_link_describe(const struct lc_port *p, char *buf, size_t len);

/*
 * Once a second (dt: seconds since the last call), on the main lcore: has the link gone down
 * or come back? 1 with the line to log in msg ("lcX1: link down (capture goes on; it resumes
 * when the link comes back)", "lcX1: link up again after 3 s"), else 0. A kernel
 * interface's link is the kernel's (IFF_UP and IFF_RUNNING: net_af_xdp and net_af_packet
 * report it up whatever it is); another port's, what its driver says.
 */
int lc_port_link_watch(struct lc_port *p, double dt, char *msg, size_t len);

/* Is the link up? 1 yes, 0 down, -1 not known (a virtual device): a kernel interface's
 * from the kernel (IFF_UP and IFF_RUNNING), a NIC's from its driver. */
int lc_port_link_up(const struct lc_port *p);

/*
 * Hardware timestamps: the device clock's rate in Hz, measured with rte_eth_read_clock
 * against the TSC over about 100 ms (the port started). 0, or -ENOTSUP / -errno.
 */
int lc_port_clock_hz(const struct lc_port *p, uint64_t *hz);

/* The device clock now (rte_eth_read_clock). 0 or -errno. */
int lc_port_clock(const struct lc_port *p, uint64_t *ticks);

/* The link's speed in Mbit/s; 0 when unknown or down. */
uint32_t lc_port_link_mbps(const struct lc_port *p);

/* Port-wide counters (imissed, rx_nombuf, ierrors). */
void lc_port_counters(const struct lc_port *p, struct lc_port_counters *c);

/* The port's extended statistics that speak of loss (names with drop, miss, error, nombuf,
 * full or discard), at most max of them. Returns how many. */
unsigned int lc_port_loss_xstats(const struct lc_port *p, char (*names)[64], uint64_t *values,
				 unsigned int max);

/* Stop and close the port, free the pool (after all mbufs are back). Returns how many mbufs
 * were still out of the pool once the device was closed, less those the driver keeps by
 * design (p->held: AF_XDP's fill ring); 0: none lost. Accepts a zeroed p. */
unsigned int lc_port_close(struct lc_port *p);

#endif
