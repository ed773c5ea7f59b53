/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The capture's plan, before EAL starts: queues and writers from the options and the port,
 * the packet buffers and memory they need, and the sizes derived from the options that
 * the output check and retention use. Nothing here touches DPDK state.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_mbuf.h>

#include "linecap/capture.h"
#include "linecap/eal_args.h"
#include "linecap/filter.h"
#include "port.h"
#include "readsrc.h"
#include "linecap/privs.h"
#include "queue.h"
#include "rx.h"
#include "writer.h"

#define EAL_SLACK_BYTES (128ull << 20)	/* EAL, drivers, rings of virtual devices */
#define BUFFER_DEFAULT (256ull << 20)	/* -B when hugepages (or none at all) allow */
#define BUFFER_FLOOR (16ull << 20)	/* below this from hugepages: normal memory instead */

uint64_t
lc_capture_default_buffer(uint64_t huge_free, uint64_t mem_avail, uint64_t other,
			  unsigned int queues)
{
	uint64_t share = 0;

	/* Half of what the hugepages leave (the rest for another capture or tool), shared by
	 * the queues, whole MiB. */
	if (huge_free > other)
		share = (huge_free - other) / 2 / queues & ~(uint64_t)(LC_CHUNK_SIZE - 1);
	if (share < BUFFER_FLOOR)	/* normal memory: a quarter of what is available */
		share = mem_avail / 4 / queues & ~(uint64_t)(LC_CHUNK_SIZE - 1);
	if (share < LC_QUEUE_MIN_BYTES)
		share = LC_QUEUE_MIN_BYTES;
	return share < BUFFER_DEFAULT ? share : BUFFER_DEFAULT;
}

/* /proc/meminfo's MemAvailable in bytes; 0 when unknown. */
static uint64_t
mem_available(void)
{
	unsigned long long kb = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return (uint64_t)kb * 1024;
}

/* The buffers (-B) must fit what EAL will have: the free hugepages, or, without enough of
 * them (EAL then runs with --no-huge, its memory backed only as it is touched), the memory
 * available now. Refused before anything is created, rather than a capture the kernel kills
 * once a stalled disk has filled its buffers. */
static int
check_memory(const struct lc_config *cfg, const struct lc_capture_plan *plan, uint64_t huge,
	     uint64_t avail, uint64_t pool, char *err, size_t errlen)
{
	uint64_t need = (uint64_t)plan->queues * plan->buffer_bytes + pool;

	if (lc_eal_hugepages_suffice(huge, plan->mem_bytes) || avail == 0 || need <= avail)
		return 0;
	snprintf(err, errlen, "-B %" PRIu64 " MiB: %u queue%s of it and the packet buffers need "
		 "%" PRIu64 " MiB; this machine has %" PRIu64 " MiB of hugepages free and %" PRIu64
		 " MiB of memory available: give a smaller -B%s", plan->buffer_bytes >> 20,
		 plan->queues, plan->queues == 1 ? "" : "s", need >> 20, huge >> 20, avail >> 20,
		 cfg->buffer_bytes ? " (or reserve hugepages)" : " or reserve hugepages");
	return -EINVAL;
}

