/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Option syntax: hp_parse_args() (HUGEPOOL_OPTS, then argv) and the field checks of
 * hp_init_opts(). Only syntax lives here; whether a node, page size or amount of memory exists
 * is lib/mem's to say. Depends on libc and log.c only (the fuzz target builds this file alone).
 * Thread-safe: the only state is the calling thread's copy of HUGEPOOL_OPTS (env_buf).
 * HUGEPOOL_OPTS is read with secure_getenv(), so it is ignored in a setuid/setgid/setcap process.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "eal_internal.h"
#include "eal_options.h"

#define BLANKS " \t\n\r\v\f"
#define MAX_ENV_TOKENS ((EAL_ENV_OPTS_MAX + 1) / 2)

/* Strings parsed from HUGEPOOL_OPTS point here until this thread parses again. */
static __thread char env_buf[EAL_ENV_OPTS_MAX + 1];

/* A setter checks val and stores it; on error it writes why into why[] and returns -1. */
typedef int (*setter_t)(struct hp_init_opts *o, const char *val, char *why, size_t whylen);

struct optdef {
	const char *name; /* without the leading "--" */
	bool has_value;
	setter_t set;
	const char *forms; /* accepted forms, quoted in every error about this option */
};

/* Decimal digits only (no sign, no blanks) in [s, end), at most max: 0, -1 when [s, end) is
 * not a number, -2 when it is one above max. */
static int parse_dec(const char *s, const char *end, unsigned long long max,
		     unsigned long long *out)
{
	unsigned long long v = 0;
	bool above = false;

	if (s >= end)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (unsigned)(*s - '0')) / 10)
			above = true;
		else
			v = v * 10 + (unsigned)(*s - '0');
	}
	if (above)
		return -2;
	*out = v;
	return 0;
}

/* A list of MiB per node, "M0,M1,...", into mb[] and *n. */
static int parse_mb_list(const char *val, unsigned mb[HP_MAX_NUMA_NODES], unsigned *n_out,
			 char *why, size_t whylen)
{
	const char *p = val, *comma;
	unsigned long long v;
	unsigned n = 0;

	memset(mb, 0, HP_MAX_NUMA_NODES * sizeof(mb[0]));
	*n_out = 0;
	for (;;) {
		comma = strchr(p, ',');
		if (!comma)
			comma = p + strlen(p);
		if (n == HP_MAX_NUMA_NODES) {
			snprintf(why, whylen, "more than %d nodes (build option max_numa_nodes)",
				 HP_MAX_NUMA_NODES);
			return -1;
		}
		switch (parse_dec(p, comma, UINT_MAX, &v)) {
		case 0:
			break;
		case -2:
			snprintf(why, whylen, "entry %u is above the largest value, %u MiB", n,
				 UINT_MAX);
			return -1;
		default:
			snprintf(why, whylen, "entry %u is not a decimal number of MiB", n);
			return -1;
		}
		mb[n++] = (unsigned)v;
		if (!*comma)
			break;
		p = comma + 1;
	}
	*n_out = n;
	return 0;
}

static int set_socket_mem(struct hp_init_opts *o, const char *val, char *why, size_t whylen)
{
	return parse_mb_list(val, o->socket_mem_mb, &o->n_socket_mem, why, whylen);
}

static int set_socket_limit(struct hp_init_opts *o, const char *val, char *why, size_t whylen)
{
	return parse_mb_list(val, o->socket_limit_mb, &o->n_socket_limit, why, whylen);
}

static int set_huge_size(struct hp_init_opts *o, const char *val, char *why, size_t whylen)
{
	const char *u = val;
	unsigned long long v, shift;

	while (*u >= '0' && *u <= '9')
		u++;
	switch (*u) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		snprintf(why, whylen, "the size needs a unit K, M or G");
		return -1;
	}
	if (strcmp(u + 1, "") && strcasecmp(u + 1, "b") && strcmp(u + 1, "iB")) {
		snprintf(why, whylen, "unexpected text after the unit");
		return -1;
	}
	if (parse_dec(val, u, (1ULL << 40) >> shift, &v) || v == 0) {
		snprintf(why, whylen, "not a size between 1K and 1024G");
		return -1;
	}
	v <<= shift;
	if (v & (v - 1)) {
		snprintf(why, whylen, "%llu bytes is not a power of two", v);
		return -1;
	}
	o->huge_size = (size_t)v;
	return 0;
}

