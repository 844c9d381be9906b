/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness of the TCP core as a whole: packets built from the
 * input go through kapa_pkt_parse() and kapa_tcp_input() (flow table,
 * handshake / pickup, RSTs, FINs, reassembly, idle timers), and a recording
 * stream consumer checks what comes out:
 *  - per connection index: OPEN, then events, then CLOSE; nothing for an
 *    index between its CLOSE and its next OPEN; after kapa_tcp_destroy()
 *    every OPEN has had its CLOSE;
 *  - per direction: data and gaps walk the stream contiguously from 0, a FIN
 *    only at the end, nothing after a FIN or a RESET;
 *  - every delivered byte is the byte the harness put at that sequence
 *    number (payload bytes are a function of the sequence number, so any
 *    copy of a byte is the same and the check is exact);
 *  - a RESET comes with an RST in hand; held out-of-order bytes stay within
 *    the pool;
 *  - data comes with the packet that carried it: with the packet in hand
 *    (ctx->pkt), its reference, its time and bytes inside its payload;
 *    without (held bytes, delivered later or at a release), the reference
 *    and time of an earlier record whose payload covers those bytes;
 *  - the consumer acts as kapa_tcp.h allows: after kapa_tcp_set_opaque() no
 *    data or gap comes for that connection (a FIN still may, at or past the
 *    last delivered offset); after kapa_tcp_close() from a callback the
 *    CLOSE comes by the end of that kapa_tcp_input() or expiry, after one
 *    outside any callback at once.
 * EAL is started once (no hugepages) for the flow table's rte_hash.
 *
 * Input: 8 header bytes (client and server ISNs), then 8-byte records:
 *   b0: bits 0-1 connection (client port), bit 2 from the server,
 *       bit 3 SYN, bit 4 ACK, bit 5 FIN, bit 6 RST, bit 7 PSH
 *   b1-2: seq - ISN of the sender;  b3-4: ack - ISN of the receiver
 *   b5: bits 6-7 add 4 x that to the connection (16 4-tuples, so that
 *       the 8-entry table fills and evicts established entries by LRU),
 *       bits 3-5 the consumer's action while this record is handled:
 *       0 none; 1 kapa_tcp_set_opaque() from the first data callback;
 *       2 kapa_tcp_close() from the first data/GAP/FIN callback with the
 *       packet in hand, from a release's hand-on, or from expire();
 *       3 kapa_tcp_close() from KAPA_EV_OPEN; 4 kapa_tcp_set_idle(0) (no
 *       idle limit: the entry only ages) after the packet, and expire()
 *       keeps the entry 3 s more; 5 kapa_tcp_set_opaque() after the packet;
 *       6 kapa_tcp_close() after the packet (outside any callback);
 *       7 expire() keeps the entry 1 s more
 *   b5 bits 0-2, b6: payload length (mod 1461)
 *   b7: time step: below 0xf0, x 50 ms; 0xf0-0xff, 2^(b7 & 15) s (1 s to
 *       9 h: idle expiry of every entry, or LRU eviction of entries
 *       without an idle limit)
 * Records written for the first format (payload length below 2048, time
 * steps below 0xf0) mean what they meant.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapa_eal.h"
#include "kapa_tcp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_tcp: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

#define HDR_LEN		8
#define REC_LEN		8
#define MAX_RECS	256
#define NCONN		16
#define CAPACITY	8	/* small: LRU eviction and refusal get exercised */
#define MAX_PAYLOAD	1460

struct half_rec {
	uint64_t cur;		/* where the next data/gap must start */
	bool fin;
};

struct conn_rec {
	bool open;
	bool reset;
	bool opaque;		/* kapa_tcp_set_opaque() called */
	bool established;	/* KAPA_EV_ESTABLISHED seen */
	uint32_t gen;		/* OPENs of this index so far */
	uint32_t close_gen;	/* gen + 1 of a deferred kapa_tcp_close(), or 0 */
	struct half_rec half[2];
};

enum act {
	ACT_NONE = 0,
	ACT_OPAQUE_DATA,
	ACT_CLOSE_CB,
	ACT_CLOSE_OPEN,
	ACT_NO_IDLE,
	ACT_OPAQUE_AFTER,
	ACT_CLOSE_AFTER,
	ACT_KEEP,
};

