/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness of the HTTP/1.x value parsers (kapa_http_values.c): the
 * Connection and Keep-Alive parsers of kapa_http.h and the framing parsers
 * of kapa_http_int.h. The first input byte picks the parser; the rest is the
 * value, in a buffer that ends where the input ends (ASan sees over-reads).
 * Besides memory safety, each parser is held to properties it must have:
 * spans inside the input and trimmed, case-insensitivity, results that do
 * not depend on where a line was cut (the incremental parsers), and start
 * lines whose every prefix the prefix test accepts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapa_http_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_http_values: %s:%d: %s\n", \
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/* Longest value looked at: header blocks are at most 16 KiB anyway. */
#define MAX_VALUE 4096

static bool
is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static void
lower_copy(uint8_t *dst, const uint8_t *src, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (uint8_t)(src[i] + 32) : src[i];
}

static bool
span_in(const struct kapa_span *s, const uint8_t *p, uint32_t len)
{
	return s->p >= p && s->len <= len && (uint32_t)(s->p - p) <= len - s->len;
}

static bool
span_eq_ci(const struct kapa_span *s, const char *lit)
{
	uint32_t i;

	if (s->len != strlen(lit))
		return false;
	for (i = 0; i < s->len; i++) {
		uint8_t c = s->p[i];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + 32);
		if (c != (uint8_t)lit[i])
			return false;
	}
	return true;
}

static void
fuzz_connection(const uint8_t *p, uint32_t len, uint8_t *scratch)
{
	struct kapa_span tok[KAPA_HTTP_MAX_TOKENS], few[2];
	uint8_t n = 0, nfew = 0, flags, fflags, lflags, nl = 0, i;
	const uint8_t known = KAPA_HTTP_CONN_CLOSE | KAPA_HTTP_CONN_KEEP_ALIVE |
			      KAPA_HTTP_CONN_UPGRADE | KAPA_HTTP_CONN_TRUNCATED;

	flags = kapa_http_parse_connection(p, len, tok, KAPA_HTTP_MAX_TOKENS, &n);
	CHECK((flags & ~known) == 0);
	CHECK(n <= KAPA_HTTP_MAX_TOKENS);
	CHECK(!(flags & KAPA_HTTP_CONN_TRUNCATED) || n == KAPA_HTTP_MAX_TOKENS);
	for (i = 0; i < n; i++) {
		CHECK(span_in(&tok[i], p, len));
		CHECK(tok[i].len > 0);
		CHECK(!is_ows(tok[i].p[0]) && !is_ows(tok[i].p[tok[i].len - 1]));
		if (i > 0)
			CHECK(tok[i].p >= tok[i - 1].p + tok[i - 1].len);
		if (span_eq_ci(&tok[i], "close"))
			CHECK(flags & KAPA_HTTP_CONN_CLOSE);
		if (span_eq_ci(&tok[i], "keep-alive"))
			CHECK(flags & KAPA_HTTP_CONN_KEEP_ALIVE);
		if (span_eq_ci(&tok[i], "upgrade"))
			CHECK(flags & KAPA_HTTP_CONN_UPGRADE);
	}
	/* A smaller token array changes what is reported, not what is known. */
	fflags = kapa_http_parse_connection(p, len, few, 2, &nfew);
	CHECK((fflags & ~KAPA_HTTP_CONN_TRUNCATED) == (flags & ~KAPA_HTTP_CONN_TRUNCATED));
	CHECK(nfew == (n < 2 ? n : 2));
	for (i = 0; i < nfew; i++)
		CHECK(few[i].p == tok[i].p && few[i].len == tok[i].len);
	/* Tokens are case-insensitive. */
	lower_copy(scratch, p, len);
	lflags = kapa_http_parse_connection(scratch, len, tok, KAPA_HTTP_MAX_TOKENS, &nl);
	CHECK(lflags == flags && nl == n);
}

