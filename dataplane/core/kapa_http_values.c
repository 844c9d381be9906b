/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Value parsers of the HTTP/1.x tracker. Pure functions over byte ranges
 * that Hyperscan located: no allocation, no state outside their arguments,
 * never a read past p + len. The incremental ones (chunk-size lines,
 * trailers) keep their state in a few caller-owned bytes so that a line may
 * be cut at any byte without re-parsing.
 */
#include <stdint.h>
#include <string.h>

#include "kapa_http_int.h"

/* Upper bound of a Content-Length: far above any real body, and low
 * enough that offset + length never wraps a 64-bit stream offset. */
#define CL_MAX (UINT64_C(1) << 62)

static inline bool
is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static inline bool
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* RFC 9110 §5.6.2 tchar. */
static bool
is_tchar(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static inline uint8_t
lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Case-insensitive comparison of a span with a lower-case literal. */
static bool
span_is(const uint8_t *p, uint32_t len, const char *lit)
{
	uint32_t i;

	if (strlen(lit) != len)
		return false;
	for (i = 0; i < len; i++)
		if (lower(p[i]) != (uint8_t)lit[i])
			return false;
	return true;
}

/* Trim optional whitespace at both ends of [*b, *e). */
static void
trim(const uint8_t *p, uint32_t *b, uint32_t *e)
{
	while (*b < *e && is_ows(p[*b]))
		(*b)++;
	while (*e > *b && is_ows(p[*e - 1]))
		(*e)--;
}

/* End of the list element starting at @p i: the next ',' outside a quoted
 * string (a quoted Keep-Alive value may hold a comma). */
static uint32_t
element_end(const uint8_t *p, uint32_t len, uint32_t i)
{
	bool quoted = false;

	for (; i < len; i++) {
		if (quoted) {
			if (p[i] == '\\' && i + 1 < len)
				i++;
			else if (p[i] == '"')
				quoted = false;
		} else if (p[i] == '"') {
			quoted = true;
		} else if (p[i] == ',') {
			break;
		}
	}
	return i;
}

uint8_t
kapa_http_parse_connection(const uint8_t *p, uint32_t len,
			   struct kapa_span *tokens, uint8_t max,
			   uint8_t *ntokens)
{
	uint8_t flags = 0;
	uint32_t i = 0, b, e;

	while (i <= len) {
		b = i;
		e = element_end(p, len, i);
		i = e + 1;
		trim(p, &b, &e);
		if (b == e)
			continue;	/* empty list elements are allowed */
		if (*ntokens < max) {
			tokens[*ntokens].p = p + b;
			tokens[*ntokens].len = e - b;
			(*ntokens)++;
		} else {
			flags |= KAPA_HTTP_CONN_TRUNCATED;
		}
		/* The whole element must be the token: "close;x" and
		 * "closed" are other tokens, not close. */
		if (span_is(p + b, e - b, "close"))
			flags |= KAPA_HTTP_CONN_CLOSE;
		else if (span_is(p + b, e - b, "keep-alive"))
			flags |= KAPA_HTTP_CONN_KEEP_ALIVE;
		else if (span_is(p + b, e - b, "upgrade"))
			flags |= KAPA_HTTP_CONN_UPGRADE;
	}
	return flags;
}

/* Parse a Keep-Alive parameter value: 1*DIGIT, or the same quoted.
 * @return 0 with *v set, or -1 (empty, not digits, over UINT32_MAX). */
static int
ka_value(const uint8_t *p, uint32_t len, uint32_t *v)
{
	uint64_t acc = 0;
	uint32_t i;

	if (len >= 2 && p[0] == '"' && p[len - 1] == '"') {
		p++;
		len -= 2;
	}
	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (!is_digit(p[i]))
			return -1;
		acc = acc * 10 + (uint64_t)(p[i] - '0');
		if (acc > UINT32_MAX)
			return -1;
	}
	*v = (uint32_t)acc;
	return 0;
}

static bool
all_digits(const uint8_t *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		if (!is_digit(p[i]))
			return false;
	return len > 0;
}

uint32_t
kapa_http_parse_keep_alive(const uint8_t *p, uint32_t len,
			   struct kapa_http_msg *msg)
{
	uint32_t bad = 0, i = 0, b, e, eq, nb, ne, vb, ve, v;

