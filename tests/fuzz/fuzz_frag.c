/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness of IP fragment reassembly (kapa_frag.c).
 *
 * The input is a table configuration (datagrams, bytes, timeouts) and a list
 * of operations: fragments of a few model datagrams (key, family, offset,
 * length, last or not, the datagram's true bytes or a conflicting copy, time
 * passing), and raw frames (any bytes, through kapa_pkt_parse(), so that
 * IPv6 extension chains, tunnels and cut headers reach the table too). The
 * bytes of a model fragment are a function of (key, offset, copy), so the
 * harness knows what each byte of a reassembled datagram must be. It checks:
 *  - bounded memory: datagrams held never past the configured count, bytes
 *    held never past the byte bound, and nothing held once every timeout
 *    has passed;
 *  - a reassembled datagram is exactly tiled by fragments the table
 *    accepted for its key, end to end without overlap, its length the sum
 *    of theirs, its bytes theirs, and it ends where a last fragment ended:
 *    never a datagram made of overlapping parts;
 *  - its frame is consistent: the IP lengths say what the frame holds, the
 *    addresses are the key's, no fragment field is left, and it parses
 *    (struct kapa_pkt offsets inside the frame).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapa_frag.h"
#include "kapa_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_frag: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

#define HDR_LEN		6
#define OP_LEN		6
#define NKEYS		4
#define MAX_PARTS	512	/* accepted fragments remembered per key */
#define MAX_DATA	3000	/* data bytes of one model fragment */
#define ETH_LEN		14
#define MS		1000000ull

struct part {
	uint32_t start, len;
	uint8_t copy;		/* 0: the true bytes, 1: a conflicting copy */
	uint8_t last;
};

/* Per model datagram (key and family: slot key * 2 + v6). */
struct model {
	struct part parts[2 * NKEYS][MAX_PARTS];
	uint32_t nparts[2 * NKEYS];
	bool overflow[2 * NKEYS];	/* more parts than remembered: no check */
	uint32_t max_datagrams, max_bytes;
};

static uint8_t frame[ETH_LEN + 40 + 8 + MAX_DATA + 64];

static uint8_t
byte_of(unsigned key, uint32_t off, uint8_t copy)
{
	uint32_t x = (key + 1) * 2654435761u ^ off * 40503u ^ (copy ? 0x5au : 0);

	return (uint8_t)(x ^ x >> 13);
}

static void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Addresses of model key @p key (the family apart). */
static void
addrs(unsigned key, uint8_t *src, uint8_t *dst)
{
	memset(src, 0, 16);
	memset(dst, 0, 16);
	src[0] = 198;
	src[1] = 18;
	src[3] = (uint8_t)(1 + key);
	dst[0] = 198;
	dst[1] = 19;
	dst[3] = 2;
}

/* A fragment of model key @p key: Ethernet, IPv4 or IPv6 (+ Fragment
 * header), its data the model's bytes. @return the frame's length. */
static uint32_t
build(unsigned key, int v6, uint32_t off, uint32_t len, int last, uint8_t copy)
{
	uint8_t *ip = frame + ETH_LEN, src[16], dst[16], *d;
	uint32_t i, hl;

	memset(frame, 0, ETH_LEN + 48);
	frame[0] = 2;
	frame[6] = 2;
	addrs(key, src, dst);
	if (!v6) {
		wr16(frame + 12, 0x0800);
		ip[0] = 0x45;
		wr16(ip + 2, (uint16_t)(20 + len));
		wr16(ip + 4, (uint16_t)(0x100 + key));
		wr16(ip + 6, (uint16_t)((last ? 0 : 0x2000) | (off / 8)));
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		hl = 20;
	} else {
		wr16(frame + 12, 0x86dd);
		ip[0] = 0x60;
		wr16(ip + 4, (uint16_t)(8 + len));
		ip[6] = 44;
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
		ip[40] = 6;
		wr16(ip + 42, (uint16_t)(off | (last ? 0 : 1)));
		ip[47] = (uint8_t)(0x10 + key);
		hl = 48;
	}
	d = ip + hl;
	for (i = 0; i < len; i++)
		d[i] = byte_of(key, off + i, copy);
	return ETH_LEN + hl + len;
}

