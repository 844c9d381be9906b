/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_memory.h>

#include "capture.h"
#include "inspect.h"
#include "kapa_edit.h"
#include "kapa_engine.h"
#include "kapa_http.h"
#include "kapa_pkt.h"
#include "kapa_policy.h"
#include "kapa_tcp.h"
#include "out_json.h"
#include "report.h"
#include "streams.h"

/* Idle expiries handled per frame: spreads a burst of expiries over the
 * following frames instead of stalling on one. */
#define ADVANCE_MAX 256
#define FLOW_MAX 128
/* The tracker's largest pipeline depth (its default is 16): offline, with
 * responses missing from the capture, requests pile up unanswered; pair as
 * many as the tracker can (later ones are tracked unpaired). */
#define INSPECT_PIPELINE_DEPTH 32
/* A frame copy kapa may edit: the largest snap length, and room for what
 * edits add to one segment. */
#define FRAME_BUF 262144u
#define FRAME_ROOM 4096u
/* Frames kapa crafts while the packet in hand is processed, written after
 * it: a few RSTs and one split part at most (kapa_engine.h). */
#define PENDING_BYTES (1u << 20)
/* Timers' tick in policy mode: expiries fire within a millisecond of their
 * due time, between captured frames (one wheel rotation: 65.5 s). */
#define POLICY_TICK_MS 1
#define POLICY_WHEEL_SLOTS 65536
/* --json: objects buffered since the last look before the next look for
 * what can be written (a look that can write nothing costs two small scans
 * and no sort: json_out_write_before()). */
#define JSON_CHECK_MIN 4096u
/* A race's retry may begin this long after its request (KAPA_RACE_RETRY_MS). */
#define RACE_RETRY_NS ((uint64_t)KAPA_RACE_RETRY_MS * 1000000u)

/* kapa-inspect's per-connection state, after the tracker's in the app slot. */
struct inspect_conn {
	uint64_t resp_end_ns;	/* end of the last final response; 0 = none */
	uint32_t stream;	/* tshark-style tcp.stream when it opened */
	uint32_t requests;
	uint32_t final_responses;
	/* Its 4-tuple's numbering (streams.h), out of streams.c's table
	 * while the core holds the connection: frame_stream(). */
	struct stream_state num;
	uint8_t fin;		/* bit per enum kapa_dir */
	uint8_t reset;
	uint8_t http;		/* carried at least one message */
	uint8_t last_interim;	/* the response in progress is 1xx */
};

/* A race kept until the file ends, when its retry is known: --json writes
 * it then (objects are sorted by frame at the end of a file anyway). */
struct inspect_race {
	uint32_t stream;
	uint64_t frame;		/* its request's ("frame" in the object) */
	uint64_t at_frame;	/* the frame that revealed it: its place in the output */
	uint64_t seen_ns;	/* when it was reported (after its request) */
	/* The frame in hand when its retry window had passed: a retry starts
	 * in this frame or before. 0: not yet. */
	uint64_t cut_frame;
	char flow[FLOW_MAX];
	struct json_race r;
};

/* One file's run. */
struct inspect_run {
	const struct inspect_opts *o;
	const char *path;
	struct kapa_engine *eng;
	struct streams *streams;
	struct json_out *json;
	struct report rep;
	uint32_t cur_stream;	/* stream of the frame in hand */
	uint64_t cur_frame;
	uint64_t cur_ns;	/* the core's clock at the frame in hand */
	int at_end;		/* closing what is left when the file ended */
	/* Connections whose state the table's limit cost: entries evicted
	 * while their connection was open (it is picked up again mid-stream,
	 * its messages cut), told on stderr at the end. */
	uint64_t evicted_open;
	struct kapa_flow_stats flow;	/* the table's counters, at the end */
	uint32_t table_cap;		/* the table's entries at the end */
	int oom;		/* JSON buffer could not grow: output incomplete */
	int streams_oom;	/* streams_put() failed in a callback: -ENOMEM */
	/* --json: the races not written yet, by race id - race_first_id,
	 * from races[race_head] (the ones before it are written); a race is
	 * written once its retry can no longer come (about 200 bytes each
	 * until then). race_uncut: the first without a cut_frame. */
	struct inspect_race *races;
	uint32_t nraces, races_cap, race_head, race_uncut;
	uint64_t race_first_id;
	size_t json_check_at;	/* pending objects that trigger the next look */
	int write_failed;
	uint64_t late_retries;	/* retry notices for races already written */

