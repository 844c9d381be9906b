/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the HTTP/1.x tracker, driven through its stream ops with a
 * hand-made stream context (no TCP core): whole exchanges cut at every byte
 * and at random multi-cuts must give the same messages and persistence
 * decisions as the uncut feed; each adversarial case has its own test.
 *
 * TCP-level cases (overlapping retransmissions, urgent data, out-of-order
 * segments) are the TCP core's to turn into first-wins ordered bytes and GAP
 * events; here they are covered at the tracker's level: what it receives.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "kapa_eal.h"
#include "kapa_http.h"
#include "unit.h"

#define C2S KAPA_DIR_C2S
#define S2C KAPA_DIR_S2C

/* ---- what the tracker reported ----------------------------------------- */

#define MAX_MSGS 64

struct rec_msg {
	bool is_request;
	uint32_t index;
	uint64_t off;
	uint16_t status;
	uint8_t body;
	uint64_t content_length;
	bool persistent, ka_effective;
	bool pair_unsure;
	uint16_t tolerated;	/* 1 << enum kapa_http_tol */
	uint8_t conn_flags;
	uint8_t ntokens;
	char tokens[256];	/* tokens joined with '|' */
	bool has_t, has_m;
	uint32_t t, m;
	uint8_t nka;
	char ka_raw[256];
	char version[16];
	char method[16];
	char target[64];
	void *first_ref;	/* first_pkt_ref */
	uint64_t first_ns;
	uint64_t hdr_end;
	bool hdr_crlf, fields_truncated;
	uint8_t nconn_pos, nka_pos;
	struct kapa_http_field_pos conn_pos[KAPA_HTTP_MAX_FIELD_POS];
	struct kapa_http_field_pos ka_pos[KAPA_HTTP_MAX_FIELD_POS];
	struct kapa_http_conn_info info;	/* the connection's, at the message */
};

static struct rec_msg msgs[MAX_MSGS];
static unsigned nmsgs, nends, nleaves;
static int last_leave = -1;
static char lg[1 << 16];	/* the whole report as text, for comparisons */
static size_t lglen;

static void
log_reset(void)
{
	nmsgs = 0;
	nends = 0;
	nleaves = 0;
	last_leave = -1;
	lglen = 0;
	lg[0] = 0;
}

