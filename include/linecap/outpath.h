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
#include <sys/types.h>
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

/* What lc_outpath_prepare created: only that may be given to -Z's user. */
struct lc_outpath_made {
	int dir;		/* 1: the capture directory was created now, by us */
	dev_t dev;		/* and its identity, to know it again by an open descriptor */
	ino_t ino;
};

/*
 * Create the directory (and missing parents) with mode 0750. A directory created here is
 * opened without following a symbolic link (O_NOFOLLOW) and its mode set on the open
 * descriptor, so a link planted at its place is never followed; the next component is made
 * under that descriptor. Components that exist are used as they are (an operator's link,
 * /data -> /mnt/disk1, is fine). *made (may be NULL) says whether the capture directory was
 * created now and which it is. Returns 0 or -errno with "PATH: reason" in err.
 */
int lc_outpath_prepare(const struct lc_outpath *op, struct lc_outpath_made *made, char *err,
		       size_t errlen);

/* Is fd, open on the capture directory, the very directory lc_outpath_prepare created
 * (not one that was there already, nor one put in its place since)? 1 or 0. */
int lc_outpath_made_is(const struct lc_outpath_made *made, int fd);

/*
 * A small file root writes by name (--stats-file): check, creating nothing, that path can be
 * written. A symbolic link at path is refused (linecap does not write through links), and so
 * is anything but a regular file; the directory must be writable. opt names the option in
 * the message ("--stats-file"). 0, or -errno with "OPT PATH: reason" in err.
 */
int lc_outpath_file_check(const char *opt, const char *path, char *err, size_t errlen);

/*
 * Write len bytes of data to path as a new file, atomically and never through a link: a
 * temporary file beside it (.NAME.XXXXXX, O_CREAT|O_EXCL, so never a link's target), synced,
 * then renamed over path. Whatever was at path (a file, or a link planted there) is
 * replaced; what a link pointed at is not touched. 0, or -errno with "PATH: reason" in err;
 * on error nothing is left behind.
 */
int lc_outpath_file_replace(const char *path, const void *data, size_t len, char *err,
			    size_t errlen);

/* Full path of file seq of queue for a period starting at when; with part != 0, its
 * ".part" name. -ENAMETOOLONG if cut. */
int lc_outpath_name(const struct lc_outpath *op, unsigned int queue, uint32_t seq, time_t when,
		    int part, char *buf, size_t len);

/*
 * Is name (a file name in the directory) one of this capture's files, of any number and any
 * period: PREFIX-qNN-NNNNNN.EXT or its ".part", PREFIX as -w gave it (a strftime pattern in
 * it matches any expansion: digits for a numeric conversion, any characters but '/' for the
 * others). Files of other prefixes sharing the directory are not. 1, with the queue in
 * *queue (may be NULL), or 0.
 */
int lc_outpath_owns(const struct lc_outpath *op, const char *name, unsigned int *queue);

/* The manifest of the capture directory: DIR/manifest.jsonl. */
int lc_outpath_manifest(const struct lc_outpath *op, char *buf, size_t len);

#endif
