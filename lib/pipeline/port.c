/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <pcap/pcap.h>
#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "linecap/eal_args.h"
#include "log.h"
#include "port.h"

/* Count the records libpcap reads from a replay file; check it is Ethernet. */
static int
inspect_pcap_file(const char *dev, const char *path, uint64_t *packets, char *err,
		  size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t huge = 0, cut = 0;
	pcap_t *p;
	int dlt;

	p = pcap_open_offline(path, perr);
	if (p == NULL) {
		snprintf(err, errlen, "-i %s: %s", dev, perr);	/* perr names the file */
		return -EINVAL;
	}
	dlt = pcap_datalink(p);
	if (dlt != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(dlt);

		snprintf(err, errlen, "%s: link type %s (%d) is not Ethernet; linecap captures "
			 "Ethernet only", path, name ? name : "unknown", dlt);
		pcap_close(p);
		return -EINVAL;
	}
	*packets = 0;
	while (pcap_next_ex(p, &h, &data) == 1) {
		(*packets)++;
		huge += h->caplen > UINT16_MAX;
		cut += h->caplen < h->len;
	}
	pcap_close(p);
	/* Limits of DPDK's net_pcap, said once so nobody mistakes them for linecap's. */
	if (huge)
		LC_LOG(WARNING, "warning: %s: %" PRIu64 " record%s over 65535 bytes; DPDK's "
		       "net_pcap keeps only part of such frames", path, huge, huge == 1 ? "" : "s");
	if (cut)
		LC_LOG(WARNING, "warning: %s: %" PRIu64 " record%s shorter than on the wire; "
		       "net_pcap replays the captured part as the whole frame", path, cut,
		       cut == 1 ? "" : "s");
	return 0;
}

/* A kernel interface's device string, name and driver for queues queues. */
static void
kif_plan(struct lc_port_plan *plan, unsigned int queues)
{
	lc_kif_devargs(&plan->kif, plan->kif.path, queues, plan->devargs, sizeof(plan->devargs),
		       plan->name, sizeof(plan->name));
	snprintf(plan->driver, sizeof(plan->driver), "%s", plan->name);
	plan->driver[strcspn(plan->driver, "0123456789")] = '\0';
	/* Sized for AF_XDP's fill ring, also when it may fall back to AF_PACKET. */
	plan->held_per_queue = plan->kif.path == LC_KIF_AF_XDP ? LC_AF_XDP_FILL_MBUFS : 0;
}

int
lc_port_inspect(const char *devspec, struct lc_port_plan *plan, char *err, size_t errlen)
{
	char buf[4096], numbered[256];
	char *save, *tok;
	size_t n;
	int rc;

	memset(plan, 0, sizeof(*plan));
	if (strlen(devspec) >= sizeof(buf)) {
		snprintf(err, errlen, "-i: device string too long");
		return -EINVAL;
	}
	/* -i N: line N of linecap -D, as tcpdump -i 1 */
	rc = lc_kif_number(devspec, numbered, sizeof(numbered), err, errlen);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		LC_LOG(NOTICE, "-i %s: %s (line %s of linecap -D)", devspec, numbered, devspec);
		devspec = numbered;
		if (lc_eal_is_pci_addr(devspec))	/* EAL gets it, not the number */
			snprintf(plan->devargs, sizeof(plan->devargs), "%s", devspec);
	}
	rc = lc_kif_resolve(devspec, &plan->kif, err, errlen);
	if (rc != 0) {	/* a kernel interface: one queue until lc_port_kif_queues counts */
		if (rc > 0)
			kif_plan(plan, 1);
		return rc < 0 ? rc : 0;
	}
	snprintf(buf, sizeof(buf), "%s", devspec);
	n = strcspn(buf, ",");
	snprintf(plan->name, sizeof(plan->name), "%.*s", (int)n, buf);
	if (lc_eal_is_pci_addr(devspec)) {
		snprintf(plan->driver, sizeof(plan->driver), "pci");
		return 0;
	}
	while (n > 0 && isdigit((unsigned char)buf[n - 1]))
		n--;
	snprintf(plan->driver, sizeof(plan->driver), "%.*s", (int)n, buf);
	if (strcmp(plan->driver, "net_af_xdp") == 0)
		plan->held_per_queue = LC_AF_XDP_FILL_MBUFS;
	if (strcmp(plan->driver, "net_pcap") != 0)
		return 0;

	tok = strtok_r(buf, ",", &save);	/* the device name itself */
	while ((tok = strtok_r(NULL, ",", &save)) != NULL) {
		if (strncmp(tok, "infinite_rx=", 12) == 0) {
			plan->infinite = atoi(tok + 12) > 0;
		} else if (strncmp(tok, "rx_pcap=", 8) == 0) {
			if (plan->nfiles >= LC_QUEUES_MAX) {
				snprintf(err, errlen, "-i: more than %u rx_pcap files",
					 LC_QUEUES_MAX);
				return -EINVAL;
			}
			rc = inspect_pcap_file(plan->name, tok + 8,
					       &plan->file_packets[plan->nfiles], err, errlen);
			if (rc < 0)
				return rc;
			plan->nfiles++;
		}
	}
	plan->is_pcap_replay = plan->nfiles > 0;
	if (plan->infinite)
		for (unsigned int i = 0; i < plan->nfiles; i++)
			plan->replay_mbufs += plan->file_packets[i];
	return 0;
}

