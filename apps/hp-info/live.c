/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hp-info --live: what running hugepool programs hold, read from their telemetry sockets (the
 * DPDK telemetry v2 protocol; see doc/telemetry.md). Never attaches to their memory. Replies
 * come from hugepool's own server, compact and in a known shape, so a few lookups by key are
 * all the JSON reading this needs; --json passes the replies' values on untouched.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <hugepool.h>

#include "live.h"

#define WAIT_MS 3000
#define MAX_ITEMS 512

struct conn {
	int fd;
	char reply[HP_TELEMETRY_MAX_OUTPUT + 1];
};

static int connect_to(const char *path, struct conn *c, char *hello, size_t len)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct pollfd p;
	ssize_t r;

	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto fail;
	p = (struct pollfd){.fd = c->fd, .events = POLLIN};
	if (poll(&p, 1, WAIT_MS) != 1) {
		errno = ETIMEDOUT;
		goto fail;
	}
	r = recv(c->fd, hello, len - 1, 0);
	if (r <= 0) {
		errno = r == 0 ? ECONNREFUSED : errno;
		goto fail;
	}
	hello[r] = '\0';
	return 0;
fail:
	r = -errno;
	close(c->fd);
	c->fd = -1;
	return (int)r;
}

/* Send a request; returns the reply's value (inside c->reply), or NULL. */
static const char *ask(struct conn *c, const char *fmt, const char *arg)
{
	char req[256];
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	ssize_t r;
	char *v;

	snprintf(req, sizeof(req), fmt, arg);
	if (send(c->fd, req, strlen(req), MSG_NOSIGNAL) < 0 || poll(&p, 1, WAIT_MS) != 1)
		return NULL;
	r = recv(c->fd, c->reply, sizeof(c->reply) - 1, 0);
	if (r <= 2)
		return NULL;
	c->reply[r - 1] = '\0'; /* the closing brace of {"cmd":value} */
	v = strstr(c->reply, "\":");
	return v ? v + 2 : NULL;
}

/* The number after "key": in a flat object, or -1. */
static long long num(const char *obj, const char *key)
{
	char pat[64];
	const char *at;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	at = obj ? strstr(obj, pat) : NULL;
	return at ? strtoll(at + strlen(pat), NULL, 10) : -1;
}

/* The string after "key": (unescaped into buf), or "?". */
static const char *str(const char *obj, const char *key, char *buf, size_t len)
{
	char pat[64];
	const char *at;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	at = obj ? strstr(obj, pat) : NULL;
	if (!at) {
		snprintf(buf, len, "?");
		return buf;
	}
	for (at += strlen(pat); *at && *at != '"' && n + 1 < len; at++) {
		if (*at == '\\' && at[1])
			at++;
		buf[n++] = *at;
	}
	buf[n] = '\0';
	return buf;
}

/* The entries of a flat array of strings or numbers: copied into items, returns the count. */
static unsigned list(const char *arr, char items[][64], unsigned max)
{
	unsigned n = 0;
	const char *p = arr;

	if (!p || *p != '[')
		return 0;
	for (p++; *p && *p != ']' && n < max;) {
		size_t k = 0;

		if (*p == '"') {
			for (p++; *p && *p != '"' && k + 1 < 64; p++) {
				if (*p == '\\' && p[1])
					p++;
				items[n][k++] = *p;
			}
			if (*p == '"')
				p++;
		} else {
			while (*p && *p != ',' && *p != ']' && k + 1 < 64)
				items[n][k++] = *p++;
		}
		items[n++][k] = '\0';
		if (*p == ',')
			p++;
	}
	return n;
}

/* The program's name as dpdk-telemetry.py shows it: the base name of argv[0]. */
static const char *program_of(int pid, char *buf, size_t len)
{
	char path[64], cmd[256];
	const char *base;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	f = fopen(path, "r");
	if (f) {
		n = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
	}
	cmd[n] = '\0';
	base = strrchr(cmd, '/');
	snprintf(buf, len, "%s", cmd[0] ? (base ? base + 1 : cmd) : "?");
	return buf;
}

static void size_str(unsigned long long b, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)b;
	unsigned u = 0;

	while (u < 4 && v >= 1024) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", b);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

/*
 * The directories that hold one directory per prefix: <runtime dir>/dpdk, and
 * <runtime dir>/dpdk-UID, where this user's programs go when another user owns the first.
 * Returns how many (0: the sentence is in hp_last_error()).
 */
