/* SPDX-License-Identifier: BSD-3-Clause */
/* Output naming and the checks made before a capture touches anything. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lc_test.h"

#include "linecap/format.h"
#include "linecap/outpath.h"
#include "shard.h"

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
	struct lc_outpath_made made;
	int dfd;
	mode_t um = umask(0);	/* 0750 whatever the umask says */
	CHECK(lc_outpath_prepare(&op, &made, err, sizeof(err)) == 0);
	umask(um);
	CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	CHECK_EQ_U64(st.st_mode & 0777, 0750);
	CHECK(made.dir == 1);
	CHECK((dfd = open(path, O_RDONLY | O_DIRECTORY)) >= 0);
	CHECK(lc_outpath_made_is(&made, dfd) == 1);
	close(dfd);
	CHECK(lc_outpath_prepare(&op, &made, err, sizeof(err)) == 0);	/* there already */
	CHECK(made.dir == 0);

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

/* -Z gives away only what linecap created: it must know that directory again, and a link
 * at its place is never followed (defect 3 and 9 of issue 12). */
static void
test_made(void)
{
	struct lc_outpath op;
	struct lc_outpath_made made;
	char err[512], path[PATH_MAX], victim[PATH_MAX], moved[PATH_MAX + 8];
	struct stat st;
	int fd;

	/* A directory that was there (here through an operator's link): not made by us. */
	snprintf(victim, sizeof(victim), "%s/victim", tmpdir);
	CHECK(mkdir(victim, 0755) == 0 && chmod(victim, 0755) == 0);
	snprintf(path, sizeof(path), "%s/linked", tmpdir);
	CHECK(symlink(victim, path) == 0);
	CHECK(lc_outpath_init(&op, path, NULL, err, sizeof(err)) == 0);
	CHECK(lc_outpath_prepare(&op, &made, err, sizeof(err)) == 0);
	CHECK(made.dir == 0);
	CHECK((fd = open(path, O_RDONLY | O_DIRECTORY)) >= 0);
	CHECK(lc_outpath_made_is(&made, fd) == 0);
	close(fd);
	CHECK(stat(victim, &st) == 0 && (st.st_mode & 07777) == 0755);

	/* Made now, then swapped for a link to another directory before it is locked: the
	 * descriptor the capture holds is not the directory it made. */
	snprintf(path, sizeof(path), "%s/made", tmpdir);
	CHECK(lc_outpath_init(&op, path, NULL, err, sizeof(err)) == 0);
	CHECK(lc_outpath_prepare(&op, &made, err, sizeof(err)) == 0 && made.dir == 1);
	snprintf(moved, sizeof(moved), "%s.moved", path);
	CHECK(rename(path, moved) == 0 && symlink(victim, path) == 0);
	CHECK(lc_outpath_lock(path, &fd, err, sizeof(err)) == 0);
	CHECK(lc_outpath_made_is(&made, fd) == 0);
	close(fd);
	CHECK((fd = open(moved, O_RDONLY | O_DIRECTORY)) >= 0);
	CHECK(lc_outpath_made_is(&made, fd) == 1);
	close(fd);
	CHECK(lc_outpath_made_is(NULL, 0) == 0);
}

static int
read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

	if (fd >= 0)
		close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return (int)n;
}

/* --stats-file: checked creating nothing; written as a new file renamed into place, never
 * through a link. */
