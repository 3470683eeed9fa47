/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rdma-xfer: two endpoints joined by librdmacm, each with a mempool of 64 KiB objects on its
 * node and an RDMA map. Every message carries a control header first (struct xfer_ctrl); the
 * server keeps one receive posted whose SGEs are [header, object 0..15], so control messages and
 * data SENDs share one receive format and the protocol stays in lockstep.
 */
#ifndef XFER_H
#define XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdma/rdma_cma.h>
#include <hugepool.h>

#define XFER_OBJ_SIZE (64u << 10)
#define XFER_NOBJ 16u /* 1 MiB, the largest transfer */
#define XFER_MAGIC 0x58464552u
#define XFER_MAX_SIZES 16

enum xfer_op { OP_HELLO = 1, OP_CHECK, OP_FILL, OP_DATA, OP_RESULT, OP_DONE };

/* The header of every message. HELLO lists the server's objects and their rkeys. */
struct xfer_ctrl {
	uint32_t magic;
	uint32_t op;
	uint32_t seed;
	uint32_t size;
	int32_t status; /* RESULT: 0, or -1 with bad_off set */
	uint32_t n_obj;
	uint64_t bad_off;
	uint64_t addr[XFER_NOBJ];
	uint32_t rkey[XFER_NOBJ];
};

struct xfer_opts {
	bool server;
	const char *addr;
	const char *port;
	bool json;
	bool lookup_bench;
	unsigned iters;
	unsigned n_sizes;
	size_t sizes[XFER_MAX_SIZES];
	unsigned bench_objs;
};

/* One side of a connection. */
struct xfer_ep {
	struct rdma_event_channel *ec;
	struct rdma_cm_id *listen_id;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_cq *scq, *rcq;
	struct hp_mempool *mp;
	struct hp_rdma_map *map;
	void *obj[XFER_NOBJ];
	struct xfer_ctrl *tx, *rx; /* outside memory: registered with hp_rdma_map_register() */
	int node;
	double reg_ms; /* time hp_rdma_map_create() took (all runtime memory) */
	unsigned n_mrs, n_runs;
};

/* One row of the client's table. */
struct xfer_result {
	size_t size;
	double wr_mbps, wr_us, rd_mbps, rd_us, sr_mbps, sr_us;
	bool wr_ok, rd_ok, sr_ok;
};

/* xfer_net.c: connection set-up and the verbs plumbing */
int xfer_connect(struct xfer_ep *ep, const struct xfer_opts *o);
int xfer_accept(struct xfer_ep *ep, const struct xfer_opts *o);
void xfer_close(struct xfer_ep *ep);
int xfer_post_recv(struct xfer_ep *ep, bool with_objs);
int xfer_send_ctrl(struct xfer_ep *ep, size_t data_len);
int xfer_wait(struct ibv_cq *cq, struct ibv_wc *wc);
double xfer_now_us(void);

/* xfer_run.c: the two sides of the protocol */
void xfer_fill(void *const *objs, size_t size, uint32_t seed);
long xfer_verify(void *const *objs, size_t size, uint32_t seed); /* -1 or first bad offset */
int xfer_server(struct xfer_ep *ep);
int xfer_client(struct xfer_ep *ep, const struct xfer_opts *o, struct xfer_result *res);

/* xfer_bench.c: the lookup benchmark (no device needed) */
int xfer_lookup_bench(const struct xfer_opts *o);

#endif
