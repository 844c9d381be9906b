/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * kapad's results as people read them, one renderer per kind of result
 * (docs/control-protocol.md names the members each reads). A renderer
 * prints what the result has and skips what it lacks, so that a kapad of
 * another version still gets a readable listing; -j shows everything.
 */
#ifndef CTL_RENDER_H
#define CTL_RENDER_H

#include <stdio.h>

#include <jansson.h>

/** Renders one command's result (an object, empty when kapad sent none). */
typedef void ctl_render_fn(FILE *out, const json_t *result);

/** `key: value` lines, nested objects indented (status, policy show, program show). */
ctl_render_fn ctl_render_keyvals;
/** `policy list`: one row per rule, then the default. */
ctl_render_fn ctl_render_policy_list;
/** `policy add|del`, `program load|unload`: the generation and whether it is in force. */
ctl_render_fn ctl_render_published;
/** `policy default`: the default spec and its generation; once set, as ctl_render_published. */
ctl_render_fn ctl_render_policy_default;
/** `conns`: one row per connection, then how many of how many. */
ctl_render_fn ctl_render_conns;
/** `conn close`: the data plane's answer. */
ctl_render_fn ctl_render_message;
/** `stats`: counters by group (per worker with --workers), histograms as bucket rows. */
ctl_render_fn ctl_render_stats;

#endif /* CTL_RENDER_H */
