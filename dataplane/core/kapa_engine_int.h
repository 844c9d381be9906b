/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Internals of the engine shared by kapa_engine.c (the packet path),
 * kapa_act.c (decisions and actions on the tracker's events) and
 * kapa_act_log.c (the edit log: what was changed in the server's stream,
 * how its sequence numbers moved, and replaying it on retransmissions).
 * docs/core-act.md explains them with these names.
 */
#ifndef KAPA_ENGINE_INT_H
#define KAPA_ENGINE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "kapa_engine.h"

/** Edits one connection may have unacknowledged at once. Bounded so that a
 *  segment never gains more than ACT_LOG_MAX * ACT_TEXT_MAX bytes, less
 *  than the smallest MSS: one split always suffices. */
#define ACT_LOG_MAX 6
/** Longest text an edit writes ("Connection: keep-alive" + "Keep-Alive:
 *  timeout=4294967295, max=4294967295", CRLF, padding). */
#define ACT_TEXT_MAX 80
/** Longest link header kept per direction (SLL2 20 + two tags 8). */
#define ACT_L2_MAX 30
/** MSS assumed when the client's SYN was not seen (RFC 9293 §3.7.1). */
#define ACT_MSS_DEFAULT4 536
#define ACT_MSS_DEFAULT6 1220
/** Crafted frames: the largest segment a split may leave, with headers. */
#define ACT_FRAME_MAX (65536 + 256)

_Static_assert(ACT_LOG_MAX * ACT_TEXT_MAX < ACT_MSS_DEFAULT4,
	       "one split must always suffice");

/* Bits of struct act_conn::flags. */
#define ACT_DECIDED	0x0001	/* a rule was matched under gen */
#define ACT_EDITED	0x0002	/* edits in its log, or a shift: every packet of
				   the server's direction is rewritten, every ack
				   of the client's translated */
#define ACT_REFUSING	0x0004	/* client bytes from refuse_off are not forwarded */
#define ACT_CLOSE_WAIT	0x0008	/* a close is due once the closing response ends */
#define ACT_CLOSE_AT	0x0010	/* close_seq set: RST once the client acks it */
#define ACT_RESET	0x0020	/* kapa reset it: nothing more to do */
#define ACT_OPAQUE	0x0040	/* left HTTP/1.x tracking */
#define ACT_ROLES	0x0080	/* srv_dir decided by a message */
#define ACT_CLOSING	0x0100	/* the response to request max said close */
#define ACT_INTERIM	0x0200	/* the response in progress is a 1xx */
#define ACT_OPENED	0x0400	/* OPEN handled: the state is ours */
#define ACT_PERSISTS	0x0800	/* the last message left it persistent */
#define ACT_CLOSE_FIN	0x1000	/* the close at close_seq is the one the client
				   was told of: a FIN to each end */
#define ACT_FIN_MADE	0x2000	/* kapa sent both ends a FIN: each expects the
				   byte after it (close_seq + 1, refuse_off + 1) */
/* Packets of connections with any of these need work after the TCP core. */
#define ACT_HOT		(ACT_EDITED | ACT_REFUSING | ACT_CLOSE_AT)

/**
 * The engine's per-connection state, after the tracker's in the app slot.
 * Sequence numbers of the server's direction (srv_dir) are in the server's
 * own space unless named otherwise.
 */
struct act_conn {
	uint32_t gen;		/* rule-set generation of the decision */
	int32_t rule;		/* rule index, -1: the default */
	uint16_t flags;		/* ACT_* */
	uint8_t mode;		/* enum kapa_mode in force */
	uint8_t srv_dir;	/* direction responses travel (S2C unless the
				   TCP core guessed the roles wrong) */
	uint8_t srv_conn;	/* KAPA_HTTP_CONN_* of the last response */
	uint8_t cli_conn;	/* ... of the last request */
	uint8_t http_minor;	/* of the last message, 0xff before any */
	uint8_t l2_ether;	/* bit per direction: its template is Ethernet */
	uint8_t l2_len[2];	/* link header bytes kept + 1; 0 = none yet */
	uint8_t l2_port[2];	/* kapa_buf::port of the packet each l2[] came from */
	uint32_t timeout_s;	/* effective limits (0 = none) */
	uint32_t max;
	uint32_t stall_s;
	uint32_t opaque_s;
	uint32_t requests;	/* request header blocks since open / pickup */
	uint32_t responses;	/* final responses to counted requests */
	uint32_t srv_ka_t;	/* Keep-Alive the server / client last announced */
	uint32_t srv_ka_m;
	uint32_t cli_ka_t;
	uint32_t cli_ka_m;
	uint32_t armed_ms;	/* idle limit last given to the TCP core */
	uint32_t shift;		/* bytes inserted before floor (retired edits) */
	uint32_t floor;		/* server seq: every retired edit lies before it */
	uint32_t log;		/* its edit log + 1; 0 = none */
	uint32_t cli_ack_raw;	/* the client's last ack as sent (shifted space) */
	uint32_t close_seq;	/* ACT_CLOSE_AT: server seq the client must ack */
	uint32_t pad1;
	uint64_t refuse_off;	/* ACT_REFUSING: client stream offset */
	uint8_t l2[2][ACT_L2_MAX];	/* link header of each direction's packets */
};

_Static_assert(sizeof(struct act_conn) <= KAPA_ACT_STATE_SIZE,
	       "action state must fit KAPA_ACT_STATE_SIZE");

/* What an edit writes. */
enum act_edit_kind {
	ACT_EDIT_CONN_CLOSE = 0,	/* a Connection value -> "close", padded */
	ACT_EDIT_KA_VALUE,		/* a Keep-Alive value -> the advertised one */
	ACT_EDIT_KA_RENAME,		/* a Keep-Alive name -> ACT_RENAMED */
	ACT_EDIT_INS_CLOSE,		/* "Connection: close" line inserted */
	ACT_EDIT_INS_KA,		/* ["Connection: keep-alive"] "Keep-Alive: ..." */
};

/* The name a superseded Keep-Alive field gets: as long as "Keep-Alive",
 * so the rename is in place; a field no client knows. */
#define ACT_RENAMED "X-Kapa-Old"

/* Bits of struct act_edit::flags. */
#define ACT_TEXT_CRLF	0x01	/* inserted lines end in CRLF (else LF) */
#define ACT_TEXT_CONN	0x02	/* ACT_EDIT_INS_KA: with Connection: keep-alive */
#define ACT_EDIT_SENT	0x80	/* applied once: later applications are replays */

/* One edit of the server's stream, kept until the client acknowledges it. */
struct act_edit {
	uint32_t seq;		/* first byte replaced, or the insertion point */
	uint16_t old_len;	/* bytes replaced; 0 for an insertion */
	uint16_t new_len;	/* bytes written */
	uint8_t kind;		/* enum act_edit_kind */
	uint8_t flags;		/* ACT_TEXT_* */
	uint16_t pad;
	uint32_t t, m;		/* advertised timeout / max, KAPA_KA_UNSET: left out */
};

/* A connection's edits in the order of their seq. */
struct act_log {
	uint32_t next_free;	/* free list: index + 1 */
	uint32_t n;
	struct act_edit e[ACT_LOG_MAX];
};

/* kapa_engine::shutting_down: every connection is being released. */
#define ENGINE_SHUTDOWN	1	/* shifted ones reset both ways */
#define ENGINE_LET_GO	2	/* let go silently (end of a capture) */

struct kapa_engine {
	struct kapa_tcp *tcp;
	struct kapa_http *http;
	struct kapa_flow_table *ft;
	struct kapa_conn *conns;	/* the table's records and slots */
	uint8_t *app;
	uint32_t app_stride;
	/* Where a slot's action state is (kapa_engine.h, KAPA_ENGINE_STATE_SIZE);
	 * 0: none (no_actions), act_of() gives act_none, which the events
	 * write and nothing reads without a policy. */
	uint32_t act_off;
	struct act_conn act_none;
	const struct kapa_policy *policy;	/* NULL: no decisions */
	kapa_policy_prog_fn prog;
	/* The policy may act (a mode that acts, or a program that may pick
	 * one): packets take the acting path. Otherwise decisions are still
	 * taken, on events, but no packet needs more than the TCP core. */
	uint8_t acting;
	/* Segments whose checksum no port verified (KAPA_CSUM_UNKNOWN) are
	 * verified here (kapa_engine_conf::csum_verify). */
	uint8_t csum_verify;
	struct kapa_engine_ops ops;
	void *ops_arg;
	uint32_t mtu;
	uint32_t est_ms;	/* the TCP core's idle limit of established connections */

	/* Edit logs: a pool with a free list. */
	struct act_log *logs;
	uint32_t nlogs;
	uint32_t log_free;	/* index + 1, 0 = none */

	/* The packet in hand (kapa_engine_input()). */
	struct kapa_buf *cur_buf;
	struct kapa_pkt *cur_pkt;
	uint32_t cur_grow;	/* bytes edits will add to it */
	uint32_t cur_cut;	/* payload bytes it keeps (a refused request
				   starts there); UINT32_MAX: all */
	uint64_t cur_seen_end;	/* the end of the bytes its connection had seen
				   in its direction before it, held out of order
				   included (those were forwarded) */
	uint8_t cur_verdict;	/* enum kapa_verdict */
	uint8_t cur_frag;	/* the packet in hand was reassembled from IP
				   fragments: nothing of it may be edited */
	uint8_t shutting_down;	/* 0, ENGINE_SHUTDOWN or ENGINE_LET_GO */

	/* Connections decided under an older rule set, re-decided a slice
	 * per advance: the next index to look at, SWEEP_DONE when done (the
	 * table's capacity is read each time: kapa-inspect's table grows). */
	uint32_t sweep_pos;
	uint8_t sweep_all;	/* the sweep decides every connection again (a new
				   program), not only those of an older rule set */
	const uint64_t *changes;	/* the table's inserts and releases */
	/* Connections with ACT_EDITED: while there are none, no client
	 * segment needs a look before the TCP core. */
	uint32_t edited_conns;

	struct kapa_race *race;	/* races and hint compliance, on events */
	struct kapa_frag *frag;	/* IP fragments reassembled for inspection */
	struct kapa_engine_stats st;
	uint8_t *frame;		/* ACT_FRAME_MAX: crafted frames */
};

static inline struct act_conn *
act_of(const struct kapa_engine *e, const struct kapa_stream_ctx *ctx)
{
	if (e->act_off == 0)
		return (struct act_conn *)(uintptr_t)&e->act_none;
	return (struct act_conn *)((uint8_t *)ctx->app + e->act_off);
}

/* The race measurement's state, after the tracker's. */
static inline void *
race_of(const struct kapa_stream_ctx *ctx)
{
	return (uint8_t *)ctx->app + KAPA_HTTP_STATE_SIZE;
}

/* The actions' state of connection @p idx (an engine with actions). */
static inline struct act_conn *
act_at(const struct kapa_engine *e, uint32_t idx)
{
	return (struct act_conn *)(e->app + (size_t)idx * e->app_stride + e->act_off);
}

/* ---- kapa_act.c: the tracker's user ---------------------------------------- */

/** The tracker callbacks the engine installs (ops_arg = the engine). */
extern const struct kapa_http_ops act_http_ops;

/** Report an action to the user and count it. */
void act_report(struct kapa_engine *e, const struct kapa_stream_ctx *ctx,
		enum kapa_act_kind kind, enum kapa_act_why why, uint64_t off, uint32_t len);

/**
 * Reset the connection both ways (an RST to each end), mark it ACT_RESET
 * and ask the TCP core to free it (at once, or when the callback in
 * progress returns). Refused for KAPA_CONN_L2_DEEP connections (counted).
 * @return 0, or -1 when refused (nothing sent).
 */
int act_reset(struct kapa_engine *e, const struct kapa_stream_ctx *ctx, enum kapa_act_why why);
/* The close that the response to request max announced, once the client
 * has it: a FIN to each end in the other's name, each at exactly the next
 * byte its receiver expects (the client's past any bytes kapa inserted), as
 * if the server had closed and the client answered; each end then closes
 * its side itself, through kapa, which goes on translating a shifted
 * connection until the ends' own FINs end it. RSTs both ways when no FIN
 * can be made. @return 0 (FINs sent), 1 (reset instead: free the state),
 * -1 (nothing sent). */
int act_close_announced(struct kapa_engine *e, const struct kapa_stream_ctx *ctx);

/** Decide the connection again under the rule set in force (event
 *  KAPA_POLICY_EV_RULES) and give the TCP core its idle limit. */
void act_redecide(struct kapa_engine *e, const struct kapa_stream_ctx *ctx);

/* ---- kapa_engine.c ---------------------------------------------------------- */

/** Keep the link header of a direction's packet (the first one seen):
 *  what crafted packets travelling that way copy. */
void keep_l2(struct act_conn *ac, uint8_t dir, const struct kapa_buf *b,
	     const struct kapa_pkt *pkt);

/* ---- kapa_act_log.c: the edit log and the sequence shift ----------------- */

/** Free the connection's log, if any. */
void act_log_drop(struct kapa_engine *e, struct act_conn *ac);

/**
 * Append an edit (its seq after every edit already logged).
 * @return 0, or -1 when the pool or the log is full (nothing logged).
 */
int act_log_add(struct kapa_engine *e, struct act_conn *ac, const struct act_edit *ed);

/** Bytes edit @p ed writes (new_len of them) into @p out. */
void act_edit_text(const struct act_edit *ed, uint8_t *out);

/** Length of the text of an edit, from its kind and parameters. */
uint32_t act_edit_len(const struct act_edit *ed);

/** Server seq @p seq as the client sees it (after the edits before it). */
uint32_t act_shift_seq(const struct kapa_engine *e, const struct act_conn *ac, uint32_t seq);

/**
 * A client segment of an edited connection, before the TCP core sees it:
 * its ack and SACK edges moved back to the server's space (in the packet
 * and in @p pkt), and edits the ack covers retired.
 */
void act_client_in(struct kapa_engine *e, struct act_conn *ac, struct kapa_pkt *pkt);

/**
 * A server segment of an edited connection, after the TCP core: the log's
 * edits applied to its bytes (first transmission or retransmission), its
 * sequence number shifted, the part past the client's MSS split off and
 * emitted.
 * @return KAPA_VERDICT_FORWARD, or KAPA_VERDICT_DROP when a retransmission
 *         could not be edited.
 */
enum kapa_verdict act_server_out(struct kapa_engine *e, const struct kapa_stream_ctx *ctx,
				 struct kapa_buf *b, struct kapa_pkt *pkt);

#endif /* KAPA_ENGINE_INT_H */
