/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "clock.h"
#include "linecap/gen_sender.h"
#include "linecap/outpath.h"
#include "pcap_format.h"

#define BURST 32u
#define MBUFS 8191u

int
lc_gen_sender_init(struct lc_gen_sender *s, struct lc_gen *g, uint32_t flows)
{
	memset(s, 0, sizeof(*s));
	s->gen = g;
	s->flows = flows;
	s->per_flow = calloc(flows + 1, sizeof(*s->per_flow));
	return s->per_flow ? 0 : -ENOMEM;
}

/* The flow a frame belongs to (flows + 1 when it carries no tag: a pcap replay). */
static inline uint32_t
flow_of(const struct lc_gen_sender *s, const uint8_t *frame, uint32_t len)
{
	uint16_t id;
	uint32_t flow;
	uint64_t seq;

	return lc_gen_tag(frame, len, &id, &flow, &seq) && flow <= s->flows ? flow : s->flows + 1;
}

int
lc_gen_sender_port(struct lc_gen_sender *s, uint16_t port, char *err, size_t errlen)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_link l = { 0 };

	s->port = port;
	s->pool = rte_pktmbuf_pool_create("gen", MBUFS, 256, 0,
					  LC_GEN_MAX_FRAME + RTE_PKTMBUF_HEADROOM, rte_socket_id());
	if (s->pool == NULL || rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(port, 0, 512, rte_socket_id(), NULL, s->pool) != 0 ||
	    rte_eth_tx_queue_setup(port, 0, 1024, rte_socket_id(), NULL) != 0 ||
	    rte_eth_dev_start(port) != 0) {
		snprintf(err, errlen, "cannot set up the port for sending");
		return -EIO;
	}
	/* Wait for the link (a memif peer, a cable), up to 10 s. */
	for (int i = 0; i < 100; i++) {
		if (rte_eth_link_get_nowait(port, &l) == 0 && l.link_status)
			return 0;
		usleep(100000);
	}
	snprintf(err, errlen, "the link did not come up within 10 s");
	return -ENOLINK;
}

/* The send loop (a worker lcore): fill a burst, pace, send all of it (retrying), count. */
int
lc_gen_sender_main(void *arg)
{
	struct lc_gen_sender *s = arg;
	struct rte_mbuf *pkts[BURST];
	uint32_t flow[BURST], lens[BURST];
	const double hz = (double)rte_get_tsc_hz();
	uint64_t start = rte_rdtsc(), sent = 0, bytes = 0;

	while (!s->stop && (s->count == 0 || sent < s->count)) {
		uint32_t n = BURST;

		if (s->count && s->count - sent < n)
			n = (uint32_t)(s->count - sent);
		if (rte_pktmbuf_alloc_bulk(s->pool, pkts, n) != 0)
			continue;
		for (uint32_t i = 0; i < n; i++) {
			uint8_t *d = rte_pktmbuf_mtod(pkts[i], uint8_t *);
			uint32_t len = lc_gen_next(s->gen, d);

			pkts[i]->data_len = (uint16_t)len;
			pkts[i]->pkt_len = len;
			flow[i] = flow_of(s, d, len);
			lens[i] = len;
		}
		if (s->pps > 0) {	/* pace: this burst may go when its time has come */
			uint64_t due = start + (uint64_t)((double)sent / s->pps * hz);

			while (rte_rdtsc() < due && !s->stop)
				rte_pause();
		}
		uint32_t done = 0;
		while (done < n && !s->stop)
			done += rte_eth_tx_burst(s->port, 0, pkts + done, (uint16_t)(n - done));
		if (done < n)	/* stopped: the rest never left, and is not counted */
			rte_pktmbuf_free_bulk(pkts + done, n - done);
		for (uint32_t i = 0; i < done; i++) {
			if (flow[i] <= s->flows)
				s->per_flow[flow[i]]++;
			bytes += lens[i];
		}
		sent += done;
		__atomic_store_n(&s->sent, sent, __ATOMIC_RELAXED);
		__atomic_store_n(&s->bytes, bytes, __ATOMIC_RELAXED);
	}
	return 0;
}

int
lc_gen_sender_to_file(struct lc_gen_sender *s, const char *path, uint64_t count, char *err,
		      size_t errlen)
{
	static uint8_t frame[LC_GEN_MAX_FRAME], rec[LC_GEN_MAX_FRAME + 64];
	FILE *f = fopen(path, "wx");	/* O_EXCL: never over a file, nor through a link */
	uint64_t t = lc_realtime_ns();

	if (f == NULL) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	lc_pcap_file_header(rec, LC_GEN_MAX_FRAME);
	fwrite(rec, 1, LC_PCAP_FILE_HDR_LEN, f);
	for (uint64_t i = 0; i < count; i++) {
		uint32_t len = lc_gen_next(s->gen, frame);
		size_t n = lc_pcap_put_record_bytes(rec, sizeof(rec), frame, len, len, t + i * 1000);

		uint32_t fl = flow_of(s, frame, len);

		if (fl <= s->flows)
			s->per_flow[fl]++;
		fwrite(rec, 1, n, f);
		s->bytes += len;
	}
	s->sent = count;
	if (fclose(f) != 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

int
lc_gen_sender_stats(const struct lc_gen_sender *s, uint16_t id, double secs, const char *path)
{
	json_t *root = json_object(), *flows = json_array();
	int rc = 0;

	for (uint32_t i = 0; i <= s->flows; i++)
		json_array_append_new(flows, json_integer((json_int_t)s->per_flow[i]));
	json_object_set_new(root, "id", json_integer(id));
	json_object_set_new(root, "sent", json_integer((json_int_t)s->sent));
	json_object_set_new(root, "bytes", json_integer((json_int_t)s->bytes));
	json_object_set_new(root, "seconds", json_real(secs));
	json_object_set_new(root, "per_flow", flows);
	/* A new file renamed into place: never written through a link planted at path. */
	char *text = json_dumps(root, JSON_INDENT(1)), err[512];

	rc = text == NULL ? -ENOMEM : lc_outpath_file_replace(path, text, strlen(text), err,
							      sizeof(err));
	if (rc < 0)
		rc = -EIO;
	free(text);
	json_decref(root);
	return rc;
}

void
lc_gen_sender_release(struct lc_gen_sender *s)
{
	if (s->pool != NULL) {
		rte_eth_dev_stop(s->port);
		rte_eth_dev_close(s->port);
	}
	free(s->per_flow);
	s->per_flow = NULL;
}
