/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Idle-close races and keep-alive hint compliance, measured on the events
 * the engine already has (a request's or response's header block, a
 * response's end, a FIN, an accepted RST, the connection's release): never
 * per packet.
 *
 * A race: a request that crosses the server's close on a persistent
 * connection. Either the server's FIN or RST came first and the client,
 * not having seen it yet, sent the request anyway; or the request was
 * under way, on a connection idle before it, when the server closed, and
 * nothing answered it. Classified by what it crossed (enum kapa_race_kind)
 * and whether the client sent the same request line again, from the same
 * address, on a new connection within KAPA_RACE_RETRY_MS.
 *
 * Per server (address and port) the idle gaps that ended in the server's
 * close and those that ended in reuse give its observed idle limit; per
 * User-Agent product token, whether clients that were told
 * `Keep-Alive: timeout=T, max=M` stopped reusing in time. Both tables are
 * bounded: past their size, entries are counted under "other".
 *
 * docs/races.md explains the rules with these names.
 */
#ifndef KAPA_RACE_H
#define KAPA_RACE_H

#include <stdbool.h>
#include <stdint.h>

#include "kapa_http.h"
#include "kapa_tcp.h"

/** Bytes of the per-connection race state (after the engine's own). */
#define KAPA_RACE_STATE_SIZE 64

/** A request line seen again from the same client within this long is a retry. */
#define KAPA_RACE_RETRY_MS 1000

/** What the request crossed. */
enum kapa_race_kind {
	KAPA_RACE_FIN = 0,	/**< the server's FIN */
	KAPA_RACE_RST,		/**< the server's RST (no FIN before it) */
	KAPA_RACE_KIND_MAX
};

/** Buckets of the idle-gap histograms; bucket i holds gaps below
 *  kapa_race_gap_edge_ms(i), the last one everything longer. */
#define KAPA_RACE_GAP_BUCKETS 16

/** One race, as reported to the engine's user. */
struct kapa_race_event {
	uint64_t id;		/**< engine-unique, for the retry notice */
	uint8_t kind;		/**< enum kapa_race_kind */
	uint8_t srv_dir;	/**< the direction the server sends in */
	uint32_t idle_ms;	/**< from the end of the last exchange to the request */
	void *req_ref;		/**< pkt_ref of the request's first byte */
};

/** A server endpoint. */
struct kapa_race_endpoint {
	uint8_t addr[16];	/**< IPv4 in the first 4 bytes */
	uint16_t port;
	uint8_t family;		/**< 4 or 6; 0: the "other" entry */
	uint8_t pad;
};

/** What one server did with idle keep-alive connections. */
struct kapa_race_server {
	struct kapa_race_endpoint ep;
	uint64_t races[KAPA_RACE_KIND_MAX];
	uint64_t retried;
	uint64_t idle_closes;	/**< idle gaps ended by the server's close */
	uint64_t reuses;	/**< idle gaps ended by a request it answered */
	uint32_t close_min_ms;	/**< shortest gap it closed at; UINT32_MAX none */
	uint32_t reuse_max_ms;	/**< longest gap it still answered after */
	uint32_t ka_timeout;	/**< last Keep-Alive timeout it announced; KAPA_KA_UNSET */
	uint32_t close_hist[KAPA_RACE_GAP_BUCKETS];
	uint32_t reuse_hist[KAPA_RACE_GAP_BUCKETS];
};

/** Longest User-Agent product token kept (longer ones are cut). */
#define KAPA_RACE_TOKEN_MAX 31

/** How clients of one User-Agent product token treated the hints they got. */
struct kapa_race_agent {
	char token[KAPA_RACE_TOKEN_MAX + 1];	/**< "" for the "other" entry,
						     "-" for no User-Agent */
	uint64_t conns;		/**< connections that were given a hint, ended */
	uint64_t compliant;	/**< ... with no late reuse and no request past max */
	uint64_t reuse_in_time;	/**< reuses after an idle gap below T */
	uint64_t reuse_late;	/**< reuses after an idle gap of T or more */
	uint64_t over_max;	/**< requests past what max allowed */
	uint64_t closed_in_time;/**< the client closed an idle connection before T */
};

