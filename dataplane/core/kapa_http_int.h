/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Internals of the HTTP/1.x tracker shared by kapa_http.c, kapa_http_scan.c
 * and kapa_http_values.c, and exposed to the unit tests and the benchmark:
 * the Hyperscan pattern set and block scan, and the pure value parsers
 * (Content-Length, Transfer-Encoding, chunk-size lines, trailers, start
 * lines) that the tracker runs on the bytes Hyperscan located.
 */
#ifndef KAPA_HTTP_INT_H
#define KAPA_HTTP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "kapa_http.h"

/* ---- Hyperscan ------------------------------------------------------ */

/**
 * Pattern ids of the header-block database. Only literals and one tiny
 * regex: a class such as [ \t]* after a name, or a bare-CR pattern \r[^\n]
 * that fires on every line, costs Hyperscan several times more per block
 * (docs/core-http.md); the code checks what follows a name instead.
 */
enum kapa_http_pat {
	KAPA_PAT_END = 0,	/**< end of the header block: \n\r?\n */
	KAPA_PAT_CONNECTION,	/**< \nconnection (the code expects [ \t]*:) */
	KAPA_PAT_KEEP_ALIVE,	/**< \nkeep-alive */
	KAPA_PAT_CONTENT_LENGTH,/**< \ncontent-length */
	KAPA_PAT_TRANSFER_ENC,	/**< \ntransfer-encoding */
	KAPA_PAT_CR_CL,		/**< \rcontent-length: a bare CR as a line break */
	KAPA_PAT_CR_TE,		/**< \rtransfer-encoding: the same */
	KAPA_PAT_USER_AGENT,	/**< \nuser-agent: the client's product (kapa_race.h) */
	KAPA_PAT_MAX
};

/** Field-line matches recorded per header block; more => the block is refused. */
#define KAPA_HTTP_SCAN_MAX 64

/** What one block scan found. Offsets are match ends (one past the match). */
struct kapa_http_scan_res {
	uint32_t n;		/**< entries in m[] */
	bool overflow;		/**< more than KAPA_HTTP_SCAN_MAX field matches */
	bool end_found;		/**< the end-of-block pattern matched */
	bool bare_cr;		/**< a bare CR before a framing field name */
	uint32_t end;		/**< block length (through the final LF) if end_found */
	uint32_t bare_cr_at;	/**< match end of the first such CR */
	struct {
		uint32_t to;	/**< offset just after the field name */
		uint32_t id;	/**< enum kapa_http_pat */
	} m[KAPA_HTTP_SCAN_MAX];
};

/** Internal bit of kapa_http_parse_connection()'s result: tokens were
 *  dropped because @p max was reached (masked out of msg->conn_flags). */
#define KAPA_HTTP_CONN_TRUNCATED 0x80

struct hs_database;
struct hs_scratch;

/**
 * Compile the block-mode database once per process (pthread_once).
 * @return the database (shared, never freed), or NULL with errno set
 *         (EINVAL: the patterns did not compile; ENOMEM).
 */
const struct hs_database *kapa_http_scan_db(void);

/**
 * Allocate a scratch for one worker.
 * @return the scratch, or NULL with errno = ENOMEM.
 */
struct hs_scratch *kapa_http_scan_scratch(void);

/** Free a scratch from kapa_http_scan_scratch(). NULL ok. */
void kapa_http_scan_scratch_free(struct hs_scratch *s);

/**
 * Block-scan @p len bytes from the start of a header block; the scan stops
 * at the first end-of-block match, so bytes after the block are not scanned.
 * Matches after the end are discarded, the rest are in offset order.
 *
 * @return 0 (see res->end_found), or -EIO when Hyperscan failed.
 */
int kapa_http_scan_block(struct hs_scratch *s, const uint8_t *p, uint32_t len,
			 struct kapa_http_scan_res *res);

/**
 * The pattern set, for a benchmark that compiles it in another mode.
 * @param exprs, flags, ids  filled with KAPA_PAT_MAX entries each
 * @return KAPA_PAT_MAX
 */
unsigned int kapa_http_scan_patterns(const char *const **exprs,
				     const unsigned int **flags,
				     const unsigned int **ids);

/* ---- Value parsers (pure) --------------------------------------------- */

/** Content-Length accumulated over every field line of one message. */
struct kapa_http_cl {
	bool seen;
	bool bad;		/**< malformed, or elements that differ */
	uint64_t value;
};

/**
 * Add one Content-Length field value: a list of 1*DIGIT elements that must
 * all be equal (and equal to earlier lines). Leading zeros are accepted;
 * signs, empty elements, empty values and values over 2^62 are not.
 * @return 0 while consistent, -1 once @p cl is bad.
 */
