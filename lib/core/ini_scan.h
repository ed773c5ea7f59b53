/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_INI_SCAN_H
#define LINECAP_INI_SCAN_H

/*
 * The syntax of an INI file, line by line, beside rte_cfgfile (which reads the values but
 * says nothing of where they are): where each key stands, for messages "FILE:LINE: ...",
 * and what rte_cfgfile would silently accept or cut: keys outside a section, unknown
 * sections, lines that are neither, a key given twice, values too long for it to keep.
 * '#' starts a comment. What the keys mean is the caller's business (lib/core/config.c).
 */
#include <stddef.h>

#include <rte_cfgfile.h>

struct lc_ini_key {
	char section[CFG_NAME_LEN];
	char key[CFG_NAME_LEN];
	unsigned int line;
};

/* Scan file: its keys (at most max) in kl, *n of them. Sections must be among sections[].
 * 0, or -EINVAL / -errno with "FILE:LINE: reason" in err. */
int lc_ini_scan(const char *file, const char *const *sections, size_t nsections,
		struct lc_ini_key *kl, size_t max, size_t *n, char *err, size_t errlen);

/* "FILE:LINE: msg" (line 0: "FILE: msg") into err. Returns -EINVAL. */
int lc_ini_error(char *err, size_t errlen, const char *file, unsigned int line,
		 const char *msg);

#endif
