/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the engine: the actions over real frames between a client
 * and a server that react to what kapa forwards (engine_bench.h). Each test
 * is one behaviour of docs/core-act.md: observe leaves bytes alone; idle,
 * stall and max close at the right time with RSTs each end accepts; edits
 * reach the client as planned while the server's stream and sequence space
 * stay its own; retransmissions, MSS splits, SACK, out-of-order header ends,
 * link layers kapa cannot rebuild, tags, eviction, shutdown, rule changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "engine_bench.h"
#include "kapa_eal.h"
#include "unit.h"

#define C 0	/* from the client */
#define S 1	/* from the server */

static const char req11[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
static const char rsp_plain[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/* The client's stream as it received it, as a C string. */
static const char *
client_got(const struct bench *b)
{
	static char s[BENCH_STREAM + 1];
	uint32_t n = b->rcv[KAPA_DIR_S2C].nxt;

	memcpy(s, b->rcv[KAPA_DIR_S2C].buf, n);
	s[n] = '\0';
	if (getenv("BENCH_DEBUG") != NULL)
		fprintf(stderr, "client got [%s]\n", s);
	return s;
}

static const char *
server_got(const struct bench *b)
{
	static char s[BENCH_STREAM + 1];
	uint32_t n = b->rcv[KAPA_DIR_C2S].nxt;

	memcpy(s, b->rcv[KAPA_DIR_C2S].buf, n);
	s[n] = '\0';
	return s;
}

static void __attribute__((unused))
dump(const struct bench *b)
{
	struct kapa_pkt p;
	uint32_t i;

	for (i = 0; i < b->nout; i++) {
		kapa_pkt_parse(b->out[i].data, b->out[i].len, KAPA_L2_ETHER, &p);
		fprintf(stderr, "out %u dir %u crafted %u seq %u ack %u flags %02x len %u\n", i,
			b->out[i].dir, b->out[i].crafted, p.seq, p.ack, p.tcp_flags, p.payload_len);
	}
}

/* Crafted RSTs in the log: how many, and the time of the last. */
static uint32_t
rsts(const struct bench *b, uint64_t *last_ns)
{
	struct kapa_pkt p;
	uint32_t i, n = 0;

	for (i = 0; i < b->nout; i++) {
		if (!b->out[i].crafted ||
		    kapa_pkt_parse(b->out[i].data, b->out[i].len, KAPA_L2_ETHER, &p) != KAPA_PKT_TCP ||
		    !(p.tcp_flags & KAPA_TCP_RST))
			continue;
		n++;
		if (last_ns != NULL)
			*last_ns = b->out[i].ns;
	}
	return n;
}

/* Both ends accepted both RSTs (each at exactly its next sequence). */
static void
check_reset_both(const struct bench *b)
{
	CU_ASSERT_EQUAL(b->rcv[KAPA_DIR_S2C].rst, 1);
	CU_ASSERT_EQUAL(b->rcv[KAPA_DIR_C2S].rst, 1);
	CU_ASSERT_EQUAL(b->rcv[KAPA_DIR_S2C].rst_bad, 0);
	CU_ASSERT_EQUAL(b->rcv[KAPA_DIR_C2S].rst_bad, 0);
}

static void
check_clean(const struct bench *b)
{
	CU_ASSERT_EQUAL(b->bad_csum, 0);
	CU_ASSERT_EQUAL(b->bad_parse, 0);
	CU_ASSERT_EQUAL(b->rcv[0].conflicts, 0);
	CU_ASSERT_EQUAL(b->rcv[1].conflicts, 0);
	CU_ASSERT_EQUAL(b->rcv[0].fin_bad + b->rcv[1].fin_bad, 0);
}

/* An exchange with every kind of message, under no policy and under an
 * observe policy with limits: every frame forwarded byte for byte. */
static void
test_observe_unchanged(void)
{
	static const char *const specs[] = { NULL, "timeout=1,max=1,stall=1,mode=observe" };
	struct bench b;
	unsigned i;

	for (i = 0; i < 2; i++) {
		CU_ASSERT_FATAL(bench_init(&b, i == 0 ? 4 : 6, specs[i], NULL, 0) == 0);
		bench_handshake(&b);
		bench_str(&b, C, req11);
		bench_str(&b, S, "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
				 "Keep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n");
		bench_str(&b, C, req11);
		bench_str(&b, S, rsp_plain);
		bench_pure_ack(&b, C);
		bench_wait(&b, 5000);
		bench_str(&b, C, req11);
		CU_ASSERT_EQUAL(b.changed, 0);
		CU_ASSERT_EQUAL(b.dropped, 0);
		CU_ASSERT_EQUAL(b.emitted, 0);
		CU_ASSERT_EQUAL(b.nacts, 0);
		check_clean(&b);
		bench_fini(&b);
	}
}

/* An engine without action state (no_actions, kapa-inspect without a
 * policy): refused with a policy; without one the same exchange runs clean,
 * the race measurement (now first after the tracker's state) sees the same,
 * and a policy given later is ignored. And an engine with action state
 * finds it from any ctx of the connection (kapa_engine_view()). */
static void
test_no_actions(void)
{
	struct kapa_policy_spec def;
	struct kapa_policy *p;
	struct bench b;
	uint32_t races[2];
	char err[128];
	int i;

	for (i = 0; i < 2; i++) {
		bench_no_actions = i;
		CU_ASSERT_FATAL(bench_init(&b, 4, NULL, NULL, 0) == 0);
		bench_handshake(&b);
		bench_str(&b, C, req11);
		bench_str(&b, S, "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
				 "Keep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n");
		bench_wait(&b, 2000);
		bench_str(&b, C, req11);
		bench_str(&b, S, rsp_plain);
		CU_ASSERT_EQUAL(b.changed, 0);
		CU_ASSERT_EQUAL(b.emitted, 0);
		CU_ASSERT_EQUAL(b.nacts, 0);
		check_clean(&b);
		races[i] = (uint32_t)kapa_race_stats(kapa_engine_race(b.e))->reuses;
		if (i == 1) {
			CU_ASSERT_FATAL(kapa_policy_parse_spec("timeout=1,mode=enforce", &def, err,
							       sizeof(err)) == 0);
			p = kapa_policy_create(&def, NULL, 0, 1, err, sizeof(err));
			CU_ASSERT_FATAL(p != NULL);
			kapa_engine_set_policy(b.e, p);
			bench_wait(&b, 3000);
			bench_str(&b, C, req11);
			CU_ASSERT_EQUAL(b.emitted, 0);	/* no idle close: no policy took */
			CU_ASSERT_EQUAL(b.nacts, 0);
			bench_fini(&b);
			kapa_policy_destroy(p);
		} else {
			bench_fini(&b);
		}
	}
	CU_ASSERT_EQUAL(races[0], 1);
	CU_ASSERT_EQUAL(races[1], 1);
	/* With a policy at creation: refused. */
	CU_ASSERT(bench_init(&b, 4, "timeout=1", NULL, 0) != 0);
	bench_fini(&b);
	bench_no_actions = 0;
	/* kapa_engine_view() from a ctx built outside the engine's callbacks,
	 * as kapa-dp builds one to publish a connection (no ops_arg). */
	CU_ASSERT_FATAL(bench_init(&b, 4, "max=5", NULL, 0) == 0);
	bench_handshake(&b);
	bench_str(&b, C, req11);
	bench_str(&b, S, rsp_plain);
	bench_str(&b, C, req11);
	{
		struct kapa_flow_table *ft = kapa_tcp_table(kapa_engine_tcp(b.e));
		struct kapa_engine_view v;
		struct kapa_stream_ctx ctx;
		uint32_t idx, found = 0;

		for (idx = 0; idx < kapa_flow_capacity(ft); idx++) {
			if (kapa_flow_conn(ft, idx)->state == KAPA_CONN_FREE)
				continue;
			memset(&ctx, 0, sizeof(ctx));
			ctx.tcp = kapa_engine_tcp(b.e);
			ctx.idx = idx;
			ctx.conn = kapa_flow_conn(ft, idx);
			ctx.app = kapa_flow_app(ft, idx);
			kapa_engine_view(&ctx, &v);
			CU_ASSERT_EQUAL(v.requests, 2);
			CU_ASSERT_EQUAL(v.responses, 1);
			CU_ASSERT_EQUAL(v.max, 5);
			found++;
		}
		CU_ASSERT_EQUAL(found, 1);
	}
	bench_fini(&b);
}

/* Keep-alive idle: the RSTs go out when the limit has passed since the last
 * payload byte (pure ACKs do not count), not before, not at the next
 * packet, each at exactly what its receiver expects. */
static void
test_idle_close_due(void)
{
	struct bench b;
	uint64_t last_data, at = 0;

	CU_ASSERT_FATAL(bench_init(&b, 4, "timeout=2,mode=enforce", NULL, 0) == 0);
	bench_handshake(&b);
	bench_str(&b, C, req11);
	bench_str(&b, S, rsp_plain);
	last_data = b.now;
	bench_wait(&b, 300);
	bench_pure_ack(&b, C);	/* not activity */
	bench_wait(&b, 1600);
	CU_ASSERT_EQUAL(rsts(&b, NULL), 0);
	bench_wait(&b, 200);
	CU_ASSERT_EQUAL_FATAL(rsts(&b, &at), 2);
	CU_ASSERT(at >= last_data + 2000000000ull);
	CU_ASSERT(at <= last_data + 2003000000ull);
	check_reset_both(&b);
	/* Each RST names the port its direction's frames came in on (a bridge
	 * sends it out of that port's peer). */
	CU_ASSERT_EQUAL(b.emit_port_rc[KAPA_DIR_C2S], 0);
	CU_ASSERT_EQUAL(b.emit_port[KAPA_DIR_C2S], 1);
	CU_ASSERT_EQUAL(b.emit_port_rc[KAPA_DIR_S2C], 0);
	CU_ASSERT_EQUAL(b.emit_port[KAPA_DIR_S2C], 2);
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_RST, KAPA_ACT_WHY_IDLE), 1);
	check_clean(&b);
	bench_fini(&b);
}