int
lc_port_kif_queues(struct lc_port_plan *plan, unsigned int asked, unsigned int *queues,
		   char *err, size_t errlen)
{
	char warn[512];
	int rc = lc_kif_queues(&plan->kif, asked, queues, warn, sizeof(warn), err, errlen);

	if (rc < 0)
		return rc;
	if (warn[0])
		LC_LOG(WARNING, "warning: %s", warn);
	if (plan->kif.warn[0])	/* af_xdp: on the host's own interface */
		LC_LOG(WARNING, "warning: %s", plan->kif.warn);
	kif_plan(plan, *queues);
	return 0;
}

int
lc_port_find(const struct lc_port_plan *plan, uint16_t *port_id, char *err, size_t errlen)
{
	uint16_t pid;

	if (rte_eth_dev_get_port_by_name(plan->name, port_id) == 0)
		return 0;
	/* PCI names are normalised by EAL (0000:3b:00.0); take the only port there is. */
	if (rte_eth_dev_count_avail() == 1) {
		RTE_ETH_FOREACH_DEV(pid) {
			*port_id = pid;
			return 0;
		}
	}
	snprintf(err, errlen, "-i %s: no such device (no DPDK port was found for it)",
		 plan->name);
	return -ENODEV;
}

/* A Toeplitz key of repeated 0x6d5a hashes (a,b) and (b,a) alike: both directions of a
 * flow land on one queue. */
static void
symmetric_key(uint8_t *key, size_t len)
{
	for (size_t i = 0; i < len; i++)
		key[i] = (i & 1) ? 0x5a : 0x6d;
}

/* The port's configuration from what the device offers: the largest MTU up to a 9600-byte
 * frame, scatter (or large mbufs on a NIC without it), symmetric RSS over several queues,
 * timestamps where offered and wanted. */
