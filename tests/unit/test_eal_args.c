/* SPDX-License-Identifier: BSD-3-Clause */
/* EAL argument derivation: lcore maps, file prefix, hugepages or not, passthrough. */
#include "lc_test.h"

#include "linecap/eal_args.h"

static const char *
find_arg(const struct lc_eal_args *a, const char *prefix)
{
	for (int i = 0; i < a->argc; i++)
		if (strncmp(a->argv[i], prefix, strlen(prefix)) == 0)
			return a->argv[i];
	return NULL;
}

static int
count_arg(const struct lc_eal_args *a, const char *prefix)
{
	int n = 0;

	for (int i = 0; i < a->argc; i++)
		n += strncmp(a->argv[i], prefix, strlen(prefix)) == 0;
	return n;
}

static void
test_two_cpus(void)
{
	static const int cpus[] = { 0, 1 };
	struct lc_eal_plan p = {
		.interface = "net_pcap0,rx_pcap=x.pcap", .rx_lcores = 1, .writer_lcores = 1,
		.cpus = cpus, .ncpus = 2, .mem_bytes = 200 << 20, .huge_free_bytes = 0,
		.pid = 1234,
	};
	struct lc_eal_args a;
	char err[256];

	CHECK(lc_eal_args_build(&p, &a, err, sizeof(err)) == 0);
	/* RX gets a CPU of its own; the writer shares the main lcore's. */
	CHECK(find_arg(&a, "--lcores=0@0,1@1,2@0") != NULL);
	CHECK(find_arg(&a, "--file-prefix=linecap_1234") != NULL);
	CHECK(find_arg(&a, "--no-huge") != NULL && a.no_huge);
	CHECK(find_arg(&a, "200") != NULL);	/* -m in MB */
	CHECK(find_arg(&a, "--no-pci") != NULL);
	CHECK(find_arg(&a, "net_pcap0,rx_pcap=x.pcap") != NULL);
	CHECK(a.argv[a.argc] == NULL);
}

static void
test_many_cpus_and_hugepages(void)
{
	static const int cpus[] = { 2, 3, 4, 5, 6, 7, 8, 9 };
	struct lc_eal_plan p = {
		.interface = "0000:3b:00.0", .rx_lcores = 4, .writer_lcores = 2,
		.cpus = cpus, .ncpus = 8, .mem_bytes = 100 << 20, .huge_free_bytes = 1 << 30,
		.pid = 7,
	};
	struct lc_eal_args a;
	char err[256];

	CHECK(lc_eal_args_build(&p, &a, err, sizeof(err)) == 0);
	CHECK(find_arg(&a, "--lcores=0@2,1@3,2@4,3@5,4@6,5@7,6@8") != NULL);
	CHECK(find_arg(&a, "--no-huge") == NULL && !a.no_huge);
	CHECK(find_arg(&a, "--huge-unlink") != NULL);
	CHECK(find_arg(&a, "-a") != NULL && find_arg(&a, "0000:3b:00.0") != NULL);
	CHECK(find_arg(&a, "--vdev") == NULL);
}

static void
test_oversubscribed(void)
{
	static const int cpus[] = { 0, 1 };
	struct lc_eal_plan p = {
		.interface = "net_null0", .rx_lcores = 3, .writer_lcores = 1,
		.cpus = cpus, .ncpus = 2, .mem_bytes = 1 << 20, .pid = 1,
	};
	struct lc_eal_args a;
	char err[256];

	CHECK(lc_eal_args_build(&p, &a, err, sizeof(err)) == 0);
	CHECK(find_arg(&a, "--lcores=0@0,1@1,2@0,3@1,4@0") != NULL);
}

static void
test_passthrough_wins(void)
{
	static const int cpus[] = { 0, 1 };
	struct lc_eal_plan p = {
		.interface = "net_null0", .rx_lcores = 1, .writer_lcores = 1,
		.cpus = cpus, .ncpus = 2, .mem_bytes = 1 << 20, .pid = 1,
		.extra = "-l 0-2 --in-memory --no-huge -m 64 --log-level=lib.eal:debug",
	};
	struct lc_eal_args a;
	char err[256];

	CHECK(lc_eal_args_build(&p, &a, err, sizeof(err)) == 0);
	CHECK(find_arg(&a, "--lcores") == NULL);
	CHECK(find_arg(&a, "--file-prefix") == NULL);
	CHECK_EQ_U64(count_arg(&a, "--no-huge"), 1);
	CHECK(a.no_huge);
	CHECK(find_arg(&a, "--log-level=*") == NULL);
	CHECK(find_arg(&a, "--in-memory") != NULL);
}

