/* SPDX-License-Identifier: BSD-3-Clause */
/* Custody on a full disk (a 1 MiB tmpfs this test mounts): the manifest's reserve still
 * takes records; with retention on, the oldest files are retired to make room, each record
 * written before its file goes; once the reserve is spent a record waits (never
 * half-written), no file is retired whose record cannot go in first, and what waited goes in
 * once there is room. Retirement is write-ahead: a file still there with its retire record
 * (a crash between the two) is found pending by verify and deleted by --repair, and never
 * when it differs from its record; a file not yet renamed by its writer is never retired. */
#include <fcntl.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lc_test.h"

#include "linecap/config.h"
#include "custody.h"
#include "linecap/outpath.h"
#include "linecap/verify.h"
#include "writer.h"

static char mnt[] = "/tmp/lc_custody_XXXXXX";

static off_t
size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static int
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* A file of n bytes of data (NULL: zeros) in dir, recorded as closed: its path in path. */
static void
close_data(struct lc_custody *c, const char *dir, unsigned int seq, const void *data,
	   size_t n, char *path, size_t len)
{
	struct lc_closed_file *cf = calloc(1, sizeof(*cf));
	static char zeros[100000];
	const char *block = data ? data : zeros;
	int fd;

	snprintf(path, len, "%s/cap-q00-%06u.pcap", dir, seq);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
	CHECK(fd >= 0);
	CHECK(n <= sizeof(zeros) && write(fd, block, n) == (ssize_t)n);
	close(fd);
	snprintf(cf->path, sizeof(cf->path), "%s", path);
	cf->seq = seq;
	cf->bytes = n;
	cf->index_rc = -ENODATA;	/* no index (--no-index): only the file */
	EVP_Digest(block, n, cf->sha256, NULL, EVP_sha256(), NULL);
	lc_custody_file_closed(c, cf);
	lc_custody_make_room(c);	/* as the writer does once the file has its name */
}

static void
close_file(struct lc_custody *c, const char *dir, unsigned int seq, size_t n, char *path,
	   size_t len)
{
	close_data(c, dir, seq, NULL, n, path, len);
}

/* Fill the filesystem to the last block. */
static void
fill(const char *path)
{
	static char block[4096];
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);

	CHECK(fd >= 0);
	while (write(fd, block, sizeof(block)) > 0)
		;
	while (write(fd, block, 1) > 0)
		;
	close(fd);
}

/* Count manifest lines holding needle. */
static unsigned int
lines_with(const char *manifest, const char *needle)
{
	char line[8192];
	unsigned int n = 0;
	FILE *f = fopen(manifest, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		CHECK(strchr(line, '\n') != NULL);	/* never half a line */
		if (strstr(line, needle) != NULL)
			n++;
	}
	fclose(f);
	return n;
}

/* Close empty files (they need no block; their records do) until the manifest refuses one.
 * The number of the refused one, or 0 if none was refused within tries. */
static unsigned int
close_until_refused(struct lc_custody *c, const char *dir, const char *manifest,
		    unsigned int *seq, unsigned int tries)
{
	char path[256];

	for (unsigned int i = 0; i < tries; i++) {
		off_t before = size_of(manifest);

		close_file(c, dir, *seq, 0, path, sizeof(path));
		(*seq)++;
		if (size_of(manifest) == before)
			return *seq - 1;
	}
	return 0;
}

