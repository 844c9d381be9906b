/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * What bench_http.c shares with its parsing peers that live in files of
 * their own (llhttp.h and http_parser.h define the same enumerators, so the
 * two peers cannot share a translation unit).
 */
#ifndef KAPA_BENCH_HTTP_PEER_H
#define KAPA_BENCH_HTTP_PEER_H

#include <stdint.h>

/** One delivery of the benchmark's mix. */
struct seg {
	uint8_t dir;		/**< enum kapa_dir */
	uint32_t off;		/**< in its direction's stream */
	uint32_t len;
};

/**
 * Feed Node's llhttp (Debian's node-llhttp) one connection: both streams,
 * in the order and cut of @p segs, one parser per direction.
 *
 * @param s      the two streams, [enum kapa_dir]
 * @param msgs   incremented at every message complete
 * @param ka     incremented at every header block after which
 *               llhttp_should_keep_alive() says the connection persists
 * @return 0, or -1 when llhttp refused a segment.
 */
int bench_llhttp_feed(uint8_t *const s[2], const struct seg *segs,
		      uint32_t nsegs, uint64_t *msgs, uint64_t *ka);

#endif /* KAPA_BENCH_HTTP_PEER_H */
