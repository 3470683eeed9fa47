/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The telemetry socket through a client of our own, speaking DPDK's telemetry v2 protocol:
 * the hello, "/", "/help", replies checked against the API in this process, sentences for bad
 * commands and parameters, replies that would pass max_output_len, the writer's rules, a client
 * of another uid refused, a stale socket replaced and a live one refused, --no-telemetry, the
 * client limit and a client that never reads. Every case starts the runtime with a file prefix
 * of its own (this pid), so other test programs on the machine are not in its way.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hp_test.h"
#ifdef HP_HAVE_RDMA
#include <infiniband/verbs.h>

#include "rdma/rdma_internal.h"
#endif

#define MB 64
#define WAIT_MS 5000
#define REQUEST_BYTES 1024 /* the most a request may hold, its end included */

static char prefix[32];

/* ---- a small JSON checker: true when s is exactly one JSON value --------------------------- */

static const char *ws(const char *s)
{
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	return s;
}

static const char *value(const char *s, int depth);

/* Past one well-formed UTF-8 character at s (RFC 3629: no surrogate, overlong form or past
 * U+10FFFF), or NULL. */
static const char *utf8_char(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned n = u[0] < 0x80    ? 0
		     : u[0] >= 0xf8 ? 9
		     : u[0] >= 0xf0 ? 3
		     : u[0] >= 0xe0 ? 2
		     : u[0] >= 0xc0 ? 1
				    : 9;
	unsigned long cp = n == 0 ? u[0] : u[0] & (0x3f >> n);
	static const unsigned long least[] = {0, 0x80, 0x800, 0x10000};

	if (n > 3)
		return NULL;
	for (unsigned i = 1; i <= n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return NULL;
		cp = cp << 6 | (u[i] & 0x3f);
	}
	if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return NULL;
	return s + n;
}

static const char *string(const char *s)
{
	if (*s++ != '"')
		return NULL;
	for (; *s && *s != '"'; s++) {
		if ((unsigned char)*s < 0x20 || !(s = utf8_char(s)))
			return NULL;
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
						return NULL;
				s += 4;
			} else if (!*s || !strchr("\"\\/bfnrt", *s)) {
				return NULL;
			}
		}
	}
	return *s == '"' ? s + 1 : NULL;
}

static const char *number(const char *s)
{
	char *end;

	if (*s != '-' && (*s < '0' || *s > '9'))
		return NULL;
	strtod(s, &end);
	return end > s ? end : NULL;
}

static const char *container(const char *s, int depth, char close, bool keys)
{
	s = ws(s + 1);
	if (*s == close)
		return s + 1;
	for (;;) {
		if (keys) {
			s = string(s);
			if (!s || *(s = ws(s)) != ':')
				return NULL;
			s = ws(s + 1);
		}
		s = value(s, depth + 1);
		if (!s)
			return NULL;
		s = ws(s);
		if (*s == close)
			return s + 1;
		if (*s != ',')
			return NULL;
		s = ws(s + 1);
	}
}

static const char *value(const char *s, int depth)
{
	if (depth > 32)
		return NULL;
	s = ws(s);
	switch (*s) {
	case '{':
		return container(s, depth, '}', true);
	case '[':
		return container(s, depth, ']', false);
	case '"':
		return string(s);
	case 't':
		return strncmp(s, "true", 4) ? NULL : s + 4;
	case 'f':
		return strncmp(s, "false", 5) ? NULL : s + 5;
	case 'n':
		return strncmp(s, "null", 4) ? NULL : s + 4;
	default:
		return number(s);
	}
}

static bool json_valid(const char *s)
{
	const char *end = value(s, 0);

	return end && *ws(end) == '\0';
}

/* The number after "key": in a reply (fails the test when there is none). */
static long long json_num(const char *reply, const char *key)
{
	char pat[80];
	const char *at;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	at = strstr(reply, pat);
	if (!at)
		fail_msg("no \"%s\" in %s", key, reply);
	return strtoll(at + strlen(pat), NULL, 10);
}

/* ---- the client ------------------------------------------------------------------------------ */

