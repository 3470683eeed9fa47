/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the option parser (lib/eal/options.c). Input: one control byte, then
 * text. Control bit 0 set: the text up to the first 0x01 byte becomes HUGEPOOL_OPTS, the rest
 * argv; else all of it is argv. argv words are split on NUL and blanks, each in its own
 * allocation so a read past a word's end is caught. On success the struct must be consistent.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eal/eal_internal.h"
#include "eal/eal_options.h"

#define MAX_WORDS 64
#define ENV_NAME "HUGEPOOL_OPTS="

static char env_var[sizeof(ENV_NAME) + EAL_ENV_OPTS_MAX + 16];

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_options: check failed: %s\n", #cond);                \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static int is_blank(uint8_t c)
{
	return c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* Split [p, end) into argv[1..]; returns argc. Words are separate heap blocks. */
static int split(const uint8_t *p, const uint8_t *end, char **argv)
{
	const uint8_t *w;
	int argc = 1;

	argv[0] = strdup("fuzz");
	while (p < end && argc < MAX_WORDS) {
		while (p < end && is_blank(*p))
			p++;
		for (w = p; p < end && !is_blank(*p); p++)
			;
		if (p == w)
			break;
		argv[argc] = malloc((size_t)(p - w) + 1);
		memcpy(argv[argc], w, (size_t)(p - w));
		argv[argc++][p - w] = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

static void set_env(const uint8_t *p, const uint8_t *end)
{
	size_t n = (size_t)(end - p), room = sizeof(env_var) - sizeof(ENV_NAME);
	const uint8_t *nul = memchr(p, '\0', n);

	if (nul)
		n = (size_t)(nul - p);
	if (n > room)
		n = room;
	memcpy(env_var, ENV_NAME, sizeof(ENV_NAME) - 1);
	memcpy(env_var + sizeof(ENV_NAME) - 1, p, n);
	env_var[sizeof(ENV_NAME) - 1 + n] = '\0';
	putenv(env_var); /* no copy: nothing grows from run to run */
}

static void check_consistent(const struct hp_init_opts *o, int rc, int argc)
{
	int cpus[HP_MAX_LCORES];
	unsigned i;

	CHECK(rc >= 1 && rc <= argc);
	CHECK(o->n_socket_mem <= HP_MAX_NUMA_NODES);
	for (i = o->n_socket_mem; i < HP_MAX_NUMA_NODES; i++)
		CHECK(o->socket_mem_mb[i] == 0);
	CHECK((o->huge_size & (o->huge_size - 1)) == 0);
	CHECK(o->huge_size == 0 || o->huge_size >= 1024);
	CHECK(!o->huge_dir || o->huge_dir[0]);
	CHECK(o->iova <= HP_IOVA_OPT_VA);
	CHECK((unsigned)o->log_level <= HP_LOG_DEBUG);
	CHECK(!o->lcores || eal_opts_parse_lcores(o->lcores, cpus) > 0);
	if (o->file_prefix) {
		size_t len = strlen(o->file_prefix);

		CHECK(len >= 1 && len <= 31);
		CHECK(strspn(o->file_prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					     "0123456789_-") == len);
	}
	/* what the parser accepts, the struct check of hp_init_opts() accepts */
	CHECK(eal_opts_check(o) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *end = data + size, *args = data + 1, *sep;
	char *argv[MAX_WORDS + 1];
	struct hp_init_opts o, again;
	int argc, rc, i;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		sep = memchr(args, 0x01, (size_t)(end - args));
		set_env(args, sep ? sep : end);
		args = sep ? sep + 1 : end;
	} else {
		unsetenv("HUGEPOOL_OPTS");
	}
	argc = split(args, end, argv);
	errno = 0;
	rc = hp_parse_args(argc, argv, &o);
	if (rc < 0) {
		CHECK(rc == -EINVAL && errno == EINVAL);
		CHECK(hp_last_error()[0] != '\0');
	} else {
		check_consistent(&o, rc, argc);
		CHECK(hp_parse_args(argc, argv, &again) == rc); /* deterministic */
		CHECK(again.huge_size == o.huge_size && again.n_socket_mem == o.n_socket_mem);
	}
	for (i = 0; i < argc; i++)
		free(argv[i]);
	unsetenv("HUGEPOOL_OPTS");
	return 0;
}
