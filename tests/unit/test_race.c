/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the race and hint-compliance measurement (kapa_race.h) on
 * hand-made segment sequences through the engine (engine_bench.h): which
 * requests are races and of which kind, which are not, the retry on a new
 * connection, the idle gaps per server, and what hinted clients did.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "engine_bench.h"
#include "kapa_eal.h"
#include "unit.h"

#define C 0	/* from the client */
#define S 1	/* from the server */

static const char req_a[] = "GET /a HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/7.88.1\r\n\r\n";
static const char req_b[] = "GET /b HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/7.88.1\r\n\r\n";
static const char rsp_ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
static const char rsp_hint[] = "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
			       "Keep-Alive: timeout=2, max=3\r\nContent-Length: 2\r\n\r\nok";

static const struct kapa_race_stats *
race_stats(struct bench *b)
{
	return kapa_race_stats(kapa_engine_race(b->e));
}

/* The server's RST: at its next sequence number (after its FIN, if sent). */
static void
server_rst(struct bench *b)
{
	bench_send(b, S, b->sisn + 1 + (uint32_t)b->soff + (uint32_t)b->fin_sent[S],
		   bench_ack(b, S), KAPA_TCP_RST | KAPA_TCP_ACK, NULL, 0, NULL);
}

/* A new connection from the same client address, another port. */
static void
next_conn(struct bench *b)
{
	b->cport++;
	b->coff = b->soff = 0;
	b->fin_sent[0] = b->fin_sent[1] = 0;
	memset(b->rcv, 0, sizeof(b->rcv));
	b->cisn += 0x01000000u;
	b->sisn += 0x01000000u;
	bench_handshake(b);
}

/* One answered exchange, then @p idle_ms of silence. */
static void
exchange_then_idle(struct bench *b, const char *req, const char *rsp, uint64_t idle_ms)
{
	bench_str(b, C, req);
	bench_str(b, S, rsp);
	bench_pure_ack(b, C);
	bench_wait(b, idle_ms);
}

/* The server's FIN first, the client's request after it (it had not seen
 * the FIN): a race lost to FIN, idle time from the end of the exchange.
 * The server's RST that answers the request is not a second race. */
static void
test_fin_then_request(void)
{
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 4, NULL, NULL, 0) == 0);
	bench_handshake(&b);
	exchange_then_idle(&b, req_a, rsp_ok, 1000);
	bench_fin(&b, S);
	bench_str(&b, C, req_b);
	server_rst(&b);
	CU_ASSERT_EQUAL_FATAL(b.nraces, 1);
	CU_ASSERT_EQUAL(b.races[0].kind, KAPA_RACE_FIN);
	CU_ASSERT(b.races[0].idle_ms >= 1000 && b.races[0].idle_ms <= 1001);
	CU_ASSERT_EQUAL(b.races[0].srv_dir, KAPA_DIR_S2C);
	/* The frame of the request's first byte (the 8th frame sent). */
	CU_ASSERT_EQUAL((uintptr_t)b.races[0].req_ref, 8);
	CU_ASSERT_EQUAL(race_stats(&b)->races[KAPA_RACE_FIN], 1);
	CU_ASSERT_EQUAL(race_stats(&b)->races[KAPA_RACE_RST], 0);
	/* The FIN ended an idle gap: it counts toward the observed limit. */
	CU_ASSERT_EQUAL(race_stats(&b)->idle_closes, 1);
	bench_fini(&b);
}

/* The request first, then the server's FIN with no answer: it crossed the
 * FIN on the way (the server had decided to close before it arrived). */
static void
test_request_crosses_fin(void)
{
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 4, NULL, NULL, 0) == 0);
	bench_handshake(&b);
	exchange_then_idle(&b, req_a, rsp_ok, 999);
	bench_str(&b, C, req_b);
	bench_fin(&b, S);
	CU_ASSERT_EQUAL_FATAL(b.nraces, 1);
	CU_ASSERT_EQUAL(b.races[0].kind, KAPA_RACE_FIN);
	CU_ASSERT(b.races[0].idle_ms >= 999 && b.races[0].idle_ms <= 1000);
	bench_fini(&b);
}

/* The server closes with the request unread in its buffer: an RST, no FIN
 * (what Linux sends then). Lost to RST. */
static void
test_request_crosses_rst(void)
{
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 6, NULL, NULL, 0) == 0);
	bench_handshake(&b);
	exchange_then_idle(&b, req_a, rsp_ok, 1000);
	bench_str(&b, C, req_b);
	server_rst(&b);
	CU_ASSERT_EQUAL_FATAL(b.nraces, 1);
	CU_ASSERT_EQUAL(b.races[0].kind, KAPA_RACE_RST);
	CU_ASSERT_EQUAL(race_stats(&b)->races[KAPA_RACE_RST], 1);
	bench_fini(&b);
}

/* The server resets the idle connection first (an NLB's way); the client's
 * request comes after it, while the entry lingers: the TCP core no longer
 * delivers it, and tells it once (KAPA_EV_LATE_DATA). Lost to RST, and its
 * request line, read from the segment, matches the retry. */
