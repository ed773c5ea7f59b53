/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linecap-query --flows: the conversations the expression touches. A conversation is
 * touched when one of its packets in the window is kept by the expression; it is then shown
 * whole (both directions, all their packets in the files the window meets), so that
 * 'src host X' shows X's connections with their replies.
 *
 * From the indexes: a flow the program can never keep is passed over; one it always keeps
 * and that lies within the window touches its conversation without a packet read; any other
 * (the program's verdict depends on bytes the index does not know, or the flow straddles an
 * end of the window) has its packets read until one is in the window and kept. A file
 * without a usable index (an open .part among them) gets one built in memory from its
 * records, the same a capture writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "linecap/filter.h"
#include "linecap/flows.h"
#include "linecap/reader.h"
#include "query_priv.h"

struct flows_run {
	const struct lc_query_opts *o;
	struct lc_query_dirs dirs;
	struct lc_query_judge judge;
	struct lc_filter_prog *prog;
	struct lc_filter *filter;	/* NULL: every packet */
	struct lc_conv_table *t;
	struct lc_query_stats *st;
	char *err;
	size_t errlen;
};

/* The file's records, read at the positions of flows. */
struct file_reader {
	const char *path;
	int fd;			/* the input's own (not ours), or -1 */
	struct lc_reader *r;	/* opened on first use */
	int started;
};

