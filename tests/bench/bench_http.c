/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Benchmark of the HTTP/1.x tracker (docs/performance.md, "HTTP tracker").
 *
 * 1. Tracker throughput over a synthetic keep-alive mix (small and large
 *    header blocks, Content-Length and chunked bodies, Apache-style
 *    Keep-Alive responses), each message cut into segments of a fixed size
 *    from 1 to 1460 bytes or of random sizes: bytes/s and messages/s on one
 *    core. The same segments go through two parsing peers: Debian's
 *    libhttp-parser, and Node's llhttp (Debian's node-llhttp, its C sources
 *    compiled by meson.build; bench_http_llhttp.c).
 * 2. Header-block scanning: Hyperscan block mode over a whole block, block
 *    mode as the tracker does it for a block cut into segments (copy, find
 *    the end, one scan), and streaming mode (open, one call per segment,
 *    close), per header block.
 *
 * It prints figures and asserts nothing about time; it fails only when the
 * tracker and the peer disagree on the number of messages.
 * KAPA_BENCH_QUICK=1 or --quick: fewer rounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hs.h>
#ifdef KAPA_BENCH_HTTP_PARSER
#include <http_parser.h>
#endif

#include "kapa_http.h"
#include "kapa_http_int.h"
#include "bench_http_peer.h"

#define MIX_EXCHANGES 64
/* Each figure is the best of this many runs: the machine is shared. */
#define REPEATS 5

struct mix {
	uint8_t *s[2];		/* [enum kapa_dir] */
	uint32_t len[2], cap[2];
	struct seg *segs;
	uint32_t nsegs, capsegs;
	uint32_t nmsgs;
};

/* CPU time of this thread: the machine is shared, and time spent
 * descheduled is not the tracker's. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL) {
		fprintf(stderr, "bench_http: out of memory\n");
		exit(2);
	}
	return p;
}

static void
add_seg(struct mix *m, uint8_t dir, uint32_t off, uint32_t len)
{
	if (m->nsegs == m->capsegs) {
		m->capsegs = m->capsegs ? 2 * m->capsegs : 1024;
		m->segs = xrealloc(m->segs, m->capsegs * sizeof(*m->segs));
	}
	m->segs[m->nsegs].dir = dir;
	m->segs[m->nsegs].off = off;
	m->segs[m->nsegs].len = len;
	m->nsegs++;
}

/* Append one message to its direction and cut it into segments of @p seg
 * bytes (0 = random sizes 1..1460, a fixed sequence). */
static void
add_msg(struct mix *m, uint8_t dir, const char *hdr, uint32_t body, int chunked,
	uint32_t seg)
{
	uint32_t hl = (uint32_t)strlen(hdr), start = m->len[dir], need, pos, n, i;
	char line[32];

	need = hl + body + 64;
	if (m->len[dir] + need > m->cap[dir]) {
		m->cap[dir] = 2 * (m->len[dir] + need);
		m->s[dir] = xrealloc(m->s[dir], m->cap[dir]);
	}
	memcpy(m->s[dir] + m->len[dir], hdr, hl);
	m->len[dir] += hl;
	if (chunked) {
		/* three chunks and the last one */
		for (i = 0; i < 3; i++) {
			n = (uint32_t)snprintf(line, sizeof(line), "%x\r\n", body / 3);
			memcpy(m->s[dir] + m->len[dir], line, n);
			m->len[dir] += n;
			memset(m->s[dir] + m->len[dir], 'c', body / 3);
			m->len[dir] += body / 3;
			memcpy(m->s[dir] + m->len[dir], "\r\n", 2);
			m->len[dir] += 2;
		}
		memcpy(m->s[dir] + m->len[dir], "0\r\n\r\n", 5);
		m->len[dir] += 5;
	} else {
		memset(m->s[dir] + m->len[dir], 'b', body);
		m->len[dir] += body;
	}
	for (pos = start; pos < m->len[dir]; pos += n) {
		n = seg ? seg : 1 + (uint32_t)rand() % 1460;
		if (n > m->len[dir] - pos)
			n = m->len[dir] - pos;
		add_seg(m, dir, pos, n);
	}
	m->nmsgs++;
}

