/* SPDX-License-Identifier: BSD-3-Clause */
/* Option parsing: defaults, every option, and table-driven bad input with its message. */
#include <stdlib.h>
#include <unistd.h>

#include "lc_test.h"

#include "linecap/config.h"

#define MAXARGS 32

static int
parse(struct lc_config *cfg, char *err, const char *const *args)
{
	char *argv[MAXARGS + 1];
	int argc = 0;

	argv[argc++] = "linecap";
	for (; *args && argc < MAXARGS; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	return lc_config_parse(cfg, argc, argv, err, LC_ERRLEN);
}

static void
test_defaults_and_filter(void)
{
	struct lc_config cfg;
	char err[LC_ERRLEN];
	const char *args[] = { "-i", "net_null0", "-w", "/tmp/x", "host", "192.168.1.100",
			       "and", "port", "443", NULL };

	CHECK(parse(&cfg, err, args) == 0);
	CHECK(strcmp(cfg.interface, "net_null0") == 0);
	CHECK(strcmp(cfg.write_path, "/tmp/x") == 0);
	CHECK_EQ_U64(cfg.snaplen, 262144);
	CHECK_EQ_U64(cfg.buffer_bytes, 0);	/* sized by the plan */
	CHECK_EQ_U64(cfg.queues, 0);
	CHECK_EQ_U64(cfg.count, 0);
	CHECK(cfg.filter != NULL && strcmp(cfg.filter, "host 192.168.1.100 and port 443") == 0);
	lc_config_release(&cfg);
}

static void
test_all_options(void)
{
	struct lc_config cfg;
	char err[LC_ERRLEN];
	const char *args[] = { "--interface=net_ring0", "--write", "d", "-s", "0", "-c", "10",
			       "--queues", "4", "--writers", "2", "--duration", "1.5",
			       "-B", "8192", "tcp", NULL };

	CHECK(parse(&cfg, err, args) == 0);
	CHECK_EQ_U64(cfg.snaplen, 262144);	/* 0 means the maximum, as in tcpdump */
	CHECK_EQ_U64(cfg.count, 10);
	CHECK_EQ_U64(cfg.queues, 4);
	CHECK_EQ_U64(cfg.writers, 2);
	CHECK_EQ_U64(cfg.duration_ms, 1500);
	CHECK_EQ_U64(cfg.buffer_bytes, 8ull << 20);	/* KiB, as tcpdump's -B */
	CHECK(cfg.filter && strcmp(cfg.filter, "tcp") == 0);
	lc_config_release(&cfg);

	const char *more[] = { "-i", "x", "-w", "y", "--mbufs", "4096", "--stats-file", "s.json",
			       "--eal", "--log-level=8", "-v", "-v", NULL };
	CHECK(parse(&cfg, err, more) == 0);
	CHECK_EQ_U64(cfg.mbufs, 4096);
	CHECK(strcmp(cfg.stats_file, "s.json") == 0);
	CHECK(strcmp(cfg.eal_args, "--log-level=8") == 0);
	CHECK_EQ_U64(cfg.verbose, 2);
	CHECK(cfg.filter == NULL);
	lc_config_release(&cfg);
}

struct bad_case {
	const char *args[8];
	const char *message;
};

static const struct bad_case bad[] = {
	{ { "-i", "x", "-w", "y", "-s", "70000000" },
	  "-s 70000000: snaplen must be between 64 and 262144" },
	{ { "-i", "x", "-w", "y", "-s", "10" }, "-s 10: snaplen must be between 64" },
	{ { "-i", "x", "-w", "y", "-s", "abc" }, "-s 'abc': snaplen must be a whole number" },
	{ { "-i", "x", "-w", "y", "-s", "-5" }, "-s '-5': snaplen must be a whole number" },
	{ { "-i", "x", "-w", "y", "-c", "0" }, "-c 0: count must be between 1" },
	{ { "-i", "x", "-w", "y", "--queues", "65" }, "--queues 65: queues must be between 1 and 64" },
	{ { "-i", "x", "-w", "y", "--writers", "0" }, "--writers 0: writers must be between 1" },
	{ { "-i", "x", "-w", "y", "--queues", "2", "--writers", "3" },
	  "--writers 3: more writers than queues (2)" },
	{ { "-i", "x", "-w", "y", "--duration", "soon" }, "--duration 'soon': must be a number" },
	{ { "-i", "x", "-w", "y", "--duration", "-1" }, "--duration -1: must be more than 0" },
	{ { "-i", "x", "-w", "y", "-B", "100" }, "-B 100: 100 KiB is below the 4 MiB minimum" },
	{ { "-i", "x", "-w", "y", "-B", "4095" }, "-B 4095: 4095 KiB is below the 4 MiB minimum" },
	{ { "-i", "x", "-w", "y", "-B", "3M" }, "-B 3M: 3 MiB is below the 4 MiB minimum" },
	{ { "-i", "x", "-w", "y", "-B", "0" }, "-B 0: 0 KiB is below the 4 MiB minimum" },
	{ { "-i", "x", "-w", "y", "-B", "65G" }, "-B 65G: 65 GiB is above the 64 GiB maximum" },
	{ { "-i", "x", "-w", "y", "--buffer-size", "67108865" },
	  "-B 67108865: 67108865 KiB is above the 64 GiB maximum" },	/* named as -B */
	{ { "-i", "x", "-w", "y", "-B", "99999999999999999999G" },
	  "-B 99999999999999999999G: 99999999999999999999 GiB is above the 64 GiB maximum" },
	{ { "-i", "x", "-w", "y", "-B", "18014398509481984K" },	/* 2^54 KiB: wraps 2^64 */
	  "-B 18014398509481984K: 18014398509481984 KiB is above the 64 GiB maximum" },
	{ { "-i", "x", "-w", "y", "-B", "12Q" },
	  "-B '12Q': must be a size in KiB, or with a suffix K, M or G" },
	{ { "-i", "x", "-w", "y", "-B", "" }, "-B '': must be a size in KiB" },
	{ { "-i", "x", "-w", "y", "-B", "-5" }, "-B '-5': must be a size in KiB" },
	{ { "-i", "x", "-w", "y", "-B", "+8M" }, "-B '+8M': must be a size in KiB" },
	{ { "-i", "x", "-w", "y", "-B", "1.5G" }, "-B '1.5G': must be a size in KiB" },
	{ { "-i", "x", "-w", "y", "-B", "8MB" }, "-B '8MB': must be a size in KiB" },
	{ { "-i", "x", "-w", "y", "-B", "8Mib" }, "-B '8Mib': must be a size in KiB" },
	{ { "-i", "x", "-w", "y", "-B", "8i" }, "-B '8i': must be a size in KiB" },
	{ { "-i", "x", "-w", "y", "-B", "M" }, "-B 'M': must be a size in KiB" },
	{ { "-i", "x", "-w", "y", "-B", " 8M" }, "-B ' 8M': must be a size in KiB" },
	{ { "-i", "x", "-w", "y", "-B" }, "-B: option needs a value" },
	{ { "-i", "x", "-w", "y", "--ring-size", "1024" },
	  "--ring-size: replaced by -B/--buffer-size (the per-queue buffer, in KiB or with a "
	  "suffix)" },
	{ { "-i", "x", "-w", "y", "--ring-size=1024" },
	  "--ring-size: replaced by -B/--buffer-size" },
	{ { "-i", "x", "-w", "y", "--ring-size" }, "--ring-size: replaced by -B/--buffer-size" },
	{ { "-i", "x", "-w", "y", "--mbufs", "10" }, "--mbufs 10: mbufs must be between 1024" },
	{ { "-i", "x", "-w", "y", "--bogus" }, "--bogus: unknown option" },
	{ { "-i", "x", "-w", "y", "-R" }, "-R: unknown option" },
	{ { "-i", "x", "-w" }, "-w: option needs a value" },
	{ { "-w", "y", "tcp" }, "no interface" },
	{ { "-i", "x", "tcp" }, "no output" },
	{ { "-i", "", "-w", "y" }, "-i: device must not be empty" },
	{ { "-i", "x", "-w", "" }, "-w: path must not be empty" },
	{ { "-i", "x", "-w", "y", "--stats-file", "" }, "--stats-file: path must not be empty" },
	{ { "-i", "x", "-w", "y", "-Z", "" }, "-Z: user must not be empty" },
	{ { "-i", "x", "-w", "y", "--config", "" }, "--config: path must not be empty" },
	{ { "-i", "x", "-w", "y", "-W", "3" }, "-W 3: needs -C or -G" },
	{ { "-i", "x", "-w", "y", "-C", "0.001" }, "-C 0.001: files must hold at least 4096" },
	{ { "-i", "x", "-w", "y", "-C", "big" }, "-C 'big': must be a number" },
	{ { "-i", "x", "-w", "y", "-G", "0" }, "-G 0: rotation period must be between 1" },
	{ { "-i", "x", "-w", "y", "--format", "erf" }, "--format erf: must be pcap or pcapng" },
	{ { "-i", "x", "-w", "y", "--retain-bytes", "lots" },
	  "--retain-bytes 'lots': must be a size in bytes" },
	{ { "-i", "x", "-w", "y", "--retain-bytes", "5X" },
	  "--retain-bytes '5X': must be a size in bytes" },
	{ { "-i", "x", "-w", "y", "--retain-bytes", "1" },
	  "--retain-bytes 1: must be at least 1048576 bytes (1Mi)" },
	{ { "-i", "x", "-w", "y", "--retain-bytes", "1048575" },
	  "--retain-bytes 1048575: must be at least 1048576 bytes (1Mi)" },
	{ { "-i", "x", "-w", "y", "--fsync-interval", "-1" },
	  "--fsync-interval -1: must be more than 0" },
	{ { "-i", "x", "-w", "y", "-F", "f", "tcp" }, "-F f: a filter file and an expression" },
};

static void
test_output_options(void)
{
	struct lc_config cfg;
	char err[LC_ERRLEN];
	const char *a[] = { "-i", "x", "-w", "/d/cap.pcapng", "-C", "0.5", "-G", "60", "-W", "7",
			    "--retain-bytes", "2Gi", "--fsync-interval", "0.25", NULL };

	CHECK(parse(&cfg, err, a) == 0);
	CHECK_EQ_U64(cfg.file_bytes, 500000);
	CHECK_EQ_U64(cfg.rotate_secs, 60);
	CHECK_EQ_U64(cfg.max_files, 7);
	CHECK_EQ_U64(cfg.retain_bytes, 2ull << 30);
	CHECK_EQ_U64(cfg.fsync_ms, 250);
	CHECK(strcmp(cfg.format, "pcapng") == 0);	/* from the -w extension */
	lc_config_release(&cfg);

	/* At least 1 MiB (a smaller bound would delete every file the capture writes). */
	const char *sizes[][2] = { { "500M", "500000000" }, { "1.5m", "1500000" },
				   { "3GB", "3000000000" }, { "1024Ki", "1048576" },
				   { "2mib", "2097152" }, { "1048576", "1048576" } };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const char *b[] = { "-i", "x", "-w", "y", "--retain-bytes", sizes[i][0], NULL };

		CHECK(parse(&cfg, err, b) == 0);
		CHECK_EQ_U64(cfg.retain_bytes, strtoull(sizes[i][1], NULL, 10));
		CHECK(strcmp(cfg.format, "pcap") == 0);
		lc_config_release(&cfg);
	}
}

