/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The connection table of one worker: one entry per TCP connection (both
 * directions, canonical key), IPv4 and IPv6, bounded and preallocated.
 *
 * - Lookup: DPDK rte_hash with lock-free read concurrency; an entry's index
 *   is its rte_hash key position, so the record array is indexed directly.
 * - Writers: only the owning worker. Readers on other threads read records
 *   without locks through kapa_flow_snapshot() (a per-record sequence
 *   counter), and freed positions are reused only after an rte_rcu_qsbr
 *   grace period of the registered readers.
 * - Admission: half-open connections (SYN seen, no data yet) have their own
 *   budget and their own LRU list, so a SYN flood recycles half-open entries
 *   instead of pushing out established ones. When the table is full the
 *   longest-idle entry goes first. Every refusal and eviction is counted.
 * - Idle expiry: a kapa_timer_wheel over the records. Per packet only
 *   conn->last_seen is written. The LRU lists are wheels of per-second
 *   buckets that re-file entries lazily when eviction looks at them, so the
 *   eviction order is exact at 1-second (1024 ms) granularity without any
 *   LRU write per packet (docs/core-flow.md).
 */
#ifndef KAPA_FLOW_H
#define KAPA_FLOW_H

#include <stdint.h>

#include "kapa_timer.h"

struct rte_rcu_qsbr;

/** Canonical connection key: endpoint 0 is the lower (address, port). */
struct kapa_flow_key {
	uint8_t addr[2][16];	/**< IPv4 in the first 4 bytes, rest zero */
	uint16_t port[2];	/**< host order */
	uint8_t family;		/**< 4 or 6 */
	uint8_t pad[3];		/**< zero */
};

/**
 * Build the canonical key of a packet's connection.
 * @return the side of the key (0 or 1) that is the packet's sender.
 */
int kapa_flow_key_make(struct kapa_flow_key *key, uint8_t family,
		       const uint8_t *src, uint16_t sport,
		       const uint8_t *dst, uint16_t dport);

/** Direction of travel, by the sender's role. */
enum kapa_dir {
	KAPA_DIR_C2S = 0,	/**< client (initiator) to server */
	KAPA_DIR_S2C = 1,
};

/** State of one half (one sender) of a connection. */
enum kapa_half_state {
	KAPA_HALF_NONE = 0,	/**< nothing seen from this sender */
	KAPA_HALF_SYN,		/**< SYN (or SYN/ACK) sent */
	KAPA_HALF_OPEN,		/**< sending data */
	KAPA_HALF_FIN,		/**< FIN sent (seq known, maybe not yet in order) */
	KAPA_HALF_CLOSED,	/**< FIN delivered in order */
};

/** Bits of struct kapa_tcp_half::flags. */
#define KAPA_HALF_GAP		0x01	/**< bytes were skipped: stream has a gap */
#define KAPA_HALF_WSCALE	0x02	/**< window scaling negotiated */
#define KAPA_HALF_SEQ_KNOWN	0x04	/**< base_seq is valid */
#define KAPA_HALF_ACK_KNOWN	0x08	/**< ack/win are valid */
/**
 * Picked up on its data, its first byte not decided yet: everything it sends
 * is held (offset 0 is KAPA_REASM_PICKUP_BACK bytes before the first byte
 * seen) until kapa_reasm_pickup_start() makes the earliest byte offset 0.
 */
#define KAPA_HALF_PICKUP	0x10

/**
 * One direction's TCP and reassembly state, indexed by the sender's role.
 * Sequence number of stream offset o is base_seq + (uint32_t)o. A FIN that
 * arrives before the bytes ahead of it is held in the reassembly queue like
 * data (a chunk flagged FIN), so the half needs no field for it.
 */
struct kapa_tcp_half {
	uint64_t next_off;	/**< offset of the next in-order byte expected */
	uint32_t base_seq;	/**< sequence number of offset 0 (ISN + 1) */
	uint32_t ack;		/**< highest ack this sender sent (its rcv_nxt) */
	uint32_t ooo_head;	/**< first held out-of-order chunk, KAPA_NIL if none */
	uint32_t ooo_bytes;	/**< bytes held out of order */
	uint16_t win;		/**< window field as last sent (unscaled) */
	uint8_t wscale;		/**< shift applied to win (0 unless negotiated) */
	uint8_t ooo_segs;	/**< chunks held out of order */
	uint8_t state;		/**< enum kapa_half_state */
	uint8_t flags;		/**< KAPA_HALF_* */
};

