/* SPDX-License-Identifier: BSD-3-Clause */
/* Prometheus text format of kapa's counters and histograms. See kapa_prom.h. */
#include <errno.h>
#include <string.h>

#include "kapa_prom.h"

static const struct {
	const char *name, *help;
	int kind;
} counters[] = {
#define PROM_COUNTER(field, kind, name, help, src) { name, help, kind },
	KAPA_COUNTERS(PROM_COUNTER)
#undef PROM_COUNTER
};

int
kapa_counter_index(const char *name)
{
	unsigned i;

	for (i = 0; i < KAPA_COUNTER_COUNT; i++)
		if (strcmp(counters[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *
kapa_counter_name(unsigned i)
{
	return i < KAPA_COUNTER_COUNT ? counters[i].name : NULL;
}

const char *
kapa_counter_help(unsigned i)
{
	return i < KAPA_COUNTER_COUNT ? counters[i].help : NULL;
}

int
kapa_counter_kind(unsigned i)
{
	return i < KAPA_COUNTER_COUNT ? counters[i].kind : -1;
}

/* The three histograms of kapa_hist_rec. */
static const struct {
	const char *name, *help;
	size_t buckets, sum;	/* offsets in struct kapa_hist_rec */
} hists[] = {
	{ "kapa_conn_requests", "requests a connection carried, counted when it ended",
	  offsetof(struct kapa_hist_rec, requests), offsetof(struct kapa_hist_rec, requests_sum) },
	{ "kapa_idle_gap_ms", "idle time (ms) of a kept-alive connection before its next request",
	  offsetof(struct kapa_hist_rec, idle_ms), offsetof(struct kapa_hist_rec, idle_ms_sum) },
	{ "kapa_conn_lifetime_ms", "connection lifetimes (ms), counted when they ended",
	  offsetof(struct kapa_hist_rec, lifetime_ms),
	  offsetof(struct kapa_hist_rec, lifetime_ms_sum) },
};

static const __u64 *
hist_field(const struct kapa_hist_rec *h, size_t off)
{
	return (const __u64 *)((const char *)h + off);
}

/* The label set of worker @p w, or none when added up. */
static void
label(char *buf, size_t len, const struct kapa_prom_src *s, uint16_t w, const char *more)
{
	if (s->per_worker)
		snprintf(buf, len, "{worker=\"%u\"%s%s}", w, more[0] ? "," : "", more);
	else if (more[0])
		snprintf(buf, len, "{%s}", more);
	else
		buf[0] = '\0';
}

static void
render_hist(FILE *out, const struct kapa_prom_src *s, unsigned k)
{
	uint16_t w, from, to;
	char lbl[64], le[32];
	unsigned b;

	fprintf(out, "# HELP %s %s\n# TYPE %s histogram\n", hists[k].name, hists[k].help,
		hists[k].name);
	for (from = 0; from < s->workers; from = to) {
		uint64_t cum = 0, sum = 0, count = 0;

		/* One worker at a time, or all of them at once. */
		to = s->per_worker ? (uint16_t)(from + 1) : s->workers;
		for (b = 0; b < KAPA_HIST_BUCKETS; b++) {
			for (w = from; w < to; w++)
				cum += hist_field(s->hist[w], hists[k].buckets)[b];
			if (b == KAPA_HIST_BUCKETS - 1)
				break;	/* above every boundary: +Inf only */
			snprintf(le, sizeof(le), "le=\"%llu\"",
				 b == 0 ? 0ull : (1ull << b) - 1);
			label(lbl, sizeof(lbl), s, from, le);
			fprintf(out, "%s_bucket%s %llu\n", hists[k].name, lbl, (unsigned long long)cum);
		}
		count = cum;
		for (w = from; w < to; w++)
			sum += *hist_field(s->hist[w], hists[k].sum);
		label(lbl, sizeof(lbl), s, from, "le=\"+Inf\"");
		fprintf(out, "%s_bucket%s %llu\n", hists[k].name, lbl, (unsigned long long)count);
		label(lbl, sizeof(lbl), s, from, "");
		fprintf(out, "%s_sum%s %llu\n%s_count%s %llu\n", hists[k].name, lbl,
			(unsigned long long)sum, hists[k].name, lbl, (unsigned long long)count);
	}
}

int
kapa_prom_render(FILE *out, const struct kapa_prom_src *s)
{
	char lbl[64];
	unsigned i, k;
	uint16_t w;

	for (i = 0; i < KAPA_COUNTER_COUNT; i++) {
		fprintf(out, "# HELP kapa_%s %s\n# TYPE kapa_%s %s\n", counters[i].name,
			counters[i].help, counters[i].name,
			counters[i].kind == KAPA_CTR_GAUGE ? "gauge" : "counter");
		if (s->per_worker) {
			for (w = 0; w < s->workers; w++) {
				label(lbl, sizeof(lbl), s, w, "");
				fprintf(out, "kapa_%s%s %llu\n", counters[i].name, lbl,
					(unsigned long long)s->counters[w][i]);
			}
		} else {
			uint64_t v = 0;

			for (w = 0; w < s->workers; w++)
				v += s->counters[w][i];
			fprintf(out, "kapa_%s %llu\n", counters[i].name, (unsigned long long)v);
		}
	}
	for (k = 0; s->workers != 0 && s->hist[0] != NULL && k < 3; k++)
		render_hist(out, s, k);
	return ferror(out) ? -EIO : 0;
}
