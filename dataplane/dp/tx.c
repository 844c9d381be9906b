/* SPDX-License-Identifier: BSD-3-Clause */
/* A worker's TX buffers and crafted frames. See tx.h. */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "tx.h"

#define DEFAULT_FLUSH_US 100

int
dp_tx_create(struct dp_tx *tx, const struct dp_tx_params *p, char *err, size_t errlen)
{
	uint16_t i;

	memset(tx, 0, sizeof(*tx));
	tx->pool = p->pool;
	tx->flush_cycles = rte_get_tsc_hz() / 1000000 * (p->flush_us ? p->flush_us : DEFAULT_FLUSH_US);
	for (i = 0; i < p->nports && i < RTE_MAX_ETHPORTS; i++) {
		const struct dp_port *port = &p->ports[i];
		struct dp_tx_out *o = &tx->out[i];

		if (port->nb_txq == 0)
			continue;
		o->buf = rte_zmalloc_socket("kapa_txbuf", RTE_ETH_TX_BUFFER_SIZE(DP_TX_BURST), 0,
					    p->socket);
		if (o->buf == NULL) {
			snprintf(err, errlen, "worker %u: no memory for TX buffers", p->worker);
			dp_tx_free(tx);
			return -ENOMEM;
		}
		rte_eth_tx_buffer_init(o->buf, DP_TX_BURST);
		/* What a queue does not take is freed and counted, never
		 * retried in a loop that would stall the worker. */
		rte_eth_tx_buffer_set_err_callback(o->buf, rte_eth_tx_buffer_count_callback,
						   &tx->st.dropped);
		tx->active[tx->nactive++] = i;
		o->queue = (uint16_t)(p->worker % port->nb_txq);
		o->lock = port->txq_lock != NULL ? &port->txq_lock[o->queue] : NULL;
	}
	return 0;
}

void
dp_tx_free(struct dp_tx *tx)
{
	uint16_t i;

	dp_tx_flush(tx, 0, 1);
	for (i = 0; i < RTE_MAX_ETHPORTS; i++) {
		rte_free(tx->out[i].buf);
		tx->out[i].buf = NULL;
	}
}

struct rte_mbuf *
dp_tx_frame(struct dp_tx *tx, const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *m;
	char *d;

	m = rte_pktmbuf_alloc(tx->pool);
	if (m == NULL) {
		tx->st.craft_no_mbuf++;
		return NULL;
	}
	d = len <= UINT16_MAX ? rte_pktmbuf_append(m, (uint16_t)len) : NULL;
	if (d == NULL) {
		rte_pktmbuf_free(m);
		tx->st.craft_no_mbuf++;
		return NULL;
	}
	memcpy(d, frame, len);
	tx->st.crafted++;
	return m;
}

int
dp_tx_craft(struct dp_tx *tx, uint16_t port, const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *m;

	if (port >= RTE_MAX_ETHPORTS || tx->out[port].buf == NULL) {
		tx->st.craft_no_port++;
		return -1;
	}
	m = dp_tx_frame(tx, frame, len);
	if (m == NULL)
		return -1;
	dp_tx_send(tx, port, m);
	return 0;
}

void
dp_tx_flush(struct dp_tx *tx, uint64_t now, int force)
{
	uint16_t i, port;

	if (tx->pending == 0)
		return;
	if (!force && now - tx->last_flush < tx->flush_cycles)
		return;
	for (i = 0; i < tx->nactive; i++) {
		struct dp_tx_out *o = &tx->out[port = tx->active[i]];

		if (o->buf == NULL || o->buf->length == 0)
			continue;
		if (o->lock != NULL)
			rte_spinlock_lock(o->lock);
		rte_eth_tx_buffer_flush(port, o->queue, o->buf);
		if (o->lock != NULL)
			rte_spinlock_unlock(o->lock);
	}
	tx->pending = 0;
	tx->last_flush = now;
}
