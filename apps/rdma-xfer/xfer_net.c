/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rdma-xfer plumbing: rdma_cm connect/accept, the endpoint's PD, RDMA map, pool, CQs and QP, and
 * posting the one message format (header + objects). Single-threaded: one endpoint per process.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xfer.h"

#define CM_TIMEOUT_MS 5000
#define CONNECT_TRIES 120 /* half a second apart: the peer may still be booting */

double xfer_now_us(void)
{
	return (double)hp_now_ns() / 1e3;
}

static int err(const char *what, int e)
{
	fprintf(stderr, "rdma-xfer: %s: %s\n", what, strerror(e));
	return -e;
}

static char last_cm_error[160]; /* kept quiet while the client retries; printed if it gives up */

/* Wait for one cm event of the kind expected; *id_out gets the event's id (connect requests). */
static int cm_wait(struct rdma_event_channel *ec, enum rdma_cm_event_type want,
		   struct rdma_cm_id **id_out)
{
	struct rdma_cm_event *ev;
	int ok;

	if (rdma_get_cm_event(ec, &ev))
		return err("rdma_get_cm_event", errno);
	ok = ev->event == want;
	if (!ok)
		snprintf(last_cm_error, sizeof(last_cm_error), "waited for %s, got %s (status %d)",
			 rdma_event_str(want), rdma_event_str(ev->event), ev->status);
	if (ok && id_out)
		*id_out = ev->id;
	rdma_ack_cm_event(ev);
	return ok ? 0 : -ECONNREFUSED;
}

static int device_node(struct ibv_context *ctx)
{
	char path[256];
	int node = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/device/numa_node",
		 ibv_get_device_name(ctx->device));
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%d", &node) != 1)
			node = -1;
		fclose(f);
	}
	return node >= 0 ? node : HP_NODE_ANY;
}

static int count_run(const struct hp_memseg *run, void *arg)
{
	(void)run;
	(*(unsigned *)arg)++;
	return 0;
}

/* PD, pool, map (timed: it registers all runtime memory) and control buffers. */
static int ep_setup(struct xfer_ep *ep, struct ibv_context *verbs)
{
	struct hp_rdma_map_stats st;
	double t0;
	int node = device_node(verbs);

	ep->pd = ibv_alloc_pd(verbs);
	if (!ep->pd)
		return err("ibv_alloc_pd", errno);
	ep->mp = hp_mempool_create("rdma-xfer", 2 * XFER_NOBJ, XFER_OBJ_SIZE, 0, node, 0);
	if (!ep->mp) {
		fprintf(stderr, "rdma-xfer: mempool: %s\n", hp_last_error());
		return -errno;
	}
	if (hp_mempool_get_bulk(ep->mp, ep->obj, XFER_NOBJ))
		return err("hp_mempool_get_bulk", ENOMEM);
	ep->node = hp_mem_node_of(ep->obj[0]);
	t0 = xfer_now_us();
	ep->map = hp_rdma_map_create(ep->pd, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ |
						 IBV_ACCESS_REMOTE_WRITE);
	ep->reg_ms = (xfer_now_us() - t0) / 1e3;
	if (!ep->map) {
		fprintf(stderr, "rdma-xfer: RDMA map: %s\n", hp_last_error());
		return -errno;
	}
	hp_rdma_map_stats(ep->map, &st);
	ep->n_mrs = st.n_mrs;
	hp_memseg_contig_walk(count_run, &ep->n_runs);
	/* the control buffers are ordinary memory: they show hp_rdma_map_register() */
	ep->tx = aligned_alloc(4096, 4096);
	ep->rx = aligned_alloc(4096, 4096);
	if (!ep->tx || !ep->rx || hp_rdma_map_register(ep->map, ep->tx, sizeof(*ep->tx)) ||
	    hp_rdma_map_register(ep->map, ep->rx, sizeof(*ep->rx))) {
		fprintf(stderr, "rdma-xfer: control buffers: %s\n", hp_last_error());
		return -ENOMEM;
	}
	return 0;
}

static int qp_create(struct xfer_ep *ep, struct rdma_cm_id *id)
{
	struct ibv_qp_init_attr qa;

	/* CQs of their own per attempt: a failed attempt's flushed receive must not show later */
	ep->scq = ibv_create_cq(id->verbs, 128, NULL, NULL, 0);
	ep->rcq = ibv_create_cq(id->verbs, 16, NULL, NULL, 0);
	if (!ep->scq || !ep->rcq)
		return err("ibv_create_cq", errno);
	memset(&qa, 0, sizeof(qa));
	qa.send_cq = ep->scq;
	qa.recv_cq = ep->rcq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = 64;
	qa.cap.max_recv_wr = 4;
	qa.cap.max_send_sge = qa.cap.max_recv_sge = XFER_NOBJ + 1;
	if (rdma_create_qp(id, ep->pd, &qa))
		return err("rdma_create_qp", errno);
	ep->id = id;
	return 0;
}

