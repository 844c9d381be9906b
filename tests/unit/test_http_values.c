/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the HTTP tracker's pure value parsers: Connection tokens,
 * Keep-Alive parameters, Content-Length, Transfer-Encoding, chunk-size lines,
 * trailers and start lines.
 */
#include <string.h>

#include <CUnit/CUnit.h>

#include "kapa_http.h"
#include "kapa_http_int.h"
#include "unit.h"

#define S(lit) (const uint8_t *)(lit), (uint32_t)(sizeof(lit) - 1)

static struct kapa_span toks[KAPA_HTTP_MAX_TOKENS];
static uint8_t ntoks;

static uint8_t
conn(const char *v)
{
	ntoks = 0;
	return kapa_http_parse_connection((const uint8_t *)v, (uint32_t)strlen(v), toks,
					  KAPA_HTTP_MAX_TOKENS, &ntoks);
}

static bool
tok_is(unsigned i, const char *lit)
{
	return i < ntoks && toks[i].len == strlen(lit) &&
	       memcmp(toks[i].p, lit, toks[i].len) == 0;
}

static void
test_conn_basic(void)
{
	CU_ASSERT_EQUAL(conn("close"), KAPA_HTTP_CONN_CLOSE);
	CU_ASSERT_EQUAL(conn("keep-alive"), KAPA_HTTP_CONN_KEEP_ALIVE);
	CU_ASSERT_EQUAL(conn("Keep-Alive"), KAPA_HTTP_CONN_KEEP_ALIVE);
	CU_ASSERT_EQUAL(conn("CLOSE"), KAPA_HTTP_CONN_CLOSE);
	CU_ASSERT_EQUAL(conn("Upgrade"), KAPA_HTTP_CONN_UPGRADE);
	CU_ASSERT_EQUAL(conn(""), 0);
	CU_ASSERT_EQUAL(ntoks, 0);
}

static void
test_conn_list(void)
{
	CU_ASSERT_EQUAL(conn("keep-alive, close"),
			KAPA_HTTP_CONN_KEEP_ALIVE | KAPA_HTTP_CONN_CLOSE);
	CU_ASSERT_EQUAL(ntoks, 2);
	CU_ASSERT(tok_is(0, "keep-alive"));
	CU_ASSERT(tok_is(1, "close"));
	CU_ASSERT_EQUAL(conn(",,close"), KAPA_HTTP_CONN_CLOSE);
	CU_ASSERT_EQUAL(ntoks, 1);
	CU_ASSERT(tok_is(0, "close"));
	CU_ASSERT_EQUAL(conn(" Upgrade ,\tHTTP2-Settings , "), KAPA_HTTP_CONN_UPGRADE);
	CU_ASSERT_EQUAL(ntoks, 2);
	CU_ASSERT(tok_is(1, "HTTP2-Settings"));
}

static void
test_conn_edges(void)
{
	/* Tab after the token: trimmed, still close. */
	CU_ASSERT_EQUAL(conn("Close\t"), KAPA_HTTP_CONN_CLOSE);
	CU_ASSERT(tok_is(0, "Close"));
	/* Longer tokens and parameters are other tokens. */
	CU_ASSERT_EQUAL(conn("closed"), 0);
	CU_ASSERT(tok_is(0, "closed"));
	CU_ASSERT_EQUAL(conn("close;x"), 0);
	CU_ASSERT(tok_is(0, "close;x"));
	CU_ASSERT_EQUAL(conn("keep-alives, xclose"), 0);
	CU_ASSERT_EQUAL(ntoks, 2);
}

static void
test_conn_combined_and_truncated(void)
{
	uint8_t f;
	int i;
	char big[200] = "";

	/* Two lines: tokens accumulate. */
	ntoks = 0;
	f = kapa_http_parse_connection(S("keep-alive"), toks, KAPA_HTTP_MAX_TOKENS, &ntoks);
	f |= kapa_http_parse_connection(S("close"), toks, KAPA_HTTP_MAX_TOKENS, &ntoks);
	CU_ASSERT_EQUAL(f, KAPA_HTTP_CONN_KEEP_ALIVE | KAPA_HTTP_CONN_CLOSE);
	CU_ASSERT_EQUAL(ntoks, 2);
	for (i = 0; i < 20; i++)
		strcat(big, "a,");
	strcat(big, "close");
	f = conn(big);
	CU_ASSERT_EQUAL(ntoks, KAPA_HTTP_MAX_TOKENS);
	/* The close token past the stored ones still counts. */
	CU_ASSERT_EQUAL(f, KAPA_HTTP_CONN_CLOSE | KAPA_HTTP_CONN_TRUNCATED);
}