static int set_huge_dir(struct hp_init_opts *o, const char *val, char *why, size_t whylen)
{
	size_t len = strlen(val);

	if (len == 0 || len >= PATH_MAX) {
		snprintf(why, whylen, "the path must have 1 to %d characters", PATH_MAX - 1);
		return -1;
	}
	o->huge_dir = val;
	return 0;
}

static int set_no_huge(struct hp_init_opts *o, const char *val, char *why, size_t whylen)
{
	(void)val, (void)why, (void)whylen;
	o->no_huge = true;
	return 0;
}

static int set_mem_keep(struct hp_init_opts *o, const char *val, char *why, size_t whylen)
{
	unsigned long long v;

	if (parse_dec(val, val + strlen(val), INT_MAX, &v)) {
		snprintf(why, whylen, "not a decimal number of pages up to %d", INT_MAX);
		return -1;
	}
	o->mem_keep_pages = v ? (int)v : -1;
	return 0;
}

static int set_no_telemetry(struct hp_init_opts *o, const char *val, char *why, size_t whylen)
{
	(void)val, (void)why, (void)whylen;
	o->no_telemetry = true;
	return 0;
}

static int set_iova(struct hp_init_opts *o, const char *val, char *why, size_t whylen)
{
	if (!strcasecmp(val, "auto"))
		o->iova = HP_IOVA_OPT_AUTO;
	else if (!strcasecmp(val, "pa"))
		o->iova = HP_IOVA_OPT_PA;
	else if (!strcasecmp(val, "va"))
		o->iova = HP_IOVA_OPT_VA;
	else {
		snprintf(why, whylen, "not an IOVA mode");
		return -1;
	}
	return 0;
}

/* The online CPUs, from sysfs (a cpulist such as "0-3,6"), as a bitmap. */
static void online_cpus(uint64_t map[EAL_MAX_CPUS / 64])
{
	char buf[4096], *p, *end;
	unsigned long a, b;
	size_t n = 0;
	FILE *f;
	long ncpu;

	memset(map, 0, EAL_MAX_CPUS / 8);
	f = fopen("/sys/devices/system/cpu/online", "re");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	for (p = buf; *p >= '0' && *p <= '9'; p = end + 1) {
		a = b = strtoul(p, &end, 10);
		if (*end == '-')
			b = strtoul(end + 1, &end, 10);
		for (; a <= b && a < EAL_MAX_CPUS; a++)
			map[a / 64] |= 1ULL << (a % 64);
		if (*end != ',')
			break;
	}
	if (n)
		return;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN); /* no sysfs: trust the count */
	for (a = 0; ncpu > 0 && a < (unsigned long)ncpu && a < EAL_MAX_CPUS; a++)
		map[a / 64] |= 1ULL << (a % 64);
}

static int bit(const uint64_t *map, unsigned long i)
{
	return (map[i / 64] >> (i % 64)) & 1;
}

