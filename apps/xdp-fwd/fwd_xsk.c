/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp-fwd's data path: the pktbuf pool registered once as the UMEM (unaligned chunk mode: a
 * frame is a pktbuf's buffer, wherever the pool carved it), one AF_XDP socket per port sharing
 * that UMEM, and the forwarding threads of either layout. A frame belongs to exactly one place at
 * a time: the pool, a kernel ring of one socket, an hp_ring, or a thread's burst array.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/if_xdp.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "fwd.h"

#define PAGE_4K 4096

struct chunk {
	char *va;
	size_t len;
};

static void note_chunk(struct hp_mempool *mp, void *arg, void *va, size_t len, unsigned idx)
{
	struct chunk *c = arg;

	(void)mp;
	if (idx == 0) {
		c->va = va;
		c->len = len;
	}
}

/* The pool's objects must sit in one chunk: that chunk, rounded out to 4 KiB, is the UMEM. */
static int setup_umem(struct fwd *f, int node)
{
	struct xsk_umem_config cfg = {
	    .fill_size = FWD_XSK_RING,
	    .comp_size = FWD_XSK_RING,
	    .frame_size = FWD_FRAME_SIZE,
	    .frame_headroom = 0,
	    .flags = XDP_UMEM_UNALIGNED_CHUNK_FLAG,
	};
	unsigned n = f->n_ports * FWD_FRAMES_PER_PORT;
	struct chunk c = {0};
	struct hp_pktbuf *m;
	int chunks, rc;

	f->pool = hp_pktbuf_pool_create("xdp-fwd", n, 256, 0, FWD_FRAME_SIZE, node);
	if (!f->pool) {
		fprintf(stderr, "xdp-fwd: no pool of %u frames: %s\n", n, hp_last_error());
		return -1;
	}
	chunks = hp_mempool_mem_iter(f->pool, note_chunk, &c);
	if (chunks != 1) {
		fprintf(stderr,
			"xdp-fwd: the pool's frames lie in %d memory chunks; an AF_XDP UMEM "
			"is one range: give the runtime more free hugepages on node %d\n",
			chunks, node);
		return -1;
	}
	f->umem_area = (char *)((uintptr_t)c.va & ~(uintptr_t)(PAGE_4K - 1));
	f->umem_len = HP_ALIGN_UP((uintptr_t)c.va + c.len, PAGE_4K) - (uintptr_t)f->umem_area;
	m = hp_pktbuf_alloc(f->pool);
	if (!m)
		return -1;
	f->buf_off = (size_t)((char *)m->buf_addr - (char *)m);
	hp_pktbuf_free(m);
	rc = xsk_umem__create(&f->umem, f->umem_area, f->umem_len, &f->ports[0].fill,
			      &f->ports[0].comp, &cfg);
	if (rc) {
		fprintf(stderr,
			"xdp-fwd: registering %zu MiB of hugepool memory as the AF_XDP UMEM "
			"failed: %s\n",
			f->umem_len >> 20, strerror(-rc));
		f->umem = NULL;
		return -1;
	}
	return 0;
}

