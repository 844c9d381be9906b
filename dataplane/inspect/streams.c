/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "streams.h"

#define STREAMS_MIN_SLOTS 1024u
#define ICMP_HDR_LEN 8
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_ICMPV6_ 58

#define BASE_SET0 0x01
#define BASE_SET1 0x02

/* Canonical 4-tuple as stored: both addresses, then both ports, of the
 * kapa_flow_key (12 bytes for IPv4, 36 for IPv6: one table each, so that an
 * IPv4 entry is 32 bytes, not the 60 of a whole kapa_flow_key). */
#define KEY4_LEN 12u
#define KEY6_LEN 36u
#define KEY_MAX KEY6_LEN

/*
 * A table of the 4-tuples of one family the core does not hold: open
 * addressing, linear probing, at most 3/4 full. An entry is klen bytes of
 * key, a struct stream_state (its in_table set: an empty slot has it 0), the
 * capture second it was last seen (uint32_t).
 */
struct stream_table {
	uint8_t *slot;
	uint32_t nslots;	/* power of two */
	uint32_t used;
	uint32_t klen;
	uint32_t stride;	/* bytes an entry */
};

struct streams {
	struct stream_table t[2];	/* IPv4, IPv6 */
	uint64_t next_stream;
};

/* Slots of zeroes, mapped for themselves: a table it has outgrown goes back
 * to the system when freed (from malloc's heap, with its threshold for
 * mapping raised by earlier frees, it would stay resident). */
