/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Byte-level edits of parsed TCP segments and crafted RSTs (kapa_edit.h).
 *
 * Every sum here is of 16-bit big-endian words, read byte by byte, so the
 * code is the same on any host; a stored checksum is read and written as
 * two bytes. Offsets into the TCP checksum's area are counted from the TCP
 * header, whose length is a multiple of 4: payload byte k has the parity of
 * k.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "kapa_edit.h"

#define IP4_HDR 20
#define IP6_HDR 40
#define TCP_HDR 20
#define TCP_OFF_SEQ 4
#define TCP_OFF_ACK 8
#define TCP_OFF_FLAGS_WORD 12	/* data offset and flags */
#define TCP_OFF_CSUM 16

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- checksums ------------------------------------------------------------ */

uint32_t
kapa_csum_add(uint32_t sum, const uint8_t *p, uint32_t len, int odd)
{
	uint64_t s = sum;
	uint32_t i = 0;

	if (len == 0)
		return sum;
	if (odd) {
		s += p[0];
		i = 1;
	}
	for (; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < len)
		s += (uint32_t)p[i] << 8;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t
kapa_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* RFC 1624 eqn. 3 over partial sums: HC' = ~(~HC + ~m + m'). */
static void
csum_replace_sums(uint8_t *field, uint32_t sum_old, uint32_t sum_new)
{
	uint32_t x = (uint16_t)~rd16(field);

	x += (uint16_t)~kapa_csum_fold(sum_old);
	x += kapa_csum_fold(sum_new);
	wr16(field, (uint16_t)~kapa_csum_fold(x));
}

void
kapa_csum_update(uint8_t *field, const uint8_t *old, const uint8_t *new_, uint32_t len,
		 int odd)
{
	csum_replace_sums(field, kapa_csum_add(0, old, len, odd),
			  kapa_csum_add(0, new_, len, odd));
}

/* A 16-bit value that is part of the sum changed (a length, a word of
 * flags, half of a sequence number). */
static void
csum_update16(uint8_t *field, uint16_t old, uint16_t new_)
{
	csum_replace_sums(field, old, new_);
}

static inline uint8_t *
pkt_bytes(const struct kapa_pkt *pkt)
{
	/* The parser keeps a const pointer; the edits' caller owns the
	 * buffer and hands it to them writable (struct kapa_buf). */
	return (uint8_t *)(uintptr_t)pkt->data;
}

static inline uint8_t *
tcp_hdr(const struct kapa_pkt *pkt)
{
	return pkt_bytes(pkt) + pkt->l4_off;
}

static inline uint8_t *
tcp_csum(const struct kapa_pkt *pkt)
{
	return tcp_hdr(pkt) + TCP_OFF_CSUM;
}

/* Bytes the TCP checksum covers after the pseudo-header. */
static inline uint32_t
tcp_len(const struct kapa_pkt *pkt)
{
	return pkt->payload_off + pkt->payload_len - pkt->l4_off;
}

static uint32_t
pseudo_sum(const struct kapa_pkt *pkt, uint32_t len)
{
	uint32_t s = 0;
	uint8_t w[4];

	if (pkt->family == 4) {
		s = kapa_csum_add(s, pkt->src, 4, 0);
		s = kapa_csum_add(s, pkt->dst, 4, 0);
	} else {
		s = kapa_csum_add(s, pkt->src, 16, 0);
		s = kapa_csum_add(s, pkt->dst, 16, 0);
	}
	wr32(w, len);
	s = kapa_csum_add(s, w, 4, 0);
	return s + 6;	/* protocol */
}

void
kapa_edit_fill_csum(struct kapa_pkt *pkt)
{
	uint8_t *ip = pkt_bytes(pkt) + pkt->l3_off;
	uint32_t s;

	if (pkt->family == 4) {
		uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;

		wr16(ip + 10, 0);
		wr16(ip + 10, (uint16_t)~kapa_csum_fold(kapa_csum_add(0, ip, ihl, 0)));
	}
	wr16(tcp_csum(pkt), 0);
	s = pseudo_sum(pkt, tcp_len(pkt));
	s = kapa_csum_add(s, tcp_hdr(pkt), tcp_len(pkt), 0);
	wr16(tcp_csum(pkt), (uint16_t)~kapa_csum_fold(s));
}

