/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lc_version.h"
#include "linecap/filter.h"
#include "linecap/format.h"
#include "linecap/manifest.h"
#include "linecap/merge.h"
#include "pcap_format.h"
#include "linecap/reader.h"
#include "shard.h"

struct input {
	struct lc_reader *r;
	struct lc_record rec;
	unsigned int index;
	const struct lc_merge_select *sel;	/* NULL: every record */
	uint64_t next;		/* the next of sel's offsets */
	int started;		/* a record was read (a pcapng file's interfaces are known) */
	int part;		/* a file being written: a record cut short is its end */
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

/* The next record of an input, in file order. */
static int
next_record(struct input *in, char *err, size_t errlen)
{
	int rc = lc_reader_next(in->r, &in->rec, err, errlen);

	in->started = 1;
	return rc == -EINVAL && in->part ? 0 : rc;	/* the end of what was written so far */
}

/* The next selected record of an input: the one at its next offset. */
static int
next_selected(struct input *in, const char *path, char *err, size_t errlen)
{
	uint64_t want;
	int rc;

	if (in->next >= in->sel->n)
		return 0;
	want = in->sel->offsets[in->next++];
	if (!in->started) {	/* the first record read makes the file's headers known */
		rc = next_record(in, err, errlen);
		if (rc != 1 || in->rec.offset == want)
			return rc;
	}
	/* The next record in the file is read as it comes; another is gone to. */
	if (lc_reader_good_offset(in->r) != want && lc_reader_seek(in->r, want) != 0) {
		snprintf(err, errlen, "%s: byte %llu: cannot go there (a position of its index)",
			 path, (unsigned long long)want);
		return -EINVAL;
	}
	rc = next_record(in, err, errlen);
	if (rc == 0) {
		snprintf(err, errlen, "%s: byte %llu: no record there (its index does not match "
			 "it)", path, (unsigned long long)want);
		return -EINVAL;
	}
	return rc;
}

/* The next selected record, checked against what the index said of it. */
static int
next_checked(struct input *in, const char *path, char *err, size_t errlen)
{
	int rc = next_selected(in, path, err, errlen);
	size_t l;

	if (rc < 0 && (l = strlen(err)) < errlen) {
		snprintf(err + l, errlen - l, " (at a position of its index: the index does not "
			 "match the file: linecap-verify; --no-index reads it whole)");
		return rc;
	}
	if (rc == 1 && in->sel->check != NULL &&
	    in->sel->check(in->sel->check_arg, in->next - 1, &in->rec) != 0) {
		snprintf(err, errlen, "%s: byte %llu: the record there is not of the flow its "
			 "index says (the index does not match the file: linecap-verify; "
			 "--no-index reads it whole)", path, (unsigned long long)in->rec.offset);
		return -EINVAL;
	}
	return rc;
}

/* Advance an input; 1 record ready, 0 done, < 0 error ("FILE: byte N: reason" in err). */
static int
advance(struct input *in, const char *path, char *err, size_t errlen)
{
	int rc = in->sel != NULL ? next_checked(in, path, err, errlen) :
				   next_record(in, err, errlen);

	if (rc == 1 && in->rec.linktype != 1) {
		snprintf(err, errlen, "%s: byte %llu: link type %u is not Ethernet; "
			 "only Ethernet captures are merged", path,
			 (unsigned long long)in->rec.offset, in->rec.linktype);
		return -EINVAL;
	}
	return rc;
}

/* The output: OUT.part through the capture file unit, written in 1 MiB blocks. */
struct output {
	struct lc_shard_file f;
	int fd;			/* >= 0: a stream (standard output) instead of f */
	int pcapng;
	uint8_t *buf;
	size_t len;
	int rc;			/* the first failed write's -errno */
};

#define OUT_BUF (1u << 20)

/* All of buf to a stream fd (a pipe: short writes and EINTR retried). 0 or -errno. */
static int
write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
out_flush(struct output *o)
{
	size_t done;

	if (o->rc == 0 && o->len > 0 && o->fd >= 0)
		o->rc = write_all(o->fd, o->buf, o->len);
	else if (o->rc == 0 && o->len > 0)
		o->rc = lc_shard_file_write(&o->f, o->buf, o->len, &done);
	o->len = 0;
}

static void
out_put(struct output *o, const void *p, size_t n)
{
	if (o->len + n > OUT_BUF)
		out_flush(o);
	if (n > OUT_BUF) {	/* never: a record is at most 32 + 262144 bytes */
		if (o->rc == 0)
			o->rc = -E2BIG;
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

/* The snaplen of a classic pcap file's header into *snaplen when larger: 1, or 0 when fd does
 * not start with one (pcapng: its interface says, once read). */
static int
pcap_snaplen(int fd, uint32_t *snaplen)
{
	uint8_t h[24];
	uint32_t magic, v;

	if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return 0;
	memcpy(&magic, h, 4);
	memcpy(&v, h + 16, 4);
	if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)
		v = __builtin_bswap32(v);
	else if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d)
		return 0;
	if (v > *snaplen)
		*snaplen = v;
	return 1;
}

/* How much to read at a time of an input: records chosen far apart (an index's positions,
 * a rare host) are read with little around them; a whole file, or dense choices, in large
 * reads. */
static size_t
read_size(int fd, const struct lc_merge_select *sel)
{
	struct stat st;
	uint64_t gap;

	if (sel == NULL || sel->n == 0 || fstat(fd, &st) != 0)
		return 256u << 10;
	gap = (uint64_t)st.st_size / sel->n;
	return gap >= (16u << 10) ? 4096u : gap >= (4u << 10) ? 32768u : 256u << 10;
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
	in->sel = o->select != NULL && o->select[i].offsets != NULL ? &o->select[i] : NULL;
	in->part = strlen(o->inputs[i]) > 5 &&
		   strcmp(o->inputs[i] + strlen(o->inputs[i]) - 5, ".part") == 0;
	if (in->sel != NULL && in->sel->n == 0 && pcap_snaplen(ifd, snaplen)) {
		close(ifd);	/* nothing of it is wanted: only its snaplen, for the header */
		return 0;
	}
	in->r = lc_reader_fdopen_sized(ifd, o->inputs[i], read_size(ifd, in->sel), err, errlen);
	if (in->r == NULL && in->part && errno == EINVAL)
		return 0;	/* a file being written, cut inside its header: empty so far */
	if (in->r == NULL)
		return errno == EINVAL ? -EINVAL : -errno;
	if (in->sel != NULL && in->sel->n == 0) {	/* pcapng: its first interface says */
		struct lc_record rec;

		lc_reader_next(in->r, &rec, err, errlen);
		if (lc_reader_snaplen(in->r) > *snaplen)
			*snaplen = lc_reader_snaplen(in->r);
		return 0;
	}
	rc = advance(in, o->inputs[i], err, errlen);
	if (rc < 0)
		return rc;
	if (rc == 1)
		heap[(*n)++] = in;
	if (lc_reader_snaplen(in->r) > *snaplen)
		*snaplen = lc_reader_snaplen(in->r);
	return 0;
}

/* One record of cap bytes out, as pcap (the header by the same writer the capture uses) or
 * as a pcapng enhanced packet block. Returns the bytes it took. */
static size_t
out_record(struct output *out, const struct lc_record *r, uint32_t cap)
{
	static const uint8_t zero[4];
	uint8_t h[LC_PCAP_REC_HDR_LEN + 16];
	uint32_t w[7], pad = (4 - cap % 4) % 4, total = 32 + cap + pad;

	if (!out->pcapng) {
		lc_pcap_put_record_bytes(h, sizeof(h), r->data, 0, r->len, r->ts_ns);
		memcpy(h + 8, &cap, 4);
		out_put(out, h, LC_PCAP_REC_HDR_LEN);
		out_put(out, r->data, cap);
		return LC_PCAP_REC_HDR_LEN + cap;
	}
	w[0] = 6;				/* enhanced packet block */
	w[1] = total;
	w[2] = 0;				/* interface 0: nanoseconds */
	w[3] = (uint32_t)(r->ts_ns >> 32);
	w[4] = (uint32_t)r->ts_ns;
	w[5] = cap;
	w[6] = r->len;
	out_put(out, w, sizeof(w));
	out_put(out, r->data, cap);
	out_put(out, zero, pad);
	out_put(out, &total, 4);
	return total;
}

/* Write the heap's records in order, through the filter and the window. */
static int
merge_records(const struct lc_merge_opts *o, struct input **heap, unsigned int n,
	      struct lc_filter *f, uint32_t snaplen, struct output *out,
	      struct lc_merge_stats *st, char *err, size_t errlen)
{
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

