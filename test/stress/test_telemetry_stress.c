/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Telemetry under load, for HP_STRESS_SECONDS (default 3): two lcore threads run get/put loops
 * on a pool while client threads connect, ask (pool and ring info, lists, zones, heaps,
 * garbage), hang up mid-reply or without a word, and another thread creates and frees a pool
 * and a ring, so that walks meet frees. Afterwards every object is back, the pool audits clean,
 * every reply was one JSON object within max_output_len, and the server closed every client
 * socket it had (the process has the descriptors it started with). Run under ASan too.
 */
#include <dirent.h>
#include <stdio.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hp_test.h"

#define N_OBJS 8192
#define N_WORKERS 2
#define N_CLIENTS 4

/*
 * Under ThreadSanitizer: a pool's counts read cache lengths while their owners write them with
 * plain stores (hp_mempool_avail_count() documents a snapshot; the hot path stays as it is).
 * Those reads, and only those, are expected races.
 */
__attribute__((visibility("default"))) const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
	return "race:hp_mempool_avail_count\nrace:pool_info_cb\n";
}

static struct hp_mempool *mp;
static atomic_bool stop;
static _Atomic unsigned bad_replies, replies, hangups;
static char sock_path[108];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned stress_seconds(void)
{
	const char *s = getenv("HP_STRESS_SECONDS");

	return s && atoi(s) > 0 ? (unsigned)atoi(s) : 3;
}

/* Open fds but the memfds of memory lists (a pool churn may grow memory: a list each). */
static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char path[300], target[256];
	unsigned n = 0;
	ssize_t len;

	while (d && (e = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		target[len > 0 ? len : 0] = '\0';
		n += strncmp(target, "/memfd:", 7) != 0;
	}
	if (d)
		closedir(d);
	return n;
}

static void *worker(void *arg)
{
	void *objs[32];
	unsigned seed = (unsigned)(uintptr_t)arg;

	if (hp_thread_register() < 0)
		return (void *)1;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		unsigned n = 1 + rand_r(&seed) % 32;

		if (hp_mempool_get_bulk(mp, objs, n) == 0)
			hp_mempool_put_bulk(mp, objs, n);
	}
	hp_mempool_cache_flush(hp_mempool_default_cache(mp));
	hp_thread_unregister();
	return NULL;
}

static const char *const requests[] = {
    "/mempool/info,stress_pool",
    "/mempool/info,churn",
    "/ring/info,churn",
    "/mempool/list",
    "/ring/list",
    "/eal/memzone_list",
    "/eal/memzone_info,0",
    "/eal/memzone_info,3",
    "/eal/heap_info,0",
    "/eal/heap_list",
    "/hugepool/memory",
    "/hugepool/lcores",
    "/",
    "/help,/ring/info",
    "/no/such",
    "garbage,,,",
    "/mempool/info,",
};

static void *client(void *arg)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	static __thread char buf[HP_TELEMETRY_MAX_OUTPUT * 2];
	unsigned seed = (unsigned)(uintptr_t)arg;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		unsigned asks = rand_r(&seed) % 6;
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (asks == 0 || poll(&p, 1, 5000) != 1 || recv(fd, buf, sizeof(buf), 0) <= 0) {
			atomic_fetch_add(&hangups, 1); /* hung up before or right after the hello */
			close(fd);
			continue;
		}
		for (unsigned i = 0; i < asks; i++) {
			const char *req =
			    requests[rand_r(&seed) % (sizeof(requests) / sizeof(requests[0]))];
			ssize_t r;

			if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
				break;
			if (rand_r(&seed) % 8 == 0) { /* hang up with the reply on its way */
				atomic_fetch_add(&hangups, 1);
				break;
			}
			if (poll(&p, 1, 5000) != 1 ||
			    (r = recv(fd, buf, sizeof(buf) - 1, 0)) <= 0) {
				atomic_fetch_add(&bad_replies, 1);
				break;
			}
			buf[r] = '\0';
			if (r > HP_TELEMETRY_MAX_OUTPUT || buf[0] != '{' || buf[r - 1] != '}')
				atomic_fetch_add(&bad_replies, 1);
			atomic_fetch_add(&replies, 1);
		}
		close(fd);
	}
	return NULL;
}

static void *churn(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		struct hp_mempool *p = hp_mempool_create("churn", 256, 64, 16, 0, 0);
		struct hp_ring *r = hp_ring_create("churn", 256, 0, 0);

		hp_mempool_free(p);
		hp_ring_free(r);
	}
	return NULL;
}

static void test_clients_during_get_put(void **state)
{
	pthread_t w[N_WORKERS], c[N_CLIENTS], ch;
	unsigned fds_before, fds_after = 0;
	uint64_t end;
	void *ret;

	(void)state;
	assert_non_null(hp_telemetry_path());
	snprintf(sock_path, sizeof(sock_path), "%s", hp_telemetry_path());
	mp = hp_mempool_create("stress_pool", N_OBJS, 64, 64, 0, 0);
	assert_non_null(mp);
	fds_before = open_fds();
	atomic_store(&stop, false);
	for (uintptr_t i = 0; i < N_WORKERS; i++)
		assert_int_equal(pthread_create(&w[i], NULL, worker, (void *)(i + 1)), 0);
	for (uintptr_t i = 0; i < N_CLIENTS; i++)
		assert_int_equal(pthread_create(&c[i], NULL, client, (void *)(i + 100)), 0);
	assert_int_equal(pthread_create(&ch, NULL, churn, NULL), 0);
	end = now_ns() + (uint64_t)stress_seconds() * 1000000000u;
	while (now_ns() < end)
		usleep(10000);
	atomic_store(&stop, true);
	for (int i = 0; i < N_WORKERS; i++) {
		assert_int_equal(pthread_join(w[i], &ret), 0);
		assert_null(ret);
	}
	for (int i = 0; i < N_CLIENTS; i++)
		assert_int_equal(pthread_join(c[i], NULL), 0);
	assert_int_equal(pthread_join(ch, NULL), 0);

	hp_test_note("%u replies, %u hang-ups in %u s", atomic_load(&replies),
		     atomic_load(&hangups), stress_seconds());
	assert_int_equal(atomic_load(&bad_replies), 0);
	assert_true(atomic_load(&replies) > 0);
	assert_int_equal(hp_mempool_avail_count(mp), N_OBJS);
	assert_int_equal(hp_mempool_audit(mp), 0);
	/* the server notices every hang-up and closes its end: wait for it, at most 5 s */
	for (int i = 0; i < 500 && (fds_after = open_fds()) != fds_before; i++)
		usleep(10000);
	assert_int_equal(fds_after, fds_before);
	hp_mempool_free(mp);
}

static int group_setup(void **state)
{
	char opts[128];

	(void)state;
	snprintf(opts, sizeof(opts), "--socket-mem=64 --file-prefix=hp_test_tstress_%d",
		 (int)getpid());
	hp_test_init(64, "%s", opts);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clients_during_get_put),
	};

	return cmocka_run_group_tests_name("telemetry_stress", tests, group_setup,
					   hp_test_teardown);
}