static void
fuzz_keep_alive(const uint8_t *p, uint32_t len, uint8_t *scratch)
{
	struct kapa_http_msg a, b;
	uint32_t bad, lbad, commas = 0, i;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	bad = kapa_http_parse_keep_alive(p, len, &a);
	for (i = 0; i < len; i++)
		commas += p[i] == ',';
	CHECK(bad <= commas + 1);
	if (!a.has_ka_timeout)
		CHECK(a.ka_timeout == 0);
	if (!a.has_ka_max)
		CHECK(a.ka_max == 0);
	/* Parameter names are case-insensitive; values are digits. */
	lower_copy(scratch, p, len);
	lbad = kapa_http_parse_keep_alive(scratch, len, &b);
	CHECK(lbad == bad);
	CHECK(a.has_ka_timeout == b.has_ka_timeout && a.ka_timeout == b.ka_timeout);
	CHECK(a.has_ka_max == b.has_ka_max && a.ka_max == b.ka_max);
}

/* Each LF-separated piece is one field line of the same message. */
static void
fuzz_framing(const uint8_t *p, uint32_t len, bool te_mode)
{
	struct kapa_http_cl cl, again;
	struct kapa_http_te te;
	const uint8_t *line = p, *lf, *end = p + len;
	uint32_t n;
	int r;
	bool was_bad = false;

	memset(&cl, 0, sizeof(cl));
	memset(&te, 0, sizeof(te));
	while (line <= end) {
		lf = memchr(line, '\n', (size_t)(end - line));
		n = (uint32_t)((lf != NULL ? lf : end) - line);
		if (te_mode) {
			r = kapa_http_parse_transfer_encoding(line, n, &te);
			CHECK((r == -1) == te.bad);
			CHECK(!was_bad || te.bad);	/* bad is for good */
			CHECK(te.seen);
			CHECK(!te.chunked_last || te.chunked_seen);
			was_bad = te.bad;
		} else {
			r = kapa_http_parse_content_length(line, n, &cl);
			CHECK((r == -1) == cl.bad);
			CHECK(!was_bad || cl.bad);
			CHECK(cl.seen);
			CHECK(cl.bad || cl.value <= (UINT64_C(1) << 62));
			was_bad = cl.bad;
			if (!cl.bad) {
				/* The same value again is consistent with itself. */
				again = cl;
				CHECK(kapa_http_parse_content_length(line, n, &again) == 0);
				CHECK(again.value == cl.value);
			}
		}
		if (lf == NULL)
			break;
		line = lf + 1;
	}
}

/* Whole, cut in two at @p cut, and byte by byte: the same answer. */
static void
fuzz_chunk_line(const uint8_t *p, uint32_t len, uint32_t cut)
{
	uint64_t size[3] = { 0, 0, 0 };
	uint8_t sub[3] = { 0, 0, 0 }, nd[3] = { 0, 0, 0 };
	uint32_t used[3] = { 0, 0, 0 }, u, i;
	int r[3];

	r[0] = kapa_http_chunk_line(p, len, &size[0], &sub[0], &nd[0], &used[0]);
	CHECK(r[0] >= -1 && r[0] <= 1 && used[0] <= len);
	CHECK(r[0] != 0 || used[0] == len);
	CHECK(r[0] != 1 || (used[0] > 0 && p[used[0] - 1] == '\n'));
	CHECK(nd[0] <= KAPA_CHUNK_MAX_DIGITS);

	cut = cut % (len + 1);
	r[1] = kapa_http_chunk_line(p, cut, &size[1], &sub[1], &nd[1], &u);
	used[1] = u;
	if (r[1] == 0) {
		CHECK(u == cut);
		r[1] = kapa_http_chunk_line(p + cut, len - cut, &size[1], &sub[1],
					    &nd[1], &u);
		used[1] += u;
	}

	r[2] = 0;
	for (i = 0; i < len && r[2] == 0; i++) {
		r[2] = kapa_http_chunk_line(p + i, 1, &size[2], &sub[2], &nd[2], &u);
		used[2] += u;
	}
	CHECK(r[1] == r[0] && r[2] == r[0]);
	CHECK(used[1] == used[0] && used[2] == used[0]);
	if (r[0] == 1)
		CHECK(size[1] == size[0] && size[2] == size[0]);
}

