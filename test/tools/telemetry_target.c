/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A program for the telemetry tests (test_telemetry.py): starts the runtime from its options,
 * holds a pool with objects out (some in its lcore's cache), two zones and a ring with objects
 * in it, prints what the public API says of them as one JSON line, and waits for stdin to close;
 * then it stops the runtime and exits 0. hp_init failing: its sentence on stderr, exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hugepool.h>

#define POOL_N 4096
#define OUT 100
#define BACK 30
#define RING_IN 77

static void zone_json(const struct hp_memzone *mz, const char *sep)
{
	printf("{\"name\":\"%s\",\"len\":%zu,\"node\":%d}%s", mz->name, mz->len, mz->node, sep);
}

int main(int argc, char **argv)
{
	static void *objs[OUT];
	const struct hp_memzone *za, *zb;
	struct hp_mempool *mp;
	struct hp_ring *r;
	const char *path;
	char line[256];
	int rc;

	rc = hp_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "%s\n", hp_last_error());
		return 1;
	}
	if (hp_thread_register() < 0)
		goto fail;
	mp = hp_mempool_create("tpool", POOL_N, 256, 64, 0, 0);
	za = hp_memzone_reserve("tzone_a", 1 << 20, 0, 0, 0);
	zb = hp_memzone_reserve("tzone_b", 64 << 10, 0, 0, 0);
	r = hp_ring_create("tring", 1024, 0, 0);
	if (!mp || !za || !zb || !r)
		goto fail;
	if (hp_mempool_get_bulk(mp, objs, OUT) < 0)
		goto fail;
	hp_mempool_put_bulk(mp, objs + OUT - BACK, BACK); /* these stay in the lcore's cache */
	for (int i = 0; i < RING_IN; i++)
		hp_ring_enqueue(r, objs[i % (OUT - BACK)]);
	path = hp_telemetry_path();
	printf("{\"pid\":%d,\"socket\":%s%s%s,\"pool\":{\"name\":\"%s\",\"size\":%u,"
	       "\"avail\":%u,\"in_use\":%u,\"cache_size\":%u},\"zones\":[",
	       (int)getpid(), path ? "\"" : "", path ? path : "null", path ? "\"" : "", "tpool",
	       POOL_N, hp_mempool_avail_count(mp), hp_mempool_in_use_count(mp), 64);
	zone_json(za, ",");
	zone_json(zb, "");
	printf("],\"ring\":{\"name\":\"tring\",\"count\":%u,\"capacity\":%u,\"free\":%u},"
	       "\"reserved\":%zu,\"page_size\":%zu}\n",
	       hp_ring_count(r), hp_ring_capacity(r), hp_ring_free_count(r),
	       hp_mem_reserved(HP_NODE_ANY), hp_mem_page_size());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin))
		;
	hp_mempool_put_bulk(mp, objs, OUT - BACK);
	hp_ring_free(r);
	hp_mempool_free(mp);
	hp_cleanup();
	return 0;
fail:
	fprintf(stderr, "telemetry_target: %s\n", hp_last_error());
	hp_cleanup();
	return 1;
}
