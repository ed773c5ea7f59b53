/* SPDX-License-Identifier: BSD-3-Clause */
/* -i NAME of a kernel interface: AF_XDP or AF_PACKET, decided before EAL (kif.h). */
#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "linecap/config.h"
#include "linecap/eal_args.h"
#include "linecap/iflist.h"
#include "kif.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

/* A DPDK virtual device string: net_..., or devargs (',' or '='). */
static int
is_vdev(const char *s)
{
	return strncmp(s, "net_", 4) == 0 || strpbrk(s, ",=") != NULL;
}

/* The effective capability set has cap (capget: no library needed). */
static int
have_cap(unsigned int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) != 0)
		return geteuid() == 0;
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}

/* How many entries of dir begin with prefix. */
static unsigned int
count_prefixed(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	if (d != NULL)
		closedir(d);
	return n;
}

/* The last component of where the sysfs link /sys/class/net/IFNAME/what leads, into buf
 * ("" when it is no link). */
static void
link_base(const char *ifname, const char *what, char *buf, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, what);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	base = strrchr(target, '/');
	snprintf(buf, len, "%s", base ? base + 1 : target);
}

/* The PCI address of the interface's device, when it is on the PCI bus. */
static void
pci_of(const char *ifname, char *buf, size_t len)
{
	char bus[64];

	link_base(ifname, "device/subsystem", bus, sizeof(bus));
	if (strcmp(bus, "pci") == 0)
		link_base(ifname, "device", buf, len);
	else
		buf[0] = '\0';
}

/*
 * The id of the XDP program attached to ifindex (netlink RTM_GETLINK, IFLA_XDP): > 0, 0
 * when none, -errno when the kernel did not say.
 */
static long
xdp_prog_attached(unsigned int ifindex)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 },
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = (int)ifindex },
	};
	char buf[32768] __attribute__((aligned(4)));
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	long id = 0;
	ssize_t n;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (send(fd, &req, sizeof(req), 0) < 0 || (n = recv(fd, buf, sizeof(buf), 0)) < 0) {
		id = -errno;
		close(fd);
		return id;
	}
	close(fd);
	if (!NLMSG_OK(nh, (size_t)n) || nh->nlmsg_type != RTM_NEWLINK)
		return -EIO;
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	struct rtattr *a = IFLA_RTA(ifi);
	int alen = (int)IFLA_PAYLOAD(nh);

	for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		if (a->rta_type != IFLA_XDP)
			continue;
		struct rtattr *x = RTA_DATA(a);
		int xlen = (int)RTA_PAYLOAD(a);
		int attached = 0;

		for (; RTA_OK(x, xlen); x = RTA_NEXT(x, xlen)) {
			if (x->rta_type == IFLA_XDP_ATTACHED)
				attached = *(uint8_t *)RTA_DATA(x);
			else if (x->rta_type == IFLA_XDP_PROG_ID)
				id = *(uint32_t *)RTA_DATA(x);
		}
		return attached ? (id > 0 ? id : 1) : 0;
	}
	return 0;
}

/* Why AF_XDP cannot take k, or "" when it can. */
static void
af_xdp_obstacle(const struct lc_kif *k, char *why, size_t len)
{
	int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	long prog;

	why[0] = '\0';
	if (fd < 0) {
		snprintf(why, len, "this kernel has no AF_XDP sockets (%s)", strerror(errno));
		return;
	}
	close(fd);
	/* DPDK attaches its own program only where none is, and detaches whatever is there
	 * when it closes: an interface with another program's XDP hook is left alone. */
	prog = xdp_prog_attached(if_nametoindex(k->ifname));
	if (prog > 0) {
		snprintf(why, len, "%s already has an XDP program (id %ld), left alone",
			 k->ifname, prog);
		return;
	}
	if (k->xdp_queues < k->rx_queues)
		snprintf(why, len, "%s has %u RX queues and AF_XDP binds its %u combined "
			 "channel%s only", k->ifname, k->rx_queues, k->xdp_queues,
			 k->xdp_queues == 1 ? "" : "s");
}

