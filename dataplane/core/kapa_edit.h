/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Byte-level edits of a parsed IPv4/IPv6 TCP segment in a writable buffer,
 * and crafted segments (RSTs): the packet surgery the actions need, with no
 * knowledge of connections or policy. Pure functions over (buffer, parsed
 * packet); the caller owns the memory (kapa-inspect: plain memory; kapa-dp:
 * an mbuf's data room).
 *
 * Checksums. Edits in place and insertions update the IPv4 header and TCP
 * checksums incrementally (RFC 1624: the difference of what changed is
 * added to the stored sum), so a segment whose checksum was valid stays
 * valid and one whose checksum was not stays invalid by the same amount:
 * kapa never blesses a corrupted segment. An insertion must be of an even
 * number of bytes, so that the bytes after it keep their 16-bit alignment
 * and their share of the sum. A split and a crafted segment compute their
 * checksums in full (kapa_edit_fill_csum()). A caller whose input may carry
 * checksums a NIC was to fill (captures taken on the sending host) fills the
 * checksums of the segments it edited after the edits.
 *
 * Offsets. A struct kapa_pkt's offsets are from pkt->data, which lies inside
 * the buffer (pkt->data - buf->data bytes of link header the parser did not
 * read, e.g. a cooked capture's). Functions that change lengths update
 * pkt->len, pkt->payload_len and buf->len; the IP datagram then ends the
 * frame (Ethernet padding after it is dropped).
 */
#ifndef KAPA_EDIT_H
#define KAPA_EDIT_H

#include <stdint.h>

#include "kapa_pkt.h"

/** A frame in memory the caller lets kapa write. Edits keep data + len +
 *  tailroom where it was (the end of the writable memory). */
struct kapa_buf {
	uint8_t *data;		/**< the frame's first byte */
	uint32_t len;		/**< bytes of the frame */
	uint32_t tailroom;	/**< bytes writable after data + len */
	uint8_t edited;		/**< set by the engine when it changed the frame */
	/** The caller's tag of the port the frame arrived on (kapa-dp: the
	 *  DPDK port id). The engine keeps it with its direction's link header,
	 *  so that crafted frames leave toward the right end
	 *  (kapa_engine_link_port()). */
	uint8_t port;
};

/* ---- checksums ------------------------------------------------------------ */

/**
 * One's complement sum (RFC 1071) of @p len bytes, as 16-bit big-endian
 * words starting at an even offset (@p odd = 0) or with the first byte as
 * the low half of a word (@p odd = 1), added to @p sum. Not folded.
 * @return the new partial sum.
 */
uint32_t kapa_csum_add(uint32_t sum, const uint8_t *p, uint32_t len, int odd);

/** Fold a partial sum to 16 bits (not complemented). */
uint16_t kapa_csum_fold(uint32_t sum);

/**
 * Update a stored checksum (big-endian, at @p field) for bytes that changed
 * from @p old to @p new_ (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')).
 * @param odd  whether the bytes start at an odd offset from the checksummed
 *             area's start
 */
void kapa_csum_update(uint8_t *field, const uint8_t *old, const uint8_t *new_,
		      uint32_t len, int odd);

/**
 * Compute the IPv4 header checksum (when IPv4) and the TCP checksum of a
 * parsed segment in full and store them.
 */
void kapa_edit_fill_csum(struct kapa_pkt *pkt);

/**
 * Check both checksums of a parsed segment, as its receiver does before
 * anything else: the IPv4 header's (if any) and the TCP checksum.
 * @return 1 when both verify, 0 when not.
 */
int kapa_csum_ok(const struct kapa_pkt *pkt);

/**
 * Check the IPv4 header checksum of a parsed packet (a fragment's, say),
 * over the header length its IHL gives. An IPv6 packet has none: 1.
 * @return 1 when it verifies, 0 when not.
 */
int kapa_csum_ip4_ok(const struct kapa_pkt *pkt);

/**
 * Check the TCP checksum of a parsed segment, as the receiving stack does:
 * the IPv4 or IPv6 pseudo-header (the addresses in @p pkt, the innermost
 * packet's when tunnelled) and the bytes from the TCP header to the end of
 * the payload the IP lengths give (payload_off + payload_len), an odd last
 * byte padded with zero. A stored 0x0000 and 0xffff are the two forms of
 * the same sum and both verify (RFC 1071; TCP has no "no checksum").
 * Nothing is written.
 * @return 1 when it verifies, 0 when not.
 */
int kapa_csum_tcp_ok(const struct kapa_pkt *pkt);

/* ---- edits of a parsed segment ------------------------------------------- */

/**
 * Overwrite @p n payload bytes at payload offset @p at with @p bytes; the
 * TCP checksum updated incrementally. The caller checks at + n <= payload.
 */
void kapa_edit_rewrite(struct kapa_pkt *pkt, uint32_t at, const uint8_t *bytes,
		       uint32_t n);

/**
 * Insert @p n bytes (n even) at payload offset @p at (0..payload_len): the
 * rest of the segment moves up, IP lengths grow, checksums are updated
 * incrementally.
 * @return 0, -EINVAL (n odd, at past the payload, the IP length would pass
 *         65535), or -ENOSPC (not enough tailroom; nothing changed).
 */
int kapa_edit_insert(struct kapa_buf *b, struct kapa_pkt *pkt, uint32_t at,
		     const uint8_t *bytes, uint32_t n);

/**
 * @return bytes a segment may grow by: the buffer's tailroom and any link
 *         padding after its IP datagram.
 */
uint32_t kapa_edit_room(const struct kapa_buf *b, const struct kapa_pkt *pkt);

/**
 * Cut the payload to its first @p keep bytes (keep <= payload_len); a FIN
 * goes with the bytes cut. Checksums updated incrementally.
 */
void kapa_edit_trim(struct kapa_buf *b, struct kapa_pkt *pkt, uint32_t keep);

/**
 * Cut the first @p n payload bytes (0 < n < payload_len), the rest moved to
 * the front and the sequence number advanced by @p n; a FIN stays. Not for
 * a SYN (nothing done). Checksums updated incrementally.
 */
void kapa_edit_drop_front(struct kapa_buf *b, struct kapa_pkt *pkt, uint32_t n);

/**
 * Split a segment whose payload is longer than @p first: the segment keeps
 * the first @p first bytes (without FIN), and a copy of its headers with the
 * rest of the payload (sequence number advanced, FIN if the original had
 * one) is written to @p out. Both get full checksums.
 * @param first    payload bytes that stay (1..payload_len - 1)
 * @param out      room for the second segment
 * @param out_cap  its size
 * @return the second segment's length, or -ENOSPC / -EINVAL (nothing
 *         changed).
 */
int kapa_edit_split(struct kapa_buf *b, struct kapa_pkt *pkt, uint32_t first,
		    uint8_t *out, uint32_t out_cap);

/** Set the sequence number (checksum updated incrementally). */
void kapa_edit_set_seq(struct kapa_pkt *pkt, uint32_t seq);

/** Set the acknowledgement number (checksum updated incrementally). */
void kapa_edit_set_ack(struct kapa_pkt *pkt, uint32_t ack);

/**
 * Map every edge of every SACK block through @p map (checksum updated
 * incrementally); pkt->opt.sack follows.
 * @return the number of edges that changed.
 */
uint32_t kapa_edit_map_sack(struct kapa_pkt *pkt, uint32_t (*map)(uint32_t edge, void *arg),
			    void *arg);

/* ---- crafted segments ------------------------------------------------------- */

/** What a crafted RST carries. */
struct kapa_rst {
	const uint8_t *l2;	/**< link header to copy (the direction's own) */
	uint32_t l2_len;
	uint8_t family;		/**< 4 or 6 */
	const uint8_t *src, *dst;	/**< addresses, network order (4 or 16 bytes) */
	uint16_t sport, dport;	/**< host order */
	uint32_t seq;		/**< exactly what the receiver expects next */
	uint32_t ack;		/**< the sender's last acknowledgement */
	int with_ack;		/**< set ACK (and @p ack) */
	int fin;		/**< FIN|ACK in place of the RST (a close in the
				     sender's name), window open */
};

/**
 * Write an RST, or a FIN (TTL/hop limit 64, IPv4 DF, window 0 for an RST,
 * 65535 for a FIN, checksums in full).
 * @return its length, or -ENOSPC when @p cap is too small.
 */
int kapa_edit_craft_rst(const struct kapa_rst *r, uint8_t *out, uint32_t cap);

#endif /* KAPA_EDIT_H */