int
kapa_csum_tcp_ok(const struct kapa_pkt *pkt)
{
	uint32_t s = pseudo_sum(pkt, tcp_len(pkt));

	/*
	 * The segment's bytes through DPDK's word-at-a-time sum (several times
	 * kapa_csum_add()'s byte-at-a-time speed on a full segment; kapa-dp
	 * verifies every segment its port did not). It adds 16-bit words as
	 * the host reads them; a ones-complement sum of byte-swapped words is
	 * the byte-swapped sum, so one swap puts it in network order beside
	 * the pseudo-header's. rte_ipv4/ipv6_udptcp_cksum_verify() do not fit:
	 * they take the length from the IP header, which for IPv6 counts
	 * extension headers too.
	 */
	s += rte_be_to_cpu_16(rte_raw_cksum(pkt->data + pkt->l4_off, tcp_len(pkt)));
	return kapa_csum_fold(s) == 0xffff;
}

int
kapa_csum_ip4_ok(const struct kapa_pkt *pkt)
{
	const uint8_t *ip = pkt->data + pkt->l3_off;

	return pkt->family != 4 ||
	       kapa_csum_fold(kapa_csum_add(0, ip, (uint32_t)(ip[0] & 0x0f) * 4, 0)) == 0xffff;
}

int
kapa_csum_ok(const struct kapa_pkt *pkt)
{
	return kapa_csum_ip4_ok(pkt) && kapa_csum_tcp_ok(pkt);
}

/* ---- lengths -------------------------------------------------------------- */

/* The IP datagram grew (or shrank) by @p delta bytes: IP length fields and
 * their checksum, the TCP pseudo-header's length (in the TCP checksum),
 * the frame and the parsed lengths. */
static void
pkt_resize(struct kapa_buf *b, struct kapa_pkt *pkt, int32_t delta)
{
	uint8_t *ip = pkt_bytes(pkt) + pkt->l3_off;
	uint32_t old_tcp = tcp_len(pkt), new_tcp = (uint32_t)((int32_t)old_tcp + delta);
	uint32_t end = b->len + b->tailroom;
	uint16_t o, n;

	if (pkt->family == 4) {
		o = rd16(ip + 2);
		n = (uint16_t)(o + delta);
		wr16(ip + 2, n);
		csum_update16(ip + 10, o, n);
	} else {
		o = rd16(ip + 4);
		n = (uint16_t)(o + delta);
		wr16(ip + 4, n);
	}
	csum_update16(tcp_csum(pkt), (uint16_t)old_tcp, (uint16_t)new_tcp);
	pkt->payload_len = (uint32_t)((int32_t)pkt->payload_len + delta);
	pkt->len = pkt->payload_off + pkt->payload_len;
	b->len = (uint32_t)(pkt->data - b->data) + pkt->len;
	b->tailroom = end - b->len;
}

/* Offset in the frame where the segment's IP datagram ends. */
static inline uint32_t
dgram_end(const struct kapa_buf *b, const struct kapa_pkt *pkt)
{
	return (uint32_t)(pkt->data - b->data) + pkt->payload_off + pkt->payload_len;
}

uint32_t
kapa_edit_room(const struct kapa_buf *b, const struct kapa_pkt *pkt)
{
	return b->len + b->tailroom - dgram_end(b, pkt);
}

/* ---- edits ------------------------------------------------------------------ */

void
kapa_edit_rewrite(struct kapa_pkt *pkt, uint32_t at, const uint8_t *bytes, uint32_t n)
{
	uint8_t *p = pkt_bytes(pkt) + pkt->payload_off + at;

	if (n == 0 || memcmp(p, bytes, n) == 0)
		return;
	kapa_csum_update(tcp_csum(pkt), p, bytes, n, (int)(at & 1));
	memcpy(p, bytes, n);
}

int
kapa_edit_insert(struct kapa_buf *b, struct kapa_pkt *pkt, uint32_t at, const uint8_t *bytes,
		 uint32_t n)
{
	uint8_t *pay = pkt_bytes(pkt) + pkt->payload_off;
	uint8_t *csum = tcp_csum(pkt);

	if ((n & 1) != 0 || at > pkt->payload_len ||
	    (uint64_t)pkt->payload_off - pkt->l3_off + pkt->payload_len + n > 65535)
		return -EINVAL;
	if (n == 0)
		return 0;
	if (kapa_edit_room(b, pkt) < n)
		return -ENOSPC;
	memmove(pay + at + n, pay + at, pkt->payload_len - at);
	memcpy(pay + at, bytes, n);
	/* An even insertion leaves the bytes after it at their parity: the
	 * sum grows by the inserted words and the length change. */
	csum_replace_sums(csum, 0, kapa_csum_add(0, bytes, n, (int)(at & 1)));
	pkt_resize(b, pkt, (int32_t)n);	/* the frame now ends with the datagram */
	return 0;
}