static uint32_t
ka(const char *v, struct kapa_http_msg *m)
{
	memset(m, 0, sizeof(*m));
	return kapa_http_parse_keep_alive((const uint8_t *)v, (uint32_t)strlen(v), m);
}

static void
test_ka_basic(void)
{
	struct kapa_http_msg m;

	CU_ASSERT_EQUAL(ka("timeout=5, max=100", &m), 0);
	CU_ASSERT(m.has_ka_timeout && m.ka_timeout == 5);
	CU_ASSERT(m.has_ka_max && m.ka_max == 100);
	CU_ASSERT_EQUAL(ka("timeout = 5", &m), 0);
	CU_ASSERT(m.has_ka_timeout && m.ka_timeout == 5 && !m.has_ka_max);
	CU_ASSERT_EQUAL(ka("Timeout=\"7\",MAX=\"0\"", &m), 0);
	CU_ASSERT(m.ka_timeout == 7 && m.has_ka_max && m.ka_max == 0);
	CU_ASSERT_EQUAL(ka("max=0", &m), 0);
	CU_ASSERT(m.has_ka_max && m.ka_max == 0);
	CU_ASSERT_EQUAL(ka("foo=bar, timeout=3, x", &m), 0);
	CU_ASSERT(m.ka_timeout == 3);
	CU_ASSERT_EQUAL(ka("", &m), 0);
	CU_ASSERT(!m.has_ka_timeout && !m.has_ka_max);
}

static void
test_ka_bad(void)
{
	struct kapa_http_msg m;

	/* Old bare-number form: the timeout, unless timeout= came first. */
	CU_ASSERT_EQUAL(ka("300", &m), 0);
	CU_ASSERT(m.has_ka_timeout && m.ka_timeout == 300);
	CU_ASSERT_EQUAL(ka("timeout=5, 300", &m), 1);
	CU_ASSERT(m.has_ka_timeout && m.ka_timeout == 5);
	CU_ASSERT_EQUAL(ka("99999999999", &m), 1);
	CU_ASSERT(!m.has_ka_timeout);
	/* Duplicates: first wins, the others counted. */
	CU_ASSERT_EQUAL(ka("timeout=5, timeout=9", &m), 1);
	CU_ASSERT_EQUAL(m.ka_timeout, 5);
	CU_ASSERT_EQUAL(ka("timeout=x, timeout=9", &m), 1);
	CU_ASSERT_EQUAL(m.ka_timeout, 9);
	CU_ASSERT_EQUAL(ka("timeout=4294967296, max=4294967295", &m), 1);
	CU_ASSERT(!m.has_ka_timeout && m.ka_max == UINT32_MAX);
	CU_ASSERT_EQUAL(ka("timeout=-1, max=1.5, timeout=, max=\"7", &m), 4);
	CU_ASSERT(!m.has_ka_timeout && !m.has_ka_max);
	CU_ASSERT_EQUAL(ka("=5", &m), 1);
}

static int
cl(const char *v, struct kapa_http_cl *c)
{
	return kapa_http_parse_content_length((const uint8_t *)v, (uint32_t)strlen(v), c);
}

static void
test_cl_variants(void)
{
	struct kapa_http_cl c;

	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(cl("5", &c), 0);
	CU_ASSERT(c.seen && !c.bad && c.value == 5);
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(cl("5, 5", &c), 0);
	CU_ASSERT_EQUAL(c.value, 5);
	CU_ASSERT_EQUAL(cl("5", &c), 0);	/* a duplicate line, equal */
	CU_ASSERT_EQUAL(cl("6", &c), -1);	/* ... and an unequal one */
	CU_ASSERT(c.bad);
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(cl("0005", &c), 0);
	CU_ASSERT_EQUAL(c.value, 5);
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(cl("+5", &c), -1);
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(cl("", &c), -1);
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(cl("5, 6", &c), -1);
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(cl("5,,5", &c), -1);
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(cl("99999999999999999999999", &c), -1);
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(cl("0x10", &c), -1);
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(cl("0", &c), 0);
	CU_ASSERT(!c.bad && c.value == 0);
}

