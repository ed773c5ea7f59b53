/* SPDX-License-Identifier: BSD-3-Clause */
/* The manifest reader against what an adversary may write:
 * - lc_manifest_parse_line decides "a JSON object" and reads the members exactly as jansson
 *   does, on a table of tricky lines and on 30,000 mutations of a real record;
 * - lc_manifest_name_ok refuses every name that leaves the directory or is not one name;
 * - the name index finds 200,000 names, and no others;
 * - lc_manifest_open refuses a FIFO, a symbolic link and a directory without blocking, and
 *   continues the chain of a regular file from its last line; it refuses a manifest whose
 *   last line is cut or not JSON, and a file with a second (hard) link;
 * - lc_manifest_scan hashes, but does not parse, a line over LC_MANIFEST_LINE_MAX: the chain
 *   goes on through it. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "lc_test.h"

#include "linecap/manifest.h"
#include "manifest_record.h"
#include "shard.h"

static const char record[] =
	"{\"file\":\"cap-q00-000001.pcap\",\"sha256\":\"5f2c\",\"bytes\":389300,\"packets\":1000,"
	"\"first_ns\":1767225600000000000,\"last_ns\":1767225600999000000,\"queue\":0,\"seq\":1,"
	"\"format\":\"pcap\",\"host\":\"h\\u00e9\\ud83d\\ude00\",\"filters\":[{\"expression\":"
	"\"host 1.2.3.4\",\"engine\":\"jit\",\"since_ns\":1}],\"snaplen\":262144,\"drops\":"
	"{\"ring\":0,\"imissed\":0},\"ratio\":0.5e-3,\"ok\":true,\"none\":null,\"prev\":"
	"\"0000000000000000000000000000000000000000000000000000000000000000\"}";

/* Does our reader agree with jansson on this line? */
static int
agrees(const char *line, size_t len)
{
	static char scratch[8192];
	struct lc_manifest_fields f;
	json_error_t jerr;
	json_t *j = json_loadb(line, len, 0, &jerr);
	int obj = j != NULL && json_is_object(j), ok;

	if (len + 1 > sizeof(scratch)) {
		json_decref(j);
		return 1;
	}
	lc_manifest_parse_line(line, len, scratch, &f);
	ok = f.object == obj;
	if (ok && obj) {
		static const char *const keys[] = { "file", "retired", "sha256", "prev" };
		const char *mine[] = { f.file, f.retired, f.sha256, f.prev };
		const char *const nkeys[] = { "bytes", "packets", "queue", "seq" };
		long long nmine[] = { f.bytes, f.packets, f.queue, f.seq };

		for (int i = 0; i < 4; i++) {
			const char *theirs = json_string_value(json_object_get(j, keys[i]));

			ok &= (theirs == NULL) == (mine[i] == NULL) &&
			      (theirs == NULL || strcmp(theirs, mine[i]) == 0);
			ok &= json_integer_value(json_object_get(j, nkeys[i])) == nmine[i];
		}
		ok &= (json_object_get(j, "error") != NULL) == f.error;
	}
	if (!ok)
		fprintf(stderr, "disagree (jansson %s, ours %s): %.*s\n", obj ? "object" : "not",
			f.object ? "object" : "not", (int)(len > 200 ? 200 : len), line);
	json_decref(j);
	return ok;
}