void
kapa_edit_trim(struct kapa_buf *b, struct kapa_pkt *pkt, uint32_t keep)
{
	uint8_t *pay = pkt_bytes(pkt) + pkt->payload_off;
	uint8_t *th = tcp_hdr(pkt);
	uint16_t fw;

	if (keep > pkt->payload_len)
		return;
	if (pkt->tcp_flags & KAPA_TCP_FIN) {
		fw = rd16(th + TCP_OFF_FLAGS_WORD);
		wr16(th + TCP_OFF_FLAGS_WORD, (uint16_t)(fw & ~KAPA_TCP_FIN));
		csum_update16(tcp_csum(pkt), fw, (uint16_t)(fw & ~KAPA_TCP_FIN));
		pkt->tcp_flags &= (uint8_t)~KAPA_TCP_FIN;
	}
	if (keep == pkt->payload_len)
		return;
	csum_replace_sums(tcp_csum(pkt),
			  kapa_csum_add(0, pay + keep, pkt->payload_len - keep, (int)(keep & 1)), 0);
	pkt_resize(b, pkt, -(int32_t)(pkt->payload_len - keep));
}

void
kapa_edit_drop_front(struct kapa_buf *b, struct kapa_pkt *pkt, uint32_t n)
{
	uint8_t *pay = pkt_bytes(pkt) + pkt->payload_off;
	uint32_t len = pkt->payload_len, old_sum;

	if (n == 0 || n >= len || (pkt->tcp_flags & KAPA_TCP_SYN))
		return;
	/* The payload's sum before and after the move: the bytes that stay
	 * change their position's parity when n is odd. */
	old_sum = kapa_csum_add(0, pay, len, 0);
	memmove(pay, pay + n, len - n);
	csum_replace_sums(tcp_csum(pkt), old_sum, kapa_csum_add(0, pay, len - n, 0));
	pkt_resize(b, pkt, -(int32_t)n);
	kapa_edit_set_seq(pkt, pkt->seq + n);
}

/* Set a parsed segment's IP and TCP lengths (no checksums). */
static void
pkt_set_lengths(struct kapa_pkt *pkt)
{
	uint8_t *ip = pkt_bytes(pkt) + pkt->l3_off;
	uint32_t dgram = pkt->payload_off + pkt->payload_len - pkt->l3_off;

	if (pkt->family == 4)
		wr16(ip + 2, (uint16_t)dgram);
	else
		wr16(ip + 4, (uint16_t)(dgram - IP6_HDR));
	pkt->len = pkt->payload_off + pkt->payload_len;
}

int
kapa_edit_split(struct kapa_buf *b, struct kapa_pkt *pkt, uint32_t first, uint8_t *out,
		uint32_t out_cap)
{
	uint32_t link = (uint32_t)(pkt->data - b->data);
	uint32_t hdrs = link + pkt->payload_off, rest;
	struct kapa_pkt second;
	uint8_t *th;

	if (first == 0 || first >= pkt->payload_len)
		return -EINVAL;
	rest = pkt->payload_len - first;
	if (hdrs + rest > out_cap)
		return -ENOSPC;
	memcpy(out, b->data, hdrs);
	memcpy(out + hdrs, pkt->data + pkt->payload_off + first, rest);
	second = *pkt;
	second.data = out + link;
	second.payload_len = rest;
	second.seq = pkt->seq + first;
	th = out + link + pkt->l4_off;
	wr32(th + TCP_OFF_SEQ, second.seq);
	if (pkt->family == 4) {
		uint8_t *ip = out + link + pkt->l3_off;

		wr16(ip + 4, (uint16_t)(rd16(ip + 4) + 1));	/* its own IP ID */
	}
	pkt_set_lengths(&second);
	kapa_edit_fill_csum(&second);
	/* The first part: no FIN (it travels with the last byte). */
	th = tcp_hdr(pkt);
	th[13] &= (uint8_t)~KAPA_TCP_FIN;
	pkt->tcp_flags &= (uint8_t)~KAPA_TCP_FIN;
	pkt->payload_len = first;
	pkt_set_lengths(pkt);
	b->tailroom += b->len - (link + pkt->len);
	b->len = link + pkt->len;
	kapa_edit_fill_csum(pkt);
	return (int)(hdrs + rest);
}

