/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of kapa_pkt_parse() and kapa_pkt_parse_ethertype(). Frames are built byte by byte with the small
 * builders below, so that every field the parser reports can be compared with
 * what was written. Truncated inputs are copied into heap buffers of exactly
 * the truncated size, so that valgrind (or ASan) sees any read past the end.
 */
#include <stdint.h>
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