static void
test_parse_table(void)
{
	static const char *const lines[] = {
		record,
		"{}", " {\"a\":1} ", "[]", "[{\"file\":\"x\"}]", "\"s\"", "1", "", " ", "{",
		"{\"file\":\"a\"}x", "{\"file\":\"a\",}", "{,}", "{\"a\" 1}", "{\"a\":}",
		"{\"file\":1}", "{\"file\":\"a\",\"file\":\"b\"}", "{\"file\":\"a\",\"file\":2}",
		"{\"bytes\":9223372036854775807}", "{\"bytes\":9223372036854775808}",
		"{\"bytes\":-9223372036854775808}", "{\"bytes\":-9223372036854775809}",
		"{\"bytes\":1.0}", "{\"bytes\":1e3}", "{\"bytes\":01}", "{\"bytes\":-}",
		"{\"bytes\":1.}", "{\"bytes\":.5}", "{\"bytes\":1e}", "{\"bytes\":1e999}",
		"{\"bytes\":-1e999}", "{\"bytes\":1e-999}", "{\"bytes\":-0}", "{\"bytes\":+1}",
		"{\"file\":\"a\\u0000b\"}", "{\"file\":\"\\ud800\"}", "{\"file\":\"\\udc00\"}",
		"{\"file\":\"\\ud83d\\ude00\"}", "{\"file\":\"\\ud83d\\u0041\"}",
		"{\"file\":\"\\u00e9\\u4e2d\"}", "{\"file\":\"\\x41\"}", "{\"file\":\"\\uZZZZ\"}",
		"{\"file\":\"a\tb\"}", "{\"file\":\"a\\tb\\/c\\\"d\\\\\"}",
		"{\"file\":\"\xc3\xa9\"}", "{\"file\":\"\xc3\"}", "{\"file\":\"\xc0\xaf\"}",
		"{\"file\":\"\xed\xa0\x80\"}", "{\"file\":\"\xf4\x90\x80\x80\"}",
		"{\"file\":\"\xe0\x80\xaf\"}", "{\"file\":\"\xf0\x9f\x98\x80\"}", "{\"a\":\xc3\xa9}",
		"{\"error\":null,\"file\":\"x\"}", "{\"x\":{\"error\":1},\"file\":\"x\"}",
		"{\"a\":tru}", "{\"a\":true}", "{\"a\":nul}", "{\"a\":falsey}",
		"{\"a\":[1,2,[3,{\"b\":[]}]]}", "{\"a\":[1,]}", "{\"a\":[,1]}",
		"{\"retired\":\"x.pcap\",\"prev\":\"p\"}", "{\"a\":\"\x7f\"}", "{\"\":1}",
		"\xef\xbb\xbf{}", "{\"a\":1}\r", "{\"a\":1}\x0b",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		CHECK(agrees(lines[i], strlen(lines[i])));
	/* A NUL byte inside the line. */
	CHECK(agrees("{\"a\":\"x\0y\"}", 11));
	CHECK(agrees("{\"a\":1}\0", 8));
	/* Deep nesting: both refuse past their depth, neither crashes. */
	{
		static char deep[4 * 3000 + 16];
		size_t n = 0;

		n += (size_t)sprintf(deep + n, "{\"a\":");
		for (int i = 0; i < 3000; i++)
			deep[n++] = '[';
		for (int i = 0; i < 3000; i++)
			deep[n++] = ']';
		deep[n++] = '}';
		CHECK(agrees(deep, n));
	}
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
test_parse_mutations(void)
{
	static const char alphabet[] = "{}[]\",:\\u0123456789abcdefE.-+ tnrl\x01\x7f\xc3\xa9\xed\xf4";
	char line[sizeof(record) + 64];
	unsigned int bad = 0;

	for (int round = 0; round < 30000; round++) {
		size_t len = sizeof(record) - 1;

		memcpy(line, record, len);
		for (int k = 1 + (int)(next() % 4); k > 0; k--) {
			size_t at = next() % len;
			char c = alphabet[next() % (sizeof(alphabet) - 1)];

			switch (next() % 3) {
			case 0:	/* replace */
				line[at] = c;
				break;
			case 1:	/* delete */
				memmove(line + at, line + at + 1, len - at - 1);
				len--;
				break;
			default:	/* insert */
				if (len + 1 < sizeof(line)) {
					memmove(line + at + 1, line + at, len - at);
					line[at] = c;
					len++;
				}
			}
		}
		if (!agrees(line, len) && ++bad > 10)
			break;
	}
	CHECK(bad == 0);
}

static void
test_names(void)
{
	static char longest[NAME_MAX + 2];

	CHECK(lc_manifest_name_ok("cap-q00-000001.pcap"));
	CHECK(lc_manifest_name_ok("..x"));
	CHECK(!lc_manifest_name_ok(NULL));
	CHECK(!lc_manifest_name_ok(""));
	CHECK(!lc_manifest_name_ok("."));
	CHECK(!lc_manifest_name_ok(".."));
	CHECK(!lc_manifest_name_ok("../../etc/shadow"));
	CHECK(!lc_manifest_name_ok("/etc/shadow"));
	CHECK(!lc_manifest_name_ok("a/b.pcap"));
	CHECK(!lc_manifest_name_ok("a\nb.pcap"));
	CHECK(!lc_manifest_name_ok("a\x7f"));
	memset(longest, 'a', NAME_MAX);
	CHECK(lc_manifest_name_ok(longest));
	longest[NAME_MAX] = 'a';
	CHECK(!lc_manifest_name_ok(longest));
}

static void
test_index(void)
{
	struct lc_name_index *x = lc_name_index_new();
	char name[64];
	int wrong = 0;

	CHECK(x != NULL);
	if (x == NULL)
		return;
	for (size_t i = 0; i < 200000; i++) {
		snprintf(name, sizeof(name), "cap-q%02zu-%06zu.pcap", i % 7, i);
		CHECK(i % 50000 != 0 || lc_name_index_get(x, name) == -1);
		if (lc_name_index_put(x, name, i) != 0)
			wrong++;
	}
	for (size_t i = 0; i < 200000; i++) {
		snprintf(name, sizeof(name), "cap-q%02zu-%06zu.pcap", i % 7, i);
		wrong += lc_name_index_get(x, name) != (long)i;
		snprintf(name, sizeof(name), "cap-q%02zu-%06zu.pcapng", i % 7, i);
		wrong += lc_name_index_get(x, name) != -1;
	}
	CHECK(lc_name_index_put(x, "cap-q00-000000.pcap", 7) == 0 &&
	      lc_name_index_get(x, "cap-q00-000000.pcap") == 7);
	CHECK(wrong == 0);
	lc_name_index_free(x);
	lc_name_index_free(NULL);
}

static void
sha_of(const char *s, size_t n, char hex[65])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int len;

	EVP_Digest(s, n, md, &len, EVP_sha256(), NULL);
	lc_sha256_hex(md, hex);
}

struct seen {
	unsigned int lines, too_long, chained, objects;
	char last_sha[65];
};

static int
count(void *arg, const struct lc_manifest_line *line)
{
	struct seen *s = arg;
	char err[256];

	s->lines++;
	s->too_long += line->too_long;
	s->objects += line->f.object;
	s->chained += lc_manifest_line_chained(line, err, sizeof(err)) == 0;
	memcpy(s->last_sha, line->sha, sizeof(s->last_sha));
	return 0;
}

static void
test_files(void)
{
	char dir[] = "/tmp/lc_manifest_XXXXXX", path[128], err[512], hex[65];
	struct lc_manifest *m;
	struct seen s = { 0 };
	json_t *rec;
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	/* A FIFO, a link, a directory: refused at once, EINVAL, the FIFO never opened. */
	snprintf(path, sizeof(path), "%s/fifo", dir);
	CHECK(mkfifo(path, 0600) == 0);
	errno = 0;
	CHECK(lc_manifest_open(path, err, sizeof(err)) == NULL && errno == EINVAL);
	CHECK_STR_HAS(err, "a FIFO, not a regular file");
	CHECK(lc_manifest_open_read(AT_FDCWD, path, err, sizeof(err)) == -EINVAL);
	unlink(path);
	snprintf(path, sizeof(path), "%s/link", dir);
	CHECK(symlink("/etc/hostname", path) == 0);
	errno = 0;
	CHECK(lc_manifest_open(path, err, sizeof(err)) == NULL && errno == EINVAL);
	CHECK_STR_HAS(err, "a symbolic link");
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	CHECK(mkdir(path, 0700) == 0);
	CHECK(lc_manifest_open(path, err, sizeof(err)) == NULL && errno == EINVAL);
	rmdir(path);
	CHECK(lc_manifest_open_read(AT_FDCWD, path, err, sizeof(err)) == -ENOENT);

	/* A last line cut (no newline), one that is not JSON: refused, EINVAL, left as they
	 * are (nothing is appended after them). A file with a second link: refused, read by
	 * no one. */
	static const struct { const char *text, *says; } bad[] = {
		{ "{\"file\":\"a.pcap\",\"prev\":\"00\"}\n{\"file\":\"b.p", "its last line is cut" },
		{ "xyz", "its last line is cut" },
		{ "xyz\n", "not a JSON object" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/bad%zu", dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
		CHECK(fd >= 0 && write(fd, bad[i].text, strlen(bad[i].text)) ==
		      (ssize_t)strlen(bad[i].text));
		close(fd);
		errno = 0;
		CHECK(lc_manifest_open(path, err, sizeof(err)) == NULL && errno == EINVAL);
		CHECK_STR_HAS(err, bad[i].says);
		CHECK(stat(path, &st) == 0 && st.st_size == (off_t)strlen(bad[i].text));
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/one", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
	CHECK(fd >= 0);
	close(fd);
	{
		char two[160];

		snprintf(two, sizeof(two), "%s/two", dir);
		CHECK(link(path, two) == 0);
		CHECK(lc_manifest_open(two, err, sizeof(err)) == NULL && errno == EINVAL);
		CHECK_STR_HAS(err, "has 2 links");
		CHECK(lc_manifest_open_read(AT_FDCWD, two, err, sizeof(err)) == -EINVAL);
		CHECK(lc_manifest_open_file(AT_FDCWD, path, O_RDWR, err, sizeof(err)) == -EINVAL);
		CHECK_STR_HAS(err, "has 2 links");
		unlink(two);
	}
	unlink(path);

	/* A regular one: two lines, the second over LC_MANIFEST_LINE_MAX, then an append. */
	snprintf(path, sizeof(path), "%s/manifest.jsonl", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
	CHECK(fd >= 0);
	{
		static const char first[] = "{\"file\":\"a.pcap\",\"prev\":"
			"\"0000000000000000000000000000000000000000000000000000000000000000\"}";
		size_t big = LC_MANIFEST_LINE_MAX + 100;
		char *line = malloc(big);

		CHECK(line != NULL && write(fd, first, strlen(first)) == (ssize_t)strlen(first) &&
		      write(fd, "\n", 1) == 1);
		if (line != NULL) {
			memset(line, 'x', big);
			CHECK(write(fd, line, big) == (ssize_t)big && write(fd, "\n", 1) == 1);
			sha_of(line, big, hex);
			free(line);
		}
		close(fd);
	}
	m = lc_manifest_open(path, err, sizeof(err));
	CHECK(m != NULL);
	rec = json_pack("{s:s}", "file", "b.pcap");
	CHECK(m != NULL && lc_manifest_append(m, rec, err, sizeof(err)) == 0);
	json_decref(rec);
	lc_manifest_close(m);
	fd = lc_manifest_open_read(AT_FDCWD, path, err, sizeof(err));
	CHECK(fd >= 0);
	CHECK(lc_manifest_scan(fd, path, LC_MANIFEST_SCAN_HASH, count, &s, err, sizeof(err)) == 3);
	close(fd);
	/* Line 1 chained, line 2 too long (not read), line 3 chained to line 2's hash. */
	CHECK(s.lines == 3 && s.too_long == 1 && s.objects == 2 && s.chained == 2);
	unlink(path);
	rmdir(dir);
}

#define SHA_A "5f2c0000000000000000000000000000000000000000000000000000000000aa"
#define PREV0 "0000000000000000000000000000000000000000000000000000000000000000"

/* Build r, add "prev" as lc_manifest_append does, dump it as one line, parse it back. */
static int
round_trip(const struct lc_manifest_record *r, struct lc_manifest_record *back, char *line,
	   size_t room, char *why, size_t whylen)
{
	json_t *j = lc_manifest_record_build(r);
	char *s;
	int rc;

	if (j == NULL)
		return -100;
	json_object_set_new(j, "prev", json_string(PREV0));
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (s == NULL)
		return -101;
	snprintf(line, room, "%s", s);
	rc = lc_manifest_record_parse(s, strlen(s), back, why, whylen);
	free(s);
	return rc;
}

static void
test_record_round_trip(void)
{
	const struct lc_record_filter filters[] = {
		{ "host 192.168.1.100 and port 443", "jit", 1767225600000000000ull },
		{ NULL, NULL, 1767225601000000000ull },
	};
	struct lc_manifest_record r = {
		.kind = LC_RECORD_FILE, .file = "cap-q03-000042.pcapng", .bytes = 389300,
		.packets = 1000, .first_ns = 1767225600000000001ull,
		.last_ns = 1767225600999000000ull, .queue = 3, .seq = 42, .format = "pcapng",
		.opened_ns = 1767225599000000000ull, .closed_ns = 1767225601000000000ull,
		.host = "appliance-7", .port = "0000:3b:00.0", .filters = filters, .nfilters = 2,
		.snaplen = 262144, .linecap = "1.0.0", .clock = "hw",
		.drops = { .buffer_full = 7, .imissed = 8, .rx_nombuf = 9, .write_errors = 10 },
		.received = 123456789012ull, .passed_filter = 1007,
	}, b;
	char line[4096], why[256];

	snprintf(r.sha256, sizeof(r.sha256), SHA_A);
	CHECK(round_trip(&r, &b, line, sizeof(line), why, sizeof(why)) == 0);
	/* "file" first (a cut line still names its file), the drops under their v2 name. */
	CHECK(strncmp(line, "{\"file\":\"cap-q03-000042.pcapng\",\"sha256\":", 40) == 0);
	CHECK_STR_HAS(line, "\"drops\":{\"buffer_full\":7,\"imissed\":8,\"rx_nombuf\":9,"
		      "\"write_errors\":10},\"received\":123456789012,\"passed_filter\":1007,"
		      "\"prev\":");
	CHECK(b.kind == LC_RECORD_FILE && strcmp(b.file, r.file) == 0 &&
	      strcmp(b.sha256, SHA_A) == 0 && strcmp(b.prev, PREV0) == 0);
	CHECK(b.bytes == r.bytes && b.packets == r.packets && b.first_ns == r.first_ns &&
	      b.last_ns == r.last_ns && b.queue == 3 && b.seq == 42);
	CHECK(strcmp(b.format, "pcapng") == 0 && strcmp(b.host, "appliance-7") == 0 &&
	      strcmp(b.port, r.port) == 0 && strcmp(b.linecap, "1.0.0") == 0 &&
	      strcmp(b.clock, "hw") == 0 && b.snaplen == 262144);
	CHECK(b.opened_ns == r.opened_ns && b.closed_ns == r.closed_ns);
	CHECK(memcmp(&b.drops, &r.drops, sizeof(b.drops)) == 0);
	CHECK(b.received == r.received && b.passed_filter == r.passed_filter);
	CHECK(b.error == NULL && !b.repaired);
	CHECK(b.nfilters == 2 && strcmp(b.filters[0].expression, filters[0].expression) == 0 &&
	      strcmp(b.filters[0].engine, "jit") == 0 && b.filters[0].since_ns == filters[0].since_ns &&
	      b.filters[1].expression == NULL && b.filters[1].engine == NULL &&
	      b.filters[1].since_ns == filters[1].since_ns);
	lc_manifest_record_release(&b);

	/* A file whose closing failed. */
	r.kind = LC_RECORD_FAILED;
	r.error = "No space left on device";
	CHECK(round_trip(&r, &b, line, sizeof(line), why, sizeof(why)) == 0);
	CHECK(b.kind == LC_RECORD_FAILED && b.error != NULL && strcmp(b.error, r.error) == 0);
	CHECK_STR_HAS(line, "\"passed_filter\":1007,\"error\":\"No space left on device\"");
	lc_manifest_record_release(&b);

	/* A file linecap-verify --repair recorded, with the cut line it came from. */
	struct lc_manifest_record rep = {
		.kind = LC_RECORD_FILE, .file = "x-q00-000002.pcap", .bytes = 24, .packets = 0,
		.queue = -1, .seq = -1, .format = "pcap", .host = "h", .repaired = 1,
		.cut_bytes = 13, .repaired_ns = 5, .recovered_from = "manifest.jsonl.cut-1",
	};
	snprintf(rep.sha256, sizeof(rep.sha256), SHA_A);
	CHECK(round_trip(&rep, &b, line, sizeof(line), why, sizeof(why)) == 0);
	CHECK(b.kind == LC_RECORD_FILE && b.repaired && b.cut_bytes == 13 && b.repaired_ns == 5 &&
	      b.queue == -1 && b.seq == -1 && strcmp(b.recovered_from, rep.recovered_from) == 0);
	CHECK_STR_HAS(line, "\"repaired\":true,\"cut_bytes\":13,\"repaired_ns\":5,\"host\":\"h\","
		      "\"recovered_from\":\"manifest.jsonl.cut-1\",\"prev\"");
	lc_manifest_record_release(&b);

	/* A retirement. */
	struct lc_manifest_record ret = {
		.kind = LC_RECORD_RETIRED, .file = "x-q00-000001.pcap", .bytes = 4, .queue = 0,
		.reason = "-W: at most that many files per queue", .at_ns = 77, .host = "h",
	};
	snprintf(ret.sha256, sizeof(ret.sha256), SHA_A);
	CHECK(round_trip(&ret, &b, line, sizeof(line), why, sizeof(why)) == 0);
	CHECK(strncmp(line, "{\"retired\":\"x-q00-000001.pcap\",", 31) == 0);
	CHECK(b.kind == LC_RECORD_RETIRED && strcmp(b.file, ret.file) == 0 && b.bytes == 4 &&
	      b.at_ns == 77 && strcmp(b.reason, ret.reason) == 0 && strcmp(b.sha256, SHA_A) == 0);
	CHECK(b.index == LC_INDEX_UNRECORDED && strstr(line, "\"index\"") == NULL);
	lc_manifest_record_release(&b);

	/* A retirement that deleted the file's index too: "index", the one it deleted. */
	ret.index = LC_INDEX_WRITTEN;
	ret.index_bytes = 4096;
	snprintf(ret.index_sha256, sizeof(ret.index_sha256), PREV0);
	ret.index_sha256[0] = 'b';
	CHECK(round_trip(&ret, &b, line, sizeof(line), why, sizeof(why)) == 0);
	CHECK_STR_HAS(line, "\"host\":\"h\",\"index\":{\"sha256\":\"b000");
	CHECK_STR_HAS(line, "\"bytes\":4096},\"prev\"");
	CHECK(b.kind == LC_RECORD_RETIRED && b.index == LC_INDEX_WRITTEN &&
	      b.index_bytes == 4096 && strcmp(b.index_sha256, ret.index_sha256) == 0);
	{
		/* The fast reader sees it too (verify and retention read a manifest with it). */
		static char scratch[4096];
		struct lc_manifest_fields f;

		CHECK(lc_manifest_parse_line(line, strlen(line), scratch, &f) == 1);
		CHECK(f.retired != NULL && f.index && !f.index_missing &&
		      f.index_bytes == 4096 && f.index_sha256 != NULL &&
		      strcmp(f.index_sha256, ret.index_sha256) == 0 &&
		      strcmp(f.sha256, SHA_A) == 0 && f.bytes == 4);
	}
	lc_manifest_record_release(&b);
	/* A retirement's "index" is read as strictly as a file's. */
	{
		static const char bad[] = "{\"retired\":\"a.pcap\",\"sha256\":\"" SHA_A "\","
			"\"bytes\":1,\"queue\":0,\"reason\":\"r\",\"at_ns\":1,\"host\":\"h\","
			"\"index\":{\"sha256\":\"5f\",\"bytes\":1},\"prev\":\"" PREV0 "\"}";

		CHECK(lc_manifest_record_parse(bad, strlen(bad), &b, why, sizeof(why)) == -EINVAL);
	}
	CHECK_STR_HAS(why, "sha256");
}

/* The fast reader's "index" of a file's record, against what the line says. */
static void
test_fields_index(void)
{
	static const struct {
		const char *line;
		int index, missing;
		const char *sha;
		long long bytes;
		const char *file;
	} lines[] = {
		{ "{\"file\":\"a.pcap\",\"index\":{\"sha256\":\"" SHA_A "\",\"bytes\":77},"
		  "\"sha256\":\"x\",\"bytes\":5}", 1, 0, SHA_A, 77, "a.pcap" },
		{ "{\"file\":\"a.pcap\",\"index\":{\"missing\":\"--no-index\"}}", 1, 1, NULL, 0,
		  "a.pcap" },
		{ "{\"file\":\"a.pcap\"}", 0, 0, NULL, 0, "a.pcap" },
		{ "{\"file\":\"a.pcap\",\"index\":7}", 0, 0, NULL, 0, "a.pcap" },
		/* The last "index" counts, as in jansson; an inner one is not the record's. */
		{ "{\"index\":{\"sha256\":\"s\",\"bytes\":1},\"file\":\"b.pcap\",\"index\":"
		  "{\"bytes\":2}}", 1, 0, NULL, 2, "b.pcap" },
		{ "{\"file\":\"c.pcap\",\"x\":{\"index\":{\"sha256\":\"s\",\"bytes\":1}}}", 0, 0,
		  NULL, 0, "c.pcap" },
		{ "{\"file\":\"d.pcap\",\"index\":{\"sha256\":\"s\",\"bytes\":1,\"file\":\"e\","
		  "\"inner\":{\"bytes\":9}}}", 1, 0, "s", 1, "d.pcap" },
	};
	static char scratch[512];
	struct lc_manifest_fields f;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		CHECK(lc_manifest_parse_line(lines[i].line, strlen(lines[i].line), scratch, &f) == 1);
		CHECK(f.index == lines[i].index && f.index_missing == lines[i].missing &&
		      f.index_bytes == lines[i].bytes && f.file != NULL &&
		      strcmp(f.file, lines[i].file) == 0);
		CHECK((f.index_sha256 == NULL) == (lines[i].sha == NULL) &&
		      (f.index_sha256 == NULL || strcmp(f.index_sha256, lines[i].sha) == 0));
		if (i == 0)
			CHECK(strcmp(f.sha256, "x") == 0 && f.bytes == 5);
	}
}

/* A line with member key's value replaced by repl (a JSON value), or removed (repl NULL). */
static char *
edited(const char *line, const char *key, const char *repl)
{
	json_t *j = json_loads(line, 0, NULL);
	char *s;

	if (repl == NULL)
		json_object_del(j, key);
	else
		json_object_set_new(j, key, json_loads(repl, JSON_DECODE_ANY, NULL));
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}

static void
test_record_strict(void)
{
	/* The record of a capture before data path v2: its drops say "ring". */
	static const char old[] =
		"{\"file\":\"cap-q00-000001.pcap\",\"sha256\":\"" SHA_A "\",\"bytes\":389300,"
		"\"packets\":1000,\"first_ns\":1767225600000000000,\"last_ns\":1767225600999000000,"
		"\"queue\":0,\"seq\":1,\"format\":\"pcap\",\"opened_ns\":1,\"closed_ns\":2,"
		"\"host\":\"h\",\"port\":\"net_pcap0\",\"filters\":[{\"expression\":\"host 1.2.3.4\","
		"\"engine\":\"jit\",\"since_ns\":1}],\"snaplen\":262144,\"linecap\":\"0.9.0\","
		"\"clock\":\"tsc\",\"drops\":{\"ring\":98404,\"imissed\":1,\"rx_nombuf\":2,"
		"\"write_errors\":3},\"received\":45466624,\"passed_filter\":8266660,"
		"\"prev\":\"" PREV0 "\"}";
	static const struct { const char *key, *value, *says; } bad[] = {
		{ "sha256", "\"5f2c\"", "\"sha256\" is not a SHA-256" },
		{ "sha256", NULL, "no \"sha256\"" },
		{ "bytes", "-1", "\"bytes\" is not a count" },
		{ "packets", "\"1000\"", "\"packets\" is not a count" },
		{ "queue", "-2", "\"queue\" is not a number" },
		{ "filters", "{}", "\"filters\" is not an array" },
		{ "filters", "[{\"expression\":1,\"since_ns\":1}]", "\"filters\" item 0" },
		{ "drops", "{\"ring\":1,\"buffer_full\":1,\"imissed\":0,\"rx_nombuf\":0,"
			   "\"write_errors\":0}", "both \"buffer_full\" and its old name \"ring\"" },
		{ "drops", "{\"imissed\":0,\"rx_nombuf\":0,\"write_errors\":0}", "no \"buffer_full\"" },
		{ "drops", NULL, "no \"drops\"" },
		{ "prev", NULL, "no \"prev\"" },
		{ "port", "7", "\"port\" is not a string" },
		{ "repaired", "false", "\"repaired\" is not true" },
		{ "error", "5", "\"error\" is not a string" },
	};
	struct lc_manifest_record r;
	char why[256];

	CHECK(lc_manifest_record_parse(old, strlen(old), &r, why, sizeof(why)) == 0);
	CHECK(r.kind == LC_RECORD_FILE && r.drops.buffer_full == 98404 && r.drops.imissed == 1 &&
	      r.drops.rx_nombuf == 2 && r.drops.write_errors == 3);
	lc_manifest_record_release(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *line = edited(old, bad[i].key, bad[i].value);

		why[0] = '\0';
		CHECK(line != NULL &&
		      lc_manifest_record_parse(line, strlen(line), &r, why, sizeof(why)) == -EINVAL);
		CHECK_STR_HAS(why, bad[i].says);
		CHECK(r.json == NULL && r.file == NULL);
		free(line);
	}
	CHECK(lc_manifest_record_parse("[1]", 3, &r, why, sizeof(why)) == -EINVAL);
	CHECK_STR_HAS(why, "not a JSON object");
	CHECK(lc_manifest_record_parse("{\"a\":1}", 7, &r, why, sizeof(why)) == -EINVAL);
	CHECK_STR_HAS(why, "neither a file's record");
	CHECK(lc_manifest_record_parse(old, 40, &r, why, sizeof(why)) == -EINVAL);
	CHECK_STR_HAS(why, "not JSON");
}

static void
test_record_kind(void)
{
	static const struct { const char *line; enum lc_record_kind kind; } lines[] = {
		{ "{\"file\":\"a.pcap\"}", LC_RECORD_FILE },
		{ "{\"file\":\"a.pcap\",\"error\":\"EIO\"}", LC_RECORD_FAILED },
		{ "{\"retired\":\"a.pcap\"}", LC_RECORD_RETIRED },
		{ "{\"file\":\"a.pcap\",\"error\":1,\"retired\":\"b\"}", LC_RECORD_RETIRED },
		{ "{\"other\":1}", LC_RECORD_OTHER },
		{ "[]", LC_RECORD_OTHER },
	};
	char scratch[128], name[NAME_MAX + 1];
	struct lc_manifest_fields f;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		lc_manifest_parse_line(lines[i].line, strlen(lines[i].line), scratch, &f);
		CHECK(lc_manifest_record_kind(&f) == lines[i].kind);
	}
	CHECK(lc_manifest_record_cut_name("{\"file\":\"x-q00-000003.pcap\",\"sha2", name) == 0 &&
	      strcmp(name, "x-q00-000003.pcap") == 0);
	CHECK(lc_manifest_record_cut_name("{\"file\":\"x-q00-0000", name) == -1);
	CHECK(lc_manifest_record_cut_name("{\"file\":\"..\",", name) == -1);
	CHECK(lc_manifest_record_cut_name("{\"retired\":\"a.pcap\",", name) == -1);
}

int
main(void)
{
	test_record_round_trip();
	test_record_strict();
	test_record_kind();
	test_fields_index();
	test_parse_table();
	test_parse_mutations();
	test_names();
	test_index();
	test_files();
	printf("test_manifest: %d checks, %d failed\n", lc_test_checks, lc_test_failures);
	return lc_test_failures ? 1 : 0;
}
