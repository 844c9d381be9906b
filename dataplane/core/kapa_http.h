/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * HTTP/1.x keep-alive tracker: a stream consumer of the TCP core.
 *
 * It frames HTTP/1.x messages in both directions of a connection, finds the
 * field lines that matter with Hyperscan (block mode, over header bytes
 * only), reads Connection / Keep-Alive / framing values with a small parser,
 * skips bodies by framing without scanning them, and knows after every
 * message whether the connection persists (RFC 9112 §9.3).
 *
 * Where framing is ambiguous it does not guess: the connection leaves HTTP
 * tracking (fail open), with a counted reason. Upgrades, CONNECT and the
 * HTTP/2 preface make the connection opaque TCP.
 *
 * Layering: the tracker keeps its state in the first KAPA_HTTP_STATE_SIZE
 * bytes of the TCP core's per-connection slot; its own user (kapa-inspect,
 * the data plane) may keep more after it, at kapa_http_user_state().
 */
#ifndef KAPA_HTTP_H
#define KAPA_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "kapa_tcp.h"

/** Bytes of the tracker's per-connection state at the start of the app slot. */
#define KAPA_HTTP_STATE_SIZE 128

#define KAPA_HTTP_MAX_TOKENS 16	/**< Connection tokens reported per message */
#define KAPA_HTTP_MAX_KA_LINES 4 /**< Keep-Alive field lines reported */
#define KAPA_HTTP_MAX_FIELD_POS 4 /**< positions kept per field name (Connection,
				       Keep-Alive); more set fields_truncated */

/** A byte range inside the message's header block (valid during the call). */
struct kapa_span {
	const uint8_t *p;
	uint32_t len;
};

/**
 * Where one field line lies, as stream offsets of the message's direction
 * (the same space as struct kapa_http_msg::off), so that a caller can tell
 * whether its bytes are in the packet in hand (struct kapa_stream_ctx::
 * pkt_off) and change them there.
 *
 *     Keep-Alive:  timeout=5, max=100 \r\n
 *     ^line        ^value            ^value_end
 *                                      ^line_end (the CR; the LF when bare)
 */
struct kapa_http_field_pos {
	uint64_t line;		/**< first byte of the field name */
	uint64_t value;		/**< first byte of the value (after OWS) */
	uint64_t value_end;	/**< one past the value's last byte (before OWS) */
	uint64_t line_end;	/**< the line ending's first byte */
};

/** Bits of struct kapa_http_msg::conn_flags (from the Connection tokens). */
#define KAPA_HTTP_CONN_CLOSE      0x01
#define KAPA_HTTP_CONN_KEEP_ALIVE 0x02
#define KAPA_HTTP_CONN_UPGRADE    0x04

/** How a message's body is delimited. */
enum kapa_http_body {
	KAPA_BODY_NONE = 0,	/**< no body (request without CL/TE, 1xx/204/304, HEAD) */
	KAPA_BODY_LENGTH,	/**< Content-Length */
	KAPA_BODY_CHUNKED,
	KAPA_BODY_CLOSE,	/**< response read until the server closes */
};

/**
 * What a message needed beyond the strict grammar (RFC 9112) to be read as
 * the origin servers read it (nginx, Apache httpd, HAProxy: a request one of
 * them serves is counted, so that no request a server runs escapes the
 * policy). Bit i of kapa_http_msg::tolerated is tolerance i, and each is
 * counted in kapa_http_stats::tolerated[]. Only the start line and the lines
 * around it are read leniently; a tolerance that would change framing
 * (folded or conflicting Content-Length / Transfer-Encoding) is not one:
 * the connection leaves tracking (enum kapa_http_leave). A message that
 * needed one (a bare LF aside: docs/core-act.md) is never edited
 * (KAPA_ACT_WHY_TOLERATED).
 */
enum kapa_http_tol {
	KAPA_HTTP_TOL_LEADING_EMPTY = 0, /**< empty lines before the start line
					      (all three skip them) */
	KAPA_HTTP_TOL_WS_RUN,		/**< more than one SP between the parts of
					     the start line (nginx, HAProxy) */
	KAPA_HTTP_TOL_HTAB,		/**< HTAB between the parts (HAProxy) */
	KAPA_HTTP_TOL_TRAILING_WS,	/**< whitespace before the start line's end
					     (nginx) */
	KAPA_HTTP_TOL_VERSION_DIGITS,	/**< version not d.d: HTTP/1.01, HTTP/01.1,
					     HTTP/1.10 (nginx reads them as numbers) */
	KAPA_HTTP_TOL_NO_VERSION,	/**< a known method without a well-formed
					     version ("GET /", "GET / HTTP/1."),
					     read as HTTP/1.0 */
	KAPA_HTTP_TOL_BARE_LF,		/**< the start line or the block's last line
					     ends in a bare LF (RFC 9112 §2.2 MAY) */
	KAPA_HTTP_TOL_VERSION_MAJOR,	/**< a request line of HTTP/2.0 or later on
					     an HTTP/1.x connection (not the h2
					     preface): HAProxy serves it as 1.1 */
	KAPA_HTTP_TOL_MAX
};

