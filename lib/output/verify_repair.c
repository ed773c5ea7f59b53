/* SPDX-License-Identifier: BSD-3-Clause */
/* linecap-verify --repair, and the repairs a capture makes where it starts: .part files a
 * crash left are closed with the capture file unit's own steps (shard.h), their records
 * built by the manifest record module. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "linecap/index.h"
#include "linecap/manifest.h"
#include "manifest_record.h"
#include "linecap/reader.h"
#include "shard.h"
#include "verify_priv.h"

static int
parse_queue_seq(const char *name, int *queue, int *seq)
{
	const char *q = strstr(name, "-q");
	const char *last = NULL;

	while (q != NULL) {	/* the last "-qNN-SSSSSS" in the name */
		last = q;
		q = strstr(q + 2, "-q");
	}
	return last == NULL || sscanf(last, "-q%d-%d", queue, seq) != 2 ? -1 : 0;
}

/*
 * The index a repair builds for a capture file (NAME.idx): written to a nameless file of
 * the directory (O_TMPFILE; where the filesystem has none, to NAME.idx itself, created
 * O_EXCL|O_NOFOLLOW), fsync-ed, named once the file has its name (index_publish) or
 * dropped (index_drop).
 */
struct built_index {
	int fd;			/* -1: none */
	int named;		/* fd was created as NAME.idx */
	int state;		/* LC_INDEX_WRITTEN (hex, bytes) or LC_INDEX_MISSING (why) */
	char hex[65];
	uint64_t bytes;
	char why[300];
};

/* Build the index of the capture file name open at fd into bi. 0, or -errno with the
 * reason in bi->why (bi->fd -1). */
static int
index_build(struct verify_ctx *c, int fd, const char *name, struct built_index *bi)
{
	char iname[NAME_MAX + 8], err[600];
	uint8_t sha[LC_INDEX_SHA256_LEN];
	struct stat st;
	int rc;

	bi->fd = -1;
	bi->named = 0;
	bi->state = LC_INDEX_MISSING;
	snprintf(iname, sizeof(iname), "%s" LC_INDEX_EXT, name);
	bi->fd = openat(c->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0640);
	if (bi->fd < 0) {
		bi->fd = openat(c->dirfd, iname, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				0640);
		bi->named = bi->fd >= 0;
	}
	if (bi->fd < 0) {
		rc = -errno;
		snprintf(bi->why, sizeof(bi->why), "%s: %s", iname, strerror(-rc));
		return rc;
	}
	/* The file's owner owns its index (a -Z capture's files are that user's). */
	if (geteuid() == 0 && fstat(fd, &st) == 0 && fchown(bi->fd, st.st_uid, st.st_gid) != 0) {
		/* it stays root's: readable, just not by that user */
	}
	rc = lc_index_rebuild(fd, name, bi->fd, sha, &bi->bytes, err, sizeof(err));
	if (rc == 0 && fsync(bi->fd) != 0) {
		rc = -errno;
		snprintf(err, sizeof(err), "%s: fsync: %s", iname, strerror(-rc));
	}
	if (rc < 0) {
		snprintf(bi->why, sizeof(bi->why), "%s", err);
		close(bi->fd);
		if (bi->named)
			unlinkat(c->dirfd, iname, 0);
		bi->fd = -1;
		bi->named = 0;
		return rc;
	}
	lc_sha256_hex(sha, bi->hex);
	bi->state = LC_INDEX_WRITTEN;
	return 0;
}

/* Forget the index built (removing the name index_build gave it, if any). */
static void
index_drop(struct verify_ctx *c, const char *name, struct built_index *bi)
{
	char iname[NAME_MAX + 8];

	if (bi->fd < 0)
		return;
	close(bi->fd);
	snprintf(iname, sizeof(iname), "%s" LC_INDEX_EXT, name);
	if (bi->named)
		unlinkat(c->dirfd, iname, 0);
	bi->fd = -1;
}

