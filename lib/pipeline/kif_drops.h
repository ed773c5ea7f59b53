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
};

/* The AF_PACKET sockets of this process bound to interface ifname into d. Returns how many
 * (0: none, and nothing is counted). */
unsigned int lc_kif_drops_find(struct lc_kif_drops *d, const char *ifname);

/* The drops so far (main lcore only: a read resets the kernel's counters). */
uint64_t lc_kif_drops_read(struct lc_kif_drops *d);

#endif