static void
build_conf(struct lc_port *p, const struct rte_eth_dev_info *info, unsigned int nb_queues,
	   int want_hw_ts, struct rte_eth_conf *conf)
{
	static uint8_t rss_key[256];
	uint32_t overhead = RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
	uint32_t mtu = LC_MAX_FRAME - overhead;

	memset(conf, 0, sizeof(*conf));
	if (info->max_mtu != 0 && mtu > info->max_mtu)
		mtu = info->max_mtu;
	if (info->max_rx_pktlen > overhead && mtu > info->max_rx_pktlen - overhead)
		mtu = info->max_rx_pktlen - overhead;
	conf->rxmode.mtu = mtu;
	p->mtu = mtu;

	/* Scatter where the port can; a NIC that cannot gets mbufs that hold a whole frame.
	 * Virtual ports chain segments themselves (or are limited by their own design). */
	p->data_room = LC_MBUF_SMALL;
	if (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) {
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
		p->scatter = 1;
	} else if (info->device != NULL && rte_dev_bus(info->device) != NULL &&
		   strcmp(rte_bus_name(rte_dev_bus(info->device)), "pci") == 0) {
		p->data_room = LC_MBUF_LARGE;
	}

	if (nb_queues > 1 && info->flow_type_rss_offloads != 0) {
		size_t klen = info->hash_key_size ? info->hash_key_size : 40;

		if (klen > sizeof(rss_key))
			klen = sizeof(rss_key);
		symmetric_key(rss_key, klen);
		conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf->rx_adv_conf.rss_conf.rss_key = rss_key;
		conf->rx_adv_conf.rss_conf.rss_key_len = (uint8_t)klen;
		conf->rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP |
						     RTE_ETH_RSS_UDP) & info->flow_type_rss_offloads;
		p->rss = 1;
	}

	/* Timestamps from the device where it offers them (and the caller wants them). */
	if (want_hw_ts && (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP) &&
	    rte_mbuf_dyn_rx_timestamp_register(&p->hw_ts_offset, &p->hw_ts_flag) == 0) {
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
		p->hw_ts = 1;
	}
}

/* The pool, the RX queues (nb_rxd descriptors each) and the one TX queue. 0 or -errno. */
static int
setup_queues(struct lc_port *p, const struct rte_eth_dev_info *info,
	     const struct rte_eth_conf *conf, unsigned int nb_mbufs, uint16_t nb_rxd,
	     uint16_t nb_txd, char *err, size_t errlen)
{
	int rc;

	p->pool = rte_pktmbuf_pool_create("lc_mbufs", nb_mbufs, LC_POOL_CACHE, 0,
					  p->data_room, p->socket);
	if (p->pool == NULL) {
		snprintf(err, errlen, "cannot allocate %u packet buffers of %u bytes on socket "
			 "%d: %s (try fewer --mbufs)", nb_mbufs, p->data_room,
			 p->socket, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (unsigned int q = 0; q < p->nb_queues; q++) {
		struct rte_eth_rxconf rxconf = info->default_rxconf;

		rxconf.offloads = conf->rxmode.offloads;
		rc = rte_eth_rx_queue_setup(p->port_id, (uint16_t)q, nb_rxd,
					    (unsigned int)p->socket, &rxconf, p->pool);
		if (rc != 0) {
			snprintf(err, errlen, "%s: cannot set up RX queue %u: %s%s", p->name, q,
				 strerror(-rc), strcmp(p->driver, "net_pcap") == 0 ?
				 " (a replay needs one mbuf per packet: see --mbufs)" : "");
			return rc;
		}
	}
	rc = rte_eth_tx_queue_setup(p->port_id, 0, nb_txd, (unsigned int)p->socket, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot set up TX queue: %s", p->name, strerror(-rc));
		return rc;
	}
	return 0;
}

int
lc_port_setup(struct lc_port *p, uint16_t port_id, unsigned int nb_queues,
	      unsigned int nb_mbufs, int want_hw_ts, char *err, size_t errlen)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	/* One TX queue, never used: some drivers (memif) connect only with one. */
	uint16_t nb_rxd = LC_RX_DESC, nb_txd = 64;
	int rc;

	memset(p, 0, sizeof(*p));
	p->port_id = port_id;
	p->nb_queues = nb_queues;
	rte_eth_dev_get_name_by_port(port_id, p->name);
	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot read device info: %s", p->name, strerror(-rc));
		return rc;
	}
	snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name);
	if (strcmp(p->driver, "net_af_xdp") == 0)	/* its fill ring, filled at queue set-up */
		p->held = nb_queues * LC_AF_XDP_FILL_MBUFS;
	p->max_rx_queues = info.max_rx_queues;
	if (nb_queues > info.max_rx_queues) {
		snprintf(err, errlen, "--queues %u: port %s has at most %u RX queue%s", nb_queues,
			 p->name, info.max_rx_queues, info.max_rx_queues == 1 ? "" : "s");
		return -EINVAL;
	}
	p->socket = rte_eth_dev_socket_id(port_id);
	if (p->socket < 0)
		p->socket = (int)rte_socket_id();
	build_conf(p, &info, nb_queues, want_hw_ts, &conf);
	rc = rte_eth_dev_configure(port_id, (uint16_t)nb_queues, 1, &conf);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot configure %u RX queue%s: %s", p->name,
			 nb_queues, nb_queues == 1 ? "" : "s", strerror(-rc));
		return rc;
	}
	rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	return setup_queues(p, &info, &conf, nb_mbufs, nb_rxd, nb_txd, err, errlen);
}

