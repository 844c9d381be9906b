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

/**
 * A segment of one of our own DPDK malloc heaps: memory mapped here and
 * added to a named external heap, so that rte_malloc() on the heap's socket
 * id allocates from it. For a structure that DPDK itself allocates with
 * rte_malloc (an rte_hash) and that must not be sized into EAL's memory at
 * start: without hugepages (kapa-inspect's --no-huge) EAL maps all of its
 * memory at start and describes it 4 KiB page by 4 KiB page, about 20 ms
 * per GiB (docs/performance.md), and it cannot grow later. A segment is
 * mapped when a structure is built, at its size, and unmapped with it.
 *
 * rte_malloc() takes from any segment of a heap, so one structure's heap
 * must be its own (a name of its own) for its segment to be removable once
 * the structure is freed. DPDK clears a segment when it is added
 * (rte_malloc_heap_memory_add()), so all of it is resident from then on:
 * size it to what will be allocated.
 */
#define KAPA_MEM_HEAP_NAME_MAX 32	/* DPDK's heap names, with the NUL */

struct kapa_mem_seg {
	void *base;		/* NULL: no segment */
	size_t len;		/* a multiple of 2 MiB */
	int socket_id;		/* the heap's, for rte_malloc_socket() */
	char heap[KAPA_MEM_HEAP_NAME_MAX];
};

/**
 * Map @p size bytes (rounded up to 2 MiB) and add them to the external heap
 * @p heap, created if it does not exist.
 *
 * @return 0 and @p seg filled, or -errno (EINVAL, ENOMEM, or DPDK's).
 */
int kapa_mem_seg_add(struct kapa_mem_seg *seg, const char *heap, size_t size);

/**
 * Take a segment out of its heap, unmap it, and destroy the heap if nothing
 * else is in it. Every allocation in the segment must have been freed; if
 * one is left (EBUSY), the segment stays mapped and in the heap, and -EBUSY
 * is returned. A segment with base NULL is ignored.
 */
int kapa_mem_seg_remove(struct kapa_mem_seg *seg);

#endif /* KAPA_MEM_H */
