/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * IP fragment reassembly for inspection: IPv4 (RFC 791) and IPv6 (RFC 8200
 * §4.5) fragments, over bytes, so that a request carried in fragments is
 * seen by the TCP core and the tracker like any segment. The fragments
 * themselves are forwarded unchanged by the caller; the datagram rebuilt
 * here is only read (the engine refuses every edit of it, counted:
 * KAPA_ACT_WHY_FRAGMENTED). DPDK's rte_ip_frag reassembles mbufs, which
 * the core does not know.
 *
 * One table per worker (owner-written, nothing shared). Bounded: datagrams
 * in progress (kapa_frag_conf::max_datagrams) and the bytes they hold
 * (kapa_frag_conf::max_bytes, in KAPA_FRAG_BLOCK blocks). When either is
 * full the oldest datagram is dropped to make room (counted table_full):
 * refusing the new one instead would let a flood of incomplete datagrams
 * blind kapa for a whole timeout.
 *
 * A datagram is dropped whole, and every later fragment of it refused
 * until its timeout, when one of its fragments overlaps another (RFC 5722
 * for IPv6; the same for IPv4, as Linux does since 4.19 for both: a host
 * behind kapa discards such a datagram, so nothing in it reaches a server)
 * or is refused for another reason (enum kapa_frag_refusal). A fragment at
 * exactly the offset and length of one held is a duplicate: counted,
 * ignored, the first copy kept (as Linux does).
 *
 * Timeouts, on the caller's clock (ns, capture time in kapa-inspect): by
 * default those of Linux (net.ipv4.ipfrag_time 30 s, net.ipv6.ip6frag_time
 * 60 s). Not shorter: a host behind kapa that still completes a datagram
 * kapa gave up on would run a request kapa never saw, and a sender could
 * delay the last fragment on purpose to get past the count.
 */
#ifndef KAPA_FRAG_H
#define KAPA_FRAG_H

#include <stddef.h>
#include <stdint.h>

#include "kapa_pkt.h"

/** Bytes before the fragment data that a datagram keeps from its first
 *  fragment: link header, IP header and IPv6 extension headers before the
 *  Fragment header. Longer: refused (KAPA_FRAG_REF_HEAD). */
#define KAPA_FRAG_HEAD_MAX 256
/** Fragments one datagram may have; more: refused (KAPA_FRAG_REF_PARTS).
 *  A 64 KiB datagram cut for the IPv6 minimum MTU takes 52. */
#define KAPA_FRAG_PARTS_MAX 256
/** Unit of the byte bound: a datagram holds its data in blocks of this
 *  size, so the bound counts what is really taken. */
#define KAPA_FRAG_BLOCK 1024
/** Largest datagram (IP header included), as both RFCs allow. */
#define KAPA_FRAG_DGRAM_MAX 65535

/** Why a fragment was refused (its datagram dropped whole). */
enum kapa_frag_refusal {
	KAPA_FRAG_REF_NOT8 = 0,	/**< not the last, and its length is not a
				     multiple of 8 */
	KAPA_FRAG_REF_PAST_END,	/**< ends past the end the last fragment gave,
				     or a second last fragment with another end */
	KAPA_FRAG_REF_TOO_BIG,	/**< the datagram would exceed 65535 bytes */
	KAPA_FRAG_REF_EMPTY,	/**< no data */
	KAPA_FRAG_REF_HEAD,	/**< headers before the data longer than
				     KAPA_FRAG_HEAD_MAX */
	KAPA_FRAG_REF_TUNNEL,	/**< a fragment inside a tunnel: its outer
				     lengths cannot be rebuilt */
	KAPA_FRAG_REF_PARTS,	/**< more than KAPA_FRAG_PARTS_MAX fragments */
	KAPA_FRAG_REF_NO_ROOM,	/**< the datagram needs more bytes than the
				     whole table holds */
	KAPA_FRAG_REF_DROPPED,	/**< its datagram was dropped already (an
				     overlap or a refusal), until its timeout */
	KAPA_FRAG_REF_NESTED,	/**< a fragment inside a reassembled datagram
				     (counted by the caller, kapa_frag_refuse()) */
	KAPA_FRAG_REF_FOREIGN,	/**< reassembled, but another worker owns its
				     connection and could not be given it
				     (counted by the caller) */
	KAPA_FRAG_REF_MAX
};