/* A request outstanding is never closed by the idle limit; the stall limit
 * is what closes a silent exchange. */
static void
test_in_flight_and_stall(void)
{
	struct bench b;
	uint64_t at = 0, sent;

	CU_ASSERT_FATAL(bench_init(&b, 4, "timeout=1,mode=enforce", NULL, 0) == 0);
	bench_handshake(&b);
	bench_str(&b, C, req11);
	bench_wait(&b, 10000);
	CU_ASSERT_EQUAL(rsts(&b, NULL), 0);
	bench_fini(&b);

	CU_ASSERT_FATAL(bench_init(&b, 6, "timeout=1,stall=3,mode=enforce", NULL, 0) == 0);
	bench_handshake(&b);
	bench_str(&b, C, req11);
	bench_str(&b, S, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf");
	sent = b.now;
	bench_wait(&b, 2900);
	CU_ASSERT_EQUAL(rsts(&b, NULL), 0);
	bench_wait(&b, 200);
	CU_ASSERT_EQUAL_FATAL(rsts(&b, &at), 2);
	CU_ASSERT(at >= sent + 3000000000ull && at <= sent + 3003000000ull);
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_RST, KAPA_ACT_WHY_STALL), 1);
	check_reset_both(&b);
	check_clean(&b);
	bench_fini(&b);
}

/*
 * Max without a Connection field: the response to request max gets
 * "Connection: close" inserted; the client sees it, the server's stream is
 * untouched, later server bytes and the client's acks cross the shift, and
 * a request past the max never reaches the server: RST both ways.
 */
static void
test_max_insert(void)
{
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 4, "max=2,mode=enforce", NULL, 0) == 0);
	bench_handshake(&b);
	bench_str(&b, C, req11);
	bench_str(&b, S, rsp_plain);
	bench_str(&b, C, req11);
	bench_str(&b, S, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbo");
	bench_str(&b, S, "dy");
	CU_ASSERT_STRING_EQUAL(client_got(&b),
			       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
			       "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close \r\n"
			       "\r\nbody");
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_INSERT, KAPA_ACT_WHY_REQUESTS), 1);
	/* The client ignores it: its next request (which acknowledges the
	 * response) never reaches the server. */
	CU_ASSERT_EQUAL(bench_str(&b, C, "GET /3 HTTP/1.1\r\n\r\n"), KAPA_VERDICT_DROP);
	CU_ASSERT(kapa_engine_stats(b.e)->acks_translated > 0);
	CU_ASSERT(strstr(server_got(&b), "/3") == NULL);
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_RST, KAPA_ACT_WHY_REQUESTS), 1);
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_CLOSE, KAPA_ACT_WHY_REQUESTS), 0);
	check_reset_both(&b);
	check_clean(&b);
	bench_fini(&b);
}

/*
 * The close announced is made (RFC 9112 §9.6): once the client has the
 * response that said close, a FIN to each end in the other's name, each at
 * exactly its receiver's next byte (the client's past the inserted bytes);
 * the ends' own FINs then go through kapa, translated, and end the
 * connection there (not picked up anew). A client that closes by itself
 * gets nothing from kapa.
 */
