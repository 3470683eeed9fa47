/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The example apps' command lines: each app lists its own options in a table (name, what the
 * value is, where it goes, its line of --help) and app_parse() does the rest the same way in
 * every app: --help (and -h) prints the usage on stdout, a bad value, an unknown option, a
 * missing value or a surplus argument gets one sentence on stderr that names it, and the app
 * exits 2 for bad usage. The usage is made from the same table, so it cannot miss an option.
 */
#ifndef HP_APP_OPTS_H
#define HP_APP_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum app_opt_type {
	APP_FLAG,   /* no value; sets *(bool *)target */
	APP_UINT,   /* whole number lo..hi into *(unsigned *)target */
	APP_U64,    /* whole number lo..hi (decimal, or 0x hex) into *(uint64_t *)target */
	APP_DOUBLE, /* number above lo and at most hi into *(double *)target */
	APP_STRING, /* the value itself into *(const char **)target */
	APP_CALL,   /* the value goes to call(arg, target) */
};

struct app_opt {
	const char *name; /* the long name, without "--" */
	char key;	  /* its one-letter form, or 0 */
	enum app_opt_type type;
	void *target;
	const char *arg;  /* the value's name in --help (NULL for a flag) */
	const char *help; /* its line in --help; "\n" goes on in the same column below */
	double lo, hi;	  /* APP_UINT, APP_U64, APP_DOUBLE: the range */
	/*
	 * What a bad value gets told after "PROG: --NAME VALUE: " (e.g. "give 1 to 1000"); NULL
	 * for APP_CALL when call() says it itself.
	 */
	const char *hint;
	int (*call)(const char *arg, void *target); /* APP_CALL: 0, or non-zero for a bad value */
};

struct app_cli {
	const char *prog;
	/*
	 * The usage line after "usage: PROG " (newline and indent for more forms); NULL: made from
	 * the options, "[--NAME ARG] ...".
	 */
	const char *synopsis;
	const struct app_opt *opts; /* ends with an entry whose name is NULL */
	const char *footer;	    /* text after the options' lines, or NULL */
	/*
	 * Where to put the index of the first argument that is not an option (APP_CALL and other
	 * options may take them then); NULL: such an argument is bad usage.
	 */
	int *operands;
};

/* A macro's value as a string, for --help lines that name a limit: APP_STR(MAX_RUNS) */
#define APP_STR(x) APP_STR1(x)
#define APP_STR1(x) #x

/*
 * The forwarders' two statistics options, as two rows of a table: --stats S into the unsigned
 * at stats_s (print every S seconds; 0: only the totals), --json into the bool at json.
 */
/* clang-format off */
#define APP_OPTS_STATS(stats_s, json)                                                              \
	{"stats", 0, APP_UINT, stats_s, "S",                                                       \
	 "statistics every S seconds (0: only the totals at exit; default 1)", 0, 86400,           \
	 "give whole seconds, 0 to 86400"},                                                        \
	{"json", 0, APP_FLAG, json, NULL, "statistics and totals as JSON lines on stdout"}
/* clang-format on */

#define APP_RUN -1 /* app_parse(): the command line is good, go on */

/*
 * Parses argv[1..argc-1] by cli's table. Returns APP_RUN, or the status to exit with: 0 after
 * --help printed the usage, 2 after saying on stderr what is wrong with the command line.
 */
int app_parse(const struct app_cli *cli, int argc, char **argv);

/* Prints the usage (synopsis, one line per option, footer) on f. */
void app_usage(const struct app_cli *cli, FILE *f);

struct hp_init_opts;

/*
 * For apps whose hugepool options come first and end with "--" ("app --socket-mem=64 -- --json";
 * without "--", only HUGEPOOL_OPTS): parses those into *hp (hp_parse_args(), to start with
 * hp_init_opts() once the app is ready) and the rest as app_parse() does. Returns APP_RUN, or
 * the status to exit with: 0 after --help, 2 after saying what is wrong (hugepool options too).
 */
int app_parse_hp(const struct app_cli *cli, int argc, char **argv, struct hp_init_opts *hp);

#endif
