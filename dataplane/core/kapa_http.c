/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.x keep-alive tracker: a stream consumer of the TCP core.
 *
 * Each direction of a connection runs its own small state machine
 *   START -> (HEADER) -> BODY_LEN | CHUNK_SIZE/DATA/CRLF/TRAILERS | BODY_CLOSE
 *         -> START ...
 * whose state across arbitrary cut points is a handful of counters in the
 * 128-byte per-connection slot, so nothing is ever re-parsed. A header block
 * found whole inside one delivery is scanned where it lies (zero copy); one
 * that spans deliveries is copied into a buffer from a bounded pool, its end
 * found incrementally, and scanned once when complete. Bodies are skipped by
 * count and never scanned. See docs/core-http.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kapa_http.h"
#include "kapa_http_int.h"

/* Per-direction states. */
enum half_state {
	ST_START = 0,	/* between messages (leading empty lines skipped) */
	ST_HEADER,	/* a header block is open in a buffer */
	ST_BODY_LEN,	/* remain = body bytes left */
	ST_CHUNK_SIZE,	/* remain = size read so far, sub/ndigits = line state */
	ST_CHUNK_DATA,	/* remain = chunk bytes left */
	ST_CHUNK_CRLF,	/* the CRLF after chunk data; sub = CR seen */
	ST_TRAILERS,	/* sub = enum kapa_trailer_sub */
	ST_BODY_CLOSE,	/* response body until the server's FIN */
	ST_WAIT,	/* after CONNECT: skipped until its response decides */
	ST_RESYNC,	/* looking for a message start; remain = bytes looked at */
	ST_RESYNC_LINE,	/* a delivery began like a start line without its end:
			   buffered until the line ends, then judged */
	ST_DONE,	/* FIN: nothing more comes */
};

/* Bits of struct http_half::flags. */
#define HALF_RESYNCED	0x01	/* the next message comes from a resync point */
#define HALF_SKIPPED	0x02	/* bytes were skipped in ST_WAIT */
#define HALF_LINE_OK	0x04	/* the open block's start line is complete and parsed */
#define HALF_LEADING_EMPTY 0x08	/* empty lines came before the open message
				   (KAPA_HTTP_TOL_LEADING_EMPTY) */

/* Bits of struct http_conn::flags. */
#define F_ROLE_KNOWN	0x01	/* which direction carries requests is decided */
#define F_SWAPPED	0x02	/* ... and it is S2C (the TCP core guessed wrong) */
#define F_LEFT		0x04	/* the connection left HTTP/1.x tracking */
#define F_CLOSING	0x08	/* a final response said the connection closes */
#define F_REQ_CLOSING	0x10	/* a request said so (later requests are late) */
#define F_PAIR_UNSURE	0x20	/* bytes that may have held messages were lost:
				   only the fifo_sure oldest requests in flight
				   are paired for certain */
#define F_LOST_HEAD	0x40	/* a HEAD found the FIFO full (not queued) */
#define F_LOST_CONNECT	0x80	/* a CONNECT found the FIFO full */

/* Request kinds kept in the method FIFO (2 bits each). */
enum req_kind {
	REQ_OTHER = 0,
	REQ_HEAD,
	REQ_CONNECT,
};

#define FIFO_MAX 32
/* Bytes a direction may look through for a message start before giving up
 * (counted in bytes, not deliveries, so that the cut does not decide). */
#define RESYNC_MAX_BYTES (6u << 20)
/* Longest start line a resync waits for across deliveries (as far as
 * kapa_http_resync_point() looks). */
#define RESYNC_LINE_MAX 2048
#define PREFIX_LOOK 48
/*
 * Bytes past the end of what it is given that hs_scan() may read: Hyperscan
 * 5.4's AVX-512 VBMI runtime reads up to 2 (measured: a block that ends just
 * before an unmapped page crashes it; 2 readable bytes after it do not). So
 * the tracker never asks it to scan closer than this to the end of memory it
 * does not own: in place only up to SCAN_SLACK bytes before the end of the
 * delivery, and its own buffers carry SCAN_SLACK spare bytes.
 */
#define SCAN_SLACK 16
#define NO_LEAVE KAPA_LEAVE_MAX

struct http_half {
	uint64_t remain;
	uint32_t index;		/* messages reported in this direction */
	uint32_t buf;		/* header buffer + 1; 0 = none */
	uint8_t state;		/* enum half_state */
	uint8_t sub;
	uint8_t ndigits;
	uint8_t flags;		/* HALF_* */
	uint32_t spare;
};

/* The tracker's per-connection state, at the start of the app slot. */
struct http_conn {
	struct http_half half[2];	/* [enum kapa_dir] */
	uint64_t fifo_kind;	/* enum req_kind, 2 bits per request in flight */
	uint32_t fifo_persist;	/* 1 bit per request: it asked to persist */
	uint8_t fifo_head;
	uint8_t fifo_count;
	uint8_t flags;		/* F_* */
	uint8_t leave;		/* enum kapa_http_leave once F_LEFT */
	uint8_t fifo_sure;	/* with F_PAIR_UNSURE: FIFO entries from the head
				   whose responses are still to come, certainly
				   in this order */
	uint32_t inflight;	/* requests without a final response yet, the
				   unqueued ones past the pipeline depth too */
};

_Static_assert(sizeof(struct http_conn) <= KAPA_HTTP_STATE_SIZE,
	       "HTTP tracker state must fit KAPA_HTTP_STATE_SIZE");
_Static_assert(FIFO_MAX * 2 <= 64, "method FIFO must fit 64 bits");

/* A header block open across deliveries. */
struct hdr_buf {
	uint64_t off;		/* stream offset of the message */
	uint64_t first_ns;
	void *pkt_ref;
	uint32_t len;
	uint32_t next_free;	/* free list: index + 1, 0 = end; BUF_IN_USE
				   while it holds a block */
};

#define BUF_IN_USE UINT32_MAX

struct kapa_http {
	struct kapa_http_ops ops;
	void *ops_arg;
	uint32_t max_header;
	uint32_t header_buffers;
	uint32_t depth;
	uint32_t free_head;	/* index + 1, 0 = pool exhausted */
	struct hs_scratch *scratch;
	uint8_t *pool;		/* header_buffers x max_header */
	struct hdr_buf *bufs;
	uint8_t *bounce;	/* max_header + SCAN_SLACK: a whole block that ends
				   too near the end of its delivery to scan in place */
	struct kapa_http_stats stats;
	struct kapa_http_scan_res res;
	struct kapa_http_msg msg;
	uint64_t *ports;	/* port filter bitmap, NULL = every port */
};

static const char *const leave_names[KAPA_LEAVE_MAX] = {
	[KAPA_LEAVE_UPGRADE] = "upgrade",
	[KAPA_LEAVE_CONNECT] = "connect",
	[KAPA_LEAVE_H2_PREFACE] = "h2-preface",
	[KAPA_LEAVE_NOT_HTTP] = "not-http",
	[KAPA_LEAVE_GAP] = "gap",
	[KAPA_LEAVE_CL_TE] = "cl-te",
	[KAPA_LEAVE_BAD_CL] = "bad-cl",
	[KAPA_LEAVE_BAD_TE] = "bad-te",
	[KAPA_LEAVE_BAD_CHUNK] = "bad-chunk",
	[KAPA_LEAVE_OBS_FOLD] = "obs-fold",
	[KAPA_LEAVE_BARE_CR] = "bare-cr",
	[KAPA_LEAVE_BAD_START_LINE] = "bad-start-line",
	[KAPA_LEAVE_BAD_FIELD] = "bad-field",
	[KAPA_LEAVE_HEADER_TOO_BIG] = "header-too-big",
	[KAPA_LEAVE_NO_BUFFER] = "no-buffer",
	[KAPA_LEAVE_PIPELINE_DEPTH] = "pipeline-depth",
	[KAPA_LEAVE_PORT_FILTER] = "port-filter",
};

