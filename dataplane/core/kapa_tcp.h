/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * TCP tracking and reassembly of one worker, and the stream-consumer
 * interface the HTTP tracker sits on.
 *
 * kapa_tcp_input() takes a parsed segment and
 *  - finds or creates its connection (handshake, or mid-stream pickup),
 *  - tracks both halves (state, sequence space, acks, scaled windows),
 *  - believes an RST only when its sequence number is exactly the next one
 *    expected (RFC 5961); other RSTs are counted and the state stays,
 *  - hands in-order payload to the consumer without copying, holds
 *    out-of-order payload (bounded per connection and globally) and hands it
 *    on when the hole fills. Overlaps: the bytes seen first win; a later copy
 *    that differs is counted as inconsistent. Data already delivered is
 *    dropped from reassembly (counted, still forwarded by the data plane).
 *  - A limit hit, an ack from the peer past a hole kapa never saw (the
 *    bytes were lost before kapa), or a hole older than the hole timeout
 *    when its sender sends again (kapa missed the segment: a capture drop,
 *    or a tap that sees one direction only), skips the hole: the consumer
 *    gets a GAP event and later bytes continue at their true offsets.
 *  - When a connection is released (idle expiry, eviction, port reuse,
 *    kapa_tcp_close(), kapa_tcp_destroy()) with bytes still held out of
 *    order, they are handed on before KAPA_EV_CLOSE: a GAP for each hole,
 *    then the held bytes in order (client to server first). Those callbacks
 *    come without a packet (ctx->pkt NULL); the GAPs without a reference
 *    either (ctx->pkt_ref NULL).
 *  - Held bytes, whenever they are delivered, carry the reference and time
 *    of the segment that brought them (struct kapa_stream_ctx).
 *
 * Stream offsets are 64-bit and start at 0 with the first payload byte after
 * the SYN (or with the first byte seen, on a mid-stream pickup).
 */
#ifndef KAPA_TCP_H
#define KAPA_TCP_H

#include <stdint.h>

#include "kapa_flow.h"
#include "kapa_pkt.h"

struct kapa_tcp;

/**
 * Everything a consumer callback needs about the connection in hand.
 *
 * Bytes held out of order and delivered later (when a hole fills or is
 * skipped, or at release) come from a copy: for their data callback, and
 * for the FIN of a held FIN, pkt is NULL and pkt_ref / now_ns are those of
 * the segment that brought them. One data callback never mixes bytes of two
 * segments. So pkt_ref of a data callback is always the packet that carried
 * its bytes, and pkt is non-NULL exactly when @p p points into pkt's
 * payload (where an action may change bytes).
 */
struct kapa_stream_ctx {
	struct kapa_tcp *tcp;	/**< NULL when a test drives a consumer directly */
	void *ops_arg;		/**< kapa_tcp_conf::ops_arg */
	uint32_t idx;		/**< connection index in the worker's table */
	struct kapa_conn *conn;
	void *app;		/**< the consumer's fixed-size slot */
	enum kapa_dir dir;	/**< direction of the bytes / event */
	/** Time of the packet that carried the bytes (held bytes: earlier than
	 *  the packet in hand, so not monotonic across callbacks); else of the
	 *  packet in hand, or of the timer advance. The connection's idle clock
	 *  (last_seen) is the table's: it moves with packet arrival only. */
	uint64_t now_ns;
	/** The caller's reference to the packet that carried the bytes (or the
	 *  packet in hand). An opaque token for the consumer to copy or compare,
	 *  never to dereference: for held bytes it names a packet that may be
	 *  gone (an mbuf already forwarded). NULL for timer events, for GAPs of
	 *  a release, and for packets given without one. */
	void *pkt_ref;
	/** The packet in hand, when the bytes or event come with it; NULL for
	 *  timer events, for held bytes (see above) and for the callbacks of a
	 *  release (held bytes handed on before CLOSE). */
	const struct kapa_pkt *pkt;
	/** Data callbacks with pkt set: the stream offset of the first payload
	 *  byte of pkt (which may lie before the delivery's @p off when the
	 *  segment's head was a retransmission). So stream offsets in
	 *  [pkt_off, pkt_off + pkt->payload_len) are bytes of the packet in
	 *  hand, where an action may still change them; anything before pkt_off
	 *  has been forwarded. 0 otherwise. */
	uint64_t pkt_off;
	/** KAPA_EV_CLOSE: why the entry leaves (enum kapa_flow_release). */
	uint8_t release;
};

