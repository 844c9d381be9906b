/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The core's packet path in one object per worker: TCP tracking and
 * reassembly, the HTTP/1.x tracker, the policy decision and the actions,
 * over a writable packet buffer. kapa-inspect and kapa-dp both run it, so
 * every action exists once:
 *
 *  - close: an RST to each end, each with exactly the sequence number its
 *    receiver expects next and the link header of its direction, when the
 *    keep-alive idle limit, the stall limit or the opaque idle limit passes,
 *    or a request past the max arrives (its bytes are not forwarded);
 *  - Connection: close on the response to request number max, rewritten in
 *    place or inserted; where those bytes have gone already, a close once
 *    the client has acknowledged that response;
 *  - advertise: the server's Keep-Alive rewritten or inserted with the
 *    limits actually enforced (timeout T-1, max counting down);
 *  - insertion keeps the connection consistent: the server's sequence
 *    numbers shifted, the client's acknowledgements and SACK edges
 *    translated back, retransmissions edited identically, segments past the
 *    client's MSS split, and a shifted connection reset both ways whenever
 *    kapa stops tracking it (eviction, expiry, shutdown).
 *
 * Semantics and contracts: ../shared/BRIEF.md; the design: docs/core-act.md.
 *
 * Calls: kapa_engine_input() per packet, kapa_engine_advance() between
 * packets (or bursts). Packets the engine crafts (RSTs, the second part of
 * a split segment) go to the emit callback: during kapa_engine_input() they
 * belong after the packet in hand (when it is forwarded); during
 * kapa_engine_advance() they are due at its time.
 */
#ifndef KAPA_ENGINE_H
#define KAPA_ENGINE_H

#include <stdint.h>

#include "kapa_edit.h"
#include "kapa_frag.h"
#include "kapa_http.h"
#include "kapa_policy.h"
#include "kapa_race.h"
#include "kapa_tcp.h"

/** Bytes of the actions' per-connection state. */
#define KAPA_ACT_STATE_SIZE 160
/**
 * Bytes of the engine's per-connection state, besides the tracker's and the
 * user's. A connection's slot: the tracker's KAPA_HTTP_STATE_SIZE, the race
 * measurement's KAPA_RACE_STATE_SIZE (kapa_race.h), the user's (user_size,
 * rounded up to 16), then the actions' KAPA_ACT_STATE_SIZE, which an engine
 * created with kapa_engine_conf::no_actions does without.
 */
#define KAPA_ENGINE_STATE_SIZE (KAPA_ACT_STATE_SIZE + KAPA_RACE_STATE_SIZE)

/** What to do with the packet in hand. */
enum kapa_verdict {
	KAPA_VERDICT_FORWARD = 0,	/**< send it on (edited or not) */
	KAPA_VERDICT_DROP,		/**< do not forward it */
};

/** Kinds of action (kapa-inspect's JSON "action"). */
enum kapa_act_kind {
	KAPA_ACT_KIND_RST = 0,		/**< RST to both ends, state freed */
	KAPA_ACT_KIND_REWRITE,		/**< a field value rewritten in place */
	KAPA_ACT_KIND_INSERT,		/**< field lines inserted */
	KAPA_ACT_KIND_CLOSE_AFTER,	/**< a close once the response is acknowledged */
	KAPA_ACT_KIND_CLOSE,		/**< the close a response announced, made:
					     a FIN to each end */
	KAPA_ACT_KIND_REFUSED,		/**< an action that could not be taken */
	KAPA_ACT_KIND_MAX
};

