/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_COMMAND_H
#define LINECAP_COMMAND_H

/*
 * A command line as -z takes it: words split on blanks (spaces and tabs), no shell, no
 * quoting, no expansion; its program looked up in PATH when it has no '/'.
 */
#include <stddef.h>

#define LC_COMMAND_WORDS 64	/* at most this many words (the program included) */

/*
 * Split line into words: a NULL-terminated array of at most LC_COMMAND_WORDS pointers into
 * one allocation (free(*argv) frees all). Returns the number of words (1 or more), or
 * -EINVAL with "label 'LINE': why" in err (empty, too many words), -ENOMEM.
 */
int lc_command_split(const char *line, const char *label, char ***argv, char *err,
		     size_t errlen);

/*
 * The executable that prog names: prog itself when it has a '/', else the first PATH
 * directory (PATH unset: /usr/local/bin:/usr/bin:/bin) holding a regular file by that name
 * that this process may execute. Returns 0 with the path in out, or -ENOENT (not found),
 * -EACCES (found, not executable), -ENAMETOOLONG.
 */
int lc_command_resolve(const char *prog, char *out, size_t len);

#endif
