/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_APP_STEPS_H
#define LINECAP_APP_STEPS_H

/* The steps of starting a capture, in the order main() takes them. */
#include <stddef.h>

#include "linecap/capture.h"
#include "linecap/config.h"
#include "linecap/filter.h"
#include "linecap/outpath.h"
#include "linecap/privs.h"

/* --stats-file: not a symbolic link nor anything but a regular file, in a directory that
 * takes a new file (nothing is created now). 0/-errno. */
int lc_app_check_stats_file(const char *path, char *err, size_t errlen);

/* -r DIR -w DIR: the capture would read the files it writes. 0, or -EINVAL with one line. */
int lc_app_check_read_dirs(const struct lc_config *cfg, const struct lc_outpath *out,
			   char *err, size_t errlen);

/* -Z: can u go on once root is gone? The output directory, when linecap creates it, must be
 * reachable by u (it is given to u); when it exists, u must be able to write it (it keeps
 * its owner). The directory of stats_file (may be NULL) must be writable by u. 0, or -errno
 * with one line in err naming the directory, the user and what to do. */
int lc_app_check_user(const struct lc_user *u, const struct lc_outpath *out,
		      const char *stats_file, char *err, size_t errlen);

/* -d: print what the filter compiles to on this machine's engine (frees prog). Exit status. */
int lc_app_dump_filter(struct lc_filter_prog *prog, const struct lc_filter_ops *engine,
		       int level);

/* EAL with arguments derived from cfg and plan (lcores on the NIC's socket first). 0/-errno. */
int lc_app_start_eal(const struct lc_config *cfg, const struct lc_capture_plan *plan,
		     char *err, size_t errlen);

/* --check-disk: the capture directory against what the link needs. Exit status: 0 when
 * the disk keeps up, 1 when not. */
int lc_app_check_disk(const struct lc_capture *cap, const struct lc_outpath *out);

/* -Z with -W or --retain-bytes: refuse (-EPERM, one line in err) when an earlier file that
 * counts towards retention is one u could not delete. */
int lc_app_check_retention(const struct lc_capture *cap, const struct lc_user *u, char *err,
			   size_t errlen);

/* -Z: hand what root made to the user (files, EAL's runtime directory), then become it. */
int lc_app_drop_root(struct lc_capture *cap, const struct lc_user *u, char *err,
		     size_t errlen);

#endif
