/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * kapa's counters and histograms as kapad's `stats` result carries them
 * (docs/control-protocol.md), written in the Prometheus text format once,
 * for kapad's /metrics and `kapactl stats --prometheus`. Names, help texts
 * and kinds come from the counter table (ebpf/kapa_counters.h); kapa_prom.c
 * says how each is named and why.
 */
#ifndef KAPA_PROM_H
#define KAPA_PROM_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "kapa_maps.h"

/** @return the index of counter @p name in the table, or -1. */
int kapa_counter_index(const char *name);

/** @return counter @p i's name, help text and kind (KAPA_CTR_*). */
const char *kapa_counter_name(unsigned i);
const char *kapa_counter_help(unsigned i);
int kapa_counter_kind(unsigned i);

/** One of the log2 histograms of a `stats` result (kapa_hist_rec). */
struct kapa_hist_desc {
	const char *key;	/**< under `histograms` (and `histogram_sums`) */
	const char *title;	/**< its heading in kapactl's listing */
	const char *prom;	/**< its Prometheus name */
	const char *help;	/**< its Prometheus help text */
	int ms;			/**< 1: values in milliseconds, exposed in seconds */
};

/** The histograms, in the order they are shown. */
extern const struct kapa_hist_desc kapa_hists[];
extern const unsigned kapa_hist_count;

/**
 * The largest value bucket @p b of a histogram holds: bucket 0 holds 0,
 * bucket b >= 1 holds [2^(b-1), 2^b - 1] (values are whole numbers). The
 * last bucket of a histogram is open-ended.
 */
static inline uint64_t
kapa_hist_bucket_max(unsigned b)
{
	return b >= 64 ? UINT64_MAX : (UINT64_C(1) << b) - 1;
}

/** @return 1 and *v when @p obj has a non-negative integer @p key, else 0. */
int kapa_json_u64(const json_t *obj, const char *key, uint64_t *v);

/**
 * Write a `stats` result: every counter of the table as `kapa_<name>`
 * (`_total` added to counters), per worker with a `worker` label when the
 * result has `per_worker`, else the sum without labels; then the three
 * histograms, unlabelled.
 * @return 0, or -EINVAL when @p result has no `counters` object.
 */
int kapa_prom_write(FILE *out, const json_t *result);

#endif /* KAPA_PROM_H */
