/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of IP fragment reassembly (kapa_frag.h): a TCP segment built
 * whole, cut into IPv4 or IPv6 fragments, fed in order, reversed and
 * shuffled must come back as exactly the frame it was cut from; overlaps,
 * duplicates, a lost fragment, the timeouts, the table's two bounds and
 * every refusal are counted and leave nothing held. Then the engine: a
 * request and a response in fragments are counted as any other, and never
 * edited under a policy that would edit them, the fragments forwarded as
 * they came.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "engine_bench.h"
#include "kapa_eal.h"
#include "kapa_frag.h"
#include "kapa_pkt.h"
#include "unit.h"

#define ETH_LEN 14
#define MAX_PIECES 300
#define SEC 1000000000ull

/* A frame and where its IP datagram's data starts. */
struct frame {
	uint8_t b[ETH_LEN + 40 + 8 + KAPA_FRAG_DGRAM_MAX + 64];
	uint32_t len;
};

static struct frame whole;
static struct frame piece[MAX_PIECES];

static void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
ip4_csum(const uint8_t *h, uint32_t len)
{
	uint32_t s = 0, i;

	for (i = 0; i < len; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/*
 * An unfragmented Ethernet frame carrying a TCP segment of @p data_len
 * payload bytes (pattern seeded by @p seed), IPv4 id / IPv6 (none) as
 * given: the reference a reassembly must reproduce.
 */
static void
build_whole(int family, uint16_t id, uint32_t data_len, uint8_t seed)
{
	uint8_t *f = whole.b, *ip = f + ETH_LEN, *th;
	uint32_t iph = family == 4 ? 20 : 40, i;

	memset(f, 0, sizeof(whole.b));
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	wr16(f + 12, family == 4 ? 0x0800 : 0x86dd);
	if (family == 4) {
		ip[0] = 0x45;
		wr16(ip + 2, (uint16_t)(20 + 20 + data_len));
		wr16(ip + 4, id);
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, "\xc6\x12\x00\x01\xc6\x13\x00\x02", 8);
		wr16(ip + 10, ip4_csum(ip, 20));
	} else {
		ip[0] = 0x60;
		wr16(ip + 4, (uint16_t)(20 + data_len));
		ip[6] = 6;
		ip[7] = 64;
		inet_pton(AF_INET6, "2001:db8::1", ip + 8);
		inet_pton(AF_INET6, "2001:db8:1::2", ip + 24);
	}
	th = ip + iph;
	wr16(th, 40000);
	wr16(th + 2, 80);
	th[12] = 5 << 4;
	th[13] = KAPA_TCP_ACK | KAPA_TCP_PSH;
	for (i = 0; i < data_len; i++)
		th[20 + i] = (uint8_t)(seed + i * 7);
	whole.len = ETH_LEN + iph + 20 + data_len;
}

/*
 * Fragment @p n of the whole frame: its data [off, off + len) of the IP
 * payload, MF unless @p last. IPv6 gets a Fragment header with @p id.
 */
static void
build_piece(struct frame *p, uint32_t off, uint32_t len, int last, uint32_t id)
{
	const uint8_t *ip = whole.b + ETH_LEN;
	uint8_t *q = p->b + ETH_LEN;

	if ((ip[0] >> 4) == 4) {
		memcpy(p->b, whole.b, ETH_LEN + 20);
		wr16(q + 2, (uint16_t)(20 + len));
		wr16(q + 6, (uint16_t)((last ? 0 : 0x2000) | off / 8));
		wr16(q + 10, 0);
		wr16(q + 10, ip4_csum(q, 20));
		memcpy(q + 20, ip + 20 + off, len);
		p->len = ETH_LEN + 20 + len;
	} else {
		memcpy(p->b, whole.b, ETH_LEN + 40);
		q[6] = 44;
		wr16(q + 4, (uint16_t)(8 + len));
		q[40] = 6;
		q[41] = 0;
		wr16(q + 42, (uint16_t)(off | (last ? 0 : 1)));
		q[44] = (uint8_t)(id >> 24);
		q[45] = (uint8_t)(id >> 16);
		q[46] = (uint8_t)(id >> 8);
		q[47] = (uint8_t)id;
		memcpy(q + 48, ip + 40 + off, len);
		p->len = ETH_LEN + 48 + len;
	}
}

/* Cut the whole frame's IP payload into @p n pieces (multiples of 8). */
static uint32_t
cut(uint32_t n, uint32_t id)
{
	const uint8_t *ip = whole.b + ETH_LEN;
	uint32_t total = (ip[0] >> 4) == 4 ? whole.len - ETH_LEN - 20 : whole.len - ETH_LEN - 40;
	uint32_t i, a, b;

	for (i = 0; i < n; i++) {
		a = total * i / n / 8 * 8;
		b = i + 1 == n ? total : total * (i + 1) / n / 8 * 8;
		build_piece(&piece[i], a, b - a, i + 1 == n, id);
	}
	return n;
}

static struct kapa_frag *
table(uint32_t datagrams, uint32_t bytes)
{
	struct kapa_frag_conf c = { .max_datagrams = datagrams, .max_bytes = bytes };

	return kapa_frag_create(&c);
}

/* Feed piece @p i at @p now. */
static int
feed(struct kapa_frag *t, uint32_t i, uint64_t now, struct kapa_frag_dgram *out)
{
	struct kapa_pkt p;

	kapa_pkt_parse(piece[i].b, piece[i].len, KAPA_L2_ETHER, &p);
	if (p.cls != KAPA_PKT_FRAGMENT)
		fprintf(stderr, "piece %u: class %u bad %u\n", i, p.cls, p.bad);
	CU_ASSERT_EQUAL(p.cls, KAPA_PKT_FRAGMENT);
	return kapa_frag_input(t, &p, now, out);
}

/* The datagram came back as the frame it was cut from, parsed as TCP. */
static void
check_whole(const struct kapa_frag_dgram *d)
{
	CU_ASSERT_EQUAL_FATAL(d->len, whole.len);
	CU_ASSERT(memcmp(d->data, whole.b, whole.len) == 0);
	CU_ASSERT_EQUAL(d->pkt.cls, KAPA_PKT_TCP);
	CU_ASSERT(d->pkt.data == d->data);
	CU_ASSERT_EQUAL(d->pkt.l3_off, ETH_LEN);
	CU_ASSERT_EQUAL(d->pkt.payload_len, whole.len - d->pkt.payload_off);
}

static void
check_empty(const struct kapa_frag *t)
{
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->open, 0);
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->bytes_held, 0);
}

