/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_PRIVS_H
#define LINECAP_PRIVS_H

/*
 * -Z USER, as tcpdump does it: root opens what needs root (hugepages, the device, the
 * telemetry socket, the first files), then becomes USER for the rest of the capture. What
 * root created for the capture (the output directory, the manifest, the open files) is given
 * to USER first, so the capture goes on writing, rotating and retiring files as USER.
 * Only what linecap created is given away, through open descriptors (never by a name that
 * a link could redirect): a directory or manifest that was there already keeps its owner,
 * and USER must be able to write it (checked at start, lc_privs_check_write and
 * lc_privs_check_append); with retention, USER must be able to delete the earlier files it
 * would retire (checked once the capture is set up, before root is dropped).
 */
#include <stddef.h>
#include <sys/types.h>

struct lc_user {
	uid_t uid;
	gid_t gid;
	char name[64];
};

/* Look USER up (name or numeric uid). 0, or -EINVAL with "-Z USER: reason" in err. */
int lc_privs_lookup(const char *user, struct lc_user *u, char *err, size_t errlen);

/* Can u reach (search) the directory that holds dir? Checked as u, before capturing, so a
 * capture never starts that could not go on once root is gone. For a directory linecap is
 * about to create (it is given to u). 0, or -errno with a reason in err. */
int lc_privs_check_reach(const struct lc_user *u, const char *dir, char *err, size_t errlen);

/* Can u create, rename and delete files in dir, an existing directory linecap did not
 * create (so it keeps its owner: linecap never gives away what it did not make)? Checked as
 * u, before capturing. 0, or -errno with one line in err: "-Z USER: USER cannot write DIR
 * (reason): REMEDY". */
int lc_privs_check_write(const struct lc_user *u, const char *dir, const char *remedy,
			 char *err, size_t errlen);

/* Can u append to file, an existing manifest linecap did not create (so it keeps its
 * owner)? Checked as u, before capturing. 0, or -errno with one line in err: "-Z USER: USER
 * cannot append to FILE (reason): REMEDY". */
int lc_privs_check_append(const struct lc_user *u, const char *file, const char *remedy,
			  char *err, size_t errlen);

/* Before root creates dir for u: no symbolic link on the way to it that u owns, or that is
 * owned by neither root nor the owner of the directory holding it (fs.protected_symlinks'
 * rule, in any directory), so u cannot point root's mkdir somewhere else. 0, or -EPERM with
 * one line in err. */
int lc_privs_check_links(const struct lc_user *u, const char *dir, char *err, size_t errlen);

/* -z: may u execute the program of command (its first word, looked up in PATH)? 0, or
 * -errno with "-Z USER: USER cannot run PROG (why): ..." in err. */
/* Can u read file (-r, read once root is dropped)? 0, or -errno with one line in err. */
int lc_privs_check_read(const struct lc_user *u, const char *file, char *err, size_t errlen);

int lc_privs_check_command(const struct lc_user *u, const char *command, char *err,
			   size_t errlen);

/* Could uid delete a file (st: file) from a directory (st: dir) it can write? In a sticky
 * directory only root, the file's owner and the directory's owner can. 1 or 0. */
struct stat;
int lc_privs_may_unlink(uid_t uid, const struct stat *dir, const struct stat *file);

/* Become u for good: supplementary groups, gid, uid; checks that root cannot be regained.
 * 0, or -errno with a reason in err. */
int lc_privs_drop(const struct lc_user *u, char *err, size_t errlen);

#endif