/** Counters (owner-written). */
struct kapa_race_stats {
	uint64_t races[KAPA_RACE_KIND_MAX];	/**< by enum kapa_race_kind */
	uint64_t retried;		/**< races whose request came again in time */
	uint64_t idle_closes;		/**< server closes of idle persistent connections */
	uint64_t reuses;		/**< idle persistent connections reused and answered */
	uint64_t hinted_conns;		/**< connections given a Keep-Alive hint, ended */
	uint64_t hint_compliant;
	uint64_t hint_reuse_late;
	uint64_t hint_over_max;
	uint64_t hint_closed_in_time;
	uint64_t servers_other;		/**< connections counted under "other": server table full */
	uint64_t agents_other;		/**< ... agent table full */
	uint64_t retry_unwatched;	/**< races not watched for a retry: watch list full */
};

/** The race module's user. */
struct kapa_race_ops {
	/** A race, on the connection it happened on. */
	void (*race)(const struct kapa_stream_ctx *ctx, const struct kapa_race_event *ev,
		     void *arg);
	/** The request of race @p id came again, on connection @p ctx. */
	void (*retried)(uint64_t id, const struct kapa_stream_ctx *ctx, void *arg);
};

struct kapa_race_conf {
	uint32_t servers;	/**< server table entries; 0 = 1024 */
	uint32_t agents;	/**< agent table entries; 0 = 256 */
	uint32_t watch;		/**< races watched for a retry at once; 0 = 256 */
	const struct kapa_race_ops *ops;
	void *ops_arg;
};

struct kapa_race;

/**
 * @return the tables, or NULL with rte_errno set (EINVAL, ENOMEM).
 */
struct kapa_race *kapa_race_create(const struct kapa_race_conf *conf);

/** Free. NULL ok. */
void kapa_race_destroy(struct kapa_race *r);

/* The engine's calls; @p st is the connection's KAPA_RACE_STATE_SIZE bytes. */

/** A header block (the tracker's message callback). */
void kapa_race_message(struct kapa_race *r, void *st, const struct kapa_stream_ctx *ctx,
		       const struct kapa_http_msg *m);

/** A message ended. */
void kapa_race_message_end(struct kapa_race *r, void *st, const struct kapa_stream_ctx *ctx,
			   bool is_request);

/** A TCP event (OPEN, FIN, RESET, CLOSE; others are ignored). */
void kapa_race_event(struct kapa_race *r, void *st, const struct kapa_stream_ctx *ctx,
		     enum kapa_stream_event ev);

/**
 * The client was told a hint other than the server's (kapa's advertise
 * rewrite): @p t seconds, @p m further requests (KAPA_KA_UNSET: not told).
 */
void kapa_race_hint(struct kapa_race *r, void *st, uint32_t t, uint32_t m);

/** @return the counters. */
const struct kapa_race_stats *kapa_race_stats(const struct kapa_race *r);

/** @return entries in use; *out the table (the "other" entry is index 0). */
uint32_t kapa_race_servers(const struct kapa_race *r, const struct kapa_race_server **out);

/** @return entries in use; *out the table (the "other" entry is index 0). */
uint32_t kapa_race_agents(const struct kapa_race *r, const struct kapa_race_agent **out);

/** @return the upper edge (ms, exclusive) of histogram bucket @p i; UINT32_MAX for the last. */
uint32_t kapa_race_gap_edge_ms(unsigned i);

/** @return "fin", "rst". */
const char *kapa_race_kind_name(unsigned kind);

/**
 * The product token of a User-Agent value: up to the first '/', space or
 * '(' ("curl/7.88.1" -> "curl"), at most KAPA_RACE_TOKEN_MAX bytes,
 * printable ASCII kept, other bytes as '?'. Pure.
 * @return its length in @p out (NUL-terminated); 0 when there is none.
 */
uint32_t kapa_race_product_token(const uint8_t *ua, uint32_t len, char *out);

#endif /* KAPA_RACE_H */
