/* SPDX-License-Identifier: BSD-3-Clause */
/* Output naming and the checks made before a capture touches anything. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lc_test.h"

#include "linecap/format.h"
#include "linecap/outpath.h"
#include "linecap/shard.h"

static char tmpdir[] = "/tmp/lc_test_outpath_XXXXXX";

static void
test_names(void)
{
	struct lc_outpath op;
	char err[512], name[PATH_MAX];

	CHECK(lc_outpath_init(&op, "/data/case42", NULL, err, sizeof(err)) == 0);
	CHECK(lc_outpath_name(&op, 0, 1, 0, 0, name, sizeof(name)) == 0);
	CHECK(strcmp(name, "/data/case42/case42-q00-000001.pcap") == 0);
	CHECK(lc_outpath_name(&op, 7, 123, 0, 1, name, sizeof(name)) == 0);
	CHECK(strcmp(name, "/data/case42/case42-q07-000123.pcap.part") == 0);

	CHECK(lc_outpath_init(&op, "/data/case42/", NULL, err, sizeof(err)) == 0);
	CHECK(strcmp(op.prefix, "case42") == 0 && op.create_dir);

	CHECK(lc_outpath_init(&op, "/data/x.pcap", NULL, err, sizeof(err)) == 0);
	CHECK(!op.create_dir && strcmp(op.dir, "/data") == 0 && strcmp(op.prefix, "x") == 0);
	CHECK(lc_outpath_name(&op, 1, 2, 0, 0, name, sizeof(name)) == 0);
	CHECK(strcmp(name, "/data/x-q01-000002.pcap") == 0);

	CHECK(lc_outpath_init(&op, "y.pcap", NULL, err, sizeof(err)) == 0);
	CHECK(strcmp(op.dir, ".") == 0 && strcmp(op.prefix, "y") == 0);

	CHECK(lc_outpath_init(&op, ".", NULL, err, sizeof(err)) == 0);
	CHECK(strcmp(op.prefix, "linecap") == 0);

	CHECK(lc_outpath_init(&op, "/data/.pcap", NULL, err, sizeof(err)) == -EINVAL);
}

static void
test_checks(void)
{
	struct lc_outpath op;
	char err[512], path[PATH_MAX], name[PATH_MAX];
	struct stat st;
	uint32_t first[4];
	unsigned int earlier;
	int fd;

	/* A directory that does not exist yet under a writable one: fine, nothing created. */
	snprintf(path, sizeof(path), "%s/new/deeper", tmpdir);
	CHECK(lc_outpath_init(&op, path, NULL, err, sizeof(err)) == 0);
	CHECK(lc_outpath_check(&op, 2, 0, first, &earlier, err, sizeof(err)) == 0);
	CHECK(first[0] == 1 && first[1] == 1 && earlier == 0);
	CHECK(stat(path, &st) != 0);
	CHECK(lc_outpath_prepare(&op, err, sizeof(err)) == 0);
	CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	CHECK_EQ_U64(st.st_mode & 0777, 0750);

	/* Files of earlier captures: each queue's numbering goes on after its highest number,
	 * whatever the file is (closed, .part, a symlink someone planted); other names and
	 * other extensions do not count. */
	const struct { unsigned int q, seq; const char *suffix; int link; } taken[] = {
		{ 1, 1, "", 0 }, { 1, 7, ".part", 0 }, { 0, 3, "", 1 }, { 2, 9, "", 0 },
	};
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		char full[PATH_MAX + 8];

		CHECK(lc_outpath_name(&op, taken[i].q, taken[i].seq, 0, 0, name, sizeof(name)) == 0);
		snprintf(full, sizeof(full), "%s%s", name, taken[i].suffix);
		if (taken[i].link)
			CHECK(symlink("/etc/passwd", full) == 0);
		else
			CHECK((fd = open(full, O_CREAT | O_WRONLY, 0600)) >= 0 && close(fd) == 0);
	}
	snprintf(name, sizeof(name), "%s/other-q00-000050.pcap", path);	/* another prefix */
	CHECK((fd = open(name, O_CREAT | O_WRONLY, 0600)) >= 0 && close(fd) == 0);
	snprintf(name, sizeof(name), "%s/deeper-q00-000060.pcapng", path);	/* other format */
	CHECK((fd = open(name, O_CREAT | O_WRONLY, 0600)) >= 0 && close(fd) == 0);
	CHECK(lc_outpath_check(&op, 2, 0, first, &earlier, err, sizeof(err)) == 0);
	CHECK_EQ_U64(first[0], 4);
	CHECK_EQ_U64(first[1], 8);
	CHECK_EQ_U64(earlier, 4);	/* queue 2's file counts, though queue 2 is not used */
	CHECK(lc_outpath_name(&op, 1, 1, 0, 0, name, sizeof(name)) == 0);

	/* One capture per directory: a second lock is refused while the first is held. */
	int l1, l2;
	CHECK(lc_outpath_lock(path, &l1, err, sizeof(err)) == 0);
	CHECK(lc_outpath_lock(path, &l2, err, sizeof(err)) == -EBUSY);
	CHECK_STR_HAS(err, "another linecap is writing into it");
	close(l1);
	CHECK(lc_outpath_lock(path, &l2, err, sizeof(err)) == 0);
	close(l2);

	/* A shard file is never opened over an existing name (nor its .part). */
	struct lc_shard_file f, g;
	uint8_t hdr[24];
	struct lc_file_info info = { .snaplen = 65535 };
	CHECK(lc_shard_file_open(&f, &op, &lc_format_pcap, 1, 1, 0, 1, err, sizeof(err)) ==
	      -EEXIST);
	CHECK(lc_shard_file_open(&f, &op, &lc_format_pcap, 0, 1, 0, 1, err, sizeof(err)) == 0);
	CHECK(lc_shard_file_header(&f, &info, hdr, sizeof(hdr)) == 24);
	CHECK(lc_shard_file_stub(&f, hdr, 24) == 0);
	struct stat pst;
	CHECK(stat(f.part, &pst) == 0 && pst.st_size == 24 && (pst.st_mode & 0777) == 0640);
	/* A second file of the same name: refused when it would take the name. */
	if (lc_shard_file_open(&g, &op, &lc_format_pcap, 0, 1, 0, 1, err, sizeof(err)) == 0) {
		CHECK(lc_shard_file_stub(&g, hdr, 24) == -EEXIST);
		lc_shard_file_discard(&g);
	}
	CHECK(stat(f.part, &pst) == 0 && pst.st_size == 24);	/* untouched */
	lc_shard_file_discard(&f);
	CHECK(access(f.part, F_OK) != 0);

	/* Time patterns in a prefix, expanded with the period's start (local time). */
	struct lc_outpath tp;
	char pat[PATH_MAX];
	snprintf(pat, sizeof(pat), "%s/cap-%%Y%%m%%d-%%H%%M%%S.pcapng", tmpdir);
	CHECK(lc_outpath_init(&tp, pat, ".pcapng", err, sizeof(err)) == 0);
	CHECK(tp.timed && !tp.create_dir);
	setenv("TZ", "UTC", 1);
	tzset();
	CHECK(lc_outpath_name(&tp, 2, 7, 1767225600, 0, name, sizeof(name)) == 0);
	CHECK_STR_HAS(name, "/cap-20260101-000000-q02-000007.pcapng");
	snprintf(pat, sizeof(pat), "%s/%%H/x.pcap", tmpdir);
	CHECK(lc_outpath_init(&tp, pat, NULL, err, sizeof(err)) == -EINVAL);
	CHECK_STR_HAS(err, "time patterns go in the file name");

	/* A path through a regular file. */
	snprintf(path, sizeof(path), "%s/plain", tmpdir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	snprintf(path, sizeof(path), "%s/plain/sub", tmpdir);
	CHECK(lc_outpath_init(&op, path, NULL, err, sizeof(err)) == 0);
	CHECK(lc_outpath_check(&op, 1, 0, first, &earlier, err, sizeof(err)) < 0);
	CHECK_STR_HAS(err, "Not a directory");
	snprintf(path, sizeof(path), "%s/plain", tmpdir);
	CHECK(lc_outpath_init(&op, path, NULL, err, sizeof(err)) == 0);
	CHECK(lc_outpath_check(&op, 1, 0, first, &earlier, err, sizeof(err)) == -ENOTDIR);

	/* A prefix in a directory that does not exist. */
	snprintf(path, sizeof(path), "%s/missing/x.pcap", tmpdir);
	CHECK(lc_outpath_init(&op, path, NULL, err, sizeof(err)) == 0);
	CHECK(lc_outpath_check(&op, 1, 0, first, &earlier, err, sizeof(err)) == -ENOENT);
}

int
main(void)
{
	char cmd[256];

	if (mkdtemp(tmpdir) == NULL)
		return 1;
	test_names();
	test_checks();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return lc_test_done("test_outpath");
}