	/* Policy mode and -w. */
	struct capture_writer *writer;
	uint8_t *buf;		/* FRAME_BUF + FRAME_ROOM: the frame in hand, writable */
	uint8_t *pend;		/* crafted during the frame in hand: [len][bytes]... */
	uint32_t pend_len;
	int in_input;		/* inside kapa_engine_input() */
	uint64_t emit_ns;	/* time of crafted frames outside it */
	uint64_t max_limit_ns;	/* the longest limit of the policy */
};

static struct inspect_conn *
conn_of(const struct kapa_stream_ctx *ctx)
{
	return kapa_engine_user_state(ctx);
}

/* "CLIENT > SERVER", the client being key side @p client. */
static void
flow_of(const struct kapa_stream_ctx *ctx, int client, char *buf, size_t len)
{
	const struct kapa_flow_key *k = kapa_flow_key(kapa_tcp_table(ctx->tcp), ctx->idx);
	int n;

	n = json_fmt_endpoint(buf, len, k->family, k->addr[client], k->port[client]);
	if (len - (size_t)n > 3) {
		memcpy(buf + n, " > ", 3);
		n += 3;
	}
	json_fmt_endpoint(buf + n, len - (size_t)n, k->family, k->addr[!client], k->port[!client]);
}

/* A message's flow by the tracker's view: the sender of a request is the
 * HTTP client, whatever the TCP roles were guessed to be. */
static void
flow_string(const struct kapa_stream_ctx *ctx, const struct kapa_http_msg *msg,
	    char *buf, size_t len)
{
	int sender = ctx->dir == KAPA_DIR_C2S ? ctx->conn->client_side : !ctx->conn->client_side;

	flow_of(ctx, msg->is_request ? sender : !sender, buf, len);
}

/* An action's flow: the server sends in @p srv_dir. */
static void
flow_string_srv(const struct kapa_stream_ctx *ctx, uint8_t srv_dir, char *buf, size_t len)
{
	flow_of(ctx, srv_dir == KAPA_DIR_S2C ? ctx->conn->client_side : !ctx->conn->client_side,
		buf, len);
}

static void
on_message(const struct kapa_stream_ctx *ctx, const struct kapa_http_msg *msg, void *arg)
{
	struct inspect_run *run = arg;
	struct inspect_conn *uc = conn_of(ctx);
	struct json_msg_where w;
	char flow[FLOW_MAX];

	uc->http = 1;
	if (msg->is_request) {
		/* An idle gap: the previous exchange had ended and nothing
		 * was outstanding when the next request began. */
		if (uc->resp_end_ns != 0 && uc->final_responses >= uc->requests &&
		    msg->first_ns >= uc->resp_end_ns)
			report_gap(&run->rep, msg->first_ns - uc->resp_end_ns);
		uc->resp_end_ns = 0;
		uc->requests++;
	} else {
		uc->last_interim = msg->status >= 100 && msg->status < 200;
		if (!uc->last_interim)
			uc->final_responses++;
	}
	report_message(&run->rep, msg);
	if (!run->o->json)
		return;
	flow_string(ctx, msg, flow, sizeof(flow));
	w.file = run->o->with_file ? run->path : NULL;
	w.stream = uc->stream;
	w.flow = flow;
	w.frame = msg->first_pkt_ref != NULL ? (uint64_t)(uintptr_t)msg->first_pkt_ref :
					       run->cur_frame;
	/* The packet that carried the header block's last byte. */
	w.hdr_frame = ctx->pkt_ref != NULL ? (uint64_t)(uintptr_t)ctx->pkt_ref : run->cur_frame;
	if (json_out_message(run->json, &w, msg) != 0)
		run->oom = 1;
}

static void
on_message_end(const struct kapa_stream_ctx *ctx, bool is_request, uint32_t index, void *arg)
{
	struct inspect_conn *uc = conn_of(ctx);

	(void)index;
	(void)arg;
	if (!is_request && !uc->last_interim)
		uc->resp_end_ns = ctx->now_ns;
}

static void
on_leave(const struct kapa_stream_ctx *ctx, enum kapa_http_leave why, void *arg)
{
	struct inspect_run *run = arg;

	(void)ctx;
	report_leave(&run->rep, why);
}

static enum report_end
end_of(const struct inspect_run *run, const struct inspect_conn *uc)
{
	if (uc->reset)
		return REPORT_END_RESET;
	if (uc->fin == 3)
		return REPORT_END_FIN;
	if (uc->fin != 0)
		return REPORT_END_HALF;
	return run->at_end ? REPORT_END_OPEN : REPORT_END_EXPIRED;
}

