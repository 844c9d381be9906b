/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Refused: a table in a data section (a relocation in the program). */
#include <linux/types.h>

#include "kapa_policy_ctx.h"

static volatile __u32 limits[4] = { 5, 10, 30, 60 };

KAPA_POLICY_PROG(bad_global)
{
	ctx->timeout_s = limits[ctx->event & 3];
	return 0;
}
