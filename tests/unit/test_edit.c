/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the packet edits (kapa_edit.c) on real frames built here and
 * read back with the core's parser: every incremental checksum update must
 * equal a full recomputation (and keep a bad checksum bad by the same
 * amount), insertions, trims and splits must leave frames the parser reads
 * with the bytes expected, and crafted RSTs must parse as what was asked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "kapa_edit.h"
#include "kapa_pkt.h"
#include "unit.h"

#define ROOM 4096

struct frame {
	uint8_t buf[ROOM];
	struct kapa_buf b;
	struct kapa_pkt pkt;
};

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint32_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

/*
 * An Ethernet frame (@p ntags 802.1Q tags) with IPv4 or IPv6 and TCP with a
 * SACK option of one block; @p pad bytes of Ethernet padding after the
 * datagram. Checksums filled. Parsed into f->pkt.
 */
static void
build(struct frame *f, int family, unsigned ntags, const uint8_t *payload, uint32_t plen,
      uint8_t flags, uint32_t pad)
{
	static const uint8_t sack_opt[12] = { 1, 1, 5, 10, 0, 0, 0x10, 0, 0, 0, 0x20, 0 };
	uint8_t *p = f->buf, *ip, *th;
	uint32_t iph = family == 4 ? 20 : 40, tcph = 32, i;

	memset(f, 0, sizeof(*f));
	memset(p, 0xee, 6);
	memset(p + 6, 0x11, 6);
	p += 12;
	for (i = 0; i < ntags; i++) {
		p[0] = 0x81;
		p[1] = 0x00;
		p[2] = 0;
		p[3] = (uint8_t)(10 + i);
		p += 4;
	}
	p[0] = family == 4 ? 0x08 : 0x86;
	p[1] = family == 4 ? 0x00 : 0xdd;
	ip = p + 2;
	if (family == 4) {
		ip[0] = 0x45;
		ip[2] = (uint8_t)((iph + tcph + plen) >> 8);
		ip[3] = (uint8_t)(iph + tcph + plen);
		ip[4] = 0x12;
		ip[6] = 0x40;
		ip[8] = 64;
		ip[9] = 6;
		inet_pton(AF_INET, "198.18.0.1", ip + 12);
		inet_pton(AF_INET, "198.18.0.2", ip + 16);
	} else {
		ip[0] = 0x60;
		ip[4] = (uint8_t)((tcph + plen) >> 8);
		ip[5] = (uint8_t)(tcph + plen);
		ip[6] = 6;
		ip[7] = 64;
		inet_pton(AF_INET6, "2001:db8::1", ip + 8);
		inet_pton(AF_INET6, "2001:db8::2", ip + 24);
	}
	th = ip + iph;
	th[0] = 0x9c;
	th[1] = 0x40;		/* 40000 */
	th[3] = 80;
	th[4] = 0x10;		/* seq 0x10000000 */
	th[8] = 0x20;		/* ack 0x20000000 */
	th[12] = (uint8_t)((tcph / 4) << 4);
	th[13] = flags;
	th[14] = 0xff;
	memcpy(th + 20, sack_opt, sizeof(sack_opt));
	memcpy(th + tcph, payload, plen);
	f->b.data = f->buf;
	f->b.len = (uint32_t)(th + tcph + plen - f->buf);
	memset(f->buf + f->b.len, 0, pad);
	f->b.len += pad;
	f->b.tailroom = ROOM - f->b.len;
	CU_ASSERT_FATAL(kapa_pkt_parse(f->buf, f->b.len, KAPA_L2_ETHER, &f->pkt) == KAPA_PKT_TCP);
	kapa_edit_fill_csum(&f->pkt);
	CU_ASSERT_FATAL(kapa_csum_ok(&f->pkt));
}

