/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_eal_pvt.h
 * @internal Private machinery of hp_eal.h (include that instead): what its inline calls read.
 * Not part of the API: these names may change in any release.
 */
#ifndef HP_EAL_PVT_H
#define HP_EAL_PVT_H

#include <hp_common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @internal The calling thread's lcore id (HP_LCORE_ANY without one); read hp_lcore_id(). */
HP_API extern __thread unsigned __hp_lcore_id_tls;

#ifdef __cplusplus
}
#endif
#endif
