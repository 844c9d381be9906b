/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * For tests/ctl/xdp_bridge.sh, on the namespace ends of its veth pairs:
 * a frame another interface redirects into a veth (kapa's XDP program
 * sending to the peer) is delivered through the far end's NAPI, which a
 * veth runs only with an XDP program attached or GRO on (docs/xdp.md).
 * This program is that NAPI switch and nothing more, so that the test's
 * veths keep every offload, GRO included, off.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int
kapa_xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
