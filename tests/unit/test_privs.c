/* SPDX-License-Identifier: BSD-3-Clause */
/* -Z: the checks made as the user before a capture starts (needs root and user nobody). */
#include <fcntl.h>
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

/* An earlier capture's manifest: nobody must be able to append to it (root's 0640: no). */
static void
test_append(const struct lc_user *u)
{
	char err[1024], path[PATH_MAX];
	int fd;

	CHECK(chmod(tmpdir, 0755) == 0);
	snprintf(path, sizeof(path), "%s/manifest.jsonl", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
	CHECK(fd >= 0);
	close(fd);
	CHECK(chmod(path, 0640) == 0);
	CHECK(lc_privs_check_append(u, path, "do that", err, sizeof(err)) == -EACCES);
	CHECK_STR_HAS(err, "-Z nobody: nobody cannot append to ");
	CHECK_STR_HAS(err, path);
	CHECK_STR_HAS(err, "do that");
	CHECK(geteuid() == 0 && getegid() == 0);
	CHECK(chown(path, u->uid, u->gid) == 0);
	CHECK(lc_privs_check_append(u, path, "", err, sizeof(err)) == 0);
	CHECK(unlink(path) == 0);
}

/* The sticky rule: in a sticky directory only root, the file's and the directory's owner. */
static void
test_may_unlink(void)
{
	struct stat dir = { .st_mode = S_IFDIR | 01777, .st_uid = 0 };
	struct stat file = { .st_mode = S_IFREG | 0640, .st_uid = 0 };

	CHECK(!lc_privs_may_unlink(65534, &dir, &file));
	CHECK(lc_privs_may_unlink(0, &dir, &file));
	file.st_uid = 65534;
	CHECK(lc_privs_may_unlink(65534, &dir, &file));
	file.st_uid = 1;
	dir.st_uid = 65534;
	CHECK(lc_privs_may_unlink(65534, &dir, &file));
	dir.st_uid = 1;
	dir.st_mode = S_IFDIR | 0777;
	CHECK(lc_privs_may_unlink(65534, &dir, &file));
}

/* A link on the way to the -w directory root creates: nobody's, or another user's in a
 * directory not theirs, is refused; root's, and one in its owner's directory, are not. */
static void
test_links(const struct lc_user *u)
{
	char err[1024], dir[PATH_MAX], link[PATH_MAX], path[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/links", tmpdir);
	CHECK(mkdir(dir, 0755) == 0);
	snprintf(link, sizeof(link), "%s/l", dir);
	CHECK(symlink(tmpdir, link) == 0);
	snprintf(path, sizeof(path), "%s/new", link);
	CHECK(lc_privs_check_links(u, path, err, sizeof(err)) == 0);	/* root's link */
	CHECK(lchown(link, u->uid, u->gid) == 0);
	CHECK(lc_privs_check_links(u, path, err, sizeof(err)) == -EPERM);
	CHECK_STR_HAS(err, link);
	CHECK_STR_HAS(err, "-Z nobody: ");
	CHECK(strchr(err, '\n') == NULL);
	CHECK(lc_privs_check_links(u, link, err, sizeof(err)) == -EPERM);	/* the last one */
	CHECK(lchown(link, 1, 1) == 0);		/* daemon's, in root's directory */
	CHECK(lc_privs_check_links(u, path, err, sizeof(err)) == -EPERM);
	CHECK(chown(dir, 1, 1) == 0);		/* daemon's, in daemon's directory */
	CHECK(lc_privs_check_links(u, path, err, sizeof(err)) == 0);
	snprintf(path, sizeof(path), "%s/a/b/c", tmpdir);
	CHECK(lc_privs_check_links(u, path, err, sizeof(err)) == 0);	/* nothing there */
	CHECK(lc_privs_check_links(u, "rel/x", err, sizeof(err)) == 0);
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
	test_append(&u);
	test_may_unlink();
	test_links(&u);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return lc_test_done("test_privs");
}