/** Why (kapa-inspect's JSON "reason"). */
enum kapa_act_why {
	KAPA_ACT_WHY_IDLE = 0,		/**< keep-alive idle limit passed */
	KAPA_ACT_WHY_STALL,		/**< silent with a request outstanding or a
					     message in progress */
	KAPA_ACT_WHY_OPAQUE_IDLE,	/**< idle limit of a non-HTTP/1.x connection */
	KAPA_ACT_WHY_REQUESTS,		/**< the max requests: close announced, or a
					     further request refused */
	KAPA_ACT_WHY_ADVERTISE,		/**< the limits told to the client */
	KAPA_ACT_WHY_EVICTED,		/**< a shifted connection left the table */
	KAPA_ACT_WHY_SHUTDOWN,		/**< a shifted connection at shutdown */
	KAPA_ACT_WHY_L2_DEEP,		/**< link layer kapa cannot rebuild (tunnel,
					     PPPoE, MPLS, deep tags) */
	KAPA_ACT_WHY_FORWARDED,		/**< the bytes to change were forwarded */
	KAPA_ACT_WHY_LOG_FULL,		/**< no room to remember another edit */
	KAPA_ACT_WHY_NO_ROOM,		/**< the packet buffer cannot grow */
	KAPA_ACT_WHY_FIELDS,		/**< more Connection / Keep-Alive lines than
					     kapa keeps positions of */
	KAPA_ACT_WHY_NO_SEQ,		/**< a direction's sequence numbers unknown */
	KAPA_ACT_WHY_NO_LINK,		/**< no link header seen to craft with (the
					     policy began to act after the last packet) */
	KAPA_ACT_WHY_COMMAND,		/**< an operator's command (kapactl conn close) */
	KAPA_ACT_WHY_TOLERATED,		/**< the message was read only by a tolerance
					     (kapa_http_msg::tolerated): the next hop may
					     read its lines otherwise, so kapa does not
					     edit it */
	KAPA_ACT_WHY_FRAGMENTED,	/**< the packet in hand is an IP datagram kapa
					     reassembled for inspection: its fragments
					     go on unchanged (kapa_frag.h) */
	KAPA_ACT_WHY_MAX
};

/** One action or refusal, as reported to the user. */
struct kapa_action {
	uint8_t kind;		/**< enum kapa_act_kind */
	uint8_t why;		/**< enum kapa_act_why */
	uint8_t dir;		/**< direction of the bytes edited (or the RST's cause) */
	uint8_t srv_dir;	/**< the direction the server sends in (S2C unless
				     the TCP core guessed a pickup's roles wrong) */
	uint32_t len;		/**< bytes rewritten or inserted */
	uint64_t off;		/**< stream offset of the edit in @p dir */
};

/** Counters of the engine (owner-written). */
struct kapa_engine_stats {
	uint64_t act[KAPA_ACT_KIND_MAX][KAPA_ACT_WHY_MAX];	/**< actions by kind, reason */
	uint64_t rst_sent;		/**< RSTs crafted */
	uint64_t fin_sent;		/**< FINs crafted (KAPA_ACT_KIND_CLOSE) */
	uint64_t pkts_edited;		/**< forwarded packets whose bytes kapa changed */
	uint64_t pkts_dropped;		/**< segments not forwarded (refused requests) */
	uint64_t pkts_split;		/**< segments split for the client's MSS */
	uint64_t bytes_inserted;	/**< on first transmission */
	uint64_t edits_replayed;	/**< edits applied again to a retransmission */
	uint64_t acks_translated;	/**< client ACKs moved back to the server's space */
	uint64_t sack_edges_translated;
	uint64_t stale_cut;		/**< server segments from before the shift's
					     floor to past it: the bytes before
					     it cut, the rest forwarded */
	uint64_t stale_probes;		/**< server segments before the shift's floor,
					     sent as a probe (docs/core-act.md) */
	uint64_t replay_no_room;	/**< retransmissions dropped: no room to edit */
	uint64_t midstream_limited;	/**< picked-up connections given limits */
	uint64_t decisions;		/**< policy program runs */
	uint64_t prog_out_of_range;	/**< program results clamped */
	uint64_t rules_redecided;	/**< connections decided again on a new rule set */
	/* Checksums, IPv4 header and TCP (struct kapa_pkt::csum,
	 * kapa_engine_conf::csum_verify) */
	uint64_t csum_bad;		/**< segments (and IPv4 fragments) with a bad
					     checksum: forwarded unchanged, used
					     for nothing */
	uint64_t csum_port;		/**< segments whose checksum the port checked
					     (KAPA_CSUM_GOOD or _BAD) */
	uint64_t csum_sw;		/**< segments whose checksum the engine checked */
};