static void
test_bad_input(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lc_config cfg;
		char err[LC_ERRLEN];

		CHECK(parse(&cfg, err, bad[i].args) == -EINVAL);
		CHECK_STR_HAS(err, bad[i].message);
		CHECK(strchr(err, '\n') == NULL);	/* one line */
		lc_config_release(&cfg);
	}
}

static void
test_help_matches_options(void)
{
	const char *usage = lc_config_usage();
	const char *opts[] = { "--interface", "--write", "--snaplen", "--count", "--queues",
			       "--writers", "--duration", "--buffer-size", "--mbufs",
			       "--stats-file", "--eal", "--verbose", "--help", "--version",
			       "--file-size", "--rotate-seconds", "--file-count", "--format",
			       "--retain-bytes", "--fsync-interval", "--filter-file",
			       "--filter-engine", "--dump-filter", "--config", "--print-config",
			       "--user", "--prometheus", "--check-disk", "--timestamps",
			       "--status-interval", "--no-promiscuous-mode" };
	struct lc_config cfg;
	char err[LC_ERRLEN];

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		const char *args[] = { "-i", "x", "-w", "y", opts[i], "1", NULL };

		CHECK_STR_HAS(usage, opts[i]);
		/* every option in the help is one the parser knows */
		if (parse(&cfg, err, args) != 0)
			CHECK(strstr(err, "unknown option") == NULL);
		lc_config_release(&cfg);
	}
	/* The retired ring is not offered; -B is, with its default; the pool is sized without
	 * rings. */
	CHECK(strstr(usage, "ring-size") == NULL);
	CHECK_STR_HAS(usage, "  -B, --buffer-size SIZE\n");
	CHECK_STR_HAS(usage, "per queue; records wait there for the writer; default: sized from\n"
		      "                        free hugepages, up to 256 MiB");
	CHECK_STR_HAS(usage, "rounded up to a whole MiB");
	CHECK_STR_HAS(usage, "queues and descriptors");
	CHECK(strstr(usage, "rings and") == NULL);
}