static void
test_max_close_made(void)
{
	struct bench b;
	int client_closes;

	for (client_closes = 0; client_closes < 2; client_closes++) {
		CU_ASSERT_FATAL(bench_init(&b, 4, "max=1,mode=enforce", NULL, 0) == 0);
		bench_handshake(&b);
		bench_str(&b, C, req11);
		bench_str(&b, S, rsp_plain);
		CU_ASSERT(strstr(client_got(&b), "Connection: close") != NULL);
		CU_ASSERT_EQUAL(b.rcv[KAPA_DIR_S2C].fin, 0);
		if (client_closes)
			bench_fin(&b, C);
		else
			bench_pure_ack(&b, C);
		CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_CLOSE, KAPA_ACT_WHY_REQUESTS),
				client_closes ? 0u : 1u);
		CU_ASSERT_EQUAL(b.rcv[KAPA_DIR_S2C].fin, client_closes ? 0 : 1);
		CU_ASSERT_EQUAL(b.rcv[KAPA_DIR_C2S].fin, 1);
		CU_ASSERT_EQUAL(b.rcv[KAPA_DIR_S2C].rst + b.rcv[KAPA_DIR_C2S].rst, 0);
		CU_ASSERT_EQUAL(kapa_engine_stats(b.e)->fin_sent, client_closes ? 0u : 2u);
		/* The ends answer with FINs of their own, through kapa. */
		bench_fin(&b, S);
		if (!client_closes)
			bench_fin(&b, C);
		bench_pure_ack(&b, S);
		CU_ASSERT_EQUAL(b.rcv[KAPA_DIR_C2S].conflicts + b.rcv[KAPA_DIR_S2C].conflicts, 0);
		CU_ASSERT_EQUAL(kapa_tcp_stats(kapa_engine_tcp(b.e))->conns_midstream, 0);
		check_clean(&b);
		bench_fini(&b);
	}
}

/* Max with the server's own Connection: keep-alive: rewritten in place. */
static void
test_max_rewrite(void)
{
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 6, "max=1,mode=enforce", NULL, 0) == 0);
	bench_handshake(&b);
	bench_str(&b, C, req11);
	bench_str(&b, S, "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_STRING_EQUAL(client_got(&b), "HTTP/1.1 200 OK\r\nConnection: close     \r\n"
					       "Content-Length: 0\r\n\r\n");
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_REWRITE, KAPA_ACT_WHY_REQUESTS), 1);
	CU_ASSERT_EQUAL(kapa_engine_stats(b.e)->bytes_inserted, 0);
	check_clean(&b);
	bench_fini(&b);
}

/* Advertise over the server's Keep-Alive: never more than it announced,
 * max counting down, the value rewritten in place when it fits. */
static void
test_advertise_rewrite(void)
{
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 4, "timeout=10,max=100,mode=advertise", NULL, 0) == 0);
	bench_handshake(&b);
	bench_str(&b, C, req11);
	bench_str(&b, S, "HTTP/1.1 200 OK\r\nConnection: Keep-Alive\r\n"
			 "Keep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n");
	bench_str(&b, C, req11);
	bench_str(&b, S, "HTTP/1.1 200 OK\r\nConnection: Keep-Alive\r\n"
			 "Keep-Alive: timeout=30, max=500\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_STRING_EQUAL(client_got(&b),
			       "HTTP/1.1 200 OK\r\nConnection: Keep-Alive\r\n"
			       "Keep-Alive: timeout=5, max=99 \r\nContent-Length: 0\r\n\r\n"
			       "HTTP/1.1 200 OK\r\nConnection: Keep-Alive\r\n"
			       "Keep-Alive: timeout=9, max=98  \r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_REWRITE, KAPA_ACT_WHY_ADVERTISE), 2);
	check_clean(&b);
	bench_fini(&b);
}

/* Advertise where the server's value is too short, or absent, or without
 * Connection: keep-alive: its lines renamed out of the way, new ones
 * inserted (with Connection: keep-alive where missing). */
static void
test_advertise_insert(void)
{
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 4, "timeout=60,max=3,mode=advertise", NULL, 0) == 0);
	bench_handshake(&b);
	bench_str(&b, C, req11);
	bench_str(&b, S, "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=9\r\nContent-Length: 0\r\n\r\n");
	bench_str(&b, C, req11);
	bench_str(&b, S, rsp_plain);
	bench_str(&b, C, req11);
	bench_str(&b, S, rsp_plain);
	if (getenv("BENCH_DEBUG") != NULL)
		dump(&b);
	CU_ASSERT_STRING_EQUAL(client_got(&b),
			       "HTTP/1.1 200 OK\r\nX-Kapa-Old: timeout=9\r\nContent-Length: 0\r\n"
			       "Connection: keep-alive\r\nKeep-Alive: timeout=9, max=2\r\n\r\n"
			       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
			       "Connection: keep-alive\r\nKeep-Alive: timeout=59, max=1 \r\n\r\nok"
			       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close \r\n\r\nok");
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_INSERT, KAPA_ACT_WHY_ADVERTISE), 2);
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_REWRITE, KAPA_ACT_WHY_ADVERTISE), 1);
	bench_pure_ack(&b, C);
	/* The server's stream is its own: the client's acks came back whole. */
	CU_ASSERT_EQUAL(b.rcv[KAPA_DIR_S2C].nxt, (uint32_t)b.soff + 54 + 56 + 20);
	check_clean(&b);
	bench_fini(&b);
}

/* HTTP/1.0 keep-alive: advertised, then closed at the max; lines end as
 * the block's do (bare LF here). */
static void
test_http10(void)
{
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 4, "timeout=5,max=2,mode=advertise", NULL, 0) == 0);
	bench_handshake(&b);
	bench_str(&b, C, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	bench_str(&b, S, "HTTP/1.0 200 OK\nConnection: keep-alive\nContent-Length: 0\n\n");
	bench_str(&b, C, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	bench_str(&b, S, "HTTP/1.0 200 OK\nConnection: keep-alive\nContent-Length: 0\n\n");
	CU_ASSERT_STRING_EQUAL(client_got(&b),
			       "HTTP/1.0 200 OK\nConnection: keep-alive\nContent-Length: 0\n"
			       "Keep-Alive: timeout=4, max=1 \n\n"
			       "HTTP/1.0 200 OK\nConnection: close     \nContent-Length: 0\n\n");
	check_clean(&b);
	bench_fini(&b);
}

/* A response read only by a tolerance (a run of spaces in its status
 * line) is never edited: the advertisement is skipped and the max's close
 * is made after the response instead, both counted as "tolerated". A bare
 * LF (test_http10) is the one tolerance edits still follow. */
static void
test_tolerated_not_edited(void)
{
	static const char rsp[] = "HTTP/1.1  200 OK\r\nConnection: keep-alive\r\n"
				  "Content-Length: 0\r\n\r\n";
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 4, "timeout=5,max=2,mode=advertise", NULL, 0) == 0);
	bench_handshake(&b);
	bench_str(&b, C, "GET / HTTP/1.1\r\n\r\n");
	bench_str(&b, S, rsp);
	bench_str(&b, C, "GET  /  HTTP/1.1\r\n\r\n");
	bench_str(&b, S, rsp);
	CU_ASSERT_STRING_EQUAL(client_got(&b), "HTTP/1.1  200 OK\r\nConnection: keep-alive\r\n"
					       "Content-Length: 0\r\n\r\n"
					       "HTTP/1.1  200 OK\r\nConnection: keep-alive\r\n"
					       "Content-Length: 0\r\n\r\n");
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_REFUSED, KAPA_ACT_WHY_TOLERATED), 1);
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_CLOSE_AFTER, KAPA_ACT_WHY_TOLERATED), 1);
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_INSERT, KAPA_ACT_WHY_ADVERTISE), 0);
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_REWRITE, KAPA_ACT_WHY_REQUESTS), 0);
	CU_ASSERT_EQUAL(kapa_engine_stats(b.e)->pkts_edited, 0);
	bench_fini(&b);
}