			st->bytes += out_record(out, r, cap);
			st->written++;
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

/* Create OUT.part (never over OUT, never through a link; "-": standard output) and write
 * the file header. */
static int
out_open(struct output *out, const char *path, uint32_t snaplen, struct lc_merge_stats *st,
	 char *err, size_t errlen)
{
	const struct lc_file_info info = {
		.snaplen = snaplen, .port = "merged", .os = "Linux",
		.application = "linecap " LC_VERSION,
	};
	uint8_t hdr[1024];
	struct stat sb;
	size_t hlen;
	int rc = 0;

	out->buf = malloc(OUT_BUF);
	if (out->buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (strcmp(path, "-") == 0)
		out->fd = STDOUT_FILENO;
	else if (lstat(path, &sb) == 0 && S_ISCHR(sb.st_mode)) {	/* /dev/null: a sink */
		out->fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (out->fd < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		}
	} else {
		rc = lc_shard_file_create(&out->f, path, err, errlen);
	}
	if (rc == -EEXIST) {
		size_t l = strlen(err);

		snprintf(err + l, errlen - l, " (never overwritten, nor written through a "
			 "link)");
	}
	if (rc < 0)
		return rc;
	hlen = (out->pcapng ? &lc_format_pcapng : &lc_format_pcap)->header(hdr, sizeof(hdr),
									     &info);
	out_put(out, hdr, hlen);
	st->bytes = hlen;
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
	if (out->fd >= 0) {
		if (out->fd != STDOUT_FILENO && close(out->fd) != 0 && rc == 0)
			rc = -errno;
		out->fd = -1;
		if (rc < 0)
			snprintf(err, errlen, "standard output: %s", strerror(-rc));
		return rc;
	}
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
	struct output out = { .f = { .fd = -1 }, .fd = -1, .pcapng = o->pcapng };
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
	if (out.fd > STDOUT_FILENO)
		close(out.fd);
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

/* NAME.part of a capture file NAME: one being written. */
static int
is_capture_part(const char *name)
{
	size_t n = strlen(name);
	char base[NAME_MAX + 1];

	if (n <= 5 || n > NAME_MAX || strcmp(name + n - 5, ".part") != 0)
		return 0;
	snprintf(base, sizeof(base), "%.*s", (int)(n - 5), name);
	return lc_reader_is_capture_name(base);
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

		if (!lc_reader_is_capture_name(de->d_name) &&
		    !(in->with_parts && is_capture_part(de->d_name)))
			continue;
		fd = lc_manifest_open_file(dirfd(d), de->d_name, O_RDONLY, why, sizeof(why));
		if (fd == -ENOENT && in->with_parts && is_capture_part(de->d_name)) {
			/* Published since the listing (NAME.part became NAME): read it there. */
			snprintf(line, sizeof(line), "%.*s", (int)strlen(de->d_name) - 5,
				 de->d_name);
			fd = lc_manifest_open_file(dirfd(d), line, O_RDONLY, why, sizeof(why));
			if (fd >= 0) {
				if (asprintf(&p, "%s/%s", path, line) < 0)
					p = NULL;
				rc = push(in, p, fd);	/* closes fd when it cannot */
				continue;
			}
		}
		if (fd == -EMFILE || fd == -ENFILE) {	/* not a file to skip: out of descriptors */
			rc = fd;
			break;
		}
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