const char *
kapa_http_leave_name(unsigned why)
{
	return why < KAPA_LEAVE_MAX ? leave_names[why] : "unknown";
}

static const char *const tol_names[KAPA_HTTP_TOL_MAX] = {
	[KAPA_HTTP_TOL_LEADING_EMPTY] = "leading-empty",
	[KAPA_HTTP_TOL_WS_RUN] = "ws-run",
	[KAPA_HTTP_TOL_HTAB] = "htab",
	[KAPA_HTTP_TOL_TRAILING_WS] = "trailing-ws",
	[KAPA_HTTP_TOL_VERSION_DIGITS] = "version-digits",
	[KAPA_HTTP_TOL_NO_VERSION] = "no-version",
	[KAPA_HTTP_TOL_BARE_LF] = "bare-lf",
	[KAPA_HTTP_TOL_VERSION_MAJOR] = "version-major",
};

const char *
kapa_http_tol_name(unsigned tol)
{
	return tol < KAPA_HTTP_TOL_MAX ? tol_names[tol] : NULL;
}

/* ---- header buffer pool ------------------------------------------------ */

static uint8_t *
buf_data(struct kapa_http *h, uint32_t id)
{
	return h->pool + (size_t)(id - 1) * h->max_header;
}

static uint32_t
buf_get(struct kapa_http *h)
{
	uint32_t id = h->free_head;

	if (id != 0) {
		h->free_head = h->bufs[id - 1].next_free;
		h->bufs[id - 1].len = 0;
		h->bufs[id - 1].next_free = BUF_IN_USE;
	}
	return id;
}

static void
buf_put(struct kapa_http *h, uint32_t id)
{
	h->bufs[id - 1].next_free = h->free_head;
	h->free_head = id;
}

static void
half_drop_buf(struct kapa_http *h, struct http_half *hf)
{
	if (hf->buf != 0) {
		buf_put(h, hf->buf);
		hf->buf = 0;
	}
}

/* ---- roles, FIFO, leaving ------------------------------------------------ */

static inline bool
dir_is_request(const struct http_conn *st, enum kapa_dir dir)
{
	return (dir == KAPA_DIR_C2S) != ((st->flags & F_SWAPPED) != 0);
}

static void
fifo_push(struct http_conn *st, enum req_kind kind, bool persist)
{
	uint32_t i = (st->fifo_head + st->fifo_count) % FIFO_MAX;

	st->fifo_kind &= ~(UINT64_C(3) << (2 * i));
	st->fifo_kind |= (uint64_t)kind << (2 * i);
	if (persist)
		st->fifo_persist |= UINT32_C(1) << i;
	else
		st->fifo_persist &= ~(UINT32_C(1) << i);
	st->fifo_count++;
}

/* The request at the head of the FIFO (REQ_OTHER, persisting, when none is
 * in flight: a server may answer nothing we saw, e.g. a 408). */
static void
fifo_peek(const struct http_conn *st, enum req_kind *kind, bool *persist)
{
	uint32_t i = st->fifo_head;

	if (st->fifo_count == 0) {
		*kind = REQ_OTHER;
		*persist = true;
		return;
	}
	*kind = (enum req_kind)((st->fifo_kind >> (2 * i)) & 3);
	*persist = (st->fifo_persist >> i) & 1;
}

/* Whether a request of @p kind is in flight. */
static bool
fifo_has(const struct http_conn *st, enum req_kind kind)
{
	uint32_t i, k;

	for (i = 0; i < st->fifo_count; i++) {
		k = (st->fifo_head + i) % FIFO_MAX;
		if (((st->fifo_kind >> (2 * k)) & 3) == (uint64_t)kind)
			return true;
	}
	return false;
}

/* Whether the next response answers the FIFO's head for certain. */
static inline bool
pair_sure(const struct http_conn *st)
{
	return !(st->flags & F_PAIR_UNSURE) || st->fifo_sure > 0;
}

static void
fifo_pop(struct http_conn *st)
{
	if (st->fifo_count > 0) {
		st->fifo_head = (uint8_t)((st->fifo_head + 1) % FIFO_MAX);
		st->fifo_count--;
	}
	if (st->fifo_sure > 0)
		st->fifo_sure--;
}

/*
 * Bytes that may have held whole messages are gone from direction @p dir.
 * Lost requests come after every request already in the FIFO, so those keep
 * their pairing and only later responses become uncertain; lost responses
 * may have answered any of them, so then nothing in the FIFO is certain. Not
 * knowing how many messages were lost, the uncertainty lasts as long as the
 * connection.
 */
static void
pairing_lost(struct http_conn *st, enum kapa_dir dir)
{
	bool req_side = (st->flags & F_ROLE_KNOWN) && dir_is_request(st, dir);

	if (!(st->flags & F_PAIR_UNSURE)) {
		st->flags |= F_PAIR_UNSURE;
		st->fifo_sure = st->fifo_count;
	}
	if (!req_side)
		st->fifo_sure = 0;
}

static void
http_leave(struct kapa_http *h, const struct kapa_stream_ctx *ctx,
	   struct http_conn *st, enum kapa_http_leave why)
{
	if (st->flags & F_LEFT)
		return;
	st->flags |= F_LEFT;
	st->leave = (uint8_t)why;
	half_drop_buf(h, &st->half[0]);
	half_drop_buf(h, &st->half[1]);
	h->stats.leave[why]++;
	if (h->ops.leave != NULL)
		h->ops.leave(ctx, why, h->ops_arg);
	/* Fail open: the TCP core keeps forwarding and idle-tracking, but
	 * stops handing bytes to us. */
	if (ctx->tcp != NULL)
		kapa_tcp_set_opaque(ctx->tcp, ctx->idx);
}

static void
enter_resync(struct kapa_http *h, const struct kapa_stream_ctx *ctx,
	     struct http_conn *st, struct http_half *hf)
{
	half_drop_buf(h, hf);
	hf->flags &= (uint8_t)~(HALF_LINE_OK | HALF_LEADING_EMPTY);
	hf->state = ST_RESYNC;
	hf->remain = 0;
	hf->sub = 0;
	hf->ndigits = 0;
	/* Messages may have been lost with the bytes (or in what did not
	 * parse): the responses that follow may not answer what we think. */
	pairing_lost(st, ctx->dir);
}

/*
 * A start line did not parse. After a resync it was a false start: keep
 * looking. Otherwise this side has lost its place, but the other side still
 * frames: evasion captures and broken clients send request lines no server
 * accepts (or a body the request did not announce), and the server's answer
 * is still HTTP (tshark reports it). So this side looks for a resync point
 * while the other goes on. When the other side is lost too, the stream is
 * not (or no longer) HTTP/1.x: leave.
 */
static void
fail_start(struct kapa_http *h, const struct kapa_stream_ctx *ctx,
	   struct http_conn *st, struct http_half *hf, enum kapa_http_leave why)
{
	const struct http_half *peer = &st->half[ctx->dir ^ 1];

	if ((hf->flags & HALF_RESYNCED) ||
	    (peer->state != ST_RESYNC && peer->state != ST_RESYNC_LINE)) {
		enter_resync(h, ctx, st, hf);
		return;
	}
	if (hf->index == 0 && peer->index == 0)
		why = KAPA_LEAVE_NOT_HTTP;
	http_leave(h, ctx, st, why);
}

static void
message_end(struct kapa_http *h, const struct kapa_stream_ctx *ctx,
	    struct http_conn *st, struct http_half *hf)
{
	hf->state = ST_START;
	hf->remain = 0;
	if (h->ops.message_end != NULL)
		h->ops.message_end(ctx, dir_is_request(st, ctx->dir), hf->index - 1,
				   h->ops_arg);
}

/* ---- a complete header block ------------------------------------------- */

