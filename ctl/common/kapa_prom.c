/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A `stats` result (docs/control-protocol.md) in the Prometheus text format
 * (0.0.4), for kapad's /metrics and `kapactl stats --prometheus`, written so that
 * `promtool check metrics` (which lints as well as parses) accepts it:
 *
 * - Counters are `kapa_<name>_total`, gauges `kapa_<name>`: promtool wants
 *   the `_total` suffix on counters, as Prometheus' own client libraries
 *   add it. `# HELP` is the counter table's help, `# TYPE` its kind.
 * - With per-worker counters, each sample has a `worker` label and there is
 *   no unlabelled total beside them (sum() gives it; a family that mixes
 *   the two double-counts in every aggregation).
 * - Histograms: kapa's are log2 buckets of whole numbers (requests, and
 *   milliseconds truncated from nanoseconds): bucket 0 holds 0, bucket b
 *   holds [2^(b-1), 2^b - 1], the last one everything above. Cumulated,
 *   bucket b is exactly `le = 2^b - 1`, and the last is `+Inf`. The
 *   millisecond histograms are exposed in seconds (`le` = (2^b - 1) / 1000,
 *   an exact decimal), since promtool refuses `_ms` in a name: hence
 *   `kapa_idle_gap_seconds` and `kapa_conn_lifetime_seconds`. A recorded
 *   1.9 ms gap was counted as 1 ms, so its bucket is `le="0.001"`: the
 *   bounds hold for the values as recorded, up to 1 ms below the real ones.
 * - `_sum`: the data plane keeps the exact sum of each histogram
 *   (kapa_hist_rec) and kapad's `stats` result carries it as
 *   `histogram_sums` ({"requests": S, "idle_ms": S, "lifetime_ms": S}).
 *   From a result without them (an older kapad) `_sum` is left out rather
 *   than made up from bucket midpoints (off by up to a factor of two per
 *   sample): histogram_quantile() and the bucket rates need only `_bucket`.
 *   `_count` is the `+Inf` bucket, as always.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "kapa_prom.h"

static const struct {
	const char *name, *help;
	int kind;
} counter_table[] = {
#define PROM_COUNTER(field, kind, name, help, src) { name, help, kind },
	KAPA_COUNTERS(PROM_COUNTER)
#undef PROM_COUNTER
};