/* tcpdump's reflexes: -n -nn -U are taken and ignored, -p turns promiscuous mode off, and
 * the options that print packets are refused in one line saying what linecap does. */
static void
test_tcpdump_reflexes(void)
{
	static const struct {
		const char *opt;
		const char *label;
	} refused[] = { { "-X", "-X: " }, { "-XX", "-X: " }, { "-A", "-A: " }, { "-e", "-e: " },
			{ "-x", "-x: " }, { "-nX", "-X: " } };
	struct lc_config cfg;
	char err[LC_ERRLEN];
	const char *ok[] = { "-n", "-nn", "-U", "-i", "net_null0", "-w", "/tmp/x", "-p", "udp",
			     NULL };
	const char *plain[] = { "-i", "net_null0", "-w", "/tmp/x", NULL };

	CHECK(parse(&cfg, err, ok) == 0);
	CHECK(cfg.no_promisc == 1);
	CHECK(cfg.filter != NULL && strcmp(cfg.filter, "udp") == 0);
	CHECK_EQ_U64(cfg.verbose, 0);	/* -v keeps its meaning; -n is not it */
	lc_config_release(&cfg);
	CHECK(parse(&cfg, err, plain) == 0);
	CHECK(cfg.no_promisc == 0);
	lc_config_release(&cfg);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const char *args[] = { refused[i].opt, "-i", "net_null0", "-w", "/tmp/x", NULL };

		CHECK(parse(&cfg, err, args) == -EINVAL);
		CHECK(strncmp(err, refused[i].label, strlen(refused[i].label)) == 0);
		CHECK_STR_HAS(err, "linecap writes files, it does not print packets; read them "
			      "with tcpdump -");
		CHECK_STR_HAS(err, " -r FILE");
		CHECK(strchr(err, '\n') == NULL);
		lc_config_release(&cfg);
	}

	/* What tcpdump -w ignores too (printing), and -y EN10MB: taken; -Q, another -y, -w -:
	 * refused in one line. */
	const char *quiet[] = { "-q", "-tttt", "-S", "-l", "-K", "--immediate-mode", "-y",
				"en10mb", "-r", "x.pcap", "-w", "/tmp/x", NULL };
	const char *dir[] = { "-Q", "in", "-r", "x.pcap", "-w", "/tmp/x", NULL };
	const char *sll[] = { "-y", "LINUX_SLL", "-r", "x.pcap", "-w", "/tmp/x", NULL };
	const char *dash[] = { "-r", "x.pcap", "-w", "-", NULL };
	const char *nowhere[] = { "-r", "x.pcap", NULL };

	CHECK(parse(&cfg, err, quiet) == 0 && cfg.nread == 1);
	lc_config_release(&cfg);
	CHECK(parse(&cfg, err, dir) == -EINVAL);
	CHECK_STR_HAS(err, "-Q: linecap does not choose a direction");
	lc_config_release(&cfg);
	CHECK(parse(&cfg, err, sll) == -EINVAL);
	CHECK_STR_HAS(err, "-y LINUX_SLL: linecap captures Ethernet (EN10MB) only");
	lc_config_release(&cfg);
	CHECK(parse(&cfg, err, dash) == -EINVAL);
	CHECK_STR_HAS(err, "-w -: linecap writes files into a directory, not to standard output");
	lc_config_release(&cfg);
	CHECK(parse(&cfg, err, nowhere) == -EINVAL);
	CHECK_STR_HAS(err, "linecap writes files, it does not print packets: tcpdump -r FILE does");
	lc_config_release(&cfg);
}