static int
te(const char *v, struct kapa_http_te *t)
{
	return kapa_http_parse_transfer_encoding((const uint8_t *)v,
						 (uint32_t)strlen(v), t);
}

static void
test_te_variants(void)
{
	struct kapa_http_te t;

	memset(&t, 0, sizeof(t));
	CU_ASSERT_EQUAL(te("chunked", &t), 0);
	CU_ASSERT(t.chunked_last);
	memset(&t, 0, sizeof(t));
	CU_ASSERT_EQUAL(te("gzip, Chunked", &t), 0);
	CU_ASSERT(t.chunked_last && t.ncodings == 2);
	memset(&t, 0, sizeof(t));
	CU_ASSERT_EQUAL(te("chunked, gzip", &t), 0);
	CU_ASSERT(!t.chunked_last && t.chunked_seen);
	/* Two lines combine into one list. */
	memset(&t, 0, sizeof(t));
	CU_ASSERT_EQUAL(te("gzip", &t), 0);
	CU_ASSERT_EQUAL(te("chunked", &t), 0);
	CU_ASSERT(t.chunked_last);
	memset(&t, 0, sizeof(t));
	CU_ASSERT_EQUAL(te("chunked", &t), 0);
	CU_ASSERT_EQUAL(te("chunked", &t), -1);
	CU_ASSERT(t.bad);
	memset(&t, 0, sizeof(t));
	CU_ASSERT_EQUAL(te("", &t), -1);
	memset(&t, 0, sizeof(t));
	CU_ASSERT_EQUAL(te("gzip;q=1, chunked", &t), 0);
	CU_ASSERT(t.chunked_last);
	memset(&t, 0, sizeof(t));
	CU_ASSERT_EQUAL(te("chunkedx", &t), 0);
	CU_ASSERT(!t.chunked_last);
}

/* Feed a chunk-size line whole; @return rc, *size, *used. */
static int
chunk(const char *line, uint64_t *size, uint32_t *used)
{
	uint8_t sub = 0, nd = 0;

	*size = 0;
	return kapa_http_chunk_line((const uint8_t *)line, (uint32_t)strlen(line), size,
				    &sub, &nd, used);
}

static void
test_chunk_line(void)
{
	uint64_t sz;
	uint32_t used;

	CU_ASSERT_EQUAL(chunk("1a\r\nxyz", &sz, &used), 1);
	CU_ASSERT_EQUAL(sz, 26);
	CU_ASSERT_EQUAL(used, 4);
	CU_ASSERT_EQUAL(chunk("1A\n", &sz, &used), 1);	/* upper case, bare LF */
	CU_ASSERT_EQUAL(sz, 26);
	CU_ASSERT_EQUAL(chunk("0000ff\r\n", &sz, &used), 1);
	CU_ASSERT_EQUAL(sz, 255);
	CU_ASSERT_EQUAL(chunk("5;name=val;x=\"a b\"\r\n", &sz, &used), 1);
	CU_ASSERT_EQUAL(sz, 5);
	CU_ASSERT_EQUAL(chunk("5 ;ext\r\n", &sz, &used), 1);
	CU_ASSERT_EQUAL(chunk("0\r\n", &sz, &used), 1);
	CU_ASSERT_EQUAL(sz, 0);
	CU_ASSERT_EQUAL(chunk("ffffffffffffffff\r\n", &sz, &used), -1); /* over the cap */
	CU_ASSERT_EQUAL(chunk("00000000000000001\r\n", &sz, &used), -1); /* 17 digits */
	CU_ASSERT_EQUAL(chunk("\r\n", &sz, &used), -1);
	CU_ASSERT_EQUAL(chunk("g\r\n", &sz, &used), -1);
	CU_ASSERT_EQUAL(chunk("5\rx", &sz, &used), -1);
	CU_ASSERT_EQUAL(chunk("5x\r\n", &sz, &used), -1);
	CU_ASSERT_EQUAL(chunk("5;ext\rx\n", &sz, &used), -1);
	CU_ASSERT_EQUAL(chunk("-5\r\n", &sz, &used), -1);
	CU_ASSERT_EQUAL(chunk("5", &sz, &used), 0);	/* needs more */
	CU_ASSERT_EQUAL(used, 1);
}

