/* SPDX-License-Identifier: BSD-3-Clause */
/* Private to libhugepool: what other libraries need of lib/memzone beyond hp_memzone.h. */
#ifndef HP_MEMZONE_INTERNAL_H
#define HP_MEMZONE_INTERNAL_H

#include <hp_memzone.h>

/* The slot of a live zone in the memzone table (telemetry's zone id), or -1. */
int memzone_index(const struct hp_memzone *mz);

#endif
