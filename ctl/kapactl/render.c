/* SPDX-License-Identifier: BSD-3-Clause */
/* kapad's results as tables and lines for people (kapactl without -j). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kapa_prom.h"
#include "ctl_output.h"
#include "ctl_render.h"
#include "ctl_stats.h"

/* Numbers as cells: a table copies its cells, so one buffer per call site
 * is enough. */
#define CTL_CELL 64

static const char *
cell_u64(char *buf, uint64_t v)
{
	snprintf(buf, CTL_CELL, "%" PRIu64, v);
	return buf;
}

/* A limit of @p obj: "-" when 0 (no limit) or absent, else the number with
 * @p unit ("s" for seconds, "" for requests). */
static const char *
cell_limit(char *buf, const json_t *obj, const char *key, const char *unit)
{
	uint64_t v;

	if (!kapa_json_u64(obj, key, &v) || v == 0)
		return "-";
	snprintf(buf, CTL_CELL, "%" PRIu64 "%s", v, unit);
	return buf;
}

static const char *
cell_str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "-";
}

void
ctl_render_keyvals(FILE *out, const json_t *result)
{
	ctl_out_keyvals(out, result);
}

void
ctl_render_message(FILE *out, const json_t *result)
{
	const char *msg = json_string_value(json_object_get(result, "message"));

	fprintf(out, "%s\n", msg != NULL ? msg : "done");
}

/* One spec as a row: NAME MATCH MODE TIMEOUT MAX STALL OPAQUE_IDLE. */
static void
policy_row(struct ctl_table *t, const char *name, const char *match, const json_t *spec)
{
	char timeout[CTL_CELL], max[CTL_CELL], stall[CTL_CELL], opaque[CTL_CELL];
	const char *mode = json_string_value(json_object_get(spec, "mode"));
	const char *cells[] = {
		name, match, mode != NULL ? mode : "observe",
		cell_limit(timeout, spec, "timeout", "s"), cell_limit(max, spec, "max", ""),
		cell_limit(stall, spec, "stall", "s"), cell_limit(opaque, spec, "opaque_idle", "s"),
	};

	ctl_table_row(t, cells);
}

void
ctl_render_policy_list(FILE *out, const json_t *result)
{
	static const struct ctl_col cols[] = {
		{ "NAME", 0 }, { "MATCH", 0 }, { "MODE", 0 }, { "TIMEOUT", 1 }, { "MAX", 1 },
		{ "STALL", 1 }, { "OPAQUE_IDLE", 1 },
	};
	struct ctl_table *t = ctl_table_create(cols, sizeof(cols) / sizeof(cols[0]));
	const json_t *rule, *def = json_object_get(result, "default");
	uint64_t gen;
	size_t i;

	if (t == NULL)
		return;
	json_array_foreach(json_object_get(result, "rules"), i, rule)
		policy_row(t, cell_str(rule, "name"), cell_str(rule, "match"), rule);
	/* Last, as in a routing table: it applies where no rule matches. */
	if (json_is_object(def))
		policy_row(t, "(default)", "*", def);
	ctl_table_print(t, out);
	ctl_table_destroy(t);
	if (kapa_json_u64(result, "generation", &gen))
		fprintf(out, "generation %" PRIu64 "\n", gen);
}

void
ctl_render_published(FILE *out, const json_t *result)
{
	uint64_t gen = 0, ins, delay;
	char when[CTL_CELL];

	kapa_json_u64(result, "generation", &gen);
	if (kapa_json_u64(result, "instructions", &ins)) {	/* program load|unload */
		if (ins == 0)
			fprintf(out, "built-in decision, ");
		else
			fprintf(out, "%" PRIu64 " instructions, ", ins);
	}
	if (json_is_true(json_object_get(result, "applied"))) {
		if (kapa_json_u64(result, "delay_ms", &delay))
			snprintf(when, sizeof(when), " after %" PRIu64 " ms", delay);
		else
			when[0] = '\0';
		fprintf(out, "generation %" PRIu64 " in force%s\n", gen, when);
	} else {
		const char *note = json_string_value(json_object_get(result, "note"));

		fprintf(out, "generation %" PRIu64 " published, not in force yet (%s)\n", gen,
			note != NULL ? note : "is a data plane attached? see kapactl status");
	}
}

