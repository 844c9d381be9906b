/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Memory for the core's large, preallocated arrays (connection records,
 * their consumer slots, the out-of-order chunk pool): mapped straight from
 * the kernel, on 2 MiB pages where it can.
 *
 * Why not rte_malloc: DPDK 22.11's rte_free() zeroes every byte it frees,
 * so that rte_zmalloc() can skip the memset later. For arrays sized for the
 * worst case and mostly never touched (a 64 MiB chunk pool of which a
 * capture uses a few KiB) that turns freeing into faulting in and clearing
 * every page: measured at half of the run time of kapa-inspect on a small
 * capture (docs/core-flow.md). munmap() drops untouched pages for free, and
 * fresh anonymous pages are zero, so nothing is written at allocation
 * either. Pages are placed by first touch, i.e. on the NUMA node of the
 * worker that owns the table.
 */
#ifndef KAPA_MEM_H
#define KAPA_MEM_H

#include <stddef.h>

/**
 * Map @p size bytes of zeroed memory: from the hugetlb pool when it has
 * room (MAP_HUGETLB), otherwise ordinary pages advised to become
 * transparent huge pages (MADV_HUGEPAGE). Aligned to at least 4 KiB.
 *
 * @param size  bytes (> 0)
 * @return the memory, or NULL with errno set (EINVAL, ENOMEM).
 */
void *kapa_mem_alloc(size_t size);

/**
 * Map @p size bytes of zeroed address space for an array that may grow up
 * to it: nothing is reserved or committed (MAP_NORESERVE, ordinary pages
 * advised to become transparent huge pages), so only the pages written cost
 * memory. For a table sized for the most it may ever hold.
 *
 * @param size  bytes (> 0)
 * @return the memory, or NULL with errno set (EINVAL, ENOMEM).
 */
void *kapa_mem_reserve(size_t size);

/**
 * Unmap memory from kapa_mem_alloc() or kapa_mem_reserve(). NULL is ignored.
 * @param size  the size given to kapa_mem_alloc() or kapa_mem_reserve()
 */
void kapa_mem_free(void *p, size_t size);

#endif /* KAPA_MEM_H */