static const char cookie[] =
	"Cookie: session=8f14e45fceea167a5a36dedd4bea2543; _ga=GA1.2.1234567890.1600000000; "
	"_gid=GA1.2.987654321.1700000000; prefs=%7B%22theme%22%3A%22dark%22%2C%22lang%22%3A%22en%22%7D; "
	"cart=a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0; "
	"tracking=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab; "
	"ab_test=variant_b; consent=1; region=eu-west-1; csrftoken=Zx9Yw8Xv7Wu6Vt5Us4Tr3Sq2Rp1Qo0\r\n";

static const char set_cookie[] =
	"Set-Cookie: id=a3fWa; Expires=Thu, 31 Oct 2027 07:28:00 GMT; Secure; HttpOnly; Path=/\r\n"
	"Set-Cookie: pref=b7c1d; Max-Age=2592000; SameSite=Lax; Path=/\r\n"
	"Content-Security-Policy: default-src 'self'; img-src 'self' https://cdn.example.com; "
	"script-src 'self' https://cdn.example.com; style-src 'self' 'unsafe-inline'\r\n"
	"Strict-Transport-Security: max-age=63072000; includeSubDomains; preload\r\n";

/* The synthetic keep-alive mix: MIX_EXCHANGES request/response pairs. */
static void
build_mix(struct mix *m, uint32_t seg)
{
	static const uint32_t bodies[] = { 0, 120, 2048, 16384, 512, 43 };
	char req[4096], resp[4096];
	uint32_t i, body;
	int chunked;

	memset(m, 0, sizeof(*m));
	srand(42);
	for (i = 0; i < MIX_EXCHANGES; i++) {
		snprintf(req, sizeof(req),
			 "%s /static/img/photo-%u.png?v=%u HTTP/1.1\r\nHost: www.example.com\r\n"
			 "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 "
			 "Firefox/120.0\r\nAccept: image/avif,image/webp,*/*\r\n"
			 "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
			 "Referer: https://www.example.com/gallery/index.html\r\n%s%s"
			 "Connection: keep-alive\r\n\r\n",
			 i % 8 == 7 ? "POST" : "GET", i, i * 7, i % 4 == 3 ? cookie : "",
			 i % 8 == 7 ? "Content-Type: application/json\r\nContent-Length: 512\r\n" : "");
		add_msg(m, KAPA_DIR_C2S, req, i % 8 == 7 ? 512 : 0, 0, seg);
		body = bodies[i % 6];
		chunked = i % 5 == 4 && body >= 3;
		snprintf(resp, sizeof(resp),
			 "HTTP/1.1 200 OK\r\nDate: Wed, 25 Nov 2026 17:00:00 GMT\r\n"
			 "Server: Apache/2.4.57 (Debian)\r\nLast-Modified: Mon, 02 Nov 2026 10:00:00 GMT\r\n"
			 "ETag: \"4a2-5f1e0c2a3b4c5\"\r\nAccept-Ranges: bytes\r\n%s"
			 "Keep-Alive: timeout=5, max=%u\r\nConnection: Keep-Alive\r\n%s"
			 "Content-Type: image/png\r\n\r\n",
			 chunked ? "Transfer-Encoding: chunked\r\n" : "",
			 100 - i, i % 6 == 5 ? set_cookie : "");
		if (!chunked) {
			/* insert the Content-Length before the blank line */
			size_t l = strlen(resp);

			snprintf(resp + l - 2, sizeof(resp) - l + 2, "Content-Length: %u\r\n\r\n", body);
		}
		add_msg(m, KAPA_DIR_S2C, resp, body, chunked, seg);
	}
}

static void
free_mix(struct mix *m)
{
	free(m->s[0]);
	free(m->s[1]);
	free(m->segs);
}

/* ---- the tracker ------------------------------------------------------- */

static uint64_t msgs_seen, msgs_persistent;

static void
on_msg(const struct kapa_stream_ctx *ctx, const struct kapa_http_msg *msg, void *arg)
{
	(void)ctx;
	(void)arg;
	msgs_seen++;
	msgs_persistent += msg->persistent;	/* read a field, as a user would */
}

static const struct kapa_http_ops bench_ops = { .message = on_msg };