static void
full_disk(int retain)
{
	struct lc_config cfg = { .snaplen = 262144, .format = "pcap", .file_bytes = 100000 };
	struct lc_outpath out;
	char err[256], dir[128], manifest[160], first[256], second[256], path[256], name[64];
	char ballast[160], keep[256];
	struct lc_custody *c;
	unsigned int seq = 1, refused;

	cfg.retain_bytes = retain ? 100000000 : 0;
	snprintf(dir, sizeof(dir), "%s/%s", mnt, retain ? "kept" : "plain");
	CHECK(mkdir(dir, 0750) == 0);
	snprintf(path, sizeof(path), "%s/cap.pcap", dir);
	CHECK(lc_outpath_init(&out, path, ".pcap", err, sizeof(err)) == 0);
	c = lc_custody_open(&cfg, &out, "net_null0", NULL, NULL, err, sizeof(err));
	CHECK(c != NULL);
	if (c == NULL)
		return;
	snprintf(manifest, sizeof(manifest), "%s/manifest.jsonl", dir);
	close_file(c, dir, seq++, 100000, first, sizeof(first));
	close_file(c, dir, seq++, 100000, second, sizeof(second));
	lc_custody_retain(c);
	CHECK_EQ_U64(lines_with(manifest, "\"file\""), 2);

	snprintf(ballast, sizeof(ballast), "%s/ballast-%d", mnt, retain);
	fill(ballast);
	/* The disk is full, the manifest's reserve is not: records still go in. */
	for (int i = 0; i < 20; i++) {
		close_file(c, dir, seq, 0, path, sizeof(path));
		snprintf(name, sizeof(name), "cap-q00-%06u.pcap", seq++);
		CHECK_EQ_U64(lines_with(manifest, name), 1);
	}
	if (retain) {
		/* A retirement for the full disk: its record first (in the reserve), then the
		 * oldest file goes, and the reserve is made whole again from the room it left. */
		unsigned int n = lc_custody_disk_full(c);

		CHECK(n >= 1);
		CHECK_EQ_U64(lines_with(manifest, "\"reason\":\"disk full\""), n);
		CHECK(!exists(first));
		fill(ballast);
	}
	snprintf(keep, sizeof(keep), "%s/cap-q00-%06u.pcap", dir, seq);
	/* Once the reserve is spent too, a record waits: nothing half-written. */
	refused = close_until_refused(c, dir, manifest, &seq, 5000);
	CHECK(refused != 0);
	snprintf(name, sizeof(name), "cap-q00-%06u.pcap", refused);
	CHECK_EQ_U64(lines_with(manifest, name), 0);	/* refused: waits */
	if (retain) {
		/* No retirement can be recorded: none happens (write-ahead), so the oldest
		 * file left stays. */
		unsigned int retired = lines_with(manifest, "retired");

		CHECK_EQ_U64(lc_custody_disk_full(c), 0);
		lc_custody_retain(c);
		CHECK(exists(keep));
		CHECK_EQ_U64(lines_with(manifest, "retired"), retired);
		CHECK_EQ_U64(lines_with(manifest, name), 0);
		/* Room again: what waited goes in, in order. */
		unlink(ballast);
		lc_custody_retain(c);
		CHECK_EQ_U64(lines_with(manifest, name), 1);
	}
	lc_custody_close(c);
	if (!retain) {
		CHECK_EQ_U64(lines_with(manifest, name), 0);	/* logged instead */
		CHECK_EQ_U64(lines_with(manifest, "retired"), 0);
		CHECK(exists(first));		/* nothing deleted */
	}
	unlink(ballast);
}

static void
say_to(void *arg, const char *line)
{
	char *buf = arg;

	snprintf(buf + strlen(buf), 4096 - strlen(buf), "%s\n", line);
}

/*
 * A retirement a crash cut short (its record written, the file still there): verify finds
 * it pending, --repair deletes it (the very file recorded) and verify passes after; a file
 * that differs from the record under that name is never deleted.
 */
