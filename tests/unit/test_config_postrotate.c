/* SPDX-License-Identifier: BSD-3-Clause */
/* -z / --postrotate-command, --postrotate-jobs, --postrotate-timeout: defaults, values, the
 * program resolved at parse time, the config file's keys, --print-config, --help. */
#include <stdlib.h>
#include <sys/stat.h>
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
test_defaults_and_values(void)
{
	struct lc_config cfg;
	char err[LC_ERRLEN];
	const char *none[] = { "-i", "x", "-w", "y", NULL };
	const char *a[] = { "-i", "x", "-w", "y", "-z", "gzip -9", "--postrotate-jobs", "4",
			    "--postrotate-timeout", "0", NULL };
	const char *b[] = { "-i", "x", "-w", "y", "--postrotate-command=/bin/true", NULL };

	CHECK(parse(&cfg, err, none) == 0);
	CHECK(cfg.postrotate_cmd == NULL);
	CHECK_EQ_U64(cfg.postrotate_jobs, 2);
	CHECK_EQ_U64(cfg.postrotate_timeout, 600);
	lc_config_release(&cfg);

	CHECK(parse(&cfg, err, a) == 0);
	CHECK(cfg.postrotate_cmd != NULL && strcmp(cfg.postrotate_cmd, "gzip -9") == 0);
	CHECK_EQ_U64(cfg.postrotate_jobs, 4);
	CHECK_EQ_U64(cfg.postrotate_timeout, 0);
	lc_config_release(&cfg);

	CHECK(parse(&cfg, err, b) == 0);
	CHECK(cfg.postrotate_cmd != NULL && strcmp(cfg.postrotate_cmd, "/bin/true") == 0);
	lc_config_release(&cfg);
}

static const struct {
	const char *args[8];
	const char *message;
} bad[] = {
	{ { "-i", "x", "-w", "y", "-z", "no-such-program-zz -9" },
	  "-z 'no-such-program-zz -9': no-such-program-zz: not found in PATH" },
	{ { "-i", "x", "-w", "y", "-z", "/my dir/prog.sh" }, "-z '/my dir/prog.sh': /my: no such "
	  "file (the command is split on blanks: no shell, no quoting)" },
	{ { "-i", "x", "-w", "y", "-z", "/no/such/prog" }, "-z '/no/such/prog': /no/such/prog: "
	  "no such file" },
	{ { "-i", "x", "-w", "y", "-z", "/etc/passwd" }, "-z '/etc/passwd': /etc/passwd: not an "
	  "executable file" },
	{ { "-i", "x", "-w", "y", "-z", "/tmp" }, "-z '/tmp': /tmp: not an executable file" },
	{ { "-i", "x", "-w", "y", "-z", "" }, "-z '': no command" },
	{ { "-i", "x", "-w", "y", "-z", " \t " }, "no command" },
	{ { "-i", "x", "-w", "y", "-z" }, "-z: option needs a value" },
	{ { "-i", "x", "-w", "y", "--postrotate-jobs", "0" },
	  "--postrotate-jobs 0: jobs must be between 1 and 64" },
	{ { "-i", "x", "-w", "y", "--postrotate-jobs", "65" }, "jobs must be between 1 and 64" },
	{ { "-i", "x", "-w", "y", "--postrotate-timeout", "soon" },
	  "--postrotate-timeout 'soon': timeout must be a whole number" },
	{ { "-i", "x", "-w", "y", "--postrotate-timeout", "-1" }, "--postrotate-timeout" },
};

static void
test_bad_input(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lc_config cfg;
		char err[LC_ERRLEN];

		CHECK(parse(&cfg, err, bad[i].args) == -EINVAL);
		CHECK_STR_HAS(err, bad[i].message);
		CHECK(strchr(err, '\n') == NULL);
		lc_config_release(&cfg);
	}
}

/* A program without '/' is looked up in PATH, as execvp would: found in a later entry,
 * skipped where not executable. */