static inline bool
is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static bool
span_eq(const struct kapa_span *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->len == n && memcmp(s->p, lit, n) == 0;
}

/* Framing fields of one block, as read. */
struct framing {
	struct kapa_http_cl cl;
	struct kapa_http_te te;
};

/* A complete header block and where it came from. */
struct hdr_block {
	const uint8_t *b;	/* the block (in the delivery, or a copy) */
	uint32_t len;		/* through its final LF */
	const struct kapa_http_scan_res *r;
	uint64_t off;		/* stream offset of b[0] */
	void *pkt_ref;		/* packet of its first byte */
	uint64_t first_ns;
};

/* Record where a Connection or Keep-Alive line lies (block offsets made
 * stream offsets): the name starts name_len before the match end. */
static void
note_field_pos(struct kapa_http_msg *m, uint32_t id, uint64_t base, uint32_t name_end,
	       uint32_t vb, uint32_t ve, uint32_t line_end)
{
	struct kapa_http_field_pos *fp;
	uint8_t *n;

	if (id == KAPA_PAT_CONNECTION) {
		fp = m->conn_pos;
		n = &m->nconn_pos;
	} else {
		fp = m->ka_pos;
		n = &m->nka_pos;
	}
	if (*n == KAPA_HTTP_MAX_FIELD_POS) {
		m->fields_truncated = true;
		return;
	}
	fp += (*n)++;
	/* Both names are 10 bytes ("Connection", "Keep-Alive"). */
	fp->line = base + name_end - 10;
	fp->value = base + vb;
	fp->value_end = base + ve;
	fp->line_end = base + line_end;
}

/*
 * The first User-Agent value, for reports only: it decides nothing, so a
 * line the framing rules would refuse (space before the colon, a fold, a
 * CR) is passed over, never a reason to leave tracking.
 */
static void
note_user_agent(struct kapa_http_msg *m, const uint8_t *b, uint32_t name_end, uint32_t blen)
{
	const uint8_t *nl;
	uint32_t vb = name_end, ve;

	if (m->user_agent.len != 0 || b[vb] != ':')
		return;
	vb++;
	nl = memchr(b + vb, '\n', blen - vb);
	if (nl == NULL)
		return;
	ve = (uint32_t)(nl - b);
	while (vb < ve && is_ows(b[vb]))
		vb++;
	while (ve > vb && (is_ows(b[ve - 1]) || b[ve - 1] == '\r'))
		ve--;
	m->user_agent.p = b + vb;
	m->user_agent.len = ve - vb;
}

/*
 * Read the values of the field lines Hyperscan found, and note where the
 * Connection and Keep-Alive lines lie.
 * @return NO_LEAVE, or why the block cannot be tracked.
 */
static enum kapa_http_leave
read_fields(struct kapa_http *h, const struct hdr_block *blk,
	    struct kapa_http_msg *m, struct framing *fr)
{
	const uint8_t *b = blk->b;
	const struct kapa_http_scan_res *r = blk->r;
	uint32_t i, vb, ve, lf, blen = blk->len;
	uint8_t conn = 0;
	const uint8_t *nl;

	for (i = 0; i < r->n; i++) {
		if (r->m[i].id == KAPA_PAT_USER_AGENT) {
			note_user_agent(m, b, r->m[i].to, blen);
			continue;
		}
		/* The block ends in LF, so these loops stop inside it. */
		for (vb = r->m[i].to; is_ows(b[vb]); vb++)
			;
		if (b[vb] != ':')
			continue;	/* a longer name, e.g. Connection-Id */
		/* No whitespace between a field name and its colon (RFC 9112
		 * §5.1): a proxy would strip it, a server refuse; we do not
		 * guess which the next hop does. */
		if (vb != r->m[i].to)
			return KAPA_LEAVE_BAD_FIELD;
		vb++;
		nl = memchr(b + vb, '\n', blen - vb);
		if (nl == NULL)
			return KAPA_LEAVE_BAD_FIELD;	/* cannot happen: the block ends in LF */
		lf = (uint32_t)(nl - b);
		/* A continuation line would extend this value (obs-fold). */
		if (lf + 1 < blen && is_ows(b[lf + 1]))
			return KAPA_LEAVE_OBS_FOLD;
		ve = lf;
		if (ve > vb && b[ve - 1] == '\r')
			ve--;
		lf = ve;	/* from here on: where the line ending starts */
		while (vb < ve && is_ows(b[vb]))
			vb++;
		while (ve > vb && is_ows(b[ve - 1]))
			ve--;
		/* A CR inside a value that decides framing or persistence:
		 * some parsers end the line there (RFC 9112 §2.2). */
		if (memchr(b + vb, '\r', ve - vb) != NULL)
			return KAPA_LEAVE_BARE_CR;
		if (r->m[i].id == KAPA_PAT_CONNECTION || r->m[i].id == KAPA_PAT_KEEP_ALIVE)
			note_field_pos(m, r->m[i].id, blk->off, r->m[i].to, vb, ve, lf);
		switch (r->m[i].id) {
		case KAPA_PAT_CONNECTION:
			conn |= kapa_http_parse_connection(b + vb, ve - vb, m->tokens,
							   KAPA_HTTP_MAX_TOKENS,
							   &m->ntokens);
			break;
		case KAPA_PAT_KEEP_ALIVE:
			if (m->nka < KAPA_HTTP_MAX_KA_LINES) {
				m->ka_raw[m->nka].p = b + vb;
				m->ka_raw[m->nka].len = ve - vb;
				m->nka++;
			}
			h->stats.ka_bad_param += kapa_http_parse_keep_alive(b + vb, ve - vb, m);
			break;
		case KAPA_PAT_CONTENT_LENGTH:
			kapa_http_parse_content_length(b + vb, ve - vb, &fr->cl);
			break;
		case KAPA_PAT_TRANSFER_ENC:
			kapa_http_parse_transfer_encoding(b + vb, ve - vb, &fr->te);
			break;
		default:
			break;
		}
	}
	m->tokens_truncated = (conn & KAPA_HTTP_CONN_TRUNCATED) != 0;
	m->conn_flags = conn & (uint8_t)~KAPA_HTTP_CONN_TRUNCATED;
	return NO_LEAVE;
}

/* Body of a request (RFC 9112 §6.3, items 3-6 for requests). */
static enum kapa_http_leave
request_body(struct kapa_http_msg *m, const struct framing *fr)
{
	if (fr->te.seen && fr->cl.seen)
		return KAPA_LEAVE_CL_TE;
	if (fr->te.seen) {
		/* HTTP/1.0 has no Transfer-Encoding: faulty framing
		 * (RFC 9112 §6.1). A request's final coding must be chunked. */
		if (m->ver_minor == 0 || fr->te.bad || !fr->te.chunked_last)
			return KAPA_LEAVE_BAD_TE;
		m->body = KAPA_BODY_CHUNKED;
	} else if (fr->cl.seen) {
		if (fr->cl.bad)
			return KAPA_LEAVE_BAD_CL;
		m->body = KAPA_BODY_LENGTH;
		m->content_length = fr->cl.value;
	}
	return NO_LEAVE;
}

/* Body of a final response that may have one. */
static enum kapa_http_leave
response_body(struct kapa_http_msg *m, const struct framing *fr)
{
	if (fr->te.seen && fr->cl.seen)
		return KAPA_LEAVE_CL_TE;
	if (fr->te.seen) {
		if (m->ver_minor == 0 || fr->te.bad)
			return KAPA_LEAVE_BAD_TE;
		/* Not ending in chunked: read until close (RFC 9112 §6.3). */
		m->body = fr->te.chunked_last ? KAPA_BODY_CHUNKED : KAPA_BODY_CLOSE;
	} else if (fr->cl.seen) {
		if (fr->cl.bad)
			return KAPA_LEAVE_BAD_CL;
		m->body = KAPA_BODY_LENGTH;
		m->content_length = fr->cl.value;
	} else {
		m->body = KAPA_BODY_CLOSE;
	}
	return NO_LEAVE;
}

