/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The capture's plan, before EAL starts: queues and writers from the options and the port,
 * the packet buffers and memory they need, and the sizes derived from the options that
 * the output check and retention use. Nothing here touches DPDK state.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_mbuf.h>

#include "linecap/capture.h"
#include "linecap/eal_args.h"
#include "linecap/filter.h"
#include "linecap/port.h"
#include "linecap/queue.h"
#include "linecap/rx.h"
#include "linecap/writer.h"

#define EAL_SLACK_BYTES (128ull << 20)	/* EAL, drivers, rings of virtual devices */
#define BUFFER_DEFAULT (256ull << 20)	/* -B when hugepages (or none at all) allow */
#define BUFFER_FLOOR (16ull << 20)	/* below this from hugepages: normal memory instead */

uint64_t
lc_capture_default_buffer(uint64_t huge_free, uint64_t other, unsigned int queues)
{
	uint64_t share;

	if (huge_free <= other)
		return BUFFER_DEFAULT;	/* no hugepages to speak of: normal memory */
	/* Half of what the hugepages leave (the rest for another capture or tool), shared by
	 * the queues, whole MiB. */
	share = (huge_free - other) / 2 / queues;
	share &= ~(uint64_t)(LC_CHUNK_SIZE - 1);
	if (share >= BUFFER_DEFAULT)
		return BUFFER_DEFAULT;
	return share >= BUFFER_FLOOR ? share : BUFFER_DEFAULT;
}

int
lc_capture_plan(const struct lc_config *cfg, struct lc_capture_plan *plan, char *err,
		size_t errlen)
{
	uint64_t per_mbuf, lcores;
	int rc;

	memset(plan, 0, sizeof(*plan));
	rc = lc_port_inspect(cfg->interface, &plan->port, err, errlen);
	if (rc < 0)
		return rc;
	plan->queues = cfg->queues;
	if (plan->queues == 0)
		plan->queues = plan->port.is_pcap_replay ? plan->port.nfiles : 1;
	if (plan->port.is_pcap_replay && plan->queues > plan->port.nfiles) {
		snprintf(err, errlen, "--queues %u: port %s replays %u file%s, one queue each",
			 plan->queues, plan->port.name, plan->port.nfiles,
			 plan->port.nfiles == 1 ? "" : "s");
		return -EINVAL;
	}
	if (cfg->retain_bytes && cfg->file_bytes &&
	    cfg->retain_bytes < 2 * plan->queues * (cfg->file_bytes + lc_capture_burst_bytes(cfg))) {
		snprintf(err, errlen, "--retain-bytes %" PRIu64 ": too small for %u queue%s of files "
			 "up to -C %" PRIu64 " bytes; give at least %" PRIu64, cfg->retain_bytes,
			 plan->queues, plan->queues == 1 ? "" : "s", cfg->file_bytes,
			 2 * plan->queues * (cfg->file_bytes + lc_capture_burst_bytes(cfg)));
		return -EINVAL;
	}
	plan->writers = cfg->writers ? cfg->writers : (plan->queues + 3) / 4;
	if (plan->writers > plan->queues) {
		snprintf(err, errlen, "--writers %u: more writers than queues (%u)", plan->writers,
			 plan->queues);
		return -EINVAL;
	}

	lcores = 1 + plan->queues + plan->writers;
	if (cfg->mbufs != 0) {
		plan->mbufs = cfg->mbufs;
	} else {
		/* Per queue: a full descriptor ring and a few bursts (RX frees each burst once
		 * formatted: no packet waits for the writer in an mbuf); per lcore a pool
		 * cache; plus what an infinite replay holds on to. */
		uint64_t n = (uint64_t)plan->queues * (LC_RX_DESC + 4 * LC_RX_BURST);
		n += lcores * LC_POOL_CACHE * 3 / 2;
		n += plan->port.replay_mbufs + (uint64_t)plan->port.nfiles * LC_RX_BURST;
		n += 1024;
		if (n > LC_MBUFS_MAX) {
			snprintf(err, errlen, "the capture would need %" PRIu64 " packet buffers "
				 "(more than %u): use a smaller replay file", n,
				 LC_MBUFS_MAX);
			return -EINVAL;
		}
		plan->mbufs = (unsigned int)n;
	}
	per_mbuf = (strcmp(plan->port.driver, "pci") == 0 ? LC_MBUF_LARGE : LC_MBUF_SMALL) +
		   sizeof(struct rte_mbuf) + 64;
	plan->mem_bytes = (uint64_t)plan->mbufs * per_mbuf;
	plan->mem_bytes += (uint64_t)plan->queues * (LC_IO_SLOTS * LC_WRITER_BUF +
						     LC_FILTER_MAX_FRAME + 65536);
	/* net_pcap's own ring of preloaded packets; then twice the sum, as measured: without
	 * hugepages EAL's heap needs that much room to place a large pool in one piece (it is
	 * address space, backed only as it is touched); and the slack EAL itself needs. */
	plan->mem_bytes += plan->port.replay_mbufs * 16;
	plan->mem_bytes = plan->mem_bytes * 2 + EAL_SLACK_BYTES;
	/* The capture buffers (-B), each in one piece, and their chunk tables and rings. */
	plan->buffer_bytes = cfg->buffer_bytes ? cfg->buffer_bytes :
		lc_capture_default_buffer(lc_eal_huge_free_bytes(), plan->mem_bytes,
					  plan->queues);
	plan->buffer_bytes = (plan->buffer_bytes + LC_CHUNK_SIZE - 1) &
			     ~(uint64_t)(LC_CHUNK_SIZE - 1);
	if (plan->buffer_bytes < LC_QUEUE_MIN_BYTES)
		plan->buffer_bytes = LC_QUEUE_MIN_BYTES;
	plan->mem_bytes += (uint64_t)plan->queues * (plan->buffer_bytes + (4ull << 20));
	return 0;
}

uint64_t
lc_capture_burst_bytes(const struct lc_config *cfg)
{
	uint64_t rec = (cfg->snaplen < 65536 ? cfg->snaplen : 65536) + 32;

	/* A file is cut before the first record that finds it past -C: one record over, the
	 * pcapng statistics block that closes it (128), and the manifest records its closing
	 * adds before retention can retire an older file (4 KiB). */
	return rec + 128 + 4096;
}

uint64_t
lc_capture_period(const struct lc_config *cfg)
{
	uint64_t now = (uint64_t)time(NULL);

	return cfg->rotate_secs ? now - now % cfg->rotate_secs : now;
}
