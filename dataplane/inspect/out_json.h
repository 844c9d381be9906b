/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * kapa-inspect --json: one JSON object per HTTP message, written in capture
 * order of the message's first byte.
 *
 * A message is reported when its header block is complete, which can be
 * later than the first byte of a message that completes after it (a slow
 * header block, data held out of order). Objects are therefore rendered
 * into a buffer as they come and written sorted by (first frame, arrival)
 * once no object can come any more for an earlier frame: the caller says
 * which frame that is (json_out_write_before(); kapa-inspect asks the core
 * for the oldest frame of a message still open), and the rest at the end of
 * the file. Bound: the buffer holds the objects of the frames since the
 * oldest message still open, about 250 bytes each (all of a file's only
 * when a message stays open from its start to its end).
 */
#ifndef INSPECT_OUT_JSON_H
#define INSPECT_OUT_JSON_H

#include <stdint.h>
#include <stdio.h>

#include "kapa_engine.h"
#include "kapa_http.h"

struct json_out;

/** Where a message was seen, besides what the tracker reports. */
struct json_msg_where {
	const char *file;	/**< NULL: field omitted (single FILE) */
	uint32_t stream;	/**< tshark-style tcp.stream */
	const char *flow;	/**< "CLIENT > SERVER" */
	uint64_t frame;		/**< frame of the message's first byte */
	uint64_t hdr_frame;	/**< frame that completed its header block */
};

/** @return a buffer, or NULL (ENOMEM). */
struct json_out *json_out_create(void);

/** Free it. NULL ok. */
void json_out_free(struct json_out *j);

/**
 * Render one message into the buffer.
 * @return 0, or -ENOMEM.
 */
int json_out_message(struct json_out *j, const struct json_msg_where *w,
		     const struct kapa_http_msg *msg);

/**
 * Render one action (policy mode): {"stream", "flow", "frame", "action",
 * "reason"[, "bytes"]}; no "dir", so readers of messages skip it.
 * @param w  w->frame is the frame that caused it (for a timer, the last
 *           frame read before it fired); hdr_frame is not used
 * @return 0, or -ENOMEM.
 */
int json_out_action(struct json_out *j, const struct json_msg_where *w,
		    const struct kapa_action *a);

/** An idle-close race, once its retry window is over (or the file ended). */
struct json_race {
	uint8_t kind;		/**< enum kapa_race_kind */
	uint8_t retried;	/**< the request came again on a new connection */
	uint32_t idle_ms;
	uint32_t retry_stream;	/**< retried: the stream it came again on */
};

/**
 * Render one race: {"stream", "flow", "frame", "race", "idle_ms",
 * "retried"[, "retry_stream"]}; no "dir", so readers of messages skip it.
 * @param w  w->frame is the frame of the raced request's first byte
 * @param at_frame  the frame it is placed at in the output: the one that
 *           revealed it (the server's FIN or RST), not written in the object
 * @return 0, or -ENOMEM.
 */
int json_out_race(struct json_out *j, const struct json_msg_where *w, const struct json_race *r,
		  uint64_t at_frame);

/**
 * Write the buffered objects sorted by (frame, arrival) and empty the buffer
 * (the end of a file).
 * @return 0, or -EIO when writing failed.
 */
int json_out_flush(struct json_out *j, FILE *out);

/**
 * Write, sorted, the buffered objects of frames before @p frame, and keep
 * the others: the caller knows no object will come any more for a frame
 * before it. An object that still does is counted (json_out_late()) and
 * written later, out of order.
 * @return 0, or -EIO when writing failed.
 */
int json_out_write_before(struct json_out *j, FILE *out, uint64_t frame);

/** @return objects buffered, not yet written. */
size_t json_out_pending(const struct json_out *j);

/** @return objects that came for a frame already written (a bug: the
 *  caller's bound was wrong). */
uint64_t json_out_late(const struct json_out *j);

/**
 * Format an endpoint: "198.18.0.1:80", IPv6 as "[2001:db8::1]:80".
 * @return the characters written (at most @p len - 1).
 */
int json_fmt_endpoint(char *buf, size_t len, uint8_t family, const uint8_t *addr,
		      uint16_t port);

#endif /* INSPECT_OUT_JSON_H */