/* -B: KiB as tcpdump's, or K M G (powers of 1024); rounded up to a whole MiB. */
static void
test_buffer_size(void)
{
	static const struct {
		const char *val;
		uint64_t bytes;
	} good[] = {
		{ "4096", 4ull << 20 },			/* bare: KiB */
		{ "262144", 256ull << 20 },
		{ "4097", 5ull << 20 },			/* rounded up to a MiB */
		{ "5000", 5ull << 20 },
		{ "4194304k", 4ull << 30 },
		{ "8192K", 8ull << 20 },
		{ "4M", 4ull << 20 },			/* the least */
		{ "256M", 256ull << 20 },
		{ "256Mi", 256ull << 20 },		/* as --retain-bytes writes it */
		{ "1Gi", 1ull << 30 },
		{ "256m", 256ull << 20 },
		{ "1G", 1ull << 30 },
		{ "2g", 2ull << 30 },
		{ "64G", 64ull << 30 },			/* the most */
		{ "67108864", 64ull << 30 },
		{ "67108863", 64ull << 30 },		/* rounded up, still the most */
		{ "0004M", 4ull << 20 },
	};
	struct lc_config cfg;
	char err[LC_ERRLEN];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *a[] = { "-i", "x", "-w", "y", "-B", good[i].val, NULL };
		const char *b[] = { "-i", "x", "-w", "y", "--buffer-size", good[i].val, NULL };

		CHECK(parse(&cfg, err, a) == 0);
		CHECK_EQ_U64(cfg.buffer_bytes, good[i].bytes);
		lc_config_release(&cfg);
		CHECK(parse(&cfg, err, b) == 0);
		CHECK_EQ_U64(cfg.buffer_bytes, good[i].bytes);
		lc_config_release(&cfg);
	}
	/* --print-config shows it as given (so it reads back the same). */
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	const char *c[] = { "-i", "x", "-w", "y", "-B", "5000", "--print-config", NULL };

	CHECK(parse(&cfg, err, c) == 0);
	CHECK(lc_config_print(f, &cfg) == 0);
	fclose(f);
	CHECK_STR_HAS(text, "[tuning]\n# writers =    (one per 4 queues)\nbuffer-size = 5000\n");
	free(text);
	lc_config_release(&cfg);
}

