/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capture files. A regular file is mapped, and a classic pcap one (the
 * bulk of what kapa-inspect reads) is read in place by pcap_image.c: the
 * kernel copies nothing, and no record is copied (reading an 850 MB capture
 * with read() costs about 100 ms of copying, touching its mapped pages
 * about 13 ms here: docs/performance.md). pcapng, the older pcap variants,
 * link types kapa-inspect does not read, and streams that are not regular
 * files go to libpcap, which also writes -w's output.
 *
 * This file includes pcap.h and none of DPDK's headers (pcap's bpf.h and
 * rte_bpf.h define the same names); the core is reached only through
 * kapa_pkt.h, which includes neither.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "capture.h"
#include "pcap_image.h"

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
	pcap_t *pcap;		/* libpcap reads it, or NULL: @image does */
	struct pcap_image image;
	void *map;		/* the file's mapping, when capture_open() made one */
	size_t map_len;
	size_t map_released;	/* its first bytes, given back (release_behind()) */
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

/* The image reader's capture, once pcap_image_open() has taken @p im. */
static struct capture *
image_capture(const struct pcap_image *im, const char *name, char *err, size_t errlen)
{
	struct capture *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	c->image = *im;
	c->dlt = im->dlt;
	/* pcap_image_open() takes only link types link_kind_of() knows */
	if (link_kind_of(c->dlt, &c->kind) != 0) {
		snprintf(err, errlen, "%s: unsupported link type %d", name, c->dlt);
		free(c);
		return NULL;
	}
	return c;
}

struct capture *
capture_open(const char *path, char *err, size_t errlen)
{
	struct pcap_image im;
	struct capture *c;
	struct stat st;
	void *map;
	FILE *fp;
	int fd;

	/* Open the file ourselves so that "cannot open" and "not a capture"
	 * are told apart in the message. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	/* A regular file is mapped whole (a file that is being appended to
	 * is read up to its size now). Its pages are the page cache's: a
	 * read-only private mapping copies nothing. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map != MAP_FAILED) {
			if (pcap_image_open(&im, map, (size_t)st.st_size) == 0) {
				/* Read front to back, once: read-ahead and no
				 * keeping of what is behind. */
				(void)madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
				close(fd);
				c = image_capture(&im, path, err, errlen);
				if (c == NULL) {
					munmap(map, (size_t)st.st_size);
					return NULL;
				}
				c->map = map;
				c->map_len = (size_t)st.st_size;
				return c;
			}
			munmap(map, (size_t)st.st_size);
		}
	}
	fp = fdopen(fd, "rb");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	return capture_fopen(fp, path, err, errlen);
}

struct capture *
capture_memopen(const uint8_t *data, size_t size, const char *name, char *err, size_t errlen)
{
	struct pcap_image im;
	FILE *fp;

	if (pcap_image_open(&im, data, size) == 0)
		return image_capture(&im, name, err, errlen);
	/* libpcap reads the image through a stream; "r" never writes it. */
	fp = size > 0 ? fmemopen((void *)(uintptr_t)data, size, "rb") : NULL;
	if (fp == NULL) {
		snprintf(err, errlen, "%s: not a readable pcap or pcapng capture (%s)", name,
			 size == 0 ? "empty" : strerror(errno));
		return NULL;
	}
	return capture_fopen(fp, name, err, errlen);
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

/* The next record from libpcap or the image. @return 1, 0 at the end, -1 error. */
static int
next_record(struct capture *c, struct capture_frame *f)
{
	struct pcap_image_rec rec;
	struct pcap_pkthdr *h;
	const u_char *data;
	char img_err[128];
	int rc;

	if (c->pcap == NULL) {
		rc = pcap_image_next(&c->image, &rec, img_err, sizeof(img_err));
		if (rc < 0)
			snprintf(c->err, sizeof(c->err), "after frame %llu: %s",
				 (unsigned long long)c->frames, img_err);
		if (rc != 1)
			return rc;
		memset(f, 0, sizeof(*f));
		f->frame = rec.data;
		f->frame_len = rec.caplen;
		f->wire_len = rec.len;
		f->ts_ns = rec.ts_ns;
		return 1;
	}
	rc = pcap_next_ex(c->pcap, &h, &data);
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		snprintf(c->err, sizeof(c->err), "after frame %llu: %s",
			 (unsigned long long)c->frames, pcap_geterr(c->pcap));
		return -1;
	}
	memset(f, 0, sizeof(*f));
	f->frame = data;
	f->frame_len = h->caplen;
	f->wire_len = h->len;
	/* nanoseconds in tv_usec: the capture was opened with that precision */
	f->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
	return 1;
}

/*
 * A mapped page stays in the process's resident set until it is unmapped:
 * without this, a run's RSS would grow by the size of the capture (page
 * cache, not memory of its own, but RSS is what the table sizing is judged
 * by). Frames are not referenced once the next one is read (libpcap reuses
 * its buffer, and the core copies what it keeps), so the pages more than
 * MAP_KEEP behind the record in hand are dropped from the mapping every
 * MAP_KEEP bytes; the page cache keeps them.
 */
#define MAP_KEEP (8u << 20)

static void
release_behind(struct capture *c)
{
	size_t upto;

	if (c->map == NULL || c->image.off < c->map_released + 2 * (size_t)MAP_KEEP)
		return;
	upto = c->image.off - MAP_KEEP;
	upto &= ~((size_t)MAP_KEEP - 1);	/* MAP_KEEP is a multiple of the page size */
	(void)madvise((uint8_t *)c->map + c->map_released, upto - c->map_released,
		      MADV_DONTNEED);
	c->map_released = upto;
}

enum capture_status
capture_next(struct capture *c, struct capture_frame *f)
{
	int rc;

	release_behind(c);
	for (;;) {
		rc = next_record(c, f);
		if (rc == 0)
			return CAPTURE_EOF;
		if (rc < 0)
			return CAPTURE_ERROR;
		c->frames++;
		f->data = f->frame;
		f->len = f->frame_len;
		f->number = c->frames;
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
	if (c->map != NULL)
		munmap(c->map, c->map_len);
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