static int client(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	assert_true(fd >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* One message, waiting at most WAIT_MS: its length, 0 when the server closed, -1 on timeout. */
static ssize_t recv_msg(int fd, char *buf, size_t len)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t r;

	if (poll(&p, 1, WAIT_MS) != 1)
		return -1;
	r = recv(fd, buf, len - 1, 0);
	if (r < 0)
		return errno == ECONNRESET ? 0 : -1;
	buf[r] = '\0';
	return r;
}

/* Connect and read the hello into buf. */
static int connect_hello(char *buf, size_t len)
{
	const char *path = hp_telemetry_path();
	int fd;

	assert_non_null(path);
	fd = client(path);
	assert_true(fd >= 0);
	assert_true(recv_msg(fd, buf, len) > 0);
	return fd;
}

/* Send a request and return its reply (static buffer, one bigger than the protocol allows). */
static const char *ask(int fd, const char *req)
{
	static char buf[4 * HP_TELEMETRY_MAX_OUTPUT];
	ssize_t r;

	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	r = recv_msg(fd, buf, sizeof(buf));
	if (r <= 0)
		fail_msg("no reply to %s", req);
	assert_true(r <= HP_TELEMETRY_MAX_OUTPUT);
	if (!json_valid(buf))
		fail_msg("reply to %s is not JSON: %s", req, buf);
	return buf;
}

/* The reply is {"<cmd>":"<a sentence>"}: a string that says why, never null. */
static void assert_sentence(const char *reply, const char *cmd, const char *says)
{
	char head[128];

	snprintf(head, sizeof(head), "{\"%s\":\"", cmd);
	if (strncmp(reply, head, strlen(head)) || !strstr(reply, says))
		fail_msg("expected %s with \"%s\", got %s", head, says, reply);
}

static int setup(void **state)
{
	(void)state;
	hp_test_init(MB, "--socket-mem=%d --file-prefix=%s", MB, prefix);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hp_cleanup();
	return 0;
}

/* ---- cases --------------------------------------------------------------------------------- */

static void test_hello_and_list(void **state)
{
	char hello[1024], want[64];
	const char *r;
	int fd;

	(void)state;
	fd = connect_hello(hello, sizeof(hello));
	assert_true(json_valid(hello));
	assert_int_equal(json_num(hello, "pid"), getpid());
	assert_int_equal(json_num(hello, "max_output_len"), HP_TELEMETRY_MAX_OUTPUT);
	assert_non_null(strstr(hello, "\"version\":\"hugepool "));
	r = ask(fd, "/");
	assert_true(!strncmp(r, "{\"/\":[", 6));
	for (const char **c =
		 (const char *[]){"/", "/help", "/info", "/mempool/list", "/mempool/info",
				  "/ring/list", "/ring/info", "/eal/memzone_list",
				  "/eal/memzone_info", "/eal/heap_list", "/eal/heap_info",
				  "/hugepool/memory", "/hugepool/lcores", "/hugepool/rdma",
				  "/hugepool/pci", NULL};
	     *c; c++) {
		snprintf(want, sizeof(want), "\"%s\"", *c);
		if (!strstr(r, want))
			fail_msg("%s is not listed by /: %s", *c, r);
	}
	r = ask(fd, "/info");
	assert_int_equal(json_num(r, "pid"), getpid());
	close(fd);
}

static void test_help(void **state)
{
	char hello[1024];
	const char *r;
	int fd;

	(void)state;
	fd = connect_hello(hello, sizeof(hello));
	r = ask(fd, "/help");
	assert_sentence(r, "/help", "Returns help text");
	r = ask(fd, "/help,/mempool/info");
	assert_string_equal(r, "{\"/help\":{\"/mempool/info\":\"Returns mempool info. Parameters: "
			       "pool_name\"}}");
	r = ask(fd, "/help,/nope");
	assert_sentence(r, "/help", "no command '/nope'");
	close(fd);
}

static void test_bad_requests(void **state)
{
	char hello[1024], longcmd[200];
	const char *r;
	int fd;

	(void)state;
	fd = connect_hello(hello, sizeof(hello));
	assert_sentence(ask(fd, "/nope"), "/nope", "unknown command '/nope'");
	assert_sentence(ask(fd, "mempool/list"), "mempool/list", "unknown command");
	assert_sentence(ask(fd, "/mempool/info"), "/mempool/info", "needs a pool name");
	assert_sentence(ask(fd, "/mempool/info,"), "/mempool/info", "needs a pool name");
	assert_sentence(ask(fd, "/mempool/info,nosuch"), "/mempool/info",
			"no mempool named 'nosuch'");
	assert_sentence(ask(fd, "/ring/info,nosuch"), "/ring/info", "no ring named 'nosuch'");
	assert_sentence(ask(fd, "/eal/memzone_info,x1"), "/eal/memzone_info", "needs a zone id");
	assert_sentence(ask(fd, "/eal/memzone_info,1x"), "/eal/memzone_info", "is not a zone id");
	assert_sentence(ask(fd, "/eal/memzone_info,2047"), "/eal/memzone_info", "no zone has id");
	assert_sentence(ask(fd, "/eal/heap_info,99999"), "/eal/heap_info", "is not a heap id");
	/* a quote in the command is escaped: the reply stays JSON */
	r = ask(fd, "/a\"b\\c");
	assert_non_null(strstr(r, "unknown command"));
	memset(longcmd, 'a', sizeof(longcmd) - 1);
	longcmd[0] = '/';
	longcmd[sizeof(longcmd) - 1] = '\0';
	assert_non_null(strstr(ask(fd, longcmd), "unknown command"));
	/* after all of that the connection still answers */
	assert_non_null(strstr(ask(fd, "/info"), "max_output_len"));
	close(fd);
}

/* Requests of bytes that are not UTF-8, or of any bytes at all: every reply is JSON in UTF-8. */
static void test_bytes_not_utf8(void **state)
{
	static const char *const reqs[] = {
	    "/\xff\xfe", "/help,\xff\xfe", "/mempool/info,\xc3",
	    "/ring/info,a\xed\xa0\x80"
	    "b",
	    "/eal/heap_info,\xf4\x90\x80\x80", "/\xc0\xaf", "/x\x01\x7f\x1b[2J",
	    /* cut after 60 bytes inside a 2-byte character: the sentence cuts it in half */
	    "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9\xc3\xa9"};
	char hello[1024], req[REQUEST_BYTES];
	const char *r;
	unsigned seed = 24;
	int fd;

	(void)state;
	fd = connect_hello(hello, sizeof(hello));
	r = ask(fd, reqs[0]);
	assert_non_null(strstr(r, "unknown command '/\\ufffd\\ufffd'"));
	for (unsigned i = 1; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		ask(fd, reqs[i]);
	for (unsigned i = 0; i < 3000; i++) {
		size_t len = 1 + (size_t)rand_r(&seed) % (i % 2 ? 8 : sizeof(req) - 2);

		for (size_t k = 0; k < len; k++)
			req[k] = (char)(1 + rand_r(&seed) % 255);
		if (i % 3 == 0)
			req[0] = '/';
		if (i % 5 == 0 && len > 14)
			memcpy(req, "/mempool/info,", 14);
		req[len] = '\0';
		ask(fd, req); /* fails unless the reply is JSON and its strings UTF-8 */
	}
	assert_non_null(strstr(ask(fd, "/info"), "max_output_len"));
	close(fd);
}

static void test_numbers_match_api(void **state)
{
	void *objs[200];
	char hello[1024], req[64], list[4096], *p, *end;
	bool seen = false;
	struct hp_mempool *mp;
	struct hp_ring *r;
	const struct hp_memzone *mz;
	const char *rep;
	long long common, cached;
	int fd;

	(void)state;
	assert_int_equal(hp_thread_register(), 0);
	mp = hp_mempool_create("tel_pool", 2048, 128, 32, 0, 0);
	assert_non_null(mp);
	r = hp_ring_create("tel_ring", 256, 0, 0);
	assert_non_null(r);
	mz = hp_memzone_reserve("tel_zone", 12345, 0, 0, 0);
	assert_non_null(mz);
	assert_int_equal(hp_mempool_get_bulk(mp, objs, 200), 0);
	hp_mempool_put_bulk(mp, objs + 180, 20); /* into this lcore's cache */
	for (int i = 0; i < 33; i++)
		assert_int_equal(hp_ring_enqueue(r, objs[i]), 0);

	fd = connect_hello(hello, sizeof(hello));
	rep = ask(fd, "/mempool/list");
	assert_non_null(strstr(rep, "\"tel_pool\""));
	rep = ask(fd, "/mempool/info,tel_pool");
	assert_int_equal(json_num(rep, "size"), 2048);
	assert_int_equal(json_num(rep, "populated_size"), 2048);
	assert_int_equal(json_num(rep, "cache_size"), 32);
	assert_int_equal(json_num(rep, "elt_size"), 128);
	assert_int_equal(json_num(rep, "avail_count"), hp_mempool_avail_count(mp));
	assert_int_equal(json_num(rep, "in_use_count"), hp_mempool_in_use_count(mp));
	assert_int_equal(json_num(rep, "in_use_count"), 180);
	common = json_num(rep, "common_pool_count");
	cached = json_num(rep, "total_cache_count");
	assert_int_equal(cached, 20);
	assert_int_equal(common + cached, hp_mempool_avail_count(mp));
	assert_non_null(strstr(rep, "\"caches\":[{\"lcore\":0,\"len\":20"));

	rep = ask(fd, "/ring/info,tel_ring");
	assert_int_equal(json_num(rep, "used_count"), hp_ring_count(r));
	assert_int_equal(json_num(rep, "used_count"), 33);
	assert_int_equal(json_num(rep, "free_count"), hp_ring_free_count(r));
	assert_int_equal(json_num(rep, "capacity"), hp_ring_capacity(r));

	/* the zone by the id /eal/memzone_list gives */
	snprintf(list, sizeof(list), "%s", ask(fd, "/eal/memzone_list"));
	for (p = strchr(list, '[') + 1; *p && *p != ']'; p = *end == ',' ? end + 1 : end) {
		long id = strtol(p, &end, 10);

		assert_true(end > p);
		snprintf(req, sizeof(req), "/eal/memzone_info,%ld", id);
		rep = ask(fd, req);
		if (strstr(rep, "\"Name\":\"tel_zone\"")) {
			seen = true;
			assert_int_equal(json_num(rep, "Length"), mz->len);
			assert_int_equal(json_num(rep, "Socket"), mz->node);
		}
	}
	assert_true(seen);

	rep = ask(fd, "/eal/heap_info,0");
	assert_int_equal(json_num(rep, "Heap_size"), hp_mem_reserved(0));
	assert_true(json_num(rep, "Free_size") + json_num(rep, "Alloc_size") ==
		    json_num(rep, "Heap_size"));
	assert_true(json_num(rep, "Alloc_count") >= 3); /* pool struct, objects, ring, zone */

	rep = ask(fd, "/hugepool/memory");
	assert_int_equal(json_num(rep, "reserved"), hp_mem_reserved(HP_NODE_ANY));
	assert_int_equal(json_num(rep, "page_size"), hp_mem_page_size());
	rep = ask(fd, "/hugepool/lcores");
	assert_int_equal(json_num(rep, "count"), hp_lcore_count());
	close(fd);

	hp_mempool_put_bulk(mp, objs, 180);
	hp_ring_free(r);
	hp_memzone_free(mz);
	hp_mempool_free(mp);
	hp_thread_unregister();
}

static void test_rdma_maps(void **state)
{
	char hello[1024];
	const char *r;
	int fd;

	(void)state;
	fd = connect_hello(hello, sizeof(hello));
#if defined(HP_HAVE_RDMA) && !defined(HP_TEST_HOOKS)
	(void)r;
	close(fd);
	hp_test_skip("%s: maps need a device or the fake registration path", HP_TEST_NO_HOOKS);
#elif defined(HP_HAVE_RDMA)
	struct hp_rdma_map_stats st;
	struct hp_rdma_map *map;

	assert_int_equal(json_num(ask(fd, "/hugepool/rdma"), "maps"), 0);
	assert_int_equal(json_num(ask(fd, "/hugepool/pci"), "devices"), 0);
	/* the registration path that needs no device: same map, same records */
	map = rdma_map_create_ops(NULL, IBV_ACCESS_LOCAL_WRITE, &rdma_fake_ops);
	assert_non_null(map);
	assert_int_equal(hp_rdma_map_stats(map, &st), 0);
	r = ask(fd, "/hugepool/rdma");
	assert_int_equal(json_num(r, "maps"), 1);
	assert_int_equal(json_num(r, "mrs"), st.n_mrs);
	assert_int_equal(json_num(r, "bytes"), st.bytes);
	assert_true(st.n_mrs > 0);
	assert_non_null(strstr(r, "\"device\":\""));
	assert_non_null(strstr(r, "\"mr_list\":[{\"start\":\"0x"));
	hp_rdma_map_destroy(map);
	assert_int_equal(json_num(ask(fd, "/hugepool/rdma"), "maps"), 0);
	assert_int_equal(json_num(ask(fd, "/hugepool/pci"), "devices"), 0);
#else
	r = ask(fd, "/hugepool/rdma");
	assert_sentence(r, "/hugepool/rdma", "no lib/rdma");
#endif
	close(fd);
}

/* ---- replies larger than max_output_len, and the writer's rules ------------------------------ */

static int big_obj(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	(void)cmd, (void)params, (void)arg;
	hp_telemetry_open_obj(out, NULL);
	hp_telemetry_str(out, "first", "kept");
	hp_telemetry_open_array(out, "numbers");
	for (unsigned i = 0; i < 10000; i++)
		hp_telemetry_uint(out, NULL, 1000000000u + i);
	hp_telemetry_close(out);
	hp_telemetry_uint(out, "after", 1);
	return hp_telemetry_close(out);
}

static int big_array(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	(void)cmd, (void)params, (void)arg;
	hp_telemetry_open_array(out, NULL);
	for (unsigned i = 0; i < 10000; i++) {
		hp_telemetry_open_obj(out, NULL);
		hp_telemetry_str(out, "name", "a \"quoted\" name");
		hp_telemetry_close(out);
	}
	return 0; /* left open on purpose: the server closes it */
}

static int big_str(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	static char s[3 * HP_TELEMETRY_MAX_OUTPUT];

	(void)cmd, (void)params, (void)arg;
	memset(s, 'x', sizeof(s) - 1);
	return hp_telemetry_str(out, NULL, s) == -ENOSPC ? 0 : -EIO;
}

static int misuse_rc[12];
static char misuse_why[4][256]; /* hp_last_error() after each misuse, in the server's thread */

static void note_why(unsigned k)
{
	snprintf(misuse_why[k], sizeof(misuse_why[k]), "%s", hp_last_error());
}

static int misuse(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	int i = 0;

	(void)cmd, (void)params, (void)arg;
	misuse_rc[i++] = hp_telemetry_close(out); /* nothing open */
	note_why(0);
	misuse_rc[i++] = hp_telemetry_int(out, "key", 1);  /* key at the top */
	misuse_rc[i++] = hp_telemetry_open_obj(out, NULL); /* ok */
	misuse_rc[i++] = hp_telemetry_int(out, NULL, 1);   /* no key in an object */
	note_why(1);
	misuse_rc[i++] = hp_telemetry_open_array(out, "arr"); /* ok */
	misuse_rc[i++] = hp_telemetry_int(out, "key", 1);     /* key in an array */
	note_why(2);
	misuse_rc[i++] = hp_telemetry_double(out, NULL, 0.5); /* ok */
	misuse_rc[i++] = hp_telemetry_bool(out, NULL, true);  /* ok */
	misuse_rc[i++] = hp_telemetry_str(out, NULL, NULL);   /* ok: null */
	hp_telemetry_close(out);
	hp_telemetry_close(out);
	misuse_rc[i++] = hp_telemetry_int(out, NULL, 2); /* a second top-level value */
	note_why(3);
	return 0;
}

static int says_why(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	(void)cmd, (void)arg;
	hp_telemetry_open_obj(out, NULL);
	hp_telemetry_int(out, "dropped", 1);
	if (params)
		return hp_telemetry_error(out, "param %s is wrong", params);
	return -ENOTSUP;
}

static void test_oversized_replies(void **state)
{
	static bool registered;
	char hello[1024];
	const char *r;
	int fd;

	(void)state;
	if (!registered) {
		assert_int_equal(hp_telemetry_register_cmd("/test/big_obj", big_obj, NULL, NULL),
				 0);
		assert_int_equal(hp_telemetry_register_cmd("/test/big_array", big_array, "", NULL),
				 0);
		assert_int_equal(hp_telemetry_register_cmd("/test/big_str", big_str, NULL, NULL),
				 0);
		assert_int_equal(hp_telemetry_register_cmd("/test/misuse", misuse, NULL, NULL), 0);
		assert_int_equal(hp_telemetry_register_cmd("/test/says_why", says_why, NULL, NULL),
				 0);
		registered = true;
	}
	fd = connect_hello(hello, sizeof(hello));
	r = ask(fd, "/test/big_obj"); /* ask() checks: valid JSON, at most max_output_len */
	assert_true(strlen(r) > HP_TELEMETRY_MAX_OUTPUT - 200);
	assert_non_null(
	    strstr(r, "{\"/test/big_obj\":{\"first\":\"kept\",\"numbers\":[1000000000,"));
	assert_non_null(strstr(r, "values left out: a reply is at most 16384 bytes"));
	assert_null(strstr(r, "\"after\""));
	r = ask(fd, "/test/big_array");
	assert_true(strlen(r) > HP_TELEMETRY_MAX_OUTPUT - 200);
	assert_non_null(strstr(r, "a \\\"quoted\\\" name"));
	r = ask(fd, "/test/big_str");
	assert_string_equal(r, "{\"/test/big_str\":null}");

	r = ask(fd, "/test/misuse");
	assert_string_equal(r, "{\"/test/misuse\":{\"arr\":[0.5,true,null]}}");
	assert_int_equal(misuse_rc[0], -EINVAL);
	assert_int_equal(misuse_rc[1], -EINVAL);
	assert_int_equal(misuse_rc[2], 0);
	assert_int_equal(misuse_rc[3], -EINVAL);
	assert_int_equal(misuse_rc[4], 0);
	assert_int_equal(misuse_rc[5], -EINVAL);
	assert_int_equal(misuse_rc[6], 0);
	assert_int_equal(misuse_rc[7], 0);
	assert_int_equal(misuse_rc[8], 0);
	assert_int_equal(misuse_rc[9], -EINVAL);
	assert_non_null(strstr(misuse_why[0], "nothing is open to close"));
	assert_non_null(strstr(misuse_why[1], "a value in an object needs a key"));
	assert_non_null(strstr(misuse_why[2], "a value in an array has no key"));
	assert_non_null(strstr(misuse_why[3], "has its one value already"));
	assert_int_equal(hp_telemetry_int(NULL, "k", 1), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "out is NULL"));

	assert_string_equal(ask(fd, "/test/says_why,p1"),
			    "{\"/test/says_why\":\"param p1 is wrong\"}");
	assert_sentence(ask(fd, "/test/says_why"), "/test/says_why", "failed: ");
	close(fd);
}

static int nop(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	(void)cmd, (void)params, (void)arg;
	return hp_telemetry_int(out, NULL, 1);
}

static void test_register_errors(void **state)
{
	char help[HP_TELEMETRY_HELP_LEN + 1], name[HP_TELEMETRY_CMD_LEN + 1];

	(void)state;
	memset(help, 'h', sizeof(help) - 1);
	help[sizeof(help) - 1] = '\0';
	memset(name, 'n', sizeof(name) - 1);
	name[0] = '/';
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(hp_telemetry_register_cmd(NULL, nop, NULL, NULL), -EINVAL);
	assert_int_equal(hp_telemetry_register_cmd("nope", nop, NULL, NULL), -EINVAL);
	assert_int_equal(hp_telemetry_register_cmd("/", nop, NULL, NULL), -EINVAL);
	assert_int_equal(hp_telemetry_register_cmd("/a b", nop, NULL, NULL), -EINVAL);
	assert_int_equal(hp_telemetry_register_cmd("/a,b", nop, NULL, NULL), -EINVAL);
	assert_int_equal(hp_telemetry_register_cmd(name, nop, NULL, NULL), -EINVAL);
	assert_int_equal(hp_telemetry_register_cmd("/test/x", NULL, NULL, NULL), -EINVAL);
	assert_int_equal(hp_telemetry_register_cmd("/test/x", nop, help, NULL), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "help"));
	assert_int_equal(hp_telemetry_register_cmd("/mempool/list", nop, NULL, NULL), -EEXIST);
	assert_non_null(strstr(hp_last_error(), "exists"));
	assert_int_equal(hp_telemetry_open_obj(NULL, NULL), -EINVAL);
	assert_int_equal(hp_telemetry_error(NULL, "x"), -EINVAL);
}

