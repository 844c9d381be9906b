/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP fragment reassembly for inspection (kapa_frag.h).
 *
 *   kapa_frag_input()
 *     expire what is past its timeout                  (frag_expire_list)
 *     read the fragment: key, data offset and length   (frag_read4 / frag_read6)
 *     find its datagram, or open one (the oldest dropped when full)
 *     check it against the datagram: bounds, overlap, duplicate (frag_check)
 *     copy its data into the datagram's blocks          (frag_store)
 *     complete: the frame rebuilt and parsed            (frag_build)
 *
 * The table: a fixed array of datagram slots, found through a chained
 * hash of slot indices (rte_hash_crc over the key). rte_hash would need a
 * process-unique name and EAL memory for a table this small that only its
 * owner touches; its hash function is what is taken from DPDK. Each family
 * keeps its datagrams in a list by age: with one timeout per family, its
 * head is always the next to time out, and the older of the two heads the
 * one to drop when the table is full.
 *
 * Data is held in blocks of KAPA_FRAG_BLOCK bytes, taken from one pool as
 * a datagram's fragments cover them (blk[] maps each KiB of the datagram
 * to its block), so that the byte bound counts what is held, tiny
 * fragments included, and no allocation happens per packet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>

#include "kapa_frag.h"
#include "kapa_mem.h"

#define DEF_DATAGRAMS	1024
#define DEF_BYTES	(4u << 20)
#define DEF_TIMEOUT4_MS	30000
#define DEF_TIMEOUT6_MS	60000
#define MAX_DATAGRAMS	(1u << 20)
#define MAX_BYTES	(1u << 30)

#define IP4_MF		0x2000
#define IP4_DF		0x4000
#define IP4_OFF_MASK	0x1fff
#define IP6_HDR_LEN	40
#define IP6_FRAG_LEN	8
#define IP6_MAX_EXT	8	/* as the parser (kapa_pkt.c) */

#define NH_HOPOPTS	0
#define NH_ROUTING	43
#define NH_FRAGMENT	44
#define NH_AH		51
#define NH_DSTOPTS	60

/* Blocks one datagram can use: its data is at most 65535 bytes. */
#define BLK_PER_DGRAM	((KAPA_FRAG_DGRAM_MAX + KAPA_FRAG_BLOCK - 1) / KAPA_FRAG_BLOCK)

#define NIL 0u		/* list and chain links are index + 1 */

enum frag_state {
	FRAG_FREE = 0,
	FRAG_OPEN,	/* collecting fragments */
	FRAG_DEAD,	/* dropped: later fragments refused until its timeout */
};

struct frag_key {
	uint8_t family;
	uint8_t proto;		/* IPv4 only: RFC 8200 keys IPv6 without it */
	uint8_t pad[2];
	uint32_t id;
	uint8_t src[16], dst[16];
};

/* One fragment held: data [start, start + len). */
struct frag_part {
	uint16_t start8;	/* start / 8 (offsets are multiples of 8) */
	uint16_t len;		/* 0 never: empty fragments are refused */
};

struct frag_dgram {
	struct frag_key key;
	uint32_t hnext;		/* hash chain */
	uint32_t prev, next;	/* age list of its family */
	uint64_t created_ns;
	uint64_t deadline_ns;
	uint32_t end;		/* data length, once the last fragment came */
	uint32_t held;		/* data bytes held (parts never overlap) */
	uint8_t state;		/* enum frag_state */
	uint8_t has_end;
	uint8_t has_first;
	uint8_t nh;		/* IPv6: next header after the Fragment header */
	uint16_t nparts;
	uint16_t head_len;	/* bytes of head[] */
	uint16_t ip_off;	/* the IP header in head[] */
	uint16_t nh_off;	/* IPv6: the next-header byte that named the
				   Fragment header, in head[] */
	uint32_t blk[BLK_PER_DGRAM];	/* block index + 1 per KiB of data */
	struct kapa_pkt first;	/* the first fragment's link fields */
	struct frag_part parts[KAPA_FRAG_PARTS_MAX];	/* by start */
	uint8_t head[KAPA_FRAG_HEAD_MAX];
};

