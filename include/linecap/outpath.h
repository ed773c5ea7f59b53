/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_OUTPATH_H
#define LINECAP_OUTPATH_H

/*
 * Where shard files go and what they are called. -w PATH is either a directory (files are
 * named after it: /data/case42 -> /data/case42/case42-q00-000001.pcap) or, when it ends in
 * ".pcap" or ".pcapng", a prefix in an existing directory (/data/x.pcap ->
 * /data/x-q00-000001.pcap). A prefix may hold strftime(3) patterns, expanded (local time)
 * with the time a file's period starts: /data/cap-%H%M.pcap -> /data/cap-1430-q00-000001.pcap.
 * The extension follows the format (.pcap or .pcapng). A file being written carries ".part"
 * until it is closed and renamed.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define LC_PART_SUFFIX ".part"
#define LC_OUTPATH_QUEUES 64	/* = LC_QUEUES_MAX */

struct lc_outpath {
	char dir[PATH_MAX];
	char prefix[NAME_MAX + 1];
	const char *ext;	/* ".pcap" (default) or ".pcapng" */
	int create_dir;		/* the directory is ours to create if missing */
	int timed;		/* the prefix holds strftime patterns */
};

/* Interpret -w PATH for files with extension ext (NULL: ".pcap"). Returns 0, or -EINVAL /
 * -ENAMETOOLONG with a reason in err. */
int lc_outpath_init(struct lc_outpath *op, const char *path, const char *ext, char *err,
		    size_t errlen);

/*
 * Check, touching nothing, that the capture can write there: the directory (or the nearest
 * existing ancestor it would be created under) is a writable directory. A directory that
 * holds files of earlier captures is fine: each queue's numbering goes on after the highest
 * number taken by a file of the same name pattern (for time when), so no name is reused;
 * first_seq[q] receives the number each queue starts at, *earlier the count of such files.
 * Returns 0 or -errno with "PATH: reason" in err.
 */
int lc_outpath_check(const struct lc_outpath *op, unsigned int queues, time_t when,
		     uint32_t *first_seq, unsigned int *earlier, char *err, size_t errlen);

/*
 * One capture at a time per directory: an exclusive lock on the directory, held (through
 * *fd) for as long as the capture runs; linecap-verify --repair takes it too. 0, -EBUSY with
 * "DIR: another linecap is writing into it" in err, or -errno.
 */
int lc_outpath_lock(const char *dir, int *fd, char *err, size_t errlen);

/* Create the directory (and missing parents) with mode 0750. Returns 0 or -errno. */
int lc_outpath_prepare(const struct lc_outpath *op, char *err, size_t errlen);

/* Full path of file seq of queue for a period starting at when; with part != 0, its
 * ".part" name. -ENAMETOOLONG if cut. */
int lc_outpath_name(const struct lc_outpath *op, unsigned int queue, uint32_t seq, time_t when,
		    int part, char *buf, size_t len);

/* The manifest of the capture directory: DIR/manifest.jsonl. */
int lc_outpath_manifest(const struct lc_outpath *op, char *buf, size_t len);

#endif