static void
on_event(const struct kapa_stream_ctx *ctx, enum kapa_stream_event ev, uint64_t off,
	 uint64_t len, void *arg)
{
	struct inspect_run *run = arg;
	struct inspect_conn *uc = conn_of(ctx);

	(void)off;
	(void)len;
	switch (ev) {
	case KAPA_EV_OPEN:
		/* Opened by the frame in hand, which frame_stream() has just
		 * numbered: the 4-tuple's numbering moves into the slot. */
		uc->stream = run->cur_stream;
		if (!streams_take(run->streams, kapa_flow_key(kapa_tcp_table(ctx->tcp), ctx->idx),
				  &uc->num)) {
			memset(&uc->num, 0, sizeof(uc->num));
			uc->num.stream = run->cur_stream;
		}
		break;
	case KAPA_EV_FIN:
		uc->fin |= (uint8_t)(1u << ctx->dir);
		break;
	case KAPA_EV_RESET:
		uc->reset = 1;
		break;
	case KAPA_EV_CLOSE:
		/* Later frames of the 4-tuple are numbered by streams.c again
		 * (nothing follows the end of the file). */
		if (!run->at_end &&
		    streams_put(run->streams, kapa_flow_key(kapa_tcp_table(ctx->tcp), ctx->idx),
				&uc->num, ctx->now_ns) != 0)
			run->streams_oom = 1;
		report_conn_end(&run->rep, uc->requests, uc->http, end_of(run, uc));
		if ((ctx->release == KAPA_REL_EVICT_LRU ||
		     ctx->release == KAPA_REL_EVICT_EMBRYONIC) &&
		    ctx->conn->state != KAPA_CONN_CLOSED)
			run->evicted_open++;
		break;
	default:
		break;
	}
}

/* An action of the policy: a JSON object (the report counts them). */
static void
on_action(const struct kapa_stream_ctx *ctx, const struct kapa_action *a, void *arg)
{
	struct inspect_run *run = arg;
	struct inspect_conn *uc = conn_of(ctx);
	struct json_msg_where w;
	char flow[FLOW_MAX];

	if (!run->o->json)
		return;
	flow_string_srv(ctx, a->srv_dir, flow, sizeof(flow));
	w.file = run->o->with_file ? run->path : NULL;
	w.stream = uc->stream;
	w.flow = flow;
	/* The frame that caused it; a timer's: the last frame read. */
	w.frame = ctx->pkt_ref != NULL ? (uint64_t)(uintptr_t)ctx->pkt_ref : run->cur_frame;
	w.hdr_frame = w.frame;
	if (json_out_action(run->json, &w, a) != 0)
		run->oom = 1;
}

/* An idle-close race (kapa_race.h): kept for --json until the file ends. */
static void
on_race(const struct kapa_stream_ctx *ctx, const struct kapa_race_event *ev, void *arg)
{
	struct inspect_run *run = arg;
	struct inspect_race *ir, *grown;
	uint32_t cap;

	if (!run->o->json)
		return;
	if (run->nraces == 0)
		run->race_first_id = ev->id;
	if (ev->id - run->race_first_id != run->nraces) {
		run->oom = 1;	/* cannot happen: ids are consecutive per engine */
		return;
	}
	if (run->nraces == run->races_cap) {
		cap = run->races_cap != 0 ? run->races_cap * 2 : 64;
		grown = realloc(run->races, (size_t)cap * sizeof(*grown));
		if (grown == NULL) {
			run->oom = 1;
			return;
		}
		run->races = grown;
		run->races_cap = cap;
	}
	ir = &run->races[run->nraces++];
	memset(ir, 0, sizeof(*ir));
	ir->seen_ns = ctx->now_ns;
	ir->stream = conn_of(ctx)->stream;
	ir->frame = ev->req_ref != NULL ? (uint64_t)(uintptr_t)ev->req_ref : run->cur_frame;
	/* Placed at the frame that revealed it (the server's FIN or RST; a
	 * timer's: the last frame read), not at its request's: then nothing
	 * needs to hold the output back from every request that may still
	 * become a race (kapa-inspect.md, "Ordering and memory"). */
	ir->at_frame = ctx->pkt_ref != NULL ? (uint64_t)(uintptr_t)ctx->pkt_ref : run->cur_frame;
	flow_string_srv(ctx, ev->srv_dir, ir->flow, sizeof(ir->flow));
	ir->r.kind = ev->kind;
	ir->r.idle_ms = ev->idle_ms;
}