/* An insertion that takes a segment past the client's MSS: split in two,
 * the second crafted right after the first, both within the MSS. */
static void
test_split_at_mss(void)
{
	char rsp[101];
	struct bench b;
	struct kapa_pkt p;
	uint32_t i, segs = 0;

	/* a 39-byte header block and 61 body bytes: a full 100-byte segment */
	memset(rsp, 'x', sizeof(rsp));
	memcpy(rsp, "HTTP/1.1 200 OK\r\nContent-Length: 61\r\n\r\n", 39);
	rsp[100] = '\0';
	CU_ASSERT_FATAL(bench_init(&b, 4, "max=1,mode=enforce", NULL, 0) == 0);
	b.cmss = 100;
	bench_handshake(&b);
	bench_str(&b, C, req11);
	bench_str(&b, S, rsp);
	if (getenv("BENCH_DEBUG") != NULL)
		dump(&b);
	CU_ASSERT_EQUAL(kapa_engine_stats(b.e)->pkts_split, 1);
	for (i = 0; i < b.nout; i++) {
		CU_ASSERT_FATAL(kapa_pkt_parse(b.out[i].data, b.out[i].len, KAPA_L2_ETHER, &p) ==
				KAPA_PKT_TCP);
		if (b.out[i].dir == KAPA_DIR_S2C && p.payload_len != 0) {
			segs++;
			CU_ASSERT(p.payload_len <= 100);
		}
	}
	CU_ASSERT_EQUAL(segs, 2);
	CU_ASSERT_EQUAL(b.rcv[KAPA_DIR_S2C].nxt, 120);
	CU_ASSERT_EQUAL(memcmp(client_got(&b) + 37, "Connection: close \r\n\r\nxx", 24), 0);
	check_clean(&b);
	bench_fini(&b);
}

/* An IPv4 bench under @p spec, its handshake done and a request sent.
 * @return the server's first sequence number. */
static uint32_t
bench_requested(struct bench *b, const char *spec)
{
	CU_ASSERT_FATAL(bench_init(b, 4, spec, NULL, 0) == 0);
	bench_handshake(b);
	bench_str(b, C, req11);
	return b->sisn + 1;
}

/* A retransmission of an edited segment is edited identically, however the
 * server cuts it again; one from before what the client acknowledged goes
 * out as a probe. */
static void
test_retransmission(void)
{
	static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct bench b;
	uint32_t seq0, nout;

	seq0 = bench_requested(&b, "max=1,mode=enforce");
	bench_str(&b, S, rsp);
	nout = b.nout;
	/* whole again, then its second half from inside the header block */
	bench_send(&b, S, seq0, bench_ack(&b, S), KAPA_TCP_ACK | KAPA_TCP_PSH,
		   (const uint8_t *)rsp, sizeof(rsp) - 1, NULL);
	CU_ASSERT_EQUAL(b.out[b.nout - 1].len, b.out[nout - 1].len);
	CU_ASSERT_EQUAL(memcmp(b.out[b.nout - 1].data, b.out[nout - 1].data,
			       b.out[nout - 1].len), 0);
	bench_send(&b, S, seq0 + 20, bench_ack(&b, S), KAPA_TCP_ACK,
		   (const uint8_t *)rsp + 20, sizeof(rsp) - 21, NULL);
	CU_ASSERT(kapa_engine_stats(b.e)->edits_replayed >= 2);
	CU_ASSERT_EQUAL(b.rcv[KAPA_DIR_S2C].conflicts, 0);
	/* the client acknowledges all as it closes (so kapa need not): the
	 * edit retires; an old copy now */
	bench_fin(&b, C);
	bench_send(&b, S, seq0, bench_ack(&b, S), KAPA_TCP_ACK, (const uint8_t *)rsp,
		   sizeof(rsp) - 1, NULL);
	CU_ASSERT_EQUAL(kapa_engine_stats(b.e)->stale_probes, 1);
	check_clean(&b);
	bench_fini(&b);
}

/*
 * A retransmission that starts before what the client acknowledged and runs
 * past it (the server sent it, new bytes along, before the ack reached it):
 * the client gets the new bytes now, shifted as any others; only the bytes
 * it has are cut.
 */
static void
test_retransmission_past_ack(void)
{
	static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	const uint32_t old = 5, rlen = sizeof(rsp) - 1;
	char both[2 * sizeof(rsp)];
	struct bench b;
	uint32_t seq0;

	seq0 = bench_requested(&b, "timeout=5,max=10,mode=advertise");
	bench_str(&b, S, rsp);
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_INSERT, KAPA_ACT_WHY_ADVERTISE), 1);
	bench_pure_ack(&b, C);		/* the insertion retires: shift, floor */
	bench_str(&b, C, req11);
	/* the first response's last bytes again, and the second response */
	snprintf(both, sizeof(both), "%s%s", rsp + rlen - old, rsp);
	bench_send(&b, S, seq0 + rlen - old, bench_ack(&b, S), KAPA_TCP_ACK | KAPA_TCP_PSH,
		   (const uint8_t *)both, old + rlen, NULL);
	b.soff += rlen;
	CU_ASSERT_EQUAL(kapa_engine_stats(b.e)->stale_cut, 1);
	CU_ASSERT_EQUAL(kapa_engine_stats(b.e)->stale_probes, 0);
	CU_ASSERT_EQUAL(kapa_http_stats(kapa_engine_http(b.e))->responses, 2);
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_INSERT, KAPA_ACT_WHY_ADVERTISE), 2);
	/* the client has both responses whole, each with its Keep-Alive */
	CU_ASSERT_EQUAL(b.rcv[KAPA_DIR_S2C].nxt, b.rcv[KAPA_DIR_S2C].max);
	CU_ASSERT(strstr(client_got(&b), "ok") != NULL &&
		  strstr(strstr(client_got(&b), "ok") + 2, "\r\n\r\nok") != NULL);
	check_clean(&b);
	bench_fini(&b);
}

/*
 * A piece of a response's Connection line came first (held out of order,
 * forwarded as it was), then the whole response: the line is in the packet
 * in hand, and the header block ends there, but the client keeps the copy
 * of the piece it had. kapa must not rewrite it there
 * (why: forwarded): the client would hold two different bytes at one
 * place. It closes once the client has the response instead.
 */