/* Syntax and CPU checks of an lcore list; writes why[] and returns -1 on error, else the count. */
static int lcores_check(const char *list, int cpus[HP_MAX_LCORES], char *why, size_t whylen)
{
	uint64_t online[EAL_MAX_CPUS / 64], seen[EAL_MAX_CPUS / 64] = {0};
	const char *p = list, *comma, *dash;
	unsigned long long a, b;
	int n = 0;

	online_cpus(online);
	for (;;) {
		comma = strchr(p, ',');
		if (!comma)
			comma = p + strlen(p);
		dash = memchr(p, '-', (size_t)(comma - p));
		if (parse_dec(p, dash ? dash : comma, EAL_MAX_CPUS - 1, &a) ||
		    parse_dec(dash ? dash + 1 : p, comma, EAL_MAX_CPUS - 1, &b) || b < a) {
			snprintf(why, whylen, "'%.*s' is not a CPU number below %d or a range N-M",
				 (int)(comma - p > 32 ? 32 : comma - p), p, EAL_MAX_CPUS);
			return -1;
		}
		for (; a <= b; a++) {
			if (!bit(online, a)) {
				snprintf(why, whylen, "CPU %llu does not exist or is offline", a);
				return -1;
			}
			if (bit(seen, a)) {
				snprintf(why, whylen, "CPU %llu is listed twice", a);
				return -1;
			}
			if (n == HP_MAX_LCORES) {
				snprintf(why, whylen, "more than %d CPUs (build option max_lcores)",
					 HP_MAX_LCORES);
				return -1;
			}
			seen[a / 64] |= 1ULL << (a % 64);
			cpus[n++] = (int)a;
		}
		if (!*comma)
			return n;
		p = comma + 1;
	}
}

static int set_lcores(struct hp_init_opts *o, const char *val, char *why, size_t whylen)
{
	int cpus[HP_MAX_LCORES];

	if (lcores_check(val, cpus, why, whylen) < 0)
		return -1;
	o->lcores = val;
	return 0;
}

static const char prefix_forms[] = "--file-prefix=NAME (1 to 31 letters, digits, '_' or '-')";

static int prefix_check(const char *s, char *why, size_t whylen)
{
	size_t len = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

	if (s[len] != '\0') {
		snprintf(why, whylen, "character %zu is not a letter, digit, '_' or '-'", len + 1);
		return -1;
	}
	if (len < 1 || len > 31) {
		snprintf(why, whylen, "the name must have 1 to 31 characters");
		return -1;
	}
	return 0;
}

static int set_file_prefix(struct hp_init_opts *o, const char *val, char *why, size_t whylen)
{
	if (prefix_check(val, why, whylen))
		return -1;
	o->file_prefix = val;
	return 0;
}

int eal_file_prefix_check(const char *prefix)
{
	char why[96];

	if (!prefix || prefix_check(prefix, why, sizeof(why)))
		return hp_fail(-EINVAL, "file prefix '%.80s': %s; accepted: %s",
			       prefix ? prefix : "(null)", prefix ? why : "it is NULL",
			       prefix_forms);
	return 0;
}

static int set_log_level(struct hp_init_opts *o, const char *val, char *why, size_t whylen)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	unsigned i;

	for (i = 0; i < 4; i++)
		if (!strcasecmp(val, names[i]) || (val[0] == (char)('1' + i) && val[1] == '\0')) {
			o->log_level = (enum hp_log_level)(HP_LOG_ERR + i);
			return 0;
		}
	snprintf(why, whylen, "not a log level");
	return -1;
}

static const char lcores_forms[] = "--lcores=LIST of online CPUs, e.g. --lcores=0-3,8";

static const struct optdef optdefs[] = {
    {"socket-mem", true, set_socket_mem,
     "--socket-mem=M0,M1,... (MiB per NUMA node, index = node id, e.g. --socket-mem=512,512)"},
    {"socket-limit", true, set_socket_limit,
     "--socket-limit=M0,M1,... (most MiB held per NUMA node, 0 = no limit)"},
    {"huge-size", true, set_huge_size, "--huge-size=2M|1G (also forms like 2048K, 1024M)"},
    {"huge-dir", true, set_huge_dir, "--huge-dir=PATH (a hugetlbfs mount)"},
    {"no-huge", false, set_no_huge, "--no-huge (takes no value)"},
    {"iova", true, set_iova, "--iova=pa|va|auto"},
    {"lcores", true, set_lcores, lcores_forms},
    {"file-prefix", true, set_file_prefix, prefix_forms},
    {"log-level", true, set_log_level, "--log-level=error|warning|info|debug (or 1-4)"},
    {"no-telemetry", false, set_no_telemetry, "--no-telemetry (takes no value)"},
    {"mem-keep", true, set_mem_keep,
     "--mem-keep=PAGES (free grown pages kept per node, 0 = give back at once)"},
};

