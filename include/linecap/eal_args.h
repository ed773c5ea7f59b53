/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_EAL_ARGS_H
#define LINECAP_EAL_ARGS_H

/*
 * Derive DPDK EAL arguments from what linecap knows, so a user never types them:
 * lcore mapping from the CPUs this process may run on, a per-process file prefix (two
 * captures side by side), the device as --vdev or -a, and hugepages or --no-huge.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LC_EAL_MAX_ARGS 96

struct lc_eal_plan {
	const char *interface;	   /* -i as given; NULL: no device (-r) */
	unsigned int rx_lcores;	   /* one per RX queue */
	unsigned int writer_lcores;
	const int *cpus;	   /* CPUs this process may use, ascending */
	unsigned int ncpus;
	uint64_t mem_bytes;	   /* memory the capture needs (pools, rings, slack) */
	uint64_t huge_free_bytes;  /* free hugepage memory on the machine */
	int pid;		   /* for the file prefix */
	const char *extra;	   /* --eal passthrough; NULL if none */
	const char *prefix;	   /* file prefix before "_<pid>": "linecap" (NULL) or "lcgen" */
	int no_shconf;		   /* no multi-process files or sockets (-Z: once root is gone,
				    * EAL could not reach them; the telemetry socket stays) */
	int verbose;
};

/*
 * NUMA: put the CPUs of node first (stable, ascending within each group), so the lcores
 * linecap derives (main, RX, writers, in that order) sit on the NIC's socket while it has
 * CPUs to give. node_of[i] is the node of cpus[i]; node < 0 (unknown) leaves cpus as they are.
 */
void lc_eal_order_cpus(int *cpus, unsigned int n, const int *node_of, int node);

/* The NUMA node of a CPU (sysfs), -1 when unknown. */
int lc_eal_cpu_node(int cpu);

/* The NUMA node of the device -i names when it is a PCI address (sysfs), else -1. */
int lc_eal_device_node(const char *interface);

/* -Z: give EAL's runtime directory (multi-process sockets, telemetry) to uid:gid, so EAL
 * still works there once root is dropped. 0 or -errno. */
int lc_eal_chown_runtime(uid_t uid, gid_t gid);

struct lc_eal_args {
	int argc;
	char *argv[LC_EAL_MAX_ARGS + 1];
	char storage[4096];	/* the strings argv points into */
	int no_huge;		/* 1 when --no-huge was chosen or given */
};

/* True if s looks like a PCI address (DDDD:BB:DD.F or BB:DD.F). */
int lc_eal_is_pci_addr(const char *s);

/*
 * Fill out with an argv for rte_eal_init(). Arguments the user gave in plan->extra win: if
 * they name lcores, memory or a file prefix, linecap does not add its own. Lcore 0 is the
 * main lcore; lcores 1..rx_lcores are RX; the writers follow. RX lcores get CPUs of their
 * own first; the writers and the main lcore share what is left.
 * Returns 0, or -E2BIG / -EINVAL with a reason in err.
 */
int lc_eal_args_build(const struct lc_eal_plan *plan, struct lc_eal_args *out,
		      char *err, size_t errlen);

/* The CPUs this process may run on (sched_getaffinity), ascending. Returns the count. */
unsigned int lc_eal_allowed_cpus(int *cpus, unsigned int max);

/* Free hugepage memory in bytes, summed over page sizes (0 when none or not mounted). */
uint64_t lc_eal_huge_free_bytes(void);

/* Does EAL run on hugepages (huge_free bytes free) for mem_bytes, or with --no-huge? The one
 * rule, for the EAL arguments and for the plan's memory check. */
static inline int
lc_eal_hugepages_suffice(uint64_t huge_free, uint64_t mem_bytes)
{
	return huge_free >= mem_bytes;
}

/*
 * rte_eal_init() with the derived arguments. EAL's own messages are held back while it
 * starts; they are shown when verbose, and on failure the last of them goes into err so the
 * user sees one line. Returns 0, or -errno with a reason in err.
 */
int lc_eal_start(struct lc_eal_args *a, int verbose, char *err, size_t errlen);

/*
 * rte_eal_cleanup(), then remove the per-process runtime directory EAL leaves behind
 * (/var/run/dpdk/linecap_<pid>), so that captures do not litter it.
 */
void lc_eal_stop(void);

#endif