/* The data of a reassembled model datagram is tiled by accepted parts. */
static void
check_tiling(const struct model *m, unsigned key, unsigned slot, const uint8_t *dat, uint32_t n)
{
	static uint8_t reach[65536 + 1];
	const struct part *p;
	uint32_t at, i, j;
	bool ok;

	memset(reach, 0, n + 1);
	reach[0] = 1;
	for (at = 0; at < n; at++) {
		if (!reach[at])
			continue;
		for (i = 0; i < m->nparts[slot]; i++) {
			p = &m->parts[slot][i];
			if (p->start != at || at + p->len > n || (p->last && at + p->len != n))
				continue;
			for (j = 0, ok = true; j < p->len && ok; j++)
				ok = dat[at + j] == byte_of(key, at + j, p->copy);
			if (ok)
				reach[at + p->len] = 1;
		}
	}
	CHECK(reach[n]);
}

/* A datagram the table handed back. @p key: the model key, or -1 (a raw
 * frame's). */
static void
check_dgram(const struct model *m, int key, int v6, const struct kapa_frag_dgram *d)
{
	const struct kapa_pkt *p = &d->pkt;
	const uint8_t *ip;
	uint8_t src[16], dst[16];
	uint32_t hl, n;

	CHECK(d->len <= KAPA_FRAG_HEAD_MAX + KAPA_FRAG_DGRAM_MAX);
	CHECK(p->data == d->data && p->len == d->len);
	if (p->cls == KAPA_PKT_TCP)
		CHECK(p->payload_off + p->payload_len <= d->len && p->l4_off < p->payload_off + 1u);
	CHECK(p->l3_off < d->len);
	if (key < 0)
		return;
	ip = d->data + ETH_LEN;
	CHECK(p->l3_off == ETH_LEN);
	addrs((unsigned)key, src, dst);
	if (!v6) {
		hl = 20;
		CHECK((ip[0] >> 4) == 4);
		CHECK(rd16(ip + 2) == d->len - ETH_LEN);
		CHECK((rd16(ip + 6) & 0x3fff) == 0);
		CHECK(memcmp(ip + 12, src, 4) == 0 && memcmp(ip + 16, dst, 4) == 0);
	} else {
		hl = 40;
		CHECK((ip[0] >> 4) == 6);
		CHECK(rd16(ip + 4) == d->len - ETH_LEN - 40);
		CHECK(ip[6] == 6);	/* the Fragment header gone */
		CHECK(memcmp(ip + 8, src, 16) == 0 && memcmp(ip + 24, dst, 16) == 0);
	}
	n = d->len - ETH_LEN - hl;
	CHECK(n > 0);
	if (!m->overflow[key * 2 + v6])
		check_tiling(m, (unsigned)key, (unsigned)(key * 2 + v6), ip + hl, n);
}

