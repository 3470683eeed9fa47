/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp-fwd: main, options, checks made before any hugepage is touched, signals and statistics.
 * Ports pair up in the order given: 1st <-> 2nd, 3rd <-> 4th, ... Every frame received on a
 * port goes out of its peer untouched. Runs until SIGINT, SIGTERM, SIGHUP or SIGQUIT, prints
 * totals, exits 0. SIGPIPE is ignored: output that cannot be written stops it the same way.
 * Exit status: 0 after a signal, 1 when the machine cannot run it (rights, AF_XDP, memory) or
 * its output could not be written, 2 for a bad command line (options, interfaces).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "app_opts.h"
#include "app_signals.h"
#include "fwd.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

struct opts {
	unsigned stats_s;
	bool json;
	const struct fwd *f;
};

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "xdp-fwd: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	return 2;
}

/* --port: 0, or 2 after saying why the interface is refused. */
static int add_port(const char *name, void *target)
{
	struct fwd *f = target;
	unsigned i;

	if (strlen(name) >= IF_NAMESIZE || !name[0])
		return bad("'%s' is not an interface name (1 to 15 characters)", name);
	for (i = 0; i < f->n_ports; i++)
		if (!strcmp(f->ports[i].name, name))
			return bad(
			    "port %s is given twice; each port must be a different interface",
			    name);
	if (f->n_ports == FWD_MAX_PORTS)
		return bad("more than %s ports", "16");
	f->ports[f->n_ports].ifindex = if_nametoindex(name);
	if (!f->ports[f->n_ports].ifindex)
		return bad("there is no network interface named '%s' (see: ip link show)", name);
	snprintf(f->ports[f->n_ports].name, IF_NAMESIZE, "%s", name);
	f->n_ports++;
	return 0;
}

/* The checks of the whole command line, once every option is taken: 0, or 2 after saying why. */
static int check(struct fwd *f)
{
	unsigned i;

	if (f->n_ports < 2)
		return bad("%s: frames received on one port go out of another, so give at least "
			   "two (--port IF --port IF)",
			   f->n_ports ? "one port only" : "no port");
	if (f->n_ports % 2)
		return bad("%s ports: ports pair up in order (1st<->2nd, 3rd<->4th), so give an "
			   "even number",
			   "an odd number of");
	if (f->n_workers > f->n_ports)
		return bad("--workers: at most one worker per port (%s)", "see --port");
	if (f->layout == FWD_LAYOUT_RTC && f->n_workers > 1)
		return bad("--workers is for --layout pipeline; --layout %s runs one thread per "
			   "port pair",
			   "rtc");
	for (i = 0; i < f->n_ports; i++) {
		f->ports[i].f = f;
		f->ports[i].index = i;
		f->ports[i].peer = i ^ 1;
	}
	return 0;
}

/* --layout */
static int set_layout(const char *arg, void *target)
{
	enum fwd_layout *l = target;

	if (!strcmp(arg, "rtc"))
		*l = FWD_LAYOUT_RTC;
	else if (!strcmp(arg, "pipeline"))
		*l = FWD_LAYOUT_PIPELINE;
	else if (!strcmp(arg, "auto"))
		*l = FWD_LAYOUT_AUTO;
	else
		return bad("--layout '%s': give rtc, pipeline or auto", arg);
	return 0;
}

/* The CPUs this process may run on. */
static unsigned cpus_available(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	return (unsigned)CPU_COUNT(&set);
}

/* Before any hugepage is touched: can this process open AF_XDP sockets at all? */
static int check_af_xdp(void)
{
	int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)
		fprintf(stderr,
			"xdp-fwd: this kernel has no AF_XDP sockets (it was built without "
			"CONFIG_XDP_SOCKETS); use a kernel with AF_XDP (Debian's has it)\n");
	else if (errno == EPERM || errno == EACCES)
		fprintf(stderr, "xdp-fwd: opening an AF_XDP socket needs root (CAP_NET_RAW, "
				"CAP_NET_ADMIN and CAP_BPF): run it with sudo\n");
	else
		fprintf(stderr, "xdp-fwd: cannot open an AF_XDP socket: %s\n", strerror(errno));
	return 1;
}

