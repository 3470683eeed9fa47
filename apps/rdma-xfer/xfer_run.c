/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rdma-xfer protocol, in lockstep: the client sends a request (a header, maybe with data),
 * the server answers with a RESULT header. The client times RDMA WRITE, RDMA READ and SEND for
 * each size; every byte is checked, by the server for what the client wrote or sent, by the
 * client for what it read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xfer.h"

static inline uint64_t word(uint32_t seed, size_t i)
{
	uint64_t x = ((uint64_t)seed << 32) ^ (i * 0x9e3779b97f4a7c15ull);

	x ^= x >> 29;
	return x * 0xbf58476d1ce4e5b9ull;
}

void xfer_fill(void *const *objs, size_t size, uint32_t seed)
{
	size_t off;

	for (off = 0; off < size; off += 8) {
		uint64_t w = word(seed, off / 8);
		char *p = (char *)objs[off / XFER_OBJ_SIZE] + off % XFER_OBJ_SIZE;

		memcpy(p, &w, size - off < 8 ? size - off : 8);
	}
}

long xfer_verify(void *const *objs, size_t size, uint32_t seed)
{
	size_t off, k;

	for (off = 0; off < size; off += 8) {
		uint64_t w = word(seed, off / 8);
		const unsigned char *p =
		    (const unsigned char *)objs[off / XFER_OBJ_SIZE] + off % XFER_OBJ_SIZE;
		size_t n = size - off < 8 ? size - off : 8;

		if (memcmp(p, &w, n))
			for (k = 0; k < n; k++)
				if (p[k] != ((unsigned char *)&w)[k])
					return (long)(off + k);
	}
	return -1;
}

/* ---- server ------------------------------------------------------------------------------ */

static int send_wait(struct xfer_ep *ep, size_t data_len)
{
	struct ibv_wc wc;
	int rc = xfer_send_ctrl(ep, data_len);

	return rc ? rc : xfer_wait(ep->scq, &wc);
}

static int hello(struct xfer_ep *ep)
{
	unsigned i;

	memset(ep->tx, 0, sizeof(*ep->tx));
	ep->tx->op = OP_HELLO;
	ep->tx->n_obj = XFER_NOBJ;
	for (i = 0; i < XFER_NOBJ; i++) {
		ep->tx->addr[i] = (uintptr_t)ep->obj[i];
		if (hp_rdma_rkey(ep->map, ep->obj[i], XFER_OBJ_SIZE, &ep->tx->rkey[i])) {
			fprintf(stderr, "rdma-xfer: %s\n", hp_last_error());
			return -ENOENT;
		}
	}
	return send_wait(ep, 0);
}

int xfer_server(struct xfer_ep *ep)
{
	struct xfer_ctrl h;
	struct ibv_wc wc;
	unsigned bad = 0, n = 0;
	int rc = hello(ep);

	while (!rc) {
		long off = -1;

		rc = xfer_wait(ep->rcq, &wc);
		if (rc)
			break;
		h = *ep->rx;
		if (h.magic != XFER_MAGIC || h.size > XFER_NOBJ * XFER_OBJ_SIZE) {
			fprintf(stderr, "rdma-xfer: malformed request (magic %#x size %u)\n",
				h.magic, h.size);
			return -EPROTO;
		}
		if (h.op == OP_DONE)
			break;
		if (h.op == OP_CHECK)
			off = xfer_verify(ep->obj, h.size, h.seed);
		else if (h.op == OP_FILL)
			xfer_fill(ep->obj, h.size, h.seed);
		else if (h.op == OP_DATA)
			off = wc.byte_len != sizeof(h) + h.size
				  ? 0
				  : xfer_verify(ep->obj, h.size, h.seed);
		bad += off >= 0;
		n++;
		/* the next request may come as soon as the reply is out: receive first */
		rc = xfer_post_recv(ep, true);
		if (rc)
			break;
		memset(ep->tx, 0, sizeof(*ep->tx));
		ep->tx->op = OP_RESULT;
		ep->tx->status = off >= 0 ? -1 : 0;
		ep->tx->bad_off = off >= 0 ? (uint64_t)off : 0;
		rc = send_wait(ep, 0);
	}
	fprintf(stderr, "rdma-xfer: server: %u requests, %u with bad bytes\n", n, bad);
	return rc ? rc : bad ? -EIO : 0;
}

/* ---- client ------------------------------------------------------------------------------ */

struct remote {
	uint64_t addr[XFER_NOBJ];
	uint32_t rkey[XFER_NOBJ];
};

/* Wait for the server's header, keep a copy, and post the next receive at once. */
static int recv_reply(struct xfer_ep *ep, struct xfer_ctrl *h)
{
	struct ibv_wc wc;
	int rc = xfer_wait(ep->rcq, &wc);

	if (rc)
		return rc;
	*h = *ep->rx;
	return xfer_post_recv(ep, false);
}

/* Send a request (op, seed, size; data_len bytes of objects behind it) and wait for its result. */
static int request(struct xfer_ep *ep, uint32_t op, uint32_t seed, uint32_t size, size_t data_len)
{
	struct xfer_ctrl h;
	int rc;

	memset(ep->tx, 0, sizeof(*ep->tx));
	ep->tx->op = op;
	ep->tx->seed = seed;
	ep->tx->size = size;
	rc = send_wait(ep, data_len);
	if (!rc)
		rc = recv_reply(ep, &h);
	if (rc)
		return rc;
	if (h.op != OP_RESULT)
		return -EPROTO;
	if (h.status)
		fprintf(stderr, "rdma-xfer: server found a bad byte at offset %llu (size %u)\n",
			(unsigned long long)h.bad_off, size);
	return h.status ? 1 : 0;
}

