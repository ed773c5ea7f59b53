/* SPDX-License-Identifier: BSD-3-Clause */
/* -r FILE: capture files read into a net_ring port (readsrc.h). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <fcntl.h>
#include <poll.h>
#include <openssl/evp.h>

#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include "log.h"
#include "linecap/reader.h"
#include "readsrc.h"

#define READ_BURST 32u
#define READ_BUF (1u << 20)	/* stdio's buffer for a file read */
#define READ_WAIT_US 20u	/* the ring or the pool full: look again this much later */
#define READ_ERRLEN (PCAP_ERRBUF_SIZE + PATH_MAX + 64)

/* A capture file read through SHA-256: libpcap reads it as a stdio stream whose every byte
 * is hashed and counted on the way. */
struct lc_read_in {
	int fd;
	bool stream;		/* a pipe or standard input: read as it comes, stoppable */
	const int *stop;	/* the reader's stop flag, while it reads a stream */
	EVP_MD_CTX *sha;
	uint64_t bytes;
	pcap_t *p;		/* libpcap's reading of it (owns the stream) */
};

struct lc_readsrc {
	const struct lc_read_plan *plan;
	struct lc_read_result *result;	/* one per file of the plan (reader; read once done) */
	struct rte_ring *ring;
	struct rte_mempool *pool;
	int ts_offset;
	uint64_t ts_flag;
	pthread_t thread;
	bool started;
	int stop;			/* set by the main lcore */
	int done;			/* set by the reader once it put its last mbuf in */
	uint64_t records;		/* put into the ring (reader; read after done) */
	uint64_t bytes;			/* of the files read so far (reader; relaxed) */
	uint64_t bytes_before;		/* of the files before the one being read (reader) */
	char error[READ_ERRLEN];	/* written by the reader before done */
};

/* A path as a message may show it: control characters (a name may hold a newline, and a line
 * of the log must not be forged) as '?'. One at a time per thread. */
const char *
lc_read_shown(const char *path)
{
	static __thread char buf[PATH_MAX];
	size_t i;

	for (i = 0; path[i] != '\0' && i + 1 < sizeof(buf); i++)
		buf[i] = (unsigned char)path[i] < 0x20 || path[i] == 0x7f ? '?' : path[i];
	buf[i] = '\0';
	return buf;
}

/* ---------------------------------------------------------------- before EAL: the plan */

static int
add_path(struct lc_read_plan *plan, const char *path, char *err, size_t errlen)
{
	char **p;

	if (plan->n == LC_READ_FILES_MAX) {
		snprintf(err, errlen, "-r: more than %u files", LC_READ_FILES_MAX);
		return -E2BIG;
	}
	p = realloc(plan->paths, (plan->n + 1) * sizeof(*p));
	if (p == NULL || (p[plan->n] = strdup(path)) == NULL) {
		if (p != NULL)
			plan->paths = p;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	plan->paths = p;
	plan->n++;
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory's capture files (.pcap, .pcapng; not hidden, not linecap's .part), by name:
 * regular files only. A link in a directory is not followed (someone else may have put it
 * there, pointing anywhere), nor is a pipe, a device or a directory read: each is counted
 * in plan->skipped. */
static int
add_dir(struct lc_read_plan *plan, const char *dir, char *err, size_t errlen)
{
	struct dirent **names;
	unsigned int first = plan->n;
	int n = scandir(dir, &names, NULL, NULL), rc = 0;

	if (n < 0) {
		snprintf(err, errlen, "-r %s: %s", lc_read_shown(dir), strerror(errno));
		return -errno;
	}
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];

		struct stat st;

		if (rc == 0 && names[i]->d_name[0] != '.' &&
		    lc_reader_is_capture_name(names[i]->d_name)) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
				rc = add_path(plan, path, err, errlen);
			else
				plan->skipped++;
		}
		free(names[i]);
	}
	free(names);
	if (rc == 0 && plan->n == first) {
		snprintf(err, errlen, "-r %s: no .pcap or .pcapng file in this directory", lc_read_shown(dir));
		rc = -ENOENT;
	}
	if (rc == 0)
		qsort(plan->paths + first, plan->n - first, sizeof(char *), by_name);
	return rc;
}