static void
test_small_files(void)
{
	char err[512], path[PATH_MAX], victim[PATH_MAX], dir[PATH_MAX], buf[256];
	struct stat st;
	int fd;

	snprintf(dir, sizeof(dir), "%s/small", tmpdir);
	CHECK(mkdir(dir, 0755) == 0);
	snprintf(victim, sizeof(victim), "%s/victim.txt", dir);
	CHECK((fd = open(victim, O_CREAT | O_WRONLY, 0600)) >= 0 && write(fd, "root's\n", 7) == 7);
	close(fd);

	snprintf(path, sizeof(path), "%s/new.json", dir);
	CHECK(lc_outpath_file_check("--stats-file", path, err, sizeof(err)) == 0);
	CHECK(lstat(path, &st) != 0);			/* nothing created */
	CHECK(lc_outpath_file_check("--stats-file", victim, err, sizeof(err)) == 0);

	snprintf(path, sizeof(path), "%s/link.json", dir);
	CHECK(symlink(victim, path) == 0);
	CHECK(lc_outpath_file_check("--stats-file", path, err, sizeof(err)) == -ELOOP);
	CHECK_STR_HAS(err, "--stats-file ");
	CHECK_STR_HAS(err, "symbolic link");
	snprintf(path, sizeof(path), "%s/dangling.json", dir);
	CHECK(symlink("/nonexistent/lc_test", path) == 0);
	CHECK(lc_outpath_file_check("--stats-file", path, err, sizeof(err)) == -ELOOP);
	CHECK(lc_outpath_file_check("--stats-file", dir, err, sizeof(err)) == -EINVAL);
	snprintf(path, sizeof(path), "%s/missing/x.json", dir);
	CHECK(lc_outpath_file_check("--stats-file", path, err, sizeof(err)) == -ENOENT);

	/* A link planted after the check: replaced, its target untouched. */
	snprintf(path, sizeof(path), "%s/link.json", dir);
	CHECK(lc_outpath_file_replace(path, "{}", 2, err, sizeof(err)) == 0);
	CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode));
	CHECK(read_text(path, buf, sizeof(buf)) == 2 && strcmp(buf, "{}") == 0);
	CHECK(read_text(victim, buf, sizeof(buf)) == 7 && strcmp(buf, "root's\n") == 0);
	/* An existing file: replaced whole (no stale tail). */
	CHECK(lc_outpath_file_replace(victim, "x", 1, err, sizeof(err)) == 0);
	CHECK(read_text(victim, buf, sizeof(buf)) == 1 && strcmp(buf, "x") == 0);
	/* No temporary file left behind, on success or failure. */
	snprintf(path, sizeof(path), "%s/missing/x.json", dir);
	CHECK(lc_outpath_file_replace(path, "{}", 2, err, sizeof(err)) == -ENOENT);
	CHECK_STR_HAS(err, path);
	DIR *d = opendir(dir);
	struct dirent *de;
	int hidden = 0;
	while (d != NULL && (de = readdir(d)) != NULL)
		hidden += de->d_name[0] == '.' && strcmp(de->d_name, ".") != 0 &&
			  strcmp(de->d_name, "..") != 0;
	if (d != NULL)
		closedir(d);
	CHECK(hidden == 0);
}

/* Retention's view of a shared directory: which names are the capture's own. */
static void
test_owns(void)
{
	struct lc_outpath op;
	char err[512];
	unsigned int q = 99;

	CHECK(lc_outpath_init(&op, "/data/b.pcap", NULL, err, sizeof(err)) == 0);
	CHECK(lc_outpath_owns(&op, "b-q03-000017.pcap", &q) == 1 && q == 3);
	CHECK(lc_outpath_owns(&op, "b-q00-000001.pcap.part", NULL) == 1);
	CHECK(lc_outpath_owns(&op, "a-q00-000001.pcap", NULL) == 0);	/* another prefix */
	CHECK(lc_outpath_owns(&op, "bb-q00-000001.pcap", NULL) == 0);
	CHECK(lc_outpath_owns(&op, "b-x-q00-000001.pcap", NULL) == 0);
	CHECK(lc_outpath_owns(&op, "b-q00-000001.pcapng", NULL) == 0);	/* another format */
	CHECK(lc_outpath_owns(&op, "b-q0x-000001.pcap", NULL) == 0);
	CHECK(lc_outpath_owns(&op, "b-q00-00001.pcap", NULL) == 0);
	CHECK(lc_outpath_owns(&op, "b-q00-000001.pcap.bak", NULL) == 0);
	CHECK(lc_outpath_owns(&op, "manifest.jsonl", NULL) == 0);

	CHECK(lc_outpath_init(&op, "/data/cap-%Y%m%d-%H%M.pcapng", ".pcapng", err,
			      sizeof(err)) == 0);
	CHECK(lc_outpath_owns(&op, "cap-20261202-0530-q01-000004.pcapng", &q) == 1 && q == 1);
	CHECK(lc_outpath_owns(&op, "cap-20250101-2359-q00-000001.pcapng", NULL) == 1);
	CHECK(lc_outpath_owns(&op, "cap-x-q00-000001.pcapng", NULL) == 0);
	CHECK(lc_outpath_owns(&op, "cap-20261202-q00-000001.pcapng", NULL) == 0);
	CHECK(lc_outpath_owns(&op, "cap-20261202-0530-q00-000001.pcap", NULL) == 0);

	CHECK(lc_outpath_init(&op, "/data/%a_%%_%e.pcap", NULL, err, sizeof(err)) == 0);
	CHECK(lc_outpath_owns(&op, "Wed_%_ 2-q00-000001.pcap", NULL) == 1);
	CHECK(lc_outpath_owns(&op, "Wed_x_ 2-q00-000001.pcap", NULL) == 0);
	CHECK(lc_outpath_owns(&op, "Wed_%_xx-q00-000001.pcap", NULL) == 0);

	/* Many conversions against a long name: bounded work, no match. */
	CHECK(lc_outpath_init(&op, "/data/%a%a%a%a%a%a%a%a%a%a%a%a.pcap", NULL, err,
			      sizeof(err)) == 0);
	CHECK(lc_outpath_owns(&op, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.pcap", NULL) == 0);
}

int
main(void)
{
	char cmd[256];

	if (mkdtemp(tmpdir) == NULL)
		return 1;
	test_names();
	test_checks();
	test_made();
	test_small_files();
	test_owns();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return lc_test_done("test_outpath");
}