/** The engine's user: tracker callbacks passed through, actions, crafted packets. */
struct kapa_engine_ops {
	/** The tracker's callbacks (any may be NULL); the user's per-connection
	 *  state is at kapa_engine_user_state(ctx). */
	struct kapa_http_ops http;
	/** An action taken or refused (NULL: not reported). */
	void (*action)(const struct kapa_stream_ctx *ctx, const struct kapa_action *a,
		       void *arg);
	/**
	 * A crafted frame to send toward the end @p toward is the direction of
	 * (KAPA_DIR_C2S: to the server). Valid during the call only. Required
	 * when any rule may enforce.
	 */
	void (*emit)(const struct kapa_stream_ctx *ctx, enum kapa_dir toward,
		     const uint8_t *frame, uint32_t len, void *arg);
	/** Idle-close races and their retries (either may be NULL; called
	 *  with the engine's ops_arg). */
	struct kapa_race_ops race;
	/**
	 * A datagram reassembled from IP fragments, about to go through the
	 * engine (@p pkt_ref: the fragment that completed it). May be NULL.
	 * @return 0 to inspect it here; 1 when the user took it (handed it to
	 *         the worker that owns its connection, which puts it through
	 *         kapa_engine_input_reassembled()); -1 when it is not inspected
	 *         (counted KAPA_FRAG_REF_FOREIGN).
	 */
	int (*reassembled)(const struct kapa_pkt *pkt, void *pkt_ref, void *arg);
};

struct kapa_engine_conf {
	/** The TCP core (table capacity, reassembly bounds, timers). ops,
	 *  ops_arg and flow.app_size are the engine's to set. */
	struct kapa_tcp_conf tcp;
	/** The tracker (pipeline depth, header buffers, ports); ops and
	 *  ops_arg are the engine's to set. */
	struct kapa_http_conf http;
	uint32_t user_size;	/**< per-connection bytes for the user */
	/** The rule set in force at the start; NULL: no policy at all (every
	 *  connection observed, no decision taken). Not owned: it must outlive
	 *  its use (kapa_engine_set_policy()). */
	const struct kapa_policy *policy;
	kapa_policy_prog_fn prog;	/**< NULL: kapa_policy_default_prog() */
	/** The engine never gets a policy or program (policy and prog NULL
	 *  here, kapa_engine_set_policy() and kapa_engine_set_prog() then do
	 *  nothing): no action state per connection, KAPA_ACT_STATE_SIZE
	 *  bytes less each (kapa-inspect without --policy). */
	uint8_t no_actions;
	/** Connections that may have edits not yet acknowledged at once
	 *  (each holds one edit log while it does); 0 = capacity / 16, at
	 *  least 64. Past it an edit is refused (KAPA_ACT_WHY_LOG_FULL). */
	uint32_t edit_logs;
	/** Largest IP datagram the engine may send (a split keeps segments
	 *  under it); 0 = bounded by the client's MSS only. */
	uint32_t mtu;
	/** The race and compliance tables (ops and ops_arg are the engine's
	 *  to set); zero: their defaults. */
	struct kapa_race_conf race;
	/** 1: verify the IPv4 header and TCP checksums of packets that arrive
	 *  with KAPA_CSUM_UNKNOWN (no port checked them); 0: trust them (captures
	 *  taken on the sending host, whose checksums the NIC was to fill). */
	uint8_t csum_verify;
	/** IP fragment reassembly (bounds, timeouts); zero: its defaults. */
	struct kapa_frag_conf frag;
	const struct kapa_engine_ops *ops;
	void *ops_arg;
};

struct kapa_engine;

/**
 * Create an engine with its own TCP core, tracker and edit-log pool.
 * @return the engine, or NULL with rte_errno set (EINVAL, ENOMEM, or the
 *         TCP core's / tracker's error).
 */
struct kapa_engine *kapa_engine_create(const struct kapa_engine_conf *conf);

/** Release every connection (shifted ones reset both ways) and free. NULL ok. */
void kapa_engine_destroy(struct kapa_engine *e);

/**
 * One packet. @p pkt was parsed from inside @p b (pkt->data points into
 * b->data) and may be edited: on return it describes the frame as it
 * stands.
 *
 * A TCP segment whose IPv4 header or TCP checksum is bad (pkt->csum
 * KAPA_CSUM_BAD, or KAPA_CSUM_UNKNOWN and found bad when
 * kapa_engine_conf::csum_verify is set) is what the receiving stack drops:
 * it is counted (csum_bad) and
 * forwarded unchanged, and nothing else is done with it: no connection
 * created or touched, no byte reassembled or delivered, no timer moved.
 *
 * An IP fragment (KAPA_PKT_FRAGMENT) goes to the engine's reassembly table
 * (unless its IPv4 header checksum is bad, found so in the same way:
 * csum_bad) and is forwarded unchanged; the fragment that completes a datagram
 * brings the datagram through this same path first (its checksum over the
 * whole datagram, the lookup, TCP core, tracker, decisions, with @p pkt_ref
 * and @p b's port), where
 * every edit is refused (KAPA_ACT_WHY_FRAGMENTED) and only packets the
 * engine crafts (RSTs, FINs) may go out.
 * @return what to do with it.
 */