/* In order, reversed and shuffled, both families, 2 to 40 pieces. */
static void
test_orders(void)
{
	static const uint32_t order_shuffle[] = { 3, 0, 5, 1, 4, 2 };
	struct kapa_frag_dgram d;
	struct kapa_frag *t = table(0, 0);
	uint32_t n, i, fam, done;
	int rc;

	CU_ASSERT_FATAL(t != NULL);
	for (fam = 4; fam <= 6; fam += 2) {
		for (n = 2; n <= 40; n += 19) {
			build_whole((int)fam, (uint16_t)n, 1400, (uint8_t)n);
			cut(n, n);
			for (i = 0, done = 0; i < n; i++) {
				rc = feed(t, i, SEC, &d);
				done += rc == KAPA_FRAG_DONE;
				CU_ASSERT_EQUAL(rc, i + 1 == n ? KAPA_FRAG_DONE : KAPA_FRAG_HELD);
			}
			check_whole(&d);
			CU_ASSERT_EQUAL(d.nfrags, n);
			for (i = n; i-- > 0;) {
				rc = feed(t, i, SEC, &d);
				CU_ASSERT_EQUAL(rc, i == 0 ? KAPA_FRAG_DONE : KAPA_FRAG_HELD);
			}
			check_whole(&d);
		}
		build_whole((int)fam, 77, 2000, 9);
		cut(6, 77);
		for (i = 0; i < 6; i++) {
			rc = feed(t, order_shuffle[i], SEC, &d);
			CU_ASSERT_EQUAL(rc, i == 5 ? KAPA_FRAG_DONE : KAPA_FRAG_HELD);
		}
		check_whole(&d);
	}
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->reassembled, 14);
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->overlaps + kapa_frag_stats(t)->duplicates, 0);
	check_empty(t);
	kapa_frag_destroy(t);
}