/* Give the index built its name NAME.idx (never replacing one), fsync the directory. 0 or
 * -errno. */
static int
index_publish(struct verify_ctx *c, const char *name, struct built_index *bi)
{
	char iname[NAME_MAX + 8], self[64];
	int rc = 0;

	if (bi->fd < 0)
		return 0;
	snprintf(iname, sizeof(iname), "%s" LC_INDEX_EXT, name);
	snprintf(self, sizeof(self), "/proc/self/fd/%d", bi->fd);
	if (!bi->named && linkat(AT_FDCWD, self, c->dirfd, iname, AT_SYMLINK_FOLLOW) != 0)
		rc = -errno;
	close(bi->fd);
	bi->fd = -1;
	if (rc == 0)
		fsync(c->dirfd);
	return rc;
}

/*
 * The index a repaired file's record names: built from the file open at fd (name). Where
 * NAME.idx is there already (a capture on a filesystem without O_TMPFILE names it before
 * the file is recorded), it is kept when it is the same bytes as the one built (a regular
 * file with one link), else left in place and the record says there is none.
 */
static void
index_for_repair(struct verify_ctx *c, int fd, const char *name, struct built_index *bi)
{
	char iname[NAME_MAX + 8], err[600], hex[65];
	uint64_t bytes;
	struct stat st;
	int ifd;

	snprintf(iname, sizeof(iname), "%s" LC_INDEX_EXT, name);
	if (fstatat(c->dirfd, iname, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		index_build(c, fd, name, bi);
		return;
	}
	ifd = lc_manifest_open_file(c->dirfd, iname, O_RDONLY, err, sizeof(err));
	if (ifd < 0 || verify_file_sha(ifd, hex, &bytes) < 0 ||
	    index_build(c, fd, name, bi) < 0 || strcmp(hex, bi->hex) != 0 ||
	    bytes != bi->bytes) {
		index_drop(c, name, bi);
		bi->state = LC_INDEX_MISSING;
		snprintf(bi->why, sizeof(bi->why), "%s was there before the repair, not the index "
			 "of the repaired file: left in place", iname);
	} else {
		index_drop(c, name, bi);	/* the one there is it */
	}
	if (ifd >= 0)
		close(ifd);
}

/* Append (and fsync) the record of a file a repair recorded: f (cut back, closed) with its
 * SHA-256 hex and its index bi; cut: bytes of a cut record removed; from: the cut manifest
 * line it was recovered from (NULL: none). 0 or -errno with the reason in err. */
static int
record_repaired(struct lc_manifest *m, const struct lc_shard_file *f, const char *hex,
		const struct built_index *bi, uint64_t cut, const char *from, char *err,
		size_t errlen)
{
	const char *name = strrchr(f->path, '/') ? strrchr(f->path, '/') + 1 : f->path;
	struct lc_manifest_record r = {
		.kind = LC_RECORD_FILE, .file = name, .bytes = f->bytes, .packets = f->packets,
		.first_ns = f->first_ns, .last_ns = f->last_ns, .queue = -1, .seq = -1,
		.format = strstr(name, ".pcapng") ? "pcapng" : "pcap", .repaired = 1,
		.cut_bytes = cut, .repaired_ns = lc_realtime_ns(), .recovered_from = from,
	};
	char host[256] = "unknown";
	json_t *j;
	int rc;

	parse_queue_seq(name, &r.queue, &r.seq);
	gethostname(host, sizeof(host) - 1);
	r.host = host;
	snprintf(r.sha256, sizeof(r.sha256), "%s", hex);
	r.index = bi->state;
	if (bi->state == LC_INDEX_WRITTEN) {
		snprintf(r.index_sha256, sizeof(r.index_sha256), "%s", bi->hex);
		r.index_bytes = bi->bytes;
	} else {
		r.index_missing = bi->why;
	}
	j = lc_manifest_record_build(&r);
	if (j == NULL) {
		snprintf(err, errlen, "manifest: cannot encode a record");
		return -ENOMEM;
	}
	rc = lc_manifest_append(m, j, err, errlen);
	if (rc == 0 && (rc = lc_manifest_sync(m)) < 0)
		snprintf(err, errlen, "manifest: fsync: %s", strerror(-rc));
	json_decref(j);
	return rc;
}

static void rebuild_index(struct verify_ctx *c, const struct verify_entry *e);

/* Closed and recorded before a crash, cut before its rename: finish the rename when it is
 * the very file recorded (its index, written nameless, is lost then: built again). */
static void
complete_recorded(struct verify_ctx *c, struct lc_shard_file *f, const char *part_name,
		  const char *name, const struct verify_entry *known)
{
	uint64_t bytes;
	char hex[65];
	int same = verify_file_sha(f->fd, hex, &bytes) == 0 && strcmp(hex, known->sha) == 0;
	uint8_t sha[LC_SHA256_LEN];
	int rc;

	lc_shard_file_finish(f, sha);
	if (!same) {
		verify_finding(c, "conflict: %s differs from the record of %s (line %u)", part_name,
			       name, known->line);
		return;
	}
	rc = lc_shard_file_publish_at(f, c->dirfd);
	if (rc < 0) {
		verify_finding(c, "unrepairable: %s: cannot take the name %s: %s", part_name, name,
			       strerror(-rc));
		return;
	}
	verify_note(c, "completed: %s (closed and recorded before a crash; renamed now)", name);
	c->sum->repaired++;
	rebuild_index(c, known);
}

/* Is name free? 0, or the errno that says why not (no capture runs: we hold the lock). */
static int
name_taken(struct verify_ctx *c, const char *name)
{
	struct stat st;

	return fstatat(c->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? EEXIST :
	       errno != ENOENT ? errno : 0;
}

/* Cut a .part a crash left back to its last whole record, record it (fsync-ed, before the
 * rename, as a capture does: a crash between the two leaves a .part its record explains,
 * which the next repair renames), give it its name. */
static void
repair_cut_file(struct verify_ctx *c, struct lc_shard_file *f, const char *part_name,
		const char *name, struct lc_manifest *m)
{
	struct built_index bi = { .fd = -1 };
	uint8_t sha[LC_SHA256_LEN];
	struct lc_shard_cut cut;
	char err[600], hex[65];
	uint64_t bytes;
	int rc = lc_shard_file_cut(f, &cut, err, sizeof(err));

	if (rc < 0) {	/* not even a whole header: nothing a reader could use */
		verify_finding(c, "unrepairable: %s: %s", part_name, err);
		goto done;
	}
	if ((rc = name_taken(c, name)) != 0) {
		verify_finding(c, "unrepairable: %s: cannot take the name %s: %s", part_name, name,
			       strerror(rc));
		goto done;
	}
	if (verify_file_sha(f->fd, hex, &bytes) < 0) {
		verify_finding(c, "unreadable: %s after repair", part_name);
		goto done;
	}
	/* Its index, recorded with it, named after it (a crash between: --repair builds it
	 * again from the file). */
	index_for_repair(c, f->fd, name, &bi);
	if (record_repaired(m, f, hex, &bi, cut.size - cut.good, NULL, err, sizeof(err)) < 0) {
		verify_finding(c, "%s: %s is left cut back, not renamed", err, part_name);
		goto done;
	}
	rc = lc_shard_file_publish_at(f, c->dirfd);
	if (rc < 0) {
		verify_finding(c, "unrepairable: %s: cannot take the name %s: %s", part_name, name,
			       strerror(-rc));
		goto done;
	}
	verify_note(c, "repaired: %s: %llu packets kept, %llu bytes of a cut record removed",
		    name, (unsigned long long)cut.packets, (unsigned long long)(cut.size - cut.good));
	c->sum->repaired++;
	if ((rc = index_publish(c, name, &bi)) < 0)
		verify_finding(c, "index: %s" LC_INDEX_EXT ": cannot name it: %s (--repair builds "
			       "it again)", name, strerror(-rc));
done:
	index_drop(c, name, &bi);
	lc_shard_file_finish(f, sha);
}

/* Close a .part file properly: finish what a crash cut. */
static void
repair(struct verify_ctx *c, const char *part_name, struct lc_manifest *m)
{
	char name[NAME_MAX + 1], err[600];
	struct lc_shard_file f;
	struct verify_entry *known;
	int fd;

	snprintf(name, sizeof(name), "%.*s", (int)(strlen(part_name) - 5), part_name);
	/* The .part itself, never what a link points to, never a FIFO or a device: every step
	 * below works on this descriptor or on names in the directory. */
	fd = lc_manifest_open_file(c->dirfd, part_name, O_RDWR, err, sizeof(err));
	if (fd == -EACCES)	/* enough to check and rename a recorded one */
		fd = lc_manifest_open_file(c->dirfd, part_name, O_RDONLY, err, sizeof(err));
	if (fd == -ENOENT || (fd == -EINVAL && c->listing))
		return;
	if (fd < 0) {
		verify_finding(c, "unrepairable: %s", err);
		return;
	}
	if ((fd = lc_shard_file_adopt(&f, fd, c->dir, part_name)) < 0) {
		verify_finding(c, "unrepairable: %s: %s", part_name, strerror(-fd));
		return;
	}
	known = verify_find(c, name);
	if (known != NULL)
		complete_recorded(c, &f, part_name, name, known);
	else
		repair_cut_file(c, &f, part_name, name, m);
}

/*
 * The index of a retired file, once the file is gone (retention deletes it after the
 * file): deleted when it is the very index the manifest recorded (same SHA-256, same
 * size), a regular file with one link belonging to who wrote the manifest (writer, 0:
 * anyone). 1 deleted, else 0.
 */
static int
finish_retired_index(struct verify_ctx *c, const struct verify_entry *e, uid_t writer)
{
	char iname[NAME_MAX + 8], err[600], hex[65];
	struct stat fs;
	uint64_t bytes;
	int fd, same;

	snprintf(iname, sizeof(iname), "%s" LC_INDEX_EXT, e->name);
	fd = lc_manifest_open_file(c->dirfd, iname, O_RDONLY, err, sizeof(err));
	if (fd == -ENOENT || (fd == -EINVAL && c->listing) ||
	    (fd >= 0 && e->index != LC_INDEX_WRITTEN)) {
		if (fd >= 0)
			close(fd);
		return 0;	/* gone; or told by the listing (no record names it) */
	}
	if (fd < 0) {
		verify_finding(c, "retirement pending: %s: left in place", err);
		return 0;
	}
	if (fstat(fd, &fs) == 0 && writer != 0 && fs.st_uid != writer) {
		close(fd);
		verify_finding(c, "retirement pending: %s belongs to uid %u, the manifest to uid %u: "
			       "left in place", iname, (unsigned int)fs.st_uid, (unsigned int)writer);
		return 0;
	}
	same = verify_file_sha(fd, hex, &bytes) == 0 && strcmp(hex, e->index_sha) == 0 &&
	       bytes == e->index_bytes;
	close(fd);
	if (!same) {
		verify_finding(c, "conflict: %s was retired with %s but differs from its record: "
			       "left in place", iname, e->name);
		return 0;
	}
	if (unlinkat(c->dirfd, iname, 0) != 0) {
		verify_finding(c, "retirement pending: %s: cannot delete it: %s", iname,
			       strerror(errno));
		return 0;
	}
	verify_note(c, "retirement completed: %s (retired with %s before a crash; deleted now)",
		    iname, e->name);
	return 1;
}

/*
 * Retirements a crash cut short. Retention writes (and fsyncs) the record that retires a
 * file before it deletes the file (and then its index), so a file can still be there with
 * its retire record: its deletion is completed here, when it is the very file the manifest
 * recorded (same SHA-256, same size), and so is its index's. Anything else under those
 * names is left in place, as a finding.
 */
static void
finish_retirements(struct verify_ctx *c, DIR *d)
{
	/* The indexes there, by their file's name: a long manifest's retired files cost no
	 * look-up of an index each (NULL, short of memory: every one is looked up). */
	struct lc_name_index *ixs = lc_name_index_new();
	char file[NAME_MAX + 1];
	struct dirent *de;
	int deleted = 0;
	struct stat ms;
	/* Whoever can write the manifest can write a retire record: a file is deleted on its
	 * word only where the manifest is root's or the file belongs to the manifest's owner
	 * (a -Z user's manifest never deletes root's files). */
	uid_t writer = fstatat(c->dirfd, LC_MANIFEST_NAME, &ms, AT_SYMLINK_NOFOLLOW) == 0 ?
		       ms.st_uid : 0;

	rewinddir(d);
	while (ixs != NULL && (de = readdir(d)) != NULL)
		if (verify_is_index(de->d_name, file) && lc_name_index_put(ixs, file, 1) < 0) {
			lc_name_index_free(ixs);
			ixs = NULL;
		}

	for (size_t i = 0; i < c->n; i++) {
		struct verify_entry *e = &c->e[i];
		char err[600], hex[65];
		uint64_t bytes;
		int fd, same;

		if (!e->retired)
			continue;
		fd = lc_manifest_open_file(c->dirfd, e->name, O_RDONLY, err, sizeof(err));
		if (fd == -ENOENT) {	/* retired and gone, as it should be; its index too? */
			if (ixs == NULL || lc_name_index_get(ixs, e->name) >= 0)
				deleted |= finish_retired_index(c, e, writer);
			continue;
		}
		if (fd == -EINVAL && c->listing)
			continue;	/* told later */
		if (fd < 0) {
			verify_finding(c, "retirement pending: %s: left in place", err);
			continue;
		}
		struct stat fs;

		if (fstat(fd, &fs) == 0 && writer != 0 && fs.st_uid != writer) {
			close(fd);
			verify_finding(c, "retirement pending: %s belongs to uid %u, the manifest to uid %u "
				"(who wrote that record could not delete it): left in place", e->name,
				(unsigned int)fs.st_uid, (unsigned int)writer);
			continue;
		}
		same = verify_file_sha(fd, hex, &bytes) == 0 && strcmp(hex, e->sha) == 0 &&
		       bytes == e->bytes;
		close(fd);
		if (!same) {
			verify_finding(c, "conflict: %s was retired but differs from its record: left in "
				"place", e->name);
			continue;
		}
		if (unlinkat(c->dirfd, e->name, 0) != 0) {
			verify_finding(c, "retirement pending: %s: cannot delete it: %s", e->name,
				strerror(errno));
			continue;
		}
		deleted = 1;
		verify_note(c, "retirement completed: %s (retired before a crash; deleted now)", e->name);
		if (ixs == NULL || lc_name_index_get(ixs, e->name) >= 0)
			finish_retired_index(c, e, writer);
	}
	if (deleted)
		fsync(c->dirfd);
	lc_name_index_free(ixs);
}

/*
 * The retire records at the end of the manifest (its last LC_VERIFY_TAIL bytes) into c, as
 * retired entries with the SHA-256 and size their records give: where a capture starts,
 * the retirement a crash cut short is the last one its manifest records (the retire record
 * is written, fsync-ed, the file deleted, and only then anything else), followed at most
 * by the records of the files the crash cut. The whole manifest is not read for it: a
 * capture start in a long directory stays quick (linecap-verify --repair reads it all).
 * Only a whole, well-formed retire record (lc_manifest_record_parse) counts.
 */
#define LC_VERIFY_TAIL (1u << 20)

static void
tail_line(struct verify_ctx *c, const char *p, size_t len)
{
	struct lc_manifest_record r;
	struct verify_entry *e;
	char why[256];

	if (lc_manifest_record_parse(p, len, &r, why, sizeof(why)) < 0)
		return;
	if (r.kind == LC_RECORD_RETIRED && lc_manifest_name_ok(r.file) &&
	    ((e = verify_find(c, r.file)) != NULL || (e = verify_add(c, r.file)) != NULL)) {
		e->retired = 1;
		memcpy(e->sha, r.sha256, sizeof(e->sha));
		e->bytes = r.bytes;
		if (r.index == LC_INDEX_WRITTEN) {	/* the index retired with it */
			e->index = LC_INDEX_WRITTEN;
			memcpy(e->index_sha, r.index_sha256, sizeof(e->index_sha));
			e->index_bytes = r.index_bytes;
		}
	}
	lc_manifest_record_release(&r);
}

static void
load_tail(struct verify_ctx *c)
{
	char err[600], *buf, *p, *nl;
	int fd = lc_manifest_open_read(c->dirfd, LC_MANIFEST_NAME, err, sizeof(err));
	struct stat st;
	off_t from;
	ssize_t got;

	if (fd < 0)
		return;
	if (fstat(fd, &st) != 0 || (buf = malloc(LC_VERIFY_TAIL + 1)) == NULL) {
		close(fd);
		return;
	}
	from = st.st_size > (off_t)LC_VERIFY_TAIL ? st.st_size - (off_t)LC_VERIFY_TAIL : 0;
	got = pread(fd, buf, LC_VERIFY_TAIL, from);
	close(fd);
	if (got <= 0) {
		free(buf);
		return;
	}
	buf[got] = '\0';
	p = buf;
	if (from > 0 && (p = strchr(buf, '\n')) != NULL)
		p++;	/* from the first whole line */
	for (; p != NULL && *p != '\0'; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		tail_line(c, p, nl ? (size_t)(nl - p) : strlen(p));
	}
	free(buf);
}

/* Record name, a whole capture file that a manifest line cut by a crash (now in aside) was
 * the record of, when the manifest does not record it already. */
static void
recover_file(struct verify_ctx *c, const char *mpath, const char *name, const char *aside)
{
	struct built_index bi = { .fd = -1 };
	char err[600], hex[65];
	struct lc_shard_file f;
	struct lc_shard_cut cut;
	struct lc_manifest *m;
	uint8_t sha[LC_SHA256_LEN];
	uint64_t bytes;
	int fd, rc;

	verify_load(c, mpath, 1);
	fd = verify_find(c, name) == NULL ?
	     lc_manifest_open_file(c->dirfd, name, O_RDONLY, err, sizeof(err)) : -EEXIST;
	verify_clear(c);
	if (fd < 0)
		return;		/* recorded, gone, or not a file: the listing says so */
	if (lc_shard_file_adopt(&f, fd, c->dir, name) < 0)
		return;
	rc = lc_shard_file_scan(&f, &cut, err, sizeof(err));
	if (rc < 0 || verify_file_sha(f.fd, hex, &bytes) < 0 || cut.good != bytes) {
		lc_shard_file_finish(&f, sha);
		return;		/* not a whole capture file: left as an extra */
	}
	index_for_repair(c, f.fd, name, &bi);
	lc_shard_file_finish(&f, sha);
	m = lc_manifest_open(mpath, err, sizeof(err));
	rc = m != NULL ? record_repaired(m, &f, hex, &bi, 0, aside, err, sizeof(err)) : -1;
	lc_manifest_close(m);
	if (rc < 0) {
		verify_finding(c, "unrepairable: %s: not recorded: %s", name, err);
		index_drop(c, name, &bi);
		return;
	}
	verify_note(c, "recorded: %s (%llu packets; its record was the cut line, now in %s)",
		    name, (unsigned long long)f.packets, aside);
	c->sum->repaired++;
	if ((rc = index_publish(c, name, &bi)) < 0)
		verify_finding(c, "index: %s" LC_INDEX_EXT ": cannot name it: %s (--repair builds "
			       "it again)", name, strerror(-rc));
}

/*
 * Indexes a crash lost: a file whose record names its index, with no NAME.idx (the file is
 * named before its index, which is written nameless: a crash between the two loses it).
 * It is built again from the file and kept (named NAME.idx) only when it is the very index
 * the record gives: same SHA-256, same size. Nothing there under the name is replaced.
 */
static void
rebuild_index(struct verify_ctx *c, const struct verify_entry *e)
{
	struct built_index bi = { .fd = -1 };
	char iname[NAME_MAX + 8], err[600];
	struct stat st;
	int fd, rc;

	if (e->retired || e->index != LC_INDEX_WRITTEN)
		return;
	snprintf(iname, sizeof(iname), "%s" LC_INDEX_EXT, e->name);
	if (fstatat(c->dirfd, iname, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return;		/* there (checked after), or not to be looked at */
	fd = lc_manifest_open_file(c->dirfd, e->name, O_RDONLY, err, sizeof(err));
	if (fd < 0)
		return;		/* no file: the checks say so */
	rc = index_build(c, fd, e->name, &bi);
	close(fd);
	if (rc < 0) {
		verify_finding(c, "index: %s: missing, and cannot be built again: %s", iname, bi.why);
		return;
	}
	if (strcmp(bi.hex, e->index_sha) != 0 || bi.bytes != e->index_bytes) {
		verify_finding(c, "index: %s: missing; built again from %s it is not the one "
			       "manifest line %u records (SHA-256 %.16s..., %llu bytes; recorded "
			       "%.16s..., %llu bytes): not kept", iname, e->name, e->line, bi.hex,
			       (unsigned long long)bi.bytes, e->index_sha,
			       (unsigned long long)e->index_bytes);
		index_drop(c, e->name, &bi);
		return;
	}
	if ((rc = index_publish(c, e->name, &bi)) < 0) {
		verify_finding(c, "index: %s: built again, cannot name it: %s", iname,
			       strerror(-rc));
		return;
	}
	verify_note(c, "rebuilt: %s (lost to a crash before it was named: built again from %s, "
		    "the SHA-256 manifest line %u records)", iname, e->name, e->line);
	c->sum->repaired++;
}

static void
rebuild_indexes(struct verify_ctx *c)
{
	for (size_t i = 0; i < c->n; i++)
		rebuild_index(c, &c->e[i]);
}

/* Repair every .part file of the directory d (c->dir), then complete the retirements a
 * crash cut short (finish_retirements): with full, every one the manifest records; else
 * (a capture's start) those at its end (load_tail). With full, the indexes a crash lost
 * are built again (rebuild_indexes). Leaves c without entries. */
static void
repair_parts(struct verify_ctx *c, DIR *d, const char *mpath, int full)
{
	struct lc_manifest *m = NULL;
	struct dirent *de;
	char err[600];
	int loaded = 0;

	while ((de = readdir(d)) != NULL) {
		if (!verify_is_part(de->d_name))
			continue;
		if (m == NULL) {
			/* What is recorded already, before repairing (read only when there is
			 * something to repair: a capture start in a long directory stays quick). */
			verify_load(c, mpath, 1);
			loaded = 1;
			if ((m = lc_manifest_open(mpath, err, sizeof(err))) == NULL) {
				verify_finding(c, "manifest: %s", err);
				break;
			}
		}
		repair(c, de->d_name, m);
	}
	lc_manifest_close(m);
	if (!loaded && full)	/* nothing was cut: what is recorded, for the retirements */
		verify_load(c, mpath, 1);
	else if (!loaded)
		load_tail(c);
	if (full)
		rebuild_indexes(c);
	finish_retirements(c, d);
	verify_clear(c);
}

int
lc_verify_repair(const char *dir, lc_verify_say say, void *arg, struct lc_verify_summary *sum)
{
	struct verify_ctx c = { .dir = dir, .say = say, .arg = arg, .sum = sum };
	char mpath[PATH_MAX + 32];
	DIR *d;

	memset(sum, 0, sizeof(*sum));
	d = opendir(dir);
	if (d == NULL)
		return -errno;
	c.dirfd = dirfd(d);
	snprintf(mpath, sizeof(mpath), "%s/" LC_MANIFEST_NAME, dir);
	repair_parts(&c, d, mpath, 0);
	closedir(d);
	return (int)sum->findings;
}

/*
 * A manifest whose last line is cut (no newline at its end): a crash in the middle of an
 * append, since every append is a whole line followed by fsync. The cut bytes are kept in
 * manifest.jsonl.cut-N (the first N free), the manifest truncated to its last whole line,
 * and the file the cut line named (its "file" member, when that much of it was written) is
 * recorded from what it holds, as a repaired file, when it is a whole capture file the
 * manifest does not record. Runs under the directory's lock.
 */
static void
repair_cut_line(struct verify_ctx *c, const char *mpath)
{
	char err[600], buf[64 << 10], aside[sizeof(LC_MANIFEST_NAME) + 16], name[NAME_MAX + 1];
	char head[NAME_MAX + 64] = "";
	int fd, out = -1;
	uint64_t keep, at;
	struct stat st;
	ssize_t r;

	fd = lc_manifest_open_file(c->dirfd, LC_MANIFEST_NAME, O_RDWR, err, sizeof(err));
	if (fd < 0)
		return;		/* none, or not a file: the listing says so */
	if (fstat(fd, &st) != 0 || st.st_size == 0 || pread(fd, buf, 1, st.st_size - 1) != 1 ||
	    buf[0] == '\n') {
		close(fd);
		return;
	}
	/* Back to the last newline. */
	keep = (uint64_t)st.st_size;
	for (int found = 0; keep > 0 && !found;) {
		size_t n = keep < sizeof(buf) ? (size_t)keep : sizeof(buf);

		if (pread(fd, buf, n, (off_t)(keep - n)) != (ssize_t)n)
			goto io;
		for (; n > 0 && !(found = buf[n - 1] == '\n'); n--)
			keep--;
	}
	for (int i = 1; i < 1000 && out < 0; i++) {
		snprintf(aside, sizeof(aside), LC_MANIFEST_NAME ".cut-%d", i);
		out = openat(c->dirfd, aside, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			     0640);
		if (out < 0 && errno != EEXIST)
			goto io;
	}
	if (out < 0)
		goto io;
	for (at = keep; at < (uint64_t)st.st_size; at += (uint64_t)r) {
		r = pread(fd, buf, sizeof(buf), (off_t)at);
		if (r <= 0 || write(out, buf, (size_t)r) != r)
			goto io;
		if (at == keep)
			snprintf(head, sizeof(head), "%.*s", (int)r, buf);
	}
	if (fsync(out) != 0 || ftruncate(fd, (off_t)keep) != 0 || fsync(fd) != 0)
		goto io;
	fsync(c->dirfd);
	close(out);
	close(fd);
	verify_note(c, "repaired: %s: its last line was cut (%llu bytes, a crash while it was written): "
	     "moved to %s, the manifest truncated to its last whole line", LC_MANIFEST_NAME,
	     (unsigned long long)((uint64_t)st.st_size - keep), aside);
	c->sum->repaired++;
	/* The file it named ("file" comes first in a file's record). */
	if (lc_manifest_record_cut_name(head, name) == 0 && lc_reader_is_capture_name(name))
		recover_file(c, mpath, name, aside);
	return;
io:
	verify_finding(c, "unrepairable: %s: its last line is cut, and moving it aside failed: %s",
		LC_MANIFEST_NAME, strerror(errno));
	if (out >= 0)
		close(out);
	close(fd);
}

void
verify_repair_all(struct verify_ctx *c, DIR *d, const char *mpath)
{
	repair_cut_line(c, mpath);
	repair_parts(c, d, mpath, 1);
}
