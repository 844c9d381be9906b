/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness of kapa_pkt_parse(). The first input byte picks where the
 * packet starts (enum kapa_l2_type, modulo 4); the rest is the packet, in a
 * buffer that ends exactly where the input ends, so ASan sees any read past
 * it. Beyond "no crash", every result must be coherent with the bytes it was
 * made from; a violation aborts, which libFuzzer reports with the input.
 * An Ethernet input is also parsed from its ethertype
 * (kapa_pkt_parse_ethertype() over the bytes after it, as a cooked capture
 * hands them), which must give the Ethernet result, offsets 14 less.
 * Tunnels: the tunnel fields agree with each other, the outermost header
 * comes before the inner one and is IP (or a pseudowire's control word),
 * and a tunnelled TCP result is checked as any other (its payload ends where
 * the inner IP header says).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapa_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_pkt: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

/*
 * The link layer of an Ethernet TCP result: [0, l3_off) is Ethernet, nvlan
 * tags, then what encap says, so that a crafted packet copying it reaches the
 * same place; a PPPoE length covers the datagram.
 */
static void
check_link(const struct kapa_pkt *k)
{
	const uint8_t *d = k->data;
	uint32_t tags_end = 12 + 4u * k->nvlan, ip_end;

	CHECK(k->l3_off >= tags_end + 2);
	ip_end = k->payload_off + k->payload_len;
	if (k->encap & KAPA_ENCAP_TUNNEL) {
		/* The inner link was walked with the datagram's own bounds;
		 * what is certain is where the outer packet begins. */
		CHECK(k->outer_l3_off >= tags_end + 2);
		CHECK(k->outer_l3_off < k->l3_off);
		return;
	}
	switch (k->encap) {
	case 0:
		CHECK(k->l3_off == tags_end + 2);
		CHECK(rd16(d + tags_end) == (k->family == 4 ? 0x0800 : 0x86dd));
		CHECK(k->pppoe_len_off == 0);
		break;
	case KAPA_ENCAP_PPPOE:
		CHECK(rd16(d + tags_end) == 0x8864);
		CHECK(k->l3_off == tags_end + 2 + 8);
		CHECK(k->pppoe_len_off + 4u == k->l3_off);
		CHECK(d[k->pppoe_len_off - 4] == 0x11 && d[k->pppoe_len_off - 3] == 0);
		CHECK(rd16(d + k->l3_off - 2) == (k->family == 4 ? 0x0021 : 0x0057));
		CHECK(ip_end <= k->pppoe_len_off + 2u + rd16(d + k->pppoe_len_off));
		CHECK((uint32_t)k->pppoe_len_off + 2 + rd16(d + k->pppoe_len_off) <= k->len);
		break;
	case KAPA_ENCAP_MPLS:
		CHECK(rd16(d + tags_end) == 0x8847 || rd16(d + tags_end) == 0x8848);
		CHECK((k->l3_off - tags_end - 2) % 4 == 0);
		CHECK(k->l3_off - tags_end - 2 <= 4u * KAPA_MAX_MPLS_DEPTH);
		CHECK((rd32(d + k->l3_off - 4) & 0x100) != 0);
		CHECK(k->pppoe_len_off == 0);
		break;
	default:
		CHECK(0);
	}
}

/* What a TCP result says about the bytes must be true of the bytes. */
static void
check_tcp(const struct kapa_pkt *k)
{
	const uint8_t *d = k->data;
	uint32_t doff;

	CHECK(k->family == 4 || k->family == 6);
	CHECK(k->ip_proto == 6);
	CHECK(k->l3_off < k->l4_off);
	CHECK((uint32_t)k->l4_off + 20 <= k->payload_off);
	CHECK((uint64_t)k->payload_off + k->payload_len <= k->len);
	doff = (uint32_t)(d[k->l4_off + 12] >> 4) * 4;
	CHECK(k->payload_off == k->l4_off + doff);
	CHECK(k->sport == rd16(d + k->l4_off) && k->sport != 0);
	CHECK(k->dport == rd16(d + k->l4_off + 2) && k->dport != 0);
	CHECK(k->tcp_flags == d[k->l4_off + 13]);
	CHECK(k->opt.nsack <= KAPA_MAX_SACK);
	CHECK(((k->opt.present & KAPA_OPT_SACK) != 0) == (k->opt.nsack != 0));
	/* The payload ends exactly where the IP header says the datagram does. */
	if (k->family == 4) {
		CHECK((d[k->l3_off] >> 4) == 4);
		CHECK(k->l4_off == k->l3_off + (d[k->l3_off] & 0x0f) * 4u);
		CHECK(k->payload_off + k->payload_len ==
		      k->l3_off + (uint32_t)rd16(d + k->l3_off + 2));
		CHECK((rd16(d + k->l3_off + 6) & 0x3fff) == 0);
	} else {
		CHECK((d[k->l3_off] >> 4) == 6);
		CHECK(k->l4_off >= k->l3_off + 40u);
		CHECK(k->payload_off + k->payload_len ==
		      k->l3_off + 40u + rd16(d + k->l3_off + 4));
		CHECK(memcmp(k->src, d + k->l3_off + 8, 16) == 0);
	}
}

/* One byte of the input, 0 past it (an offset may equal the length). */
static uint8_t
d_at(const uint8_t *buf, uint32_t len, uint32_t off)
{
	return off < len ? buf[off] : 0;
}

static void
check(const struct kapa_pkt *k, int cls, const uint8_t *buf, uint32_t len,
      enum kapa_l2_type l2)
{
	CHECK(cls >= 0 && cls < KAPA_PKT_CLASS_MAX);
	CHECK(k->cls == cls);
	CHECK(k->data == buf && k->len == len);
	CHECK((cls == KAPA_PKT_MALFORMED) == (k->bad != KAPA_BAD_NONE));
	CHECK(k->bad < KAPA_BAD_MAX);
	CHECK(k->nvlan <= KAPA_MAX_VLAN_DEPTH);
	CHECK(k->nvlan >= KAPA_MAX_VLAN || k->vlan_tpid[KAPA_MAX_VLAN - 1] == 0);
	CHECK((k->encap & ~(KAPA_ENCAP_PPPOE | KAPA_ENCAP_MPLS | KAPA_ENCAP_TUNNEL)) == 0);
	CHECK(k->pppoe_len_off == 0 || (k->encap & KAPA_ENCAP_PPPOE) != 0);
	CHECK(k->ntunnel <= KAPA_MAX_TUNNEL_DEPTH);
	CHECK((k->ntunnel != 0) == ((k->encap & KAPA_ENCAP_TUNNEL) != 0));
	CHECK((k->tunnel != 0) == (k->ntunnel != 0));
	CHECK(k->outer_l3_off <= k->l3_off);
	if (k->ntunnel == 0) {
		CHECK(k->outer_l3_off == k->l3_off);
	} else {
		/* IPv4, IPv6, or a pseudowire's control word. */
		CHECK((d_at(buf, len, k->outer_l3_off) >> 4) == 4 ||
		      (d_at(buf, len, k->outer_l3_off) >> 4) == 6 ||
		      ((k->tunnel & KAPA_TUNNEL_PW) != 0 &&
		       (d_at(buf, len, k->outer_l3_off) >> 4) == 0));
		CHECK(k->pppoe_len_off < k->outer_l3_off || k->pppoe_len_off == 0);
	}
	CHECK((uint32_t)k->pppoe_len_off + 2 <= len || k->pppoe_len_off == 0);
	CHECK(k->family == 0 || k->family == 4 || k->family == 6);
	CHECK(k->l3_off <= len && k->l4_off <= len);
	CHECK((uint64_t)k->payload_off + k->payload_len <= len);
	CHECK(kapa_pkt_class_name((unsigned)cls) != NULL);
	CHECK(kapa_pkt_bad_name(k->bad) != NULL);
	/* From L3, only a tunnel's inner Ethernet can bring PPPoE or MPLS. */
	if (l2 != KAPA_L2_ETHER)
		CHECK(k->nvlan == 0 && (k->encap == 0 || (k->encap & KAPA_ENCAP_TUNNEL)));
	switch (cls) {
	case KAPA_PKT_TCP:
		check_tcp(k);
		if (l2 == KAPA_L2_ETHER)
			check_link(k);
		break;
	case KAPA_PKT_NON_TCP:
		CHECK(k->family == 4 || k->family == 6);
		CHECK(k->ip_proto != 6);
		break;
	case KAPA_PKT_FRAGMENT:
		CHECK(k->family == 4 || k->family == 6);
		break;
	case KAPA_PKT_NON_IP:
		/* Inside a tunnel, the outer IP header was read. */
		CHECK((l2 == KAPA_L2_ETHER && k->family == 0) || k->ntunnel != 0);
		break;
	default:
		break;
	}
	if (cls != KAPA_PKT_TCP)
		CHECK(k->payload_len == 0 || k->bad == KAPA_BAD_TCP_OPT ||
		      k->bad == KAPA_BAD_TCP_PORT);
}

/* An offset of the Ethernet parse, as the ethertype parse must give it
 * (0 where the Ethernet parse did not reach). */
static uint32_t
shifted(uint32_t off)
{
	return off != 0 ? off - 14 : 0;
}

static void
check_ethertype(const struct kapa_pkt *e, const uint8_t *buf, uint32_t len)
{
	static const uint8_t zero[6];
	struct kapa_pkt t;

	memset(&t, 0x5a, sizeof(t));
	CHECK(kapa_pkt_parse_ethertype(buf + 14, len - 14, rd16(buf + 12), &t) == e->cls);
	CHECK(t.cls == e->cls && t.data == buf + 14 && t.len == len - 14);
	CHECK(t.bad == e->bad && t.family == e->family && t.nvlan == e->nvlan);
	CHECK(memcmp(t.vlan_tpid, e->vlan_tpid, sizeof(t.vlan_tpid)) == 0);
	CHECK(memcmp(t.vlan_tci, e->vlan_tci, sizeof(t.vlan_tci)) == 0);
	CHECK(memcmp(t.eth_dst, zero, 6) == 0 && memcmp(t.eth_src, zero, 6) == 0);
	CHECK(t.l3_off == shifted(e->l3_off) && t.l4_off == shifted(e->l4_off));
	CHECK(t.payload_off == shifted(e->payload_off));
	CHECK(t.pppoe_len_off == shifted(e->pppoe_len_off));
	CHECK(t.payload_len == e->payload_len && t.encap == e->encap);
	CHECK(t.outer_l3_off == shifted(e->outer_l3_off));
	CHECK(t.tunnel == e->tunnel && t.ntunnel == e->ntunnel);
	CHECK(t.ip_proto == e->ip_proto && t.sport == e->sport && t.dport == e->dport);
	CHECK(t.seq == e->seq && t.ack == e->ack && t.win == e->win && t.urg == e->urg);
	CHECK(t.tcp_flags == e->tcp_flags && t.opt.present == e->opt.present);
	CHECK(t.opt.mss == e->opt.mss && t.opt.wscale == e->opt.wscale);
	CHECK(t.opt.ts_val == e->opt.ts_val && t.opt.ts_ecr == e->opt.ts_ecr);
	CHECK(t.opt.nsack == e->opt.nsack);
	CHECK(memcmp(t.src, e->src, 16) == 0 && memcmp(t.dst, e->dst, 16) == 0);
	CHECK(memcmp(t.opt.sack, e->opt.sack, sizeof(t.opt.sack[0]) * t.opt.nsack) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kapa_pkt a, b;
	enum kapa_l2_type l2;
	const uint8_t *buf;
	uint32_t len;
	int cls;

	if (size == 0 || size > 65536)
		return 0;
	l2 = (enum kapa_l2_type)(data[0] & 3);
	buf = data + 1;
	len = (uint32_t)(size - 1);

	memset(&a, 0x00, sizeof(a));
	memset(&b, 0xff, sizeof(b));
	cls = kapa_pkt_parse(buf, len, l2, &a);
	check(&a, cls, buf, len, l2);
	/* Nothing of what the struct held before may leak into the result. */
	CHECK(kapa_pkt_parse(buf, len, l2, &b) == cls);
	CHECK(a.bad == b.bad && a.family == b.family && a.nvlan == b.nvlan);
	CHECK(a.l3_off == b.l3_off && a.l4_off == b.l4_off);
	CHECK(a.payload_off == b.payload_off && a.payload_len == b.payload_len);
	CHECK(a.encap == b.encap && a.pppoe_len_off == b.pppoe_len_off);
	CHECK(a.outer_l3_off == b.outer_l3_off && a.tunnel == b.tunnel &&
	      a.ntunnel == b.ntunnel);
	CHECK(a.ip_proto == b.ip_proto && a.sport == b.sport && a.dport == b.dport);
	CHECK(a.seq == b.seq && a.ack == b.ack && a.win == b.win && a.urg == b.urg);
	CHECK(a.tcp_flags == b.tcp_flags && a.opt.present == b.opt.present);
	CHECK(a.opt.mss == b.opt.mss && a.opt.wscale == b.opt.wscale);
	CHECK(a.opt.ts_val == b.opt.ts_val && a.opt.ts_ecr == b.opt.ts_ecr);
	CHECK(a.opt.nsack == b.opt.nsack);
	CHECK(memcmp(a.src, b.src, 16) == 0 && memcmp(a.dst, b.dst, 16) == 0);
	CHECK(memcmp(a.eth_dst, b.eth_dst, 6) == 0 && memcmp(a.eth_src, b.eth_src, 6) == 0);
	CHECK(memcmp(a.vlan_tpid, b.vlan_tpid, sizeof(a.vlan_tpid)) == 0);
	CHECK(memcmp(a.vlan_tci, b.vlan_tci, sizeof(a.vlan_tci)) == 0);
	CHECK(memcmp(a.opt.sack, b.opt.sack, sizeof(a.opt.sack[0]) * a.opt.nsack) == 0);
	if (l2 == KAPA_L2_ETHER && len >= 14)
		check_ethertype(&a, buf, len);
	return 0;
}