void
ctl_render_policy_default(FILE *out, const json_t *result)
{
	const json_t *def = json_object_get(result, "default");
	uint64_t gen;

	/* Set: a publication like any other. */
	if (json_object_get(result, "applied") != NULL) {
		ctl_render_published(out, result);
		return;
	}
	/* Shown: the spec, then the generation of the rule set it is part of. */
	if (json_is_object(def))
		ctl_out_keyvals(out, def);
	if (kapa_json_u64(result, "generation", &gen))
		fprintf(out, "generation %" PRIu64 "\n", gen);
}

/* LIMITS of a connection: "TIMEOUT/MAX", "-" for either that is 0. */
static const char *
conn_limits(char *buf, size_t len, const json_t *conn)
{
	char t[CTL_CELL], m[CTL_CELL];
	uint64_t timeout = 0, max = 0;

	kapa_json_u64(conn, "timeout", &timeout);
	kapa_json_u64(conn, "max", &max);
	if (timeout == 0 && max == 0)
		return "-";
	snprintf(buf, len, "%s/%s", cell_limit(t, conn, "timeout", "s"),
		 cell_limit(m, conn, "max", ""));
	return buf;
}

void
ctl_render_conns(FILE *out, const json_t *result)
{
	static const struct ctl_col cols[] = {
		{ "ID", 0 }, { "CLIENT", 0 }, { "SERVER", 0 }, { "STATE", 0 }, { "MODE", 0 },
		{ "REQS", 1 }, { "IDLE", 1 }, { "LIMITS", 0 },
	};
	struct ctl_table *t = ctl_table_create(cols, sizeof(cols) / sizeof(cols[0]));
	const json_t *conns = json_object_get(result, "conns"), *c;
	char reqs[CTL_CELL], idle[CTL_CELL], limits[2 * CTL_CELL + 1];
	uint64_t v, total;
	size_t i;

	if (t == NULL)
		return;
	json_array_foreach(conns, i, c) {
		const char *cells[] = {
			cell_str(c, "id"), cell_str(c, "client"), cell_str(c, "server"),
			cell_str(c, "state"), cell_str(c, "mode"),
			kapa_json_u64(c, "requests", &v) ? cell_u64(reqs, v) : "-",
			kapa_json_u64(c, "idle_ms", &v) ? ctl_fmt_ms(idle, sizeof(idle), v) : "-",
			conn_limits(limits, sizeof(limits), c),
		};
		ctl_table_row(t, cells);
	}
	if (json_array_size(conns) > 0)
		ctl_table_print(t, out);
	ctl_table_destroy(t);
	if (!kapa_json_u64(result, "total", &total))
		total = json_array_size(conns);
	if (total == 0)
		fprintf(out, "no connections\n");
	else if (json_array_size(conns) < total)
		fprintf(out, "%zu of %" PRIu64 " connections (longest idle first)\n",
			json_array_size(conns), total);
	else
		fprintf(out, "%" PRIu64 " connections\n", total);
}

/*
 * stats: one table, so that every value lines up. Without per-worker
 * counters: NAME VALUE rows under group headings. With them: COUNTER,
 * TOTAL and one column per worker (histograms have totals only: kapad
 * sends no per-worker histograms).
 */
struct stats_view {
	struct ctl_table *t;
	const json_t *counters;		/* result.counters */
	const json_t *per_worker;	/* result.per_worker, or NULL */
	unsigned ncols;			/* 2 + workers */
	const char **cells;		/* ncols cells of the row being built */
	char (*bufs)[CTL_CELL];		/* their number buffers */
};

/* Add the row NAME (indented under its heading), TOTAL, and per worker the
 * member @p key of its counters (none when @p key is NULL). */
static void
stats_row(struct stats_view *v, const char *name, const char *total, const char *key)
{
	char label[CTL_CELL + 2];
	const json_t *w;
	uint64_t n;
	size_t i;

	snprintf(label, sizeof(label), "  %s", name);
	v->cells[0] = label;
	v->cells[1] = total;
	json_array_foreach(v->per_worker, i, w) {
		/* The heartbeat is a member of the worker, the counters are under it. */
		const json_t *src = key != NULL && strcmp(key, "heartbeat_age_ms") == 0 ? w :
			json_object_get(w, "counters");

		v->cells[2 + i] = key != NULL && kapa_json_u64(src, key, &n) ?
			cell_u64(v->bufs[2 + i], n) : "";
	}
	ctl_table_row(v->t, v->cells);
}