static void
test_pci_detection(void)
{
	CHECK(lc_eal_is_pci_addr("0000:3b:00.0"));
	CHECK(lc_eal_is_pci_addr("3b:00.1"));
	CHECK(lc_eal_is_pci_addr("0000:af:00.0,rxq_cqe_comp_en=1"));
	CHECK(!lc_eal_is_pci_addr("net_pcap0,rx_pcap=a.pcap"));
	CHECK(!lc_eal_is_pci_addr("net_ring0"));
	CHECK(!lc_eal_is_pci_addr("eth0"));
}

/* A fake two-socket machine: CPUs 0-3 on node 0, 4-7 on node 1, NIC on node 1. */
static void
test_numa_order(void)
{
	int cpus[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	static const int node_of[] = { 0, 0, 0, 0, 1, 1, 1, 1 };
	static const int want[] = { 4, 5, 6, 7, 0, 1, 2, 3 };
	struct lc_eal_plan p = {
		.interface = "0000:af:00.0", .rx_lcores = 2, .writer_lcores = 1,
		.cpus = cpus, .ncpus = 8, .mem_bytes = 1 << 20, .huge_free_bytes = 1 << 30,
		.pid = 7,
	};
	struct lc_eal_args a;
	char err[256];

	lc_eal_order_cpus(cpus, 8, node_of, 1);
	CHECK(memcmp(cpus, want, sizeof(want)) == 0);
	/* main, both RX and the writer land on node 1's CPUs */
	CHECK(lc_eal_args_build(&p, &a, err, sizeof(err)) == 0);
	CHECK(find_arg(&a, "--lcores=0@4,1@5,2@6,3@7") != NULL);

	/* Unknown node (a virtual device): the order stays. */
	int same[] = { 0, 1, 2, 3 };
	static const int nodes[] = { 0, 1, 0, 1 };
	lc_eal_order_cpus(same, 4, nodes, -1);
	CHECK(same[0] == 0 && same[1] == 1 && same[2] == 2 && same[3] == 3);
	/* Interleaved nodes: node 1 first, ascending within each group. */
	lc_eal_order_cpus(same, 4, nodes, 1);
	CHECK(same[0] == 1 && same[1] == 3 && same[2] == 0 && same[3] == 2);
	/* Too few CPUs on the node: the rest follow, so lcores spill to the other socket
	 * (and linecap warns at start). */
	int few[] = { 0, 1, 2 };
	static const int fnodes[] = { 0, 0, 1 };
	lc_eal_order_cpus(few, 3, fnodes, 1);
	CHECK(few[0] == 2 && few[1] == 0 && few[2] == 1);

	/* Devices: a vdev has no node; this machine's CPU 0 has one or none (-1). */
	CHECK(lc_eal_device_node("net_pcap0,rx_pcap=x") == -1);
	CHECK(lc_eal_device_node("0000:ff:1f.7") == -1);	/* no such device here */
	CHECK(lc_eal_cpu_node(0) >= -1);
	CHECK(lc_eal_cpu_node(100000) == -1);
}

/* -Z: no multi-process files, unless the user's --eal says otherwise. */
static void
test_no_shconf(void)
{
	static const int cpus[] = { 0, 1 };
	struct lc_eal_plan p = {
		.interface = "net_null0", .rx_lcores = 1, .writer_lcores = 1,
		.cpus = cpus, .ncpus = 2, .mem_bytes = 1 << 20, .pid = 9, .no_shconf = 1,
	};
	struct lc_eal_args a;
	char err[256];

	CHECK(lc_eal_args_build(&p, &a, err, sizeof(err)) == 0);
	CHECK_EQ_U64(count_arg(&a, "--no-shconf"), 1);
	p.extra = "--in-memory";
	CHECK(lc_eal_args_build(&p, &a, err, sizeof(err)) == 0);
	CHECK_EQ_U64(count_arg(&a, "--no-shconf"), 0);
	p.extra = NULL;
	p.no_shconf = 0;
	CHECK(lc_eal_args_build(&p, &a, err, sizeof(err)) == 0);
	CHECK_EQ_U64(count_arg(&a, "--no-shconf"), 0);
}

int
main(void)
{
	test_numa_order();
	test_no_shconf();
	test_two_cpus();
	test_many_cpus_and_hugepages();
	test_oversubscribed();
	test_passthrough_wins();
	test_pci_detection();
	return lc_test_done("test_eal_args");
}