static void
test_no_rewrite_of_held_bytes(void)
{
	static const char rsp[] = "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
				  "Content-Length: 2\r\n\r\nok";
	const uint32_t len = sizeof(rsp) - 1;
	struct bench b;
	uint32_t seq0;

	seq0 = bench_requested(&b, "max=1,mode=enforce");
	bench_send(&b, S, seq0 + 20, bench_ack(&b, S), KAPA_TCP_ACK | KAPA_TCP_PSH,
		   (const uint8_t *)rsp + 20, 25, NULL);
	bench_send(&b, S, seq0, bench_ack(&b, S), KAPA_TCP_ACK | KAPA_TCP_PSH,
		   (const uint8_t *)rsp, len, NULL);
	b.soff += len;
	CU_ASSERT_EQUAL(kapa_http_stats(kapa_engine_http(b.e))->responses, 1);
	/* not rewritten: closed once the client has the response instead */
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_CLOSE_AFTER, KAPA_ACT_WHY_FORWARDED), 1);
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_REWRITE, KAPA_ACT_WHY_REQUESTS), 0);
	CU_ASSERT_STRING_EQUAL(client_got(&b), rsp);
	check_clean(&b);
	bench_fini(&b);
}

/* SACK edges past an insertion come back to the server's space. */
static void
test_sack(void)
{
	struct bench b;
	struct bench_opts o = { 0 };
	struct kapa_pkt p;
	uint32_t base;

	CU_ASSERT_FATAL(bench_init(&b, 4, "max=1,mode=enforce", NULL, 0) == 0);
	b.sack = 1;
	bench_handshake(&b);
	bench_str(&b, C, req11);
	bench_str(&b, S, rsp_plain);	/* 20 bytes inserted before "ok"'s block end */
	base = b.sisn + 1;
	/* the client claims [60, 62) of what it got: the server's [40, 42) */
	o.sack[0] = base + 60;
	o.sack[1] = base + 62;
	bench_send(&b, C, b.cisn + 1 + (uint32_t)b.coff, base + 10, KAPA_TCP_ACK, NULL, 0, &o);
	CU_ASSERT_FATAL(kapa_pkt_parse(b.out[b.nout - 1].data, b.out[b.nout - 1].len,
				       KAPA_L2_ETHER, &p) == KAPA_PKT_TCP);
	CU_ASSERT_FATAL(p.opt.nsack == 1);
	CU_ASSERT_EQUAL(p.opt.sack[0][0], base + 40);
	CU_ASSERT_EQUAL(p.opt.sack[0][1], base + 42);
	CU_ASSERT_EQUAL(p.ack, base + 10);	/* before the insertion: as is */
	check_clean(&b);
	bench_fini(&b);
}

/* The header block's end arrives before the bytes ahead of it: when the
 * block completes its bytes have gone. Max falls back to a close once the
 * client has the response; advertise skips the response. */
static void
test_out_of_order_header_end(void)
{
	static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	static const char *const specs[] = { "max=1,mode=enforce", "timeout=9,mode=advertise" };
	struct bench b;
	uint32_t seq0, ack;
	unsigned i;

	for (i = 0; i < 2; i++) {
		CU_ASSERT_FATAL(bench_init(&b, 4, specs[i], NULL, 0) == 0);
		bench_handshake(&b);
		bench_str(&b, C, req11);
		seq0 = b.sisn + 1;
		ack = bench_ack(&b, S);
		bench_send(&b, S, seq0 + 20, ack, KAPA_TCP_ACK, (const uint8_t *)rsp + 20,
			   sizeof(rsp) - 21, NULL);
		bench_send(&b, S, seq0, ack, KAPA_TCP_ACK, (const uint8_t *)rsp, 20, NULL);
		b.soff = sizeof(rsp) - 1;
		CU_ASSERT_STRING_EQUAL(client_got(&b), rsp);
		if (i == 0) {
			CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_CLOSE_AFTER,
						    KAPA_ACT_WHY_FORWARDED), 1);
			CU_ASSERT_EQUAL(rsts(&b, NULL), 0);
			bench_pure_ack(&b, C);	/* the client has it all: close */
			CU_ASSERT_EQUAL(rsts(&b, NULL), 2);
			check_reset_both(&b);
		} else {
			CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_REFUSED,
						    KAPA_ACT_WHY_FORWARDED), 1);
		}
		check_clean(&b);
		bench_fini(&b);
	}
}

/* The body arrives before the header block (held out of order, forwarded
 * as it came): the block completes in the packet in hand, but bytes after
 * the insertion point have gone at their old places: no insertion (a
 * rewrite in place would still do). */
static void
test_body_before_header(void)
{
	static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef";
	struct bench b;
	uint32_t seq0, ack;

	CU_ASSERT_FATAL(bench_init(&b, 4, "timeout=9,mode=advertise", NULL, 0) == 0);
	bench_handshake(&b);
	bench_str(&b, C, req11);
	seq0 = b.sisn + 1;
	ack = bench_ack(&b, S);
	bench_send(&b, S, seq0 + 39, ack, KAPA_TCP_ACK, (const uint8_t *)rsp + 39, 6, NULL);
	bench_send(&b, S, seq0, ack, KAPA_TCP_ACK, (const uint8_t *)rsp, 39, NULL);
	b.soff = sizeof(rsp) - 1;
	CU_ASSERT_STRING_EQUAL(client_got(&b), rsp);
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_REFUSED, KAPA_ACT_WHY_FORWARDED), 1);
	CU_ASSERT_EQUAL(kapa_engine_stats(b.e)->bytes_inserted, 0);
	check_clean(&b);
	bench_fini(&b);
}

/* PPPoE (a link layer a crafted packet would get wrong): nothing crafted,
 * nothing edited, each refusal counted. */
static void
test_l2_deep_refused(void)
{
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 4, "timeout=1,max=1,mode=enforce", NULL, 0) == 0);
	b.deep = 1;
	bench_handshake(&b);
	bench_str(&b, C, req11);
	bench_str(&b, S, rsp_plain);
	bench_wait(&b, 3000);
	CU_ASSERT_EQUAL(b.emitted, 0);
	CU_ASSERT_EQUAL(b.changed, 0);
	CU_ASSERT(bench_count(&b, KAPA_ACT_KIND_REFUSED, KAPA_ACT_WHY_L2_DEEP) >= 1);
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_CLOSE_AFTER, KAPA_ACT_WHY_L2_DEEP), 1);
	bench_fini(&b);
}

/* Crafted RSTs carry their direction's own link header: MACs, and the tags
 * with their TPIDs (QinQ one way, one 802.1Q tag the other). */
static void
test_vlan_templates(void)
{
	static const uint16_t qinq_tpid[2] = { 0x88a8, 0x8100 }, qinq_tci[2] = { 100, 200 };
	static const uint16_t one_tci[1] = { 300 };
	struct bench b;
	uint32_t i, seen = 0;

	CU_ASSERT_FATAL(bench_init(&b, 4, "timeout=1,mode=enforce", NULL, 0) == 0);
	bench_set_l2(&b, KAPA_DIR_C2S, 2, qinq_tpid, qinq_tci);
	bench_set_l2(&b, KAPA_DIR_S2C, 1, NULL, one_tci);
	bench_handshake(&b);
	bench_str(&b, C, req11);
	bench_str(&b, S, rsp_plain);
	bench_wait(&b, 2000);
	for (i = 0; i < b.nout; i++) {
		const struct bench_out *o = &b.out[i];

		if (!o->crafted)
			continue;
		seen++;
		CU_ASSERT_EQUAL(memcmp(o->data, b.l2[o->dir], b.l2_len[o->dir] - 2), 0);
	}
	CU_ASSERT_EQUAL(seen, 2);
	check_reset_both(&b);
	bench_fini(&b);
}

