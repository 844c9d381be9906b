/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * `kapactl stats --prometheus`: a `stats` result in the Prometheus text
 * exposition format (version 0.0.4), for node_exporter's textfile
 * collector or any scraper that runs a command. prometheus.c says how each
 * counter and histogram is named and why.
 */
#ifndef CTL_PROMETHEUS_H
#define CTL_PROMETHEUS_H

#include <stdio.h>

#include <jansson.h>

/**
 * Write @p result (kapad's `stats` result): every counter of the table as
 * `kapa_<name>` (`_total` added to counters), per worker with a `worker`
 * label when the result has `per_worker` (`stats --workers`), else the sum
 * without labels; then the three histograms, unlabelled.
 * @return 0, or -EINVAL when @p result has no `counters` object.
 */
int ctl_prom_write(FILE *out, const json_t *result);

#endif /* CTL_PROMETHEUS_H */