/* Parse the frame again, as a receiver would. */
static void
reparse(struct frame *f, struct kapa_pkt *out)
{
	CU_ASSERT_FATAL(kapa_pkt_parse(f->b.data, f->b.len, KAPA_L2_ETHER, out) == KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(out->len, f->pkt.len);
}

static void
test_csum_primitives(void)
{
	/* RFC 1071's example: 0001 f203 f4f5 f6f7 sums to ddf2. */
	static const uint8_t ex[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint8_t field[2] = { 0, 0 }, a[7], b[7];
	uint32_t s;
	int i;

	CU_ASSERT_EQUAL(kapa_csum_fold(kapa_csum_add(0, ex, 8, 0)), 0xddf2);
	/* odd start: the first byte is a low half */
	s = kapa_csum_add(0, ex + 1, 7, 1);
	CU_ASSERT_EQUAL(kapa_csum_fold(s), 0xddf2);
	/* an incremental update equals a fresh sum over the new bytes */
	for (i = 0; i < 1000; i++) {
		uint32_t k, off = rnd() % 2;

		for (k = 0; k < 7; k++) {
			a[k] = (uint8_t)rnd();
			b[k] = (uint8_t)rnd();
		}
		field[0] = 0;
		field[1] = 0;
		s = (uint16_t)~kapa_csum_fold(kapa_csum_add(0, a, 7, (int)off));
		field[0] = (uint8_t)(s >> 8);
		field[1] = (uint8_t)s;
		kapa_csum_update(field, a, b, 7, (int)off);
		s = (uint16_t)~kapa_csum_fold(kapa_csum_add(0, b, 7, (int)off));
		/* 0x0000 and 0xffff are the same one's complement value */
		if (((uint32_t)(field[0] << 8 | field[1]) % 0xffff) != s % 0xffff)
			CU_FAIL("incremental update differs from a fresh sum");
	}
}

/* The TCP checksum as stored. */
static uint16_t
csum_field(const struct frame *f)
{
	const uint8_t *c = f->buf + f->pkt.l4_off + 16;

	return (uint16_t)(c[0] << 8 | c[1]);
}

static void
set_csum_field(struct frame *f, uint16_t v)
{
	uint8_t *c = f->buf + f->pkt.l4_off + 16;

	c[0] = (uint8_t)(v >> 8);
	c[1] = (uint8_t)v;
}

/*
 * kapa_csum_tcp_ok() against the full sum kapa_edit_fill_csum() stores:
 * IPv4 and IPv6, with options (a SACK block), payloads of every length
 * from 0 to 64 (odd ones end in a half word) and a long one, VLAN tags,
 * Ethernet padding after the datagram (not summed). Any one byte changed
 * in the TCP header or payload, or in an address of the pseudo-header,
 * makes it fail; the IPv4 header's own checksum is not its business.
 */
static void
test_csum_tcp_verify(void)
{
	static struct frame f;
	uint8_t payload[1400];
	uint32_t len, i, span, at;
	int family;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)rnd();
	for (family = 4; family <= 6; family += 2) {
		for (len = 0; len <= 65; len++) {
			uint32_t plen = len == 65 ? sizeof(payload) : len;

			build(&f, family, len % 3, payload, plen, 0x18, len % 5);
			memset(f.buf + f.b.len - len % 5, 0xab, len % 5);	/* padding */
			CU_ASSERT(kapa_csum_tcp_ok(&f.pkt));
			span = f.pkt.payload_off + f.pkt.payload_len - f.pkt.l4_off;
			for (i = 0; i < 8; i++) {
				uint8_t bit = (uint8_t)(1u << (rnd() % 8));

				at = f.pkt.l4_off + rnd() % span;
				f.buf[at] ^= bit;
				if (kapa_csum_tcp_ok(&f.pkt))
					CU_FAIL("a changed TCP byte verified");
				f.buf[at] ^= bit;
				CU_ASSERT(kapa_csum_tcp_ok(&f.pkt));
			}
			/* the pseudo-header: the last byte of the source address */
			at = f.pkt.l3_off + (family == 4 ? 15 : 23);
			f.buf[at] ^= 1;
			CU_ASSERT_FATAL(kapa_pkt_parse(f.buf, f.b.len, KAPA_L2_ETHER, &f.pkt) ==
					KAPA_PKT_TCP);
			CU_ASSERT(!kapa_csum_tcp_ok(&f.pkt));
			if (family == 4) {
				/* the IPv4 header checksum is not the TCP one's */
				build(&f, family, 0, payload, plen, 0x18, 0);
				f.buf[f.pkt.l3_off + 10] ^= 0xff;
				CU_ASSERT(kapa_csum_tcp_ok(&f.pkt));
				CU_ASSERT(!kapa_csum_ok(&f.pkt));
			}
		}
	}
}

/*
 * Zero checksums: TCP has no "no checksum" (UDP's 0), so a stored 0 where
 * the sum is not zero is bad (a segment whose NIC was to fill it). A
 * segment whose sum is zero stores 0x0000, and its other form 0xffff
 * verifies too, as a receiver folding the sum accepts both.
 */
static void
test_csum_tcp_zero(void)
{
	static struct frame f;
	uint8_t payload[8] = "abcdefgh";
	uint16_t c;
	uint32_t w;
	int family;

	for (family = 4; family <= 6; family += 2) {
		build(&f, family, 0, payload, sizeof(payload), 0x18, 0);
		c = csum_field(&f);
		CU_ASSERT_FATAL(c != 0);
		set_csum_field(&f, 0);
		CU_ASSERT(!kapa_csum_tcp_ok(&f.pkt));
		/* Make the sum of the rest 0xffff: the payload's first word
		 * grows by the checksum that was stored (ones' complement). */
		w = (uint32_t)(payload[0] << 8 | payload[1]) + c;
		w = (w & 0xffff) + (w >> 16);
		payload[0] = (uint8_t)(w >> 8);
		payload[1] = (uint8_t)w;
		build(&f, family, 0, payload, sizeof(payload), 0x18, 0);
		CU_ASSERT_EQUAL(csum_field(&f), 0x0000);
		CU_ASSERT(kapa_csum_tcp_ok(&f.pkt));
		set_csum_field(&f, 0xffff);
		CU_ASSERT(kapa_csum_tcp_ok(&f.pkt));
		set_csum_field(&f, 0x0001);
		CU_ASSERT(!kapa_csum_tcp_ok(&f.pkt));
		memcpy(payload, "abcdefgh", 8);
	}
}

/*
 * A tunnelled segment (IPv4 or IPv6 in IPv4, protocols 4 and 41): the
 * checksum checked is the inner TCP one, over the inner pseudo-header,
 * which is what the inner server checks; the outer header's bytes are not
 * in it.
 */
static void
test_csum_tcp_tunnel(void)
{
	static struct frame f;
	static const uint8_t payload[] = "GET / HTTP/1.1\r\n\r\n";
	uint32_t inner_len, span, at;
	uint8_t *outer;
	int family;

	for (family = 4; family <= 6; family += 2) {
		build(&f, family, 0, payload, sizeof(payload) - 2, 0x18, 0);	/* odd */
		inner_len = f.b.len - 14;
		memmove(f.buf + 14 + 20, f.buf + 14, inner_len);
		f.buf[12] = 0x08;
		f.buf[13] = 0x00;
		outer = f.buf + 14;
		memset(outer, 0, 20);
		outer[0] = 0x45;
		outer[2] = (uint8_t)((inner_len + 20) >> 8);
		outer[3] = (uint8_t)(inner_len + 20);
		outer[8] = 64;
		outer[9] = family == 4 ? 4 : 41;
		inet_pton(AF_INET, "10.0.0.1", outer + 12);
		inet_pton(AF_INET, "10.0.0.2", outer + 16);
		f.b.len += 20;
		CU_ASSERT_FATAL(kapa_pkt_parse(f.buf, f.b.len, KAPA_L2_ETHER, &f.pkt) ==
				KAPA_PKT_TCP);
		CU_ASSERT_FATAL(f.pkt.encap & KAPA_ENCAP_TUNNEL);
		CU_ASSERT_EQUAL(f.pkt.family, family);
		CU_ASSERT(kapa_csum_tcp_ok(&f.pkt));
		/* the outer header is not summed (its own checksum left 0) */
		outer[8] = 1;
		outer[15] ^= 0x7;
		CU_ASSERT(kapa_csum_tcp_ok(&f.pkt));
		/* the inner segment is */
		span = f.pkt.payload_off + f.pkt.payload_len - f.pkt.l4_off;
		at = f.pkt.l4_off + span - 1;
		f.buf[at] ^= 0x40;
		CU_ASSERT(!kapa_csum_tcp_ok(&f.pkt));
		f.buf[at] ^= 0x40;
		f.buf[f.pkt.l3_off + (family == 4 ? 12 : 8)] ^= 0x80;	/* inner source */
		CU_ASSERT_FATAL(kapa_pkt_parse(f.buf, f.b.len, KAPA_L2_ETHER, &f.pkt) ==
				KAPA_PKT_TCP);
		CU_ASSERT(!kapa_csum_tcp_ok(&f.pkt));
	}
}

static void
test_rewrite(void)
{
	static const char body[] = "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\n\r\n";
	struct frame f;
	struct kapa_pkt q;
	int fam, odd;

	for (fam = 4; fam <= 6; fam += 2) {
		for (odd = 0; odd < 2; odd++) {
			build(&f, fam, 1, (const uint8_t *)body, sizeof(body) - 1, 0x18, 0);
			kapa_edit_rewrite(&f.pkt, 29 + (uint32_t)odd, (const uint8_t *)"timeout=4, max=9  ",
					  18 - (uint32_t)odd);
			reparse(&f, &q);
			CU_ASSERT(kapa_csum_ok(&q));
			CU_ASSERT_EQUAL(memcmp(q.data + q.payload_off + 29 + odd, "timeout=4, max=9  ",
					       18 - (uint32_t)odd), 0);
		}
	}
	/* A bad checksum stays bad by the same amount: never blessed. */
	build(&f, 4, 0, (const uint8_t *)body, sizeof(body) - 1, 0x18, 0);
	f.buf[f.pkt.l4_off + 17] ^= 0x5a;
	kapa_edit_rewrite(&f.pkt, 29, (const uint8_t *)"TIMEOUT", 7);
	CU_ASSERT(!kapa_csum_ok(&f.pkt));
	f.buf[f.pkt.l4_off + 17] ^= 0x5a;
	CU_ASSERT(kapa_csum_ok(&f.pkt));
}

/* Insertions at every even and odd position, lengths even, both families,
 * tags, padding: the frame parses, checksums verify, bytes are in place. */
static void
test_insert(void)
{
	uint8_t payload[301], want[400], ins[16];
	struct frame f;
	struct kapa_pkt q;
	uint32_t at, n, i, fails = 0;
	int fam;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)rnd();
	for (fam = 4; fam <= 6; fam += 2) {
		for (at = 0; at <= sizeof(payload); at += 7) {
			n = 2 + 2 * (rnd() % 8);
			for (i = 0; i < n; i++)
				ins[i] = (uint8_t)rnd();
			build(&f, fam, at % 3, payload, sizeof(payload), 0x18, at % 2 ? 6 : 0);
			CU_ASSERT_FATAL(kapa_edit_insert(&f.b, &f.pkt, at, ins, n) == 0);
			memcpy(want, payload, at);
			memcpy(want + at, ins, n);
			memcpy(want + at + n, payload + at, sizeof(payload) - at);
			reparse(&f, &q);
			if (!kapa_csum_ok(&q) || q.payload_len != sizeof(payload) + n ||
			    memcmp(q.data + q.payload_off, want, q.payload_len) != 0 ||
			    f.pkt.payload_len != q.payload_len)
				fails++;
		}
	}
	CU_ASSERT_EQUAL(fails, 0);
	/* refusals leave the frame as it was */
	build(&f, 4, 0, payload, 10, 0x18, 0);
	CU_ASSERT_EQUAL(kapa_edit_insert(&f.b, &f.pkt, 0, ins, 3), -EINVAL);
	CU_ASSERT_EQUAL(kapa_edit_insert(&f.b, &f.pkt, 11, ins, 2), -EINVAL);
	f.b.tailroom = 1;
	CU_ASSERT_EQUAL(kapa_edit_insert(&f.b, &f.pkt, 0, ins, 2), -ENOSPC);
	CU_ASSERT(kapa_csum_ok(&f.pkt));
	CU_ASSERT_EQUAL(f.pkt.payload_len, 10);
}

