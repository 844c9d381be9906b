/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kapa-inspect's capture reading (dataplane/inspect/capture.c, pcap_image.c):
 * which images the in-place reader takes and which it leaves to libpcap, and
 * for the ones it takes, the rules it shares with libpcap's savefile reader
 * (the snapshot length cut, the errors, time stamp widening), each checked
 * against libpcap reading the same bytes. tests/fuzz/fuzz_capture.c does the
 * same over arbitrary images.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "capture.h"
#include "pcap_image.h"
#include "unit.h"

#define IMG_MAX 4096

struct img {
	uint8_t b[IMG_MAX];
	size_t len;
	int big;	/* written big-endian */
};

static void
put32(struct img *m, uint32_t v)
{
	uint8_t *p = m->b + m->len;

	if (m->big) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	} else {
		memcpy(p, &v, 4);
	}
	m->len += 4;
}

static void
put16(struct img *m, uint16_t v)
{
	uint8_t *p = m->b + m->len;

	if (m->big) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	} else {
		memcpy(p, &v, 2);
	}
	m->len += 2;
}

static void
file_hdr(struct img *m, int big, uint32_t magic, uint16_t major, uint16_t minor,
	 uint32_t snaplen, uint32_t linktype)
{
	memset(m, 0, sizeof(*m));
	m->big = big;
	put32(m, magic);
	put16(m, major);
	put16(m, minor);
	put32(m, 0);
	put32(m, 0);
	put32(m, snaplen);
	put32(m, linktype);
}

/* A record of @p caplen bytes (a byte pattern), claiming @p len on the wire. */
static void
record(struct img *m, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len)
{
	uint32_t i;

	put32(m, sec);
	put32(m, frac);
	put32(m, caplen);
	put32(m, len);
	for (i = 0; i < caplen && m->len < IMG_MAX; i++)
		m->b[m->len++] = (uint8_t)(i * 7 + 1);
}

static int
image_takes(const struct img *m)
{
	struct pcap_image im;

	return pcap_image_open(&im, m->b, m->len) == 0;
}

/*
 * Read @p m with capture_memopen() and with libpcap, record for record: the
 * same frames (bytes, lengths, time stamps), the same end (EOF or an error).
 * @return frames read.
 */
static int
same_as_libpcap(const struct img *m)
{
	char err[512], perr[PCAP_ERRBUF_SIZE];
	struct capture_frame f;
	enum capture_status st;
	struct pcap_pkthdr *h;
	const u_char *rec;
	struct capture *c;
	uint8_t *copy;
	pcap_t *ref;
	FILE *fp;
	int n = 0, rc;

	copy = malloc(m->len);
	CU_ASSERT_FATAL(copy != NULL);
	memcpy(copy, m->b, m->len);
	fp = fmemopen(copy, m->len, "rb");
	CU_ASSERT_FATAL(fp != NULL);
	ref = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, perr);
	CU_ASSERT_FATAL(ref != NULL);
	c = capture_memopen(m->b, m->len, "test", err, sizeof(err));
	CU_ASSERT_FATAL(c != NULL);
	while ((st = capture_next(c, &f)) == CAPTURE_FRAME) {
		rc = pcap_next_ex(ref, &h, &rec);
		CU_ASSERT_EQUAL_FATAL(rc, 1);
		CU_ASSERT_EQUAL(f.frame_len, h->caplen);
		CU_ASSERT_EQUAL(f.wire_len, h->len);
		CU_ASSERT(memcmp(f.frame, rec, h->caplen) == 0);
		CU_ASSERT_EQUAL(f.ts_ns, (uint64_t)h->ts.tv_sec * 1000000000ull +
					 (uint64_t)h->ts.tv_usec);
		n++;
	}
	rc = pcap_next_ex(ref, &h, &rec);
	if (st == CAPTURE_EOF) {
		CU_ASSERT_EQUAL(rc, PCAP_ERROR_BREAK);
	} else {
		CU_ASSERT_EQUAL(st, CAPTURE_ERROR);
		CU_ASSERT_EQUAL(rc, PCAP_ERROR);
		CU_ASSERT(capture_error(c)[0] != '\0');
	}
	capture_close(c);
	pcap_close(ref);
	free(copy);
	return n;
}

static void
test_takes(void)
{
	struct img m;

	/* pcap 2.4, both magics, both byte orders, the link types read */
	file_hdr(&m, 0, 0xa1b2c3d4, 2, 4, 65535, 1);
	CU_ASSERT(image_takes(&m));
	file_hdr(&m, 1, 0xa1b23c4d, 2, 4, 65535, 113);
	CU_ASSERT(image_takes(&m));
	file_hdr(&m, 0, 0xa1b2c3d4, 2, 4, 65535, 101);
	CU_ASSERT(image_takes(&m));
	/* FCS bits above the link type, as libpcap ignores them */
	file_hdr(&m, 0, 0xa1b2c3d4, 2, 4, 65535, 0x04000001);
	CU_ASSERT(image_takes(&m));
	/* left to libpcap: older versions, patched records, other link types,
	 * a header cut short, pcapng */
	file_hdr(&m, 0, 0xa1b2c3d4, 2, 3, 65535, 1);
	CU_ASSERT(!image_takes(&m));
	file_hdr(&m, 0, 0xa1b2cd34, 2, 4, 65535, 1);
	CU_ASSERT(!image_takes(&m));
	file_hdr(&m, 0, 0xa1b2c3d4, 2, 4, 65535, 105);
	CU_ASSERT(!image_takes(&m));
	file_hdr(&m, 0, 0xa1b2c3d4, 2, 4, 65535, 1);
	m.len = 23;
	CU_ASSERT(!image_takes(&m));
	file_hdr(&m, 0, 0x0a0d0d0a, 2, 4, 65535, 1);
	CU_ASSERT(!image_takes(&m));
}