static int
reader_at(struct file_reader *fr, uint64_t off, struct lc_record *rec, char *err,
	  size_t errlen)
{
	int rc;

	if (fr->r == NULL) {
		int fd = fr->fd >= 0 ? dup(fr->fd) : open(fr->path, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || lseek(fd, 0, SEEK_SET) != 0) {
			snprintf(err, errlen, "%s: %s", fr->path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -EIO;
		}
		fr->r = lc_reader_fdopen_sized(fd, fr->path, 16384, err, errlen);
		if (fr->r == NULL)
			return -EINVAL;
	}
	if (!fr->started) {	/* a first record makes a pcapng file's interfaces known */
		fr->started = 1;
		rc = lc_reader_next(fr->r, rec, err, errlen);
		if (rc != 1 || rec->offset == off)
			return rc == 0 ? -EINVAL : rc;
	}
	if (lc_reader_seek(fr->r, off) != 0)
		return -EINVAL;
	rc = lc_reader_next(fr->r, rec, err, errlen);
	if (rc == 0) {
		snprintf(err, errlen, "%s: byte %llu: no record there (its index does not match it)",
			 fr->path, (unsigned long long)off);
		return -EINVAL;
	}
	return rc;
}

/* Does one of f's packets in the window pass the filter? 1, 0, or < 0 (err). */
static int
flow_touches(struct flows_run *fx, struct lc_index *ix, struct file_reader *fr,
	     const struct lc_index_flow *f, enum lc_verdict v)
{
	const struct lc_query_opts *o = fx->o;
	uint64_t *pos;
	int rc = 0;

	if (v == LC_VERDICT_ALWAYS && (!o->start_ns || f->first_ns >= o->start_ns) &&
	    (!o->end_ns || f->last_ns < o->end_ns))
		return 1;
	pos = malloc(f->packets * sizeof(*pos));
	if (pos == NULL)
		return -ENOMEM;
	rc = lc_index_positions(ix, f, pos, fx->err, fx->errlen);
	for (uint64_t k = 0; rc == 0 && k < f->packets; k++) {
		struct lc_record rec;

		struct lc_flow_key key;

		rc = reader_at(fr, pos[k], &rec, fx->err, fx->errlen);
		if (rc < 0)
			break;
		rc = 0;
		/* The positions are checked as they are used: the record's flow and time. */
		lc_index_record_key(rec.linktype, rec.data, rec.caplen, &key);
		if (memcmp(&key, &f->key, sizeof(key)) != 0 || rec.ts_ns < f->first_ns ||
		    rec.ts_ns > f->last_ns) {
			snprintf(fx->err, fx->errlen, "%s: byte %llu: the record there is not of the "
				 "flow its index says (the index does not match the file: "
				 "linecap-verify; --no-index reads it whole)", fr->path,
				 (unsigned long long)pos[k]);
			rc = -EINVAL;
			break;
		}
		fx->st->records++;
		if (!lc_query_in_window(o, rec.ts_ns, rec.ts_ns))
			continue;
		if (v == LC_VERDICT_ALWAYS || fx->filter == NULL ||
		    lc_filter_match_bytes(fx->filter, rec.data, rec.len, rec.caplen) != 0)
			rc = 1;
	}
	free(pos);
	return rc;
}

/* An index of a file that has none (or none usable), built in memory from its records. */
static struct lc_index *
index_in_memory(const char *path, int fd, char *err, size_t errlen)
{
	uint8_t sha[LC_INDEX_SHA256_LEN];
	uint64_t len;
	int cfd = fd >= 0 ? dup(fd) : open(path, O_RDONLY | O_CLOEXEC);
	int mfd = memfd_create("linecap-query-index", MFD_CLOEXEC);
	int rc;

	if (cfd < 0 || mfd < 0 || lseek(cfd, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (cfd >= 0)
			close(cfd);
		if (mfd >= 0)
			close(mfd);
		return NULL;
	}
	rc = lc_index_rebuild(cfd, path, mfd, sha, &len, err, errlen);
	close(cfd);
	if (rc < 0 || lseek(mfd, 0, SEEK_SET) != 0) {
		close(mfd);
		return NULL;
	}
	return lc_index_open_fd(mfd, path, err, errlen);
}

/* One file's flows: every one in the window into the table, marking the conversations it
 * touches. */
static int
file_flows(struct flows_run *fx, struct lc_index *ix, const char *path, int fd)
{
	struct file_reader fr = { .path = path, .fd = fd };
	const struct lc_index_info *info = lc_index_info(ix);
	uint32_t nf;
	const struct lc_index_flow *fl = lc_index_flows(ix, &nf);
	int rc = 0;

	if (info->packets == 0 || !lc_query_in_window(fx->o, info->first_ns, info->last_ns)) {
		fx->st->skipped++;
		return 0;
	}
	for (uint32_t i = 0; i < nf && rc >= 0; i++) {
		const struct lc_index_flow *f = &fl[i];
		enum lc_verdict v;

		fx->st->flows++;
		if (f->packets != 0 && !lc_query_in_window(fx->o, f->first_ns, f->last_ns)) {
			fx->st->flows_outside++;
			continue;
		}
		rc = lc_conv_add(fx->t, f);
		if (rc < 0 || f->packets == 0)
			continue;
		v = lc_query_judge(&fx->judge, f);
		if (v == LC_VERDICT_NEVER) {
			fx->st->flows_never++;
			continue;
		}
		rc = flow_touches(fx, ix, &fr, f, v);
		if (rc == 1)
			rc = lc_conv_touch(fx->t, f);
	}
	lc_reader_close(fr.r);
	return rc < 0 ? rc : 0;
}

static int
flows_setup(struct flows_run *fx, const char *expr)
{
	const struct lc_filter_ops *engine;
	int rc;

	if (expr == NULL)
		return 0;
	rc = lc_filter_prepare(expr, 262144, NULL, &fx->prog, &engine, fx->err, fx->errlen);
	if (rc < 0)
		return rc;
	fx->filter = lc_filter_create(fx->prog, engine, -1);
	if (fx->filter == NULL) {
		snprintf(fx->err, fx->errlen, "filter '%s': %s", expr, strerror(errno));
		return -ENOMEM;
	}
	return 0;
}

int
lc_query_flows(const struct lc_query_opts *o, const char *expr, const char *const *paths,
	       const int *fds, unsigned int n, struct lc_conv_table *t,
	       struct lc_query_stats *st, lc_query_warn_fn warn, void *arg, char *err,
	       size_t errlen)
{
	struct flows_run fx = {
		.o = o, .judge = { .insns = o->insns, .ninsns = o->ninsns }, .t = t, .st = st,
		.err = err, .errlen = errlen,
	};
	int rc;

	memset(st, 0, sizeof(*st));
	st->files = n;
	rc = flows_setup(&fx, expr);
	for (unsigned int i = 0; i < n && rc == 0; i++) {
		int fd = fds ? fds[i] : -1;
		struct lc_index *ix;

		if (!o->no_index && lc_query_recorded_outside(&fx.dirs, o, paths[i], fd, warn,
							      arg)) {
			st->indexed++;
			st->skipped++;
			continue;
		}
		ix = o->no_index ? NULL : lc_query_open_index(&fx.dirs, paths[i], fd, warn, arg);

		if (ix != NULL) {
			st->indexed++;
		} else {
			st->whole++;
			ix = index_in_memory(paths[i], fd, err, errlen);
			if (ix == NULL) {
				rc = -EINVAL;
				break;
			}
		}
		rc = file_flows(&fx, ix, paths[i], fd);
		lc_index_close(ix);
	}
	if (rc == 0)
		lc_conv_keep_touched(t);
	st->flows_judged = fx.judge.judged;
	lc_query_judge_free(&fx.judge);
	lc_query_dirs_free(&fx.dirs);
	lc_filter_free(fx.filter);
	lc_filter_prog_free(fx.prog);
	return rc;
}
