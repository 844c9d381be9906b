/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parsing. One pass, outer layer to inner, each layer a fixed-offset
 * read behind one bounds check. The bound is tightened as we go: first the
 * captured length, then a PPPoE session's length, then the IP datagram's
 * own length (so Ethernet padding is never taken for TCP bytes), then the TCP
 * header length for options. Every exit either hands back a class or a
 * malformation reason; nothing is logged.
 *
 * Tunnels are rare on the wire but common in the captures kapa is checked
 * on: everything about them lives out of line, behind the branches a plain
 * packet already takes to its non-TCP exits, so that Ethernet/IPv4/TCP pays
 * only for the fields the struct gained. Inside a tunnel, pkt->len is
 * narrowed to the end of the outer datagram for the time of the inner walk,
 * so every inner layer's existing bounds check keeps it inside.
 */
#include <stdint.h>
#include <string.h>

#include "kapa_pkt.h"

#define ETHER_HDR_LEN	14
#define VLAN_TAG_LEN	4
#define ETHER_TYPE_IPV4	0x0800
#define ETHER_TYPE_IPV6	0x86dd
#define ETHER_TYPE_VLAN	0x8100	/* 802.1Q C-tag */
#define ETHER_TYPE_QINQ	0x88a8	/* 802.1ad S-tag */
#define ETHER_TYPE_QINQ_OLD 0x9100	/* pre-standard S-tag, still on the wire */
#define ETHER_TYPE_PPPOE_SES 0x8864	/* PPPoE session stage (RFC 2516) */
#define ETHER_TYPE_MPLS_UC 0x8847
#define ETHER_TYPE_MPLS_MC 0x8848

/* PPPoE session header: ver/type, code, session id, length; then the PPP
 * protocol (RFC 2516 §4, RFC 1661 §2). */
#define PPPOE_HDR_LEN	6
#define PPPOE_VER_TYPE	0x11	/* version 1, type 1 */
#define PPPOE_CODE_SES	0x00	/* session data */
#define PPPOE_LEN_AT	4	/* length field within the header */
#define PPP_PROTO_LEN	2
#define PPP_PROTO_IPV4	0x0021
#define PPP_PROTO_IPV6	0x0057

#define MPLS_LABEL_LEN	4
#define MPLS_BOS	0x00000100U	/* bottom-of-stack bit of a label entry */
#define PW_CW_LEN	4	/* pseudowire control word (RFC 4385) */

#define IPPROTO_IPIP_	4
#define IPPROTO_UDP_	17
#define IPPROTO_IPV6_	41
#define IPPROTO_GRE_	47
#define UDP_HDR_LEN	8

/* GRE (RFC 2784, 2890; version 1 is PPTP's, RFC 2637 §4.1). */
#define GRE_HDR_LEN	4
#define GRE_C		0x8000	/* checksum + reserved1 present */
#define GRE_R		0x4000	/* routing present (RFC 1701): not followed */
#define GRE_K		0x2000	/* key present */
#define GRE_S		0x1000	/* sequence number present */
#define GRE_A		0x0080	/* acknowledgement present (version 1) */
#define GRE_VER		0x0007
#define GRE_OPT_LEN	4
#define GRE_PROTO_TEB	0x6558	/* transparent Ethernet bridging */
#define GRE_PROTO_ERSPAN2 0x88be	/* ERSPAN type II (type I without S) */
#define GRE_PROTO_ERSPAN3 0x22eb
#define GRE_PROTO_PPP	0x880b
#define ERSPAN2_HDR_LEN	8
#define ERSPAN3_HDR_LEN	12
#define ERSPAN3_O	0x01	/* platform-specific subheader follows */
#define ERSPAN3_SUB_LEN	8
#define PPP_ADDR_CTRL	0xff03

#define VXLAN_PORT	4789
#define VXLAN_HDR_LEN	8
#define VXLAN_I		0x08	/* the VNI is valid */
#define GENEVE_PORT	6081
#define GENEVE_HDR_LEN	8
#define GTPU_PORT	2152
#define GTPU_HDR_LEN	8
#define GTPU_OPT_LEN	4	/* sequence, N-PDU number, next extension */
#define GTPU_E_S_PN	0x07
#define GTPU_G_PDU	0xff
#define GTPU_MAX_EXT	8	/* extension headers walked; more: not followed */
#define TEREDO_PORT	3544
#define TEREDO_AUTH	0x0001
#define TEREDO_AUTH_FIXED 13	/* type, id-len, au-len, nonce, confirmation */
#define TEREDO_ORIGIN	0x0000
#define TEREDO_ORIGIN_LEN 8

#define IP4_HDR_MIN	20
#define IP4_MF		0x2000
#define IP4_OFF_MASK	0x1fff
#define IP6_HDR_LEN	40

#define IPPROTO_HOPOPTS_	0
#define IPPROTO_TCP_		6
#define IPPROTO_ROUTING_	43
#define IPPROTO_FRAGMENT_	44
#define IPPROTO_ESP_		50
#define IPPROTO_AH_		51
#define IPPROTO_NONE_		59
#define IPPROTO_DSTOPTS_	60

/*
 * Longest IPv6 extension chain walked. RFC 8200 allows each kind once (the
 * destination options twice); 8 covers every legal chain and keeps the worst
 * case (8 x 2 KiB) so that offsets still fit the struct's uint16_t fields.
 */
#define IP6_MAX_EXT	8

#define TCP_HDR_MIN	20
#define TCPOPT_EOL	0
#define TCPOPT_NOP	1
#define TCPOPT_MSS	2
#define TCPOPT_WSCALE	3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_SACK	5
#define TCPOPT_TS	8
#define TCPOLEN_MSS	4
#define TCPOLEN_WSCALE	3
#define TCPOLEN_SACK_PERM 2
#define TCPOLEN_TS	10
#define TCPOLEN_SACK_BLOCK 8

/*
 * NOP, NOP, TS header: what Linux and the BSDs put on every data segment
 * once timestamps are negotiated, so it gets a fast path.
 */
#define TCPOPT_TS_ALIGNED 0x0101080aU

