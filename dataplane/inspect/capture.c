/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capture files through libpcap. This file includes pcap.h and none of
 * DPDK's headers (pcap's bpf.h and rte_bpf.h define the same names); the
 * core is reached only through kapa_pkt.h, which includes neither.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "capture.h"

#define SLL_HDR_LEN 16
#define SLL2_HDR_LEN 20
#define NULL_HDR_LEN 4
/* A cooked header's protocol below this is not an ethertype but a code of
 * Linux's own (802.2 LLC, Novell 802.3, CAN, ...; IEEE 802.3 lengths end at
 * 1500, ethertypes start here). */
#define ETH_P_MIN 0x0600

/* DLT_RAW is 12 on most systems and 14 on OpenBSD; libpcap maps
 * LINKTYPE_RAW (101) onto the local value. Accept both spellings. */
#define DLT_RAW_ALT 14
#define DLT_RAW_LINKTYPE 101

/* How the link header of a capture is taken off. */
enum link_kind {
	LINK_ETHER,
	LINK_SLL,
	LINK_SLL2,
	LINK_NULL,	/* 4-byte address family in the capturer's byte order */
	LINK_LOOP,	/* the same in network byte order */
	LINK_RAW,
	LINK_IPV4,
	LINK_IPV6,
};

struct capture {
	pcap_t *pcap;
	enum link_kind kind;
	int dlt;
	uint64_t frames;
	uint64_t bad_link;
	char err[PCAP_ERRBUF_SIZE + 64];
};

static uint16_t
rd16be(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int
link_kind_of(int dlt, enum link_kind *kind)
{
	switch (dlt) {
	case DLT_EN10MB:
		*kind = LINK_ETHER;
		return 0;
	case DLT_LINUX_SLL:
		*kind = LINK_SLL;
		return 0;
	case DLT_LINUX_SLL2:
		*kind = LINK_SLL2;
		return 0;
	case DLT_NULL:
		*kind = LINK_NULL;
		return 0;
	case DLT_LOOP:
		*kind = LINK_LOOP;
		return 0;
	case DLT_RAW:
	case DLT_RAW_ALT:
	case DLT_RAW_LINKTYPE:
		*kind = LINK_RAW;
		return 0;
	case DLT_IPV4:
		*kind = LINK_IPV4;
		return 0;
	case DLT_IPV6:
		*kind = LINK_IPV6;
		return 0;
	default:
		return -ENOTSUP;
	}
}

struct capture *
capture_open(const char *path, char *err, size_t errlen)
{
	FILE *fp;

	/* Open the file ourselves so that "cannot open" and "not a capture"
	 * are told apart in the message. */
	fp = fopen(path, "rb");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	return capture_fopen(fp, path, err, errlen);
}

struct capture *
capture_fopen(FILE *fp, const char *name, char *err, size_t errlen)
{
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	struct capture *c;
	const char *dlt_name;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		fclose(fp);
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	/* Nanosecond timestamps whatever the file's precision: the core's
	 * clock is in ns. On success pcap owns fp and closes it. */
	c->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO,
							    pcap_err);
	if (c->pcap == NULL) {
		fclose(fp);
		free(c);
		snprintf(err, errlen,
			 "%s: not a readable pcap or pcapng capture (libpcap: %s)",
			 name, pcap_err);
		return NULL;
	}
	c->dlt = pcap_datalink(c->pcap);
	if (link_kind_of(c->dlt, &c->kind) != 0) {
		dlt_name = pcap_datalink_val_to_name(c->dlt);
		snprintf(err, errlen,
			 "%s: unsupported link type %d (%s); kapa-inspect reads EN10MB, "
			 "LINUX_SLL, LINUX_SLL2, NULL, LOOP, RAW, IPV4 and IPV6 captures",
			 name, c->dlt, dlt_name != NULL ? dlt_name : "unknown");
		capture_close(c);
		return NULL;
	}
	return c;
}

/*
 * A cooked header's protocol is what Ethernet's ethertype would be, and the
 * payload what would follow it (VLAN tags included: libpcap puts back the
 * tags the kernel took off). The core parses it from there as after an
 * Ethernet header (kapa_pkt_parse_ethertype()), so that tags, PPPoE and MPLS
 * read the same under both link types.
 */
static void
cooked_payload(struct capture_frame *f, uint16_t proto)
{
	if (proto < ETH_P_MIN)
		f->non_ip = 1;
	else
		f->ethertype = proto;
}

/* BSD address families: AF_INET is 2 everywhere; AF_INET6 is 10 (Linux),
 * 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS). */
static void
loop_payload(struct capture_frame *f, uint32_t af)
{
	if (af == 2)
		f->l2 = KAPA_L3_IPV4;
	else if (af == 10 || af == 24 || af == 28 || af == 30)
		f->l2 = KAPA_L3_IPV6;
	else
		f->non_ip = 1;
}

