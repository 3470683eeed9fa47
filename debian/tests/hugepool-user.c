/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A user's program built against the installed packages: start the runtime (argv goes to
 * hp_init()), reserve a memzone, pass objects through a ring, and get and put objects through
 * a pool on each mempool backend the library ships. A static link that lost the drivers'
 * constructors fails here: hp_mempool_create_ops() would not find the backend.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <hugepool.h>

#define OBJS 1023

static int fail(const char *what)
{
	fprintf(stderr, "hugepool-user: %s: %s (%s)\n", what, strerror(errno), hp_last_error());
	hp_cleanup();
	return 1;
}

static int try_backend(const char *ops)
{
	void *objs[32];
	struct hp_mempool *mp = hp_mempool_create_ops(ops, OBJS, 64, 0, HP_NODE_ANY, 0, ops);

	if (!mp)
		return -1;
	if (hp_mempool_get_bulk(mp, objs, 32) != 0 || hp_mempool_avail_count(mp) != OBJS - 32) {
		hp_mempool_free(mp);
		errno = EIO;
		return -1;
	}
	memset(objs[31], 0xa5, 64);
	hp_mempool_put_bulk(mp, objs, 32);
	if (hp_mempool_avail_count(mp) != OBJS) {
		hp_mempool_free(mp);
		errno = EIO;
		return -1;
	}
	hp_mempool_free(mp);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const backends[] = {"ring_mp_mc", "ring_sp_sc", "stack"};
	const struct hp_memzone *mz;
	struct hp_ring *r;
	void *out = NULL;

	if (hp_init(argc, argv) < 0)
		return fail("hp_init");
	mz = hp_memzone_reserve("user-zone", 1 << 20, HP_NODE_ANY, 0, 0);
	if (!mz)
		return fail("hp_memzone_reserve");
	memset(mz->va, 0, mz->len);
	r = hp_ring_create("user-ring", 1024, HP_NODE_ANY, 0);
	if (!r)
		return fail("hp_ring_create");
	if (hp_ring_enqueue(r, mz->va) != 0 || hp_ring_dequeue(r, &out) != 0 || out != mz->va) {
		errno = EIO;
		return fail("ring round trip");
	}
	hp_ring_free(r);
	for (unsigned i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (try_backend(backends[i]) != 0)
			return fail(backends[i]);
		printf("hugepool-user: backend %s: 32 objects out and back\n", backends[i]);
	}
	if (hp_memzone_free(mz) != 0)
		return fail("hp_memzone_free");
	if (hp_cleanup() != 0)
		return fail("hp_cleanup");
	printf("hugepool-user: ok\n");
	return 0;
}