/* n chained RDMA WRITE or READ work requests, one per object, the last one signaled. */
static int rdma_chain(struct xfer_ep *ep, const struct remote *r, enum ibv_wr_opcode op,
		      size_t size)
{
	struct ibv_send_wr wr[XFER_NOBJ], *bad;
	struct ibv_sge sg[XFER_NOBJ];
	struct ibv_wc wc;
	unsigned i, n = (size + XFER_OBJ_SIZE - 1) / XFER_OBJ_SIZE;

	memset(wr, 0, sizeof(wr));
	for (i = 0; i < n; i++) {
		uint32_t len = i + 1 < n ? XFER_OBJ_SIZE : size - (size_t)i * XFER_OBJ_SIZE;

		sg[i] = (struct ibv_sge){(uintptr_t)ep->obj[i], len, 0};
		if (hp_rdma_lkey(ep->map, ep->obj[i], len, &sg[i].lkey))
			return -ENOENT;
		wr[i].opcode = op;
		wr[i].sg_list = &sg[i];
		wr[i].num_sge = 1;
		wr[i].wr.rdma.remote_addr = r->addr[i];
		wr[i].wr.rdma.rkey = r->rkey[i];
		wr[i].next = i + 1 < n ? &wr[i + 1] : NULL;
	}
	wr[n - 1].send_flags = IBV_SEND_SIGNALED;
	if (ibv_post_send(ep->id->qp, wr, &bad))
		return -errno;
	return xfer_wait(ep->scq, &wc);
}

static int run_write(struct xfer_ep *ep, const struct remote *r, unsigned iters, uint32_t seed,
		     struct xfer_result *res)
{
	double t = 0;
	unsigned it;
	int rc = 0;

	xfer_fill(ep->obj, res->size, seed);
	for (it = 0; it < iters && !rc; it++) {
		double t0 = xfer_now_us();

		rc = rdma_chain(ep, r, IBV_WR_RDMA_WRITE, res->size);
		t += xfer_now_us() - t0;
	}
	if (!rc)
		rc = request(ep, OP_CHECK, seed, res->size, 0);
	res->wr_ok = rc == 0;
	res->wr_us = t / iters;
	res->wr_mbps = res->size * iters / t;
	return rc < 0 ? rc : 0;
}

static int run_read(struct xfer_ep *ep, const struct remote *r, unsigned iters, uint32_t seed,
		    struct xfer_result *res)
{
	double t = 0;
	unsigned it, i;
	int rc = request(ep, OP_FILL, seed, res->size, 0);

	res->rd_ok = rc == 0;
	for (it = 0; it < iters && !rc; it++) {
		double t0;

		for (i = 0; i < XFER_NOBJ; i++)
			memset(ep->obj[i], 0, XFER_OBJ_SIZE);
		t0 = xfer_now_us();
		rc = rdma_chain(ep, r, IBV_WR_RDMA_READ, res->size);
		t += xfer_now_us() - t0;
		if (!rc && xfer_verify(ep->obj, res->size, seed) >= 0)
			res->rd_ok = false;
	}
	res->rd_ok = res->rd_ok && !rc;
	res->rd_us = t / iters;
	res->rd_mbps = res->size * iters / t;
	return rc < 0 ? rc : 0;
}

static int run_send(struct xfer_ep *ep, unsigned iters, uint32_t seed, struct xfer_result *res)
{
	double t = 0;
	unsigned it;
	int rc = 0;

	res->sr_ok = true;
	for (it = 0; it < iters && rc >= 0; it++) {
		double t0;

		xfer_fill(ep->obj, res->size, seed + it);
		t0 = xfer_now_us();
		rc = request(ep, OP_DATA, seed + it, res->size, res->size);
		t += xfer_now_us() - t0;
		if (rc)
			res->sr_ok = false;
	}
	res->sr_us = t / iters;
	res->sr_mbps = res->size * iters / t;
	return rc < 0 ? rc : 0;
}

int xfer_client(struct xfer_ep *ep, const struct xfer_opts *o, struct xfer_result *res)
{
	struct xfer_ctrl h;
	struct remote r;
	unsigned s;
	int rc = recv_reply(ep, &h);

	if (!rc && (h.magic != XFER_MAGIC || h.op != OP_HELLO || h.n_obj < XFER_NOBJ))
		rc = -EPROTO;
	if (rc) {
		fprintf(stderr, "rdma-xfer: no valid HELLO from the server\n");
		return rc;
	}
	memcpy(r.addr, h.addr, sizeof(r.addr));
	memcpy(r.rkey, h.rkey, sizeof(r.rkey));
	for (s = 0; s < o->n_sizes && !rc; s++) {
		res[s].size = o->sizes[s];
		rc = run_write(ep, &r, o->iters, 1000 + s, &res[s]);
		if (!rc)
			rc = run_read(ep, &r, o->iters, 2000 + s, &res[s]);
		if (!rc)
			rc = run_send(ep, o->iters, 3000 + s * o->iters, &res[s]);
	}
	if (!rc) {
		memset(ep->tx, 0, sizeof(*ep->tx));
		ep->tx->op = OP_DONE;
		rc = send_wait(ep, 0);
	}
	return rc;
}