/** One message, reported when its header block is complete. */
struct kapa_http_msg {
	bool is_request;
	uint32_t index;		/**< 0-based per direction; 1xx count */
	uint64_t off;		/**< stream offset of the first byte */
	/** pkt_ref of the packet carrying the first byte, also when that byte
	 *  was held out of order and delivered later (struct kapa_stream_ctx):
	 *  a token to copy or compare, which may name a packet already gone */
	void *first_pkt_ref;
	uint64_t first_ns;	/**< its time */
	struct kapa_span method, target;	/**< requests */
	uint16_t status;	/**< responses */
	struct kapa_span reason;
	struct kapa_span version;	/**< "1.1" as sent after "HTTP/" */
	uint8_t ver_major, ver_minor;
	uint8_t ntokens;	/**< Connection tokens in tokens[] */
	bool tokens_truncated;	/**< more than KAPA_HTTP_MAX_TOKENS */
	struct kapa_span tokens[KAPA_HTTP_MAX_TOKENS];	/**< trimmed, as sent */
	uint8_t conn_flags;	/**< KAPA_HTTP_CONN_* */
	bool has_ka_timeout, has_ka_max;
	uint32_t ka_timeout, ka_max;	/**< Keep-Alive parameters that parsed */
	uint8_t nka;		/**< Keep-Alive field lines in ka_raw[] */
	struct kapa_span ka_raw[KAPA_HTTP_MAX_KA_LINES];	/**< values as sent, trimmed */
	/** The first User-Agent field's value, trimmed (len 0: none); read
	 *  for the hint-compliance table (kapa_race.h) */
	struct kapa_span user_agent;
	uint8_t body;		/**< enum kapa_http_body */
	uint64_t content_length;
	/** For a response: whether the connection persists after it (RFC 9112
	 *  §9.3, with the paired request). For a request: whether the client
	 *  asked to persist. */
	bool persistent;
	/** Keep-Alive parameters only count with Connection: keep-alive. */
	bool ka_effective;
	/** Stream offset one past the header block's final LF (where the body
	 *  or the next message starts). */
	uint64_t hdr_end;
	/** The block ends in CRLF CRLF (else in a bare LF: its field lines end
	 *  the same way, so a line inserted there should too). The empty line
	 *  that ends the block starts at hdr_end - (hdr_crlf ? 2 : 1). */
	bool hdr_crlf;
	/** More Connection or Keep-Alive field lines than conn_pos / ka_pos
	 *  hold: positions are incomplete (an edit must not rely on them). */
	bool fields_truncated;
	uint8_t nconn_pos;	/**< Connection field lines in conn_pos[] */
	uint8_t nka_pos;	/**< Keep-Alive field lines in ka_pos[] */
	struct kapa_http_field_pos conn_pos[KAPA_HTTP_MAX_FIELD_POS];
	struct kapa_http_field_pos ka_pos[KAPA_HTTP_MAX_FIELD_POS];
	/** A final or interim response whose request is not known for sure:
	 *  bytes that may have held messages were lost before it (a gap, an
	 *  unreadable start line, a mid-stream pickup). It is framed and judged
	 *  on its own (no HEAD/CONNECT knowledge, persistent = its own view).
	 *  Always false for requests. */
	bool pair_unsure;
	/** Bits (1 << enum kapa_http_tol): what reading it needed beyond the
	 *  strict grammar; 0 for a well-formed message. */
	uint16_t tolerated;
};

