/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "linecap/manifest.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

struct lc_manifest {
	int fd;
	size_t size;
	char last[65];		/* hash of the last line */
};

static void
sha_hex(const void *data, size_t len, char out[65])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Read a whole (small) file; *len set. NULL with errno on failure. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		errno = EIO;
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		errno = EIO;
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

struct lc_manifest *
lc_manifest_open(const char *path, char *err, size_t errlen)
{
	struct lc_manifest *m = calloc(1, sizeof(*m));
	size_t len = 0;
	char *text;

	if (m == NULL) {
		errno = ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	snprintf(m->last, sizeof(m->last), "%s", ZERO_HASH);
	text = slurp(path, &len);
	if (text != NULL) {
		/* The chain goes on from the last whole line. */
		char *end = text + len;

		while (end > text && end[-1] == '\n')
			end--;
		char *start = end;
		while (start > text && start[-1] != '\n')
			start--;
		if (end > start)
			sha_hex(start, (size_t)(end - start), m->last);
		free(text);
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(m);
		return NULL;
	}
	m->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (m->fd < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		free(m);
		errno = e;
		return NULL;
	}
	m->size = len;
	return m;
}

int
lc_manifest_append(struct lc_manifest *m, json_t *rec, char *err, size_t errlen)
{
	char *line;
	size_t n;
	int rc = 0;

	json_object_set_new(rec, "prev", json_string(m->last));
	line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line == NULL) {
		snprintf(err, errlen, "manifest: cannot encode a record");
		return -ENOMEM;
	}
	n = strlen(line);
	line[n] = '\n';		/* json_dumps leaves room for the NUL we overwrite */
	ssize_t w = write(m->fd, line, n + 1);

	if (w != (ssize_t)(n + 1)) {
		rc = w < 0 ? -errno : -ENOSPC;
		snprintf(err, errlen, "manifest: %s", strerror(-rc));
		/* Never half a line: what got through is taken back (a full disk). */
		if (w > 0 && ftruncate(m->fd, (off_t)m->size) != 0)
			snprintf(err, errlen, "manifest: %s, and a part of a line is left: %s",
				 strerror(-rc), strerror(errno));
	} else {
		sha_hex(line, n, m->last);
		m->size += n + 1;
	}
	free(line);
	return rc;
}

int
lc_manifest_sync(struct lc_manifest *m)
{
	return fsync(m->fd) == 0 ? 0 : -errno;
}

size_t
lc_manifest_size(const struct lc_manifest *m)
{
	return m->size;
}

int
lc_manifest_chown(struct lc_manifest *m, uid_t uid, gid_t gid)
{
	return fchown(m->fd, uid, gid) != 0 ? -errno : 0;
}

void
lc_manifest_close(struct lc_manifest *m)
{
	if (m == NULL)
		return;
	fsync(m->fd);
	close(m->fd);
	free(m);
}

int
lc_manifest_read(const char *path, struct lc_manifest_line **lines, char *err, size_t errlen)
{
	size_t len = 0, cap = 64;
	int n = 0;
	char *text = slurp(path, &len), *p, *nl;
	struct lc_manifest_line *v;

	*lines = NULL;
	if (text == NULL) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	v = calloc(cap, sizeof(*v));
	for (p = text; v != NULL && *p != '\0'; p = nl + 1) {
		json_error_t jerr;

		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if ((size_t)n == cap) {
			struct lc_manifest_line *t = realloc(v, 2 * cap * sizeof(*v));

			if (t == NULL)
				break;
			v = t;
			cap *= 2;
		}
		v[n].lineno = (unsigned int)n + 1;
		sha_hex(p, (size_t)(nl - p), v[n].sha);
		v[n].rec = json_loadb(p, (size_t)(nl - p), 0, &jerr);
		if (v[n].rec != NULL && !json_is_object(v[n].rec)) {
			json_decref(v[n].rec);
			v[n].rec = NULL;
		}
		n++;
		if (*nl == '\0')
			break;
	}
	free(text);
	if (v == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	*lines = v;
	return n;
}

unsigned int
lc_manifest_check_chain(const struct lc_manifest_line *lines, int n, char *err, size_t errlen)
{
	const char *want = ZERO_HASH;

	for (int i = 0; i < n; i++) {
		const char *prev = lines[i].rec ?
			json_string_value(json_object_get(lines[i].rec, "prev")) : NULL;

		if (lines[i].rec == NULL) {
			snprintf(err, errlen, "line %u is not a JSON object", lines[i].lineno);
			return lines[i].lineno;
		}
		if (prev == NULL || strcmp(prev, want) != 0) {
			snprintf(err, errlen, "line %u: chain broken (prev %.12s..., the line before "
				 "hashes to %.12s...): a line was removed, changed or reordered",
				 lines[i].lineno, prev ? prev : "missing", want);
			return lines[i].lineno;
		}
		want = lines[i].sha;
	}
	return 0;
}

void
lc_manifest_lines_free(struct lc_manifest_line *lines, int n)
{
	for (int i = 0; i < n; i++)
		json_decref(lines[i].rec);
	free(lines);
}
