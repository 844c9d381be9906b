/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Loads, but kapa_prog_check() refuses it: a mode that does not exist. */
#include <linux/types.h>

#include "kapa_policy_ctx.h"

KAPA_POLICY_PROG(bad_mode)
{
	if (ctx->table_conns > 10)
		ctx->mode = 7;
	return 0;
}
