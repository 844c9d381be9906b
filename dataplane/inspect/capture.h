/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Reading capture files (classic pcap in place from the mapped file, pcapng
 * and the rest through libpcap) and mapping their link types onto where the
 * core's packet parser starts (enum kapa_l2_type).
 *
 * Supported link types: EN10MB (Ethernet; VLAN tags, PPPoE and MPLS handled
 * by the core), LINUX_SLL, LINUX_SLL2, NULL and LOOP (BSD loopback), RAW,
 * IPV4 and IPV6. Cooked and loopback headers are stripped here, so that the
 * core sees an Ethernet frame, a bare IP packet, or (cooked) what follows an
 * ethertype, with the ethertype beside it; capture_parse() hands each to the
 * parser's right entry.
 */
#ifndef INSPECT_CAPTURE_H
#define INSPECT_CAPTURE_H

#include <stdint.h>
#include <stdio.h>

#include "kapa_pkt.h"

struct capture;

/** One frame, as handed to the core. */
struct capture_frame {
	const uint8_t *frame;	/**< the record as captured, link header included */
	uint32_t frame_len;	/**< its captured length */
	const uint8_t *data;	/**< first byte at layer @p l2, or after the
				 * type field that held @p ethertype */
	uint32_t len;		/**< captured bytes at @p data */
	uint32_t wire_len;	/**< original length of the whole frame */
	enum kapa_l2_type l2;	/**< where @p data starts when @p ethertype is 0 */
	/** Non-zero: a cooked header's protocol (an ethertype, >= 0x0600),
	 *  and @p data what followed it. */
	uint16_t ethertype;
	uint64_t ts_ns;		/**< capture timestamp, ns since the epoch */
	uint64_t number;	/**< 1-based frame number (as tshark's frame.number) */
	/** The link header said the payload is not IP (a loopback family
	 *  other than IPv4/IPv6, a cooked protocol below 0x0600): @p data is
	 *  the link payload and should only be counted. Cooked ethertypes go
	 *  to the parser, which classifies ARP and the like itself. */
	int non_ip;
};

/** What capture_next() found. */
enum capture_status {
	CAPTURE_FRAME = 0,	/**< a frame is in the struct */
	CAPTURE_EOF,		/**< end of file */
	CAPTURE_ERROR,		/**< read error or truncated file; see capture_error() */
};

/**
 * Open a capture file and check its link type.
 *
 * @param path    file name
 * @param err     message buffer for a failure (what was wrong, with which value)
 * @param errlen  its size
 * @return the capture, or NULL with @p err filled: the file cannot be opened,
 *         is not a pcap/pcapng file, or has a link type kapa cannot read.
 */
struct capture *capture_open(const char *path, char *err, size_t errlen);

/**
 * Open a capture from a stream already open for reading (a file, or a
 * memory image made with fmemopen(), as the fuzz harness does).
 *
 * @param fp      the stream; on success the capture owns it (capture_close()
 *                closes it), on failure it is closed here
 * @param name    what to call the capture in messages
 * @param err     message buffer for a failure (what was wrong, with which value)
 * @param errlen  its size
 * @return the capture, or NULL with @p err filled: not a pcap/pcapng
 *         stream, a link type kapa cannot read, or out of memory.
 */
struct capture *capture_fopen(FILE *fp, const char *name, char *err, size_t errlen);

/**
 * Open a capture from a memory image of the file (the fuzz harness does):
 * read in place as capture_open() reads a mapped file, or by libpcap from
 * a stream over the image where pcap_image.h does not take it.
 *
 * @param data    the image; not copied, must outlive the capture
 * @param size    its size
 * @param name    what to call the capture in messages
 * @param err     message buffer for a failure
 * @param errlen  its size
 * @return the capture, or NULL with @p err filled, as capture_fopen().
 */
struct capture *capture_memopen(const uint8_t *data, size_t size, const char *name,
				char *err, size_t errlen);

/**
 * Read the next frame.
 * @return CAPTURE_FRAME with @p f filled (valid until the next call),
 *         CAPTURE_EOF, or CAPTURE_ERROR (truncated / unreadable file).
 */
enum capture_status capture_next(struct capture *c, struct capture_frame *f);

/**
 * Parse a frame from capture_next() (not a non_ip one) with the core's
 * packet parser: kapa_pkt_parse() at @p f->l2, or after a cooked header
 * kapa_pkt_parse_ethertype() with its protocol.
 *
 * @param f    the frame
 * @param pkt  filled in; offsets are from @p f->data
 * @return pkt->cls (enum kapa_pkt_class). Never fails otherwise.
 */
int capture_parse(const struct capture_frame *f, struct kapa_pkt *pkt);

/** @return the last error of capture_next() ("" when none). */
const char *capture_error(const struct capture *c);

/** @return the link type's name ("EN10MB", "LINUX_SLL", ...). */
const char *capture_linktype_name(const struct capture *c);

/** @return frames whose link header was too short to strip (counted, skipped). */
uint64_t capture_bad_link(const struct capture *c);

/** Close the capture. NULL ok. */
void capture_close(struct capture *c);

/** A capture file being written (kapa-inspect -w). */
struct capture_writer;

/**
 * Create a pcap file with @p c's link type and nanosecond timestamps, for
 * frames as kapa would send them.
 * @return the writer, or NULL with @p err filled.
 */
struct capture_writer *capture_writer_open(const struct capture *c, const char *path,
					   char *err, size_t errlen);

/**
 * Append one frame (the whole record, link header included).
 * @param wire_len  its length on the wire (>= @p len; more when the input
 *                  record was cut by a snap length)
 */
void capture_write(struct capture_writer *w, const uint8_t *frame, uint32_t len,
		   uint32_t wire_len, uint64_t ts_ns);

/**
 * Flush and close. NULL ok.
 * @return 0, or -EIO when a write failed (the message in @p err).
 */
int capture_writer_close(struct capture_writer *w, char *err, size_t errlen);

#endif /* INSPECT_CAPTURE_H */