static void
test_chunk_line_cut_everywhere(void)
{
	static const char line[] = "00aB;e=\"x\";f\r\n";
	uint32_t len = sizeof(line) - 1, cut, used;
	uint64_t sz;
	uint8_t sub, nd;
	int rc;

	for (cut = 0; cut <= len; cut++) {
		sz = 0;
		sub = 0;
		nd = 0;
		rc = kapa_http_chunk_line((const uint8_t *)line, cut, &sz, &sub, &nd, &used);
		CU_ASSERT_EQUAL(rc, cut == len ? 1 : 0);
		if (cut < len) {
			CU_ASSERT_EQUAL(used, cut);
			rc = kapa_http_chunk_line((const uint8_t *)line + cut, len - cut, &sz,
						  &sub, &nd, &used);
			CU_ASSERT_EQUAL(rc, 1);
			CU_ASSERT_EQUAL(used, len - cut);
		}
		CU_ASSERT_EQUAL(sz, 0xab);
	}
}

static void
test_trailers(void)
{
	uint8_t sub = 0;
	uint32_t used;
	static const char t1[] = "X-Sum: 1\r\nConnection: close\r\n\r\nNEXT";
	static const char t2[] = "\r\n";
	static const char t3[] = "A: b\n\nrest";

	CU_ASSERT_EQUAL(kapa_http_trailers(S(t1), &sub, &used), 1);
	CU_ASSERT_EQUAL(used, sizeof(t1) - 1 - 4);
	sub = 0;
	CU_ASSERT_EQUAL(kapa_http_trailers(S(t2), &sub, &used), 1);
	CU_ASSERT_EQUAL(used, 2);
	sub = 0;
	CU_ASSERT_EQUAL(kapa_http_trailers(S(t3), &sub, &used), 1);
	CU_ASSERT_EQUAL(used, 6);
	sub = 0;
	CU_ASSERT_EQUAL(kapa_http_trailers(S("\rx"), &sub, &used), -1);
	sub = 0;
	CU_ASSERT_EQUAL(kapa_http_trailers(S("A: b\r"), &sub, &used), 0);
	CU_ASSERT_EQUAL(kapa_http_trailers(S("\n\r"), &sub, &used), 0);
	CU_ASSERT_EQUAL(kapa_http_trailers(S("\n"), &sub, &used), 1);
}