	while (i <= len) {
		b = i;
		e = element_end(p, len, i);
		i = e + 1;
		trim(p, &b, &e);
		if (b == e)
			continue;
		for (eq = b; eq < e && p[eq] != '='; eq++)
			;
		nb = b;
		ne = eq;
		trim(p, &nb, &ne);
		if (eq == e) {
			/* No '=': the old "Keep-Alive: 300" form that early
			 * browsers sent, the idle seconds they asked for. It is
			 * read as the timeout unless a timeout= comes first. */
			if (!all_digits(p + nb, ne - nb))
				continue;	/* a name alone: ignored */
			if (msg->has_ka_timeout || ka_value(p + nb, ne - nb, &v) != 0) {
				bad++;
				continue;
			}
			msg->has_ka_timeout = true;
			msg->ka_timeout = v;
			continue;
		}
		vb = eq + 1;
		ve = e;
		trim(p, &vb, &ve);
		if (span_is(p + nb, ne - nb, "timeout")) {
			if (msg->has_ka_timeout || ka_value(p + vb, ve - vb, &v) != 0) {
				bad++;	/* first valid value wins */
				continue;
			}
			msg->has_ka_timeout = true;
			msg->ka_timeout = v;
		} else if (span_is(p + nb, ne - nb, "max")) {
			if (msg->has_ka_max || ka_value(p + vb, ve - vb, &v) != 0) {
				bad++;
				continue;
			}
			msg->has_ka_max = true;
			msg->ka_max = v;
		} else if (nb == ne) {
			bad++;	/* "=5": a value without a name */
		}
		/* other names: ignored, as the spec says */
	}
	return bad;
}

int
kapa_http_parse_content_length(const uint8_t *p, uint32_t len,
			       struct kapa_http_cl *cl)
{
	uint32_t i = 0, b, e, k;
	uint64_t v;

	if (cl->bad)
		return -1;
	if (len == 0)
		goto bad;
	while (i <= len) {
		b = i;
		for (e = i; e < len && p[e] != ','; e++)
			;
		i = e + 1;
		trim(p, &b, &e);
		/* An empty element ("5,,5", ", 5", "") is refused: the
		 * value would be a guess. */
		if (b == e)
			goto bad;
		v = 0;
		for (k = b; k < e; k++) {
			if (!is_digit(p[k]))
				goto bad;	/* "+5", "5 5", "0x5" */
			v = v * 10 + (uint64_t)(p[k] - '0');
			if (v > CL_MAX)
				goto bad;
		}
		if (cl->seen && cl->value != v)
			goto bad;
		cl->seen = true;
		cl->value = v;
	}
	return 0;
bad:
	cl->seen = true;
	cl->bad = true;
	return -1;
}

int
kapa_http_parse_transfer_encoding(const uint8_t *p, uint32_t len,
				  struct kapa_http_te *te)
{
	uint32_t i = 0, b, e, n = 0;
	bool chunked;

	te->seen = true;
	while (i <= len) {
		b = i;
		for (e = i; e < len && p[e] != ','; e++)
			;
		i = e + 1;
		trim(p, &b, &e);
		if (b == e)
			continue;
		/* The coding name ends at its parameters. */
		n++;
		{
			uint32_t ne = b;

			while (ne < e && p[ne] != ';' && !is_ows(p[ne]))
				ne++;
			chunked = span_is(p + b, ne - b, "chunked");
		}
		if (chunked) {
			if (te->chunked_seen)
				te->bad = true;	/* chunked twice (RFC 9112 §6.1) */
			te->chunked_seen = true;
		}
		te->chunked_last = chunked;
		if (te->ncodings < UINT8_MAX)
			te->ncodings++;
	}
	if (n == 0)
		te->bad = true;	/* "Transfer-Encoding:" with no coding */
	return te->bad ? -1 : 0;
}