static void
on_race_retried(uint64_t id, const struct kapa_stream_ctx *ctx, void *arg)
{
	struct inspect_run *run = arg;
	struct inspect_race *ir;

	if (!run->o->json || id < run->race_first_id || id - run->race_first_id >= run->nraces)
		return;
	if (id - run->race_first_id < run->race_head) {
		run->late_retries++;	/* written already: its cut was wrong */
		return;
	}
	ir = &run->races[id - run->race_first_id];
	ir->r.retried = 1;
	ir->r.retry_stream = conn_of(ctx)->stream;
}

/* Races [race_head, @p end) into the JSON buffer, to be sorted with the rest. */
static void
races_to_json(struct inspect_run *run, uint32_t end)
{
	struct json_msg_where w;
	uint32_t i;

	for (i = run->race_head; i < end; i++) {
		w.file = run->o->with_file ? run->path : NULL;
		w.stream = run->races[i].stream;
		w.flow = run->races[i].flow;
		w.frame = run->races[i].frame;
		w.hdr_frame = w.frame;
		if (json_out_race(run->json, &w, &run->races[i].r, run->races[i].at_frame) != 0)
			run->oom = 1;
	}
	run->race_head = end;
	if (run->race_uncut < end)
		run->race_uncut = end;
	/* Drop the written prefix once it is most of the array. */
	if (run->race_head != 0 &&
	    (run->race_head == run->nraces || run->race_head > run->nraces / 2)) {
		if (run->nraces > run->race_head)
			memmove(run->races, run->races + run->race_head,
				(size_t)(run->nraces - run->race_head) * sizeof(*run->races));
		run->race_first_id += run->race_head;
		run->nraces -= run->race_head;
		run->race_uncut -= run->race_head;
		run->race_head = 0;
	}
}

/*
 * --json, after each frame: write what can no longer be preceded. A message
 * not reported yet starts in a header block the tracker holds open, in
 * bytes the TCP core holds out of order (their frames: the core's oldest
 * references), or in a later frame; an action of a timer that fires before
 * the next frame carries the frame in hand; a race, placed at the frame
 * that revealed it, is written once its retry window has passed and every
 * message begun in it has been reported (a retry changes it), and holds
 * back the objects from its place on.
 * Looked at only when enough objects wait, so the scans cost little.
 */
static void
json_progress(struct inspect_run *run, uint64_t now_ns)
{
	uint64_t open, below;
	uint32_t i;

	while (run->race_uncut < run->nraces &&
	       now_ns >= run->races[run->race_uncut].seen_ns + RACE_RETRY_NS)
		run->races[run->race_uncut++].cut_frame = run->cur_frame;
	if (json_out_pending(run->json) < run->json_check_at)
		return;
	open = kapa_tcp_oldest_ref(kapa_engine_tcp(run->eng));
	below = kapa_http_oldest_ref(kapa_engine_http(run->eng));
	if (below < open)
		open = below;
	for (i = run->race_head; i < run->race_uncut && run->races[i].cut_frame < open; i++)
		;
	races_to_json(run, i);
	below = open < run->cur_frame ? open : run->cur_frame;
	for (i = run->race_head; i < run->nraces; i++)
		if (run->races[i].at_frame < below)
			below = run->races[i].at_frame;
	if (json_out_write_before(run->json, run->o->out, below) != 0)
		run->write_failed = 1;
	run->json_check_at = json_out_pending(run->json) + JSON_CHECK_MIN;
}

/* A frame kapa crafted: after the frame in hand, or now (a timer's). */
static void
on_emit(const struct kapa_stream_ctx *ctx, enum kapa_dir toward, const uint8_t *frame,
	uint32_t len, void *arg)
{
	struct inspect_run *run = arg;

	(void)ctx;
	(void)toward;
	if (run->writer == NULL)
		return;
	if (!run->in_input) {
		capture_write(run->writer, frame, len, len, run->emit_ns);
		return;
	}
	if (run->pend_len + sizeof(len) + len > PENDING_BYTES) {
		run->oom = 1;	/* cannot happen: see PENDING_BYTES */
		return;
	}
	memcpy(run->pend + run->pend_len, &len, sizeof(len));
	memcpy(run->pend + run->pend_len + sizeof(len), frame, len);
	run->pend_len += (uint32_t)sizeof(len) + len;
}

static int frame_stream(struct inspect_run *run, const struct kapa_pkt *pkt,
			const struct kapa_engine_slot *s, uint64_t ts);

/* A datagram rebuilt from fragments, about to go through the engine: its
 * TCP stream numbered as tshark numbers it (the frame that completed it
 * carries the reassembled segment). */