static void
test_rst_then_request(void)
{
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 4, NULL, NULL, 0) == 0);
	bench_handshake(&b);
	exchange_then_idle(&b, req_a, rsp_ok, 350000 / 1000);
	server_rst(&b);
	CU_ASSERT_EQUAL(race_stats(&b)->idle_closes, 1);
	CU_ASSERT_EQUAL(b.nraces, 0);
	bench_str(&b, C, req_b);
	bench_str(&b, C, "more");	/* told once only */
	CU_ASSERT_EQUAL_FATAL(b.nraces, 1);
	CU_ASSERT_EQUAL(b.races[0].kind, KAPA_RACE_RST);
	CU_ASSERT(b.races[0].idle_ms >= 350 && b.races[0].idle_ms <= 351);
	CU_ASSERT_EQUAL((uintptr_t)b.races[0].req_ref, b.nframe - 1);
	next_conn(&b);
	bench_str(&b, C, req_b);
	CU_ASSERT_EQUAL_FATAL(b.nretried, 1);
	CU_ASSERT_EQUAL(b.retried_id[0], b.races[0].id);
	bench_fini(&b);
}

/* Not races: a reuse that is answered; an idle connection the server
 * closes with no request after it (an idle close, its gap counted); a
 * first request on a new connection that the server closes instead of
 * answering (a refusal as much as a race: not counted); a client that
 * closes first. */
static void
test_not_races(void)
{
	const struct kapa_race_server *srv;
	struct bench b;
	uint32_t n;

	CU_ASSERT_FATAL(bench_init(&b, 4, NULL, NULL, 0) == 0);
	bench_handshake(&b);
	exchange_then_idle(&b, req_a, rsp_ok, 800);
	exchange_then_idle(&b, req_b, rsp_ok, 1000);
	bench_fin(&b, S);
	bench_fin(&b, C);
	CU_ASSERT_EQUAL(race_stats(&b)->reuses, 1);
	CU_ASSERT_EQUAL(race_stats(&b)->idle_closes, 1);

	next_conn(&b);
	bench_wait(&b, 100);
	bench_str(&b, C, req_a);
	bench_fin(&b, S);

	next_conn(&b);
	exchange_then_idle(&b, req_a, rsp_ok, 500);
	bench_fin(&b, C);
	bench_fin(&b, S);
	CU_ASSERT_EQUAL(b.nraces, 0);
	CU_ASSERT_EQUAL(race_stats(&b)->races[KAPA_RACE_FIN] + race_stats(&b)->races[KAPA_RACE_RST],
			0);
	/* One server, its gaps: reused after 800 ms, closed after 1000 ms. */
	n = kapa_race_servers(kapa_engine_race(b.e), &srv);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL(srv[1].ep.port, 80);
	CU_ASSERT_EQUAL(srv[1].reuses, 1);
	CU_ASSERT_EQUAL(srv[1].reuse_max_ms, 800);
	CU_ASSERT_EQUAL(srv[1].idle_closes, 1);
	CU_ASSERT(srv[1].close_min_ms >= 1000 && srv[1].close_min_ms <= 1001);
	bench_fini(&b);
}

/* The raced request sent again on a new connection from the same address
 * within a second is a retry; after the second, or another request line,
 * it is not. */
static void
test_retry(void)
{
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 4, NULL, NULL, 0) == 0);
	bench_handshake(&b);
	exchange_then_idle(&b, req_a, rsp_ok, 1000);
	bench_fin(&b, S);
	bench_str(&b, C, req_b);
	server_rst(&b);
	CU_ASSERT_EQUAL_FATAL(b.nraces, 1);
	next_conn(&b);
	bench_str(&b, C, req_a);	/* another request line */
	CU_ASSERT_EQUAL(b.nretried, 0);
	next_conn(&b);
	bench_str(&b, C, req_b);
	CU_ASSERT_EQUAL_FATAL(b.nretried, 1);
	CU_ASSERT_EQUAL(b.retried_id[0], b.races[0].id);
	CU_ASSERT_EQUAL(race_stats(&b)->retried, 1);
	bench_str(&b, S, rsp_ok);

	/* A second race, its request again only after 1.5 s. */
	bench_pure_ack(&b, C);
	bench_wait(&b, 1000);
	bench_fin(&b, S);
	bench_str(&b, C, req_b);
	server_rst(&b);
	CU_ASSERT_EQUAL_FATAL(b.nraces, 2);
	bench_wait(&b, 1500);
	next_conn(&b);
	bench_str(&b, C, req_b);
	CU_ASSERT_EQUAL(b.nretried, 1);
	CU_ASSERT_EQUAL(race_stats(&b)->retried, 1);
	bench_fini(&b);
}

static const struct kapa_race_agent *
agent(struct bench *b, const char *token)
{
	const struct kapa_race_agent *a;
	uint32_t i, n = kapa_race_agents(kapa_engine_race(b->e), &a);

	for (i = 0; i < n; i++)
		if (strcmp(a[i].token, token) == 0)
			return &a[i];
	return NULL;
}

