/* SPDX-License-Identifier: BSD-3-Clause */
/* The example apps' command lines: see app_opts.h. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hugepool.h>
#include "app_opts.h"

#define MAX_OPTS 32
#define HELP_ID 256 /* getopt's value for --help; an option's is its index + HELP_ID + 1 */

static unsigned count(const struct app_opt *opts)
{
	unsigned n = 0;

	while (opts[n].name)
		n++;
	return n;
}

/* "--name ARG" as the usage shows it, into buf; its length. */
static int opt_label(const struct app_opt *o, char *buf, size_t len)
{
	return snprintf(buf, len, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
}

void app_usage(const struct app_cli *cli, FILE *f)
{
	const struct app_opt *o;
	char label[64];
	int width = 6; /* "--help" */

	fprintf(f, "usage: %s ", cli->prog);
	if (cli->synopsis) {
		fputs(cli->synopsis, f);
	} else {
		for (o = cli->opts; o->name; o++) {
			opt_label(o, label, sizeof(label));
			fprintf(f, "%s[%s]", o == cli->opts ? "" : " ", label);
		}
	}
	fputc('\n', f);
	for (o = cli->opts; o->name; o++) {
		int w = opt_label(o, label, sizeof(label));

		width = w > width ? w : width;
	}
	for (o = cli->opts; o->name; o++) {
		opt_label(o, label, sizeof(label));
		fprintf(f, "  %-*s  ", width, label);
		for (const char *p = o->help ? o->help : ""; *p; p++)
			if (*p == '\n')
				fprintf(f, "\n  %*s  ", width, "");
			else
				fputc(*p, f);
		fputc('\n', f);
	}
	fprintf(f, "  %-*s  this text\n", width, "--help");
	if (cli->footer)
		fputs(cli->footer, f);
}

static int bad_value(const struct app_cli *cli, const struct app_opt *o, const char *arg)
{
	char hint[96];

	if (o->hint)
		snprintf(hint, sizeof(hint), "%s", o->hint);
	else if (o->type == APP_DOUBLE)
		snprintf(hint, sizeof(hint), "give a number above %g, at most %g", o->lo, o->hi);
	else
		snprintf(hint, sizeof(hint), "give a whole number from %.0f to %.0f", o->lo, o->hi);
	fprintf(stderr, "%s: --%s %s: %s\n", cli->prog, o->name, arg, hint);
	return -1;
}

/* A whole number lo..hi: digits only (base 0 allows 0x), no sign, no overflow. */
static int whole(const char *arg, int base, double lo, double hi, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(arg, &end, base);
	if (errno || end == arg || *end || arg[0] == '-' || arg[0] == '+' || arg[0] == ' ' ||
	    (double)*out < lo || (double)*out > hi)
		return -1;
	return 0;
}

/* Stores the value of option o; 0, or -1 after saying what is wrong with it. */
static int take(const struct app_cli *cli, const struct app_opt *o, const char *arg)
{
	unsigned long long v;
	char *end;
	double d;

	switch (o->type) {
	case APP_FLAG:
		*(bool *)o->target = true;
		return 0;
	case APP_UINT:
		if (whole(arg, 10, o->lo, o->hi, &v))
			return bad_value(cli, o, arg);
		*(unsigned *)o->target = (unsigned)v;
		return 0;
	case APP_U64:
		if (whole(arg, 0, o->lo, o->hi, &v))
			return bad_value(cli, o, arg);
		*(uint64_t *)o->target = v;
		return 0;
	case APP_DOUBLE:
		errno = 0;
		d = strtod(arg, &end);
		if (errno || end == arg || *end || !isfinite(d) || d <= o->lo || d > o->hi)
			return bad_value(cli, o, arg);
		*(double *)o->target = d;
		return 0;
	case APP_STRING:
		*(const char **)o->target = arg;
		return 0;
	case APP_CALL:
		if (o->call(arg, o->target) == 0)
			return 0;
		return o->hint ? bad_value(cli, o, arg) : -1;
	}
	return -1;
}

int app_parse(const struct app_cli *cli, int argc, char **argv)
{
	struct option longopts[MAX_OPTS + 2];
	char shortopts[2 * MAX_OPTS + 4] = ":h", *s = shortopts + 2;
	unsigned n = count(cli->opts), i;
	int c;

	if (n > MAX_OPTS) {
		fprintf(stderr, "%s: more than %d options in its table\n", cli->prog, MAX_OPTS);
		return 2;
	}
	for (i = 0; i < n; i++) {
		const struct app_opt *o = &cli->opts[i];
		int has_arg = o->type == APP_FLAG ? no_argument : required_argument;

		longopts[i] = (struct option){o->name, has_arg, NULL, HELP_ID + 1 + (int)i};
		if (o->key) {
			*s++ = o->key;
			if (has_arg)
				*s++ = ':';
		}
	}
	longopts[n] = (struct option){"help", no_argument, NULL, HELP_ID};
	longopts[n + 1] = (struct option){NULL, 0, NULL, 0};
	*s = '\0';
	opterr = 0;
	optind = 0; /* glibc: start afresh, whatever parsed argv before */
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const char *what = argv[optind - 1];

		if (c == 'h' || c == HELP_ID) {
			app_usage(cli, stdout);
			return 0;
		}
		if (c == ':') {
			fprintf(stderr, "%s: option %s needs a value; see %s --help\n", cli->prog,
				what, cli->prog);
			return 2;
		}
		if (c == '?') {
			if (optopt && strncmp(what, "--", 2) != 0)
				fprintf(stderr, "%s: unknown option -%c; see %s --help\n",
					cli->prog, optopt, cli->prog);
			else
				fprintf(stderr, "%s: unknown option %s; see %s --help\n", cli->prog,
					what, cli->prog);
			return 2;
		}
		if (c > HELP_ID && c <= HELP_ID + (int)n) {
			if (take(cli, &cli->opts[c - HELP_ID - 1], optarg) < 0)
				return 2;
			continue;
		}
		for (i = 0; i < n && cli->opts[i].key != c; i++)
			;
		if (i == n || take(cli, &cli->opts[i], optarg) < 0)
			return 2;
	}
	if (cli->operands) {
		*cli->operands = optind;
	} else if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'; see %s --help\n", cli->prog,
			argv[optind], cli->prog);
		return 2;
	}
	return APP_RUN;
}

int app_parse_hp(const struct app_cli *cli, int argc, char **argv, struct hp_init_opts *hp)
{
	int i, used;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		;
	used = hp_parse_args(i < argc ? argc : 1, argv, hp);
	if (used < 0) {
		fprintf(stderr, "%s: %s\n", cli->prog, hp_last_error());
		return 2;
	}
	/* the app's own arguments, behind the program's name (over the "--") */
	argv[used - 1] = argv[0];
	return app_parse(cli, argc - used + 1, argv + used - 1);
}