/** Why a connection left HTTP/1.x tracking (counted). */
enum kapa_http_leave {
	KAPA_LEAVE_UPGRADE = 0,		/**< 101 Switching Protocols */
	KAPA_LEAVE_CONNECT,		/**< 2xx to CONNECT */
	KAPA_LEAVE_H2_PREFACE,		/**< "PRI * HTTP/2.0" */
	KAPA_LEAVE_NOT_HTTP,		/**< first bytes are not HTTP/1.x */
	KAPA_LEAVE_GAP,			/**< bytes lost, no resync possible */
	KAPA_LEAVE_CL_TE,		/**< Content-Length with Transfer-Encoding */
	KAPA_LEAVE_BAD_CL,		/**< unequal / malformed Content-Length */
	KAPA_LEAVE_BAD_TE,		/**< TE not ending in chunked (request) */
	KAPA_LEAVE_BAD_CHUNK,		/**< invalid chunk size line */
	KAPA_LEAVE_OBS_FOLD,		/**< obs-fold in a framing field */
	KAPA_LEAVE_BARE_CR,		/**< bare CR in the header block */
	KAPA_LEAVE_BAD_START_LINE,	/**< request/status line unreadable */
	KAPA_LEAVE_BAD_FIELD,		/**< field line unreadable (e.g. space before ':') */
	KAPA_LEAVE_HEADER_TOO_BIG,	/**< header block over the limit */
	KAPA_LEAVE_NO_BUFFER,		/**< header buffer pool exhausted */
	KAPA_LEAVE_PIPELINE_DEPTH,	/**< unused: a full request FIFO no longer ends
					     tracking (kapa_http_stats::pipeline_overflow);
					     kept so that later numbers stay */
	KAPA_LEAVE_PORT_FILTER,		/**< neither port is in kapa_http_conf::ports */
	KAPA_LEAVE_MAX
};

/** The tracker's user: callbacks (any may be NULL). */
struct kapa_http_ops {
	/** A message's header block is complete. */
	void (*message)(const struct kapa_stream_ctx *ctx,
			const struct kapa_http_msg *msg, void *arg);
	/** A message's body is complete (the message ended). */
	void (*message_end)(const struct kapa_stream_ctx *ctx, bool is_request,
			    uint32_t index, void *arg);
	/** The connection left HTTP/1.x tracking. */
	void (*leave)(const struct kapa_stream_ctx *ctx, enum kapa_http_leave why,
		      void *arg);
	/** TCP events, passed through after the tracker handled them. */
	void (*event)(const struct kapa_stream_ctx *ctx, enum kapa_stream_event ev,
		      uint64_t off, uint64_t len, void *arg);
	/** Idle expiry, passed through; NULL = free the connection. */
	uint32_t (*expire)(const struct kapa_stream_ctx *ctx, void *arg);
};

/** Counters of one tracker (owner-written). */
struct kapa_http_stats {
	uint64_t requests, responses;
	uint64_t interim;		/**< 1xx responses */
	uint64_t header_bytes;		/**< bytes scanned by Hyperscan */
	uint64_t body_bytes;		/**< bytes skipped by framing */
	uint64_t header_copies;		/**< header blocks split across segments */
	uint64_t leave[KAPA_LEAVE_MAX];	/**< by enum kapa_http_leave */
	uint64_t ka_bad_param;		/**< Keep-Alive values ignored */
	uint64_t ka_without_conn;	/**< Keep-Alive without Connection: keep-alive */
	uint64_t resync;		/**< tracking resumed after a gap / pickup */
	uint64_t resync_line_dropped;	/**< candidate start lines given up because
					     they passed the bound before their LF,
					     or no header buffer was free */
	uint64_t scans;			/**< Hyperscan block scans */
	uint64_t after_close;		/**< messages after one that closes the connection */
	uint64_t pair_unsure;		/**< responses reported with pair_unsure */
	uint64_t pipeline_overflow;	/**< requests that found the FIFO full: tracked
					     and counted, their responses not paired */
	uint64_t tolerated[KAPA_HTTP_TOL_MAX];	/**< messages that needed each
						     tolerance (enum kapa_http_tol) */
};

struct kapa_http_conf {
	uint32_t max_header;	/**< bytes of one header block; 0 = 16384 */
	uint32_t header_buffers;/**< buffers for split header blocks; 0 = 1024 */
	uint32_t pipeline_depth;/**< requests in flight paired with their responses;
				     0 = 16, at most 32 (more are tracked unpaired) */
	/** Port filter: a bitmap of the 65536 TCP ports (bit p in word p / 64,
	 *  see kapa_http_port_set()). A connection is tracked only when either
	 *  of its ports is set (either: a mid-stream pickup may have guessed the
	 *  roles); otherwise it leaves tracking at once (KAPA_LEAVE_PORT_FILTER).
	 *  NULL = every port: HTTP/1.x is recognised by content alone. Copied
	 *  by kapa_http_create(). */
	const uint64_t *ports;
	const struct kapa_http_ops *ops;
	void *ops_arg;
};

struct kapa_http;

/** Words of a port bitmap (kapa_http_conf::ports). */
#define KAPA_HTTP_PORT_WORDS (65536 / 64)

