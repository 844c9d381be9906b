/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness of kapa-inspect's capture reading (dataplane/inspect/
 * capture.c): the input is a whole capture file image, pcap or pcapng.
 * It is opened from memory (capture_memopen(): classic pcap read in place
 * by pcap_image.c, as kapa-inspect reads a mapped file; anything else
 * through libpcap over fmemopen()) and read to its end exactly as
 * kapa-inspect does: link types mapped, link headers
 * stripped, every IP frame through capture_parse() (kapa_pkt_parse(), or
 * after a cooked header kapa_pkt_parse_ethertype()).
 *
 * Beside it, plain libpcap reads the same image (the reference), record for
 * record, so that what capture.c hands on can be checked against the record
 * it came from: the frame is the record's tail, exactly the link header
 * shorter, a cooked frame's ethertype the cooked protocol, same wire length and
 * timestamp, frame numbers counting every record, short records counted as
 * bad links, the end (EOF or error) the same, and an error reported with a
 * message. Each frame is handed to the parser in an exact-size heap copy, so
 * that ASan sees any read past its captured length; a cooked frame's result
 * must be the Ethernet parse of the same bytes behind a made-up Ethernet
 * header with that ethertype. A violation aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "capture.h"
#include "kapa_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_capture: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/* The smallest record either format has: a pcap record header is 16 bytes,
 * a pcapng block at least 12. Frames beyond size / 12 would mean records
 * invented from nothing (or a loop). */
#define MIN_RECORD 12

/* Large images slow the fuzzer without reaching new code. */
#define MAX_IMAGE (256 * 1024)

