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
 *
 * Counters and histograms outlive a run: on maps that were reused, what the
 * records hold is the base this run adds to (dp_publish_carry() at start,
 * dp_publish_stats() every 10 ms), so a restart, clean or kill -9, loses
 * only what a killed run counted since its last publish (<= 10 ms). Gauges
 * and live connections are the running process's own.
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
	uint64_t frag_handed_over;	/**< rebuilt datagrams copied to their owner */
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
	const struct kapa_frag_stats *frag;
	uint64_t conns_active;
	uint64_t ooo_bytes;
	uint64_t http_left;		/**< every reason added up */
	uint64_t close_after;
	uint64_t refused_tolerated;	/**< edits refused or closes after the response
					     for a message read by a tolerance */
	uint64_t refused_other;		/**< refusals without a counter of their own */
	uint64_t frag_refused_bounds;	/**< fragments refused for an RFC bound */
	uint64_t frag_refused_other;	/**< fragments refused for the rest */
	uint64_t race_tables_full;	/**< the race tables' bounds, added up */
};

/** kapa-dp's own per-connection state (the engine's user slot). */
struct dp_conn {
	/** Table clock (ms, | 1 so never 0) when its last response ended:
	 *  the next request's idle gap is measured from it. 0 = none yet. */
	uint32_t last_end_ms;
};

struct dp_publish_params {
	struct kapa_stats_rec *stats;	/**< the worker's record */
	struct kapa_hist_rec *hist;	/**< the worker's histograms */
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
	struct kapa_hist_rec *hist;
	struct kapa_conn_rec *conns;
	uint32_t capacity;
	uint16_t worker;
	uint64_t stats_every_ns;
	uint64_t next_stats_ns;
	uint32_t refresh_per_ms;
	uint32_t refresh_pos;
	uint64_t next_refresh_ns;
	/** The counters the runs before left in the record (gauges 0): a
	 *  counter is published as base + this run's value. */
	struct kapa_stats_rec base;
};

/**
 * At start, once the maps are open and before any worker is created: make
 * what the stats and histogram records hold the base of this run. Records
 * of slots past @p workers (the last run had more workers) are folded into
 * slot w % @p workers and zeroed, so that the sum over the workers keeps the
 * old sum; gauges and heartbeats are zeroed. Maps just created are zeroed.
 *
 * @param stats    KAPA_MAX_WORKERS records of kapa_stats
 * @param hist     KAPA_MAX_WORKERS records of kapa_hist
 * @param workers  this run's workers, 1..KAPA_MAX_WORKERS
 * @param created  the maps were created by this open (nothing to carry)
 * @param base     filled with the @p workers bases (what the counters
 *                 printed at exit subtract); may be NULL
 */
void dp_publish_carry(struct kapa_stats_rec *stats, struct kapa_hist_rec *hist, uint16_t workers,
		      int created, struct kapa_stats_rec *base);

/** Take the worker's record as its base (dp_publish_carry() ran before) and
 *  clear its live-connection slice. */
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

/** The connection of @p ctx left (KAPA_EV_CLOSE): its requests and its
 *  lifetime into the histograms, its record freed. */
void dp_publish_conn_free(struct dp_publish *p, const struct kapa_stream_ctx *ctx,
			  uint64_t now_ns);

/** A request came after @p idle_ms of idleness on a kept-alive connection. */
static inline void
dp_publish_idle_gap(struct dp_publish *p, uint32_t idle_ms)
{
	p->hist->idle_ms[kapa_hist_bucket(idle_ms)]++;
	p->hist->idle_ms_sum += idle_ms;
}

/** Timed work: counters every stats_every_ns, a refresh slice every ms. */
void dp_publish_tick(struct dp_publish *p, struct kapa_engine *e, const struct dp_counters *dp,
		     const struct dp_tx_stats *tx, uint64_t now_ns);

/** Print the counters of @p n workers' records added up, one per line:
 *  "<name> <value>" after a line "kapa-dp: counters". With @p base (the n
 *  records dp_publish_carry() filled) this run's counts: the records less
 *  what the runs before left; NULL: the records as they are. */
void dp_counters_print(FILE *f, const struct kapa_stats_rec *stats,
		       const struct kapa_stats_rec *base, uint16_t n);

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