static inline uint16_t
rd16(const uint8_t *p)
{
	/* gcc and clang turn this into one load and a byte swap. */
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

static inline int
pkt_bad(struct kapa_pkt *pkt, enum kapa_pkt_bad why)
{
	pkt->cls = KAPA_PKT_MALFORMED;
	pkt->bad = why;
	return KAPA_PKT_MALFORMED;
}

static inline int
pkt_class(struct kapa_pkt *pkt, enum kapa_pkt_class cls)
{
	pkt->cls = cls;
	return cls;
}

/*
 * An IP header or length that is wrong or does not fit @p lim, the end of
 * the bytes the link layer gave IP (the captured length, or below a PPPoE
 * session the PPPoE payload's end). When the bytes needed (up to @p need)
 * lie past lim but inside the capture, it is the PPPoE length that is short,
 * not the capture, and the reason says so. Decided here, off the path of
 * good packets, so that those pay one compare per length as before.
 */
static int
pkt_bad_ip_len(struct kapa_pkt *pkt, enum kapa_pkt_bad why, uint32_t lim,
	       uint64_t need)
{
	if (need > lim && need <= pkt->len)
		why = KAPA_BAD_PPPOE_LEN;
	return pkt_bad(pkt, why);
}

/*
 * Options live in [p, p + n), n <= 40. A malformed option makes the whole
 * packet MALFORMED: its length fields disagree with each other, so we cannot
 * be sure what the sender's stack will make of it.
 * Known kinds with a wrong length are skipped, as Linux's parser does.
 */
static inline int
pkt_tcp_opts(struct kapa_tcp_opts *o, const uint8_t *p, uint32_t n)
{
	uint32_t i = 0, olen, k;
	uint8_t kind;

	if (n == 12 && rd32(p) == TCPOPT_TS_ALIGNED) {
		o->present = KAPA_OPT_TS;
		o->ts_val = rd32(p + 4);
		o->ts_ecr = rd32(p + 8);
		return 0;
	}
	while (i < n) {
		kind = p[i];
		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (n - i < 2)
			return -1;
		olen = p[i + 1];
		if (olen < 2 || olen > n - i)
			return -1;
		switch (kind) {
		case TCPOPT_MSS:
			if (olen == TCPOLEN_MSS) {
				o->present |= KAPA_OPT_MSS;
				o->mss = rd16(p + i + 2);
			}
			break;
		case TCPOPT_WSCALE:
			if (olen == TCPOLEN_WSCALE) {
				o->present |= KAPA_OPT_WSCALE;
				o->wscale = p[i + 2];
			}
			break;
		case TCPOPT_SACK_PERM:
			if (olen == TCPOLEN_SACK_PERM)
				o->present |= KAPA_OPT_SACK_PERM;
			break;
		case TCPOPT_SACK:
			/* 40 option bytes hold at most 4 blocks, so the cap never bites. */
			if (olen >= 2 + TCPOLEN_SACK_BLOCK &&
			    (olen - 2) % TCPOLEN_SACK_BLOCK == 0) {
				o->present |= KAPA_OPT_SACK;
				o->nsack = (uint8_t)((olen - 2) / TCPOLEN_SACK_BLOCK);
				if (o->nsack > KAPA_MAX_SACK)
					o->nsack = KAPA_MAX_SACK;
				for (k = 0; k < o->nsack; k++) {
					o->sack[k][0] = rd32(p + i + 2 + k * 8);
					o->sack[k][1] = rd32(p + i + 6 + k * 8);
				}
			}
			break;
		case TCPOPT_TS:
			if (olen == TCPOLEN_TS) {
				o->present |= KAPA_OPT_TS;
				o->ts_val = rd32(p + i + 2);
				o->ts_ecr = rd32(p + i + 6);
			}
			break;
		default:
			break;
		}
		i += olen;
	}
	return 0;
}

/* TCP header at @p off; @p end is the end of the IP datagram (<= pkt->len). */
static inline int
pkt_tcp(struct kapa_pkt *pkt, uint32_t off, uint32_t end)
{
	const uint8_t *t = pkt->data + off;
	uint32_t seglen = end - off, doff;

	pkt->l4_off = (uint16_t)off;
	if (seglen < TCP_HDR_MIN)
		return pkt_bad(pkt, KAPA_BAD_TCP_TRUNC);
	pkt->sport = rd16(t);
	pkt->dport = rd16(t + 2);
	pkt->seq = rd32(t + 4);
	pkt->ack = rd32(t + 8);
	pkt->tcp_flags = t[13];
	pkt->win = rd16(t + 14);
	pkt->urg = rd16(t + 18);
	/* opt.wscale was cleared by pkt_init(), with its neighbours. */
	pkt->opt.mss = 0;
	pkt->opt.ts_val = 0;
	pkt->opt.ts_ecr = 0;
	doff = (uint32_t)(t[12] >> 4) * 4;
	if (doff < TCP_HDR_MIN || doff > seglen)
		return pkt_bad(pkt, KAPA_BAD_TCP_DOFF);
	pkt->payload_off = (uint16_t)(off + doff);
	pkt->payload_len = seglen - doff;
	if (doff > TCP_HDR_MIN &&
	    pkt_tcp_opts(&pkt->opt, t + TCP_HDR_MIN, doff - TCP_HDR_MIN) != 0)
		return pkt_bad(pkt, KAPA_BAD_TCP_OPT);
	if (pkt->sport == 0 || pkt->dport == 0)
		return pkt_bad(pkt, KAPA_BAD_TCP_PORT);
	return pkt_class(pkt, KAPA_PKT_TCP);
}

/* Tunnels, out of line (below): what follows an IP header that is not TCP,
 * and the inner packet of a tunnel. */
static __attribute__((noinline)) int pkt_ip_next(struct kapa_pkt *pkt,
						 uint32_t off, uint32_t end);
static __attribute__((noinline)) int pkt_inner(struct kapa_pkt *pkt, uint8_t kind,
					       uint32_t off, uint32_t lim,
					       uint16_t type);

/* IPv4 header at @p off; the datagram must end by @p lim (<= pkt->len). */
static inline int
pkt_ip4(struct kapa_pkt *pkt, uint32_t off, uint32_t lim)
{
	const uint8_t *ip = pkt->data + off;
	uint32_t ihl, tot;
	uint16_t frag;

	pkt->l3_off = (uint16_t)off;
	/* A tunnel puts its own outermost header back when the inner walk
	 * returns (pkt_inner()). */
	pkt->outer_l3_off = (uint16_t)off;
	if (lim - off < IP4_HDR_MIN)
		return pkt_bad_ip_len(pkt, KAPA_BAD_IP4_TRUNC, lim,
				      (uint64_t)off + IP4_HDR_MIN);
	if ((ip[0] >> 4) != 4)
		return pkt_bad(pkt, KAPA_BAD_IP_VERSION);
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	if (ihl < IP4_HDR_MIN || ihl > lim - off)
		return pkt_bad_ip_len(pkt, KAPA_BAD_IP4_IHL, lim, (uint64_t)off + ihl);
	tot = rd16(ip + 2);
	if (tot < ihl || tot > lim - off)
		return pkt_bad_ip_len(pkt, KAPA_BAD_IP4_LEN, lim, (uint64_t)off + tot);
	pkt->family = 4;
	pkt->ip_proto = ip[9];
	memcpy(pkt->src, ip + 12, 4);
	memset(pkt->src + 4, 0, sizeof(pkt->src) - 4);
	memcpy(pkt->dst, ip + 16, 4);
	memset(pkt->dst + 4, 0, sizeof(pkt->dst) - 4);
	/* The header checksum is not checked: kapa forwards what it gets. */
	frag = rd16(ip + 6);
	if ((frag & (IP4_MF | IP4_OFF_MASK)) != 0)
		return pkt_class(pkt, KAPA_PKT_FRAGMENT);
	if (pkt->ip_proto != IPPROTO_TCP_)
		return pkt_ip_next(pkt, off + ihl, off + tot);
	return pkt_tcp(pkt, off + ihl, off + tot);
}

/* IPv6 header at @p off; the datagram must end by @p lim (<= pkt->len). */
static inline int
pkt_ip6(struct kapa_pkt *pkt, uint32_t off, uint32_t lim)
{
	const uint8_t *ip = pkt->data + off;
	uint32_t plen, end, cur, hlen;
	unsigned int n;
	uint8_t nh;

	pkt->l3_off = (uint16_t)off;
	pkt->outer_l3_off = (uint16_t)off;
	if (lim - off < IP6_HDR_LEN)
		return pkt_bad_ip_len(pkt, KAPA_BAD_IP6_TRUNC, lim,
				      (uint64_t)off + IP6_HDR_LEN);
	if ((ip[0] >> 4) != 6)
		return pkt_bad(pkt, KAPA_BAD_IP_VERSION);
	plen = rd16(ip + 4);
	/* 0 is a jumbogram (RFC 2675): its real length is in a hop-by-hop option
	 * kapa does not follow, and no capture of one fits these buffers anyway. */
	if (plen == 0 || plen > lim - off - IP6_HDR_LEN)
		return pkt_bad_ip_len(pkt, KAPA_BAD_IP6_LEN, lim,
				      (uint64_t)off + IP6_HDR_LEN + plen);
	pkt->family = 6;
	memcpy(pkt->src, ip + 8, 16);
	memcpy(pkt->dst, ip + 24, 16);
	nh = ip[6];
	cur = off + IP6_HDR_LEN;
	end = cur + plen;
	for (n = 0;; n++) {
		if (nh == IPPROTO_TCP_) {
			pkt->ip_proto = nh;
			return pkt_tcp(pkt, cur, end);
		}
		if (nh != IPPROTO_HOPOPTS_ && nh != IPPROTO_ROUTING_ &&
		    nh != IPPROTO_DSTOPTS_ && nh != IPPROTO_AH_ &&
		    nh != IPPROTO_FRAGMENT_) {
			/* UDP, ICMPv6, ESP (opaque), no-next-header,
			 * tunnels ... */
			pkt->ip_proto = nh;
			return pkt_ip_next(pkt, cur, end);
		}
		if (n == IP6_MAX_EXT || end - cur < 8)
			break;
		if (nh == IPPROTO_FRAGMENT_) {
			pkt->ip_proto = pkt->data[cur];
			return pkt_class(pkt, KAPA_PKT_FRAGMENT);
		}
		/* AH counts its length in 4-byte units minus 2, the others in
		 * 8-byte units minus 1 (RFC 4302 §2.2, RFC 8200 §4.3). */
		if (nh == IPPROTO_AH_)
			hlen = ((uint32_t)pkt->data[cur + 1] + 2) * 4;
		else
			hlen = ((uint32_t)pkt->data[cur + 1] + 1) * 8;
		if (hlen > end - cur)
			break;
		nh = pkt->data[cur];
		cur += hlen;
	}
	pkt->ip_proto = nh;
	return pkt_bad(pkt, KAPA_BAD_IP6_EXT);
}

/*
 * PPPoE session header at @p off (RFC 2516 §4), then the PPP protocol. Only
 * IP goes on; LCP, IPCP, CHAP, ... are the session's own business. The
 * PPPoE length (PPP protocol + payload) must hold the IP datagram; Ethernet
 * padding after it is fine, as after a bare IP datagram. Kept out of line
 * (as pkt_mpls()), so that plain Ethernet's path stays as compact as before.
 */
static __attribute__((noinline)) int
pkt_pppoe(struct kapa_pkt *pkt, uint32_t off)
{
	const uint8_t *h = pkt->data + off;
	uint32_t plen, lim;
	uint16_t proto;

	pkt->encap |= KAPA_ENCAP_PPPOE;
	if (pkt->len - off < PPPOE_HDR_LEN + PPP_PROTO_LEN) {
		pkt->l3_off = (uint16_t)off;
		return pkt_bad(pkt, KAPA_BAD_PPPOE_TRUNC);
	}
	/* At most 14 + 8 tags x 4 + 4 = 50 (36 after a cooked header's
	 * protocol): fits the struct's byte. Inside a tunnel it would not,
	 * and nothing may be crafted there anyway (kapa_pkt.h). */
	if ((pkt->encap & KAPA_ENCAP_TUNNEL) == 0)
		pkt->pppoe_len_off = (uint8_t)(off + PPPOE_LEN_AT);
	if (h[0] != PPPOE_VER_TYPE || h[1] != PPPOE_CODE_SES) {
		pkt->l3_off = (uint16_t)off;
		return pkt_bad(pkt, KAPA_BAD_PPPOE_HDR);
	}
	plen = rd16(h + PPPOE_LEN_AT);
	proto = rd16(h + PPPOE_HDR_LEN);
	off += PPPOE_HDR_LEN + PPP_PROTO_LEN;
	pkt->l3_off = (uint16_t)off;
	if (proto != PPP_PROTO_IPV4 && proto != PPP_PROTO_IPV6)
		return pkt_class(pkt, KAPA_PKT_NON_IP);
	/* A length past the capture is a snap cut, as for IP; one too short
	 * for the PPP protocol cannot carry IP at all. */
	if (plen < PPP_PROTO_LEN || plen > pkt->len - off + PPP_PROTO_LEN)
		return pkt_bad(pkt, KAPA_BAD_PPPOE_LEN);
	lim = off + plen - PPP_PROTO_LEN;
	if (proto == PPP_PROTO_IPV4)
		return pkt_ip4(pkt, off, lim);
	return pkt_ip6(pkt, off, lim);
}

/* Types after which kapa's walk can reach IP: an Ethernet pseudowire is
 * followed only when its frame has one (tshark's heuristic also checks the
 * frame looks like Ethernet). */
static inline int
pkt_is_ip_path(uint16_t type)
{
	return type == ETHER_TYPE_IPV4 || type == ETHER_TYPE_IPV6 ||
	       type == ETHER_TYPE_VLAN || type == ETHER_TYPE_QINQ ||
	       type == ETHER_TYPE_QINQ_OLD || type == ETHER_TYPE_PPPOE_SES ||
	       type == ETHER_TYPE_MPLS_UC || type == ETHER_TYPE_MPLS_MC;
}

/*
 * MPLS label stack at @p off (RFC 3032): no field says what it carries, so
 * after the bottom label the first nibble decides, as tshark's dissector
 * does. A nibble 0 is a pseudowire control word (RFC 4385); what follows it
 * is taken for an Ethernet frame (tshark's pwethcw) when it has room for
 * one and a type kapa reads; any other pseudowire is not IP.
 */
static __attribute__((noinline)) int
pkt_mpls(struct kapa_pkt *pkt, uint32_t off)
{
	unsigned int n;
	uint32_t label;
	uint8_t ver;

	pkt->encap |= KAPA_ENCAP_MPLS;
	for (n = 0; n < KAPA_MAX_MPLS_DEPTH; n++) {
		if (pkt->len - off < MPLS_LABEL_LEN) {
			pkt->l3_off = (uint16_t)off;
			return pkt_bad(pkt, KAPA_BAD_MPLS_TRUNC);
		}
		label = rd32(pkt->data + off);
		off += MPLS_LABEL_LEN;
		if (label & MPLS_BOS)
			break;
	}
	pkt->l3_off = (uint16_t)off;
	if (n == KAPA_MAX_MPLS_DEPTH)
		return pkt_bad(pkt, KAPA_BAD_MPLS_DEPTH);
	if (off == pkt->len)
		return pkt_bad(pkt, KAPA_BAD_MPLS_TRUNC);
	ver = pkt->data[off] >> 4;
	if (ver == 4)
		return pkt_ip4(pkt, off, pkt->len);
	if (ver == 6)
		return pkt_ip6(pkt, off, pkt->len);
	if (ver == 0 && pkt->len - off >= PW_CW_LEN + ETHER_HDR_LEN &&
	    pkt_is_ip_path(rd16(pkt->data + off + PW_CW_LEN + ETHER_HDR_LEN - 2)))
		return pkt_inner(pkt, KAPA_TUNNEL_PW, off + PW_CW_LEN, pkt->len,
				 GRE_PROTO_TEB);
	return pkt_class(pkt, KAPA_PKT_NON_IP);
}

static inline int
pkt_l3(struct kapa_pkt *pkt, uint32_t off, uint16_t ethertype)
{
	if (ethertype == ETHER_TYPE_IPV4)
		return pkt_ip4(pkt, off, pkt->len);
	if (ethertype == ETHER_TYPE_IPV6)
		return pkt_ip6(pkt, off, pkt->len);
	if (ethertype == ETHER_TYPE_PPPOE_SES)
		return pkt_pppoe(pkt, off);
	if (ethertype == ETHER_TYPE_MPLS_UC || ethertype == ETHER_TYPE_MPLS_MC)
		return pkt_mpls(pkt, off);
	pkt->l3_off = (uint16_t)off;
	return pkt_class(pkt, KAPA_PKT_NON_IP);
}

static inline int
pkt_is_vlan(uint16_t type)
{
	return type == ETHER_TYPE_VLAN || type == ETHER_TYPE_QINQ ||
	       type == ETHER_TYPE_QINQ_OLD;
}

/*
 * Tags past the KAPA_MAX_VLAN that struct kapa_pkt decodes: counted and
 * walked, not recorded (a crafted packet copies them with the rest of
 * [0, l3_off)). @p off is just past the type field that said @p type. Out of
 * line, so that the usual zero to two tags cost what they did before deeper
 * stacks were accepted.
 */
static __attribute__((noinline)) int
pkt_vlan_deep(struct kapa_pkt *pkt, uint32_t off, uint16_t type)
{
	while (pkt_is_vlan(type)) {
		if (pkt->nvlan == KAPA_MAX_VLAN_DEPTH)
			return pkt_bad(pkt, KAPA_BAD_VLAN_DEPTH);
		if (pkt->len - off < VLAN_TAG_LEN)
			return pkt_bad(pkt, KAPA_BAD_VLAN_TRUNC);
		pkt->nvlan++;
		type = rd16(pkt->data + off + 2);
		off += VLAN_TAG_LEN;
	}
	return pkt_l3(pkt, off, type);
}

/*
 * What follows a type field: VLAN tags, then what the last type names.
 * @p off is just past the field that said @p type (<= pkt->len), whether it
 * was Ethernet's or, in a cooked capture, the cooked header's protocol.
 */
static inline int
pkt_link(struct kapa_pkt *pkt, uint32_t off, uint16_t type)
{
	const uint8_t *d = pkt->data;

	while (pkt_is_vlan(type)) {
		if (pkt->nvlan == KAPA_MAX_VLAN)
			return pkt_vlan_deep(pkt, off, type);
		/* The tag is TPID (the type just read) + TCI, then the next
		 * type. */
		if (pkt->len - off < VLAN_TAG_LEN)
			return pkt_bad(pkt, KAPA_BAD_VLAN_TRUNC);
		pkt->vlan_tpid[pkt->nvlan] = type;
		pkt->vlan_tci[pkt->nvlan] = rd16(d + off);
		pkt->nvlan++;
		type = rd16(d + off + 2);
		off += VLAN_TAG_LEN;
	}
	return pkt_l3(pkt, off, type);
}

/*
 * An Ethernet frame inside a tunnel, at @p off: its tags are walked (up to
 * KAPA_MAX_VLAN_DEPTH, as at the top) but not recorded, since the struct's
 * link fields describe the wire the packet was seen on.
 */
static int
pkt_inner_ether(struct kapa_pkt *pkt, uint32_t off)
{
	unsigned int n;
	uint16_t type;

	if (pkt->len - off < ETHER_HDR_LEN)
		return pkt_bad(pkt, KAPA_BAD_ETH_TRUNC);
	type = rd16(pkt->data + off + ETHER_HDR_LEN - 2);
	off += ETHER_HDR_LEN;
	for (n = 0; pkt_is_vlan(type); n++) {
		if (n == KAPA_MAX_VLAN_DEPTH)
			return pkt_bad(pkt, KAPA_BAD_VLAN_DEPTH);
		if (pkt->len - off < VLAN_TAG_LEN)
			return pkt_bad(pkt, KAPA_BAD_VLAN_TRUNC);
		type = rd16(pkt->data + off + 2);
		off += VLAN_TAG_LEN;
	}
	return pkt_l3(pkt, off, type);
}

/*
 * The inner packet of a tunnel of @p kind: at @p off, ending by @p lim (the
 * outer datagram's end, or where the tunnel header says), an IP datagram
 * of ethertype @p type or, for GRE_PROTO_TEB, an Ethernet frame. pkt->len
 * is narrowed to @p lim while the inner layers are walked, so that each of
 * their bounds checks is against the outer datagram (Ethernet padding after
 * it is not the inner packet's), and put back after.
 */
static __attribute__((noinline)) int
pkt_inner(struct kapa_pkt *pkt, uint8_t kind, uint32_t off, uint32_t lim,
	  uint16_t type)
{
	uint16_t outer = pkt->l3_off;
	uint32_t len = pkt->len;
	int cls;

	if (pkt->ntunnel == KAPA_MAX_TUNNEL_DEPTH)
		return pkt_bad(pkt, KAPA_BAD_TUNNEL_DEPTH);
	if (lim > UINT16_MAX)
		return pkt_bad(pkt, KAPA_BAD_TUNNEL_LEN);
	pkt->encap |= KAPA_ENCAP_TUNNEL;
	pkt->tunnel |= kind;
	pkt->ntunnel++;
	pkt->len = lim;
	if (type == GRE_PROTO_TEB)
		cls = pkt_inner_ether(pkt, off);
	else
		cls = pkt_l3(pkt, off, type);
	pkt->len = len;
	/* The outermost tunnel returns last: its header is the one kept. */
	pkt->outer_l3_off = outer;
	return cls;
}

/*
 * ERSPAN (in GRE, @p off just past the GRE header): type I has no header
 * of its own (GRE without a sequence number), type II 8 bytes, type III
 * (version 2, whichever GRE protocol announced it, as tshark reads it) 12
 * and 8 more with the O bit. Then the mirrored Ethernet frame.
 */
static int
pkt_erspan(struct kapa_pkt *pkt, uint32_t off, uint32_t end, uint16_t proto,
	   uint16_t flags)
{
	const uint8_t *e = pkt->data + off;
	uint32_t hl = ERSPAN2_HDR_LEN;

	if (proto == GRE_PROTO_ERSPAN2 && (flags & GRE_S) == 0)
		return pkt_inner(pkt, KAPA_TUNNEL_ERSPAN, off, end, GRE_PROTO_TEB);
	if (end - off < hl)
		return pkt_bad(pkt, KAPA_BAD_TUNNEL_TRUNC);
	if ((e[0] >> 4) == 2) {
		hl = ERSPAN3_HDR_LEN;
		if (end - off < hl)
			return pkt_bad(pkt, KAPA_BAD_TUNNEL_TRUNC);
		if (e[ERSPAN3_HDR_LEN - 1] & ERSPAN3_O)
			hl += ERSPAN3_SUB_LEN;
		if (end - off < hl)
			return pkt_bad(pkt, KAPA_BAD_TUNNEL_TRUNC);
	}
	return pkt_inner(pkt, KAPA_TUNNEL_ERSPAN, off + hl, end, GRE_PROTO_TEB);
}

/*
 * PPTP's enhanced GRE (version 1, RFC 2637 §4.1): key (payload length, call
 * id) always there, sequence and acknowledgement numbers optional, PPP
 * inside, possibly with address/control and protocol-field compression
 * (RFC 1661 §6.5, 6.6), as tshark decodes it. Only PPP IPv4 and IPv6 go on.
 */
static int
pkt_pptp(struct kapa_pkt *pkt, uint32_t off, uint32_t end, uint16_t flags,
	 uint16_t proto)
{
	const uint8_t *g = pkt->data + off;
	uint32_t hl = GRE_HDR_LEN + GRE_OPT_LEN, plen, lim;
	uint16_t ppp;

	if ((flags & (GRE_C | GRE_K)) != GRE_K || proto != GRE_PROTO_PPP)
		return pkt_class(pkt, KAPA_PKT_NON_TCP);
	hl += (flags & GRE_S ? GRE_OPT_LEN : 0) + (flags & GRE_A ? GRE_OPT_LEN : 0);
	if (end - off < hl)
		return pkt_bad(pkt, KAPA_BAD_TUNNEL_TRUNC);
	plen = rd16(g + GRE_HDR_LEN);
	if (plen > end - off - hl)
		return pkt_bad(pkt, KAPA_BAD_TUNNEL_TRUNC);
	off += hl;
	lim = off + plen;
	if (lim - off >= 2 && rd16(pkt->data + off) == PPP_ADDR_CTRL)
		off += 2;
	if (lim - off >= 1 && (pkt->data[off] & 1) != 0) {
		ppp = pkt->data[off];
		off += 1;
	} else if (lim - off >= 2) {
		ppp = rd16(pkt->data + off);
		off += 2;
	} else {
		return pkt_class(pkt, KAPA_PKT_NON_TCP);
	}
	if (ppp == PPP_PROTO_IPV4)
		return pkt_inner(pkt, KAPA_TUNNEL_GRE, off, lim, ETHER_TYPE_IPV4);
	if (ppp == PPP_PROTO_IPV6)
		return pkt_inner(pkt, KAPA_TUNNEL_GRE, off, lim, ETHER_TYPE_IPV6);
	return pkt_class(pkt, KAPA_PKT_NON_TCP);
}

/*
 * GRE at @p off (RFC 2784, with RFC 2890's key and sequence number): each
 * of C, K, S adds 4 bytes. The protocol says what follows; source routing
 * (RFC 1701) and versions other than 0 and 1 are not followed.
 */
static int
pkt_gre(struct kapa_pkt *pkt, uint32_t off, uint32_t end)
{
	const uint8_t *g = pkt->data + off;
	uint32_t hl = GRE_HDR_LEN;
	uint16_t flags, proto;

	if (end - off < GRE_HDR_LEN)
		return pkt_bad(pkt, KAPA_BAD_TUNNEL_TRUNC);
	flags = rd16(g);
	proto = rd16(g + 2);
	if (flags & GRE_R)
		return pkt_class(pkt, KAPA_PKT_NON_TCP);
	if ((flags & GRE_VER) == 1)
		return pkt_pptp(pkt, off, end, flags, proto);
	if ((flags & GRE_VER) != 0)
		return pkt_class(pkt, KAPA_PKT_NON_TCP);
	hl += (flags & GRE_C ? GRE_OPT_LEN : 0) + (flags & GRE_K ? GRE_OPT_LEN : 0) +
	      (flags & GRE_S ? GRE_OPT_LEN : 0);
	if (end - off < hl)
		return pkt_bad(pkt, KAPA_BAD_TUNNEL_TRUNC);
	off += hl;
	switch (proto) {
	case ETHER_TYPE_IPV4:
	case ETHER_TYPE_IPV6:
	case GRE_PROTO_TEB:
	case ETHER_TYPE_MPLS_UC:	/* MPLS in GRE (RFC 4023) */
	case ETHER_TYPE_MPLS_MC:
		return pkt_inner(pkt, KAPA_TUNNEL_GRE, off, end, proto);
	case GRE_PROTO_ERSPAN2:
	case GRE_PROTO_ERSPAN3:
		return pkt_erspan(pkt, off, end, proto, flags);
	default:
		return pkt_class(pkt, KAPA_PKT_NON_TCP);
	}
}

/*
 * GTP-U (3GPP TS 29.281 §5) at @p p, the UDP payload up to @p lim. A G-PDU
 * of version 1 whose length fits the datagram is GTP-U; then its optional
 * fields and extension headers (each a length in 4-byte units, its last
 * byte the next type) lead to the user's IP packet, told by its nibble.
 * @return -1 when the payload is not GTP-U (plain UDP), else the class.
 */
static int
pkt_gtpu(struct kapa_pkt *pkt, uint32_t p, uint32_t lim)
{
	const uint8_t *d = pkt->data;
	uint32_t hl = GTPU_HDR_LEN, elen;
	unsigned int k;
	uint8_t nx, ver;

	if (lim - p < GTPU_HDR_LEN || (d[p] & 0xf0) != 0x30 || d[p + 1] != GTPU_G_PDU ||
	    rd16(d + p + 2) > lim - p - GTPU_HDR_LEN)
		return -1;
	lim = p + GTPU_HDR_LEN + rd16(d + p + 2);
	if (d[p] & GTPU_E_S_PN) {
		hl += GTPU_OPT_LEN;
		if (lim - p < hl)
			return pkt_bad(pkt, KAPA_BAD_TUNNEL_TRUNC);
		nx = d[p + hl - 1];
		for (k = 0; nx != 0; k++) {
			if (k == GTPU_MAX_EXT)
				return pkt_class(pkt, KAPA_PKT_NON_TCP);
			if (lim - p - hl < 4)
				return pkt_bad(pkt, KAPA_BAD_TUNNEL_TRUNC);
			elen = (uint32_t)d[p + hl] * 4;
			if (elen == 0 || elen > lim - p - hl)
				return pkt_bad(pkt, KAPA_BAD_TUNNEL_TRUNC);
			hl += elen;
			nx = d[p + hl - 1];
		}
	}
	if (lim - p == hl)
		return pkt_class(pkt, KAPA_PKT_NON_TCP);
	ver = d[p + hl] >> 4;
	if (ver == 4)
		return pkt_inner(pkt, KAPA_TUNNEL_GTPU, p + hl, lim, ETHER_TYPE_IPV4);
	if (ver == 6)
		return pkt_inner(pkt, KAPA_TUNNEL_GTPU, p + hl, lim, ETHER_TYPE_IPV6);
	return pkt_class(pkt, KAPA_PKT_NON_TCP);
}

/*
 * Teredo (RFC 4380 §5.1.1) at @p p: an optional authentication header
 * (type 1: id and authenticator lengths, nonce, confirmation), an optional
 * origin indication (type 0, 8 bytes), then one IPv6 packet that fills the
 * datagram. Nothing else marks Teredo, so that fill is the check.
 * @return -1 when the payload is not Teredo (plain UDP), else the class.
 */
static int
pkt_teredo(struct kapa_pkt *pkt, uint32_t p, uint32_t lim)
{
	const uint8_t *d = pkt->data;
	uint32_t n = lim - p, hl = 0;

	if (n >= 4 && rd16(d + p) == TEREDO_AUTH) {
		hl = TEREDO_AUTH_FIXED + (uint32_t)d[p + 2] + d[p + 3];
		if (hl > n)
			return -1;
	}
	if (n - hl >= TEREDO_ORIGIN_LEN && rd16(d + p + hl) == TEREDO_ORIGIN)
		hl += TEREDO_ORIGIN_LEN;
	if (n - hl < IP6_HDR_LEN || (d[p + hl] >> 4) != 6 ||
	    IP6_HDR_LEN + (uint32_t)rd16(d + p + hl + 4) != n - hl)
		return -1;
	return pkt_inner(pkt, KAPA_TUNNEL_TEREDO, p + hl, lim, ETHER_TYPE_IPV6);
}

/*
 * A UDP payload at @p p (to @p lim) sent from or to @p port: a tunnel when
 * the port is one's and the payload passes its checks.
 * @return -1 for plain UDP, else the class.
 */
static int
pkt_udp_port(struct kapa_pkt *pkt, uint16_t port, uint32_t p, uint32_t lim)
{
	const uint8_t *d = pkt->data;
	uint32_t hl;
	uint16_t type;

	switch (port) {
	case VXLAN_PORT:
		if (lim - p < VXLAN_HDR_LEN || (d[p] & VXLAN_I) == 0)
			return -1;
		return pkt_inner(pkt, KAPA_TUNNEL_VXLAN, p + VXLAN_HDR_LEN, lim,
				 GRE_PROTO_TEB);
	case GENEVE_PORT:
		if (lim - p < GENEVE_HDR_LEN || (d[p] >> 6) != 0)
			return -1;
		hl = GENEVE_HDR_LEN + (uint32_t)(d[p] & 0x3f) * 4;
		type = rd16(d + p + 2);
		if (hl > lim - p || (type != GRE_PROTO_TEB && type != ETHER_TYPE_IPV4 &&
				     type != ETHER_TYPE_IPV6))
			return -1;
		return pkt_inner(pkt, KAPA_TUNNEL_GENEVE, p + hl, lim, type);
	case GTPU_PORT:
		return pkt_gtpu(pkt, p, lim);
	case TEREDO_PORT:
		return pkt_teredo(pkt, p, lim);
	default:
		return -1;
	}
}

/*
 * UDP at @p off, its datagram ending by @p end, sent from or to a tunnel's
 * port: the lower port is tried first, then the higher, as tshark does. A
 * UDP length that does not fit is left alone (plain UDP).
 */
static __attribute__((noinline)) int
pkt_udp(struct kapa_pkt *pkt, uint32_t off, uint32_t end)
{
	const uint8_t *u = pkt->data + off;
	uint16_t sp, dp, lo, hi;
	uint32_t ulen;
	int cls;

	ulen = rd16(u + 4);
	if (ulen < UDP_HDR_LEN || ulen > end - off)
		return pkt_class(pkt, KAPA_PKT_NON_TCP);
	sp = rd16(u);
	dp = rd16(u + 2);
	lo = sp < dp ? sp : dp;
	hi = sp < dp ? dp : sp;
	cls = pkt_udp_port(pkt, lo, off + UDP_HDR_LEN, off + ulen);
	if (cls < 0 && hi != lo)
		cls = pkt_udp_port(pkt, hi, off + UDP_HDR_LEN, off + ulen);
	if (cls < 0)
		return pkt_class(pkt, KAPA_PKT_NON_TCP);
	return cls;
}

/* IP-in-IP and GRE: their protocol number says a tunnel follows. */
static __attribute__((noinline)) int
pkt_ip_tunnel(struct kapa_pkt *pkt, uint32_t off, uint32_t end)
{
	if (pkt->ip_proto == IPPROTO_GRE_)
		return pkt_gre(pkt, off, end);
	return pkt_inner(pkt, KAPA_TUNNEL_IPIP, off, end,
			 pkt->ip_proto == IPPROTO_IPIP_ ? ETHER_TYPE_IPV4 : ETHER_TYPE_IPV6);
}

/* The range test first: DNS, QUIC (443) and ephemeral ports fail it in
 * one compare each. GTPU_PORT is the lowest tunnel port, GENEVE_PORT the
 * highest. */
static inline int
pkt_is_tunnel_port(uint16_t port)
{
	return (uint16_t)(port - GTPU_PORT) <= GENEVE_PORT - GTPU_PORT &&
	       (port == VXLAN_PORT || port == GENEVE_PORT || port == GTPU_PORT ||
		port == TEREDO_PORT);
}

/*
 * What follows an IP header that is not TCP, at @p off (the datagram ends
 * by @p end): tunnels are followed, the rest is NON_TCP. Reached only off
 * the TCP path, and kept to a few compares and tail calls, so that UDP and
 * ICMP, which kapa only forwards, pay little for the tunnels they are not.
 */
static __attribute__((noinline)) int
pkt_ip_next(struct kapa_pkt *pkt, uint32_t off, uint32_t end)
{
	const uint8_t *u = pkt->data + off;
	uint8_t proto = pkt->ip_proto;

	pkt->l4_off = (uint16_t)off;
	if (proto == IPPROTO_UDP_) {
		if (end - off >= UDP_HDR_LEN &&
		    (pkt_is_tunnel_port(rd16(u)) || pkt_is_tunnel_port(rd16(u + 2))))
			return pkt_udp(pkt, off, end);
		return pkt_class(pkt, KAPA_PKT_NON_TCP);
	}
	if (proto == IPPROTO_IPIP_ || proto == IPPROTO_IPV6_ || proto == IPPROTO_GRE_)
		return pkt_ip_tunnel(pkt, off, end);
	return pkt_class(pkt, KAPA_PKT_NON_TCP);
}

static inline int
pkt_ether(struct kapa_pkt *pkt)
{
	const uint8_t *d = pkt->data;

	if (pkt->len < ETHER_HDR_LEN)
		return pkt_bad(pkt, KAPA_BAD_ETH_TRUNC);
	memcpy(pkt->eth_dst, d, 6);
	memcpy(pkt->eth_src, d + 6, 6);
	return pkt_link(pkt, ETHER_HDR_LEN, rd16(d + ETHER_HDR_LEN - 2));
}

/*
 * Zero what the layers a packet did not reach would have filled, so that
 * every field is defined on every exit. Done here, off the TCP path, rather
 * than by clearing the struct up front: a 108-byte clear per packet cost
 * about 4 ns, as much as parsing a whole data segment.
 */
static void
pkt_zero_rest(struct kapa_pkt *pkt)
{
	/* An inner Ethernet frame cut short leaves the outer addresses. */
	if (pkt->bad == KAPA_BAD_ETH_TRUNC && (pkt->encap & KAPA_ENCAP_TUNNEL) == 0) {
		memset(pkt->eth_dst, 0, sizeof(pkt->eth_dst));
		memset(pkt->eth_src, 0, sizeof(pkt->eth_src));
	}
	if (pkt->family == 0) {
		memset(pkt->src, 0, sizeof(pkt->src));
		memset(pkt->dst, 0, sizeof(pkt->dst));
	}
	/* Exits before any IP header (or at one) left it unset or equal. */
	if ((pkt->encap & KAPA_ENCAP_TUNNEL) == 0)
		pkt->outer_l3_off = pkt->l3_off;
	/* These three are found after pkt_tcp() has read the fixed header. */
	if (pkt->bad == KAPA_BAD_TCP_DOFF || pkt->bad == KAPA_BAD_TCP_OPT ||
	    pkt->bad == KAPA_BAD_TCP_PORT)
		return;
	pkt->sport = 0;
	pkt->dport = 0;
	pkt->seq = 0;
	pkt->ack = 0;
	pkt->win = 0;
	pkt->urg = 0;
	pkt->tcp_flags = 0;
	pkt->opt.wscale = 0;
	pkt->opt.mss = 0;
	pkt->opt.ts_val = 0;
	pkt->opt.ts_ecr = 0;
}

static inline int
pkt_l3_start(struct kapa_pkt *pkt, enum kapa_l2_type l2)
{
	memset(pkt->eth_dst, 0, sizeof(pkt->eth_dst));
	memset(pkt->eth_src, 0, sizeof(pkt->eth_src));
	switch (l2) {
	case KAPA_L3_IPV4:
		return pkt_ip4(pkt, 0, pkt->len);
	case KAPA_L3_IPV6:
		return pkt_ip6(pkt, 0, pkt->len);
	case KAPA_L3_RAW:
		if (pkt->len == 0)
			return pkt_bad(pkt, KAPA_BAD_IP4_TRUNC);
		if ((pkt->data[0] >> 4) == 6)
			return pkt_ip6(pkt, 0, pkt->len);
		if ((pkt->data[0] >> 4) == 4)
			return pkt_ip4(pkt, 0, pkt->len);
		return pkt_bad(pkt, KAPA_BAD_IP_VERSION);
	default:
		/* An l2 value outside the enum: nothing we can read. */
		return pkt_bad(pkt, KAPA_BAD_ETH_TRUNC);
	}
}

/* Written for every packet, and kept in kapa-dp's mbuf private area. */
_Static_assert(sizeof(struct kapa_pkt) == 152 || sizeof(void *) != 8,
	       "struct kapa_pkt grew past 152 bytes");

/* The fields every exit leaves as they are here; the layers fill the rest.
 * The SACK array is never cleared: opt.nsack says what is valid. */
static inline void
pkt_init(struct kapa_pkt *pkt, const uint8_t *data, uint32_t len)
{
	pkt->data = data;
	pkt->len = len;
	pkt->cls = KAPA_PKT_TCP;
	pkt->bad = KAPA_BAD_NONE;
	pkt->family = 0;
	pkt->nvlan = 0;
	pkt->vlan_tpid[0] = 0;
	pkt->vlan_tpid[1] = 0;
	pkt->vlan_tci[0] = 0;
	pkt->vlan_tci[1] = 0;
	pkt->l3_off = 0;
	pkt->l4_off = 0;
	pkt->payload_off = 0;
	pkt->encap = 0;
	pkt->pppoe_len_off = 0;
	pkt->ntunnel = 0;
	pkt->tunnel = 0;
	pkt->csum = KAPA_CSUM_UNKNOWN;
	pkt->payload_len = 0;
	pkt->ip_proto = 0;
	pkt->opt.present = 0;
	pkt->opt.wscale = 0;
	pkt->opt.nsack = 0;
}

int
kapa_pkt_parse(const uint8_t *data, uint32_t len, enum kapa_l2_type l2,
	       struct kapa_pkt *pkt)
{
	int cls;

	pkt_init(pkt, data, len);
	if (l2 == KAPA_L2_ETHER)
		cls = pkt_ether(pkt);
	else
		cls = pkt_l3_start(pkt, l2);
	if (cls != KAPA_PKT_TCP)
		pkt_zero_rest(pkt);
	return cls;
}

int
kapa_pkt_parse_ethertype(const uint8_t *data, uint32_t len, uint16_t ethertype,
			 struct kapa_pkt *pkt)
{
	int cls;

	pkt_init(pkt, data, len);
	memset(pkt->eth_dst, 0, sizeof(pkt->eth_dst));
	memset(pkt->eth_src, 0, sizeof(pkt->eth_src));
	cls = pkt_link(pkt, 0, ethertype);
	if (cls != KAPA_PKT_TCP)
		pkt_zero_rest(pkt);
	return cls;
}

static const char *const class_names[KAPA_PKT_CLASS_MAX] = {
	[KAPA_PKT_TCP] = "tcp",
	[KAPA_PKT_NON_IP] = "non-ip",
	[KAPA_PKT_NON_TCP] = "non-tcp",
	[KAPA_PKT_FRAGMENT] = "fragment",
	[KAPA_PKT_MALFORMED] = "malformed",
};

static const char *const bad_names[KAPA_BAD_MAX] = {
	[KAPA_BAD_NONE] = "none",
	[KAPA_BAD_ETH_TRUNC] = "eth-trunc",
	[KAPA_BAD_VLAN_TRUNC] = "vlan-trunc",
	[KAPA_BAD_VLAN_DEPTH] = "vlan-depth",
	[KAPA_BAD_IP_VERSION] = "ip-version",
	[KAPA_BAD_IP4_TRUNC] = "ip4-trunc",
	[KAPA_BAD_IP4_IHL] = "ip4-ihl",
	[KAPA_BAD_IP4_LEN] = "ip4-len",
	[KAPA_BAD_IP6_TRUNC] = "ip6-trunc",
	[KAPA_BAD_IP6_LEN] = "ip6-len",
	[KAPA_BAD_IP6_EXT] = "ip6-ext",
	[KAPA_BAD_TCP_TRUNC] = "tcp-trunc",
	[KAPA_BAD_TCP_DOFF] = "tcp-doff",
	[KAPA_BAD_TCP_OPT] = "tcp-opt",
	[KAPA_BAD_TCP_PORT] = "tcp-port",
	[KAPA_BAD_PPPOE_TRUNC] = "pppoe-trunc",
	[KAPA_BAD_PPPOE_HDR] = "pppoe-hdr",
	[KAPA_BAD_PPPOE_LEN] = "pppoe-len",
	[KAPA_BAD_MPLS_TRUNC] = "mpls-trunc",
	[KAPA_BAD_MPLS_DEPTH] = "mpls-depth",
	[KAPA_BAD_TUNNEL_TRUNC] = "tunnel-trunc",
	[KAPA_BAD_TUNNEL_DEPTH] = "tunnel-depth",
	[KAPA_BAD_TUNNEL_LEN] = "tunnel-len",
};

const char *
kapa_pkt_class_name(unsigned cls)
{
	if (cls >= KAPA_PKT_CLASS_MAX || class_names[cls] == NULL)
		return "unknown";
	return class_names[cls];
}

const char *
kapa_pkt_bad_name(unsigned bad)
{
	if (bad >= KAPA_BAD_MAX || bad_names[bad] == NULL)
		return "unknown";
	return bad_names[bad];
}