int
lc_kif_resolve(const char *devspec, struct lc_kif *k, char *err, size_t errlen)
{
	struct lc_iflist_ethtool et;
	struct lc_iflist_env env;
	struct lc_iflist_host host;
	const char *name = devspec;
	char path[PATH_MAX];
	struct stat st;

	memset(k, 0, sizeof(*k));
	if (strncmp(devspec, "af_xdp:", 7) == 0) {
		name = devspec + 7;
		k->forced = LC_KIF_AF_XDP;
	} else if (strncmp(devspec, "af_packet:", 10) == 0) {
		name = devspec + 10;
		k->forced = LC_KIF_AF_PACKET;
	} else if (lc_eal_is_pci_addr(devspec) || is_vdev(devspec)) {
		return 0;
	}
	snprintf(path, sizeof(path), "/sys/class/net/%s", name);
	if (strcmp(name, "any") == 0 && stat(path, &st) != 0) {
		snprintf(err, errlen, "-i %s: linecap captures one interface (tcpdump's -i any, "
			 "or several ports with -i repeated, is not supported yet); linecap -D "
			 "lists them", devspec);
		return -ENODEV;
	}
	if (name[0] == '\0' || strlen(name) >= sizeof(k->ifname) || strchr(name, '/') != NULL ||
	    stat(path, &st) != 0) {
		snprintf(err, errlen, "-i %s: no such interface (not a PCI address, a DPDK vdev, "
			 "or a kernel interface; linecap -D lists them)", devspec);
		return -ENODEV;
	}
	if (!have_cap(CAP_NET_RAW)) {
		snprintf(err, errlen, "-i %s: capturing from a kernel interface takes root (AF_XDP "
			 "and AF_PACKET sockets need CAP_NET_RAW and CAP_NET_ADMIN)", devspec);
		return -EPERM;
	}
	snprintf(k->ifname, sizeof(k->ifname), "%s", name);
	pci_of(name, k->pci, sizeof(k->pci));
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", name);
	k->rx_queues = count_prefixed(path, "rx-");
	k->xdp_queues = 1;	/* DPDK: a device without channels is one stream */
	if (lc_iflist_ethtool_ioctl(name, &et, NULL) == 0) {
		snprintf(k->driver, sizeof(k->driver), "%s", et.driver);
		if (et.channels && et.combined > 0)
			k->xdp_queues = et.combined;
		/* veth and some others have separate RX and TX channels, no combined ones */
		k->rxtx_channels = et.channels && et.combined == 0 && (et.rx > 0 || et.tx > 0);
	}
	if (k->rx_queues == 0)
		k->rx_queues = k->xdp_queues;
	/* The rule -D states too (iflist.c): the host's interface stays the host's. */
	lc_iflist_env_default(&env);
	lc_iflist_host_of(&env, name, &host);
	k->loopback = host.loopback;
	k->host_traffic = lc_iflist_prefers_af_packet(&host, k->host, sizeof(k->host));
	if (k->forced) {
		k->path = (enum lc_kif_path)k->forced;
		if (k->forced == LC_KIF_AF_XDP && k->host_traffic && !k->loopback)
			snprintf(k->warn, sizeof(k->warn), "-i %s: %s carries %s: AF_XDP takes "
				 "every frame it receives from the kernel while linecap runs, so "
				 "this host loses its traffic on it (no ARP, no replies); -i %s "
				 "captures through AF_PACKET and leaves the host its traffic", devspec,
				 name, k->host, name);
		return 1;
	}
	if (k->host_traffic) {
		k->path = LC_KIF_AF_PACKET;
		snprintf(k->why, sizeof(k->why), "%s carries %s", name, k->host);
		return 1;
	}
	af_xdp_obstacle(k, k->why, sizeof(k->why));
	k->path = k->why[0] ? LC_KIF_AF_PACKET : LC_KIF_AF_XDP;
	return 1;
}