struct conn_ctx {
	struct kapa_conn conn;
	_Alignas(64) uint8_t app[KAPA_HTTP_STATE_SIZE];
	struct kapa_stream_ctx ctx;
};

static void
feed_tracker(struct conn_ctx *c, const struct mix *m)
{
	const struct kapa_stream_ops *ops = kapa_http_stream_ops();
	uint32_t i;

	c->ctx.dir = KAPA_DIR_C2S;
	ops->event(&c->ctx, KAPA_EV_OPEN, 0, 0);
	for (i = 0; i < m->nsegs; i++) {
		const struct seg *s = &m->segs[i];

		c->ctx.dir = (enum kapa_dir)s->dir;
		ops->data(&c->ctx, s->off, m->s[s->dir] + s->off, s->len);
	}
	ops->event(&c->ctx, KAPA_EV_CLOSE, 0, 0);
}

/* ---- the peer: libhttp-parser --------------------------------------------- */

#ifdef KAPA_BENCH_HTTP_PARSER
static uint64_t peer_msgs, peer_ka;

static int
peer_headers_complete(http_parser *p)
{
	peer_ka += (uint64_t)http_should_keep_alive(p);
	return 0;
}

static int
peer_message_complete(http_parser *p)
{
	(void)p;
	peer_msgs++;
	return 0;
}

static const http_parser_settings peer_settings = {
	.on_headers_complete = peer_headers_complete,
	.on_message_complete = peer_message_complete,
};

static int
feed_peer(const struct mix *m)
{
	http_parser p[2];
	uint32_t i;

	http_parser_init(&p[KAPA_DIR_C2S], HTTP_REQUEST);
	http_parser_init(&p[KAPA_DIR_S2C], HTTP_RESPONSE);
	for (i = 0; i < m->nsegs; i++) {
		const struct seg *s = &m->segs[i];

		if (http_parser_execute(&p[s->dir], &peer_settings,
					(const char *)m->s[s->dir] + s->off, s->len) != s->len)
			return -1;
	}
	return 0;
}
#endif

#ifdef KAPA_BENCH_LLHTTP
/* The llhttp peer over the same segments, best of REPEATS; prints its
 * columns. @return 0, or 1 when it disagrees on the number of messages. */
static int
bench_llhttp(const struct mix *m, unsigned n, double bytes)
{
	uint64_t msgs = 0, ka = 0;
	unsigned r, rep;
	double t0, t = 1e30;
	int rc = 0;

	if (bench_llhttp_feed(m->s, m->segs, m->nsegs, &msgs, &ka) != 0)
		rc = 1;		/* warm-up */
	msgs = 0;
	for (rep = 0; rep < REPEATS; rep++) {
		t0 = now_s();
		for (r = 0; r < n; r++)
			if (bench_llhttp_feed(m->s, m->segs, m->nsegs, &msgs, &ka) != 0)
				rc = 1;
		t0 = now_s() - t0;
		t = t0 < t ? t0 : t;
	}
	if (rc != 0 || msgs != (uint64_t)m->nmsgs * n * REPEATS) {
		fprintf(stderr, "llhttp saw %llu messages, expected %llu%s\n",
			(unsigned long long)msgs,
			(unsigned long long)m->nmsgs * n * REPEATS,
			rc != 0 ? " (and refused a segment)" : "");
		rc = 1;
	}
	printf(" %8.1f %10.3f %8.0f\n", bytes * n / t / 1e6,
	       m->nmsgs * (double)n / t / 1e6, t * 1e9 / (m->nmsgs * (double)n));
	return rc;
}
#endif

