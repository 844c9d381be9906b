/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of kapa_pkt_parse() and kapa_pkt_parse_ethertype(). Frames are built byte by byte with the small
 * builders below, so that every field the parser reports can be compared with
 * what was written. Truncated inputs are copied into heap buffers of exactly
 * the truncated size, so that valgrind (or ASan) sees any read past the end.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "kapa_pkt.h"
#include "unit.h"

#define ET_IPV4 0x0800
#define ET_IPV6 0x86dd
#define ET_ARP  0x0806
#define ET_VLAN 0x8100
#define ET_QINQ 0x88a8
#define ET_QINQ_OLD 0x9100
#define ET_PPPOE_DISC 0x8863
#define ET_PPPOE_SES 0x8864
#define ET_MPLS 0x8847
#define ET_MPLS_MC 0x8848

#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057
#define PPP_LCP  0xc021
#define PPP_IPCP 0x8021

#define P_HOPOPTS  0
#define P_TCP      6
#define P_UDP      17
#define P_ROUTING  43
#define P_FRAGMENT 44
#define P_ESP      50
#define P_AH       51
#define P_ICMPV6   58
#define P_NONE     59
#define P_DSTOPTS  60

/* A frame under construction. */
struct fb {
	uint8_t b[2048];
	uint32_t len;
	uint32_t l3;		/* IP header offset */
	uint32_t l4;		/* TCP header offset */
	uint32_t pppoe;		/* PPPoE header offset, 0 when none */
	int family;
};

static const uint8_t mac_dst[6] = { 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30 };
static const uint8_t mac_src[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t ip4_src[4] = { 198, 18, 0, 1 };
static const uint8_t ip4_dst[4] = { 198, 18, 0, 2 };
static const uint8_t ip6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				     0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t ip6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xaa, 0xbb, 0, 0,
				     0, 0, 0, 0, 0xcc, 0xdd, 0xee, 0x02 };

static void
put8(struct fb *f, uint8_t v)
{
	f->b[f->len++] = v;
}

static void
put16(struct fb *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void
put32(struct fb *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static void
putn(struct fb *f, const void *p, uint32_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void
set16(struct fb *f, uint32_t off, uint16_t v)
{
	f->b[off] = (uint8_t)(v >> 8);
	f->b[off + 1] = (uint8_t)v;
}

static void
fb_init(struct fb *f)
{
	memset(f, 0, sizeof(*f));
}

/* Ethernet header with @p ntags VLAN tags (outer first). */
static void
fb_eth(struct fb *f, uint16_t type, unsigned int ntags, const uint16_t *tpid,
       const uint16_t *tci)
{
	unsigned int i;

	putn(f, mac_dst, 6);
	putn(f, mac_src, 6);
	for (i = 0; i < ntags; i++) {
		put16(f, tpid[i]);
		put16(f, tci[i]);
	}
	put16(f, type);
}

/* IPv4 header of @p ihl 32-bit words (options are NOPs); total length is
 * filled in by fb_finish(). */
static void
fb_ip4(struct fb *f, unsigned int ihl, uint8_t proto, uint16_t frag)
{
	unsigned int i;

	f->l3 = f->len;
	f->family = 4;
	put8(f, (uint8_t)(0x40 | ihl));
	put8(f, 0);		/* DSCP/ECN */
	put16(f, 0);		/* total length, later */
	put16(f, 0x1234);	/* id */
	put16(f, frag);
	put8(f, 64);		/* TTL */
	put8(f, proto);
	put16(f, 0xdead);	/* checksum: deliberately wrong, not checked */
	putn(f, ip4_src, 4);
	putn(f, ip4_dst, 4);
	for (i = 20; i < ihl * 4; i++)
		put8(f, 1);
}

/* IPv6 header; payload length is filled in by fb_finish(). */
static void
fb_ip6(struct fb *f, uint8_t nh)
{
	f->l3 = f->len;
	f->family = 6;
	put32(f, 0x60012345);	/* version, class, flow label */
	put16(f, 0);
	put8(f, nh);
	put8(f, 64);
	putn(f, ip6_src, 16);
	putn(f, ip6_dst, 16);
}

/* An IPv6 extension header of @p kind, @p units of its length field. */
static void
fb_ext(struct fb *f, uint8_t kind, uint8_t nh, uint8_t units)
{
	uint32_t n, i;

	if (kind == P_AH)
		n = ((uint32_t)units + 2) * 4;
	else if (kind == P_FRAGMENT)
		n = 8;
	else
		n = ((uint32_t)units + 1) * 8;
	put8(f, nh);
	put8(f, kind == P_FRAGMENT ? 0 : units);
	for (i = 2; i < n; i++)
		put8(f, kind == P_FRAGMENT ? 0 : 1);	/* PadN-ish filler */
}

static void
fb_tcp(struct fb *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
       uint8_t flags, uint16_t win, uint16_t urg, const uint8_t *opts,
       uint32_t optlen)
{
	f->l4 = f->len;
	put16(f, sport);
	put16(f, dport);
	put32(f, seq);
	put32(f, ack);
	put8(f, (uint8_t)(((20 + optlen) / 4) << 4));
	put8(f, flags);
	put16(f, win);
	put16(f, 0xbeef);	/* checksum, not checked */
	put16(f, urg);
	if (optlen != 0)
		putn(f, opts, optlen);
}

static void
fb_payload(struct fb *f, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		put8(f, (uint8_t)('a' + i % 26));
}

/* Write the IP length field for what has been built so far. */
static void
fb_finish(struct fb *f)
{
	if (f->family == 4)
		set16(f, f->l3 + 2, (uint16_t)(f->len - f->l3));
	else
		set16(f, f->l3 + 4, (uint16_t)(f->len - f->l3 - 40));
}

/* Ethernet padding: zeros to @p to bytes, not counted by the IP length. */
static void
fb_pad(struct fb *f, uint32_t to)
{
	while (f->len < to)
		put8(f, 0);
}

/* PPPoE session header (version 1, type 1, code 0) and PPP protocol; the
 * length is filled in by fb_finish_pppoe(). */
static void
fb_pppoe(struct fb *f, uint16_t session, uint16_t proto)
{
	f->pppoe = f->len;
	put8(f, 0x11);
	put8(f, 0x00);
	put16(f, session);
	put16(f, 0);
	put16(f, proto);
}

/* PPPoE length: the PPP protocol and everything built after it. */
static void
fb_finish_pppoe(struct fb *f)
{
	set16(f, f->pppoe + 4, (uint16_t)(f->len - f->pppoe - 6));
}

/* One MPLS label stack entry. */
static void
fb_mpls(struct fb *f, uint32_t label, int bos)
{
	put32(f, label << 12 | 5u << 9 | (bos ? 0x100u : 0) | 64);
}

static const uint8_t opt_syn[] = {
	2, 4, 0x05, 0xb4,			/* MSS 1460 */
	4, 2,					/* SACK permitted */
	8, 10, 0x01, 0x02, 0x03, 0x04, 0xa1, 0xa2, 0xa3, 0xa4,	/* TS */
	1,					/* NOP */
	3, 3, 7,				/* window scale 7 */
	253, 4, 0xca, 0xfe,			/* experimental kind: skipped */
};

static const uint8_t opt_ts_aligned[] = {
	1, 1, 8, 10, 0, 0, 0x10, 0x01, 0, 0, 0x20, 0x02,
};

static const uint8_t opt_ts_sack2[] = {
	1, 1, 8, 10, 0, 0, 0x10, 0x01, 0, 0, 0x20, 0x02,
	1, 1, 5, 18,
	0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20, 0x00,
	0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00,	/* block across the wrap */
};

static const uint8_t opt_sack4[] = {
	1, 1, 5, 34,
	0, 0, 0, 1, 0, 0, 0, 2,
	0, 0, 0, 3, 0, 0, 0, 4,
	0, 0, 0, 5, 0, 0, 0, 6,
	0, 0, 0, 7, 0, 0, 0, 8,
};

static void
eth_ip4_tcp(struct fb *f, const uint8_t *opts, uint32_t optlen, uint32_t plen)
{
	fb_init(f);
	fb_eth(f, ET_IPV4, 0, NULL, NULL);
	fb_ip4(f, 5, P_TCP, 0x4000);
	fb_tcp(f, 40000, 80, 0x11223344, 0x55667788, KAPA_TCP_ACK | KAPA_TCP_PSH,
	       0xfaf0, 0, opts, optlen);
	fb_payload(f, plen);
	fb_finish(f);
}

/* Fields every IPv4/TCP frame built with the defaults must show. */
static void
check_ip4_tcp(const struct kapa_pkt *p, const struct fb *f, uint32_t plen)
{
	static const uint8_t zero[12];

	CU_ASSERT_EQUAL(p->cls, KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p->bad, KAPA_BAD_NONE);
	CU_ASSERT_EQUAL(p->family, 4);
	CU_ASSERT_EQUAL(p->ip_proto, P_TCP);
	CU_ASSERT_EQUAL(p->l3_off, f->l3);
	CU_ASSERT_EQUAL(p->l4_off, f->l4);
	CU_ASSERT_EQUAL(p->payload_off, f->l4 + ((f->b[f->l4 + 12] >> 4) * 4u));
	CU_ASSERT_EQUAL(p->payload_len, plen);
	CU_ASSERT(memcmp(p->src, ip4_src, 4) == 0);
	CU_ASSERT(memcmp(p->dst, ip4_dst, 4) == 0);
	CU_ASSERT(memcmp(p->src + 4, zero, 12) == 0);
	CU_ASSERT(memcmp(p->dst + 4, zero, 12) == 0);
}

static void
check_ip6_addrs(const struct kapa_pkt *p)
{
	CU_ASSERT_EQUAL(p->family, 6);
	CU_ASSERT(memcmp(p->src, ip6_src, 16) == 0);
	CU_ASSERT(memcmp(p->dst, ip6_dst, 16) == 0);
}

static int
parse(const struct fb *f, enum kapa_l2_type l2, struct kapa_pkt *p)
{
	/* Stale bytes must not survive into the result. */
	memset(p, 0xa5, sizeof(*p));
	return kapa_pkt_parse(f->b, f->len, l2, p);
}

static void
test_syn_options(void)
{
	struct kapa_pkt p;
	struct fb f;

	eth_ip4_tcp(&f, opt_syn, sizeof(opt_syn), 0);
	f.b[f.l4 + 13] = KAPA_TCP_SYN | KAPA_TCP_ECE | KAPA_TCP_CWR;
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	CU_ASSERT_PTR_EQUAL(p.data, f.b);
	CU_ASSERT_EQUAL(p.len, f.len);
	CU_ASSERT(memcmp(p.eth_dst, mac_dst, 6) == 0);
	CU_ASSERT(memcmp(p.eth_src, mac_src, 6) == 0);
	CU_ASSERT_EQUAL(p.nvlan, 0);
	CU_ASSERT_EQUAL(p.vlan_tpid[0], 0);
	CU_ASSERT_EQUAL(p.vlan_tci[0], 0);
	CU_ASSERT_EQUAL(p.vlan_tpid[1], 0);
	CU_ASSERT_EQUAL(p.vlan_tci[1], 0);
	CU_ASSERT_EQUAL(p.l3_off, 14);
	CU_ASSERT_EQUAL(p.l4_off, 34);
	CU_ASSERT_EQUAL(p.payload_off, 34 + 20 + sizeof(opt_syn));
	check_ip4_tcp(&p, &f, 0);
	CU_ASSERT_EQUAL(p.sport, 40000);
	CU_ASSERT_EQUAL(p.dport, 80);
	CU_ASSERT_EQUAL(p.seq, 0x11223344u);
	CU_ASSERT_EQUAL(p.ack, 0x55667788u);
	CU_ASSERT_EQUAL(p.win, 0xfaf0);
	CU_ASSERT_EQUAL(p.urg, 0);
	CU_ASSERT_EQUAL(p.tcp_flags, KAPA_TCP_SYN | KAPA_TCP_ECE | KAPA_TCP_CWR);
	CU_ASSERT_EQUAL(p.opt.present, KAPA_OPT_MSS | KAPA_OPT_SACK_PERM |
			KAPA_OPT_TS | KAPA_OPT_WSCALE);
	CU_ASSERT_EQUAL(p.opt.mss, 1460);
	CU_ASSERT_EQUAL(p.opt.wscale, 7);
	CU_ASSERT_EQUAL(p.opt.ts_val, 0x01020304u);
	CU_ASSERT_EQUAL(p.opt.ts_ecr, 0xa1a2a3a4u);
	CU_ASSERT_EQUAL(p.opt.nsack, 0);
}

static void
test_data_options(void)
{
	struct kapa_pkt p;
	struct fb f;

	/* NOP NOP TS alone: the aligned fast path. */
	eth_ip4_tcp(&f, opt_ts_aligned, sizeof(opt_ts_aligned), 100);
	f.b[f.l4 + 13] = KAPA_TCP_ACK | KAPA_TCP_URG | KAPA_TCP_FIN;
	set16(&f, f.l4 + 18, 7);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip4_tcp(&p, &f, 100);
	CU_ASSERT_EQUAL(p.tcp_flags, KAPA_TCP_ACK | KAPA_TCP_URG | KAPA_TCP_FIN);
	CU_ASSERT_EQUAL(p.urg, 7);
	CU_ASSERT_EQUAL(p.opt.present, KAPA_OPT_TS);
	CU_ASSERT_EQUAL(p.opt.ts_val, 0x1001u);
	CU_ASSERT_EQUAL(p.opt.ts_ecr, 0x2002u);
	CU_ASSERT_EQUAL(p.opt.nsack, 0);
	CU_ASSERT_EQUAL(p.opt.mss, 0);
	CU_ASSERT_EQUAL(p.opt.wscale, 0);
	CU_ASSERT_EQUAL(memcmp(f.b + p.payload_off, "abcdef", 6), 0);

	/* TS and two SACK blocks, one across the sequence wrap. */
	eth_ip4_tcp(&f, opt_ts_sack2, sizeof(opt_ts_sack2), 1);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip4_tcp(&p, &f, 1);
	CU_ASSERT_EQUAL(p.opt.present, KAPA_OPT_TS | KAPA_OPT_SACK);
	CU_ASSERT_EQUAL(p.opt.ts_val, 0x1001u);
	CU_ASSERT_EQUAL(p.opt.ts_ecr, 0x2002u);
	CU_ASSERT_EQUAL(p.opt.nsack, 2);
	CU_ASSERT_EQUAL(p.opt.sack[0][0], 0x1000u);
	CU_ASSERT_EQUAL(p.opt.sack[0][1], 0x2000u);
	CU_ASSERT_EQUAL(p.opt.sack[1][0], 0xffffff00u);
	CU_ASSERT_EQUAL(p.opt.sack[1][1], 0x100u);

	/* Four SACK blocks: the most 40 option bytes can hold. */
	eth_ip4_tcp(&f, opt_sack4, sizeof(opt_sack4), 0);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.opt.present, KAPA_OPT_SACK);
	CU_ASSERT_EQUAL(p.opt.nsack, 4);
	CU_ASSERT_EQUAL(p.opt.sack[0][0], 1);
	CU_ASSERT_EQUAL(p.opt.sack[0][1], 2);
	CU_ASSERT_EQUAL(p.opt.sack[3][0], 7);
	CU_ASSERT_EQUAL(p.opt.sack[3][1], 8);

	/* No options at all. */
	eth_ip4_tcp(&f, NULL, 0, 5);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip4_tcp(&p, &f, 5);
	CU_ASSERT_EQUAL(p.opt.present, 0);
	CU_ASSERT_EQUAL(p.opt.nsack, 0);
	CU_ASSERT_EQUAL(p.opt.ts_val, 0);
}

static void
test_option_edges(void)
{
	/* EOL ends parsing: the bytes after it are not options (even bad ones). */
	static const uint8_t eol[] = { 1, 0, 2, 4, 0x05, 0xb4, 0, 0 };
	static const uint8_t eol_junk[] = { 0, 5, 0, 0 };
	/* Known kinds with the wrong length are skipped, the rest still read. */
	static const uint8_t wrong_len[] = {
		2, 3, 9,			/* MSS of length 3 */
		3, 4, 1, 1,			/* window scale of length 4 */
		5, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0,	/* SACK 12 != 2+8n */
		4, 3, 0,			/* SACK-permitted of length 3 */
		8, 9, 0, 0, 0, 0, 0, 0, 0,	/* TS of length 9 */
		2, 4, 0x02, 0x18,		/* a good MSS 536 */
		0,				/* EOL */
	};
	static const uint8_t nops[] = { 1, 1, 1, 1, 1, 1, 1, 1 };
	/* An unknown kind with a large (in-bounds) length is jumped over. */
	static const uint8_t unknown[] = { 99, 10, 8, 10, 0, 0, 0, 0, 0, 0,
					   3, 3, 14, 0, 0, 0 };
	struct kapa_pkt p;
	struct fb f;

	eth_ip4_tcp(&f, eol, sizeof(eol), 0);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.opt.present, 0);

	eth_ip4_tcp(&f, eol_junk, sizeof(eol_junk), 0);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.opt.present, 0);

	eth_ip4_tcp(&f, wrong_len, sizeof(wrong_len), 0);
	CU_ASSERT_EQUAL(sizeof(wrong_len) % 4, 0);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.opt.present, KAPA_OPT_MSS);
	CU_ASSERT_EQUAL(p.opt.mss, 536);
	CU_ASSERT_EQUAL(p.opt.nsack, 0);

	eth_ip4_tcp(&f, nops, sizeof(nops), 0);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.opt.present, 0);

	eth_ip4_tcp(&f, unknown, sizeof(unknown), 0);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.opt.present, KAPA_OPT_WSCALE);
	CU_ASSERT_EQUAL(p.opt.wscale, 14);
}

