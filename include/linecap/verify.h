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
 *    whole record, renamed to its final name and added to the manifest, marked repaired;
 *  - a retired file still there is a retirement a crash cut short (the retire record is
 *    written before the file is deleted): "retirement pending"; with repair, it is deleted
 *    when it is the very file recorded (same SHA-256 and size), else left as a conflict.
 * The manifest may have been written by anyone (under -Z the unprivileged user owns it):
 * only a regular file of dir is ever opened, through dir's descriptor, without following a
 * link or blocking. A record naming a path (a '/', "..", a name over NAME_MAX), or a file
 * that is a link, a FIFO or a device, is a finding, never read, renamed or deleted; so is a
 * manifest that is not a regular file. Reading takes time linear in the manifest and
 * memory bounded per line (LC_MANIFEST_LINE_MAX).
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
 * renamed, recorded), and every retirement a crash cut short is completed, without
 * checking anything else. The caller holds the directory's lock
 * (lc_outpath_lock). Returns the number of findings (files that could not be repaired), or
 * -errno. */
int lc_verify_repair(const char *dir, lc_verify_say say, void *arg,
		     struct lc_verify_summary *sum);

/* Verify dir (and repair cut files when repair is set, under the directory's lock). Returns the number of findings, or
 * -errno when dir cannot be read at all (reason through say). */
int lc_verify_dir(const char *dir, int repair, lc_verify_say say, void *arg,
		  struct lc_verify_summary *sum);

#endif
