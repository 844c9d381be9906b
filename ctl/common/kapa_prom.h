/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * kapa's counters and histograms in the Prometheus text exposition format,
 * written once for kapad's /metrics and `kapactl stats --prometheus`. Names
 * and help texts come from the counter table (ebpf/kapa_counters.h):
 * `kapa_<name>`, TYPE counter or gauge by its kind. The histograms of
 * kapa_hist are Prometheus histograms: bucket b of the map counts integers
 * in [2^(b-1), 2^b), so the cumulative bucket `le="2^b - 1"` holds buckets
 * 0..b; the map's last bucket only fits under `+Inf`; `_sum` and `_count`
 * are the map's own.
 */
#ifndef KAPA_PROM_H
#define KAPA_PROM_H

#include <stdint.h>
#include <stdio.h>

#include "kapa_maps.h"

/** What to render: per worker, its counters and histograms. */
struct kapa_prom_src {
	uint16_t workers;
	/** Worker w's counters, KAPA_COUNTER_COUNT words in the table's order. */
	const __u64 *counters[KAPA_MAX_WORKERS];
	/** Worker w's histograms, or NULL (then no histogram is written). */
	const struct kapa_hist_rec *hist[KAPA_MAX_WORKERS];
	/** 1: one sample per worker, labelled worker="w"; 0: added up. */
	int per_worker;
};

/** Write @p src to @p out. @return 0, or -EIO when writing failed. */
int kapa_prom_render(FILE *out, const struct kapa_prom_src *src);

/** @return the index of counter @p name in the table, or -1. */
int kapa_counter_index(const char *name);

/** @return counter @p i's name, help text and kind (KAPA_CTR_*). */
const char *kapa_counter_name(unsigned i);
const char *kapa_counter_help(unsigned i);
int kapa_counter_kind(unsigned i);

#endif /* KAPA_PROM_H */
