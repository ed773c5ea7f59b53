/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_VERIFY_H
#define LINECAP_VERIFY_H

/*
 * Checking a capture directory against its manifest (linecap-verify):
 *  - the manifest's hash chain is whole;
 *  - every file it records (and has not retired) is present, hashes to its SHA-256, has its
 *    size and packet count, and is well formed: whole records, caplen <= snaplen, Ethernet,
 *    timestamps never decreasing within the file and, per queue, from file to file;
 *  - no file was retired but left, and no capture file is there that the manifest lacks;
 *  - no ".part" file is left by a crash; with repair, such a file is cut back to its last
 *    whole record, renamed to its final name and added to the manifest, marked repaired.
 * Each finding is one line through say(); the return value counts them.
 */
#include <stddef.h>

struct lc_verify_summary {
	unsigned int recorded;	/* files the manifest lists and has not retired */
	unsigned int verified;	/* of those, present and intact */
	unsigned int retired;
	unsigned int repaired;
	unsigned int findings;
};

/* say(arg, line) gets each finding or note, without a newline. */
typedef void (*lc_verify_say)(void *arg, const char *line);

/* Only the repair: every .part file of dir is finished (cut back to its last whole record,
 * renamed, recorded) without checking anything else. The caller holds the directory's lock
 * (lc_outpath_lock). Returns the number of findings (files that could not be repaired), or
 * -errno. */
int lc_verify_repair(const char *dir, lc_verify_say say, void *arg,
		     struct lc_verify_summary *sum);

/* Verify dir (and repair cut files when repair is set, under the directory's lock). Returns the number of findings, or
 * -errno when dir cannot be read at all (reason through say). */
int lc_verify_dir(const char *dir, int repair, lc_verify_say say, void *arg,
		  struct lc_verify_summary *sum);

#endif
