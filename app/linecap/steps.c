/* SPDX-License-Identifier: BSD-3-Clause */
/* The steps of starting a capture that main() calls in turn (see steps.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_eal.h>

#include "linecap/diskcheck.h"
#include "linecap/eal_args.h"
#include "steps.h"

int
lc_app_check_read_dirs(const struct lc_config *cfg, const struct lc_outpath *out, char *err,
		       size_t errlen)
{
	char outdir[PATH_MAX], dir[PATH_MAX];

	if (realpath(out->dir, outdir) == NULL)
		return 0;	/* not there yet: nothing in it to read */
	for (unsigned int i = 0; i < cfg->nread; i++) {
		if (realpath(cfg->read[i], dir) != NULL && strcmp(dir, outdir) == 0) {
			snprintf(err, errlen, "-r %s and -w %s: the same directory (linecap would "
				 "read the files it writes)", cfg->read[i], cfg->write_path);
			return -EINVAL;
		}
	}
	return 0;
}

/* The stats file is checked (not created) before the capture, so a typo costs nothing; a
 * symbolic link there is refused (it is written as a new file renamed into place, at the
 * end, never through a link). */
int
lc_app_check_stats_file(const char *path, char *err, size_t errlen)
{
	if (path == NULL)
		return 0;
	return lc_outpath_file_check("--stats-file", path, err, errlen);
}

int
lc_app_check_user(const struct lc_user *u, const struct lc_outpath *out,
		  const char *stats_file, char *err, size_t errlen)
{
	char remedy[PATH_MAX + 160], dir[PATH_MAX];
	struct stat st, fst;
	char *slash;
	int rc;

	if (stat(out->dir, &st) != 0) {	/* linecap creates it, and gives it to u */
		rc = lc_privs_check_reach(u, out->dir, err, errlen);
		if (rc == 0)
			rc = lc_privs_check_links(u, out->dir, err, errlen);
	} else {
		snprintf(remedy, sizeof(remedy), "linecap gives %s only what it creates; make "
			 "the directory writable by %s, or give -w a new directory to create",
			 u->name, u->name);
		rc = lc_privs_check_write(u, out->dir, remedy, err, errlen);
		/* An earlier capture's manifest keeps its owner: u must be able to append. */
		if (rc == 0 && lc_outpath_manifest(out, dir, sizeof(dir)) == 0 &&
		    lstat(dir, &fst) == 0 && S_ISREG(fst.st_mode)) {
			snprintf(remedy, sizeof(remedy), "linecap gives %s only what it creates; "
				 "capture as its owner, or give -w another directory", u->name);
			rc = lc_privs_check_append(u, dir, remedy, err, errlen);
		}
	}
	if (rc < 0 || stats_file == NULL)
		return rc;
	/* The stats file is written at the end, as u: a new file renamed into its directory. */
	snprintf(dir, sizeof(dir), "%s", stats_file);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir ? 1 : 0] = '\0';
	snprintf(remedy, sizeof(remedy), "the --stats-file is written there as %s at the end; "
		 "make the directory writable by %s, or put the stats file elsewhere", u->name,
		 u->name);
	rc = lc_privs_check_write(u, dir, remedy, err, errlen);
	if (rc < 0)
		return rc;
	/* A sticky directory lets u replace only its own files (or any, if the directory is
	 * u's). */
	if (stat(dir, &st) == 0 && (st.st_mode & S_ISVTX) && st.st_uid != u->uid &&
	    lstat(stats_file, &fst) == 0 && fst.st_uid != u->uid) {
		snprintf(err, errlen, "-Z %s: %s cannot replace %s (another user's file in a sticky "
			 "directory): remove it, or put the stats file elsewhere", u->name, u->name,
			 stats_file);
		return -EPERM;
	}
	return 0;
}

/* -d: show what the filter compiles to, on this machine's engine, touching no port. */
int
lc_app_dump_filter(struct lc_filter_prog *prog, const struct lc_filter_ops *engine, int level)
{
	struct lc_filter *f = lc_filter_create(prog, engine, -1);

	if (f == NULL)
		{
		fprintf(stderr, "linecap: %s\n", strerror(errno));
		return 1;
	}
	lc_filter_dump(stdout, prog, f, level);
	lc_filter_free(f);
	lc_filter_prog_free(prog);
	return 0;
}