static void
logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
logf_(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (lglen >= sizeof(lg) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(lg + lglen, sizeof(lg) - lglen, fmt, ap);
	va_end(ap);
	if (n > 0)
		lglen += (size_t)n;
	if (lglen > sizeof(lg) - 1)
		lglen = sizeof(lg) - 1;
}

static void
span_cpy(char *dst, size_t cap, const struct kapa_span *s)
{
	size_t n = s->len < cap - 1 ? s->len : cap - 1;

	if (n > 0)
		memcpy(dst, s->p, n);
	dst[n] = 0;
}

static void
join(char *dst, size_t cap, const struct kapa_span *v, unsigned n)
{
	size_t l = 0;
	unsigned i;

	dst[0] = 0;
	for (i = 0; i < n && l + 2 < cap; i++) {
		if (i > 0)
			dst[l++] = '|';
		span_cpy(dst + l, cap - l, &v[i]);
		l += strlen(dst + l);
	}
}

static void
on_message(const struct kapa_stream_ctx *ctx, const struct kapa_http_msg *m,
	   void *arg)
{
	struct rec_msg *r;

	(void)arg;
	if (nmsgs == MAX_MSGS)
		return;
	r = &msgs[nmsgs++];
	memset(r, 0, sizeof(*r));
	kapa_http_conn_info(ctx->app, &r->info);
	r->is_request = m->is_request;
	r->index = m->index;
	r->off = m->off;
	r->status = m->status;
	r->body = m->body;
	r->content_length = m->content_length;
	r->persistent = m->persistent;
	r->ka_effective = m->ka_effective;
	r->pair_unsure = m->pair_unsure;
	r->tolerated = m->tolerated;
	r->conn_flags = m->conn_flags;
	r->ntokens = m->ntokens;
	join(r->tokens, sizeof(r->tokens), m->tokens, m->ntokens);
	r->has_t = m->has_ka_timeout;
	r->has_m = m->has_ka_max;
	r->t = m->ka_timeout;
	r->m = m->ka_max;
	r->nka = m->nka;
	join(r->ka_raw, sizeof(r->ka_raw), m->ka_raw, m->nka);
	span_cpy(r->version, sizeof(r->version), &m->version);
	span_cpy(r->method, sizeof(r->method), &m->method);
	span_cpy(r->target, sizeof(r->target), &m->target);
	r->first_ref = m->first_pkt_ref;
	r->first_ns = m->first_ns;
	r->hdr_end = m->hdr_end;
	r->hdr_crlf = m->hdr_crlf;
	r->nconn_pos = m->nconn_pos;
	r->nka_pos = m->nka_pos;
	memcpy(r->conn_pos, m->conn_pos, sizeof(r->conn_pos));
	memcpy(r->ka_pos, m->ka_pos, sizeof(r->ka_pos));
	r->fields_truncated = m->fields_truncated;
	/* Positions are stream offsets: however the bytes are cut, the same. */
	logf_("P end=%llu crlf=%d trunc=%d", (unsigned long long)m->hdr_end, m->hdr_crlf,
	      m->fields_truncated);
	for (unsigned i = 0; i < m->nconn_pos; i++)
		logf_(" c%llu/%llu/%llu/%llu", (unsigned long long)m->conn_pos[i].line,
		      (unsigned long long)m->conn_pos[i].value,
		      (unsigned long long)m->conn_pos[i].value_end,
		      (unsigned long long)m->conn_pos[i].line_end);
	for (unsigned i = 0; i < m->nka_pos; i++)
		logf_(" k%llu/%llu/%llu/%llu", (unsigned long long)m->ka_pos[i].line,
		      (unsigned long long)m->ka_pos[i].value,
		      (unsigned long long)m->ka_pos[i].value_end,
		      (unsigned long long)m->ka_pos[i].line_end);
	logf_("\n");
	logf_("M req=%d idx=%u off=%llu %s %s %u v=%s tok=[%s] cf=%x ka=%d:%u/%d:%u raw=[%s] "
	      "body=%u cl=%llu pers=%d eff=%d unsure=%d tol=%x\n",
	      r->is_request, r->index, (unsigned long long)r->off, r->method, r->target,
	      r->status, r->version, r->tokens, r->conn_flags, r->has_t, r->t, r->has_m,
	      r->m, r->ka_raw, r->body, (unsigned long long)r->content_length,
	      r->persistent, r->ka_effective, r->pair_unsure, r->tolerated);
}

static void
on_end(const struct kapa_stream_ctx *ctx, bool is_request, uint32_t index, void *arg)
{
	(void)ctx;
	(void)arg;
	nends++;
	logf_("E req=%d idx=%u\n", is_request, index);
}

static void
on_leave(const struct kapa_stream_ctx *ctx, enum kapa_http_leave why, void *arg)
{
	(void)ctx;
	(void)arg;
	nleaves++;
	last_leave = (int)why;
	logf_("L %s\n", kapa_http_leave_name(why));
}

static const struct kapa_http_ops test_ops = {
	.message = on_message,
	.message_end = on_end,
	.leave = on_leave,
};

static struct kapa_http *
tracker(uint32_t max_header, uint32_t buffers, uint32_t depth)
{
	struct kapa_http_conf conf = {
		.max_header = max_header,
		.header_buffers = buffers,
		.pipeline_depth = depth,
		.ops = &test_ops,
	};
	struct kapa_http *h = kapa_http_create(&conf);

	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	return h;
}

/* ---- one connection, fed by hand ----------------------------------------- */

struct harness {
	struct kapa_http *h;
	struct kapa_conn conn;
	_Alignas(16) uint8_t app[KAPA_HTTP_STATE_SIZE + 32];
	struct kapa_stream_ctx ctx;
	uint64_t off[2];
};

/* Open a connection; @p pkt is the packet in hand at OPEN (may be NULL). */
static void
h_open_pkt(struct harness *t, struct kapa_http *h, uint16_t conn_flags,
	   const struct kapa_pkt *pkt)
{
	memset(t, 0, sizeof(*t));
	t->h = h;
	t->conn.flags = conn_flags;
	t->ctx.tcp = NULL;
	t->ctx.ops_arg = h;
	t->ctx.app = t->app;
	t->ctx.conn = &t->conn;
	t->ctx.idx = 0;
	t->ctx.pkt = pkt;
	kapa_http_stream_ops()->event(&t->ctx, KAPA_EV_OPEN, 0, 0);
	t->ctx.pkt = NULL;
}

static void
h_open(struct harness *t, struct kapa_http *h, uint16_t conn_flags)
{
	h_open_pkt(t, h, conn_flags, NULL);
}

static void
h_data(struct harness *t, enum kapa_dir dir, const void *p, uint32_t len)
{
	t->ctx.dir = dir;
	t->ctx.now_ns += 1000;
	t->ctx.pkt_ref = (void *)(uintptr_t)t->ctx.now_ns;
	kapa_http_stream_ops()->data(&t->ctx, t->off[dir], p, len);
	t->off[dir] += len;
}

static void
h_str(struct harness *t, enum kapa_dir dir, const char *s)
{
	h_data(t, dir, s, (uint32_t)strlen(s));
}

static void
h_event(struct harness *t, enum kapa_dir dir, enum kapa_stream_event ev, uint64_t len)
{
	t->ctx.dir = dir;
	kapa_http_stream_ops()->event(&t->ctx, ev, t->off[dir], len);
	if (ev == KAPA_EV_GAP)
		t->off[dir] += len;
}

static void
h_close(struct harness *t)
{
	h_event(t, C2S, KAPA_EV_CLOSE, 0);
}

/* ---- scripts cut anywhere -------------------------------------------------- */

enum piece_kind { P_DATA, P_FIN, P_GAP };

struct piece {
	uint8_t kind;
	uint8_t dir;
	const char *s;
	uint32_t len;		/* P_GAP: bytes lost */
};

#define D(d, str) { P_DATA, d, str, 0 }
#define FIN(d) { P_FIN, d, NULL, 0 }

static uint32_t
piece_len(const struct piece *p)
{
	return p->kind == P_DATA ? (uint32_t)strlen(p->s) : 0;
}

static uint32_t
script_len(const struct piece *ps, unsigned n)
{
	uint32_t total = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		total += piece_len(&ps[i]);
	return total;
}

/* Feed a script with deliveries also cut at the sorted global byte
 * positions @p cuts; the report is left in lg/msgs. */
static void
run_script(struct kapa_http *h, const struct piece *ps, unsigned n,
	   const uint32_t *cuts, unsigned ncuts, uint16_t conn_flags)
{
	struct harness t;
	uint32_t g = 0, pos, end, len;
	unsigned i, ci = 0;

	log_reset();
	h_open(&t, h, conn_flags);
	for (i = 0; i < n; i++) {
		if (ps[i].kind == P_FIN) {
			h_event(&t, ps[i].dir, KAPA_EV_FIN, 0);
			continue;
		}
		if (ps[i].kind == P_GAP) {
			h_event(&t, ps[i].dir, KAPA_EV_GAP, ps[i].len);
			continue;
		}
		len = piece_len(&ps[i]);
		for (pos = 0; pos < len; pos = end) {
			while (ci < ncuts && cuts[ci] <= g + pos)
				ci++;
			end = (ci < ncuts && cuts[ci] < g + len) ? cuts[ci] - g : len;
			h_data(&t, ps[i].dir, ps[i].s + pos, end - pos);
		}
		g += len;
	}
	h_close(&t);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The property: any cutting of the byte streams gives the same report. */
static void
check_cut_invariance(const struct piece *ps, unsigned n, uint16_t conn_flags,
		     unsigned min_msgs)
{
	static char base[sizeof(lg)];
	static uint32_t cuts[1 << 13];
	struct kapa_http *h = tracker(0, 0, 0);
	uint32_t total = script_len(ps, n), k, r;
	unsigned bad = 0, i, nc;

	run_script(h, ps, n, NULL, 0, conn_flags);
	memcpy(base, lg, lglen + 1);
	CU_ASSERT(nmsgs >= min_msgs);
	CU_ASSERT_EQUAL(nleaves, 0);
	if (nleaves != 0 || nmsgs < min_msgs)
		fprintf(stderr, "\nuncut report:\n%s", base);

	/* every single cut point */
	for (k = 1; k < total; k++) {
		run_script(h, ps, n, &k, 1, conn_flags);
		if (strcmp(base, lg) != 0 && bad++ == 0)
			fprintf(stderr, "\ncut at %u differs:\n%s---- expected:\n%s", k, lg, base);
	}
	/* every byte its own delivery */
	CU_ASSERT_FATAL(total <= sizeof(cuts) / sizeof(cuts[0]));
	for (k = 0; k < total; k++)
		cuts[k] = k + 1;
	run_script(h, ps, n, cuts, total, conn_flags);
	if (strcmp(base, lg) != 0 && bad++ == 0)
		fprintf(stderr, "\n1-byte deliveries differ:\n%s", lg);
	/* random multi-cuts, reproducible */
	srand(12345);
	for (r = 0; r < 300; r++) {
		nc = 1 + (unsigned)rand() % 40;
		for (i = 0; i < nc; i++)
			cuts[i] = 1 + (uint32_t)rand() % (total - 1);
		qsort(cuts, nc, sizeof(cuts[0]), cmp_u32);
		run_script(h, ps, n, cuts, nc, conn_flags);
		if (strcmp(base, lg) != 0 && bad++ == 0)
			fprintf(stderr, "\nrandom cut set %u differs:\n%s", r, lg);
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* No header buffer is kept once the connection is closed. */
	kapa_http_destroy(h);
}

static const struct piece ex_keepalive_11[] = {
	D(C2S, "GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\n"
	       "Accept: */*\r\nConnection: keep-alive\r\n\r\n"),
	D(S2C, "HTTP/1.1 200 OK\r\nServer: Apache\r\nContent-Length: 12\r\n"
	       "Keep-Alive: timeout=5, max=100\r\nConnection: Keep-Alive\r\n"
	       "Content-Type: text/html\r\n\r\nhello world\n"),
	D(C2S, "POST /api HTTP/1.1\r\nHost: example.com\r\nContent-Length: 7\r\n"
	       "Content-Type: application/json\r\n\r\n{\"a\":1}"),
	D(S2C, "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
	       "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\nConnection: close\r\n\r\n"),
	D(C2S, "HEAD /big HTTP/1.1\r\nHost: example.com\r\n\r\n"),
	D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n"),
	D(C2S, "GET /bye HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"),
	D(S2C, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"),
	FIN(S2C),
	FIN(C2S),
};

static const struct piece ex_keepalive_10[] = {
	D(C2S, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nUser-Agent: ApacheBench/2.3\r\n\r\n"),
	D(S2C, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5, max=100\r\n"
	       "Content-Length: 5\r\n\r\nabcde"),
	D(C2S, "GET /2 HTTP/1.0\r\n\r\n"),
	D(S2C, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nclose-delimited body\r\n\r\n..."),
	FIN(S2C),
	FIN(C2S),
};

static const struct piece ex_pipelined[] = {
	D(C2S, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"
	       "HEAD /c HTTP/1.1\r\nHost: h\r\n\r\n"),
	D(S2C, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
	       "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
	       "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
	       "HTTP/1.1 200 OK\r\nContent-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n"),
	D(C2S, "PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"),
	D(S2C, "HTTP/1.1 100 Continue\r\n\r\n"),
	D(C2S, "data"),
	D(S2C, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
};

static const struct piece ex_lenient[] = {
	D(C2S, "\r\n\r\nGET /lf HTTP/1.1\nHost: h\nX-Long: a\n  continued\nConnection:keep-alive\n\n"),
	D(S2C, "HTTP/1.1 200 OK\nContent-Length:   3  \nConnection: keep-alive, Upgrade-ish\n\nxyz"),
	D(C2S, "\nGET /x HTTP/1.1\r\nConnection: a,\r\nConnection: close\r\n\r\n"),
	D(S2C, "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: \"x\"\r\n\r\n"),
	FIN(S2C),
};

/* Start lines only a lenient server reads (nginx, HAProxy serve them). */
static const struct piece ex_tolerated[] = {
	D(C2S, "\r\n\r\nGET        /ws-run HTTP/1.1\r\nHost: h\r\n\r\n"
	       "GET  /  HTTP/1.1  \r\nHost: h\r\n\r\nGET\t/tab\tHTTP/1.10\r\n\r\n"),
	D(S2C, "HTTP/1.1  200 OK\r\nContent-Length: 1\r\n\r\nx"
	       "HTTP/1.1 200\tOK\r\nContent-Length: 0\r\n\r\n"
	       "\nHTTP/1.1 204 No Content\n\n"),
	D(C2S, "GET /v2 HTTP/2.0\r\nConnection: close\r\n\r\n"),
	D(S2C, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"),
	FIN(S2C),
};

static void
test_cuts_tolerated(void)
{
	check_cut_invariance(ex_tolerated, sizeof(ex_tolerated) / sizeof(ex_tolerated[0]), 0, 6);
}

static void
test_cuts_keepalive_11(void)
{
	check_cut_invariance(ex_keepalive_11, sizeof(ex_keepalive_11) / sizeof(ex_keepalive_11[0]),
			     0, 8);
}

static void
test_cuts_keepalive_10(void)
{
	check_cut_invariance(ex_keepalive_10, sizeof(ex_keepalive_10) / sizeof(ex_keepalive_10[0]),
			     0, 4);
}

static void
test_cuts_pipelined(void)
{
	check_cut_invariance(ex_pipelined, sizeof(ex_pipelined) / sizeof(ex_pipelined[0]), 0, 10);
}

static void
test_cuts_lenient(void)
{
	check_cut_invariance(ex_lenient, sizeof(ex_lenient) / sizeof(ex_lenient[0]), 0, 4);
}

/* ---- the uncut exchanges, read closely ------------------------------------ */

static struct kapa_http *T;	/* shared tracker of the single-case tests */

static void
run(const struct piece *ps, unsigned n)
{
	run_script(T, ps, n, NULL, 0, 0);
}

#define RUN(arr) run(arr, sizeof(arr) / sizeof(arr[0]))

static void
test_exchange_11(void)
{
	RUN(ex_keepalive_11);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 8);
	CU_ASSERT(msgs[0].is_request && msgs[0].persistent);
	CU_ASSERT_STRING_EQUAL(msgs[0].method, "GET");
	CU_ASSERT_STRING_EQUAL(msgs[0].target, "/index.html");
	CU_ASSERT_STRING_EQUAL(msgs[0].version, "1.1");
	CU_ASSERT_STRING_EQUAL(msgs[0].tokens, "keep-alive");
	/* Apache's shape: keep-alive with timeout and max. */
	CU_ASSERT(!msgs[1].is_request && msgs[1].status == 200 && msgs[1].persistent);
	CU_ASSERT(msgs[1].has_t && msgs[1].t == 5 && msgs[1].has_m && msgs[1].m == 100);
	CU_ASSERT(msgs[1].ka_effective);
	CU_ASSERT_STRING_EQUAL(msgs[1].ka_raw, "timeout=5, max=100");
	CU_ASSERT_STRING_EQUAL(msgs[1].tokens, "Keep-Alive");
	CU_ASSERT(msgs[1].body == KAPA_BODY_LENGTH && msgs[1].content_length == 12);
	CU_ASSERT(msgs[2].body == KAPA_BODY_LENGTH && msgs[2].content_length == 7);
	CU_ASSERT(msgs[2].index == 1);
	/* chunked; the Connection: close in its trailers is not a Connection field */
	CU_ASSERT(msgs[3].body == KAPA_BODY_CHUNKED && msgs[3].persistent);
	/* the response to HEAD has no body despite its Content-Length */
	CU_ASSERT(msgs[5].body == KAPA_BODY_NONE && msgs[5].persistent);
	CU_ASSERT(!msgs[6].persistent && (msgs[6].conn_flags & KAPA_HTTP_CONN_CLOSE));
	CU_ASSERT(msgs[7].status == 204 && !msgs[7].persistent);
	CU_ASSERT_EQUAL(nends, 8);
	CU_ASSERT_EQUAL(nleaves, 0);
}

static void
test_exchange_10(void)
{
	RUN(ex_keepalive_10);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 4);
	CU_ASSERT(msgs[0].persistent);		/* 1.0 asking keep-alive */
	CU_ASSERT(msgs[1].persistent && msgs[1].ka_effective);
	CU_ASSERT(msgs[1].t == 5 && msgs[1].m == 100);
	CU_ASSERT_STRING_EQUAL(msgs[1].version, "1.0");
	CU_ASSERT(!msgs[2].persistent);		/* 1.0 without keep-alive */
	CU_ASSERT(msgs[3].body == KAPA_BODY_CLOSE && !msgs[3].persistent);
	/* the close-delimited body ends with the server's FIN */
	CU_ASSERT_EQUAL(nends, 4);
}

static void
test_interim_and_pipelining(void)
{
	RUN(ex_pipelined);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 10);
	/* 3 requests in one delivery */
	CU_ASSERT(msgs[0].is_request && msgs[1].is_request && msgs[2].is_request);
	CU_ASSERT_STRING_EQUAL(msgs[2].method, "HEAD");
	/* 103 counts as a message; the 200 after it answers /a */
	CU_ASSERT(msgs[3].status == 103 && msgs[3].index == 0);
	CU_ASSERT(msgs[4].status == 200 && msgs[4].index == 1 && msgs[4].content_length == 3);
	CU_ASSERT(msgs[5].status == 404 && msgs[5].body == KAPA_BODY_LENGTH);
	/* answer to HEAD: CL and TE present, no body, no leave */
	CU_ASSERT(msgs[6].status == 200 && msgs[6].body == KAPA_BODY_NONE);
	CU_ASSERT(msgs[8].status == 100);
	CU_ASSERT(msgs[9].status == 200 && msgs[9].content_length == 2);
	CU_ASSERT_EQUAL(kapa_http_stats(T)->leave[KAPA_LEAVE_CL_TE], 0);
	CU_ASSERT_EQUAL(nleaves, 0);
}

/* ---- single adversarial cases ---------------------------------------------- */

static void
one(const char *c2s, const char *s2c)
{
	struct piece ps[2] = { D(C2S, c2s), D(S2C, s2c) };

	run(ps, s2c != NULL ? 2 : 1);
}

static void
test_keepalive_close_one_line(void)
{
	one("GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_EQUAL_FATAL(nmsgs, 2);
	CU_ASSERT(!msgs[0].persistent);
	CU_ASSERT_STRING_EQUAL(msgs[0].tokens, "keep-alive|close");
	CU_ASSERT(!msgs[1].persistent);	/* the request's close wins */
	/* HTTP/1.0 too: close wins over keep-alive (llhttp gets this wrong) */
	one("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
	    "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_EQUAL_FATAL(nmsgs, 2);
	CU_ASSERT(!msgs[0].persistent && !msgs[1].persistent);
}

static void
test_keepalive_close_two_lines(void)
{
	one("GET / HTTP/1.1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n");
	CU_ASSERT_EQUAL_FATAL(nmsgs, 2);
	CU_ASSERT(msgs[0].persistent);
	CU_ASSERT(!msgs[1].persistent);
	CU_ASSERT_STRING_EQUAL(msgs[1].tokens, "keep-alive|close");
	CU_ASSERT(!msgs[1].ka_effective);
}

static void
test_token_edges(void)
{
	one("GET / HTTP/1.1\r\nConnection: CLOSE\r\n\r\n", NULL);
	CU_ASSERT(nmsgs == 1 && !msgs[0].persistent);
	one("GET / HTTP/1.1\r\nConnection: Close\t\r\n\r\n", NULL);
	CU_ASSERT(nmsgs == 1 && !msgs[0].persistent);
	CU_ASSERT_STRING_EQUAL(msgs[0].tokens, "Close");
	one("GET / HTTP/1.1\r\nConnection: ,,close\r\n\r\n", NULL);
	CU_ASSERT(nmsgs == 1 && !msgs[0].persistent);
	one("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", NULL);
	CU_ASSERT(nmsgs == 1 && msgs[0].persistent);
	one("GET / HTTP/1.1\r\nConnection: close;x\r\n\r\n", NULL);
	CU_ASSERT(nmsgs == 1 && msgs[0].persistent);
	/* Proxy-Connection is another field */
	one("GET / HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\n", NULL);
	CU_ASSERT(nmsgs == 1 && !msgs[0].persistent && msgs[0].ntokens == 0);
	/* a longer name is another field */
	one("GET / HTTP/1.1\r\nConnection-Id: close\r\nContent-Lengthy: 5\r\n\r\n", NULL);
	CU_ASSERT(nmsgs == 1 && msgs[0].persistent && msgs[0].ntokens == 0 &&
		  msgs[0].body == KAPA_BODY_NONE);
	/* field names are case-insensitive */
	one("GET / HTTP/1.0\r\ncOnNeCtIoN: Keep-Alive\r\n\r\n", NULL);
	CU_ASSERT(nmsgs == 1 && msgs[0].persistent);
}

static void
expect_leave(enum kapa_http_leave why)
{
	CU_ASSERT_EQUAL(nleaves, 1);
	CU_ASSERT_EQUAL(last_leave, (int)why);
	if (last_leave != (int)why)
		fprintf(stderr, "\nleave %s expected, report:\n%s", kapa_http_leave_name(why), lg);
}

static void
test_obs_fold(void)
{
	/* in a framing field: leave */
	one("POST / HTTP/1.1\r\nContent-Length:\r\n 5\r\n\r\nhello", NULL);
	expect_leave(KAPA_LEAVE_OBS_FOLD);
	one("GET / HTTP/1.1\r\nConnection: keep-alive,\r\n\tclose\r\n\r\n", NULL);
	expect_leave(KAPA_LEAVE_OBS_FOLD);
	/* in another field: tolerated */
	one("GET / HTTP/1.1\r\nX-A: b\r\n c\r\nHost: h\r\n\r\n", NULL);
	CU_ASSERT(nmsgs == 1 && nleaves == 0);
}

#define TOL(t) (1u << KAPA_HTTP_TOL_##t)

/* One request and its response; @return the request's tolerances, the
 * pair read as one persistent exchange with the response paired. */
static uint16_t
tolerated_request(const char *c2s)
{
	one(c2s, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_EQUAL_FATAL(nmsgs, 2);
	CU_ASSERT(msgs[0].is_request && !msgs[1].is_request);
	CU_ASSERT(!msgs[1].pair_unsure && msgs[1].tolerated == 0 && nleaves == 0);
	return msgs[0].tolerated;
}

static void
test_tolerances_request_line(void)
{
	const struct kapa_http_stats *st = kapa_http_stats(T);
	uint64_t before[KAPA_HTTP_TOL_MAX];
	unsigned i;

	memcpy(before, st->tolerated, sizeof(before));
	/* well-formed: nothing needed */
	CU_ASSERT_EQUAL(tolerated_request("GET /x HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
	/* issue 14: a run of spaces between method and target */
	CU_ASSERT_EQUAL(tolerated_request("GET      /x HTTP/1.1\r\nHost: h\r\n\r\n"), TOL(WS_RUN));
	CU_ASSERT_STRING_EQUAL(msgs[0].method, "GET");
	CU_ASSERT_STRING_EQUAL(msgs[0].target, "/x");
	CU_ASSERT_STRING_EQUAL(msgs[0].version, "1.1");
	CU_ASSERT(msgs[0].persistent && msgs[1].persistent);
	/* nginx serves these two */
	CU_ASSERT_EQUAL(tolerated_request("GET  /  HTTP/1.1\r\nHost: h\r\n\r\n"), TOL(WS_RUN));
	CU_ASSERT_EQUAL(tolerated_request("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), TOL(TRAILING_WS));
	CU_ASSERT_STRING_EQUAL(msgs[0].version, "1.1");
	/* HAProxy serves tabs */
	CU_ASSERT_EQUAL(tolerated_request("GET\t/x\tHTTP/1.1\r\n\r\n"), TOL(HTAB));
	CU_ASSERT_EQUAL(tolerated_request("GET \t/x HTTP/1.1\r\n\r\n"), TOL(HTAB) | TOL(WS_RUN));
	CU_ASSERT_EQUAL(tolerated_request("\r\n\nGET / HTTP/1.1\r\n\r\n"), TOL(LEADING_EMPTY));
	CU_ASSERT_EQUAL(tolerated_request("GET / HTTP/1.1\nHost: h\n\n"), TOL(BARE_LF));
	/* nginx reads the version as numbers: 1.10 persists */
	CU_ASSERT_EQUAL(tolerated_request("GET / HTTP/1.10\r\n\r\n"), TOL(VERSION_DIGITS));
	CU_ASSERT(msgs[0].persistent);
	CU_ASSERT_STRING_EQUAL(msgs[0].version, "1.10");
	/* HAProxy serves HTTP/2.0 on an HTTP/1.x connection as 1.1 */
	CU_ASSERT_EQUAL(tolerated_request("GET / HTTP/2.0\r\n\r\n"), TOL(VERSION_MAJOR));
	CU_ASSERT(msgs[0].persistent);
	CU_ASSERT_STRING_EQUAL(msgs[0].version, "2.0");
	/* a known method without a version: HTTP/1.0, as before, now counted */
	CU_ASSERT_EQUAL(tolerated_request("GET /\r\nHost: h\r\n\r\n"), TOL(NO_VERSION));
	CU_ASSERT(!msgs[0].persistent);
	for (i = 0; i < KAPA_HTTP_TOL_MAX; i++)
		CU_ASSERT(st->tolerated[i] > before[i]);
	CU_ASSERT_EQUAL(st->tolerated[KAPA_HTTP_TOL_WS_RUN] - before[KAPA_HTTP_TOL_WS_RUN], 3);
	/* the h2 preface is not a tolerated request */
	one("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", NULL);
	expect_leave(KAPA_LEAVE_H2_PREFACE);
	/* still refused: a method and whitespace, an unknown method without
	 * version, a lower-case version (no server serves them) */
	one("GET  \r\n\r\n", "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT(nmsgs == 1 && !msgs[0].is_request && msgs[0].pair_unsure);
	one("FOO  /x\r\n\r\n", "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT(nmsgs == 1 && !msgs[0].is_request);
	one("GET / http/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT(nmsgs == 1 && !msgs[0].is_request);
}

static void
test_tolerances_status_line(void)
{
	one("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_EQUAL_FATAL(nmsgs, 2);
	CU_ASSERT(msgs[1].status == 200 && msgs[1].tolerated == TOL(WS_RUN) && msgs[1].persistent);
	one("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1\t204\tNo Content\r\n\r\n");
	CU_ASSERT_EQUAL_FATAL(nmsgs, 2);
	CU_ASSERT(msgs[1].status == 204 && msgs[1].tolerated == TOL(HTAB));
	one("GET / HTTP/1.1\r\n\r\n", "\r\nHTTP/1.1 204 No Content\r\n\r\n");
	CU_ASSERT_EQUAL_FATAL(nmsgs, 2);
	CU_ASSERT(msgs[1].tolerated == TOL(LEADING_EMPTY));
	/* "200 OK" with a space inside the reason: well-formed */
	one("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200  OK\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT(nmsgs == 2 && msgs[1].tolerated == 0);
}

/* Smuggling ground stays refused, a tolerance or not: conflicting or folded
 * framing leaves tracking as before, counted by its reason. */
static void
test_tolerances_no_framing(void)
{
	one("POST  / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", NULL);
	expect_leave(KAPA_LEAVE_CL_TE);
	CU_ASSERT(nmsgs == 1 && msgs[0].tolerated == TOL(WS_RUN) && msgs[0].body == KAPA_BODY_NONE);
	one("POST / HTTP/1.1 \r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", NULL);
	expect_leave(KAPA_LEAVE_BAD_CL);
	one("POST\t/ HTTP/1.1\r\nContent-Length:\r\n 3\r\n\r\nabc", NULL);
	expect_leave(KAPA_LEAVE_OBS_FOLD);
}

static void
test_ws_before_colon(void)
{
	one("POST / HTTP/1.1\r\nContent-Length : 5\r\n\r\nhello", NULL);
	expect_leave(KAPA_LEAVE_BAD_FIELD);
	one("GET / HTTP/1.1\r\nConnection\t: close\r\n\r\n", NULL);
	expect_leave(KAPA_LEAVE_BAD_FIELD);
}

static void
test_ws_before_first_field(void)
{
	one("GET / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: h\r\n\r\n", NULL);
	expect_leave(KAPA_LEAVE_BAD_FIELD);
	CU_ASSERT_EQUAL(nmsgs, 0);
}

static void
test_bare_lf_bare_cr_leading_lines(void)
{
	one("\r\n\n\r\nGET / HTTP/1.1\nHost: h\nConnection: close\n\n", NULL);
	CU_ASSERT(nmsgs == 1 && nleaves == 0 && !msgs[0].persistent);
	CU_ASSERT_EQUAL(msgs[0].off, 5);
	/* a bare CR that would hide a framing field from us */
	one("POST / HTTP/1.1\r\nHost: h\rContent-Length: 5\r\n\r\nhello", NULL);
	expect_leave(KAPA_LEAVE_BARE_CR);
	one("POST / HTTP/1.1\r\nX: y\rtransfer-encoding: chunked\r\n\r\n", NULL);
	expect_leave(KAPA_LEAVE_BARE_CR);
	/* in a framing or persistence value */
	one("GET / HTTP/1.1\r\nContent-Length: 0\r\r\n\r\n", NULL);
	expect_leave(KAPA_LEAVE_BARE_CR);
	one("GET / HTTP/1.1\r\nConnection: keep-alive\rclose\r\n\r\n", NULL);
	expect_leave(KAPA_LEAVE_BARE_CR);
	/* in the start line */
	one("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 O\rK\r\nContent-Length: 0\r\n\r\n");
	expect_leave(KAPA_LEAVE_BARE_CR);
	/* elsewhere: tolerated (RFC 9112 §2.2 lets a recipient read it as SP) */
	one("GET / HTTP/1.1\r\nUser-Agent: a\rb\r\nConnection: close\r\n\r\n", NULL);
	CU_ASSERT(nmsgs == 1 && nleaves == 0 && !msgs[0].persistent);
}

static void
test_cl_te_both_orders(void)
{
	one("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", NULL);
	expect_leave(KAPA_LEAVE_CL_TE);
	one("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", NULL);
	expect_leave(KAPA_LEAVE_CL_TE);
	one("GET / HTTP/1.1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n");
	expect_leave(KAPA_LEAVE_CL_TE);
	/* the header block is still reported, without a body */
	CU_ASSERT(nmsgs == 2 && msgs[1].body == KAPA_BODY_NONE && !msgs[1].persistent);
}

static void
test_cl_variants(void)
{
	one("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n", NULL);
	CU_ASSERT(nmsgs == 2 && nleaves == 0 && msgs[0].content_length == 5);
	one("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", NULL);
	CU_ASSERT(nmsgs == 1 && nleaves == 0);
	one("POST / HTTP/1.1\r\nContent-Length: 005\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n", NULL);
	CU_ASSERT(nmsgs == 2 && nleaves == 0);
	one("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", NULL);
	expect_leave(KAPA_LEAVE_BAD_CL);
	one("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello", NULL);
	expect_leave(KAPA_LEAVE_BAD_CL);
	one("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", NULL);
	expect_leave(KAPA_LEAVE_BAD_CL);
	one("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", NULL);
	expect_leave(KAPA_LEAVE_BAD_CL);
	one("POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n", NULL);
	expect_leave(KAPA_LEAVE_BAD_CL);
}

static void
test_te_variants(void)
{
	/* request: final coding must be chunked */
	one("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
	    "GET / HTTP/1.1\r\n\r\n", NULL);
	CU_ASSERT(nmsgs == 2 && nleaves == 0 && msgs[0].body == KAPA_BODY_CHUNKED);
	one("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", NULL);
	expect_leave(KAPA_LEAVE_BAD_TE);
	/* two TE lines combine */
	one("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\n\r\n", NULL);
	CU_ASSERT(nmsgs == 1 && nleaves == 0 && nends == 1);
	one("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	    NULL);
	expect_leave(KAPA_LEAVE_BAD_TE);
	/* TE on HTTP/1.0: faulty framing */
	one("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", NULL);
	expect_leave(KAPA_LEAVE_BAD_TE);
	/* response: not ending in chunked => close-delimited */
	one("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nxx");
	CU_ASSERT(nmsgs == 2 && nleaves == 0 && msgs[1].body == KAPA_BODY_CLOSE &&
		  !msgs[1].persistent);
}

static void
test_chunk_grammar(void)
{
	one("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "a\r\n0123456789\r\nA;x=y\r\n0123456789\r\n0000F\r\n0123456789abcde\r\n"
	    "1\n!\n0\n\nGET /n HTTP/1.1\r\n\r\n", NULL);
	CU_ASSERT(nmsgs == 2 && nleaves == 0 && nends == 2);
	CU_ASSERT_EQUAL(kapa_http_stats(T)->leave[KAPA_LEAVE_BAD_CHUNK], 0);
	one("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000001\r\n", NULL);
	expect_leave(KAPA_LEAVE_BAD_CHUNK);
	one("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n", NULL);
	expect_leave(KAPA_LEAVE_BAD_CHUNK);	/* missing CRLF after data */
	one("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", NULL);
	expect_leave(KAPA_LEAVE_BAD_CHUNK);
	/* trailers, then the next message */
	one("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\nC: d\r\n\r\n"
	    "GET / HTTP/1.1\r\n\r\n", NULL);
	CU_ASSERT(nmsgs == 2 && nleaves == 0);
}

static void
test_no_body_responses(void)
{
	struct piece ps[] = {
		D(C2S, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nHEAD /3 HTTP/1.1\r\n\r\n"),
		D(S2C, "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
		       "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"
		       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 7\r\n\r\n"
		       "HTTP/1.1 200 OK\r\n\r\n"),
	};

	RUN(ps);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 7);
	CU_ASSERT(msgs[3].body == KAPA_BODY_NONE && msgs[3].persistent);
	CU_ASSERT(msgs[4].body == KAPA_BODY_NONE && msgs[4].persistent);
	CU_ASSERT(msgs[5].body == KAPA_BODY_NONE && msgs[5].persistent);
	/* an unsolicited final response: close-delimited */
	CU_ASSERT(msgs[6].body == KAPA_BODY_CLOSE);
	CU_ASSERT_EQUAL(nleaves, 0);
}

static void
test_interim_before_final(void)
{
	one("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
	    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: <a>\r\n\r\n"
	    "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_EQUAL_FATAL(nmsgs, 5);
	CU_ASSERT(msgs[1].status == 100 && msgs[2].status == 103 && msgs[3].status == 102);
	CU_ASSERT(msgs[4].status == 200 && msgs[4].index == 3 && msgs[4].persistent);
	CU_ASSERT_EQUAL(nleaves, 0);
}

static void
test_upgrade_101(void)
{
	uint64_t before = kapa_http_stats(T)->leave[KAPA_LEAVE_UPGRADE];

	one("GET /chat HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
	    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
	    "\x81\x05hello");
	expect_leave(KAPA_LEAVE_UPGRADE);
	CU_ASSERT_EQUAL(nmsgs, 2);
	CU_ASSERT(msgs[0].conn_flags & KAPA_HTTP_CONN_UPGRADE);
	CU_ASSERT_EQUAL(kapa_http_stats(T)->leave[KAPA_LEAVE_UPGRADE], before + 1);
}

static void
test_connect(void)
{
	struct piece ps[] = {
		D(C2S, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
		       "\x16\x03\x01\x02\x00"),
		D(S2C, "HTTP/1.1 200 Connection Established\r\n\r\n\x16\x03\x03"),
	};
	struct piece refused[] = {
		D(C2S, "CONNECT example.com:443 HTTP/1.1\r\n\r\n"),
		D(S2C, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"),
		D(C2S, "CONNECT example.com:443 HTTP/1.1\r\nProxy-Authorization: x\r\n\r\n"),
		D(S2C, "HTTP/1.1 200 OK\r\n\r\n"),
	};

	RUN(ps);
	expect_leave(KAPA_LEAVE_CONNECT);
	CU_ASSERT_EQUAL(nmsgs, 2);	/* the optimistic TLS bytes were not parsed */
	RUN(refused);
	expect_leave(KAPA_LEAVE_CONNECT);
	CU_ASSERT_EQUAL(nmsgs, 4);
}

static void
test_h2_preface(void)
{
	one("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04", NULL);
	expect_leave(KAPA_LEAVE_H2_PREFACE);
	CU_ASSERT_EQUAL(nmsgs, 0);
}

static void
test_not_http(void)
{
	/* One unreadable side waits for the other; both: not HTTP. */
	one("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", NULL);
	CU_ASSERT_EQUAL(nleaves, 0);
	one("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", "\x16\x03\x03\x00\x5d\x02");
	expect_leave(KAPA_LEAVE_NOT_HTTP);
	one("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "SSH-2.0-OpenSSH_8.4p1\r\n");
	expect_leave(KAPA_LEAVE_NOT_HTTP);
	/* HTTP/0.9: a request line without a header block never completes;
	 * the answer is not HTTP: that side looks for a resync point */
	one("GET /\r\n", "<html>hello</html>");
	CU_ASSERT_EQUAL(nmsgs, 0);
	CU_ASSERT_EQUAL(nleaves, 0);
	/* decided when the start line is whole, before any end of block */
	one("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "HTTP/1.1 200 OK\r\n");
	CU_ASSERT_EQUAL(nleaves, 0);
	one("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "SSH-2.0-OpenSSH_8.4p1\r\n");
	expect_leave(KAPA_LEAVE_NOT_HTTP);
}

static void
test_evasion_request_lines(void)
{
	/* Request lines no server accepts; the server's answer is HTTP and
	 * is reported, as tshark does. */
	one("OPTIONS HTTP/1.1\nHost: www.google.com\n\n",
	    "HTTP/1.0 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad");
	CU_ASSERT_EQUAL_FATAL(nmsgs, 2);
	CU_ASSERT_STRING_EQUAL(msgs[0].target, "HTTP/1.1");
	CU_ASSERT(msgs[0].version[0] == 0 && !msgs[0].persistent);
	CU_ASSERT(msgs[1].status == 400 && !msgs[1].persistent);
	one("GET / HTTP/1.\nHost: h\n\n", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_EQUAL_FATAL(nmsgs, 2);
	CU_ASSERT_STRING_EQUAL(msgs[0].version, "1.");
	CU_ASSERT_EQUAL(nleaves, 0);
	/* not a request at all: only the response */
	one("OPTIONSHTTP/1.1\nHost: www.google.com\n\n",
	    "HTTP/1.0 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad");
	CU_ASSERT_EQUAL_FATAL(nmsgs, 1);
	CU_ASSERT(!msgs[0].is_request && msgs[0].status == 400);
	CU_ASSERT_EQUAL(nleaves, 0);
	/* a later unreadable request (an unannounced body): the request side
	 * looks for a resync point, the responses are still framed */
	one("POST /login HTTP/1.1\r\nHost: h\r\n\r\nlogin=foo&password=bar",
	    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	    "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_EQUAL(nmsgs, 3);
	CU_ASSERT_EQUAL(nleaves, 0);
	/* both sides lost: tracking ends */
	one("GET / HTTP/1.1\r\n\r\n\x16\x03\x01\x00",
	    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n\x16\x03\x03");
	expect_leave(KAPA_LEAVE_BAD_START_LINE);
}

static void
test_close_delimited(void)
{
	struct piece ps[] = {
		D(C2S, "GET / HTTP/1.1\r\n\r\n"),
		D(S2C, "HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
		FIN(S2C),
	};

	RUN(ps);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 2);
	/* the body until FIN is not parsed, however HTTP-like */
	CU_ASSERT(msgs[1].body == KAPA_BODY_CLOSE && !msgs[1].persistent);
	CU_ASSERT_EQUAL(nends, 2);
	CU_ASSERT_EQUAL(nleaves, 0);
}

static void
test_bytes_after_close(void)
{
	uint64_t before = kapa_http_stats(T)->after_close;

	one("GET /1 HTTP/1.1\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx");
	CU_ASSERT_EQUAL_FATAL(nmsgs, 3);
	CU_ASSERT(!msgs[0].persistent && msgs[1].persistent && !msgs[2].persistent);
	/* the pipelined request after a close is still framed, and counted;
	 * the response to the closing request is not late */
	CU_ASSERT_EQUAL(kapa_http_stats(T)->after_close, before + 1);
	CU_ASSERT_EQUAL(nleaves, 0);
}

static void
test_http10_keepalive_params(void)
{
	one("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	    "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5, max=100\r\n"
	    "Content-Length: 0\r\n\r\n");
	CU_ASSERT_FATAL(nmsgs == 2);
	CU_ASSERT(msgs[1].persistent && msgs[1].t == 5 && msgs[1].m == 100 && msgs[1].ka_effective);
	/* max=0 is a valid value */
	one("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\nConnection: Keep-Alive\r\n"
	    "Keep-Alive: timeout=5, max=0\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT(nmsgs == 2 && msgs[1].has_m && msgs[1].m == 0);
	/* 1.0 response without keep-alive: not persistent */
	one("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	    "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT(nmsgs == 2 && msgs[0].persistent && !msgs[1].persistent);
	/* 1.1 response to a 1.0 request that did not ask: not persistent */
	one("GET / HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT(nmsgs == 2 && !msgs[1].persistent);
}

static void
test_keepalive_malformed_duplicate(void)
{
	uint64_t bad = kapa_http_stats(T)->ka_bad_param;

	one("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
	    "Keep-Alive: timeout=abc, max=5, max=6\r\nKeep-Alive: timeout=\"7\"\r\n"
	    "Content-Length: 0\r\n\r\n");
	CU_ASSERT_FATAL(nmsgs == 2);
	CU_ASSERT(msgs[1].has_t && msgs[1].t == 7 && msgs[1].m == 5);
	CU_ASSERT_EQUAL(msgs[1].nka, 2);
	CU_ASSERT_STRING_EQUAL(msgs[1].ka_raw, "timeout=abc, max=5, max=6|timeout=\"7\"");
	CU_ASSERT_EQUAL(kapa_http_stats(T)->ka_bad_param, bad + 2);
	/* the old "Keep-Alive: 300" form */
	one("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
	    "Keep-Alive: 300\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT(nmsgs == 2 && msgs[1].has_t && msgs[1].t == 300);
	CU_ASSERT_EQUAL(kapa_http_stats(T)->ka_bad_param, bad + 2);
}

static void
test_keepalive_without_connection(void)
{
	uint64_t before = kapa_http_stats(T)->ka_without_conn;

	one("GET / HTTP/1.1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_FATAL(nmsgs == 2);
	CU_ASSERT(msgs[1].has_t && !msgs[1].ka_effective);
	CU_ASSERT_EQUAL(kapa_http_stats(T)->ka_without_conn, before + 1);
}

static void
test_pipeline_depth(void)
{
	struct kapa_http *h = tracker(0, 0, 4);
	struct harness t;
	int i;

	uint64_t over = kapa_http_stats(h)->pipeline_overflow;

	/* A fifth and sixth request find the FIFO (depth 4) full: still
	 * tracked and counted; the four queued ones keep their pairing (a
	 * HEAD among them: its 200 has no body), the two past them are
	 * judged on their own. */
	log_reset();
	h_open(&t, h, 0);
	h_str(&t, C2S, "GET / HTTP/1.1\r\n\r\n");
	h_str(&t, C2S, "HEAD / HTTP/1.1\r\n\r\n");
	h_str(&t, C2S, "GET / HTTP/1.1\r\n\r\n");
	h_str(&t, C2S, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
	h_str(&t, C2S, "GET /5 HTTP/1.1\r\n\r\n");
	h_str(&t, C2S, "GET /6 HTTP/1.1\r\n\r\n");
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL(nmsgs, 6);
	CU_ASSERT_EQUAL(kapa_http_stats(h)->pipeline_overflow, over + 2);
	h_str(&t, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"
		       "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
		       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
		       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
		       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
		       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_FATAL(nmsgs == 12);
	for (i = 6; i < 10; i++)
		CU_ASSERT(!msgs[i].pair_unsure);
	CU_ASSERT(msgs[7].body == KAPA_BODY_NONE);	/* the HEAD's */
	CU_ASSERT(msgs[8].persistent);
	CU_ASSERT(!msgs[9].persistent);		/* its request said close */
	CU_ASSERT(msgs[10].pair_unsure && msgs[11].pair_unsure);
	h_close(&t);

	/* A HEAD that found the FIFO full: a later unpaired response with a
	 * body length cannot be framed without guessing (it may be the
	 * HEAD's), so the connection leaves tracking (gap), counted. */
	log_reset();
	h_open(&t, h, 0);
	for (i = 0; i < 4; i++)
		h_str(&t, C2S, "GET / HTTP/1.1\r\n\r\n");
	h_str(&t, C2S, "HEAD / HTTP/1.1\r\n\r\n");
	for (i = 0; i < 4; i++)
		h_str(&t, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_EQUAL(nleaves, 0);
	h_str(&t, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
	CU_ASSERT_FATAL(nmsgs == 10);
	CU_ASSERT(msgs[9].pair_unsure);
	expect_leave(KAPA_LEAVE_GAP);
	h_close(&t);
	/* responses drain the FIFO: 4 + 4 + 4 never exceed it */
	log_reset();
	h_open(&t, h, 0);
	for (i = 0; i < 12; i++) {
		h_str(&t, C2S, "GET / HTTP/1.1\r\n\r\n");
		if (i % 4 == 3)
			h_str(&t, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
				       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
				       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
				       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	}
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL(nmsgs, 24);
	h_close(&t);
	kapa_http_destroy(h);
}

static void
test_huge_header_block(void)
{
	struct kapa_http *h = tracker(4096, 4, 0);
	struct harness t;
	static char big[8192];
	uint32_t i, n;

	n = (uint32_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX-Big: ");
	memset(big + n, 'a', 5000);
	n += 5000;
	memcpy(big + n, "\r\n\r\n", 4);
	n += 4;
	/* whole: refused at once */
	log_reset();
	h_open(&t, h, 0);
	h_data(&t, C2S, big, n);
	expect_leave(KAPA_LEAVE_HEADER_TOO_BIG);
	h_close(&t);
	/* in 1-byte segments: refused at the limit, the buffer given back */
	log_reset();
	h_open(&t, h, 0);
	for (i = 0; i < n; i++)
		h_data(&t, C2S, big + i, 1);
	expect_leave(KAPA_LEAVE_HEADER_TOO_BIG);
	h_close(&t);
	CU_ASSERT(kapa_http_stats(h)->header_bytes <= 2 * 4096);
	kapa_http_destroy(h);
}

static void
test_thousands_of_field_lines(void)
{
	struct kapa_http *h = tracker(65536, 4, 0);
	struct harness t;
	static char big[65536];
	uint32_t n, i;

	n = (uint32_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
	for (i = 0; i < 3000; i++)
		n += (uint32_t)snprintf(big + n, sizeof(big) - n, "X-F%u: v\r\n", i);
	n += (uint32_t)snprintf(big + n, sizeof(big) - n, "Connection: close\r\n\r\n");
	log_reset();
	h_open(&t, h, 0);
	h_data(&t, C2S, big, n);
	CU_ASSERT(nmsgs == 1 && nleaves == 0 && !msgs[0].persistent);
	CU_ASSERT_EQUAL(kapa_http_stats(h)->scans, 1);	/* zero copy, one scan */
	CU_ASSERT_EQUAL(kapa_http_stats(h)->header_copies, 0);
	h_close(&t);

	/* thousands of Connection lines: too many located fields, refused */
	n = (uint32_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
	for (i = 0; i < 2000; i++)
		n += (uint32_t)snprintf(big + n, sizeof(big) - n, "Connection: x%u\r\n", i);
	n += (uint32_t)snprintf(big + n, sizeof(big) - n, "\r\n");
	log_reset();
	h_open(&t, h, 0);
	h_data(&t, C2S, big, n);
	expect_leave(KAPA_LEAVE_HEADER_TOO_BIG);
	h_close(&t);
	kapa_http_destroy(h);
}

static void
test_many_tiny_segments(void)
{
	struct kapa_http *h = tracker(0, 4, 0);
	struct harness t;
	static char big[16384];
	uint32_t n, i;
	const struct kapa_http_stats *s = kapa_http_stats(h);

	n = (uint32_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
	for (i = 0; i < 1000; i++)
		n += (uint32_t)snprintf(big + n, sizeof(big) - n, "X-F%u: v\r\n", i);
	n += (uint32_t)snprintf(big + n, sizeof(big) - n, "\r\n");
	log_reset();
	h_open(&t, h, 0);
	for (i = 0; i < n; i++)
		h_data(&t, C2S, big + i, 1);
	CU_ASSERT(nmsgs == 1 && nleaves == 0);
	/* Linear: the first byte scanned in place, then one scan of the
	 * completed block; no re-scan per segment. */
	CU_ASSERT_EQUAL(s->scans, 2);
	CU_ASSERT_EQUAL(s->header_bytes, (uint64_t)n + 1);
	CU_ASSERT_EQUAL(s->header_copies, 1);
	h_close(&t);
	kapa_http_destroy(h);
}

static void
test_no_buffer(void)
{
	struct kapa_http *h = tracker(0, 1, 0);
	struct harness a, b;

	log_reset();
	h_open(&a, h, 0);
	h_open(&b, h, 0);
	h_str(&a, C2S, "GET / HTTP/1.1\r\nHo");
	h_str(&b, C2S, "GET / HTTP/1.1\r\nHo");
	expect_leave(KAPA_LEAVE_NO_BUFFER);
	h_str(&a, C2S, "st: h\r\n\r\n");
	CU_ASSERT_EQUAL(nmsgs, 1);
	/* the buffer is back: a third connection can split a block */
	h_close(&b);
	h_open(&b, h, 0);
	h_str(&b, C2S, "GET / HTTP/1.1\r\nHo");
	h_str(&b, C2S, "st: h\r\n\r\n");
	CU_ASSERT_EQUAL(nmsgs, 2);
	CU_ASSERT_EQUAL(nleaves, 1);
	h_close(&a);
	h_close(&b);
	kapa_http_destroy(h);
}

static void
test_buffer_released_on_close(void)
{
	struct kapa_http *h = tracker(0, 1, 0);
	struct harness a;
	int i;

	/* Open a block and close the connection, many times: with one buffer,
	 * a leak would show as NO_BUFFER on the second round. */
	for (i = 0; i < 3; i++) {
		log_reset();
		h_open(&a, h, 0);
		h_str(&a, C2S, "GET / HTTP/1.1\r\nHo");
		h_close(&a);
		CU_ASSERT_EQUAL(nleaves, 0);
	}
	CU_ASSERT_EQUAL(kapa_http_stats(h)->leave[KAPA_LEAVE_NO_BUFFER], 0);
	kapa_http_destroy(h);
}

/* ---- TCP-level cases, at the tracker's level ---------------------------- */

static void
test_gap_in_body_skipped(void)
{
	struct piece ps[] = {
		D(C2S, "POST / HTTP/1.1\r\nContent-Length: 20\r\n\r\n0123"),
		{ P_GAP, C2S, NULL, 10 },
		D(C2S, "456789GET /next HTTP/1.1\r\n\r\n"),
	};
	struct piece chunked[] = {
		D(C2S, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123"),
		{ P_GAP, C2S, NULL, 12 },
		D(C2S, "\r\n0\r\n\r\nGET /next HTTP/1.1\r\n\r\n"),
	};

	RUN(ps);
	CU_ASSERT(nmsgs == 2 && nleaves == 0 && nends == 2);
	CU_ASSERT_EQUAL(msgs[1].off, 59);
	RUN(chunked);
	CU_ASSERT(nmsgs == 2 && nleaves == 0 && nends == 2);
}

static void
test_gap_in_header_resyncs(void)
{
	uint64_t before = kapa_http_stats(T)->resync;
	struct piece ps[] = {
		D(C2S, "GET /1 HTTP/1.1\r\nHo"),
		{ P_GAP, C2S, NULL, 30 },
		D(C2S, "rest of a lost header\r\n\r\n"),	/* not a message start */
		D(C2S, "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"),
	};

	RUN(ps);
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 1);
	CU_ASSERT_STRING_EQUAL(msgs[0].target, "/2");
	CU_ASSERT_EQUAL(kapa_http_stats(T)->resync, before + 1);
}

static void
test_gap_past_body_end(void)
{
	struct piece ps[] = {
		D(C2S, "POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab"),
		{ P_GAP, C2S, NULL, 40 },	/* eats the body end and more */
		D(C2S, "ost: h\r\n\r\n"),
		D(C2S, "GET /ok HTTP/1.1\r\n\r\n"),
	};

	RUN(ps);
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 2);
	CU_ASSERT_STRING_EQUAL(msgs[1].target, "/ok");
}

static void
test_midstream_pickup(void)
{
	struct piece ps[] = {
		D(C2S, "dy of a request picked up mid-stream"),
		D(S2C, "ml>tail of a response body</html>"),
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),	/* its request was lost */
		D(C2S, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"),
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
	};

	run_script(T, ps, 5, NULL, 0, KAPA_CONN_MIDSTREAM | KAPA_CONN_ROLE_GUESSED);
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 3);
	CU_ASSERT(!msgs[0].is_request && msgs[1].is_request && !msgs[2].is_request);
	CU_ASSERT_EQUAL(msgs[2].index, 1);
}

static void
test_resync_split_start_line(void)
{
	/* replay FINDINGS F1: a connection picked up mid-stream whose first
	 * request line is long and cut across deliveries (a small MSS, a
	 * re-segmenting middlebox). The line is buffered until it ends and
	 * then judged, so the cut does not lose the message. */
	uint64_t before = kapa_http_stats(T)->resync;
	struct piece ps[] = {
		D(C2S, "GET /ping?h=ynet.co.il&p=%2Fhome%2F0%2C7340"),
		D(C2S, "%2CL-8%2C00.html&u=9ts0bcninmoxkwv1 HT"),
		D(C2S, "TP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n"),
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	};
	struct piece false_start[] = {
		D(C2S, "GET /in-a-body"),	/* looks like a start ... */
		D(C2S, " is not a start line\r\nGET /skipped HTTP/1.1\r\n\r\n"),
		D(C2S, "GET /next HTTP/1.1\r\n\r\n"),
	};

	run_script(T, ps, 4, NULL, 0, KAPA_CONN_MIDSTREAM | KAPA_CONN_ROLE_GUESSED);
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 2);
	CU_ASSERT(msgs[0].is_request && msgs[0].off == 0 && msgs[0].persistent);
	CU_ASSERT_STRING_EQUAL(msgs[0].version, "1.1");
	CU_ASSERT_EQUAL(kapa_http_stats(T)->resync, before + 2);
	/* fuzz_http_seg crash-7e5d790b (with the first version of this): a
	 * candidate that never ends its line ("hello", body bytes) must not
	 * swallow the next delivery when that one starts a message itself */
	{
		struct piece swallow[] = {
			D(C2S, "GET / HTTP/1.1\r\n\r\n"),
			D(S2C, "\x01garbage\r\n"),	/* unreadable: resync */
			D(S2C, "hello"),
			D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
		};

		RUN(swallow);
		CU_ASSERT_EQUAL(nleaves, 0);
		CU_ASSERT_EQUAL_FATAL(nmsgs, 2);
		CU_ASSERT(!msgs[1].is_request && msgs[1].status == 200);
	}
	/* ... is judged on its line: a false start skips its delivery, and
	 * the next delivery that starts a message resumes */
	run_script(T, false_start, 3, NULL, 0, KAPA_CONN_MIDSTREAM | KAPA_CONN_ROLE_GUESSED);
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 1);
	CU_ASSERT_STRING_EQUAL(msgs[0].target, "/next");
}

/*
 * A pickup whose first delivery is one byte of the request line: the held
 * candidate comes first and is judged first, on its whole line ("G", then
 * "ET / HTTP/1.1", is GET, not ET), as if the bytes had come in one piece.
 */
static void
test_resync_one_byte_first(void)
{
	static const char *const firsts[] = { "G", "P" };
	static const char *const rests[] = { "ET / HTTP/1.1\r\nHost: h\r\n\r\n",
		"OST /p HTTP/1.1\r\nContent-Length: 2\r\n\r\nok" };
	static const char *const methods[] = { "GET", "POST" };
	struct piece ps[3];
	unsigned i;

	for (i = 0; i < 2; i++) {
		ps[0] = (struct piece)D(C2S, firsts[i]);
		ps[1] = (struct piece)D(C2S, rests[i]);
		ps[2] = (struct piece)D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
		run_script(T, ps, 3, NULL, 0, KAPA_CONN_MIDSTREAM | KAPA_CONN_ROLE_GUESSED);
		CU_ASSERT_EQUAL(nleaves, 0);
		CU_ASSERT_EQUAL_FATAL(nmsgs, 2);
		CU_ASSERT_STRING_EQUAL(msgs[0].method, methods[i]);
		CU_ASSERT_EQUAL(msgs[0].off, 0);
		CU_ASSERT(!msgs[1].is_request && msgs[1].status == 200);
	}
	/* Earliest first whatever the next delivery looks like: "GE" then
	 * "GET / ..." is the one line "GEGET / HTTP/1.1", as uncut. */
	{
		struct piece ge[] = {
			D(C2S, "GE"),
			D(C2S, "GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
		};
		struct piece whole[] = { D(C2S, "GEGET / HTTP/1.1\r\nHost: h\r\n\r\n") };

		run_script(T, whole, 1, NULL, 0, KAPA_CONN_MIDSTREAM | KAPA_CONN_ROLE_GUESSED);
		CU_ASSERT_EQUAL_FATAL(nmsgs, 1);
		CU_ASSERT_STRING_EQUAL(msgs[0].method, "GEGET");
		run_script(T, ge, 2, NULL, 0, KAPA_CONN_MIDSTREAM | KAPA_CONN_ROLE_GUESSED);
		CU_ASSERT_EQUAL_FATAL(nmsgs, 1);
		CU_ASSERT_STRING_EQUAL(msgs[0].method, "GEGET");
	}
}

/*
 * Bytes that begin like a start line but never end their line within the
 * bound (2048 bytes): the candidate is given up, counted, and the
 * connection goes on unread (fail open) until a delivery starts a message.
 */
static void
test_resync_line_bound(void)
{
	struct kapa_http *h = tracker(0, 0, 0);
	uint64_t before = kapa_http_stats(h)->resync_line_dropped;
	struct harness t;
	char chunk[1001], big[3001];
	int i;

	memset(chunk, 'a', 1000);
	chunk[1000] = '\0';
	log_reset();
	h_open(&t, h, KAPA_CONN_MIDSTREAM | KAPA_CONN_ROLE_GUESSED);
	h_str(&t, C2S, "GET /");
	for (i = 0; i < 3; i++)
		h_str(&t, C2S, chunk);	/* past 2048 on the third */
	CU_ASSERT_EQUAL(kapa_http_stats(h)->resync_line_dropped, before + 1);
	CU_ASSERT_EQUAL(nmsgs, 0);
	CU_ASSERT_EQUAL(nleaves, 0);
	/* one delivery alone too long to be a start line: dropped at once */
	h_str(&t, C2S, " HTTP/1.1\r\n\r\n");
	memset(big, 'b', sizeof(big) - 1);
	memcpy(big, "GET /", 5);
	big[sizeof(big) - 1] = '\0';
	h_str(&t, C2S, big);
	CU_ASSERT_EQUAL(kapa_http_stats(h)->resync_line_dropped, before + 2);
	CU_ASSERT_EQUAL(nmsgs, 0);
	h_str(&t, C2S, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
	CU_ASSERT_EQUAL_FATAL(nmsgs, 1);
	CU_ASSERT_STRING_EQUAL(msgs[0].method, "GET");
	CU_ASSERT_STRING_EQUAL(msgs[0].target, "/x");
	h_close(&t);
	kapa_http_destroy(h);
}

static void
test_pickup_at_synack(void)
{
	/* Picked up at the SYN/ACK: roles known, streams start at byte 0, so
	 * a start line split across segments is not lost to a resync. */
	struct piece ps[] = {
		D(C2S, "GE"),
		D(C2S, "T / HTTP/1.1\r\nHost: h\r\n\r\n"),
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	};

	run_script(T, ps, 3, NULL, 0, KAPA_CONN_MIDSTREAM);
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL(nmsgs, 2);
}

static void
test_midstream_roles_swapped(void)
{
	/* The TCP core guessed the server as the client: content decides. */
	struct piece ps[] = {
		D(S2C, "GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
		D(C2S, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
	};

	run_script(T, ps, 2, NULL, 0, KAPA_CONN_ROLE_GUESSED);
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 2);
	CU_ASSERT(msgs[0].is_request && !msgs[1].is_request && msgs[1].persistent);
	/* with the handshake seen, roles are not guessed: refused */
	run_script(T, ps, 2, NULL, 0, 0);
	expect_leave(KAPA_LEAVE_NOT_HTTP);
}

static void
test_midstream_gives_up(void)
{
	/* The bound is in bytes looked at (6 MiB), not in deliveries, so that
	 * how the bytes were cut does not decide when it gives up. */
	static const char phrase[] = "opaque binary-ish stream bytes, no message starts here ";
	const uint64_t bound = 6u << 20;
	struct kapa_http *h = tracker(0, 0, 0);
	struct harness t;
	char chunk[1401];
	uint64_t seen;
	int i;

	for (i = 0; i < 1400; i++)
		chunk[i] = phrase[i % (sizeof(phrase) - 1)];
	chunk[1400] = '\0';
	log_reset();
	h_open(&t, h, KAPA_CONN_MIDSTREAM | KAPA_CONN_ROLE_GUESSED);
	for (i = 0; i < 10000 && nleaves == 0; i++)
		h_str(&t, C2S, chunk);
	expect_leave(KAPA_LEAVE_NOT_HTTP);	/* nothing HTTP was ever seen */
	seen = (uint64_t)i * 1400;
	CU_ASSERT(seen > bound && seen <= bound + 1400);	/* it kept looking */
	h_close(&t);
	/* after messages, a side lost for good: gap; in small pieces too */
	log_reset();
	h_open(&t, h, 0);
	h_str(&t, C2S, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
	h_event(&t, C2S, KAPA_EV_GAP, 100);
	for (i = 0; i < 200000 && nleaves == 0; i++)
		h_str(&t, C2S, phrase);
	expect_leave(KAPA_LEAVE_GAP);
	seen = (uint64_t)i * (sizeof(phrase) - 1);
	CU_ASSERT(seen > bound && seen <= bound + sizeof(phrase));
	h_close(&t);
	kapa_http_destroy(h);
}

static void
test_overlap_first_wins(void)
{
	/* A retransmission carried "Connection: close" where the first copy
	 * said keep-alive. The TCP core keeps the first copy and delivers
	 * each byte once; the tracker's decision follows those bytes. */
	one("GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", NULL);
	CU_ASSERT(nmsgs == 1 && msgs[0].persistent);
}

static void
test_urgent_data_in_band(void)
{
	/* Urgent data is part of the byte stream (no out-of-band channel):
	 * a byte sent urgent inside a header block is an ordinary byte. */
	struct piece ps[] = {
		D(C2S, "GET / HTTP/1.1\r\nX-Urg: !"),
		D(C2S, "\r\nConnection: close\r\n\r\n"),
	};

	RUN(ps);
	CU_ASSERT(nmsgs == 1 && nleaves == 0 && !msgs[0].persistent);
}

static void
test_out_of_order_hole(void)
{
	/* Out-of-order data reaches the tracker in order once the hole
	 * fills; a hole that never fills is a GAP: inside a header block it
	 * means resync, and the next message is found. */
	struct piece ps[] = {
		D(C2S, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"),
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Len"),
		{ P_GAP, S2C, NULL, 20 },
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	};

	RUN(ps);
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 2);
	CU_ASSERT(msgs[1].status == 200 && !msgs[1].is_request);
}

/* ---- pairing after lost bytes (docs/core-http.md, "Roles, resync, gaps") -- */

static void
test_gap_in_body_keeps_pairing(void)
{
	/* A gap that only eats body bytes of known length loses no message
	 * boundary: the HEAD after it is still known to its response. */
	struct piece ps[] = {
		D(C2S, "POST / HTTP/1.1\r\nContent-Length: 20\r\n\r\n0123"),
		{ P_GAP, C2S, NULL, 10 },
		D(C2S, "456789HEAD /h HTTP/1.1\r\n\r\n"),
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
		       "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
		       "HTTP/1.1 204 No Content\r\n\r\n"),
	};

	RUN(ps);
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 5);
	CU_ASSERT(!msgs[3].pair_unsure && msgs[3].body == KAPA_BODY_NONE);
	CU_ASSERT_EQUAL(msgs[4].status, 204);	/* found: HEAD's body was none */
	CU_ASSERT(!msgs[4].pair_unsure);
}

static void
test_request_gap_keeps_earlier_pairs(void)
{
	/* Requests lost in a gap come after those already in flight: the
	 * HEAD seen before the gap keeps its pairing; the response after it
	 * answers a lost request, so it is judged on its own and marked. */
	uint64_t before = kapa_http_stats(T)->pair_unsure;
	struct piece ps[] = {
		D(C2S, "HEAD /h HTTP/1.1\r\nHost: h\r\n\r\nGET /lost HTTP/1.0\r\nHo"),
		{ P_GAP, C2S, NULL, 50 },
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
		       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
	};

	RUN(ps);
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 3);
	CU_ASSERT(!msgs[1].pair_unsure && msgs[1].body == KAPA_BODY_NONE);
	CU_ASSERT(msgs[2].pair_unsure);
	/* the lost request was 1.0 without keep-alive; unknown, so the
	 * response's own view (1.1: persists) is all there is */
	CU_ASSERT(msgs[2].persistent);
	CU_ASSERT_EQUAL(msgs[2].body, KAPA_BODY_LENGTH);
	CU_ASSERT_EQUAL(nends, 3);
	CU_ASSERT_EQUAL(kapa_http_stats(T)->pair_unsure, before + 1);
}

static void
test_response_gap_unpairs_all(void)
{
	/* Responses lost in a gap may have answered any request in flight:
	 * none is paired for certain after it. A HEAD candidate with a body
	 * announced cannot be framed without guessing: leave (gap). */
	struct piece ok[] = {
		D(C2S, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.0\r\n\r\nGET /3 HTTP/1.1\r\n\r\n"),
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Len"),
		{ P_GAP, S2C, NULL, 40 },
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	};
	struct piece head[] = {
		D(C2S, "GET /1 HTTP/1.1\r\n\r\nHEAD /2 HTTP/1.1\r\n\r\n"),
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"),
		{ P_GAP, S2C, NULL, 100 },	/* past the body's end */
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"),
	};
	struct piece head_cl0[] = {
		D(C2S, "GET /1 HTTP/1.1\r\n\r\nHEAD /2 HTTP/1.1\r\n\r\n"),
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Le"),
		{ P_GAP, S2C, NULL, 10 },
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	};

	RUN(ok);
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 4);
	/* the head of the FIFO was /1 (1.1), but nothing says it answers /1 */
	CU_ASSERT(msgs[3].pair_unsure && msgs[3].persistent);
	RUN(head);
	expect_leave(KAPA_LEAVE_GAP);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 4);
	CU_ASSERT(msgs[3].pair_unsure && !msgs[3].persistent &&
		  msgs[3].body == KAPA_BODY_NONE);
	/* Content-Length: 0 frames the same either way: no guess needed */
	RUN(head_cl0);
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 3);
	CU_ASSERT(msgs[2].pair_unsure && msgs[2].persistent);
}

static void
test_unsure_connect_leaves(void)
{
	/* Whether a 2xx answers the CONNECT (a tunnel follows) or a lost
	 * request is unknown after a response-side gap: leave, do not guess. */
	struct piece ps[] = {
		D(C2S, "GET /1 HTTP/1.1\r\n\r\nCONNECT h:443 HTTP/1.1\r\n\r\n"),
		D(S2C, "HTTP/1.1 200 OK\r\nCont"),
		{ P_GAP, S2C, NULL, 30 },
		D(S2C, "HTTP/1.1 200 Connection Established\r\n\r\n"),
	};

	RUN(ps);
	expect_leave(KAPA_LEAVE_GAP);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 3);
	CU_ASSERT(msgs[2].pair_unsure);
}

static void
test_refused_connect_skipped_unpairs(void)
{
	/* Bytes the client sent while its CONNECT waited were skipped unread
	 * (they could have been a tunnel): after a refusal they may have held
	 * requests, so the responses after the refusal are not paired. */
	struct piece ps[] = {
		D(C2S, "CONNECT h:443 HTTP/1.1\r\n\r\n"),
		D(C2S, "HEAD /skipped HTTP/1.1\r\n\r\n"),
		D(S2C, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"),
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"),
	};
	struct piece nothing_skipped[] = {
		D(C2S, "CONNECT h:443 HTTP/1.1\r\n\r\n"),
		D(S2C, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"),
		D(C2S, "HEAD /after HTTP/1.1\r\n\r\n"),
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"),
	};

	RUN(ps);
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 3);
	CU_ASSERT(!msgs[1].pair_unsure && msgs[1].status == 407);
	CU_ASSERT(msgs[2].pair_unsure && msgs[2].body == KAPA_BODY_LENGTH);
	RUN(nothing_skipped);
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 4);
	CU_ASSERT(!msgs[3].pair_unsure && msgs[3].body == KAPA_BODY_NONE);
}

static void
test_bad_request_line_unpairs_later(void)
{
	/* An unreadable request line is a request the server will answer
	 * (400): responses to the requests before it keep their pairing, the
	 * ones after it are marked. */
	struct piece ps[] = {
		D(C2S, "HEAD /a HTTP/1.1\r\n\r\n"),
		D(C2S, "G\x01T /b HTTP/1.1\r\n\r\n"),
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
		       "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
	};

	RUN(ps);
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 3);
	CU_ASSERT(!msgs[1].pair_unsure && msgs[1].body == KAPA_BODY_NONE);
	CU_ASSERT(msgs[2].pair_unsure && msgs[2].status == 400 && !msgs[2].persistent);
}

static void
test_midstream_pairing_unsure(void)
{
	/* Picked up on data: requests sent before the pickup may still be
	 * answered, so no response is paired for certain -- a HEAD seen after
	 * the pickup is not trusted to frame a response with a body. */
	struct piece ps[] = {
		D(C2S, "HEAD / HTTP/1.1\r\nHost: h\r\n\r\n"),
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
		D(C2S, "HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n"),
		D(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"),
	};

	run_script(T, ps, 4, NULL, 0, KAPA_CONN_MIDSTREAM | KAPA_CONN_ROLE_GUESSED);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 4);
	CU_ASSERT(msgs[1].pair_unsure && msgs[1].persistent);
	CU_ASSERT(msgs[3].pair_unsure);
	expect_leave(KAPA_LEAVE_GAP);
	/* picked up at the SYN/ACK, nothing was missed: paired */
	run_script(T, ps, 4, NULL, 0, KAPA_CONN_MIDSTREAM);
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL_FATAL(nmsgs, 4);
	CU_ASSERT(!msgs[3].pair_unsure && msgs[3].body == KAPA_BODY_NONE);
}

/* ---- regressions found by tests/fuzz/fuzz_http_stream.c ------------------- */

/* Deliver @p len bytes so that they end where an inaccessible page begins. */
static void
h_data_at_page_end(struct harness *t, enum kapa_dir dir, const uint8_t *p,
		   uint32_t len)
{
	static uint8_t *end;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	if (end == NULL) {
		uint8_t *r = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		CU_ASSERT_FATAL(r != MAP_FAILED);
		CU_ASSERT_FATAL(mprotect(r + pg, pg, PROT_NONE) == 0);
		end = r + pg;
	}
	CU_ASSERT_FATAL(len <= pg);
	memcpy(end - len, p, len);
	h_data(t, dir, end - len, len);
}

static void
test_regress_scan_past_delivery(void)
{
	/* fuzz_http_stream crash-234f1087: Hyperscan 5.4's AVX-512 VBMI
	 * runtime reads up to 2 bytes past the end it is given; a header
	 * block that ended at the end of its delivery, scanned in place,
	 * crashed when the next page was not mapped. The fuzz input's two
	 * streams, and a plain exchange, delivered whole and cut at every
	 * byte, each delivery ending at an unmapped page. */
	static const uint8_t c2s[] =
		"POST \x07%\x00l\x00\x00\x0f\x9ey by\x01\x07\r\n\r\n+\x00"
		"tail of a body\r\nHo.\x00\x12\x00"
		"4 No t\r\n ,0\r\n\r\nH\n\x09" "ed\r\n\r\n1D";
	static const uint8_t s2c[] =
		"1\r\nhello\xff\xff\xff\xff\xff\xff\xff\x8c\xff\xff\xff\xff"
		"\xff\xff\xff\xff\xff" "Cing\xba: chun\r\nb\x92"
		"dy until close\x01\xff=\xff-\x07\x08\xb5\x09\n";
	static const uint8_t req[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
	static const uint8_t rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	const uint8_t *s[2][2] = { { c2s, s2c }, { req, rsp } };
	const uint32_t n[2][2] = { { sizeof(c2s) - 1, sizeof(s2c) - 1 },
				   { sizeof(req) - 1, sizeof(rsp) - 1 } };
	struct harness t;
	uint32_t k, d, cut;
	unsigned x, msgs_whole = 0;

	for (x = 0; x < 2; x++) {
		for (k = 0; k <= n[x][0] + n[x][1]; k++) {
			log_reset();
			h_open(&t, T, 0);
			for (d = 0; d < 2; d++) {
				/* k == 0: whole; else one cut at byte k of the pair */
				cut = k == 0 ? 0 : d == 0 ? k : k > n[x][0] ? k - n[x][0] : 0;
				if (cut > 0 && cut < n[x][d]) {
					h_data_at_page_end(&t, d, s[x][d], cut);
					h_data_at_page_end(&t, d, s[x][d] + cut, n[x][d] - cut);
				} else {
					h_data_at_page_end(&t, d, s[x][d], n[x][d]);
				}
			}
			h_close(&t);
			if (x == 1 && k == 0)
				msgs_whole = nmsgs;
		}
	}
	CU_ASSERT_EQUAL(msgs_whole, 2);	/* got here without a SIGSEGV */
}

static void
test_stats_counts(void)
{
	struct kapa_http *h = tracker(0, 0, 0);
	struct harness t;

	log_reset();
	h_open(&t, h, 0);
	h_str(&t, C2S, "GET / HTTP/1.1\r\n\r\n");
	h_str(&t, S2C, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
	CU_ASSERT_EQUAL(kapa_http_stats(h)->requests, 1);
	CU_ASSERT_EQUAL(kapa_http_stats(h)->responses, 2);
	CU_ASSERT_EQUAL(kapa_http_stats(h)->interim, 1);
	CU_ASSERT_EQUAL(kapa_http_stats(h)->body_bytes, 3);
	h_close(&t);
	CU_ASSERT_STRING_EQUAL(kapa_http_leave_name(KAPA_LEAVE_CL_TE), "cl-te");
	CU_ASSERT_STRING_EQUAL(kapa_http_leave_name(KAPA_LEAVE_MAX), "unknown");
	kapa_http_destroy(h);
}

/* A port filter: connections with neither port in it leave at once. */
static void
test_port_filter(void)
{
	static uint64_t ports[KAPA_HTTP_PORT_WORDS];
	struct kapa_http_conf conf = { .ops = &test_ops, .ports = ports };
	struct kapa_http *h;
	struct kapa_pkt pkt;
	struct harness t;

	kapa_http_port_set(ports, 8080);
	h = kapa_http_create(&conf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	memset(ports, 0, sizeof(ports));	/* the tracker keeps its own copy */
	memset(&pkt, 0, sizeof(pkt));

	/* server port 8080: tracked */
	pkt.sport = 40000;
	pkt.dport = 8080;
	log_reset();
	h_open_pkt(&t, h, 0, &pkt);
	h_str(&t, C2S, "GET / HTTP/1.1\r\n\r\n");
	CU_ASSERT_EQUAL(nmsgs, 1);
	h_close(&t);

	/* port 80 is not in the filter: leaves, nothing reported */
	pkt.dport = 80;
	log_reset();
	h_open_pkt(&t, h, 0, &pkt);
	h_str(&t, C2S, "GET / HTTP/1.1\r\n\r\n");
	CU_ASSERT_EQUAL(nmsgs, 0);
	CU_ASSERT_EQUAL(kapa_http_stats(h)->leave[KAPA_LEAVE_PORT_FILTER], 1);
	CU_ASSERT_STRING_EQUAL(kapa_http_leave_name(KAPA_LEAVE_PORT_FILTER), "port-filter");
	h_close(&t);
	kapa_http_destroy(h);
}

static void
test_create_refuses(void)
{
	struct kapa_http_conf conf = { .pipeline_depth = 33 };

	CU_ASSERT_PTR_NULL(kapa_http_create(&conf));
	CU_ASSERT_PTR_NULL(kapa_http_create(NULL));
	kapa_http_destroy(NULL);
}

static int
suite_init(void)
{
	struct kapa_http_conf conf = { .ops = &test_ops };

	T = kapa_http_create(&conf);
	return T == NULL;
}

static int
suite_fini(void)
{
	kapa_http_destroy(T);
	return 0;
}

/* ---- over the TCP core: held bytes keep their packet ------------------------- */

/* One client connection driven through kapa_tcp_input(); each packet's
 * reference is its frame number, as in kapa-inspect. */
struct wire {
	struct kapa_tcp *tcp;
	uint64_t now_ns;
	uintptr_t frame;	/* of the last packet sent */
	uint32_t cisn, sisn;
};

static void
wire_send(struct wire *w, int from_srv, uint32_t seq, uint32_t ack, uint8_t flags,
	  const char *data, uint32_t len)
{
	static const uint8_t cip[4] = {198, 18, 0, 1}, sip[4] = {198, 18, 0, 2};
	struct kapa_tcp_result res;
	struct kapa_pkt p;

	memset(&p, 0, sizeof(p));
	p.cls = KAPA_PKT_TCP;
	p.family = 4;
	p.ip_proto = 6;
	p.data = (const uint8_t *)data;
	p.len = len;
	p.payload_len = len;
	memcpy(p.src, from_srv ? sip : cip, 4);
	memcpy(p.dst, from_srv ? cip : sip, 4);
	p.sport = from_srv ? 80 : 40700;
	p.dport = from_srv ? 40700 : 80;
	p.eth_src[5] = from_srv ? 2 : 1;
	p.seq = seq;
	p.ack = ack;
	p.tcp_flags = flags;
	p.win = 1000;
	w->now_ns += 1000000;		/* 1 ms a packet */
	w->frame++;
	kapa_tcp_input(w->tcp, &p, w->now_ns, (void *)w->frame, &res);
}

/* Client bytes at stream offset @p off. */
static void
wire_c2s(struct wire *w, uint32_t off, const char *data, uint32_t len)
{
	wire_send(w, 0, w->cisn + 1 + off, w->sisn + 1, KAPA_TCP_ACK, data, len);
}

/*
 * The finding F6 of tests/replay/FINDINGS.md, small: a request whose bytes
 * sat behind a hole (the end of the previous request's body, never seen)
 * is delivered when the hole times out, or at the end (release), and must
 * report the packet that carried its first byte and that packet's time,
 * not the packet in hand at delivery (nor none at all).
 */
static void
test_held_request_keeps_first_packet(void)
{
	static const char post[] = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345";
	static const char get[] = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char put[] = "PUT /d HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345";
	static const char del[] = "DELETE /e HTTP/1.1\r\nHost: x\r\n\r\n";
	const uint32_t lpost = sizeof(post) - 1, lget = sizeof(get) - 1;
	const uint32_t lput = sizeof(put) - 1, ldel = sizeof(del) - 1;
	struct kapa_http_conf hconf = { .ops = &test_ops };
	struct kapa_tcp_conf tconf;
	uintptr_t f_post, f_get, f_put, f_del;
	uint64_t ns_get, ns_del;
	uint32_t off;
	struct wire w;

	memset(&tconf, 0, sizeof(tconf));
	tconf.flow.name = "test_http_f6";
	tconf.flow.capacity = 64;
	tconf.flow.app_size = KAPA_HTTP_STATE_SIZE;
	tconf.flow.socket_id = -1;	/* SOCKET_ID_ANY */
	tconf.ooo_pool_bytes = 1u << 20;
	tconf.ops = kapa_http_stream_ops();
	tconf.ops_arg = kapa_http_create(&hconf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tconf.ops_arg);
	memset(&w, 0, sizeof(w));
	w.tcp = kapa_tcp_create(&tconf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w.tcp);
	w.now_ns = 5000000000ull;
	w.cisn = 1000;
	w.sisn = 9000;
	log_reset();

	wire_send(&w, 0, w.cisn, 0, KAPA_TCP_SYN, NULL, 0);
	wire_send(&w, 1, w.sisn, w.cisn + 1, KAPA_TCP_SYN | KAPA_TCP_ACK, NULL, 0);
	wire_send(&w, 0, w.cisn + 1, w.sisn + 1, KAPA_TCP_ACK, NULL, 0);
	/* POST with half its body; the other 5 bytes are never seen. */
	wire_c2s(&w, 0, post, lpost);
	f_post = w.frame;
	off = lpost + 5;
	/* The next request is held behind that hole. */
	wire_c2s(&w, off, get, lget);
	f_get = w.frame;
	ns_get = w.now_ns;
	CU_ASSERT_EQUAL(nmsgs, 1);
	/* Two seconds later the client sends again (a pure ack): the hole
	 * times out, the GET is delivered now. */
	w.now_ns += 2000000000ull;
	wire_c2s(&w, off + lget, NULL, 0);
	CU_ASSERT_FATAL(nmsgs == 2);
	CU_ASSERT_STRING_EQUAL(msgs[1].method, "GET");
	CU_ASSERT_EQUAL(msgs[1].off, off);
	CU_ASSERT_PTR_EQUAL(msgs[1].first_ref, (void *)f_get);
	CU_ASSERT_EQUAL(msgs[1].first_ns, ns_get);
	CU_ASSERT_PTR_EQUAL(msgs[0].first_ref, (void *)f_post);

	/* The same at the end: a PUT missing half its body, a DELETE held
	 * behind it, handed on at release (kapa_tcp_close_all()). */
	off += lget;
	wire_c2s(&w, off, put, lput);
	f_put = w.frame;
	off += lput + 5;
	wire_c2s(&w, off, del, ldel);
	f_del = w.frame;
	ns_del = w.now_ns;
	w.now_ns += 500000000ull;	/* no timeout yet: still held */
	wire_c2s(&w, off + ldel, NULL, 0);
	CU_ASSERT_EQUAL(nmsgs, 3);
	CU_ASSERT_EQUAL(kapa_tcp_close_all(w.tcp), 1);
	CU_ASSERT_FATAL(nmsgs == 4);
	CU_ASSERT_STRING_EQUAL(msgs[2].method, "PUT");
	CU_ASSERT_PTR_EQUAL(msgs[2].first_ref, (void *)f_put);
	CU_ASSERT_STRING_EQUAL(msgs[3].method, "DELETE");
	CU_ASSERT_EQUAL(msgs[3].off, off);
	CU_ASSERT_PTR_EQUAL(msgs[3].first_ref, (void *)f_del);
	CU_ASSERT_EQUAL(msgs[3].first_ns, ns_del);
	CU_ASSERT_EQUAL(nleaves, 0);
	CU_ASSERT_EQUAL(kapa_tcp_stats(w.tcp)->gap_hole_timeout, 1);
	CU_ASSERT_EQUAL(kapa_tcp_stats(w.tcp)->gap_release, 1);
	kapa_tcp_destroy(w.tcp);
	kapa_http_destroy(tconf.ops_arg);
}

/*
 * Through the TCP core: a connection picked up on a request whose first
 * segment is cut into pieces that arrive out of order, the first piece
 * one byte ("G"). The tracker gets the request from its first byte (GET,
 * never ET), when the server's answer decides where the stream starts, and
 * the request before the response.
 */
static void
test_pickup_pieces_whole_request(void)
{
	static const char req[] = "GET /pick HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	const uint32_t lreq = sizeof(req) - 1, lrsp = sizeof(rsp) - 1;
	struct kapa_http_conf hconf = { .ops = &test_ops };
	struct kapa_tcp_conf tconf;
	struct wire w;

	memset(&tconf, 0, sizeof(tconf));
	tconf.flow.name = "test_http_pick";
	tconf.flow.capacity = 64;
	tconf.flow.app_size = KAPA_HTTP_STATE_SIZE;
	tconf.flow.socket_id = -1;	/* SOCKET_ID_ANY */
	tconf.ooo_pool_bytes = 1u << 20;
	tconf.ops = kapa_http_stream_ops();
	tconf.ops_arg = kapa_http_create(&hconf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tconf.ops_arg);
	memset(&w, 0, sizeof(w));
	w.tcp = kapa_tcp_create(&tconf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w.tcp);
	w.now_ns = 5000000000ull;
	w.cisn = 1000;
	w.sisn = 9000;
	log_reset();

	/* No handshake: pieces [10, end), [1, 10), [0, 1). */
	wire_c2s(&w, 10, req + 10, lreq - 10);
	wire_c2s(&w, 1, req + 1, 9);
	wire_c2s(&w, 0, req, 1);
	CU_ASSERT_EQUAL(nmsgs, 0);
	wire_send(&w, 1, w.sisn + 1, w.cisn + 1 + lreq, KAPA_TCP_ACK, rsp, lrsp);
	CU_ASSERT_FATAL(nmsgs == 2);
	CU_ASSERT(msgs[0].is_request);
	CU_ASSERT_STRING_EQUAL(msgs[0].method, "GET");
	CU_ASSERT_STRING_EQUAL(msgs[0].target, "/pick");
	CU_ASSERT_EQUAL(msgs[0].off, 0);
	CU_ASSERT(!msgs[1].is_request && msgs[1].status == 200);
	CU_ASSERT_EQUAL(kapa_tcp_stats(w.tcp)->pickup_start_ack, 1);
	CU_ASSERT_EQUAL(kapa_tcp_stats(w.tcp)->pickup_early_bytes, 10);
	CU_ASSERT_EQUAL(nleaves, 0);
	kapa_tcp_destroy(w.tcp);
	kapa_http_destroy(tconf.ops_arg);
}

/* EAL for the TCP core's flow table (rte_hash), no hugepages. */
static int
suite_tcp_init(void)
{
	return kapa_eal_init_offline("test_http", 128) != 0;
}

/* The byte positions a header edit needs: stream offsets of the block's
 * end and of every Connection / Keep-Alive line, cut-invariant (the cut
 * tests compare them too), in the direction's own offsets. */
static void
test_field_positions(void)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char rsp[] =
		"HTTP/1.1 200 OK\r\n"			/* 0..16 */
		"Connection:  Keep-Alive \r\n"		/* 17..42 */
		"Keep-Alive: timeout=5, max=100\r\n"	/* 43..74 */
		"connection: TE\r\n"			/* 75..90 */
		"Content-Length: 0\r\n"			/* 91..109 */
		"\r\n";					/* 110..111 */
	static const char rsp_lf[] = "HTTP/1.0 200 OK\nKeep-Alive: timeout=1\n\n";
	struct kapa_http *h = tracker(0, 0, 0);
	struct harness t;
	uint64_t base;

	log_reset();
	h_open(&t, h, 0);
	h_str(&t, C2S, req);
	CU_ASSERT_EQUAL(msgs[0].hdr_end, sizeof(req) - 1);
	CU_ASSERT(msgs[0].hdr_crlf);
	CU_ASSERT_EQUAL(msgs[0].nconn_pos + msgs[0].nka_pos, 0);
	CU_ASSERT_EQUAL(msgs[0].info.outstanding, 1);
	CU_ASSERT(!msgs[0].info.mid_message);
	/* A second response on the connection: offsets are the stream's. */
	h_str(&t, S2C, "HTTP/1.1 204 No Content\r\n\r\n");
	base = t.off[S2C];
	h_str(&t, C2S, req);
	h_str(&t, S2C, rsp);
	CU_ASSERT_FATAL(nmsgs == 4);
	CU_ASSERT_EQUAL(msgs[3].off, base);
	CU_ASSERT_EQUAL(msgs[3].hdr_end, base + sizeof(rsp) - 1);
	CU_ASSERT(msgs[3].hdr_crlf);
	CU_ASSERT_FATAL(msgs[3].nconn_pos == 2 && msgs[3].nka_pos == 1);
	CU_ASSERT_EQUAL(msgs[3].conn_pos[0].line, base + 17);
	CU_ASSERT_EQUAL(msgs[3].conn_pos[0].value, base + 30);	/* after 2 spaces */
	CU_ASSERT_EQUAL(msgs[3].conn_pos[0].value_end, base + 40);
	CU_ASSERT_EQUAL(msgs[3].conn_pos[0].line_end, base + 41);	/* the CR */
	CU_ASSERT_EQUAL(msgs[3].ka_pos[0].line, base + 43);
	CU_ASSERT_EQUAL(msgs[3].ka_pos[0].value, base + 55);
	CU_ASSERT_EQUAL(msgs[3].ka_pos[0].value_end, base + 73);
	CU_ASSERT_EQUAL(msgs[3].ka_pos[0].line_end, base + 73);
	CU_ASSERT_EQUAL(msgs[3].conn_pos[1].line, base + 75);
	CU_ASSERT_EQUAL(msgs[3].conn_pos[1].value, base + 87);
	CU_ASSERT_EQUAL(msgs[3].conn_pos[1].value_end, base + 89);
	/* Answered: nothing outstanding, nothing in progress. */
	CU_ASSERT_EQUAL(msgs[3].info.outstanding, 0);
	/* A bare-LF block and its line ends. */
	h_str(&t, C2S, req);
	base = t.off[S2C];
	h_str(&t, S2C, rsp_lf);
	CU_ASSERT_FATAL(nmsgs == 6);
	CU_ASSERT(!msgs[5].hdr_crlf);
	CU_ASSERT_EQUAL(msgs[5].hdr_end, base + sizeof(rsp_lf) - 1);
	CU_ASSERT_EQUAL(msgs[5].ka_pos[0].line_end, base + 37);	/* the LF */
	CU_ASSERT(!msgs[5].fields_truncated);
	h_close(&t);
	kapa_http_destroy(h);
}

/* More Connection lines than positions kept: said, not guessed. */
static void
test_field_positions_truncated(void)
{
	struct kapa_http *h = tracker(0, 0, 0);
	struct harness t;

	log_reset();
	h_open(&t, h, 0);
	h_str(&t, C2S, "GET / HTTP/1.1\r\nConnection: a\r\nConnection: b\r\n"
		       "Connection: c\r\nConnection: d\r\nConnection: e\r\n\r\n");
	CU_ASSERT_FATAL(nmsgs == 1);
	CU_ASSERT_EQUAL(msgs[0].nconn_pos, KAPA_HTTP_MAX_FIELD_POS);
	CU_ASSERT(msgs[0].fields_truncated);
	h_close(&t);
	kapa_http_destroy(h);
}

/* Requests outstanding and messages in progress, for idle vs stall. */
static void
test_conn_info(void)
{
	struct kapa_http *h = tracker(0, 0, 2);
	struct kapa_http_conn_info ci;
	struct harness t;
	int i;

	log_reset();
	h_open(&t, h, 0);
	kapa_http_conn_info(t.app, &ci);
	CU_ASSERT(ci.outstanding == 0 && !ci.mid_message && !ci.left);
	/* Three pipelined requests, past a depth of 2: all outstanding. */
	for (i = 0; i < 3; i++)
		h_str(&t, C2S, "GET / HTTP/1.1\r\n\r\n");
	kapa_http_conn_info(t.app, &ci);
	CU_ASSERT_EQUAL(ci.outstanding, 3);
	CU_ASSERT(!ci.mid_message);
	/* A response in progress: its header block is there, its body not. */
	h_str(&t, S2C, "HTTP/1.1 100 Continue\r\n\r\n");
	kapa_http_conn_info(t.app, &ci);
	CU_ASSERT_EQUAL(ci.outstanding, 3);	/* interim: still waiting */
	h_str(&t, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab");
	kapa_http_conn_info(t.app, &ci);
	CU_ASSERT_EQUAL(ci.outstanding, 2);
	CU_ASSERT(ci.mid_message);
	h_str(&t, S2C, "cd");
	kapa_http_conn_info(t.app, &ci);
	CU_ASSERT(!ci.mid_message);
	/* A request whose header block is open is in progress too. */
	h_str(&t, C2S, "POST / HTTP/1.1\r\nHost");
	kapa_http_conn_info(t.app, &ci);
	CU_ASSERT(ci.mid_message);
	CU_ASSERT_EQUAL(ci.outstanding, 2);
	h_str(&t, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
		       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
		       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	kapa_http_conn_info(t.app, &ci);
	CU_ASSERT_EQUAL(ci.outstanding, 0);	/* never below zero */
	h_str(&t, S2C, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n");
	kapa_http_conn_info(t.app, &ci);
	CU_ASSERT(ci.left && ci.leave == KAPA_LEAVE_UPGRADE);
	h_close(&t);
	kapa_http_destroy(h);
}

/* --ports LIST of kapa-dp and kapa-inspect. */
static void
test_parse_ports(void)
{
	static const char *const bad[] = {
		"", "0", "65536", "80,", ",80", "80-79", "80-", "-80", "80 ", "8o", "+80", "80,,81",
	};
	static uint64_t bm[KAPA_HTTP_PORT_WORDS];
	unsigned i;

	memset(bm, 0, sizeof(bm));
	CU_ASSERT_EQUAL(kapa_http_parse_ports("80,8000-8002,65535", bm), 0);
	CU_ASSERT(kapa_http_port_isset(bm, 80));
	CU_ASSERT(!kapa_http_port_isset(bm, 81));
	CU_ASSERT(!kapa_http_port_isset(bm, 7999));
	for (i = 8000; i <= 8002; i++)
		CU_ASSERT(kapa_http_port_isset(bm, (uint16_t)i));
	CU_ASSERT(!kapa_http_port_isset(bm, 8003));
	CU_ASSERT(kapa_http_port_isset(bm, 65535));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(bm, 0, sizeof(bm));
		CU_ASSERT_EQUAL(kapa_http_parse_ports(bad[i], bm), -EINVAL);
	}
}

#define ADD(s, name, fn) \
	do { if (CU_add_test(s, name, fn) == NULL) return -1; } while (0)

int
kapa_unit_register(void)
{
	CU_pSuite cut = CU_add_suite("http_cut_invariance", NULL, NULL);
	CU_pSuite adv = CU_add_suite("http_tracker", suite_init, suite_fini);
	CU_pSuite lim = CU_add_suite("http_limits", NULL, NULL);
	CU_pSuite tcp = CU_add_suite("http_over_tcp", suite_tcp_init, NULL);

	if (cut == NULL || adv == NULL || lim == NULL || tcp == NULL)
		return -1;
	ADD(cut, "HTTP/1.1 keep-alive exchange cut everywhere", test_cuts_keepalive_11);
	ADD(cut, "HTTP/1.0 keep-alive exchange cut everywhere", test_cuts_keepalive_10);
	ADD(cut, "pipelined + interim exchange cut everywhere", test_cuts_pipelined);
	ADD(cut, "bare-LF / lenient exchange cut everywhere", test_cuts_lenient);
	ADD(cut, "tolerated start lines cut everywhere", test_cuts_tolerated);

	ADD(lim, "--ports LIST", test_parse_ports);
	ADD(adv, "HTTP/1.1 exchange read", test_exchange_11);
	ADD(adv, "HTTP/1.0 exchange read", test_exchange_10);
	ADD(adv, "pipelining and interim responses", test_interim_and_pipelining);
	ADD(adv, "Connection: keep-alive, close", test_keepalive_close_one_line);
	ADD(adv, "keep-alive and close on two lines", test_keepalive_close_two_lines);
	ADD(adv, "Connection token edge cases", test_token_edges);
	ADD(adv, "obs-fold", test_obs_fold);
	ADD(adv, "tolerances: request line", test_tolerances_request_line);
	ADD(adv, "tolerances: status line", test_tolerances_status_line);
	ADD(adv, "tolerances never reach framing", test_tolerances_no_framing);
	ADD(adv, "whitespace before the colon", test_ws_before_colon);
	ADD(adv, "whitespace before the first field line", test_ws_before_first_field);
	ADD(adv, "bare LF, bare CR, leading empty lines", test_bare_lf_bare_cr_leading_lines);
	ADD(adv, "CL and TE together, either order", test_cl_te_both_orders);
	ADD(adv, "Content-Length variants", test_cl_variants);
	ADD(adv, "Transfer-Encoding variants", test_te_variants);
	ADD(adv, "chunk grammar", test_chunk_grammar);
	ADD(adv, "no-body responses with CL/TE", test_no_body_responses);
	ADD(adv, "100/103 before the final response", test_interim_before_final);
	ADD(adv, "101 Switching Protocols", test_upgrade_101);
	ADD(adv, "CONNECT", test_connect);
	ADD(adv, "HTTP/2 preface", test_h2_preface);
	ADD(adv, "not HTTP", test_not_http);
	ADD(adv, "evasion request lines", test_evasion_request_lines);
	ADD(adv, "close-delimited response", test_close_delimited);
	ADD(adv, "pipelining and bytes after close", test_bytes_after_close);
	ADD(adv, "HTTP/1.0 keep-alive parameters", test_http10_keepalive_params);
	ADD(adv, "Keep-Alive malformed and duplicate", test_keepalive_malformed_duplicate);
	ADD(adv, "Keep-Alive without Connection: keep-alive", test_keepalive_without_connection);
	ADD(adv, "gap inside a body is skipped", test_gap_in_body_skipped);
	ADD(adv, "gap inside a header block resyncs", test_gap_in_header_resyncs);
	ADD(adv, "gap past the end of a body resyncs", test_gap_past_body_end);
	ADD(adv, "mid-stream pickup", test_midstream_pickup);
	ADD(adv, "pickup at the SYN/ACK", test_pickup_at_synack);
	ADD(adv, "resync on a start line cut across deliveries", test_resync_split_start_line);
	ADD(adv, "resync: one byte first, the earliest candidate first", test_resync_one_byte_first);
	ADD(adv, "resync: a line that passes the bound", test_resync_line_bound);
	ADD(adv, "guessed roles swapped by content", test_midstream_roles_swapped);
	ADD(adv, "overlapping retransmission: first copy wins", test_overlap_first_wins);
	ADD(adv, "urgent data is in-band", test_urgent_data_in_band);
	ADD(adv, "out-of-order hole never filled", test_out_of_order_hole);
	ADD(adv, "gap inside a body keeps the pairing", test_gap_in_body_keeps_pairing);
	ADD(adv, "request-side gap keeps earlier pairs", test_request_gap_keeps_earlier_pairs);
	ADD(adv, "response-side gap unpairs all", test_response_gap_unpairs_all);
	ADD(adv, "unsure pairing with a CONNECT leaves", test_unsure_connect_leaves);
	ADD(adv, "bad request line unpairs later responses", test_bad_request_line_unpairs_later);
	ADD(adv, "refused CONNECT after skipped bytes unpairs", test_refused_connect_skipped_unpairs);
	ADD(adv, "mid-stream pickup: pairing unsure", test_midstream_pairing_unsure);
	ADD(adv, "field positions as stream offsets", test_field_positions);
	ADD(adv, "field positions: more lines than kept", test_field_positions_truncated);
	ADD(adv, "requests outstanding, message in progress", test_conn_info);
	ADD(adv, "regress: Hyperscan read past a delivery (fuzz_http_stream)",
	    test_regress_scan_past_delivery);

	ADD(lim, "pipeline depth", test_pipeline_depth);
	ADD(lim, "huge header block", test_huge_header_block);
	ADD(lim, "thousands of field lines", test_thousands_of_field_lines);
	ADD(lim, "many tiny segments, no quadratic re-parse", test_many_tiny_segments);
	ADD(lim, "header buffer pool exhausted", test_no_buffer);
	ADD(lim, "header buffer released on close", test_buffer_released_on_close);
	ADD(lim, "mid-stream search gives up, bounded", test_midstream_gives_up);
	ADD(lim, "counters", test_stats_counts);
	ADD(lim, "port filter", test_port_filter);
	ADD(lim, "create refuses bad conf", test_create_refuses);

	ADD(tcp, "a request held out of order reports its first packet",
	    test_held_request_keeps_first_packet);
	ADD(tcp, "a pickup's first segment in pieces out of order, one byte first",
	    test_pickup_pieces_whole_request);
	return 0;
}