int
lc_kif_number(const char *devspec, char *name, size_t len, char *err, size_t errlen)
{
	struct lc_iflist_env env;
	char path[PATH_MAX];
	struct stat st;
	int lines, kind;
	long n;

	if (devspec[0] == '\0' || strspn(devspec, "0123456789") != strlen(devspec) ||
	    strlen(devspec) > 6)
		return 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s", devspec);
	if (stat(path, &st) == 0)
		return 0;	/* an interface named so: itself */
	n = strtol(devspec, NULL, 10);
	lc_iflist_env_default(&env);
	kind = lc_iflist_nth(&env, (int)n, name, len, &lines);
	switch (kind) {
	case LC_IFLIST_KERNEL:
	case LC_IFLIST_DPDK_PORT:
		return 1;
	case LC_IFLIST_PCI_UNBOUND:
		snprintf(err, errlen, "-i %s: line %ld of linecap -D is %s, a PCI device without a "
			 "driver: bind it to a DPDK driver first (dpdk-devbind.py -b vfio-pci %s), "
			 "then -i %s", devspec, n, name, name, name);
		return -EINVAL;
	case LC_IFLIST_EXAMPLE:
		snprintf(err, errlen, "-i %s: line %ld of linecap -D is an example of a DPDK "
			 "virtual device (%s): give the device string itself, its FILE, PATH or IF "
			 "filled in", devspec, n, name);
		return -EINVAL;
	case -ENOENT:
		snprintf(err, errlen, "-i %s: linecap -D lists %d capture source%s, numbered 1 to "
			 "%d (-i N takes the one on line N)", devspec, lines, lines == 1 ? "" : "s",
			 lines);
		return -ENODEV;
	default:
		snprintf(err, errlen, "-i %s: cannot make the list of capture sources to take line "
			 "%ld from (linecap -D)", devspec, n);
		return -EIO;
	}
}

/* The ethtool command that gives k n channels: "ethtool -L NAME combined N", or "rx N tx N"
 * where the driver has separate RX and TX channels (veth). */
static void
channels_cmd(const struct lc_kif *k, unsigned int n, char *buf, size_t len)
{
	if (k->rxtx_channels)
		snprintf(buf, len, "ethtool -L %s rx %u tx %u", k->ifname, n, n);
	else
		snprintf(buf, len, "ethtool -L %s combined %u", k->ifname, n);
}

int
lc_kif_queues(const struct lc_kif *k, unsigned int asked, unsigned int *queues, char *warn,
	      size_t warnlen, char *err, size_t errlen)
{
	/* AF_XDP sees the queues it binds; AF_PACKET's fanout sees every queue whatever its
	 * number of sockets. */
	unsigned int have = k->path == LC_KIF_AF_XDP ? k->xdp_queues : k->rx_queues;
	char cmd[IF_NAMESIZE + 48];

	warn[0] = '\0';
	if (asked == 0) {
		*queues = have < LC_QUEUES_MAX ? have : LC_QUEUES_MAX;
		channels_cmd(k, LC_QUEUES_MAX, cmd, sizeof(cmd));
		if (k->path == LC_KIF_AF_XDP && have > LC_QUEUES_MAX)
			snprintf(warn, warnlen, "-i %s: %u channels, linecap takes %u: packets the "
				 "NIC steers to the others are not captured (%s)", k->ifname, have,
				 LC_QUEUES_MAX, cmd);
		return 0;
	}
	channels_cmd(k, asked, cmd, sizeof(cmd));
	if (k->path == LC_KIF_AF_XDP && asked > have) {
		snprintf(err, errlen, "--queues %u: %s has %u RX channel%s for AF_XDP (give it "
			 "more with %s, or leave --queues out)", asked, k->ifname, have,
			 have == 1 ? "" : "s", cmd);
		return -EINVAL;
	}
	if (k->path == LC_KIF_AF_XDP && asked < have)
		snprintf(warn, warnlen, "--queues %u: %s has %u channels; packets the NIC steers "
			 "to channels %u..%u are not captured (%s steers everything to the ones "
			 "captured)", asked, k->ifname, have, asked, have - 1, cmd);
	*queues = asked;
	return 0;
}

/* libbpf's and libxdp's print callbacks (libbpf_print_fn_t, libxdp_print_fn_t: the level an
 * enum, passed as an int). */
typedef int (*lib_print_fn)(int level, const char *fmt, va_list ap);
typedef lib_print_fn (*lib_set_print_fn)(lib_print_fn fn);

