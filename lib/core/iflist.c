/* SPDX-License-Identifier: BSD-3-Clause */
/* -D: the capture sources of this machine, read from sysfs (linecap/iflist.h). */
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "linecap/iflist.h"

#define ARPHRD_LOOPBACK_TYPE 772	/* /sys/class/net/IF/type of a loopback */
#define PCI_CLASS_NETWORK 0x02u		/* class code's top byte: network controller */

/* Kernel drivers DPDK drives a PCI device through: one bound to them is a DPDK port. */
static const char *const dpdk_drivers[] = { "vfio-pci", "uio_pci_generic", "igb_uio" };

/*
 * Drivers with AF_XDP zero-copy in mainline Linux, and the release that brought it. Any
 * other driver, as far as linecap knows, gives AF_XDP in copy mode only (the packet is
 * copied once into the socket's memory: slower, still no loss of the kernel's own path).
 */
static const struct {
	const char *driver;
	unsigned int major, minor;
} zero_copy[] = {
	{ "i40e", 4, 20 },
	{ "ixgbe", 4, 20 },
	{ "mlx5_core", 5, 3 },
	{ "ice", 5, 5 },
	{ "stmmaceth", 5, 13 },
	{ "igc", 5, 14 },
	{ "igb", 6, 14 },
};

/* DPDK's virtual devices, as examples of -i. */
static const struct {
	const char *spec;
	const char *what;
} vdevs[] = {
	{ "net_pcap0,rx_pcap=FILE", "replays a pcap file once at full speed, then the capture "
	  "stops" },
	{ "net_pcap0,rx_pcap=FILE,infinite_rx=1", "replays the file in a loop until stopped: "
	  "load tests" },
	{ "net_memif0,role=server,socket=PATH", "shared memory with another DPDK or VPP "
	  "process (linecap-gen -i net_memif0,role=client,socket=PATH)" },
	{ "net_af_xdp0,iface=IF", "a kernel interface through AF_XDP, spelled out" },
	{ "net_af_packet0,iface=IF", "a kernel interface through AF_PACKET, spelled out" },
	{ "net_ring0", "an in-memory ring: tests" },
	{ "net_null0", "endless empty frames: benchmarks of linecap itself" },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The first line of a (sysfs) file, without its newline. 0, or -errno. */
static int
read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int rc = 0;

	buf[0] = '\0';
	if (f == NULL)
		return -errno;
	if (fgets(buf, (int)len, f) == NULL)
		rc = ferror(f) ? -EIO : -ENODATA;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return rc;
}

/* The last component of what the symbolic link path points to ("vfio-pci" of a driver
 * link). 0, or -errno with buf "". */
static int
link_base(const char *path, char *buf, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *slash;

	buf[0] = '\0';
	if (n < 0)
		return -errno;
	target[n] = '\0';
	slash = strrchr(target, '/');
	snprintf(buf, len, "%s", slash ? slash + 1 : target);
	return 0;
}

/* "0000:3b:00.0": domain, bus, device, function. */
static bool
is_pci_addr(const char *s)
{
	static const char shape[] = "hhhh:hh:hh.h";

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'h' ? !strchr("0123456789abcdefABCDEF", s[i]) || s[i] == '\0' :
		    s[i] != shape[i])
			return false;
	return true;
}

