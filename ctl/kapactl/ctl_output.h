/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * kapactl's one writer: aligned tables and `key: value` lines for people,
 * JSON for -j, and errors in either form. Everything writes to a FILE, so
 * that the tests render into memory (open_memstream) what kapactl prints.
 */
#ifndef CTL_OUTPUT_H
#define CTL_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "kapa_prom.h"

/** A column of a table. */
struct ctl_col {
	const char *title;	/**< NULL in every column: the table has no title row */
	int right;		/**< 1: right-aligned (numbers) */
};

struct ctl_table;

/**
 * A table of @p ncols columns (the descriptions are copied).
 * @return the table, or NULL (out of memory).
 */
struct ctl_table *ctl_table_create(const struct ctl_col *cols, unsigned ncols);

/**
 * Add a row; @p cells holds one string per column (copied; NULL prints as
 * empty).
 * @return 0, or -ENOMEM.
 */
int ctl_table_row(struct ctl_table *t, const char *const *cells);

/**
 * Add a heading: a line of its own (a group's title) that takes no part
 * in the columns' widths.
 * @return 0, or -ENOMEM.
 */
int ctl_table_heading(struct ctl_table *t, const char *text);

/** Print the table: columns two spaces apart, no trailing blanks. */
void ctl_table_print(const struct ctl_table *t, FILE *out);

/** Free the table. NULL is a no-op. */
void ctl_table_destroy(struct ctl_table *t);

/**
 * Print the members of @p obj as `key: value` lines, values aligned; an
 * object member opens an indented block; arrays of scalars are joined with
 * ", "; booleans read yes/no, null reads "-".
 */
void ctl_out_keyvals(FILE *out, const json_t *obj);

/** Print @p j as JSON, indented two spaces, keys in kapad's order. */
void ctl_out_json(FILE *out, const json_t *j);

/**
 * Print an error: `kapactl: MSG` or, with @p json,
 * `{"error": MSG, "code": CODE}`, each on one line.
 */
void ctl_out_error(FILE *out, int json, const char *msg, const char *code);

/**
 * A duration for people: "850ms", "12.3s", "5m03s", "2h05m", "3d04h".
 * @return @p buf.
 */
char *ctl_fmt_ms(char *buf, size_t len, uint64_t ms);


#endif /* CTL_OUTPUT_H */
