/* SPDX-License-Identifier: BSD-3-Clause */
/* kapactl's writer: tables and key/value lines for people, JSON for -j. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_output.h"

/* Columns are this many spaces apart (as in `ip -br` and bpftool). */
#define CTL_COL_GAP 2

struct ctl_row {
	char **cells;	/* ncols strings; a heading has cells[0] only */
	int heading;
};

struct ctl_table {
	struct ctl_col *cols;
	unsigned ncols;
	struct ctl_row *rows;
	size_t nrows, cap;
};

struct ctl_table *
ctl_table_create(const struct ctl_col *cols, unsigned ncols)
{
	struct ctl_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->cols = calloc(ncols, sizeof(*cols));
	if (t->cols == NULL) {
		free(t);
		return NULL;
	}
	memcpy(t->cols, cols, ncols * sizeof(*cols));
	t->ncols = ncols;
	return t;
}

static struct ctl_row *
table_new_row(struct ctl_table *t)
{
	struct ctl_row *r;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct ctl_row *rows = realloc(t->rows, cap * sizeof(*rows));

		if (rows == NULL)
			return NULL;
		t->rows = rows;
		t->cap = cap;
	}
	r = &t->rows[t->nrows];
	r->cells = calloc(t->ncols, sizeof(*r->cells));
	if (r->cells == NULL)
		return NULL;
	r->heading = 0;
	t->nrows++;
	return r;
}

/* Undo table_new_row() (a copy failed): no row has a NULL cell. */
static void
table_drop_last(struct ctl_table *t)
{
	struct ctl_row *r = &t->rows[--t->nrows];
	unsigned c;

	for (c = 0; c < t->ncols; c++)
		free(r->cells[c]);
	free(r->cells);
}

int
ctl_table_row(struct ctl_table *t, const char *const *cells)
{
	struct ctl_row *r = table_new_row(t);
	unsigned c;

	if (r == NULL)
		return -ENOMEM;
	for (c = 0; c < t->ncols; c++) {
		r->cells[c] = strdup(cells[c] != NULL ? cells[c] : "");
		if (r->cells[c] == NULL) {
			table_drop_last(t);
			return -ENOMEM;
		}
	}
	return 0;
}

int
ctl_table_heading(struct ctl_table *t, const char *text)
{
	struct ctl_row *r = table_new_row(t);

	if (r == NULL)
		return -ENOMEM;
	r->heading = 1;
	r->cells[0] = strdup(text);
	if (r->cells[0] == NULL) {
		table_drop_last(t);
		return -ENOMEM;
	}
	return 0;
}

static void
table_print_cells(const struct ctl_table *t, const size_t *width, const char *const *cells,
		  FILE *out)
{
	unsigned c, last = t->ncols - 1;

	/* The last non-empty cell ends the line: no trailing blanks. */
	while (last > 0 && cells[last][0] == '\0')
		last--;
	for (c = 0; c <= last; c++) {
		int w = (int)width[c];

		if (c > 0)
			fprintf(out, "%*s", CTL_COL_GAP, "");
		if (t->cols[c].right)
			fprintf(out, "%*s", w, cells[c]);
		else if (c == last)
			fputs(cells[c], out);
		else
			fprintf(out, "%-*s", w, cells[c]);
	}
	fputc('\n', out);
}

void
ctl_table_print(const struct ctl_table *t, FILE *out)
{
	const char **titles;
	size_t *width;
	int has_titles = 0;
	unsigned c;
	size_t r;

	width = calloc(t->ncols, sizeof(*width));
	titles = calloc(t->ncols, sizeof(*titles));
	if (width == NULL || titles == NULL)
		goto out;
	for (c = 0; c < t->ncols; c++) {
		titles[c] = t->cols[c].title != NULL ? t->cols[c].title : "";
		width[c] = strlen(titles[c]);
		has_titles |= t->cols[c].title != NULL;
	}
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols && !t->rows[r].heading; c++)
			if (strlen(t->rows[r].cells[c]) > width[c])
				width[c] = strlen(t->rows[r].cells[c]);
	if (has_titles)
		table_print_cells(t, width, titles, out);
	for (r = 0; r < t->nrows; r++) {
		if (t->rows[r].heading)
			fprintf(out, "%s\n", t->rows[r].cells[0]);
		else
			table_print_cells(t, width, (const char *const *)t->rows[r].cells, out);
	}
out:
	free(width);
	free(titles);
}

void
ctl_table_destroy(struct ctl_table *t)
{
	size_t r;
	unsigned c;

	if (t == NULL)
		return;
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++)
			free(t->rows[r].cells[c]);
		free(t->rows[r].cells);
	}
	free(t->rows);
	free(t->cols);
	free(t);
}

/* A scalar as people read it. */
static void
out_scalar(FILE *out, const json_t *v)
{
	char *s;

	switch (json_typeof(v)) {
	case JSON_STRING:
		fputs(json_string_value(v), out);
		break;
	case JSON_INTEGER:
		fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		fprintf(out, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("yes", out);
		break;
	case JSON_FALSE:
		fputs("no", out);
		break;
	case JSON_NULL:
		fputs("-", out);
		break;
	default:
		s = json_dumps(v, JSON_COMPACT);
		fputs(s != NULL ? s : "?", out);
		free(s);
		break;
	}
}

static int
json_is_scalar(const json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

static void
out_array(FILE *out, const json_t *a)
{
	const json_t *v;
	size_t i;

	if (json_array_size(a) == 0) {
		fputs("-", out);
		return;
	}
	json_array_foreach(a, i, v) {
		if (!json_is_scalar(v)) {	/* objects in an array: as JSON, on one line */
			out_scalar(out, a);
			return;
		}
	}
	json_array_foreach(a, i, v) {
		if (i > 0)
			fputs(", ", out);
		out_scalar(out, v);
	}
}

static void
out_keyvals(FILE *out, const json_t *obj, int indent)
{
	const char *key;
	const json_t *v;
	int width = 0;

	json_object_foreach((json_t *)obj, key, v)
		if ((int)strlen(key) > width)
			width = (int)strlen(key);
	json_object_foreach((json_t *)obj, key, v) {
		if (json_is_object(v)) {
			fprintf(out, "%*s%s:\n", indent, "", key);
			out_keyvals(out, v, indent + 2);
			continue;
		}
		fprintf(out, "%*s%s:%*s ", indent, "", key, width - (int)strlen(key), "");
		if (json_is_array(v))
			out_array(out, v);
		else
			out_scalar(out, v);
		fputc('\n', out);
	}
}

void
ctl_out_keyvals(FILE *out, const json_t *obj)
{
	out_keyvals(out, obj, 0);
}

void
ctl_out_json(FILE *out, const json_t *j)
{
	json_dumpf(j, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
}

void
ctl_out_error(FILE *out, int json, const char *msg, const char *code)
{
	json_t *e;

	if (!json) {
		fprintf(out, "kapactl: %s\n", msg);
		return;
	}
	e = json_pack("{s:s, s:s}", "error", msg, "code", code != NULL ? code : "EIO");
	if (e == NULL) {	/* msg not UTF-8: still an error, still JSON */
		fprintf(out, "{\"error\": \"(unprintable)\", \"code\": \"%s\"}\n",
			code != NULL ? code : "EIO");
		return;
	}
	json_dumpf(e, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(e);
}

char *
ctl_fmt_ms(char *buf, size_t len, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (ms < 1000)
		snprintf(buf, len, "%" PRIu64 "ms", ms);
	else if (ms < 60000)
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "s", s, ms % 1000 / 100);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s % 86400 / 3600);
	return buf;
}
