/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * What kapactl knows about kapad's `stats` result beyond the counter table
 * (names, help and kinds: kapa_counter_name() and the others of
 * ctl/common/kapa_prom.h): the groups the counters are printed in, and the
 * three histograms.
 */
#ifndef CTL_STATS_H
#define CTL_STATS_H

#include <stdint.h>

/**
 * The group counter @p i (of KAPA_COUNTER_COUNT) opens in the table (the
 * table's comments: ports, parser, connections, HTTP/1.x, anomalies, actions).
 * @return the group's title, or NULL when @p i continues the group before.
 */
const char *ctl_counter_group(unsigned i);

/**
 * Check that every group starts at a counter the table has (the groups name
 * their first counter; a renamed counter would lose its group's title).
 * @return NULL, or the first counter name not found.
 */
const char *ctl_counter_groups_check(void);

/** One of the log2 histograms of a `stats` result. */
struct ctl_hist {
	const char *key;	/**< under `histograms` (and `histogram_sums`) */
	const char *title;	/**< its heading in the human listing */
	const char *prom;	/**< its Prometheus name */
	const char *help;	/**< its Prometheus help text */
	int ms;			/**< 1: values in milliseconds, exposed in seconds */
};

/** The histograms, in the order they are shown. */
extern const struct ctl_hist ctl_hists[];
/** How many there are. */
extern const unsigned ctl_hist_count;

/**
 * The largest value bucket @p b of a histogram holds: bucket 0 holds 0,
 * bucket b >= 1 holds [2^(b-1), 2^b - 1] (values are whole numbers).
 * The last bucket of a histogram is open-ended; this is its low end's
 * bound only for the buckets before it.
 */
static inline uint64_t
ctl_hist_bucket_max(unsigned b)
{
	return b >= 64 ? UINT64_MAX : (UINT64_C(1) << b) - 1;
}

#endif /* CTL_STATS_H */