/** Connection states. */
enum kapa_conn_state {
	KAPA_CONN_FREE = 0,
	KAPA_CONN_SYN_SENT,	/**< SYN seen */
	KAPA_CONN_SYN_RCVD,	/**< SYN/ACK seen */
	KAPA_CONN_ESTABLISHED,
	KAPA_CONN_CLOSING,	/**< FIN seen in at least one direction */
	KAPA_CONN_CLOSED,	/**< FIN both ways, or an accepted RST; lingers */
};

/** Bits of struct kapa_conn::flags. */
#define KAPA_CONN_EMBRYONIC	0x0001	/**< on the half-open list */
#define KAPA_CONN_MIDSTREAM	0x0002	/**< picked up without its handshake */
#define KAPA_CONN_ROLE_GUESSED	0x0004	/**< client side guessed (no SYN seen) */
#define KAPA_CONN_OPAQUE	0x0008	/**< consumer wants no more bytes */
#define KAPA_CONN_RESET		0x0010	/**< ended by an accepted RST */
#define KAPA_CONN_SEQ_SHIFTED	0x0020	/**< sequence numbers were shifted by kapa */
#define KAPA_CONN_VLAN_QINQ	0x0040	/**< outer tag is 802.1ad (0x88a8) */
#define KAPA_CONN_L2_DEEP	0x0080	/**< a direction's link layer is more than the
					     MACs and tags kept here (a third tag, a
					     0x9100 tag, PPPoE, MPLS, a tunnel): a packet
					     crafted from this record would be wrong */
#define KAPA_CONN_LATE_TOLD	0x0100	/**< KAPA_EV_LATE_DATA given (once per entry) */

/** Bit of struct kapa_conn::syn_opts: the sender of @p dir offered SACK
 *  (SACK-permitted in its SYN), so SACK blocks may travel towards it. */
#define KAPA_SYN_SACK_OK(dir)	(1u << (dir))

/**
 * The hot state of one connection: 128 bytes, two cache lines (checked by a
 * static assertion). Reassembly buffers and the consumer's state live
 * elsewhere.
 */
struct kapa_conn {
	uint32_t seqcnt;	/**< odd while the owner writes the record */
	uint32_t gen;		/**< generation of this slot, bumped on reuse */
	uint32_t last_seen;	/**< ms (table clock) of the last packet */
	uint32_t lru_prev, lru_next;
	struct kapa_timer_node tmr;	/**< idle expiry */
	uint32_t idle_limit;	/**< ms of idleness before expiry; 0 = none */
	uint16_t flags;		/**< KAPA_CONN_* */
	uint16_t lru_stamp;	/**< second (ms >> 10, low 16 bits) of the LRU bucket it sits in */
	uint8_t state;		/**< enum kapa_conn_state */
	uint8_t client_side;	/**< key side (0/1) of the client */
	uint8_t nvlan;		/**< VLAN tags in vlan_tci (0..2) */
	uint8_t syn_opts;	/**< KAPA_SYN_SACK_OK() bits: what each SYN announced */
	uint8_t mac[2][6];	/**< source MAC of each direction [enum kapa_dir] */
	uint16_t vlan_tci[2];	/**< C2S tags, outer first */
	/** MSS each sender announced in its SYN (or SYN/ACK) [enum kapa_dir]:
	 *  the largest segment it accepts. 0 = not seen (no SYN, or no option). */
	uint16_t mss[2];
	struct kapa_tcp_half half[2];	/**< [enum kapa_dir] */
};

_Static_assert(sizeof(struct kapa_tcp_half) == 32, "kapa_tcp_half must stay 32 bytes");
_Static_assert(sizeof(struct kapa_conn) == 128, "kapa_conn must stay 128 bytes");

/** Why an entry left the table (counted per reason). */
enum kapa_flow_release {
	KAPA_REL_CLOSED = 0,	/**< FIN both ways / RST, after its linger */
	KAPA_REL_IDLE,		/**< idle expiry */
	KAPA_REL_EVICT_EMBRYONIC, /**< half-open budget full: oldest half-open */
	KAPA_REL_EVICT_LRU,	/**< table full: longest-idle entry */
	KAPA_REL_REPLACED,	/**< a new SYN reused the 4-tuple */
	KAPA_REL_EXPLICIT,	/**< the owner asked (control command, shutdown) */
	KAPA_REL_MAX
};

/** Counters of one table (written by the owner only). */
struct kapa_flow_stats {
	uint64_t inserted;
	uint64_t refused;	/**< insert failed even after eviction */
	uint64_t released[KAPA_REL_MAX];
	uint64_t lookups, hits;
	uint64_t lru_refiled;	/**< entries moved to a newer LRU bucket by eviction looks */
	uint64_t lru_walk_capped; /**< eviction looks that stopped at the re-filing cap
				       and took the entry in hand (1-second order not
				       guaranteed for that one eviction) */
	uint64_t grown;		/**< times a growable table doubled (max_capacity) */
	uint64_t grow_failed;	/**< a growth that failed (memory): the table stays
				     at its size and evicts from then on */
};

