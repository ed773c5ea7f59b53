/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linecap/privs.h"

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