static int
on_reassembled(const struct kapa_pkt *pkt, void *pkt_ref, void *arg)
{
	struct inspect_run *run = arg;
	struct kapa_engine_slot s;

	(void)pkt_ref;
	if (pkt->cls != KAPA_PKT_TCP)
		return 0;
	kapa_engine_lookup(run->eng, pkt, &s);
	if (frame_stream(run, pkt, &s, run->cur_ns) != 0)
		run->streams_oom = 1;
	return 0;
}

static const struct kapa_engine_ops inspect_ops = {
	.http = {
		.message = on_message,
		.message_end = on_message_end,
		.leave = on_leave,
		.event = on_event,
		.expire = NULL,
	},
	.action = on_action,
	.emit = on_emit,
	.race = {
		.race = on_race,
		.retried = on_race_retried,
	},
	.reassembled = on_reassembled,
};

unsigned int
inspect_mem_mb(uint32_t max_conns)
{
	/* EAL's own needs and the small structures; and the rte_hash of a
	 * table that cannot grow (a limit at or under the table's start).
	 * Records and slots are mapped by kapa_mem, as is the reassembly pool,
	 * and a growing table builds each of its hashes in a heap segment of
	 * its own (kapa_flow.c): none of them is in EAL's memory. With
	 * --no-huge EAL maps all of it at start and describes it page by page
	 * (about 20 ms a GiB): it is sized, not generous. */
	uint64_t hash = max_conns <= INSPECT_START_CONNS ? kapa_flow_hash_bytes(max_conns) : 0;

	return (unsigned int)(48 + (hash * 9 / 8 >> 20));
}

uint32_t
inspect_default_max_conns(int nfiles, char *const *files)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	uint64_t n, largest = 0;
	struct stat st;
	int i;

	if (pages <= 0 || page <= 0)
		return INSPECT_START_CONNS;
	n = (uint64_t)pages * (uint64_t)page / 2048;
	if (n > INSPECT_DEFAULT_CONNS_CAP)
		n = INSPECT_DEFAULT_CONNS_CAP;
	/* A pipe or a file that cannot be read yet says nothing of its
	 * size: then the machine's figure stands. */
	for (i = 0; i < nfiles; i++) {
		if (stat(files[i], &st) != 0 || !S_ISREG(st.st_mode))
			break;
		if ((uint64_t)st.st_size > largest)
			largest = (uint64_t)st.st_size;
	}
	if (nfiles > 0 && i == nfiles && largest / INSPECT_MIN_CONN_BYTES + 1 < n)
		n = largest / INSPECT_MIN_CONN_BYTES + 1;
	return n < INSPECT_MIN_CONNS ? INSPECT_MIN_CONNS : (uint32_t)n;
}

/* The longest limit of the rule set: at the end of a capture, expiries up
 * to that far after its last frame still fire. */
static uint64_t
policy_max_limit_ns(const struct kapa_policy *p)
{
	uint32_t i, m = 0;
	int r;

	for (r = -1; r < (int)kapa_policy_count(p); r++) {
		const struct kapa_policy_spec *sp = kapa_policy_spec_of(p, r);

		for (i = 0; i < 3; i++) {
			uint32_t v = i == 0 ? sp->timeout_s : i == 1 ? sp->stall_s :
				     sp->opaque_idle_s;

			if (v > m)
				m = v;
		}
	}
	return (uint64_t)m * 1000000000ull;
}