/* The NUMA node of the first port's device, where its frames are best kept. */
static int port_node(const struct fwd *f)
{
	char path[96];
	FILE *fp;
	int node = HP_NODE_ANY;

	snprintf(path, sizeof(path), "/sys/class/net/%s/device/numa_node", f->ports[0].name);
	fp = fopen(path, "r");
	if (fp) {
		if (fscanf(fp, "%d", &node) != 1 || node < 0)
			node = HP_NODE_ANY;
		fclose(fp);
	}
	return node;
}

struct row {
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes, worker_full, tx_full, ring_full, pool_empty;
	uint64_t k_dropped, k_rx_full, k_fill_empty, k_tx_invalid;
};

static void read_row(const struct fwd_port *p, struct row *r)
{
	memset(r, 0, sizeof(*r));
	r->rx_pkts = __atomic_load_n(&p->c.rx_pkts, __ATOMIC_RELAXED);
	r->rx_bytes = __atomic_load_n(&p->c.rx_bytes, __ATOMIC_RELAXED);
	r->tx_pkts = __atomic_load_n(&p->c.tx_pkts, __ATOMIC_RELAXED);
	r->tx_bytes = __atomic_load_n(&p->c.tx_bytes, __ATOMIC_RELAXED);
	r->worker_full = __atomic_load_n(&p->c.worker_full, __ATOMIC_RELAXED);
	r->tx_full = __atomic_load_n(&p->c.tx_full, __ATOMIC_RELAXED);
	r->ring_full = r->worker_full + r->tx_full;
	r->pool_empty = __atomic_load_n(&p->c.pool_empty, __ATOMIC_RELAXED);
	fwd_kernel_stats(p, &r->k_dropped, &r->k_rx_full, &r->k_fill_empty, &r->k_tx_invalid);
}

/* false when the output could not be written (a closed pipe, a full disk) */
static bool print_stats(void *arg, double t, bool final)
{
	const struct opts *o = arg;
	const struct fwd *f = o->f;
	FILE *out = o->json || final ? stdout : stderr;
	struct row r;
	unsigned i;

	if (o->json) {
		fprintf(out,
			"{\"time_s\": %.3f, \"final\": %s, \"mode\": \"%s\", \"layout\": \"%s\", "
			"\"ports\": [",
			t, final ? "true" : "false", fwd_mode(f), fwd_layout_name(f->layout));
		for (i = 0; i < f->n_ports; i++) {
			read_row(&f->ports[i], &r);
			fprintf(
			    out,
			    "%s{\"port\": \"%s\", \"rx_packets\": %lu, \"rx_bytes\": %lu, "
			    "\"tx_packets\": %lu, \"tx_bytes\": %lu, \"dropped\": %lu, "
			    "\"ring_full\": %lu, \"worker_ring_full\": %lu, \"tx_ring_full\": %lu, "
			    "\"pool_empty\": %lu, \"kernel_rx_dropped\": %lu, "
			    "\"kernel_rx_ring_full\": %lu, \"kernel_fill_ring_empty\": %lu, "
			    "\"kernel_tx_invalid\": %lu}",
			    i ? ", " : "", f->ports[i].name, r.rx_pkts, r.rx_bytes, r.tx_pkts,
			    r.tx_bytes, r.k_dropped + r.k_rx_full + r.ring_full, r.ring_full,
			    r.worker_full, r.tx_full, r.pool_empty, r.k_dropped, r.k_rx_full,
			    r.k_fill_empty, r.k_tx_invalid);
		}
		fprintf(out, "]}\n");
		return !fflush(out) && !ferror(out);
	}
	fprintf(out, "%s after %.1f s (%s mode, %s layout)\n", final ? "totals" : "statistics", t,
		fwd_mode(f), fwd_layout_name(f->layout));
	fprintf(out, "%-15s %12s %14s %12s %14s %9s %9s %10s\n", "port", "rx packets", "rx bytes",
		"tx packets", "tx bytes", "dropped", "ring full", "pool empty");
	for (i = 0; i < f->n_ports; i++) {
		read_row(&f->ports[i], &r);
		fprintf(out, "%-15s %12lu %14lu %12lu %14lu %9lu %9lu %10lu\n", f->ports[i].name,
			r.rx_pkts, r.rx_bytes, r.tx_pkts, r.tx_bytes,
			r.k_dropped + r.k_rx_full + r.ring_full, r.ring_full, r.pool_empty);
	}
	return !fflush(out) && !ferror(out);
}