static void
test_trim(void)
{
	uint8_t payload[100];
	struct frame f;
	struct kapa_pkt q;
	uint32_t keep;

	for (keep = 0; keep < sizeof(payload); keep++)
		payload[keep] = (uint8_t)rnd();
	for (keep = 0; keep <= sizeof(payload); keep += 3) {
		build(&f, keep % 2 ? 6 : 4, 1, payload, sizeof(payload), 0x19 /* FIN */, 0);
		kapa_edit_trim(&f.b, &f.pkt, keep);
		reparse(&f, &q);
		CU_ASSERT(kapa_csum_ok(&q));
		CU_ASSERT_EQUAL(q.payload_len, keep);
		CU_ASSERT(!(q.tcp_flags & KAPA_TCP_FIN));
		CU_ASSERT_EQUAL(memcmp(q.data + q.payload_off, payload, keep), 0);
	}
}

/* The front of the payload cut, odd and even lengths, both families, with
 * Ethernet padding and a FIN: the rest moved up, seq advanced, FIN kept,
 * checksums right; a SYN and out-of-range lengths are left alone. */
static void
test_drop_front(void)
{
	uint8_t payload[101];
	struct frame f;
	struct kapa_pkt q;
	uint32_t n, seq;

	for (n = 0; n < sizeof(payload); n++)
		payload[n] = (uint8_t)rnd();
	for (n = 1; n < sizeof(payload); n += 2 + n % 3) {
		build(&f, n % 2 ? 6 : 4, n % 3 == 0, payload, sizeof(payload), 0x19 /* FIN */,
		      n % 4 == 0 ? 6 : 0);
		seq = f.pkt.seq;
		kapa_edit_drop_front(&f.b, &f.pkt, n);
		reparse(&f, &q);
		CU_ASSERT(kapa_csum_ok(&q));
		CU_ASSERT_EQUAL(q.payload_len, sizeof(payload) - n);
		CU_ASSERT_EQUAL(q.seq, seq + n);
		CU_ASSERT(q.tcp_flags & KAPA_TCP_FIN);
		CU_ASSERT_EQUAL(memcmp(q.data + q.payload_off, payload + n, sizeof(payload) - n), 0);
	}
	for (n = 0; n <= sizeof(payload); n += sizeof(payload)) {
		build(&f, 4, 0, payload, sizeof(payload), 0x18, 0);
		kapa_edit_drop_front(&f.b, &f.pkt, n);
		CU_ASSERT_EQUAL(f.pkt.payload_len, sizeof(payload));
	}
	build(&f, 4, 0, payload, sizeof(payload), 0x12 /* SYN/ACK */, 0);
	kapa_edit_drop_front(&f.b, &f.pkt, 10);
	CU_ASSERT_EQUAL(f.pkt.payload_len, sizeof(payload));
}

