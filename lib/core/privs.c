/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linecap/privs.h"
#include "command.h"

int
lc_privs_lookup(const char *user, struct lc_user *u, char *err, size_t errlen)
{
	struct passwd *pw;
	char *end;

	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL && user[0] != '\0') {
		unsigned long id = strtoul(user, &end, 10);

		if (*end == '\0' && user[0] >= '0' && user[0] <= '9')
			pw = getpwuid((uid_t)id);
	}
	if (pw == NULL) {
		snprintf(err, errlen, "-Z %s: no such user", user);
		return -EINVAL;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "-Z %s: that is root; give an unprivileged user", user);
		return -EINVAL;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	return 0;
}

int
lc_privs_drop(const struct lc_user *u, char *err, size_t errlen)
{
	const char *step;

	if (initgroups(u->name, u->gid) != 0) {
		step = "initgroups";
		goto fail;
	}
	if (setresgid(u->gid, u->gid, u->gid) != 0) {
		step = "setresgid";
		goto fail;
	}
	if (setresuid(u->uid, u->uid, u->uid) != 0) {
		step = "setresuid";
		goto fail;
	}
	if (setuid(0) == 0 || geteuid() != u->uid) {
		snprintf(err, errlen, "-Z %s: root could be regained after dropping it", u->name);
		return -EPERM;
	}
	return 0;
fail:
	snprintf(err, errlen, "-Z %s: %s: %s", u->name, step, strerror(errno));
	return -errno;
}

/* faccessat(path, mode) as u (effective ids only; the saved uid stays root to come back).
 * 0 or -errno of the access; 1 with err set when the identity could not be taken or left. */
static int
access_as(const struct lc_user *u, const char *path, int mode, char *err, size_t errlen)
{
	int rc = 0;

	if (setegid(u->gid) != 0 || seteuid(u->uid) != 0) {
		snprintf(err, errlen, "-Z %s: cannot take its identity: %s", u->name,
			 strerror(errno));
		seteuid(0);
		setegid(0);
		return 1;
	}
	if (faccessat(AT_FDCWD, path, mode, AT_EACCESS) != 0)	/* as the effective user */
		rc = -errno;
	if (seteuid(0) != 0 || setegid(0) != 0) {
		snprintf(err, errlen, "-Z %s: cannot become root again: %s", u->name,
			 strerror(errno));
		return 1;
	}
	return rc;
}

int
lc_privs_check_read(const struct lc_user *u, const char *file, char *err, size_t errlen)
{
	int rc = access_as(u, file, R_OK, err, errlen);

	if (rc == 1)
		return -EPERM;
	if (rc < 0)
		snprintf(err, errlen, "-Z %s: %s cannot read %s (%s): -r reads its files as that "
			 "user", u->name, u->name, file, strerror(-rc));
	return rc;
}

int
lc_privs_check_command(const struct lc_user *u, const char *command, char *err, size_t errlen)
{
	char prog[PATH_MAX], **argv = NULL;
	int rc = lc_command_split(command, "-z", &argv, err, errlen);

	if (rc < 0)
		return rc;
	rc = lc_command_resolve(argv[0], prog, sizeof(prog));
	if (rc == 0) {
		rc = access_as(u, prog, X_OK, err, errlen);
		if (rc == 1)
			rc = -EPERM;
		else if (rc < 0)
			snprintf(err, errlen, "-Z %s: %s cannot run %s (%s): -z runs its command as "
				 "that user", u->name, u->name, prog, strerror(-rc));
	} else {
		snprintf(err, errlen, "-z %s: %s", argv[0], strerror(-rc));
	}
	free(argv);
	return rc;
}

int
lc_privs_check_reach(const struct lc_user *u, const char *dir, char *err, size_t errlen)
{
	char parent[4096];
	char *slash;
	int rc;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash == NULL)
		snprintf(parent, sizeof(parent), ".");
	else if (slash == parent)
		parent[1] = '\0';
	else
		*slash = '\0';
	rc = access_as(u, parent, X_OK, err, errlen);
	if (rc == 1)
		return -EPERM;
	if (rc < 0)
		snprintf(err, errlen, "-Z %s: %s cannot reach %s (%s): the output directory must "
			 "be reachable by that user", u->name, u->name, parent, strerror(-rc));
	return rc;
}

int
lc_privs_check_write(const struct lc_user *u, const char *dir, const char *remedy, char *err,
		     size_t errlen)
{
	int rc = access_as(u, dir, W_OK | X_OK, err, errlen);

	if (rc == 1)
		return -EPERM;
	if (rc < 0)
		snprintf(err, errlen, "-Z %s: %s cannot write %s (%s): %s", u->name, u->name, dir,
			 strerror(-rc), remedy);
	return rc;
}

int
lc_privs_check_append(const struct lc_user *u, const char *file, const char *remedy,
		      char *err, size_t errlen)
{
	int rc = access_as(u, file, W_OK, err, errlen);

	if (rc == 1)
		return -EPERM;
	if (rc < 0)
		snprintf(err, errlen, "-Z %s: %s cannot append to %s (%s): %s", u->name, u->name,
			 file, strerror(-rc), remedy);
	return rc;
}

int
lc_privs_check_links(const struct lc_user *u, const char *dir, char *err, size_t errlen)
{
	char path[4096];
	size_t n = strlen(dir), at;
	struct stat st, pst;

	if (n >= sizeof(path))
		return 0;	/* too long to be made anyway */
	memcpy(path, dir, n + 1);
	/* Each component in turn (its prefix of the path), the last one too. */
	for (at = 1; at <= n; at++) {
		if (at < n && path[at] != '/')
			continue;
		char c = path[at];
		char *slash;

		path[at] = '\0';
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
			char parent[4096];

			snprintf(parent, sizeof(parent), "%s", path);
			slash = strrchr(parent, '/');
			if (slash == NULL)
				snprintf(parent, sizeof(parent), ".");
			else
				slash[slash == parent ? 1 : 0] = '\0';
			if (st.st_uid == u->uid ||
			    (st.st_uid != 0 && (stat(parent, &pst) != 0 || pst.st_uid != st.st_uid))) {
				snprintf(err, errlen, "-Z %s: %s is a symbolic link that %s, not root "
					 "or its directory's owner, could have put there: give -w a "
					 "path without it", u->name, path,
					 st.st_uid == u->uid ? u->name : "another user");
				return -EPERM;
			}
		}
		path[at] = c;
	}
	return 0;
}

int
lc_privs_may_unlink(uid_t uid, const struct stat *dir, const struct stat *file)
{
	return uid == 0 || !(dir->st_mode & S_ISVTX) || file->st_uid == uid ||
	       dir->st_uid == uid;
}