static int
bench_throughput(unsigned rounds)
{
	static const uint32_t segs[] = { 1460, 536, 64, 16, 1, 0 };
	struct kapa_http_conf conf = { .ops = &bench_ops };
	struct kapa_http *h = kapa_http_create(&conf);
	struct conn_ctx c;
	struct mix m;
	unsigned r, k, n, rep;
	double t0, t, bytes;
	char label[16];
	int rc = 0;

	if (h == NULL) {
		perror("kapa_http_create");
		return 2;
	}
	memset(&c, 0, sizeof(c));
	c.ctx.ops_arg = h;
	c.ctx.app = c.app;
	c.ctx.conn = &c.conn;
	printf("\n== HTTP tracker throughput, one core, %u exchanges per connection ==\n",
	       MIX_EXCHANGES);
	printf("%-8s %10s %8s | %-28s | %-28s | %-28s\n", "", "", "", "kapa tracker",
	       "libhttp-parser", "llhttp");
	printf("%-8s %10s %8s | %8s %10s %8s | %8s %10s %8s | %8s %10s %8s\n", "segment",
	       "bytes/msg", "segs", "MB/s", "Mmsg/s", "ns/msg", "MB/s", "Mmsg/s", "ns/msg",
	       "MB/s", "Mmsg/s", "ns/msg");
	for (k = 0; k < sizeof(segs) / sizeof(segs[0]); k++) {
		build_mix(&m, segs[k]);
		bytes = (double)(m.len[0] + m.len[1]);
		/* a short run scales the real one to about the same time per size */
		n = segs[k] == 1 ? rounds / 16 + 1 : rounds;
		feed_tracker(&c, &m);	/* warm-up */
		msgs_seen = 0;
		t = 1e30;
		for (rep = 0; rep < REPEATS; rep++) {
			t0 = now_s();
			for (r = 0; r < n; r++)
				feed_tracker(&c, &m);
			t0 = now_s() - t0;
			t = t0 < t ? t0 : t;
		}
		if (msgs_seen != (uint64_t)m.nmsgs * n * REPEATS) {
			fprintf(stderr, "tracker saw %llu messages, expected %llu\n",
				(unsigned long long)msgs_seen,
				(unsigned long long)m.nmsgs * n * REPEATS);
			rc = 1;
		}
		if (segs[k])
			snprintf(label, sizeof(label), "%u", segs[k]);
		else
			snprintf(label, sizeof(label), "random");
		printf("%-8s %10.0f %8u | %8.1f %10.3f %8.0f |", label, bytes / m.nmsgs,
		       m.nsegs, bytes * n / t / 1e6, m.nmsgs * (double)n / t / 1e6,
		       t * 1e9 / (m.nmsgs * (double)n));
#ifdef KAPA_BENCH_HTTP_PARSER
		peer_msgs = 0;
		feed_peer(&m);
		peer_msgs = 0;
		t = 1e30;
		for (rep = 0; rep < REPEATS; rep++) {
			t0 = now_s();
			for (r = 0; r < n; r++)
				if (feed_peer(&m) != 0)
					rc = 1;
			t0 = now_s() - t0;
			t = t0 < t ? t0 : t;
		}
		if (peer_msgs != (uint64_t)m.nmsgs * n * REPEATS) {
			fprintf(stderr, "peer saw %llu messages, expected %llu\n",
				(unsigned long long)peer_msgs,
				(unsigned long long)m.nmsgs * n * REPEATS);
			rc = 1;
		}
		printf(" %8.1f %10.3f %8.0f |", bytes * n / t / 1e6,
		       m.nmsgs * (double)n / t / 1e6, t * 1e9 / (m.nmsgs * (double)n));
#else
		printf(" %-28s |", "(no libhttp-parser)");
#endif
#ifdef KAPA_BENCH_LLHTTP
		rc |= bench_llhttp(&m, n, bytes);
#else
		printf(" %-28s\n", "(no node-llhttp)");
#endif
		free_mix(&m);
	}
	{
		const struct kapa_http_stats *s = kapa_http_stats(h);

		printf("tracker counters: header bytes scanned %llu, body bytes skipped %llu, "
		       "split header blocks %llu, leaves %llu\n",
		       (unsigned long long)s->header_bytes, (unsigned long long)s->body_bytes,
		       (unsigned long long)s->header_copies,
		       (unsigned long long)(s->leave[KAPA_LEAVE_NOT_HTTP] +
					    s->leave[KAPA_LEAVE_BAD_CHUNK]));
	}
	kapa_http_destroy(h);
	return rc;
}

/* ---- header-block scanning: block vs streaming ----------------------------- */