static void
test_bad_options(void)
{
	static const uint8_t len0[] = { 1, 1, 30, 0 };
	static const uint8_t len1[] = { 30, 1, 1, 1 };
	static const uint8_t past[] = { 1, 1, 1, 1, 8, 10, 0, 0 };	/* TS past */
	static const uint8_t no_len[] = { 1, 1, 1, 2 };	/* kind in the last byte */
	static const uint8_t *cases[] = { len0, len1, past, no_len };
	static const uint32_t sizes[] = { sizeof(len0), sizeof(len1),
					  sizeof(past), sizeof(no_len) };
	struct kapa_pkt p;
	struct fb f;
	unsigned int i;

	for (i = 0; i < 4; i++) {
		eth_ip4_tcp(&f, cases[i], sizes[i], 10);
		CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
		CU_ASSERT_EQUAL(p.bad, KAPA_BAD_TCP_OPT);
		/* The layers below were read and stay usable for counting. */
		CU_ASSERT_EQUAL(p.family, 4);
		CU_ASSERT_EQUAL(p.sport, 40000);
		CU_ASSERT_EQUAL(p.l4_off, 34);
	}
}

static void
test_vlan(void)
{
	static const struct {
		unsigned int n;
		uint16_t tpid[2], tci[2];
	} cases[] = {
		{ 1, { ET_VLAN, 0 }, { 0x2064, 0 } },
		{ 2, { ET_QINQ, ET_VLAN }, { 0x0fff, 0xe001 } },
		{ 2, { ET_QINQ_OLD, ET_VLAN }, { 0x0010, 0x0020 } },
		{ 2, { ET_VLAN, ET_VLAN }, { 0x0001, 0x0002 } },
	};
	struct kapa_pkt p;
	struct fb f;
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fb_init(&f);
		fb_eth(&f, ET_IPV4, cases[i].n, cases[i].tpid, cases[i].tci);
		fb_ip4(&f, 5, P_TCP, 0);
		fb_tcp(&f, 1, 2, 3, 4, KAPA_TCP_ACK, 5, 0, NULL, 0);
		fb_payload(&f, 3);
		fb_finish(&f);
		CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
		CU_ASSERT_EQUAL(p.nvlan, cases[i].n);
		CU_ASSERT_EQUAL(p.vlan_tpid[0], cases[i].tpid[0]);
		CU_ASSERT_EQUAL(p.vlan_tci[0], cases[i].tci[0]);
		CU_ASSERT_EQUAL(p.vlan_tpid[1], cases[i].tpid[1]);
		CU_ASSERT_EQUAL(p.vlan_tci[1], cases[i].tci[1]);
		CU_ASSERT_EQUAL(p.l3_off, 14 + 4 * cases[i].n);
		check_ip4_tcp(&p, &f, 3);
		CU_ASSERT(memcmp(p.eth_src, mac_src, 6) == 0);
	}

	/* Deeper stacks, up to KAPA_MAX_VLAN_DEPTH tags of any TPID: all are
	 * counted, the outer two decoded; one more tag is refused. */
	{
		static const uint16_t tp[9] = { ET_QINQ, ET_QINQ_OLD, ET_VLAN,
						ET_VLAN, ET_QINQ, ET_VLAN,
						ET_QINQ_OLD, ET_VLAN, ET_VLAN };
		static const uint16_t tc[9] = { 0x0101, 0x0202, 3, 4, 5, 6, 7,
						8, 9 };
		static const unsigned int depth[] = { 3, 8, 9 };

		CU_ASSERT_EQUAL(KAPA_MAX_VLAN_DEPTH, 8);
		for (i = 0; i < 3; i++) {
			fb_init(&f);
			fb_eth(&f, ET_IPV4, depth[i], tp, tc);
			fb_ip4(&f, 5, P_TCP, 0);
			fb_tcp(&f, 1, 2, 3, 4, KAPA_TCP_ACK, 5, 0, NULL, 0);
			fb_payload(&f, 7);
			fb_finish(&f);
			if (depth[i] > KAPA_MAX_VLAN_DEPTH) {
				CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p),
						KAPA_PKT_MALFORMED);
				CU_ASSERT_EQUAL(p.bad, KAPA_BAD_VLAN_DEPTH);
				CU_ASSERT_EQUAL(p.nvlan, KAPA_MAX_VLAN_DEPTH);
				CU_ASSERT_EQUAL(p.payload_len, 0);
				CU_ASSERT_EQUAL(p.family, 0);
			} else {
				CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p),
						KAPA_PKT_TCP);
				CU_ASSERT_EQUAL(p.nvlan, depth[i]);
				CU_ASSERT_EQUAL(p.l3_off, 14 + 4 * depth[i]);
				check_ip4_tcp(&p, &f, 7);
				CU_ASSERT_EQUAL(p.encap, 0);
				CU_ASSERT_EQUAL(p.pppoe_len_off, 0);
			}
			CU_ASSERT_EQUAL(p.vlan_tpid[0], ET_QINQ);
			CU_ASSERT_EQUAL(p.vlan_tci[0], 0x0101);
			CU_ASSERT_EQUAL(p.vlan_tpid[1], ET_QINQ_OLD);
			CU_ASSERT_EQUAL(p.vlan_tci[1], 0x0202);
			CU_ASSERT(memcmp(p.eth_src, mac_src, 6) == 0);
		}

		/* IPv6 under eight tags, and ARP under three. */
		fb_init(&f);
		fb_eth(&f, ET_IPV6, 8, tp, tc);
		fb_ip6(&f, P_TCP);
		fb_tcp(&f, 1, 2, 3, 4, KAPA_TCP_ACK, 5, 0, NULL, 0);
		fb_payload(&f, 2);
		fb_finish(&f);
		CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
		CU_ASSERT_EQUAL(p.l3_off, 46);
		CU_ASSERT_EQUAL(p.payload_len, 2);
		check_ip6_addrs(&p);

		fb_init(&f);
		fb_eth(&f, ET_ARP, 3, tp, tc);
		fb_pad(&f, 64);
		CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_IP);
		CU_ASSERT_EQUAL(p.nvlan, 3);
		CU_ASSERT_EQUAL(p.l3_off, 26);
	}

	/* Tagged non-IP is still non-IP, with its tag reported. */
	{
		static const uint16_t tp[1] = { ET_VLAN };
		static const uint16_t tc[1] = { 42 };

		fb_init(&f);
		fb_eth(&f, ET_ARP, 1, tp, tc);
		fb_pad(&f, 60);
		CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_IP);
		CU_ASSERT_EQUAL(p.nvlan, 1);
		CU_ASSERT_EQUAL(p.vlan_tci[0], 42);
		CU_ASSERT_EQUAL(p.l3_off, 18);
		CU_ASSERT_EQUAL(p.family, 0);
	}
}

/* Ethernet, @p ntags tags, PPPoE session carrying TCP over IPv4 or IPv6
 * with @p plen payload bytes; PPPoE length exact. */
static void
eth_pppoe_tcp(struct fb *f, unsigned int ntags, int family, uint32_t plen)
{
	static const uint16_t tp[2] = { ET_VLAN, ET_VLAN };
	static const uint16_t tc[2] = { 939, 744 };

	fb_init(f);
	fb_eth(f, ET_PPPOE_SES, ntags, tp, tc);
	fb_pppoe(f, 0xdde5, family == 4 ? PPP_IPV4 : PPP_IPV6);
	if (family == 4)
		fb_ip4(f, 5, P_TCP, 0x4000);
	else
		fb_ip6(f, P_TCP);
	fb_tcp(f, 5068, 80, 0x9cd2de46u, 0, KAPA_TCP_SYN, 8192, 0, opt_syn,
	       sizeof(opt_syn));
	fb_payload(f, plen);
	fb_finish(f);
	fb_finish_pppoe(f);
}

static void
test_pppoe(void)
{
	struct kapa_pkt p;
	struct fb f;

	/* IPv4, untagged: the PPPoE length field sits 4 bytes into the
	 * header, 4 bytes before the IP header. */
	eth_pppoe_tcp(&f, 0, 4, 10);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip4_tcp(&p, &f, 10);
	CU_ASSERT_EQUAL(p.l3_off, 22);
	CU_ASSERT_EQUAL(p.encap, KAPA_ENCAP_PPPOE);
	CU_ASSERT_EQUAL(p.pppoe_len_off, 18);
	CU_ASSERT_EQUAL((uint32_t)(f.b[p.pppoe_len_off] << 8 |
				   f.b[p.pppoe_len_off + 1]), f.len - 22 + 2);
	CU_ASSERT_EQUAL(p.nvlan, 0);
	CU_ASSERT_EQUAL(p.sport, 5068);
	CU_ASSERT_EQUAL(p.opt.mss, 1460);

	/* Inside two tags (one_http_stream_rst.pcap's shape), and IPv6. */
	eth_pppoe_tcp(&f, 2, 4, 0);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip4_tcp(&p, &f, 0);
	CU_ASSERT_EQUAL(p.nvlan, 2);
	CU_ASSERT_EQUAL(p.vlan_tci[0], 939);
	CU_ASSERT_EQUAL(p.vlan_tci[1], 744);
	CU_ASSERT_EQUAL(p.l3_off, 30);
	CU_ASSERT_EQUAL(p.pppoe_len_off, 26);
	CU_ASSERT_EQUAL(p.encap, KAPA_ENCAP_PPPOE);

	eth_pppoe_tcp(&f, 0, 6, 5);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip6_addrs(&p);
	CU_ASSERT_EQUAL(p.l3_off, 22);
	CU_ASSERT_EQUAL(p.l4_off, 62);
	CU_ASSERT_EQUAL(p.payload_len, 5);
	CU_ASSERT_EQUAL(p.encap, KAPA_ENCAP_PPPOE);

	eth_pppoe_tcp(&f, 2, 6, 0);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip6_addrs(&p);
	CU_ASSERT_EQUAL(p.l3_off, 30);
	CU_ASSERT_EQUAL(p.nvlan, 2);

	/* Ethernet padding after the PPPoE payload, and PPPoE padding after
	 * the IP datagram: the IP length wins both times. */
	eth_pppoe_tcp(&f, 0, 4, 1);
	fb_pad(&f, 96);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.payload_len, 1);
	set16(&f, f.pppoe + 4, (uint16_t)(f.len - f.pppoe - 6));
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.payload_len, 1);

	/* A PPPoE length one byte short of the IP datagram, one byte past
	 * the buffer, too short for the IP header, or for the protocol. */
	eth_pppoe_tcp(&f, 2, 4, 3);
	set16(&f, f.pppoe + 4, (uint16_t)(f.len - f.pppoe - 6 - 1));
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_PPPOE_LEN);
	CU_ASSERT_EQUAL(p.payload_len, 0);
	CU_ASSERT_EQUAL(p.sport, 0);
	set16(&f, f.pppoe + 4, (uint16_t)(f.len - f.pppoe - 6 + 1));
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_PPPOE_LEN);
	set16(&f, f.pppoe + 4, 2 + 10);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_PPPOE_LEN);
	set16(&f, f.pppoe + 4, 1);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_PPPOE_LEN);
	eth_pppoe_tcp(&f, 0, 6, 3);
	set16(&f, f.pppoe + 4, 2 + 39);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_PPPOE_LEN);
	set16(&f, f.pppoe + 4, (uint16_t)(f.len - f.pppoe - 6 - 1));
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_PPPOE_LEN);

	/* The IP datagram's own errors keep their names inside PPPoE. */
	eth_pppoe_tcp(&f, 0, 4, 3);
	f.b[f.l3] = 0x44;
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP4_IHL);
	f.b[f.l3] = 0x65;
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP_VERSION);

	/* A bad version/type or a discovery code on the session ethertype. */
	eth_pppoe_tcp(&f, 0, 4, 3);
	f.b[f.pppoe] = 0x12;
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_PPPOE_HDR);
	CU_ASSERT_EQUAL(p.family, 0);
	f.b[f.pppoe] = 0x11;
	f.b[f.pppoe + 1] = 0x09;	/* PADI */
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_PPPOE_HDR);

	/* PPP control protocols and PPPoE discovery are not IP. */
	fb_init(&f);
	fb_eth(&f, ET_PPPOE_SES, 0, NULL, NULL);
	fb_pppoe(&f, 7, PPP_LCP);
	put32(&f, 0x01010008);	/* Configure-Request, no options... */
	put32(&f, 0x05060000);	/* ...and a magic number's start */
	fb_finish_pppoe(&f);
	fb_pad(&f, 60);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_IP);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_NONE);
	CU_ASSERT_EQUAL(p.family, 0);
	CU_ASSERT_EQUAL(p.l3_off, 22);
	CU_ASSERT_EQUAL(p.encap, KAPA_ENCAP_PPPOE);
	set16(&f, f.pppoe + 6, PPP_IPCP);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_IP);
	/* A compressed (1-byte) protocol field: not what RFC 2516 allows
	 * for IP, and not taken for it. */
	eth_pppoe_tcp(&f, 0, 4, 3);
	f.b[f.pppoe + 6] = 0x21;
	f.b[f.pppoe + 7] = 0x45;
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_IP);

	fb_init(&f);
	fb_eth(&f, ET_PPPOE_DISC, 1, (const uint16_t[]){ ET_VLAN },
	       (const uint16_t[]){ 5 });
	put8(&f, 0x11);
	put8(&f, 0x09);		/* PADI */
	put16(&f, 0);
	put16(&f, 4);
	put32(&f, 0x01010000);	/* Service-Name, empty */
	fb_pad(&f, 60);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_IP);
	CU_ASSERT_EQUAL(p.l3_off, 18);
	CU_ASSERT_EQUAL(p.encap, 0);
	CU_ASSERT_EQUAL(p.pppoe_len_off, 0);
}

/* Ethernet, @p ntags tags, @p nlabels MPLS labels (the last with the
 * bottom-of-stack bit), TCP over IPv4 or IPv6. */
static void
eth_mpls_tcp(struct fb *f, unsigned int ntags, unsigned int nlabels,
	     int family, uint32_t plen)
{
	static const uint16_t tp[2] = { ET_QINQ, ET_VLAN };
	static const uint16_t tc[2] = { 10, 20 };
	unsigned int i;

	fb_init(f);
	fb_eth(f, ET_MPLS, ntags, tp, tc);
	for (i = 0; i < nlabels; i++)
		fb_mpls(f, 16 + i, i + 1 == nlabels);
	if (family == 4)
		fb_ip4(f, 5, P_TCP, 0);
	else
		fb_ip6(f, P_TCP);
	fb_tcp(f, 40000, 80, 1, 2, KAPA_TCP_ACK, 5, 0, opt_ts_aligned,
	       sizeof(opt_ts_aligned));
	fb_payload(f, plen);
	fb_finish(f);
}

