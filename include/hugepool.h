/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hugepool.h
 * The umbrella header: includes every public hugepool header (hp_rdma.h where the build has
 * lib/rdma, HP_HAVE_RDMA).
 */
#ifndef HUGEPOOL_H
#define HUGEPOOL_H

#include <hp_common.h>
#include <hp_eal.h>
#include <hp_util.h>
#include <hp_mem.h>
#include <hp_memzone.h>
#include <hp_heap.h>
#include <hp_ring.h>
#include <hp_mempool.h>
#include <hp_pktbuf.h>
#include <hp_telemetry.h>
#include <hp_pci.h>
#ifdef HP_HAVE_RDMA
#include <hp_rdma.h>
#endif

#endif