static const char block434[] =
	"HTTP/1.1 200 OK\r\nDate: Wed, 25 Nov 2026 17:00:00 GMT\r\n"
	"Server: Apache/2.4.57 (Debian)\r\nLast-Modified: Mon, 02 Nov 2026 10:00:00 GMT\r\n"
	"ETag: \"4a2-5f1e0c2a3b4c5\"\r\nAccept-Ranges: bytes\r\nContent-Length: 1186\r\n"
	"Vary: Accept-Encoding\r\nCache-Control: max-age=3600, public\r\n"
	"X-Content-Type-Options: nosniff\r\nX-Frame-Options: SAMEORIGIN\r\n"
	"Keep-Alive: timeout=5, max=100\r\nConnection: Keep-Alive\r\n"
	"Content-Type: text/html; charset=UTF-8\r\n\r\n";

/* The tracker's way for a block cut into segments, scan strategy only:
 * copy each segment into the block's buffer, look for the end in the new
 * bytes (and two before them), scan the completed block once. */
static uint32_t
copy_find_end(uint8_t *buf, uint32_t *len, const uint8_t *p, uint32_t n)
{
	uint32_t from = *len >= 2 ? *len - 2 : 0, to = *len + n, k;
	const uint8_t *nl;

	memcpy(buf + *len, p, n);
	*len = to;
	while (from < to) {
		nl = memchr(buf + from, '\n', to - from);
		if (nl == NULL)
			return 0;
		k = (uint32_t)(nl - buf);
		if (k + 1 < to && buf[k + 1] == '\n')
			return k + 2;
		if (k + 2 < to && buf[k + 1] == '\r' && buf[k + 2] == '\n')
			return k + 3;
		from = k + 1;
	}
	return 0;
}

/* A request header block of about the same size, without a body. */
static const char req434[] =
	"GET /static/img/photo-17.png?v=119 HTTP/1.1\r\nHost: www.example.com\r\n"
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
	"Accept: image/avif,image/webp,*/*\r\nAccept-Language: en-US,en;q=0.5\r\n"
	"Accept-Encoding: gzip, deflate, br\r\nReferer: https://www.example.com/gallery/\r\n"
	"Sec-Fetch-Dest: image\r\nSec-Fetch-Mode: no-cors\r\nSec-Fetch-Site: same-origin\r\n"
	"DNT: 1\r\nConnection: keep-alive\r\n\r\n";

static int
stream_cb(unsigned int id, unsigned long long from, unsigned long long to,
	  unsigned int flags, void *arg)
{
	(void)from;
	(void)to;
	(void)flags;
	(*(uint32_t *)arg)++;
	return id == KAPA_PAT_END;	/* stop at the end of the block, as block mode does */
}

/* What one way of scanning a header block cut into segments needs. */
struct scan_arg {
	uint32_t seg;		/* segment size */
	const uint8_t *blk;
	uint32_t blen;
	hs_database_t *sdb;	/* streaming */
	hs_scratch_t *sscr;
	struct hs_scratch *bscr;	/* block */
	struct kapa_http_scan_res res;
	uint8_t copybuf[4096];
	struct conn_ctx c;	/* whole tracker */
	uint32_t cnt;
};

/* Streaming mode: open, one call per segment, close. */
static void
way_stream(struct scan_arg *a)
{
	hs_stream_t *st;
	uint32_t pos, n;

	if (hs_open_stream(a->sdb, 0, &st) != HS_SUCCESS)
		return;
	for (pos = 0; pos < a->blen; pos += n) {
		n = a->blen - pos < a->seg ? a->blen - pos : a->seg;
		if (hs_scan_stream(st, (const char *)a->blk + pos, n, 0, a->sscr, stream_cb,
				   &a->cnt) != HS_SUCCESS)
			break;	/* terminated at the end of the block */
	}
	hs_close_stream(st, a->sscr, NULL, NULL);
}

/* Block mode: in place when whole, else copy + end search + one scan. */
static void
way_block(struct scan_arg *a)
{
	uint32_t pos, n, bl = 0, e = 0;

	for (pos = 0; pos < a->blen && e == 0; pos += n) {
		n = a->blen - pos < a->seg ? a->blen - pos : a->seg;
		if (pos == 0 && n == a->blen) {
			kapa_http_scan_block(a->bscr, a->blk, n, &a->res);
			e = a->res.end;
		} else {
			e = copy_find_end(a->copybuf, &bl, a->blk + pos, n);
			if (e != 0)
				kapa_http_scan_block(a->bscr, a->copybuf, e, &a->res);
		}
	}
	a->cnt += a->res.n;
}

