/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command.h"

int
lc_command_split(const char *line, const char *label, char ***argv, char *err,
		 size_t errlen)
{
	size_t len = strlen(line);
	/* The pointers, then a copy of the line cut into words. */
	char **v = malloc((LC_COMMAND_WORDS + 1) * sizeof(char *) + len + 1);
	char *s, *save = NULL;
	int n = 0;

	if (v == NULL) {
		snprintf(err, errlen, "%s: out of memory", label);
		return -ENOMEM;
	}
	s = (char *)(v + LC_COMMAND_WORDS + 1);
	memcpy(s, line, len + 1);
	for (char *w = strtok_r(s, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save)) {
		if (n == LC_COMMAND_WORDS) {
			snprintf(err, errlen, "%s '%s': more than %d words", label, line,
				 LC_COMMAND_WORDS);
			free(v);
			return -EINVAL;
		}
		v[n++] = w;
	}
	if (n == 0) {
		snprintf(err, errlen, "%s '%s': no command", label, line);
		free(v);
		return -EINVAL;
	}
	v[n] = NULL;
	*argv = v;
	return n;
}

/* A regular file this process may execute: 0, -ENOENT or -EACCES. */
static int
executable(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return errno == EACCES ? -EACCES : -ENOENT;
	if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0)
		return -EACCES;
	return 0;
}

int
lc_command_resolve(const char *prog, char *out, size_t len)
{
	const char *path = getenv("PATH");
	int rc = -ENOENT;

	if (strchr(prog, '/') != NULL) {
		if (snprintf(out, len, "%s", prog) >= (int)len)
			return -ENAMETOOLONG;
		return executable(out);
	}
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path != '\0') {
		const char *end = strchrnul(path, ':');
		int dlen = (int)(end - path);
		int r;

		/* An empty entry is the current directory, as execvp takes it. */
		if (snprintf(out, len, "%.*s%s%s", dlen, path, dlen ? "/" : "./", prog) <
		    (int)len) {
			r = executable(out);
			if (r == 0)
				return 0;
			if (r == -EACCES)
				rc = -EACCES;	/* remembered; a later one may do */
		}
		path = *end ? end + 1 : end;
	}
	return rc;
}