static struct rdma_conn_param conn_param(void)
{
	struct rdma_conn_param p;

	memset(&p, 0, sizeof(p));
	p.initiator_depth = 1;
	p.responder_resources = 1;
	p.retry_count = 7;
	p.rnr_retry_count = 7;
	return p;
}

static int resolve(const struct xfer_opts *o, struct addrinfo **ai)
{
	struct addrinfo hints;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = o->server ? AI_PASSIVE : 0;
	rc = getaddrinfo(o->addr, o->port, &hints, ai);
	if (rc) {
		fprintf(stderr, "rdma-xfer: %s:%s: %s\n", o->addr ? o->addr : "*", o->port,
			gai_strerror(rc));
		return -EINVAL;
	}
	return 0;
}

static void drop_cqs(struct xfer_ep *ep)
{
	if (ep->scq)
		ibv_destroy_cq(ep->scq);
	if (ep->rcq)
		ibv_destroy_cq(ep->rcq);
	ep->scq = ep->rcq = NULL;
}

/* One attempt: resolve address and route, connect. *fatal: retrying cannot help. */
static int connect_once(struct xfer_ep *ep, struct sockaddr *sa, bool *fatal)
{
	struct rdma_conn_param p = conn_param();
	struct rdma_cm_id *id;
	int rc;

	if (rdma_create_id(ep->ec, &id, NULL, RDMA_PS_TCP)) {
		*fatal = true;
		return err("rdma_create_id", errno);
	}
	rc = rdma_resolve_addr(id, NULL, sa, CM_TIMEOUT_MS) ? -errno : 0;
	if (!rc)
		rc = cm_wait(ep->ec, RDMA_CM_EVENT_ADDR_RESOLVED, NULL);
	if (!rc)
		rc = rdma_resolve_route(id, CM_TIMEOUT_MS) ? -errno : 0;
	if (!rc)
		rc = cm_wait(ep->ec, RDMA_CM_EVENT_ROUTE_RESOLVED, NULL);
	if (!rc && !ep->pd) {
		rc = ep_setup(ep, id->verbs);
		*fatal = rc != 0;
	}
	if (!rc)
		rc = qp_create(ep, id);
	if (!rc)
		rc = xfer_post_recv(ep, false);
	if (!rc)
		rc = rdma_connect(id, &p) ? -errno : 0;
	if (!rc)
		rc = cm_wait(ep->ec, RDMA_CM_EVENT_ESTABLISHED, NULL);
	if (rc) {
		if (ep->id == id)
			rdma_destroy_qp(id);
		ep->id = NULL;
		rdma_destroy_id(id);
		drop_cqs(ep);
	}
	return rc;
}

int xfer_connect(struct xfer_ep *ep, const struct xfer_opts *o)
{
	struct addrinfo *ai;
	bool fatal = false;
	int rc, i;

	ep->ec = rdma_create_event_channel();
	if (!ep->ec)
		return err("rdma_create_event_channel (is rdma_ucm loaded?)", errno);
	rc = resolve(o, &ai);
	if (rc)
		return rc;
	for (i = 0; i < CONNECT_TRIES; i++) {
		rc = connect_once(ep, ai->ai_addr, &fatal);
		if (!rc || fatal)
			break;
		usleep(500000); /* the server may not listen yet */
	}
	freeaddrinfo(ai);
	if (rc)
		fprintf(stderr, "rdma-xfer: cannot connect to %s:%s after %d tries: %s\n", o->addr,
			o->port, i, last_cm_error);
	else if (i)
		fprintf(stderr, "rdma-xfer: connected after %d refused tries (%s)\n", i,
			last_cm_error);
	return rc;
}

int xfer_accept(struct xfer_ep *ep, const struct xfer_opts *o)
{
	struct rdma_conn_param p = conn_param();
	struct rdma_cm_id *id = NULL;
	struct addrinfo *ai;
	int rc;

	ep->ec = rdma_create_event_channel();
	if (!ep->ec)
		return err("rdma_create_event_channel (is rdma_ucm loaded?)", errno);
	if (rdma_create_id(ep->ec, &ep->listen_id, NULL, RDMA_PS_TCP))
		return err("rdma_create_id", errno);
	rc = resolve(o, &ai);
	if (rc)
		return rc;
	rc = rdma_bind_addr(ep->listen_id, ai->ai_addr) ? err("rdma_bind_addr", errno) : 0;
	freeaddrinfo(ai);
	if (rc)
		return rc;
	if (rdma_listen(ep->listen_id, 1))
		return err("rdma_listen", errno);
	fprintf(stderr, "rdma-xfer: listening on %s:%s\n", o->addr ? o->addr : "*", o->port);
	rc = cm_wait(ep->ec, RDMA_CM_EVENT_CONNECT_REQUEST, &id);
	if (!rc)
		rc = ep_setup(ep, id->verbs);
	if (!rc)
		rc = qp_create(ep, id);
	if (!rc)
		rc = xfer_post_recv(ep, true);
	if (!rc)
		rc = rdma_accept(id, &p) ? err("rdma_accept", errno) : 0;
	if (!rc)
		rc = cm_wait(ep->ec, RDMA_CM_EVENT_ESTABLISHED, NULL);
	if (rc == -ECONNREFUSED)
		fprintf(stderr, "rdma-xfer: %s\n", last_cm_error);
	return rc;
}

