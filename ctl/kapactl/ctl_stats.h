/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * What kapactl knows about kapad's `stats` result beyond the counter table
 * and the histograms (names, help and kinds: ctl/common/kapa_prom.h): the
 * groups the counters are printed in.
 */
#ifndef CTL_STATS_H
#define CTL_STATS_H

#include <stdint.h>

/**
 * The group counter @p i (of KAPA_COUNTER_COUNT) opens in the table (the
 * table's comments: ports, parser, checksums,
 * connections, HTTP/1.x, anomalies, actions).
 * @return the group's title, or NULL when @p i continues the group before.
 */
const char *ctl_counter_group(unsigned i);

/**
 * Check that every group starts at a counter the table has (the groups name
 * their first counter; a renamed counter would lose its group's title).
 * @return NULL, or the first counter name not found.
 */
const char *ctl_counter_groups_check(void);

#endif /* CTL_STATS_H */
