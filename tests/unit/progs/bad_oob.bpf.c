/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Refused by rte_bpf's verifier: a write past the context. */
#include <linux/types.h>

#include "kapa_policy_ctx.h"

KAPA_POLICY_PROG(bad_oob)
{
	((__u32 *)ctx)[40] = 1;
	return 0;
}
