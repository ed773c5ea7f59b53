/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_SHARD_H
#define LINECAP_SHARD_H

/*
 * One open pcap file of a shard (the stream of files of one RX queue). It is created as
 * NAME.pcap.part with O_EXCL|O_NOFOLLOW and mode 0640, written with whole-buffer writes, and
 * on close fsync-ed, renamed to NAME.pcap without replacing anything, and the directory
 * fsync-ed. A file that exists is never opened for writing.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "linecap/outpath.h"

struct lc_shard_file {
	int fd;			/* -1 when closed */
	unsigned int queue;
	uint32_t seq;
	uint64_t bytes;		/* written to the file so far, header included */
	char path[PATH_MAX];
	char part[PATH_MAX];
};

/*
 * Create file seq of queue and write the pcap file header. Returns 0, or -errno with
 * "PATH: reason" in err (nothing is left behind on failure).
 */
int lc_shard_file_open(struct lc_shard_file *f, const struct lc_outpath *op,
		       unsigned int queue, uint32_t seq, uint32_t snaplen, char *err,
		       size_t errlen);

/* Write all len bytes (retrying short writes and EINTR). Returns 0 or -errno. */
int lc_shard_file_write(struct lc_shard_file *f, const void *buf, size_t len);

/* fsync, close, rename .part to the final name, fsync the directory. Returns 0 or -errno. */
int lc_shard_file_close(struct lc_shard_file *f, const struct lc_outpath *op);

/* Close and remove a file that never held a packet (a capture that failed to start). */
void lc_shard_file_discard(struct lc_shard_file *f);

#endif