static void
test_path_lookup(void)
{
	char d1[64] = "/tmp/lc_cfgz_XXXXXX", d2[64] = "/tmp/lc_cfgz_XXXXXX";
	char p1[128], p2[128], path[160];
	struct lc_config cfg;
	char err[LC_ERRLEN];
	const char *a[] = { "-i", "x", "-w", "y", "-z", "lc-ship-it --fast", NULL };
	const char *old = getenv("PATH");
	char *saved = old ? strdup(old) : NULL;
	FILE *f;

	CHECK(mkdtemp(d1) != NULL && mkdtemp(d2) != NULL);
	snprintf(p1, sizeof(p1), "%s/lc-ship-it", d1);
	snprintf(p2, sizeof(p2), "%s/lc-ship-it", d2);
	f = fopen(p1, "w");
	fputs("#!/bin/sh\n", f);
	fclose(f);
	chmod(p1, 0644);		/* there, but not executable */
	snprintf(path, sizeof(path), "%s:%s", d1, d2);
	setenv("PATH", path, 1);
	CHECK(parse(&cfg, err, a) == -EINVAL);
	CHECK_STR_HAS(err, "not an executable file");
	lc_config_release(&cfg);
	f = fopen(p2, "w");
	fputs("#!/bin/sh\n", f);
	fclose(f);
	chmod(p2, 0755);		/* the next entry has one */
	CHECK(parse(&cfg, err, a) == 0);
	lc_config_release(&cfg);
	if (saved != NULL)
		setenv("PATH", saved, 1);
	free(saved);
	unlink(p1);
	unlink(p2);
	rmdir(d1);
	rmdir(d2);
}

/* The [output] keys, and --print-config showing the defaults and what was given. */
static void
test_config_file_and_print(void)
{
	char path[64] = "/tmp/lc_cfgz_XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct lc_config cfg;
	char err[LC_ERRLEN], *text = NULL;
	size_t n = 0;
	const char *a[] = { "--config", path, NULL };
	const char *b[] = { "-i", "x", "-w", "y", "--print-config", NULL };

	fputs("[capture]\ninterface = net_null0\n[output]\nwrite = /tmp/x\n"
	      "postrotate-command = /bin/true -v\npostrotate-jobs = 3\n"
	      "postrotate-timeout = 30\n", f);
	fclose(f);
	CHECK(parse(&cfg, err, a) == 0);
	CHECK(cfg.postrotate_cmd != NULL && strcmp(cfg.postrotate_cmd, "/bin/true -v") == 0);
	CHECK_EQ_U64(cfg.postrotate_jobs, 3);
	CHECK_EQ_U64(cfg.postrotate_timeout, 30);
	lc_config_release(&cfg);

	f = fopen(path, "w");
	fputs("[output]\npostrotate-command = no-such-program-zz\n", f);
	fclose(f);
	CHECK(parse(&cfg, err, a) == -EINVAL);
	CHECK_STR_HAS(err, ":2: postrotate-command 'no-such-program-zz': no-such-program-zz: "
		      "not found in PATH");
	lc_config_release(&cfg);
	f = fopen(path, "w");
	fputs("[capture]\npostrotate-jobs = 3\n", f);
	fclose(f);
	CHECK(parse(&cfg, err, a) == -EINVAL);
	CHECK_STR_HAS(err, "postrotate-jobs: belongs in [output]");
	lc_config_release(&cfg);
	unlink(path);

	f = open_memstream(&text, &n);
	CHECK(parse(&cfg, err, b) == 0);
	CHECK(lc_config_print(f, &cfg) == 0);
	fclose(f);
	CHECK_STR_HAS(text, "# postrotate-command =    (none)\npostrotate-jobs = 2\n"
		      "postrotate-timeout = 600\n");
	free(text);
	lc_config_release(&cfg);
}

static void
test_help(void)
{
	const char *usage = lc_config_usage();

	CHECK_STR_HAS(usage, "  -z, --postrotate-command COMMAND\n");
	CHECK_STR_HAS(usage, "--postrotate-jobs N");
	CHECK_STR_HAS(usage, "--postrotate-timeout SECS");
	CHECK_STR_HAS(usage, "no shell, no quoting, no expansion");
}

int
main(void)
{
	test_defaults_and_values();
	test_bad_input();
	test_path_lookup();
	test_config_file_and_print();
	test_help();
	return lc_test_done("test_config_postrotate");
}