#define N_OPTDEFS (sizeof(optdefs) / sizeof(optdefs[0]))

static const struct optdef *find_opt(const char *name, size_t len)
{
	unsigned i;

	for (i = 0; i < N_OPTDEFS; i++)
		if (strlen(optdefs[i].name) == len && !memcmp(optdefs[i].name, name, len))
			return &optdefs[i];
	return NULL;
}

static int unknown(const char *where, const char *arg)
{
	char names[256] = "";
	size_t off = 0;
	unsigned i;

	for (i = 0; i < N_OPTDEFS && off < sizeof(names); i++)
		off += (size_t)snprintf(names + off, sizeof(names) - off, "%s--%s", i ? ", " : "",
					optdefs[i].name);
	return hp_fail(-EINVAL,
		       "%sunknown option '%.80s'; hugepool options are %s "
		       "(put the program's own options after '--')",
		       where, arg, names);
}

/* One option at argv[*i] (which starts with "-"); advances *i past a separate value. */
static int parse_one(int argc, char **argv, int *i, struct hp_init_opts *o, const char *where)
{
	const char *arg = argv[*i], *name = arg + 2, *eq, *val = NULL;
	const struct optdef *d;
	char why[160];

	if (arg[1] != '-')
		return unknown(where, arg);
	eq = strchr(name, '=');
	d = find_opt(name, eq ? (size_t)(eq - name) : strlen(name));
	if (!d)
		return unknown(where, arg);
	if (d->has_value && eq)
		val = eq + 1;
	else if (d->has_value && *i + 1 < argc && argv[*i + 1])
		val = argv[++*i];
	else if (d->has_value)
		return hp_fail(-EINVAL, "%s--%s needs a value; accepted: %s", where, d->name,
			       d->forms);
	else if (eq)
		return hp_fail(-EINVAL, "%s--%s takes no value, got '%.80s'; accepted: %s", where,
			       d->name, eq + 1, d->forms);
	if (d->set(o, val, why, sizeof(why)))
		return hp_fail(-EINVAL, "%s--%s: bad value '%.80s': %s; accepted: %s", where,
			       d->name, val, why, d->forms);
	return 0;
}

/*
 * Parse argv[start..argc) into o. From the environment every word must be an option; from argv
 * parsing stops at the first non-option and after "--". Returns the index after the last entry
 * consumed, or -EINVAL.
 */
static int parse_list(int argc, char **argv, int start, struct hp_init_opts *o, bool env)
{
	const char *where = env ? "HUGEPOOL_OPTS: " : "";
	int i, rc;

	for (i = start; i < argc && argv[i]; i++) {
		if (!strcmp(argv[i], "--") && !env)
			return i + 1;
		if (argv[i][0] != '-' || argv[i][1] == '\0' || !strcmp(argv[i], "--")) {
			if (!env)
				break;
			return hp_fail(-EINVAL,
				       "HUGEPOOL_OPTS: '%.80s' is not a hugepool option; "
				       "HUGEPOOL_OPTS holds only options such as --socket-mem=512",
				       argv[i]);
		}
		rc = parse_one(argc, argv, &i, o, where);
		if (rc < 0)
			return rc;
	}
	return i;
}

/* secure_getenv: a setuid or setcap program takes no options from whoever runs it. */
static int parse_env(struct hp_init_opts *o)
{
	const char *env = secure_getenv("HUGEPOOL_OPTS");
	char *words[MAX_ENV_TOKENS], *save = NULL, *tok;
	size_t len;
	int n = 0;

	if (!env)
		return 0;
	len = strlen(env);
	if (len > EAL_ENV_OPTS_MAX)
		return hp_fail(-EINVAL,
			       "HUGEPOOL_OPTS has %zu characters, at most %d are read; "
			       "pass the rest on the command line",
			       len, EAL_ENV_OPTS_MAX);
	memcpy(env_buf, env, len + 1);
	for (tok = strtok_r(env_buf, BLANKS, &save); tok; tok = strtok_r(NULL, BLANKS, &save))
		words[n++] = tok;
	return parse_list(n, words, 0, o, true) < 0 ? -EINVAL : 0;
}