/*
 * Body of a final response whose request is not known for sure: it answers
 * one of the requests in flight (or one that was lost). Its framing must not
 * depend on which: when a CONNECT is in flight (a tunnel may follow, and the
 * client side waits on it), or a HEAD is and the response announces a body
 * it would not have, the bytes after the header block cannot be framed
 * without guessing -- give up (gap). With only plain requests in flight the
 * response alone decides (a lost request could have been a HEAD too; that
 * cannot be known, and framing by the response is all there is).
 */
static enum kapa_http_leave
unsure_body(const struct http_conn *st, struct kapa_http_msg *m,
	    const struct framing *fr)
{
	enum kapa_http_leave why;

	if (fifo_has(st, REQ_CONNECT) || (st->flags & F_LOST_CONNECT))
		return KAPA_LEAVE_GAP;
	if (m->status == 204 || m->status == 304)
		return NO_LEAVE;
	why = response_body(m, fr);
	if (why == NO_LEAVE && (fifo_has(st, REQ_HEAD) || (st->flags & F_LOST_HEAD)) &&
	    !(m->body == KAPA_BODY_LENGTH && m->content_length == 0))
		why = KAPA_LEAVE_GAP;
	return why;
}

/* What a message itself says about persistence (RFC 9112 §9.3): close wins;
 * 1.1 persists by default; 1.0 only with keep-alive. */
static bool
message_persists(const struct kapa_http_msg *m)
{
	if (m->conn_flags & KAPA_HTTP_CONN_CLOSE)
		return false;
	if (m->ver_major == 1 && m->ver_minor >= 1)
		return true;
	return (m->conn_flags & KAPA_HTTP_CONN_KEEP_ALIVE) != 0;
}

/*
 * A complete header block, in four steps: validate its start line, fill the
 * message, pair it (a request joins the FIFO, a response answers its head),
 * and set the direction's next state from its framing. Each step that finds
 * the block unusable handles that (resync or leave) and says so.
 */

/* Step 1. @return whether the start line reads and fits the roles and the
 * block's shape; otherwise the failure is handled. */
static bool
block_validate(struct kapa_http *h, const struct kapa_stream_ctx *ctx,
	       struct http_conn *st, struct http_half *hf,
	       const struct hdr_block *blk, struct kapa_http_start *sl)
{
	const uint8_t *b = blk->b;

	if (!kapa_http_start_prefix_ok(b, blk->len)) {
		fail_start(h, ctx, st, hf, hf->index == 0 ? KAPA_LEAVE_NOT_HTTP :
						   KAPA_LEAVE_BAD_START_LINE);
		return false;
	}
	if (kapa_http_parse_start(b, blk->len, sl) != 0) {
		fail_start(h, ctx, st, hf, KAPA_LEAVE_BAD_START_LINE);
		return false;
	}
	if (!(st->flags & F_ROLE_KNOWN)) {
		/* Roles by content: whichever side first completes a start
		 * line tells which direction carries requests. */
		if (sl->is_request != (ctx->dir == KAPA_DIR_C2S))
			st->flags |= F_SWAPPED;
		st->flags |= F_ROLE_KNOWN;
	} else if (sl->is_request != dir_is_request(st, ctx->dir)) {
		fail_start(h, ctx, st, hf, hf->index == 0 ? KAPA_LEAVE_NOT_HTTP :
						   KAPA_LEAVE_BAD_START_LINE);
		return false;
	}
	if (sl->ver_major != 1) {
		if (sl->is_request && sl->ver_major == 2 && span_eq(&sl->method, "PRI")) {
			http_leave(h, ctx, st, KAPA_LEAVE_H2_PREFACE);
			return false;
		}
		if (!sl->is_request || sl->ver_major < 2) {
			fail_start(h, ctx, st, hf, KAPA_LEAVE_BAD_START_LINE);
			return false;
		}
		/* HAProxy serves "GET / HTTP/2.0" (or 3.0) on an HTTP/1.x
		 * connection as HTTP/1.1 and keeps the connection: so must
		 * the count. The version text stays as sent. */
		sl->tolerated |= 1u << KAPA_HTTP_TOL_VERSION_MAJOR;
		sl->ver_major = 1;
		sl->ver_minor = 1;
	}
	if (blk->r->overflow) {
		http_leave(h, ctx, st, KAPA_LEAVE_HEADER_TOO_BIG);
		return false;
	}
	/* A bare CR before a framing field name, or in the start line
	 * (only the reason phrase can hold one once the line parsed). */
	if (blk->r->bare_cr || memchr(b, '\r', sl->len - 2) != NULL) {
		http_leave(h, ctx, st, KAPA_LEAVE_BARE_CR);
		return false;
	}
	/* A line starting with whitespace right after the start line
	 * (RFC 9112 §2.2): refused rather than guessed. */
	if (sl->len < blk->len && is_ows(b[sl->len])) {
		http_leave(h, ctx, st, KAPA_LEAVE_BAD_FIELD);
		return false;
	}
	return true;
}

/* Count each tolerance a message needed: only messages that needed one
 * come here. */
static void
count_tolerated(struct kapa_http *h, uint16_t bits)
{
	unsigned int t;

	for (t = 0; t < KAPA_HTTP_TOL_MAX; t++)
		if (bits & (1u << t))
			h->stats.tolerated[t]++;
}

/* Step 2: the message as the block says it, before pairing.
 * @return NO_LEAVE, or why its field lines cannot be tracked. */
static enum kapa_http_leave
block_fill(struct kapa_http *h, const struct http_conn *st, const struct http_half *hf,
	   const struct hdr_block *blk, const struct kapa_http_start *sl,
	   struct kapa_http_msg *m, struct framing *fr)
{
	enum kapa_http_leave why;

	memset(m, 0, sizeof(*m));
	memset(fr, 0, sizeof(*fr));
	why = read_fields(h, blk, m, fr);
	if (why != NO_LEAVE)
		return why;
	m->is_request = sl->is_request;
	m->index = hf->index;
	m->off = blk->off;
	m->hdr_end = blk->off + blk->len;
	m->hdr_crlf = blk->len >= 2 && blk->b[blk->len - 2] == '\r';
	m->first_pkt_ref = blk->pkt_ref;
	m->first_ns = blk->first_ns;
	m->method = sl->method;
	m->target = sl->target;
	m->status = sl->status;
	m->reason = sl->reason;
	m->version = sl->version;
	m->ver_major = sl->ver_major;
	m->ver_minor = sl->ver_minor;
	m->ka_effective = (m->conn_flags & KAPA_HTTP_CONN_KEEP_ALIVE) &&
			  !(m->conn_flags & KAPA_HTTP_CONN_CLOSE);
	m->tolerated = sl->tolerated;
	if (hf->flags & HALF_LEADING_EMPTY)
		m->tolerated |= 1u << KAPA_HTTP_TOL_LEADING_EMPTY;
	if (!m->hdr_crlf)
		m->tolerated |= 1u << KAPA_HTTP_TOL_BARE_LF;
	if (m->tolerated != 0)
		count_tolerated(h, m->tolerated);
	if (m->nka > 0 && !(m->conn_flags & KAPA_HTTP_CONN_KEEP_ALIVE))
		h->stats.ka_without_conn++;
	/* Messages after one that ends the connection: a request after a
	 * request or final response that closes; a response after a final
	 * response that closes. Still framed, counted. */
	if ((st->flags & F_CLOSING) || (sl->is_request && (st->flags & F_REQ_CLOSING)))
		h->stats.after_close++;
	return NO_LEAVE;
}

/* Step 3 for a request: framing, persistence, the FIFO.
 * @return NO_LEAVE or why its framing is ambiguous; *kind is its kind. */
