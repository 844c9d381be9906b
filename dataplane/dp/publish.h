/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * What a worker shows the world, through the pinned maps' memory (never a
 * syscall): its counters, from the one counter table (kapa_counters.h),
 * into its record of kapa_stats every few milliseconds with its heartbeat;
 * its live connections into its slice of kapa_conns (worker x per-worker
 * capacity, so workers never share a record), written on the connection's
 * events and refreshed (state, last_seen, bytes) by a bounded sweep.
 *
 * Readers: DPDK telemetry (/kapa/stats, /kapa/conns), the counters printed
 * at exit, and, through the same maps, kapad and kapactl.
 */
#ifndef DP_PUBLISH_H
#define DP_PUBLISH_H

#include <stdint.h>
#include <stdio.h>

#include "kapa_engine.h"
#include "kapa_maps.h"
#include "tx.h"

/** A worker's counters beyond the core's and the TX side's. */
struct dp_counters {
	uint64_t rx_packets, rx_bytes;
	uint64_t untouched_multiseg;	/**< several mbufs: the core takes contiguous bytes */
	uint64_t untouched_oversize;	/**< over the port's MTU */
	uint64_t dispatched;		/**< handed to their owner's ring */
	uint64_t dispatch_full;		/**< dropped: the owner's ring was full */
	uint64_t ghosts_reset;		/**< ghost.h */
	uint64_t ghost_forwarded;
	uint64_t http10_requests;
	uint64_t req_conn_keep_alive, req_conn_close, req_ka_field;
	uint64_t resp_conn_keep_alive, resp_conn_close, resp_ka_field;
};

/** Where the counter table's sources are (the `s` of kapa_counters.h). */
struct dp_counter_src {
	const struct dp_counters *dp;
	const struct dp_tx_stats *tx;
	const struct kapa_tcp_stats *tcp;
	const struct kapa_flow_stats *flow;
	const struct kapa_http_stats *http;
	const struct kapa_engine_stats *eng;
	const struct kapa_race_stats *race;
	uint64_t conns_active;
	uint64_t ooo_bytes;
	uint64_t http_left;		/**< every reason added up */
	uint64_t close_after;
	uint64_t refused_other;		/**< refusals without a counter of their own */
	uint64_t race_tables_full;	/**< the race tables' bounds, added up */
};

struct dp_publish_params {
	struct kapa_stats_rec *stats;	/**< the worker's record */
	struct kapa_conn_rec *conns;	/**< the worker's slice: capacity records */
	uint32_t capacity;
	uint16_t worker;
	uint64_t stats_every_ns;	/**< 0 = 10 ms */
	/** Records refreshed per millisecond; 0 = capacity / 4096, at least 64
	 *  (a full pass every ~4 s at any size, bounded work per call). */
	uint32_t refresh_per_ms;
};

struct dp_publish {
	struct kapa_stats_rec *stats;
	struct kapa_conn_rec *conns;
	uint32_t capacity;
	uint16_t worker;
	uint64_t stats_every_ns;
	uint64_t next_stats_ns;
	uint32_t refresh_per_ms;
	uint32_t refresh_pos;
	uint64_t next_refresh_ns;
};

void dp_publish_init(struct dp_publish *p, const struct dp_publish_params *pp);

/** Gather the sources of a worker's engine, counters and TX side. */
void dp_counter_src_fill(struct dp_counter_src *s, struct kapa_engine *e,
			 const struct dp_counters *dp, const struct dp_tx_stats *tx);

/** Write the counters (and the heartbeat @p now_ns) into the record. */
void dp_publish_stats(struct dp_publish *p, const struct dp_counter_src *s, uint64_t now_ns);

/** Mark the worker gone (heartbeat 0): at a clean stop. */
void dp_publish_detach(struct dp_publish *p);

/**
 * Publish the connection of @p ctx (any engine callback): addresses,
 * state, requests, keep-alive parameters, effective limits, times. A
 * KAPA_EV_CLOSE frees its record.
 * @param opening  the connection is new (first_seen set to @p now_ns)
 */
void dp_publish_conn(struct dp_publish *p, const struct kapa_stream_ctx *ctx, int opening,
		     uint64_t now_ns);

/** Free the record of a connection that left (KAPA_EV_CLOSE). */
void dp_publish_conn_free(struct dp_publish *p, uint32_t idx);

/** Timed work: counters every stats_every_ns, a refresh slice every ms. */
void dp_publish_tick(struct dp_publish *p, struct kapa_engine *e, const struct dp_counters *dp,
		     const struct dp_tx_stats *tx, uint64_t now_ns);

/** Print the counters of @p n workers' records added up, one per line:
 *  "<name> <value>" after a line "kapa-dp: counters". */
void dp_counters_print(FILE *f, const struct kapa_stats_rec *stats, uint16_t n);

/**
 * Register the telemetry commands: /kapa/stats (the counters added up over
 * the workers, and per worker with a worker number as parameter) and
 * /kapa/conns (live connections; parameter: how many, default 16, at most
 * DP_TELEMETRY_CONNS_MAX, the reply's size bound). They read the maps.
 * @return 0, or -errno.
 */
int dp_telemetry_register(const struct kapa_stats_rec *stats, const struct kapa_conn_rec *conns,
			  uint16_t workers, uint32_t per_worker);

#define DP_TELEMETRY_CONNS_MAX 32

#endif /* DP_PUBLISH_H */
