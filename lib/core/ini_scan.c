/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "linecap/config.h"
#include "linecap/ini_scan.h"

int
lc_ini_error(char *err, size_t errlen, const char *file, unsigned int line, const char *msg)
{
	char copy[LC_ERRLEN];

	snprintf(copy, sizeof(copy), "%s", msg);
	if (line)
		snprintf(err, errlen, "%s:%u: %s", file, line, copy);
	else
		snprintf(err, errlen, "%s: %s", file, copy);
	return -EINVAL;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int
lc_ini_scan(const char *file, const char *const *sections, size_t nsections,
	    struct lc_ini_key *kl, size_t max, size_t *n, char *err, size_t errlen)
{
	char buf[4096], section[CFG_NAME_LEN] = "", msg[LC_ERRLEN];
	unsigned int line = 0;
	FILE *f = fopen(file, "r");

	*n = 0;
	if (f == NULL) {
		snprintf(msg, sizeof(msg), "%s", strerror(errno));
		return lc_ini_error(err, errlen, file, 0, msg);
	}
	while (fgets(buf, sizeof(buf), f) != NULL) {
		char *s, *eq, *hash = strchr(buf, '#');

		line++;
		if (strchr(buf, '\n') == NULL && !feof(f)) {
			fclose(f);
			return lc_ini_error(err, errlen, file, line, "line too long");
		}
		if (hash != NULL)
			*hash = '\0';
		s = trim(buf);
		if (*s == '\0')
			continue;
		if (*s == '[') {
			size_t len = strlen(s);
			int known = 0;

			if (s[len - 1] != ']') {
				fclose(f);
				return lc_ini_error(err, errlen, file, line,
						    "a section is written [name]");
			}
			s[len - 1] = '\0';
			s = trim(s + 1);
			for (size_t i = 0; i < nsections; i++)
				known |= strcmp(s, sections[i]) == 0;
			if (!known) {
				size_t off = (size_t)snprintf(msg, sizeof(msg),
							      "[%s]: unknown section (", s);

				for (size_t i = 0; i < nsections && off < sizeof(msg); i++)
					off += (size_t)snprintf(msg + off, sizeof(msg) - off,
								"%s%s", i ? ", " : "",
								sections[i]);
				if (off < sizeof(msg))
					snprintf(msg + off, sizeof(msg) - off, ")");
				fclose(f);
				return lc_ini_error(err, errlen, file, line, msg);
			}
			snprintf(section, sizeof(section), "%s", s);
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			fclose(f);
			return lc_ini_error(err, errlen, file, line, "expected key = value");
		}
		*eq = '\0';
		s = trim(s);
		if (section[0] == '\0') {
			snprintf(msg, sizeof(msg), "%s: outside any section", s);
			fclose(f);
			return lc_ini_error(err, errlen, file, line, msg);
		}
		if (strlen(trim(eq + 1)) >= CFG_VALUE_LEN) {
			snprintf(msg, sizeof(msg), "%s: value longer than %u characters%s", s,
				 CFG_VALUE_LEN - 1, strcmp(s, "filter") == 0 ?
				 " (put a long filter in a filter-file)" : "");
			fclose(f);
			return lc_ini_error(err, errlen, file, line, msg);
		}
		for (size_t i = 0; i < *n; i++)
			if (strcmp(kl[i].key, s) == 0) {
				snprintf(msg, sizeof(msg), "%s: given twice (line %u)", s,
					 kl[i].line);
				fclose(f);
				return lc_ini_error(err, errlen, file, line, msg);
			}
		if (*n == max || strlen(s) >= CFG_NAME_LEN) {
			snprintf(msg, sizeof(msg), "%s: unknown key", s);
			fclose(f);
			return lc_ini_error(err, errlen, file, line, msg);
		}
		snprintf(kl[*n].section, sizeof(kl[*n].section), "%s", section);
		snprintf(kl[*n].key, sizeof(kl[*n].key), "%s", s);
		kl[*n].line = line;
		(*n)++;
	}
	fclose(f);
	return 0;
}