/* An overlap drops the datagram whole, and its later fragments. */
static void
test_overlap(void)
{
	struct kapa_frag_dgram d;
	struct kapa_frag *t = table(0, 0);
	uint32_t fam;

	CU_ASSERT_FATAL(t != NULL);
	for (fam = 4; fam <= 6; fam += 2) {
		build_whole((int)fam, 5, 100, 1);
		build_piece(&piece[0], 0, 48, 0, 5);
		build_piece(&piece[1], 40, 48, 0, 5);	/* overlaps [40, 48) */
		build_piece(&piece[2], 88, 32, 1, 5);
		build_piece(&piece[3], 48, 40, 0, 5);
		CU_ASSERT_EQUAL(feed(t, 0, SEC, &d), KAPA_FRAG_HELD);
		CU_ASSERT_EQUAL(feed(t, 1, SEC, &d), KAPA_FRAG_REFUSED);
		CU_ASSERT_EQUAL(kapa_frag_stats(t)->bytes_held, 0);
		/* What would complete it is refused too (RFC 5722). */
		CU_ASSERT_EQUAL(feed(t, 3, SEC, &d), KAPA_FRAG_REFUSED);
		CU_ASSERT_EQUAL(feed(t, 2, SEC, &d), KAPA_FRAG_REFUSED);
	}
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->overlaps, 2);
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->refused[KAPA_FRAG_REF_DROPPED], 4);
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->reassembled, 0);
	/* The dropped datagrams' keys go at their timeout. */
	kapa_frag_expire(t, SEC + 61 * SEC);
	check_empty(t);
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->timed_out, 0);
	kapa_frag_destroy(t);
}

/* An exact duplicate is counted and ignored: the first copy is kept. */
static void
test_duplicate(void)
{
	struct kapa_frag_dgram d;
	struct kapa_frag *t = table(0, 0);

	CU_ASSERT_FATAL(t != NULL);
	build_whole(4, 6, 200, 3);
	cut(3, 6);
	piece[3] = piece[1];
	piece[3].b[ETH_LEN + 20] ^= 0xff;	/* same place, other bytes */
	CU_ASSERT_EQUAL(feed(t, 0, SEC, &d), KAPA_FRAG_HELD);
	CU_ASSERT_EQUAL(feed(t, 1, SEC, &d), KAPA_FRAG_HELD);
	CU_ASSERT_EQUAL(feed(t, 1, SEC, &d), KAPA_FRAG_HELD);
	CU_ASSERT_EQUAL(feed(t, 3, SEC, &d), KAPA_FRAG_HELD);
	CU_ASSERT_EQUAL(feed(t, 2, SEC, &d), KAPA_FRAG_DONE);
	check_whole(&d);
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->duplicates, 2);
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->overlaps, 0);
	check_empty(t);
	kapa_frag_destroy(t);
}

/* A lost fragment: held until the timeout (30 s IPv4, 60 s IPv6), then
 * counted and released; the fragments after the timeout start anew. */
