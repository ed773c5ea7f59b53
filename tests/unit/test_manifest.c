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
#include "linecap/shard.h"

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

int
main(void)
{
	test_parse_table();
	test_parse_mutations();
	test_names();
	test_index();
	test_files();
	printf("test_manifest: %d checks, %d failed\n", lc_test_checks, lc_test_failures);
	return lc_test_failures ? 1 : 0;
}