/* A config file with these lines; returns its path (static buffer). */
static const char *
ini(const char *text)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/lc_cfg_XXXXXX");
	int fd = mkstemp(path);

	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

/* -r on the command line wins over the file's interface; flags say yes or no in a file;
 * --nano is tcpdump's, taken (linecap is nanosecond). */
static void
test_config_read_wins(void)
{
	struct lc_config cfg;
	char err[LC_ERRLEN];
	const char *path = ini("[capture]\ninterface = net_null0\nno-promiscuous-mode = yes\n"
			       "[output]\nwrite = /tmp/out\nno-index = off\n");
	const char *a[] = { "--config", path, "-r", "x.pcap", "--nano", NULL };
	const char *b[] = { "--config", path, "-r", "x.pcap", "-i", "net_null1", NULL };

	CHECK(parse(&cfg, err, a) == 0);
	CHECK(cfg.interface == NULL && cfg.nread == 1 && cfg.no_promisc == 1 &&
	      cfg.no_index == 0);
	lc_config_release(&cfg);
	CHECK(parse(&cfg, err, b) == -EINVAL);	/* both on the command line: which? */
	CHECK_STR_HAS(err, "-i net_null1 and -r x.pcap: capture from a port or read files");
	lc_config_release(&cfg);
	unlink(path);
}