/* ---- a library's own commands -------------------------------------------------------------- */

/* As a library does: a command registered from its own constructor, with an id parameter. */
static int slot_cmd(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	unsigned id;
	int rc = hp_telemetry_param_id(out, cmd, params, "a slot id", "/testlib/slots", 4, &id);

	if (rc)
		return rc;
	hp_telemetry_open_obj(out, NULL);
	hp_telemetry_uint(out, "slot", id);
	hp_telemetry_str(out, "owner", arg);
	return hp_telemetry_close(out);
}

/* A command with a name parameter: echoes the name it was given. */
static int named_cmd(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	int rc = hp_telemetry_param_name(out, cmd, params, "a widget name", "/testlib/widgets");

	(void)arg;
	if (rc)
		return rc;
	hp_telemetry_open_obj(out, NULL);
	hp_telemetry_str(out, "name", params);
	return hp_telemetry_close(out);
}

static void __attribute__((constructor)) testlib_telemetry(void)
{
	hp_telemetry_register_cmd("/testlib/slot", slot_cmd, "Returns a slot. Parameters: int id",
				  "testlib");
	hp_telemetry_register_cmd("/testlib/widget", named_cmd,
				  "Returns a widget. Parameters: string name", NULL);
}

static void test_library_registers_its_own(void **state)
{
	char hello[1024], list[HP_TELEMETRY_MAX_OUTPUT + 1];
	const char *r = list;
	int fd;

	(void)state;
	fd = connect_hello(hello, sizeof(hello));
	snprintf(list, sizeof(list), "%s", ask(fd, "/")); /* ask() reuses its buffer */
	/* listed in order among the libraries' own, each registered from its library */
	assert_non_null(strstr(r, "\"/mempool/list\""));
	assert_non_null(strstr(r, "\"/testlib/slot\""));
	assert_true(strstr(r, "\"/ring/list\"") < strstr(r, "\"/testlib/slot\""));
	assert_string_equal(
	    ask(fd, "/help,/testlib/slot"),
	    "{\"/help\":{\"/testlib/slot\":\"Returns a slot. Parameters: int id\"}}");
	assert_string_equal(ask(fd, "/testlib/slot,3"),
			    "{\"/testlib/slot\":{\"slot\":3,\"owner\":\"testlib\"}}");
	assert_sentence(ask(fd, "/testlib/slot"), "/testlib/slot",
			"needs a slot id from /testlib/slots, e.g. /testlib/slot,0");
	assert_sentence(ask(fd, "/testlib/slot,4"), "/testlib/slot",
			"'4' is not a slot id; /testlib/slots lists them");
	assert_sentence(ask(fd, "/testlib/slot,2x"), "/testlib/slot", "'2x' is not a slot id");
	assert_string_equal(ask(fd, "/testlib/widget,w1"),
			    "{\"/testlib/widget\":{\"name\":\"w1\"}}");
	assert_sentence(ask(fd, "/testlib/widget"), "/testlib/widget",
			"needs a widget name from /testlib/widgets, e.g. /testlib/widget,NAME");
	assert_sentence(ask(fd, "/testlib/widget,"), "/testlib/widget", "needs a widget name");
	close(fd);
	assert_int_equal(hp_telemetry_param_id(NULL, "/x", "1", "an id", "/y", 2, NULL), -EINVAL);
	assert_int_equal(hp_telemetry_param_name(NULL, "/x", "n", "a name", "/y"), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "hp_telemetry_param_name"));
}