/* A shifted connection kapa stops tracking is reset both ways: evicted
 * (the table full), and at shutdown. */
static void
test_shifted_evicted_and_shutdown(void)
{
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 4, "max=1,mode=enforce", NULL, 0) == 0);
	bench_handshake(&b);
	bench_str(&b, C, req11);
	bench_str(&b, S, rsp_plain);	/* inserted: shifted */
	CU_ASSERT_EQUAL(kapa_engine_close_all(b.e, 1), 1);
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_RST, KAPA_ACT_WHY_SHUTDOWN), 1);
	check_reset_both(&b);
	bench_fini(&b);

	CU_ASSERT_FATAL(bench_init(&b, 4, "max=1,mode=enforce", NULL, 8) == 0);
	bench_handshake(&b);
	bench_str(&b, C, req11);
	bench_str(&b, S, rsp_plain);
	bench_wait(&b, 5000);
	/* 8 more connections: the table (capacity 8) evicts the oldest */
	for (int i = 1; i <= 8; i++) {
		b.cport = (uint16_t)(40000 + i);
		bench_send(&b, C, 1000, 0, KAPA_TCP_SYN, NULL, 0, NULL);
		bench_send(&b, S, 2000, 1001, KAPA_TCP_SYN | KAPA_TCP_ACK, NULL, 0, NULL);
		bench_send(&b, C, 1001, 2001, KAPA_TCP_ACK, (const uint8_t *)"x", 1, NULL);
	}
	CU_ASSERT_EQUAL(bench_count(&b, KAPA_ACT_KIND_RST, KAPA_ACT_WHY_EVICTED), 1);
	CU_ASSERT_EQUAL(b.rcv[KAPA_DIR_S2C].rst, 1);
	CU_ASSERT_EQUAL(b.rcv[KAPA_DIR_S2C].rst_bad, 0);
	bench_fini(&b);
}

/* A new rule set takes effect on connections that see no event: the
 * engine decides them again as it advances. */
static void
test_rule_set_change(void)
{
	struct kapa_policy_spec sp;
	struct kapa_policy *p2;
	struct bench b;
	char err[128];

	CU_ASSERT_FATAL(bench_init(&b, 4, "mode=observe", NULL, 0) == 0);
	bench_handshake(&b);
	bench_str(&b, C, req11);
	bench_str(&b, S, rsp_plain);
	bench_wait(&b, 3000);
	CU_ASSERT_EQUAL(rsts(&b, NULL), 0);
	CU_ASSERT_FATAL(kapa_policy_parse_spec("timeout=4,mode=enforce", &sp, err, sizeof(err)) == 0);
	p2 = kapa_policy_create(&sp, NULL, 0, 2, err, sizeof(err));
	CU_ASSERT_FATAL(p2 != NULL);
	kapa_engine_set_policy(b.e, p2);
	bench_wait(&b, 900);	/* 3.9 s idle: not yet */
	CU_ASSERT_EQUAL(rsts(&b, NULL), 0);
	CU_ASSERT(kapa_engine_stats(b.e)->rules_redecided >= 1);
	bench_wait(&b, 200);
	CU_ASSERT_EQUAL(rsts(&b, NULL), 2);
	bench_fini(&b);
	kapa_policy_destroy(p2);
}

/* A connection picked up mid-stream gets its limits, counted. */
static void
test_midstream_limits(void)
{
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 4, NULL, "198.19.0.0/16:80=timeout=2,mode=enforce", 0) == 0);
	bench_str(&b, C, req11);	/* no handshake seen */
	bench_str(&b, S, rsp_plain);
	CU_ASSERT_EQUAL(kapa_engine_stats(b.e)->midstream_limited, 1);
	bench_wait(&b, 2100);
	CU_ASSERT_EQUAL(rsts(&b, NULL), 2);
	check_reset_both(&b);
	bench_fini(&b);

	/* Only the client was ever seen (its request never answered: the
	 * stall limit): the RST to the client carries the client's own
	 * acknowledgement, copies its link header with the MACs swapped and
	 * leaves by the port the client's frames came in on. */
	CU_ASSERT_FATAL(bench_init(&b, 4, NULL, "198.19.0.0/16:80=stall=2,mode=enforce", 0) == 0);
	bench_str(&b, C, req11);
	bench_wait(&b, 2100);
	CU_ASSERT_EQUAL(rsts(&b, NULL), 2);
	CU_ASSERT_EQUAL(b.rcv[KAPA_DIR_S2C].rst_bad, 0);
	CU_ASSERT_EQUAL(b.rcv[KAPA_DIR_C2S].rst_bad, 0);
	CU_ASSERT_EQUAL(b.emit_port_rc[KAPA_DIR_C2S], 0);
	CU_ASSERT_EQUAL(b.emit_port[KAPA_DIR_C2S], 1);
	CU_ASSERT_EQUAL(b.emit_port_rc[KAPA_DIR_S2C], 1);
	CU_ASSERT_EQUAL(b.emit_port[KAPA_DIR_S2C], 1);
	bench_fini(&b);
}

/*
 * A pickup's bytes are held until its start is decided (here by the timer:
 * the server says nothing), then delivered together, the client's later
 * requests among them although they went to the server long ago. A request
 * past max found there is refused past everything already forwarded, so
 * the RST made for the server later is at its next byte.
 */
static void
test_midstream_refuse_held(void)
{
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 4, NULL, "198.19.0.0/16:80=max=1,stall=3,mode=enforce", 0) == 0);
	bench_str(&b, C, req11);	/* no handshake seen */
	bench_str(&b, C, req11);
	bench_str(&b, C, req11);
	CU_ASSERT_EQUAL(rsts(&b, NULL), 0);
	bench_wait(&b, 1100);		/* the pickup's start is decided */
	bench_wait(&b, 3100);		/* unanswered: the stall limit */
	CU_ASSERT_EQUAL(rsts(&b, NULL), 2);
	CU_ASSERT_EQUAL(b.rcv[KAPA_DIR_C2S].rst_bad, 0);
	CU_ASSERT_EQUAL(b.rcv[KAPA_DIR_S2C].rst_bad, 0);
	bench_fini(&b);
}

/* A burst looked up at once, then put through packet by packet: the SYN
 * creates the connection, so the positions found for the SYN/ACK and the
 * ACK with data before it are stale and looked up again; one connection,
 * its bytes delivered, its results filled. */