static void
pending_retirement(void)
{
	struct lc_config cfg = { .snaplen = 262144, .format = "pcap", .file_bytes = 100000,
				 .max_files = 2 };
	struct lc_verify_summary sum;
	struct lc_outpath out;
	char tmp[] = "/tmp/lc_retire_XXXXXX", err[256], path[256], one[256], two[256];
	char said[4096] = "";
	static const uint8_t header[24] = { 0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
					    0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0 };
	struct lc_custody *c;
	int fd;

	CHECK(mkdtemp(tmp) != NULL);
	snprintf(path, sizeof(path), "%s/cap.pcap", tmp);
	CHECK(lc_outpath_init(&out, path, ".pcap", err, sizeof(err)) == 0);
	c = lc_custody_open(&cfg, &out, "net_null0", NULL, NULL, err, sizeof(err));
	CHECK(c != NULL);
	if (c == NULL)
		return;
	/* Captures of no packet (a nanosecond pcap header): the retirement is looked at. */
	close_data(c, tmp, 1, header, sizeof(header), one, sizeof(one));
	close_data(c, tmp, 2, header, sizeof(header), two, sizeof(two));
	close_data(c, tmp, 3, header, sizeof(header), path, sizeof(path));	/* -W 2 */
	lc_custody_close(c);
	CHECK(!exists(one));
	/* As a kill between the retire record and the unlink leaves it. */
	fd = open(one, O_WRONLY | O_CREAT | O_EXCL, 0640);
	CHECK(fd >= 0 && write(fd, header, sizeof(header)) == (ssize_t)sizeof(header));
	close(fd);
	CHECK_EQ_U64(lc_verify_dir(tmp, 0, say_to, said, &sum), 1);
	CHECK_STR_HAS(said, "retirement pending: cap-q00-000001.pcap");
	said[0] = '\0';
	CHECK_EQ_U64(lc_verify_dir(tmp, 1, say_to, said, &sum), 0);
	CHECK_STR_HAS(said, "retirement completed: cap-q00-000001.pcap");
	CHECK(!exists(one));
	said[0] = '\0';
	CHECK_EQ_U64(lc_verify_dir(tmp, 0, say_to, said, &sum), 0);
	/* The same at a capture's start (lc_verify_repair, the manifest's end read). */
	fd = open(one, O_WRONLY | O_CREAT | O_EXCL, 0640);
	CHECK(fd >= 0 && write(fd, header, sizeof(header)) == (ssize_t)sizeof(header));
	close(fd);
	said[0] = '\0';
	CHECK_EQ_U64(lc_verify_repair(tmp, say_to, said, &sum), 0);
	CHECK_STR_HAS(said, "retirement completed: cap-q00-000001.pcap");
	CHECK(!exists(one));
	/* Something else under a retired name: a finding, left in place. */
	fd = open(one, O_WRONLY | O_CREAT | O_EXCL, 0640);
	CHECK(fd >= 0 && write(fd, "other", 5) == 5);
	close(fd);
	said[0] = '\0';
	CHECK_EQ_U64(lc_verify_dir(tmp, 1, say_to, said, &sum), 2);	/* conflict; pending */
	CHECK_STR_HAS(said, "conflict: cap-q00-000001.pcap");
	CHECK(exists(one));
	unlink(one);
	unlink(two);
	unlink(path);
	snprintf(path, sizeof(path), "%s/manifest.jsonl", tmp);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.linecap.lock", tmp);
	unlink(path);
	rmdir(tmp);
}

/* A file closed and recorded but not yet renamed by its writer (make_room not yet called)
 * is never retired, even when the bound wants it gone; once renamed it goes. */
static void
held_until_named(void)
{
	struct lc_config cfg = { .snaplen = 262144, .format = "pcap", .file_bytes = 100000,
				 .retain_bytes = 1 };
	struct lc_outpath out;
	char tmp[] = "/tmp/lc_held_XXXXXX", err[256], path[256];
	struct lc_closed_file *cf = calloc(1, sizeof(*cf));
	struct lc_custody *c;
	int fd;

	CHECK(mkdtemp(tmp) != NULL);
	snprintf(path, sizeof(path), "%s/cap.pcap", tmp);
	CHECK(lc_outpath_init(&out, path, ".pcap", err, sizeof(err)) == 0);
	c = lc_custody_open(&cfg, &out, "net_null0", NULL, NULL, err, sizeof(err));
	CHECK(c != NULL && cf != NULL);
	if (c == NULL || cf == NULL)
		return;
	snprintf(path, sizeof(path), "%s/cap-q00-000001.pcap", tmp);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1);
	close(fd);
	snprintf(cf->path, sizeof(cf->path), "%s", path);
	cf->seq = 1;
	cf->bytes = 1;
	lc_custody_file_closed(c, cf);
	lc_custody_retain(c);		/* the main lcore's tick, before the rename */
	CHECK(exists(path));
	lc_custody_make_room(c);	/* the writer, once the file has its name */
	CHECK(!exists(path));
	lc_custody_close(c);
	snprintf(path, sizeof(path), "%s/manifest.jsonl", tmp);
	CHECK_EQ_U64(lines_with(path, "\"retired\""), 1);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.linecap.lock", tmp);
	unlink(path);
	CHECK(rmdir(tmp) == 0);
}

/* A file of n zeros in dir with an index beside it (NAME.idx, idx_n bytes of 'i'; with
 * link_to, NAME.idx is a symbolic link to that file instead), recorded as closed with
 * that index: its path in path. */