static int
not_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static void
free_names(struct dirent **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* How many entries of dir start with prefix ("rx-" under queues/). */
static unsigned int
count_prefixed(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned int n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* Vendor and device name from pci.ids ("Intel Corporation Ethernet Controller X710 for
 * 10GbE SFP+"), or "" when the file or the entry is not there. */
static void
pci_name(const char *ids, const char *vendor, const char *device, char *buf, size_t len)
{
	char line[512], vname[256] = "";
	FILE *f;

	buf[0] = '\0';
	if (ids == NULL || (f = fopen(ids, "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (vname[0] == '\0') {
			if (strncasecmp(line, vendor, 4) == 0 && line[4] == ' ')
				snprintf(vname, sizeof(vname), "%s", line + 4 + strspn(line + 4, " "));
			continue;
		}
		if (line[0] != '\t')
			break;		/* the next vendor: the device is not listed */
		if (line[1] != '\t' && strncasecmp(line + 1, device, 4) == 0 && line[5] == ' ') {
			snprintf(buf, len, "%s %s", vname, line + 5 + strspn(line + 5, " "));
			break;
		}
	}
	if (buf[0] == '\0' && vname[0] != '\0')
		snprintf(buf, len, "%s", vname);
	fclose(f);
}

/* Is the running kernel (release "6.1.0-18-amd64") at least major.minor? */
static bool
kernel_at_least(const char *release, unsigned int major, unsigned int minor)
{
	unsigned int ma = 0, mi = 0;

	if (sscanf(release, "%u.%u", &ma, &mi) < 1)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

/* The NUMA node of PCI device addr, as words. */
static void
numa_words(const char *sysfs, const char *addr, char *buf, size_t len)
{
	char path[PATH_MAX], val[32];

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/numa_node", sysfs, addr);
	if (read_line(path, val, sizeof(val)) < 0 || val[0] == '-' || val[0] == '\0')
		snprintf(buf, len, "no NUMA node");
	else
		snprintf(buf, len, "NUMA node %s", val);
}

/* One PCI device's line, if it is a network device that DPDK drives or could drive. */
static int
print_pci_device(FILE *f, const struct lc_iflist_env *env, const char *addr, int n)
{
	char path[PATH_MAX], cls[32], drv[64], vendor[16] = "", device[16] = "", name[400];
	char numa[32];
	bool dpdk = false;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/class", env->sysfs, addr);
	if (read_line(path, cls, sizeof(cls)) < 0 ||
	    (strtoul(cls, NULL, 16) >> 16) != PCI_CLASS_NETWORK)
		return 0;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", env->sysfs, addr);
	link_base(path, drv, sizeof(drv));
	for (size_t i = 0; i < NELEM(dpdk_drivers); i++)
		dpdk = dpdk || strcmp(drv, dpdk_drivers[i]) == 0;
	if (!dpdk && drv[0] != '\0')
		return 0;	/* the kernel's: listed with the interfaces */
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/vendor", env->sysfs, addr);
	read_line(path, vendor, sizeof(vendor));
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/device", env->sysfs, addr);
	read_line(path, device, sizeof(device));
	if (strncmp(vendor, "0x", 2) == 0 && strncmp(device, "0x", 2) == 0)
		pci_name(env->pci_ids, vendor + 2, device + 2, name, sizeof(name));
	else
		name[0] = '\0';
	numa_words(env->sysfs, addr, numa, sizeof(numa));
	fprintf(f, "%d.%s [", n, addr);
	if (dpdk)
		fprintf(f, "DPDK port: %s", drv);
	else
		fprintf(f, "PCI, no driver");
	fprintf(f, ", %s:%s%s%s%s, %s", strncmp(vendor, "0x", 2) == 0 ? vendor + 2 : vendor,
		strncmp(device, "0x", 2) == 0 ? device + 2 : device, name[0] ? " (" : "", name,
		name[0] ? ")" : "", numa);
	if (dpdk)
		fprintf(f, ", link: unknown until captured; -i %s]\n", addr);
	else
		fprintf(f, "; to capture: dpdk-devbind.py -b vfio-pci %s, then -i %s]\n", addr,
			addr);
	return 1;
}

static int
print_pci(FILE *f, const struct lc_iflist_env *env, int n)
{
	char dir[PATH_MAX];
	struct dirent **names;
	int k, printed = 0;

	snprintf(dir, sizeof(dir), "%s/bus/pci/devices", env->sysfs);
	k = scandir(dir, &names, not_dot, alphasort);
	if (k < 0)
		return 0;
	for (int i = 0; i < k; i++)
		if (is_pci_addr(names[i]->d_name))
			printed += print_pci_device(f, env, names[i]->d_name, n + printed);
	free_names(names, k);
	return printed;
}

/* What sysfs tells of a kernel interface with no device (no driver link): its kind. */
static void
virtual_kind(const char *ifdir, char *buf, size_t len)
{
	static const struct { const char *entry, *kind; } marks[] = {
		{ "bridge", "bridge" }, { "bonding", "bond" }, { "tun_flags", "tun" },
	};
	char path[PATH_MAX], line[128];
	FILE *f;

	for (size_t i = 0; i < NELEM(marks); i++) {
		snprintf(path, sizeof(path), "%s/%s", ifdir, marks[i].entry);
		if (access(path, F_OK) == 0) {
			snprintf(buf, len, "%s", marks[i].kind);
			return;
		}
	}
	snprintf(buf, len, "virtual");
	snprintf(path, sizeof(path), "%s/uevent", ifdir);
	f = fopen(path, "re");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "DEVTYPE=", 8) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, len, "%s", line + 8);
		}
	fclose(f);
}

/* The PCI address of the device under a kernel interface (its device link, or the device's
 * parent: virtio_net's is virtioN on a PCI device), or "". */
static void
interface_pci(const char *ifdir, char *buf, size_t len)
{
	char path[PATH_MAX], real[PATH_MAX], *slash;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/device", ifdir);
	if (realpath(path, real) == NULL)
		return;
	for (int up = 0; up < 2; up++) {
		slash = strrchr(real, '/');
		if (slash == NULL)
			return;
		if (is_pci_addr(slash + 1)) {
			snprintf(buf, len, "%s", slash + 1);
			return;
		}
		*slash = '\0';
	}
}

static bool
zero_copy_driver(const char *driver, unsigned int *major, unsigned int *minor)
{
	for (size_t i = 0; i < NELEM(zero_copy); i++)
		if (strcmp(driver, zero_copy[i].driver) == 0) {
			*major = zero_copy[i].major;
			*minor = zero_copy[i].minor;
			return true;
		}
	return false;
}

/* Append ", item" (item alone first) to buf of len, *used bytes in it so far; once the next
 * no longer fits, ", ..." and nothing after. */
static void
append_item(char *buf, size_t len, size_t *used, const char *item)
{
	size_t need = strlen(item) + (*used ? 2 : 0);

	if (*used >= 3 && strcmp(buf + *used - 3, "...") == 0)
		return;
	if (*used + need + 5 < len)	/* room left for ", ..." */
		*used += (size_t)snprintf(buf + *used, len - *used, "%s%s", *used ? ", " : "",
					  item);
	else if (*used + 5 < len)
		*used += (size_t)snprintf(buf + *used, len - *used, "%s...", *used ? ", " : "");
}

/* The prefix length of a netmask of n bytes. */
static int
prefix_len(const unsigned char *mask, size_t n)
{
	int bits = 0;

	for (size_t i = 0; i < n; i++)
		bits += __builtin_popcount(mask[i]);
	return bits;
}

int
lc_iflist_addresses(const char *ifname, char *buf, size_t len, void *arg)
{
	struct ifaddrs *all, *a;
	size_t used = 0, nl = strlen(ifname);
	int n = 0;

	(void)arg;
	buf[0] = '\0';
	if (getifaddrs(&all) != 0)
		return -errno;
	for (a = all; a != NULL; a = a->ifa_next) {
		char text[INET6_ADDRSTRLEN], item[INET6_ADDRSTRLEN + 8];
		int plen = -1;

		/* an IPv4 alias is named by its label, "eth0:1" */
		if (a->ifa_addr == NULL || strncmp(a->ifa_name, ifname, nl) != 0 ||
		    (a->ifa_name[nl] != '\0' && a->ifa_name[nl] != ':'))
			continue;
		if (a->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *in = (const void *)a->ifa_addr;

			inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
			if (a->ifa_netmask != NULL)
				plen = prefix_len((const void *)&((const struct sockaddr_in *)
						  (const void *)a->ifa_netmask)->sin_addr, 4);
		} else if (a->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *in6 = (const void *)a->ifa_addr;

			if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr))
				continue;	/* every IPv6 interface has one: no host's traffic */
			inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
			if (a->ifa_netmask != NULL)
				plen = prefix_len((const void *)&((const struct sockaddr_in6 *)
						  (const void *)a->ifa_netmask)->sin6_addr, 16);
		} else {
			continue;
		}
		if (plen >= 0)
			snprintf(item, sizeof(item), "%s/%d", text, plen);
		else
			snprintf(item, sizeof(item), "%s", text);
		append_item(buf, len, &used, item);
		n++;
	}
	freeifaddrs(all);
	return n;
}