/* ---- who may connect ------------------------------------------------------------------------ */

/* In a child of uid/gid 65534: 0 when connecting fails with EACCES (want_eacces) or, when it
 * connects, when the server closes without a hello. */
static int other_uid_child(const char *path, bool want_eacces)
{
	char buf[1024];
	int fd;

	if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
		return 20;
	fd = client(path);
	if (want_eacces)
		return fd == -EACCES ? 0 : 10;
	if (fd < 0)
		return 11;
	return recv_msg(fd, buf, sizeof(buf)) == 0 ? 0 : 12;
}

static int run_other_uid(const char *path, bool want_eacces)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(other_uid_child(path, want_eacces));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_other_uid_refused(void **state)
{
	char path[108], dir[108], top[108], hello[1024];
	struct stat st, top_st;
	int rc, fd;

	(void)state;
	if (geteuid() != 0)
		hp_test_skip("needs root to start a client of another uid");
	snprintf(path, sizeof(path), "%s", hp_telemetry_path());
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_uid, geteuid());
	/* the directory keeps other users out... */
	assert_int_equal(run_other_uid(path, true), 0);
	/* ...and with the directories opened up, the server refuses them itself (SO_PEERCRED) */
	snprintf(top, sizeof(top), "%s", dir);
	*strrchr(top, '/') =
	    '\0'; /* <runtime dir>/dpdk, shared with other programs: 0711 a moment */
	assert_int_equal(stat(top, &top_st), 0);
	assert_int_equal(chmod(top, top_st.st_mode | 0711), 0);
	assert_int_equal(chmod(dir, 0711), 0);
	assert_int_equal(chmod(path, 0777), 0);
	rc = run_other_uid(path, false);
	assert_int_equal(chmod(top, top_st.st_mode & 07777), 0);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(chmod(path, 0755), 0);
	assert_int_equal(rc, 0);
	/* this uid is still served */
	fd = connect_hello(hello, sizeof(hello));
	assert_non_null(strstr(ask(fd, "/info"), "pid"));
	close(fd);
}