static struct conn_rec conns[CAPACITY * 2];
static uint32_t opens, closes;
static enum act act;		/* of the record in hand */
static bool act_done;		/* its callback action was taken */
static const struct kapa_pkt *pkt_in_hand;
static struct kapa_tcp *tcp_in_use;

/* Every record's packet: its reference is its number + 1. */
static struct {
	uint32_t seq;		/* of its first payload byte */
	uint32_t len;
	uint64_t ns;
} sent[MAX_RECS];
static uint32_t nsent;		/* records sent so far */

static uint8_t
byte_at(uint32_t seq)
{
	return (uint8_t)(seq * 131 + (seq >> 8) * 7 + 1);
}

static struct conn_rec *
rec_of(const struct kapa_stream_ctx *ctx)
{
	CHECK(ctx->idx < sizeof(conns) / sizeof(conns[0]));
	return &conns[ctx->idx];
}

/* kapa_tcp_close() from a callback on ctx's connection: deferred. */
static void
close_from_cb(const struct kapa_stream_ctx *ctx, struct conn_rec *c)
{
	act_done = true;
	c->close_gen = c->gen + 1;
	kapa_tcp_close(ctx->tcp, ctx->idx);
}

/* After kapa_tcp_input() or an expiry: every deferred close has come. */
static void
check_closes(void)
{
	uint32_t i;

	for (i = 0; i < sizeof(conns) / sizeof(conns[0]); i++) {
		if (conns[i].close_gen == 0)
			continue;
		/* Closed, or closed and the index reused by a later OPEN. */
		CHECK(!conns[i].open || conns[i].gen + 1 != conns[i].close_gen);
		conns[i].close_gen = 0;
	}
}

static void
on_data(const struct kapa_stream_ctx *ctx, uint64_t off, const uint8_t *p,
	uint32_t len)
{
	struct conn_rec *c = rec_of(ctx);
	struct half_rec *h = &c->half[ctx->dir];
	uint32_t base = ctx->conn->half[ctx->dir].base_seq, i;
	uintptr_t no;

	CHECK(c->open && !c->reset && !h->fin && !c->opaque);
	CHECK(off == h->cur && len > 0);
	/* Held bytes flushed when another packet's insert evicts this
	 * connection come without a packet. */
	CHECK(ctx->pkt == NULL || ctx->pkt == pkt_in_hand);
	/* With a packet: its bytes; without: those of the one they came in. */
	no = (uintptr_t)ctx->pkt_ref;
	CHECK(no >= 1 && no <= nsent);
	CHECK(ctx->pkt == NULL || no == nsent);
	CHECK(ctx->now_ns == sent[no - 1].ns);
	CHECK((uint32_t)(base + (uint32_t)off - sent[no - 1].seq) < sent[no - 1].len);
	CHECK((uint32_t)(base + (uint32_t)off - sent[no - 1].seq) + len <= sent[no - 1].len);
	if (ctx->pkt != NULL)
		CHECK(p >= ctx->pkt->data + ctx->pkt->payload_off &&
		      p + len <= ctx->pkt->data + ctx->pkt->payload_off + ctx->pkt->payload_len);
	for (i = 0; i < len; i++)
		CHECK(p[i] == byte_at(base + (uint32_t)off + i));
	h->cur += len;
	if (act_done || ctx->tcp == NULL)
		return;
	if (act == ACT_OPAQUE_DATA) {
		/* Safe from any callback, a release's hand-on included. */
		act_done = true;
		c->opaque = true;
		kapa_tcp_set_opaque(ctx->tcp, ctx->idx);
	} else if (act == ACT_CLOSE_CB) {
		close_from_cb(ctx, c);
	}
}