static void
test_lost_and_timeout(void)
{
	struct kapa_frag_dgram d;
	struct kapa_frag *t = table(0, 0);

	CU_ASSERT_FATAL(t != NULL);
	build_whole(4, 7, 3000, 4);
	cut(3, 7);
	CU_ASSERT_EQUAL(feed(t, 0, SEC, &d), KAPA_FRAG_HELD);
	CU_ASSERT_EQUAL(feed(t, 2, SEC, &d), KAPA_FRAG_HELD);
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->open, 1);
	CU_ASSERT(kapa_frag_stats(t)->bytes_held >= 2 * KAPA_FRAG_BLOCK);
	CU_ASSERT_EQUAL(kapa_frag_expire(t, SEC + 30 * SEC - 1), 0);
	CU_ASSERT_EQUAL(kapa_frag_expire(t, SEC + 30 * SEC), 1);
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->timed_out, 1);
	check_empty(t);

	/* Across the timeout: the first part before it, the rest after. */
	CU_ASSERT_EQUAL(feed(t, 0, 100 * SEC, &d), KAPA_FRAG_HELD);
	CU_ASSERT_EQUAL(feed(t, 1, 131 * SEC, &d), KAPA_FRAG_HELD);
	CU_ASSERT_EQUAL(feed(t, 2, 131 * SEC, &d), KAPA_FRAG_HELD);
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->timed_out, 2);
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->open, 1);
	/* Within it, IPv6's 60 s: complete. */
	build_whole(6, 0, 1000, 4);
	cut(3, 8);
	CU_ASSERT_EQUAL(feed(t, 0, 200 * SEC, &d), KAPA_FRAG_HELD);
	CU_ASSERT_EQUAL(feed(t, 1, 240 * SEC, &d), KAPA_FRAG_HELD);
	CU_ASSERT_EQUAL(feed(t, 2, 259 * SEC, &d), KAPA_FRAG_DONE);
	check_whole(&d);
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->timed_out, 3);	/* the IPv4 one */
	check_empty(t);
	kapa_frag_destroy(t);
}

/* Full table: the oldest datagram makes room (counted). */
static void
test_table_full(void)
{
	struct kapa_frag_dgram d;
	struct kapa_frag *t = table(4, 0);
	uint32_t id;

	CU_ASSERT_FATAL(t != NULL);
	for (id = 1; id <= 5; id++) {
		build_whole(4, (uint16_t)id, 100, (uint8_t)id);
		cut(2, id);
		CU_ASSERT_EQUAL(feed(t, 0, SEC + id, &d), KAPA_FRAG_HELD);
	}
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->table_full, 1);
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->open, 4);
	/* The newest completes; the evicted oldest cannot. */
	CU_ASSERT_EQUAL(feed(t, 1, SEC + 10, &d), KAPA_FRAG_DONE);
	check_whole(&d);
	build_whole(4, 1, 100, 1);
	cut(2, 1);
	CU_ASSERT_EQUAL(feed(t, 1, SEC + 11, &d), KAPA_FRAG_HELD);
	kapa_frag_destroy(t);
}

/* The byte bound: older datagrams dropped for room; one that cannot fit
 * alone refused. */
static void
test_bytes_bound(void)
{
	struct kapa_frag_dgram d;
	struct kapa_frag *t = table(0, 4 * KAPA_FRAG_BLOCK);

	CU_ASSERT_FATAL(t != NULL);
	build_whole(4, 1, 4000, 1);	/* 2 blocks held by its first part */
	cut(2, 1);
	CU_ASSERT_EQUAL(feed(t, 0, SEC, &d), KAPA_FRAG_HELD);
	build_whole(4, 2, 3000, 2);
	cut(2, 2);
	CU_ASSERT_EQUAL(feed(t, 0, SEC + 1, &d), KAPA_FRAG_HELD);
	CU_ASSERT_EQUAL(feed(t, 1, SEC + 1, &d), KAPA_FRAG_DONE);
	check_whole(&d);
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->table_full, 1);
	build_whole(4, 3, 5000, 3);
	cut(2, 3);
	CU_ASSERT_EQUAL(feed(t, 0, SEC + 2, &d), KAPA_FRAG_HELD);
	CU_ASSERT_EQUAL(feed(t, 1, SEC + 2, &d), KAPA_FRAG_REFUSED);
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->refused[KAPA_FRAG_REF_NO_ROOM], 1);
	CU_ASSERT(kapa_frag_stats(t)->bytes_held <= 4 * KAPA_FRAG_BLOCK);
	kapa_frag_expire(t, 100 * SEC);
	check_empty(t);
	kapa_frag_destroy(t);
}