static void
test_mpls(void)
{
	struct kapa_pkt p;
	struct fb f;

	eth_mpls_tcp(&f, 0, 1, 4, 9);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip4_tcp(&p, &f, 9);
	CU_ASSERT_EQUAL(p.l3_off, 18);
	CU_ASSERT_EQUAL(p.encap, KAPA_ENCAP_MPLS);
	CU_ASSERT_EQUAL(p.pppoe_len_off, 0);
	CU_ASSERT_EQUAL(p.opt.ts_val, 0x1001u);

	eth_mpls_tcp(&f, 0, 3, 4, 0);
	set16(&f, 12, ET_MPLS_MC);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip4_tcp(&p, &f, 0);
	CU_ASSERT_EQUAL(p.l3_off, 26);

	eth_mpls_tcp(&f, 0, 1, 6, 4);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip6_addrs(&p);
	CU_ASSERT_EQUAL(p.l3_off, 18);
	CU_ASSERT_EQUAL(p.payload_len, 4);

	eth_mpls_tcp(&f, 2, 3, 6, 4);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip6_addrs(&p);
	CU_ASSERT_EQUAL(p.l3_off, 22 + 12);
	CU_ASSERT_EQUAL(p.nvlan, 2);
	CU_ASSERT_EQUAL(p.vlan_tci[1], 20);
	CU_ASSERT_EQUAL(p.encap, KAPA_ENCAP_MPLS);

	/* The bound: a bottom label eighth is fine, none in eight is not. */
	eth_mpls_tcp(&f, 0, KAPA_MAX_MPLS_DEPTH, 4, 1);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.l3_off, 14 + 4 * KAPA_MAX_MPLS_DEPTH);
	check_ip4_tcp(&p, &f, 1);
	eth_mpls_tcp(&f, 0, KAPA_MAX_MPLS_DEPTH + 1, 4, 1);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_MPLS_DEPTH);
	CU_ASSERT_EQUAL(p.family, 0);
	CU_ASSERT_EQUAL(p.payload_len, 0);

	/* Not IP after the stack: a pseudowire control word (nibble 0) whose
	 * Ethernet frame carries ARP (an IP one is followed: test_tunnels), an
	 * associated channel (1), anything but 4 and 6. */
	fb_init(&f);
	fb_eth(&f, ET_MPLS, 0, NULL, NULL);
	fb_mpls(&f, 100, 0);
	fb_mpls(&f, 200, 1);
	put32(&f, 0x00000001);	/* control word, then an Ethernet frame */
	putn(&f, mac_dst, 6);
	putn(&f, mac_src, 6);
	put16(&f, ET_ARP);
	fb_pad(&f, 80);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_IP);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_NONE);
	CU_ASSERT_EQUAL(p.l3_off, 22);
	CU_ASSERT_EQUAL(p.family, 0);
	CU_ASSERT_EQUAL(p.encap, KAPA_ENCAP_MPLS);
	f.b[22] = 0x10;
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_IP);
	f.b[22] = 0x50;
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_IP);
	/* Nothing at all after the bottom label. */
	f.len = 22;
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_MPLS_TRUNC);

	/* The first nibble decides, the ethertype does not. */
	eth_mpls_tcp(&f, 0, 1, 4, 9);
	f.b[f.l3] = 0x65;
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP6_LEN);
}

static void
test_ip4_options_and_padding(void)
{
	struct kapa_pkt p;
	struct fb f;

	/* IHL 15: 40 bytes of IPv4 options. */
	fb_init(&f);
	fb_eth(&f, ET_IPV4, 0, NULL, NULL);
	fb_ip4(&f, 15, P_TCP, 0);
	fb_tcp(&f, 443, 51000, 9, 10, KAPA_TCP_ACK, 11, 0, opt_ts_aligned,
	       sizeof(opt_ts_aligned));
	fb_payload(&f, 7);
	fb_finish(&f);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.l4_off, 14 + 60);
	check_ip4_tcp(&p, &f, 7);
	CU_ASSERT_EQUAL(p.sport, 443);
	CU_ASSERT_EQUAL(p.dport, 51000);

	/* A bare ACK padded to the Ethernet minimum: the padding is no payload. */
	eth_ip4_tcp(&f, NULL, 0, 0);
	fb_pad(&f, 60);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip4_tcp(&p, &f, 0);
	CU_ASSERT_EQUAL(p.len, 60);

	eth_ip4_tcp(&f, NULL, 0, 2);
	fb_pad(&f, 60);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip4_tcp(&p, &f, 2);

	/* Padding also does not give a data offset room it does not have:
	 * doff 15 (60 bytes) with 20 bytes of TCP in the IP length. */
	eth_ip4_tcp(&f, NULL, 0, 0);
	f.b[f.l4 + 12] = 0xf0;
	fb_pad(&f, 200);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_TCP_DOFF);
}

static void
test_ip4_fragments(void)
{
	static const uint16_t frags[] = { 0x2000, 0x00b9, 0x20b9, 0x6000, 0x1fff };
	struct kapa_pkt p;
	struct fb f;
	unsigned int i;

	for (i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		eth_ip4_tcp(&f, NULL, 0, 16);
		set16(&f, f.l3 + 6, frags[i]);
		CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_FRAGMENT);
		CU_ASSERT_EQUAL(p.family, 4);
		CU_ASSERT_EQUAL(p.ip_proto, P_TCP);
		CU_ASSERT(memcmp(p.src, ip4_src, 4) == 0);
		CU_ASSERT_EQUAL(p.sport, 0);
		CU_ASSERT_EQUAL(p.payload_len, 0);
	}
	/* DF alone, and the reserved bit, are not fragmentation. */
	eth_ip4_tcp(&f, NULL, 0, 16);
	set16(&f, f.l3 + 6, 0xc000);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);

	/* A UDP fragment is a fragment first. */
	fb_init(&f);
	fb_eth(&f, ET_IPV4, 0, NULL, NULL);
	fb_ip4(&f, 5, P_UDP, 0x2000);
	fb_payload(&f, 30);
	fb_finish(&f);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_FRAGMENT);
	CU_ASSERT_EQUAL(p.ip_proto, P_UDP);
}

static void
test_non_tcp(void)
{
	struct kapa_pkt p;
	struct fb f;

	fb_init(&f);
	fb_eth(&f, ET_IPV4, 0, NULL, NULL);
	fb_ip4(&f, 6, P_UDP, 0);
	fb_payload(&f, 12);
	fb_finish(&f);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_TCP);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_NONE);
	CU_ASSERT_EQUAL(p.family, 4);
	CU_ASSERT_EQUAL(p.ip_proto, P_UDP);
	CU_ASSERT_EQUAL(p.l3_off, 14);
	CU_ASSERT_EQUAL(p.l4_off, 14 + 24);
	CU_ASSERT_EQUAL(p.sport, 0);
	CU_ASSERT_EQUAL(p.payload_len, 0);
	CU_ASSERT_EQUAL(p.opt.present, 0);

	fb_init(&f);
	fb_eth(&f, ET_IPV6, 0, NULL, NULL);
	fb_ip6(&f, P_ICMPV6);
	fb_payload(&f, 8);
	fb_finish(&f);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_TCP);
	CU_ASSERT_EQUAL(p.ip_proto, P_ICMPV6);
	CU_ASSERT_EQUAL(p.l4_off, 54);
	check_ip6_addrs(&p);

	/* ARP, and an 802.3 frame whose type field is a length. */
	fb_init(&f);
	fb_eth(&f, ET_ARP, 0, NULL, NULL);
	fb_pad(&f, 60);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_IP);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_NONE);
	CU_ASSERT_EQUAL(p.family, 0);
	CU_ASSERT_EQUAL(p.l3_off, 14);
	CU_ASSERT(memcmp(p.eth_dst, mac_dst, 6) == 0);

	fb_init(&f);
	fb_eth(&f, 0x002e, 0, NULL, NULL);
	fb_pad(&f, 60);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_IP);

	/* A bare Ethernet header with nothing after it. */
	fb_init(&f);
	fb_eth(&f, ET_ARP, 0, NULL, NULL);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_IP);
}

/* Ethernet, IPv6, then @p n extension headers of the given kinds, then TCP. */
static void
ip6_chain(struct fb *f, const uint8_t *kinds, const uint8_t *units,
	  unsigned int n, uint8_t last, uint32_t plen)
{
	unsigned int i;

	fb_init(f);
	fb_eth(f, ET_IPV6, 0, NULL, NULL);
	fb_ip6(f, n != 0 ? kinds[0] : last);
	for (i = 0; i < n; i++)
		fb_ext(f, kinds[i], i + 1 < n ? kinds[i + 1] : last, units[i]);
	if (last == P_TCP)
		fb_tcp(f, 40001, 8080, 0xfffffff0u, 1, KAPA_TCP_ACK, 1024, 0,
		       opt_ts_aligned, sizeof(opt_ts_aligned));
	fb_payload(f, plen);
	fb_finish(f);
}

static void
test_ip6_ext(void)
{
	static const uint8_t kinds[] = { P_HOPOPTS, P_ROUTING, P_DSTOPTS, P_AH,
					 P_DSTOPTS };
	static const uint8_t units[] = { 1, 0, 2, 4, 0 };
	/* 16 + 8 + 24 + 24 + 8 bytes of extension headers */
	const uint32_t ext = 80;
	struct kapa_pkt p;
	struct fb f;

	ip6_chain(&f, kinds, units, 5, P_TCP, 33);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_NONE);
	check_ip6_addrs(&p);
	CU_ASSERT_EQUAL(p.ip_proto, P_TCP);
	CU_ASSERT_EQUAL(p.l3_off, 14);
	CU_ASSERT_EQUAL(p.l4_off, 14 + 40 + ext);
	CU_ASSERT_EQUAL(p.l4_off, f.l4);
	CU_ASSERT_EQUAL(p.payload_off, f.l4 + 32);
	CU_ASSERT_EQUAL(p.payload_len, 33);
	CU_ASSERT_EQUAL(p.sport, 40001);
	CU_ASSERT_EQUAL(p.dport, 8080);
	CU_ASSERT_EQUAL(p.seq, 0xfffffff0u);
	CU_ASSERT_EQUAL(p.ack, 1);
	CU_ASSERT_EQUAL(p.win, 1024);
	CU_ASSERT_EQUAL(p.opt.present, KAPA_OPT_TS);

	/* No extension header at all, and padding after the datagram. */
	ip6_chain(&f, NULL, NULL, 0, P_TCP, 0);
	fb_pad(&f, 120);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.l4_off, 54);
	CU_ASSERT_EQUAL(p.payload_len, 0);

	/* Eight extension headers are walked; a ninth is too many. */
	{
		static const uint8_t k9[9] = { P_DSTOPTS, P_DSTOPTS, P_DSTOPTS,
					       P_DSTOPTS, P_DSTOPTS, P_DSTOPTS,
					       P_DSTOPTS, P_DSTOPTS, P_DSTOPTS };
		static const uint8_t u9[9];

		ip6_chain(&f, k9, u9, 8, P_TCP, 1);
		CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
		CU_ASSERT_EQUAL(p.l4_off, 54 + 64);
		ip6_chain(&f, k9, u9, 9, P_TCP, 1);
		CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
		CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP6_EXT);
	}
}

static void
test_ip6_other_ends(void)
{
	static const uint8_t hbh_frag[] = { P_HOPOPTS, P_FRAGMENT };
	static const uint8_t dst[] = { P_DSTOPTS };
	static const uint8_t u2[2];
	struct kapa_pkt p;
	struct fb f;

	/* A fragment header anywhere in the chain: FRAGMENT, with the
	 * fragmented protocol. */
	ip6_chain(&f, hbh_frag, u2, 2, P_TCP, 10);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_FRAGMENT);
	CU_ASSERT_EQUAL(p.ip_proto, P_TCP);
	check_ip6_addrs(&p);
	CU_ASSERT_EQUAL(p.sport, 0);

	ip6_chain(&f, hbh_frag + 1, u2, 1, P_UDP, 10);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_FRAGMENT);
	CU_ASSERT_EQUAL(p.ip_proto, P_UDP);

	/* ESP is opaque, 59 has nothing after it: both NON_TCP. */
	ip6_chain(&f, NULL, NULL, 0, P_ESP, 40);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_TCP);
	CU_ASSERT_EQUAL(p.ip_proto, P_ESP);
	ip6_chain(&f, dst, u2, 1, P_NONE, 8);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_TCP);
	CU_ASSERT_EQUAL(p.ip_proto, P_NONE);
	CU_ASSERT_EQUAL(p.l4_off, 54 + 8);
}

static void
test_ip6_bad(void)
{
	static const uint8_t hbh[] = { P_HOPOPTS };
	static const uint8_t big[] = { 3 };
	static const uint8_t u0[] = { 0 };
	struct kapa_pkt p;
	struct fb f;

	/* Payload length 0 (a jumbogram) and past the buffer. */
	ip6_chain(&f, NULL, NULL, 0, P_TCP, 10);
	set16(&f, f.l3 + 4, 0);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP6_LEN);
	ip6_chain(&f, NULL, NULL, 0, P_TCP, 10);
	set16(&f, f.l3 + 4, (uint16_t)(f.len - f.l3 - 40 + 1));
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP6_LEN);

	/* A hop-by-hop header that claims 32 bytes in a 28-byte payload. */
	ip6_chain(&f, hbh, big, 1, P_UDP, 0);
	set16(&f, f.l3 + 4, 28);
	f.len = f.l3 + 40 + 28;
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP6_EXT);

	/* A chain that ends right after an extension header that says more
	 * follows, and one where the payload ends inside its first 8 bytes. */
	ip6_chain(&f, hbh, u0, 1, P_ROUTING, 0);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP6_EXT);
	ip6_chain(&f, hbh, u0, 1, P_TCP, 0);
	set16(&f, f.l3 + 4, 7);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP6_EXT);

	/* TCP right after the IPv6 header, shorter than 20 bytes. */
	ip6_chain(&f, NULL, NULL, 0, P_TCP, 0);
	set16(&f, f.l3 + 4, 19);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_TCP_TRUNC);
}

static void
test_l3_entry(void)
{
	static const uint8_t zero6[6];
	struct kapa_pkt p;
	struct fb f;

	/* Bare IPv4 (as LINUX_SLL/RAW captures hand it over). */
	fb_init(&f);
	fb_ip4(&f, 5, P_TCP, 0);
	fb_tcp(&f, 1000, 2000, 1, 2, KAPA_TCP_RST, 0, 0, NULL, 0);
	fb_finish(&f);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L3_IPV4, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.l3_off, 0);
	CU_ASSERT_EQUAL(p.l4_off, 20);
	CU_ASSERT_EQUAL(p.payload_off, 40);
	CU_ASSERT(memcmp(p.eth_dst, zero6, 6) == 0);
	CU_ASSERT(memcmp(p.eth_src, zero6, 6) == 0);
	CU_ASSERT_EQUAL(p.nvlan, 0);
	CU_ASSERT_EQUAL(p.tcp_flags, KAPA_TCP_RST);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L3_RAW, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.family, 4);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L3_IPV6, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP_VERSION);

	/* Bare IPv6. */
	fb_init(&f);
	fb_ip6(&f, P_TCP);
	fb_tcp(&f, 1000, 2000, 1, 2, KAPA_TCP_SYN, 0, 0, opt_syn, sizeof(opt_syn));
	fb_finish(&f);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L3_IPV6, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.l4_off, 40);
	CU_ASSERT_EQUAL(p.opt.mss, 1460);
	check_ip6_addrs(&p);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L3_RAW, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.family, 6);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L3_IPV4, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP_VERSION);

	/* Versions other than 4 and 6, and nothing at all. */
	f.b[0] = 0x50;
	CU_ASSERT_EQUAL(parse(&f, KAPA_L3_RAW, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP_VERSION);
	f.len = 0;
	CU_ASSERT_EQUAL(parse(&f, KAPA_L3_RAW, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP4_TRUNC);

	/* A start layer outside the enum reads nothing. */
	eth_ip4_tcp(&f, NULL, 0, 4);
	CU_ASSERT_EQUAL(parse(&f, (enum kapa_l2_type)7, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_ETH_TRUNC);
	CU_ASSERT_EQUAL(p.family, 0);
	CU_ASSERT_EQUAL(p.sport, 0);

	/* An ethertype that disagrees with the version nibble. */
	eth_ip4_tcp(&f, NULL, 0, 40);
	set16(&f, 12, ET_IPV6);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP_VERSION);
	ip6_chain(&f, NULL, NULL, 0, P_TCP, 0);
	set16(&f, 12, ET_IPV4);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP_VERSION);
}