static bool stopping(struct fwd *f)
{
	return __atomic_load_n(&f->stop, __ATOMIC_RELAXED);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int setup_socket(struct fwd *f, struct fwd_port *p)
{
	struct xsk_socket_config cfg = {
	    .rx_size = FWD_XSK_RING,
	    .tx_size = FWD_XSK_RING,
	    /* neither XDP_COPY nor XDP_ZEROCOPY: the kernel takes zero-copy where the driver
	     * has it, copy elsewhere; fwd_mode() reads back which */
	    .bind_flags = XDP_USE_NEED_WAKEUP,
	};
	struct xdp_options opts;
	socklen_t len = sizeof(opts);
	double end = 0;
	int rc;

	/* a socket that was just closed (another program's that exited) holds its queue until the
	 * kernel has released it, in a work item: a busy queue is tried again for a while */
	for (;;) {
		rc = xsk_socket__create_shared(&p->xsk, p->name, 0, f->umem, &p->rx, &p->tx,
					       &p->fill, &p->comp, &cfg);
		if (rc != -EBUSY)
			break;
		if (!end) {
			end = now_s() + FWD_BUSY_RETRY_S;
			fprintf(stderr,
				"xdp-fwd: %s queue 0 is busy (another AF_XDP socket holds it, or "
				"one is being released); trying again for up to %d s\n",
				p->name, FWD_BUSY_RETRY_S);
		} else if (now_s() > end) {
			break;
		}
		fwd_prog_sweep(f, "a leftover");
		nanosleep(&(struct timespec){0, 50000000}, NULL);
	}
	if (rc) {
		p->xsk = NULL;
		if (rc == -EBUSY)
			fprintf(stderr,
				"xdp-fwd: %s queue 0 is still busy after %d s: another running "
				"program's AF_XDP socket or XDP program holds it (see ip link show "
				"%s); stop that program or give another port\n",
				p->name, FWD_BUSY_RETRY_S, p->name);
		else
			fprintf(stderr, "xdp-fwd: AF_XDP socket on %s queue 0: %s\n", p->name,
				strerror(-rc));
		return -1;
	}
	if (end)
		fprintf(stderr, "xdp-fwd: %s queue 0 is free now\n", p->name);
	if (!getsockopt(xsk_socket__fd(p->xsk), SOL_XDP, XDP_OPTIONS, &opts, &len))
		p->zerocopy = opts.flags & XDP_OPTIONS_ZEROCOPY;
	return 0;
}

static int fill_all(struct fwd *f, struct fwd_port *p)
{
	struct hp_pktbuf *m;
	uint32_t idx = 0;
	unsigned i, n = FWD_XSK_RING;

	if (xsk_ring_prod__reserve(&p->fill, n, &idx) != n)
		return -1;
	for (i = 0; i < n; i++) {
		m = hp_pktbuf_alloc(f->pool);
		if (!m) {
			fprintf(stderr, "xdp-fwd: pool empty while filling %s\n", p->name);
			return -1;
		}
		*xsk_ring_prod__fill_addr(&p->fill, idx + i) = fwd_frame_of(f, m);
	}
	xsk_ring_prod__submit(&p->fill, n);
	return 0;
}

/* libxdp and libbpf speak on stderr: keep their warnings, drop the chatter of loading the
 * default program (sections libbpf does not know, no bpffs for libxdp's dispatcher). */
static bool chatter(const char *fmt)
{
	return strstr(fmt, "dispatcher") || strstr(fmt, "bpffs") || strstr(fmt, "unrecognized");
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBXDP_WARN || chatter(fmt))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN || chatter(fmt))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int fwd_setup(struct fwd *f, int node)
{
	char name[HP_RING_NAMESIZE];
	unsigned i;

	libxdp_set_print(libxdp_print);
	libbpf_set_print(libbpf_print);
	fwd_prog_sweep(f, "a leftover");
	if (setup_umem(f, node))
		return -1;
	for (i = 0; i < f->n_ports; i++) {
		struct fwd_port *p = &f->ports[i];

		if (f->layout == FWD_LAYOUT_RTC) {
			if (setup_socket(f, p) || fill_all(f, p))
				return -1;
			continue;
		}
		snprintf(name, sizeof(name), "xf.in.%u", i);
		p->to_worker =
		    hp_ring_create(name, FWD_HP_RING, node, HP_RING_SP_ENQ | HP_RING_SC_DEQ);
		snprintf(name, sizeof(name), "xf.out.%u", i);
		p->to_wire =
		    hp_ring_create(name, FWD_HP_RING, node, HP_RING_SP_ENQ | HP_RING_SC_DEQ);
		if (!p->to_worker || !p->to_wire) {
			fprintf(stderr, "xdp-fwd: ring: %s\n", hp_last_error());
			return -1;
		}
		if (setup_socket(f, p) || fill_all(f, p))
			return -1;
	}
	return 0;
}

const char *fwd_mode(const struct fwd *f)
{
	unsigned i, zc = 0;

	for (i = 0; i < f->n_ports; i++)
		zc += f->ports[i].zerocopy;
	return zc == f->n_ports ? "zero-copy" : zc ? "mixed zero-copy and copy" : "copy";
}

/* After many rounds without work, sleep a little: a quiet forwarder leaves the CPUs to others. */
static void idle(unsigned work, unsigned *empty)
{
	struct timespec ts = {0, 20000};

	if (work)
		*empty = 0;
	else if (++*empty > 1024)
		nanosleep(&ts, NULL);
}