/** Set @p port in a port bitmap of KAPA_HTTP_PORT_WORDS words. */
static inline void
kapa_http_port_set(uint64_t *bitmap, uint16_t port)
{
	bitmap[port / 64] |= UINT64_C(1) << (port % 64);
}

/**
 * Parse a port list ("80,8000-8099") into @p bitmap (KAPA_HTTP_PORT_WORDS
 * words; bits are added to what is set).
 * @return 0, or -EINVAL: a port outside 1..65535, a range backwards, or
 *         anything but digits, '-' and ','.
 */
int kapa_http_parse_ports(const char *s, uint64_t *bitmap);

/** @return non-zero when @p port is set in @p bitmap. */
static inline int
kapa_http_port_isset(const uint64_t *bitmap, uint16_t port)
{
	return (bitmap[port / 64] >> (port % 64)) & 1;
}

/**
 * Create a tracker: compiles the Hyperscan database (once per process, shared
 * by all trackers) and allocates this tracker's scratch and header buffers.
 * @return the tracker, or NULL with errno set.
 */
struct kapa_http *kapa_http_create(const struct kapa_http_conf *conf);

/** Free a tracker. NULL ok. */
void kapa_http_destroy(struct kapa_http *h);

/** @return the stream ops to give the TCP core (ops_arg = @p h). */
const struct kapa_stream_ops *kapa_http_stream_ops(void);

/** A connection's exchange state, for idle and stall decisions. */
struct kapa_http_conn_info {
	/** Requests whose header block was seen and whose final response's
	 *  header block was not yet (requests past the pipeline depth too). */
	uint32_t outstanding;
	/** Bit (1 << dir) per direction in which a message is partly
	 *  transferred (header block open, body not complete, waiting after
	 *  CONNECT). Not set while a direction looks for a message start after
	 *  a gap or pickup: there is no knowing, and such a connection is judged
	 *  by outstanding alone. */
	uint8_t mid_message;
	/** The connection left HTTP/1.x tracking (opaque TCP from then on). */
	bool left;
	uint8_t leave;		/**< enum kapa_http_leave when left */
};

/**
 * Read a connection's exchange state from its app slot (@p app = ctx->app).
 * Pure: any callback of the connection may call it.
 */
void kapa_http_conn_info(const void *app, struct kapa_http_conn_info *info);

/** @return the user's state after the tracker's, in the app slot. */
static inline void *
kapa_http_user_state(const struct kapa_stream_ctx *ctx)
{
	return (uint8_t *)ctx->app + KAPA_HTTP_STATE_SIZE;
}

/** @return counters. */
const struct kapa_http_stats *kapa_http_stats(const struct kapa_http *h);

/** @return the ops_arg the tracker was created with (kapa_http_conf). */
void *kapa_http_ops_arg(const struct kapa_http *h);

/**
 * The smallest packet reference, read as a number, of the messages begun
 * and not yet reported: the first byte of every header block held open
 * across deliveries. A message not reported yet starts there, in bytes the
 * TCP core still holds (kapa_reasm_oldest_ref()), or in a later packet. For
 * a user whose references are increasing numbers (kapa-inspect --json
 * writes a message once nothing can come before it). Whatever holds the
 * bytes of a message begun must be looked at here. O(header buffers).
 * @return that number, or UINT64_MAX when no block is open.
 */
uint64_t kapa_http_oldest_ref(const struct kapa_http *h);

/** @return a short name of a leave reason ("upgrade", "cl-te", ...). */
const char *kapa_http_leave_name(unsigned why);

/** @return a short name of a tolerance ("ws-run", "bare-lf", ...), NULL
 *  past KAPA_HTTP_TOL_MAX. */
const char *kapa_http_tol_name(unsigned tol);

/**
 * Parse a Connection field value (pure; for tests and fuzzing).
 * @return KAPA_HTTP_CONN_* bits; tokens (trimmed, as sent) are appended to
 *         @p tokens up to @p max, *ntokens updated.
 */
uint8_t kapa_http_parse_connection(const uint8_t *p, uint32_t len,
				   struct kapa_span *tokens, uint8_t max,
				   uint8_t *ntokens);

/**
 * Parse a Keep-Alive field value (pure). Sets has_/values in @p msg for the
 * parameters that parsed; @return the number of parameters ignored as
 * malformed or out of range.
 */
uint32_t kapa_http_parse_keep_alive(const uint8_t *p, uint32_t len,
				    struct kapa_http_msg *msg);

#endif /* KAPA_HTTP_H */
