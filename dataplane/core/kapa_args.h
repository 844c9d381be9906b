/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Number arguments of the programs' options (getopt_long's optarg): the
 * whole string must be a decimal number within bounds, so that a typo such
 * as `--max-conns 1e6` or `--bridge 0:1x` is refused with a message rather
 * than read as its prefix. Header only: the programs and benchmark tools
 * that share it link nothing for it.
 */
#ifndef KAPA_ARGS_H
#define KAPA_ARGS_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/** @p s as a decimal number in [@p min, @p max]. @return 0, or -EINVAL. */
static inline int
kapa_arg_u64(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	unsigned long long x;
	char *end;

	if (*s < '0' || *s > '9')	/* strtoull takes "-1" and " 1" */
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || x < min || x > max)
		return -EINVAL;
	*v = x;
	return 0;
}

/** kapa_arg_u64() for a 32-bit value. */
static inline int
kapa_arg_u32(const char *s, uint32_t min, uint32_t max, uint32_t *v)
{
	uint64_t x;

	if (kapa_arg_u64(s, min, max, &x) != 0)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

/**
 * "A<sep>B" into two different numbers below @p limit (a pair of DPDK port
 * ids: `--bridge 0:1`). @return 0, or -EINVAL.
 */
static inline int
kapa_arg_pair(const char *s, char sep, uint32_t limit, uint16_t *a, uint16_t *b)
{
	unsigned long x, y;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	x = strtoul(s, &end, 10);
	if (errno != 0 || *end != sep || x >= limit || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	y = strtoul(end + 1, &end, 10);
	if (errno != 0 || *end != '\0' || y >= limit || x == y)
		return -EINVAL;
	*a = (uint16_t)x;
	*b = (uint16_t)y;
	return 0;
}

#endif /* KAPA_ARGS_H */
