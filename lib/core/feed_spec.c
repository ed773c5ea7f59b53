/* SPDX-License-Identifier: BSD-3-Clause */
/* --feed's spec: [ADDR:]PORT and its comma-separated options (linecap/feed.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linecap/config.h"
#include "parse.h"

static int
bad(char *err, size_t errlen, const char *label, const char *s, const char *why)
{
	snprintf(err, errlen, "%s %s: %s", label, s, why);
	return -EINVAL;
}

/* ADDR:PORT, [ADDR6]:PORT or PORT (len bytes at s) into spec. */
static int
parse_where(const char *s, size_t len, const char *label, const char *all,
	    struct lc_feed_spec *spec, char *err, size_t errlen)
{
	char buf[128], *port = buf, *end;
	unsigned long n;
	unsigned char a[16];

	if (len == 0 || len >= sizeof(buf))
		return bad(err, errlen, label, all, "expected [ADDR:]PORT first");
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (buf[0] == '[') {			/* [IPv6]:PORT */
		char *close = strchr(buf, ']');

		if (close == NULL || close[1] != ':')
			return bad(err, errlen, label, all, "expected [IPV6]:PORT");
		*close = '\0';
		snprintf(spec->host, sizeof(spec->host), "%s", buf + 1);
		port = close + 2;
		if (inet_pton(AF_INET6, spec->host, a) != 1)
			return bad(err, errlen, label, all, "not an IPv6 address in [ ]");
	} else if ((end = strrchr(buf, ':')) != NULL) {
		*end = '\0';
		if (strlen(buf) >= sizeof(spec->host) || inet_pton(AF_INET, buf, a) != 1)
			return bad(err, errlen, label, all, "the address must be numeric IPv4 "
				   "(a.b.c.d) or IPv6 in brackets ([::1])");
		snprintf(spec->host, sizeof(spec->host), "%s", buf);
		port = end + 1;
	}
	errno = 0;
	n = strtoul(port, &end, 10);
	if (errno != 0 || end == port || *end != '\0' || n == 0 || n > 65535 || port[0] == '-' ||
	    port[0] == '+')
		return bad(err, errlen, label, all, "the port must be 1..65535");
	spec->port = (uint16_t)n;
	return 0;
}

/* One NAME or NAME=VALUE option (len bytes at o). */
static int
parse_option(const char *o, size_t len, const char *label, const char *all,
	     struct lc_feed_spec *spec, char *err, size_t errlen)
{
	char buf[96], msg[LC_ERRLEN], opt[200];
	char *val;
	uint64_t u;
	double d;
	int rc = 0;

	if (len >= sizeof(buf))
		return bad(err, errlen, label, all, "an option is too long");
	memcpy(buf, o, len);
	buf[len] = '\0';
	val = strchr(buf, '=');
	if (val != NULL)
		*val++ = '\0';
	snprintf(opt, sizeof(opt), "%s %.*s: %s", label, 60, all, buf);
	if (strcmp(buf, "connect") == 0 || strcmp(buf, "usec") == 0) {
		if (val != NULL)
			return bad(err, errlen, label, all, "connect and usec take no value");
		*(buf[0] == 'c' ? &spec->connect : &spec->usec) = true;
		return 0;
	}
	if (val == NULL)
		return bad(err, errlen, label, all, "unknown option (connect, usec, snaplen=, "
			   "max-clients=, stall=, buffer=, filter=)");
	if (strcmp(buf, "snaplen") == 0) {
		rc = lc_parse_u64(opt, val, LC_SNAPLEN_MIN, LC_SNAPLEN_MAX, "snaplen", &u, msg,
				  sizeof(msg));
		spec->snaplen = (uint32_t)u;
	} else if (strcmp(buf, "max-clients") == 0) {
		rc = lc_parse_u64(opt, val, 1, LC_FEED_CLIENTS_LIMIT, "max-clients", &u, msg,
				  sizeof(msg));
		spec->max_clients = (unsigned int)u;
	} else if (strcmp(buf, "stall") == 0) {
		rc = lc_parse_decimal(opt, val, 3600, &d, msg, sizeof(msg));
		spec->stall_ms = (uint32_t)(d * 1000);
		if (rc == 0 && spec->stall_ms < 100)
			return bad(err, errlen, label, all, "stall must be at least 0.1 s");
	} else if (strcmp(buf, "buffer") == 0) {
		rc = lc_parse_size(opt, val, &spec->buffer, msg, sizeof(msg));
		if (rc == 0 && (spec->buffer < LC_FEED_BUFFER_MIN ||
				spec->buffer > LC_FEED_BUFFER_MAX))
			return bad(err, errlen, label, all, "buffer must be 64Ki..1Gi (K is 1000 "
				   "bytes, Ki 1024)");
		while (rc == 0 && (spec->buffer & (spec->buffer - 1)) != 0)
			spec->buffer += spec->buffer & -spec->buffer;	/* a power of two */
	} else {
		return bad(err, errlen, label, all, "unknown option (connect, usec, snaplen=, "
			   "max-clients=, stall=, buffer=, filter=)");
	}
	if (rc < 0)
		snprintf(err, errlen, "%s", msg);
	return rc;
}

int
lc_feed_spec_parse(const char *s, const char *label, struct lc_feed_spec *spec, char *err,
		   size_t errlen)
{
	const char *p = s, *comma;
	bool clients = false;
	int rc;

	*spec = (struct lc_feed_spec){ .host = "127.0.0.1", .max_clients = LC_FEED_MAX_CLIENTS,
				       .stall_ms = LC_FEED_STALL_MS, .buffer = LC_FEED_BUFFER };
	comma = strchr(p, ',');
	rc = parse_where(p, comma ? (size_t)(comma - p) : strlen(p), label, s, spec, err,
			 errlen);
	while (rc == 0 && comma != NULL) {
		p = comma + 1;
		if (strncmp(p, "filter=", 7) == 0) {	/* the rest, commas and all */
			spec->filter = p + 7;
			if (spec->filter[strspn(spec->filter, " \t")] == '\0')
				return bad(err, errlen, label, s, "filter= needs an expression");
			break;
		}
		comma = strchr(p, ',');
		clients |= strncmp(p, "max-clients=", 12) == 0;
		rc = parse_option(p, comma ? (size_t)(comma - p) : strlen(p), label, s, spec, err,
				  errlen);
	}
	if (rc == 0 && spec->connect && clients)
		return bad(err, errlen, label, s, "max-clients means nothing with connect (one "
			   "connection out)");
	if (rc == 0 && (uint64_t)spec->max_clients * spec->buffer > LC_FEED_MEM_MAX)
		return bad(err, errlen, label, s, "max-clients x buffer is over 4Gi: clients "
			   "that all stall would hold that much memory");
	return rc;
}