int
lc_app_start_eal(const struct lc_config *cfg, const struct lc_capture_plan *plan, char *err,
	  size_t errlen)
{
	static struct lc_eal_args args;
	int cpus[1024], node_of[1024];
	unsigned int ncpus = lc_eal_allowed_cpus(cpus, 1024);

	/* The NIC's socket first: its CPUs become the main, RX and writer lcores. */
	for (unsigned int i = 0; i < ncpus; i++)
		node_of[i] = lc_eal_cpu_node(cpus[i]);
	lc_eal_order_cpus(cpus, ncpus, node_of, plan->port.kif.pci[0] ?
			  lc_eal_device_node(plan->port.kif.pci) : plan->port.devargs[0] ?
			  lc_eal_device_node(plan->port.devargs) : cfg->interface ?
			  lc_eal_device_node(cfg->interface) : -1);

	struct lc_eal_plan ep = {
		.interface = plan->port.devargs[0] ? plan->port.devargs : cfg->interface,
		.rx_lcores = plan->queues,
		.writer_lcores = plan->writers,
		.cpus = cpus,
		.ncpus = ncpus,
		.mem_bytes = plan->mem_bytes,
		.huge_free_bytes = lc_eal_huge_free_bytes(),
		.pid = (int)getpid(),
		.extra = cfg->eal_args,
		.no_shconf = cfg->user != NULL,
		.verbose = cfg->verbose,
	};
	int rc = lc_eal_args_build(&ep, &args, err, errlen);

	if (rc < 0)
		return rc;
	if (cfg->verbose) {
		fprintf(stderr, "linecap: EAL");
		for (int i = 1; i < args.argc; i++)
			fprintf(stderr, " %s", args.argv[i]);
		fprintf(stderr, "\n");
	}
	if (plan->port.kif.ifname[0] != '\0')	/* before EAL loads net_af_xdp's libraries */
		lc_kif_quiet_libs(cfg->verbose);
	return lc_eal_start(&args, cfg->verbose >= 2, err, errlen);
}

#define DISK_CHECK_S 3.0
#define DISK_CHECK_MAX (8ull << 30)	/* at most 8 GiB, and a quarter of the free space */

/* --check-disk: the capture directory against what the link needs. 0 when it keeps up. */
int
lc_app_check_disk(const struct lc_capture *cap, const struct lc_outpath *out)
{
	struct lc_disk_result r;
	char err[LC_ERRLEN];
	uint32_t mbps = lc_capture_link_mbps(cap);
	double need = lc_disk_need(mbps);

	fprintf(stderr, "linecap: disk check: writing to %s for %.0f s...\n", out->dir,
		DISK_CHECK_S);
	if (lc_disk_check(out->dir, lc_capture_write_bytes(), DISK_CHECK_S, DISK_CHECK_MAX, &r, err,
			  sizeof(err)) < 0)
	{
		fprintf(stderr, "linecap: %s\n", err);
		return 1;
	}
	fprintf(stderr, "linecap: disk check: %s: %.2f GB written and synced in %.2f s "
		"(%s, %u KiB blocks): %.2f GB/s sustained\n", out->dir, (double)r.bytes / 1e9,
		r.seconds, r.direct ? "O_DIRECT" : "page cache", (unsigned int)(lc_capture_write_bytes() >> 10),
		r.bytes_per_s / 1e9);
	if (mbps == 0) {
		fprintf(stderr, "linecap: disk check: the link speed is unknown: nothing to "
			"compare with\n");
		return 0;
	}
	fprintf(stderr, "linecap: disk check: a full %.0f Gbit/s link needs up to %.2f GB/s: %s\n",
		mbps / 1000.0, need / 1e9, r.bytes_per_s >= need ? "the disk keeps up" :
		"the disk is too slow; at full rate the buffers fill and packets are dropped "
		"(use a filter, or faster or striped disks)");
	return r.bytes_per_s >= need ? 0 : 1;
}

/* -Z with retention: every earlier file that counts towards it must be one u can delete. */
int
lc_app_check_retention(const struct lc_capture *cap, const struct lc_user *u, char *err,
		       size_t errlen)
{
	char remedy[160];

	snprintf(remedy, sizeof(remedy), "%s could not retire them; move them away, or "
		 "capture without -Z or without retention", u->name);
	return lc_capture_check_unlink(cap, u->uid, u->name, remedy, err, errlen);
}

/* -Z: hand what root made to the user (files, EAL's runtime directory), then become it. */
int
lc_app_drop_root(struct lc_capture *cap, const struct lc_user *u, char *err, size_t errlen)
{
	int rc = lc_capture_chown(cap, u->uid, u->gid, err, errlen);

	if (rc < 0)
		return rc;
	rc = lc_eal_chown_runtime(u->uid, u->gid);
	if (rc < 0) {
		snprintf(err, errlen, "-Z %s: %s: %s", u->name, rte_eal_get_runtime_dir(),
			 strerror(-rc));
		return rc;
	}
	return lc_privs_drop(u, err, errlen);
}