/** A growing table's hash is in an external malloc heap of its own, named
 *  this and the hash's name (the table's name, or it and "+"). */
#define KAPA_FLOW_GROW_HEAP_PREFIX "kf:"

/** Called for every entry just before it leaves the table (any reason). */
typedef void (*kapa_flow_release_fn)(uint32_t idx, enum kapa_flow_release why,
				     void *arg);

/**
 * Called when an entry's idle limit has passed (checked lazily against
 * last_seen when its wheel slot fires).
 * @return a new idle limit in ms to keep the entry (re-armed from now),
 *         or 0 to release it with KAPA_REL_IDLE.
 */
typedef uint32_t (*kapa_flow_expire_fn)(uint32_t idx, uint32_t now_ms, void *arg);

struct kapa_flow_conf {
	const char *name;	/**< unique per process (rte_hash name), <= 20 chars */
	uint32_t capacity;	/**< entries; memory is fixed at creation, unless: */
	/**
	 * 0: the table holds @p capacity entries for its whole life (kapa-dp).
	 * Larger: the table starts at @p capacity and doubles when it is full,
	 * up to this; only when it holds max_capacity entries does it evict
	 * (kapa-inspect: an offline run has no reason to lose state). Records
	 * and consumer slots are address space for max_capacity of which only
	 * the pages written cost memory; the rte_hash is rebuilt at each
	 * doubling with every entry at the same index, each time in a segment
	 * of an external heap of its own mapped at its size (not in
	 * EAL's memory, which cannot grow). Needs qsbr == NULL
	 * (a position waiting for readers would break the rebuild) and a name
	 * one character shorter (the rebuilt hash alternates names).
	 */
	uint32_t max_capacity;
	uint32_t embryonic_max;	/**< half-open budget; 0 = capacity / 8
				     (of max_capacity when the table grows) */
	uint32_t app_size;	/**< bytes of consumer state per entry (0..1024) */
	int socket_id;		/**< NUMA socket, or SOCKET_ID_ANY */
	uint32_t tick_ms;	/**< timer wheel slot width; 0 = 128 */
	uint32_t wheel_slots;	/**< 0 = 4096 */
	struct rte_rcu_qsbr *qsbr; /**< readers' QSBR variable, or NULL */
	kapa_flow_release_fn on_release;
	kapa_flow_expire_fn on_expire;
	void *cb_arg;
	/**
	 * A full table does not evict an entry idle for less than this (ms):
	 * the insert is refused instead, so that a flood of new connections
	 * cannot churn out connections that are active right now. 0 = any
	 * entry may be evicted. Does not apply to half-open recycling.
	 */
	uint32_t evict_min_idle_ms;
};

struct kapa_flow_table;

/**
 * Create a table. Needs EAL (rte_hash, rte_malloc).
 * @return the table, or NULL with rte_errno set (EINVAL, ENOMEM, EEXIST).
 */
struct kapa_flow_table *kapa_flow_create(const struct kapa_flow_conf *conf);

/** Release every entry (KAPA_REL_EXPLICIT) and free the table. NULL ok. */
void kapa_flow_destroy(struct kapa_flow_table *t);

/**
 * Look up a key.
 * @return the entry's index, or -ENOENT.
 */
int kapa_flow_lookup(struct kapa_flow_table *t, const struct kapa_flow_key *key);

/**
 * Look up @p n keys (n <= 64) at once (rte_hash_lookup_bulk) and prefetch
 * the records found and the first line of their consumer slots. idx[i] is
 * the index or -ENOENT.
 */
void kapa_flow_lookup_bulk(struct kapa_flow_table *t,
			   const struct kapa_flow_key **keys, uint32_t n,
			   int32_t *idx);

/**
 * Insert a new key (must not be present), evicting if needed: an embryonic
 * insert over budget evicts the oldest half-open entry; a full table evicts
 * the longest-idle entry. The record is zeroed except gen (bumped), the
 * consumer slot is zeroed, last_seen = @p now_ms, idle timer disarmed.
 *
 * Opens its own write section on the record: do not call it inside one.
 * An insert may evict any other entry: hold (index, gen) pairs across it.
 *
 * @return the new index, -ENOSPC (counted in stats.refused: nothing
 *         evictable, or every free position still waits for a reader grace
 *         period), or -EEXIST when the key is already present.
 */
int kapa_flow_insert(struct kapa_flow_table *t, const struct kapa_flow_key *key,
		     uint32_t now_ms, int embryonic);

