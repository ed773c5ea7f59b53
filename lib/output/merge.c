/* SPDX-License-Identifier: BSD-3-Clause */
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
#include "linecap/merge.h"
#include "linecap/pcap_format.h"
#include "linecap/reader.h"

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

int
lc_merge(const struct lc_merge_opts *o, struct lc_merge_stats *st, char *err, size_t errlen)
{
	struct input *in = calloc(o->ninputs ? o->ninputs : 1, sizeof(*in));
	struct input **heap = calloc(o->ninputs ? o->ninputs : 1, sizeof(*heap));
	struct lc_filter_prog *prog = NULL;
	const struct lc_filter_ops *engine;
	struct lc_filter *f = NULL;
	char part[4096 + 8];
	uint8_t rec_hdr[LC_PCAP_REC_HDR_LEN + 16];
	uint32_t snaplen = 0;
	unsigned int n = 0;
	FILE *out = NULL;
	char *outbuf = NULL;
	struct stat ost;
	int fd = -1, rc = 0;

	memset(st, 0, sizeof(*st));
	if (in == NULL || heap == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto done;
	}
	if (o->filter != NULL) {
		rc = lc_filter_prepare(o->filter, 262144, NULL, &prog, &engine, err, errlen);
		if (rc < 0)
			goto done;
		f = lc_filter_create(prog, engine, -1);
		if (f == NULL) {
			rc = -errno;
			snprintf(err, errlen, "filter '%s': %s", o->filter, strerror(errno));
			goto done;
		}
	}
	for (unsigned int i = 0; i < o->ninputs; i++) {
		int ifd = o->fds != NULL ? o->fds[i] : -1;

		if (o->fds != NULL)
			o->fds[i] = -1;		/* ours now */
		/* O_NONBLOCK: a FIFO nobody writes reads as empty (not a capture file) instead
		 * of hanging the open; reads block again once open (a pipe given on purpose). */
		if (ifd < 0)
			ifd = open(o->inputs[i], O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (ifd < 0 || fcntl(ifd, F_SETFL, fcntl(ifd, F_GETFL) & ~O_NONBLOCK) != 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", o->inputs[i], strerror(errno));
			if (ifd >= 0)
				close(ifd);
			goto done;
		}
		in[i].index = i;
		in[i].r = lc_reader_fdopen(ifd, o->inputs[i], err, errlen);
		if (in[i].r == NULL) {
			rc = errno == EINVAL ? -EINVAL : -errno;
			goto done;
		}
		rc = advance(&in[i], o->inputs[i], err, errlen);
		if (rc < 0)
			goto done;
		if (rc == 1)
			heap[n++] = &in[i];
		rc = 0;
		if (lc_reader_snaplen(in[i].r) > snaplen)
			snaplen = lc_reader_snaplen(in[i].r);
	}
	if (snaplen == 0)
		snaplen = 262144;
	for (unsigned int i = n / 2; i-- > 0;)
		sift_down(heap, n, i);

	snprintf(part, sizeof(part), "%s.part", o->out);
	/* lstat: a link at OUT, even a dangling one, is not written through. */
	if (lstat(o->out, &ost) == 0) {
		snprintf(err, errlen, "%s: %s (linecap-merge never overwrites a file nor writes "
			 "through a link)", o->out, S_ISLNK(ost.st_mode) ? "a symbolic link" :
			 strerror(EEXIST));
		rc = -EEXIST;
		goto done;
	}
	fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0 || (out = fdopen(fd, "wb")) == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", part, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
		goto done;
	}
	/* glibc ignores a size given without a buffer: give it one. */
	outbuf = malloc(1 << 20);
	if (outbuf != NULL)
		setvbuf(out, outbuf, _IOFBF, 1 << 20);
	lc_pcap_file_header(rec_hdr, snaplen);
	fwrite(rec_hdr, 1, LC_PCAP_FILE_HDR_LEN, out);
	st->bytes = LC_PCAP_FILE_HDR_LEN;

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
			fwrite(rec_hdr, 1, LC_PCAP_REC_HDR_LEN, out);
			fwrite(r->data, 1, cap, out);
			st->written++;
			st->bytes += LC_PCAP_REC_HDR_LEN + cap;
		}
		rc = advance(top, o->inputs[top->index], err, errlen);
		if (rc < 0)
			goto done;
		if (rc == 0)
			heap[0] = heap[--n];
		rc = 0;
		sift_down(heap, n, 0);
	}
	if (fflush(out) != 0 || fsync(fileno(out)) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", part, strerror(errno));
		goto done;
	}
	fclose(out);
	out = NULL;
	free(outbuf);
	outbuf = NULL;
	if (renameat2(AT_FDCWD, part, AT_FDCWD, o->out, RENAME_NOREPLACE) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", o->out, strerror(errno));
		unlink(part);	/* OUT appeared meanwhile: it stays, ours goes */
	}
done:
	if (out != NULL) {
		fclose(out);
		unlink(part);		/* nothing half-written is left */
	}
	free(outbuf);
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