/* -r: the files, read in order into one queue of a net_ring port (readsrc.h). */
static int
plan_read(const struct lc_config *cfg, struct lc_capture_plan *plan, char *err, size_t errlen)
{
	int rc;

	if (cfg->queues > 1) {
		snprintf(err, errlen, "--queues %u: -r reads its files in order, into one queue",
			 cfg->queues);
		return -EINVAL;
	}
	if (cfg->rotate_secs) {
		snprintf(err, errlen, "-G %" PRIu64 ": cuts files by the wall clock, not by the "
			 "packets' times: with -r, cut them with -C", cfg->rotate_secs);
		return -EINVAL;
	}
	if (cfg->timestamps != NULL) {
		snprintf(err, errlen, "--timestamps %s: with -r each packet keeps its own time",
			 cfg->timestamps);
		return -EINVAL;
	}
	plan->read = calloc(1, sizeof(*plan->read));
	if (plan->read == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = lc_read_plan(cfg->read, cfg->nread, plan->read, err, errlen);
	if (rc < 0) {
		free(plan->read);
		plan->read = NULL;
		return rc;
	}
	snprintf(plan->port.name, sizeof(plan->port.name), "net_ring_lc_read");
	snprintf(plan->port.driver, sizeof(plan->port.driver), "net_ring");
	return 0;
}

int
lc_capture_plan_check_read(const struct lc_capture_plan *plan, const struct lc_user *u,
			   char *err, size_t errlen)
{
	const struct lc_read_plan *rp = plan->read;

	for (unsigned int i = 0; rp != NULL && rp->stream == NULL && i < rp->n; i++) {
		int rc = lc_privs_check_read(u, rp->paths[i], err, errlen);

		if (rc < 0)
			return rc;
	}
	return 0;	/* a stream is open already */
}

void
lc_capture_plan_release(struct lc_capture_plan *plan)
{
	if (plan->read != NULL)
		lc_read_plan_release(plan->read);
	free(plan->read);
	plan->read = NULL;
}

int
lc_capture_plan(const struct lc_config *cfg, struct lc_capture_plan *plan, char *err,
		size_t errlen)
{
	uint64_t per_mbuf, lcores, huge, avail;
	int rc;

	memset(plan, 0, sizeof(*plan));
	rc = cfg->nread ? plan_read(cfg, plan, err, errlen) :
			  lc_port_inspect(cfg->interface, &plan->port, err, errlen);
	if (rc < 0)
		return rc;
	plan->queues = cfg->queues;
	if (plan->port.kif.ifname[0] != '\0' &&	/* -i NAME: its channels */
	    (rc = lc_port_kif_queues(&plan->port, cfg->queues, &plan->queues, err, errlen)) < 0)
		return rc;
	if (plan->queues == 0)
		plan->queues = plan->port.is_pcap_replay ? plan->port.nfiles : 1;
	if (plan->port.is_pcap_replay && plan->queues > plan->port.nfiles) {
		snprintf(err, errlen, "--queues %u: port %s replays %u file%s, one queue each",
			 plan->queues, plan->port.name, plan->port.nfiles,
			 plan->port.nfiles == 1 ? "" : "s");
		return -EINVAL;
	}
	if (cfg->retain_bytes && cfg->file_bytes &&
	    cfg->retain_bytes < 2 * plan->queues * (cfg->file_bytes + lc_capture_file_margin(cfg))) {
		snprintf(err, errlen, "--retain-bytes %" PRIu64 ": too small for %u queue%s of files "
			 "up to -C %" PRIu64 " bytes; give at least %" PRIu64, cfg->retain_bytes,
			 plan->queues, plan->queues == 1 ? "" : "s", cfg->file_bytes,
			 2 * plan->queues * (cfg->file_bytes + lc_capture_file_margin(cfg)));
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
		n += (uint64_t)plan->queues * plan->port.held_per_queue;	/* AF_XDP's fill ring */
		n += plan->read ? LC_READ_RING : 0;	/* what the reader keeps in flight */
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
	huge = lc_eal_huge_free_bytes();
	avail = mem_available();
	plan->buffer_bytes = cfg->buffer_bytes ? cfg->buffer_bytes :
		lc_capture_default_buffer(huge, avail, plan->mem_bytes, plan->queues);
	plan->buffer_bytes = (plan->buffer_bytes + LC_CHUNK_SIZE - 1) &
			     ~(uint64_t)(LC_CHUNK_SIZE - 1);
	if (plan->buffer_bytes < LC_QUEUE_MIN_BYTES)
		plan->buffer_bytes = LC_QUEUE_MIN_BYTES;
	plan->mem_bytes += (uint64_t)plan->queues * (plan->buffer_bytes + (4ull << 20));
	return check_memory(cfg, plan, huge, avail, (uint64_t)plan->mbufs * per_mbuf, err,
			    errlen);
}

uint64_t
lc_capture_file_margin(const struct lc_config *cfg)
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