static void
test_ip4_bad(void)
{
	struct kapa_pkt p;
	struct fb f;

	eth_ip4_tcp(&f, NULL, 0, 0);
	f.b[f.l3] = 0x44;	/* IHL 4 */
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP4_IHL);
	CU_ASSERT_EQUAL(p.family, 0);

	fb_init(&f);
	fb_eth(&f, ET_IPV4, 0, NULL, NULL);
	fb_ip4(&f, 5, P_TCP, 0);
	fb_payload(&f, 30);		/* 50 bytes of IP */
	fb_finish(&f);
	f.b[f.l3] = 0x4f;	/* IHL 15 = 60 bytes, more than there is */
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP4_IHL);

	eth_ip4_tcp(&f, NULL, 0, 0);
	set16(&f, f.l3 + 2, 19);	/* total length below IHL */
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP4_LEN);

	eth_ip4_tcp(&f, NULL, 0, 10);
	set16(&f, f.l3 + 2, (uint16_t)(f.len - f.l3 + 1));	/* snap-length cut */
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP4_LEN);

	/* Total length exactly IHL: an IP header with no TCP header. */
	eth_ip4_tcp(&f, NULL, 0, 10);
	set16(&f, f.l3 + 2, 20);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_TCP_TRUNC);
}

static void
test_tcp_bad(void)
{
	struct kapa_pkt p;
	struct fb f;

	eth_ip4_tcp(&f, NULL, 0, 10);
	f.b[f.l4 + 12] = 0x40;	/* doff 4 */
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_TCP_DOFF);
	/* what was read before the bad field is still reported */
	CU_ASSERT_EQUAL(p.sport, 40000);
	CU_ASSERT_EQUAL(p.seq, 0x11223344u);

	eth_ip4_tcp(&f, NULL, 0, 39);
	f.b[f.l4 + 12] = 0xf0;	/* doff 60 > 59 bytes of segment */
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_TCP_DOFF);

	/* doff exactly the whole segment is fine: no payload. */
	eth_ip4_tcp(&f, NULL, 0, 40);
	f.b[f.l4 + 12] = 0xf0;
	memset(f.b + f.l4 + 20, 1, 40);	/* NOP options */
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.payload_len, 0);
	CU_ASSERT_EQUAL(p.payload_off, f.len);

	eth_ip4_tcp(&f, NULL, 0, 1);
	set16(&f, f.l4, 0);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_TCP_PORT);
	eth_ip4_tcp(&f, NULL, 0, 1);
	set16(&f, f.l4 + 2, 0);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_TCP_PORT);
	CU_ASSERT_EQUAL(p.payload_len, 1);
}

/* Parse @p f cut to every length 0..len, each copy in an exact-size heap
 * buffer. @p expect gives the reason a cut at n must produce (KAPA_BAD_NONE:
 * the full class @p full_cls). */
static void
cut_everywhere(const struct fb *f, enum kapa_l2_type l2, int full_cls,
	       enum kapa_pkt_bad (*expect)(const struct fb *, uint32_t))
{
	struct kapa_pkt p;
	uint32_t n;
	uint8_t *buf;
	enum kapa_pkt_bad why;
	int cls;

	for (n = 0; n <= f->len; n++) {
		buf = malloc(n);
		CU_ASSERT_FATAL(n == 0 || buf != NULL);
		if (n != 0)
			memcpy(buf, f->b, n);
		memset(&p, 0x5a, sizeof(p));
		cls = kapa_pkt_parse(buf, n, l2, &p);
		why = expect(f, n);
		if (why == KAPA_BAD_NONE) {
			CU_ASSERT_EQUAL(cls, full_cls);
		} else {
			CU_ASSERT_EQUAL(cls, KAPA_PKT_MALFORMED);
			CU_ASSERT_EQUAL(p.bad, why);
		}
		CU_ASSERT_EQUAL(p.cls, cls);
		CU_ASSERT_EQUAL(p.len, n);
		CU_ASSERT(p.l3_off <= n);
		CU_ASSERT(p.l4_off <= n);
		CU_ASSERT((uint64_t)p.payload_off + p.payload_len <= n);
		free(buf);
	}
}

/* Ethernet + IPv4 with options + TCP with options + payload. */
static enum kapa_pkt_bad
expect_eth_ip4(const struct fb *f, uint32_t n)
{
	uint32_t ihl = (f->b[f->l3] & 0x0f) * 4u;

	if (n < 14)
		return KAPA_BAD_ETH_TRUNC;
	if (n < f->l3 + 20)
		return KAPA_BAD_IP4_TRUNC;
	if (n < f->l3 + ihl)
		return KAPA_BAD_IP4_IHL;
	if (n < f->len)
		return KAPA_BAD_IP4_LEN;
	return KAPA_BAD_NONE;
}

/* QinQ + IPv6 + extension headers + TCP. */
static enum kapa_pkt_bad
expect_qinq_ip6(const struct fb *f, uint32_t n)
{
	if (n < 14)
		return KAPA_BAD_ETH_TRUNC;
	if (n < 22)
		return KAPA_BAD_VLAN_TRUNC;
	if (n < f->l3 + 40)
		return KAPA_BAD_IP6_TRUNC;
	if (n < f->len)
		return KAPA_BAD_IP6_LEN;
	return KAPA_BAD_NONE;
}

/* Bare IPv4 through KAPA_L3_RAW. */
static enum kapa_pkt_bad
expect_raw_ip4(const struct fb *f, uint32_t n)
{
	if (n < 20)
		return KAPA_BAD_IP4_TRUNC;
	if (n < f->len)
		return KAPA_BAD_IP4_LEN;
	return KAPA_BAD_NONE;
}

/* Bare IPv6 (KAPA_L3_RAW): a cut before the version byte is "ip4-trunc". */
static enum kapa_pkt_bad
expect_raw_ip6(const struct fb *f, uint32_t n)
{
	if (n == 0)
		return KAPA_BAD_IP4_TRUNC;
	if (n < 40)
		return KAPA_BAD_IP6_TRUNC;
	if (n < f->len)
		return KAPA_BAD_IP6_LEN;
	return KAPA_BAD_NONE;
}

/* Two tags, PPPoE, IPv4 or IPv6: the PPPoE length, checked before IP's,
 * names every cut inside the datagram. */
static enum kapa_pkt_bad
expect_pppoe(const struct fb *f, uint32_t n)
{
	if (n < 14)
		return KAPA_BAD_ETH_TRUNC;
	if (n < 22)
		return KAPA_BAD_VLAN_TRUNC;
	if (n < f->pppoe + 8)
		return KAPA_BAD_PPPOE_TRUNC;
	if (n < f->len)
		return KAPA_BAD_PPPOE_LEN;
	return KAPA_BAD_NONE;
}

/* MPLS, then IPv4 (IHL 5) or IPv6. */
static enum kapa_pkt_bad
expect_mpls(const struct fb *f, uint32_t n)
{
	uint32_t tags = f->b[12] == 0x88 && f->b[13] == 0xa8 ? 8 : 0;

	if (n < 14)
		return KAPA_BAD_ETH_TRUNC;
	if (n < 14 + tags)
		return KAPA_BAD_VLAN_TRUNC;
	if (n <= f->l3)
		return KAPA_BAD_MPLS_TRUNC;
	if (f->family == 4) {
		if (n < f->l3 + 20)
			return KAPA_BAD_IP4_TRUNC;
		if (n < f->len)
			return KAPA_BAD_IP4_LEN;
	} else {
		if (n < f->l3 + 40)
			return KAPA_BAD_IP6_TRUNC;
		if (n < f->len)
			return KAPA_BAD_IP6_LEN;
	}
	return KAPA_BAD_NONE;
}

/* Eight tags, then IPv4. */
static enum kapa_pkt_bad
expect_vlan8(const struct fb *f, uint32_t n)
{
	if (n < 14)
		return KAPA_BAD_ETH_TRUNC;
	if (n < 14 + 8 * 4)
		return KAPA_BAD_VLAN_TRUNC;
	if (n < f->l3 + 20)
		return KAPA_BAD_IP4_TRUNC;
	if (n < f->len)
		return KAPA_BAD_IP4_LEN;
	return KAPA_BAD_NONE;
}

/* Padded frame: cuts inside the padding still give the full class. */
static uint32_t padded_ip_end;

static enum kapa_pkt_bad
expect_padded(const struct fb *f, uint32_t n)
{
	(void)f;
	if (n < 14)
		return KAPA_BAD_ETH_TRUNC;
	if (n < 34)
		return KAPA_BAD_IP4_TRUNC;
	if (n < padded_ip_end)
		return KAPA_BAD_IP4_LEN;
	return KAPA_BAD_NONE;
}