/* Does an IPv4 or IPv6 default route go out through ifname (procfs's net/route and
 * net/ipv6_route of this network namespace)? */
static bool
default_route_of(const char *procfs, const char *ifname)
{
	char path[PATH_MAX], line[512], dev[64], dst6[40];
	unsigned long dst, gw, mask;
	unsigned int flags, plen;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/net/route", procfs);
	if ((f = fopen(path, "re")) != NULL) {
		/* Iface Destination Gateway Flags RefCnt Use Metric Mask ... (hex) */
		while (!found && fgets(line, sizeof(line), f) != NULL)
			found = sscanf(line, "%63s %lx %lx %x %*d %*d %*d %lx", dev, &dst, &gw,
				       &flags, &mask) == 5 && strcmp(dev, ifname) == 0 &&
				dst == 0 && mask == 0 && (flags & 0x1u);	/* RTF_UP */
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/net/ipv6_route", procfs);
	if (!found && (f = fopen(path, "re")) != NULL) {
		/* dst plen src plen next-hop metric refcnt use flags dev (hex) */
		while (!found && fgets(line, sizeof(line), f) != NULL)
			found = sscanf(line, "%39s %x %*s %*x %*s %*x %*x %*x %x %63s", dst6, &plen,
				       &flags, dev) == 4 && strcmp(dev, ifname) == 0 &&
				plen == 0 && strspn(dst6, "0") == 32 &&
				(flags & 0x1u) && !(flags & 0x200u);	/* up, not reject */
		fclose(f);
	}
	return found;
}

/* The device ifname is a port of: its sysfs master link, else its first upper_ entry. */
static void
upper_of(const char *sysfs, const char *ifname, char *buf, size_t len)
{
	char path[PATH_MAX];
	struct dirent **names;
	int k;

	snprintf(path, sizeof(path), "%s/class/net/%s/master", sysfs, ifname);
	if (link_base(path, buf, len) == 0)
		return;
	snprintf(path, sizeof(path), "%s/class/net/%s", sysfs, ifname);
	k = scandir(path, &names, not_dot, alphasort);
	for (int i = 0; i < k && buf[0] == '\0'; i++)
		if (strncmp(names[i]->d_name, "upper_", 6) == 0)
			snprintf(buf, len, "%s", names[i]->d_name + 6);
	if (k >= 0)
		free_names(names, k);
}

void
lc_iflist_host_of(const struct lc_iflist_env *env, const char *ifname, struct lc_iflist_host *h)
{
	char path[PATH_MAX], val[32];

	memset(h, 0, sizeof(*h));
	snprintf(path, sizeof(path), "%s/class/net/%s/type", env->sysfs, ifname);
	h->loopback = read_line(path, val, sizeof(val)) == 0 && atoi(val) == ARPHRD_LOOPBACK_TYPE;
	if (env->addresses != NULL) {
		h->naddrs = env->addresses(ifname, h->addrs, sizeof(h->addrs), env->arg);
		if (h->naddrs < 0) {
			h->naddrs = 0;
			h->addrs[0] = '\0';
		}
	}
	if (env->procfs != NULL)
		h->default_route = default_route_of(env->procfs, ifname);
	upper_of(env->sysfs, ifname, h->upper, sizeof(h->upper));
}

int
lc_iflist_prefers_af_packet(const struct lc_iflist_host *h, char *why, size_t len)
{
	char part[3][256];
	int n = 0;

	why[0] = '\0';
	if (h->loopback) {
		snprintf(why, len, "the loopback (AF_XDP cannot attach to it)");
		return 1;
	}
	if (h->naddrs > 0)
		snprintf(part[n++], sizeof(part[0]), "this host's address%s (%s)",
			 h->naddrs == 1 ? "" : "es", h->addrs);
	if (h->default_route)
		snprintf(part[n++], sizeof(part[0]), "a default route");
	if (h->upper[0] != '\0')
		snprintf(part[n++], sizeof(part[0]), "the traffic of %s (a port of it)", h->upper);
	if (n == 0)
		return 0;
	snprintf(why, len, "%s%s%s%s%s", part[0], n == 3 ? ", " : n == 2 ? " and " : "",
		 n > 1 ? part[1] : "", n == 3 ? " and " : "", n == 3 ? part[2] : "");
	return 1;
}

/* AF_XDP's mode for a driver (the sysfs one, or ethtool's), honestly, into buf. */
static void
af_xdp_mode(char *buf, size_t len, const char *kernel, const char *drv, const char *et_drv)
{
	unsigned int major, minor;
	const char *zc = NULL;

	if (zero_copy_driver(drv, &major, &minor))
		zc = drv;
	else if (zero_copy_driver(et_drv, &major, &minor))
		zc = et_drv;
	if (zc != NULL && kernel_at_least(kernel, major, minor))
		snprintf(buf, len, "AF_XDP zero-copy possible (%s)", zc);
	else if (zc != NULL)
		snprintf(buf, len, "AF_XDP copy mode (%s has zero-copy from Linux %u.%u; this is "
			 "%s)", zc, major, minor, kernel);
	else
		snprintf(buf, len, "AF_XDP copy mode (no zero-copy known for %s)",
			 drv[0] ? drv : et_drv[0] ? et_drv : "this driver");
}

/*
 * The path -i name takes (lc_iflist_prefers_af_packet: the same rule as kif.c), and what
 * bypassing the kernel would mean: an interface that carries this host's traffic is not
 * offered to vfio-pci (copied, that line takes the machine off the network).
 */
static void
print_path(FILE *f, const struct lc_iflist_env *env, const char *kernel, const char *name,
	   const char *drv, const char *et_drv, const char *pci)
{
	struct lc_iflist_host h;
	char why[512], mode[160];
	bool mlx5 = strcmp(drv, "mlx5_core") == 0 || strcmp(et_drv, "mlx5_core") == 0;

	lc_iflist_host_of(env, name, &h);
	af_xdp_mode(mode, sizeof(mode), kernel, drv, et_drv);
	if (h.loopback) {
		fprintf(f, ", the loopback: -i %s captures through AF_PACKET, both directions "
			"(AF_XDP cannot attach to the loopback)", name);
		return;
	}
	if (lc_iflist_prefers_af_packet(&h, why, sizeof(why))) {
		fprintf(f, ", %s: -i %s captures through AF_PACKET, both directions, the host "
			"keeps its traffic; af_xdp:%s would take its received frames from the "
			"kernel (%s)", why, name, name, mode);
		if (pci[0] != '\0')
			fprintf(f, "; no kernel bypass offered: binding %s to vfio-pci%s takes it "
				"from the host", pci, mlx5 ? " or capturing it with DPDK's mlx5 "
				"driver" : "");
		return;
	}
	fprintf(f, ", no addresses (a capture port): -i %s captures through %s, received "
		"frames only, which the kernel no longer sees while linecap runs (af_packet:%s: "
		"both directions, the kernel keeps them)", name, mode, name);
	if (pci[0] != '\0' && mlx5)
		fprintf(f, "; kernel bypass without unbinding: -i %s (DPDK's mlx5 driver shares the "
			"port with the kernel)", pci);
	else if (pci[0] != '\0')
		fprintf(f, "; full kernel bypass: dpdk-devbind.py -b vfio-pci %s, then -i %s",
			pci, pci);
}

static void
print_channels(FILE *f, const struct lc_iflist_ethtool *et, bool have_et, const char *ifdir)
{
	char path[PATH_MAX];

	if (have_et && et->channels && (et->combined || et->rx || et->tx)) {
		fprintf(f, ", channels:");
		if (et->combined)
			fprintf(f, " combined %u", et->combined);
		if (et->rx)
			fprintf(f, " rx %u", et->rx);
		if (et->tx)
			fprintf(f, " tx %u", et->tx);
		return;
	}
	snprintf(path, sizeof(path), "%s/queues", ifdir);
	fprintf(f, ", queues: rx %u tx %u", count_prefixed(path, "rx-"),
		count_prefixed(path, "tx-"));
}

static int
print_interface(FILE *f, const struct lc_iflist_env *env, const char *kernel,
		const char *name, int n)
{
	struct lc_iflist_ethtool et;
	char ifdir[PATH_MAX], path[PATH_MAX], drv[64], pci[32] = "", numa[32], val[64];
	bool have_et = false, up, loopback;
	long speed = 0;

	snprintf(ifdir, sizeof(ifdir), "%s/class/net/%s", env->sysfs, name);
	memset(&et, 0, sizeof(et));
	if (env->ethtool != NULL && env->ethtool(name, &et, env->arg) == 0)
		have_et = true;
	et.driver[sizeof(et.driver) - 1] = '\0';
	snprintf(path, sizeof(path), "%s/type", ifdir);
	loopback = read_line(path, val, sizeof(val)) == 0 &&
		   atoi(val) == ARPHRD_LOOPBACK_TYPE;
	snprintf(path, sizeof(path), "%s/device/driver", ifdir);
	if (link_base(path, drv, sizeof(drv)) == 0)
		interface_pci(ifdir, pci, sizeof(pci));
	else if (loopback)
		snprintf(drv, sizeof(drv), "loopback");
	else if (et.driver[0] != '\0')
		snprintf(drv, sizeof(drv), "%s", et.driver);
	else
		virtual_kind(ifdir, drv, sizeof(drv));

	fprintf(f, "%d.%s [%s", n, name, drv);
	if (pci[0] != '\0') {
		numa_words(env->sysfs, pci, numa, sizeof(numa));
		fprintf(f, ", PCI %s, %s", pci, numa);
	}
	snprintf(path, sizeof(path), "%s/flags", ifdir);
	up = read_line(path, val, sizeof(val)) == 0 && (strtoul(val, NULL, 16) & IFF_UP);
	fprintf(f, ", %s", up ? "up" : "down");
	snprintf(path, sizeof(path), "%s/operstate", ifdir);
	if (read_line(path, val, sizeof(val)) < 0 || val[0] == '\0')
		snprintf(val, sizeof(val), "unknown");
	snprintf(path, sizeof(path), "%s/speed", ifdir);
	if (strcmp(val, "up") == 0) {
		char sp[32];

		if (read_line(path, sp, sizeof(sp)) == 0)
			speed = atol(sp);
	}
	fprintf(f, ", link %s", val);
	if (speed > 0)
		fprintf(f, " %ld Mb/s", speed);
	print_channels(f, &et, have_et, ifdir);
	print_path(f, env, kernel, name, drv, et.driver, pci);
	fprintf(f, "]\n");
	return 1;
}

/* The kernel's interfaces, by name, the loopback last (as tcpdump lists them). */
static int
print_interfaces(FILE *f, const struct lc_iflist_env *env, const char *kernel, int n)
{
	char dir[PATH_MAX], path[PATH_MAX], val[32];
	struct dirent **names;
	int k, printed = 0;

	snprintf(dir, sizeof(dir), "%s/class/net", env->sysfs);
	k = scandir(dir, &names, not_dot, alphasort);
	if (k < 0)
		return 0;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < k; i++) {
			bool loopback;

			snprintf(path, sizeof(path), "%s/%s/type", dir, names[i]->d_name);
			loopback = read_line(path, val, sizeof(val)) == 0 &&
				   atoi(val) == ARPHRD_LOOPBACK_TYPE;
			if (loopback == (pass == 1))
				printed += print_interface(f, env, kernel, names[i]->d_name,
							   n + printed);
		}
	free_names(names, k);
	return printed;
}