static int
lib_print_nothing(int level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

void
lc_kif_quiet_libs(int verbose)
{
	static const char *const libs[][2] = {
		{ "libbpf.so.1", "libbpf_set_print" },
		{ "libxdp.so.1", "libxdp_set_print" },
	};

	if (verbose)
		return;
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		/* Loaded now, global, and never closed: the PMD (a plugin EAL loads later) binds
		 * to this copy, whose print setting it then shares. */
		void *h = dlopen(libs[i][0], RTLD_NOW | RTLD_GLOBAL);
		lib_set_print_fn set;
		void *sym;

		if (h == NULL)
			continue;	/* not installed: its PMD cannot load either */
		sym = dlsym(h, libs[i][1]);
		if (sym == NULL)
			continue;
		memcpy(&set, &sym, sizeof(set));
		set(lib_print_nothing);
	}
}

void
lc_kif_devargs(const struct lc_kif *k, enum lc_kif_path path, unsigned int queues,
	       char *buf, size_t len, char *name, size_t namelen)
{
	if (path == LC_KIF_AF_XDP)
		snprintf(buf, len, "net_af_xdp0,iface=%s,start_queue=0,queue_count=%u",
			 k->ifname, queues);
	else
		snprintf(buf, len, "net_af_packet0,iface=%s,qpairs=%u,blocksz=%u,framesz=%u,"
			 "framecnt=%u", k->ifname, queues, 2 * LC_AF_PACKET_FRAME,
			 LC_AF_PACKET_FRAME, LC_AF_PACKET_FRAMES);
	snprintf(name, namelen, "%.*s", (int)strcspn(buf, ","), buf);
}

int
lc_kif_xdp_zero_copy(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = 0, copy = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		struct xdp_options opts;
		int fd = atoi(e->d_name), domain = 0;
		socklen_t l = sizeof(domain);

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dirfd(d) ||
		    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l) != 0 || domain != AF_XDP)
			continue;
		l = sizeof(opts);
		if (getsockopt(fd, SOL_XDP, XDP_OPTIONS, &opts, &l) != 0)
			continue;
		found = 1;
		copy |= !(opts.flags & XDP_OPTIONS_ZEROCOPY);
	}
	if (d != NULL)
		closedir(d);
	return found ? !copy : -1;
}

void
lc_kif_describe(const struct lc_kif *k, enum lc_kif_path path, int zero_copy,
		const char *why, unsigned int queues, char *buf, size_t len)
{
	static const char *const prefix[] = { "", "af_xdp:", "af_packet:" };
	char drv[64] = "", ctx[448], how[640], bypass[160] = "";

	if (k->driver[0])
		snprintf(drv, sizeof(drv), " (driver %s)", k->driver);
	if (k->loopback)
		snprintf(ctx, sizeof(ctx), ", the loopback");
	else if (k->host_traffic)
		snprintf(ctx, sizeof(ctx), " with %s", k->host);
	else
		snprintf(ctx, sizeof(ctx), ", no addresses (a capture port)");
	if (path == LC_KIF_AF_XDP)
		snprintf(how, sizeof(how), "AF_XDP (%s), received frames only; the kernel no "
			 "longer sees them while linecap runs", zero_copy > 0 ? "zero-copy" :
			 zero_copy == 0 ? "copy mode" : "mode unknown");
	else if (k->forced == LC_KIF_AF_PACKET)
		snprintf(how, sizeof(how), "AF_PACKET (asked for), both directions");
	else if (k->loopback)
		snprintf(how, sizeof(how), "AF_PACKET, both directions (AF_XDP cannot attach to "
			 "the loopback)");
	else if (k->host_traffic)
		snprintf(how, sizeof(how), "AF_PACKET, both directions, the host keeps its traffic "
			 "(af_xdp:%s would take its received frames from the kernel)", k->ifname);
	else
		snprintf(how, sizeof(how), "AF_PACKET, both directions: AF_XDP could not attach: "
			 "%s", why);
	if (k->pci[0] && !k->host_traffic)
		snprintf(bypass, sizeof(bypass), "; for full kernel bypass: dpdk-devbind.py -b "
			 "vfio-pci %s, then linecap -i %s", k->pci, k->pci);
	snprintf(buf, len, "-i %s%s: kernel interface%s%s: captured through %s, %u queue%s%s",
		 prefix[k->forced == LC_KIF_AF_XDP ? 1 : k->forced == LC_KIF_AF_PACKET ? 2 : 0],
		 k->ifname, drv, ctx, how, queues, queues == 1 ? "" : "s", bypass);
}