/** Stream events. */
enum kapa_stream_event {
	KAPA_EV_OPEN = 0,	/**< new connection (app slot is zeroed) */
	KAPA_EV_GAP,		/**< @p len bytes at @p off will never be delivered */
	KAPA_EV_FIN,		/**< this direction ended in order at @p off */
	KAPA_EV_RESET,		/**< an accepted RST (from dir) */
	KAPA_EV_CLOSE,		/**< the entry is being freed; last call for it
				     (ctx->release says why) */
	KAPA_EV_ESTABLISHED,	/**< the handshake completed (the TCP core has just
				     set its own idle limit: a consumer with a limit
				     of its own sets it again here). Not for a
				     connection picked up on data: OPEN finds it
				     established already. */
	KAPA_EV_LATE_DATA,	/**< payload from @p dir after an accepted RST,
				     while the entry lingers: a peer that had not
				     seen the RST yet. Once per connection; the
				     bytes are not delivered (ctx->pkt has them) */
	KAPA_EV_MAX
};

/** The consumer: callbacks of the TCP core. All are required. */
struct kapa_stream_ops {
	/** In-order bytes; valid only during the call. */
	void (*data)(const struct kapa_stream_ctx *ctx, uint64_t off,
		     const uint8_t *p, uint32_t len);
	/** An event; @p off and @p len as the event says, else 0. */
	void (*event)(const struct kapa_stream_ctx *ctx, enum kapa_stream_event ev,
		      uint64_t off, uint64_t len);
	/**
	 * Idle expiry of a connection whose idle limit passed.
	 * @return a new idle limit (ms) to keep it, 0 to free it.
	 */
	uint32_t (*expire)(const struct kapa_stream_ctx *ctx);
};

/** Counters of the TCP core (owner-written). */
struct kapa_tcp_stats {
	uint64_t pkts[KAPA_PKT_CLASS_MAX];	/**< by enum kapa_pkt_class */
	uint64_t bad[KAPA_BAD_MAX];		/**< by enum kapa_pkt_bad */
	uint64_t conns_opened;		/**< with a handshake */
	uint64_t conns_midstream;	/**< picked up without one */
	uint64_t conns_refused;		/**< table full (packet forwarded) */
	uint64_t no_conn;		/**< non-SYN without data, no entry: ignored */
	uint64_t bytes_delivered;
	uint64_t segs_in_order;
	uint64_t segs_ooo;		/**< held out of order */
	uint64_t segs_retrans;		/**< entirely before next_off */
	uint64_t bytes_overlap;		/**< bytes seen twice */
	uint64_t bytes_inconsistent;	/**< ... that differed (first copy kept) */
	uint64_t gaps;			/**< GAP events */
	uint64_t gap_limit_conn;	/**< gaps from the per-connection limit */
	uint64_t gap_limit_global;	/**< gaps from the global cap */
	uint64_t gap_acked_hole;	/**< gaps from a peer ack past a hole */
	uint64_t rst_accepted;
	uint64_t rst_ignored;		/**< not exactly at the next sequence */
	uint64_t syn_new_on_closed;	/**< SYN reusing a closed 4-tuple */
	uint64_t out_of_window;		/**< data far outside the window: ignored */
	uint64_t gap_hole_timeout;	/**< gaps from a hole older than hole_timeout_ms */
	uint64_t gap_release;		/**< gaps handed on at release (held data) */
	uint64_t bytes_release_flushed;	/**< held bytes delivered at release (also
					     in bytes_delivered) */
	/* Data-first pickups (KAPA_HALF_PICKUP): how each direction's first
	 * byte was decided. */
	uint64_t pickup_start_ack;	/**< by the peer's ack */
	uint64_t pickup_start_timeout;	/**< held for hole_timeout_ms, no ack */
	uint64_t pickup_start_limit;	/**< the direction's hold limit or the pool */
	uint64_t pickup_start_other;	/**< a segment reaching back past the
					     window, an RST, an expiry, a release */
	uint64_t pickup_early_bytes;	/**< bytes that came before the first
					     byte seen and were taken (offset 0
					     moved back) */
};

