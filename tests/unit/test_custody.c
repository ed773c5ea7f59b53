/* SPDX-License-Identifier: BSD-3-Clause */
/* Custody on a full disk (a 1 MiB tmpfs this test mounts): a closed file's record that the
 * manifest cannot take waits; with retention on, the oldest file is retired to make room, so
 * by the end every closed file is in the manifest (followed by the retirement); without
 * retention nothing is deleted and the record is not half-written. */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lc_test.h"

#include "linecap/config.h"
#include "linecap/custody.h"
#include "linecap/outpath.h"
#include "linecap/writer.h"

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

/* A file of n bytes in dir, recorded as closed: its path in path. */
static void
close_file(struct lc_custody *c, const char *dir, unsigned int seq, size_t n, char *path,
	   size_t len)
{
	struct lc_closed_file *cf = calloc(1, sizeof(*cf));
	static char block[100000];
	int fd;

	snprintf(path, len, "%s/cap-q00-%06u.pcap", dir, seq);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
	CHECK(fd >= 0);
	CHECK(n <= sizeof(block) && write(fd, block, n) == (ssize_t)n);
	close(fd);
	snprintf(cf->path, sizeof(cf->path), "%s", path);
	cf->seq = seq;
	cf->bytes = n;
	lc_custody_file_closed(c, cf);
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

static void
full_disk(int retain)
{
	struct lc_config cfg = { .snaplen = 262144, .format = "pcap", .file_bytes = 100000 };
	struct lc_outpath out;
	char err[256], dir[128], manifest[160], first[256], path[256], name[64], ballast[160];
	struct lc_custody *c;
	unsigned int seq = 1, waiting = 0;

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
	close_file(c, dir, seq++, 100000, path, sizeof(path));
	lc_custody_retain(c);
	CHECK_EQ_U64(lines_with(manifest, "\"file\""), 2);

	snprintf(ballast, sizeof(ballast), "%s/ballast-%d", mnt, retain);
	fill(ballast);
	/* Empty files need no block; their records do, once the manifest's last one is full. */
	for (; seq < 40 && !waiting; seq++) {
		off_t before = size_of(manifest);

		close_file(c, dir, seq, 0, path, sizeof(path));
		waiting = size_of(manifest) == before;
	}
	CHECK(waiting);
	snprintf(name, sizeof(name), "cap-q00-%06u.pcap", seq - 1);
	CHECK_EQ_U64(lines_with(manifest, name), 0);	/* refused: waits */

	lc_custody_close(c);
	if (retain) {
		CHECK_EQ_U64(lines_with(manifest, name), 1);
		CHECK_EQ_U64(lines_with(manifest, "\"reason\":\"disk full\""), 1);
		CHECK(!exists(first));		/* the oldest made room */
		CHECK(exists(path));
	} else {
		CHECK_EQ_U64(lines_with(manifest, name), 0);	/* logged instead */
		CHECK_EQ_U64(lines_with(manifest, "retired"), 0);
		CHECK(exists(first));		/* nothing deleted */
	}
	unlink(ballast);
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
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
	return lc_test_done("test_custody");
}
