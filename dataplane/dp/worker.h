/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * A worker: one lcore, run to completion, owning its own engine (the core's
 * connection table, tracker and actions), its TX queues, its slice of the
 * maps. The packet path is dp_worker_loop() in worker.c.
 */
#ifndef DP_WORKER_H
#define DP_WORKER_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "control.h"
#include "dispatch.h"
#include "ghost.h"
#include "kapa_engine.h"
#include "port.h"
#include "publish.h"
#include "tx.h"

/** Packets taken from a queue or ring at once. */
#define DP_BURST 32

/** Crafted frames that wait behind the packet in hand (a split segment's
 *  second half, RSTs for the packet's connection and for one it evicted). */
#define DP_PENDING_MAX 8

/** An RX queue a worker polls. */
struct dp_rxq {
	uint16_t port, queue;
};

struct dp_worker_params {
	uint16_t id;			/**< worker number, 0.. */
	uint16_t workers;
	struct dp_port *ports;		/**< indexed by port id */
	uint16_t nports;
	struct dp_rxq rxq[RTE_MAX_ETHPORTS * 4];
	uint16_t nb_rxq;
	struct dp_dispatch *dispatch;	/**< NULL: every queue is RSS-symmetric */
	struct dp_ghosts *ghosts;	/**< left by a killed kapa-dp, or NULL */
	struct rte_mempool *pool;
	uint32_t capacity;		/**< connections */
	struct dp_control *control;	/**< the configuration in force, the mailbox */
	const uint64_t *http_ports;	/**< NULL = every port */
	uint32_t mtu;			/**< smallest MTU of the bridged ports */
	uint32_t idle_sleep_us;
	int bypass;			/**< forward only, no core (benchmark ceiling) */
	/** Verify in software the TCP and IPv4 header checksums the port gave
	 *  no verdict on (kapa_engine_conf::csum_verify); 0:
	 *  --no-verify-checksums. */
	uint8_t csum_verify;
	struct kapa_stats_rec *stats;	/**< its record in kapa_stats */
	struct kapa_conn_rec *conns;	/**< its slice of kapa_conns */
	struct kapa_hist_rec *hist;	/**< its record in kapa_hist */
	int socket;
	volatile int *quit;		/**< set by the signal handler */
	/** Workers that stopped polling: a worker drains its dispatch ring
	 *  only once every poller stopped, so no segment is lost at stop. */
	volatile uint32_t *stopped;
	/** Called every 10 ms from the loop (NULL: none): the main lcore's
	 *  duties when kapa-dp runs on one lcore. */
	void (*housekeeping)(void *arg);
	void *housekeeping_arg;
};

/** Bytes of an mbuf's private area: the parsed packet (struct kapa_pkt). */
#define DP_MBUF_PRIV_SIZE RTE_ALIGN(sizeof(struct kapa_pkt), RTE_MBUF_PRIV_ALIGN)

/** kapa_pkt::cls in the private area of a chain of mbufs that holds a
 *  datagram another worker rebuilt from IP fragments: to inspect, never to
 *  forward (worker.c, dp_hand_over()). */
#define DP_CLS_REBUILT 0xfe
/** kapa_pkt::cls of the fragment that completed such a datagram, queued
 *  behind it: the owner forwards it untouched (worker.c, dp_frag_follow()). */
#define DP_CLS_FOLLOW 0xfd

struct dp_worker {
	uint16_t id, workers;
	struct kapa_engine *eng;
	struct dp_tx tx;
	struct dp_publish pub;
	struct dp_counters ctr;
	struct dp_port *ports;
	struct dp_rxq rxq[RTE_MAX_ETHPORTS * 4];
	uint16_t nb_rxq;
	struct dp_dispatch *dispatch;
	struct rte_ring *ring;		/**< its dispatch ring, or NULL */
	struct dp_ghosts *ghosts;
	struct dp_control *control;
	const struct dp_config *cfg;	/**< the configuration the engine runs */
	struct dp_mailbox mailbox;	/**< commands from the main lcore */
	uint32_t idle_sleep_us;
	int bypass;
	uint8_t csum_verify;		/**< dp_worker_params::csum_verify */
	uint64_t frames;		/**< taken in by turns that had work */
	uint64_t busy_cycles;		/**< TSC cycles of those turns */
	volatile int *quit;
	volatile uint32_t *stopped;
	uint64_t now_ns;		/**< CLOCK_MONOTONIC of the burst in hand */
	uint64_t now_tsc;
	/* The packet in hand, while the engine works on it. */
	int in_input;
	int dirty;			/**< its messages changed its connection */
	uint32_t dirty_idx;		/**< ... this one, published after it */
	/* Main-lcore duties when the worker runs there (one lcore in all). */
	void (*housekeeping)(void *arg);
	void *housekeeping_arg;
	uint64_t next_housekeeping_ns;
	uint8_t *frag_buf;		/**< a datagram handed over, made one frame */
	uint16_t frag_owner;		/**< owner + 1 of the datagram the fragment in
					     hand completed and handed over; 0 none */
	uint16_t pending_n;
	struct {
		struct rte_mbuf *m;
		uint16_t port;
	} pending[DP_PENDING_MAX];
};

/**
 * Create worker @p p->id (its engine sized @p p->capacity). Called on the
 * main lcore; the memory the engine touches first is placed by first
 * touch, on the worker's NUMA node once it runs.
 * @return the worker, or NULL with @p err filled.
 */
struct dp_worker *dp_worker_create(const struct dp_worker_params *p, char *err, size_t errlen);

/** Free a worker (after its loop returned). */
void dp_worker_free(struct dp_worker *w);

/** The loop (rte_eal_remote_launch): until *quit, then a clean stop:
 *  shifted connections reset both ways, everything flushed, counters
 *  published a last time. */
int dp_worker_loop(void *arg);

/** CLOCK_MONOTONIC in ns, from the TSC (calibrated at start). */
uint64_t dp_clock_ns(uint64_t tsc);

/** Calibrate dp_clock_ns() against CLOCK_MONOTONIC (main lcore, at start). */
void dp_clock_init(void);

#endif /* DP_WORKER_H */