struct frag_list {
	uint32_t head, tail;
};

struct kapa_frag {
	struct frag_dgram *d;
	uint32_t nd;
	uint32_t free_d;	/* free slots, chained by hnext */
	uint32_t *bucket;
	uint32_t bucket_mask;
	uint32_t seed;
	struct frag_list age[2];	/* IPv4, IPv6 */
	uint64_t timeout_ns[2];

	uint8_t *blocks;
	uint32_t nblocks;
	uint32_t *blk_next;	/* free block list */
	uint32_t free_blk;
	uint32_t blocks_free;

	struct kapa_frag_stats st;
	uint8_t *out;		/* KAPA_FRAG_HEAD_MAX + KAPA_FRAG_DGRAM_MAX */
	size_t d_bytes, blk_bytes;
};

/* A fragment as read from its packet. */
struct frag_in {
	struct frag_key key;
	const uint8_t *data;	/* its data */
	uint32_t off, len;	/* where the data goes, how much */
	uint8_t last;		/* no more fragments after it */
	uint8_t nh;		/* IPv6: the Fragment header's next header */
	uint32_t head_len;	/* bytes before the data to keep (IPv6: before
				   the Fragment header) */
	uint32_t nh_off;	/* IPv6: byte naming the Fragment header */
	uint32_t ip_hdr;	/* IP header bytes counted in the datagram's
				   length: IPv4 IHL, IPv6 the extension headers
				   before the Fragment header */
};

static const char *const refusal_names[KAPA_FRAG_REF_MAX] = {
	[KAPA_FRAG_REF_NOT8] = "not8",
	[KAPA_FRAG_REF_PAST_END] = "past-end",
	[KAPA_FRAG_REF_TOO_BIG] = "too-big",
	[KAPA_FRAG_REF_EMPTY] = "empty",
	[KAPA_FRAG_REF_HEAD] = "head",
	[KAPA_FRAG_REF_TUNNEL] = "tunnel",
	[KAPA_FRAG_REF_PARTS] = "parts",
	[KAPA_FRAG_REF_NO_ROOM] = "no-room",
	[KAPA_FRAG_REF_DROPPED] = "dropped",
	[KAPA_FRAG_REF_NESTED] = "nested",
	[KAPA_FRAG_REF_FOREIGN] = "foreign",
};

const char *
kapa_frag_refusal_name(unsigned why)
{
	return why < KAPA_FRAG_REF_MAX ? refusal_names[why] : "?";
}

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline unsigned
frag_fam(uint8_t family)
{
	return family == 6;
}

/* ---- the table ------------------------------------------------------------------ */

static inline uint32_t
frag_bucket(const struct kapa_frag *t, const struct frag_key *k)
{
	return rte_hash_crc(k, sizeof(*k), t->seed) & t->bucket_mask;
}

static uint32_t
frag_find(const struct kapa_frag *t, const struct frag_key *k)
{
	uint32_t i = t->bucket[frag_bucket(t, k)];

	while (i != NIL && memcmp(&t->d[i - 1].key, k, sizeof(*k)) != 0)
		i = t->d[i - 1].hnext;
	return i;
}

static void
frag_list_del(struct kapa_frag *t, struct frag_list *l, uint32_t i)
{
	struct frag_dgram *d = &t->d[i - 1];

	if (d->prev != NIL)
		t->d[d->prev - 1].next = d->next;
	else
		l->head = d->next;
	if (d->next != NIL)
		t->d[d->next - 1].prev = d->prev;
	else
		l->tail = d->prev;
}

/* Give the datagram's blocks back; it holds no data after this. */
static void
frag_release_data(struct kapa_frag *t, struct frag_dgram *d)
{
	uint32_t b;

	for (b = 0; b < BLK_PER_DGRAM; b++) {
		if (d->blk[b] == NIL)
			continue;
		t->blk_next[d->blk[b] - 1] = t->free_blk;
		t->free_blk = d->blk[b];
		t->blocks_free++;
		d->blk[b] = NIL;
	}
	d->nparts = 0;
	d->held = 0;
	t->st.bytes_held = (uint64_t)(t->nblocks - t->blocks_free) * KAPA_FRAG_BLOCK;
}