/**
 * Release entry @p idx now (calls on_release, which must not insert or
 * release). Opens its own write section. A free index is ignored.
 */
void kapa_flow_release(struct kapa_flow_table *t, uint32_t idx,
		       enum kapa_flow_release why);

/**
 * Record activity at @p now_ms: stores last_seen and nothing else (the LRU
 * wheel catches up lazily at eviction time). Cheap enough for every packet.
 * Like set_established and set_idle it writes single fields and opens no
 * write section, so it may be called inside the caller's own write section.
 */
void kapa_flow_touch(struct kapa_flow_table *t, uint32_t idx, uint32_t now_ms);

/** Move an entry off the half-open list (first data, or handshake done). */
void kapa_flow_set_established(struct kapa_flow_table *t, uint32_t idx);

/**
 * Set the idle limit (ms, 0 = none) and arm the timer at last_seen + limit.
 * Only call on events, not per packet.
 */
void kapa_flow_set_idle(struct kapa_flow_table *t, uint32_t idx, uint32_t limit_ms);

/**
 * Fire due timers, at most @p max of them (expiry or re-arm).
 * @return timers handled.
 */
uint32_t kapa_flow_expire(struct kapa_flow_table *t, uint32_t now_ms, uint32_t max);

/**
 * The earliest time an expire call can fire a timer (kapa_timer_next()),
 * for a caller with a clock of its own.
 * @return 0 with @p at_ms set, or -ENOENT when nothing falls due by
 *         @p limit_ms.
 */
int kapa_flow_next_deadline(const struct kapa_flow_table *t, uint32_t limit_ms,
			    uint32_t *at_ms);

/** Reclaim positions freed before the readers' last grace period. */
void kapa_flow_reclaim(struct kapa_flow_table *t);

/** @return the record at @p idx (owner only). */
struct kapa_conn *kapa_flow_conn(struct kapa_flow_table *t, uint32_t idx);

/** @return the consumer slot of @p idx (app_size bytes, 16-byte aligned). */
void *kapa_flow_app(struct kapa_flow_table *t, uint32_t idx);

/**
 * The table's count of inserts and releases, to read through the pointer
 * (it never moves): a position looked up before is still right while the
 * count has not moved (a burst's bulk lookup, then the packets one by one).
 */
const uint64_t *kapa_flow_changes(const struct kapa_flow_table *t);

/**
 * Where the records and consumer slots lie, for an owner that indexes them
 * on its packet path without a call per packet (the arrays never move
 * while the table lives): record i is conns[i], slot i app + i * stride.
 */
void kapa_flow_layout(const struct kapa_flow_table *t, struct kapa_conn **conns,
		      uint8_t **app, uint32_t *app_stride);

/** @return the key of @p idx (owner, or reader within a grace period). */
const struct kapa_flow_key *kapa_flow_key(struct kapa_flow_table *t, uint32_t idx);

/** Owner: open / close a write section on a record (sequence counter). */
void kapa_flow_write_begin(struct kapa_conn *c);
void kapa_flow_write_end(struct kapa_conn *c);

/**
 * Reader on any thread: copy record @p idx without locks.
 * @return 0 with @p out filled, -ENOENT if the slot is free, -EAGAIN if the
 *         owner kept writing through several retries.
 */
int kapa_flow_snapshot(const struct kapa_flow_table *t, uint32_t idx,
		       struct kapa_conn *out);

/** @return entries in use / half-open / capacity (the current one, of a
 *  table that grows). */
uint32_t kapa_flow_count(const struct kapa_flow_table *t);
uint32_t kapa_flow_embryonic(const struct kapa_flow_table *t);
uint32_t kapa_flow_capacity(const struct kapa_flow_table *t);

/** @return the most entries the table will hold: its capacity, or the
 *  max_capacity it may grow to. */
uint32_t kapa_flow_max_capacity(const struct kapa_flow_table *t);

/** @return the table's counters (owner's copy; readers may see them torn by
 *  at most one update per field). */
const struct kapa_flow_stats *kapa_flow_stats(const struct kapa_flow_table *t);

/** @return bytes of fixed state per entry: record + consumer slot + hash share. */
uint64_t kapa_flow_bytes_per_entry(const struct kapa_flow_table *t);

/**
 * Bytes of EAL memory (rte_malloc) the rte_hash of a table of @p entries
 * takes, for sizing EAL's memory: a table that grows to N holds, while it
 * doubles, the hash of N / 2 and the one of N at once.
 */
uint64_t kapa_flow_hash_bytes(uint32_t entries);

/** @return a short name of a release reason ("idle", "evict-lru", ...). */
const char *kapa_flow_release_name(unsigned why);

#endif /* KAPA_FLOW_H */
