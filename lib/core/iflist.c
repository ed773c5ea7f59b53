/* SPDX-License-Identifier: BSD-3-Clause */
/* -D: the capture sources of this machine, read from sysfs (linecap/iflist.h). */
#include <dirent.h>
#include <errno.h>
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

/* AF_XDP's mode for a driver (the sysfs one, or ethtool's), honestly. */
static void
print_af_xdp(FILE *f, const char *kernel, const char *drv, const char *et_drv, bool loopback)
{
	unsigned int major, minor;
	const char *zc = NULL;

	if (zero_copy_driver(drv, &major, &minor))
		zc = drv;
	else if (zero_copy_driver(et_drv, &major, &minor))
		zc = et_drv;
	if (zc != NULL && kernel_at_least(kernel, major, minor))
		fprintf(f, ", AF_XDP zero-copy possible (%s)", zc);
	else if (zc != NULL)
		fprintf(f, ", AF_XDP copy mode (%s has zero-copy from Linux %u.%u; this is %s)",
			zc, major, minor, kernel);
	else if (loopback)
		fprintf(f, ", AF_XDP copy mode");
	else
		fprintf(f, ", AF_XDP copy mode (no zero-copy known for %s)",
			drv[0] ? drv : et_drv[0] ? et_drv : "this driver");
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
	print_af_xdp(f, kernel, drv, et.driver, loopback);
	if (pci[0] != '\0' && (strcmp(drv, "mlx5_core") == 0 || strcmp(et.driver, "mlx5_core") == 0))
		fprintf(f, "; kernel bypass without unbinding: -i %s (DPDK's mlx5 driver shares the "
			"port with the kernel)", pci);
	else if (pci[0] != '\0')
		fprintf(f, "; full kernel bypass: dpdk-devbind.py -b vfio-pci %s, then -i %s",
			pci, pci);
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
}