int
lc_iflist_print(FILE *f, const struct lc_iflist_env *env)
{
	struct utsname u;
	const char *kernel = env->kernel;
	int n = 0;

	if (kernel == NULL)
		kernel = uname(&u) == 0 ? u.release : "";
	n += print_pci(f, env, n + 1);
	n += print_interfaces(f, env, kernel, n + 1);
	for (size_t i = 0; i < NELEM(vdevs); i++)
		fprintf(f, "%d.%s [virtual: %s]\n", ++n, vdevs[i].spec, vdevs[i].what);
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return n;
}

int
lc_iflist_ethtool_ioctl(const char *ifname, struct lc_iflist_ethtool *info, void *arg)
{
	struct ethtool_drvinfo di;
	struct ethtool_channels ch;
	struct ifreq ifr;
	int fd, e_drv = 0, e_ch = 0;

	(void)arg;
	memset(info, 0, sizeof(*info));
	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	memset(&di, 0, sizeof(di));
	di.cmd = ETHTOOL_GDRVINFO;
	ifr.ifr_data = (char *)&di;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0)
		snprintf(info->driver, sizeof(info->driver), "%.*s", (int)sizeof(di.driver),
			 di.driver);
	else
		e_drv = errno;
	memset(&ch, 0, sizeof(ch));
	ch.cmd = ETHTOOL_GCHANNELS;
	ifr.ifr_data = (char *)&ch;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0) {
		info->channels = true;
		info->rx = ch.rx_count;
		info->tx = ch.tx_count;
		info->combined = ch.combined_count;
	} else {
		e_ch = errno;
	}
	close(fd);
	if (info->driver[0] == '\0' && !info->channels)
		return -(e_drv ? e_drv : e_ch ? e_ch : EOPNOTSUPP);
	return 0;
}

