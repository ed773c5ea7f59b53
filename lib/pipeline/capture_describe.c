/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a built capture tells and gives away before it runs: the start-up lines (port,
 * queues, lcores, NUMA, filter) and, for -Z, ownership of what it created and the check that
 * the user can delete what retention will retire.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_ether.h>
#include <rte_lcore.h>

#include "capture_priv.h"
#include "custody.h"
#include "log.h"
#include "readsrc.h"
#include "linecap/capture.h"

/* An lcore of another socket than the port's: every packet crosses the interconnect. */
static void
warn_cross_socket(const struct lc_capture *cap)
{
	int port = cap->port.socket;

	if (port < 0)
		return;
	for (unsigned int q = 0; q < cap->nq; q++) {
		unsigned int l = cap->rx_lcore[q];

		if ((int)rte_lcore_to_socket_id(l) != port)
			LC_LOG(WARNING, "RX queue %u runs on lcore %u of socket %u, the port is on "
			       "socket %d: every packet crosses sockets (leave lcores to linecap, "
			       "or pick CPUs of socket %d)", q, l, rte_lcore_to_socket_id(l), port,
			       port);
	}
	for (unsigned int w = 0; w < cap->nw; w++) {
		unsigned int l = cap->wr_lcore[w];

		if ((int)rte_lcore_to_socket_id(l) != port)
			LC_LOG(WARNING, "writer %u runs on lcore %u of socket %u, the port is on "
			       "socket %d: every packet crosses sockets", w, l,
			       rte_lcore_to_socket_id(l), port);
	}
}

const char *
lc_capture_source_name(const struct lc_capture *cap)
{
	if (cap->read != NULL)
		return "file";
	if (cap->plan->port.kif.ifname[0] != '\0')
		return cap->plan->port.kif.ifname;
	return cap->port.name;
}

uint32_t
lc_capture_header_snaplen(const struct lc_capture *cap)
{
	const struct lc_config *cfg = cap->cfg;

	return cap->plan->read && !cfg->snaplen_set ? cap->plan->read->snaplen : cfg->snaplen;
}

/* -r: what is read, and how. */
static void
describe_read(const struct lc_capture *cap, FILE *f)
{
	const struct lc_read_plan *rp = cap->plan->read;

	fprintf(f, "linecap: reading %u file%s (%.1f MB%s%s) through port %s; each packet keeps "
		"its own timestamp; the output's header says snaplen %u\n", rp->n,
		rp->n == 1 ? "" : "s", rp->bytes / 1e6, rp->n > 1 ? ", first " : ": ",
		lc_read_shown(rp->paths[0]), cap->port.name, lc_capture_header_snaplen(cap));
	if (rp->skipped != 0)
		fprintf(f, "linecap: -r: %u name%s like a capture not read: links (never "
			"followed in a directory), pipes, devices or directories\n", rp->skipped,
			rp->skipped == 1 ? "" : "s");
}

void
lc_capture_describe(const struct lc_capture *cap, FILE *f)
{
	char link[128];

	if (cap->read != NULL) {
		describe_read(cap, f);
	} else {
		lc_port_link_describe(&cap->port, link, sizeof(link));
		fprintf(f, "linecap: port %s (%s, socket %d): %s\n", cap->port.name,
			cap->port.driver, cap->port.socket, link);
	}
	fprintf(f, "linecap: %u RX queue%s%s, %u writer%s, buffer %u MiB per queue, %u mbufs of "
		"%u bytes%s, frames up to %u bytes\n", cap->nq, cap->nq == 1 ? "" : "s",
		cap->port.rss ? " (symmetric RSS)" : "", cap->nw, cap->nw == 1 ? "" : "s",
		cap->queue[0]->nchunks * (LC_CHUNK_SIZE >> 20), cap->plan->mbufs,
		cap->port.data_room,
		cap->port.scatter ? " (scattered RX)" : "",
		cap->port.mtu + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN);
	if (cap->port.socket >= 0)
		fprintf(f, "linecap: NUMA: port on socket %d; mbufs, capture buffers, writer "
			"buffers and filter code placed there\n", cap->port.socket);
	else
		fprintf(f, "linecap: NUMA: the port has no socket (virtual device); memory from "
			"any socket\n");
	for (unsigned int q = 0; q < cap->nq; q++) {
		unsigned int rl = cap->rx_lcore[q], wl = cap->wr_lcore[q % cap->nw];

		fprintf(f, "linecap: queue %u on lcore %u (cpu %d, socket %u) -> writer %u on "
			"lcore %u (cpu %d, socket %u) -> %s\n", q, rl, rte_lcore_to_cpu_id((int)rl),
			rte_lcore_to_socket_id(rl), q % cap->nw, wl, rte_lcore_to_cpu_id((int)wl),
			rte_lcore_to_socket_id(wl), cap->shard[q]->file.part);
	}
	warn_cross_socket(cap);
	if (cap->plan->earlier_files)
		fprintf(f, "linecap: %s holds %u file%s of earlier captures (%u under retention): "
			"numbering goes on after them\n", cap->out->dir, cap->plan->earlier_files,
			cap->plan->earlier_files == 1 ? "" : "s", lc_custody_earlier(cap->custody));
	if (lc_filter_set_expr(cap->filters)[0] != '\0')
		fprintf(f, "linecap: filter '%s' (engine %s, self-checked), snaplen %u\n",
			lc_filter_set_expr(cap->filters), lc_filter_set_engine(cap->filters),
			cap->cfg->snaplen);
	else
		fprintf(f, "linecap: no filter, snaplen %u\n", cap->cfg->snaplen);
}

int
lc_capture_chown(struct lc_capture *cap, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	int rc;

	/* The directory only if the capture created it (and through the descriptor it holds,
	 * never by name): one that was there already keeps its owner. */
	if (lc_outpath_made_is(&cap->made, cap->dir_lock) && fchown(cap->dir_lock, uid, gid) != 0)
		return lc_capture_fail(-errno, err, errlen, "%s: %s", cap->out->dir, strerror(errno));
	rc = lc_custody_chown(cap->custody, uid, gid);
	if (rc < 0)
		return lc_capture_fail(rc, err, errlen, "%s/manifest.jsonl: %s", cap->out->dir,
			    strerror(-rc));
	for (unsigned int q = 0; q < cap->nq; q++) {
		const struct lc_shard_file *f = &cap->shard[q]->file;

		if (f->fd >= 0 && fchown(f->fd, uid, gid) != 0)
			return lc_capture_fail(-errno, err, errlen, "%s: %s", f->part, strerror(errno));
	}
	return 0;
}

int
lc_capture_check_unlink(const struct lc_capture *cap, uid_t uid, const char *user,
			const char *remedy, char *err, size_t errlen)
{
	unsigned int n = 0;
	const char *path = lc_custody_undeletable(cap->custody, uid, &n);

	if (path == NULL)
		return 0;
	return lc_capture_fail(-EPERM, err, errlen, "-Z %s: %s cannot delete %s (%s%u earlier "
			       "file%s under retention): %s", user, user, path, n == 1 ? "" :
			       "one of ", n, n == 1 ? "" : "s", remedy);
}