struct kapa_tcp_conf {
	struct kapa_flow_conf flow;	/**< the table (on_release/on_expire/cb_arg
					     are set by kapa_tcp_create) */
	uint32_t ooo_max_bytes;		/**< per direction; 0 = 65536 */
	uint32_t ooo_max_segs;		/**< per direction; 0 = 64, at most 255 */
	uint32_t ooo_pool_bytes;	/**< global cap; 0 = 64 MiB */
	uint32_t syn_timeout_ms;	/**< half-open idle limit; 0 = 30 s */
	uint32_t est_timeout_ms;	/**< default idle limit; 0 = 2 h */
	uint32_t closed_linger_ms;	/**< after FIN both ways / RST; 0 = 2 s */
	const struct kapa_stream_ops *ops;
	void *ops_arg;			/**< returned by kapa_tcp_ops_arg() */
	/**
	 * A direction whose oldest hole has been open this long skips it (GAP)
	 * when its sender's next segment arrives; 0 = 1000 ms, UINT32_MAX =
	 * never. kapa forwards every segment, so a loss upstream is retransmitted
	 * through it: fast retransmit within about one RTT (RFC 5681), else at
	 * the sender's RTO, whose initial value RFC 6298 sets to 1 s (Linux' floor
	 * is 200 ms). The hole is timed from when bytes behind it were first held,
	 * after the lost segment was sent, so a first retransmission by a 1 s RTO
	 * arrives before 1 s of hole age. A hole older than that was missed by
	 * kapa (capture drop, one-direction tap) and will not fill.
	 */
	uint32_t hole_timeout_ms;
};

/** What kapa_tcp_input() did with a segment, for the caller. */
struct kapa_tcp_result {
	int32_t idx;		/**< connection index, -1 if none */
	uint8_t dir;		/**< enum kapa_dir of the segment */
	uint8_t is_new;		/**< the segment created the connection */
	struct kapa_conn *conn;	/**< its record, when idx >= 0 */
	void *app;		/**< its consumer slot, when idx >= 0 */
};

/**
 * Create a TCP core with its own connection table and reassembly pool.
 * @return the core, or NULL with rte_errno set.
 */
struct kapa_tcp *kapa_tcp_create(const struct kapa_tcp_conf *conf);

/** Close every connection (KAPA_EV_CLOSE) and free everything. NULL ok. */
void kapa_tcp_destroy(struct kapa_tcp *tcp);

/**
 * Process one parsed packet (any class; non-TCP ones are only counted).
 * Calls the consumer as needed, then returns.
 *
 * @param now_ns  packet time; must not go backwards by more than a second
 * @param pkt_ref opaque, handed to the consumer as ctx->pkt_ref with the
 *                packet's bytes, also when they are held and delivered
 *                later (never dereferenced by the core)
 */
void kapa_tcp_input(struct kapa_tcp *tcp, const struct kapa_pkt *pkt,
		    uint64_t now_ns, void *pkt_ref, struct kapa_tcp_result *res);

/**
 * Look a TCP packet's connection up, for a caller that needs the connection
 * before kapa_tcp_input_at() processes the packet (the action layer
 * translates acknowledgements of connections whose sequence numbers it
 * shifted).
 *
 * @param pkt   a parsed packet of class KAPA_PKT_TCP
 * @param key   filled with the packet's canonical key
 * @param side  filled with the key side (0/1) of the packet's sender
 * @return the connection's index, or -ENOENT.
 */
int kapa_tcp_lookup(struct kapa_tcp *tcp, const struct kapa_pkt *pkt,
		    struct kapa_flow_key *key, int *side);

/**
 * kapa_tcp_input() for a TCP packet whose connection was looked up already
 * (kapa_tcp_lookup(), or a bulk lookup of the burst): the table is not
 * searched again.
 *
 * @param key, side  as kapa_tcp_lookup() filled them
 * @param idx        what the lookup returned (an index, or -ENOENT); no
 *                   insert or release may have happened since
 */
void kapa_tcp_input_at(struct kapa_tcp *tcp, const struct kapa_pkt *pkt,
		       const struct kapa_flow_key *key, int side, int idx,
		       uint64_t now_ns, void *pkt_ref, struct kapa_tcp_result *res);

/**
 * Advance idle timers to @p now_ns, handling at most @p max expiries.
 * @return expiries handled.
 */
uint32_t kapa_tcp_advance(struct kapa_tcp *tcp, uint64_t now_ns, uint32_t max);

/**
 * The earliest idle-timer deadline up to @p limit_ns, for a caller with a
 * clock of its own (kapa-inspect runs capture time) that fires expiries at
 * their due time: kapa_tcp_advance() to the returned time fires it. A
 * deadline may turn out not due (the connection was active since it was
 * armed: the advance re-arms it); ask again after the advance.
 *
 * @param limit_ns  look no further than this time
 * @param due_ns    filled with the time an advance must reach to fire the
 *                  earliest timer (its deadline's tick has passed)
 * @return 0 with @p due_ns set, or -ENOENT when no timer falls due by
 *         @p limit_ns.
 */