/* AF_XDP could not set up its queues: close it, remove its device, and open the same
 * interface through AF_PACKET in its place. why: what AF_XDP said. */
static int
kif_fall_back(struct lc_port *p, const struct lc_port_plan *plan, const struct lc_config *cfg,
	      unsigned int nb_queues, unsigned int nb_mbufs, const char *why, char *err,
	      size_t errlen)
{
	char devargs[512], name[64];
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;
	uint16_t port_id;
	int rc;

	if (rte_eth_dev_info_get(p->port_id, &info) == 0)
		dev = info.device;
	lc_port_close(p);	/* the ethdev closed and released: now its device goes */
	if (dev != NULL)
		rte_dev_remove(dev);
	lc_kif_devargs(&plan->kif, LC_KIF_AF_PACKET, nb_queues, devargs, sizeof(devargs), name,
		       sizeof(name));
	rc = rte_dev_probe(devargs);
	if (rc == 0)
		rc = rte_eth_dev_get_port_by_name(name, &port_id);
	if (rc != 0) {
		snprintf(err, errlen, "-i %s: AF_XDP could not attach (%s), nor AF_PACKET (%s)",
			 plan->kif.ifname, why, rc < 0 ? strerror(-rc) : "no port");
		return rc < 0 ? rc : -ENODEV;
	}
	rc = lc_port_setup(p, port_id, nb_queues, nb_mbufs,
			   !cfg->timestamps || strcmp(cfg->timestamps, "tsc") != 0, err, errlen);
	p->kif_path = LC_KIF_AF_PACKET;
	snprintf(p->kif_why, sizeof(p->kif_why), "%s", why);
	return rc;
}

int
lc_port_after_setup(struct lc_port *p, const struct lc_port_plan *plan,
		    const struct lc_config *cfg, unsigned int nb_mbufs, int rc, char *err,
		    size_t errlen)
{
	if (plan->kif.ifname[0] != '\0') {
		p->kif_path = plan->kif.path;
		snprintf(p->kif_why, sizeof(p->kif_why), "%s", plan->kif.why);
		if (rc < 0 && plan->kif.path == LC_KIF_AF_XDP && !plan->kif.forced) {
			char why[LC_ERRLEN];

			snprintf(why, sizeof(why), "%s", err);
			rc = kif_fall_back(p, plan, cfg, p->nb_queues, nb_mbufs, why, err, errlen);
		}
		p->kif = &plan->kif;
	}
	p->no_promisc = cfg->no_promisc;
	return rc;
}

/* The kernel interface's flags (SIOCGIFFLAGS: IFF_PROMISC is an admin's or a driver's
 * request, not a packet socket's membership). 0, or -errno. */
static int
kif_flags(const char *ifname, short *flags)
{
	struct ifreq ifr;
	int rc = 0, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
		*flags = ifr.ifr_flags;
	else
		rc = -errno;
	close(fd);
	return rc;
}