void xfer_close(struct xfer_ep *ep)
{
	if (ep->id) {
		rdma_disconnect(ep->id);
		rdma_destroy_qp(ep->id);
	}
	drop_cqs(ep);
	if (ep->map) {
		hp_rdma_map_unregister(ep->map, ep->tx, sizeof(*ep->tx));
		hp_rdma_map_unregister(ep->map, ep->rx, sizeof(*ep->rx));
		hp_rdma_map_destroy(ep->map);
	}
	free(ep->tx);
	free(ep->rx);
	if (ep->mp) {
		if (ep->obj[0])
			hp_mempool_put_bulk(ep->mp, ep->obj, XFER_NOBJ);
		hp_mempool_free(ep->mp);
	}
	if (ep->pd)
		ibv_dealloc_pd(ep->pd);
	if (ep->id)
		rdma_destroy_id(ep->id);
	if (ep->listen_id)
		rdma_destroy_id(ep->listen_id);
	if (ep->ec)
		rdma_destroy_event_channel(ep->ec);
}

/* SGEs for the header and, if n_data > 0, the first n_data bytes spread over the objects. */
static int sges(struct xfer_ep *ep, struct xfer_ctrl *hdr, size_t n_data, struct ibv_sge *sg)
{
	int n = 0;
	size_t off;

	sg[n] = (struct ibv_sge){(uintptr_t)hdr, sizeof(*hdr), 0};
	if (hp_rdma_lkey(ep->map, hdr, sizeof(*hdr), &sg[n++].lkey))
		return -ENOENT;
	for (off = 0; off < n_data; off += XFER_OBJ_SIZE, n++) {
		uint32_t len = n_data - off < XFER_OBJ_SIZE ? n_data - off : XFER_OBJ_SIZE;
		void *p = ep->obj[off / XFER_OBJ_SIZE];

		sg[n] = (struct ibv_sge){(uintptr_t)p, len, 0};
		if (hp_rdma_lkey(ep->map, p, len, &sg[n].lkey))
			return -ENOENT;
	}
	return n;
}

int xfer_post_recv(struct xfer_ep *ep, bool with_objs)
{
	struct ibv_sge sg[XFER_NOBJ + 1];
	struct ibv_recv_wr wr, *bad;
	int n = sges(ep, ep->rx, with_objs ? (size_t)XFER_NOBJ * XFER_OBJ_SIZE : 0, sg);

	if (n < 0)
		return err("lkey of a receive buffer", -n);
	memset(&wr, 0, sizeof(wr));
	wr.sg_list = sg;
	wr.num_sge = n;
	if (ibv_post_recv(ep->id ? ep->id->qp : NULL, &wr, &bad))
		return err("ibv_post_recv", errno);
	return 0;
}

int xfer_send_ctrl(struct xfer_ep *ep, size_t data_len)
{
	struct ibv_sge sg[XFER_NOBJ + 1];
	struct ibv_send_wr wr, *bad;
	int n = sges(ep, ep->tx, data_len, sg);

	if (n < 0)
		return err("lkey of a send buffer", -n);
	ep->tx->magic = XFER_MAGIC;
	memset(&wr, 0, sizeof(wr));
	wr.opcode = IBV_WR_SEND;
	wr.sg_list = sg;
	wr.num_sge = n;
	wr.send_flags = IBV_SEND_SIGNALED;
	if (ibv_post_send(ep->id->qp, &wr, &bad))
		return err("ibv_post_send", errno);
	return 0;
}

/* Busy-poll one completion (30 s at most); 0, or -EIO when it failed. */
int xfer_wait(struct ibv_cq *cq, struct ibv_wc *wc)
{
	double deadline = xfer_now_us() + 30e6;
	long spins = 0;
	int n;

	while (!(n = ibv_poll_cq(cq, 1, wc))) {
		if (++spins % 4096 == 0 && xfer_now_us() > deadline) {
			fprintf(stderr, "rdma-xfer: no completion in 30 s\n");
			return -ETIMEDOUT;
		}
	}
	if (n < 0)
		return err("ibv_poll_cq", EIO);
	if (wc->status != IBV_WC_SUCCESS) {
		fprintf(stderr, "rdma-xfer: work completion failed: %s (opcode %d)\n",
			ibv_wc_status_str(wc->status), wc->opcode);
		return -EIO;
	}
	return 0;
}
