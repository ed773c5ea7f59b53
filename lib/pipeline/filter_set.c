/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "clock.h"
#include "filter_set.h"
#include "linecap/config.h"
#include "log.h"

#define HISTORY_MAX 4096

struct lc_filter_set {
	struct lc_rx_queue *const *rxq;
	unsigned int nq;
	int socket;
	uint32_t snaplen;
	const struct lc_filter_ops *engine;
	struct rte_rcu_qsbr *rcu;
	struct lc_filter_era history[HISTORY_MAX];
	unsigned int nhistory;
};


struct lc_filter_set *
lc_filter_set_create(struct lc_rx_queue *const *rxq, unsigned int nq, int socket,
		     const char *engine, uint32_t snaplen)
{
	struct lc_filter_set *set = calloc(1, sizeof(*set));
	size_t sz;

	if (set == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	set->rxq = rxq;
	set->nq = nq;
	set->socket = socket;
	set->snaplen = snaplen;
	set->engine = lc_filter_engine(engine ? engine : lc_filter_default_engine());
	if (set->engine == NULL) {
		free(set);
		errno = EINVAL;
		return NULL;
	}
	sz = rte_rcu_qsbr_get_memsize(nq);
	set->rcu = rte_zmalloc_socket("lc_filter_rcu", sz, RTE_CACHE_LINE_SIZE, socket);
	if (set->rcu == NULL || rte_rcu_qsbr_init(set->rcu, nq) != 0) {
		rte_free(set->rcu);
		free(set);
		errno = ENOMEM;
		return NULL;
	}
	for (unsigned int q = 0; q < nq; q++) {
		rte_rcu_qsbr_thread_register(set->rcu, q);	/* thread id = queue id */
		rxq[q]->rcu = set->rcu;
	}
	return set;
}

static int
blank(const char *s)
{
	for (; s != NULL && *s; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

static void
record(struct lc_filter_set *set, const char *expr)
{
	struct lc_filter_era *e;

	if (set->nhistory == HISTORY_MAX) {	/* keep the first and the latest ones */
		/* The dropped entry's text is not freed: writers may still be reading it for a
		 * file header (lc_capture publishes these strings to them). */
		memmove(&set->history[1], &set->history[2],
			(HISTORY_MAX - 2) * sizeof(set->history[0]));
		set->nhistory--;
	}
	e = &set->history[set->nhistory++];
	e->expr = expr ? strdup(expr) : NULL;
	e->engine = expr ? set->engine->name : NULL;
	e->since_ns = lc_realtime_ns();
}

int
lc_filter_set_change(struct lc_filter_set *set, const char *expr, char *err, size_t errlen)
{
	struct lc_filter *fresh[LC_QUEUES_MAX] = { NULL }, *old[LC_QUEUES_MAX];
	struct lc_filter_prog *prog = NULL;
	const struct lc_filter_ops *engine = set->engine;
	int rc = 0;

	if (blank(expr))
		expr = NULL;
	if (expr != NULL) {
		rc = lc_filter_prepare(expr, set->snaplen, set->engine->name, &prog, &engine, err,
				       errlen);
		if (rc < 0)
			return rc;
		for (unsigned int q = 0; q < set->nq && rc == 0; q++) {
			/* One copy per RX core, on its node; each copy proves itself first. */
			fresh[q] = lc_filter_create(prog, engine, set->socket);
			if (fresh[q] == NULL) {
				rc = -errno;
				snprintf(err, errlen, "filter '%s': cannot build it for queue %u: %s",
					 expr, q, strerror(errno));
			} else {
				rc = lc_filter_selfcheck(prog, fresh[q], err, errlen);
			}
		}
		lc_filter_prog_free(prog);
		if (rc < 0) {
			for (unsigned int q = 0; q < set->nq; q++)
				lc_filter_free(fresh[q]);
			return rc;
		}
	}
	/* Pairs with the acquire load at the start of each RX burst. */
	for (unsigned int q = 0; q < set->nq; q++)
		old[q] = __atomic_exchange_n(&set->rxq[q]->filter, fresh[q], __ATOMIC_RELEASE);
	record(set, expr);
	/* Every online RX lcore finishes the burst it may be judging with an old filter. */
	rte_rcu_qsbr_synchronize(set->rcu, RTE_QSBR_THRID_INVALID);
	for (unsigned int q = 0; q < set->nq; q++)
		lc_filter_free(old[q]);
	return 0;
}

const char *
lc_filter_set_expr(const struct lc_filter_set *set)
{
	const struct lc_filter_era *e = set->nhistory ? &set->history[set->nhistory - 1] : NULL;

	return e && e->expr ? e->expr : "";
}

const char *
lc_filter_set_engine(const struct lc_filter_set *set)
{
	return set->engine->name;
}

const struct lc_filter_era *
lc_filter_set_history(const struct lc_filter_set *set, unsigned int *n)
{
	*n = set->nhistory;
	return set->history;
}

void
lc_filter_set_free(struct lc_filter_set *set)
{
	if (set == NULL)
		return;
	for (unsigned int q = 0; q < set->nq; q++) {
		lc_filter_free(set->rxq[q]->filter);
		set->rxq[q]->filter = NULL;
		set->rxq[q]->rcu = NULL;
	}
	for (unsigned int i = 0; i < set->nhistory; i++)
		free(set->history[i].expr);
	rte_free(set->rcu);
	free(set);
}