static void
test_records(void)
{
	struct img m;

	file_hdr(&m, 0, 0xa1b2c3d4, 2, 4, 65535, 1);
	record(&m, 1700000000, 999999, 60, 60);
	record(&m, 1700000001, 5, 100, 1514);
	record(&m, 1700000002, 0, 0, 0);
	CU_ASSERT_EQUAL(same_as_libpcap(&m), 3);
	file_hdr(&m, 1, 0xa1b23c4d, 2, 4, 65535, 1);
	record(&m, 1700000000, 999999999, 60, 60);
	CU_ASSERT_EQUAL(same_as_libpcap(&m), 1);
}

static void
test_snaplen(void)
{
	struct img m;

	/* longer than the file's snapshot length: cut to it, the rest skipped */
	file_hdr(&m, 0, 0xa1b2c3d4, 2, 4, 100, 1);
	record(&m, 1, 0, 200, 300);
	record(&m, 2, 0, 50, 50);
	CU_ASSERT_EQUAL(same_as_libpcap(&m), 2);
	/* no snapshot length, or one past the maximum: the maximum */
	file_hdr(&m, 0, 0xa1b2c3d4, 2, 4, 0, 1);
	record(&m, 1, 0, 200, 300);
	CU_ASSERT_EQUAL(same_as_libpcap(&m), 1);
	file_hdr(&m, 0, 0xa1b2c3d4, 2, 4, 0x80000000u, 1);
	record(&m, 1, 0, 200, 300);
	CU_ASSERT_EQUAL(same_as_libpcap(&m), 1);
}

static void
test_errors(void)
{
	struct img m;

	/* a record header cut short, after one good record */
	file_hdr(&m, 0, 0xa1b2c3d4, 2, 4, 65535, 1);
	record(&m, 1, 0, 60, 60);
	record(&m, 2, 0, 60, 60);
	m.len -= 60 + 8;
	CU_ASSERT_EQUAL(same_as_libpcap(&m), 1);
	/* a record's bytes cut short */
	file_hdr(&m, 0, 0xa1b2c3d4, 2, 4, 65535, 1);
	record(&m, 1, 0, 60, 60);
	m.len -= 1;
	CU_ASSERT_EQUAL(same_as_libpcap(&m), 0);
	/* a captured length past libpcap's maximum (262144) */
	file_hdr(&m, 0, 0xa1b2c3d4, 2, 4, 65535, 1);
	record(&m, 1, 0, 0, 0);
	m.len -= 16;
	put32(&m, 1);
	put32(&m, 0);
	put32(&m, 262145);
	put32(&m, 262145);
	CU_ASSERT_EQUAL(same_as_libpcap(&m), 0);
}

/* libpcap widens the 32-bit fields signed in the host's byte order and
 * unsigned when it swapped them; microseconds scaled after widening. */
static void
test_timestamps(void)
{
	static const uint32_t v[][2] = {
		{ 0xffffffffu, 0xffffffffu }, { 0x80000000u, 999999 }, { 1, 0x80000000u },
	};
	static const uint32_t magic[] = { 0xa1b2c3d4u, 0xa1b23c4du };
	struct img m;
	size_t i;
	int big, k;

	for (big = 0; big < 2; big++) {
		for (k = 0; k < 2; k++) {
			file_hdr(&m, big, magic[k], 2, 4, 65535, 1);
			for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
				record(&m, v[i][0], v[i][1], 20, 20);
			CU_ASSERT_EQUAL(same_as_libpcap(&m), 3);
		}
	}
}

/* What libpcap reads (here a version 2.3 file) is read the same as before. */
static void
test_libpcap_path(void)
{
	struct img m;

	file_hdr(&m, 0, 0xa1b2c3d4, 2, 3, 65535, 1);
	record(&m, 1, 0, 60, 60);
	CU_ASSERT(!image_takes(&m));
	CU_ASSERT_EQUAL(same_as_libpcap(&m), 1);
}

int
kapa_unit_register(void)
{
	CU_pSuite s = CU_add_suite("capture", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "which images are read in place", test_takes) == NULL ||
	    CU_add_test(s, "records as libpcap reads them", test_records) == NULL ||
	    CU_add_test(s, "snapshot length cut and adjusted", test_snaplen) == NULL ||
	    CU_add_test(s, "truncated and oversized records", test_errors) == NULL ||
	    CU_add_test(s, "time stamps widened as libpcap does", test_timestamps) == NULL ||
	    CU_add_test(s, "the rest through libpcap", test_libpcap_path) == NULL)
		return 1;
	return 0;
}
