/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_FILTER_SET_H
#define LINECAP_FILTER_SET_H

/*
 * The filters of all RX queues of a capture, and changing them while it runs.
 *
 * A change is made by the main lcore only: compile and self-check (lc_filter_prepare), build
 * one instance per queue on the port's node and self-check each; only when all are good,
 * swap every queue's pointer (release), wait for every RX lcore to pass a quiescent state
 * (DPDK RCU, rte_rcu_qsbr_synchronize: a burst judged by the old filter has finished), then
 * free the old instances. A bad expression changes nothing. Each RX burst is judged by one
 * filter, old or new, so no packet is judged by neither. Every filter in force is recorded
 * with the time it took effect.
 */
#include <stddef.h>
#include <stdint.h>

#include <rte_rcu_qsbr.h>

#include "linecap/filter.h"
#include "rx.h"

struct lc_filter_set;

struct lc_filter_era {
	char *expr;		/* NULL: no filter */
	const char *engine;
	uint64_t since_ns;	/* CLOCK_REALTIME when it took effect */
};

/*
 * For nq queues (their rcu fields are set here), instances on NUMA node socket, engine by
 * name (NULL: default), snaplen for compiling. Returns NULL with errno set.
 */
struct lc_filter_set *lc_filter_set_create(struct lc_rx_queue *const *rxq, unsigned int nq,
					   int socket, const char *engine, uint32_t snaplen);

/*
 * Put expr (NULL or blank: no filter stage) in force on every queue, as described above.
 * Safe whether or not RX lcores run. Returns 0, or -errno with one line in err; on error
 * the filter in force is unchanged.
 */
int lc_filter_set_change(struct lc_filter_set *set, const char *expr, char *err,
			 size_t errlen);

/* The filter now in force ("" when none) and its engine. Main lcore. */
const char *lc_filter_set_expr(const struct lc_filter_set *set);
const char *lc_filter_set_engine(const struct lc_filter_set *set);

/* Every filter that was in force, oldest first. */
const struct lc_filter_era *lc_filter_set_history(const struct lc_filter_set *set,
						  unsigned int *n);

/* Free instances and history (RX lcores must have stopped). Accepts NULL. */
void lc_filter_set_free(struct lc_filter_set *set);

#endif
