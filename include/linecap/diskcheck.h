/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_DISKCHECK_H
#define LINECAP_DISKCHECK_H

/*
 * --check-disk: before capturing, write a test file in the capture directory the way the
 * writers do (blocks of lc_capture_write_bytes() bytes, O_DIRECT where the filesystem allows, data that
 * does not compress), fdatasync it, and time it all: the sustained bandwidth a capture can
 * count on there. The file is nameless (O_TMPFILE) or unlinked at once: nothing is left.
 */
#include <stddef.h>
#include <stdint.h>

struct lc_disk_result {
	uint64_t bytes;		/* written and synced */
	double seconds;
	double bytes_per_s;
	int direct;		/* O_DIRECT was used */
};

/* Write for about seconds (at most max_bytes, and at most a quarter of the free space) in
 * blocks of block bytes. 0, or -errno with "DIR: reason" in err. */
int lc_disk_check(const char *dir, size_t block, double seconds, uint64_t max_bytes,
		  struct lc_disk_result *r, char *err, size_t errlen);

/* Bytes per second the files of a full link of link_mbps grow by (records are a little
 * smaller than frames on the wire with their preamble and gap, so this bounds it). */
static inline double
lc_disk_need(uint32_t link_mbps)
{
	return (double)link_mbps * 1e6 / 8;
}

#endif