/* The whole tracker on a request of that size (a new connection each time:
 * requests without responses would fill the pipeline). */
static void
way_tracker(struct scan_arg *a)
{
	const struct kapa_stream_ops *ops = kapa_http_stream_ops();
	uint32_t pos, n;

	ops->event(&a->c.ctx, KAPA_EV_OPEN, 0, 0);
	for (pos = 0; pos < a->blen; pos += n) {
		n = a->blen - pos < a->seg ? a->blen - pos : a->seg;
		ops->data(&a->c.ctx, pos, a->blk + pos, n);
	}
}

/* Best of REPEATS runs of @p it calls, in ns per call. */
static double
best_ns(void (*way)(struct scan_arg *), struct scan_arg *a, unsigned it)
{
	double best = 1e30, t0;
	unsigned rep, r;

	way(a);
	for (rep = 0; rep < REPEATS; rep++) {
		t0 = now_s();
		for (r = 0; r < it; r++)
			way(a);
		t0 = now_s() - t0;
		best = t0 < best ? t0 : best;
	}
	return best * 1e9 / it;
}

static int
bench_scan(unsigned rounds)
{
	static const uint32_t segs[] = { 1460, 256, 64, 16, 1 };
	static struct scan_arg a;
	const char *const *exprs;
	const unsigned int *flags, *ids;
	unsigned int npat = kapa_http_scan_patterns(&exprs, &flags, &ids);
	hs_compile_error_t *cerr = NULL;
	struct kapa_http_conf conf = { .ops = &bench_ops };
	struct kapa_http *h;
	size_t ssize = 0;
	unsigned it = rounds * 20, k, calls;
	double ts, tb, tt;
	int rc = 0;

	if (hs_compile_multi(exprs, flags, ids, npat, HS_MODE_STREAM, NULL, &a.sdb, &cerr) !=
	    HS_SUCCESS) {
		fprintf(stderr, "streaming database: %s\n", cerr->message);
		hs_free_compile_error(cerr);
		return 2;
	}
	hs_stream_size(a.sdb, &ssize);
	a.bscr = kapa_http_scan_scratch();
	h = kapa_http_create(&conf);
	if (hs_alloc_scratch(a.sdb, &a.sscr) != HS_SUCCESS || a.bscr == NULL || h == NULL)
		return 2;
	a.c.ctx.ops_arg = h;
	a.c.ctx.app = a.c.app;
	a.c.ctx.conn = &a.c.conn;
	a.c.ctx.dir = KAPA_DIR_C2S;

	printf("\n== Header block of %zu bytes (%u patterns): Hyperscan block vs streaming ==\n",
	       strlen(block434), npat);
	printf("streaming state per open stream: %zu bytes\n", ssize);
	printf("%-8s %9s %14s %14s | %15s %9s\n", "segment", "calls/blk", "stream ns/blk",
	       "block ns/blk", "tracker ns/msg", "(ns/seg)");
	for (k = 0; k < sizeof(segs) / sizeof(segs[0]); k++) {
		unsigned n = segs[k] < 16 ? it / 16 + 1 : it;

		a.seg = segs[k];
		a.blk = (const uint8_t *)block434;
		a.blen = (uint32_t)strlen(block434);
		calls = (a.blen + a.seg - 1) / a.seg;
		ts = best_ns(way_stream, &a, n);
		tb = best_ns(way_block, &a, n);
		/* a request of about the same size through the whole tracker */
		a.blk = (const uint8_t *)req434;
		a.blen = (uint32_t)strlen(req434);
		tt = best_ns(way_tracker, &a, n);
		printf("%-8u %9u %14.0f %14.0f | %15.0f %9.1f\n", segs[k], calls, ts, tb, tt,
		       tt / ((a.blen + a.seg - 1) / a.seg));
	}
	if (kapa_http_stats(h)->requests == 0 || a.cnt == 0) {
		fprintf(stderr, "the scans found nothing\n");
		rc = 1;
	}
	kapa_http_destroy(h);
	kapa_http_scan_scratch_free(a.bscr);
	hs_free_scratch(a.sscr);
	hs_free_database(a.sdb);
	return rc;
}