/* Each bound of RFC 791 / 8200 refused, counted, its datagram dropped. */
static void
test_bounds(void)
{
	struct kapa_frag_dgram d;
	struct kapa_frag *t = table(0, 0);
	const struct kapa_frag_stats *st;
	uint32_t i;

	CU_ASSERT_FATAL(t != NULL);
	st = kapa_frag_stats(t);
	build_whole(4, 1, 200, 1);
	build_piece(&piece[0], 0, 20, 0, 0);	/* not a multiple of 8 */
	CU_ASSERT_EQUAL(feed(t, 0, SEC, &d), KAPA_FRAG_REFUSED);
	CU_ASSERT_EQUAL(st->refused[KAPA_FRAG_REF_NOT8], 1);

	build_whole(4, 2, 200, 1);
	build_piece(&piece[0], 64, 16, 1, 0);	/* the end: 80 */
	build_piece(&piece[1], 80, 16, 0, 0);	/* past it */
	CU_ASSERT_EQUAL(feed(t, 0, SEC, &d), KAPA_FRAG_HELD);
	CU_ASSERT_EQUAL(feed(t, 1, SEC, &d), KAPA_FRAG_REFUSED);
	CU_ASSERT_EQUAL(st->refused[KAPA_FRAG_REF_PAST_END], 1);

	build_whole(4, 3, 200, 1);
	build_piece(&piece[0], 64, 16, 1, 0);
	build_piece(&piece[1], 64, 24, 1, 0);	/* another end */
	CU_ASSERT_EQUAL(feed(t, 0, SEC, &d), KAPA_FRAG_HELD);
	CU_ASSERT_EQUAL(feed(t, 1, SEC, &d), KAPA_FRAG_REFUSED);
	CU_ASSERT_EQUAL(st->refused[KAPA_FRAG_REF_PAST_END], 2);

	build_whole(4, 4, 200, 1);
	build_piece(&piece[0], 96, 16, 0, 0);
	build_piece(&piece[1], 16, 32, 1, 0);	/* ends before data held */
	CU_ASSERT_EQUAL(feed(t, 0, SEC, &d), KAPA_FRAG_HELD);
	CU_ASSERT_EQUAL(feed(t, 1, SEC, &d), KAPA_FRAG_REFUSED);
	CU_ASSERT_EQUAL(st->refused[KAPA_FRAG_REF_PAST_END], 3);

	build_whole(4, 5, 200, 1);
	build_piece(&piece[0], 65512, 8, 1, 0);	/* 20 + 65520 > 65535 */
	CU_ASSERT_EQUAL(feed(t, 0, SEC, &d), KAPA_FRAG_REFUSED);
	CU_ASSERT_EQUAL(st->refused[KAPA_FRAG_REF_TOO_BIG], 1);
	build_whole(6, 0, 200, 1);
	build_piece(&piece[0], 65528, 16, 1, 9);	/* payload 65544 */
	CU_ASSERT_EQUAL(feed(t, 0, SEC, &d), KAPA_FRAG_REFUSED);
	CU_ASSERT_EQUAL(st->refused[KAPA_FRAG_REF_TOO_BIG], 2);

	build_whole(4, 6, 200, 1);
	build_piece(&piece[0], 8, 0, 0, 0);
	CU_ASSERT_EQUAL(feed(t, 0, SEC, &d), KAPA_FRAG_REFUSED);
	CU_ASSERT_EQUAL(st->refused[KAPA_FRAG_REF_EMPTY], 1);

	/* More pieces than a datagram may have. */
	build_whole(4, 7, 2100, 1);
	for (i = 0; i <= KAPA_FRAG_PARTS_MAX; i++)
		build_piece(&piece[i], i * 8, 8, 0, 0);
	for (i = 0; i < KAPA_FRAG_PARTS_MAX; i++)
		CU_ASSERT_EQUAL(feed(t, i, SEC, &d), KAPA_FRAG_HELD);
	CU_ASSERT_EQUAL(feed(t, KAPA_FRAG_PARTS_MAX, SEC, &d), KAPA_FRAG_REFUSED);
	CU_ASSERT_EQUAL(st->refused[KAPA_FRAG_REF_PARTS], 1);

	CU_ASSERT_EQUAL(st->reassembled, 0);
	CU_ASSERT_EQUAL(st->bytes_held, 0);
	kapa_frag_expire(t, 100 * SEC);
	check_empty(t);
	kapa_frag_destroy(t);
}