static void
test_start_line(void)
{
	struct kapa_http_start sl;

	CU_ASSERT_EQUAL(kapa_http_parse_start(S("GET /a?b HTTP/1.1\r\nHost: x\r\n"), &sl), 0);
	CU_ASSERT(sl.is_request && sl.method.len == 3 && sl.target.len == 4);
	CU_ASSERT(sl.ver_major == 1 && sl.ver_minor == 1 && sl.len == 19);
	CU_ASSERT(memcmp(sl.version.p, "1.1", 3) == 0);
	CU_ASSERT_EQUAL(kapa_http_parse_start(S("HTTP/1.0 204 No Content\n"), &sl), 0);
	CU_ASSERT(!sl.is_request && sl.status == 204 && sl.ver_minor == 0);
	CU_ASSERT_EQUAL(sl.reason.len, 10);
	CU_ASSERT_EQUAL(kapa_http_parse_start(S("HTTP/1.1 200\r\n"), &sl), 0);
	CU_ASSERT_EQUAL(sl.status, 200);
	CU_ASSERT_EQUAL(kapa_http_parse_start(S("PRI * HTTP/2.0\r\n"), &sl), 0);
	CU_ASSERT_EQUAL(sl.ver_major, 2);
	CU_ASSERT(sl.strict);
	/* lenient request lines, for known methods only */
	CU_ASSERT_EQUAL(kapa_http_parse_start(S("GET /\r\n"), &sl), 0);
	CU_ASSERT(sl.is_request && !sl.strict && sl.version.len == 0 && sl.ver_minor == 0);
	CU_ASSERT_EQUAL(kapa_http_parse_start(S("OPTIONS\n"), &sl), 0);
	CU_ASSERT(sl.method.len == 7 && sl.target.len == 0 && !sl.strict);
	CU_ASSERT_EQUAL(kapa_http_parse_start(S("OPTIONS HTTP/1.1\n"), &sl), 0);
	CU_ASSERT(sl.target.len == 8 && sl.version.len == 0);
	CU_ASSERT_EQUAL(kapa_http_parse_start(S("GET / HTTP/1.\r\n"), &sl), 0);
	CU_ASSERT(sl.version.len == 2 && memcmp(sl.version.p, "1.", 2) == 0 && !sl.strict);
	CU_ASSERT_EQUAL(kapa_http_parse_start(S("FOO /x\r\n"), &sl), -1);
	CU_ASSERT_EQUAL(kapa_http_parse_start(S("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), &sl), -1);
	CU_ASSERT_EQUAL(kapa_http_parse_start(S("OPTIONSHTTP/1.1\n"), &sl), -1);
	CU_ASSERT_EQUAL(kapa_http_parse_start(S("GET / FTP/1.1\r\n"), &sl), -1);
	CU_ASSERT_EQUAL(kapa_http_parse_start(S("GET / HTTP/1.1"), &sl), -1);
	CU_ASSERT_EQUAL(kapa_http_parse_start(S("HTTP/1.1 20 OK\r\n"), &sl), -1);
	CU_ASSERT_EQUAL(kapa_http_parse_start(S("G(T / HTTP/1.1\r\n"), &sl), -1);
}

static void
test_prefix(void)
{
	CU_ASSERT(kapa_http_start_prefix_ok(S("G")));
	CU_ASSERT(kapa_http_start_prefix_ok(S("H")));
	CU_ASSERT(kapa_http_start_prefix_ok(S("HTTP/1.")));
	CU_ASSERT(kapa_http_start_prefix_ok(S("POST /x HT")));
	CU_ASSERT(!kapa_http_start_prefix_ok(S("\x16\x03\x01")));
	CU_ASSERT(!kapa_http_start_prefix_ok(S("GET /x FTP")));
	CU_ASSERT(!kapa_http_start_prefix_ok(S("OPTIONSHTTP/1.1\n")));
	CU_ASSERT_EQUAL(kapa_http_resync_point(S("GET / HTTP/1.1\r\n")), 1);
	CU_ASSERT_EQUAL(kapa_http_resync_point(S("HTTP/1.1 200 OK\r\n")), 2);
	CU_ASSERT_EQUAL(kapa_http_resync_point(S("GET / HTTP/1.1")), 0);
	CU_ASSERT_EQUAL(kapa_http_resync_point(S("some body text\r\n")), 0);
	CU_ASSERT_EQUAL(kapa_http_resync_point(S("GET /\r\n")), 0);	/* lenient: no */
}

/* Tolerated start lines: parsed, each tolerance noted; a prefix of every
 * one passes kapa_http_start_prefix_ok() (monotone). */
/* S() for a string that is not a literal. */
#define SZ(str) (const uint8_t *)(str), (uint32_t)strlen(str)

static void
test_start_tolerated(void)
{
	static const struct {
		const char *line;
		uint16_t tol;
	} ok[] = {
		{ "GET      /x HTTP/1.1\r\n", 1u << KAPA_HTTP_TOL_WS_RUN },
		{ "GET /x \t HTTP/1.1\r\n",
		  (1u << KAPA_HTTP_TOL_WS_RUN) | (1u << KAPA_HTTP_TOL_HTAB) },
		{ "GET /x HTTP/1.1  \r\n", 1u << KAPA_HTTP_TOL_TRAILING_WS },
		{ "GET /x HTTP/1.1\n", 1u << KAPA_HTTP_TOL_BARE_LF },
		{ "GET /x HTTP/01.001\r\n", 1u << KAPA_HTTP_TOL_VERSION_DIGITS },
		{ "GET  /x  HTTP/1.\r\n",
		  (1u << KAPA_HTTP_TOL_WS_RUN) | (1u << KAPA_HTTP_TOL_NO_VERSION) },
		{ "HTTP/1.1   200 OK\r\n", 1u << KAPA_HTTP_TOL_WS_RUN },
		{ "HTTP/1.1\t200\r\n", 1u << KAPA_HTTP_TOL_HTAB },
		{ "HTTP/1.10 200 OK\r\n", 1u << KAPA_HTTP_TOL_VERSION_DIGITS },
		{ "GET / HTTP/1. \r\n",
		  (1u << KAPA_HTTP_TOL_NO_VERSION) | (1u << KAPA_HTTP_TOL_TRAILING_WS) },
	};
	static const char *const refused[] = {
		"GET   \r\n", "GET /x HTTP/1.1 x\r\n", "GET /x HTTP/1.1  x\r\n", "FOO  /x\r\n", "FOO /x HTTP/1111.1\r\n",
		"HTTP/1.1  20 OK\r\n", "HTTP/1.1 200OK\r\n", "HTTP/1.1\r\n",
	};
	struct kapa_http_start sl;
	size_t i, n;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CU_ASSERT_EQUAL(kapa_http_parse_start(SZ(ok[i].line), &sl), 0);
		CU_ASSERT_EQUAL(sl.tolerated, ok[i].tol);
		CU_ASSERT(!sl.strict);
		if (sl.tolerated != ok[i].tol)
			fprintf(stderr, "\n%s: tolerated %x\n", ok[i].line, sl.tolerated);
		for (n = 1; n <= strlen(ok[i].line); n++)
			CU_ASSERT(kapa_http_start_prefix_ok((const uint8_t *)ok[i].line, (uint32_t)n));
	}
	CU_ASSERT_EQUAL(kapa_http_parse_start(S("GET      /x HTTP/1.1\r\n"), &sl), 0);
	CU_ASSERT(sl.target.len == 2 && memcmp(sl.target.p, "/x", 2) == 0);
	CU_ASSERT(sl.ver_major == 1 && sl.ver_minor == 1 && sl.version.len == 3);
	CU_ASSERT_EQUAL(kapa_http_parse_start(S("GET /x HTTP/1.10\r\n"), &sl), 0);
	CU_ASSERT(sl.ver_minor == 10 && sl.version.len == 4);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		CU_ASSERT_EQUAL(kapa_http_parse_start(SZ(refused[i]), &sl), -1);
		if (kapa_http_parse_start(SZ(refused[i]), &sl) == 0)
			fprintf(stderr, "\n%s: parsed\n", refused[i]);
	}
	/* well-formed lines need nothing */
	CU_ASSERT_EQUAL(kapa_http_parse_start(S("GET /x HTTP/1.1\r\n"), &sl), 0);
	CU_ASSERT(sl.strict && sl.tolerated == 0);
	/* a tolerated line is not a resync point; a bare LF still is */
	CU_ASSERT_EQUAL(kapa_http_resync_point(S("GET  / HTTP/1.1\r\n")), 0);
	CU_ASSERT_EQUAL(kapa_http_resync_point(S("GET / HTTP/1.1\n")), 1);
	CU_ASSERT(!kapa_http_start_prefix_ok(S("GET  \r")));
	CU_ASSERT(!kapa_http_start_prefix_ok(S("GET  /x  FTP")));
	CU_ASSERT(!kapa_http_start_prefix_ok(S("HTTP/1.1111")));
}

int
kapa_unit_register(void)
{
	CU_pSuite s = CU_add_suite("http_values", NULL, NULL);

	if (s == NULL)
		return -1;
	if (CU_add_test(s, "connection basic", test_conn_basic) == NULL ||
	    CU_add_test(s, "connection list", test_conn_list) == NULL ||
	    CU_add_test(s, "connection token edges", test_conn_edges) == NULL ||
	    CU_add_test(s, "connection combined, truncated",
			test_conn_combined_and_truncated) == NULL ||
	    CU_add_test(s, "keep-alive basic", test_ka_basic) == NULL ||
	    CU_add_test(s, "keep-alive malformed, duplicates", test_ka_bad) == NULL ||
	    CU_add_test(s, "content-length variants", test_cl_variants) == NULL ||
	    CU_add_test(s, "transfer-encoding variants", test_te_variants) == NULL ||
	    CU_add_test(s, "chunk-size line grammar", test_chunk_line) == NULL ||
	    CU_add_test(s, "chunk-size line cut at every byte",
			test_chunk_line_cut_everywhere) == NULL ||
	    CU_add_test(s, "trailers", test_trailers) == NULL ||
	    CU_add_test(s, "start lines", test_start_line) == NULL ||
	    CU_add_test(s, "start lines servers tolerate", test_start_tolerated) == NULL ||
	    CU_add_test(s, "start prefix, resync points", test_prefix) == NULL)
		return -1;
	return 0;
}
