/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kapa's XDP program for AF_XDP deployments (docs/xdp.md). DPDK's
 * net_af_xdp PMD loads it with xdp_prog=PATH, attaches it to the port's
 * interface and puts its AF_XDP sockets into xsks_map, one per RX queue.
 *
 * Per frame: TCP segments whose source or destination port kapa inspects
 * (or every TCP segment, KAPA_XDP_F_ALL_TCP), and every fragment of a TCP
 * datagram, go to the socket of their RX queue; everything else (ARP, UDP,
 * ICMP, other ports) is redirected to the peer interface of the bridge,
 * never passed to this host's stack, where a bridged frame would vanish.
 * When no socket is bound on the queue (kapa-dp not running, or killed),
 * the frames meant for it go to the peer too: the bridge fails open.
 *
 * Bounds: every read is behind a check against data_end, and every offset
 * added to a packet pointer has a constant upper bound the verifier can
 * see (the VLAN walk is two steps, the IPv6 extension walk at most
 * XDP_IP6_MAX_EXT steps of at most 2 KiB each, then a cap).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "kapa_xdp.h"

#define XDP_ETH_P_8021AD_OLD 0x9100	/* pre-standard S-tag, still on the wire */
#define XDP_MAX_VLAN 2
#define XDP_IP4_FRAG_MASK 0x3fff	/* MF + fragment offset */
#define XDP_IP6_FRAG_MASK 0xfff9	/* offset (13 bits) + M */
#define XDP_IP6_MAX_EXT 8		/* as the core's walk (kapa_pkt.c) */
/* Past this offset a header is not looked for: no real chain gets there,
 * and the cap keeps the walk's offsets in a range the verifier accepts. */
#define XDP_MAX_L4_OFF 4096

/*
 * What the parse found. XDP_C_INSPECT and XDP_C_FRAG go to the socket,
 * the others to the peer.
 */
enum xdp_class {
	XDP_C_INSPECT,		/* TCP of an inspected port */
	XDP_C_FRAG,		/* a fragment of a TCP datagram */
	XDP_C_PASS_ON,		/* not inspected: the peer */
	XDP_C_MALFORMED,	/* headers end early: the peer */
	XDP_C_UNPARSED,		/* headers not walked: the peer */
};

/* The socket of each RX queue, filled by DPDK's net_af_xdp PMD. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, KAPA_XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

/* The peer interface (key 0), filled by the setup (dataplane/dp/xdp.c). */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} kapa_xdp_peer SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kapa_xdp_ports);
} kapa_xdp_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kapa_xdp_cfg);
} kapa_xdp_cfg SEC(".maps");

/* Per CPU: an XDP program runs to completion on one CPU, so the counters
 * need no atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kapa_xdp_stats_rec);
} kapa_xdp_stats SEC(".maps");

struct xdp_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* The two bytes IPv6 extension headers share: next header, length. */
struct xdp_ip6_ext {
	__u8 nexthdr;
	__u8 len;
};

struct xdp_ip6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 id;
};

struct xdp_ports {
	__be16 source;
	__be16 dest;
};

static __always_inline int
xdp_is_vlan(__u16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD) ||
	       proto == bpf_htons(XDP_ETH_P_8021AD_OLD);
}

static __always_inline int
xdp_port_set(const struct kapa_xdp_ports *ports, __u16 port)
{
	return (ports->bits[(port >> 6) & (KAPA_XDP_PORT_WORDS - 1)] >> (port & 63)) & 1;
}

/* The TCP ports at @p off: inspected or not. */
static __always_inline enum xdp_class
xdp_tcp(void *data, void *end, __u64 off, const struct kapa_xdp_cfg *cfg)
{
	const struct kapa_xdp_ports *ports;
	struct xdp_ports *p;
	__u32 zero = 0;

	if (off > XDP_MAX_L4_OFF)
		return XDP_C_UNPARSED;
	p = data + off;
	if ((void *)(p + 1) > end)
		return XDP_C_MALFORMED;
	if (cfg->flags & KAPA_XDP_F_ALL_TCP)
		return XDP_C_INSPECT;
	ports = bpf_map_lookup_elem(&kapa_xdp_ports, &zero);
	if (ports == NULL)
		return XDP_C_PASS_ON;
	if (xdp_port_set(ports, bpf_ntohs(p->source)) || xdp_port_set(ports, bpf_ntohs(p->dest)))
		return XDP_C_INSPECT;
	return XDP_C_PASS_ON;
}

/* IPv4 at @p off (options included): a fragment carries no ports after the
 * first, and all of a datagram's fragments must take one path, so every
 * fragment of a TCP datagram is kapa's (it forwards fragments itself). */
static __always_inline enum xdp_class
xdp_ip4(void *data, void *end, __u64 off, const struct kapa_xdp_cfg *cfg)
{
	struct iphdr *ip = data + off;
	__u64 ihl;

	if ((void *)(ip + 1) > end)
		return XDP_C_MALFORMED;
	ihl = (__u64)ip->ihl * 4;
	if (ip->version != 4 || ihl < sizeof(*ip))
		return XDP_C_MALFORMED;
	if (ip->protocol != IPPROTO_TCP)
		return XDP_C_PASS_ON;
	if (ip->frag_off & bpf_htons(XDP_IP4_FRAG_MASK))
		return XDP_C_FRAG;
	return xdp_tcp(data, end, off + ihl, cfg);
}

static __always_inline int
xdp_ip6_is_ext(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	       nh == IPPROTO_AH || nh == IPPROTO_FRAGMENT;
}

/*
 * IPv6 at @p off: the extension headers are walked (hop-by-hop, routing,
 * destination options, AH, fragment; at most XDP_IP6_MAX_EXT, as the
 * core's parser does) to find TCP. A fragment whose next header is TCP or
 * another extension header is kapa's, as for IPv4; ESP and no-next-header
 * are not TCP that kapa could read.
 */
