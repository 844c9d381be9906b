/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Classic pcap records read in place from a memory image of the file (the
 * file mapped by capture.c): no copy of a record, no read() of the file.
 *
 * It reads the files kapa-inspect meets in bulk, and only those: pcap
 * version 2.4, microsecond or nanosecond magic in either byte order, a link
 * type kapa-inspect reads (capture.h). Anything else (pcapng, versions
 * 2.0-2.3 and DG/UX's 543.0 with their swapped length fields, Kuznetzov's
 * patched records, other link types) is refused by pcap_image_open() and
 * read by libpcap, as before. What it hands on is what libpcap's savefile
 * reader hands on for the same bytes (record for record, lengths, time
 * stamps as libpcap 1.10 widens them, the snapshot length cut, the errors
 * at the same records); tests/fuzz/fuzz_capture.c checks that.
 */
#ifndef INSPECT_PCAP_IMAGE_H
#define INSPECT_PCAP_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/** A classic pcap file's image being read. */
struct pcap_image {
	const uint8_t *data;	/**< the whole file */
	size_t size;
	size_t off;		/**< next record header */
	int swapped;		/**< written in the other byte order */
	int nsec;		/**< nanosecond time stamps (else microseconds) */
	uint32_t snaplen;	/**< as libpcap adjusts it: 1..262144 */
	int dlt;		/**< the link type as libpcap maps it (DLT_*) */
};

/** One record, pointing into the image. */
struct pcap_image_rec {
	const uint8_t *data;	/**< its captured bytes */
	uint32_t caplen;	/**< captured length, cut to the snapshot length */
	uint32_t len;		/**< original length */
	uint64_t ts_ns;		/**< time stamp in ns, computed as capture.c does
				 * from libpcap's struct timeval */
};

/**
 * Take a file image if this reader handles it.
 *
 * @param im    filled in
 * @param data  the file's bytes (kept, not copied; must outlive @p im)
 * @param size  their number
 * @return 0, or -1 when the image is not a file this reader takes (then
 *         libpcap should read it, and report what is wrong with it).
 */
int pcap_image_open(struct pcap_image *im, const uint8_t *data, size_t size);

/**
 * The next record.
 *
 * @param rec     filled in on 1
 * @param err     filled in on -1: what is wrong, at which offset
 * @param errlen  its size
 * @return 1 a record, 0 end of file (the image ends at a record boundary),
 *         -1 truncated or invalid record.
 */
int pcap_image_next(struct pcap_image *im, struct pcap_image_rec *rec, char *err, size_t errlen);

#endif /* INSPECT_PCAP_IMAGE_H */