/* An IPv6 atomic fragment (offset 0, last) is a whole datagram. */
static void
test_atomic(void)
{
	struct kapa_frag_dgram d;
	struct kapa_frag *t = table(0, 0);

	CU_ASSERT_FATAL(t != NULL);
	build_whole(6, 0, 300, 5);
	cut(1, 42);
	CU_ASSERT_EQUAL(feed(t, 0, SEC, &d), KAPA_FRAG_DONE);
	check_whole(&d);
	CU_ASSERT_EQUAL(kapa_frag_stats(t)->atomic, 1);
	check_empty(t);
	kapa_frag_destroy(t);
}

/* ---- the engine: fragments counted, never edited ---------------------------------- */

/* bench_frags_x()'s @p corrupt */
#define CORRUPT_TCP 1		/* a payload byte changed after the TCP checksum */
#define CORRUPT_IP4_FIRST 2	/* the first fragment sent with a wrong IPv4 header
				   checksum, sent again right after the others */

/* One fragment through the engine: forwarded byte for byte. */
static void
bench_piece(struct bench *b, int dir, struct frame *fr)
{
	uint8_t keep[sizeof(fr->b)];
	enum kapa_verdict v;
	struct kapa_buf buf;
	struct kapa_pkt p;

	CU_ASSERT_EQUAL(kapa_pkt_parse(fr->b, fr->len, KAPA_L2_ETHER, &p), KAPA_PKT_FRAGMENT);
	memcpy(keep, fr->b, fr->len);
	buf.data = fr->b;
	buf.len = fr->len;
	buf.tailroom = 0;
	buf.port = b->port_of[dir];
	buf.edited = 0;
	b->now += 1000;
	b->in_input = 1;
	v = kapa_engine_input(b->e, &buf, &p, b->now, (void *)(uintptr_t)++b->nframe);
	b->in_input = 0;
	CU_ASSERT_EQUAL(v, KAPA_VERDICT_FORWARD);
	CU_ASSERT_EQUAL(buf.edited, 0);
	CU_ASSERT(buf.len == fr->len && memcmp(keep, fr->b, buf.len) == 0);
}

/*
 * Data from one end as IP fragments (@p n of them, in reverse when
 * @p reverse): each must be forwarded byte for byte; the receiver then
 * gets the segment whole, as its own IP layer would rebuild it.
 */
static void
bench_frags_x(struct bench *b, int from_srv, const char *s, uint32_t n, int reverse,
	      int corrupt)
{
	static uint8_t f[BENCH_FRAME + BENCH_ROOM];
	uint64_t *off = from_srv ? &b->soff : &b->coff;
	uint32_t isn = from_srv ? b->sisn : b->cisn, i, k, len = (uint32_t)strlen(s);
	int dir = from_srv ? KAPA_DIR_S2C : KAPA_DIR_C2S;
	struct kapa_pkt p;

	whole.len = bench_build(b, from_srv, isn + 1 + (uint32_t)*off, bench_ack(b, from_srv),
				KAPA_TCP_ACK | KAPA_TCP_PSH, (const uint8_t *)s, len, NULL, f, &p);
	CU_ASSERT_FATAL(whole.len != 0 && p.l3_off == ETH_LEN);
	memcpy(whole.b, f, whole.len);
	if (corrupt == CORRUPT_TCP)
		whole.b[whole.len - 1] ^= 0x20;
	cut(n, 0x1000 + b->nframe);
	for (k = 0; k < n; k++) {
		i = reverse ? n - 1 - k : k;
		if (corrupt == CORRUPT_IP4_FIRST && k == 0)
			piece[i].b[ETH_LEN + 10] ^= 0x5a;
		bench_piece(b, dir, &piece[i]);
		if (corrupt == CORRUPT_IP4_FIRST && k == 0)
			piece[i].b[ETH_LEN + 10] ^= 0x5a;
	}
	if (corrupt == CORRUPT_IP4_FIRST) {
		/* Its receiver still waits for that one: nothing rebuilt. */
		CU_ASSERT_EQUAL(b->npend, 0);
		CU_ASSERT_EQUAL(kapa_frag_stats(kapa_engine_frag(b->e))->reassembled, 0);
		bench_piece(b, dir, &piece[reverse ? n - 1 : 0]);
	}
	for (i = 0; i < b->npend; i++)
		bench_deliver(b, b->pend[i].dir, b->pend[i].data, b->pend[i].len, 1);
	b->npend = 0;
	if (corrupt == CORRUPT_TCP)
		return;		/* the receiver drops it: nothing arrives */
	bench_deliver(b, (uint8_t)dir, whole.b, whole.len, 0);
	*off += len;
}