static void
test_truncation(void)
{
	static const uint16_t tp[2] = { ET_QINQ, ET_VLAN };
	static const uint16_t tc[2] = { 100, 200 };
	static const uint8_t kinds[] = { P_HOPOPTS, P_DSTOPTS, P_AH };
	static const uint8_t units[] = { 0, 1, 1 };
	struct fb f;

	fb_init(&f);
	fb_eth(&f, ET_IPV4, 0, NULL, NULL);
	fb_ip4(&f, 8, P_TCP, 0);
	fb_tcp(&f, 1, 2, 3, 4, KAPA_TCP_SYN, 5, 0, opt_syn, sizeof(opt_syn));
	fb_payload(&f, 20);
	fb_finish(&f);
	cut_everywhere(&f, KAPA_L2_ETHER, KAPA_PKT_TCP, expect_eth_ip4);

	fb_init(&f);
	fb_eth(&f, ET_IPV6, 2, tp, tc);
	fb_ip6(&f, kinds[0]);
	fb_ext(&f, kinds[0], kinds[1], units[0]);
	fb_ext(&f, kinds[1], kinds[2], units[1]);
	fb_ext(&f, kinds[2], P_TCP, units[2]);
	fb_tcp(&f, 1, 2, 3, 4, KAPA_TCP_ACK, 5, 0, opt_ts_sack2,
	       sizeof(opt_ts_sack2));
	fb_payload(&f, 20);
	fb_finish(&f);
	cut_everywhere(&f, KAPA_L2_ETHER, KAPA_PKT_TCP, expect_qinq_ip6);

	fb_init(&f);
	fb_ip4(&f, 5, P_TCP, 0);
	fb_tcp(&f, 1, 2, 3, 4, KAPA_TCP_ACK, 5, 0, opt_sack4, sizeof(opt_sack4));
	fb_payload(&f, 3);
	fb_finish(&f);
	cut_everywhere(&f, KAPA_L3_RAW, KAPA_PKT_TCP, expect_raw_ip4);

	fb_init(&f);
	fb_ip6(&f, P_TCP);
	fb_tcp(&f, 1, 2, 3, 4, KAPA_TCP_ACK, 5, 0, opt_ts_aligned,
	       sizeof(opt_ts_aligned));
	fb_payload(&f, 3);
	fb_finish(&f);
	cut_everywhere(&f, KAPA_L3_RAW, KAPA_PKT_TCP, expect_raw_ip6);

	eth_ip4_tcp(&f, NULL, 0, 1);
	padded_ip_end = f.len;
	fb_pad(&f, 60);
	cut_everywhere(&f, KAPA_L2_ETHER, KAPA_PKT_TCP, expect_padded);

	eth_pppoe_tcp(&f, 2, 4, 6);
	cut_everywhere(&f, KAPA_L2_ETHER, KAPA_PKT_TCP, expect_pppoe);
	eth_pppoe_tcp(&f, 2, 6, 6);
	cut_everywhere(&f, KAPA_L2_ETHER, KAPA_PKT_TCP, expect_pppoe);

	eth_mpls_tcp(&f, 0, 1, 4, 3);
	cut_everywhere(&f, KAPA_L2_ETHER, KAPA_PKT_TCP, expect_mpls);
	eth_mpls_tcp(&f, 2, 3, 4, 3);
	cut_everywhere(&f, KAPA_L2_ETHER, KAPA_PKT_TCP, expect_mpls);
	eth_mpls_tcp(&f, 2, 3, 6, 3);
	cut_everywhere(&f, KAPA_L2_ETHER, KAPA_PKT_TCP, expect_mpls);

	{
		static const uint16_t tp8[8] = { ET_QINQ, ET_VLAN, ET_VLAN,
						 ET_QINQ_OLD, ET_VLAN, ET_VLAN,
						 ET_VLAN, ET_VLAN };
		static const uint16_t tc8[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

		fb_init(&f);
		fb_eth(&f, ET_IPV4, 8, tp8, tc8);
		fb_ip4(&f, 5, P_TCP, 0);
		fb_tcp(&f, 1, 2, 3, 4, KAPA_TCP_ACK, 5, 0, NULL, 0);
		fb_payload(&f, 2);
		fb_finish(&f);
		cut_everywhere(&f, KAPA_L2_ETHER, KAPA_PKT_TCP, expect_vlan8);
	}
}

/* Two parses of the same bytes into structs that held different garbage
 * must agree on every field: nothing is left over from the previous packet. */
static int
same_result(const struct kapa_pkt *a, const struct kapa_pkt *b)
{
	unsigned int i;

	if (a->data != b->data || a->len != b->len || a->cls != b->cls ||
	    a->bad != b->bad || a->family != b->family || a->nvlan != b->nvlan ||
	    memcmp(a->vlan_tpid, b->vlan_tpid, sizeof(a->vlan_tpid)) != 0 ||
	    memcmp(a->vlan_tci, b->vlan_tci, sizeof(a->vlan_tci)) != 0 ||
	    memcmp(a->eth_dst, b->eth_dst, 6) != 0 ||
	    memcmp(a->eth_src, b->eth_src, 6) != 0 ||
	    a->l3_off != b->l3_off || a->l4_off != b->l4_off ||
	    a->payload_off != b->payload_off || a->payload_len != b->payload_len ||
	    a->encap != b->encap || a->pppoe_len_off != b->pppoe_len_off ||
	    a->outer_l3_off != b->outer_l3_off || a->tunnel != b->tunnel ||
	    a->ntunnel != b->ntunnel ||
	    a->ip_proto != b->ip_proto || memcmp(a->src, b->src, 16) != 0 ||
	    memcmp(a->dst, b->dst, 16) != 0 || a->sport != b->sport ||
	    a->dport != b->dport || a->seq != b->seq || a->ack != b->ack ||
	    a->win != b->win || a->urg != b->urg || a->tcp_flags != b->tcp_flags ||
	    a->opt.present != b->opt.present || a->opt.wscale != b->opt.wscale ||
	    a->opt.nsack != b->opt.nsack || a->opt.mss != b->opt.mss ||
	    a->opt.ts_val != b->opt.ts_val || a->opt.ts_ecr != b->opt.ts_ecr)
		return 0;
	/* Only the blocks nsack counts are defined. */
	for (i = 0; i < a->opt.nsack && i < KAPA_MAX_SACK; i++)
		if (a->opt.sack[i][0] != b->opt.sack[i][0] ||
		    a->opt.sack[i][1] != b->opt.sack[i][1])
			return 0;
	return 1;
}

static void
no_stale_fields(const struct fb *f, enum kapa_l2_type l2, unsigned int *seen)
{
	struct kapa_pkt a, b;
	uint32_t n;

	for (n = 0; n <= f->len; n++) {
		memset(&a, 0x00, sizeof(a));
		memset(&b, 0xff, sizeof(b));
		kapa_pkt_parse(f->b, n, l2, &a);
		kapa_pkt_parse(f->b, n, l2, &b);
		CU_ASSERT(same_result(&a, &b));
		seen[a.bad]++;
	}
}

static void
test_every_field_defined(void)
{
	static const uint16_t tp[2] = { ET_QINQ, ET_VLAN };
	static const uint16_t tc[2] = { 7, 8 };
	static const uint8_t kinds[] = { P_HOPOPTS, P_FRAGMENT };
	static const uint8_t units[] = { 0, 0 };
	static const uint8_t bad_opt[] = { 1, 1, 30, 0 };
	unsigned int seen[KAPA_BAD_MAX] = { 0 };
	struct fb f;

	/* Every prefix of these frames, which between them end in every
	 * class and every malformation reason but VLAN_DEPTH (below). */
	eth_ip4_tcp(&f, opt_ts_sack2, sizeof(opt_ts_sack2), 4);
	no_stale_fields(&f, KAPA_L2_ETHER, seen);
	fb_init(&f);
	fb_eth(&f, ET_IPV6, 2, tp, tc);
	fb_ip6(&f, P_TCP);
	fb_tcp(&f, 1, 2, 3, 4, KAPA_TCP_ACK, 5, 0, opt_syn, sizeof(opt_syn));
	fb_finish(&f);
	no_stale_fields(&f, KAPA_L2_ETHER, seen);
	ip6_chain(&f, kinds, units, 2, P_TCP, 4);
	no_stale_fields(&f, KAPA_L2_ETHER, seen);
	no_stale_fields(&f, KAPA_L3_IPV4, seen);
	eth_ip4_tcp(&f, bad_opt, sizeof(bad_opt), 0);
	no_stale_fields(&f, KAPA_L2_ETHER, seen);
	set16(&f, f.l4, 0);
	f.b[f.l4 + 22] = 1;
	no_stale_fields(&f, KAPA_L2_ETHER, seen);
	eth_ip4_tcp(&f, NULL, 0, 4);
	f.b[f.l4 + 12] = 0x40;
	no_stale_fields(&f, KAPA_L2_ETHER, seen);
	f.b[f.l3] = 0x44;
	no_stale_fields(&f, KAPA_L2_ETHER, seen);
	set16(&f, f.l3 + 6, 0x2000);
	f.b[f.l3] = 0x45;
	no_stale_fields(&f, KAPA_L2_ETHER, seen);
	f.b[f.l3 + 9] = P_UDP;
	set16(&f, f.l3 + 6, 0);
	no_stale_fields(&f, KAPA_L2_ETHER, seen);
	set16(&f, 12, ET_ARP);
	no_stale_fields(&f, KAPA_L2_ETHER, seen);
	{
		static const uint16_t tp3[3] = { ET_QINQ, ET_VLAN, ET_VLAN };
		static const uint16_t tc3[3] = { 1, 2, 3 };

		static const uint16_t tp9[9] = { ET_VLAN, ET_VLAN, ET_VLAN,
						 ET_VLAN, ET_VLAN, ET_VLAN,
						 ET_VLAN, ET_VLAN, ET_VLAN };

		fb_init(&f);
		fb_eth(&f, ET_IPV4, 3, tp3, tc3);
		fb_payload(&f, 30);
		no_stale_fields(&f, KAPA_L2_ETHER, seen);
		fb_init(&f);
		fb_eth(&f, ET_IPV4, 9, tp9, tp9);
		fb_payload(&f, 30);
		no_stale_fields(&f, KAPA_L2_ETHER, seen);
	}
	/* PPPoE and MPLS: every prefix, a bad header, a short PPPoE length,
	 * a stack without a bottom, LCP. */
	eth_pppoe_tcp(&f, 2, 4, 3);
	no_stale_fields(&f, KAPA_L2_ETHER, seen);
	set16(&f, f.pppoe + 4, 2 + 20);
	no_stale_fields(&f, KAPA_L2_ETHER, seen);
	f.b[f.pppoe] = 0x21;
	no_stale_fields(&f, KAPA_L2_ETHER, seen);
	eth_pppoe_tcp(&f, 0, 6, 3);
	set16(&f, f.pppoe + 6, PPP_LCP);
	no_stale_fields(&f, KAPA_L2_ETHER, seen);
	eth_mpls_tcp(&f, 2, 2, 6, 3);
	no_stale_fields(&f, KAPA_L2_ETHER, seen);
	eth_mpls_tcp(&f, 0, 9, 4, 3);
	no_stale_fields(&f, KAPA_L2_ETHER, seen);
	CU_ASSERT(seen[KAPA_BAD_NONE] > 0);
	CU_ASSERT(seen[KAPA_BAD_ETH_TRUNC] > 0);
	CU_ASSERT(seen[KAPA_BAD_VLAN_TRUNC] > 0);
	CU_ASSERT(seen[KAPA_BAD_VLAN_DEPTH] > 0);
	CU_ASSERT(seen[KAPA_BAD_IP_VERSION] > 0);
	CU_ASSERT(seen[KAPA_BAD_IP4_TRUNC] > 0);
	CU_ASSERT(seen[KAPA_BAD_IP4_IHL] > 0);
	CU_ASSERT(seen[KAPA_BAD_IP4_LEN] > 0);
	CU_ASSERT(seen[KAPA_BAD_IP6_TRUNC] > 0);
	CU_ASSERT(seen[KAPA_BAD_IP6_LEN] > 0);
	CU_ASSERT(seen[KAPA_BAD_TCP_DOFF] > 0);
	CU_ASSERT(seen[KAPA_BAD_TCP_OPT] > 0);
	CU_ASSERT(seen[KAPA_BAD_TCP_PORT] > 0);
	CU_ASSERT(seen[KAPA_BAD_PPPOE_TRUNC] > 0);
	CU_ASSERT(seen[KAPA_BAD_PPPOE_HDR] > 0);
	CU_ASSERT(seen[KAPA_BAD_PPPOE_LEN] > 0);
	CU_ASSERT(seen[KAPA_BAD_MPLS_TRUNC] > 0);
	CU_ASSERT(seen[KAPA_BAD_MPLS_DEPTH] > 0);
}

/* xorshift32: deterministic, so a failure reproduces. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Random byte damage to valid frames: whatever comes out must be coherent
 * and within the buffer. A small in-tree cousin of tests/fuzz/fuzz_pkt.c. */
static void
test_mutations(void)
{
	static const uint16_t tp[2] = { ET_QINQ, ET_VLAN };
	static const uint16_t tc[2] = { 1, 2 };
	static const uint8_t kinds[] = { P_HOPOPTS, P_ROUTING, P_AH };
	static const uint8_t units[] = { 0, 1, 1 };
	struct fb seeds[5], f;
	struct kapa_pkt p;
	uint32_t s = 0x9e3779b9u, i, k, flips, n;
	unsigned int bad_ok = 1, seen[KAPA_PKT_CLASS_MAX] = { 0 };
	uint8_t *buf;
	int cls;

	eth_ip4_tcp(&seeds[0], opt_syn, sizeof(opt_syn), 12);
	fb_init(&seeds[1]);
	fb_eth(&seeds[1], ET_IPV6, 2, tp, tc);
	fb_ip6(&seeds[1], kinds[0]);
	fb_ext(&seeds[1], kinds[0], kinds[1], units[0]);
	fb_ext(&seeds[1], kinds[1], kinds[2], units[1]);
	fb_ext(&seeds[1], kinds[2], P_TCP, units[2]);
	fb_tcp(&seeds[1], 1, 2, 3, 4, KAPA_TCP_ACK, 5, 0, opt_ts_sack2,
	       sizeof(opt_ts_sack2));
	fb_payload(&seeds[1], 9);
	fb_finish(&seeds[1]);
	eth_ip4_tcp(&seeds[2], opt_sack4, sizeof(opt_sack4), 0);
	eth_pppoe_tcp(&seeds[3], 2, 4, 5);
	eth_mpls_tcp(&seeds[4], 1, 2, 6, 5);

	for (i = 0; i < 30000; i++) {
		f = seeds[i % 5];
		flips = 1 + rnd(&s) % 4;
		for (k = 0; k < flips; k++)
			f.b[rnd(&s) % f.len] ^= (uint8_t)(1u << (rnd(&s) % 8));
		n = (rnd(&s) % 4 == 0) ? rnd(&s) % (f.len + 1) : f.len;
		buf = malloc(n != 0 ? n : 1);
		CU_ASSERT_FATAL(buf != NULL);
		memcpy(buf, f.b, n);
		cls = kapa_pkt_parse(buf, n, KAPA_L2_ETHER, &p);
		free(buf);
		if (cls < 0 || cls >= KAPA_PKT_CLASS_MAX) {
			CU_FAIL("class out of range");
			continue;
		}
		seen[cls]++;
		if ((cls == KAPA_PKT_MALFORMED) != (p.bad != KAPA_BAD_NONE) ||
		    p.bad >= KAPA_BAD_MAX)
			bad_ok = 0;
		if (cls == KAPA_PKT_TCP) {
			CU_ASSERT((uint64_t)p.payload_off + p.payload_len <= n);
			CU_ASSERT(p.l4_off + 20u <= p.payload_off);
			CU_ASSERT((unsigned int)(p.payload_off - p.l4_off) <= 60u);
			CU_ASSERT(p.l3_off < p.l4_off);
			CU_ASSERT(p.opt.nsack <= KAPA_MAX_SACK);
			/* A PPPoE length, when there is one, covers the
			 * datagram (payload end) and the PPP protocol. */
			if (p.encap & KAPA_ENCAP_PPPOE) {
				CU_ASSERT(p.pppoe_len_off + 4u == p.l3_off);
				CU_ASSERT(p.pppoe_len_off + 6u + (uint32_t)(f.b[p.pppoe_len_off] << 8 |
					  f.b[p.pppoe_len_off + 1]) >=
					  p.payload_off + p.payload_len);
			}
		}
	}
	CU_ASSERT(bad_ok);
	/* The damage must actually reach the interesting classes. */
	CU_ASSERT(seen[KAPA_PKT_TCP] > 0);
	CU_ASSERT(seen[KAPA_PKT_MALFORMED] > 0);
	CU_ASSERT(seen[KAPA_PKT_NON_TCP] > 0);
	CU_ASSERT(seen[KAPA_PKT_NON_IP] > 0);
}

static void
test_names(void)
{
	unsigned int i, j;

	CU_ASSERT_STRING_EQUAL(kapa_pkt_class_name(KAPA_PKT_TCP), "tcp");
	CU_ASSERT_STRING_EQUAL(kapa_pkt_class_name(KAPA_PKT_MALFORMED), "malformed");
	CU_ASSERT_STRING_EQUAL(kapa_pkt_bad_name(KAPA_BAD_TCP_OPT), "tcp-opt");
	CU_ASSERT_STRING_EQUAL(kapa_pkt_bad_name(KAPA_BAD_NONE), "none");
	CU_ASSERT_STRING_EQUAL(kapa_pkt_bad_name(KAPA_BAD_VLAN_DEPTH), "vlan-depth");
	CU_ASSERT_STRING_EQUAL(kapa_pkt_bad_name(KAPA_BAD_PPPOE_LEN), "pppoe-len");
	CU_ASSERT_STRING_EQUAL(kapa_pkt_bad_name(KAPA_BAD_MPLS_DEPTH), "mpls-depth");
	CU_ASSERT_STRING_EQUAL(kapa_pkt_bad_name(KAPA_BAD_TUNNEL_TRUNC), "tunnel-trunc");
	CU_ASSERT_STRING_EQUAL(kapa_pkt_bad_name(KAPA_BAD_TUNNEL_DEPTH), "tunnel-depth");
	CU_ASSERT_STRING_EQUAL(kapa_pkt_bad_name(KAPA_BAD_TUNNEL_LEN), "tunnel-len");
	CU_ASSERT_STRING_EQUAL(kapa_pkt_class_name(KAPA_PKT_CLASS_MAX), "unknown");
	CU_ASSERT_STRING_EQUAL(kapa_pkt_bad_name(KAPA_BAD_MAX), "unknown");
	CU_ASSERT_STRING_EQUAL(kapa_pkt_bad_name(~0u), "unknown");
	/* Every name distinct, so counters keyed by name never merge. */
	for (i = 0; i < KAPA_PKT_CLASS_MAX; i++)
		for (j = i + 1; j < KAPA_PKT_CLASS_MAX; j++)
			CU_ASSERT(strcmp(kapa_pkt_class_name(i),
					 kapa_pkt_class_name(j)) != 0);
	for (i = 0; i < KAPA_BAD_MAX; i++) {
		CU_ASSERT(strcmp(kapa_pkt_bad_name(i), "unknown") != 0);
		for (j = i + 1; j < KAPA_BAD_MAX; j++)
			CU_ASSERT(strcmp(kapa_pkt_bad_name(i),
					 kapa_pkt_bad_name(j)) != 0);
	}
}

/*
 * kapa_pkt_parse_ethertype() over what follows an Ethernet header (as a
 * cooked capture hands it) must say what kapa_pkt_parse() says of the whole
 * frame: same class, reason and fields, offsets 14 less, no MAC addresses.
 * Offsets the Ethernet parse left at 0 (layers not reached) stay 0.
 */
static int
same_as_ether(const struct kapa_pkt *e, const struct kapa_pkt *t,
	      const uint8_t *data, uint32_t len)
{
	static const uint8_t zero[6];
	unsigned int i;

#define SHIFTED(x) ((x) != 0 ? (uint32_t)(x) - 14 : 0)
	if (t->data != data || t->len != len || t->cls != e->cls ||
	    t->bad != e->bad || t->family != e->family || t->nvlan != e->nvlan ||
	    memcmp(t->vlan_tpid, e->vlan_tpid, sizeof(t->vlan_tpid)) != 0 ||
	    memcmp(t->vlan_tci, e->vlan_tci, sizeof(t->vlan_tci)) != 0 ||
	    memcmp(t->eth_dst, zero, 6) != 0 || memcmp(t->eth_src, zero, 6) != 0 ||
	    t->l3_off != SHIFTED(e->l3_off) || t->l4_off != SHIFTED(e->l4_off) ||
	    t->payload_off != SHIFTED(e->payload_off) ||
	    t->pppoe_len_off != SHIFTED(e->pppoe_len_off) ||
	    t->payload_len != e->payload_len || t->encap != e->encap ||
	    t->outer_l3_off != SHIFTED(e->outer_l3_off) || t->tunnel != e->tunnel ||
	    t->ntunnel != e->ntunnel ||
	    t->ip_proto != e->ip_proto || memcmp(t->src, e->src, 16) != 0 ||
	    memcmp(t->dst, e->dst, 16) != 0 || t->sport != e->sport ||
	    t->dport != e->dport || t->seq != e->seq || t->ack != e->ack ||
	    t->win != e->win || t->urg != e->urg || t->tcp_flags != e->tcp_flags ||
	    t->opt.present != e->opt.present || t->opt.wscale != e->opt.wscale ||
	    t->opt.nsack != e->opt.nsack || t->opt.mss != e->opt.mss ||
	    t->opt.ts_val != e->opt.ts_val || t->opt.ts_ecr != e->opt.ts_ecr)
		return 0;
#undef SHIFTED
	for (i = 0; i < t->opt.nsack && i < KAPA_MAX_SACK; i++)
		if (t->opt.sack[i][0] != e->opt.sack[i][0] ||
		    t->opt.sack[i][1] != e->opt.sack[i][1])
			return 0;
	return 1;
}

/*
 * Every cut of @p f from 14 bytes on, through both entries: the bytes after
 * the ethertype in a heap buffer of exactly their size (valgrind or ASan
 * sees a read past it), into structs full of two kinds of garbage. @return
 * how many cuts disagreed.
 */
static unsigned int
ethertype_cuts(const struct fb *f, unsigned int *seen)
{
	uint16_t type = (uint16_t)(f->b[12] << 8 | f->b[13]);
	struct kapa_pkt e, t, u;
	unsigned int bad = 0;
	uint8_t *buf;
	uint32_t n;

	for (n = 14; n <= f->len; n++) {
		buf = malloc(n - 14 != 0 ? n - 14 : 1);
		CU_ASSERT_FATAL(buf != NULL);
		memcpy(buf, f->b + 14, n - 14);
		memset(&e, 0xa5, sizeof(e));
		memset(&t, 0x00, sizeof(t));
		memset(&u, 0xff, sizeof(u));
		kapa_pkt_parse(f->b, n, KAPA_L2_ETHER, &e);
		if (kapa_pkt_parse_ethertype(buf, n - 14, type, &t) != t.cls ||
		    kapa_pkt_parse_ethertype(buf, n - 14, type, &u) != u.cls ||
		    !same_as_ether(&e, &t, buf, n - 14) ||
		    !same_as_ether(&e, &u, buf, n - 14))
			bad++;
		if (seen != NULL)
			seen[t.bad]++;
		free(buf);
	}
	return bad;
}

/* A cooked header's protocol feeds the same walk as Ethernet's ethertype. */
static void
test_ethertype_entry(void)
{
	static const uint16_t tp[9] = { ET_QINQ_OLD, ET_QINQ, ET_VLAN, ET_VLAN,
					ET_VLAN, ET_QINQ, ET_VLAN, ET_VLAN,
					ET_VLAN };
	static const uint16_t tc[9] = { 11, 22, 33, 44, 55, 66, 77, 88, 99 };
	static const unsigned int ntags[] = { 0, 1, 2, 3, 8, 9 };
	unsigned int seen[KAPA_BAD_MAX] = { 0 };
	unsigned int i, fam, mismatches = 0;
	struct kapa_pkt p;
	struct fb f;

	/* The one_http_stream_rst.pcap shape as SLL hands it: protocol
	 * 0x8100, then the tag's TCI, a second tag, PPPoE, IPv4. */
	eth_pppoe_tcp(&f, 2, 4, 6);
	memset(&p, 0xa5, sizeof(p));
	CU_ASSERT_EQUAL(kapa_pkt_parse_ethertype(f.b + 14, f.len - 14, ET_VLAN, &p),
			KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.nvlan, 2);
	CU_ASSERT_EQUAL(p.vlan_tpid[0], ET_VLAN);
	CU_ASSERT_EQUAL(p.vlan_tci[0], 939);
	CU_ASSERT_EQUAL(p.vlan_tpid[1], ET_VLAN);
	CU_ASSERT_EQUAL(p.vlan_tci[1], 744);
	CU_ASSERT_EQUAL(p.encap, KAPA_ENCAP_PPPOE);
	CU_ASSERT_EQUAL(p.pppoe_len_off, 12);
	CU_ASSERT_EQUAL(p.l3_off, 16);
	CU_ASSERT_EQUAL(p.l4_off, 36);
	CU_ASSERT_EQUAL(p.payload_len, 6);
	CU_ASSERT_EQUAL(p.sport, 5068);
	CU_ASSERT_EQUAL(p.opt.mss, 1460);
	CU_ASSERT(memcmp(p.src, ip4_src, 4) == 0);
	CU_ASSERT(memcmp(p.eth_src, (const uint8_t[6]){ 0 }, 6) == 0);
	CU_ASSERT(memcmp(p.eth_dst, (const uint8_t[6]){ 0 }, 6) == 0);

	/* IPv4 and IPv6 straight after the protocol: l3_off 0. */
	eth_ip4_tcp(&f, opt_ts_aligned, sizeof(opt_ts_aligned), 9);
	CU_ASSERT_EQUAL(kapa_pkt_parse_ethertype(f.b + 14, f.len - 14, ET_IPV4, &p),
			KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.l3_off, 0);
	CU_ASSERT_EQUAL(p.l4_off, 20);
	CU_ASSERT_EQUAL(p.payload_len, 9);
	CU_ASSERT_EQUAL(p.nvlan, 0);
	CU_ASSERT_EQUAL(p.encap, 0);
	/* The protocol, not the bytes, says what comes: IPv4 bytes under
	 * the IPv6 type are a version mismatch. */
	CU_ASSERT_EQUAL(kapa_pkt_parse_ethertype(f.b + 14, f.len - 14, ET_IPV6, &p),
			KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP_VERSION);

	/* MPLS under a 0x9100 tag, three labels, IPv6. */
	eth_mpls_tcp(&f, 0, 3, 6, 4);
	CU_ASSERT_EQUAL(kapa_pkt_parse_ethertype(f.b + 14, f.len - 14, ET_MPLS, &p),
			KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.l3_off, 12);
	CU_ASSERT_EQUAL(p.encap, KAPA_ENCAP_MPLS);
	check_ip6_addrs(&p);

	/* Nothing after the protocol: each layer says it was cut; a type
	 * that is not one kapa reads (ARP, or a Linux code below 0x0600 such
	 * as 802.2 LLC) is not IP. */
	CU_ASSERT_EQUAL(kapa_pkt_parse_ethertype(f.b, 0, ET_IPV4, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP4_TRUNC);
	CU_ASSERT_EQUAL(kapa_pkt_parse_ethertype(f.b, 0, ET_IPV6, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_IP6_TRUNC);
	CU_ASSERT_EQUAL(kapa_pkt_parse_ethertype(f.b, 0, ET_QINQ_OLD, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_VLAN_TRUNC);
	CU_ASSERT_EQUAL(kapa_pkt_parse_ethertype(f.b, 0, ET_PPPOE_SES, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_PPPOE_TRUNC);
	CU_ASSERT_EQUAL(kapa_pkt_parse_ethertype(f.b, 0, ET_MPLS_MC, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_MPLS_TRUNC);
	CU_ASSERT_EQUAL(kapa_pkt_parse_ethertype(f.b, 0, ET_ARP, &p), KAPA_PKT_NON_IP);
	CU_ASSERT_EQUAL(p.l3_off, 0);
	CU_ASSERT_EQUAL(kapa_pkt_parse_ethertype(f.b, 28, 0x0004, &p), KAPA_PKT_NON_IP);
	CU_ASSERT_EQUAL(p.family, 0);

	/* Every encapsulation, cut at every byte, against the Ethernet
	 * parse of the same frame. */
	for (fam = 4; fam <= 6; fam += 2) {
		for (i = 0; i < sizeof(ntags) / sizeof(ntags[0]); i++) {
			fb_init(&f);
			fb_eth(&f, fam == 4 ? ET_IPV4 : ET_IPV6, ntags[i], tp, tc);
			if (fam == 4)
				fb_ip4(&f, 6, P_TCP, 0);
			else
				fb_ip6(&f, P_TCP);
			fb_tcp(&f, 1, 2, 3, 4, KAPA_TCP_ACK, 5, 0, opt_ts_sack2,
			       sizeof(opt_ts_sack2));
			fb_payload(&f, 5);
			fb_finish(&f);
			fb_pad(&f, f.len + 4);
			mismatches += ethertype_cuts(&f, seen);
		}
		eth_pppoe_tcp(&f, 0, (int)fam, 3);
		mismatches += ethertype_cuts(&f, seen);
		eth_pppoe_tcp(&f, 2, (int)fam, 3);
		fb_pad(&f, f.len + 6);
		mismatches += ethertype_cuts(&f, seen);
		eth_mpls_tcp(&f, 0, 1, (int)fam, 2);
		mismatches += ethertype_cuts(&f, seen);
		eth_mpls_tcp(&f, 2, 3, (int)fam, 2);
		mismatches += ethertype_cuts(&f, seen);
		eth_mpls_tcp(&f, 0, KAPA_MAX_MPLS_DEPTH + 1, (int)fam, 2);
		mismatches += ethertype_cuts(&f, seen);
	}
	/* PPPoE control, a bad PPPoE header, discovery, ARP under tags, a
	 * pseudowire, a PPPoE length one short. */
	fb_init(&f);
	fb_eth(&f, ET_PPPOE_SES, 1, tp, tc);
	fb_pppoe(&f, 7, PPP_LCP);
	put32(&f, 0x01010008);
	fb_finish_pppoe(&f);
	fb_pad(&f, 60);
	mismatches += ethertype_cuts(&f, seen);
	f.b[f.pppoe] = 0x12;
	mismatches += ethertype_cuts(&f, seen);
	set16(&f, 12 + 4, ET_PPPOE_DISC);
	mismatches += ethertype_cuts(&f, seen);
	fb_init(&f);
	fb_eth(&f, ET_ARP, 3, tp, tc);
	fb_pad(&f, 64);
	mismatches += ethertype_cuts(&f, seen);
	fb_init(&f);
	fb_eth(&f, ET_MPLS, 0, NULL, NULL);
	fb_mpls(&f, 100, 1);
	put32(&f, 0x00000001);
	fb_pad(&f, 40);
	mismatches += ethertype_cuts(&f, seen);
	eth_pppoe_tcp(&f, 1, 4, 4);
	set16(&f, f.pppoe + 4, (uint16_t)(f.len - f.pppoe - 6 - 1));
	mismatches += ethertype_cuts(&f, seen);
	CU_ASSERT_EQUAL(mismatches, 0);

	/* The cuts reached every layer's own reasons (none of Ethernet's,
	 * which has no header here). */
	CU_ASSERT_EQUAL(seen[KAPA_BAD_ETH_TRUNC], 0);
	CU_ASSERT(seen[KAPA_BAD_VLAN_TRUNC] > 0);
	CU_ASSERT(seen[KAPA_BAD_VLAN_DEPTH] > 0);
	CU_ASSERT(seen[KAPA_BAD_PPPOE_TRUNC] > 0);
	CU_ASSERT(seen[KAPA_BAD_PPPOE_HDR] > 0);
	CU_ASSERT(seen[KAPA_BAD_PPPOE_LEN] > 0);
	CU_ASSERT(seen[KAPA_BAD_MPLS_TRUNC] > 0);
	CU_ASSERT(seen[KAPA_BAD_MPLS_DEPTH] > 0);
	CU_ASSERT(seen[KAPA_BAD_IP4_TRUNC] > 0);
	CU_ASSERT(seen[KAPA_BAD_IP4_LEN] > 0);
	CU_ASSERT(seen[KAPA_BAD_IP6_TRUNC] > 0);
	CU_ASSERT(seen[KAPA_BAD_IP6_LEN] > 0);
	CU_ASSERT(seen[KAPA_BAD_NONE] > 0);
}

/*
 * Tunnels. A frame is Ethernet, an outer IPv4 or IPv6 header, the tunnel's
 * headers, the inner packet (IP, or Ethernet with tags then IP), TCP. struct
 * tun records where each part starts, so that the lengths a tunnel carries
 * can be rewritten for a datagram cut anywhere.
 */
enum tun_kind {
	K_IPIP, K_GRE, K_GRE_ETH, K_ERSPAN1, K_ERSPAN2, K_ERSPAN3, K_PPTP,
	K_VXLAN, K_GENEVE, K_GTPU, K_TEREDO, K_PW, K_MAX
};

/* Variants of each kind: GRE's C/K/S bits, ERSPAN III's O bit, PPTP's
 * S/A/address-control/protocol compression, Geneve's option words and
 * protocol, GTP-U's optional fields and extension headers, Teredo's
 * authentication and origin headers, the tags in a pseudowire's frame. */
static const unsigned int tun_variants[K_MAX] = {
	[K_IPIP] = 1, [K_GRE] = 8, [K_GRE_ETH] = 3, [K_ERSPAN1] = 1,
	[K_ERSPAN2] = 1, [K_ERSPAN3] = 2, [K_PPTP] = 16, [K_VXLAN] = 3,
	[K_GENEVE] = 8, [K_GTPU] = 4, [K_TEREDO] = 4, [K_PW] = 3,
};

struct tun {
	uint32_t outer;		/* outer IP header (a pseudowire: control word) */
	int outer6;
	uint32_t udp;		/* UDP header, 0 when none */
	uint32_t hdr;		/* first byte after the outer IP (and UDP) header */
	uint32_t inner;		/* the inner packet: IP, or Ethernet */
	uint32_t gtp;		/* GTP-U header, 0 when none */
	uint32_t pptp;		/* PPTP GRE header, 0 when none */
	uint32_t pptp_hl;	/* its length */
	int inner_eth;
	unsigned int inner_tags;
	uint8_t bit;		/* KAPA_TUNNEL_* */
};

static const uint8_t out4_src[4] = { 192, 0, 2, 1 };
static const uint8_t out4_dst[4] = { 192, 0, 2, 2 };

static void
wr16(uint8_t *b, uint32_t off, uint32_t v)
{
	b[off] = (uint8_t)(v >> 8);
	b[off + 1] = (uint8_t)v;
}

/* Ethernet and the outer IP header, protocol @p proto (lengths later). */
static void
tun_outer(struct fb *f, struct tun *t, int outer6, uint8_t proto)
{
	memset(t, 0, sizeof(*t));
	fb_init(f);
	fb_eth(f, outer6 ? ET_IPV6 : ET_IPV4, 0, NULL, NULL);
	t->outer = f->len;
	t->outer6 = outer6;
	if (outer6) {
		put32(f, 0x60000000);
		put16(f, 0);
		put8(f, proto);
		put8(f, 64);
		putn(f, ip6_dst, 16);	/* swapped: unlike the inner ones */
		putn(f, ip6_src, 16);
	} else {
		put32(f, 0x45000000);
		put32(f, 0x00014000);
		put8(f, 64);
		put8(f, proto);
		put16(f, 0);
		putn(f, out4_src, 4);
		putn(f, out4_dst, 4);
	}
	t->hdr = f->len;
}

static void
tun_udp(struct fb *f, struct tun *t, uint16_t sport, uint16_t dport)
{
	t->udp = f->len;
	put16(f, sport);
	put16(f, dport);
	put32(f, 0);		/* length later, checksum 0 */
	t->hdr = f->len;
}

/* Every length that says where the outer datagram ends, for an end at @p end
 * (those whose field or header is cut off are left as they are). */
static void
tun_lengths(uint8_t *b, const struct tun *t, uint32_t end)
{
	if (t->outer6)
		wr16(b, t->outer + 4, end - t->outer - 40);
	else
		wr16(b, t->outer + 2, end - t->outer);
	if (t->udp != 0 && end >= t->udp + 8)
		wr16(b, t->udp + 4, end - t->udp);
	if (t->gtp != 0 && end >= t->gtp + 8)
		wr16(b, t->gtp + 2, end - t->gtp - 8);
	if (t->pptp != 0 && end >= t->pptp + t->pptp_hl)
		wr16(b, t->pptp + 4, end - t->pptp - t->pptp_hl);
}

/* The inner packet: [Ethernet, @p ntags tags,] IP of @p family, TCP. */
static void
tun_inner(struct fb *f, struct tun *t, int eth, unsigned int ntags, int family,
	  uint32_t plen)
{
	static const uint8_t in_dst[6] = { 0x02, 0xaa, 0, 0, 0, 1 };
	static const uint8_t in_src[6] = { 0x02, 0xbb, 0, 0, 0, 2 };
	unsigned int i;

	t->inner = f->len;
	t->inner_eth = eth;
	t->inner_tags = ntags;
	if (eth) {
		putn(f, in_dst, 6);
		putn(f, in_src, 6);
		for (i = 0; i < ntags; i++) {
			put16(f, i == 0 ? ET_QINQ : ET_VLAN);
			put16(f, (uint16_t)(100 + i));
		}
		put16(f, family == 4 ? ET_IPV4 : ET_IPV6);
	}
	if (family == 4)
		fb_ip4(f, 5, P_TCP, 0);
	else
		fb_ip6(f, P_TCP);
	fb_tcp(f, 40000, 80, 1, 2, KAPA_TCP_ACK, 5, 0, opt_ts_aligned,
	       sizeof(opt_ts_aligned));
	fb_payload(f, plen);
	fb_finish(f);
}

/* A whole tunnelled frame of kind @p k, variant @p v. */
static void
tun_build(struct fb *f, struct tun *t, unsigned int k, unsigned int v, int outer6,
	  int family, uint32_t plen)
{
	uint16_t et = family == 4 ? ET_IPV4 : ET_IPV6;
	unsigned int i;

	switch (k) {
	case K_IPIP:
		tun_outer(f, t, outer6, family == 4 ? 4 : 41);
		t->bit = KAPA_TUNNEL_IPIP;
		tun_inner(f, t, 0, 0, family, plen);
		break;
	case K_GRE:
		tun_outer(f, t, outer6, 47);
		put16(f, (uint16_t)((v & 1 ? 0x8000 : 0) | (v & 2 ? 0x2000 : 0) |
				    (v & 4 ? 0x1000 : 0)));
		put16(f, et);
		for (i = 0; i < 3; i++)
			if (v & (1u << i))
				put32(f, 0xc0ffee00 + i);
		t->bit = KAPA_TUNNEL_GRE;
		tun_inner(f, t, 0, 0, family, plen);
		break;
	case K_GRE_ETH:
		tun_outer(f, t, outer6, 47);
		put16(f, 0x2000);
		put16(f, 0x6558);
		put32(f, 99);
		t->bit = KAPA_TUNNEL_GRE;
		tun_inner(f, t, 1, v, family, plen);
		break;
	case K_ERSPAN1:
	case K_ERSPAN2:
	case K_ERSPAN3:
		tun_outer(f, t, outer6, 47);
		put16(f, k == K_ERSPAN1 ? 0 : 0x1000);
		put16(f, k == K_ERSPAN3 ? 0x22eb : 0x88be);
		if (k != K_ERSPAN1)
			put32(f, 5);			/* sequence */
		if (k == K_ERSPAN2) {
			put32(f, 0x10010064);		/* v1, VLAN, session */
			put32(f, 0x00000007);		/* index */
		} else if (k == K_ERSPAN3) {
			put32(f, 0x20010064);		/* v2 */
			put32(f, 0x12345678);		/* timestamp */
			put16(f, 0);			/* SGT */
			put16(f, (uint16_t)(v & 1));	/* ..., O bit */
			if (v & 1) {			/* platform subheader */
				put32(f, 0x0c000000);
				put32(f, 0);
			}
		}
		t->bit = KAPA_TUNNEL_ERSPAN;
		tun_inner(f, t, 1, 0, family, plen);
		break;
	case K_PPTP:
		tun_outer(f, t, outer6, 47);
		t->pptp = f->len;
		put16(f, (uint16_t)(0x2001 | (v & 1 ? 0x1000 : 0) | (v & 2 ? 0x0080 : 0)));
		put16(f, 0x880b);
		put16(f, 0);			/* payload length, later */
		put16(f, 0x4242);		/* call id */
		if (v & 1)
			put32(f, 11);
		if (v & 2)
			put32(f, 10);
		t->pptp_hl = f->len - t->pptp;
		if (v & 4)
			put16(f, 0xff03);
		if (v & 8)
			put8(f, family == 4 ? 0x21 : 0x57);
		else
			put16(f, family == 4 ? PPP_IPV4 : PPP_IPV6);
		t->bit = KAPA_TUNNEL_GRE;
		tun_inner(f, t, 0, 0, family, plen);
		break;
	case K_VXLAN:
		tun_outer(f, t, outer6, P_UDP);
		/* Both directions: to the port, and from it. */
		if (v == 1)
			tun_udp(f, t, 4789, 50000);
		else
			tun_udp(f, t, 50000, 4789);
		put32(f, 0x08000000);
		put32(f, 0x00123400);
		t->bit = KAPA_TUNNEL_VXLAN;
		tun_inner(f, t, 1, v == 2 ? 2 : 0, family, plen);
		break;
	case K_GENEVE:
		tun_outer(f, t, outer6, P_UDP);
		tun_udp(f, t, 50000, 6081);
		put8(f, (uint8_t)(v & 3));		/* version 0, option words */
		put8(f, 0);
		put16(f, v & 4 ? et : 0x6558);
		put32(f, 0x00123400);
		for (i = 0; i < (v & 3); i++)
			put32(f, 0x01020000 | i);
		t->bit = KAPA_TUNNEL_GENEVE;
		tun_inner(f, t, (v & 4) == 0, 0, family, plen);
		break;
	case K_GTPU:
		tun_outer(f, t, outer6, P_UDP);
		tun_udp(f, t, 2152, 2152);
		t->gtp = f->len;
		put8(f, (uint8_t)(0x30 | (v == 1 ? 0x02 : 0) | (v >= 2 ? 0x04 : 0)));
		put8(f, 0xff);
		put16(f, 0);				/* length, later */
		put32(f, 0x0badcafe);			/* TEID */
		if (v >= 1) {
			put16(f, 0);
			put8(f, 0);
			put8(f, v >= 2 ? 0x85 : 0);	/* PDU session container */
		}
		if (v >= 2) {
			put8(f, 1);			/* 4 bytes */
			put16(f, 0x0009);
			put8(f, v == 3 ? 0x40 : 0);
		}
		if (v == 3) {
			put8(f, 2);			/* 8 bytes */
			put32(f, 0x01020304);
			put16(f, 0x0506);
			put8(f, 0);
		}
		t->bit = KAPA_TUNNEL_GTPU;
		tun_inner(f, t, 0, 0, family, plen);
		break;
	case K_TEREDO:
		tun_outer(f, t, outer6, P_UDP);
		tun_udp(f, t, 3544, 61000);
		if (v & 2) {
			put16(f, 1);
			put8(f, 2);		/* client id length */
			put8(f, 3);		/* authenticator length */
			put16(f, 0x6964);
			put16(f, 0x6175);
			put8(f, 0x74);
			put32(f, 1);		/* nonce */
			put32(f, 2);
			put8(f, 0);		/* confirmation */
		}
		if (v & 1) {
			put16(f, 0);
			put16(f, 0xfffe);
			put32(f, 0x3fffdffe);
		}
		t->bit = KAPA_TUNNEL_TEREDO;
		tun_inner(f, t, 0, 0, 6, plen);
		break;
	default:		/* K_PW: MPLS, control word, Ethernet */
		memset(t, 0, sizeof(*t));
		fb_init(f);
		fb_eth(f, ET_MPLS, 0, NULL, NULL);
		fb_mpls(f, 100, 0);
		fb_mpls(f, 200, 1);
		t->outer = f->len;
		t->hdr = f->len;
		put32(f, 0x00000001);
		t->bit = KAPA_TUNNEL_PW;
		tun_inner(f, t, 1, v, family, plen);
		break;
	}
	if (k != K_PW)
		tun_lengths(f->b, t, f->len);
}

/* What a datagram of kind @p k ending at @p n (lengths rewritten) is: the
 * class, and the reason when MALFORMED. */
static int
tun_expect(const struct fb *f, const struct tun *t, unsigned int k, uint32_t n,
	   enum kapa_pkt_bad *why)
{
	uint32_t l2 = t->inner_eth ? t->inner + 14 : t->inner;

	*why = KAPA_BAD_NONE;
	if (t->outer6 && n == t->outer + 40) {
		*why = KAPA_BAD_IP6_LEN;	/* payload length 0: a jumbogram */
		return KAPA_PKT_MALFORMED;
	}
	if (t->udp != 0 && n < t->udp + 8)
		return KAPA_PKT_NON_TCP;
	if (n < t->inner) {
		switch (k) {
		case K_PPTP:
			if (n >= t->pptp + t->pptp_hl)
				return KAPA_PKT_NON_TCP;	/* PPP protocol cut */
			break;
		case K_GTPU:
			if (n >= t->gtp + 8)
				break;
			return KAPA_PKT_NON_TCP;
		case K_VXLAN:
		case K_GENEVE:
		case K_TEREDO:
			return KAPA_PKT_NON_TCP;
		case K_PW:
			return KAPA_PKT_NON_IP;
		default:
			break;
		}
		*why = KAPA_BAD_TUNNEL_TRUNC;
		return KAPA_PKT_MALFORMED;
	}
	if (k == K_TEREDO && n < f->len)
		return KAPA_PKT_NON_TCP;		/* IPv6 does not fill it */
	if (k == K_GTPU && n == t->inner)
		return KAPA_PKT_NON_TCP;		/* a G-PDU of nothing */
	if (n < l2) {
		if (k == K_PW)
			return KAPA_PKT_NON_IP;
		*why = KAPA_BAD_ETH_TRUNC;
		return KAPA_PKT_MALFORMED;
	}
	if (n < l2 + 4 * t->inner_tags) {
		*why = KAPA_BAD_VLAN_TRUNC;
		return KAPA_PKT_MALFORMED;
	}
	if (n < f->len) {
		if (f->family == 4)
			*why = n < f->l3 + 20 ? KAPA_BAD_IP4_TRUNC : KAPA_BAD_IP4_LEN;
		else
			*why = n < f->l3 + 40 ? KAPA_BAD_IP6_TRUNC : KAPA_BAD_IP6_LEN;
		return KAPA_PKT_MALFORMED;
	}
	return KAPA_PKT_TCP;
}

/*
 * The datagram cut at every byte after the outer IP header, its lengths
 * rewritten to end there, in a heap buffer of exactly that size (ASan or
 * valgrind sees any read past it), and again with the rest of the frame
 * left behind it as Ethernet padding, which must change nothing. A
 * pseudowire has no length: its cuts are capture cuts. @return mismatches.
 */
static unsigned int
tun_cuts(const struct fb *f, const struct tun *t, unsigned int k, unsigned int *seen)
{
	/* (Nothing after an MPLS stack is KAPA_BAD_MPLS_TRUNC: test_mpls.) */
	uint32_t n, from = t->outer + (k == K_PW ? 1 : t->outer6 ? 40 : 20);
	struct kapa_pkt p, q;
	enum kapa_pkt_bad why;
	unsigned int bad = 0;
	uint8_t *buf, *pad;
	int cls;

	for (n = from; n <= f->len; n++) {
		buf = malloc(n);
		pad = malloc(f->len);
		CU_ASSERT_FATAL(buf != NULL && pad != NULL);
		memcpy(pad, f->b, f->len);
		if (k != K_PW)
			tun_lengths(pad, t, n);
		memcpy(buf, pad, n);
		memset(&p, 0x5a, sizeof(p));
		cls = tun_expect(f, t, k, n, &why);
		if (kapa_pkt_parse(buf, n, KAPA_L2_ETHER, &p) != cls || p.bad != why ||
		    (uint64_t)p.payload_off + p.payload_len > n || p.l3_off > n ||
		    p.outer_l3_off > p.l3_off) {
			bad++;
			fprintf(stderr, "tunnel kind %u cut at %u of %u: %s/%s, "
				"expected %s/%s\n", k, n, f->len,
				kapa_pkt_class_name(p.cls), kapa_pkt_bad_name(p.bad),
				kapa_pkt_class_name((unsigned int)cls),
				kapa_pkt_bad_name(why));
		}
		seen[p.bad]++;
		if (k != K_PW) {
			kapa_pkt_parse(pad, f->len, KAPA_L2_ETHER, &q);
			if (q.cls != p.cls || q.bad != p.bad || q.l3_off != p.l3_off ||
			    q.payload_len != p.payload_len)
				bad++;
		}
		free(buf);
		free(pad);
	}
	return bad;
}

static void
test_tunnels(void)
{
	unsigned int seen[KAPA_BAD_MAX] = { 0 };
	unsigned int k, v, o6, fam, fails = 0, cut_fails = 0, frames = 0;
	struct kapa_pkt p;
	struct tun t;
	struct fb f;

	for (k = 0; k < K_MAX; k++)
		for (o6 = 0; o6 <= 1; o6++)
			for (fam = 4; fam <= 6; fam += 2)
				for (v = 0; v < tun_variants[k]; v++) {
					if ((k == K_TEREDO && fam == 4) || (k == K_PW && o6))
						continue;
					tun_build(&f, &t, k, v, (int)o6, (int)fam, 7);
					frames++;
					if (parse(&f, KAPA_L2_ETHER, &p) != KAPA_PKT_TCP ||
					    p.family != fam || p.l3_off != f.l3 ||
					    p.l4_off != f.l4 || p.payload_len != 7 ||
					    p.payload_off != f.l4 + 32 ||
					    p.encap != (KAPA_ENCAP_TUNNEL |
							(k == K_PW ? KAPA_ENCAP_MPLS : 0)) ||
					    p.tunnel != t.bit || p.ntunnel != 1 ||
					    p.outer_l3_off != t.outer || p.nvlan != 0 ||
					    p.sport != 40000 || p.dport != 80 ||
					    p.opt.ts_val != 0x1001u ||
					    memcmp(p.eth_src, mac_src, 6) != 0 ||
					    memcmp(p.src, fam == 4 ? ip4_src : ip6_src,
						   fam == 4 ? 4 : 16) != 0 ||
					    memcmp(p.dst, fam == 4 ? ip4_dst : ip6_dst,
						   fam == 4 ? 4 : 16) != 0) {
						fails++;
						continue;
					}
					cut_fails += tun_cuts(&f, &t, k, seen);
					/* Every prefix defines every field, and a
					 * cooked capture's entry agrees. */
					no_stale_fields(&f, KAPA_L2_ETHER, seen);
					cut_fails += ethertype_cuts(&f, NULL);
				}
	CU_ASSERT_EQUAL(fails, 0);
	CU_ASSERT_EQUAL(cut_fails, 0);
	CU_ASSERT(frames > 120);
	/* The cuts reached each layer's reasons and the plain-UDP exits. */
	CU_ASSERT(seen[KAPA_BAD_TUNNEL_TRUNC] > 0);
	CU_ASSERT(seen[KAPA_BAD_ETH_TRUNC] > 0);
	CU_ASSERT(seen[KAPA_BAD_VLAN_TRUNC] > 0);
	CU_ASSERT(seen[KAPA_BAD_IP4_TRUNC] > 0);
	CU_ASSERT(seen[KAPA_BAD_IP6_LEN] > 0);
}

/* An IPv4 header of protocol @p proto whose total length fix_ip4s() sets. */
static void
nest_ip4(struct fb *f, uint32_t *at, unsigned int *n, uint8_t proto)
{
	at[(*n)++] = f->len;
	put32(f, 0x45000000);
	put32(f, 0x00004000);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	putn(f, out4_src, 4);
	putn(f, out4_dst, 4);
}

static void
fix_ip4s(struct fb *f, const uint32_t *at, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		set16(f, at[i] + 2, (uint16_t)(f->len - at[i]));
}

/* IP-in-IP @p depth times, then IPv4/TCP. */
static void
ipip_nest(struct fb *f, unsigned int depth)
{
	uint32_t at[8];
	unsigned int i, n = 0;

	fb_init(f);
	fb_eth(f, ET_IPV4, 0, NULL, NULL);
	for (i = 0; i < depth; i++)
		nest_ip4(f, at, &n, 4);
	fb_ip4(f, 5, P_TCP, 0);
	fb_tcp(f, 40000, 80, 1, 2, KAPA_TCP_ACK, 5, 0, NULL, 0);
	fb_payload(f, 3);
	fb_finish(f);
	fix_ip4s(f, at, n);
}

static void
test_tunnel_nesting(void)
{
	uint32_t at[4], udp;
	unsigned int n = 0;
	struct kapa_pkt p;
	struct fb f;

	ipip_nest(&f, 1);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.ntunnel, 1);
	ipip_nest(&f, KAPA_MAX_TUNNEL_DEPTH);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip4_tcp(&p, &f, 3);
	CU_ASSERT_EQUAL(p.ntunnel, KAPA_MAX_TUNNEL_DEPTH);
	CU_ASSERT_EQUAL(p.outer_l3_off, 14);
	CU_ASSERT_EQUAL(p.tunnel, KAPA_TUNNEL_IPIP);
	/* One more is refused, and says so; the link stays the outer one. */
	ipip_nest(&f, KAPA_MAX_TUNNEL_DEPTH + 1);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_TUNNEL_DEPTH);
	CU_ASSERT_EQUAL(p.ntunnel, KAPA_MAX_TUNNEL_DEPTH);
	CU_ASSERT_EQUAL(p.outer_l3_off, 14);
	CU_ASSERT_EQUAL(p.payload_len, 0);
	CU_ASSERT(memcmp(p.eth_dst, mac_dst, 6) == 0);

	/* GRE carrying IPv4/UDP/VXLAN carrying Ethernet/IPv6/TCP: two kinds. */
	fb_init(&f);
	fb_eth(&f, ET_IPV4, 1, (const uint16_t[]){ ET_VLAN }, (const uint16_t[]){ 9 });
	nest_ip4(&f, at, &n, 47);
	put16(&f, 0x2000);
	put16(&f, ET_IPV4);
	put32(&f, 1);
	nest_ip4(&f, at, &n, P_UDP);
	udp = f.len;
	put16(&f, 1234);
	put16(&f, 4789);
	put32(&f, 0);
	put32(&f, 0x08000000);
	put32(&f, 0x00000100);
	putn(&f, mac_dst, 6);
	putn(&f, mac_src, 6);
	put16(&f, ET_IPV6);
	fb_ip6(&f, P_TCP);
	fb_tcp(&f, 40000, 80, 1, 2, KAPA_TCP_ACK, 5, 0, NULL, 0);
	fb_payload(&f, 5);
	fb_finish(&f);
	fix_ip4s(&f, at, n);
	set16(&f, udp + 4, (uint16_t)(f.len - udp));
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip6_addrs(&p);
	CU_ASSERT_EQUAL(p.l3_off, f.l3);
	CU_ASSERT_EQUAL(p.payload_len, 5);
	CU_ASSERT_EQUAL(p.ntunnel, 2);
	CU_ASSERT_EQUAL(p.tunnel, KAPA_TUNNEL_GRE | KAPA_TUNNEL_VXLAN);
	CU_ASSERT_EQUAL(p.outer_l3_off, 18);
	CU_ASSERT_EQUAL(p.nvlan, 1);
	CU_ASSERT_EQUAL(p.vlan_tci[0], 9);
	/* The same from the ethertype (a cooked capture): offsets 14 less. */
	CU_ASSERT_EQUAL(kapa_pkt_parse_ethertype(f.b + 14, f.len - 14, ET_VLAN, &p),
			KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.outer_l3_off, 4);
	CU_ASSERT_EQUAL(p.l3_off, f.l3 - 14);
	CU_ASSERT_EQUAL(p.ntunnel, 2);
	/* Under a second tunnel layer that is the third: refused. */
	{
		struct fb g;
		uint32_t at2[1];
		unsigned int n2 = 0;

		fb_init(&g);
		fb_eth(&g, ET_IPV4, 0, NULL, NULL);
		nest_ip4(&g, at2, &n2, 4);
		putn(&g, f.b + 18, f.len - 18);
		fix_ip4s(&g, at2, n2);
		CU_ASSERT_EQUAL(parse(&g, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
		CU_ASSERT_EQUAL(p.bad, KAPA_BAD_TUNNEL_DEPTH);
	}
}

/* Near misses: UDP on a tunnel's port that is not that tunnel stays plain
 * UDP; GRE that is not followed is NON_TCP; an outer fragment stays one. */
static void
test_tunnel_near_misses(void)
{
	struct kapa_pkt p;
	struct tun t;
	struct fb f;

#define EXPECT_PLAIN_UDP()						\
	do {								\
		CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_TCP); \
		CU_ASSERT_EQUAL(p.ip_proto, P_UDP);			\
		CU_ASSERT_EQUAL(p.l4_off, t.udp);			\
		CU_ASSERT_EQUAL(p.encap, 0);				\
		CU_ASSERT_EQUAL(p.ntunnel, 0);				\
		CU_ASSERT_EQUAL(p.outer_l3_off, p.l3_off);		\
	} while (0)

	/* VXLAN without the I flag, on a neighbouring port, cut short. */
	tun_build(&f, &t, K_VXLAN, 0, 0, 4, 3);
	f.b[t.hdr] = 0x00;
	EXPECT_PLAIN_UDP();
	tun_build(&f, &t, K_VXLAN, 0, 0, 4, 3);
	set16(&f, t.udp + 2, 4788);
	EXPECT_PLAIN_UDP();
	tun_build(&f, &t, K_VXLAN, 0, 0, 4, 3);
	f.len = t.hdr + 7;
	tun_lengths(f.b, &t, f.len);
	EXPECT_PLAIN_UDP();
	/* A UDP length past the datagram, or shorter than a header. */
	tun_build(&f, &t, K_VXLAN, 0, 0, 4, 3);
	set16(&f, t.udp + 4, (uint16_t)(f.len - t.udp + 1));
	EXPECT_PLAIN_UDP();
	set16(&f, t.udp + 4, 7);
	EXPECT_PLAIN_UDP();
	/* Geneve: version 1, options past the datagram, another protocol. */
	tun_build(&f, &t, K_GENEVE, 1, 0, 4, 3);
	f.b[t.hdr] |= 0x40;
	EXPECT_PLAIN_UDP();
	tun_build(&f, &t, K_GENEVE, 1, 0, 4, 3);
	f.b[t.hdr] = 0x3f;
	EXPECT_PLAIN_UDP();
	tun_build(&f, &t, K_GENEVE, 0, 0, 4, 3);
	set16(&f, t.hdr + 2, 0x894f);		/* NSH */
	EXPECT_PLAIN_UDP();
	/* GTP: version 2 (GTPv2-C), PT 0 (GTP'), an echo request, a length
	 * past the datagram. */
	tun_build(&f, &t, K_GTPU, 0, 0, 4, 3);
	f.b[t.gtp] = 0x50;
	EXPECT_PLAIN_UDP();
	tun_build(&f, &t, K_GTPU, 0, 0, 4, 3);
	f.b[t.gtp] = 0x20;
	EXPECT_PLAIN_UDP();
	tun_build(&f, &t, K_GTPU, 0, 0, 4, 3);
	f.b[t.gtp + 1] = 1;
	EXPECT_PLAIN_UDP();
	tun_build(&f, &t, K_GTPU, 0, 0, 4, 3);
	set16(&f, t.gtp + 2, (uint16_t)(f.len - t.gtp - 8 + 1));
	EXPECT_PLAIN_UDP();
	/* ... but a G-PDU whose extension chain is broken is GTP-U gone bad,
	 * and one carrying neither IPv4 nor IPv6 is NON_TCP. */
	tun_build(&f, &t, K_GTPU, 2, 0, 4, 3);
	f.b[t.gtp + 12] = 0;			/* extension length 0 */
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_TUNNEL_TRUNC);
	tun_build(&f, &t, K_GTPU, 0, 0, 4, 3);
	f.b[t.inner] = 0x15;
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_TCP);
	CU_ASSERT_EQUAL(p.ip_proto, P_UDP);
	/* Teredo: IPv6 one byte short of the datagram, IPv4 inside. */
	tun_build(&f, &t, K_TEREDO, 3, 0, 6, 3);
	set16(&f, f.l3 + 4, (uint16_t)(f.len - f.l3 - 40 - 1));
	EXPECT_PLAIN_UDP();
	tun_build(&f, &t, K_TEREDO, 0, 0, 6, 3);
	f.b[t.inner] = 0x45;
	EXPECT_PLAIN_UDP();
	/* The higher port is tried too: Teredo from an ephemeral port below
	 * 3544 to the server's. */
	tun_build(&f, &t, K_TEREDO, 0, 0, 6, 3);
	set16(&f, t.udp, 3000);
	set16(&f, t.udp + 2, 3544);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(p.tunnel, KAPA_TUNNEL_TEREDO);

	/* GRE: routing bit, version 2, version 1 without the key or not PPP,
	 * PPP that is LCP, an unknown protocol: NON_TCP, not followed. */
	tun_build(&f, &t, K_GRE, 0, 0, 4, 3);
	f.b[t.hdr] |= 0x40;
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_TCP);
	CU_ASSERT_EQUAL(p.ip_proto, 47);
	CU_ASSERT_EQUAL(p.encap, 0);
	f.b[t.hdr] &= (uint8_t)~0x40;
	f.b[t.hdr + 1] = 2;
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_TCP);
	tun_build(&f, &t, K_PPTP, 0, 0, 4, 3);
	f.b[t.pptp] = 0;
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_TCP);
	tun_build(&f, &t, K_PPTP, 0, 0, 4, 3);
	set16(&f, t.pptp + 2, ET_IPV4);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_TCP);
	tun_build(&f, &t, K_PPTP, 0, 0, 4, 3);
	set16(&f, t.inner - 2, PPP_LCP);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_TCP);
	CU_ASSERT_EQUAL(p.encap, 0);
	tun_build(&f, &t, K_GRE, 0, 0, 4, 3);
	set16(&f, t.hdr + 2, 0x883e);		/* WCCP */
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_TCP);
	/* A PPTP payload length past the datagram. */
	tun_build(&f, &t, K_PPTP, 3, 0, 4, 3);
	set16(&f, t.pptp + 4, (uint16_t)(f.len - t.inner + 3));
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_TUNNEL_TRUNC);

	/* An outer fragment is a fragment: never reassembled, never opened. */
	tun_build(&f, &t, K_GRE, 7, 0, 4, 3);
	set16(&f, t.outer + 6, 0x2000);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_FRAGMENT);
	CU_ASSERT_EQUAL(p.encap, 0);
	CU_ASSERT_EQUAL(p.l3_off, 14);
	tun_build(&f, &t, K_IPIP, 0, 0, 6, 3);
	set16(&f, t.outer + 6, 0x0010);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_FRAGMENT);
	/* An inner fragment is one too, inside the tunnel. */
	tun_build(&f, &t, K_VXLAN, 0, 0, 4, 3);
	set16(&f, f.l3 + 6, 0x2000);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_FRAGMENT);
	CU_ASSERT_EQUAL(p.encap, KAPA_ENCAP_TUNNEL);
	CU_ASSERT_EQUAL(p.l3_off, f.l3);
	CU_ASSERT_EQUAL(p.outer_l3_off, 14);
	/* An inner Ethernet frame with a type kapa does not read. */
	tun_build(&f, &t, K_VXLAN, 0, 0, 4, 3);
	set16(&f, t.inner + 12, ET_ARP);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_NON_IP);
	CU_ASSERT_EQUAL(p.l3_off, t.inner + 14);
	CU_ASSERT_EQUAL(p.outer_l3_off, 14);
	CU_ASSERT_EQUAL(p.family, 4);		/* the outer header's, last read */
