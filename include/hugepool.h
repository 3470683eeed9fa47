/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hugepool.h
 * The umbrella header: includes every public hugepool header that this build has.
 */
#ifndef HUGEPOOL_H
#define HUGEPOOL_H

#include <hp_common.h>
#include <hp_eal.h>
#include <hp_mem.h>
#include <hp_memzone.h>
#include <hp_heap.h>
#if __has_include(<hp_ring.h>)
#include <hp_ring.h>
#endif
#if __has_include(<hp_mempool.h>)
#include <hp_mempool.h>
#endif
#if __has_include(<hp_pktbuf.h>)
#include <hp_pktbuf.h>
#endif
#include <hp_telemetry.h>
#if defined(HP_HAVE_RDMA) && __has_include(<hp_rdma.h>)
#include <hp_rdma.h>
#endif

#endif
