/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "streams.h"

#define STREAMS_MIN_SLOTS 1024u
#define ICMP_HDR_LEN 8
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_ICMPV6_ 58

#define BASE_SET0 0x01
#define BASE_SET1 0x02

/* A 4-tuple the core does not hold. An empty slot has key.family 0. */
struct stream_ent {
	struct kapa_flow_key key;
	struct stream_state st;
	uint32_t last_s;	/* capture second it was last seen */
};

_Static_assert(sizeof(struct stream_ent) == 60, "stream_ent is 60 bytes");

struct streams {
	struct stream_ent *slot;
	uint32_t nslots;	/* power of two */
	uint32_t used;
	uint64_t next_stream;
};

static uint32_t
seconds_of(uint64_t ns)
{
	return (uint32_t)(ns / 1000000000u);
}

static int
forgotten(const struct stream_ent *e, uint32_t now_s)
{
	return now_s - e->last_s > STREAMS_FORGET_NS / 1000000000u;
}

static uint64_t
key_hash(const struct kapa_flow_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

/* @return the side (0/1) of the key the packet's sender is. */
static int
key_make(struct kapa_flow_key *k, const struct kapa_pkt *pkt)
{
	return kapa_flow_key_make(k, pkt->family, pkt->src, pkt->sport, pkt->dst, pkt->dport);
}

/* ICMPv4 errors that quote the offending datagram: unreachable, source
 * quench, redirect, time exceeded, parameter problem. */
static int
icmp4_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

struct streams *
streams_create(void)
{
	struct streams *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->nslots = STREAMS_MIN_SLOTS;
	s->slot = calloc(s->nslots, sizeof(*s->slot));
	if (s->slot == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
streams_free(struct streams *s)
{
	if (s == NULL)
		return;
	free(s->slot);
	free(s);
}

static struct stream_ent *
probe(struct stream_ent *slot, uint32_t nslots, const struct kapa_flow_key *k)
{
	uint32_t i = (uint32_t)key_hash(k) & (nslots - 1);

	while (slot[i].key.family != 0 && memcmp(&slot[i].key, k, sizeof(*k)) != 0)
		i = (i + 1) & (nslots - 1);
	return &slot[i];
}

/* Rebuild without the entries idle for longer than STREAMS_FORGET_NS, in a
 * table twice as large (or more) if what is kept fills more than half of it. */
static int
rebuild(struct streams *s, uint32_t now_s)
{
	uint32_t keep = 0, n, i;
	struct stream_ent *ns;

	for (i = 0; i < s->nslots; i++)
		if (s->slot[i].key.family != 0 && !forgotten(&s->slot[i], now_s))
			keep++;
	n = s->nslots;
	while (keep > n / 2)
		n *= 2;
	ns = calloc(n, sizeof(*ns));
	if (ns == NULL)
		return -1;
	for (i = 0; i < s->nslots; i++) {
		struct stream_ent *e = &s->slot[i];

		if (e->key.family != 0 && !forgotten(e, now_s))
			*probe(ns, n, &e->key) = *e;
	}
	free(s->slot);
	s->slot = ns;
	s->nslots = n;
	s->used = keep;
	return 0;
}

/* @return the entry of @p k, created (without a stream number: *created
 * set) when new, the table rebuilt first when it would be over 3/4 full;
 * NULL when out of memory. */
static struct stream_ent *
lookup_or_create(struct streams *s, const struct kapa_flow_key *k, uint32_t now_s, int *created)
{
	struct stream_ent *e = probe(s->slot, s->nslots, k);

	*created = 0;
	if (e->key.family != 0)
		return e;
	if (s->used + 1 > s->nslots / 4 * 3) {
		if (rebuild(s, now_s) != 0)
			return NULL;
		e = probe(s->slot, s->nslots, k);
	}
	memset(e, 0, sizeof(*e));
	e->key = *k;
	s->used++;
	*created = 1;
	return e;
}

/* Remove the entry at @p i, moving back the entries after it in its probe
 * run that would no longer be found (linear probing has no tombstones). */
static void
remove_at(struct streams *s, uint32_t i)
{
	uint32_t mask = s->nslots - 1, j = i, home;

	for (;;) {
		j = (j + 1) & mask;
		if (s->slot[j].key.family == 0)
			break;
		home = (uint32_t)key_hash(&s->slot[j].key) & mask;
		/* The entry at j stays when its home is cyclically in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		s->slot[i] = s->slot[j];
		i = j;
	}
	memset(&s->slot[i], 0, sizeof(s->slot[i]));
	s->used--;
}

uint32_t
streams_number_held(struct streams *s, struct stream_state *st,
		    const struct kapa_pkt *pkt, int side)
{
	uint8_t base_bit = side ? BASE_SET1 : BASE_SET0;

	if ((pkt->tcp_flags & (KAPA_TCP_SYN | KAPA_TCP_ACK)) == KAPA_TCP_SYN &&
	    (st->sides & base_bit) && pkt->seq != st->base_seq[side]) {
		/* A new SYN on a known 4-tuple with another ISN: port reuse,
		 * a new stream (a SYN with the same ISN is a retransmission). */
		st->sides = 0;
		st->stream = (uint32_t)s->next_stream++;
	}
	if (!(st->sides & base_bit)) {
		st->base_seq[side] = pkt->seq;
		st->sides |= base_bit;
	}
	return st->stream;
}

int64_t
streams_number(struct streams *s, const struct kapa_pkt *pkt, uint64_t now_ns)
{
	struct kapa_flow_key k;
	struct stream_ent *e;
	int side = key_make(&k, pkt), created;

	e = lookup_or_create(s, &k, seconds_of(now_ns), &created);
	if (e == NULL)
		return -1;
	if (created)
		e->st.stream = (uint32_t)s->next_stream++;
	e->last_s = seconds_of(now_ns);
	return streams_number_held(s, &e->st, pkt, side);
}

int
streams_take(struct streams *s, const struct kapa_flow_key *k, struct stream_state *st)
{
	struct stream_ent *e = probe(s->slot, s->nslots, k);

	if (e->key.family == 0)
		return 0;
	*st = e->st;
	remove_at(s, (uint32_t)(e - s->slot));
	return 1;
}

int
streams_put(struct streams *s, const struct kapa_flow_key *k,
	    const struct stream_state *st, uint64_t now_ns)
{
	struct stream_ent *e;
	int created;

	e = lookup_or_create(s, k, seconds_of(now_ns), &created);
	if (e == NULL)
		return -1;
	e->st = *st;
	e->last_s = seconds_of(now_ns);
	return 0;
}

int
streams_icmp_quoted(const struct kapa_pkt *pkt, struct kapa_pkt *inner)
{
	const uint8_t *p = pkt->data + pkt->l4_off;
	uint32_t len = pkt->len > pkt->l4_off ? pkt->len - pkt->l4_off : 0;
	uint32_t ihl;

	if (pkt->cls != KAPA_PKT_NON_TCP || len < ICMP_HDR_LEN)
		return 0;
	if (!(pkt->family == 4 && pkt->ip_proto == IPPROTO_ICMP_ && icmp4_is_error(p[0])) &&
	    !(pkt->family == 6 && pkt->ip_proto == IPPROTO_ICMPV6_ && p[0] >= 1 && p[0] <= 4))
		return 0;
	p += ICMP_HDR_LEN;
	len -= ICMP_HDR_LEN;
	memset(inner, 0, sizeof(*inner));
	if (len >= 20 && (p[0] >> 4) == 4 && p[9] == IPPROTO_TCP_) {
		ihl = (uint32_t)(p[0] & 0x0f) * 4;
		if (ihl < 20 || len < ihl + 4)
			return 0;
		inner->family = 4;
		memcpy(inner->src, p + 12, 4);
		memcpy(inner->dst, p + 16, 4);
	} else if (len >= 40 && (p[0] >> 4) == 6 && p[6] == IPPROTO_TCP_) {
		ihl = 40;
		if (len < ihl + 4)
			return 0;
		inner->family = 6;
		memcpy(inner->src, p + 8, 16);
		memcpy(inner->dst, p + 24, 16);
	} else {
		return 0;
	}
	inner->cls = KAPA_PKT_TCP;
	inner->sport = (uint16_t)(p[ihl] << 8 | p[ihl + 1]);
	inner->dport = (uint16_t)(p[ihl + 2] << 8 | p[ihl + 3]);
	return 1;
}

int
streams_note(struct streams *s, const struct kapa_pkt *pkt, uint64_t now_ns)
{
	struct kapa_flow_key k;
	struct stream_ent *e;
	int created;

	key_make(&k, pkt);
	e = lookup_or_create(s, &k, seconds_of(now_ns), &created);
	if (e == NULL)
		return -1;
	if (created) {
		e->st.stream = (uint32_t)s->next_stream++;
		e->last_s = seconds_of(now_ns);
	}
	return 0;
}

uint64_t
streams_count(const struct streams *s)
{
	return s->next_stream;
}
