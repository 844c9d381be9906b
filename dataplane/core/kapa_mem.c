/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Large arrays of the core from mmap (see kapa_mem.h for why not rte_malloc).
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

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