/* Drop a datagram whole, keeping its key until its timeout (RFC 5722:
 * fragments not yet received are discarded too). */
static void
frag_kill(struct kapa_frag *t, struct frag_dgram *d)
{
	frag_release_data(t, d);
	d->state = FRAG_DEAD;
}

static void
frag_free(struct kapa_frag *t, uint32_t i)
{
	struct frag_dgram *d = &t->d[i - 1];
	uint32_t *p = &t->bucket[frag_bucket(t, &d->key)];

	while (*p != i)
		p = &t->d[*p - 1].hnext;
	*p = d->hnext;
	frag_list_del(t, &t->age[frag_fam(d->key.family)], i);
	frag_release_data(t, d);
	d->state = FRAG_FREE;
	d->hnext = t->free_d;
	t->free_d = i;
	t->st.open--;
}

/* Expire the head of one family's list while it is due. */
static uint32_t
frag_expire_list(struct kapa_frag *t, struct frag_list *l, uint64_t now_ns)
{
	uint32_t n = 0, i;

	while ((i = l->head) != NIL && t->d[i - 1].deadline_ns <= now_ns) {
		if (t->d[i - 1].state == FRAG_OPEN)
			t->st.timed_out++;
		frag_free(t, i);
		n++;
	}
	return n;
}

uint32_t
kapa_frag_expire(struct kapa_frag *t, uint64_t now_ns)
{
	return frag_expire_list(t, &t->age[0], now_ns) + frag_expire_list(t, &t->age[1], now_ns);
}

/* The oldest datagram other than @p keep (index + 1), NIL when none. */
static uint32_t
frag_oldest(const struct kapa_frag *t, uint32_t keep)
{
	uint32_t a = t->age[0].head, b = t->age[1].head;

	if (a == keep && a != NIL)
		a = t->d[a - 1].next;
	if (b == keep && b != NIL)
		b = t->d[b - 1].next;
	if (a == NIL)
		return b;
	if (b == NIL)
		return a;
	return t->d[a - 1].created_ns <= t->d[b - 1].created_ns ? a : b;
}

/* Make room by dropping the oldest datagram other than @p keep.
 * @return 0, or -1 when there is none. */
static int
frag_evict(struct kapa_frag *t, uint32_t keep)
{
	uint32_t i = frag_oldest(t, keep);

	if (i == NIL)
		return -1;
	t->st.table_full++;
	frag_free(t, i);
	return 0;
}

static uint32_t
frag_open(struct kapa_frag *t, const struct frag_key *k, uint64_t now_ns)
{
	struct frag_list *l = &t->age[frag_fam(k->family)];
	struct frag_dgram *d;
	uint32_t i, h;

	if (t->free_d == NIL && frag_evict(t, NIL) != 0)
		return NIL;
	i = t->free_d;
	d = &t->d[i - 1];
	t->free_d = d->hnext;
	memset(d, 0, offsetof(struct frag_dgram, parts));
	d->key = *k;
	d->state = FRAG_OPEN;
	d->created_ns = now_ns;
	d->deadline_ns = now_ns + t->timeout_ns[frag_fam(k->family)];
	h = frag_bucket(t, k);
	d->hnext = t->bucket[h];
	t->bucket[h] = i;
	d->prev = l->tail;
	if (l->tail != NIL)
		t->d[l->tail - 1].next = i;
	else
		l->head = i;
	l->tail = i;
	t->st.open++;
	return i;
}

/* ---- reading a fragment ----------------------------------------------------------- */

