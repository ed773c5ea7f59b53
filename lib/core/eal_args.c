/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "linecap/eal_args.h"
#include "log.h"

int
lc_eal_is_pci_addr(const char *s)
{
	unsigned int dom, bus, dev, fn;
	char addr[64];
	int n = 0;
	size_t len = strcspn(s, ",");	/* devargs may follow: 0000:3b:00.0,foo=1 */

	if (len == 0 || len >= sizeof(addr))
		return 0;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (sscanf(addr, "%4x:%2x:%2x.%1x%n", &dom, &bus, &dev, &fn, &n) == 4 &&
	    (size_t)n == len)
		return 1;
	n = 0;
	if (sscanf(addr, "%2x:%2x.%1x%n", &bus, &dev, &fn, &n) == 3 && (size_t)n == len)
		return 1;
	return 0;
}

unsigned int
lc_eal_allowed_cpus(int *cpus, unsigned int max)
{
	cpu_set_t set;
	unsigned int n = 0;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) != 0) {
		cpus[0] = 0;
		return 1;
	}
	for (int c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

void
lc_eal_order_cpus(int *cpus, unsigned int n, const int *node_of, int node)
{
	int near[1024], far[1024];
	unsigned int nn = 0, nf = 0;

	if (node < 0 || n > 1024)
		return;
	for (unsigned int i = 0; i < n; i++) {
		if (node_of[i] == node)
			near[nn++] = cpus[i];
		else
			far[nf++] = cpus[i];
	}
	memcpy(cpus, near, nn * sizeof(int));
	memcpy(cpus + nn, far, nf * sizeof(int));
}

int
lc_eal_cpu_node(int cpu)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int node = -1;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d", cpu);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "node", 4) == 0 && e->d_name[4] >= '0' &&
		    e->d_name[4] <= '9') {
			node = atoi(e->d_name + 4);
			break;
		}
	closedir(d);
	return node;
}

int
lc_eal_device_node(const char *interface)
{
	char path[128], bdf[32], buf[16] = "";
	size_t n = strcspn(interface, ",");
	FILE *f;

	if (!lc_eal_is_pci_addr(interface) || n >= sizeof(bdf))
		return -1;
	memcpy(bdf, interface, n);
	bdf[n] = '\0';
	/* 0000:3b:00.0 or the short 3b:00.0 */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s%s/numa_node",
		 strchr(bdf, ':') == strrchr(bdf, ':') ? "0000:" : "", bdf);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	return buf[0] ? atoi(buf) : -1;
}

static int
hugetlbfs_mounted(void)
{
	char line[512];
	int found = 0;
	FILE *f = fopen("/proc/mounts", "r");

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, " hugetlbfs ") != NULL;
	fclose(f);
	return found;
}

uint64_t
lc_eal_huge_free_bytes(void)
{
	const char *base = "/sys/kernel/mm/hugepages";
	uint64_t total = 0;
	struct dirent *de;
	DIR *d;

	if (!hugetlbfs_mounted())
		return 0;
	d = opendir(base);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		unsigned long kb, pages;
		char path[512];
		FILE *f;

		if (sscanf(de->d_name, "hugepages-%lukB", &kb) != 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s/free_hugepages", base, de->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fscanf(f, "%lu", &pages) == 1)
			total += (uint64_t)pages * kb * 1024;
		fclose(f);
	}
	closedir(d);
	return total;
}

struct argbuf {
	struct lc_eal_args *a;
	size_t used;
	int overflow;
};