static void
stats_counters(struct stats_view *v)
{
	const char *group, *key;
	const json_t *val;
	int other = 0;
	unsigned i;
	uint64_t n;

	if (v->per_worker != NULL) {
		ctl_table_heading(v->t, "workers");
		stats_row(v, "heartbeat_age_ms", "", "heartbeat_age_ms");
	}
	/* A group's heading comes with its first counter the result has. */
	for (i = 0, group = NULL; i < KAPA_COUNTER_COUNT; i++) {
		if (ctl_counter_group(i) != NULL)
			group = ctl_counter_group(i);
		if (!kapa_json_u64(v->counters, kapa_counter_name(i), &n))
			continue;
		if (group != NULL)
			ctl_table_heading(v->t, group);
		group = NULL;
		stats_row(v, kapa_counter_name(i), cell_u64(v->bufs[1], n), kapa_counter_name(i));
	}
	/* Counters of a newer kapad that this kapactl's table lacks. */
	json_object_foreach((json_t *)v->counters, key, val) {
		if (kapa_counter_index(key) >= 0 || !kapa_json_u64(v->counters, key, &n))
			continue;
		if (!other++)
			ctl_table_heading(v->t, "other");
		stats_row(v, key, cell_u64(v->bufs[1], n), key);
	}
}

/* A bucket's range: "0", "1", "2-3", ..., and the last one open: "2^30+". */
static const char *
bucket_label(char *buf, unsigned b, size_t nbuckets)
{
	uint64_t lo = b == 0 ? 0 : kapa_hist_bucket_max(b - 1) + 1, hi = kapa_hist_bucket_max(b);

	if (b + 1 == nbuckets && b > 0)
		snprintf(buf, CTL_CELL, "%" PRIu64 "+", lo);
	else if (lo == hi)
		snprintf(buf, CTL_CELL, "%" PRIu64, lo);
	else
		snprintf(buf, CTL_CELL, "%" PRIu64 "-%" PRIu64, lo, hi);
	return buf;
}

static void
stats_histograms(struct stats_view *v, const json_t *hists)
{
	char label[CTL_CELL];
	const json_t *buckets, *c;
	unsigned h, shown;
	size_t b;

	for (h = 0; h < kapa_hist_count; h++) {
		buckets = json_object_get(hists, kapa_hists[h].key);
		if (!json_is_array(buckets))
			continue;
		ctl_table_heading(v->t, kapa_hists[h].title);
		shown = 0;
		json_array_foreach(buckets, b, c) {
			if (json_integer_value(c) <= 0)
				continue;	/* only buckets that counted something */
			stats_row(v, bucket_label(label, (unsigned)b, json_array_size(buckets)),
				  cell_u64(v->bufs[1], (uint64_t)json_integer_value(c)), NULL);
			shown++;
		}
		if (shown == 0)
			stats_row(v, "(none)", "", NULL);
	}
}

void
ctl_render_stats(FILE *out, const json_t *result)
{
	struct stats_view v = {
		.counters = json_object_get(result, "counters"),
		.per_worker = json_object_get(result, "per_worker"),
	};
	struct ctl_col *cols = NULL;
	char (*titles)[CTL_CELL] = NULL;
	size_t i, workers;

	if (!json_is_array(v.per_worker))
		v.per_worker = NULL;
	workers = json_array_size(v.per_worker);
	v.ncols = 2 + (unsigned)workers;
	cols = calloc(v.ncols, sizeof(*cols));
	titles = calloc(v.ncols, sizeof(*titles));
	v.cells = calloc(v.ncols, sizeof(*v.cells));
	v.bufs = calloc(v.ncols, sizeof(*v.bufs));
	if (cols == NULL || titles == NULL || v.cells == NULL || v.bufs == NULL)
		goto out;
	cols[1].right = 1;
	if (v.per_worker != NULL) {
		cols[0].title = "COUNTER";
		cols[1].title = "TOTAL";
		for (i = 0; i < workers; i++) {
			uint64_t w = i;

			kapa_json_u64(json_array_get(v.per_worker, i), "worker", &w);
			snprintf(titles[2 + i], CTL_CELL, "W%" PRIu64, w);
			cols[2 + i].title = titles[2 + i];
			cols[2 + i].right = 1;
		}
	}
	v.t = ctl_table_create(cols, v.ncols);
	if (v.t == NULL)
		goto out;
	stats_counters(&v);
	stats_histograms(&v, json_object_get(result, "histograms"));
	ctl_table_print(v.t, out);
	ctl_table_destroy(v.t);
out:
	free(cols);
	free(titles);
	free(v.cells);
	free(v.bufs);
}
