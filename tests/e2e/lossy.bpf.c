// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * lossy.bpf.c — a tc classifier for the e2e suite that drops TCP segments
 * carrying data, about one in LOSSY_ONE_IN, at random (this kernel has no
 * netem, and neither nft nor iptables is installed). Attached by lib.sh's
 * e2e_lossy to a namespace's eth0, egress or ingress, it makes TCP
 * retransmit, reorder what arrives and send SACK blocks: what kapa-dp must
 * translate after an insertion. Segments without data (handshakes, pure
 * ACKs, FIN, RST) always pass, so connections open and close normally.
 *
 * Built by e2e_lossy with clang -O2 -target bpf -DLOSSY_ONE_IN=N.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#ifndef LOSSY_ONE_IN
#define LOSSY_ONE_IN 50
#endif

/* Headers are read with bpf_skb_load_bytes(), not through skb->data: a frame
 * that net_af_packet sent from its TX ring, or one TCP built around page
 * fragments, has little more than the Ethernet header in its linear part. */
SEC("tc")
int
lossy(struct __sk_buff *skb)
{
	struct tcphdr tcp;
	__u32 l3_len, l4_off;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) != 0 ||
		    ip.protocol != IPPROTO_TCP)
			return TC_ACT_OK;
		l4_off = ip.ihl * 4;
		l3_len = bpf_ntohs(ip.tot_len);
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6)) != 0 ||
		    ip6.nexthdr != IPPROTO_TCP)
			return TC_ACT_OK;
		l4_off = sizeof(ip6);
		l3_len = sizeof(ip6) + bpf_ntohs(ip6.payload_len);
	} else {
		return TC_ACT_OK;
	}
	if (l4_off < 20 || l4_off > 60 ||
	    bpf_skb_load_bytes(skb, ETH_HLEN + l4_off, &tcp, sizeof(tcp)) != 0)
		return TC_ACT_OK;
	if (l3_len <= l4_off + tcp.doff * 4)
		return TC_ACT_OK; /* no data */
	/* STOLEN, not SHOT: at egress a SHOT frame is reported to TCP as a
	 * local drop, which it sends again at once as if nothing was lost. */
	if (bpf_get_prandom_u32() % LOSSY_ONE_IN == 0)
		return TC_ACT_STOLEN;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
