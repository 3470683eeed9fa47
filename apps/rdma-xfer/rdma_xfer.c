/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rdma-xfer: main, options and output. hugepool options come first and end with "--" (hp_init
 * consumes them), then rdma-xfer's own. The client prints one row per size (table, or one JSON
 * object with --json); the server prints its registration figures. Exit 0 only when every byte
 * was verified.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfer.h"

static const size_t default_sizes[] = {64, 256, 1024, 4096, 16384, 65536, 262144, 1048576};

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: rdma-xfer [HUGEPOOL-OPTIONS --] --server [--bind ADDR] [--port P] [--json]\n"
	       "       rdma-xfer [HUGEPOOL-OPTIONS --] --connect ADDR [--port P] [--iters N]\n"
	       "                 [--sizes LIST] [--json]\n"
	       "       rdma-xfer [HUGEPOOL-OPTIONS --] --lookup-bench [--objs N] [--json]\n"
	       "RDMA WRITE, READ and SEND/RECV of mempool objects between two endpoints joined by\n"
	       "rdma_cm, every byte verified; sizes 64 B to 1 MiB (chains of 64 KiB objects).\n"
	       "See rdma-xfer(1).\n");
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (*end || !v || v > (unsigned long long)XFER_NOBJ * XFER_OBJ_SIZE)
		return -1;
	*out = v;
	return 0;
}

static int parse_sizes(char *list, struct xfer_opts *o)
{
	char *save = NULL, *tok;

	o->n_sizes = 0;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->n_sizes == XFER_MAX_SIZES || parse_size(tok, &o->sizes[o->n_sizes++])) {
			fprintf(stderr,
				"rdma-xfer: --sizes: '%s' is not a size from 1 to 1M (at "
				"most %d sizes)\n",
				tok, XFER_MAX_SIZES);
			return -1;
		}
	}
	return o->n_sizes ? 0 : -1;
}