static int
run_create(struct inspect_run *run, struct capture *cap, char *err, size_t errlen)
{
	static unsigned int seq;
	struct kapa_engine_conf conf;
	char name[32];

	run->streams = streams_create();
	run->json = json_out_create();
	if (run->streams == NULL || run->json == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (run->o->policy != NULL || run->o->write_path != NULL) {
		run->buf = malloc(FRAME_BUF + FRAME_ROOM);
		run->pend = malloc(PENDING_BYTES);
		if (run->buf == NULL || run->pend == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	if (run->o->write_path != NULL) {
		run->writer = capture_writer_open(cap, run->o->write_path, err, errlen);
		if (run->writer == NULL)
			return -EIO;
	}
	/* rte_hash names are unique per process. */
	snprintf(name, sizeof(name), "inspect%u", seq++);
	memset(&conf, 0, sizeof(conf));
	conf.tcp.flow.name = name;
	/* The table grows to the limit as the capture needs (memory written
	 * only as used), with no half-open budget of its own: offline, a SYN
	 * flood in the capture costs memory, not other connections' state. */
	conf.tcp.flow.capacity = run->o->max_conns < INSPECT_START_CONNS ? run->o->max_conns :
				 INSPECT_START_CONNS;
	conf.tcp.flow.max_capacity = run->o->max_conns;
	conf.tcp.flow.embryonic_max = run->o->max_conns;
	conf.tcp.flow.socket_id = SOCKET_ID_ANY;
	conf.http.pipeline_depth = INSPECT_PIPELINE_DEPTH;
	conf.http.ports = run->o->ports;
	conf.user_size = sizeof(struct inspect_conn);
	conf.policy = run->o->policy;
	conf.csum_verify = (uint8_t)run->o->verify_csum;
	run->rep.csum_verify = run->o->verify_csum;
	/* Without a policy no action is ever decided: no action state per
	 * connection (KAPA_ACT_STATE_SIZE bytes less each). */
	conf.no_actions = run->o->policy == NULL;
	conf.ops = &inspect_ops;
	conf.ops_arg = run;
	if (run->o->policy != NULL) {
		conf.tcp.flow.tick_ms = POLICY_TICK_MS;
		conf.tcp.flow.wheel_slots = POLICY_WHEEL_SLOTS;
		run->max_limit_ns = policy_max_limit_ns(run->o->policy);
		run->rep.policy = 1;
	}
	run->eng = kapa_engine_create(&conf);
	if (run->eng == NULL) {
		snprintf(err, errlen,
			 "cannot create kapa's core for %u connections: %s "
			 "(try a smaller --max-conns)",
			 run->o->max_conns, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return 0;
}

/* Policy mode: the timers due before @p until_ns fire at their own time,
 * between captured frames (kapa-dp fires them when they are due, not at the
 * next packet). */
static void
fire_due(struct inspect_run *run, uint64_t until_ns, int inclusive)
{
	uint64_t due;

	while (kapa_engine_next_deadline(run->eng, until_ns, &due) == 0 &&
	       (due < until_ns || (inclusive && due == until_ns))) {
		run->emit_ns = due;
		kapa_engine_advance(run->eng, due, ADVANCE_MAX);
	}
}

/* Close what is left (EV_CLOSE for every open connection), keep the
 * counters, free the core. */
static void
run_finish(struct inspect_run *run)
{
	if (run->eng != NULL) {
		/* The policy's own expiries are due after the last frame too. */
		if (run->o->policy != NULL && run->rep.last_ns != 0)
			fire_due(run, run->rep.last_ns + run->max_limit_ns + 2000000u, 1);
		run->at_end = 1;
		/* Release first, so that the counters include the bytes
		 * handed on at release (gaps, flushed bytes). The capture
		 * ended, kapa-dp would run on: shifted connections are let go,
		 * not reset. */
		kapa_engine_close_all(run->eng, 0);
		run->rep.tcp = *kapa_tcp_stats(kapa_engine_tcp(run->eng));
		run->rep.http = *kapa_http_stats(kapa_engine_http(run->eng));
		run->rep.act = *kapa_engine_stats(run->eng);
		run->rep.frag = *kapa_frag_stats(kapa_engine_frag(run->eng));
		run->flow = *kapa_flow_stats(kapa_tcp_table(kapa_engine_tcp(run->eng)));
		run->table_cap = kapa_flow_capacity(kapa_tcp_table(kapa_engine_tcp(run->eng)));
		report_races(&run->rep, kapa_engine_race(run->eng));
		kapa_engine_destroy(run->eng);
		run->eng = NULL;
	}
	run->rep.streams = streams_count(run->streams);
}

static void
run_free(struct inspect_run *run)
{
	run->at_end = 1;	/* nothing more to number */
	kapa_engine_destroy(run->eng);
	streams_free(run->streams);
	json_out_free(run->json);
	free(run->races);
	free(run->buf);
	free(run->pend);
}

/*
 * One line on stderr when the table's limit cost connections their state:
 * they were picked up again mid-stream (or not tracked at all), so their
 * messages are cut or missing in the output, which cannot show it.
 */
static void
tell_lost_state(const struct inspect_run *run)
{
	uint64_t refused = run->rep.tcp.conns_refused;

	if (run->evicted_open == 0 && refused == 0)
		return;
	fprintf(stderr, "kapa-inspect: %s: %" PRIu64 " connections lost their state to the "
		"connection table's limit of %u (%" PRIu64 " evicted while open, %" PRIu64
		" not tracked)%s: their messages are incomplete; pass --max-conns N with N above "
		"the connections open at once\n", run->path, run->evicted_open + refused,
		run->table_cap, run->evicted_open, refused,
		run->flow.grow_failed != 0 ? ", where it could not grow (out of memory)" : "");
}

/* -w: the frame in hand as forwarded (at @p fwd_ns), then what was crafted
 * with it (at the core's clock, @p ts). */
static void
write_frame(struct inspect_run *run, const struct capture_frame *f, const struct kapa_buf *b,
	    uint64_t fwd_ns, uint64_t ts)
{
	uint32_t off = 0, len;

	if (b != NULL)
		capture_write(run->writer, b->data, b->len,
			      f->wire_len - f->frame_len + b->len, fwd_ns);
	while (off < run->pend_len) {
		memcpy(&len, run->pend + off, sizeof(len));
		capture_write(run->writer, run->pend + off + sizeof(len), len, len, ts);
		off += (uint32_t)sizeof(len) + len;
	}
	run->pend_len = 0;
}

/*
 * tshark's stream number of the TCP frame in hand, in run->cur_stream (it
 * matters when the frame opens a connection: on_event()). The numbering of
 * a connection the core holds is in its slot (no second hash lookup per
 * frame, no streams.c entry); streams.c numbers the frames of the 4-tuples
 * the core does not hold. @p s: the core's lookup of the frame.
 * @return 0, or -ENOMEM.
 */
static int
frame_stream(struct inspect_run *run, const struct kapa_pkt *pkt,
	     const struct kapa_engine_slot *s, uint64_t ts)
{
	struct inspect_conn *uc;
	int64_t stream;

	if (s->idx >= 0) {
		uc = kapa_engine_user_state_at(run->eng, (uint32_t)s->idx);
		run->cur_stream = streams_number_held(run->streams, &uc->num, pkt, s->side);
		return 0;
	}
	stream = streams_number(run->streams, pkt, ts);
	if (stream < 0)
		return -ENOMEM;
	run->cur_stream = (uint32_t)stream;
	return 0;
}

/* A non-TCP frame: the connection of a TCP header quoted in an ICMP error
 * is numbered when new (streams.h). @return 0, or -ENOMEM. */
static int
frame_icmp(struct inspect_run *run, const struct kapa_pkt *pkt, uint64_t ts)
{
	struct kapa_pkt inner;
	struct kapa_engine_slot s;

	if (!streams_icmp_quoted(pkt, &inner))
		return 0;
	kapa_engine_lookup(run->eng, &inner, &s);
	if (s.idx >= 0)
		return 0;	/* the core holds it: numbered */
	return streams_note(run->streams, &inner, ts) < 0 ? -ENOMEM : 0;
}

/* Feed one frame to the core. @return 0, or -ENOMEM. */
static int
run_frame(struct inspect_run *run, const struct capture_frame *f, uint64_t *clock_ns)
{
	enum kapa_verdict v;
	struct capture_frame fw = *f;
	struct kapa_buf b;
	struct kapa_pkt pkt;
	struct kapa_engine_slot slot;
	uint64_t ts = f->ts_ns;
	int csum_ok = 0;

	run->rep.frames++;
	if (run->rep.first_ns == 0)
		run->rep.first_ns = ts;
	/* The core's clock must not go backwards; merged captures do. */
	if (ts < *clock_ns) {
		run->rep.ts_backwards++;
		ts = *clock_ns;
	}
	*clock_ns = ts;
	run->rep.last_ns = ts;
	if (run->o->policy != NULL)
		fire_due(run, ts, 0);
	if (f->non_ip) {
		run->rep.non_ip_link++;
		if (run->writer != NULL)
			capture_write(run->writer, f->frame, f->frame_len, f->wire_len, f->ts_ns);
		return 0;
	}
	/* Without a policy nothing writes to the frame: no copy is needed. */
	b.data = (uint8_t *)(uintptr_t)f->frame;
	b.len = f->frame_len;
	b.tailroom = 0;
	b.port = 0;
	if (run->buf != NULL) {
		/* libpcap refuses records over its 262144-byte snap length */
		if (f->frame_len > FRAME_BUF)
			return -E2BIG;
		memcpy(run->buf, f->frame, f->frame_len);
		b.data = run->buf;
		b.tailroom = FRAME_BUF + FRAME_ROOM - f->frame_len;
		fw.data = run->buf + (f->data - f->frame);
	}
	capture_parse(&fw, &pkt);
	/* Captures taken on the sending host carry checksums its NIC was to
	 * fill: an edited segment is written as a NIC would send it. One
	 * whose checksum was right keeps the engine's incremental updates. */
	if (run->writer != NULL && pkt.cls == KAPA_PKT_TCP)
		csum_ok = kapa_csum_ok(&pkt);
	/* The core's lookup of the frame's connection, done here so that
	 * its stream number can come from it. */
	kapa_engine_lookup(run->eng, &pkt, &slot);
	if (pkt.cls == KAPA_PKT_TCP) {
		if (frame_stream(run, &pkt, &slot, ts) != 0)
			return -ENOMEM;
	} else if (frame_icmp(run, &pkt, ts) != 0) {
		return -ENOMEM;
	}
	run->cur_frame = f->number;
	run->cur_ns = ts;
	run->in_input = 1;
	v = kapa_engine_input_at(run->eng, &b, &pkt, &slot, ts, (void *)(uintptr_t)f->number);
	run->in_input = 0;
	if (run->writer != NULL) {
		if (b.edited && !csum_ok)
			kapa_edit_fill_csum(&pkt);
		/* Forwarded as it arrived: at its own time, also where the
		 * capture's clock steps back (the core's may not). */
		write_frame(run, f, v == KAPA_VERDICT_FORWARD ? &b : NULL, f->ts_ns, ts);
	}
	run->emit_ns = ts;
	kapa_engine_advance(run->eng, ts, ADVANCE_MAX);
	if (run->streams_oom)
		return -ENOMEM;
	if (run->o->json)
		json_progress(run, ts);
	return 0;
}

enum inspect_result
inspect_file(const struct inspect_opts *o, const char *path, char *err, size_t errlen)
{
	struct inspect_run *run;
	struct capture_frame f;
	enum capture_status st;
	enum inspect_result result = INSPECT_OK;
	struct capture *cap;
	uint64_t clock_ns = 0;

	cap = capture_open(path, err, errlen);
	if (cap == NULL)
		return INSPECT_UNREADABLE;
	/* The report is large-ish (fixed arrays); keep it off the stack. */
	run = calloc(1, sizeof(*run));
	if (run == NULL) {
		capture_close(cap);
		snprintf(err, errlen, "out of memory");
		return INSPECT_FAILED;
	}
	run->o = o;
	run->path = path;
	run->json_check_at = JSON_CHECK_MIN;
	if (run_create(run, cap, err, errlen) != 0) {
		result = INSPECT_FAILED;
		goto out;
	}
	while ((st = capture_next(cap, &f)) == CAPTURE_FRAME) {
		if (run_frame(run, &f, &clock_ns) != 0) {
			snprintf(err, errlen, "%s: frame %llu: out of memory, or longer than "
				 "%u bytes", path, (unsigned long long)f.number, FRAME_BUF);
			result = INSPECT_FAILED;
			break;
		}
	}
	if (st == CAPTURE_ERROR) {
		/* What was read is still reported: the core closes what is
		 * open as if the capture had ended here. */
		snprintf(err, errlen, "%s: capture truncated or unreadable %s", path,
			 capture_error(cap));
		result = INSPECT_TRUNCATED;
	}
	run->rep.bad_link = capture_bad_link(cap);
	run_finish(run);
	tell_lost_state(run);
	if (capture_writer_close(run->writer, err, errlen) != 0 && result == INSPECT_OK)
		result = INSPECT_FAILED;
	run->writer = NULL;
	if (o->json) {
		races_to_json(run, run->nraces);
		if ((json_out_flush(run->json, o->out) != 0 || run->write_failed) &&
		    result == INSPECT_OK) {
			snprintf(err, errlen, "%s: writing the output failed", path);
			result = INSPECT_FAILED;
		}
		if ((json_out_late(run->json) != 0 || run->late_retries != 0) &&
		    result == INSPECT_OK) {
			snprintf(err, errlen, "%s: %" PRIu64 " objects written out of capture order "
				 "and %" PRIu64 " race retries too late (a bug of kapa-inspect: "
				 "a message began where it did not look)", path,
				 json_out_late(run->json), run->late_retries);
			result = INSPECT_FAILED;
		}
		if (run->oom && result == INSPECT_OK) {
			snprintf(err, errlen, "%s: out of memory buffering messages; output incomplete",
				 path);
			result = INSPECT_FAILED;
		}
	} else {
		report_print(&run->rep, o->out, path);
		if (o->total != NULL)
			report_merge(o->total, &run->rep);
	}
out:
	capture_writer_close(run->writer, err, errlen);
	run_free(run);
	free(run);
	capture_close(cap);
	return result;
}