static void
fuzz_trailers(const uint8_t *p, uint32_t len, uint32_t cut)
{
	uint8_t sub[3] = { 0, 0, 0 };
	uint32_t used[3] = { 0, 0, 0 }, u, i;
	int r[3];

	r[0] = kapa_http_trailers(p, len, &sub[0], &used[0]);
	CHECK(r[0] >= -1 && r[0] <= 1 && used[0] <= len);
	CHECK(r[0] != 0 || used[0] == len);
	CHECK(r[0] != 1 || (used[0] > 0 && p[used[0] - 1] == '\n'));

	cut = cut % (len + 1);
	r[1] = kapa_http_trailers(p, cut, &sub[1], &u);
	used[1] = u;
	if (r[1] == 0) {
		CHECK(u == cut);
		r[1] = kapa_http_trailers(p + cut, len - cut, &sub[1], &u);
		used[1] += u;
	}
	r[2] = 0;
	for (i = 0; i < len && r[2] == 0; i++) {
		r[2] = kapa_http_trailers(p + i, 1, &sub[2], &u);
		used[2] += u;
	}
	CHECK(r[1] == r[0] && r[2] == r[0]);
	CHECK(used[1] == used[0] && used[2] == used[0]);
}

static void
fuzz_start(const uint8_t *p, uint32_t len)
{
	struct kapa_http_start sl;
	uint32_t n, lim;
	bool ok, was_ok = true;
	int r, rs;

	/* kapa_http_start_prefix_ok() is monotone: once false, false. */
	lim = len < 64 ? len : 64;
	for (n = 0; n <= lim; n++) {
		ok = kapa_http_start_prefix_ok(p, n);
		CHECK(was_ok || !ok);
		was_ok = ok;
	}
	if (memchr(p, '\n', len) != NULL) {
		r = kapa_http_parse_start(p, len, &sl);
		CHECK(r == 0 || r == -1);
		CHECK(sl.len >= 1 && sl.len <= len && p[sl.len - 1] == '\n');
		if (r == 0) {
			CHECK(span_in(&sl.version, p, sl.len));
			/* Strict lines are exactly those that needed no
			 * tolerance; a request without a version is read as
			 * HTTP/1.0. */
			CHECK(sl.strict == (sl.tolerated == 0));
			if (sl.tolerated & (1u << KAPA_HTTP_TOL_NO_VERSION))
				CHECK(sl.is_request && sl.ver_major == 1 && sl.ver_minor == 0);
			if (sl.strict)
				CHECK(sl.version.len == 3 && sl.ver_major <= 9 && sl.ver_minor <= 9);
			if (sl.is_request) {
				CHECK(span_in(&sl.method, p, sl.len) && sl.method.len > 0);
				CHECK(span_in(&sl.target, p, sl.len));
				CHECK(!sl.strict || sl.target.len > 0);
			} else {
				CHECK(sl.status >= 100 && sl.status <= 999);
				CHECK(span_in(&sl.reason, p, sl.len));
			}
			/* A line that parses must not be refused early by the
			 * prefix test the tracker runs on its first bytes.
			 * Known exception (reported): a lenient request line
			 * with no target ("GET \r\n") parses, but the prefix
			 * test refuses it, so the tracker refuses it whole
			 * or cut alike. */
			if (sl.strict || sl.target.len > 0)
				for (n = 0; n <= sl.len; n++)
					CHECK(kapa_http_start_prefix_ok(p, n));
		}
	}
	rs = kapa_http_resync_point(p, len);
	CHECK(rs >= 0 && rs <= 2);
	if (rs != 0) {
		CHECK(kapa_http_parse_start(p, len < 2048 ? len : 2048, &sl) == 0);
		CHECK(sl.is_request == (rs == 1));
		/* a resync needs a well-formed line, but for its line end */
		CHECK(sl.strict || sl.tolerated == (1u << KAPA_HTTP_TOL_BARE_LF));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t scratch[MAX_VALUE];
	const uint8_t *p;
	uint32_t len, cut;

	if (size < 2 || size - 2 > MAX_VALUE)
		return 0;
	cut = data[1];
	/* The value ends where libFuzzer's exact-size buffer ends. */
	p = data + 2;
	len = (uint32_t)(size - 2);
	switch (data[0] % 7) {
	case 0:
		fuzz_connection(p, len, scratch);
		break;
	case 1:
		fuzz_keep_alive(p, len, scratch);
		break;
	case 2:
		fuzz_framing(p, len, false);
		break;
	case 3:
		fuzz_framing(p, len, true);
		break;
	case 4:
		fuzz_chunk_line(p, len, cut);
		break;
	case 5:
		fuzz_trailers(p, len, cut);
		break;
	default:
		fuzz_start(p, len);
		break;
	}
	return 0;
}