/* Is the kernel interface promiscuous now (by anyone's request)? */
static int
kif_promiscuous(const char *ifname)
{
	short flags = 0;

	return kif_flags(ifname, &flags) == 0 && (flags & IFF_PROMISC) != 0;
}

/* Set or clear the kernel interface's IFF_PROMISC (SIOCSIFFLAGS), the rest as it is. */
static void
kif_set_promiscuous(const char *ifname, int on)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && ((ifr.ifr_flags & IFF_PROMISC) != 0) != on) {
		ifr.ifr_flags = (short)(on ? ifr.ifr_flags | IFF_PROMISC :
					ifr.ifr_flags & ~IFF_PROMISC);
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
			LC_LOG(WARNING, "warning: %s: cannot %s promiscuous mode as it was before "
			       "linecap: %s", ifname, on ? "turn on" : "turn off", strerror(errno));
	}
	close(fd);
}

/*
 * Promiscuous mode on, or off with -p (the port may not let either be chosen). A kernel
 * interface is the host's: linecap leaves it as it found it. Promiscuous before
 * (p->kif_was_promisc, an admin's): it stays so, -p meaning only "do not turn it on"
 * (lc_port_start told DPDK so before the start, whose restore of the port's settings would
 * clear the flag: net_af_packet's does), and lc_port_close sets it again where the drivers'
 * close cleared it (net_af_xdp's does). Not promiscuous: turned on (unless -p) and back off
 * at close (p->promisc_undo).
 */
static void
set_promiscuous(struct lc_port *p)
{
	int rc;

	if (p->kif != NULL) {
		if (p->kif_was_promisc) {
			kif_set_promiscuous(p->kif->ifname, 1);	/* where the start cleared it */
			return;
		}
		if (p->no_promisc)
			return;
		p->promisc_undo = 1;
	}
	rc = p->no_promisc ? rte_eth_promiscuous_disable(p->port_id) :
	     rte_eth_promiscuous_enable(p->port_id);

	if (rc != 0 && (rc != -ENOTSUP || p->no_promisc))
		LC_LOG(WARNING, "warning: %s: cannot %s promiscuous mode: %s%s", p->name,
		       p->no_promisc ? "disable" : "enable", strerror(-rc),
		       p->no_promisc ? " (-p: the port may receive frames for other hosts)" : "");
}

int
lc_port_start(struct lc_port *p, char *err, size_t errlen)
{
	int rc;

	if (p->kif != NULL) {
		p->kif_was_promisc = kif_promiscuous(p->kif->ifname);
		/* ethdev's start restores the port's promiscuous setting, off by default:
		 * told it is on, it does not clear the admin's flag. */
		if (p->kif_was_promisc)
			rte_eth_promiscuous_enable(p->port_id);
	}
	/* ethdev's start sets the port's MAC address again, which the loopback refuses: DPDK's
	 * net_af_packet says "eth_dev_macaddr_set(): ioctl(SIOCSIFHWADDR) failed" at each
	 * start, nothing being wrong. Said with -vv (DPDK's own messages) only. */
	int quiet = p->kif != NULL && p->kif->loopback &&
		    rte_log_get_level(lc_logtype) < (int)RTE_LOG_DEBUG;
	int lt = quiet ? rte_log_register("pmd.net.af_packet") : -1;
	int level = lt >= 0 ? rte_log_get_level((uint32_t)lt) : -1;

	if (level >= 0)
		rte_log_set_level((uint32_t)lt, RTE_LOG_CRIT);
	rc = rte_eth_dev_start(p->port_id);
	if (level >= 0)
		rte_log_set_level((uint32_t)lt, (uint32_t)level);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot start port: %s", p->name, strerror(-rc));
		return rc;
	}
	set_promiscuous(p);
	/* DPDK's net_af_packet does not count what its sockets' rings had no room for: we do. */
	if (p->kif != NULL && p->kif_path == LC_KIF_AF_PACKET &&
	    (p->kif_drops = calloc(1, sizeof(*p->kif_drops))) != NULL &&
	    lc_kif_drops_find(p->kif_drops, p->kif->ifname) == 0)
		LC_LOG(WARNING, "%s: its AF_PACKET sockets were not found: frames their rings "
		       "drop are not counted", p->kif->ifname);
	/* nor does net_af_xdp count what its sockets' RX rings had no room for (kif_drops.h) */
	if (p->kif != NULL && p->kif_path == LC_KIF_AF_XDP &&
	    (p->kif_drops = calloc(1, sizeof(*p->kif_drops))) != NULL &&
	    lc_kif_drops_xdp_start(p->kif_drops, p->kif->ifname) < 0)
		LC_LOG(WARNING, "%s: its rx_dropped cannot be read: frames AF_XDP's rings had no "
		       "room for are counted only where the driver reports them", p->kif->ifname);
	if (p->kif != NULL) {
		char line[1024];

		lc_kif_describe(p->kif, p->kif_path, p->kif_path == LC_KIF_AF_XDP ?
				lc_kif_xdp_zero_copy() : -1, p->kif_why, p->nb_queues, line,
				sizeof(line));
		LC_LOG(NOTICE, "%s", line);
	}
	return 0;
}