static void
test_split(void)
{
	uint8_t payload[1500], out[ROOM];
	struct frame f;
	struct kapa_pkt q, r;
	int n, fam;

	for (n = 0; n < (int)sizeof(payload); n++)
		payload[n] = (uint8_t)rnd();
	for (fam = 4; fam <= 6; fam += 2) {
		build(&f, fam, 2, payload, sizeof(payload), 0x19, 0);
		n = kapa_edit_split(&f.b, &f.pkt, 1000, out, sizeof(out));
		CU_ASSERT_FATAL(n > 0);
		reparse(&f, &q);
		CU_ASSERT(kapa_csum_ok(&q));
		CU_ASSERT(q.payload_len == 1000 && !(q.tcp_flags & KAPA_TCP_FIN));
		CU_ASSERT_FATAL(kapa_pkt_parse(out, (uint32_t)n, KAPA_L2_ETHER, &r) == KAPA_PKT_TCP);
		CU_ASSERT(kapa_csum_ok(&r));
		CU_ASSERT(r.payload_len == 500 && (r.tcp_flags & KAPA_TCP_FIN));
		CU_ASSERT_EQUAL(r.seq, q.seq + 1000);
		CU_ASSERT_EQUAL(r.nvlan, 2);
		CU_ASSERT_EQUAL(memcmp(r.data + r.payload_off, payload + 1000, 500), 0);
		CU_ASSERT_EQUAL(memcmp(q.data + q.payload_off, payload, 1000), 0);
	}
	CU_ASSERT_EQUAL(kapa_edit_split(&f.b, &f.pkt, 1000, out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(kapa_edit_split(&f.b, &f.pkt, 10, out, 20), -ENOSPC);
}

static uint32_t
minus_0x100(uint32_t e, void *arg)
{
	(void)arg;
	return e - 0x100;
}

static void
test_seq_ack_sack(void)
{
	struct frame f;
	struct kapa_pkt q;

	build(&f, 4, 0, (const uint8_t *)"abc", 3, 0x18, 0);
	kapa_edit_set_seq(&f.pkt, 0xfffffff0u);
	kapa_edit_set_ack(&f.pkt, 0x12345678u);
	CU_ASSERT_EQUAL(kapa_edit_map_sack(&f.pkt, minus_0x100, NULL), 2);
	reparse(&f, &q);
	CU_ASSERT(kapa_csum_ok(&q));
	CU_ASSERT(q.seq == 0xfffffff0u && q.ack == 0x12345678u);
	CU_ASSERT_FATAL(q.opt.nsack == 1);
	CU_ASSERT(q.opt.sack[0][0] == 0x1000 - 0x100 && q.opt.sack[0][1] == 0x2000 - 0x100);
	CU_ASSERT(f.pkt.opt.sack[0][0] == q.opt.sack[0][0]);
}

static void
test_craft_rst(void)
{
	uint8_t l2[18] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x81, 0, 0, 7, 0x08, 0 };
	uint8_t src[16], dst[16], out[128];
	struct kapa_rst r = {
		.l2 = l2, .l2_len = sizeof(l2), .family = 4, .src = src, .dst = dst,
		.sport = 80, .dport = 40000, .seq = 1234, .ack = 5678, .with_ack = 1,
	};
	struct kapa_pkt q;
	int n;

	inet_pton(AF_INET, "198.18.0.2", src);
	inet_pton(AF_INET, "198.18.0.1", dst);
	n = kapa_edit_craft_rst(&r, out, sizeof(out));
	CU_ASSERT_FATAL(n == 18 + 40);
	CU_ASSERT_FATAL(kapa_pkt_parse(out, (uint32_t)n, KAPA_L2_ETHER, &q) == KAPA_PKT_TCP);
	CU_ASSERT(kapa_csum_ok(&q));
	CU_ASSERT(q.nvlan == 1 && q.vlan_tci[0] == 7 && q.sport == 80 && q.dport == 40000);
	CU_ASSERT(q.seq == 1234 && q.ack == 5678 &&
		  q.tcp_flags == (KAPA_TCP_RST | KAPA_TCP_ACK) && q.payload_len == 0);
	/* IPv6, no ACK, no link header */
	inet_pton(AF_INET6, "2001:db8::2", src);
	inet_pton(AF_INET6, "2001:db8::1", dst);
	r.family = 6;
	r.l2_len = 0;
	r.with_ack = 0;
	n = kapa_edit_craft_rst(&r, out, sizeof(out));
	CU_ASSERT_FATAL(n == 60);
	CU_ASSERT_FATAL(kapa_pkt_parse(out, (uint32_t)n, KAPA_L3_IPV6, &q) == KAPA_PKT_TCP);
	CU_ASSERT(kapa_csum_ok(&q));
	CU_ASSERT(q.tcp_flags == KAPA_TCP_RST && q.ack == 0);
	CU_ASSERT_EQUAL(kapa_edit_craft_rst(&r, out, 59), -ENOSPC);
}

int
kapa_unit_register(void)
{
	CU_pSuite s = CU_add_suite("edit", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "checksum primitives (RFC 1071, 1624)", test_csum_primitives) == NULL ||
	    CU_add_test(s, "TCP checksum verified: v4, v6, options, odd lengths",
			test_csum_tcp_verify) == NULL ||
	    CU_add_test(s, "TCP checksum verified: zero", test_csum_tcp_zero) == NULL ||
	    CU_add_test(s, "TCP checksum verified: the inner one of a tunnel",
			test_csum_tcp_tunnel) == NULL ||
	    CU_add_test(s, "rewrite in place", test_rewrite) == NULL ||
	    CU_add_test(s, "insert anywhere", test_insert) == NULL ||
	    CU_add_test(s, "trim", test_trim) == NULL ||
	    CU_add_test(s, "front cut", test_drop_front) == NULL ||
	    CU_add_test(s, "split", test_split) == NULL ||
	    CU_add_test(s, "seq, ack, SACK edges", test_seq_ack_sack) == NULL ||
	    CU_add_test(s, "crafted RST", test_craft_rst) == NULL)
		return -1;
	return 0;
}