/* ---- what the pattern set costs ------------------------------------------ */

static int
count_cb(unsigned int id, unsigned long long from, unsigned long long to,
	 unsigned int flags, void *arg)
{
	(void)from;
	(void)to;
	(void)flags;
	(*(uint32_t *)arg)++;
	return id == 0;		/* id 0 is the end of the block in every set */
}

/* Block-scan the 423-byte block with a pattern set; @return ns per scan. */
static double
set_ns(const char *const *e, const unsigned int *f, unsigned int n, unsigned it)
{
	static const unsigned int ids[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	hs_database_t *db = NULL;
	hs_compile_error_t *cerr = NULL;
	hs_scratch_t *scr = NULL;
	uint32_t cnt = 0, len = (uint32_t)strlen(block434);
	double best = 1e30, t0;
	unsigned rep, r;

	if (hs_compile_multi(e, f, ids, n, HS_MODE_BLOCK, NULL, &db, &cerr) != HS_SUCCESS) {
		hs_free_compile_error(cerr);
		return -1;
	}
	if (hs_alloc_scratch(db, &scr) != HS_SUCCESS) {
		hs_free_database(db);
		return -1;
	}
	for (rep = 0; rep < REPEATS; rep++) {
		t0 = now_s();
		for (r = 0; r < it; r++)
			hs_scan(db, block434, len, 0, scr, count_cb, &cnt);
		t0 = now_s() - t0;
		best = t0 < best ? t0 : best;
	}
	hs_free_scratch(scr);
	hs_free_database(db);
	return best * 1e9 / it;
}

static void
bench_pattern_sets(unsigned rounds)
{
	static const char *const two[] = { "\\r\\n\\r\\n", "\\nconnection:" };
	static const unsigned int two_f[] = { 0, HS_FLAG_CASELESS };
	/* the first design: classes after the names, and any bare CR */
	static const char *const classes[] = {
		"\\n\\r?\\n", "\\nconnection[ \\t]*:", "\\nkeep-alive[ \\t]*:",
		"\\ncontent-length[ \\t]*:", "\\ntransfer-encoding[ \\t]*:", "\\r[^\\n]",
	};
	static const unsigned int classes_f[] = {
		HS_FLAG_SINGLEMATCH, HS_FLAG_CASELESS, HS_FLAG_CASELESS, HS_FLAG_CASELESS,
		HS_FLAG_CASELESS, HS_FLAG_SINGLEMATCH,
	};
	const char *const *exprs;
	const unsigned int *flags, *ids;
	unsigned int npat = kapa_http_scan_patterns(&exprs, &flags, &ids);
	unsigned it = rounds * 20;

	printf("\n== Block scan of the %zu-byte block by pattern set ==\n", strlen(block434));
	printf("%-52s %6.0f ns\n", "2 literals (end, connection:)",
	       set_ns(two, two_f, 2, it));
	printf("%-52s %6.0f ns\n", "kapa's set (end regex + 7 caseless literals)",
	       set_ns(exprs, flags, npat, it));
	/* User-Agent is last: what the race table's product column costs. */
	printf("%-52s %6.0f ns\n", "kapa's set without \\nuser-agent",
	       set_ns(exprs, flags, npat - 1, it));
	printf("%-52s %6.0f ns\n", "names + [ \\t]*: (no bare-CR pattern)",
	       set_ns(classes, classes_f, 5, it));
	printf("%-52s %6.0f ns\n", "names + [ \\t]*: and \\r[^\\n] (the first design)",
	       set_ns(classes, classes_f, 6, it));
}

int
main(int argc, char **argv)
{
	const char *q = getenv("KAPA_BENCH_QUICK");
	unsigned rounds = 2000;
	int rc;

	if ((q != NULL && q[0] == '1') || (argc > 1 && strcmp(argv[1], "--quick") == 0))
		rounds = 50;
	rc = bench_throughput(rounds);
	rc |= bench_scan(rounds);
	bench_pattern_sets(rounds);
	return rc;
}