/** Table bounds; zero fields take the defaults. */
struct kapa_frag_conf {
	uint32_t max_datagrams;	/**< in progress at once; 0 = 1024 */
	uint32_t max_bytes;	/**< data held, all datagrams; 0 = 4 MiB (Linux's
				     ipfrag_high_thresh), at most 64 MiB */
	uint32_t timeout4_ms;	/**< IPv4 datagram, from its first fragment;
				     0 = 30000 */
	uint32_t timeout6_ms;	/**< IPv6; 0 = 60000 */
};

/** Counters (owner-written). */
struct kapa_frag_stats {
	uint64_t fragments;	/**< fragments given to kapa_frag_input() */
	uint64_t reassembled;	/**< datagrams completed */
	uint64_t atomic;	/**< IPv6 atomic fragments (offset 0, last):
				     handed on at once (RFC 6946) */
	uint64_t timed_out;	/**< datagrams incomplete at their timeout */
	uint64_t overlaps;	/**< datagrams dropped: fragments overlapped */
	uint64_t duplicates;	/**< fragments identical in place to one held */
	uint64_t table_full;	/**< datagrams dropped to make room */
	uint64_t refused[KAPA_FRAG_REF_MAX];	/**< fragments, by reason */
	uint64_t open;		/**< gauge: datagrams held (dropped ones too,
				     until their timeout) */
	uint64_t bytes_held;	/**< gauge: bytes of blocks held */
};

/** What kapa_frag_input() did with a fragment. */
enum kapa_frag_result {
	KAPA_FRAG_HELD = 0,	/**< kept (or a duplicate): nothing to inspect yet */
	KAPA_FRAG_DONE,		/**< the datagram is complete: see the output */
	KAPA_FRAG_REFUSED,	/**< refused or its datagram dropped: counted */
};

/** A reassembled datagram, as one frame: the first fragment's link header,
 *  its IP header with the lengths fixed and no fragment fields (IPv6: the
 *  Fragment header removed, the next header before it fixed), the data. */
struct kapa_frag_dgram {
	uint8_t *data;		/**< the table's buffer: valid until the next
				     call on the table */
	uint32_t len;
	uint32_t nfrags;	/**< fragments it was made of */
	/** kapa_pkt_parse() of the frame's IP datagram, offsets from data;
	 *  the link fields (MACs, tags, encap, pppoe_len_off) the first
	 *  fragment's. */
	struct kapa_pkt pkt;
};

struct kapa_frag;

/**
 * Create a table.
 * @return the table, or NULL with rte_errno set (EINVAL: a bound out of
 *         range; ENOMEM).
 */
struct kapa_frag *kapa_frag_create(const struct kapa_frag_conf *conf);

/** Free a table and everything it holds. NULL ok. */
void kapa_frag_destroy(struct kapa_frag *t);

/**
 * One fragment: @p pkt as kapa_pkt_parse() classified it,
 * KAPA_PKT_FRAGMENT (its bytes are read, not kept). Datagrams past their
 * timeout are expired first.
 *
 * @param now_ns  the caller's clock (must not go backwards)
 * @param out     filled on KAPA_FRAG_DONE
 * @return enum kapa_frag_result. A packet that is not a fragment is
 *         KAPA_FRAG_REFUSED, not counted.
 */
int kapa_frag_input(struct kapa_frag *t, const struct kapa_pkt *pkt, uint64_t now_ns,
		    struct kapa_frag_dgram *out);

/**
 * Drop the datagrams whose timeout has passed (counted timed_out when
 * incomplete), releasing their bytes.
 * @return datagrams dropped.
 */
uint32_t kapa_frag_expire(struct kapa_frag *t, uint64_t now_ns);

/** Count a refusal the caller decided (KAPA_FRAG_REF_NESTED, _FOREIGN). */
void kapa_frag_refuse(struct kapa_frag *t, enum kapa_frag_refusal why);

/** @return bytes the table reserved (slots, blocks, buffers): its bound in
 *  memory. Pages are touched only as datagrams use them. */
size_t kapa_frag_memory(const struct kapa_frag *t);

/** @return the counters. */
const struct kapa_frag_stats *kapa_frag_stats(const struct kapa_frag *t);

/** @return a short constant name of a refusal ("not8", "past-end", ...). */
const char *kapa_frag_refusal_name(unsigned why);

#endif /* KAPA_FRAG_H */