HP_API int hp_parse_args(int argc, char **argv, struct hp_init_opts *opts)
{
	int rc;

	if (!opts)
		return hp_fail(-EINVAL, "hp_parse_args: opts is NULL; pass a struct to fill in");
	memset(opts, 0, sizeof(*opts));
	if (argc > 0 && !argv)
		return hp_fail(-EINVAL,
			       "hp_parse_args: argv is NULL with argc %d; pass main's argv", argc);
	rc = parse_env(opts);
	if (rc < 0)
		return rc;
	if (argc <= 0)
		return 0;
	return parse_list(argc, argv, 1, opts, false);
}

int eal_opts_parse_lcores(const char *list, int cpus[HP_MAX_LCORES])
{
	char why[160];
	int n = lcores_check(list, cpus, why, sizeof(why));

	if (n < 0)
		return hp_fail(-EINVAL, "--lcores: bad value '%.80s': %s; accepted: %s", list, why,
			       lcores_forms);
	return n;
}

static int field_error(const char *field, const char *why)
{
	return hp_fail(-EINVAL, "hp_init_opts: %s: %s", field, why);
}

/* A per-node MiB array of hp_init_opts: n entries given, none beyond them. */
static int check_mb_list(const char *field, const char *count, const unsigned *mb, unsigned n)
{
	char why[128];

	if (n > HP_MAX_NUMA_NODES) {
		snprintf(why, sizeof(why), "%s is larger than HP_MAX_NUMA_NODES", count);
		return field_error(field, why);
	}
	for (unsigned i = n; i < HP_MAX_NUMA_NODES; i++)
		if (mb[i]) {
			snprintf(why, sizeof(why),
				 "an entry at or beyond %s is not 0; set %s to the number of "
				 "entries",
				 count, count);
			return field_error(field, why);
		}
	return 0;
}

int eal_opts_check(const struct hp_init_opts *o)
{
	int cpus[HP_MAX_LCORES];
	char why[160];
	unsigned i;

	if (check_mb_list("socket_mem_mb", "n_socket_mem", o->socket_mem_mb, o->n_socket_mem) ||
	    check_mb_list("socket_limit_mb", "n_socket_limit", o->socket_limit_mb,
			  o->n_socket_limit))
		return -EINVAL;
	for (i = 0; i < HP_MAX_NUMA_NODES; i++)
		if (o->socket_limit_mb[i] && o->socket_mem_mb[i] > o->socket_limit_mb[i])
			return hp_fail(
			    -EINVAL,
			    "node %u: --socket-mem asks %u MiB, above its --socket-limit of "
			    "%u MiB; raise the limit or reserve less up front",
			    i, o->socket_mem_mb[i], o->socket_limit_mb[i]);
	if (o->huge_size & (o->huge_size - 1))
		return field_error("huge_size", "not a power of two; use 2 MiB or 1 GiB in bytes");
	if (o->huge_dir && !o->huge_dir[0])
		return field_error("huge_dir", "empty; use NULL for memfd or a hugetlbfs mount");
	if (o->iova > HP_IOVA_OPT_VA)
		return field_error("iova", "not one of HP_IOVA_OPT_AUTO, _PA, _VA");
	if (o->mem_keep_pages < -1)
		return field_error("mem_keep_pages",
				   "below -1; use -1 (none), 0 (default) or pages");
	if ((unsigned)o->log_level > HP_LOG_DEBUG)
		return field_error("log_level", "not 0 or one of enum hp_log_level");
	if (o->lcores && lcores_check(o->lcores, cpus, why, sizeof(why)) < 0)
		return hp_fail(-EINVAL, "hp_init_opts: lcores '%.80s': %s; accepted: %s", o->lcores,
			       why, lcores_forms);
	if (o->file_prefix && prefix_check(o->file_prefix, why, sizeof(why)))
		return hp_fail(-EINVAL, "hp_init_opts: file_prefix '%.80s': %s; accepted: %s",
			       o->file_prefix, why, prefix_forms);
	return 0;
}