#undef EXPECT_PLAIN_UDP
}

/* PPPoE and MPLS inside a tunnel; an outer IPv6 extension chain; the 16-bit
 * offset bound. */
static void
test_tunnel_inner_links(void)
{
	static const uint8_t kinds[] = { P_HOPOPTS, P_DSTOPTS };
	static const uint8_t units[] = { 0, 1 };
	struct kapa_pkt p;
	struct tun t;
	struct fb f;
	uint32_t i, pppoe, big;
	uint8_t *buf;

	/* VXLAN carrying a frame with PPPoE in a tag. */
	tun_outer(&f, &t, 0, P_UDP);
	tun_udp(&f, &t, 50000, 4789);
	put32(&f, 0x08000000);
	put32(&f, 0x00000100);
	t.inner = f.len;
	putn(&f, mac_dst, 6);
	putn(&f, mac_src, 6);
	put16(&f, ET_VLAN);
	put16(&f, 3);
	put16(&f, ET_PPPOE_SES);
	pppoe = f.len;
	fb_pppoe(&f, 1, PPP_IPV4);
	fb_ip4(&f, 5, P_TCP, 0);
	fb_tcp(&f, 40000, 80, 1, 2, KAPA_TCP_ACK, 5, 0, NULL, 0);
	fb_payload(&f, 4);
	fb_finish(&f);
	fb_finish_pppoe(&f);
	tun_lengths(f.b, &t, f.len);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip4_tcp(&p, &f, 4);
	CU_ASSERT_EQUAL(p.encap, KAPA_ENCAP_TUNNEL | KAPA_ENCAP_PPPOE);
	CU_ASSERT_EQUAL(p.pppoe_len_off, 0);
	CU_ASSERT_EQUAL(p.nvlan, 0);
	/* Its PPPoE length one short of the datagram. */
	set16(&f, pppoe + 4, (uint16_t)(f.len - pppoe - 6 - 1));
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_PPPOE_LEN);

	/* GRE (Ethernet) carrying MPLS carrying IPv6. */
	tun_outer(&f, &t, 0, 47);
	put16(&f, 0);
	put16(&f, 0x6558);
	t.inner = f.len;
	putn(&f, mac_dst, 6);
	putn(&f, mac_src, 6);
	put16(&f, ET_MPLS);
	fb_mpls(&f, 7, 1);
	fb_ip6(&f, P_TCP);
	fb_tcp(&f, 40000, 80, 1, 2, KAPA_TCP_ACK, 5, 0, NULL, 0);
	fb_finish(&f);
	tun_lengths(f.b, &t, f.len);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip6_addrs(&p);
	CU_ASSERT_EQUAL(p.encap, KAPA_ENCAP_TUNNEL | KAPA_ENCAP_MPLS);
	CU_ASSERT_EQUAL(p.tunnel, KAPA_TUNNEL_GRE);

	/* MPLS straight in GRE (RFC 4023), two labels, IPv4. */
	tun_outer(&f, &t, 0, 47);
	put16(&f, 0);
	put16(&f, ET_MPLS);
	fb_mpls(&f, 16, 0);
	fb_mpls(&f, 17, 1);
	fb_ip4(&f, 5, P_TCP, 0);
	fb_tcp(&f, 40000, 80, 1, 2, KAPA_TCP_ACK, 5, 0, NULL, 0);
	fb_payload(&f, 6);
	fb_finish(&f);
	tun_lengths(f.b, &t, f.len);
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip4_tcp(&p, &f, 6);
	CU_ASSERT_EQUAL(p.encap, KAPA_ENCAP_TUNNEL | KAPA_ENCAP_MPLS);
	CU_ASSERT_EQUAL(p.outer_l3_off, 14);

	/* Outer IPv6 with two extension headers before GRE. */
	fb_init(&f);
	fb_eth(&f, ET_IPV6, 0, NULL, NULL);
	t.outer = f.len;
	put32(&f, 0x60000000);
	put16(&f, 0);
	put8(&f, kinds[0]);
	put8(&f, 64);
	putn(&f, ip6_dst, 16);
	putn(&f, ip6_src, 16);
	fb_ext(&f, kinds[0], kinds[1], units[0]);
	fb_ext(&f, kinds[1], 47, units[1]);
	put16(&f, 0x1000);
	put16(&f, ET_IPV4);
	put32(&f, 1);
	fb_ip4(&f, 5, P_TCP, 0);
	fb_tcp(&f, 40000, 80, 1, 2, KAPA_TCP_ACK, 5, 0, NULL, 0);
	fb_payload(&f, 2);
	fb_finish(&f);
	set16(&f, t.outer + 4, (uint16_t)(f.len - t.outer - 40));
	CU_ASSERT_EQUAL(parse(&f, KAPA_L2_ETHER, &p), KAPA_PKT_TCP);
	check_ip4_tcp(&p, &f, 2);
	CU_ASSERT_EQUAL(p.outer_l3_off, 14);

	/* An outer datagram ending past offset 65535: refused, not wrapped. */
	big = 14 + 40 + 65535;
	buf = calloc(1, big);
	CU_ASSERT_FATAL(buf != NULL);
	buf[12] = 0x86;
	buf[13] = 0xdd;
	buf[14] = 0x60;
	buf[18] = 0xff;
	buf[19] = 0xff;
	buf[20] = 4;
	for (i = 54; i < big; i += 20)
		buf[i] = 0x45;
	CU_ASSERT_EQUAL(kapa_pkt_parse(buf, big, KAPA_L2_ETHER, &p), KAPA_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.bad, KAPA_BAD_TUNNEL_LEN);
	CU_ASSERT_EQUAL(p.outer_l3_off, 14);
	free(buf);
}

