/* SPDX-License-Identifier: BSD-3-Clause */
/* -Z: the checks made as the user before a capture starts (needs root and user nobody). */
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lc_test.h"

#include "linecap/privs.h"

static char tmpdir[] = "/tmp/lc_test_privs_XXXXXX";

static void
test_write(const struct lc_user *u)
{
	char err[1024], dir[PATH_MAX];

	/* root's 0755 directory: nobody cannot write it; one line says which, who, what to do. */
	snprintf(dir, sizeof(dir), "%s/root", tmpdir);
	CHECK(mkdir(dir, 0755) == 0 && chmod(dir, 0755) == 0);
	CHECK(lc_privs_check_write(u, dir, "do this", err, sizeof(err)) == -EACCES);
	CHECK_STR_HAS(err, "-Z nobody: nobody cannot write ");
	CHECK_STR_HAS(err, dir);
	CHECK_STR_HAS(err, "do this");
	CHECK(strchr(err, '\n') == NULL);
	CHECK(geteuid() == 0 && getegid() == 0);	/* root again */

	/* world-writable sticky, and nobody's own: fine. */
	snprintf(dir, sizeof(dir), "%s/sticky", tmpdir);
	CHECK(mkdir(dir, 0755) == 0 && chmod(dir, 01777) == 0);
	CHECK(lc_privs_check_write(u, dir, "", err, sizeof(err)) == 0);
	snprintf(dir, sizeof(dir), "%s/nobodys", tmpdir);
	CHECK(mkdir(dir, 0755) == 0 && chown(dir, u->uid, u->gid) == 0);
	CHECK(lc_privs_check_write(u, dir, "", err, sizeof(err)) == 0);

	/* A directory to create under one nobody can reach; not under one it cannot. */
	snprintf(dir, sizeof(dir), "%s/root/new", tmpdir);
	CHECK(lc_privs_check_reach(u, dir, err, sizeof(err)) == 0);
	CHECK(chmod(tmpdir, 0700) == 0);
	CHECK(lc_privs_check_reach(u, dir, err, sizeof(err)) == -EACCES);
	CHECK_STR_HAS(err, "nobody cannot reach");
	CHECK(geteuid() == 0 && getegid() == 0);
}

int
main(void)
{
	struct lc_user u;
	char err[512], cmd[256];

	if (geteuid() != 0 || getpwnam("nobody") == NULL) {
		fprintf(stderr, "test_privs needs root and user nobody\n");
		return 77;
	}
	CHECK(lc_privs_lookup("nobody", &u, err, sizeof(err)) == 0);
	CHECK(lc_privs_lookup("root", &u, err, sizeof(err)) == -EINVAL);
	CHECK(lc_privs_lookup("nobody", &u, err, sizeof(err)) == 0);
	if (mkdtemp(tmpdir) == NULL || chmod(tmpdir, 0755) != 0)
		return 1;
	test_write(&u);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return lc_test_done("test_privs");
}