/* Frames the kernel has sent go back to the pool. */
static unsigned reap(struct fwd *f, struct fwd_port *p)
{
	struct hp_pktbuf *bufs[FWD_BURST];
	uint64_t bytes = 0;
	uint32_t idx = 0;
	unsigned i, n;

	n = xsk_ring_cons__peek(&p->comp, FWD_BURST, &idx);
	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		bufs[i] = fwd_pkt_of(f, *xsk_ring_cons__comp_addr(&p->comp, idx + i));
		bytes += bufs[i]->data_len;
	}
	xsk_ring_cons__release(&p->comp, n);
	hp_mempool_put_bulk(f->pool, (void **)bufs, n);
	fwd_count(&p->c.tx_pkts, n);
	fwd_count(&p->c.tx_bytes, bytes);
	return n;
}

/* Give the kernel fresh frames to receive into, a burst at a time. */
static unsigned refill(struct fwd *f, struct fwd_port *p)
{
	struct hp_pktbuf *bufs[FWD_BURST];
	uint32_t idx = 0;
	unsigned i;

	if (xsk_prod_nb_free(&p->fill, FWD_BURST) < FWD_BURST)
		return 0;
	if (hp_pktbuf_alloc_bulk(f->pool, bufs, FWD_BURST) < 0) {
		fwd_count(&p->c.pool_empty, 1);
		return 0;
	}
	xsk_ring_prod__reserve(&p->fill, FWD_BURST, &idx);
	for (i = 0; i < FWD_BURST; i++)
		*xsk_ring_prod__fill_addr(&p->fill, idx + i) = fwd_frame_of(f, bufs[i]);
	xsk_ring_prod__submit(&p->fill, FWD_BURST);
	/* a zero-copy driver that ran out of frames waits for a kick to look at the fill ring */
	if (xsk_ring_prod__needs_wakeup(&p->fill))
		recvfrom(xsk_socket__fd(p->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
	return FWD_BURST;
}

/* Up to max received frames as pktbufs (no copy: the frame is the buffer). */
static unsigned rx_burst(struct fwd *f, struct fwd_port *p, struct hp_pktbuf **bufs, unsigned max)
{
	uint64_t bytes = 0;
	uint32_t idx = 0;
	unsigned i, n;

	n = xsk_ring_cons__peek(&p->rx, max, &idx);
	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&p->rx, idx + i);
		struct hp_pktbuf *m = fwd_pkt_of(f, d->addr);

		m->data_off =
		    (uint16_t)(xsk_umem__add_offset_to_addr(d->addr) - fwd_frame_of(f, m));
		m->data_len = (uint16_t)d->len;
		m->pkt_len = d->len;
		m->port = (uint16_t)p->index;
		bytes += d->len;
		bufs[i] = m;
	}
	xsk_ring_cons__release(&p->rx, n);
	fwd_count(&p->c.rx_pkts, n);
	fwd_count(&p->c.rx_bytes, bytes);
	return n;
}

/* n pktbufs into the tx ring, which the caller saw had room for them. */
static void tx_burst(struct fwd *f, struct fwd_port *p, struct hp_pktbuf *const *bufs, unsigned n)
{
	uint32_t idx = 0;
	unsigned i;

	xsk_ring_prod__reserve(&p->tx, n, &idx);
	for (i = 0; i < n; i++) {
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&p->tx, idx + i);
		const struct hp_pktbuf *m = bufs[i];

		d->addr =
		    fwd_frame_of(f, m) | ((uint64_t)m->data_off << XSK_UNALIGNED_BUF_OFFSET_SHIFT);
		d->len = m->data_len;
	}
	xsk_ring_prod__submit(&p->tx, n);
}

/* Copy mode sends only inside sendto(), zero-copy drivers ask for a kick when idle: kick while
 * the kernel has not taken every descriptor of the tx ring, and only then (a syscall each). */
