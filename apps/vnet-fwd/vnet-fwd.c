/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vnet-fwd: an L2 forwarder between two virtio-net devices driven from userspace (virtio_net.c).
 * Every frame received on one device goes out of the other untouched, in the pktbuf it arrived
 * in. One thread polls both devices; the main thread takes the signals and prints statistics.
 * Exit status: 0 after SIGINT, SIGTERM, SIGHUP or SIGQUIT; 1 when the devices or the machine
 * cannot run it, or the statistics cannot be written; 2 for a bad command line (options,
 * addresses, devices in the wrong hands).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app_opts.h"
#include "app_signals.h"
#include "virtio_net.h"

#define BURST_MAX VNET_BURST_MAX
/* Buffers: every descriptor of both devices' queues, plus bursts in hand and the lcore cache. */
#define POOL_BUFS (4 * VNET_QUEUE_MAX + 2 * BURST_MAX + 512)
#define POOL_CACHE 256

struct counters {
	uint64_t rx_pkts, rx_bytes; /* frames taken from the device's rx queue */
	uint64_t tx_pkts, tx_bytes; /* frames the device reported sent (used tx entries) */
	uint64_t tx_full;    /* bursts held back in the peer's rx queue: this tx queue was full */
	uint64_t pool_empty; /* rx refills that found the pool empty */
	uint64_t dropped;    /* frames received with a length no frame can have */
};

struct port {
	char addr[16];
	struct vnet_dev dev;
	struct counters c;
};

static struct port ports[2];
static unsigned n_ports, burst = 32;
static int stop_flag;

struct opts {
	unsigned stats_s;
	bool json;
};

/* --dev: 0, or 2 after saying why the device is refused. */
static int add_dev(const char *addr, void *target)
{
	char canon[16], err[320];
	unsigned i;

	(void)target;
	if (n_ports == 2) {
		fprintf(stderr, "vnet-fwd: more than two --dev; vnet-fwd forwards between two "
				"devices\n");
		return 2;
	}
	if (vnet_probe(addr, canon, err, sizeof(err)) < 0) {
		fprintf(stderr, "vnet-fwd: %s\n", err);
		return 2;
	}
	for (i = 0; i < n_ports; i++)
		if (!strcmp(ports[i].addr, canon)) {
			fprintf(stderr,
				"vnet-fwd: device %s is given twice; give two different "
				"devices\n",
				canon);
			return 2;
		}
	snprintf(ports[n_ports++].addr, sizeof(ports[0].addr), "%s", canon);
	return 0;
}