static int
frag_read4(const struct kapa_pkt *pkt, struct frag_in *in)
{
	const uint8_t *ip = pkt->data + pkt->l3_off;
	uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4, tot = rd16(ip + 2);
	uint16_t fo = rd16(ip + 6);

	/* The parser checked IHL and total length against the buffer. */
	in->key.family = 4;
	in->key.proto = ip[9];
	in->key.id = rd16(ip + 4);
	memcpy(in->key.src, ip + 12, 4);
	memcpy(in->key.dst, ip + 16, 4);
	in->data = ip + ihl;
	in->len = tot - ihl;
	in->off = (uint32_t)(fo & IP4_OFF_MASK) * 8;
	in->last = (fo & IP4_MF) == 0;
	in->head_len = pkt->l3_off + ihl;
	in->ip_hdr = ihl;
	return 0;
}

/* The Fragment header is somewhere in the chain the parser walked. */
static int
frag_read6(const struct kapa_pkt *pkt, struct frag_in *in)
{
	const uint8_t *ip = pkt->data + pkt->l3_off;
	uint32_t cur = pkt->l3_off + IP6_HDR_LEN, end = cur + rd16(ip + 4), hlen;
	uint32_t nh_off = pkt->l3_off + 6;
	uint16_t fo;
	unsigned n;
	uint8_t nh = ip[6];

	for (n = 0; n < IP6_MAX_EXT && nh != NH_FRAGMENT; n++) {
		if (nh != NH_HOPOPTS && nh != NH_ROUTING && nh != NH_DSTOPTS && nh != NH_AH)
			return -1;
		if (end - cur < 8)
			return -1;
		hlen = nh == NH_AH ? ((uint32_t)pkt->data[cur + 1] + 2) * 4 :
				     ((uint32_t)pkt->data[cur + 1] + 1) * 8;
		if (hlen > end - cur)
			return -1;
		nh_off = cur;
		nh = pkt->data[cur];
		cur += hlen;
	}
	if (nh != NH_FRAGMENT || end - cur < IP6_FRAG_LEN)
		return -1;
	fo = rd16(pkt->data + cur + 2);
	in->key.family = 6;
	in->key.id = rd32(pkt->data + cur + 4);
	memcpy(in->key.src, ip + 8, 16);
	memcpy(in->key.dst, ip + 24, 16);
	in->nh = pkt->data[cur];
	in->data = pkt->data + cur + IP6_FRAG_LEN;
	in->len = end - cur - IP6_FRAG_LEN;
	in->off = fo & 0xfff8u;
	in->last = (fo & 1) == 0;
	in->head_len = cur;
	in->nh_off = nh_off;
	in->ip_hdr = cur - pkt->l3_off - IP6_HDR_LEN;
	return 0;
}

/* ---- the datagram's checks and data --------------------------------------------- */