static void
check_bounds(const struct kapa_frag *t, const struct model *m)
{
	const struct kapa_frag_stats *st = kapa_frag_stats(t);

	CHECK(st->open <= m->max_datagrams);
	CHECK(st->bytes_held <= m->max_bytes);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	struct kapa_frag_conf c;
	struct kapa_frag_dgram d;
	struct kapa_frag *t;
	struct kapa_pkt p;
	uint64_t now = 1000 * MS;
	size_t at;
	unsigned slot;
	int rc;

	if (size < HDR_LEN)
		return 0;
	memset(&c, 0, sizeof(c));
	c.max_datagrams = 1 + data[0] % 64;
	c.max_bytes = (1 + data[1] % 96) * KAPA_FRAG_BLOCK;
	c.timeout4_ms = 1 + data[2];
	c.timeout6_ms = 1 + data[3];
	memset(m.nparts, 0, sizeof(m.nparts));
	memset(m.overflow, 0, sizeof(m.overflow));
	m.max_datagrams = c.max_datagrams;
	m.max_bytes = c.max_bytes;
	t = kapa_frag_create(&c);
	CHECK(t != NULL);
	for (at = HDR_LEN; at + OP_LEN <= size;) {
		const uint8_t *op = data + at;
		unsigned key = op[0] & 3, v6 = (op[0] >> 2) & 1, raw = (op[0] >> 3) & 1;
		unsigned last = (op[0] >> 4) & 1, copy = (op[0] >> 5) & 1;
		uint32_t off = ((uint32_t)op[1] << 8 | op[2]) & 0x1fff;
		uint32_t len = ((uint32_t)op[3] << 8 | op[4]) % (MAX_DATA + 1);
		uint32_t flen;

		at += OP_LEN;
		now += (uint64_t)op[5] * MS / 4;
		if (raw) {
			/* A raw frame of len % 512 bytes from the input. */
			flen = len % 512;
			if (flen > size - at)
				flen = (uint32_t)(size - at);
			memcpy(frame, data + at, flen);
			at += flen;
			if (kapa_pkt_parse(frame, flen, KAPA_L2_ETHER, &p) != KAPA_PKT_FRAGMENT)
				continue;
			if (kapa_frag_input(t, &p, now, &d) == KAPA_FRAG_DONE)
				check_dgram(&m, -1, 0, &d);
			check_bounds(t, &m);
			continue;
		}
		/* Small offsets mostly, so that fragments meet. */
		off = (op[0] & 0x80) ? off * 8 : (off % 512) * 8;
		if (off + len > 65535)
			len = 65535 - off;
		flen = build(key, (int)v6, off, len, (int)last, (uint8_t)copy);
		CHECK(kapa_pkt_parse(frame, flen, KAPA_L2_ETHER, &p) == KAPA_PKT_FRAGMENT ||
		      (off == 0 && last && !v6));
		if (p.cls != KAPA_PKT_FRAGMENT)
			continue;	/* IPv4 offset 0, last: a whole datagram */
		rc = kapa_frag_input(t, &p, now, &d);
		if (off == 0 && last) {
			/* IPv6 atomic fragment: whole at once, the table untouched. */
			CHECK(rc == KAPA_FRAG_DONE || (rc == KAPA_FRAG_REFUSED && len == 0));
			if (rc == KAPA_FRAG_DONE) {
				CHECK(d.len == ETH_LEN + 40 + len);
				for (uint32_t i = 0; i < len; i++)
					CHECK(d.data[ETH_LEN + 40 + i] ==
					      byte_of(key, i, (uint8_t)copy));
			}
			check_bounds(t, &m);
			continue;
		}
		slot = key * 2 + v6;
		if (rc == KAPA_FRAG_HELD || rc == KAPA_FRAG_DONE) {
			if (m.nparts[slot] < MAX_PARTS) {
				struct part *pt = &m.parts[slot][m.nparts[slot]++];

				pt->start = off;
				pt->len = len;
				pt->copy = (uint8_t)copy;
				pt->last = (uint8_t)last;
			} else {
				m.overflow[slot] = true;
			}
		}
		if (rc == KAPA_FRAG_DONE) {
			check_dgram(&m, (int)key, (int)v6, &d);
			/* The key's next datagram starts afresh. */
			m.nparts[slot] = 0;
			m.overflow[slot] = false;
		}
		check_bounds(t, &m);
	}
	kapa_frag_expire(t, now + 300 * MS);
	CHECK(kapa_frag_stats(t)->open == 0);
	CHECK(kapa_frag_stats(t)->bytes_held == 0);
	kapa_frag_destroy(t);
	return 0;
}