static enum kapa_http_leave
block_pair_request(struct kapa_http *h, const struct kapa_stream_ctx *ctx,
		   struct http_conn *st, struct kapa_http_msg *m,
		   const struct framing *fr, const struct kapa_http_start *sl,
		   enum req_kind *kind)
{
	enum kapa_http_leave why;

	h->stats.requests++;
	st->inflight++;
	*kind = REQ_OTHER;
	if (span_eq(&sl->method, "HEAD"))
		*kind = REQ_HEAD;
	else if (span_eq(&sl->method, "CONNECT"))
		*kind = REQ_CONNECT;
	why = request_body(m, fr);
	m->persistent = message_persists(m);
	if (!m->persistent)
		st->flags |= F_REQ_CLOSING;
	if (why != NO_LEAVE)
		return why;
	if (st->fifo_count < h->depth) {
		fifo_push(st, *kind, m->persistent);
		return NO_LEAVE;
	}
	/* The FIFO is full (deep pipelining, or a server whose responses are
	 * not seen: an asymmetric route, a one-sided capture). Keep tracking
	 * and counting requests; the queued ones keep their pairing, responses
	 * past them are judged on their own, as after lost requests. */
	h->stats.pipeline_overflow++;
	pairing_lost(st, ctx->dir);
	if (*kind == REQ_HEAD)
		st->flags |= F_LOST_HEAD;
	else if (*kind == REQ_CONNECT)
		st->flags |= F_LOST_CONNECT;
	return NO_LEAVE;
}

/* A refused CONNECT: the client may speak HTTP again. What it sent while we
 * waited was skipped unread and may hold requests the server answers. */
static void
connect_refused(struct http_conn *st, enum kapa_dir resp_dir)
{
	struct http_half *peer = &st->half[resp_dir ^ 1];

	if (peer->state == ST_WAIT) {
		peer->state = ST_START;
		if (peer->flags & HALF_SKIPPED) {
			peer->state = ST_RESYNC;
			pairing_lost(st, (enum kapa_dir)(resp_dir ^ 1));
		}
	}
	peer->flags &= (uint8_t)~HALF_SKIPPED;
}

/* Step 3 for a response: answer the FIFO's head (or judge it alone when the
 * pairing is unsure), framing, persistence.
 * @return NO_LEAVE or why tracking ends after it (ambiguous framing, an
 *         upgrade, a tunnel). */
static enum kapa_http_leave
block_pair_response(struct kapa_http *h, struct http_conn *st, enum kapa_dir dir,
		    struct kapa_http_msg *m, const struct framing *fr)
{
	enum kapa_http_leave why = NO_LEAVE;
	enum req_kind kind;
	bool req_persist;

	h->stats.responses++;
	fifo_peek(st, &kind, &req_persist);
	if (!pair_sure(st)) {
		/* Its request is not known: judged on its own. */
		m->pair_unsure = true;
		h->stats.pair_unsure++;
		req_persist = true;
	}
	if (m->status < 200) {
		/* Interim: no body, the request still waits for its final
		 * response. 101 ends HTTP/1.x. */
		h->stats.interim++;
		m->persistent = m->status != 101 && req_persist && message_persists(m);
		return m->status == 101 ? KAPA_LEAVE_UPGRADE : NO_LEAVE;
	}
	if (st->inflight > 0)
		st->inflight--;
	/* Unsure: framed before the pop, while every request it may answer
	 * is still in the FIFO. */
	if (m->pair_unsure) {
		why = unsure_body(st, m, fr);
		kind = REQ_OTHER;
	}
	fifo_pop(st);
	if (m->pair_unsure) {
		;
	} else if (kind == REQ_CONNECT && m->status < 300) {
		why = KAPA_LEAVE_CONNECT;
	} else if (kind != REQ_HEAD && m->status != 204 && m->status != 304) {
		/* HEAD, 204 and 304 never have a body, whatever CL/TE say
		 * (RFC 9112 §6.3). */
		why = response_body(m, fr);
	}
	m->persistent = why == NO_LEAVE && req_persist && message_persists(m) &&
			m->body != KAPA_BODY_CLOSE;
	if (!m->persistent)
		st->flags |= F_CLOSING;
	if (kind == REQ_CONNECT && why == NO_LEAVE)
		connect_refused(st, dir);
	return why;
}

/* Step 4: where the direction goes after the header block. */
static void
block_next_state(struct kapa_http *h, const struct kapa_stream_ctx *ctx,
		 struct http_conn *st, struct http_half *hf,
		 const struct kapa_http_msg *m, enum req_kind kind)
{
	hf->sub = 0;
	hf->ndigits = 0;
	hf->remain = 0;
	switch (m->body) {
	case KAPA_BODY_LENGTH:
		if (m->content_length > 0) {
			hf->state = ST_BODY_LEN;
			hf->remain = m->content_length;
			break;
		}
		message_end(h, ctx, st, hf);
		break;
	case KAPA_BODY_CHUNKED:
		hf->state = ST_CHUNK_SIZE;
		break;
	case KAPA_BODY_CLOSE:
		hf->state = ST_BODY_CLOSE;
		break;
	default:
		message_end(h, ctx, st, hf);
		break;
	}
	if (m->is_request && kind == REQ_CONNECT && !(st->flags & F_LEFT))
		hf->state = ST_WAIT;	/* what follows is a tunnel, or nothing */
}

static void
block_done(struct kapa_http *h, const struct kapa_stream_ctx *ctx,
	   struct http_conn *st, struct http_half *hf, const struct hdr_block *blk)
{
	struct kapa_http_msg *m = &h->msg;
	enum kapa_http_leave why;
	enum req_kind kind = REQ_OTHER;
	struct kapa_http_start sl;
	struct framing fr;

	if (!block_validate(h, ctx, st, hf, blk, &sl))
		return;
	why = block_fill(h, st, hf, blk, &sl, m, &fr);
	if (why != NO_LEAVE) {
		http_leave(h, ctx, st, why);
		return;
	}
	if (sl.is_request)
		why = block_pair_request(h, ctx, st, m, &fr, &sl, &kind);
	else
		why = block_pair_response(h, st, ctx->dir, m, &fr);
	if (why != NO_LEAVE && why != KAPA_LEAVE_UPGRADE && why != KAPA_LEAVE_CONNECT) {
		/* Ambiguous framing: the header block was readable and is
		 * reported, but nothing after it can be framed. */
		m->body = KAPA_BODY_NONE;
		m->persistent = false;
	}
	hf->index++;
	hf->flags &= (uint8_t)~HALF_LEADING_EMPTY;
	if (hf->flags & HALF_RESYNCED) {
		hf->flags &= (uint8_t)~HALF_RESYNCED;
		h->stats.resync++;
	}
	if (h->ops.message != NULL)
		h->ops.message(ctx, m, h->ops_arg);
	if (why != NO_LEAVE) {
		http_leave(h, ctx, st, why);
		return;
	}
	block_next_state(h, ctx, st, hf, m, kind);
}

/* ---- per-state steps: each consumes at least one byte ----------------- */

/* End of a header block in b[from, to): one past its final LF, or 0. */
static uint32_t
find_end(const uint8_t *b, uint32_t from, uint32_t to)
{
	const uint8_t *nl;
	uint32_t k;

	while (from < to) {
		nl = memchr(b + from, '\n', to - from);
		if (nl == NULL)
			return 0;
		k = (uint32_t)(nl - b);
		if (k + 1 < to && b[k + 1] == '\n')
			return k + 2;
		if (k + 2 < to && b[k + 1] == '\r' && b[k + 2] == '\n')
			return k + 3;
		from = k + 1;
	}
	return 0;
}

/* A complete start line at the head of an open block: @return whether it
 * reads (else the failure is handled). */