static void
on_event(const struct kapa_stream_ctx *ctx, enum kapa_stream_event ev,
	 uint64_t off, uint64_t len)
{
	struct conn_rec *c = rec_of(ctx);
	struct half_rec *h = &c->half[ctx->dir];
	uint32_t gen;

	CHECK(ev < KAPA_EV_MAX);
	switch (ev) {
	case KAPA_EV_OPEN:
		CHECK(!c->open);
		gen = c->gen + 1;	/* the record is new, its count goes on */
		memset(c, 0, sizeof(*c));
		c->gen = gen;
		c->open = true;
		opens++;
		if (act == ACT_CLOSE_OPEN && !act_done && ctx->tcp != NULL)
			close_from_cb(ctx, c);
		break;
	case KAPA_EV_GAP:
		CHECK(c->open && !c->reset && !h->fin && !c->opaque);
		CHECK(off == h->cur && len > 0);
		h->cur += len;
		if (act == ACT_CLOSE_CB && !act_done && ctx->tcp != NULL)
			close_from_cb(ctx, c);
		break;
	case KAPA_EV_FIN:
		CHECK(c->open && !c->reset && !h->fin);
		/* An opaque connection follows sequence numbers only: its FIN
		 * lies past bytes it no longer delivers. */
		CHECK(off == h->cur || (c->opaque && off > h->cur));
		h->cur = off;
		h->fin = true;
		if (act == ACT_CLOSE_CB && !act_done && ctx->tcp != NULL)
			close_from_cb(ctx, c);
		break;
	case KAPA_EV_RESET:
		CHECK(c->open && !c->reset);
		CHECK(pkt_in_hand != NULL && (pkt_in_hand->tcp_flags & KAPA_TCP_RST));
		c->reset = true;
		break;
	case KAPA_EV_CLOSE:
		CHECK(c->open);
		c->open = false;
		closes++;
		break;
	case KAPA_EV_ESTABLISHED:
		/* Once, for a connection seen opening (not picked up on data). */
		CHECK(c->open && !c->established && !c->reset);
		c->established = true;
		break;
	default:
		break;
	}
}

static uint32_t
on_expire(const struct kapa_stream_ctx *ctx)
{
	struct conn_rec *c = rec_of(ctx);

	CHECK(c->open);
	switch (act) {
	case ACT_CLOSE_CB:
		if (act_done)
			break;
		/* Deferred to the end of the expiry, whatever is returned. */
		close_from_cb(ctx, c);
		return 1000;
	case ACT_NO_IDLE:
		return 3000;
	case ACT_KEEP:
		return 1000;
	default:
		break;
	}
	return 0;	/* free it */
}

