/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_memory.h>

#include "capture.h"
#include "inspect.h"
#include "kapa_http.h"
#include "kapa_pkt.h"
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

/* kapa-inspect's per-connection state, after the tracker's in the app slot. */
struct inspect_conn {
	uint64_t resp_end_ns;	/* end of the last final response; 0 = none */
	uint32_t stream;	/* tshark-style tcp.stream */
	uint32_t requests;
	uint32_t final_responses;
	uint8_t fin;		/* bit per enum kapa_dir */
	uint8_t reset;
	uint8_t http;		/* carried at least one message */
	uint8_t last_interim;	/* the response in progress is 1xx */
};

/* One file's run. */
struct inspect_run {
	const struct inspect_opts *o;
	const char *path;
	struct kapa_tcp *tcp;
	struct kapa_http *http;
	struct streams *streams;
	struct json_out *json;
	struct report rep;
	uint32_t cur_stream;	/* stream of the frame in hand */
	uint64_t cur_frame;
	int at_end;		/* closing what is left when the file ended */
	int oom;		/* JSON buffer could not grow: output incomplete */
};

static struct inspect_conn *
conn_of(const struct kapa_stream_ctx *ctx)
{
	return kapa_http_user_state(ctx);
}

/* "CLIENT > SERVER" by the tracker's view: the sender of a request is the
 * HTTP client, whatever the TCP roles were guessed to be. */
static void
flow_string(const struct kapa_stream_ctx *ctx, const struct kapa_http_msg *msg,
	    char *buf, size_t len)
{
	const struct kapa_flow_key *k = kapa_flow_key(kapa_tcp_table(ctx->tcp), ctx->idx);
	int sender = ctx->dir == KAPA_DIR_C2S ? ctx->conn->client_side : !ctx->conn->client_side;
	int client = msg->is_request ? sender : !sender;
	int n;

	n = json_fmt_endpoint(buf, len, k->family, k->addr[client], k->port[client]);
	n += snprintf(buf + n, len - (size_t)n, " > ");
	json_fmt_endpoint(buf + n, len - (size_t)n, k->family, k->addr[!client], k->port[!client]);
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
		/* Opened by the frame in hand, which streams_number() has
		 * just numbered. */
		uc->stream = run->cur_stream;
		break;
	case KAPA_EV_FIN:
		uc->fin |= (uint8_t)(1u << ctx->dir);
		break;
	case KAPA_EV_RESET:
		uc->reset = 1;
		break;
	case KAPA_EV_CLOSE:
		report_conn_end(&run->rep, uc->requests, uc->http, end_of(run, uc));
		break;
	default:
		break;
	}
}

static const struct kapa_http_ops inspect_http_ops = {
	.message = on_message,
	.message_end = on_message_end,
	.leave = on_leave,
	.event = on_event,
	.expire = NULL,
};

unsigned int
inspect_mem_mb(uint32_t max_conns)
{
	/* Per entry: the 128-byte record, the app slot, the rte_hash key and
	 * bucket share, rounded up generously; plus the reassembly pool
	 * (64 MiB default), header buffers and EAL's own needs. */
	uint64_t per_entry = 128 + KAPA_HTTP_STATE_SIZE + sizeof(struct inspect_conn) + 192;

	return (unsigned int)(160 + (per_entry * max_conns >> 20));
}

static int
run_create(struct inspect_run *run, char *err, size_t errlen)
{
	static unsigned int seq;
	struct kapa_http_conf hconf = {
		.pipeline_depth = INSPECT_PIPELINE_DEPTH,
		.ports = run->o->ports,
		.ops = &inspect_http_ops,
		.ops_arg = run,
	};
	struct kapa_tcp_conf tconf;
	char name[32];

	run->streams = streams_create();
	run->json = json_out_create();
	if (run->streams == NULL || run->json == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	run->http = kapa_http_create(&hconf);
	if (run->http == NULL) {
		snprintf(err, errlen, "cannot create the HTTP tracker: %s", strerror(errno));
		return -ENOMEM;
	}
	/* rte_hash names are unique per process. */
	snprintf(name, sizeof(name), "inspect%u", seq++);
	memset(&tconf, 0, sizeof(tconf));
	tconf.flow.name = name;
	tconf.flow.capacity = run->o->max_conns;
	tconf.flow.app_size = KAPA_HTTP_STATE_SIZE + sizeof(struct inspect_conn);
	tconf.flow.socket_id = SOCKET_ID_ANY;
	tconf.ops = kapa_http_stream_ops();
	tconf.ops_arg = run->http;
	run->tcp = kapa_tcp_create(&tconf);
	if (run->tcp == NULL) {
		snprintf(err, errlen,
			 "cannot create the TCP core for %u connections: %s "
			 "(try a smaller --max-conns)",
			 run->o->max_conns, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return 0;
}

/* Close what is left (EV_CLOSE for every open connection), keep the
 * counters, free the core. */
static void
run_finish(struct inspect_run *run)
{
	if (run->tcp != NULL) {
		run->at_end = 1;
		/* Release first, so that the counters include the bytes
		 * handed on at release (gaps, flushed bytes). */
		kapa_tcp_close_all(run->tcp);
		run->rep.tcp = *kapa_tcp_stats(run->tcp);
		kapa_tcp_destroy(run->tcp);
		run->tcp = NULL;
	}
	if (run->http != NULL)
		run->rep.http = *kapa_http_stats(run->http);
	run->rep.streams = streams_count(run->streams);
}

static void
run_free(struct inspect_run *run)
{
	kapa_tcp_destroy(run->tcp);
	kapa_http_destroy(run->http);
	streams_free(run->streams);
	json_out_free(run->json);
}

/* Feed one frame to the core. @return 0, or -ENOMEM. */
static int
run_frame(struct inspect_run *run, const struct capture_frame *f, uint64_t *clock_ns)
{
	struct kapa_tcp_result res;
	struct kapa_pkt pkt;
	uint64_t ts = f->ts_ns;
	int64_t stream;

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
	if (f->non_ip) {
		run->rep.non_ip_link++;
		return 0;
	}
	capture_parse(f, &pkt);
	if (pkt.cls == KAPA_PKT_TCP) {
		stream = streams_number(run->streams, &pkt, ts);
		if (stream < 0)
			return -ENOMEM;
		run->cur_stream = (uint32_t)stream;
	} else if (streams_note_icmp(run->streams, &pkt, ts) < 0) {
		return -ENOMEM;
	}
	run->cur_frame = f->number;
	kapa_tcp_input(run->tcp, &pkt, ts, (void *)(uintptr_t)f->number, &res);
	kapa_tcp_advance(run->tcp, ts, ADVANCE_MAX);
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
	if (run_create(run, err, errlen) != 0) {
		result = INSPECT_FAILED;
		goto out;
	}
	while ((st = capture_next(cap, &f)) == CAPTURE_FRAME) {
		if (run_frame(run, &f, &clock_ns) != 0) {
			snprintf(err, errlen, "%s: out of memory at frame %llu", path,
				 (unsigned long long)f.number);
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
	if (o->json) {
		if (json_out_flush(run->json, o->out) != 0 && result == INSPECT_OK) {
			snprintf(err, errlen, "%s: writing the output failed", path);
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
	run_free(run);
	free(run);
	capture_close(cap);
	return result;
}
