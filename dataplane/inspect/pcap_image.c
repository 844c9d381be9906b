/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Classic pcap read in place. The file format is pcap-savefile(5); where it
 * leaves room (time stamp fields, lengths past the snapshot length), this
 * does what libpcap 1.10's savefile reader does, so that a capture reads the
 * same whichever of the two reads it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pcap_image.h"

#define FILE_HDR_LEN 24
#define REC_HDR_LEN 16
#define MAGIC_USEC 0xa1b2c3d4u
#define MAGIC_NSEC 0xa1b23c4du
#define MAGIC_USEC_SWAPPED 0xd4c3b2a1u
#define MAGIC_NSEC_SWAPPED 0x4d3cb2a1u
/* libpcap's MAXIMUM_SNAPLEN: the largest record it takes for these link
 * types, and the snapshot length of a file that gives none or a larger one. */
#define SNAPLEN_MAX 262144u
/* The header's link type field: the type in the low 26 bits, FCS
 * information above (ignored here as libpcap ignores it). */
#define LINKTYPE_MASK 0x03ffffffu
#define LINKTYPE_RAW 101
/* DLT_RAW where libpcap maps LINKTYPE_RAW to it (Linux, the BSDs but OpenBSD) */
#define DLT_RAW_VALUE 12

static uint32_t
rd32(const struct pcap_image *im, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return im->swapped ? __builtin_bswap32(v) : v;
}

static uint16_t
rd16(const struct pcap_image *im, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return im->swapped ? __builtin_bswap16(v) : v;
}

/*
 * The link types of capture.h, as libpcap turns the file's LINKTYPE_ into
 * its DLT_: LINKTYPE_RAW (101) becomes DLT_RAW; the others keep their
 * values (NULL 0, EN10MB 1, the raw-IP DLTs 12 and 14 that old files
 * carry, LOOP 108, LINUX_SLL 113, IPV4 228, IPV6 229, LINUX_SLL2 276).
 * @return the DLT, or -1 for a link type left to libpcap.
 */
static int
dlt_of(uint32_t linktype)
{
	switch (linktype) {
	case LINKTYPE_RAW:
		return DLT_RAW_VALUE;
	case 0: case 1: case 12: case 14: case 108: case 113: case 228: case 229: case 276:
		return (int)linktype;
	default:
		return -1;
	}
}

int
pcap_image_open(struct pcap_image *im, const uint8_t *data, size_t size)
{
	uint32_t magic, snaplen;

	memset(im, 0, sizeof(*im));
	if (size < FILE_HDR_LEN)
		return -1;
	memcpy(&magic, data, sizeof(magic));
	if (magic == MAGIC_USEC_SWAPPED || magic == MAGIC_NSEC_SWAPPED) {
		im->swapped = 1;
		magic = __builtin_bswap32(magic);
	}
	if (magic != MAGIC_USEC && magic != MAGIC_NSEC)
		return -1;
	im->nsec = magic == MAGIC_NSEC;
	/* 2.4 only: older minor versions may have caplen and len swapped */
	if (rd16(im, data + 4) != 2 || rd16(im, data + 6) != 4)
		return -1;
	im->dlt = dlt_of(rd32(im, data + 20) & LINKTYPE_MASK);
	if (im->dlt < 0)
		return -1;
	/* As libpcap: none, negative as an int, or too large means the maximum. */
	snaplen = rd32(im, data + 16);
	im->snaplen = snaplen == 0 || snaplen > SNAPLEN_MAX ? SNAPLEN_MAX : snaplen;
	im->data = data;
	im->size = size;
	im->off = FILE_HDR_LEN;
	return 0;
}

int
pcap_image_next(struct pcap_image *im, struct pcap_image_rec *rec, char *err, size_t errlen)
{
	const uint8_t *h = im->data + im->off;
	size_t left = im->size - im->off;
	int64_t sec, frac;
	uint32_t caplen;

	if (left == 0)
		return 0;
	if (left < REC_HDR_LEN) {
		snprintf(err, errlen, "truncated dump file; tried to read %u header bytes, "
			 "only got %zu", REC_HDR_LEN, left);
		return -1;
	}
	caplen = rd32(im, h + 8);
	if (caplen > SNAPLEN_MAX) {
		snprintf(err, errlen, "invalid packet capture length %" PRIu32 ", bigger than "
			 "maximum of %u", caplen, SNAPLEN_MAX);
		return -1;
	}
	left -= REC_HDR_LEN;
	if (caplen > left) {
		snprintf(err, errlen, "truncated dump file; tried to read %" PRIu32
			 " captured bytes, only got %zu", caplen, left);
		return -1;
	}
	/* libpcap 1.10 widens the 32-bit time stamp fields to time_t and
	 * suseconds_t as signed numbers when the file is in the host's byte
	 * order, and as unsigned ones when it swapped them (its byte swap
	 * yields an unsigned int); microseconds are scaled up after. */
	if (im->swapped) {
		sec = (int64_t)rd32(im, h);
		frac = (int64_t)rd32(im, h + 4);
	} else {
		sec = (int32_t)rd32(im, h);
		frac = (int32_t)rd32(im, h + 4);
	}
	if (!im->nsec)
		frac *= 1000;
	rec->ts_ns = (uint64_t)sec * 1000000000ull + (uint64_t)frac;
	rec->data = h + REC_HDR_LEN;
	/* A record longer than the file's snapshot length is cut to it (the
	 * rest skipped), as libpcap does for files with a wrong snaplen. */
	rec->caplen = caplen > im->snaplen ? im->snaplen : caplen;
	rec->len = rd32(im, h + 12);
	im->off += REC_HDR_LEN + (size_t)caplen;
	/* The next record's header and the packet headers after it, on their
	 * way to the cache while the core works on this one. (Past the end
	 * of the image is harmless: a prefetch never faults.) */
	__builtin_prefetch(im->data + im->off);
	__builtin_prefetch(im->data + im->off + 64);
	return 1;
}