static void
add(struct argbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
add(struct argbuf *b, const char *fmt, ...)
{
	size_t room = sizeof(b->a->storage) - b->used;
	va_list ap;
	int n;

	if (b->a->argc >= LC_EAL_MAX_ARGS) {
		b->overflow = 1;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(b->a->storage + b->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		b->overflow = 1;
		return;
	}
	b->a->argv[b->a->argc++] = b->a->storage + b->used;
	b->used += (size_t)n + 1;
}

/* Does the passthrough string contain any of these options (as whole words or "opt=")? */
static int
extra_has(const char *extra, const char *const *opts)
{
	char buf[2048];
	char *save, *tok;

	if (extra == NULL)
		return 0;
	snprintf(buf, sizeof(buf), "%s", extra);
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		for (const char *const *o = opts; *o; o++) {
			size_t n = strlen(*o);
			if (strncmp(tok, *o, n) == 0 && (tok[n] == '\0' || tok[n] == '='))
				return 1;
		}
	}
	return 0;
}

static void
add_lcores(struct argbuf *b, const struct lc_eal_plan *p)
{
	unsigned int nworkers = p->rx_lcores + p->writer_lcores;
	int pool[1024];
	unsigned int npool = 0;
	char map[2048];
	size_t off;

	/* Workers take CPUs other than the main lcore's first, then share the main's CPU. */
	for (unsigned int i = 1; i < p->ncpus && npool < 1024; i++)
		pool[npool++] = p->cpus[i];
	pool[npool++] = p->cpus[0];

	off = (size_t)snprintf(map, sizeof(map), "0@%d", p->cpus[0]);
	for (unsigned int l = 0; l < nworkers && off < sizeof(map); l++)
		off += (size_t)snprintf(map + off, sizeof(map) - off, ",%u@%d", l + 1,
					pool[l % npool]);
	add(b, "--lcores=%s", map);
	add(b, "--main-lcore=0");
}

/* Memory: hugepages where enough are free (their files unlinked), else -m MB of plain
 * memory; unless the passthrough gives its own. */
static void
add_memory(struct argbuf *b, const struct lc_eal_plan *p)
{
	static const char *const mem_opts[] = { "-m", "--socket-mem", "--no-huge", NULL };
	static const char *const nohuge_opt[] = { "--no-huge", NULL };

	if (extra_has(p->extra, mem_opts)) {
		b->a->no_huge = extra_has(p->extra, nohuge_opt);
	} else if (lc_eal_hugepages_suffice(p->huge_free_bytes, p->mem_bytes)) {
		/* Unlinked hugepage files vanish with the process, whatever its end. */
		add(b, "--huge-unlink");
	} else {
		add(b, "--no-huge");
		add(b, "-m");
		add(b, "%" PRIu64, (p->mem_bytes + (1 << 20) - 1) >> 20);
		b->a->no_huge = 1;
	}
}

/* The one device: a PCI address allowed, or a virtual device (and no PCI scan); none (-r:
 * the capture makes its own port) and no PCI scan. */
static void
add_device(struct argbuf *b, const char *interface)
{
	if (interface == NULL) {
		add(b, "--no-pci");
		return;
	}
	if (lc_eal_is_pci_addr(interface)) {
		add(b, "-a");
	} else {
		add(b, "--no-pci");
		add(b, "--vdev");
	}
	add(b, "%s", interface);
}

int
lc_eal_args_build(const struct lc_eal_plan *p, struct lc_eal_args *out, char *err,
		  size_t errlen)
{
	static const char *const lcore_opts[] = { "-l", "-c", "--lcores", NULL };
	static const char *const prefix_opts[] = { "--file-prefix", "--in-memory", NULL };
	static const char *const log_opts[] = { "--log-level", NULL };
	static const char *const shconf_opts[] = { "--no-shconf", "--in-memory", NULL };
	struct argbuf b = { .a = out };
	char extra[2048];
	char *save, *tok;

	memset(out, 0, sizeof(*out));
	if (p->ncpus == 0 || p->rx_lcores + p->writer_lcores == 0) {
		snprintf(err, errlen, "internal: no CPU or worker lcore to map");
		return -EINVAL;
	}
	add(&b, "linecap");
	if (!extra_has(p->extra, lcore_opts))
		add_lcores(&b, p);
	if (!extra_has(p->extra, prefix_opts))
		add(&b, "--file-prefix=%s_%d", p->prefix ? p->prefix : "linecap", p->pid);
	if (p->no_shconf && !extra_has(p->extra, shconf_opts))
		add(&b, "--no-shconf");
	add_memory(&b, p);
	if (!extra_has(p->extra, log_opts)) {
		if (p->verbose >= 2)
			add(&b, "--log-level=*:info");
		else
			add(&b, "--log-level=*:%s", p->verbose ? "notice" : "warning");
	}
	add_device(&b, p->interface);
	if (p->extra != NULL) {
		if (strlen(p->extra) >= sizeof(extra)) {
			snprintf(err, errlen, "--eal: arguments too long");
			return -E2BIG;
		}
		snprintf(extra, sizeof(extra), "%s", p->extra);
		for (tok = strtok_r(extra, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
			add(&b, "%s", tok);
	}
	if (b.overflow) {
		snprintf(err, errlen, "--eal: too many arguments");
		return -E2BIG;
	}
	out->argv[out->argc] = NULL;
	return 0;
}

static void remove_runtime_dir(const char *dir);

/* The last non-empty line of text (EAL's final complaint), trimmed. */
static void
last_line(const char *text, char *out, size_t len)
{
	const char *end = text + strlen(text), *start;

	while (end > text && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	snprintf(out, len, "%.*s", (int)(end - start), start);
}

/* Runtime directories of linecap processes that died without cleaning up (kill -9). */
static void
sweep_stale(void)
{
	const char *base = "/var/run/dpdk";
	struct dirent *de;
	DIR *d = opendir(base);

	while (d != NULL && (de = readdir(d)) != NULL) {
		char path[PATH_MAX];
		int pid;

		if ((sscanf(de->d_name, "linecap_%d", &pid) != 1 &&
		     sscanf(de->d_name, "lcgen_%d", &pid) != 1) || pid <= 0)
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, de->d_name);
		remove_runtime_dir(path);
	}
	if (d != NULL)
		closedir(d);
}

int
lc_eal_start(struct lc_eal_args *a, int verbose, char *err, size_t errlen)
{
	char *text = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&text, &size);
	int rc;

	sweep_stale();
	if (mem != NULL)
		rte_openlog_stream(mem);
	rc = rte_eal_init(a->argc, a->argv);
	if (mem != NULL) {
		rte_openlog_stream(stderr);
		fclose(mem);
	}
	if (rc < 0) {
		char line[256] = "";
		int e = rte_errno;

		if (text != NULL)
			last_line(text, line, sizeof(line));
		if (strncmp(line, "EAL: ", 5) == 0)
			memmove(line, line + 5, strlen(line + 5) + 1);
		snprintf(err, errlen, "%s%s%s%s", rte_strerror(e), line[0] ? " (EAL: " : "",
			 line, line[0] ? ")" : "");
		free(text);
		remove_runtime_dir(rte_eal_get_runtime_dir());
		return -(e ? e : EINVAL);
	}
	if (verbose && text != NULL)
		fputs(text, stderr);
	free(text);
	/* EAL's --log-level=*:warning quietened DPDK; linecap's own notices stay on. */
	rte_log_set_level(lc_logtype, verbose ? RTE_LOG_DEBUG : RTE_LOG_INFO);
	return 0;
}

/* Remove EAL's per-process runtime directory if it is one of ours (linecap_<pid>). */
static void
remove_runtime_dir(const char *dir)
{
	struct dirent *de;
	DIR *d;

	if (strstr(dir, "/linecap_") == NULL && strstr(dir, "/lcgen_") == NULL)
		return;	/* a prefix the user chose is theirs to keep */
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char path[PATH_MAX + NAME_MAX + 2];

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

int
lc_eal_chown_runtime(uid_t uid, gid_t gid)
{
	const char *dir = rte_eal_get_runtime_dir();
	struct dirent *de;
	DIR *d;
	int rc = 0, fd;

	/* Through a descriptor opened without following a link, never by name. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchown(fd, uid, gid) != 0 || (d = fdopendir(fd)) == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fchownat(dirfd(d), de->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0 && rc == 0)
			rc = -errno;
	}
	closedir(d);
	return rc;
}

void
lc_eal_stop(void)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	remove_runtime_dir(dir);
}