static inline int
hex_val(uint8_t c)
{
	if (is_digit(c))
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
kapa_http_chunk_line(const uint8_t *p, uint32_t len, uint64_t *size,
		     uint8_t *sub, uint8_t *ndigits, uint32_t *used)
{
	uint32_t i;
	int x;

	for (i = 0; i < len; i++) {
		uint8_t c = p[i];

		switch (*sub) {
		case KAPA_CHUNK_DIGITS:
			x = hex_val(c);
			if (x >= 0) {
				if (*ndigits >= KAPA_CHUNK_MAX_DIGITS)
					goto bad;
				(*ndigits)++;
				*size = (*size << 4) | (uint64_t)x;
				continue;
			}
			if (*ndigits == 0)
				goto bad;
			/* The first byte after the digits is read as in BWS. */
			/* fall through */
		case KAPA_CHUNK_BWS:
			if (is_ows(c))
				*sub = KAPA_CHUNK_BWS;
			else if (c == ';')
				*sub = KAPA_CHUNK_EXT;
			else if (c == '\r')
				*sub = KAPA_CHUNK_CR;
			else if (c == '\n')
				goto done;
			else
				goto bad;
			break;
		case KAPA_CHUNK_EXT:
			/* Extensions are skipped unread, but a CR in them
			 * must still end the line. */
			while (i < len && p[i] != '\r' && p[i] != '\n')
				i++;
			if (i == len)
				break;
			if (p[i] == '\n')
				goto done;
			*sub = KAPA_CHUNK_CR;
			break;
		case KAPA_CHUNK_CR:
			if (c != '\n')
				goto bad;
			goto done;
		default:
			goto bad;
		}
	}
	*used = len;
	return 0;
done:
	*used = i + 1;
	if (*size > CL_MAX)
		return -1;
	return 1;
bad:
	*used = i;
	return -1;
}

int
kapa_http_trailers(const uint8_t *p, uint32_t len, uint8_t *sub, uint32_t *used)
{
	uint32_t i = 0;
	const uint8_t *lf;

	while (i < len) {
		switch (*sub) {
		case KAPA_TRAILER_LINE_START:
			if (p[i] == '\n') {
				*used = i + 1;
				return 1;
			}
			*sub = p[i] == '\r' ? KAPA_TRAILER_EMPTY_CR : KAPA_TRAILER_IN_LINE;
			i++;
			break;
		case KAPA_TRAILER_IN_LINE:
			lf = memchr(p + i, '\n', len - i);
			if (lf == NULL) {
				i = len;
				break;
			}
			i = (uint32_t)(lf - p) + 1;
			*sub = KAPA_TRAILER_LINE_START;
			break;
		case KAPA_TRAILER_EMPTY_CR:
			if (p[i] != '\n') {
				*used = i;
				return -1;
			}
			*used = i + 1;
			return 1;
		default:
			*used = i;
			return -1;
		}
	}
	*used = len;
	return 0;
}

/* Bytes of a start line that kapa_http_start_prefix_ok() looks at. */
#define PREFIX_LOOK 48
/* Longest method accepted (the registered ones are far shorter). */
#define METHOD_MAX 32
/* Digits on each side of a version's dot that a tolerant parse reads
 * (nginx reads up to 3: "HTTP/1.10" is minor 10, below its limit of 99). */
#define VERSION_DIGITS_MAX 3

static bool
status_prefix_ok(const uint8_t *p, uint32_t m)
{
	static const char pat[] = "HTTP/d.d ";
	uint32_t i;

	for (i = 0; i < m && i < sizeof(pat) - 1; i++) {
		if (pat[i] == 'd') {
			if (!is_digit(p[i]))
				return false;
		} else if (p[i] != (uint8_t)pat[i]) {
			return false;
		}
	}
	return true;
}

static inline bool
is_eol(uint8_t c)
{
	return c == '\r' || c == '\n';
}

/* A byte of a request target: any visible byte, obs-text included (servers
 * take UTF-8 paths as they come). */
static inline bool
is_target_char(uint8_t c)
{
	return c > 0x20 && c != 0x7f;
}

/* Monotone and at least as permissive as kapa_http_parse_start()'s strict
 * lines and its known-method forms: a line may also end after the method,
 * after the target, or inside an odd version. */
static bool
request_prefix_ok(const uint8_t *p, uint32_t m)
{
	static const char ver[] = "HTTP/";
	uint32_t i = 0, t, k;

	while (i < m && is_tchar(p[i]))
		i++;
	if (i > METHOD_MAX)
		return false;
	if (i == m)
		return true;
	if (i == 0)
		return false;
	if (is_eol(p[i]))
		return true;
	if (p[i] != ' ')
		return false;
	t = ++i;
	while (i < m && is_target_char(p[i]))
		i++;
	if (i == m)
		return true;
	if (i > t && is_eol(p[i]))
		return true;
	if (i == t || p[i] != ' ')
		return false;
	i++;
	for (k = 0; i < m && k < sizeof(ver) - 1; i++, k++)
		if (p[i] != (uint8_t)ver[k])
			return false;
	return true;
}

/*
 * The tolerated forms, asked only when both strict prefixes failed (so a
 * well-formed stream never pays for them): runs of SP/HTAB between the
 * parts and before the end, version digits other than d.d. Monotone, and a
 * superset of every line kapa_http_parse_start() reads.
 */
static uint32_t
skip_ows(const uint8_t *p, uint32_t i, uint32_t m)
{
	while (i < m && is_ows(p[i]))
		i++;
	return i;
}

static bool
request_prefix_tolerant(const uint8_t *p, uint32_t m)
{
	static const char ver[] = "HTTP/";
	uint32_t i = 0, t, k;

	while (i < m && is_tchar(p[i]))
		i++;
	if (i > METHOD_MAX)
		return false;
	if (i == m)
		return true;
	if (i == 0)
		return false;
	if (is_eol(p[i]))
		return true;
	if (!is_ows(p[i]))
		return false;
	i = skip_ows(p, i, m);
	t = i;
	while (i < m && is_target_char(p[i]))
		i++;
	if (i == m)
		return true;
	if (i == t)
		return false;
	if (is_eol(p[i]))
		return true;
	if (!is_ows(p[i]))
		return false;
	i = skip_ows(p, i, m);
	if (i == m || is_eol(p[i]))
		return true;
	for (k = 0; i < m && k < sizeof(ver) - 1; i++, k++)
		if (p[i] != (uint8_t)ver[k])
			return false;
	return true;
}

static bool
status_prefix_tolerant(const uint8_t *p, uint32_t m)
{
	static const char name[] = "HTTP/";
	uint32_t i, d, part;

	for (i = 0; i < m && i < sizeof(name) - 1; i++)
		if (p[i] != (uint8_t)name[i])
			return false;
	for (part = 0; part < 2; part++) {
		for (d = 0; i < m && is_digit(p[i]); i++)
			if (++d > VERSION_DIGITS_MAX)
				return false;
		if (i == m)
			return true;
		if (d == 0 || (part == 0 ? p[i] != '.' : !is_ows(p[i])))
			return false;
		i++;
	}
	return true;
}

bool
kapa_http_start_prefix_ok(const uint8_t *p, uint32_t n)
{
	uint32_t m = n < PREFIX_LOOK ? n : PREFIX_LOOK;

	if (status_prefix_ok(p, m) || request_prefix_ok(p, m))
		return true;
	return status_prefix_tolerant(p, m) || request_prefix_tolerant(p, m);
}

/* "d.d" at p: the version after "HTTP/". */
static int
version(const uint8_t *p, uint32_t len, struct kapa_http_start *sl)
{
	if (len < 3 || !is_digit(p[0]) || p[1] != '.' || !is_digit(p[2]))
		return -1;
	sl->version.p = p;
	sl->version.len = 3;
	sl->ver_major = (uint8_t)(p[0] - '0');
	sl->ver_minor = (uint8_t)(p[2] - '0');
	return 0;
}

/*
 * A version with 1 to VERSION_DIGITS_MAX digits on each side of its dot,
 * read as numbers (nginx: "HTTP/1.01" is 1.1, "HTTP/1.10" is 1.10, which
 * persists by default), at p[i, end).
 * @return the index after it, or 0 when there is none.
 */
static uint32_t
version_tolerant(const uint8_t *p, uint32_t i, uint32_t end, struct kapa_http_start *sl)
{
	uint32_t start = i, v[2], d, part;

	for (part = 0; part < 2; part++) {
		if (part == 1) {
			if (i == end || p[i] != '.')
				return 0;
			i++;
		}
		for (v[part] = 0, d = 0; i < end && is_digit(p[i]); i++, d++)
			v[part] = v[part] * 10 + (uint32_t)(p[i] - '0');
		if (d == 0 || d > VERSION_DIGITS_MAX)
			return 0;
	}
	sl->version.p = p + start;
	sl->version.len = i - start;
	sl->ver_major = (uint8_t)(v[0] > 255 ? 255 : v[0]);
	sl->ver_minor = (uint8_t)(v[1] > 255 ? 255 : v[1]);
	if (sl->version.len != 3)
		sl->tolerated |= 1u << KAPA_HTTP_TOL_VERSION_DIGITS;
	return i;
}

/*
 * Methods whose request line is accepted without a well-formed version
 * ("OPTIONS", "GET /HTTP/1.1", "GET / HTTP/1."), as tshark does for the
 * methods it knows. Such a request is read as HTTP/1.0; the server answers
 * it (usually 400) and tracking goes on. Other tokens need a full line, so
 * that "SSH-2.0-x y" or a TLS record is not taken for a request.
 */
static bool
known_method(const uint8_t *p, uint32_t len)
{
	static const char *const known[] = {
		"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE",
		"PATCH", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK",
		"UNLOCK", "SEARCH", "REPORT", "CCM_POST",
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i]) == len && memcmp(p, known[i], len) == 0)
			return true;
	return false;
}