static ssize_t
in_read(void *cookie, char *buf, size_t len)
{
	struct lc_read_in *in = cookie;
	ssize_t n;

	/* A pipe may stay silent for ever: the capture's stop must not wait for it. */
	while (in->stream && in->stop != NULL) {
		struct pollfd pfd = { .fd = in->fd, .events = POLLIN };

		if (__atomic_load_n(in->stop, __ATOMIC_RELAXED)) {
			errno = EINTR;
			return -1;
		}
		if (poll(&pfd, 1, 100) != 0)
			break;
	}
	do {
		n = read(in->fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n > 0) {
		EVP_DigestUpdate(in->sha, buf, (size_t)n);
		in->bytes += (uint64_t)n;
	}
	return n;
}

static int
in_close(void *cookie)
{
	struct lc_read_in *in = cookie;

	if (in->fd > STDERR_FILENO)
		close(in->fd);
	in->fd = -1;
	return 0;
}

/* The SHA-256 of what was read of in so far, in hex. */
static void
in_hash(const struct lc_read_in *in, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	hex[0] = '\0';
	if (c != NULL && EVP_MD_CTX_copy_ex(c, in->sha) == 1 && EVP_DigestFinal_ex(c, md, &len) == 1)
		for (unsigned int i = 0; i < len && i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	EVP_MD_CTX_free(c);
}

/* Close what in_open opened. Accepts NULL. */
static void
in_close_all(struct lc_read_in *in)
{
	if (in == NULL)
		return;
	if (in->p != NULL)
		pcap_close(in->p);	/* and the stream: in_close */
	else if (in->fd >= 0)
		in_close(in);
	EVP_MD_CTX_free(in->sha);
	free(in);
}

/* Open path ("-": standard input) as tcpdump -r would, through the hash; one line in err on
 * failure. A regular file, or a stream: standard input or a pipe given by name (-r <(zcat
 * f.gz)); never a device, a socket or a directory. */
static struct lc_read_in *
in_open(const char *path, char *err, size_t errlen)
{
	static const cookie_io_functions_t io = { .read = in_read, .close = in_close };
	char pe[PCAP_ERRBUF_SIZE] = "";
	struct lc_read_in *in = calloc(1, sizeof(*in));
	struct stat st;
	FILE *f;

	if (in == NULL || (in->sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(in->sha, EVP_sha256(), NULL) != 1) {
		snprintf(err, errlen, "-r %s: out of memory", lc_read_shown(path));
		goto fail;
	}
	/* Non-blocking open: a FIFO without a writer would wait there; reads block again. */
	in->fd = strcmp(path, "-") == 0 ? STDIN_FILENO :
		 open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (in->fd < 0) {
		snprintf(err, errlen, "-r %s: %s", lc_read_shown(path), strerror(errno));
		goto fail;
	}
	if (fstat(in->fd, &st) != 0 || (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) &&
					in->fd != STDIN_FILENO) ||
	    (in->fd != STDIN_FILENO && fcntl(in->fd, F_SETFL, 0) != 0)) {
		snprintf(err, errlen, "-r %s: not a regular file or a pipe", lc_read_shown(path));
		goto fail;
	}
	in->stream = !S_ISREG(st.st_mode);
	f = fopencookie(in, "r", io);
	if (f == NULL) {
		snprintf(err, errlen, "-r %s: %s", lc_read_shown(path), strerror(errno));
		goto fail;
	}
	/* Large reads: one system call per MiB, not per page (libpcap reads record by record). */
	if (!in->stream)
		setvbuf(f, NULL, _IOFBF, READ_BUF);
	in->p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, pe);
	if (in->p == NULL) {
		snprintf(err, errlen, "-r %s: %s", lc_read_shown(path), pe);
		fclose(f);	/* and in->fd, through in_close */
		goto fail;
	}
	return in;
fail:
	in_close_all(in);
	return NULL;
}

/* The file at path is one linecap can read: 0 (its snapshot length, size), or -errno.
 * A stream (standard input, a pipe) can be read once only: it stays open in *keep for the
 * reader. */
static int
check_file(const char *path, uint32_t *snaplen, uint64_t *bytes, struct lc_read_in **keep,
	   char *err, size_t errlen)
{
	struct lc_read_in *in = in_open(path, err, errlen);
	struct stat st;
	int dlt;

	if (in == NULL)
		return -EINVAL;
	if (fstat(in->fd, &st) == 0 && S_ISREG(st.st_mode))
		*bytes += (uint64_t)st.st_size;
	dlt = pcap_datalink(in->p);
	*snaplen = (uint32_t)pcap_snapshot(in->p);
	if ((in->stream || strcmp(path, "-") == 0) && dlt == DLT_EN10MB)
		*keep = in;	/* standard input, even from a file, is opened once */
	else
		in_close_all(in);
	if (dlt != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(dlt);

		snprintf(err, errlen, "-r %s: link type %s: linecap reads Ethernet captures (read "
			 "this one with tcpdump -r)", lc_read_shown(path), name ? name : "unknown");
		return -EINVAL;
	}
	return 0;
}

int
lc_read_plan(const char *const *given, unsigned int ngiven, struct lc_read_plan *plan,
	     char *err, size_t errlen)
{
	int rc = 0;

	memset(plan, 0, sizeof(*plan));
	for (unsigned int i = 0; rc == 0 && i < ngiven; i++) {
		struct stat st;

		if (strcmp(given[i], "-") != 0 && stat(given[i], &st) != 0) {
			snprintf(err, errlen, "-r %s: %s", lc_read_shown(given[i]), strerror(errno));
			rc = -errno;
		} else if (strcmp(given[i], "-") != 0 && S_ISDIR(st.st_mode)) {
			rc = add_dir(plan, given[i], err, errlen);
		} else {
			rc = add_path(plan, given[i], err, errlen);
		}
	}
	for (unsigned int i = 0; rc == 0 && i < plan->n; i++) {
		uint32_t snap;

		struct stat st;

		if (plan->n > 1 && (strcmp(plan->paths[i], "-") == 0 ||
				    (stat(plan->paths[i], &st) == 0 && S_ISFIFO(st.st_mode)))) {
			snprintf(err, errlen, "-r %s: %s is read alone", lc_read_shown(plan->paths[i]),
				 strcmp(plan->paths[i], "-") == 0 ? "standard input" : "a pipe");
			rc = -EINVAL;
			break;
		}
		rc = check_file(plan->paths[i], &snap, &plan->bytes, &plan->stream, err,
				errlen);
		if (rc == 0 && snap > plan->snaplen)	/* no record is longer than it says */
			plan->snaplen = snap;
	}
	if (rc < 0)
		lc_read_plan_release(plan);
	return rc;
}

void
lc_read_plan_release(struct lc_read_plan *plan)
{
	in_close_all(plan->stream);
	for (unsigned int i = 0; i < plan->n; i++)
		free(plan->paths[i]);
	free(plan->paths);
	memset(plan, 0, sizeof(*plan));
}

/* ---------------------------------------------------------------- after EAL: the reader */

struct lc_readsrc *
lc_readsrc_create(const struct lc_read_plan *plan, int socket, uint16_t *port_id, char *err,
		  size_t errlen)
{
	struct lc_readsrc *src = calloc(1, sizeof(*src));
	int id;

	if (src == NULL) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	src->plan = plan;
	src->result = calloc(plan->n, sizeof(*src->result));
	if (src->result == NULL) {
		snprintf(err, errlen, "out of memory");
		free(src);
		errno = ENOMEM;
		return NULL;
	}
	/* One producer (the reader), one consumer (RX queue 0). */
	src->ring = rte_ring_create("lc_read", LC_READ_RING, socket,
				    RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (src->ring == NULL) {
		snprintf(err, errlen, "-r: cannot create its ring: %s", rte_strerror(rte_errno));
		free(src->result);
		free(src);
		errno = ENOMEM;
		return NULL;
	}
	id = rte_eth_from_rings("lc_read", &src->ring, 1, &src->ring, 1, (unsigned int)socket);
	if (id < 0) {
		snprintf(err, errlen, "-r: cannot create its port: %s", rte_strerror(rte_errno));
		rte_ring_free(src->ring);
		free(src->result);
		free(src);
		errno = ENODEV;
		return NULL;
	}
	*port_id = (uint16_t)id;
	return src;
}

/* One record as an mbuf (chained where the first cannot hold it): pkt_len is its length on
 * the wire, the segments hold what was captured. NULL when the pool is empty for now. */
static struct rte_mbuf *
record_mbuf(struct lc_readsrc *src, const struct pcap_pkthdr *h, const uint8_t *data)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(src->pool), *last = m;
	uint32_t left = h->caplen, off = 0;

	if (m == NULL)
		return NULL;
	for (;;) {
		uint32_t room = rte_pktmbuf_tailroom(last);
		uint32_t n = left < room ? left : room;

		memcpy(rte_pktmbuf_mtod(last, uint8_t *), data + off, n);
		last->data_len = (uint16_t)n;
		off += n;
		left -= n;
		if (left == 0)
			break;
		last->next = rte_pktmbuf_alloc(src->pool);
		if (last->next == NULL) {
			rte_pktmbuf_free(m);
			return NULL;
		}
		last = last->next;
		m->nb_segs++;
	}
	/* A record longer than the frame it claims keeps its bytes (the format cuts at
	 * pkt_len): such a file is malformed, and tcpdump keeps what it holds. */
	m->pkt_len = h->len > h->caplen ? h->len : h->caplen;
	/* Seconds as the file holds them (32 bits), the nanoseconds libpcap gives. */
	*RTE_MBUF_DYNFIELD(m, src->ts_offset, uint64_t *) =
		(uint64_t)(uint32_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
	m->ol_flags |= src->ts_flag;
	return m;
}

/* Hand the n mbufs of b to RX, waiting for room; false when stopped (the rest freed). */
static bool
hand_over(struct lc_readsrc *src, struct rte_mbuf **b, unsigned int n)
{
	unsigned int done = 0;

	while (done < n) {
		done += rte_ring_sp_enqueue_burst(src->ring, (void **)b + done, n - done, NULL);
		if (done == n)
			break;
		if (__atomic_load_n(&src->stop, __ATOMIC_RELAXED)) {
			rte_pktmbuf_free_bulk(b + done, n - done);
			return false;
		}
		usleep(READ_WAIT_US);
	}
	src->records += n;
	return true;
}

/* The records of in into the ring, in bursts. 1: all of them (*rc: pcap_next_ex's last, an
 * error or the end), 0: stopped. */
static int
read_records(struct lc_readsrc *src, struct lc_read_in *in, int *rc)
{
	/* A stream hands each record over as it comes: none waits for the next to arrive. */
	const unsigned int burst = in->stream ? 1 : READ_BURST;
	struct rte_mbuf *b[READ_BURST];
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned int n = 0;

	while ((*rc = pcap_next_ex(in->p, &h, &data)) == 1) {
		while ((b[n] = record_mbuf(src, h, data)) == NULL) {
			if (n != 0 && !hand_over(src, b, n))
				return 0;
			n = 0;
			if (__atomic_load_n(&src->stop, __ATOMIC_RELAXED))
				return 0;
			usleep(READ_WAIT_US);	/* RX gives mbufs back as it goes */
		}
		if (++n == burst) {
			if (!hand_over(src, b, n))
				return 0;
			n = 0;
			__atomic_store_n(&src->bytes, src->bytes_before + in->bytes,
					 __ATOMIC_RELAXED);
		}
	}
	return n == 0 || hand_over(src, b, n);
}

/* Read file i into the ring, its hash on the way. false: stop reading (stopped, or an
 * error in src->error). */
static bool
read_file(struct lc_readsrc *src, unsigned int i)
{
	const char *path = src->plan->paths[i];
	struct lc_read_result *res = &src->result[i];
	/* A stream, read alone, was opened by the plan (its header read): it goes on there. */
	bool kept = src->plan->stream != NULL;
	struct lc_read_in *in = kept ? src->plan->stream :
				       in_open(path, src->error, sizeof(src->error));
	uint64_t first = src->records;
	char rest[65536];
	int rc = 0;

	if (in == NULL)
		return false;
	in->stop = &src->stop;
	res->how = "stopped";
	if (pcap_datalink(in->p) != DLT_EN10MB) {	/* changed since the plan looked */
		snprintf(src->error, sizeof(src->error), "-r %s: not an Ethernet capture",
			 lc_read_shown(path));
		res->how = "broken";
	} else if (read_records(src, in, &rc) && rc == PCAP_ERROR &&
		   !__atomic_load_n(&src->stop, __ATOMIC_RELAXED)) {
		snprintf(src->error, sizeof(src->error), "-r %s: record %" PRIu64 ": %s",
			 lc_read_shown(path), src->records - first + 1, pcap_geterr(in->p));
		res->how = "broken";
	} else if (rc != PCAP_ERROR && !__atomic_load_n(&src->stop, __ATOMIC_RELAXED)) {
		res->how = "whole";
	}
	/* What libpcap left unread (after a broken record) is part of the file's hash. */
	if (strcmp(res->how, "stopped") != 0)
		while (fread(rest, 1, sizeof(rest), pcap_file(in->p)) > 0)
			;
	res->records = src->records - first;
	res->bytes = in->bytes;
	in_hash(in, res->sha256);
	src->bytes_before += in->bytes;
	__atomic_store_n(&src->bytes, src->bytes_before, __ATOMIC_RELAXED);
	if (!kept)
		in_close_all(in);
	return strcmp(res->how, "whole") == 0;
}

static void *
reader_main(void *arg)
{
	struct lc_readsrc *src = arg;

	for (unsigned int i = 0; i < src->plan->n; i++)
		if (!read_file(src, i))
			break;
	__atomic_store_n(&src->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

int
lc_readsrc_start(struct lc_readsrc *src, struct rte_mempool *pool, int ts_offset,
		 uint64_t ts_flag)
{
	int rc;

	src->pool = pool;
	src->ts_offset = ts_offset;
	src->ts_flag = ts_flag;
	rc = rte_ctrl_thread_create(&src->thread, "lc-read", NULL, reader_main, src);
	if (rc != 0)
		return -rc;
	/* Any CPU: the RX lcore yields its own while the ring is empty (the reader is what
	 * -r waits for), the control threads' CPU is the writer's. */
	cpu_set_t all;

	CPU_ZERO(&all);
	for (int c = 0; c < CPU_SETSIZE && c < get_nprocs_conf(); c++)
		CPU_SET(c, &all);
	pthread_setaffinity_np(src->thread, sizeof(all), &all);
	src->started = true;
	return 0;
}

bool
lc_readsrc_done(const struct lc_readsrc *src, uint64_t *records)
{
	if (!__atomic_load_n(&src->done, __ATOMIC_ACQUIRE))
		return false;
	*records = src->records;
	return true;
}

uint64_t
lc_readsrc_bytes(const struct lc_readsrc *src)
{
	return __atomic_load_n(&src->bytes, __ATOMIC_RELAXED);
}

const char *
lc_readsrc_error(const struct lc_readsrc *src)
{
	if (!__atomic_load_n(&src->done, __ATOMIC_ACQUIRE))
		return NULL;
	return src->error[0] ? src->error : NULL;
}

const struct lc_read_result *
lc_readsrc_result(const struct lc_readsrc *src, unsigned int i)
{
	return i < src->plan->n ? &src->result[i] : NULL;
}

void
lc_readsrc_stop(struct lc_readsrc *src)
{
	struct rte_mbuf *b[READ_BURST];
	unsigned int n;

	if (src == NULL || !src->started)
		return;
	__atomic_store_n(&src->stop, 1, __ATOMIC_RELAXED);
	pthread_join(src->thread, NULL);
	src->started = false;
	while ((n = rte_ring_sc_dequeue_burst(src->ring, (void **)b, READ_BURST, NULL)) != 0)
		rte_pktmbuf_free_bulk(b, n);
}

void
lc_readsrc_free(struct lc_readsrc *src)
{
	if (src == NULL)
		return;
	lc_readsrc_stop(src);
	rte_ring_free(src->ring);
	free(src->result);
	free(src);
}
