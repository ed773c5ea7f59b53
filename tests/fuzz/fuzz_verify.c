/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness over linecap-verify's reading of a manifest: the input is manifest.jsonl
 * of a directory that also holds one small, valid capture file (x-q00-000001.pcap, written
 * at start). Lines that are not JSON, fields of the wrong type, absurd numbers, paths that
 * try to leave the directory, broken chains: verify must report findings, never crash, never
 * touch anything (no repair). Built and run by scripts/fuzz.sh.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linecap/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char dir[] = "/tmp/lc_fuzz_verify_XXXXXX";
static char manifest[sizeof(dir) + 32];

/* The capture file the seeds' manifests describe: a nanosecond pcap header and two
 * 60-byte Ethernet records (scripts/fuzz_seeds.py writes the same bytes). */
static void
write_capture(void)
{
	uint8_t f[24 + 2 * (16 + 60)];
	uint32_t hdr[6] = { 0xa1b23c4d, 0x00040002, 0, 0, 262144, 1 };
	char path[sizeof(dir) + 32];
	int fd;

	memset(f, 0, sizeof(f));
	memcpy(f, hdr, sizeof(hdr));
	for (int i = 0; i < 2; i++) {
		uint32_t rh[4] = { 1767225600u + (uint32_t)i, 1000u * (uint32_t)i, 60, 60 };
		uint8_t *p = f + 24 + i * (16 + 60);

		memcpy(p, rh, sizeof(rh));
		p[16 + 12] = 0x08;	/* IPv4 */
		p[16 + 59] = (uint8_t)i;
	}
	snprintf(path, sizeof(path), "%s/x-q00-000001.pcap", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	if (fd < 0 || write(fd, f, sizeof(f)) != (ssize_t)sizeof(f))
		abort();
	close(fd);
}

static void
cleanup(void)
{
	char path[sizeof(dir) + 32];

	snprintf(path, sizeof(path), "%s/x-q00-000001.pcap", dir);
	unlink(path);
	unlink(manifest);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL)
		abort();
	atexit(cleanup);
	snprintf(manifest, sizeof(manifest), "%s/manifest.jsonl", dir);
	write_capture();
	return 0;
}

static void
quiet(void *arg, const char *line)
{
	(void)arg;
	if (strchr(line, '\n') != NULL)	/* one line per finding */
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lc_verify_summary sum;
	int fd = open(manifest, O_WRONLY | O_CREAT | O_TRUNC, 0640);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	memset(&sum, 0, sizeof(sum));
	int n = lc_verify_dir(dir, 0, quiet, NULL, &sum);

	if (n < 0 || sum.verified > sum.recorded || sum.repaired != 0)
		abort();
	struct stat st;
	char path[sizeof(dir) + 32];

	/* Nothing but the manifest is touched: the capture file is there, whole. */
	snprintf(path, sizeof(path), "%s/x-q00-000001.pcap", dir);
	if (stat(path, &st) != 0 || st.st_size != 24 + 2 * (16 + 60))
		abort();
	return 0;
}
