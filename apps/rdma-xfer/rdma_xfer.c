/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rdma-xfer: main, options and output. hugepool options come first and end with "--" (hp_init
 * consumes them), then rdma-xfer's own. The client prints one row per size (table, or one JSON
 * object with --json); the server prints its registration figures. Exit 0 only when every byte
 * was verified.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_opts.h"
#include "xfer.h"

static const size_t default_sizes[] = {64, 256, 1024, 4096, 16384, 65536, 262144, 1048576};

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

/* --sizes: 0, or -1 after saying what is wrong with the list. */
static int parse_sizes(const char *arg, void *target)
{
	struct xfer_opts *o = target;
	char list[256], *save = NULL, *tok;

	o->n_sizes = 0;
	snprintf(list, sizeof(list), "%s", arg);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->n_sizes == XFER_MAX_SIZES || parse_size(tok, &o->sizes[o->n_sizes++])) {
			fprintf(stderr,
				"rdma-xfer: --sizes: '%s' is not a size from 1 to 1M (at "
				"most %d sizes)\n",
				tok, XFER_MAX_SIZES);
			return -1;
		}
	}
	if (!o->n_sizes)
		fprintf(stderr, "rdma-xfer: --sizes: give at least one size, e.g. --sizes 4K,1M\n");
	return o->n_sizes ? 0 : -1;
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
	struct xfer_opts o = {.port = "18515", .iters = 100, .bench_objs = 65536};
	struct hp_init_opts hp;
	int rc;
	const struct app_opt opts[] = {
	    {"server", 0, APP_FLAG, &o.server, NULL, "wait for one client, serve it, and exit"},
	    {"bind", 0, APP_STRING, &o.addr, "ADDR",
	     "address the server listens on (default: all)"},
	    {"connect", 0, APP_STRING, &o.addr, "ADDR", "connect to a server at ADDR"},
	    {"port", 0, APP_STRING, &o.port, "P", "rdma_cm port (default 18515)"},
	    {"iters", 0, APP_UINT, &o.iters, "N", "operations per size and kind (default 100)", 1,
	     UINT_MAX, "give 1 or more"},
	    {"sizes", 0, APP_CALL, &o, "LIST",
	     "comma-separated sizes with optional K or M, up to 1M\n"
	     "(default 64,256,1K,4K,16K,64K,256K,1M)",
	     .call = parse_sizes},
	    {"json", 0, APP_FLAG, &o.json, NULL, "one JSON object instead of the table"},
	    {"lookup-bench", 0, APP_FLAG, &o.lookup_bench, NULL, "run the lookup benchmark"},
	    {"objs", 0, APP_UINT, &o.bench_objs, "N",
	     "objects in the lookup benchmark's pool (default 65536)", 1, UINT_MAX,
	     "give 1 or more"},
	    {NULL}};
	const struct app_cli cli = {
	    .prog = "rdma-xfer",
	    .synopsis =
		"[HUGEPOOL-OPTIONS --] --server [--bind ADDR] [--port P] [--json]\n"
		"       rdma-xfer [HUGEPOOL-OPTIONS --] --connect ADDR [--port P] [--iters N]\n"
		"                 [--sizes LIST] [--json]\n"
		"       rdma-xfer [HUGEPOOL-OPTIONS --] --lookup-bench [--objs N] [--json]",
	    .opts = opts,
	    .footer = "RDMA WRITE, READ and SEND/RECV of mempool objects between two endpoints "
		      "joined by\nrdma_cm, every byte verified; sizes 64 B to 1 MiB (chains of 64 "
		      "KiB objects).\nSee rdma-xfer(1).\n"};

	memcpy(o.sizes, default_sizes, sizeof(default_sizes));
	o.n_sizes = sizeof(default_sizes) / sizeof(default_sizes[0]);
	rc = app_parse_hp(&cli, argc, argv, &hp);
	if (rc != APP_RUN)
		return rc;
	if (!o.lookup_bench && !o.server && !o.addr) {
		fprintf(stderr, "rdma-xfer: give --server, --connect ADDR or --lookup-bench; see "
				"rdma-xfer --help\n");
		return 2;
	}
	if (hp_init_opts(&hp) < 0) {
		fprintf(stderr, "rdma-xfer: hp_init: %s\n", hp_last_error());
		return 1;
	}
	rc = o.lookup_bench ? xfer_lookup_bench(&o) : run(&o);
	hp_cleanup();
	return rc;
}