/* Strip the link header. @return 0, or -1 when it is cut short. */
static int
strip_link(struct capture *c, struct capture_frame *f)
{
	const uint8_t *p = f->data;
	uint32_t af;

	switch (c->kind) {
	case LINK_ETHER:
		f->l2 = KAPA_L2_ETHER;
		return 0;
	case LINK_RAW:
		f->l2 = KAPA_L3_RAW;
		return 0;
	case LINK_IPV4:
		f->l2 = KAPA_L3_IPV4;
		return 0;
	case LINK_IPV6:
		f->l2 = KAPA_L3_IPV6;
		return 0;
	case LINK_SLL:
		if (f->len < SLL_HDR_LEN)
			return -1;
		f->data += SLL_HDR_LEN;
		f->len -= SLL_HDR_LEN;
		cooked_payload(f, rd16be(p + 14));
		return 0;
	case LINK_SLL2:
		if (f->len < SLL2_HDR_LEN)
			return -1;
		f->data += SLL2_HDR_LEN;
		f->len -= SLL2_HDR_LEN;
		cooked_payload(f, rd16be(p));
		return 0;
	case LINK_NULL:
	case LINK_LOOP:
		if (f->len < NULL_HDR_LEN)
			return -1;
		if (c->kind == LINK_LOOP)
			af = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		else
			/* Written in the capturing host's byte order, which the
			 * file does not record: a family is small, so whichever
			 * reading is small is the right one. */
			af = (p[0] != 0 || p[1] != 0) ?
				(uint32_t)p[0] | (uint32_t)p[1] << 8 :
				(uint32_t)p[2] << 8 | p[3];
		f->data += NULL_HDR_LEN;
		f->len -= NULL_HDR_LEN;
		loop_payload(f, af);
		return 0;
	}
	return -1;
}

enum capture_status
capture_next(struct capture *c, struct capture_frame *f)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	for (;;) {
		rc = pcap_next_ex(c->pcap, &h, &data);
		if (rc == PCAP_ERROR_BREAK)
			return CAPTURE_EOF;
		if (rc != 1) {
			snprintf(c->err, sizeof(c->err), "after frame %llu: %s",
				 (unsigned long long)c->frames, pcap_geterr(c->pcap));
			return CAPTURE_ERROR;
		}
		c->frames++;
		memset(f, 0, sizeof(*f));
		f->frame = data;
		f->frame_len = h->caplen;
		f->data = data;
		f->len = h->caplen;
		f->wire_len = h->len;
		f->number = c->frames;
		f->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
		if (strip_link(c, f) == 0)
			return CAPTURE_FRAME;
		/* A frame too short for its link header carries nothing the
		 * core could use; count it and keep frame numbers exact. */
		c->bad_link++;
	}
}

int
capture_parse(const struct capture_frame *f, struct kapa_pkt *pkt)
{
	if (f->ethertype != 0)
		return kapa_pkt_parse_ethertype(f->data, f->len, f->ethertype, pkt);
	return kapa_pkt_parse(f->data, f->len, f->l2, pkt);
}

const char *
capture_error(const struct capture *c)
{
	return c->err;
}

const char *
capture_linktype_name(const struct capture *c)
{
	const char *name = pcap_datalink_val_to_name(c->dlt);

	return name != NULL ? name : "unknown";
}

uint64_t
capture_bad_link(const struct capture *c)
{
	return c->bad_link;
}

void
capture_close(struct capture *c)
{
	if (c == NULL)
		return;
	if (c->pcap != NULL)
		pcap_close(c->pcap);
	free(c);
}

/* ---- writing --------------------------------------------------------------- */

struct capture_writer {
	pcap_t *dead;
	pcap_dumper_t *dump;
	const char *path;
};

/* Frames kapa writes may be longer than the input's snap length (bytes
 * inserted): a snap length no frame reaches. */
#define WRITE_SNAPLEN 262144

struct capture_writer *
capture_writer_open(const struct capture *c, const char *path, char *err, size_t errlen)
{
	struct capture_writer *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	w->path = path;
	w->dead = pcap_open_dead_with_tstamp_precision(c->dlt, WRITE_SNAPLEN,
							PCAP_TSTAMP_PRECISION_NANO);
	if (w->dead == NULL) {
		snprintf(err, errlen, "%s: cannot set up a capture of link type %d", path, c->dlt);
		free(w);
		return NULL;
	}
	w->dump = pcap_dump_open(w->dead, path);
	if (w->dump == NULL) {
		snprintf(err, errlen, "%s: cannot create: %s", path, pcap_geterr(w->dead));
		pcap_close(w->dead);
		free(w);
		return NULL;
	}
	return w;
}

void
capture_write(struct capture_writer *w, const uint8_t *frame, uint32_t len, uint32_t wire_len,
	      uint64_t ts_ns)
{
	struct pcap_pkthdr h;

	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(ts_ns / 1000000000u);
	h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000u);	/* nanoseconds: see open */
	h.caplen = len;
	h.len = wire_len > len ? wire_len : len;
	pcap_dump((u_char *)w->dump, &h, frame);
}

int
capture_writer_close(struct capture_writer *w, char *err, size_t errlen)
{
	int rc = 0;

	if (w == NULL)
		return 0;
	if (pcap_dump_flush(w->dump) != 0 || ferror(pcap_dump_file(w->dump))) {
		snprintf(err, errlen, "%s: writing failed", w->path);
		rc = -EIO;
	}
	pcap_dump_close(w->dump);
	pcap_close(w->dead);
	free(w);
	return rc;
}