static void
bench_frags(struct bench *b, int from_srv, const char *s, uint32_t n, int reverse)
{
	bench_frags_x(b, from_srv, s, n, reverse, 0);
}

/*
 * Under a policy that advertises (rewrites or inserts Keep-Alive) and
 * enforces max=2: requests and responses in fragments are counted like
 * any others, nothing of them is edited (refused, counted "fragmented"),
 * and the same exchange unfragmented is edited: the policy would act.
 */
static void
test_engine_never_edits(void)
{
	static const char rsp[] = "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
				  "Keep-Alive: timeout=100, max=1000\r\nContent-Length: 0\r\n\r\n";
	static const char req[] = "GET /a-request-long-enough-to-cut HTTP/1.1\r\nHost: x\r\n\r\n";
	const struct kapa_frag_stats *fs;
	struct bench b;
	int fam;

	for (fam = 4; fam <= 6; fam += 2) {
		CU_ASSERT_FATAL(bench_init(&b, fam, "timeout=5,max=2,mode=advertise",
					   NULL, 0) == 0);
		bench_handshake(&b);
		bench_frags(&b, 0, req, 3, 0);
		CU_ASSERT_EQUAL(kapa_http_stats(kapa_engine_http(b.e))->requests, 1);
		bench_frags(&b, 1, rsp, 4, 1);
		CU_ASSERT_EQUAL(kapa_http_stats(kapa_engine_http(b.e))->responses, 1);
		CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_REFUSED, KAPA_ACT_WHY_FRAGMENTED), 1);
		CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_REWRITE, KAPA_ACT_WHY_ADVERTISE) +
				bench_count(&b, KAPA_ACT_KIND_INSERT, KAPA_ACT_WHY_ADVERTISE), 0);
		CU_ASSERT_EQUAL(kapa_engine_stats(b.e)->pkts_edited, 0);
		CU_ASSERT_STRING_EQUAL((const char *)b.rcv[KAPA_DIR_S2C].buf, rsp);
		/* The same response whole is edited: the policy acts. */
		bench_str(&b, 0, req);
		bench_str(&b, 1, rsp);
		CU_ASSERT_EQUAL(kapa_http_stats(kapa_engine_http(b.e))->requests, 2);
		CU_ASSERT(bench_count(&b, KAPA_ACT_KIND_REWRITE, KAPA_ACT_WHY_REQUESTS) +
			  bench_count(&b, KAPA_ACT_KIND_INSERT, KAPA_ACT_WHY_REQUESTS) >= 1);
		/* A third request, in fragments, past the max: it cannot be held
		 * back, the connection is reset as it is refused. */
		bench_frags(&b, 0, req, 2, 1);
		CU_ASSERT_EQUAL(kapa_http_stats(kapa_engine_http(b.e))->requests, 3);
		CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_RST, KAPA_ACT_WHY_REQUESTS), 1);
		bench_pure_ack(&b, 1);
		bench_wait(&b, 10);
		fs = kapa_frag_stats(kapa_engine_frag(b.e));
		CU_ASSERT_EQUAL(fs->fragments, 9);
		CU_ASSERT_EQUAL(fs->reassembled, 3);
		CU_ASSERT_EQUAL(b.bad_csum, 0);
		bench_fini(&b);
	}
}