int main(int argc, char **argv)
{
	static struct fwd f;
	struct hp_init_opts hp;
	struct opts o = {.stats_s = 1, .f = &f};
	sigset_t sigs;
	int i, rc;
	const struct app_opt opts[] = {
	    {"port", 0, APP_CALL, &f, "IF",
	     "a network interface; ports pair up in order (1st<->2nd, 3rd<->4th, ...)",
	     .call = add_port},
	    {"layout", 0, APP_CALL, &f.layout, "L",
	     "rtc: one thread per port pair does everything; pipeline: a thread per\n"
	     "port and --workers between them; auto (default): rtc unless every\n"
	     "pipeline thread and the kernel get a CPU of their own",
	     .call = set_layout},
	    {"workers", 0, APP_UINT, &f.n_workers, "N",
	     "pipeline: worker threads between the port threads (1 to the number of\n"
	     "ports; default 1)",
	     1, FWD_MAX_PORTS, "give 1 to the number of ports"},
	    APP_OPTS_STATS(&o.stats_s, &o.json),
	    {NULL}};
	const struct app_cli cli = {
	    .prog = "xdp-fwd",
	    .synopsis = "[HUGEPOOL-OPTIONS --] --port IF --port IF [--port IF --port IF ...]\n"
			"               [--layout rtc|pipeline|auto] [--workers N]\n"
			"               [--stats SECONDS] [--json]",
	    .opts = opts,
	    .footer = "Runs until SIGINT, SIGTERM, SIGHUP or SIGQUIT. See man xdp-fwd.\n"};

	rc = app_parse_hp(&cli, argc, argv, &hp);
	if (rc != APP_RUN)
		return rc;
	rc = check(&f);
	if (rc)
		return rc;
	if (!f.n_workers)
		f.n_workers = 1;
	f.layout = fwd_layout_for(&f, cpus_available());
	if (check_af_xdp())
		return 1;
	/* a closed pipe must not kill it with its programs on the ports: writes fail instead */
	app_block_stop_signals(&sigs);
	if (hp_init_opts(&hp) < 0) {
		fprintf(stderr, "xdp-fwd: hp_init: %s\n", hp_last_error());
		return 1;
	}
	rc = fwd_setup(&f, port_node(&f)) || fwd_start(&f);
	if (!rc) {
		if (f.layout == FWD_LAYOUT_RTC)
			fprintf(stderr, "xdp-fwd: %u ports, rtc layout (%u thread%s, one per pair)",
				f.n_ports, f.n_ports / 2, f.n_ports > 2 ? "s" : "");
		else
			fprintf(stderr,
				"xdp-fwd: %u ports, pipeline layout (%u port threads, %u worker%s)",
				f.n_ports, f.n_ports, f.n_workers, f.n_workers > 1 ? "s" : "");
		fprintf(stderr,
			", AF_XDP %s mode; UMEM: %zu KiB of hugepool pool '%s', frames of %d B\n",
			fwd_mode(&f), f.umem_len >> 10, "xdp-fwd", FWD_FRAME_SIZE);
		for (i = 0; i < (int)f.n_ports; i += 2)
			fprintf(stderr, "xdp-fwd: %s <-> %s\n", f.ports[i].name,
				f.ports[i + 1].name);
		rc = app_run_until_signal("xdp-fwd", &sigs, o.stats_s, print_stats, &o);
	}
	fwd_teardown(&f);
	hp_cleanup();
	return rc ? 1 : 0;
}