static int parse(int argc, char **argv, struct xfer_opts *o)
{
	static const struct option lo[] = {{"server", no_argument, NULL, 's'},
					   {"connect", required_argument, NULL, 'c'},
					   {"bind", required_argument, NULL, 'b'},
					   {"port", required_argument, NULL, 'p'},
					   {"iters", required_argument, NULL, 'n'},
					   {"sizes", required_argument, NULL, 'z'},
					   {"json", no_argument, NULL, 'j'},
					   {"lookup-bench", no_argument, NULL, 'l'},
					   {"objs", required_argument, NULL, 'o'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	int c;

	*o = (struct xfer_opts){.port = "18515", .iters = 100, .bench_objs = 65536};
	memcpy(o->sizes, default_sizes, sizeof(default_sizes));
	o->n_sizes = sizeof(default_sizes) / sizeof(default_sizes[0]);
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o->server = true;
			break;
		case 'c':
			o->addr = optarg;
			break;
		case 'b':
			o->addr = optarg;
			break;
		case 'p':
			o->port = optarg;
			break;
		case 'n':
			o->iters = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'z':
			if (parse_sizes(optarg, o))
				return -1;
			break;
		case 'j':
			o->json = true;
			break;
		case 'l':
			o->lookup_bench = true;
			break;
		case 'o':
			o->bench_objs = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc || !o->iters || !o->bench_objs ||
	    (!o->lookup_bench && !o->server && !o->addr)) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static void print_reg(const struct xfer_ep *ep, const char *role)
{
	printf("rdma-xfer %s: device %s, pool node %d, %u objects of %u KiB\n", role,
	       ibv_get_device_name(ep->id->verbs->device), ep->node, XFER_NOBJ,
	       XFER_OBJ_SIZE >> 10);
	printf("registered all runtime memory in %.3f ms: %u MRs for %u contiguous runs\n",
	       ep->reg_ms, ep->n_mrs, ep->n_runs);
}

static bool all_ok(const struct xfer_result *r, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (!r[i].wr_ok || !r[i].rd_ok || !r[i].sr_ok)
			return false;
	return true;
}

static void print_json(const struct xfer_ep *ep, const struct xfer_opts *o, const char *role,
		       const struct xfer_result *r, unsigned n)
{
	unsigned i;

	printf("{\"tool\":\"rdma-xfer\",\"role\":\"%s\",\"device\":\"%s\",\"node\":%d,"
	       "\"iters\":%u,\"register_ms\":%.3f,\"mrs\":%u,\"contig_runs\":%u,\"results\":[",
	       role, ibv_get_device_name(ep->id->verbs->device), ep->node, o->iters, ep->reg_ms,
	       ep->n_mrs, ep->n_runs);
	for (i = 0; i < n; i++)
		printf("%s{\"size\":%zu,\"write_mbps\":%.2f,\"write_us\":%.2f,\"read_mbps\":%.2f,"
		       "\"read_us\":%.2f,\"send_mbps\":%.2f,\"send_rtt_us\":%.2f,"
		       "\"write_ok\":%s,\"read_ok\":%s,\"send_ok\":%s}",
		       i ? "," : "", r[i].size, r[i].wr_mbps, r[i].wr_us, r[i].rd_mbps, r[i].rd_us,
		       r[i].sr_mbps, r[i].sr_us, r[i].wr_ok ? "true" : "false",
		       r[i].rd_ok ? "true" : "false", r[i].sr_ok ? "true" : "false");
	printf("],\"all_verified\":%s}\n", all_ok(r, n) ? "true" : "false");
}

static void print_table(const struct xfer_ep *ep, const struct xfer_result *r, unsigned n)
{
	unsigned i;

	print_reg(ep, "client");
	printf("%9s %11s %9s %11s %9s %11s %12s  %s\n", "size", "write MB/s", "write us",
	       "read MB/s", "read us", "send MB/s", "send rtt us", "verified");
	for (i = 0; i < n; i++)
		printf("%9zu %11.1f %9.2f %11.1f %9.2f %11.1f %12.2f  %s%s%s\n", r[i].size,
		       r[i].wr_mbps, r[i].wr_us, r[i].rd_mbps, r[i].rd_us, r[i].sr_mbps, r[i].sr_us,
		       r[i].wr_ok ? "W" : "-", r[i].rd_ok ? "R" : "-", r[i].sr_ok ? "S" : "-");
	printf("write/read: a chain of RDMA ops, one per 64 KiB object; send rtt: SEND of header "
	       "+ data, server verifies, replies\n");
	printf("%s\n", all_ok(r, n) ? "all bytes verified" : "VERIFICATION FAILED");
}

static int run(const struct xfer_opts *o)
{
	struct xfer_ep ep;
	struct xfer_result res[XFER_MAX_SIZES];
	int rc;

	memset(&ep, 0, sizeof(ep));
	memset(res, 0, sizeof(res));
	if (o->server) {
		rc = xfer_accept(&ep, o);
		if (!rc && !o->json)
			print_reg(&ep, "server");
		if (!rc)
			rc = xfer_server(&ep);
		if (!rc && o->json)
			print_json(&ep, o, "server", res, 0);
	} else {
		rc = xfer_connect(&ep, o);
		if (!rc)
			rc = xfer_client(&ep, o, res);
		if (!rc && o->json)
			print_json(&ep, o, "client", res, o->n_sizes);
		else if (!rc)
			print_table(&ep, res, o->n_sizes);
		if (!rc && !all_ok(res, o->n_sizes))
			rc = -1;
	}
	xfer_close(&ep);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct xfer_opts o;
	char **args;
	int n, rc, i;

	/* hugepool options, if any, come first and end with "--"; else only HUGEPOOL_OPTS */
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		;
	n = hp_init(i < argc ? argc : 1, argv);

	if (n < 0) {
		fprintf(stderr, "rdma-xfer: hp_init: %s\n", hp_last_error());
		return 1;
	}
	args = calloc((size_t)(argc - n) + 2, sizeof(*args));
	if (!args)
		return 1;
	args[0] = argv[0];
	for (i = n; i < argc; i++)
		args[i - n + 1] = argv[i];
	if (parse(argc - n + 1, args, &o)) {
		free(args);
		hp_cleanup();
		return 2;
	}
	rc = o.lookup_bench ? xfer_lookup_bench(&o) : run(&o);
	free(args);
	hp_cleanup();
	return rc;
}