static const struct kapa_stream_ops rec_ops = {
	.data = on_data,
	.event = on_event,
	.expire = on_expire,
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (kapa_eal_init_offline("fuzz_tcp", 128) != 0) {
		fprintf(stderr, "fuzz_tcp: EAL did not start\n");
		abort();
	}
	return 0;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* An Ethernet + IPv4 + TCP frame; @return its length. */
static uint32_t
build(uint8_t *f, int conn, int from_server, uint8_t flags, uint32_t seq,
      uint32_t ack, uint32_t len)
{
	static const uint8_t cli[4] = { 198, 18, 0, 1 }, srv[4] = { 198, 18, 0, 2 };
	uint16_t cport = (uint16_t)(40000 + conn), sport = 80;
	uint32_t i;

	memset(f, 0, 54);
	f[0] = 2;
	f[6] = 2;
	f[11] = from_server ? 1 : 2;
	put16(f + 12, 0x0800);
	f[14] = 0x45;
	put16(f + 16, (uint16_t)(40 + len));
	f[22] = 64;
	f[23] = 6;
	memcpy(f + 26, from_server ? srv : cli, 4);
	memcpy(f + 30, from_server ? cli : srv, 4);
	put16(f + 34, from_server ? sport : cport);
	put16(f + 36, from_server ? cport : sport);
	put32(f + 38, seq);
	put32(f + 42, ack);
	f[46] = 5 << 4;
	f[47] = flags;
	put16(f + 48, 65535);
	for (i = 0; i < len; i++)
		f[54 + i] = byte_at(seq + ((flags & KAPA_TCP_SYN) ? 1 : 0) + i);
	return 54 + len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[54 + MAX_PAYLOAD];
	static unsigned int seq_no;
	struct kapa_tcp_conf conf;
	struct kapa_tcp_result res;
	struct kapa_pkt pkt;
	struct kapa_tcp *tcp;
	uint32_t isn[2], nrec, i, seq, ack, len, flen;
	uint64_t now = 1000000000ull;
	const uint8_t *r;
	char name[32];
	uint8_t flags;
	int conn, from_server;

	if (size < HDR_LEN)
		return 0;
	isn[0] = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
		 (uint32_t)data[2] << 8 | data[3];
	isn[1] = (uint32_t)data[4] << 24 | (uint32_t)data[5] << 16 |
		 (uint32_t)data[6] << 8 | data[7];

	memset(conns, 0, sizeof(conns));
	opens = closes = 0;
	nsent = 0;
	memset(&conf, 0, sizeof(conf));
	snprintf(name, sizeof(name), "fuzz_tcp_%u", seq_no++ % 1000000);
	conf.flow.name = name;
	conf.flow.capacity = CAPACITY;
	conf.flow.app_size = 16;
	conf.flow.socket_id = -1;
	/* A full table evicts its least recently active entry only if that
	 * has been idle 1 s; a younger one makes it refuse: both happen. */
	conf.flow.evict_min_idle_ms = 1000;
	conf.ooo_max_bytes = 4096;
	conf.ooo_max_segs = 8;
	conf.ooo_pool_bytes = 16 * 2048;
	conf.syn_timeout_ms = 2000;
	conf.est_timeout_ms = 5000;
	conf.closed_linger_ms = 1000;
	conf.ops = &rec_ops;
	tcp = kapa_tcp_create(&conf);
	CHECK(tcp != NULL);
	tcp_in_use = tcp;

	nrec = (uint32_t)((size - HDR_LEN) / REC_LEN);
	if (nrec > MAX_RECS)
		nrec = MAX_RECS;
	for (i = 0; i < nrec; i++) {
		r = data + HDR_LEN + i * REC_LEN;
		conn = (r[0] & 3) | (r[5] >> 6) << 2;
		act = (enum act)((r[5] >> 3) & 7);
		act_done = false;
		from_server = (r[0] >> 2) & 1;
		flags = 0;
		if (r[0] & 0x08)
			flags |= KAPA_TCP_SYN;
		if (r[0] & 0x10)
			flags |= KAPA_TCP_ACK;
		if (r[0] & 0x20)
			flags |= KAPA_TCP_FIN;
		if (r[0] & 0x40)
			flags |= KAPA_TCP_RST;
		if (r[0] & 0x80)
			flags |= KAPA_TCP_PSH;
		seq = isn[from_server] + conn * 0x01000000u +
		      ((uint32_t)r[1] << 8 | r[2]);
		ack = isn[!from_server] + conn * 0x01000000u +
		      ((uint32_t)r[3] << 8 | r[4]);
		len = ((uint32_t)(r[5] & 7) << 8 | r[6]) % (MAX_PAYLOAD + 1);
		if (r[7] < 0xf0)
			now += (uint64_t)r[7] * 50000000ull;
		else
			now += (1000000000ull << (r[7] & 15));

		flen = build(frame, conn, from_server, flags, seq, ack, len);
		CHECK(kapa_pkt_parse(frame, flen, KAPA_L2_ETHER, &pkt) == KAPA_PKT_TCP);
		pkt_in_hand = &pkt;
		sent[i].seq = seq + ((flags & KAPA_TCP_SYN) ? 1 : 0);
		sent[i].len = len;
		sent[i].ns = now;
		nsent = i + 1;
		kapa_tcp_input(tcp, &pkt, now, (void *)(uintptr_t)(i + 1), &res);
		pkt_in_hand = NULL;
		CHECK(res.idx < 0 || (uint32_t)res.idx < sizeof(conns) / sizeof(conns[0]));
		CHECK(res.idx < 0 || conns[res.idx].open);
		check_closes();
		if (res.idx >= 0) {
			struct conn_rec *c = &conns[res.idx];

			if (act == ACT_NO_IDLE) {
				kapa_tcp_set_idle(tcp, (uint32_t)res.idx, 0);
			} else if (act == ACT_OPAQUE_AFTER) {
				c->opaque = true;
				kapa_tcp_set_opaque(tcp, (uint32_t)res.idx);
			} else if (act == ACT_CLOSE_AFTER) {
				/* Outside any callback: released now. */
				kapa_tcp_close(tcp, (uint32_t)res.idx);
				CHECK(!c->open);
			}
		}
		act_done = act == ACT_OPAQUE_AFTER || act == ACT_CLOSE_AFTER;
		kapa_tcp_advance(tcp, now, 64);
		check_closes();
		CHECK(kapa_tcp_ooo_bytes(tcp) <= conf.ooo_pool_bytes);
	}
	act = ACT_NONE;
	kapa_tcp_destroy(tcp);
	tcp_in_use = NULL;
	CHECK(opens == closes);
	return 0;
}