static unsigned top_dirs(char dirs[2][256])
{
	char *cut;

	if (hp_telemetry_socket_path("x", dirs[0], sizeof(dirs[0])) < 0)
		return 0;
	cut = strstr(dirs[0], "/x/dpdk_telemetry.v2");
	if (!cut)
		return 0;
	*cut = '\0';
	cut = strrchr(dirs[0], '/');
	*cut = '\0';
	if ((size_t)snprintf(dirs[1], sizeof(dirs[1]), "%s/dpdk-%d", dirs[0], (int)geteuid()) >=
	    sizeof(dirs[1]))
		return 0;
	strcat(dirs[0], "/dpdk");
	return 2;
}

/* The instance a socket's name says (dpdk_telemetry.v2 or dpdk_telemetry.v2:N), or -1. */
static int instance_of(const char *name)
{
	const char *base = "dpdk_telemetry.v2";
	char *end;
	long n;

	if (strncmp(name, base, strlen(base)))
		return -1;
	name += strlen(base);
	if (!*name)
		return 0;
	if (*name != ':' || name[1] < '1' || name[1] > '9')
		return -1;
	n = strtol(name + 1, &end, 10);
	return *end || n > 1000000 ? -1 : (int)n;
}

/* Print each program that answers on a socket in the prefix directory dir/name. */
static void list_prefix(const char *dir, const char *name, bool json, unsigned *n)
{
	char pdir[600], path[900], hello[1024], prog[256], version[64], label[64];
	struct dirent *e;
	struct conn c;
	DIR *d;

	snprintf(pdir, sizeof(pdir), "%s/%s", dir, name);
	d = opendir(pdir);
	while (d && (e = readdir(d))) {
		int inst = instance_of(e->d_name), pid;

		if (inst < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", pdir, e->d_name);
		if (connect_to(path, &c, hello, sizeof(hello)) < 0)
			continue; /* one left by a program that is gone */
		close(c.fd);
		pid = (int)num(hello, "pid");
		str(hello, "version", version, sizeof(version));
		program_of(pid, prog, sizeof(prog));
		if (json) {
			printf("%s{\"prefix\":\"%s\",\"instance\":%d,\"pid\":%d,\"program\":"
			       "\"%s\",\"version\":\"%s\",\"socket\":\"%s\"}",
			       *n ? "," : "", name, inst, pid, prog, version, path);
		} else {
			if (inst)
				snprintf(label, sizeof(label), "%s:%d", name, inst);
			else
				snprintf(label, sizeof(label), "%s", name);
			printf("%-32s %8d  %-16s %-16s %s\n", label, pid, prog, version, path);
		}
		(*n)++;
	}
	if (d)
		closedir(d);
}

static int list_programs(bool json)
{
	char dirs[2][256];
	unsigned n = 0, ndirs = top_dirs(dirs);
	struct dirent *e;
	DIR *d;

	if (!ndirs) {
		fprintf(stderr, "hp-info: %s\n", hp_last_error());
		return 1;
	}
	if (json)
		printf("{\"programs\":[");
	else
		printf("%-32s %8s  %-16s %-16s %s\n", "PREFIX", "PID", "PROGRAM", "VERSION",
		       "SOCKET");
	for (unsigned i = 0; i < ndirs; i++) {
		d = opendir(dirs[i]);
		while (d && (e = readdir(d)))
			if (e->d_name[0] != '.')
				list_prefix(dirs[i], e->d_name, json, &n);
		if (d)
			closedir(d);
	}
	if (json)
		printf("]}\n");
	else if (!n)
		printf("(no running program serves a telemetry socket under %s or %s)\n", dirs[0],
		       dirs[1]);
	return 0;
}

/* Ask cmd for each entry of list_cmd's array; prints the values as a JSON array (json) or
 * passes each to row(). */
static void each(struct conn *c, const char *list_cmd, const char *info_fmt, bool json,
		 const char *key, void (*row)(const char *obj))
{
	static char items[MAX_ITEMS][64];
	const char *v = ask(c, "%s", list_cmd);
	unsigned n = list(v, items, MAX_ITEMS);

	if (json)
		printf(",\"%s\":[", key);
	for (unsigned i = 0; i < n; i++) {
		v = ask(c, info_fmt, items[i]);
		if (!v || *v != '{')
			continue; /* freed between the list and the question */
		if (json)
			printf("%s%s", i ? "," : "", v);
		else
			row(v);
	}
	if (json)
		printf("]");
}

static void zone_row(const char *o)
{
	char name[64], len[32];

	size_str((unsigned long long)num(o, "Length"), len, sizeof(len));
	printf("  %-6lld %-32s %4lld %12s\n", num(o, "Zone"), str(o, "Name", name, sizeof(name)),
	       num(o, "Socket"), len);
}

static void pool_row(const char *o)
{
	char name[64], ops[32];
	long long size = num(o, "size"), cache = num(o, "cache_size");
	long long cached = num(o, "total_cache_count");
	const char *caches = strstr(o, "\"caches\":[");
	unsigned filled = 0;

	for (const char *p = caches; p && (p = strstr(p + 1, "\"lcore\":"));)
		filled++;
	printf("  %-24s %4lld %9lld %9lld %9lld %6lld %7lld %7u  %s\n",
	       str(o, "name", name, sizeof(name)), num(o, "socket_id"), size, num(o, "avail_count"),
	       num(o, "in_use_count"), cache, cached, filled, str(o, "ops_name", ops, sizeof(ops)));
}

static void ring_row(const char *o)
{
	char name[64], p[8], c[8];

	printf("  %-24s %4lld %9lld %9lld %9lld  %s/%s\n", str(o, "name", name, sizeof(name)),
	       num(o, "socket"), num(o, "capacity"), num(o, "used_count"), num(o, "free_count"),
	       str(o, "producer_type", p, sizeof(p)), str(o, "consumer_type", c, sizeof(c)));
}

static void memory_rows(const char *mem)
{
	char iova[8], a[32], b[32];
	const char *p = mem ? strstr(mem, "\"nodes\":[") : NULL;

	printf("memory (IOVA mode %s)\n", str(mem, "iova_mode", iova, sizeof(iova)));
	printf("  %-4s %6s %10s %12s %6s %12s\n", "NODE", "PAGES", "PAGE SIZE", "RESERVED", "RUNS",
	       "LARGEST RUN");
	while (p && (p = strchr(p + 1, '{'))) {
		size_str((unsigned long long)num(p, "reserved"), a, sizeof(a));
		size_str((unsigned long long)num(p, "largest_run"), b, sizeof(b));
		printf("  %-4lld %6lld %10lld %12s %6lld %12s\n", num(p, "node"), num(p, "pages"),
		       num(p, "page_size"), a, num(p, "contig_runs"), b);
	}
}

static int show_program(const char *prefix, bool json)
{
	char path[512], hello[1024], prog[256], version[64], name[64], *colon, *end;
	long inst = 0;
	static struct conn c;
	const char *v;
	int rc, pid;

	snprintf(name, sizeof(name), "%s", prefix);
	colon = strchr(name, ':');
	if (colon) { /* PREFIX:N, instance N of the prefix, as the list shows it */
		*colon = '\0';
		inst = strtol(colon + 1, &end, 10);
		if (colon[1] < '1' || colon[1] > '9' || *end || inst > 1000000) {
			fprintf(stderr,
				"hp-info: --live %s: the instance after ':' is not a number from "
				"1; hp-info --live lists the running programs\n",
				prefix);
			return 2;
		}
	}
	/* the rules of --file-prefix: a prefix names one directory in the runtime directory */
	if (hp_telemetry_socket_path(name, path, sizeof(path)) < 0) {
		fprintf(stderr, "hp-info: --live: %s\n", hp_last_error());
		return 2;
	}
	if (inst)
		snprintf(path + strlen(path), sizeof(path) - strlen(path), ":%ld", inst);
	rc = connect_to(path, &c, hello, sizeof(hello));
	if (rc < 0) {
		fprintf(stderr,
			"hp-info: no running program answers on %s (%s); hp-info --live lists "
			"the running ones\n",
			path, strerror(-rc));
		return 1;
	}
	pid = (int)num(hello, "pid");
	program_of(pid, prog, sizeof(prog));
	str(hello, "version", version, sizeof(version));
	v = ask(&c, "%s", "/hugepool/memory");
	if (json) {
		printf("{\"prefix\":\"%s\",\"pid\":%d,\"program\":\"%s\",\"version\":\"%s\","
		       "\"memory\":%s",
		       prefix, pid, prog, version, v ? v : "null");
	} else {
		printf("%s: pid %d (%s), %s, socket %s\n", prefix, pid, prog, version, path);
		memory_rows(v);
		printf("zones\n  %-6s %-32s %4s %12s\n", "ID", "NAME", "NODE", "LENGTH");
	}
	each(&c, "/eal/memzone_list", "/eal/memzone_info,%s", json, "zones", zone_row);
	if (!json)
		printf("pools\n  %-24s %4s %9s %9s %9s %6s %7s %7s  %s\n", "NAME", "NODE", "SIZE",
		       "AVAIL", "IN USE", "CACHE", "CACHED", "CACHES", "BACKEND");
	each(&c, "/mempool/list", "/mempool/info,%s", json, "pools", pool_row);
	if (!json)
		printf("rings\n  %-24s %4s %9s %9s %9s  %s\n", "NAME", "NODE", "CAPACITY", "USED",
		       "FREE", "TYPE");
	each(&c, "/ring/list", "/ring/info,%s", json, "rings", ring_row);
	if (json)
		printf("}\n");
	close(c.fd);
	return 0;
}

int live_main(const char *prefix, bool json)
{
	return prefix ? show_program(prefix, json) : list_programs(json);
}