static void
test_burst_lookup(void)
{
	static uint8_t f[3][BENCH_FRAME + BENCH_ROOM];
	struct kapa_engine_slot slot[3];
	struct kapa_pkt p[3], *pp[3] = { &p[0], &p[1], &p[2] };
	const struct kapa_tcp_stats *ts;
	struct kapa_buf buf[3];
	struct bench b;
	int i;

	CU_ASSERT_FATAL(bench_init(&b, 6, "mode=observe,timeout=5", NULL, 0) == 0);
	buf[0].len = bench_build(&b, C, b.cisn, 0, KAPA_TCP_SYN, NULL, 0, NULL, f[0], &p[0]);
	buf[1].len = bench_build(&b, S, b.sisn, b.cisn + 1, KAPA_TCP_SYN | KAPA_TCP_ACK, NULL, 0,
				 NULL, f[1], &p[1]);
	buf[2].len = bench_build(&b, C, b.cisn + 1, b.sisn + 1, KAPA_TCP_ACK | KAPA_TCP_PSH,
				 (const uint8_t *)req11, sizeof(req11) - 1, NULL, f[2], &p[2]);
	kapa_engine_lookup_burst(b.e, pp, 3, slot);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(slot[i].idx, -ENOENT);
		buf[i].data = f[i];
		buf[i].tailroom = BENCH_ROOM;
		buf[i].port = 0;
		CU_ASSERT_EQUAL(kapa_engine_input_at(b.e, &buf[i], &p[i], &slot[i], b.now, NULL),
				KAPA_VERDICT_FORWARD);
		CU_ASSERT(slot[i].conn >= 0 && slot[i].user != NULL);
		CU_ASSERT_EQUAL(slot[i].conn, slot[0].conn);
	}
	CU_ASSERT_EQUAL(slot[0].dir, KAPA_DIR_C2S);
	CU_ASSERT_EQUAL(slot[1].dir, KAPA_DIR_S2C);
	ts = kapa_tcp_stats(kapa_engine_tcp(b.e));
	CU_ASSERT_EQUAL(ts->conns_opened, 1);
	CU_ASSERT_EQUAL(ts->bytes_delivered, sizeof(req11) - 1);
	CU_ASSERT_EQUAL(kapa_flow_count(kapa_tcp_table(kapa_engine_tcp(b.e))), 1);
	/* the next burst finds it */
	kapa_engine_lookup_burst(b.e, pp, 1, slot);
	CU_ASSERT_EQUAL(slot[0].idx, slot[1].conn);
	bench_fini(&b);
}

/* Client bytes sent at the client's next offset without moving it, so that
 * the next bench_str() sends its copy of the same bytes. */
static enum kapa_verdict
send_at_next(struct bench *b, const char *str, uint8_t csum)
{
	b->csum_next = csum;
	return bench_send(b, C, b->cisn + 1 + (uint32_t)b->coff, bench_ack(b, C),
			  KAPA_TCP_ACK | KAPA_TCP_PSH, (const uint8_t *)str,
			  (uint32_t)strlen(str), NULL);
}

/*
 * A request in a segment whose TCP checksum is wrong never reaches the
 * server: kapa forwards it unchanged and uses none of it, and the good copy
 * sent again, with other bytes (two requests in the bad one, one in the
 * good one, same length), is the one counted. IPv4 and IPv6; checked in
 * software and by a port's verdict.
 */
static void
test_csum_bad_not_counted(void)
{
	static const char two[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char one[] = "GET /a HTTP/1.1\r\nHost: x\r\nX-Pad: 0123456789abcdefghi\r\n\r\n";
	static const uint8_t how[] = { BENCH_CSUM_WRONG, BENCH_CSUM_PORT(KAPA_CSUM_BAD) };
	const struct kapa_engine_stats *st;
	const struct kapa_tcp_stats *ts;
	struct bench b;
	int family, i;

	CU_ASSERT_FATAL(sizeof(two) == sizeof(one));
	for (family = 4; family <= 6; family += 2) {
		for (i = 0; i < 2; i++) {
			CU_ASSERT_FATAL(bench_init(&b, family, "max=5,mode=enforce", NULL, 0) == 0);
			st = kapa_engine_stats(b.e);
			ts = kapa_tcp_stats(kapa_engine_tcp(b.e));
			bench_handshake(&b);
			CU_ASSERT_EQUAL(send_at_next(&b, two, how[i]), KAPA_VERDICT_FORWARD);
			CU_ASSERT_EQUAL(b.changed, 0);
			CU_ASSERT_EQUAL(b.bad_csum, i == 0 ? 1 : 0);	/* the server dropped it */
			CU_ASSERT_EQUAL(st->csum_bad, 1);
			CU_ASSERT_EQUAL(st->csum_port, (uint64_t)i);
			CU_ASSERT_EQUAL(kapa_http_stats(kapa_engine_http(b.e))->requests, 0);
			CU_ASSERT_EQUAL(ts->bytes_delivered, 0);
			bench_str(&b, C, one);
			bench_str(&b, S, rsp_plain);
			CU_ASSERT_EQUAL(kapa_http_stats(kapa_engine_http(b.e))->requests, 1);
			CU_ASSERT_EQUAL(kapa_http_stats(kapa_engine_http(b.e))->responses, 1);
			CU_ASSERT_EQUAL(ts->bytes_inconsistent, 0);
			/* (the port's BAD was given to a frame whose checksum
			 * is right: the bench's server took it) */
			if (i == 0)
				CU_ASSERT_STRING_EQUAL(server_got(&b), one);
			CU_ASSERT_EQUAL(st->csum_bad, 1);
			/* handshake 3, bad 1 (by the port when i == 1), two good */
			CU_ASSERT_EQUAL(st->csum_sw + st->csum_port, 6);
			bench_fini(&b);
		}
	}
}

/* The same with the IPv4 header checksum wrong and the TCP one right: the
 * receiver's IP layer drops it first. */
static void
test_csum_ip_header_bad_not_counted(void)
{
	static const char two[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char one[] = "GET /a HTTP/1.1\r\nHost: x\r\nX-Pad: 0123456789abcdefghi\r\n\r\n";
	const struct kapa_engine_stats *st;
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 4, "max=5,mode=enforce", NULL, 0) == 0);
	st = kapa_engine_stats(b.e);
	bench_handshake(&b);
	CU_ASSERT_EQUAL(send_at_next(&b, two, BENCH_CSUM_IP_WRONG), KAPA_VERDICT_FORWARD);
	CU_ASSERT_EQUAL(b.changed, 0);
	CU_ASSERT_EQUAL(b.bad_csum, 1);		/* the server dropped it */
	CU_ASSERT_EQUAL(st->csum_bad, 1);
	CU_ASSERT_EQUAL(kapa_http_stats(kapa_engine_http(b.e))->requests, 0);
	bench_str(&b, C, one);
	bench_str(&b, S, rsp_plain);
	CU_ASSERT_EQUAL(kapa_http_stats(kapa_engine_http(b.e))->requests, 1);
	CU_ASSERT_STRING_EQUAL(server_got(&b), one);
	CU_ASSERT_EQUAL(st->csum_bad, 1);
	bench_fini(&b);
}