int
kapa_unit_register(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{ "syn options", test_syn_options },
		{ "data options", test_data_options },
		{ "option edge cases", test_option_edges },
		{ "malformed options", test_bad_options },
		{ "vlan and qinq", test_vlan },
		{ "pppoe session", test_pppoe },
		{ "mpls label stack", test_mpls },
		{ "ipv4 options and padding", test_ip4_options_and_padding },
		{ "ipv4 fragments", test_ip4_fragments },
		{ "non-tcp and non-ip", test_non_tcp },
		{ "ipv6 extension chain", test_ip6_ext },
		{ "ipv6 fragment, esp, no-next", test_ip6_other_ends },
		{ "malformed ipv6", test_ip6_bad },
		{ "l3 entry points", test_l3_entry },
		{ "ethertype entry (cooked captures)", test_ethertype_entry },
		{ "malformed ipv4", test_ip4_bad },
		{ "malformed tcp", test_tcp_bad },
		{ "truncation at every length", test_truncation },
		{ "every field defined on every exit", test_every_field_defined },
		{ "random damage", test_mutations },
		{ "names", test_names },
		{ "tunnels, cut at every byte", test_tunnels },
		{ "tunnel nesting bound", test_tunnel_nesting },
		{ "tunnel near misses", test_tunnel_near_misses },
		{ "links inside tunnels", test_tunnel_inner_links },
	};
	CU_pSuite s;
	unsigned int i;

	s = CU_add_suite("pkt", NULL, NULL);
	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
			return -1;
	return 0;
}