int
kapa_counter_index(const char *name)
{
	unsigned i;

	for (i = 0; i < KAPA_COUNTER_COUNT; i++)
		if (strcmp(counter_table[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *
kapa_counter_name(unsigned i)
{
	return i < KAPA_COUNTER_COUNT ? counter_table[i].name : NULL;
}

const char *
kapa_counter_help(unsigned i)
{
	return i < KAPA_COUNTER_COUNT ? counter_table[i].help : NULL;
}

int
kapa_counter_kind(unsigned i)
{
	return i < KAPA_COUNTER_COUNT ? counter_table[i].kind : -1;
}

/* Prometheus wants base units, so the millisecond histograms are exposed
 * in seconds (promtool refuses "_ms" as an abbreviated unit). */
const struct kapa_hist_desc kapa_hists[] = {
	{ "requests", "requests per connection", "kapa_conn_requests",
	  "requests a connection carried, counted when it ended", 0 },
	{ "idle_ms", "idle gap before a reuse (ms)", "kapa_idle_gap_seconds",
	  "how long a kept-alive connection was idle before its next request", 1 },
	{ "lifetime_ms", "connection lifetime (ms)", "kapa_conn_lifetime_seconds",
	  "how long connections lived, counted when they ended", 1 },
};
const unsigned kapa_hist_count = sizeof(kapa_hists) / sizeof(kapa_hists[0]);

int
kapa_json_u64(const json_t *obj, const char *key, uint64_t *v)
{
	const json_t *j = json_object_get(obj, key);

	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return 0;
	*v = (uint64_t)json_integer_value(j);
	return 1;
}

#define PROM_PREFIX "kapa_"
/* Room for a family's name: the prefix, a counter's name and a suffix. */
#define PROM_NAME_MAX 128

/* `# HELP` and `# TYPE` of a family; HELP escapes backslash and newline. */
static void
prom_family(FILE *out, const char *family, const char *type, const char *help)
{
	const char *p;

	fprintf(out, "# HELP %s ", family);
	for (p = help; *p != '\0'; p++) {
		if (*p == '\\')
			fputs("\\\\", out);
		else if (*p == '\n')
			fputs("\\n", out);
		else
			fputc(*p, out);
	}
	fprintf(out, "\n# TYPE %s %s\n", family, type);
}

/* A metric name holds [a-zA-Z0-9_:] only; a counter name kapad sends that
 * is not in the table is written only when it is one. */
static int
prom_name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == ':'))
			return 0;
	return 1;
}

/* Whether the result has counter @p name: in the sums, or for a worker. */
static int
prom_has(const json_t *result, const char *name)
{
	const json_t *per_worker = json_object_get(result, "per_worker"), *w;
	uint64_t v;
	size_t i;

	if (!json_is_array(per_worker))
		return kapa_json_u64(json_object_get(result, "counters"), name, &v);
	json_array_foreach(per_worker, i, w)
		if (kapa_json_u64(json_object_get(w, "counters"), name, &v))
			return 1;
	return 0;
}

/* One counter's family: HELP, TYPE, and its samples per worker or summed. */
static void
prom_counter(FILE *out, const json_t *result, const char *name, const char *type,
	     const char *help)
{
	const json_t *per_worker = json_object_get(result, "per_worker"), *w;
	char family[PROM_NAME_MAX];
	uint64_t v, id;
	size_t i;

	if (!prom_has(result, name))
		return;
	snprintf(family, sizeof(family), PROM_PREFIX "%s%s", name,
		 strcmp(type, "counter") == 0 ? "_total" : "");
	prom_family(out, family, type, help);
	if (!json_is_array(per_worker)) {
		kapa_json_u64(json_object_get(result, "counters"), name, &v);
		fprintf(out, "%s %" PRIu64 "\n", family, v);
		return;
	}
	json_array_foreach(per_worker, i, w) {
		if (!kapa_json_u64(json_object_get(w, "counters"), name, &v))
			continue;
		if (!kapa_json_u64(w, "worker", &id))
			id = i;
		fprintf(out, "%s{worker=\"%" PRIu64 "\"} %" PRIu64 "\n", family, id, v);
	}
}

/* A whole number of the histogram's unit as Prometheus reads it: as is,
 * or milliseconds as seconds, exactly ("0", "0.001", "1.023"). */
static const char *
prom_value(char *buf, size_t len, uint64_t v, int ms)
{
	size_t n;

	if (!ms || v % 1000 == 0) {
		snprintf(buf, len, "%" PRIu64, ms ? v / 1000 : v);
		return buf;
	}
	snprintf(buf, len, "%" PRIu64 ".%03" PRIu64, v / 1000, v % 1000);
	n = strlen(buf);
	while (buf[n - 1] == '0')
		buf[--n] = '\0';
	return buf;
}

static void
prom_histogram(FILE *out, const struct kapa_hist_desc *h, const json_t *buckets, const json_t *sums)
{
	size_t b, n = json_array_size(buckets);
	uint64_t cum = 0, c, sum;
	char le[32];

	prom_family(out, h->prom, "histogram", h->help);
	for (b = 0; b < n; b++) {
		c = json_integer_value(json_array_get(buckets, b)) > 0 ?
			(uint64_t)json_integer_value(json_array_get(buckets, b)) : 0;
		cum += c;
		/* The last bucket is open-ended: it is +Inf's alone. */
		if (b + 1 < n)
			fprintf(out, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", h->prom,
				prom_value(le, sizeof(le), kapa_hist_bucket_max((unsigned)b), h->ms),
				cum);
	}
	fprintf(out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", h->prom, cum);
	if (kapa_json_u64(sums, h->key, &sum))
		fprintf(out, "%s_sum %s\n", h->prom, prom_value(le, sizeof(le), sum, h->ms));
	fprintf(out, "%s_count %" PRIu64 "\n", h->prom, cum);
}

int
kapa_prom_write(FILE *out, const json_t *result)
{
	const json_t *counters = json_object_get(result, "counters");
	const json_t *hists = json_object_get(result, "histograms"), *buckets, *v;
	const char *key;
	unsigned i;

	if (!json_is_object(counters))
		return -EINVAL;
	for (i = 0; i < KAPA_COUNTER_COUNT; i++)
		prom_counter(out, result, kapa_counter_name(i),
			     kapa_counter_kind(i) == KAPA_CTR_GAUGE ? "gauge" : "counter",
			     kapa_counter_help(i));
	/* Counters of a newer kapad: no kind known, so untyped. */
	json_object_foreach((json_t *)counters, key, v) {
		if (kapa_counter_index(key) < 0 && prom_name_ok(key) && strlen(key) < 64)
			prom_counter(out, result, key, "untyped",
				     "a counter of kapad that this kapactl's table does not have");
	}
	for (i = 0; i < kapa_hist_count; i++) {
		buckets = json_object_get(hists, kapa_hists[i].key);
		if (json_array_size(buckets) > 0)
			prom_histogram(out, &kapa_hists[i], buckets,
				       json_object_get(result, "histogram_sums"));
	}
	return 0;
}
