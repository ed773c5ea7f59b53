/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * -D's list (lib/core/iflist.c) from a fake sysfs tree built as the kernel lays it out: a NIC
 * bound to vfio-pci, a GPU on vfio-pci (not a network device: not listed), an unbound NIC, a
 * NIC under ixgbe with its interface eth1, a veth, the loopback; sysfs alone (no ethtool),
 * then with an ethtool that answers for some interfaces.
 */
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lc_test.h"
#include "linecap/config.h"
#include "linecap/iflist.h"

static char root[256];

#define CHECK_STR_EQ(s, want) do { \
	lc_test_checks++; \
	if (strcmp((s), (want)) != 0) { \
		lc_test_failures++; \
		fprintf(stderr, "%s:%d: '%s' is not '%s'\n", __FILE__, __LINE__, (s), (want)); \
	} \
} while (0)

/* root/rel, its parent directories made. */
static const char *
at(const char *rel, char *buf, size_t len)
{
	char *p;

	snprintf(buf, len, "%s/%s", root, rel);
	for (p = buf + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
	return buf;
}

static void
put(const char *rel, const char *fmt, ...)
{
	char path[512];
	va_list ap;
	FILE *f = fopen(at(rel, path, sizeof(path)), "w");

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void
dir(const char *rel)
{
	char path[512];

	mkdir(at(rel, path, sizeof(path)), 0755);
}

static void
link_to(const char *rel, const char *target)
{
	char path[512];

	if (symlink(target, at(rel, path, sizeof(path))) != 0) {
		perror(path);
		exit(1);
	}
}

/* A PCI device under pci0000:3a, in bus/pci/devices, bound to driver (NULL: none). */
static void
pci_device(const char *addr, const char *vendor, const char *device, const char *cls,
	   const char *numa, const char *driver)
{
	char rel[256], target[256];

	snprintf(rel, sizeof(rel), "devices/pci0000:3a/%s/vendor", addr);
	put(rel, "%s\n", vendor);
	snprintf(rel, sizeof(rel), "devices/pci0000:3a/%s/device", addr);
	put(rel, "%s\n", device);
	snprintf(rel, sizeof(rel), "devices/pci0000:3a/%s/class", addr);
	put(rel, "%s\n", cls);
	snprintf(rel, sizeof(rel), "devices/pci0000:3a/%s/numa_node", addr);
	put(rel, "%s\n", numa);
	if (driver != NULL) {
		snprintf(rel, sizeof(rel), "bus/pci/drivers/%s", driver);
		dir(rel);
		snprintf(rel, sizeof(rel), "devices/pci0000:3a/%s/driver", addr);
		snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
		link_to(rel, target);
	}
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s", addr);
	snprintf(target, sizeof(target), "../../../devices/pci0000:3a/%s", addr);
	link_to(rel, target);
}

/* A kernel interface at devices/PARENT/net/NAME with its class/net link and queues. */
static void
netdev(const char *parent, const char *name, const char *type, const char *flags,
       const char *oper, const char *speed, unsigned int rxq, unsigned int txq)
{
	char base[256], rel[384], target[384];

	snprintf(base, sizeof(base), "devices/%s/net/%s", parent, name);
	snprintf(rel, sizeof(rel), "%s/type", base);
	put(rel, "%s\n", type);
	snprintf(rel, sizeof(rel), "%s/flags", base);
	put(rel, "%s\n", flags);
	snprintf(rel, sizeof(rel), "%s/operstate", base);
	put(rel, "%s\n", oper);
	snprintf(rel, sizeof(rel), "%s/speed", base);
	put(rel, "%s\n", speed);
	snprintf(rel, sizeof(rel), "%s/uevent", base);
	put(rel, "INTERFACE=%s\nIFINDEX=7\n", name);
	for (unsigned int i = 0; i < rxq; i++) {
		snprintf(rel, sizeof(rel), "%s/queues/rx-%u", base, i);
		dir(rel);
	}
	for (unsigned int i = 0; i < txq; i++) {
		snprintf(rel, sizeof(rel), "%s/queues/tx-%u", base, i);
		dir(rel);
	}
	snprintf(rel, sizeof(rel), "class/net/%s", name);
	snprintf(target, sizeof(target), "../../%s", base);
	link_to(rel, target);
}

static void
build_tree(void)
{
	snprintf(root, sizeof(root), "/tmp/lc_iflist_XXXXXX");
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	pci_device("0000:3b:00.0", "0x8086", "0x1572", "0x020000", "1", "vfio-pci");
	pci_device("0000:5e:00.0", "0x10de", "0x2335", "0x030200", "1", "vfio-pci");	/* GPU */
	pci_device("0000:3c:00.0", "0x8086", "0x10fb", "0x020000", "-1", NULL);
	pci_device("0000:3b:00.1", "0x8086", "0x10fb", "0x020000", "0", "ixgbe");
	pci_device("0000:00:1f.0", "0x8086", "0xa1c1", "0x060100", "0", "lpc_ich");
	netdev("pci0000:3a/0000:3b:00.1", "eth1", "1", "0x1003", "up", "10000", 8, 8);
	link_to("devices/pci0000:3a/0000:3b:00.1/net/eth1/device", "../../../0000:3b:00.1");
	netdev("virtual", "lcD0", "1", "0x1003", "up", "10000", 1, 1);
	netdev("virtual", "lo", "772", "0x9", "unknown", "", 1, 1);
	netdev("virtual", "br0", "1", "0x1002", "down", "", 1, 1);
	dir("devices/virtual/net/br0/bridge");
	put("pci.ids", "# comment\n0001  Other\n\t1572  Not this one\n"
	    "8086  Intel Corporation\n\t10fb  82599ES 10-Gigabit SFI/SFP+ Network Connection\n"
	    "\t\t8086 0003  Subsystem, not a device\n"
	    "\t1572  Ethernet Controller X710 for 10GbE SFP+\n"
	    "8087  Intel Corporation\n\t1573  Not this one either\n");
}

/* What the listing printed, as one string (free it). */
static char *
listing(const struct lc_iflist_env *env, int *lines)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*lines = lc_iflist_print(f, env);
	fclose(f);
	return buf;
}

/* The line of out that starts with "N.name [" (any N), or "" (a static copy). */
static const char *
line_of(const char *out, const char *name)
{
	static char line[1024];
	char key[128];
	const char *p = out;

	snprintf(key, sizeof(key), ".%s [", name);
	line[0] = '\0';
	while (p != NULL && *p) {
		const char *nl = strchr(p, '\n');
		const char *dot = p + strspn(p, "0123456789");
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (dot > p && strncmp(dot, key, strlen(key)) == 0) {
			snprintf(line, sizeof(line), "%.*s", (int)n, p);
			break;
		}
		p = nl ? nl + 1 : NULL;
	}
	return line;
}

/* The ethtool of a machine where the NIC and the veth answer, and nothing else does. */
static int
fake_ethtool(const char *ifname, struct lc_iflist_ethtool *info, void *arg)
{
	int *calls = arg;

	(*calls)++;
	memset(info, 0, sizeof(*info));
	if (strcmp(ifname, "eth1") == 0) {
		snprintf(info->driver, sizeof(info->driver), "ixgbe");
		info->channels = true;
		info->combined = 6;
		return 0;
	}
	if (strcmp(ifname, "lcD0") == 0) {
		snprintf(info->driver, sizeof(info->driver), "veth");
		info->channels = true;
		info->rx = 1;
		info->tx = 1;
		return 0;
	}
	return -EOPNOTSUPP;
}

static void
test_sysfs_only(void)
{
	struct lc_iflist_env env = { .sysfs = root, .kernel = "6.1.0-18-amd64" };
	char ids[512];
	int n;
	char *out;

	env.pci_ids = at("pci.ids", ids, sizeof(ids));
	out = listing(&env, &n);
	/* 2 PCI (vfio NIC, unbound NIC), 4 interfaces, 7 examples */
	CHECK_EQ_U64(n, 2 + 4 + 7);
	CHECK_STR_HAS(out, "1.0000:3b:00.0 [DPDK port: vfio-pci, 8086:1572 (Intel Corporation "
		      "Ethernet Controller X710 for 10GbE SFP+), NUMA node 1, link: unknown until "
		      "captured; -i 0000:3b:00.0]\n");
	CHECK_STR_HAS(out, "2.0000:3c:00.0 [PCI, no driver, 8086:10fb (Intel Corporation 82599ES "
		      "10-Gigabit SFI/SFP+ Network Connection), no NUMA node; to capture: "
		      "dpdk-devbind.py -b vfio-pci 0000:3c:00.0, then -i 0000:3c:00.0]\n");
	CHECK(strstr(out, "0000:5e:00.0") == NULL);	/* a GPU on vfio-pci is no capture source */
	CHECK(strstr(out, "0000:00:1f.0") == NULL);
	CHECK(strstr(out, "0000:3b:00.1 [") == NULL);	/* the kernel's: as eth1 */
	/* Interfaces by name, the loopback last; the queues from sysfs without ethtool. */
	CHECK_STR_HAS(out, "3.br0 [bridge, down, link down, queues: rx 1 tx 1, no addresses (a "
		      "capture port): -i br0 captures through AF_XDP copy mode (no zero-copy known "
		      "for bridge), received frames only, which the kernel no longer sees while "
		      "linecap runs (af_packet:br0: both directions, the kernel keeps them)]\n");
	CHECK_STR_HAS(out, "4.eth1 [ixgbe, PCI 0000:3b:00.1, NUMA node 0, up, link up 10000 Mb/s, "
		      "queues: rx 8 tx 8, no addresses (a capture port): -i eth1 captures through "
		      "AF_XDP zero-copy possible (ixgbe), received frames only, which the kernel no "
		      "longer sees while linecap runs (af_packet:eth1: both directions, the kernel "
		      "keeps them); full kernel bypass: dpdk-devbind.py -b vfio-pci 0000:3b:00.1, "
		      "then -i 0000:3b:00.1]\n");
	CHECK_STR_HAS(out, "5.lcD0 [virtual, up, link up 10000 Mb/s, queues: rx 1 tx 1, no "
		      "addresses (a capture port): -i lcD0 captures through AF_XDP copy mode (no "
		      "zero-copy known for virtual), ");
	/* The loopback: AF_PACKET (AF_XDP cannot attach to it), as -i lo does. */
	CHECK_STR_HAS(out, "6.lo [loopback, up, link unknown, queues: rx 1 tx 1, the loopback: "
		      "-i lo captures through AF_PACKET, both directions (AF_XDP cannot attach to "
		      "the loopback)]\n");
	CHECK_STR_HAS(out, "7.net_pcap0,rx_pcap=FILE [virtual: ");
	CHECK_STR_HAS(out, "8.net_pcap0,rx_pcap=FILE,infinite_rx=1 [virtual: ");
	CHECK_STR_HAS(out, ".net_memif0,role=server,socket=PATH [virtual: ");
	CHECK_STR_HAS(out, ".net_ring0 [virtual: ");
	CHECK_STR_HAS(out, "13.net_null0 [virtual: ");
	free(out);

	/* Without pci.ids, the numbers alone; a kernel older than ixgbe's zero-copy: copy. */
	env.pci_ids = NULL;
	env.kernel = "4.19.0-27-amd64";
	out = listing(&env, &n);
	CHECK_STR_HAS(out, "1.0000:3b:00.0 [DPDK port: vfio-pci, 8086:1572, NUMA node 1, ");
	CHECK_STR_HAS(line_of(out, "eth1"), "AF_XDP copy mode (ixgbe has zero-copy from Linux "
		      "4.20; this is 4.19.0-27-amd64)");
	free(out);
}

static void
test_with_ethtool(void)
{
	int calls = 0;
	struct lc_iflist_env env = { .sysfs = root, .kernel = "6.12.0", .ethtool = fake_ethtool,
				     .arg = &calls };
	int n;
	char *out = listing(&env, &n);

	CHECK_EQ_U64(n, 13);
	CHECK_EQ_U64(calls, 4);		/* once per interface */
	CHECK_STR_HAS(line_of(out, "eth1"), "[ixgbe, PCI 0000:3b:00.1, NUMA node 0, up, link up "
		      "10000 Mb/s, channels: combined 6, no addresses (a capture port): -i eth1 "
		      "captures through AF_XDP zero-copy possible (ixgbe), ");
	CHECK_STR_HAS(line_of(out, "lcD0"), "[veth, up, link up 10000 Mb/s, channels: rx 1 tx 1, "
		      "no addresses (a capture port): -i lcD0 captures through AF_XDP copy mode (no "
		      "zero-copy known for veth), received frames only");
	/* ethtool not answering: sysfs's queues */
	CHECK_STR_HAS(line_of(out, "lo"), "[loopback, up, link unknown, queues: rx 1 tx 1, ");
	free(out);
}

/* The addresses of a machine where eth1 has one and nothing else has any. */
static int
fake_addresses(const char *ifname, char *buf, size_t len, void *arg)
{
	(void)arg;
	buf[0] = '\0';
	if (strcmp(ifname, "eth1") != 0)
		return 0;
	snprintf(buf, len, "10.0.0.5/24");
	return 1;
}

/*
 * Interfaces that carry this host's traffic (an address, a default route, a port of a
 * bridge) are captured through AF_PACKET, and -D says so and offers no vfio-pci line for
 * them: the same rule kif.c follows for -i.
 */
static void
test_host_traffic(void)
{
	struct lc_iflist_env env = { .sysfs = root, .kernel = "6.1.0", .addresses = fake_addresses };
	struct lc_iflist_host h;
	char procfs[512], path[512], why[512], name[64];
	int n, lines;
	char *out;

	/* eth1: the default route (IPv4); lo: IPv6's unreachable default (reject), not one */
	put("proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask"
	    "\t\tMTU\tWindow\tIRTT\n"
	    "eth1\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
	    "eth1\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");
	put("proc/net/ipv6_route", "00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff "
	    "00000001 00000000 00200200       lo\n");
	env.procfs = at("proc", procfs, sizeof(procfs));
	link_to("devices/virtual/net/lcD0/master", "../br0");

	lc_iflist_host_of(&env, "eth1", &h);
	CHECK(!h.loopback && h.naddrs == 1 && h.default_route && h.upper[0] == '\0');
	CHECK_STR_EQ(h.addrs, "10.0.0.5/24");
	CHECK(lc_iflist_prefers_af_packet(&h, why, sizeof(why)) == 1);
	CHECK_STR_EQ(why, "this host's address (10.0.0.5/24) and a default route");
	lc_iflist_host_of(&env, "lcD0", &h);
	CHECK(h.naddrs == 0 && !h.default_route);
	CHECK_STR_EQ(h.upper, "br0");
	CHECK(lc_iflist_prefers_af_packet(&h, why, sizeof(why)) == 1);
	CHECK_STR_EQ(why, "the traffic of br0 (a port of it)");
	lc_iflist_host_of(&env, "br0", &h);	/* no address, no route, no master: a capture port */
	CHECK(lc_iflist_prefers_af_packet(&h, why, sizeof(why)) == 0);
	CHECK_STR_EQ(why, "");
	lc_iflist_host_of(&env, "lo", &h);
	CHECK(h.loopback && !h.default_route);
	CHECK(lc_iflist_prefers_af_packet(&h, why, sizeof(why)) == 1);
	CHECK_STR_HAS(why, "the loopback");
	/* all three, two addresses */
	memset(&h, 0, sizeof(h));
	h.naddrs = 2;
	snprintf(h.addrs, sizeof(h.addrs), "10.0.0.5/24, 2001:db8::5/64");
	h.default_route = true;
	snprintf(h.upper, sizeof(h.upper), "bond0");
	CHECK(lc_iflist_prefers_af_packet(&h, why, sizeof(why)) == 1);
	CHECK_STR_EQ(why, "this host's addresses (10.0.0.5/24, 2001:db8::5/64), a default route "
		     "and the traffic of bond0 (a port of it)");

	out = listing(&env, &n);
	CHECK_STR_HAS(line_of(out, "eth1"), ", queues: rx 8 tx 8, this host's address "
		      "(10.0.0.5/24) and a default route: -i eth1 captures through AF_PACKET, both "
		      "directions, the host keeps its traffic; af_xdp:eth1 would take its received "
		      "frames from the kernel (AF_XDP zero-copy possible (ixgbe)); no kernel bypass "
		      "offered: binding 0000:3b:00.1 to vfio-pci takes it from the host]");
	CHECK(strstr(line_of(out, "eth1"), "dpdk-devbind") == NULL);
	CHECK_STR_HAS(line_of(out, "lcD0"), ", the traffic of br0 (a port of it): -i lcD0 captures "
		      "through AF_PACKET, both directions");
	CHECK_STR_HAS(line_of(out, "br0"), "no addresses (a capture port): -i br0 captures through "
		      "AF_XDP");
	CHECK_STR_HAS(line_of(out, "lo"), "the loopback: -i lo captures through AF_PACKET");
	free(out);

	/* -i N: the source on line N */
	CHECK(lc_iflist_nth(&env, 1, name, sizeof(name), &lines) == LC_IFLIST_DPDK_PORT);
	CHECK_STR_EQ(name, "0000:3b:00.0");
	CHECK(lc_iflist_nth(&env, 2, name, sizeof(name), &lines) == LC_IFLIST_PCI_UNBOUND);
	CHECK_STR_EQ(name, "0000:3c:00.0");
	CHECK(lc_iflist_nth(&env, 4, name, sizeof(name), &lines) == LC_IFLIST_KERNEL);
	CHECK_STR_EQ(name, "eth1");
	CHECK(lc_iflist_nth(&env, 6, name, sizeof(name), &lines) == LC_IFLIST_KERNEL);
	CHECK_STR_EQ(name, "lo");
	CHECK(lc_iflist_nth(&env, 13, name, sizeof(name), &lines) == LC_IFLIST_EXAMPLE);
	CHECK_STR_EQ(name, "net_null0");
	CHECK(lc_iflist_nth(&env, 14, name, sizeof(name), &lines) == -ENOENT);
	CHECK_EQ_U64(lines, 13);
	CHECK(lc_iflist_nth(&env, 0, name, sizeof(name), &lines) == -ENOENT);
	CHECK_STR_EQ(name, "");

	unlink(at("devices/virtual/net/lcD0/master", path, sizeof(path)));
}

static void
test_mlx5_and_missing_tree(void)
{
	struct lc_iflist_env env = { .sysfs = root, .kernel = "6.1.0" };
	char path[512];
	int n;
	char *out;

	/* A ConnectX under mlx5_core: DPDK's mlx5 driver takes it as it is. */
	unlink(at("devices/pci0000:3a/0000:3b:00.1/driver", path, sizeof(path)));
	link_to("devices/pci0000:3a/0000:3b:00.1/driver", "../../../bus/pci/drivers/mlx5_core");
	out = listing(&env, &n);
	CHECK_STR_HAS(line_of(out, "eth1"), "[mlx5_core, PCI 0000:3b:00.1, NUMA node 0, ");
	CHECK_STR_HAS(line_of(out, "eth1"), "AF_XDP zero-copy possible (mlx5_core), received "
		      "frames only");
	CHECK_STR_HAS(line_of(out, "eth1"), "; kernel bypass without unbinding: -i 0000:3b:00.1 "
		      "(DPDK's mlx5 driver shares the port with the kernel)]");
	free(out);

	/* No sysfs at all (a bare container): the examples alone, still a list. */
	env.sysfs = "/nonexistent/sys";
	out = listing(&env, &n);
	CHECK_EQ_U64(n, 7);
	CHECK(strncmp(out, "1.net_pcap0,rx_pcap=FILE [virtual: ", 35) == 0);
	free(out);
}

static void
test_real_ioctl(void)
{
	struct lc_iflist_ethtool info;

	/* No such interface: an error, nothing made up. */
	CHECK(lc_iflist_ethtool_ioctl("lcD_none0", &info, NULL) == -ENODEV);
	CHECK(lc_iflist_ethtool_ioctl("a_name_far_too_long_for_ifnamsiz", &info, NULL) ==
	      -ENODEV);
	/* getifaddrs: no such interface, no addresses */
	char buf[64];

	CHECK(lc_iflist_addresses("lcD_none0", buf, sizeof(buf), NULL) == 0);
	CHECK_STR_EQ(buf, "");
}

/* -D and --list-interfaces parse alone (no -i, no -w), and --help names them. */
static void
test_option(void)
{
	static const char *const spellings[][3] = {
		{ "linecap", "-D", NULL }, { "linecap", "--list-interfaces", NULL },
	};
	struct lc_config cfg;
	char err[LC_ERRLEN];

	for (size_t i = 0; i < 2; i++) {
		char *argv[3] = { (char *)spellings[i][0], (char *)spellings[i][1], NULL };

		CHECK(lc_config_parse(&cfg, 2, argv, err, sizeof(err)) == 0);
		CHECK(cfg.list_interfaces);
		lc_config_release(&cfg);
	}
	CHECK_STR_HAS(lc_config_usage(), "  -D, --list-interfaces\n");
}

int
main(void)
{
	char cmd[300];

	build_tree();
	test_sysfs_only();
	test_with_ethtool();
	test_host_traffic();
	test_mlx5_and_missing_tree();
	test_real_ioctl();
	test_option();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", root);
	return lc_test_done("iflist");
}