static bool
start_line_ok(struct kapa_http *h, const struct kapa_stream_ctx *ctx,
	      struct http_conn *st, struct http_half *hf, const uint8_t *b,
	      uint32_t len)
{
	struct kapa_http_start sl;

	if (kapa_http_parse_start(b, len, &sl) == 0)
		return true;
	fail_start(h, ctx, st, hf, KAPA_LEAVE_BAD_START_LINE);
	return false;
}

static uint32_t
step_start(struct kapa_http *h, const struct kapa_stream_ctx *ctx,
	   struct http_conn *st, struct http_half *hf, uint64_t off,
	   const uint8_t *p, uint32_t n)
{
	uint32_t i = 0, lim, safe, scan_len, e, id;
	const uint8_t *scan_p;
	struct hdr_buf *hb;

	/* Empty lines before a message are ignored (RFC 9112 §2.2), as every
	 * origin server does; the message after them is counted as needing
	 * it. */
	while (i < n && (p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i > 0) {
		hf->flags |= HALF_LEADING_EMPTY;
		return i;
	}
	if (!kapa_http_start_prefix_ok(p, n)) {
		fail_start(h, ctx, st, hf, hf->index == 0 ? KAPA_LEAVE_NOT_HTTP :
						   KAPA_LEAVE_BAD_START_LINE);
		return n;
	}
	/* Zero copy: the whole block is often in hand. Hyperscan may read
	 * past what it scans (SCAN_SLACK), so in place it scans only up to
	 * SCAN_SLACK bytes before the end of the delivery; a block that ends
	 * in that tail (a request alone in its segment, typically) is found by
	 * a search of the tail and scanned from a copy. */
	lim = n < h->max_header ? n : h->max_header;
	safe = n > SCAN_SLACK ? n - SCAN_SLACK : 0;
	if (safe > lim)
		safe = lim;
	scan_p = p;
	scan_len = safe;
	if (safe < lim) {
		e = find_end(p, safe >= 2 ? safe - 2 : 0, lim);
		if (e != 0) {
			memcpy(h->bounce, p, e);
			scan_p = h->bounce;
			scan_len = e;
		}
	}
	h->stats.scans++;
	if (kapa_http_scan_block(h->scratch, scan_p, scan_len, &h->res) != 0) {
		http_leave(h, ctx, st, KAPA_LEAVE_BAD_FIELD);
		return n;
	}
	if (h->res.end_found) {
		struct hdr_block blk = {
			.b = scan_p, .len = h->res.end, .r = &h->res, .off = off,
			.pkt_ref = ctx->pkt_ref, .first_ns = ctx->now_ns,
		};

		h->stats.header_bytes += h->res.end;
		block_done(h, ctx, st, hf, &blk);
		return h->res.end;
	}
	h->stats.header_bytes += lim;
	/* Judge the start line as soon as it is whole, not when the block
	 * ends: a stream that is not HTTP must not hold a buffer for long. */
	if (memchr(p, '\n', lim) != NULL) {
		if (!start_line_ok(h, ctx, st, hf, p, lim))
			return n;
		hf->flags |= HALF_LINE_OK;
	}
	if (n >= h->max_header) {
		http_leave(h, ctx, st, KAPA_LEAVE_HEADER_TOO_BIG);
		return n;
	}
	id = buf_get(h);
	if (id == 0) {
		http_leave(h, ctx, st, KAPA_LEAVE_NO_BUFFER);
		return n;
	}
	hb = &h->bufs[id - 1];
	memcpy(buf_data(h, id), p, n);
	hb->len = n;
	hb->off = off;
	hb->first_ns = ctx->now_ns;
	hb->pkt_ref = ctx->pkt_ref;
	hf->buf = id;
	hf->state = ST_HEADER;
	h->stats.header_copies++;
	return n;
}

static uint32_t
step_header(struct kapa_http *h, const struct kapa_stream_ctx *ctx,
	    struct http_conn *st, struct http_half *hf, const uint8_t *p,
	    uint32_t n)
{
	uint32_t id = hf->buf, old, take, e;
	struct hdr_buf *hb = &h->bufs[id - 1];
	uint8_t *b = buf_data(h, id);

	old = hb->len;
	take = h->max_header - old;
	if (take > n)
		take = n;
	memcpy(b + old, p, take);
	if (old < PREFIX_LOOK && !kapa_http_start_prefix_ok(b, old + take)) {
		fail_start(h, ctx, st, hf, hf->index == 0 ? KAPA_LEAVE_NOT_HTTP :
						   KAPA_LEAVE_BAD_START_LINE);
		return n;
	}
	if (!(hf->flags & HALF_LINE_OK) && memchr(b + old, '\n', take) != NULL) {
		if (!start_line_ok(h, ctx, st, hf, b, old + take))
			return n;
		hf->flags |= HALF_LINE_OK;
	}
	/* Only the new bytes and two before them can hold the end. */
	e = find_end(b, old >= 2 ? old - 2 : 0, old + take);
	if (e == 0) {
		hb->len = old + take;
		if (hb->len >= h->max_header) {
			http_leave(h, ctx, st, KAPA_LEAVE_HEADER_TOO_BIG);
			return n;
		}
		return take;
	}
	hb->len = e;
	/* The buffer stays ours while callbacks read spans in it. */
	hf->buf = 0;
	hf->flags &= (uint8_t)~HALF_LINE_OK;
	hf->state = ST_START;
	h->stats.scans++;
	h->stats.header_bytes += e;
	if (kapa_http_scan_block(h->scratch, b, e, &h->res) != 0 || !h->res.end_found) {
		http_leave(h, ctx, st, KAPA_LEAVE_BAD_FIELD);
	} else {
		struct hdr_block blk = {
			.b = b, .len = e, .r = &h->res, .off = hb->off,
			.pkt_ref = hb->pkt_ref, .first_ns = hb->first_ns,
		};

		block_done(h, ctx, st, hf, &blk);
	}
	buf_put(h, id);
	return e - old;
}

static uint32_t
step_chunk_size(struct kapa_http *h, const struct kapa_stream_ctx *ctx,
		struct http_conn *st, struct http_half *hf, const uint8_t *p,
		uint32_t n)
{
	uint32_t used = n;
	int rc = kapa_http_chunk_line(p, n, &hf->remain, &hf->sub, &hf->ndigits, &used);

	if (rc < 0) {
		http_leave(h, ctx, st, KAPA_LEAVE_BAD_CHUNK);
		return n;
	}
	if (rc > 0) {
		hf->sub = 0;
		hf->ndigits = 0;
		/* The last chunk (size 0) is followed by trailers. */
		hf->state = hf->remain == 0 ? ST_TRAILERS : ST_CHUNK_DATA;
	}
	return used;
}

static uint32_t
step_skip(struct kapa_http *h, const struct kapa_stream_ctx *ctx,
	  struct http_conn *st, struct http_half *hf, uint32_t n)
{
	uint32_t k = hf->remain < n ? (uint32_t)hf->remain : n;

	hf->remain -= k;
	h->stats.body_bytes += k;
	if (hf->remain == 0) {
		if (hf->state == ST_CHUNK_DATA) {
			hf->state = ST_CHUNK_CRLF;
			hf->sub = 0;
		} else {
			message_end(h, ctx, st, hf);
		}
	}
	return k;
}

static uint32_t
step_chunk_crlf(struct kapa_http *h, const struct kapa_stream_ctx *ctx,
		struct http_conn *st, struct http_half *hf, uint8_t c)
{
	if (c == '\r' && hf->sub == 0) {
		hf->sub = 1;
	} else if (c == '\n') {
		/* CRLF, or a bare LF (accepted as at line ends elsewhere). */
		hf->state = ST_CHUNK_SIZE;
		hf->sub = 0;
		hf->ndigits = 0;
		hf->remain = 0;
	} else {
		http_leave(h, ctx, st, KAPA_LEAVE_BAD_CHUNK);
	}
	return 1;
}

static uint32_t
step_trailers(struct kapa_http *h, const struct kapa_stream_ctx *ctx,
	      struct http_conn *st, struct http_half *hf, const uint8_t *p,
	      uint32_t n)
{
	uint32_t used = n;
	int rc = kapa_http_trailers(p, n, &hf->sub, &used);

	if (rc < 0) {
		http_leave(h, ctx, st, KAPA_LEAVE_BAD_CHUNK);
		return n;
	}
	if (rc > 0)
		message_end(h, ctx, st, hf);
	return used;
}

/* A resync point's kind (kapa_http_resync_point()), 0 when its role
 * contradicts the roles already known; decides the roles if not yet. */
static int
resync_kind(struct http_conn *st, enum kapa_dir dir, const uint8_t *p, uint32_t n)
{
	int kind = kapa_http_resync_point(p, n);
	bool is_req = kind == 1;

	if (kind == 0)
		return 0;
	if (st->flags & F_ROLE_KNOWN)
		return is_req == dir_is_request(st, dir) ? kind : 0;
	if (is_req != (dir == KAPA_DIR_C2S))
		st->flags |= F_SWAPPED;
	st->flags |= F_ROLE_KNOWN;
	return kind;
}

/*
 * Resume at a delivery that begins a message clearly enough. A delivery
 * that begins like a start line but ends before the line does (a long
 * request line cut by a small MSS, a re-segmenting middlebox) is kept in a
 * header buffer until the line ends (ST_RESYNC_LINE): the same bytes must
 * resync the same way however they are cut.
 * @return whether the delivery is to be read (from ST_START or
 *         ST_RESYNC_LINE).
 */
static bool
resync_try(struct kapa_http *h, const struct kapa_stream_ctx *ctx,
	   struct http_conn *st, struct http_half *hf, uint64_t off,
	   const uint8_t *p, uint32_t n)
{
	uint32_t lim = h->max_header < RESYNC_LINE_MAX ? h->max_header : RESYNC_LINE_MAX;
	struct hdr_buf *hb;
	uint32_t id;

	if (resync_kind(st, ctx->dir, p, n) != 0) {
		hf->state = ST_START;
		hf->remain = 0;
		hf->flags |= HALF_RESYNCED;
		return true;
	}
	/* Bounded: a side that never shows a message start is given up on;
	 * "not-http" when no message was ever seen at all. */
	hf->remain += n;
	if (hf->remain > RESYNC_MAX_BYTES) {
		http_leave(h, ctx, st, (st->half[0].index | st->half[1].index) == 0 ?
				       KAPA_LEAVE_NOT_HTTP : KAPA_LEAVE_GAP);
		return false;
	}
	if (memchr(p, '\n', n) != NULL || !kapa_http_start_prefix_ok(p, n))
		return false;
	id = n < lim ? buf_get(h) : 0;
	if (id == 0) {
		/* Too long to be a start line, or no buffer: fail open, the
		 * connection goes on unread until a delivery starts a message. */
		h->stats.resync_line_dropped++;
		return false;
	}
	hb = &h->bufs[id - 1];
	hb->off = off;
	hb->first_ns = ctx->now_ns;
	hb->pkt_ref = ctx->pkt_ref;
	hf->buf = id;
	hf->state = ST_RESYNC_LINE;
	return true;
}

/*
 * Bytes of a candidate start line (ST_RESYNC_LINE), always at the start of a
 * delivery. The candidate came first, so it is judged first, on its whole
 * line: the same bytes resync the same way however they were cut ("G", then
 * "ET / HTTP/1.1", is GET). On its LF a start line goes on as an open header
 * block. Anything else, or a line that passes the bound before its LF
 * (counted), is given up, and this delivery is then judged on its own, as
 * it would have been without the candidate (a cut must not hide a resync
 * point): @return 0 and ST_RESYNC for that.
 */
static uint32_t
step_resync_line(struct kapa_http *h, const struct kapa_stream_ctx *ctx,
		 struct http_conn *st, struct http_half *hf, const uint8_t *p,
		 uint32_t n)
{
	uint32_t lim = h->max_header < RESYNC_LINE_MAX ? h->max_header : RESYNC_LINE_MAX;
	struct hdr_buf *hb = &h->bufs[hf->buf - 1];
	uint8_t *b = buf_data(h, hf->buf);
	const uint8_t *lf = memchr(p, '\n', n);
	uint32_t take = lf != NULL ? (uint32_t)(lf - p) + 1 : n;
	uint32_t had = hb->len;

	if (hb->len + take > lim) {
		h->stats.resync_line_dropped++;
		goto no;
	}
	memcpy(b + hb->len, p, take);
	hb->len += take;
	if (lf == NULL) {
		if (!kapa_http_start_prefix_ok(b, hb->len))
			goto no;
		return n;
	}
	if (resync_kind(st, ctx->dir, b, hb->len) == 0)
		goto no;
	hf->state = ST_HEADER;
	hf->remain = 0;
	hf->flags |= HALF_RESYNCED | HALF_LINE_OK;
	return take;
no:
	half_drop_buf(h, hf);
	hf->state = ST_RESYNC;
	/* The candidate's own first delivery was judged already. */
	return had != 0 ? 0 : n;
}

/* ---- stream ops --------------------------------------------------------- */

static void
http_data(const struct kapa_stream_ctx *ctx, uint64_t off, const uint8_t *p,
	  uint32_t len)
{
	struct kapa_http *h = ctx->ops_arg;
	struct http_conn *st = ctx->app;
	struct http_half *hf = &st->half[ctx->dir];
	uint32_t pos = 0, n;

	if ((st->flags & F_LEFT) || len == 0)
		return;
	while (pos < len && !(st->flags & F_LEFT)) {
		n = len - pos;
		switch (hf->state) {
		case ST_START:
			n = step_start(h, ctx, st, hf, off + pos, p + pos, n);
			break;
		case ST_HEADER:
			n = step_header(h, ctx, st, hf, p + pos, n);
			break;
		case ST_RESYNC_LINE:
			n = step_resync_line(h, ctx, st, hf, p + pos, n);
			break;
		case ST_BODY_LEN:
		case ST_CHUNK_DATA:
			n = step_skip(h, ctx, st, hf, n);
			break;
		case ST_CHUNK_SIZE:
			n = step_chunk_size(h, ctx, st, hf, p + pos, n);
			break;
		case ST_CHUNK_CRLF:
			n = step_chunk_crlf(h, ctx, st, hf, p[pos]);
			break;
		case ST_TRAILERS:
			n = step_trailers(h, ctx, st, hf, p + pos, n);
			break;
		case ST_BODY_CLOSE:
			h->stats.body_bytes += n;
			break;
		case ST_WAIT:
			hf->flags |= HALF_SKIPPED;
			break;
		case ST_RESYNC:
			/* A message is looked for where a delivery starts (a
			 * false start that ended inside this one skips the
			 * rest of it). */
			if (pos != 0)
				break;
			if (!resync_try(h, ctx, st, hf, off, p, len))
				return;
			n = 0;
			break;
		default:	/* ST_DONE */
			break;
		}
		pos += n;
	}
}

/* Bytes lost in one direction. Inside a body of known length the gap only
 * eats body bytes and framing goes on; anywhere else the next message start
 * must be found again. */
static void
http_gap(struct kapa_http *h, const struct kapa_stream_ctx *ctx,
	 struct http_conn *st, struct http_half *hf, uint64_t len)
{
	switch (hf->state) {
	case ST_BODY_LEN:
	case ST_CHUNK_DATA:
		if (len > hf->remain) {
			enter_resync(h, ctx, st, hf);
			return;
		}
		hf->remain -= len;
		h->stats.body_bytes += len;
		if (hf->remain > 0)
			return;
		if (hf->state == ST_CHUNK_DATA) {
			hf->state = ST_CHUNK_CRLF;
			hf->sub = 0;
		} else {
			message_end(h, ctx, st, hf);
		}
		return;
	case ST_BODY_CLOSE:
		h->stats.body_bytes += len;
		return;
	case ST_DONE:
	case ST_RESYNC:
		return;
	case ST_RESYNC_LINE:
		/* the candidate line lost its end: keep looking */
		half_drop_buf(h, hf);
		hf->state = ST_RESYNC;
		return;
	case ST_WAIT:
		hf->flags |= HALF_SKIPPED;
		return;
	default:
		enter_resync(h, ctx, st, hf);
		return;
	}
}

static void
http_event(const struct kapa_stream_ctx *ctx, enum kapa_stream_event ev,
	   uint64_t off, uint64_t len)
{
	struct kapa_http *h = ctx->ops_arg;
	struct http_conn *st = ctx->app;
	struct http_half *hf = &st->half[ctx->dir & 1];

	switch (ev) {
	case KAPA_EV_OPEN:
		memset(st, 0, sizeof(*st));
		if (ctx->conn == NULL || !(ctx->conn->flags & KAPA_CONN_ROLE_GUESSED))
			st->flags |= F_ROLE_KNOWN;
		/* Picked up on data: the first bytes may be inside a message;
		 * look for a start at delivery boundaries. (Picked up at the
		 * SYN/ACK, both streams start at their first byte.) */
		if (ctx->conn != NULL && (ctx->conn->flags & KAPA_CONN_MIDSTREAM) &&
		    (ctx->conn->flags & KAPA_CONN_ROLE_GUESSED)) {
			st->half[0].state = ST_RESYNC;
			st->half[1].state = ST_RESYNC;
			st->half[0].flags = HALF_RESYNCED;
			st->half[1].flags = HALF_RESYNCED;
			/* Requests sent before the pickup may still be
			 * answered: no response is paired for certain. */
			st->flags |= F_PAIR_UNSURE;
		}
		/* The packet in hand opened the connection: its ports are the
		 * connection's. */
		if (h->ports != NULL && ctx->pkt != NULL &&
		    !kapa_http_port_isset(h->ports, ctx->pkt->sport) &&
		    !kapa_http_port_isset(h->ports, ctx->pkt->dport))
			http_leave(h, ctx, st, KAPA_LEAVE_PORT_FILTER);
		break;
	case KAPA_EV_GAP:
		if (!(st->flags & F_LEFT))
			http_gap(h, ctx, st, hf, len);
		break;
	case KAPA_EV_FIN:
		if (!(st->flags & F_LEFT)) {
			/* A close-delimited body ends here; anything else
			 * open is a truncated message. */
			if (hf->state == ST_BODY_CLOSE)
				message_end(h, ctx, st, hf);
			half_drop_buf(h, hf);
			hf->state = ST_DONE;
		}
		break;
	case KAPA_EV_RESET:
	case KAPA_EV_CLOSE:
		/* Nothing more comes after either: no open block survives. */
		half_drop_buf(h, &st->half[0]);
		half_drop_buf(h, &st->half[1]);
		st->half[0].state = ST_DONE;
		st->half[1].state = ST_DONE;
		break;
	default:
		break;
	}
	if (h->ops.event != NULL)
		h->ops.event(ctx, ev, off, len, h->ops_arg);
}

static uint32_t
http_expire(const struct kapa_stream_ctx *ctx)
{
	struct kapa_http *h = ctx->ops_arg;

	if (h->ops.expire != NULL)
		return h->ops.expire(ctx, h->ops_arg);
	return 0;
}

static const struct kapa_stream_ops http_stream_ops = {
	.data = http_data,
	.event = http_event,
	.expire = http_expire,
};

const struct kapa_stream_ops *
kapa_http_stream_ops(void)
{
	return &http_stream_ops;
}

void
kapa_http_conn_info(const void *app, struct kapa_http_conn_info *info)
{
	const struct http_conn *st = app;
	int d;

	info->outstanding = st->inflight;
	info->left = (st->flags & F_LEFT) != 0;
	info->leave = st->leave;
	info->mid_message = 0;
	for (d = 0; d < 2; d++) {
		switch (st->half[d].state) {
		case ST_START:
		case ST_RESYNC:
		case ST_DONE:
			break;
		default:
			info->mid_message |= (uint8_t)(1u << d);
			break;
		}
	}
}

void *
kapa_http_ops_arg(const struct kapa_http *h)
{
	return h->ops_arg;
}

uint64_t
kapa_http_oldest_ref(const struct kapa_http *h)
{
	uint64_t min = UINT64_MAX, ref;
	uint32_t i;

	for (i = 0; i < h->header_buffers; i++) {
		if (h->bufs[i].next_free != BUF_IN_USE)
			continue;
		ref = (uint64_t)(uintptr_t)h->bufs[i].pkt_ref;
		if (ref < min)
			min = ref;
	}
	return min;
}

const struct kapa_http_stats *
kapa_http_stats(const struct kapa_http *h)
{
	return &h->stats;
}

int
kapa_http_parse_ports(const char *s, uint64_t *bitmap)
{
	unsigned long lo, hi, p;
	char *end;

	do {
		errno = 0;
		lo = strtoul(s, &end, 10);
		if (errno != 0 || end == s || *s < '0' || *s > '9' || lo == 0 || lo > 65535)
			return -EINVAL;
		hi = lo;
		if (*end == '-') {
			s = end + 1;
			hi = strtoul(s, &end, 10);
			if (errno != 0 || end == s || *s < '0' || *s > '9' || hi < lo || hi > 65535)
				return -EINVAL;
		}
		for (p = lo; p <= hi; p++)
			kapa_http_port_set(bitmap, (uint16_t)p);
		if (*end != ',' && *end != '\0')
			return -EINVAL;
		s = end + 1;
	} while (*end == ',');
	return 0;
}

struct kapa_http *
kapa_http_create(const struct kapa_http_conf *conf)
{
	struct kapa_http *h;
	uint32_t i;
	int err = ENOMEM;

	if (conf == NULL || conf->pipeline_depth > FIFO_MAX ||
	    (conf->max_header != 0 && conf->max_header < 64)) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		goto fail;
	if (conf->ops != NULL)
		h->ops = *conf->ops;
	h->ops_arg = conf->ops_arg;
	h->max_header = conf->max_header ? conf->max_header : 16384;
	h->header_buffers = conf->header_buffers ? conf->header_buffers : 1024;
	h->depth = conf->pipeline_depth ? conf->pipeline_depth : 16;
	h->scratch = kapa_http_scan_scratch();
	if (h->scratch == NULL) {
		err = errno;
		goto fail;
	}
	/* Untouched pages of the pool cost no memory until a header block
	 * spans deliveries on that many connections at once. */
	h->pool = malloc((size_t)h->header_buffers * h->max_header + SCAN_SLACK);
	h->bufs = calloc(h->header_buffers, sizeof(*h->bufs));
	h->bounce = malloc((size_t)h->max_header + SCAN_SLACK);
	if (h->pool == NULL || h->bufs == NULL || h->bounce == NULL)
		goto fail;
	if (conf->ports != NULL) {
		h->ports = malloc(KAPA_HTTP_PORT_WORDS * sizeof(*h->ports));
		if (h->ports == NULL)
			goto fail;
		memcpy(h->ports, conf->ports, KAPA_HTTP_PORT_WORDS * sizeof(*h->ports));
	}
	for (i = 0; i < h->header_buffers; i++)
		h->bufs[i].next_free = i + 2 <= h->header_buffers ? i + 2 : 0;
	h->free_head = 1;
	return h;
fail:
	kapa_http_destroy(h);
	errno = err;
	return NULL;
}

void
kapa_http_destroy(struct kapa_http *h)
{
	if (h == NULL)
		return;
	kapa_http_scan_scratch_free(h->scratch);
	free(h->pool);
	free(h->bufs);
	free(h->bounce);
	free(h->ports);
	free(h);
}
