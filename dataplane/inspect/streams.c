/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "streams.h"

#define STREAMS_MIN_SLOTS 1024u
#define ICMP_HDR_LEN 8
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_ICMPV6_ 58

/* Canonical 4-tuple: side 0 is the lower (address, port). */
struct stream_key {
	uint8_t addr[2][16];
	uint16_t port[2];
	uint8_t family;
	uint8_t pad[3];
};

#define BASE_SET0 0x01
#define BASE_SET1 0x02
#define IN_USE 0x80

struct stream_ent {
	struct stream_key key;
	uint32_t base_seq[2];	/* first sequence number seen from each side */
	uint64_t last_ns;
	uint32_t stream;
	uint8_t flags;
};

struct streams {
	struct stream_ent *slot;
	uint32_t nslots;	/* power of two */
	uint32_t used;
	uint64_t next_stream;
};

static uint64_t
key_hash(const struct stream_key *k)
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
key_make(struct stream_key *k, const struct kapa_pkt *pkt)
{
	size_t alen = pkt->family == 4 ? 4 : 16;
	int c = memcmp(pkt->src, pkt->dst, alen);
	int side = c > 0 || (c == 0 && pkt->sport > pkt->dport);

	memset(k, 0, sizeof(*k));
	k->family = pkt->family;
	memcpy(k->addr[side], pkt->src, alen);
	memcpy(k->addr[!side], pkt->dst, alen);
	k->port[side] = pkt->sport;
	k->port[!side] = pkt->dport;
	return side;
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
probe(struct stream_ent *slot, uint32_t nslots, const struct stream_key *k)
{
	uint32_t i = (uint32_t)key_hash(k) & (nslots - 1);

	while ((slot[i].flags & IN_USE) && memcmp(&slot[i].key, k, sizeof(*k)) != 0)
		i = (i + 1) & (nslots - 1);
	return &slot[i];
}

/* Rebuild without the entries idle for longer than STREAMS_FORGET_NS, and
 * double the table if it stays more than a quarter full. */
static int
rebuild(struct streams *s, uint64_t now_ns)
{
	uint32_t keep = 0, n, i;
	struct stream_ent *ns;

	for (i = 0; i < s->nslots; i++)
		if ((s->slot[i].flags & IN_USE) && now_ns - s->slot[i].last_ns <= STREAMS_FORGET_NS)
			keep++;
	n = s->nslots;
	while (keep > n / 4)
		n *= 2;
	ns = calloc(n, sizeof(*ns));
	if (ns == NULL)
		return -1;
	for (i = 0; i < s->nslots; i++) {
		struct stream_ent *e = &s->slot[i];

		if ((e->flags & IN_USE) && now_ns - e->last_ns <= STREAMS_FORGET_NS)
			*probe(ns, n, &e->key) = *e;
	}
	free(s->slot);
	s->slot = ns;
	s->nslots = n;
	s->used = keep;
	return 0;
}

/* @return the entry of @p k, created (with the next stream number) when new;
 * NULL when out of memory. */
static struct stream_ent *
lookup_or_create(struct streams *s, const struct stream_key *k, uint64_t now_ns)
{
	struct stream_ent *e = probe(s->slot, s->nslots, k);

	if (e->flags & IN_USE)
		return e;
	if (s->used + 1 > s->nslots / 2) {
		if (rebuild(s, now_ns) != 0)
			return NULL;
		e = probe(s->slot, s->nslots, k);
	}
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->flags = IN_USE;
	e->stream = (uint32_t)s->next_stream++;
	e->last_ns = now_ns;
	s->used++;
	return e;
}

int64_t
streams_number(struct streams *s, const struct kapa_pkt *pkt, uint64_t now_ns)
{
	struct stream_key k;
	struct stream_ent *e;
	int side = key_make(&k, pkt);
	uint8_t base_bit = side ? BASE_SET1 : BASE_SET0;

	e = lookup_or_create(s, &k, now_ns);
	if (e == NULL)
		return -1;
	if ((pkt->tcp_flags & (KAPA_TCP_SYN | KAPA_TCP_ACK)) == KAPA_TCP_SYN &&
	    (e->flags & base_bit) && pkt->seq != e->base_seq[side]) {
		/* A new SYN on a known 4-tuple with another ISN: port reuse,
		 * a new stream (a SYN with the same ISN is a retransmission). */
		e->flags = IN_USE;
		e->stream = (uint32_t)s->next_stream++;
	}
	if (!(e->flags & base_bit)) {
		e->base_seq[side] = pkt->seq;
		e->flags |= base_bit;
	}
	e->last_ns = now_ns;
	return e->stream;
}

int
streams_note_icmp(struct streams *s, const struct kapa_pkt *pkt, uint64_t now_ns)
{
	const uint8_t *p = pkt->data + pkt->l4_off;
	uint32_t len = pkt->len > pkt->l4_off ? pkt->len - pkt->l4_off : 0;
	struct stream_key k;
	struct kapa_pkt inner;
	uint32_t ihl;

	if (pkt->cls != KAPA_PKT_NON_TCP || len < ICMP_HDR_LEN)
		return 0;
	if (!(pkt->family == 4 && pkt->ip_proto == IPPROTO_ICMP_ && icmp4_is_error(p[0])) &&
	    !(pkt->family == 6 && pkt->ip_proto == IPPROTO_ICMPV6_ && p[0] >= 1 && p[0] <= 4))
		return 0;
	p += ICMP_HDR_LEN;
	len -= ICMP_HDR_LEN;
	memset(&inner, 0, sizeof(inner));
	if (len >= 20 && (p[0] >> 4) == 4 && p[9] == IPPROTO_TCP_) {
		ihl = (uint32_t)(p[0] & 0x0f) * 4;
		if (ihl < 20 || len < ihl + 4)
			return 0;
		inner.family = 4;
		memcpy(inner.src, p + 12, 4);
		memcpy(inner.dst, p + 16, 4);
	} else if (len >= 40 && (p[0] >> 4) == 6 && p[6] == IPPROTO_TCP_) {
		ihl = 40;
		if (len < ihl + 4)
			return 0;
		inner.family = 6;
		memcpy(inner.src, p + 8, 16);
		memcpy(inner.dst, p + 24, 16);
	} else {
		return 0;
	}
	inner.sport = (uint16_t)(p[ihl] << 8 | p[ihl + 1]);
	inner.dport = (uint16_t)(p[ihl + 2] << 8 | p[ihl + 3]);
	key_make(&k, &inner);
	if (lookup_or_create(s, &k, now_ns) == NULL)
		return -1;
	return 1;
}

uint64_t
streams_count(const struct streams *s)
{
	return s->next_stream;
}