static void
test_config_file(void)
{
	struct lc_config cfg;
	char err[LC_ERRLEN];
	const char *path = ini("# comment\n[capture]\ninterface = net_null0   # trailing\n"
			       "snaplen=128\nfilter = host 10.0.0.1 and port 53\n\n"
			       "[output]\n  write = /tmp/out\nfile-size = 0.5\nretain-bytes = 2Gi\n"
			       "[tuning]\nbuffer-size = 256M\n[log]\nverbose = 2\n");
	const char *a[] = { "--config", path, NULL };

	CHECK(parse(&cfg, err, a) == 0);
	CHECK(cfg.interface && strcmp(cfg.interface, "net_null0") == 0);
	CHECK(cfg.write_path && strcmp(cfg.write_path, "/tmp/out") == 0);
	CHECK_EQ_U64(cfg.snaplen, 128);
	CHECK(cfg.filter && strcmp(cfg.filter, "host 10.0.0.1 and port 53") == 0);
	CHECK_EQ_U64(cfg.file_bytes, 500000);
	CHECK_EQ_U64(cfg.retain_bytes, 2ull << 30);
	CHECK_EQ_U64(cfg.buffer_bytes, 256ull << 20);
	CHECK_EQ_U64(cfg.verbose, 2);
	lc_config_release(&cfg);

	/* The command line wins, wherever it stands; its filter replaces the file's. */
	const char *b[] = { "-s", "256", "--config", path, "-w", "/tmp/other", "-B", "1G",
			    "udp", NULL };
	CHECK(parse(&cfg, err, b) == 0);
	CHECK_EQ_U64(cfg.snaplen, 256);
	CHECK(strcmp(cfg.write_path, "/tmp/other") == 0);
	CHECK_EQ_U64(cfg.buffer_bytes, 1ull << 30);
	CHECK(cfg.filter && strcmp(cfg.filter, "udp") == 0);
	CHECK(strcmp(cfg.interface, "net_null0") == 0);	/* from the file */
	lc_config_release(&cfg);
	/* ... and -F replaces the file's filter too, without a conflict. */
	const char *c[] = { "--config", path, "-F", "/tmp/f.bpf", NULL };
	CHECK(parse(&cfg, err, c) == 0);
	CHECK(cfg.filter == NULL && strcmp(cfg.filter_file, "/tmp/f.bpf") == 0);
	lc_config_release(&cfg);
	unlink(path);
}

struct bad_file {
	const char *text;
	const char *message;	/* after "PATH:" */
};

static const struct bad_file bad_files[] = {
	{ "[capture]\ninterface = x\nsnaplen = 10\n",
	  ":3: snaplen 10: snaplen must be between 64 and 262144" },
	{ "[capture]\nbogus = 1\n", ":2: bogus: unknown key" },
	{ "[capture]\nwrite = /tmp\n", ":2: write: belongs in [output], not [capture]" },
	{ "[network]\n", ":1: [network]: unknown section" },
	{ "interface = x\n", ":1: interface: outside any section" },
	{ "[capture]\ninterface\n", ":2: expected key = value" },
	{ "[capture]\ninterface = a\n\n[capture]\ninterface = b\n",
	  ":5: interface: given twice (line 2)" },
	{ "[output]\nretain-bytes = lots\n", ":2: retain-bytes 'lots': must be a size" },
	{ "[tuning]\nring-size = 1024\n",
	  ":2: ring-size: replaced by -B/--buffer-size (the per-queue buffer, in KiB or with a "
	  "suffix)" },
	{ "[tuning]\nbuffer-size = 100\n",
	  ":2: buffer-size 100: 100 KiB is below the 4 MiB minimum" },
	{ "[tuning]\nbuffer-size = 12Q\n", ":2: buffer-size '12Q': must be a size in KiB" },
	{ "[capture]\nbuffer-size = 8M\n", ":2: buffer-size: belongs in [tuning], not [capture]" },
	{ "[capture]\nconfig = other.ini\n", ":2: config: unknown key (command line only)" },
	{ "[log]\nverbose = lots\n", ":2: verbose 'lots': count must be a whole number" },
	{ "[capture\n", ":1: a section is written [name]" },
};

static void
test_config_file_errors(void)
{
	struct lc_config cfg;
	char err[LC_ERRLEN], want[LC_ERRLEN + 64];

	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		const char *path = ini(bad_files[i].text);
		/* A bad value is an error even where the command line overrides it. */
		const char *a[] = { "-i", "x", "-w", "y", "-s", "100", "--config", path, NULL };

		snprintf(want, sizeof(want), "%s%s", path, bad_files[i].message);
		CHECK(parse(&cfg, err, a) == -EINVAL);
		CHECK_STR_HAS(err, want);
		CHECK(strchr(err, '\n') == NULL);
		lc_config_release(&cfg);
		unlink(path);
	}
	/* A long filter would be cut by rte_cfgfile: refused instead. */
	char text[600] = "[capture]\nfilter = ";
	for (int i = 0; i < 40; i++)
		strcat(text, "port 1234 or ");
	strcat(text, "port 1\n");
	const char *path = ini(text);
	const char *a[] = { "--config", path, NULL };
	CHECK(parse(&cfg, err, a) == -EINVAL);
	CHECK_STR_HAS(err, ":2: filter: value longer than 255 characters (put a long filter");
	lc_config_release(&cfg);
	unlink(path);
	const char *b[] = { "-i", "x", "-w", "y", "--config", "/nonexistent/x.ini", NULL };
	CHECK(parse(&cfg, err, b) == -EINVAL);
	CHECK_STR_HAS(err, "/nonexistent/x.ini: No such file or directory");
	lc_config_release(&cfg);
}