void
lc_port_link_describe(const struct lc_port *p, char *buf, size_t len)
{
	struct rte_eth_link link;
	char text[RTE_ETH_LINK_MAX_STR_LEN];

	memset(&link, 0, sizeof(link));
	if (rte_eth_link_get_nowait(p->port_id, &link) != 0) {
		snprintf(buf, len, "link state unknown");
		return;
	}
	if (p->kif != NULL && lc_port_link_up(p) == 0)
		link.link_status = RTE_ETH_LINK_DOWN;	/* the kernel's word, not the PMD's */
	rte_eth_link_to_str(text, sizeof(text), &link);
	snprintf(buf, len, "%s", text);
}

int
lc_port_link_up(const struct lc_port *p)
{
	struct rte_eth_dev_info info;
	struct rte_eth_link link;
	short flags;

	/* net_af_xdp and net_af_packet (22.11) say up from their start whatever the
	 * interface does: the kernel knows (IFF_RUNNING: it has a carrier). */
	if (p->kif != NULL)
		return kif_flags(p->kif->ifname, &flags) < 0 ? -1 :
		       (flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING);
	/* A NIC's link. Virtual devices have none worth a line (a memif's is its peer). */
	if (rte_eth_dev_info_get(p->port_id, &info) != 0 || info.device == NULL ||
	    rte_dev_bus(info.device) == NULL ||
	    strcmp(rte_bus_name(rte_dev_bus(info.device)), "pci") != 0)
		return -1;
	memset(&link, 0, sizeof(link));
	if (rte_eth_link_get_nowait(p->port_id, &link) != 0)
		return -1;
	return link.link_status == RTE_ETH_LINK_UP;
}

int
lc_port_link_watch(struct lc_port *p, double dt, char *msg, size_t len)
{
	const char *name = p->kif != NULL ? p->kif->ifname : p->name;
	int up = lc_port_link_up(p);

	if (p->link_down)
		p->link_down_s += dt;
	if (up < 0 || up == !p->link_down)
		return 0;
	if (!up) {
		p->link_down = 1;
		p->link_down_s = 0;
		snprintf(msg, len, "%s: link down (capture goes on; it resumes when the link "
			 "comes back)", name);
	} else {
		p->link_down = 0;
		snprintf(msg, len, "%s: link up again after %.0f s", name,
			 p->link_down_s < 1 ? 1 : p->link_down_s);
	}
	return 1;
}

void
lc_port_counters(const struct lc_port *p, struct lc_port_counters *c)
{
	struct rte_eth_stats st;

	memset(c, 0, sizeof(*c));
	if (rte_eth_stats_get(p->port_id, &st) != 0)
		return;
	c->ipackets = st.ipackets;
	if (p->kif_drops != NULL && p->kif_drops->xdp)
		c->imissed = lc_kif_drops_xdp_read(p->kif_drops, st.imissed);
	else
		c->imissed = st.imissed + (p->kif_drops ? lc_kif_drops_read(p->kif_drops) : 0);
	c->rx_nombuf = st.rx_nombuf;
	c->ierrors = st.ierrors;
}

