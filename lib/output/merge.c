/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "linecap/filter.h"
#include "linecap/manifest.h"
#include "linecap/merge.h"
#include "pcap_format.h"
#include "linecap/reader.h"
#include "shard.h"

struct input {
	struct lc_reader *r;
	struct lc_record rec;
	unsigned int index;
};

/* Min-heap of inputs by (timestamp, input index). */
static int
before(const struct input *a, const struct input *b)
{
	if (a->rec.ts_ns != b->rec.ts_ns)
		return a->rec.ts_ns < b->rec.ts_ns;
	return a->index < b->index;
}

static void
sift_down(struct input **h, unsigned int n, unsigned int i)
{
	for (;;) {
		unsigned int l = 2 * i + 1, r = l + 1, m = i;

		if (l < n && before(h[l], h[m]))
			m = l;
		if (r < n && before(h[r], h[m]))
			m = r;
		if (m == i)
			return;
		struct input *t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* Advance an input; 1 record ready, 0 done, < 0 error ("FILE: byte N: reason" in err). */
static int
advance(struct input *in, const char *path, char *err, size_t errlen)
{
	int rc = lc_reader_next(in->r, &in->rec, err, errlen);

	if (rc == 1 && in->rec.linktype != 1) {
		snprintf(err, errlen, "%s: byte %llu: link type %u is not Ethernet; "
			 "linecap-merge merges Ethernet captures only", path,
			 (unsigned long long)in->rec.offset, in->rec.linktype);
		return -EINVAL;
	}
	return rc;
}

int
lc_merge_parse_time(const char *s, uint64_t *ns)
{
	struct tm tm;
	const char *rest;
	uint64_t secs, frac = 0;
	bool iso;

	memset(&tm, 0, sizeof(tm));
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest == NULL)
		rest = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	iso = rest != NULL;
	if (iso) {
		time_t t = timegm(&tm);

		if (t < 0)
			return -EINVAL;
		secs = (uint64_t)t;
	} else {
		/* Seconds since the epoch, digits only: no sign, no exponent, no float. */
		secs = 0;
		for (rest = s; *rest >= '0' && *rest <= '9'; rest++) {
			secs = secs * 10 + (uint64_t)(*rest - '0');
			if (secs > 10000000000ull)
				return -EINVAL;
		}
		if (rest == s)
			return -EINVAL;
	}
	/* The fraction digit by digit, so a nanosecond is a nanosecond (a double is not):
	 * digits past the ninth are below a nanosecond and left out. */
	if (*rest == '.') {
		int digits = 0;

		for (rest++; *rest >= '0' && *rest <= '9'; rest++, digits++)
			if (digits < 9)
				frac = frac * 10 + (uint64_t)(*rest - '0');
		if (digits == 0)
			return -EINVAL;
		for (; digits < 9; digits++)
			frac *= 10;
	}
	if (iso && *rest == 'Z')
		rest++;
	if (*rest != '\0')
		return -EINVAL;
	*ns = secs * 1000000000ull + frac;
	return 0;
}

/* The output: OUT.part through the capture file unit, written in 1 MiB blocks. */
struct output {
	struct lc_shard_file f;
	uint8_t *buf;
	size_t len;
	int rc;			/* the first failed write's -errno */
};

#define OUT_BUF (1u << 20)

static void
out_flush(struct output *o)
{
	size_t done;

	if (o->rc == 0 && o->len > 0)
		o->rc = lc_shard_file_write(&o->f, o->buf, o->len, &done);
	o->len = 0;
}

static void
out_put(struct output *o, const void *p, size_t n)
{
	if (o->len + n > OUT_BUF)
		out_flush(o);
	if (n > OUT_BUF) {	/* never: a record is at most 16 + 262144 bytes */
		size_t done;

		if (o->rc == 0)
			o->rc = lc_shard_file_write(&o->f, p, n, &done);
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

/* The filter of o, when there is one, into *f. 0 or -errno with the reason in err. */
static int
merge_filter(const struct lc_merge_opts *o, struct lc_filter_prog **prog, struct lc_filter **f,
	     char *err, size_t errlen)
{
	const struct lc_filter_ops *engine;
	int rc;

	if (o->filter == NULL)
		return 0;
	rc = lc_filter_prepare(o->filter, 262144, NULL, prog, &engine, err, errlen);
	if (rc < 0)
		return rc;
	*f = lc_filter_create(*prog, engine, -1);
	if (*f == NULL) {
		snprintf(err, errlen, "filter '%s': %s", o->filter, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Open input i and read its first record (onto the heap when there is one). */
static int
open_input(const struct lc_merge_opts *o, unsigned int i, struct input *in,
	   struct input **heap, unsigned int *n, uint32_t *snaplen, char *err, size_t errlen)
{
	int ifd = o->fds != NULL ? o->fds[i] : -1, rc;

	if (o->fds != NULL)
		o->fds[i] = -1;		/* ours now */
	/* O_NONBLOCK: a FIFO nobody writes reads as empty (not a capture file) instead of
	 * hanging the open; reads block again once open (a pipe given on purpose). */
	if (ifd < 0)
		ifd = open(o->inputs[i], O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (ifd < 0 || fcntl(ifd, F_SETFL, fcntl(ifd, F_GETFL) & ~O_NONBLOCK) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", o->inputs[i], strerror(errno));
		if (ifd >= 0)
			close(ifd);
		return rc;
	}
	in->index = i;
	in->r = lc_reader_fdopen(ifd, o->inputs[i], err, errlen);
	if (in->r == NULL)
		return errno == EINVAL ? -EINVAL : -errno;
	rc = advance(in, o->inputs[i], err, errlen);
	if (rc < 0)
		return rc;
	if (rc == 1)
		heap[(*n)++] = in;
	if (lc_reader_snaplen(in->r) > *snaplen)
		*snaplen = lc_reader_snaplen(in->r);
	return 0;
}

/* Write the heap's records in order, through the filter and the window. */
static int
merge_records(const struct lc_merge_opts *o, struct input **heap, unsigned int n,
	      struct lc_filter *f, uint32_t snaplen, struct output *out,
	      struct lc_merge_stats *st, char *err, size_t errlen)
{
	uint8_t rec_hdr[LC_PCAP_REC_HDR_LEN + 16];
	int rc;

	while (n > 0) {
		struct input *top = heap[0];
		const struct lc_record *r = &top->rec;

		st->read++;
		if ((o->start_ns && r->ts_ns < o->start_ns) || (o->end_ns && r->ts_ns >= o->end_ns)) {
			st->outside++;
		} else if (f != NULL && lc_filter_match_bytes(f, r->data, r->len, r->caplen) == 0) {
			st->filtered++;
		} else {
			uint32_t cap = r->caplen < snaplen ? r->caplen : snaplen;

			/* Header by the same writer the capture uses, then the bytes. */
			lc_pcap_put_record_bytes(rec_hdr, sizeof(rec_hdr), r->data, 0, r->len,
						 r->ts_ns);
			memcpy(rec_hdr + 8, &cap, 4);
			out_put(out, rec_hdr, LC_PCAP_REC_HDR_LEN);
			out_put(out, r->data, cap);
			st->written++;
			st->bytes += LC_PCAP_REC_HDR_LEN + cap;
		}
		rc = advance(top, o->inputs[top->index], err, errlen);
		if (rc < 0)
			return rc;
		if (rc == 0)
			heap[0] = heap[--n];
		sift_down(heap, n, 0);
	}
	return 0;
}

/* Create OUT.part (never over OUT, never through a link) and write the file header. */
static int
out_open(struct output *out, const char *path, uint32_t snaplen, struct lc_merge_stats *st,
	 char *err, size_t errlen)
{
	uint8_t hdr[LC_PCAP_FILE_HDR_LEN + 16];
	int rc;

	out->buf = malloc(OUT_BUF);
	if (out->buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = lc_shard_file_create(&out->f, path, err, errlen);
	if (rc == -EEXIST) {
		size_t l = strlen(err);

		snprintf(err + l, errlen - l, " (linecap-merge never overwrites a file nor writes "
			 "through a link)");
	}
	if (rc < 0)
		return rc;
	lc_pcap_file_header(hdr, snaplen);
	out_put(out, hdr, LC_PCAP_FILE_HDR_LEN);
	st->bytes = LC_PCAP_FILE_HDR_LEN;
	return 0;
}

/* Flush, fsync, close and publish OUT (rename without replacing, fsync the directory). */
static int
out_close(struct output *out, char *err, size_t errlen)
{
	uint8_t sha[LC_SHA256_LEN];
	int rc;

	out_flush(out);
	rc = out->rc;
	if (rc == 0)
		rc = lc_shard_file_finish(&out->f, sha);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", out->f.part, strerror(-rc));
		return rc;
	}
	rc = lc_shard_file_publish_path(&out->f);
	if (rc < 0 && access(out->f.part, F_OK) == 0) {
		snprintf(err, errlen, "%s: %s", out->f.path, strerror(-rc));
		unlink(out->f.part);	/* OUT appeared meanwhile: it stays, ours goes */
	} else {
		rc = 0;		/* renamed; a directory that would not sync is not a failure */
	}
	return rc;
}

int
lc_merge(const struct lc_merge_opts *o, struct lc_merge_stats *st, char *err, size_t errlen)
{
	struct input *in = calloc(o->ninputs ? o->ninputs : 1, sizeof(*in));
	struct input **heap = calloc(o->ninputs ? o->ninputs : 1, sizeof(*heap));
	struct output out = { .f = { .fd = -1 } };
	struct lc_filter_prog *prog = NULL;
	struct lc_filter *f = NULL;
	uint32_t snaplen = 0;
	unsigned int n = 0;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	if (in == NULL || heap == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto done;
	}
	rc = merge_filter(o, &prog, &f, err, errlen);
	for (unsigned int i = 0; rc == 0 && i < o->ninputs; i++)
		rc = open_input(o, i, &in[i], heap, &n, &snaplen, err, errlen);
	if (rc < 0)
		goto done;
	if (snaplen == 0)
		snaplen = 262144;
	for (unsigned int i = n / 2; i-- > 0;)
		sift_down(heap, n, i);
	rc = out_open(&out, o->out, snaplen, st, err, errlen);
	if (rc == 0)
		rc = merge_records(o, heap, n, f, snaplen, &out, st, err, errlen);
	if (rc == 0)
		rc = out_close(&out, err, errlen);
done:
	lc_shard_file_discard(&out.f);	/* nothing half-written is left */
	free(out.buf);
	for (unsigned int i = 0; in != NULL && i < o->ninputs; i++)
		lc_reader_close(in[i].r);
	for (unsigned int i = 0; o->fds != NULL && i < o->ninputs; i++)
		if (o->fds[i] >= 0) {	/* not reached: closed unread */
			close(o->fds[i]);
			o->fds[i] = -1;
		}
	free(in);
	free(heap);
	lc_filter_free(f);
	lc_filter_prog_free(prog);
	return rc;
}

static int
push(struct lc_merge_inputs *in, char *path, int fd)
{
	if (path != NULL && in->n == in->cap) {
		unsigned int cap = in->cap ? 2 * in->cap : 16;
		char **p = realloc(in->paths, cap * sizeof(*p));
		int *f = p != NULL ? realloc(in->fds, cap * sizeof(*f)) : NULL;

		if (p != NULL)
			in->paths = p;
		if (f != NULL) {
			in->fds = f;
			in->cap = cap;
		}
	}
	if (path == NULL || in->n == in->cap) {
		free(path);
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	in->paths[in->n] = path;
	in->fds[in->n++] = fd;
	return 0;
}

struct named_fd {
	char *path;
	int fd;
};

static int
by_path(const void *a, const void *b)
{
	return strcmp(((const struct named_fd *)a)->path, ((const struct named_fd *)b)->path);
}

/* Inputs first.. in name order, each descriptor with its path. 0 or -ENOMEM. */
static int
sort_from(struct lc_merge_inputs *in, unsigned int first)
{
	unsigned int m = in->n - first;
	struct named_fd *v = calloc(m ? m : 1, sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < m; i++)
		v[i] = (struct named_fd){ in->paths[first + i], in->fds[first + i] };
	qsort(v, m, sizeof(*v), by_path);
	for (unsigned int i = 0; i < m; i++) {
		in->paths[first + i] = v[i].path;
		in->fds[first + i] = v[i].fd;
	}
	free(v);
	return 0;
}

/* A directory's capture files, in name order (the descriptors follow their paths). */
static int
add_dir(struct lc_merge_inputs *in, const char *path, lc_merge_skip_fn skip, void *arg)
{
	DIR *d = opendir(path);
	unsigned int first = in->n;
	struct dirent *de;
	char why[600], line[PATH_MAX + 700];
	int rc = 0;

	if (d == NULL)
		return -errno;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *p;
		int fd;

		if (!lc_reader_is_capture_name(de->d_name))
			continue;
		fd = lc_manifest_open_file(dirfd(d), de->d_name, O_RDONLY, why, sizeof(why));
		if (fd < 0) {
			snprintf(line, sizeof(line), "%s/%s", path, why);
			skip(arg, line);
			continue;
		}
		if (asprintf(&p, "%s/%s", path, de->d_name) < 0)
			p = NULL;
		rc = push(in, p, fd);
	}
	closedir(d);
	if (rc == 0)
		rc = sort_from(in, first);
	return rc;
}

int
lc_merge_inputs_add(struct lc_merge_inputs *in, const char *path, lc_merge_skip_fn skip,
		    void *arg)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return push(in, strdup(path), -1);
	return add_dir(in, path, skip, arg);
}

void
lc_merge_inputs_free(struct lc_merge_inputs *in)
{
	for (unsigned int k = 0; k < in->n; k++) {
		free(in->paths[k]);
		if (in->fds[k] >= 0)
			close(in->fds[k]);
	}
	free(in->paths);
	free(in->fds);
	memset(in, 0, sizeof(*in));
}