static void test_client_limit_and_deaf_client(void **state)
{
	int fds[20], deaf, fd;
	char hello[1024];
	unsigned served = 0, refused = 0;

	(void)state;
	for (unsigned i = 0; i < 20; i++) {
		fds[i] = client(hp_telemetry_path());
		assert_true(fds[i] >= 0);
		if (recv_msg(fds[i], hello, sizeof(hello)) > 0)
			served++;
		else
			refused++;
	}
	assert_int_equal(served, 16);
	assert_int_equal(refused, 4);
	for (unsigned i = 0; i < 20; i++)
		close(fds[i]);

	/* a client that asks and never reads is dropped; the others are still served */
	deaf = connect_hello(hello, sizeof(hello));
	for (unsigned i = 0; i < 100000; i++)
		if (send(deaf, "/", 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
	fd = connect_hello(hello, sizeof(hello));
	assert_non_null(strstr(ask(fd, "/info"), "pid"));
	close(fd);
	close(deaf);
}

/* ---- starting and stopping ----------------------------------------------------------------- */

static void socket_paths(char *path, char *dir, size_t len)
{
	snprintf(path, len, "%s", hp_telemetry_path());
	snprintf(dir, len, "%s", path);
	*strrchr(dir, '/') = '\0';
}

/* A unix socket bound at path; listening when listening, else closed at once (a stale file). */
static int fake_socket(const char *path, bool listening)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	assert_true(fd >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	if (listening) {
		assert_int_equal(listen(fd, 1), 0);
		return fd;
	}
	close(fd);
	return -1;
}

static void test_stale_live_and_cleanup(void **state)
{
	char path[108], dir[108], hello[1024], opts[128];
	struct stat st;
	int fd, rc;

	(void)state;
	socket_paths(path, dir, sizeof(path));
	hp_cleanup();
	assert_null(hp_telemetry_path());
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(stat(dir, &st), -1); /* the directory went too */

	/* a socket file left by a program killed with -9: refused connections, replaced */
	assert_int_equal(mkdir(dir, 0700), 0);
	fake_socket(path, false);
	assert_int_equal(stat(path, &st), 0);
	snprintf(opts, sizeof(opts), "--no-huge --socket-mem=8 --file-prefix=%s", prefix);
	assert_true(hp_test_init_str(opts) > 0);
	fd = connect_hello(hello, sizeof(hello));
	assert_int_equal(json_num(hello, "pid"), getpid());
	close(fd);
	hp_cleanup();

	/* a live program (say a DPDK one) serving the same prefix: hp_init fails and says why */
	assert_int_equal(mkdir(dir, 0700), 0);
	fd = fake_socket(path, true);
	rc = hp_test_init_str(opts);
	assert_int_equal(rc, -EBUSY);
	assert_non_null(strstr(hp_last_error(), "a live program"));
	assert_non_null(strstr(hp_last_error(), prefix));
	assert_non_null(strstr(hp_last_error(), "--file-prefix"));
	assert_false(hp_initialized());
	assert_int_equal(stat(path, &st), 0); /* its socket is left alone */
	close(fd);
	unlink(path);
	rmdir(dir);
	setup(state);
}

/* A prefix names one directory in the runtime directory: the rules of --file-prefix. */
static void test_socket_path_checks_the_prefix(void **state)
{
	static const char *const bad[] = {"../x", "/etc", "", "a/b", ".", "x y"};
	char path[108], longp[301];

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(hp_telemetry_socket_path(bad[i], path, sizeof(path)), -EINVAL);
		assert_non_null(strstr(hp_last_error(), "file prefix"));
		assert_non_null(strstr(hp_last_error(), "1 to 31 letters"));
	}
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(hp_telemetry_socket_path(longp, path, sizeof(path)), -EINVAL);
	assert_null(strstr(hp_last_error(), "--no-telemetry"));
	assert_int_equal(hp_telemetry_socket_path(prefix, path, sizeof(path)), 0);
	assert_string_equal(path, hp_telemetry_path());
	assert_int_equal(hp_telemetry_socket_path(NULL, path, sizeof(path)), 0);
	assert_non_null(strstr(path, "/hugepool/dpdk_telemetry.v2"));
}

/* A directory where the socket goes: the sentence says what is there and what to do. */
static void test_a_directory_in_place_of_the_socket(void **state)
{
	char path[108], dir[108], opts[128], why[512];
	int rc;

	(void)state;
	socket_paths(path, dir, sizeof(path));
	hp_cleanup();
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(opts, sizeof(opts), "--no-huge --socket-mem=8 --file-prefix=%s", prefix);
	rc = hp_test_init_str(opts);
	snprintf(why, sizeof(why), "%s", hp_last_error());
	if (rc >= 0)
		hp_cleanup();
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rmdir(dir), 0); /* nothing else was left in it */
	setup(state);
	assert_int_equal(rc, -EEXIST);
	assert_null(strstr(why, "Address already in use"));
	assert_non_null(strstr(why, "is a directory, not a socket"));
	assert_non_null(strstr(why, "remove it"));
}

static void test_no_telemetry(void **state)
{
	char path[108], dir[108], opts[128];
	struct stat st;

	(void)state;
	socket_paths(path, dir, sizeof(path));
	hp_cleanup();
	snprintf(opts, sizeof(opts), "--no-huge --socket-mem=8 --no-telemetry --file-prefix=%s",
		 prefix);
	assert_true(hp_test_init_str(opts) > 0);
	assert_null(hp_telemetry_path());
	assert_int_equal(stat(dir, &st), -1);
	assert_int_equal(client(path), -ENOENT);
	hp_cleanup();
	setup(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hello_and_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_help, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bytes_not_utf8, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_numbers_match_api, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rdma_maps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversized_replies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_register_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_library_registers_its_own, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_uid_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_limit_and_deaf_client, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_live_and_cleanup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_socket_path_checks_the_prefix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_a_directory_in_place_of_the_socket, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_no_telemetry, setup, teardown),
	};

	snprintf(prefix, sizeof(prefix), "hp_test_tel_%d", (int)getpid());
	return cmocka_run_group_tests_name("telemetry", tests, NULL, NULL);
}