static __always_inline enum xdp_class
xdp_ip6(void *data, void *end, __u64 off, const struct kapa_xdp_cfg *cfg)
{
	struct ipv6hdr *ip6 = data + off;
	struct xdp_ip6_frag *fh;
	struct xdp_ip6_ext *eh;
	__u64 hlen;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > end)
		return XDP_C_MALFORMED;
	if (ip6->version != 6)
		return XDP_C_MALFORMED;
	nh = ip6->nexthdr;
	off += sizeof(*ip6);
	for (i = 0; i < XDP_IP6_MAX_EXT; i++) {
		if (nh == IPPROTO_TCP)
			return xdp_tcp(data, end, off, cfg);
		if (!xdp_ip6_is_ext(nh))
			return XDP_C_PASS_ON;
		/* Without this cap the verifier sees off grow by up to 2 KiB a
		 * step and refuses the pointer ("math between pkt pointer and
		 * register with unbounded min value"). */
		if (off > XDP_MAX_L4_OFF)
			return XDP_C_UNPARSED;
		if (nh == IPPROTO_FRAGMENT) {
			fh = data + off;
			if ((void *)(fh + 1) > end)
				return XDP_C_MALFORMED;
			if (fh->frag_off & bpf_htons(XDP_IP6_FRAG_MASK))
				return fh->nexthdr == IPPROTO_TCP || xdp_ip6_is_ext(fh->nexthdr) ?
					XDP_C_FRAG : XDP_C_PASS_ON;
			/* An atomic fragment (RFC 8021): offset 0, no more. */
			nh = fh->nexthdr;
			off += sizeof(*fh);
			continue;
		}
		eh = data + off;
		if ((void *)(eh + 1) > end)
			return XDP_C_MALFORMED;
		/* AH counts 4-byte units minus 2, the others 8-byte units
		 * minus 1 (RFC 4302 §2.2, RFC 8200 §4.3). */
		hlen = nh == IPPROTO_AH ? ((__u64)eh->len + 2) * 4 : ((__u64)eh->len + 1) * 8;
		nh = eh->nexthdr;
		off += hlen;
	}
	if (nh == IPPROTO_TCP)
		return xdp_tcp(data, end, off, cfg);
	return XDP_C_UNPARSED;
}

/* Ethernet, then up to XDP_MAX_VLAN tags (802.1Q, 802.1ad, 0x9100). */
static __always_inline enum xdp_class
xdp_classify(struct xdp_md *ctx, const struct kapa_xdp_cfg *cfg)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct xdp_vlan_hdr *vh;
	__u64 off = sizeof(*eth);
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > end)
		return XDP_C_MALFORMED;
	proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < XDP_MAX_VLAN; i++) {
		if (!xdp_is_vlan(proto))
			break;
		vh = data + off;
		if ((void *)(vh + 1) > end)
			return XDP_C_MALFORMED;
		proto = vh->proto;
		off += sizeof(*vh);
	}
	if (proto == bpf_htons(ETH_P_IP))
		return xdp_ip4(data, end, off, cfg);
	if (proto == bpf_htons(ETH_P_IPV6))
		return xdp_ip6(data, end, off, cfg);
	if (xdp_is_vlan(proto) || proto == bpf_htons(ETH_P_MPLS_UC) ||
	    proto == bpf_htons(ETH_P_MPLS_MC) || proto == bpf_htons(ETH_P_PPP_SES))
		return XDP_C_UNPARSED;
	return XDP_C_PASS_ON;
}

/* To the peer, or dropped when no peer is set: passing the frame to this
 * host's stack would lose it as surely, and at a cost. */
static __always_inline int
xdp_to_peer(struct kapa_xdp_stats_rec *st)
{
	/* The low bits of the flags are the verdict when key 0 is empty. */
	if (bpf_redirect_map(&kapa_xdp_peer, 0, XDP_DROP) == XDP_REDIRECT) {
		st->to_peer++;
		return XDP_REDIRECT;
	}
	st->no_peer++;
	return XDP_DROP;
}

/* To the socket of the frame's RX queue, or, when none is bound there,
 * to the peer (fail open). */
static __always_inline int
xdp_to_socket(struct xdp_md *ctx, struct kapa_xdp_stats_rec *st)
{
	/* XDP_PASS is only the "no socket" sentinel: it is never returned. */
	if (bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS) == XDP_REDIRECT) {
		st->to_socket++;
		return XDP_REDIRECT;
	}
	st->failopen++;
	return xdp_to_peer(st);
}

SEC("xdp")
int
kapa_xdp(struct xdp_md *ctx)
{
	const struct kapa_xdp_cfg *cfg;
	struct kapa_xdp_stats_rec *st;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&kapa_xdp_stats, &zero);
	cfg = bpf_map_lookup_elem(&kapa_xdp_cfg, &zero);
	/* Arrays of one entry: key 0 always exists. The check is for the
	 * verifier ("map_value_or_null"). */
	if (st == NULL || cfg == NULL)
		return XDP_DROP;
	if (!(cfg->flags & KAPA_XDP_F_CONFIGURED))
		return xdp_to_socket(ctx, st);
	switch (xdp_classify(ctx, cfg)) {
	case XDP_C_INSPECT:
		return xdp_to_socket(ctx, st);
	case XDP_C_FRAG:
		st->tcp_frags++;
		return xdp_to_socket(ctx, st);
	case XDP_C_MALFORMED:
		st->malformed++;
		break;
	case XDP_C_UNPARSED:
		st->unparsed++;
		break;
	case XDP_C_PASS_ON:
		break;
	}
	return xdp_to_peer(st);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
