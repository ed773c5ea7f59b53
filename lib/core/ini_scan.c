/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "linecap/config.h"
#include "ini_scan.h"

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

/* What a scan knows between lines. */
struct scan {
	const char *const *sections;	/* the known ones */
	size_t nsections;
	char section[CFG_NAME_LEN];	/* the one we are in; "" before the first */
	struct lc_ini_key *kl;
	size_t max, n;
};

/* A section header s ("[name]", trimmed) that must be a known section. */
static int
scan_section(struct scan *sc, char *s, char *msg, size_t len)
{
	size_t n = strlen(s), off;

	if (s[n - 1] != ']') {
		snprintf(msg, len, "a section is written [name]");
		return -EINVAL;
	}
	s[n - 1] = '\0';
	s = trim(s + 1);
	for (size_t i = 0; i < sc->nsections; i++)
		if (strcmp(s, sc->sections[i]) == 0) {
			snprintf(sc->section, sizeof(sc->section), "%s", s);
			return 0;
		}
	off = (size_t)snprintf(msg, len, "[%s]: unknown section (", s);
	for (size_t i = 0; i < sc->nsections && off < len; i++)
		off += (size_t)snprintf(msg + off, len - off, "%s%s", i ? ", " : "",
					sc->sections[i]);
	if (off < len)
		snprintf(msg + off, len - off, ")");
	return -EINVAL;
}

/* A line "key = value" (trimmed, not empty) in the current section, on line line. */
static int
scan_key(struct scan *sc, char *s, unsigned int line, char *msg, size_t len)
{
	char *eq = strchr(s, '=');
	struct lc_ini_key *k;

	if (eq == NULL) {
		snprintf(msg, len, "expected key = value");
		return -EINVAL;
	}
	*eq = '\0';
	s = trim(s);
	if (sc->section[0] == '\0') {
		snprintf(msg, len, "%s: outside any section", s);
		return -EINVAL;
	}
	if (strlen(trim(eq + 1)) >= CFG_VALUE_LEN) {
		snprintf(msg, len, "%s: value longer than %u characters%s", s, CFG_VALUE_LEN - 1,
			 strcmp(s, "filter") == 0 ? " (put a long filter in a filter-file)" : "");
		return -EINVAL;
	}
	for (size_t i = 0; i < sc->n; i++)
		if (strcmp(sc->kl[i].key, s) == 0) {
			snprintf(msg, len, "%s: given twice (line %u)", s, sc->kl[i].line);
			return -EINVAL;
		}
	if (sc->n == sc->max || strlen(s) >= CFG_NAME_LEN) {
		snprintf(msg, len, "%s: unknown key", s);
		return -EINVAL;
	}
	k = &sc->kl[sc->n++];
	snprintf(k->section, sizeof(k->section), "%s", sc->section);
	snprintf(k->key, sizeof(k->key), "%s", s);
	k->line = line;
	return 0;
}

int
lc_ini_scan(const char *file, const char *const *sections, size_t nsections,
	    struct lc_ini_key *kl, size_t max, size_t *n, char *err, size_t errlen)
{
	struct scan sc = { .sections = sections, .nsections = nsections, .kl = kl, .max = max };
	char buf[4096], msg[LC_ERRLEN] = "";
	unsigned int line = 0;
	FILE *f = fopen(file, "r");
	int rc = 0;

	*n = 0;
	if (f == NULL) {
		snprintf(msg, sizeof(msg), "%s", strerror(errno));
		return lc_ini_error(err, errlen, file, 0, msg);
	}
	while (rc == 0 && fgets(buf, sizeof(buf), f) != NULL) {
		char *s, *hash = strchr(buf, '#');

		line++;
		if (strchr(buf, '\n') == NULL && !feof(f)) {
			snprintf(msg, sizeof(msg), "line too long");
			rc = -EINVAL;
			break;
		}
		if (hash != NULL)
			*hash = '\0';
		s = trim(buf);
		if (*s == '[')
			rc = scan_section(&sc, s, msg, sizeof(msg));
		else if (*s != '\0')
			rc = scan_key(&sc, s, line, msg, sizeof(msg));
	}
	fclose(f);
	*n = sc.n;
	return rc < 0 ? lc_ini_error(err, errlen, file, line, msg) : 0;
}