static void count(uint64_t *ctr, uint64_t v)
{
	__atomic_fetch_add(ctr, v, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *ctr)
{
	return __atomic_load_n(ctr, __ATOMIC_RELAXED);
}

/*
 * One round from in to out: take back what out has sent, then move at most what out's tx
 * queue has room for from in's rx queue (the rest stays in the device), then refill in's rx.
 */
static unsigned forward(struct port *in, struct port *out)
{
	struct hp_pktbuf *bufs[BURST_MAX];
	uint64_t bytes, errs = in->dev.rx_errors;
	unsigned n, i, room, work = 0;

	while ((n = vnet_tx_reclaim(&out->dev, bufs, burst, &bytes)) > 0) {
		for (i = 0; i < n; i++)
			hp_pktbuf_free(bufs[i]);
		count(&out->c.tx_pkts, n);
		count(&out->c.tx_bytes, bytes);
		work += n;
	}
	room = vnet_tx_room(&out->dev);
	n = vnet_rx_burst(&in->dev, bufs, room < burst ? room : burst);
	if (in->dev.rx_errors != errs)
		count(&in->c.dropped, in->dev.rx_errors - errs);
	if (!room)
		count(&out->c.tx_full, 1);
	if (n) {
		for (bytes = 0, i = 0; i < n; i++)
			bytes += bufs[i]->data_len;
		count(&in->c.rx_pkts, n);
		count(&in->c.rx_bytes, bytes);
		vnet_tx_burst(&out->dev, bufs, n); /* all n: there was room */
	}
	/* refill after a burst, and whenever a burst's worth is missing (a pool once empty) */
	if ((n || in->dev.rxq.n_free >= burst) && !vnet_rx_refill(&in->dev))
		count(&in->c.pool_empty, 1);
	return work + n;
}

static void *fwd_thread(void *arg)
{
	struct timespec nap = {0, 20000};
	unsigned empty = 0, rounds = 0;

	(void)arg;
	if (hp_thread_register() < 0)
		fprintf(stderr, "vnet-fwd: no lcore id (%s); the pool's shared cache serves\n",
			hp_last_error());
	while (!__atomic_load_n(&stop_flag, __ATOMIC_RELAXED)) {
		unsigned work = forward(&ports[0], &ports[1]) + forward(&ports[1], &ports[0]);

		/* a quiet forwarder leaves the CPU to others: ~20 us naps after 1024 idle rounds */
		empty = work ? 0 : empty + 1;
		if (empty > 1024)
			nanosleep(&nap, NULL);
		/* a register read leaves the guest (or crosses PCIe): look at the status seldom */
		if (!(++rounds & 4095) &&
		    (vnet_broken(&ports[0].dev) || vnet_broken(&ports[1].dev))) {
			fprintf(stderr, "vnet-fwd: a device asks to be reset (DEVICE_NEEDS_RESET); "
					"stopping: send SIGINT\n");
			break;
		}
	}
	hp_thread_unregister();
	return NULL;
}

static const char *mode(void)
{
	return hp_iova_mode() == HP_IOVA_VA ? "va" : "pa";
}

static bool print_stats(void *arg, double t, bool final)
{
	const struct opts *o = arg;
	FILE *out = o->json || final ? stdout : stderr;
	unsigned i;

	if (o->json) {
		fprintf(out,
			"{\"time_s\": %.3f, \"final\": %s, \"mode\": \"zero-copy\", "
			"\"iova\": \"%s\", \"ports\": [",
			t, final ? "true" : "false", mode());
		for (i = 0; i < n_ports; i++) {
			const struct counters *c = &ports[i].c;

			fprintf(out,
				"%s{\"port\": \"%s\", \"driver\": \"%s\", \"rx_packets\": %lu, "
				"\"rx_bytes\": %lu, \"tx_packets\": %lu, \"tx_bytes\": %lu, "
				"\"dropped\": %lu, \"ring_full\": %lu, \"tx_ring_full\": %lu, "
				"\"pool_empty\": %lu}",
				i ? ", " : "", ports[i].addr, hp_pci_dev_driver(ports[i].dev.pci),
				get(&c->rx_pkts), get(&c->rx_bytes), get(&c->tx_pkts),
				get(&c->tx_bytes), get(&c->dropped), get(&c->tx_full),
				get(&c->tx_full), get(&c->pool_empty));
		}
		fprintf(out, "]}\n");
		return fflush(out) == 0 && !ferror(out);
	}
	fprintf(out, "%s after %.1f s (zero-copy, IOVA as %s)\n", final ? "totals" : "statistics",
		t, mode());
	fprintf(out, "%-15s %12s %14s %12s %14s %9s %9s %10s\n", "port", "rx packets", "rx bytes",
		"tx packets", "tx bytes", "dropped", "ring full", "pool empty");
	for (i = 0; i < n_ports; i++) {
		const struct counters *c = &ports[i].c;

		fprintf(out, "%-15s %12lu %14lu %12lu %14lu %9lu %9lu %10lu\n", ports[i].addr,
			get(&c->rx_pkts), get(&c->rx_bytes), get(&c->tx_pkts), get(&c->tx_bytes),
			get(&c->dropped), get(&c->tx_full), get(&c->pool_empty));
	}
	return fflush(out) == 0 && !ferror(out);
}

int main(int argc, char **argv)
{
	struct hp_init_opts hp;
	struct opts o = {.stats_s = 1};
	struct hp_mempool *pool = NULL;
	pthread_t thread;
	sigset_t sigs;
	unsigned i, opened = 0;
	int rc;
	const struct app_opt opts[] = {
	    {"dev", 0, APP_CALL, NULL, "PCI-ADDR",
	     "a virtio-net device bound to vfio-pci (or uio_pci_generic); give two",
	     .call = add_dev},
	    {"burst", 0, APP_UINT, &burst, "N", "frames moved per poll at most (default 32)", 1,
	     BURST_MAX, "give 1 to " APP_STR(BURST_MAX)},
	    APP_OPTS_STATS(&o.stats_s, &o.json),
	    {NULL}};
	const struct app_cli cli = {
	    .prog = "vnet-fwd",
	    .synopsis = "[HUGEPOOL-OPTIONS --] --dev PCI-ADDR --dev PCI-ADDR [--burst N]\n"
			"                [--stats SECONDS] [--json]",
	    .opts = opts,
	    .footer = "Runs until SIGINT, SIGTERM, SIGHUP or SIGQUIT. See man vnet-fwd.\n"};

	rc = app_parse_hp(&cli, argc, argv, &hp);
	if (rc != APP_RUN)
		return rc;
	if (n_ports != 2) {
		fprintf(stderr,
			"vnet-fwd: %s: frames received on one device go out of the other, "
			"so give two (--dev PCI-ADDR --dev PCI-ADDR)\n",
			n_ports ? "one device only" : "no device");
		return 2;
	}
	app_block_stop_signals(&sigs);
	if (hp_init_opts(&hp) < 0) {
		fprintf(stderr, "vnet-fwd: hp_init: %s\n", hp_last_error());
		return 1;
	}
	rc = 1;
	for (opened = 0; opened < 2; opened++)
		if (vnet_open(&ports[opened].dev, ports[opened].addr) < 0) {
			fprintf(stderr, "vnet-fwd: %s\n", ports[opened].dev.err);
			goto out;
		}
	/* the buffers on the first device's node: it writes them first */
	pool = hp_pktbuf_pool_create("vnet-fwd", POOL_BUFS, POOL_CACHE, 0, VNET_DATA_ROOM,
				     hp_pci_dev_numa_node(ports[0].dev.pci));
	if (!pool) {
		fprintf(stderr, "vnet-fwd: packet buffers: %s\n", hp_last_error());
		goto out;
	}
	for (i = 0; i < 2; i++)
		if (vnet_start(&ports[i].dev, pool, VNET_QUEUE_MAX) < 0) {
			fprintf(stderr, "vnet-fwd: %s\n", ports[i].dev.err);
			goto out;
		}
	for (i = 0; i < 2; i++) {
		const struct vnet_dev *d = &ports[i].dev;

		fprintf(stderr, "vnet-fwd: %s: %s, rx %u tx %u descriptors", d->addr,
			hp_pci_dev_driver(d->pci), d->rxq.size, d->txq.size);
		if (d->has_mac)
			fprintf(stderr, ", mac %02x:%02x:%02x:%02x:%02x:%02x", d->mac[0], d->mac[1],
				d->mac[2], d->mac[3], d->mac[4], d->mac[5]);
		fprintf(stderr, "\n");
	}
	if (pthread_create(&thread, NULL, fwd_thread, NULL)) {
		fprintf(stderr, "vnet-fwd: cannot start the forwarding thread\n");
		goto out;
	}
	fprintf(stderr, "vnet-fwd: %s <-> %s, bursts of %u, IOVA as %s\n", ports[0].addr,
		ports[1].addr, burst, mode());
	rc = app_run_until_signal("vnet-fwd", &sigs, o.stats_s, print_stats, &o);
	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED);
	pthread_join(thread, NULL);
out:
	while (opened > 0)
		vnet_stop(&ports[--opened].dev);
	if (pool)
		hp_mempool_free(pool);
	hp_cleanup();
	return rc;
}
