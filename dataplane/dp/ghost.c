/* SPDX-License-Identifier: BSD-3-Clause */
/* Connections a killed kapa-dp left shifted. See ghost.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>

#include "ghost.h"
#include "kapa_edit.h"

/** Link header bytes a ghost RST may copy (Ethernet and two VLAN tags). */
#define GHOST_L2_MAX 22

struct dp_ghosts {
	struct rte_hash *h;
	struct dp_ghost *g;
	uint32_t n;
	uint64_t until_ns;
};

static int
is_ghost(const struct kapa_conn_rec *r)
{
	return (r->flags & KAPA_REC_SEQ_SHIFTED) && r->state != KAPA_REC_FREE &&
	       r->state != KAPA_REC_CLOSED && (r->family == 4 || r->family == 6);
}

struct dp_ghosts *
dp_ghosts_collect(const struct kapa_conn_rec *recs, uint64_t n, uint64_t now_ns,
		  char *err, size_t errlen)
{
	struct rte_hash_parameters hp = {
		.name = "kapa_ghosts",
		.key_len = sizeof(struct kapa_flow_key),
		.hash_func = rte_hash_crc,
		.socket_id = SOCKET_ID_ANY,
	};
	struct dp_ghosts *g;
	uint64_t i;
	uint32_t count = 0;

	for (i = 0; i < n; i++)
		count += (uint32_t)is_ghost(&recs[i]);
	if (count == 0)
		return NULL;
	g = calloc(1, sizeof(*g));
	if (g != NULL)
		g->g = calloc(count, sizeof(*g->g));
	hp.entries = count < 8 ? 8 : count;
	if (g == NULL || g->g == NULL || (g->h = rte_hash_create(&hp)) == NULL) {
		snprintf(err, errlen, "no memory for %u shifted connections left by the last "
			 "kapa-dp: they are picked up as live ones", count);
		dp_ghosts_free(g);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		const struct kapa_conn_rec *r = &recs[i];
		struct dp_ghost *gh;

		if (!is_ghost(r))
			continue;
		gh = &g->g[g->n];
		gh->client_side = (uint8_t)kapa_flow_key_make(&gh->key, r->family,
							       r->client_addr, r->client_port,
							       r->server_addr, r->server_port);
		if (rte_hash_add_key_data(g->h, &gh->key, gh) == 0)
			g->n++;
	}
	g->until_ns = now_ns + DP_GHOST_TTL_S * 1000000000ull;
	return g;
}

void
dp_ghosts_free(struct dp_ghosts *g)
{
	if (g == NULL)
		return;
	rte_hash_free(g->h);
	free(g->g);
	free(g);
}

uint32_t
dp_ghosts_count(const struct dp_ghosts *g)
{
	return g != NULL ? g->n : 0;
}

struct dp_ghost *
dp_ghost_find(struct dp_ghosts *g, const struct kapa_flow_key *key, uint64_t now_ns)
{
	void *data;

	if (now_ns > g->until_ns || rte_hash_lookup_data(g->h, key, &data) < 0)
		return NULL;
	return ((struct dp_ghost *)data)->state == DP_GHOST_WAITING ? data : NULL;
}

int
dp_ghost_rsts(const struct kapa_pkt *pkt, const uint8_t *frame,
	      uint8_t *to_server, int *len_server, uint8_t *to_client, int *len_client,
	      uint32_t cap)
{
	uint32_t l2_len = (uint32_t)(pkt->data - frame) + pkt->l3_off;
	uint8_t l2[GHOST_L2_MAX];
	struct kapa_rst r = { 0 };	/* every field, also those added later */

	if (l2_len > GHOST_L2_MAX || l2_len < 14)
		return -1;
	/* To the server: as the client sends, at the client's sequence number
	 * (the packet in hand is dropped, so not past its bytes). */
	r.l2 = frame;
	r.l2_len = l2_len;
	r.family = pkt->family;
	r.src = pkt->src;
	r.dst = pkt->dst;
	r.sport = pkt->sport;
	r.dport = pkt->dport;
	r.seq = pkt->seq;
	r.ack = 0;
	r.with_ack = 0;
	*len_server = kapa_edit_craft_rst(&r, to_server, cap);
	/* To the client: as the server would, at what the client acknowledged,
	 * which is in the shifted space the client lives in. */
	memcpy(l2, frame, l2_len);
	memcpy(l2, frame + 6, 6);
	memcpy(l2 + 6, frame, 6);
	r.l2 = l2;
	r.src = pkt->dst;
	r.dst = pkt->src;
	r.sport = pkt->dport;
	r.dport = pkt->sport;
	r.seq = pkt->ack;
	*len_client = kapa_edit_craft_rst(&r, to_client, cap);
	return *len_server > 0 && *len_client > 0 ? 0 : -1;
}