int kapa_tcp_next_deadline(struct kapa_tcp *tcp, uint64_t limit_ns, uint64_t *due_ns);

/** Stop delivering bytes of a connection (opaque, or tracking gave up):
 *  held data is freed, sequence tracking and idle tracking go on. Safe from
 *  any callback on that connection, release callbacks included. */
void kapa_tcp_set_opaque(struct kapa_tcp *tcp, uint32_t idx);

/** Set a connection's idle limit (ms, 0 = none), measured from last_seen. */
void kapa_tcp_set_idle(struct kapa_tcp *tcp, uint32_t idx, uint32_t limit_ms);

/**
 * Release every connection now (KAPA_REL_EXPLICIT: held bytes handed on, then
 * KAPA_EV_CLOSE), as kapa_tcp_destroy() does, but keep the core, so that the
 * caller can read counters that include the hand-on (kapa-inspect at the end
 * of a capture). Visits the whole table: not for the packet path. Not from a
 * callback.
 * @return connections released.
 */
uint32_t kapa_tcp_close_all(struct kapa_tcp *tcp);

/**
 * Free a connection: now (held bytes handed on, then KAPA_EV_CLOSE), or, from
 * a callback on that connection during kapa_tcp_input() or expire(), once
 * the packet or expiry is done. From the data and event callbacks of its own
 * release it only stops the hand-on (the entry is being freed anyway). Not
 * from KAPA_EV_CLOSE, and not on another connection from a release.
 */
void kapa_tcp_close(struct kapa_tcp *tcp, uint32_t idx);

/** @return the table clock: ms since the first packet (conn->last_seen's
 *  unit), never going backwards. */
uint32_t kapa_tcp_clock_ms(const struct kapa_tcp *tcp);

/** @return the connection table (for lookups, snapshots, counters). */
struct kapa_flow_table *kapa_tcp_table(struct kapa_tcp *tcp);

/** @return the counters. */
const struct kapa_tcp_stats *kapa_tcp_stats(const struct kapa_tcp *tcp);

/** kapa_reasm_oldest_ref() of the core's pool: the oldest packet reference,
 *  read as a number, whose bytes are held out of order; UINT64_MAX if none. */
uint64_t kapa_tcp_oldest_ref(const struct kapa_tcp *tcp);

/** @return conf->ops_arg. */
void *kapa_tcp_ops_arg(const struct kapa_tcp *tcp);

/**
 * @return the stream offset past the last byte of direction @p dir of
 * connection @p idx that kapa has seen and forwarded: past what is held out
 * of order (or what a pickup holds before its start is decided, once it
 * is) when that lies beyond the next in-order byte. While held bytes are
 * delivered (ctx->pkt NULL) the bytes after them went out already.
 */
uint64_t kapa_tcp_seen_end(const struct kapa_tcp *tcp, uint32_t idx, enum kapa_dir dir);

/** @return bytes held out of order right now (all connections). */
uint64_t kapa_tcp_ooo_bytes(const struct kapa_tcp *tcp);

/** @return the sequence number of stream offset @p off in direction @p dir. */
static inline uint32_t
kapa_tcp_seq_of(const struct kapa_conn *c, enum kapa_dir dir, uint64_t off)
{
	return c->half[dir].base_seq + (uint32_t)off;
}

/**
 * The sequence number an RST sent in the name of the sender of @p dir must
 * carry for its peer to accept it now (RFC 5961: exactly the peer's
 * rcv_nxt). kapa forwards every byte it sees, so that is the later of the
 * next in-order byte it expects from the sender (after its FIN, if that was
 * delivered) and the peer's last ack.
 *
 * @return the sequence number; meaningful when c->half[dir] has
 *         KAPA_HALF_SEQ_KNOWN.
 */
static inline uint32_t
kapa_tcp_rst_seq(const struct kapa_conn *c, enum kapa_dir dir)
{
	const struct kapa_tcp_half *h = &c->half[dir];
	const struct kapa_tcp_half *peer = &c->half[dir ^ 1];
	uint32_t next = h->base_seq + (uint32_t)h->next_off +
			(h->state == KAPA_HALF_CLOSED ? 1 : 0);

	if ((peer->flags & KAPA_HALF_ACK_KNOWN) && (int32_t)(peer->ack - next) > 0)
		return peer->ack;
	return next;
}

/** @return a short name of a stream event. */
const char *kapa_stream_event_name(unsigned ev);

#endif /* KAPA_TCP_H */
