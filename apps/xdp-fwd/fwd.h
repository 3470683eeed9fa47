/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp-fwd: an L2 forwarder on AF_XDP whose frames are hugepool packet buffers. One UMEM, the
 * memory of one hp_pktbuf pool, is shared by every port's socket. Two layouts: run to completion
 * (one thread per port pair serves both sockets' four rings and moves frames from one rx ring to
 * the other tx ring), or the pipeline (a thread per port for its socket's rings, and workers that
 * move frames between the ports' hp_rings; every hp_ring has one producer and one consumer).
 * Counters are added to with relaxed atomics and read by the main thread.
 */
#ifndef XDP_FWD_H
#define XDP_FWD_H

#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <xdp/xsk.h>

#include <hugepool.h>

#define FWD_MAX_PORTS 16
#define FWD_BURST 32
/* Kernel rings of each socket (fill, completion, rx, tx) and the hp_rings between threads. */
#define FWD_XSK_RING 2048
#define FWD_HP_RING 1024
/* Frames of the pool per port: enough to fill every ring a frame of that port can wait in. */
#define FWD_FRAMES_PER_PORT 8192
/* A frame is the buffer of a pktbuf; the kernel puts received data XDP_PACKET_HEADROOM in. */
#define FWD_FRAME_SIZE 2048
/* How long a queue another socket still holds (one being released) is tried again. */
#define FWD_BUSY_RETRY_S 5

enum fwd_layout {
	FWD_LAYOUT_AUTO, /* run to completion unless every pipeline thread gets a CPU of its own */
	FWD_LAYOUT_RTC,
	FWD_LAYOUT_PIPELINE,
};

struct fwd_counters {
	uint64_t rx_pkts, rx_bytes; /* frames taken from the socket's rx ring */
	uint64_t tx_pkts, tx_bytes; /* frames the kernel reported sent (completion ring) */
	uint64_t worker_full; /* frames received here, dropped: the ring to the worker was full */
	uint64_t tx_full;     /* frames bound for here, dropped: this port's tx ring was full */
	uint64_t pool_empty;  /* fill-ring refills that found the pool empty */
};

struct fwd;

struct fwd_port {
	struct fwd *f;
	char name[IF_NAMESIZE];
	unsigned ifindex;
	unsigned index, peer; /* this port and the one its frames go out of */
	struct xsk_socket *xsk;
	struct xsk_ring_cons rx, comp;
	struct xsk_ring_prod tx, fill;
	struct hp_ring *to_worker; /* received here: this port thread -> its worker */
	struct hp_ring *to_wire;   /* to send here: the peer's worker -> this port thread */
	bool zerocopy;
	pthread_t thread;
	struct fwd_counters c;
};

struct fwd {
	struct fwd_port ports[FWD_MAX_PORTS];
	unsigned n_ports, n_workers;
	enum fwd_layout layout; /* RTC or PIPELINE once fwd_setup() has chosen */
	struct hp_mempool *pool;
	char *umem_area; /* page-aligned start of the UMEM: the pool's memory chunk */
	size_t umem_len;
	size_t buf_off; /* bytes from a pktbuf to its buffer (the frame) */
	struct xsk_umem *umem;
	struct fwd_worker {
		struct fwd *f;
		unsigned id;
		pthread_t thread;
	} workers[FWD_MAX_PORTS];
	unsigned started_ports, started_workers;
	int stop;   /* set by the main thread, read by the others (atomic) */
	int failed; /* a thread failed to start (atomic) */
	int ready;  /* threads past their start, failed or not (atomic) */
};

/* UMEM offset of a pktbuf's frame, and back (O(1): both are fixed offsets in the UMEM). */
static inline uint64_t fwd_frame_of(const struct fwd *f, const struct hp_pktbuf *m)
{
	return (uint64_t)((char *)m->buf_addr - f->umem_area);
}

static inline struct hp_pktbuf *fwd_pkt_of(const struct fwd *f, uint64_t addr)
{
	return (struct hp_pktbuf *)(f->umem_area + xsk_umem__extract_addr(addr) - f->buf_off);
}

static inline void fwd_count(uint64_t *ctr, uint64_t v)
{
	__atomic_fetch_add(ctr, v, __ATOMIC_RELAXED);
}

/* The layout auto stands for with this many CPUs to run on. */
enum fwd_layout fwd_layout_for(const struct fwd *f, unsigned cpus);
const char *fwd_layout_name(enum fwd_layout l);
/* Pool, UMEM, sockets, rings; on failure prints why and releases what it made. 0 or -1. */
int fwd_setup(struct fwd *f, int node);
/* Start the forwarding threads. 0 or -1 (then every thread started is stopped). */
int fwd_start(struct fwd *f);
/* Stop and join the threads, then release sockets (and their XDP program), UMEM, rings, pool;
 * last, detach any AF_XDP program left on a port that no running process uses. */
void fwd_teardown(struct fwd *f);
/* Detach from every port the AF_XDP programs no running process uses (left by a process that was
 * killed), saying so on stderr with when ("a leftover", ...); returns how many. */
int fwd_prog_sweep(const struct fwd *f, const char *when);
/* Kernel counters of a port's socket (struct xdp_statistics); 0 or -errno. */
int fwd_kernel_stats(const struct fwd_port *p, uint64_t *dropped, uint64_t *rx_full,
		     uint64_t *fill_empty, uint64_t *tx_invalid);
/* "copy" or "zero-copy" */
const char *fwd_mode(const struct fwd *f);

#endif