static void
set_word32(struct kapa_pkt *pkt, uint32_t off, uint32_t v)
{
	uint8_t *p = tcp_hdr(pkt) + off, old[4];

	memcpy(old, p, 4);
	wr32(p, v);
	kapa_csum_update(tcp_csum(pkt), old, p, 4, 0);
}

void
kapa_edit_set_seq(struct kapa_pkt *pkt, uint32_t seq)
{
	if (pkt->seq == seq)
		return;
	set_word32(pkt, TCP_OFF_SEQ, seq);
	pkt->seq = seq;
}

void
kapa_edit_set_ack(struct kapa_pkt *pkt, uint32_t ack)
{
	if (pkt->ack == ack)
		return;
	set_word32(pkt, TCP_OFF_ACK, ack);
	pkt->ack = ack;
}

uint32_t
kapa_edit_map_sack(struct kapa_pkt *pkt, uint32_t (*map)(uint32_t edge, void *arg), void *arg)
{
	uint8_t *th = tcp_hdr(pkt);
	uint32_t o = TCP_HDR, end = (uint32_t)(pkt->payload_off - pkt->l4_off), changed = 0;
	uint32_t e, k, nb = 0, v, m;
	uint8_t old[4];

	while (o < end) {
		if (th[o] == 0)
			break;
		if (th[o] == 1) {
			o++;
			continue;
		}
		if (o + 1 >= end || th[o + 1] < 2 || o + th[o + 1] > end)
			break;	/* the parser refused such options: cannot happen */
		if (th[o] == 5) {
			for (e = o + 2, k = 0; e + 4 <= o + th[o + 1]; e += 4, k++) {
				v = rd32(th + e);
				m = map(v, arg);
				if (m != v) {
					memcpy(old, th + e, 4);
					wr32(th + e, m);
					kapa_csum_update(tcp_csum(pkt), old, th + e, 4, (int)(e & 1));
					changed++;
				}
				if (nb + k / 2 < KAPA_MAX_SACK)
					pkt->opt.sack[nb + k / 2][k & 1] = m;
			}
			nb += k / 2;
		}
		o += th[o + 1];
	}
	return changed;
}

/* ---- crafted ------------------------------------------------------------------ */

int
kapa_edit_craft_rst(const struct kapa_rst *r, uint8_t *out, uint32_t cap)
{
	uint32_t iph = r->family == 4 ? IP4_HDR : IP6_HDR;
	uint32_t total = r->l2_len + iph + TCP_HDR;
	struct kapa_pkt pkt;
	uint8_t *ip = out + r->l2_len, *th = ip + iph;

	if (total > cap)
		return -ENOSPC;
	memcpy(out, r->l2, r->l2_len);
	memset(ip, 0, iph + TCP_HDR);
	if (r->family == 4) {
		ip[0] = 0x45;
		wr16(ip + 2, IP4_HDR + TCP_HDR);
		ip[6] = 0x40;		/* DF */
		ip[8] = 64;		/* TTL */
		ip[9] = 6;
		memcpy(ip + 12, r->src, 4);
		memcpy(ip + 16, r->dst, 4);
	} else {
		ip[0] = 0x60;
		wr16(ip + 4, TCP_HDR);
		ip[6] = 6;
		ip[7] = 64;		/* hop limit */
		memcpy(ip + 8, r->src, 16);
		memcpy(ip + 24, r->dst, 16);
	}
	wr16(th, r->sport);
	wr16(th + 2, r->dport);
	wr32(th + TCP_OFF_SEQ, r->seq);
	wr32(th + TCP_OFF_ACK, r->with_ack ? r->ack : 0);
	th[12] = 5 << 4;
	if (r->fin) {
		th[13] = KAPA_TCP_FIN | KAPA_TCP_ACK;
		/* Open, so that the receiver's own FIN is not held back by
		 * a zero window. */
		wr16(th + 14, 0xffff);
	} else {
		th[13] = (uint8_t)(KAPA_TCP_RST | (r->with_ack ? KAPA_TCP_ACK : 0));
	}
	memset(&pkt, 0, sizeof(pkt));
	pkt.data = out + r->l2_len;
	pkt.family = r->family;
	pkt.l3_off = 0;
	pkt.l4_off = (uint16_t)iph;
	pkt.payload_off = (uint16_t)(iph + TCP_HDR);
	memcpy(pkt.src, r->src, r->family == 4 ? 4 : 16);
	memcpy(pkt.dst, r->dst, r->family == 4 ? 4 : 16);
	kapa_edit_fill_csum(&pkt);
	return (int)total;
}
