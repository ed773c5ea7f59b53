/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_VERIFY_PRIV_H
#define LINECAP_VERIFY_PRIV_H

/* What verify.c (the checks) and verify_repair.c (the repairs) share: a directory's
 * manifest records, loaded by name, and how findings are told. */
#include <dirent.h>
#include <limits.h>
#include <stdint.h>

#include "linecap/manifest.h"
#include "linecap/verify.h"

struct verify_entry {
	char name[NAME_MAX + 1];
	char sha[65];
	uint64_t bytes, packets;
	int queue, seq;
	unsigned int line;
	int retired;
	int present;
	int checked_ok;
	uint64_t seen_first, seen_last;	/* timestamps found in the file */
	/* Written from files read (-r, clock "file"): records keep the order and times of
	 * those files, which may go backwards or past the header's snaplen (tcpdump -r -w). */
	int as_read;
	/* Its index (NAME.idx): LC_INDEX_* of its record; with LC_INDEX_WRITTEN, the SHA-256
	 * and size the record gives (a retire record's "index", the one it retired, wins). */
	int index;
	char index_sha[65];
	uint64_t index_bytes;
};

struct verify_ctx {
	int quiet;		/* a first look (before repairs): findings not reported */
	const char *dir;
	lc_verify_say say;
	void *arg;
	struct lc_verify_summary *sum;
	struct verify_entry *e;
	size_t n, cap;
	int dirfd;		/* the directory: every name is opened relative to it */
	struct lc_name_index *index;	/* e by name */
	int chain_told;		/* the first break of the chain is reported, once */
	int listing;		/* linecap-verify --repair: what cannot be repaired because of
				 * what it is (a link, a FIFO, a hard link) is left to the listing
				 * after the repairs, which reports it once */
};

/* A finding (counted; not told when c->quiet), a note (told, not counted). */
void verify_finding(struct verify_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void verify_note(struct verify_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The entry of name, or NULL; add one (name passed lc_manifest_name_ok), NULL: no memory. */
struct verify_entry *verify_find(struct verify_ctx *c, const char *name);
struct verify_entry *verify_add(struct verify_ctx *c, const char *name);
/* Forget every entry. */
void verify_clear(struct verify_ctx *c);

/* SHA-256 (hex) and size of the file open at fd. 0, or -errno with errno set. */
int verify_file_sha(int fd, char hex[65], uint64_t *bytes);

/* Load the manifest's records into c (quiet: without telling findings, nor checking the
 * chain). 0, or -errno. */
int verify_load(struct verify_ctx *c, const char *mpath, int quiet);

/* Does a name end in ".part"? */
int verify_is_part(const char *name);

/* Is name the index of a capture file (NAME.idx, NAME a capture's name)? Its file's name
 * into file. */
int verify_is_index(const char *name, char file[NAME_MAX + 1]);

/* linecap-verify --repair, under the directory's lock: the manifest's cut last line, every
 * .part file of d, every retirement a crash cut short. */
void verify_repair_all(struct verify_ctx *c, DIR *d, const char *mpath);

#endif