static void
close_indexed(struct lc_custody *c, const char *dir, unsigned int seq, size_t n, size_t idx_n,
	      const char *link_to, char *path, size_t len)
{
	struct lc_closed_file *cf = calloc(1, sizeof(*cf));
	static char zeros[100000], ibytes[100000];
	char ipath[300];
	int fd;

	memset(ibytes, 'i', sizeof(ibytes));
	snprintf(path, len, "%s/cap-q00-%06u.pcap", dir, seq);
	snprintf(ipath, sizeof(ipath), "%s.idx", path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
	CHECK(fd >= 0 && n <= sizeof(zeros) && write(fd, zeros, n) == (ssize_t)n);
	close(fd);
	if (link_to != NULL) {
		CHECK(symlink(link_to, ipath) == 0);
	} else {
		fd = open(ipath, O_WRONLY | O_CREAT | O_EXCL, 0640);
		CHECK(fd >= 0 && idx_n <= sizeof(ibytes) && write(fd, ibytes, idx_n) == (ssize_t)idx_n);
		close(fd);
	}
	snprintf(cf->path, sizeof(cf->path), "%s", path);
	cf->seq = seq;
	cf->bytes = n;
	EVP_Digest(zeros, n, cf->sha256, NULL, EVP_sha256(), NULL);
	cf->index_rc = 0;
	cf->index_bytes = idx_n;
	EVP_Digest(ibytes, idx_n, cf->index_sha256, NULL, EVP_sha256(), NULL);
	lc_custody_file_closed(c, cf);
	lc_custody_make_room(c);
}

/*
 * Retention and the index beside each file: --retain-bytes counts an index's bytes with its
 * file's (two files of 100,000 bytes fit in 260,000, with their indexes of 50,000 they do
 * not); a retired file's index goes with it, and its retire record says so ("index", the
 * SHA-256 and size of the index retired); an index that is a symbolic link is never
 * followed nor deleted (verify finds it pending, --repair leaves it).
 */
static void
index_retired(void)
{
	struct lc_config cfg = { .snaplen = 262144, .format = "pcap", .file_bytes = 100000,
				 .retain_bytes = 260000 };
	struct lc_verify_summary sum;
	struct lc_outpath out;
	char tmp[] = "/tmp/lc_custody_idx_XXXXXX", err[256], path[256], one[256], two[256];
	char three[256], target[300], ipath[300], manifest[300], said[4096] = "";
	struct lc_custody *c;
	int fd;

	CHECK(mkdtemp(tmp) != NULL);
	snprintf(path, sizeof(path), "%s/cap.pcap", tmp);
	CHECK(lc_outpath_init(&out, path, ".pcap", err, sizeof(err)) == 0);
	c = lc_custody_open(&cfg, &out, "net_null0", NULL, NULL, err, sizeof(err));
	CHECK(c != NULL);
	if (c == NULL)
		return;
	snprintf(manifest, sizeof(manifest), "%s/manifest.jsonl", tmp);
	snprintf(target, sizeof(target), "%s/elsewhere", tmp);	/* not a capture's name */
	fd = open(target, O_WRONLY | O_CREAT | O_EXCL, 0640);
	CHECK(fd >= 0 && write(fd, "keep me", 7) == 7);
	close(fd);
	close_indexed(c, tmp, 1, 100000, 50000, NULL, one, sizeof(one));
	CHECK(exists(one));
	close_indexed(c, tmp, 2, 100000, 50000, target, two, sizeof(two));
	/* 2 x (100,000 + 50,000) + the manifest > 260,000: the oldest goes, index and all. */
	CHECK(!exists(one));
	snprintf(ipath, sizeof(ipath), "%s.idx", one);
	CHECK(!exists(ipath));
	CHECK(exists(two));
	CHECK_EQ_U64(lines_with(manifest, "\"retired\":\"cap-q00-000001.pcap\""), 1);
	/* Both files' records and the retirement name the index (its size, 50,000). */
	CHECK_EQ_U64(lines_with(manifest, "\"at_ns\""), 1);
	CHECK_EQ_U64(lines_with(manifest, "\"bytes\":50000"), 3);
	/* The next retires the second: its index is a link, left alone with what it names. */
	close_indexed(c, tmp, 3, 100000, 50000, NULL, three, sizeof(three));
	lc_custody_close(c);
	CHECK(!exists(two) && exists(three));
	snprintf(ipath, sizeof(ipath), "%s.idx", two);
	{
		struct stat st;

		CHECK(lstat(ipath, &st) == 0 && S_ISLNK(st.st_mode));
	}
	CHECK(size_of(target) == 7);
	CHECK_EQ_U64(lines_with(manifest, "\"retired\":\"cap-q00-000002.pcap\""), 1);
	/* (the files hold zeros, not pcap: only the retirements are looked at) */
	lc_verify_dir(tmp, 0, say_to, said, &sum);
	CHECK_STR_HAS(said, "retirement pending: cap-q00-000002.pcap.idx");
	CHECK(strstr(said, "cap-q00-000001.pcap.idx") == NULL);
	said[0] = '\0';
	lc_verify_dir(tmp, 1, say_to, said, &sum);
	CHECK_STR_HAS(said, "retirement pending: cap-q00-000002.pcap.idx");
	CHECK(size_of(target) == 7 && access(ipath, F_OK) == 0);
	unlink(ipath);
	unlink(three);
	snprintf(ipath, sizeof(ipath), "%s.idx", three);
	unlink(ipath);
	unlink(target);
	unlink(manifest);
	snprintf(path, sizeof(path), "%s/.linecap.lock", tmp);
	unlink(path);
	CHECK(rmdir(tmp) == 0);
}

/* -Z: a kept file this process cannot delete (another user's, in a sticky directory) gets
 * no retire record (it would stay "retirement pending" for ever): it is left out of
 * retention; the process's own files are still retired. lc_custody_undeletable names it. */
static void
undeletable(void)
{
	struct lc_config cfg = { .snaplen = 262144, .format = "pcap", .file_bytes = 100000,
				 .max_files = 1 };
	char tmp[] = "/tmp/lc_custody_z_XXXXXX", err[256], path[256], first[256], second[256];
	char third[256], manifest[300];
	struct passwd *pw = getpwnam("nobody");
	struct lc_outpath out;
	struct lc_custody *c;
	unsigned int n = 9;

	CHECK(pw != NULL && mkdtemp(tmp) != NULL && chmod(tmp, 01777) == 0);
	if (pw == NULL)
		return;
	snprintf(path, sizeof(path), "%s/cap.pcap", tmp);
	CHECK(lc_outpath_init(&out, path, ".pcap", err, sizeof(err)) == 0);
	c = lc_custody_open(&cfg, &out, "net_null0", NULL, NULL, err, sizeof(err));
	CHECK(c != NULL);
	if (c == NULL)
		return;
	close_file(c, tmp, 1, 10, first, sizeof(first));	/* root's */
	CHECK(lc_custody_undeletable(c, 0, &n) == NULL && n == 0);
	CHECK(lc_custody_undeletable(c, pw->pw_uid, &n) != NULL && n == 1);
	CHECK_STR_HAS(lc_custody_undeletable(c, pw->pw_uid, &n), first);
	CHECK(setegid(pw->pw_gid) == 0 && seteuid(pw->pw_uid) == 0);
	close_file(c, tmp, 2, 10, second, sizeof(second));	/* nobody's: root's is over -W 1 */
	lc_custody_retain(c);
	snprintf(manifest, sizeof(manifest), "%s/manifest.jsonl", tmp);
	CHECK(exists(first) && exists(second));
	CHECK(seteuid(0) == 0 && setegid(0) == 0);	/* root reads the manifest */
	CHECK_EQ_U64(lines_with(manifest, "\"retired\""), 0);
	CHECK(setegid(pw->pw_gid) == 0 && seteuid(pw->pw_uid) == 0);
	close_file(c, tmp, 3, 10, third, sizeof(third));	/* nobody's own goes */
	lc_custody_retain(c);
	CHECK(seteuid(0) == 0 && setegid(0) == 0);
	CHECK(exists(first) && !exists(second) && exists(third));
	CHECK_EQ_U64(lines_with(manifest, "\"retired\""), 1);
	lc_custody_close(c);
	{
		struct lc_verify_summary sum;
		char said[4096] = "";

		/* (the files hold zeros, not pcap: only retirements matter here) */
		lc_verify_dir(tmp, 0, say_to, said, &sum);
		CHECK(strstr(said, "pending") == NULL && sum.retired == 1);
	}
	unlink(first);
	unlink(third);
	unlink(manifest);
	snprintf(path, sizeof(path), "%s/.linecap.lock", tmp);
	unlink(path);
	CHECK(rmdir(tmp) == 0);
}

int
main(void)
{
	lc_test_eal();
	if (mkdtemp(mnt) == NULL || mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0) {
		fprintf(stderr, "cannot mount a tmpfs at %s (%s): this test needs root\n", mnt,
			strerror(errno));
		rmdir(mnt);
		return 1;
	}
	full_disk(1);
	full_disk(0);
	pending_retirement();
	held_until_named();
	undeletable();
	index_retired();
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
	return lc_test_done("test_custody");
}