static void kick_tx(struct fwd_port *p)
{
	if (p->tx.cached_prod != __atomic_load_n(p->tx.consumer, __ATOMIC_ACQUIRE) &&
	    xsk_ring_prod__needs_wakeup(&p->tx))
		sendto(xsk_socket__fd(p->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
}

/* Pipeline: received frames go to the worker. */
static unsigned receive(struct fwd *f, struct fwd_port *p)
{
	struct hp_pktbuf *bufs[FWD_BURST];
	unsigned n, k;

	n = rx_burst(f, p, bufs, FWD_BURST);
	if (!n)
		return 0;
	k = hp_ring_enqueue_burst(p->to_worker, (void *const *)bufs, n, NULL);
	if (k < n) {
		fwd_count(&p->c.worker_full, n - k);
		hp_mempool_put_bulk(f->pool, (void *const *)(bufs + k), n - k);
	}
	return n;
}

/* Pipeline: frames from the worker go into the tx ring; only as many as it has room for. */
static unsigned transmit(struct fwd *f, struct fwd_port *p)
{
	struct hp_pktbuf *bufs[FWD_BURST];
	unsigned room = xsk_prod_nb_free(&p->tx, FWD_BURST), n = 0;

	if (room > FWD_BURST)
		room = FWD_BURST;
	if (room)
		n = hp_ring_dequeue_burst(p->to_wire, (void **)bufs, room, NULL);
	if (n)
		tx_burst(f, p, bufs, n);
	kick_tx(p);
	return n;
}

/* Run to completion: frames received on in go into out's tx ring, as many as it has room for
 * (the rest wait in in's rx ring, and the kernel counts what does not fit there). */
static unsigned forward(struct fwd *f, struct fwd_port *in, struct fwd_port *out)
{
	struct hp_pktbuf *bufs[FWD_BURST];
	unsigned room = xsk_prod_nb_free(&out->tx, FWD_BURST), n = 0;

	if (room > FWD_BURST)
		room = FWD_BURST;
	if (room)
		n = rx_burst(f, in, bufs, room);
	if (n)
		tx_burst(f, out, bufs, n);
	kick_tx(out);
	return n;
}

/* Every thread gets an lcore id (its cache of the pool) and then counts itself ready. */
static bool thread_begin(struct fwd *f)
{
	bool ok = hp_thread_register() == 0;

	if (!ok) {
		fprintf(stderr, "xdp-fwd: a forwarding thread: %s\n", hp_last_error());
		__atomic_store_n(&f->failed, 1, __ATOMIC_RELAXED);
	}
	__atomic_fetch_add(&f->ready, 1, __ATOMIC_RELEASE);
	return ok;
}

static void *port_main(void *arg)
{
	struct fwd_port *p = arg;
	struct fwd *f = p->f;
	unsigned empty = 0;

	if (!thread_begin(f))
		return NULL;
	while (!stopping(f)) {
		unsigned work = reap(f, p);

		work += refill(f, p);
		work += receive(f, p);
		work += transmit(f, p);
		idle(work, &empty);
	}
	hp_thread_unregister();
	return NULL;
}

/* Run to completion: worker w serves the pair of ports 2w and 2w + 1, every ring of both. */
static void *pair_main(void *arg)
{
	const struct fwd_worker *w = arg;
	struct fwd *f = w->f;
	struct fwd_port *a = &f->ports[2 * w->id], *b = &f->ports[2 * w->id + 1];
	unsigned empty = 0;

	if (!thread_begin(f))
		return NULL;
	while (!stopping(f)) {
		unsigned work = reap(f, a) + reap(f, b);

		work += refill(f, a) + refill(f, b);
		work += forward(f, a, b) + forward(f, b, a);
		idle(work, &empty);
	}
	hp_thread_unregister();
	return NULL;
}

/* Pipeline: worker w serves the ports p with p % n_workers == w: each ring has one consumer, and
 * since the pairing is one to one, each port's to_wire ring has one producer. */
static void *worker_main(void *arg)
{
	const struct fwd_worker *w = arg;
	struct fwd *f = w->f;
	void *bufs[FWD_BURST];
	unsigned empty = 0, i, n, k;

	if (!thread_begin(f))
		return NULL;
	while (!stopping(f)) {
		unsigned work = 0;

		for (i = w->id; i < f->n_ports; i += f->n_workers) {
			struct fwd_port *p = &f->ports[i], *out = &f->ports[p->peer];

			n = hp_ring_dequeue_burst(p->to_worker, bufs, FWD_BURST, NULL);
			if (!n)
				continue;
			/* L2 forwarding: the frame goes out untouched */
			k = hp_ring_enqueue_burst(out->to_wire, bufs, n, NULL);
			if (k < n) {
				fwd_count(&out->c.tx_full, n - k);
				hp_mempool_put_bulk(f->pool, bufs + k, n - k);
			}
			work += n;
		}
		idle(work, &empty);
	}
	hp_thread_unregister();
	return NULL;
}

static void stop_threads(struct fwd *f)
{
	unsigned i;

	__atomic_store_n(&f->stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < f->started_ports; i++)
		pthread_join(f->ports[i].thread, NULL);
	for (i = 0; i < f->started_workers; i++)
		pthread_join(f->workers[i].thread, NULL);
	f->started_ports = f->started_workers = 0;
}

int fwd_start(struct fwd *f)
{
	unsigned i;
	int rc = 0;

	bool rtc = f->layout == FWD_LAYOUT_RTC;
	unsigned n_workers = rtc ? f->n_ports / 2 : f->n_workers;

	for (i = 0; i < f->n_ports && !rtc && !rc; i++) {
		rc = pthread_create(&f->ports[i].thread, NULL, port_main, &f->ports[i]);
		f->started_ports += !rc;
	}
	for (i = 0; i < n_workers && !rc; i++) {
		f->workers[i].f = f;
		f->workers[i].id = i;
		rc = pthread_create(&f->workers[i].thread, NULL, rtc ? pair_main : worker_main,
				    &f->workers[i]);
		f->started_workers += !rc;
	}
	if (rc)
		fprintf(stderr, "xdp-fwd: cannot start a thread: %s\n", strerror(rc));
	/* bounded: a thread that cannot register says so and counts itself ready */
	for (i = 0; i < 5000 && (unsigned)__atomic_load_n(&f->ready, __ATOMIC_ACQUIRE) <
				    f->started_ports + f->started_workers;
	     i++)
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	if (rc || __atomic_load_n(&f->failed, __ATOMIC_RELAXED)) {
		stop_threads(f);
		return -1;
	}
	return 0;
}

int fwd_kernel_stats(const struct fwd_port *p, uint64_t *dropped, uint64_t *rx_full,
		     uint64_t *fill_empty, uint64_t *tx_invalid)
{
	struct xdp_statistics st;
	socklen_t len = sizeof(st);

	if (getsockopt(xsk_socket__fd(p->xsk), SOL_XDP, XDP_STATISTICS, &st, &len))
		return -errno;
	*dropped = st.rx_dropped;
	*rx_full = st.rx_ring_full;
	*fill_empty = st.rx_fill_ring_empty_descs;
	*tx_invalid = st.tx_invalid_descs;
	return 0;
}

void fwd_teardown(struct fwd *f)
{
	unsigned i;

	stop_threads(f);
	/* sockets first: each holds the UMEM, and the last one out detaches the XDP program */
	for (i = 0; i < f->n_ports; i++)
		if (f->ports[i].xsk)
			xsk_socket__delete(f->ports[i].xsk);
	if (f->umem && xsk_umem__delete(f->umem))
		fprintf(stderr, "xdp-fwd: the UMEM is still in use at exit\n");
	for (i = 0; i < f->n_ports; i++) {
		if (f->ports[i].to_worker)
			hp_ring_free(f->ports[i].to_worker);
		if (f->ports[i].to_wire)
			hp_ring_free(f->ports[i].to_wire);
	}
	if (f->pool)
		hp_mempool_free(f->pool);
	/* libxdp detaches the program it attached when its last socket goes; one it found
	 * attached and took on stays, and is detached here once nobody uses it */
	fwd_prog_sweep(f, "a remaining");
}

enum fwd_layout fwd_layout_for(const struct fwd *f, unsigned cpus)
{
	if (f->layout != FWD_LAYOUT_AUTO)
		return f->layout;
	/* the pipeline's threads each poll without rest; with fewer CPUs than threads plus one
	 * for the kernel's side of AF_XDP, they take turns and one thread per pair does more */
	return cpus >= f->n_ports + f->n_workers + 1 ? FWD_LAYOUT_PIPELINE : FWD_LAYOUT_RTC;
}

const char *fwd_layout_name(enum fwd_layout l)
{
	return l == FWD_LAYOUT_RTC ? "rtc" : l == FWD_LAYOUT_PIPELINE ? "pipeline" : "auto";
}
