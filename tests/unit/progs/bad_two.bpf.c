/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Refused: two functions in the policy section (a call between them). */
#include <linux/types.h>

#include "kapa_policy_ctx.h"

__attribute__((section(KAPA_POLICY_SECTION), used, noinline)) __u32
helper(struct kapa_policy_ctx *ctx)
{
	return ctx->rule_timeout_s / 2;
}

KAPA_POLICY_PROG(bad_two)
{
	ctx->timeout_s = helper(ctx);
	return 0;
}