int
lc_port_clock(const struct lc_port *p, uint64_t *ticks)
{
	return rte_eth_read_clock(p->port_id, ticks);
}

int
lc_port_clock_hz(const struct lc_port *p, uint64_t *hz)
{
	uint64_t c0, c1, t0, t1;
	int rc = rte_eth_read_clock(p->port_id, &c0);

	if (rc != 0)
		return rc;
	t0 = rte_rdtsc();
	rte_delay_us_sleep(100000);
	rc = rte_eth_read_clock(p->port_id, &c1);
	t1 = rte_rdtsc();
	if (rc != 0)
		return rc;
	if (c1 <= c0 || t1 <= t0)
		return -EIO;	/* a clock that does not run */
	*hz = (uint64_t)((unsigned __int128)(c1 - c0) * rte_get_tsc_hz() / (t1 - t0));
	return *hz ? 0 : -EIO;
}

uint32_t
lc_port_link_mbps(const struct lc_port *p)
{
	struct rte_eth_link link;

	if (rte_eth_link_get_nowait(p->port_id, &link) != 0 || !link.link_status ||
	    link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN)
		return 0;
	return link.link_speed;
}

unsigned int
lc_port_loss_xstats(const struct lc_port *p, char (*names)[64], uint64_t *values,
		    unsigned int max)
{
	static const char *const words[] = { "drop", "miss", "error", "nombuf", "full",
					      "discard" };
	struct rte_eth_xstat_name *xn = NULL;
	struct rte_eth_xstat *xv = NULL;
	unsigned int n = 0;
	int total = rte_eth_xstats_get_names(p->port_id, NULL, 0);

	if (total <= 0)
		return 0;
	xn = calloc((size_t)total, sizeof(*xn));
	xv = calloc((size_t)total, sizeof(*xv));
	if (xn == NULL || xv == NULL ||
	    rte_eth_xstats_get_names(p->port_id, xn, (unsigned int)total) != total ||
	    rte_eth_xstats_get(p->port_id, xv, (unsigned int)total) != total)
		goto out;
	for (int i = 0; i < total && n < max; i++) {
		int wanted = 0;

		for (size_t w = 0; w < RTE_DIM(words); w++)
			wanted |= strstr(xn[xv[i].id].name, words[w]) != NULL;
		if (!wanted)
			continue;
		snprintf(names[n], 64, "%s", xn[xv[i].id].name);
		values[n++] = xv[i].value;
	}
out:
	free(xn);
	free(xv);
	return n;
}

unsigned int
lc_port_close(struct lc_port *p)
{
	unsigned int missing = 0;

	if (p->pool == NULL && p->name[0] == '\0')
		return 0;
	if (p->name[0] != '\0') {
		if (p->promisc_undo)	/* the host's interface as linecap found it */
			rte_eth_promiscuous_disable(p->port_id);
		rte_eth_dev_stop(p->port_id);
		rte_eth_dev_close(p->port_id);
		/* An admin's promiscuous mode, which net_af_xdp's close clears: set again. */
		if (p->kif != NULL && p->kif_was_promisc && !kif_promiscuous(p->kif->ifname))
			kif_set_promiscuous(p->kif->ifname, 1);
	}
	/* The device closed gives back what its queues held: every mbuf should be home, but
	 * for those a driver keeps by design (AF_XDP's fill ring, p->held). */
	if (p->pool != NULL)
		missing = (unsigned int)rte_mempool_in_use_count(p->pool);
	missing = missing > p->held ? missing - p->held : 0;
	rte_mempool_free(p->pool);
	p->pool = NULL;
	p->name[0] = '\0';
	free(p->kif_drops);
	p->kif_drops = NULL;
	return missing;
}
