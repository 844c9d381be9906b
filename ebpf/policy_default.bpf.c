/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The default policy program: the rule as the operator wrote it. The data
 * plane fills the results with the matched rule's values before the call,
 * so leaving them is the decision; it is kapa_policy_default_prog() (the
 * built-in C decision) as eBPF, and the unit tests check that the two agree
 * on a table of contexts. What the policy semantics add on top (advertising
 * T-1 and never more than the server announced, the opaque idle limit being
 * the only one of an opaque connection, max counted from a pickup) is the
 * actions' (dataplane/core/kapa_act.c), whatever a program decides.
 */
#include <linux/types.h>

#include "kapa_policy_ctx.h"

KAPA_POLICY_PROG(kapa_policy_default)
{
	(void)ctx;
	return 0;
}