enum kapa_verdict kapa_engine_input(struct kapa_engine *e, struct kapa_buf *b,
				    struct kapa_pkt *pkt, uint64_t now_ns, void *pkt_ref);

/** A packet of a burst: its connection looked up ahead, and what became of it. */
struct kapa_engine_slot {
	struct kapa_flow_key key;
	int32_t idx;		/**< the lookup's answer (-ENOENT: none) */
	uint8_t side;		/**< key side of the sender */
	uint8_t dir;		/**< after input: the packet's direction */
	int32_t conn;		/**< after input: its connection, -1 none */
	void *user;		/**< after input: the user's state of it, or NULL */
	uint64_t changes;	/**< the table's changes at the lookup */
};

/**
 * A datagram rebuilt from IP fragments (struct kapa_frag_dgram, its frame
 * copied into @p b by the user) through the engine as the fragment that
 * completed it brings one in kapa_engine_input(): nothing of it is edited
 * (KAPA_ACT_WHY_FRAGMENTED), only crafted packets may go out. For a worker
 * that owns the connection of a datagram another worker rebuilt.
 * @param pkt  kapa_pkt_parse() of the frame in @p b
 */
void kapa_engine_input_reassembled(struct kapa_engine *e, struct kapa_buf *b,
				   struct kapa_pkt *pkt, uint64_t now_ns, void *pkt_ref);

/**
 * Look the connections of a burst up at once (rte_hash_lookup_bulk, the
 * records and slots prefetched), ahead of kapa_engine_input_at() on each
 * packet in order. A position found goes stale when the table changes
 * before its packet (an insert or release by an earlier packet): then that
 * packet is looked up again.
 * @param n  at most 64
 */
void kapa_engine_lookup_burst(struct kapa_engine *e, struct kapa_pkt *const *pkts,
			      uint32_t n, struct kapa_engine_slot *slots);

/**
 * Look one packet's connection up (rte_hash_lookup), ahead of
 * kapa_engine_input_at(): for a caller that reads the connection's state
 * before the packet is processed, one packet at a time (kapa-inspect).
 */
void kapa_engine_lookup(struct kapa_engine *e, const struct kapa_pkt *pkt,
			struct kapa_engine_slot *s);

/**
 * @return the user's state (conf user_size bytes) of the connection at
 * position @p idx, as kapa_engine_lookup() found it (idx >= 0), before its
 * packet goes in: what kapa_engine_user_state() gives in a callback.
 */
void *kapa_engine_user_state_at(struct kapa_engine *e, uint32_t idx);

/**
 * kapa_engine_input() for a packet looked up by kapa_engine_lookup_burst()
 * or kapa_engine_lookup(); also fills @p s's results (the connection,
 * direction and user state; a segment with a bad checksum has none: conn -1,
 * user NULL).
 */
enum kapa_verdict kapa_engine_input_at(struct kapa_engine *e, struct kapa_buf *b,
				       struct kapa_pkt *pkt, struct kapa_engine_slot *s,
				       uint64_t now_ns, void *pkt_ref);

/** What the engine holds about one connection, for publishing it. */
struct kapa_engine_view {
	uint8_t mode;		/**< enum kapa_mode in force */
	uint8_t srv_dir;	/**< direction the server sends in */
	uint8_t opaque;		/**< left HTTP/1.x tracking */
	uint8_t shifted;	/**< kapa shifted its sequence numbers */
	uint8_t persistent;	/**< it persists after its last message */
	uint8_t in_request;	/**< a request is outstanding */
	int32_t rule;		/**< the matched rule, -1: the default */
	uint32_t timeout_s, max, stall_s, opaque_idle_s;	/**< effective limits */
	uint32_t requests, responses;
	uint32_t srv_ka_timeout, srv_ka_max, cli_ka_timeout, cli_ka_max;	/**< KAPA_KA_UNSET */
};