/* Told timeout=2, max=3: a reuse after 1.5 s is in time, one after 2.5 s
 * late; max=3 after request 1 allows 4 requests in all, the fifth is past
 * it. A client that closes an idle connection before T complies. */
static void
test_hint_compliance(void)
{
	const struct kapa_race_agent *a;
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 4, NULL, NULL, 0) == 0);
	bench_handshake(&b);
	exchange_then_idle(&b, req_a, rsp_hint, 1500);
	exchange_then_idle(&b, req_a, rsp_hint, 2500);
	exchange_then_idle(&b, req_a, rsp_hint, 10);
	exchange_then_idle(&b, req_a, rsp_hint, 10);
	exchange_then_idle(&b, req_a, rsp_hint, 10);
	bench_fin(&b, C);
	bench_fin(&b, S);
	bench_wait(&b, 60000);	/* released after its linger */

	next_conn(&b);
	exchange_then_idle(&b, req_a, rsp_hint, 500);
	bench_fin(&b, C);
	bench_fin(&b, S);
	bench_wait(&b, 60000);

	a = agent(&b, "curl");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->conns, 2);
	CU_ASSERT_EQUAL(a->compliant, 1);
	CU_ASSERT_EQUAL(a->reuse_in_time, 3);
	CU_ASSERT_EQUAL(a->reuse_late, 1);
	CU_ASSERT_EQUAL(a->over_max, 1);
	CU_ASSERT_EQUAL(a->closed_in_time, 2);
	CU_ASSERT_EQUAL(race_stats(&b)->hinted_conns, 2);
	CU_ASSERT_EQUAL(race_stats(&b)->hint_compliant, 1);
	bench_fini(&b);
}

/* kapa's advertised hint replaces the server's as what the client was told. */
static void
test_hint_advertised(void)
{
	const struct kapa_race_agent *a;
	struct bench b;

	CU_ASSERT_FATAL(bench_init(&b, 4, "timeout=10,mode=advertise", NULL, 0) == 0);
	bench_handshake(&b);
	/* The server says nothing; kapa tells timeout=9. */
	exchange_then_idle(&b, req_a, rsp_ok, 5000);
	exchange_then_idle(&b, req_a, rsp_ok, 100);
	bench_fin(&b, C);
	bench_fin(&b, S);
	bench_wait(&b, 60000);
	a = agent(&b, "curl");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->conns, 1);
	CU_ASSERT_EQUAL(a->compliant, 1);
	CU_ASSERT_EQUAL(a->reuse_in_time, 1);
	CU_ASSERT_EQUAL(a->closed_in_time, 1);
	bench_fini(&b);
}

/* The tables are bounded: past their size, connections count as other. */
static void
test_tables_bounded(void)
{
	static const struct kapa_race_ops no_ops;
	struct kapa_race_conf conf = { .servers = 1, .agents = 1, .ops = &no_ops };
	struct kapa_race *r = kapa_race_create(&conf);

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	kapa_race_destroy(r);
	conf.servers = 70000;	/* entries are numbered in 16 bits */
	CU_ASSERT_PTR_NULL(kapa_race_create(&conf));
}

static void
test_product_token(void)
{
	static const struct {
		const char *ua, *token;
	} cases[] = {
		{ "curl/7.88.1", "curl" },
		{ "Mozilla/5.0 (X11; Linux x86_64)", "Mozilla" },
		{ "Python-urllib/3.11", "Python-urllib" },
		{ "Go-http-client/1.1", "Go-http-client" },
		{ "Wget", "Wget" },
		{ "(compatible)", "" },
		{ "", "" },
		{ "a\"b\x01/1", "a?b?" },
		{ "abcdefghijklmnopqrstuvwxyz0123456789/1", "abcdefghijklmnopqrstuvwxyz01234" },
	};
	char out[KAPA_RACE_TOKEN_MAX + 1];
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kapa_race_product_token((const uint8_t *)cases[i].ua,
					(uint32_t)strlen(cases[i].ua), out);
		CU_ASSERT_STRING_EQUAL(out, cases[i].token);
	}
}

int
kapa_unit_register(void)
{
	CU_pSuite s;

	if (kapa_eal_init_offline("test_race", 256) != 0)
		return -1;
	s = CU_add_suite("race", NULL, NULL);
	if (s == NULL ||
	    CU_add_test(s, "FIN, then the request", test_fin_then_request) == NULL ||
	    CU_add_test(s, "request crosses the FIN", test_request_crosses_fin) == NULL ||
	    CU_add_test(s, "request crosses an RST", test_request_crosses_rst) == NULL ||
	    CU_add_test(s, "RST first, then the request", test_rst_then_request) == NULL ||
	    CU_add_test(s, "what is not a race", test_not_races) == NULL ||
	    CU_add_test(s, "retry on a new connection", test_retry) == NULL ||
	    CU_add_test(s, "hint compliance", test_hint_compliance) == NULL ||
	    CU_add_test(s, "advertised hint", test_hint_advertised) == NULL ||
	    CU_add_test(s, "tables bounded", test_tables_bounded) == NULL ||
	    CU_add_test(s, "User-Agent product token", test_product_token) == NULL)
		return -1;
	return 0;
}