/* The other verdicts: a port's GOOD is believed (not verified again), and
 * with software verification off a segment no port checked is used as it
 * is (kapa-inspect's default: captures carry checksums a NIC was to fill). */
static void
test_csum_trusted(void)
{
	static const char two[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
	const struct kapa_engine_stats *st;
	struct kapa_engine_conf conf;
	struct bench b;
	int off;

	for (off = 0; off < 2; off++) {
		CU_ASSERT_FATAL(bench_init(&b, 4, NULL, NULL, 0) == 0);
		if (off) {
			/* the same bench, its engine without verification */
			kapa_engine_destroy(b.e);
			memset(&conf, 0, sizeof(conf));
			conf.tcp.flow.name = "csum_off";
			conf.tcp.flow.capacity = 64;
			conf.tcp.flow.socket_id = -1;
			conf.tcp.flow.tick_ms = 1;
			conf.tcp.flow.wheel_slots = 4096;
			conf.tcp.ooo_pool_bytes = 1u << 20;
			b.e = kapa_engine_create(&conf);
			CU_ASSERT_FATAL(b.e != NULL);
		}
		st = kapa_engine_stats(b.e);
		bench_handshake(&b);
		send_at_next(&b, two, BENCH_CSUM_WRONG |
			     (off ? 0 : BENCH_CSUM_PORT(KAPA_CSUM_GOOD)));
		CU_ASSERT_EQUAL(kapa_http_stats(kapa_engine_http(b.e))->requests, 2);
		CU_ASSERT_EQUAL(st->csum_bad, 0);
		CU_ASSERT_EQUAL(st->csum_port, off ? 0u : 1u);
		CU_ASSERT_EQUAL(st->csum_sw, off ? 0u : 3u);
		bench_fini(&b);
	}
}

/* A bad segment creates and moves nothing: a SYN opens no connection, and
 * data on an idle connection does not put its idle close off. */
static void
test_csum_bad_no_state(void)
{
	struct kapa_flow_table *ft;
	uint64_t last = 0;
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 6, "timeout=2,mode=enforce", NULL, 0) == 0);
	ft = kapa_tcp_table(kapa_engine_tcp(b.e));
	b.csum_next = BENCH_CSUM_WRONG;
	bench_send(&b, C, b.cisn, 0, KAPA_TCP_SYN, NULL, 0, NULL);
	CU_ASSERT_EQUAL(kapa_flow_count(ft), 0);
	CU_ASSERT_EQUAL(kapa_tcp_stats(kapa_engine_tcp(b.e))->conns_opened, 0);
	memset(b.rcv, 0, sizeof(b.rcv));	/* the server never had it */
	bench_handshake(&b);
	CU_ASSERT_EQUAL(kapa_flow_count(ft), 1);
	bench_str(&b, C, req11);
	bench_str(&b, S, rsp_plain);
	bench_pure_ack(&b, C);
	bench_wait(&b, 1500);
	CU_ASSERT_EQUAL(rsts(&b, NULL), 0);
	send_at_next(&b, req11, BENCH_CSUM_WRONG);
	CU_ASSERT_EQUAL(kapa_http_stats(kapa_engine_http(b.e))->requests, 1);
	bench_wait(&b, 600);
	/* reset at 2 s after the response, as if the bad segment never was */
	CU_ASSERT_EQUAL(rsts(&b, &last), 2);
	CU_ASSERT_EQUAL(kapa_engine_stats(b.e)->csum_bad, 2);
	bench_fini(&b);
}

static int
suite_init(void)
{
	return kapa_eal_init_offline("test_engine", 256) != 0;
}

int
kapa_unit_register(void)
{
	CU_pSuite s = CU_add_suite("engine", suite_init, NULL);

	if (s == NULL ||
	    CU_add_test(s, "observe leaves every byte", test_observe_unchanged) == NULL ||
	    CU_add_test(s, "no action state: clean, policy refused", test_no_actions) == NULL ||
	    CU_add_test(s, "idle close at the due time", test_idle_close_due) == NULL ||
	    CU_add_test(s, "in-flight request and stall", test_in_flight_and_stall) == NULL ||
	    CU_add_test(s, "max: Connection: close inserted", test_max_insert) == NULL ||
	    CU_add_test(s, "max: the close announced is made", test_max_close_made) == NULL ||
	    CU_add_test(s, "max: Connection rewritten", test_max_rewrite) == NULL ||
	    CU_add_test(s, "advertise: rewrite in place", test_advertise_rewrite) == NULL ||
	    CU_add_test(s, "advertise: rename and insert", test_advertise_insert) == NULL ||
	    CU_add_test(s, "HTTP/1.0 keep-alive", test_http10) == NULL ||
	    CU_add_test(s, "a tolerated response is not edited", test_tolerated_not_edited) == NULL ||
	    CU_add_test(s, "insertion past the MSS splits", test_split_at_mss) == NULL ||
	    CU_add_test(s, "retransmissions edited identically", test_retransmission) == NULL ||
	    CU_add_test(s, "a retransmission past the client's ack: its new bytes go on",
			test_retransmission_past_ack) == NULL ||
	    CU_add_test(s, "no rewrite of bytes held and forwarded before",
			test_no_rewrite_of_held_bytes) == NULL ||
	    CU_add_test(s, "SACK edges translated", test_sack) == NULL ||
	    CU_add_test(s, "out-of-order header end falls back",
			test_out_of_order_header_end) == NULL ||
	    CU_add_test(s, "body before header: no insertion", test_body_before_header) == NULL ||
	    CU_add_test(s, "L2_DEEP refused", test_l2_deep_refused) == NULL ||
	    CU_add_test(s, "VLAN/QinQ templates", test_vlan_templates) == NULL ||
	    CU_add_test(s, "shifted: evicted, shutdown", test_shifted_evicted_and_shutdown) == NULL ||
	    CU_add_test(s, "rule set change", test_rule_set_change) == NULL ||
	    CU_add_test(s, "mid-stream pickup gets limits", test_midstream_limits) == NULL ||
	    CU_add_test(s, "mid-stream pickup: a refusal on held bytes",
			test_midstream_refuse_held) == NULL ||
	    CU_add_test(s, "a burst looked up at once", test_burst_lookup) == NULL ||
	    CU_add_test(s, "checksum: a bad segment is not counted",
			test_csum_bad_not_counted) == NULL ||
	    CU_add_test(s, "a segment with a bad IPv4 header checksum is not counted",
			test_csum_ip_header_bad_not_counted) == NULL ||
	    CU_add_test(s, "checksum: port's good, verification off",
			test_csum_trusted) == NULL ||
	    CU_add_test(s, "checksum: a bad segment moves no state",
			test_csum_bad_no_state) == NULL)
		return -1;
	return 0;
}
