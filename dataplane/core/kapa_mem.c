/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Large arrays of the core from mmap (see kapa_mem.h for why not rte_malloc).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "kapa_mem.h"

#define HUGE_2M (2u * 1024 * 1024)

/* Both kinds of mapping are rounded to whole 2 MiB pages, so that free can
 * unmap either without knowing which one it got. */
static size_t
mapped_size(size_t size)
{
	return (size + HUGE_2M - 1) & ~((size_t)HUGE_2M - 1);
}

/* Ordinary pages of @p len bytes (@p flags added), THP advised.
 * @return the mapping, or NULL (ENOMEM). */
static void *
map_pages(size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags,
		       -1, 0);

	if (p == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	(void)madvise(p, len, MADV_HUGEPAGE);
	return p;
}

void *
kapa_mem_alloc(size_t size)
{
	size_t len;
	void *p;

	if (size == 0 || size > SIZE_MAX - HUGE_2M) {
		errno = EINVAL;
		return NULL;
	}
	len = mapped_size(size);
	/* Without MAP_NORESERVE the kernel reserves the whole size in the
	 * hugetlb pool now, so that no later fault can fail (SIGBUS); when the
	 * pool lacks room the mmap fails and ordinary pages serve. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p != MAP_FAILED)
		return p;
	return map_pages(len, 0);
}

void *
kapa_mem_reserve(size_t size)
{
	if (size == 0 || size > SIZE_MAX - HUGE_2M) {
		errno = EINVAL;
		return NULL;
	}
	/* Address space only: no hugetlb reservation, no commit charge. A
	 * page costs memory when it is first written. */
	return map_pages(mapped_size(size), MAP_NORESERVE);
}

void
kapa_mem_free(void *p, size_t size)
{
	if (p != NULL)
		(void)munmap(p, mapped_size(size));
}

/* A segment's base is 2 MiB aligned, the page size it is declared with:
 * DPDK describes it in a handful of pages instead of one per 4 KiB (that
 * per-page work is what makes EAL's own memory slow to start). No IOVA:
 * nothing does DMA from it. */
int
kapa_mem_seg_add(struct kapa_mem_seg *seg, const char *heap, size_t size)
{
	size_t len, head;
	uint8_t *p, *base;
	int socket_id;

	if (seg == NULL || heap == NULL || heap[0] == '\0' ||
	    strlen(heap) >= sizeof(seg->heap) || size == 0 || size > SIZE_MAX / 2)
		return -EINVAL;
	seg->base = NULL;
	socket_id = rte_malloc_heap_get_socket(heap);
	if (socket_id < 0) {
		if (rte_malloc_heap_create(heap) != 0 && rte_errno != EEXIST)
			return -rte_errno;
		socket_id = rte_malloc_heap_get_socket(heap);
		if (socket_id < 0)
			return -rte_errno;
	}
	len = mapped_size(size);
	/* Over-map by a page, keep the aligned part. */
	p = map_pages(len + HUGE_2M, 0);
	if (p == NULL) {
		(void)rte_malloc_heap_destroy(heap);	/* if empty */
		return -ENOMEM;
	}
	base = (uint8_t *)(((uintptr_t)p + HUGE_2M - 1) & ~((uintptr_t)HUGE_2M - 1));
	head = (size_t)(base - p);
	if (head != 0)
		(void)munmap(p, head);
	if (HUGE_2M - head != 0)
		(void)munmap(base + len, HUGE_2M - head);
	if (rte_malloc_heap_memory_add(heap, base, len, NULL, (unsigned int)(len / HUGE_2M),
				       HUGE_2M) != 0) {
		int err = rte_errno != 0 ? rte_errno : ENOMEM;

		(void)munmap(base, len);
		(void)rte_malloc_heap_destroy(heap);
		return -err;
	}
	seg->base = base;
	seg->len = len;
	seg->socket_id = socket_id;
	snprintf(seg->heap, sizeof(seg->heap), "%s", heap);
	return 0;
}

int
kapa_mem_seg_remove(struct kapa_mem_seg *seg)
{
	if (seg == NULL || seg->base == NULL)
		return 0;
	if (rte_malloc_heap_memory_remove(seg->heap, seg->base, seg->len) != 0)
		return -(rte_errno != 0 ? rte_errno : EBUSY);
	(void)munmap(seg->base, seg->len);
	seg->base = NULL;
	/* Fails, harmlessly, while the heap has other segments. */
	(void)rte_malloc_heap_destroy(seg->heap);
	return 0;
}