/* Position of the first part starting at or after @p start. */
static uint32_t
frag_part_pos(const struct frag_dgram *d, uint32_t start)
{
	uint32_t lo = 0, hi = d->nparts, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((uint32_t)d->parts[mid].start8 * 8 < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

enum frag_check {
	FRAG_OK = 0,
	FRAG_DUP,
	FRAG_OVERLAP,
	FRAG_REFUSE,	/* reason in *why */
};

/* Whether @p in may join @p d; @p pos: where its part goes. */
static enum frag_check
frag_check(const struct frag_dgram *d, const struct frag_in *in, uint32_t *pos,
	   enum kapa_frag_refusal *why)
{
	uint32_t e = in->off + in->len, p;

	if (in->len == 0)
		return *why = KAPA_FRAG_REF_EMPTY, FRAG_REFUSE;
	if (!in->last && (in->len & 7) != 0)
		return *why = KAPA_FRAG_REF_NOT8, FRAG_REFUSE;
	/* IPv4: header + data; IPv6: the payload length (extension headers
	 * before the Fragment header + data) must fit 16 bits. */
	if (in->ip_hdr + e > KAPA_FRAG_DGRAM_MAX)
		return *why = KAPA_FRAG_REF_TOO_BIG, FRAG_REFUSE;
	if (d->has_end && (e > d->end || (in->last && e != d->end)))
		return *why = KAPA_FRAG_REF_PAST_END, FRAG_REFUSE;
	p = frag_part_pos(d, in->off);
	if (p < d->nparts && (uint32_t)d->parts[p].start8 * 8 == in->off &&
	    d->parts[p].len == in->len)
		return FRAG_DUP;
	if (p < d->nparts && (uint32_t)d->parts[p].start8 * 8 < e)
		return FRAG_OVERLAP;
	if (p > 0 && (uint32_t)d->parts[p - 1].start8 * 8 + d->parts[p - 1].len > in->off)
		return FRAG_OVERLAP;
	/* A last fragment must not end before data already held. */
	if (in->last && d->nparts != 0 &&
	    (uint32_t)d->parts[d->nparts - 1].start8 * 8 + d->parts[d->nparts - 1].len > e)
		return *why = KAPA_FRAG_REF_PAST_END, FRAG_REFUSE;
	if (d->nparts == KAPA_FRAG_PARTS_MAX)
		return *why = KAPA_FRAG_REF_PARTS, FRAG_REFUSE;
	*pos = p;
	return FRAG_OK;
}

/* Blocks of @p d that [off, off + len) needs and lacks. */
static uint32_t
frag_blocks_missing(const struct frag_dgram *d, uint32_t off, uint32_t len)
{
	uint32_t b, n = 0;

	for (b = off / KAPA_FRAG_BLOCK; b <= (off + len - 1) / KAPA_FRAG_BLOCK; b++)
		n += d->blk[b] == NIL;
	return n;
}

/*
 * Copy the fragment's data into datagram @p i's blocks, taking the blocks
 * it lacks (older datagrams dropped for them when the pool is short).
 * @return 0, or -1 when the pool cannot hold it even alone.
 */
static int
frag_store(struct kapa_frag *t, uint32_t i, const struct frag_in *in)
{
	struct frag_dgram *d = &t->d[i - 1];
	uint32_t need = frag_blocks_missing(d, in->off, in->len);
	uint32_t b, at, n, done = 0;
	uint8_t *blk;

	while (t->blocks_free < need)
		if (frag_evict(t, i) != 0)
			return -1;
	while (done < in->len) {
		at = in->off + done;
		b = at / KAPA_FRAG_BLOCK;
		if (d->blk[b] == NIL) {
			d->blk[b] = t->free_blk;
			t->free_blk = t->blk_next[d->blk[b] - 1];
			t->blocks_free--;
		}
		blk = t->blocks + (size_t)(d->blk[b] - 1) * KAPA_FRAG_BLOCK;
		n = KAPA_FRAG_BLOCK - at % KAPA_FRAG_BLOCK;
		if (n > in->len - done)
			n = in->len - done;
		memcpy(blk + at % KAPA_FRAG_BLOCK, in->data + done, n);
		done += n;
	}
	t->st.bytes_held = (uint64_t)(t->nblocks - t->blocks_free) * KAPA_FRAG_BLOCK;
	return 0;
}

static void
frag_add_part(struct frag_dgram *d, uint32_t pos, const struct frag_in *in)
{
	memmove(&d->parts[pos + 1], &d->parts[pos], (d->nparts - pos) * sizeof(d->parts[0]));
	d->parts[pos].start8 = (uint16_t)(in->off / 8);
	d->parts[pos].len = (uint16_t)in->len;
	d->nparts++;
	d->held += in->len;
	if (in->last) {
		d->has_end = 1;
		d->end = in->off + in->len;
	}
}

/* Keep what comes before the data of the first fragment. */
static void
frag_keep_head(struct frag_dgram *d, const struct kapa_pkt *pkt, const struct frag_in *in)
{
	memcpy(d->head, pkt->data, in->head_len);
	d->head_len = (uint16_t)in->head_len;
	d->ip_off = pkt->l3_off;
	d->nh_off = (uint16_t)in->nh_off;
	d->nh = in->nh;
	d->first = *pkt;
	d->first.data = NULL;
	d->has_first = 1;
}

/* ---- the datagram rebuilt ---------------------------------------------------------- */

/* IPv4 header checksum (RFC 1071) over @p len bytes, its own field zero. */
static uint16_t
frag_ip4_csum(const uint8_t *h, uint32_t len)
{
	uint32_t s = 0, i;

	for (i = 0; i < len; i += 2)
		s += rd16(h + i);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/*
 * The frame: head with its lengths fixed, then the data. Parsed as a bare
 * IP datagram and moved to the frame's offsets, with the first fragment's
 * link fields: the link header is the first fragment's, byte for byte.
 */
static void
frag_emit(struct kapa_frag *t, const uint8_t *head, uint32_t head_len,
	  const struct kapa_pkt *first, uint32_t ip_off, uint32_t nh_off, uint8_t nh,
	  uint32_t dlen, struct kapa_frag_dgram *out)
{
	uint8_t *o = t->out, *ip = o + ip_off;
	uint32_t iplen, ihl, l4, pay, outer;
	struct kapa_pkt *p = &out->pkt;

	memcpy(o, head, head_len);
	if ((ip[0] >> 4) == 4) {
		ihl = (uint32_t)(ip[0] & 0x0f) * 4;
		iplen = ihl + dlen;
		wr16(ip + 2, (uint16_t)iplen);
		wr16(ip + 6, rd16(ip + 6) & IP4_DF);
		wr16(ip + 10, 0);
		wr16(ip + 10, frag_ip4_csum(ip, ihl));
	} else {
		/* The Fragment header is left out: the header that named it
		 * names what followed it. */
		o[nh_off] = nh;
		iplen = head_len - ip_off + dlen;
		wr16(ip + 4, (uint16_t)(iplen - IP6_HDR_LEN));
	}
	if (first->pppoe_len_off != 0)
		wr16(o + first->pppoe_len_off, (uint16_t)(iplen + 2));
	out->data = o;
	out->len = head_len + dlen;
	kapa_pkt_parse(ip, iplen, KAPA_L3_RAW, p);
	l4 = p->l4_off + ip_off;
	pay = p->payload_off + ip_off;
	outer = p->outer_l3_off + ip_off;
	if (l4 > UINT16_MAX || pay > UINT16_MAX || outer > UINT16_MAX) {
		/* Offsets the struct cannot hold (a tunnel deep in a long
		 * datagram): seen as the parser sees such a tunnel. */
		p->cls = KAPA_PKT_MALFORMED;
		p->bad = KAPA_BAD_TUNNEL_LEN;
		l4 = pay = outer = ip_off;
	}
	p->data = o;
	p->len = out->len;
	p->l3_off = (uint16_t)(p->l3_off + ip_off);
	p->l4_off = (uint16_t)l4;
	p->payload_off = (uint16_t)pay;
	p->outer_l3_off = (uint16_t)outer;
	memcpy(p->eth_dst, first->eth_dst, sizeof(p->eth_dst));
	memcpy(p->eth_src, first->eth_src, sizeof(p->eth_src));
	p->nvlan = first->nvlan;
	memcpy(p->vlan_tpid, first->vlan_tpid, sizeof(p->vlan_tpid));
	memcpy(p->vlan_tci, first->vlan_tci, sizeof(p->vlan_tci));
	p->encap |= first->encap;
	p->pppoe_len_off = first->pppoe_len_off;
}

static void
frag_build(struct kapa_frag *t, const struct frag_dgram *d, struct kapa_frag_dgram *out)
{
	uint8_t *dst = t->out + d->head_len;
	uint32_t at, n;

	for (at = 0; at < d->end; at += n) {
		n = d->end - at < KAPA_FRAG_BLOCK ? d->end - at : KAPA_FRAG_BLOCK;
		memcpy(dst + at, t->blocks + (size_t)(d->blk[at / KAPA_FRAG_BLOCK] - 1) *
					     KAPA_FRAG_BLOCK, n);
	}
	out->nfrags = d->nparts;
	frag_emit(t, d->head, d->head_len, &d->first, d->ip_off, d->nh_off, d->nh, d->end, out);
}

/* IP header bytes the datagram's length counts (IPv4: IHL; IPv6: extension
 * headers before the Fragment header), from the first fragment. */
static inline uint32_t
frag_hdr_bytes(const struct frag_dgram *d)
{
	return (uint32_t)(d->head_len - d->ip_off) - (d->key.family == 6 ? IP6_HDR_LEN : 0);
}

/* ---- the entry points -------------------------------------------------------------- */

static int
frag_refuse(struct kapa_frag *t, struct frag_dgram *d, enum kapa_frag_refusal why)
{
	t->st.refused[why]++;
	if (d != NULL)
		frag_kill(t, d);
	return KAPA_FRAG_REFUSED;
}

/* An IPv6 atomic fragment (RFC 6946): a whole datagram, handed on alone. */
static int
frag_atomic(struct kapa_frag *t, const struct kapa_pkt *pkt, const struct frag_in *in,
	    struct kapa_frag_dgram *out)
{
	if (in->head_len > KAPA_FRAG_HEAD_MAX)
		return frag_refuse(t, NULL, KAPA_FRAG_REF_HEAD);
	if (in->len == 0)
		return frag_refuse(t, NULL, KAPA_FRAG_REF_EMPTY);
	memcpy(t->out + in->head_len, in->data, in->len);
	out->nfrags = 1;
	frag_emit(t, pkt->data, in->head_len, pkt, pkt->l3_off, in->nh_off, in->nh, in->len, out);
	t->st.atomic++;
	return KAPA_FRAG_DONE;
}

int
kapa_frag_input(struct kapa_frag *t, const struct kapa_pkt *pkt, uint64_t now_ns,
		struct kapa_frag_dgram *out)
{
	enum kapa_frag_refusal why = KAPA_FRAG_REF_MAX;
	struct frag_in in;
	struct frag_dgram *d;
	uint32_t i, pos = 0;
	int rc;

	if (pkt->cls != KAPA_PKT_FRAGMENT)
		return KAPA_FRAG_REFUSED;
	t->st.fragments++;
	kapa_frag_expire(t, now_ns);
	if (pkt->encap & KAPA_ENCAP_TUNNEL)
		return frag_refuse(t, NULL, KAPA_FRAG_REF_TUNNEL);
	memset(&in, 0, sizeof(in));
	rc = pkt->family == 4 ? frag_read4(pkt, &in) : frag_read6(pkt, &in);
	if (rc != 0)
		return frag_refuse(t, NULL, KAPA_FRAG_REF_HEAD);
	if (in.off == 0 && in.last)
		return frag_atomic(t, pkt, &in, out);
	i = frag_find(t, &in.key);
	if (i == NIL)
		i = frag_open(t, &in.key, now_ns);
	if (i == NIL)		/* a table of no datagram at all */
		return frag_refuse(t, NULL, KAPA_FRAG_REF_NO_ROOM);
	d = &t->d[i - 1];
	if (d->state == FRAG_DEAD)
		return frag_refuse(t, NULL, KAPA_FRAG_REF_DROPPED);
	if (in.off == 0 && in.head_len > KAPA_FRAG_HEAD_MAX)
		return frag_refuse(t, d, KAPA_FRAG_REF_HEAD);
	switch (frag_check(d, &in, &pos, &why)) {
	case FRAG_DUP:
		t->st.duplicates++;
		return KAPA_FRAG_HELD;
	case FRAG_OVERLAP:
		t->st.overlaps++;
		frag_kill(t, d);
		return KAPA_FRAG_REFUSED;
	case FRAG_REFUSE:
		return frag_refuse(t, d, why);
	case FRAG_OK:
		break;
	}
	if (frag_store(t, i, &in) != 0)
		return frag_refuse(t, d, KAPA_FRAG_REF_NO_ROOM);
	frag_add_part(d, pos, &in);
	if (in.off == 0)
		frag_keep_head(d, pkt, &in);
	if (!d->has_first || !d->has_end || d->held != d->end)
		return KAPA_FRAG_HELD;
	/* The first fragment's header may be longer than the one the last
	 * fragment was checked with. */
	if (frag_hdr_bytes(d) + d->end > KAPA_FRAG_DGRAM_MAX)
		return frag_refuse(t, d, KAPA_FRAG_REF_TOO_BIG);
	frag_build(t, d, out);
	t->st.reassembled++;
	frag_free(t, i);
	return KAPA_FRAG_DONE;
}

void
kapa_frag_refuse(struct kapa_frag *t, enum kapa_frag_refusal why)
{
	if (why < KAPA_FRAG_REF_MAX)
		t->st.refused[why]++;
}

size_t
kapa_frag_memory(const struct kapa_frag *t)
{
	return sizeof(*t) + t->d_bytes + t->blk_bytes + sizeof(uint32_t) * t->nblocks +
	       sizeof(uint32_t) * (t->bucket_mask + 1) + KAPA_FRAG_HEAD_MAX + KAPA_FRAG_DGRAM_MAX;
}

const struct kapa_frag_stats *
kapa_frag_stats(const struct kapa_frag *t)
{
	return &t->st;
}

void
kapa_frag_destroy(struct kapa_frag *t)
{
	if (t == NULL)
		return;
	kapa_mem_free(t->d, t->d_bytes);
	kapa_mem_free(t->blocks, t->blk_bytes);
	free(t->blk_next);
	free(t->bucket);
	free(t->out);
	free(t);
}

struct kapa_frag *
kapa_frag_create(const struct kapa_frag_conf *conf)
{
	struct kapa_frag *t;
	struct timespec ts;
	uint32_t nd, bytes, i, nb;
	int err = EINVAL;

	if (conf == NULL)
		goto fail_arg;
	nd = conf->max_datagrams != 0 ? conf->max_datagrams : DEF_DATAGRAMS;
	bytes = conf->max_bytes != 0 ? conf->max_bytes : DEF_BYTES;
	if (nd > MAX_DATAGRAMS || bytes > MAX_BYTES || bytes < KAPA_FRAG_BLOCK)
		goto fail_arg;
	err = ENOMEM;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto fail_arg;
	t->nd = nd;
	t->d_bytes = (size_t)nd * sizeof(struct frag_dgram);
	t->d = kapa_mem_alloc(t->d_bytes);
	t->nblocks = bytes / KAPA_FRAG_BLOCK;
	t->blk_bytes = (size_t)t->nblocks * KAPA_FRAG_BLOCK;
	t->blocks = kapa_mem_alloc(t->blk_bytes);
	t->blk_next = malloc(sizeof(uint32_t) * t->nblocks);
	nb = rte_align32pow2(nd * 2);
	t->bucket = calloc(nb, sizeof(uint32_t));
	t->out = malloc(KAPA_FRAG_HEAD_MAX + KAPA_FRAG_DGRAM_MAX);
	if (t->d == NULL || t->blocks == NULL || t->blk_next == NULL || t->bucket == NULL ||
	    t->out == NULL)
		goto fail;
	t->bucket_mask = nb - 1;
	for (i = 0; i < nd; i++)
		t->d[i].hnext = i + 2 <= nd ? i + 2 : NIL;
	t->free_d = 1;
	for (i = 0; i < t->nblocks; i++)
		t->blk_next[i] = i + 2 <= t->nblocks ? i + 2 : NIL;
	t->free_blk = 1;
	t->blocks_free = t->nblocks;
	t->timeout_ns[0] = (uint64_t)(conf->timeout4_ms != 0 ? conf->timeout4_ms :
				      DEF_TIMEOUT4_MS) * 1000000u;
	t->timeout_ns[1] = (uint64_t)(conf->timeout6_ms != 0 ? conf->timeout6_ms :
				      DEF_TIMEOUT6_MS) * 1000000u;
	/* A seed per table, so that keys chosen to share a chain on one box
	 * do not on another. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t->seed = (uint32_t)ts.tv_nsec ^ (uint32_t)(uintptr_t)t;
	return t;
fail:
	if (t->d == NULL)
		t->d_bytes = 0;
	if (t->blocks == NULL)
		t->blk_bytes = 0;
	kapa_frag_destroy(t);
fail_arg:
	rte_errno = err;
	return NULL;
}
