/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * An adaptive policy program: idle connections give way as the table
 * fills. Below half full the rule applies as written. From half full on,
 * the keep-alive idle limit (and the opaque idle limit) shrink in
 * proportion to the room left,
 *
 *     limit = base * (100 - fill%) / 50,   at least 1 s,
 *
 * where base is the rule's limit, or ADAPT_BASE_S for a rule without one:
 * at 75 % full a 60 s rule closes idle connections after 30 s, at 95 %
 * after 6 s, so that a full table evicts fewer live connections (eviction
 * takes the longest idle, which may still be wanted). A rule's own shorter
 * limit is never lengthened; observe mode is left alone (it never closes).
 *
 * Constants are macros: a policy program may hold no data section.
 */
#include <linux/types.h>

#include "kapa_policy_ctx.h"

/** Fill (percent of the table's capacity) from which limits shrink. */
#define ADAPT_FROM_PCT 50
/** The limit shrunk when the rule has none (seconds). */
#define ADAPT_BASE_S 120

/* A limit of @p base seconds (never 0) shrunk for @p fill percent. */
static inline __attribute__((always_inline)) __u32
shrink(__u32 base, __u32 fill)
{
	__u32 t = base * (100 - fill) / (100 - ADAPT_FROM_PCT);

	return t < 1 ? 1 : t;
}

KAPA_POLICY_PROG(kapa_policy_adaptive)
{
	__u32 cap = ctx->table_capacity, fill, t;

	if (cap == 0 || ctx->mode == KAPA_MODE_OBSERVE)
		return 0;
	fill = (__u32)((__u64)ctx->table_conns * 100 / cap);
	if (fill < ADAPT_FROM_PCT)
		return 0;
	if (fill > 100)
		fill = 100;
	t = shrink(ctx->rule_timeout_s ? ctx->rule_timeout_s : ADAPT_BASE_S, fill);
	if (ctx->timeout_s == 0 || t < ctx->timeout_s)
		ctx->timeout_s = t;
	t = shrink(ctx->rule_opaque_idle_s ? ctx->rule_opaque_idle_s : ADAPT_BASE_S, fill);
	if (ctx->opaque_idle_s == 0 || t < ctx->opaque_idle_s)
		ctx->opaque_idle_s = t;
	return 0;
}