/*
 * The whitespace separating two parts of a start line, p[i, end): one SP is
 * the grammar; a run (nginx, HAProxy) or an HTAB (HAProxy) is tolerated,
 * each noted. A run that reaches the end of the line is trailing
 * whitespace (nginx takes spaces after the version).
 * @return the index after it.
 */
static uint32_t
separator(const uint8_t *p, uint32_t i, uint32_t end, struct kapa_http_start *sl)
{
	uint32_t from = i, k;

	i = skip_ows(p, i, end);
	if (i == end) {
		if (i > from)
			sl->tolerated |= 1u << KAPA_HTTP_TOL_TRAILING_WS;
		return i;
	}
	if (i - from > 1)
		sl->tolerated |= 1u << KAPA_HTTP_TOL_WS_RUN;
	for (k = from; k < i; k++)
		if (p[k] == '\t')
			sl->tolerated |= 1u << KAPA_HTTP_TOL_HTAB;
	return i;
}

/* The strict status line `HTTP/d.d SP 3DIGIT [SP reason]`, p[0, end). */
static int
status_strict(const uint8_t *p, uint32_t end, struct kapa_http_start *sl)
{
	uint32_t i = 8;

	if (version(p + 5, end - 5, sl) != 0)
		return -1;
	if (i + 4 > end || p[i] != ' ' || !is_digit(p[i + 1]) ||
	    !is_digit(p[i + 2]) || !is_digit(p[i + 3]))
		return -1;
	sl->status = (uint16_t)((p[i + 1] - '0') * 100 + (p[i + 2] - '0') * 10 +
				(p[i + 3] - '0'));
	if (sl->status < 100)
		return -1;
	i += 4;
	if (i < end) {
		if (p[i] != ' ')
			return -1;
		sl->reason.p = p + i + 1;
		sl->reason.len = end - i - 1;
	} else {
		sl->reason.p = p + end;
	}
	return 0;
}