/* --print-config writes a file that, read back, prints the same. */
static void
test_print_config_round_trip(void)
{
	struct lc_config cfg;
	char err[LC_ERRLEN], *first = NULL, *second = NULL;
	size_t n1 = 0, n2 = 0;
	const char *a[] = { "-i", "net_pcap0,rx_pcap=/tmp/a.pcap", "-w", "/tmp/o.pcapng",
			    "-C", "1.5", "--retain-bytes", "3G", "-v", "--print-config",
			    "host", "1.2.3.4", NULL };
	FILE *f = open_memstream(&first, &n1);

	CHECK(parse(&cfg, err, a) == 0);
	CHECK(cfg.print_config);
	CHECK(lc_config_print(f, &cfg) == 0);
	fclose(f);
	lc_config_release(&cfg);
	CHECK_STR_HAS(first, "[capture]\ninterface = net_pcap0,rx_pcap=/tmp/a.pcap\n");
	CHECK_STR_HAS(first, "filter = host 1.2.3.4\n");
	CHECK_STR_HAS(first, "file-size = 1.5\n");
	CHECK_STR_HAS(first, "format = pcapng\n");	/* derived from -w, shown */
	CHECK_STR_HAS(first, "snaplen = 262144\n");	/* a default, shown */
	CHECK_STR_HAS(first, "# count =");		/* given nowhere: commented */
	CHECK_STR_HAS(first, "[tuning]\n# writers =    (one per 4 queues)\n"
		      "# buffer-size =    (sized from free hugepages, up to 256 MiB)\n"
		      "# mbufs =    (sized from queues and descriptors)\n");
	CHECK_STR_HAS(first, "verbose = 1\n");

	const char *path = ini(first);
	const char *b[] = { "--config", path, "--print-config", NULL };
	f = open_memstream(&second, &n2);
	CHECK(parse(&cfg, err, b) == 0);
	CHECK(lc_config_print(f, &cfg) == 0);
	fclose(f);
	lc_config_release(&cfg);
	/* Equal but for the first line, which names the file read. */
	CHECK(strcmp(strchr(first, '\n'), strchr(second, '\n')) == 0);
	free(first);
	free(second);
	unlink(path);
}

/* The shipped example is a valid file. */
static void
test_shipped_example(void)
{
	struct lc_config cfg;
	char err[LC_ERRLEN];
	const char *a[] = { "--config", LC_SOURCE_ROOT "/config/linecap.ini", NULL };

	CHECK(parse(&cfg, err, a) == 0);
	if (err[0])
		fprintf(stderr, "%s\n", err);
	CHECK(cfg.interface != NULL && cfg.write_path != NULL);
	/* ... and documents every key a config file takes. */
	FILE *f = fopen(LC_SOURCE_ROOT "/config/linecap.ini", "r");
	static char text[32768];
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	struct lc_config_item it;

	if (f)
		fclose(f);
	text[n] = '\0';
	for (unsigned int i = 0; lc_config_item(&cfg, i, &it); i++) {
		char want[64];

		if (it.section[0] == '\0')
			continue;
		snprintf(want, sizeof(want), "%s = ", it.key);
		CHECK_STR_HAS(text, want);
	}
	lc_config_release(&cfg);
}

int
main(void)
{
	test_config_file();
	test_config_read_wins();
	test_config_file_errors();
	test_print_config_round_trip();
	test_shipped_example();
	test_defaults_and_filter();
	test_all_options();
	test_output_options();
	test_bad_input();
	test_buffer_size();
	test_help_matches_options();
	test_tcpdump_reflexes();
	return lc_test_done("test_config");
}
