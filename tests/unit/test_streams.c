/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kapa-inspect's stream numbering (dataplane/inspect/streams.c): numbers
 * kept across a 4-tuple's moves out of the table (streams_take(), the core
 * holds the connection) and back (streams_put()), with enough 4-tuples
 * taken out of crowded probe runs that a wrong deletion loses some.
 */
#include <string.h>

#include "streams.h"
#include "unit.h"

#define TUPLES 20000u

/* Tuple @p i: IPv4 198.18.x.y:port > 198.18.0.1:80, or IPv6 when @p v6. */
static void
tuple(struct kapa_pkt *p, uint32_t i, int v6, uint8_t flags, uint32_t seq)
{
	memset(p, 0, sizeof(*p));
	p->cls = KAPA_PKT_TCP;
	p->family = v6 ? 6 : 4;
	p->src[0] = v6 ? 0x20 : 198;
	p->src[1] = v6 ? 0x01 : 18;
	p->src[2] = (uint8_t)(i >> 8);
	p->src[3] = (uint8_t)i;
	p->dst[0] = p->src[0];
	p->dst[1] = p->src[1];
	p->dst[3] = 1;
	p->dst[15] = v6 ? 1 : 0;
	p->sport = (uint16_t)(10000 + i % 50000);
	p->dport = 80;
	p->tcp_flags = flags;
	p->seq = seq;
}

static void
key_of(struct kapa_flow_key *k, const struct kapa_pkt *p)
{
	kapa_flow_key_make(k, p->family, p->src, p->sport, p->dst, p->dport);
}

static void
test_take_put(void)
{
	struct streams *s = streams_create();
	struct stream_state held[TUPLES];
	struct kapa_flow_key k;
	struct kapa_pkt p;
	uint32_t i;
	int v6;

	CU_ASSERT_FATAL(s != NULL);
	memset(held, 0, sizeof(held));
	/* Numbered in order, IPv4 and IPv6 alternating. */
	for (i = 0; i < TUPLES; i++) {
		tuple(&p, i, i & 1, KAPA_TCP_SYN, 1000 + i);
		CU_ASSERT_EQUAL(streams_number(s, &p, 1000000000ull), i);
	}
	/* Every third one taken out: the core holds it. */
	for (i = 0; i < TUPLES; i += 3) {
		tuple(&p, i, i & 1, 0, 0);
		key_of(&k, &p);
		CU_ASSERT_EQUAL(streams_take(s, &k, &held[i]), 1);
		CU_ASSERT_EQUAL(held[i].stream, i);
		CU_ASSERT_EQUAL(held[i].in_table, 0);
		CU_ASSERT_EQUAL(streams_take(s, &k, &held[i]), 0);
	}
	/* The others are still found, with their numbers. */
	for (i = 0; i < TUPLES; i++) {
		v6 = i & 1;
		tuple(&p, i, v6, KAPA_TCP_ACK, 5);
		if (i % 3 == 0) {
			key_of(&k, &p);
			CU_ASSERT_EQUAL(streams_number_held(s, &held[i], &p,
							    kapa_flow_key_make(&k, p.family, p.src,
									       p.sport, p.dst, p.dport)),
					i);
		} else {
			CU_ASSERT_EQUAL(streams_number(s, &p, 2000000000ull), i);
		}
	}
	CU_ASSERT_EQUAL(streams_count(s), TUPLES);
	/* Back in the table: the same numbers; a SYN with the same ISN is a
	 * retransmission, one with another starts a new stream. */
	for (i = 0; i < TUPLES; i += 3) {
		tuple(&p, i, i & 1, 0, 0);
		key_of(&k, &p);
		CU_ASSERT_EQUAL(streams_put(s, &k, &held[i], 3000000000ull), 0);
	}
	for (i = 0; i < TUPLES; i++) {
		tuple(&p, i, i & 1, KAPA_TCP_SYN, 1000 + i);
		CU_ASSERT_EQUAL(streams_number(s, &p, 4000000000ull), i);
	}
	CU_ASSERT_EQUAL(streams_count(s), TUPLES);
	tuple(&p, 3, 1, KAPA_TCP_SYN, 7);
	CU_ASSERT_EQUAL(streams_number(s, &p, 5000000000ull), TUPLES);
	CU_ASSERT_EQUAL(streams_number(s, &p, 5000000000ull), TUPLES);
	streams_free(s);
}

/* An ICMP error quoting a TCP header numbers that connection once. */
static void
test_icmp_note(void)
{
	struct streams *s = streams_create();
	struct kapa_pkt p, inner, tcp;
	uint8_t frame[64] = {0};
	uint8_t *q = frame + 8;	/* after the ICMP header */

	CU_ASSERT_FATAL(s != NULL);
	memset(&p, 0, sizeof(p));
	p.cls = KAPA_PKT_NON_TCP;
	p.family = 4;
	p.ip_proto = 1;
	p.data = frame;
	p.len = sizeof(frame);
	frame[0] = 3;		/* destination unreachable */
	q[0] = 0x45;
	q[9] = 6;
	memcpy(q + 12, (uint8_t[]){198, 18, 0, 9}, 4);
	memcpy(q + 16, (uint8_t[]){198, 18, 0, 1}, 4);
	q[20] = 0x27;		/* 10000 */
	q[21] = 0x10;
	q[23] = 80;
	CU_ASSERT_EQUAL_FATAL(streams_icmp_quoted(&p, &inner), 1);
	CU_ASSERT_EQUAL(inner.cls, KAPA_PKT_TCP);
	CU_ASSERT_EQUAL(inner.sport, 10000);
	CU_ASSERT_EQUAL(inner.dport, 80);
	CU_ASSERT_EQUAL(streams_note(s, &inner, 1), 0);
	CU_ASSERT_EQUAL(streams_note(s, &inner, 1), 0);
	CU_ASSERT_EQUAL(streams_count(s), 1);
	/* The connection's own packets, from the other side, get its number. */
	memset(&tcp, 0, sizeof(tcp));
	tcp.cls = KAPA_PKT_TCP;
	tcp.family = 4;
	memcpy(tcp.src, inner.dst, 4);
	memcpy(tcp.dst, inner.src, 4);
	tcp.sport = 80;
	tcp.dport = 10000;
	tcp.tcp_flags = KAPA_TCP_ACK;
	CU_ASSERT_EQUAL(streams_number(s, &tcp, 2), 0);
	frame[0] = 8;		/* echo request: quotes nothing */
	CU_ASSERT_EQUAL(streams_icmp_quoted(&p, &inner), 0);
	streams_free(s);
}

int
kapa_unit_register(void)
{
	CU_pSuite su = CU_add_suite("streams", NULL, NULL);

	if (su == NULL)
		return -1;
	if (CU_add_test(su, "take and put keep numbers", test_take_put) == NULL ||
	    CU_add_test(su, "ICMP-quoted connection", test_icmp_note) == NULL)
		return -1;
	return 0;
}