int kapa_http_parse_content_length(const uint8_t *p, uint32_t len,
				   struct kapa_http_cl *cl);

/** Transfer-Encoding accumulated over every field line of one message. */
struct kapa_http_te {
	bool seen;
	bool chunked_last;	/**< the final coding so far is chunked */
	bool chunked_seen;	/**< chunked appeared (it may appear once) */
	bool bad;		/**< chunked applied twice, or an empty coding list */
	uint8_t ncodings;
};

/**
 * Add one Transfer-Encoding field value (codings, parameters skipped,
 * case-insensitive, empty elements tolerated).
 * @return 0, or -1 once @p te is bad.
 */
int kapa_http_parse_transfer_encoding(const uint8_t *p, uint32_t len,
				      struct kapa_http_te *te);

/** Sub-states of the incremental chunk-size line parser. */
enum kapa_chunk_sub {
	KAPA_CHUNK_DIGITS = 0,	/**< reading hex digits */
	KAPA_CHUNK_BWS,		/**< whitespace after the digits */
	KAPA_CHUNK_EXT,		/**< inside extensions, until LF */
	KAPA_CHUNK_CR,		/**< CR seen, LF expected */
};

/** Most hex digits of a chunk size (a 64-bit value). */
#define KAPA_CHUNK_MAX_DIGITS 16

/**
 * Feed bytes of a chunk-size line (hex digits, optional whitespace and
 * extensions, CRLF or bare LF). State lives in the caller's small fields,
 * so a line may be cut at any byte. Start with *size = 0, *sub = 0,
 * *ndigits = 0.
 *
 * @param used  bytes consumed (through the LF when the line ended)
 * @return 1 when the line ended (*size is the chunk size), 0 when it needs
 *         more bytes, -1 when the line is invalid (no digit, more than 16
 *         digits, a character that cannot be there, CR without LF).
 */
int kapa_http_chunk_line(const uint8_t *p, uint32_t len, uint64_t *size,
			 uint8_t *sub, uint8_t *ndigits, uint32_t *used);

/** Sub-states of the trailer-section skipper. */
enum kapa_trailer_sub {
	KAPA_TRAILER_LINE_START = 0,
	KAPA_TRAILER_IN_LINE,
	KAPA_TRAILER_EMPTY_CR,	/**< CR at the start of a line */
};

/**
 * Skip a trailer section (field lines until an empty line; nothing in it is
 * read: a Connection field in trailers has no effect), cut at any byte.
 * @return 1 when the empty line ended, 0 when more is needed, -1 on a CR
 *         not followed by LF on an empty line.
 */
int kapa_http_trailers(const uint8_t *p, uint32_t len, uint8_t *sub,
		       uint32_t *used);

/** A start line, parsed. Spans point into the block. */
struct kapa_http_start {
	bool is_request;
	struct kapa_span method, target, version, reason;
	uint8_t ver_major, ver_minor;
	uint16_t status;
	uint32_t len;		/**< bytes through its LF */
	bool strict;		/**< well-formed (tolerated == 0) */
	uint16_t tolerated;	/**< bits 1 << enum kapa_http_tol the line needed:
				     whitespace runs or tabs between its parts,
				     whitespace before its end, version digits
				     not d.d, a known method without a version
				     (read as 1.0, version = the text after
				     "HTTP/", if any), a bare LF */
};

/**
 * Whether @p n bytes can be the beginning of a request line or a status
 * line (monotone: once false, no longer prefix makes it true). Only the
 * first 48 bytes are looked at.
 */
bool kapa_http_start_prefix_ok(const uint8_t *p, uint32_t n);

/**
 * Parse the start line at the beginning of @p p (which holds at least one
 * LF): `METHOD SP target SP HTTP/d.d` or `HTTP/d.d SP 3DIGIT [SP reason]`,
 * ending in CRLF. When that strict parse fails (only then: a well-formed
 * line costs nothing more), the forms origin servers also serve, each
 * noted in sl->tolerated (sl->strict false): a bare LF; runs of SP and HTAB
 * between the parts and before the end; 1 to 3 digits on each side of the
 * version's dot; for a known method also `METHOD`, `METHOD SP target` and
 * `METHOD SP target SP HTTP/<odd>`.
 * @return 0, or -1 when it is neither.
 */
int kapa_http_parse_start(const uint8_t *p, uint32_t len,
			  struct kapa_http_start *sl);

/**
 * Whether @p n bytes at the start of a delivery begin a message clearly
 * enough to resume tracking there after a gap or a mid-stream pickup: a
 * whole start line must be present and parse.
 * @return 1 request, 2 response, 0 no.
 */
int kapa_http_resync_point(const uint8_t *p, uint32_t n);

#endif /* KAPA_HTTP_INT_H */
