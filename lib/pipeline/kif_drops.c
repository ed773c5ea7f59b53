/* SPDX-License-Identifier: BSD-3-Clause */
/* AF_PACKET's socket drops, counted (kif_drops.h). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kif_drops.h"

/* Is fd an AF_PACKET socket bound to ifindex? */
static int
bound_packet_socket(int fd, int ifindex)
{
	struct sockaddr_ll sll;
	socklen_t len = sizeof(sll);
	struct tpacket_stats_v3 st;
	socklen_t slen = sizeof(st);

	memset(&sll, 0, sizeof(sll));
	if (getsockname(fd, (struct sockaddr *)&sll, &len) != 0 || sll.sll_family != AF_PACKET ||
	    sll.sll_ifindex != ifindex)
		return 0;
	/* It answers for its ring: the first read starts the count (what came before the
	 * capture ran is not the capture's). */
	return getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &slen) == 0;
}

unsigned int
lc_kif_drops_find(struct lc_kif_drops *d, const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname);
	struct dirent *e;
	DIR *dir;

	memset(d, 0, sizeof(*d));
	if (ifindex == 0 || (dir = opendir("/proc/self/fd")) == NULL)
		return 0;
	while ((e = readdir(dir)) != NULL && d->n < LC_QUEUES_MAX) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);

		if (*end != '\0' || end == e->d_name || fd == dirfd(dir))
			continue;
		if (bound_packet_socket((int)fd, ifindex))
			d->fd[d->n++] = (int)fd;
	}
	closedir(dir);
	return d->n;
}

uint64_t
lc_kif_drops_read(struct lc_kif_drops *d)
{
	for (unsigned int i = 0; i < d->n; i++) {
		struct tpacket_stats_v3 st;
		socklen_t len = sizeof(st);

		memset(&st, 0, sizeof(st));
		if (getsockopt(d->fd[i], SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
			d->drops += st.tp_drops;
	}
	return d->drops;
}

/* The interface's rx_dropped (sysfs: the namespace linecap runs in). 0 or -errno. */
static int
read_rx_dropped(const char *ifname, uint64_t *v)
{
	char path[96];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/rx_dropped", ifname);
	f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	ok = fscanf(f, "%" SCNu64, v) == 1;
	fclose(f);
	return ok ? 0 : -EIO;
}

int
lc_kif_drops_xdp_start(struct lc_kif_drops *d, const char *ifname)
{
	int rc;

	snprintf(d->ifname, sizeof(d->ifname), "%s", ifname);
	rc = read_rx_dropped(ifname, &d->rx_dropped0);
	d->xdp = rc == 0;
	return rc;
}

uint64_t
lc_kif_drops_xdp_read(struct lc_kif_drops *d, uint64_t pmd_imissed)
{
	uint64_t now, delta = 0;

	if (d->xdp && read_rx_dropped(d->ifname, &now) == 0 && now >= d->rx_dropped0)
		delta = now - d->rx_dropped0;
	/* Remembered: a counter that went away (the interface gone) does not take back what
	 * it counted. */
	if (delta > d->drops)
		d->drops = delta;
	return pmd_imissed > d->drops ? pmd_imissed : d->drops;
}
