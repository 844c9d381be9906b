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
 * when the file ends. Bound: the buffer holds every message of one file
 * (about 250 bytes a message); it is emptied after each file.
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
 * @return 0, or -ENOMEM.
 */
int json_out_race(struct json_out *j, const struct json_msg_where *w, const struct json_race *r);

/**
 * Write the buffered objects sorted by (frame, arrival) and empty the buffer.
 * @return 0, or -EIO when writing failed.
 */
int json_out_flush(struct json_out *j, FILE *out);

/**
 * Format an endpoint: "198.18.0.1:80", IPv6 as "[2001:db8::1]:80".
 * @return the characters written (at most @p len - 1).
 */
int json_fmt_endpoint(char *buf, size_t len, uint8_t family, const uint8_t *addr,
		      uint16_t port);

#endif /* INSPECT_OUT_JSON_H */