/* The tolerated status line: `HTTP/v (SP|HTAB)+ 3DIGIT [(SP|HTAB) reason]`
 * with version_tolerant()'s digits. */
static int
status_tolerant(const uint8_t *p, uint32_t end, struct kapa_http_start *sl)
{
	uint32_t i = version_tolerant(p, 5, end, sl);

	if (i == 0 || i == end || !is_ows(p[i]))
		return -1;
	i = separator(p, i, end, sl);
	if (i == end)
		return -1;
	if (end - i < 3 || !is_digit(p[i]) || !is_digit(p[i + 1]) || !is_digit(p[i + 2]))
		return -1;
	sl->status = (uint16_t)((p[i] - '0') * 100 + (p[i + 1] - '0') * 10 + (p[i + 2] - '0'));
	if (sl->status < 100)
		return -1;
	i += 3;
	sl->reason.p = p + end;
	if (i < end) {
		if (!is_ows(p[i]))
			return -1;
		if (p[i] == '\t')
			sl->tolerated |= 1u << KAPA_HTTP_TOL_HTAB;
		sl->reason.p = p + i + 1;
		sl->reason.len = end - i - 1;
	}
	return 0;
}

/* The strict request line `METHOD SP target SP HTTP/d.d`, p[0, end). */
static int
request_strict(const uint8_t *p, uint32_t end, struct kapa_http_start *sl)
{
	uint32_t i, t;

	for (i = 0; i < end && is_tchar(p[i]); i++)
		;
	if (i == 0 || i > METHOD_MAX || i == end || p[i] != ' ')
		return -1;
	sl->method.p = p;
	sl->method.len = i;
	t = ++i;
	while (i < end && is_target_char(p[i]))
		i++;
	if (i == t || end - i != 9 || p[i] != ' ' || memcmp(p + i + 1, "HTTP/", 5) != 0 ||
	    version(p + i + 6, 3, sl) != 0)
		return -1;
	sl->target.p = p + t;
	sl->target.len = i - t;
	return 0;
}

