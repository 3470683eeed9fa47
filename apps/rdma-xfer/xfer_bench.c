/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rdma-xfer --lookup-bench: ns per hp_rdma_lkey() over every object of a pool, no connection.
 * With an RDMA device the map is real; without one it is built through lib/rdma's fake
 * registration path, which fills the same lookup table (so the lookup is the same code, and the
 * registration time shown is the table fill only). The output says which.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mem/mem_internal.h"
#include "rdma/rdma_internal.h"
#include "xfer.h"

#define BENCH_ELT 2048u
#define BENCH_LOOKUPS 20000000ull
#define BENCH_REPS 50

struct objs {
	void **v;
	unsigned n;
};

static void collect(struct hp_mempool *mp, void *arg, void *obj, unsigned idx)
{
	struct objs *o = arg;

	(void)mp;
	(void)idx;
	o->v[o->n++] = obj;
}

static int count_run(const struct hp_memseg *run, void *arg)
{
	(void)run;
	(*(unsigned *)arg)++;
	return 0;
}

/*
 * ns per lookup over v in the given order: best of BENCH_REPS passes of about BENCH_LOOKUPS each
 * (the machine is shared; the best pass is the one least disturbed). Keys are summed into *sink
 * so that nothing is optimised out.
 */
static double time_lookups(const struct hp_rdma_map *map, void *const *v, unsigned n,
			   uint64_t *sink)
{
	unsigned long long rounds = BENCH_LOOKUPS / BENCH_REPS / n + 1, r;
	double best = 0;
	unsigned i, rep;
	uint32_t k = 0;

	for (i = 0; i < n; i++) /* warm the table and the objects' lines */
		hp_rdma_lkey(map, v[i], BENCH_ELT, &k);
	for (rep = 0; rep < BENCH_REPS; rep++) {
		double t0 = xfer_now_us(), ns;

		for (r = 0; r < rounds; r++)
			for (i = 0; i < n; i++) {
				hp_rdma_lkey(map, v[i], BENCH_ELT, &k);
				*sink += k;
			}
		ns = (xfer_now_us() - t0) * 1e3 / (double)(rounds * n);
		if (!rep || ns < best)
			best = ns;
	}
	return best;
}

static void shuffle(void **v, unsigned n)
{
	unsigned i;
	uint64_t x = 88172645463325252ull;

	for (i = n - 1; i > 0; i--) {
		unsigned j;
		void *t;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (unsigned)(x % (i + 1));
		t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

static struct ibv_pd *open_pd(struct ibv_context **ctx)
{
	struct ibv_device **l;
	struct ibv_pd *pd = NULL;
	int n = 0;

	*ctx = NULL;
	l = ibv_get_device_list(&n);
	if (l && n > 0 && (*ctx = ibv_open_device(l[0])))
		pd = ibv_alloc_pd(*ctx);
	if (l)
		ibv_free_device_list(l);
	return pd;
}

int xfer_lookup_bench(const struct xfer_opts *o)
{
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE;
	struct hp_mempool *mp =
	    hp_mempool_create("lookup-bench", o->bench_objs, BENCH_ELT, 0, HP_NODE_ANY, 0);
	struct hp_rdma_map_stats st;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct hp_rdma_map *map;
	struct objs obj = {NULL, 0};
	unsigned runs = 0, lists = atomic_load(&mem_nlists);
	double t0, reg_ms, seq_ns, rnd_ns;
	uint64_t sink = 0;

	if (!mp) {
		fprintf(stderr, "rdma-xfer: mempool of %u objects: %s\n", o->bench_objs,
			hp_last_error());
		return 1;
	}
	obj.v = malloc(sizeof(void *) * o->bench_objs);
	if (!obj.v)
		return 1;
	hp_mempool_obj_iter(mp, collect, &obj);
	pd = open_pd(&ctx);
#ifndef HP_TEST_HOOKS
	if (!pd) {
		fprintf(stderr,
			"rdma-xfer: --lookup-bench needs an RDMA device (see doc/rdma.md for "
			"soft-RoCE), or a build with -Dtest_hooks=true for the fake path\n");
		return 1;
	}
#endif
	t0 = xfer_now_us();
#ifdef HP_TEST_HOOKS
	map =
	    pd ? hp_rdma_map_create(pd, access) : rdma_map_create_ops(NULL, access, &rdma_fake_ops);
#else
	map = hp_rdma_map_create(pd, access);
#endif
	reg_ms = (xfer_now_us() - t0) / 1e3;
	if (!map) {
		fprintf(stderr, "rdma-xfer: RDMA map: %s\n", hp_last_error());
		return 1;
	}
	hp_rdma_map_stats(map, &st);
	hp_memseg_contig_walk(count_run, &runs);
	seq_ns = time_lookups(map, obj.v, obj.n, &sink);
	shuffle(obj.v, obj.n);
	rnd_ns = time_lookups(map, obj.v, obj.n, &sink);
	if (o->json) {
		printf("{\"tool\":\"rdma-xfer\",\"mode\":\"lookup-bench\",\"registration\":\"%s\","
		       "\"objects\":%u,\"object_size\":%u,\"register_ms\":%.3f,"
		       "\"register_measures\":\"%s\",\"mrs\":%u,\"memseg_lists\":%u,"
		       "\"contig_runs\":%u,\"bytes\":%zu,\"lookup_ns_sequential\":%.2f,"
		       "\"lookup_ns_random\":%.2f,\"dpdk\":null,\"sink\":%llu}\n",
		       pd ? ibv_get_device_name(ctx->device) : "fake", obj.n, BENCH_ELT, reg_ms,
		       pd ? "ibv_reg_mr and table fill" : "table fill only (no device)", st.n_mrs,
		       lists, runs, st.bytes, seq_ns, rnd_ns, (unsigned long long)(sink & 1));
	} else {
		printf("rdma-xfer lookup benchmark: %u objects of %u B in one pool\n", obj.n,
		       BENCH_ELT);
		if (pd)
			printf("registration: real MRs on %s\n", ibv_get_device_name(ctx->device));
		else
			printf("registration: fake path (no RDMA device): same lookup table, MRs "
			       "invented; the time below is the table fill only, not ibv_reg_mr\n");
		printf("%-40s %10.3f ms\n", "register all runtime memory", reg_ms);
		printf("%-40s %10u (memseg lists %u, contiguous runs %u, %zu MiB)\n", "MRs",
		       st.n_mrs, lists, runs, st.bytes >> 20);
		printf("%-40s %10.2f ns (best of %d passes)\n",
		       "hp_rdma_lkey, objects in pool order", seq_ns, BENCH_REPS);
		printf("%-40s %10.2f ns (best of %d passes)\n",
		       "hp_rdma_lkey, objects in random order", rnd_ns, BENCH_REPS);
		printf("(bounds: <= 5 ns per lookup, MRs <= contiguous runs; DPDK has no MR map in "
		       "its public API to compare with)\n");
	}
	hp_rdma_map_destroy(map);
	if (pd) {
		ibv_dealloc_pd(pd);
		ibv_close_device(ctx);
	}
	hp_mempool_free(mp);
	free(obj.v);
	return 0;
}