/*
 * The rebuilt datagram takes the engine's own input, checksum check
 * included: a request whose fragments make a segment with a wrong TCP
 * checksum (the server's stack drops it) is not counted; its good copy is.
 */
static void
test_engine_checksum(void)
{
	static const char req[] = "GET /checked HTTP/1.1\r\nHost: x\r\n\r\n";
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 4, "max=5,mode=enforce", NULL, 0) == 0);
	bench_handshake(&b);
	bench_frags_x(&b, 0, req, 3, 1, CORRUPT_TCP);
	CU_ASSERT_EQUAL(kapa_frag_stats(kapa_engine_frag(b.e))->reassembled, 1);
	CU_ASSERT_EQUAL(kapa_engine_stats(b.e)->csum_bad, 1);
	CU_ASSERT_EQUAL(kapa_http_stats(kapa_engine_http(b.e))->requests, 0);
	bench_frags_x(&b, 0, req, 3, 0, 0);
	CU_ASSERT_EQUAL(kapa_engine_stats(b.e)->csum_bad, 1);
	CU_ASSERT_EQUAL(kapa_http_stats(kapa_engine_http(b.e))->requests, 1);
	bench_fini(&b);
}

/*
 * A fragment whose IPv4 header checksum is wrong is dropped by its
 * receiver's IP layer: it does not complete the datagram (the request is
 * counted only when its good copy comes), and it is counted.
 */
static void
test_engine_fragment_header_checksum(void)
{
	static const char req[] = "GET /checked HTTP/1.1\r\nHost: x\r\n\r\n";
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 4, "max=5,mode=enforce", NULL, 0) == 0);
	bench_handshake(&b);
	bench_frags_x(&b, 0, req, 3, 1, CORRUPT_IP4_FIRST);
	CU_ASSERT_EQUAL(kapa_engine_stats(b.e)->csum_bad, 1);
	CU_ASSERT_EQUAL(kapa_frag_stats(kapa_engine_frag(b.e))->reassembled, 1);
	CU_ASSERT_EQUAL(kapa_http_stats(kapa_engine_http(b.e))->requests, 1);
	CU_ASSERT_STRING_EQUAL((const char *)b.rcv[KAPA_DIR_C2S].buf, req);
	bench_fini(&b);
}

static int
suite_init(void)
{
	return kapa_eal_init_offline("test_frag", 256) != 0;
}

int
kapa_unit_register(void)
{
	CU_pSuite s = CU_add_suite("frag", suite_init, NULL);

	if (s == NULL ||
	    CU_add_test(s, "in order, reversed, shuffled", test_orders) == NULL ||
	    CU_add_test(s, "overlap drops the datagram", test_overlap) == NULL ||
	    CU_add_test(s, "duplicates: first copy kept", test_duplicate) == NULL ||
	    CU_add_test(s, "lost fragment, timeouts", test_lost_and_timeout) == NULL ||
	    CU_add_test(s, "table full", test_table_full) == NULL ||
	    CU_add_test(s, "byte bound", test_bytes_bound) == NULL ||
	    CU_add_test(s, "RFC bounds refused", test_bounds) == NULL ||
	    CU_add_test(s, "IPv6 atomic fragment", test_atomic) == NULL ||
	    CU_add_test(s, "engine: counted, never edited", test_engine_never_edits) == NULL ||
	    CU_add_test(s, "engine: the checksum of the whole datagram",
			test_engine_checksum) == NULL ||
	    CU_add_test(s, "engine: a fragment's IPv4 header checksum",
			test_engine_fragment_header_checksum) == NULL)
		return -1;
	return 0;
}