/*
 * The request lines origin servers serve beyond the grammar, p[0, end):
 * whitespace runs, tabs and trailing whitespace (separator()), version
 * digits (version_tolerant()); and, for a known method, no version at all
 * or an odd one: read as HTTP/1.0 with the text after "HTTP/" as the
 * version (tshark reads these; a server answers them, usually 400, and
 * tracking goes on).
 */
static int
request_tolerant(const uint8_t *p, uint32_t end, struct kapa_http_start *sl)
{
	uint32_t i, t, v, ve;
	uint16_t before;

	for (i = 0; i < end && is_tchar(p[i]); i++)
		;
	if (i == 0 || i > METHOD_MAX || (i < end && !is_ows(p[i])))
		return -1;
	sl->method.p = p;
	sl->method.len = i;
	sl->target.p = p + i;
	sl->version.p = p + end;
	if (i == end)
		goto no_version;
	i = separator(p, i, end, sl);
	t = i;
	while (i < end && is_target_char(p[i]))
		i++;
	if (i == t)
		return -1;	/* a method and whitespace: no server takes it */
	sl->target.p = p + t;
	sl->target.len = i - t;
	if (i < end && !is_ows(p[i]))
		return -1;
	i = separator(p, i, end, sl);
	if (i == end)
		goto no_version;
	if (end - i < 5 || memcmp(p + i, "HTTP/", 5) != 0)
		return -1;
	v = i + 5;
	before = sl->tolerated;
	i = version_tolerant(p, v, end, sl);
	if (i != 0 && separator(p, i, end, sl) == end)
		return 0;
	/* an odd version: its text up to trailing whitespace, no inner one */
	sl->tolerated = before;
	for (ve = end; ve > v && is_ows(p[ve - 1]); ve--)
		;
	if (ve < end)
		sl->tolerated |= 1u << KAPA_HTTP_TOL_TRAILING_WS;
	for (i = v; i < ve; i++)
		if (p[i] <= 0x20 || p[i] == 0x7f)
			return -1;
	sl->version.p = p + v;
	sl->version.len = ve - v;
no_version:
	if (!known_method(sl->method.p, sl->method.len))
		return -1;
	sl->tolerated |= 1u << KAPA_HTTP_TOL_NO_VERSION;
	sl->ver_major = 1;
	sl->ver_minor = 0;
	return 0;
}

int
kapa_http_parse_start(const uint8_t *p, uint32_t len, struct kapa_http_start *sl)
{
	const uint8_t *lf = memchr(p, '\n', len);
	uint32_t end;
	int rc;

	if (lf == NULL)
		return -1;
	memset(sl, 0, sizeof(*sl));
	sl->len = (uint32_t)(lf - p) + 1;
	end = sl->len - 1;
	if (end > 0 && p[end - 1] == '\r')
		end--;
	else
		sl->tolerated |= 1u << KAPA_HTTP_TOL_BARE_LF;

	if (end >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		rc = status_strict(p, end, sl);
		if (rc != 0) {
			memset(&sl->version, 0, sizeof(sl->version));
			rc = status_tolerant(p, end, sl);
		}
	} else {
		sl->is_request = true;
		rc = request_strict(p, end, sl);
		if (rc != 0)
			rc = request_tolerant(p, end, sl);
	}
	sl->strict = rc == 0 && sl->tolerated == 0;
	return rc;
}

/* How far a resync looks for the end of a start line. */
#define RESYNC_LOOK 2048

int
kapa_http_resync_point(const uint8_t *p, uint32_t n)
{
	struct kapa_http_start sl;
	uint32_t m = n < RESYNC_LOOK ? n : RESYNC_LOOK;

	if (m == 0 || !kapa_http_start_prefix_ok(p, m))
		return 0;
	/* Only a well-formed line (a bare LF aside, which is common): a
	 * tolerated one inside a body is too likely. */
	if (kapa_http_parse_start(p, m, &sl) != 0 ||
	    (sl.tolerated & ~(1u << KAPA_HTTP_TOL_BARE_LF)) != 0)
		return 0;
	return sl.is_request ? 1 : 2;
}
