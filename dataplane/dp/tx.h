/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * A worker's transmit side: one buffered TX queue per port (DPDK's
 * rte_eth_tx_buffer), flushed when full and at a deadline, and the frames
 * kapa crafts (RSTs, second halves of split segments) copied into mbufs of
 * the worker's pool. A frame a queue does not take is freed and counted:
 * every mbuf goes back to its pool.
 */
#ifndef DP_TX_H
#define DP_TX_H

#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "port.h"

/** Frames buffered per port before a burst goes out. */
#define DP_TX_BURST 32

struct dp_tx_params {
	struct dp_port *ports;	/**< indexed by port id */
	uint16_t nports;	/**< entries of @p ports */
	uint16_t worker;	/**< picks the TX queue: worker % nb_txq */
	struct rte_mempool *pool;	/**< crafted frames */
	uint32_t flush_us;	/**< a buffered frame waits at most this; 0 = 100 */
	int socket;
};

/** One port as a worker sends to it. */
struct dp_tx_out {
	struct rte_eth_dev_tx_buffer *buf;	/**< NULL: not a bridged port */
	uint16_t queue;
	rte_spinlock_t *lock;	/**< the queue is shared with other workers */
};

/** Transmit counters (the worker's only). */
struct dp_tx_stats {
	uint64_t packets, bytes;	/**< handed to a queue */
	uint64_t dropped;		/**< a queue did not take them */
	uint64_t crafted;		/**< crafted frames sent */
	uint64_t craft_no_mbuf;		/**< crafted frames lost: pool empty */
	uint64_t craft_no_port;		/**< crafted frames with nowhere to go */
};

struct dp_tx {
	struct dp_tx_out out[RTE_MAX_ETHPORTS];
	uint16_t active[RTE_MAX_ETHPORTS];	/**< ports with a buffer */
	uint16_t nactive;
	struct rte_mempool *pool;
	uint64_t flush_cycles;	/**< TSC cycles a frame may wait */
	uint64_t last_flush;	/**< TSC of the last deadline flush */
	uint64_t pending;	/**< frames buffered since the last flush */
	struct dp_tx_stats st;
};

/** @return 0, or -errno with @p err filled. */
int dp_tx_create(struct dp_tx *tx, const struct dp_tx_params *p, char *err, size_t errlen);

/** Flush and free the buffers. */
void dp_tx_free(struct dp_tx *tx);

/** Queue @p m for @p port (the buffer goes out when full or at the deadline). */
static inline void
dp_tx_send(struct dp_tx *tx, uint16_t port, struct rte_mbuf *m)
{
	struct dp_tx_out *o = &tx->out[port];

	tx->st.packets++;
	tx->st.bytes += m->pkt_len;
	tx->pending++;
	if (o->lock == NULL) {
		rte_eth_tx_buffer(port, o->queue, o->buf, m);
		return;
	}
	rte_spinlock_lock(o->lock);
	rte_eth_tx_buffer(port, o->queue, o->buf, m);
	rte_spinlock_unlock(o->lock);
}

/**
 * Copy a crafted frame into a new mbuf (counted as crafted).
 * @return the mbuf, or NULL (no mbuf: counted).
 */
struct rte_mbuf *dp_tx_frame(struct dp_tx *tx, const uint8_t *frame, uint32_t len);

/**
 * Copy a crafted frame into a new mbuf and queue it for @p port.
 * @return 0, or -1 (no mbuf: counted).
 */
int dp_tx_craft(struct dp_tx *tx, uint16_t port, const uint8_t *frame, uint32_t len);

/** Send what is buffered: all of it when @p force, else when the deadline
 *  since the last flush passed at TSC @p now. */
void dp_tx_flush(struct dp_tx *tx, uint64_t now, int force);

#endif /* DP_TX_H */