static uint16_t
rd16be(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static FILE *
image_stream(const uint8_t *data, size_t size, void **copy)
{
	/* fmemopen() wants a writable buffer; the stream reads only. */
	*copy = malloc(size);
	if (*copy == NULL)
		return NULL;
	memcpy(*copy, data, size);
	return fmemopen(*copy, size, "rb");
}

/* The link header capture.c must strip for a link type. */
static uint32_t
link_hdr_len(int dlt)
{
	switch (dlt) {
	case DLT_LINUX_SLL:
		return 16;
	case DLT_LINUX_SLL2:
		return 20;
	case DLT_NULL:
	case DLT_LOOP:
		return 4;
	default:
		return 0;
	}
}

/*
 * Whether libpcap changed a record's bytes after the link header: a Linux
 * cooked frame carrying CAN (protocol 0x000c, 0x000d, 0x000e) in a capture
 * of the other byte order has its CAN ID swapped by libpcap 1.10
 * (swap_pseudo_headers()). capture.c gives the bytes as they are in the file;
 * kapa-inspect reads such a frame as not IP and leaves it.
 */
static int
libpcap_swapped_can(int dlt, const uint8_t *rec, uint32_t caplen)
{
	uint16_t proto;

	if (dlt == DLT_LINUX_SLL && caplen >= 16)
		proto = (uint16_t)(rec[14] << 8 | rec[15]);
	else if (dlt == DLT_LINUX_SLL2 && caplen >= 20)
		proto = (uint16_t)(rec[0] << 8 | rec[1]);
	else
		return 0;
	return proto == 0x000c || proto == 0x000d || proto == 0x000e;
}

/* An offset of the Ethernet parse, as the ethertype parse must give it
 * (0 where the Ethernet parse did not reach). */
static uint32_t
shifted(uint32_t off)
{
	return off != 0 ? off - 14 : 0;
}

/*
 * A cooked frame (data after the protocol) must parse as the Ethernet frame
 * of the same bytes behind a header with that ethertype: same class, reason
 * and link layer, offsets 14 less.
 */
static void
check_cooked(const struct capture_frame *f, const struct kapa_pkt *t)
{
	struct kapa_pkt e;
	uint8_t *eth;

	eth = malloc(14 + (size_t)f->len);
	CHECK(eth != NULL);
	memset(eth, 0, 12);
	eth[12] = (uint8_t)(f->ethertype >> 8);
	eth[13] = (uint8_t)f->ethertype;
	memcpy(eth + 14, f->data, f->len);
	CHECK(kapa_pkt_parse(eth, 14 + f->len, KAPA_L2_ETHER, &e) == t->cls);
	CHECK(e.bad == t->bad && e.family == t->family && e.nvlan == t->nvlan);
	CHECK(e.encap == t->encap && e.ip_proto == t->ip_proto);
	CHECK(memcmp(e.vlan_tpid, t->vlan_tpid, sizeof(e.vlan_tpid)) == 0);
	CHECK(memcmp(e.vlan_tci, t->vlan_tci, sizeof(e.vlan_tci)) == 0);
	CHECK(shifted(e.l3_off) == t->l3_off && shifted(e.l4_off) == t->l4_off);
	CHECK(shifted(e.payload_off) == t->payload_off);
	CHECK(shifted(e.pppoe_len_off) == t->pppoe_len_off);
	CHECK(e.payload_len == t->payload_len);
	CHECK(e.sport == t->sport && e.dport == t->dport && e.seq == t->seq);
	free(eth);
}

static void
check_parse(const struct capture_frame *f)
{
	struct capture_frame copy = *f;
	struct kapa_pkt pkt;
	uint8_t *buf;
	int cls;

	CHECK(f->l2 <= KAPA_L3_RAW);
	/* An exact-size copy (malloc(0) may return NULL; use 1 then). */
	buf = malloc(f->len != 0 ? f->len : 1);
	CHECK(buf != NULL);
	memcpy(buf, f->data, f->len);
	copy.data = buf;
	cls = capture_parse(&copy, &pkt);
	CHECK(cls >= 0 && cls < KAPA_PKT_CLASS_MAX);
	CHECK(pkt.cls == cls && pkt.data == buf && pkt.len == f->len);
	CHECK((cls == KAPA_PKT_MALFORMED) == (pkt.bad != KAPA_BAD_NONE));
	CHECK(pkt.l3_off <= f->len && pkt.l4_off <= f->len);
	CHECK((uint64_t)pkt.payload_off + pkt.payload_len <= f->len);
	if (cls == KAPA_PKT_NON_IP)
		CHECK(f->l2 == KAPA_L2_ETHER || f->ethertype != 0);
	if (f->ethertype != 0)
		check_cooked(&copy, &pkt);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[PCAP_ERRBUF_SIZE + 256], ref_err[PCAP_ERRBUF_SIZE];
	struct capture_frame f;
	enum capture_status st;
	struct pcap_pkthdr *h;
	const u_char *rec;
	void *copy, *ref_copy;
	uint64_t frames = 0, records = 0, bad = 0;
	uint32_t hdr;
	uint16_t proto;
	struct capture *c;
	FILE *ref_fp;
	pcap_t *ref;
	int rc, dlt;

	if (size > MAX_IMAGE)
		return 0;
	/* An exact-size copy: ASan sees a read past the image's end. */
	copy = malloc(size != 0 ? size : 1);
	CHECK(copy != NULL);
	memcpy(copy, data, size);
	ref_fp = image_stream(data, size, &ref_copy);
	CHECK(ref_fp != NULL);

	err[0] = '\0';
	c = capture_memopen(copy, size, "fuzz", err, sizeof(err));
	ref = pcap_fopen_offline_with_tstamp_precision(ref_fp, PCAP_TSTAMP_PRECISION_NANO,
						       ref_err);
	if (ref == NULL)
		fclose(ref_fp);
	if (c == NULL) {
		/* Refused: libpcap refused too, or the link type is not one
		 * kapa-inspect reads. Either way the message says so. */
		CHECK(err[0] != '\0');
		if (ref != NULL)
			CHECK(strstr(err, "unsupported link type") != NULL);
		goto out;
	}
	CHECK(ref != NULL);
	dlt = pcap_datalink(ref);
	hdr = link_hdr_len(dlt);
	CHECK(strcmp(capture_linktype_name(c), "") != 0);

	while ((st = capture_next(c, &f)) == CAPTURE_FRAME) {
		frames++;
		CHECK(frames <= size / MIN_RECORD);
		/* Records too short for the link header are skipped and
		 * counted; the reference must show exactly as many. */
		for (;;) {
			rc = pcap_next_ex(ref, &h, &rec);
			CHECK(rc == 1);
			records++;
			if (h->caplen >= hdr)
				break;
			bad++;
		}
		CHECK(capture_bad_link(c) == bad);
		CHECK(f.number == records);
		CHECK(f.len <= h->caplen);
		CHECK(h->caplen - f.len == hdr);
		if (libpcap_swapped_can(dlt, rec, h->caplen))
			CHECK(f.non_ip);
		else
			CHECK(memcmp(f.data, rec + (h->caplen - f.len), f.len) == 0);
		CHECK(f.wire_len == h->len);
		CHECK(f.ts_ns == (uint64_t)h->ts.tv_sec * 1000000000ull +
				 (uint64_t)h->ts.tv_usec);
		switch (dlt) {
		case DLT_EN10MB:
			CHECK(f.l2 == KAPA_L2_ETHER && !f.non_ip);
			break;
		case DLT_IPV4:
			CHECK(f.l2 == KAPA_L3_IPV4 && !f.non_ip);
			break;
		case DLT_IPV6:
			CHECK(f.l2 == KAPA_L3_IPV6 && !f.non_ip);
			break;
		case DLT_NULL:
		case DLT_LOOP:
			CHECK(f.non_ip || f.l2 == KAPA_L3_IPV4 || f.l2 == KAPA_L3_IPV6);
			break;
		case DLT_LINUX_SLL:
		case DLT_LINUX_SLL2:
			/* The cooked protocol as the record holds it; below
			 * 0x0600 it is no ethertype. */
			proto = rd16be(rec + (dlt == DLT_LINUX_SLL ? 14 : 0));
			if (proto < 0x0600)
				CHECK(f.non_ip && f.ethertype == 0);
			else
				CHECK(!f.non_ip && f.ethertype == proto);
			break;
		default:
			CHECK(f.l2 == KAPA_L3_RAW && !f.non_ip);
			break;
		}
		if (dlt != DLT_LINUX_SLL && dlt != DLT_LINUX_SLL2)
			CHECK(f.ethertype == 0);
		/* As kapa-inspect: frames that are not IP are only counted. */
		if (!f.non_ip)
			check_parse(&f);
	}
	/* The end must be the reference's end, after the same short records. */
	for (;;) {
		rc = pcap_next_ex(ref, &h, &rec);
		if (rc != 1 || h->caplen >= hdr)
			break;
		records++;
		bad++;
	}
	CHECK(capture_bad_link(c) == bad);
	CHECK(rc != 1);
	if (st == CAPTURE_EOF) {
		CHECK(rc == PCAP_ERROR_BREAK);
	} else {
		CHECK(st == CAPTURE_ERROR);
		CHECK(rc != PCAP_ERROR_BREAK);
		CHECK(capture_error(c)[0] != '\0');
	}
	capture_close(c);
out:
	if (ref != NULL)
		pcap_close(ref);
	free(copy);
	free(ref_copy);
	return 0;
}