static uint8_t *
slots_alloc(const struct stream_table *t, uint32_t n)
{
	void *p = mmap(NULL, (size_t)n * t->stride, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void
slots_free(const struct stream_table *t, uint8_t *slot, uint32_t n)
{
	if (slot != NULL)
		munmap(slot, (size_t)n * t->stride);
}

static uint8_t *
ent(const struct stream_table *t, uint8_t *slot, uint32_t i)
{
	return slot + (size_t)i * t->stride;
}

static struct stream_state *
ent_state(const struct stream_table *t, uint8_t *e)
{
	return (struct stream_state *)(void *)(e + t->klen);
}

static uint32_t *
ent_last_s(const struct stream_table *t, uint8_t *e)
{
	return (uint32_t *)(void *)(e + t->klen + sizeof(struct stream_state));
}

static int
ent_used(const struct stream_table *t, uint8_t *e)
{
	return ent_state(t, e)->in_table != 0;
}

static uint32_t
seconds_of(uint64_t ns)
{
	return (uint32_t)(ns / 1000000000u);
}

static int
forgotten(const struct stream_table *t, uint8_t *e, uint32_t now_s)
{
	return now_s - *ent_last_s(t, e) > STREAMS_FORGET_NS / 1000000000u;
}

static uint64_t
key_hash(const uint8_t *k, uint32_t klen)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t i;

	for (i = 0; i < klen; i++)
		h = (h ^ k[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

/* The stored form of @p fk into @p k. @return the table of its family. */
static struct stream_table *
key_pack(struct streams *s, const struct kapa_flow_key *fk, uint8_t *k)
{
	uint32_t alen = fk->family == 4 ? 4 : 16;

	memcpy(k, fk->addr[0], alen);
	memcpy(k + alen, fk->addr[1], alen);
	memcpy(k + 2 * alen, fk->port, sizeof(fk->port));
	return &s->t[fk->family == 4 ? 0 : 1];
}

/* ICMPv4 errors that quote the offending datagram: unreachable, source
 * quench, redirect, time exceeded, parameter problem. */
static int
icmp4_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

static int
table_init(struct stream_table *t, uint32_t klen)
{
	t->klen = klen;
	t->stride = klen + (uint32_t)sizeof(struct stream_state) + (uint32_t)sizeof(uint32_t);
	t->nslots = STREAMS_MIN_SLOTS;
	t->slot = slots_alloc(t, t->nslots);
	return t->slot != NULL ? 0 : -1;
}

_Static_assert(KEY4_LEN + sizeof(struct stream_state) + sizeof(uint32_t) == 32,
	       "an IPv4 entry is 32 bytes");

struct streams *
streams_create(void)
{
	struct streams *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if (table_init(&s->t[0], KEY4_LEN) != 0 || table_init(&s->t[1], KEY6_LEN) != 0) {
		streams_free(s);
		return NULL;
	}
	return s;
}

void
streams_free(struct streams *s)
{
	if (s == NULL)
		return;
	slots_free(&s->t[0], s->t[0].slot, s->t[0].nslots);
	slots_free(&s->t[1], s->t[1].slot, s->t[1].nslots);
	free(s);
}

/* @return the slot of @p k in @p slot (n slots): its entry, or the empty
 * slot where it would go. */
static uint8_t *
probe(const struct stream_table *t, uint8_t *slot, uint32_t n, const uint8_t *k)
{
	uint32_t i = (uint32_t)key_hash(k, t->klen) & (n - 1);
	uint8_t *e = ent(t, slot, i);

	while (ent_used(t, e) && memcmp(e, k, t->klen) != 0) {
		i = (i + 1) & (n - 1);
		e = ent(t, slot, i);
	}
	return e;
}

/* Rebuild without the entries idle for longer than STREAMS_FORGET_NS, in a
 * table twice as large (or more) if what is kept fills more than half of it. */
static int
rebuild(struct stream_table *t, uint32_t now_s)
{
	uint32_t keep = 0, n, i;
	uint8_t *ns, *e;

	for (i = 0; i < t->nslots; i++) {
		e = ent(t, t->slot, i);
		if (ent_used(t, e) && !forgotten(t, e, now_s))
			keep++;
	}
	n = t->nslots;
	while (keep > n / 2)
		n *= 2;
	ns = slots_alloc(t, n);
	if (ns == NULL)
		return -1;
	for (i = 0; i < t->nslots; i++) {
		e = ent(t, t->slot, i);
		if (ent_used(t, e) && !forgotten(t, e, now_s))
			memcpy(probe(t, ns, n, e), e, t->stride);
	}
	slots_free(t, t->slot, t->nslots);
	t->slot = ns;
	t->nslots = n;
	t->used = keep;
	return 0;
}

/* @return the entry of @p k, created (zero state, in_table set: *created
 * set) when new, the table rebuilt first when it would be over 3/4 full;
 * NULL when out of memory. */
static uint8_t *
lookup_or_create(struct stream_table *t, const uint8_t *k, uint32_t now_s, int *created)
{
	uint8_t *e = probe(t, t->slot, t->nslots, k);

	*created = 0;
	if (ent_used(t, e))
		return e;
	if (t->used + 1 > t->nslots / 4 * 3) {
		if (rebuild(t, now_s) != 0)
			return NULL;
		e = probe(t, t->slot, t->nslots, k);
	}
	memset(e, 0, t->stride);
	memcpy(e, k, t->klen);
	ent_state(t, e)->in_table = 1;
	*ent_last_s(t, e) = now_s;
	t->used++;
	*created = 1;
	return e;
}

/* Remove the entry at @p i, moving back the entries after it in its probe
 * run that would no longer be found (linear probing has no tombstones). */
static void
remove_at(struct stream_table *t, uint32_t i)
{
	uint32_t mask = t->nslots - 1, j = i, home;
	uint8_t *e;

	for (;;) {
		j = (j + 1) & mask;
		e = ent(t, t->slot, j);
		if (!ent_used(t, e))
			break;
		home = (uint32_t)key_hash(e, t->klen) & mask;
		/* The entry at j stays when its home is cyclically in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		memcpy(ent(t, t->slot, i), e, t->stride);
		i = j;
	}
	memset(ent(t, t->slot, i), 0, t->stride);
	t->used--;
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

/* The entry of @p pkt's 4-tuple, numbered when new, its time set to
 * @p now_ns when @p touch (or new); @p side: the sender's key side.
 * NULL when out of memory. */
static struct stream_state *
number_entry(struct streams *s, const struct kapa_pkt *pkt, uint64_t now_ns, int touch,
	     int *side)
{
	struct kapa_flow_key fk;
	struct stream_table *t;
	uint8_t k[KEY_MAX], *e;
	int created;

	*side = kapa_flow_key_make(&fk, pkt->family, pkt->src, pkt->sport, pkt->dst, pkt->dport);
	t = key_pack(s, &fk, k);
	e = lookup_or_create(t, k, seconds_of(now_ns), &created);
	if (e == NULL)
		return NULL;
	if (created)
		ent_state(t, e)->stream = (uint32_t)s->next_stream++;
	if (touch)
		*ent_last_s(t, e) = seconds_of(now_ns);
	return ent_state(t, e);
}

int64_t
streams_number(struct streams *s, const struct kapa_pkt *pkt, uint64_t now_ns)
{
	struct stream_state *st;
	int side;

	st = number_entry(s, pkt, now_ns, 1, &side);
	if (st == NULL)
		return -1;
	return streams_number_held(s, st, pkt, side);
}

int
streams_take(struct streams *s, const struct kapa_flow_key *fk, struct stream_state *st)
{
	uint8_t k[KEY_MAX], *e;
	struct stream_table *t = key_pack(s, fk, k);

	e = probe(t, t->slot, t->nslots, k);
	if (!ent_used(t, e))
		return 0;
	*st = *ent_state(t, e);
	st->in_table = 0;
	remove_at(t, (uint32_t)((size_t)(e - t->slot) / t->stride));
	return 1;
}

int
streams_put(struct streams *s, const struct kapa_flow_key *fk,
	    const struct stream_state *st, uint64_t now_ns)
{
	uint8_t k[KEY_MAX], *e;
	struct stream_table *t = key_pack(s, fk, k);
	int created;

	e = lookup_or_create(t, k, seconds_of(now_ns), &created);
	if (e == NULL)
		return -1;
	*ent_state(t, e) = *st;
	ent_state(t, e)->in_table = 1;
	*ent_last_s(t, e) = seconds_of(now_ns);
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
	int side;

	/* A new entry is seen now; a known one keeps its time. */
	return number_entry(s, pkt, now_ns, 0, &side) != NULL ? 0 : -1;
}

uint64_t
streams_count(const struct streams *s)
{
	return s->next_stream;
}
