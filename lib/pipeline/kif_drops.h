/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_KIF_DROPS_H
#define LINECAP_KIF_DROPS_H

/*
 * The drops of a kernel interface captured through AF_PACKET: frames the kernel could not
 * put into a socket's ring because it was full (PACKET_STATISTICS tp_drops). DPDK 22.11's
 * net_af_packet neither reads nor reports them, so a capture that fell behind lost frames
 * with every counter at zero. The sockets are the PMD's own: found once the port is
 * started, among this process's descriptors, as the AF_PACKET sockets bound to the
 * interface. Reading the statistics resets them in the kernel: only this reads them, and
 * it keeps the sums.
 */
#include <stdint.h>

#include "linecap/config.h"

struct lc_kif_drops {
	int fd[LC_QUEUES_MAX];
	unsigned int n;
	uint64_t drops;		/* since the sockets were found */
	char ifname[16];	/* AF_XDP: the interface whose rx_dropped counts */
	uint64_t rx_dropped0;	/* AF_XDP: its rx_dropped when the port started */
	int xdp;		/* AF_XDP: rx_dropped0 was read */
};

/* The AF_PACKET sockets of this process bound to interface ifname into d. Returns how many
 * (0: none, and nothing is counted). */
unsigned int lc_kif_drops_find(struct lc_kif_drops *d, const char *ifname);

/* The drops so far (main lcore only: a read resets the kernel's counters). */
uint64_t lc_kif_drops_read(struct lc_kif_drops *d);

/*
 * AF_XDP: the drops of a kernel interface captured through AF_XDP are the frames its XDP
 * program redirected to a socket that had no room: the socket's RX ring full (veth in copy
 * mode, a driver's XDP_REDIRECT that fails) or its fill ring empty. The kernel counts the
 * first kind only in the interface's statistics (rx_dropped: veth, and most drivers for a
 * failed redirect), not in the socket's XDP_STATISTICS rx_dropped that DPDK's net_af_xdp
 * reports as imissed (a 20,000-frame burst: 9,398 received, "0 dropped by the port", the
 * interface's rx_dropped up by the rest). lc_kif_drops_xdp_start takes the interface's
 * rx_dropped (/sys/class/net/NAME/statistics/rx_dropped) as the origin, when the port has
 * started; 0, or -errno when it cannot be read (nothing is counted then).
 */
int lc_kif_drops_xdp_start(struct lc_kif_drops *d, const char *ifname);

/*
 * AF_XDP: the drops of the port, given what the PMD reports as imissed (pmd_imissed): the
 * larger of it and the interface's rx_dropped since lc_kif_drops_xdp_start. Not their sum:
 * a frame lost for want of a fill-ring buffer is counted by the socket (the PMD's imissed)
 * and, its redirect failing, by the interface too; one lost to a full RX ring by the
 * interface only. Each counter is a part of the same losses, so the larger one is what can
 * be said without counting a frame twice (a driver that counts a failed redirect nowhere
 * leaves the PMD's figure, as before). The interface's counter also takes frames it drops
 * for other reasons while linecap runs: on a capture port (no addresses, AF_XDP taking
 * every frame) those are frames linecap did not get either.
 */
uint64_t lc_kif_drops_xdp_read(struct lc_kif_drops *d, uint64_t pmd_imissed);

#endif