/** Read the engine's view of the connection of @p ctx (any callback). */
void kapa_engine_view(const struct kapa_stream_ctx *ctx, struct kapa_engine_view *v);

/**
 * Where a frame crafted to travel as @p dir came from, in kapa_buf::port
 * tags (during the emit callback, for a bridge to pick the port to send it
 * out of). Its link header was copied from a packet of @p dir, or, where
 * none was seen yet, from one of the other direction with the addresses
 * swapped.
 * @return 0: *port is where @p dir's packets arrive (send it out of that
 *         port's peer); 1: *port is where the other direction's packets
 *         arrive, which faces the receiver (send it out of *port itself);
 *         -1: no packet of the connection was kept (nothing to send).
 */
int kapa_engine_link_port(const struct kapa_stream_ctx *ctx, enum kapa_dir dir, uint8_t *port);

/**
 * Fire due timers (idle, stall, linger expiry) up to @p now_ns, at most
 * @p max; crafted RSTs are emitted. Also decides again, a bounded number
 * at a time, the connections decided under an older rule set.
 * @return expiries handled.
 */
uint32_t kapa_engine_advance(struct kapa_engine *e, uint64_t now_ns, uint32_t max);

/** kapa_tcp_next_deadline() of the engine's TCP core. */
int kapa_engine_next_deadline(struct kapa_engine *e, uint64_t limit_ns, uint64_t *due_ns);

/**
 * Put a new rule set in force (NULL: no policy). Connections are decided
 * again at their next event, and the rest by kapa_engine_advance() a slice
 * at a time. The engine keeps no reference to the old set once this
 * returns.
 */
void kapa_engine_set_policy(struct kapa_engine *e, const struct kapa_policy *p);

/** Replace the decision program (NULL: the built-in one). Connections are
 *  decided again at their next event, and the rest by kapa_engine_advance()
 *  a slice at a time, as after a new rule set. */
void kapa_engine_set_prog(struct kapa_engine *e, kapa_policy_prog_fn prog);

/**
 * Reset connection @p idx both ways and release it: an operator's command
 * (KAPA_ACT_WHY_COMMAND). Not from a callback.
 * @param gen  the generation the command named (kapa_conn::gen): a slot
 *             reused since closes nothing
 * @return 0; -ENOENT: no such connection (free, or another generation);
 *         -EPERM: it cannot be reset (a link layer kapa cannot rebuild, no
 *         packet seen to craft from, sequence numbers unknown), nothing done.
 */
int kapa_engine_close_conn(struct kapa_engine *e, uint32_t idx, uint32_t gen, uint64_t now_ns);

/**
 * Release every connection now. Not from a callback.
 * @param reset_shifted  those whose sequence numbers kapa shifted are reset
 *                       both ways (KAPA_ACT_WHY_SHUTDOWN): kapa-dp stopping.
 *                       0: they are let go silently (kapa-inspect at the end
 *                       of a capture, where kapa-dp would run on).
 * @return connections released.
 */
uint32_t kapa_engine_close_all(struct kapa_engine *e, int reset_shifted);

/** @return the TCP core (table, counters). */
struct kapa_tcp *kapa_engine_tcp(struct kapa_engine *e);

/** @return the tracker (counters). */
struct kapa_http *kapa_engine_http(struct kapa_engine *e);

/** @return the race and hint-compliance tables and counters. */
struct kapa_race *kapa_engine_race(struct kapa_engine *e);

/** @return the IP fragment reassembly table (its counters). */
struct kapa_frag *kapa_engine_frag(struct kapa_engine *e);

/** @return the engine's counters. */
const struct kapa_engine_stats *kapa_engine_stats(const struct kapa_engine *e);

/** @return the user's per-connection state (conf user_size bytes). */
static inline void *
kapa_engine_user_state(const struct kapa_stream_ctx *ctx)
{
	return (uint8_t *)ctx->app + KAPA_HTTP_STATE_SIZE + KAPA_RACE_STATE_SIZE;
}

/** @return "rst", "rewrite", "insert", "close_after_response", "refused". */
const char *kapa_act_kind_name(unsigned kind);

/** @return "idle", "stall", "max", "advertise", "l2-deep", ... */
const char *kapa_act_why_name(unsigned why);

#endif /* KAPA_ENGINE_H */
