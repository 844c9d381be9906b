/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/**
 * @file
 * Every counter kapa publishes, defined once (as HAProxy's stats columns
 * are one table): the field of the per-worker stats record in the pinned
 * map (struct kapa_stats_rec, kapa_maps.h), its name (telemetry, the
 * counters printed at exit, and later kapactl and Prometheus), its help
 * text, its kind, and where the data plane takes its value from.
 *
 *     X(field, KIND, "name", "help", source)
 *
 * KIND is KAPA_CTR_COUNTER (only grows) or KAPA_CTR_GAUGE (a level). The
 * source is an expression over `s`, a `const struct dp_counter_src *` of
 * the data plane (dataplane/dp/publish.h): only user space expands it;
 * under -target bpf the fifth argument is never used. Adding a counter is
 * one line here (and KAPA_MAPS_ABI_VERSION bumped: the record changes).
 */
#ifndef KAPA_COUNTERS_H
#define KAPA_COUNTERS_H

#define KAPA_CTR_COUNTER 0
#define KAPA_CTR_GAUGE 1

#define KAPA_COUNTERS(X)							\
	/* ports */								\
	X(rx_packets, KAPA_CTR_COUNTER, "rx_packets", "frames received on the ports", s->dp->rx_packets) \
	X(rx_bytes, KAPA_CTR_COUNTER, "rx_bytes", "bytes received on the ports", s->dp->rx_bytes) \
	X(tx_packets, KAPA_CTR_COUNTER, "tx_packets", "frames sent (forwarded and crafted)", s->tx->packets) \
	X(tx_bytes, KAPA_CTR_COUNTER, "tx_bytes", "bytes sent", s->tx->bytes) \
	X(tx_dropped, KAPA_CTR_COUNTER, "tx_dropped", "frames a port's TX queue did not take", s->tx->dropped) \
	X(crafted, KAPA_CTR_COUNTER, "crafted", "frames kapa crafted (RSTs, split segments)", s->tx->crafted) \
	X(craft_no_mbuf, KAPA_CTR_COUNTER, "craft_no_mbuf", "crafted frames lost: the mbuf pool was empty", s->tx->craft_no_mbuf) \
	X(craft_no_port, KAPA_CTR_COUNTER, "craft_no_port", "crafted frames lost: no port known toward their receiver", s->tx->craft_no_port) \
	X(untouched_multiseg, KAPA_CTR_COUNTER, "untouched_multiseg", "frames in several mbufs, forwarded untouched", s->dp->untouched_multiseg) \
	X(untouched_oversize, KAPA_CTR_COUNTER, "untouched_oversize", "frames over the port's MTU, forwarded untouched", s->dp->untouched_oversize) \
	X(dispatched, KAPA_CTR_COUNTER, "dispatched", "frames handed to the worker that owns their connection", s->dp->dispatched) \
	X(ghosts_reset, KAPA_CTR_COUNTER, "ghosts_reset", "connections a killed kapa-dp had shifted, reset when their client spoke", s->dp->ghosts_reset) \
	X(ghost_forwarded, KAPA_CTR_COUNTER, "ghost_forwarded", "server frames of such connections forwarded untouched meanwhile", s->dp->ghost_forwarded) \
	X(dispatch_full, KAPA_CTR_COUNTER, "dispatch_full", "frames dropped: the owning worker's ring was full", s->dp->dispatch_full) \
	/* what the parser found */						\
	X(pkts_tcp, KAPA_CTR_COUNTER, "pkts_tcp", "TCP segments", s->tcp->pkts[KAPA_PKT_TCP]) \
	X(pkts_non_ip, KAPA_CTR_COUNTER, "pkts_non_ip", "frames that are not IP (ARP, LLDP, ...)", s->tcp->pkts[KAPA_PKT_NON_IP]) \
	X(pkts_non_tcp, KAPA_CTR_COUNTER, "pkts_non_tcp", "IP packets that are not TCP", s->tcp->pkts[KAPA_PKT_NON_TCP]) \
	X(pkts_fragment, KAPA_CTR_COUNTER, "pkts_fragment", "IP fragments (forwarded unchanged, reassembled for inspection: frag_*)", s->tcp->pkts[KAPA_PKT_FRAGMENT]) \
	X(pkts_malformed, KAPA_CTR_COUNTER, "pkts_malformed", "malformed frames (forwarded, counted by reason)", s->tcp->pkts[KAPA_PKT_MALFORMED]) \
	/* TCP checksums (struct kapa_engine_stats) */				\
	X(csum_bad, KAPA_CTR_COUNTER, "csum_bad", "TCP segments with a bad checksum, which their receiver drops: forwarded unchanged, not used", s->eng->csum_bad) \
	X(csum_port, KAPA_CTR_COUNTER, "csum_port", "TCP checksums the port verified (good or bad)", s->eng->csum_port) \
	X(csum_sw, KAPA_CTR_COUNTER, "csum_sw", "TCP checksums kapa verified in software (the port gave no verdict)", s->eng->csum_sw) \
	/* IP fragment reassembly (struct kapa_frag_stats) */		\
	X(frag_fragments, KAPA_CTR_COUNTER, "frag_fragments", "IP fragments given to the reassembly table", s->frag->fragments) \
	X(frag_reassembled, KAPA_CTR_COUNTER, "frag_reassembled", "datagrams rebuilt from IP fragments (atomic ones included)", s->frag->reassembled + s->frag->atomic) \
	X(frag_handed_over, KAPA_CTR_COUNTER, "frag_handed_over", "datagrams rebuilt and copied to the worker that owns their connection", s->dp->frag_handed_over) \
	X(frag_foreign, KAPA_CTR_COUNTER, "frag_foreign", "datagrams rebuilt, not inspected: another worker owns their connection (RSS), or no mbuf / ring room to hand them over", s->frag->refused[KAPA_FRAG_REF_FOREIGN]) \
	X(frag_timed_out, KAPA_CTR_COUNTER, "frag_timed_out", "datagrams incomplete at their timeout (30 s IPv4, 60 s IPv6)", s->frag->timed_out) \
	X(frag_overlaps, KAPA_CTR_COUNTER, "frag_overlaps", "datagrams dropped: their fragments overlapped", s->frag->overlaps) \
	X(frag_duplicates, KAPA_CTR_COUNTER, "frag_duplicates", "fragments identical in place to one held (first copy kept)", s->frag->duplicates) \
	X(frag_table_full, KAPA_CTR_COUNTER, "frag_table_full", "datagrams dropped to make room (datagrams or bytes bound)", s->frag->table_full) \
	X(frag_refused_bounds, KAPA_CTR_COUNTER, "frag_refused_bounds", "fragments refused: not a multiple of 8, past the end, over 65535 bytes, empty", s->frag_refused_bounds) \
	X(frag_refused_dropped, KAPA_CTR_COUNTER, "frag_refused_dropped", "fragments of a datagram dropped before (until its timeout)", s->frag->refused[KAPA_FRAG_REF_DROPPED]) \
	X(frag_refused_other, KAPA_CTR_COUNTER, "frag_refused_other", "fragments refused otherwise (headers too long, in a tunnel, too many, no room, nested)", s->frag_refused_other) \
	X(frag_open, KAPA_CTR_GAUGE, "frag_open", "datagrams held in the reassembly table", s->frag->open) \
	X(frag_bytes, KAPA_CTR_GAUGE, "frag_bytes", "bytes held by the reassembly table", s->frag->bytes_held) \
	/* connections */							\
	X(conns_active, KAPA_CTR_GAUGE, "conns_active", "connections in the table", s->conns_active) \
	X(conns_opened, KAPA_CTR_COUNTER, "conns_opened", "connections seen opening (handshake)", s->tcp->conns_opened) \
	X(conns_midstream, KAPA_CTR_COUNTER, "conns_midstream", "connections picked up without their handshake", s->tcp->conns_midstream) \
	X(conns_refused, KAPA_CTR_COUNTER, "conns_refused", "connections not tracked: the table was full", s->tcp->conns_refused) \
	X(rel_closed, KAPA_CTR_COUNTER, "rel_closed", "connections ended by FIN both ways or an RST", s->flow->released[KAPA_REL_CLOSED]) \
	X(rel_idle, KAPA_CTR_COUNTER, "rel_idle", "connections released at the table's idle limit", s->flow->released[KAPA_REL_IDLE]) \
	X(rel_evict_embryonic, KAPA_CTR_COUNTER, "rel_evict_embryonic", "half-open connections evicted (half-open budget full)", s->flow->released[KAPA_REL_EVICT_EMBRYONIC]) \
	X(rel_evict_lru, KAPA_CTR_COUNTER, "rel_evict_lru", "connections evicted, the longest idle first (table full)", s->flow->released[KAPA_REL_EVICT_LRU]) \
	X(rel_replaced, KAPA_CTR_COUNTER, "rel_replaced", "connections replaced by a new SYN on their 4-tuple", s->flow->released[KAPA_REL_REPLACED]) \
	X(rel_explicit, KAPA_CTR_COUNTER, "rel_explicit", "connections released by kapa (its RSTs, a command, shutdown)", s->flow->released[KAPA_REL_EXPLICIT]) \
	X(rst_accepted, KAPA_CTR_COUNTER, "rst_accepted", "RSTs at exactly the next sequence number", s->tcp->rst_accepted) \
	X(rst_ignored, KAPA_CTR_COUNTER, "rst_ignored", "other RSTs (forwarded, state kept)", s->tcp->rst_ignored) \
	X(gaps, KAPA_CTR_COUNTER, "gaps", "stream holes skipped (bytes kapa never saw)", s->tcp->gaps) \
	X(ooo_bytes, KAPA_CTR_GAUGE, "ooo_bytes", "bytes held out of order", s->ooo_bytes) \
	/* HTTP/1.x */								\
	X(http_requests, KAPA_CTR_COUNTER, "http_requests", "request header blocks", s->http->requests) \
	X(http_responses, KAPA_CTR_COUNTER, "http_responses", "response header blocks (1xx included)", s->http->responses) \
	X(http_interim, KAPA_CTR_COUNTER, "http_interim", "1xx responses", s->http->interim) \
	X(http_left, KAPA_CTR_COUNTER, "http_left", "connections that left HTTP/1.x tracking", s->http_left) \
	X(http10_requests, KAPA_CTR_COUNTER, "http10_requests", "HTTP/1.0 requests", s->dp->http10_requests) \
	X(req_conn_keep_alive, KAPA_CTR_COUNTER, "req_conn_keep_alive", "requests with Connection: keep-alive", s->dp->req_conn_keep_alive) \
	X(req_conn_close, KAPA_CTR_COUNTER, "req_conn_close", "requests with Connection: close", s->dp->req_conn_close) \
	X(req_ka_field, KAPA_CTR_COUNTER, "req_ka_field", "requests with a Keep-Alive field", s->dp->req_ka_field) \
	X(resp_conn_keep_alive, KAPA_CTR_COUNTER, "resp_conn_keep_alive", "responses with Connection: keep-alive", s->dp->resp_conn_keep_alive) \
	X(resp_conn_close, KAPA_CTR_COUNTER, "resp_conn_close", "responses with Connection: close", s->dp->resp_conn_close) \
	X(resp_ka_field, KAPA_CTR_COUNTER, "resp_ka_field", "responses with a Keep-Alive field", s->dp->resp_ka_field) \
	X(pipeline_overflow, KAPA_CTR_COUNTER, "pipeline_overflow", "requests past the pipeline depth (responses not paired)", s->http->pipeline_overflow) \
	X(pair_unsure, KAPA_CTR_COUNTER, "pair_unsure", "responses whose request was not known for sure", s->http->pair_unsure) \
	X(http_resync, KAPA_CTR_COUNTER, "http_resync", "HTTP/1.x tracking resumed at a message start after a gap or a pickup", s->http->resync) \
	X(resync_line_dropped, KAPA_CTR_COUNTER, "resync_line_dropped", "candidate start lines given up while resyncing (past 2048 bytes before their LF, or no buffer)", s->http->resync_line_dropped) \
	/* what reading a message needed beyond the grammar (kapa_http_tol) */\
	X(tol_leading_empty, KAPA_CTR_COUNTER, "tol_leading_empty", "messages after empty lines", s->http->tolerated[KAPA_HTTP_TOL_LEADING_EMPTY]) \
	X(tol_ws_run, KAPA_CTR_COUNTER, "tol_ws_run", "start lines with a run of spaces between their parts", s->http->tolerated[KAPA_HTTP_TOL_WS_RUN]) \
	X(tol_htab, KAPA_CTR_COUNTER, "tol_htab", "start lines with a tab between their parts", s->http->tolerated[KAPA_HTTP_TOL_HTAB]) \
	X(tol_trailing_ws, KAPA_CTR_COUNTER, "tol_trailing_ws", "start lines with whitespace before their end", s->http->tolerated[KAPA_HTTP_TOL_TRAILING_WS]) \
	X(tol_version_digits, KAPA_CTR_COUNTER, "tol_version_digits", "start lines whose version is not d.d (HTTP/1.01, HTTP/1.10)", s->http->tolerated[KAPA_HTTP_TOL_VERSION_DIGITS]) \
	X(tol_no_version, KAPA_CTR_COUNTER, "tol_no_version", "request lines of a known method without a well-formed version (read as 1.0)", s->http->tolerated[KAPA_HTTP_TOL_NO_VERSION]) \
	X(tol_bare_lf, KAPA_CTR_COUNTER, "tol_bare_lf", "messages whose start line or last line ends in a bare LF", s->http->tolerated[KAPA_HTTP_TOL_BARE_LF]) \
	X(tol_version_major, KAPA_CTR_COUNTER, "tol_version_major", "requests of HTTP/2.0 or later on an HTTP/1.x connection (read as 1.1)", s->http->tolerated[KAPA_HTTP_TOL_VERSION_MAJOR]) \
	/* data-first pickups: what decided where a direction starts */	\
	X(pickup_start_ack, KAPA_CTR_COUNTER, "pickup_start_ack", "picked-up directions started at the peer's ack", s->tcp->pickup_start_ack) \
	X(pickup_start_timeout, KAPA_CTR_COUNTER, "pickup_start_timeout", "picked-up directions started after hole_timeout with no ack", s->tcp->pickup_start_timeout) \
	X(pickup_start_limit, KAPA_CTR_COUNTER, "pickup_start_limit", "picked-up directions started early: hold limit, pool or waiting queue full", s->tcp->pickup_start_limit) \
	X(pickup_start_other, KAPA_CTR_COUNTER, "pickup_start_other", "picked-up directions started by an RST, an expiry, a release or a segment past the window", s->tcp->pickup_start_other) \
	X(pickup_early_bytes, KAPA_CTR_COUNTER, "pickup_early_bytes", "picked-up bytes that came before the first byte seen, and were taken", s->tcp->pickup_early_bytes) \
	/* anomalies */								\
	X(out_of_window, KAPA_CTR_COUNTER, "out_of_window", "segments far outside the window (ignored, forwarded)", s->tcp->out_of_window) \
	X(bytes_inconsistent, KAPA_CTR_COUNTER, "bytes_inconsistent", "retransmitted bytes that differed from the first copy", s->tcp->bytes_inconsistent) \
	X(gap_hole_timeout, KAPA_CTR_COUNTER, "gap_hole_timeout", "holes skipped after hole_timeout (loss kapa never saw filled)", s->tcp->gap_hole_timeout) \
	X(gap_release, KAPA_CTR_COUNTER, "gap_release", "holes handed on when a connection with held bytes was released", s->tcp->gap_release) \
	X(ka_without_conn, KAPA_CTR_COUNTER, "ka_without_conn", "Keep-Alive fields without Connection: keep-alive", s->http->ka_without_conn) \
	X(ka_bad_param, KAPA_CTR_COUNTER, "ka_bad_param", "Keep-Alive parameters ignored as malformed", s->http->ka_bad_param) \
	/* the policy's actions, by kind and reason (struct kapa_engine_stats) */ \
	X(rst_idle, KAPA_CTR_COUNTER, "rst_idle", "connections reset at the keep-alive idle limit", s->eng->act[KAPA_ACT_KIND_RST][KAPA_ACT_WHY_IDLE]) \
	X(rst_stall, KAPA_CTR_COUNTER, "rst_stall", "connections reset at the stall limit", s->eng->act[KAPA_ACT_KIND_RST][KAPA_ACT_WHY_STALL]) \
	X(rst_opaque_idle, KAPA_CTR_COUNTER, "rst_opaque_idle", "opaque connections reset at their idle limit", s->eng->act[KAPA_ACT_KIND_RST][KAPA_ACT_WHY_OPAQUE_IDLE]) \
	X(rst_max, KAPA_CTR_COUNTER, "rst_max", "connections reset for a request past the max", s->eng->act[KAPA_ACT_KIND_RST][KAPA_ACT_WHY_REQUESTS]) \
	X(rst_evicted, KAPA_CTR_COUNTER, "rst_evicted", "shifted connections reset as they left the table", s->eng->act[KAPA_ACT_KIND_RST][KAPA_ACT_WHY_EVICTED]) \
	X(rst_command, KAPA_CTR_COUNTER, "rst_command", "connections reset by an operator's command (kapactl conn close)", s->eng->act[KAPA_ACT_KIND_RST][KAPA_ACT_WHY_COMMAND]) \
	X(rst_shutdown, KAPA_CTR_COUNTER, "rst_shutdown", "shifted connections reset at shutdown", s->eng->act[KAPA_ACT_KIND_RST][KAPA_ACT_WHY_SHUTDOWN]) \
	X(close_rewritten, KAPA_CTR_COUNTER, "close_rewritten", "responses to request max given Connection: close in place", s->eng->act[KAPA_ACT_KIND_REWRITE][KAPA_ACT_WHY_REQUESTS]) \
	X(close_inserted, KAPA_CTR_COUNTER, "close_inserted", "responses to request max given a Connection: close line", s->eng->act[KAPA_ACT_KIND_INSERT][KAPA_ACT_WHY_REQUESTS]) \
	X(closed_max, KAPA_CTR_COUNTER, "closed_max", "connections closed after the response that announced it (a FIN to each end)", s->eng->act[KAPA_ACT_KIND_CLOSE][KAPA_ACT_WHY_REQUESTS]) \
	X(close_after_response, KAPA_CTR_COUNTER, "close_after_response", "closes once the client had the response (the bytes were gone)", s->close_after) \
	X(ka_rewritten, KAPA_CTR_COUNTER, "ka_rewritten", "responses whose Keep-Alive was rewritten in place", s->eng->act[KAPA_ACT_KIND_REWRITE][KAPA_ACT_WHY_ADVERTISE]) \
	X(ka_inserted, KAPA_CTR_COUNTER, "ka_inserted", "responses given Keep-Alive lines", s->eng->act[KAPA_ACT_KIND_INSERT][KAPA_ACT_WHY_ADVERTISE]) \
	X(refused_l2_deep, KAPA_CTR_COUNTER, "refused_l2_deep", "actions refused: a link layer kapa cannot rebuild", s->eng->act[KAPA_ACT_KIND_REFUSED][KAPA_ACT_WHY_L2_DEEP]) \
	X(refused_forwarded, KAPA_CTR_COUNTER, "refused_forwarded", "advertisements skipped: the bytes were gone", s->eng->act[KAPA_ACT_KIND_REFUSED][KAPA_ACT_WHY_FORWARDED]) \
	X(refused_log_full, KAPA_CTR_COUNTER, "refused_log_full", "edits refused: no edit log left", s->eng->act[KAPA_ACT_KIND_REFUSED][KAPA_ACT_WHY_LOG_FULL]) \
	X(refused_no_room, KAPA_CTR_COUNTER, "refused_no_room", "edits refused: the packet could not grow", s->eng->act[KAPA_ACT_KIND_REFUSED][KAPA_ACT_WHY_NO_ROOM]) \
	X(refused_tolerated, KAPA_CTR_COUNTER, "refused_tolerated", "edits refused: the message needed a tolerance (advertise skipped, or closed after the response)", s->refused_tolerated) \
	X(refused_fragmented, KAPA_CTR_COUNTER, "refused_fragmented", "edits refused: the packet was rebuilt from IP fragments, which go on unchanged", s->eng->act[KAPA_ACT_KIND_REFUSED][KAPA_ACT_WHY_FRAGMENTED]) \
	X(refused_other, KAPA_CTR_COUNTER, "refused_other", "actions refused otherwise (fields, sequence, link header)", s->refused_other) \
	X(rst_sent, KAPA_CTR_COUNTER, "rst_sent", "RSTs crafted", s->eng->rst_sent) \
	X(fin_sent, KAPA_CTR_COUNTER, "fin_sent", "FINs crafted (closed_max)", s->eng->fin_sent) \
	X(pkts_edited, KAPA_CTR_COUNTER, "pkts_edited", "forwarded frames whose bytes kapa changed", s->eng->pkts_edited) \
	X(pkts_refused, KAPA_CTR_COUNTER, "pkts_refused", "segments not forwarded (requests past the max)", s->eng->pkts_dropped) \
	X(pkts_split, KAPA_CTR_COUNTER, "pkts_split", "segments split for the client's MSS", s->eng->pkts_split) \
	X(bytes_inserted, KAPA_CTR_COUNTER, "bytes_inserted", "bytes kapa inserted", s->eng->bytes_inserted) \
	X(edits_replayed, KAPA_CTR_COUNTER, "edits_replayed", "edits applied again to retransmissions", s->eng->edits_replayed) \
	X(replay_no_room, KAPA_CTR_COUNTER, "replay_no_room", "retransmissions dropped: no room to apply their edits again", s->eng->replay_no_room) \
	X(acks_translated, KAPA_CTR_COUNTER, "acks_translated", "client ACKs moved back to the server's sequence space", s->eng->acks_translated) \
	X(sack_edges_translated, KAPA_CTR_COUNTER, "sack_edges_translated", "SACK edges moved back to the server's sequence space", s->eng->sack_edges_translated) \
	X(stale_probes, KAPA_CTR_COUNTER, "stale_probes", "old retransmissions sent as probes", s->eng->stale_probes) \
	X(stale_cut, KAPA_CTR_COUNTER, "stale_cut", "retransmissions from before the client's ack to past it: the old bytes cut", s->eng->stale_cut) \
	X(midstream_limited, KAPA_CTR_COUNTER, "midstream_limited", "picked-up connections given limits", s->eng->midstream_limited) \
	X(decisions, KAPA_CTR_COUNTER, "decisions", "policy decisions taken", s->eng->decisions) \
	X(prog_out_of_range, KAPA_CTR_COUNTER, "prog_out_of_range", "policy program results out of range, clamped (mode to observe, seconds to 20 days)", s->eng->prog_out_of_range) \
	X(rules_redecided, KAPA_CTR_COUNTER, "rules_redecided", "connections matched again against a new rule set", s->eng->rules_redecided) \
	/* idle-close races and keep-alive hint compliance (struct kapa_race_stats) */ \
	X(races_fin, KAPA_CTR_COUNTER, "races_fin", "requests lost to the server's FIN on an idle persistent connection", s->race->races[KAPA_RACE_FIN]) \
	X(races_rst, KAPA_CTR_COUNTER, "races_rst", "requests lost to the server's RST on an idle persistent connection", s->race->races[KAPA_RACE_RST]) \
	X(races_retried, KAPA_CTR_COUNTER, "races_retried", "lost requests sent again on a new connection within 1 s", s->race->retried) \
	X(idle_closes, KAPA_CTR_COUNTER, "idle_closes", "idle persistent connections closed by the server", s->race->idle_closes) \
	X(idle_reuses, KAPA_CTR_COUNTER, "idle_reuses", "idle persistent connections reused and answered", s->race->reuses) \
	X(hint_conns, KAPA_CTR_COUNTER, "hint_conns", "connections whose client was told a Keep-Alive timeout or max (ended)", s->race->hinted_conns) \
	X(hint_compliant, KAPA_CTR_COUNTER, "hint_compliant", "of those, no reuse at or past the timeout and no request past max", s->race->hint_compliant) \
	X(hint_reuse_late, KAPA_CTR_COUNTER, "hint_reuse_late", "reuses after an idle gap of the told timeout or more", s->race->hint_reuse_late) \
	X(hint_over_max, KAPA_CTR_COUNTER, "hint_over_max", "requests past the told max", s->race->hint_over_max) \
	X(hint_closed_in_time, KAPA_CTR_COUNTER, "hint_closed_in_time", "idle connections the client closed before the told timeout", s->race->hint_closed_in_time) \
	X(race_tables_full, KAPA_CTR_COUNTER, "race_tables_full", "connections or races past the race tables' bounds (server, agent, retry watch)", s->race_tables_full)

/** How many counters the table has. */
#define KAPA_COUNTER_ONE(field, kind, name, help, src) + 1
#define KAPA_COUNTER_COUNT (0 KAPA_COUNTERS(KAPA_COUNTER_ONE))

#endif /* KAPA_COUNTERS_H */