void
lc_iflist_env_default(struct lc_iflist_env *env)
{
	static const char *const ids[] = { "/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids",
					   "/usr/share/pci.ids" };

	memset(env, 0, sizeof(*env));
	env->sysfs = "/sys";
	for (size_t i = 0; i < NELEM(ids) && env->pci_ids == NULL; i++)
		if (access(ids[i], R_OK) == 0)
			env->pci_ids = ids[i];
	env->ethtool = lc_iflist_ethtool_ioctl;
	env->addresses = lc_iflist_addresses;
	env->procfs = "/proc";
}

int
lc_iflist_nth(const struct lc_iflist_env *env, int n, char *name, size_t len, int *lines)
{
	char *buf = NULL, *line, *save = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	int rc = -ENOENT;

	name[0] = '\0';
	*lines = 0;
	if (f == NULL)
		return -EIO;
	*lines = lc_iflist_print(f, env);
	if (fclose(f) != 0 || *lines < 0) {
		free(buf);
		*lines = 0;
		return -EIO;
	}
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *dot = line + strspn(line, "0123456789"), *br = strstr(dot, " [");

		if (*dot != '.' || br == NULL || atoi(line) != n)
			continue;
		snprintf(name, len, "%.*s", (int)(br - dot - 1), dot + 1);
		rc = strncmp(br, " [DPDK port: ", 13) == 0 ? LC_IFLIST_DPDK_PORT :
		     strncmp(br, " [PCI, no driver", 16) == 0 ? LC_IFLIST_PCI_UNBOUND :
		     strncmp(br, " [virtual: ", 11) == 0 ? LC_IFLIST_EXAMPLE : LC_IFLIST_KERNEL;
		break;
	}
	free(buf);
	return rc;
}
