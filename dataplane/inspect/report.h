/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The operator's report of kapa-inspect (without --json): what the
 * connections in a capture did with keep-alive. Fed by the engine as
 * messages and connections complete; fixed size, whatever the capture.
 */
#ifndef INSPECT_REPORT_H
#define INSPECT_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "kapa_engine.h"
#include "kapa_http.h"
#include "kapa_tcp.h"

#define REPORT_REQ_BUCKETS 8	/**< requests per connection: 0,1,2,3-5,6-10,11-100,101-1000,>1000 */
#define REPORT_GAP_BUCKETS 7	/**< idle gaps: <0.1s,<1s,<5s,<15s,<60s,<300s,>=300s */
#define REPORT_KA_DISTINCT 16	/**< distinct Keep-Alive parameter sets listed per side */
/** Server and User-Agent entries kept: the engine's default table sizes,
 *  plus the "other" entry (index 0) that takes what does not fit. */
#define REPORT_RACE_SERVERS (1024 + 1)
#define REPORT_RACE_AGENTS (256 + 1)

/** How a connection ended, as far as the capture shows. */
enum report_end {
	REPORT_END_FIN = 0,	/**< FIN both ways */
	REPORT_END_HALF,	/**< FIN one way only */
	REPORT_END_RESET,	/**< accepted RST */
	REPORT_END_OPEN,	/**< still open when the capture ended */
	REPORT_END_EXPIRED,	/**< idle expiry or eviction in kapa's table */
	REPORT_END_MAX
};

/** One distinct Keep-Alive parameter set and how often it was announced. */
struct report_ka {
	uint8_t has_timeout, has_max;
	uint32_t timeout, max;
	uint64_t count;
};

struct report {
	uint64_t frames;
	uint64_t bad_link;		/**< link header cut short */
	uint64_t non_ip_link;		/**< cooked/loopback header says not IP */
	uint64_t ts_backwards;		/**< timestamps before an earlier frame's */
	uint64_t first_ns, last_ns;
	uint64_t streams;		/**< TCP connections (tshark numbering) */
	uint64_t http_conns;		/**< connections with at least one message */
	uint64_t conns_closed;		/**< TCP core entries closed */
	uint64_t requests, responses, interim;
	uint64_t req_hist[REPORT_REQ_BUCKETS];
	uint64_t max_req;
	uint64_t ver[2][3];		/**< [is_request][1.0, 1.1, other] */
	uint64_t tok_close[2], tok_keep_alive[2];	/**< [is_request] */
	uint64_t resp_persistent, resp_closing;
	struct report_ka ka[2][REPORT_KA_DISTINCT];	/**< [is_request] */
	uint32_t nka[2];
	uint64_t ka_other[2];		/**< sets beyond REPORT_KA_DISTINCT */
	uint64_t ka_unparsed[2];	/**< Keep-Alive line without usable parameters */
	uint64_t ka_ineffective[2];	/**< Keep-Alive without Connection: keep-alive */
	uint64_t gap_hist[REPORT_GAP_BUCKETS];
	uint64_t gaps, gap_max_ns, gap_sum_ns;
	uint64_t ended[REPORT_END_MAX];	/**< HTTP connections only */
	uint64_t leave[KAPA_LEAVE_MAX];
	struct kapa_tcp_stats tcp;	/**< copied when the file ends */
	struct kapa_http_stats http;
	struct kapa_engine_stats act;	/**< the policy's actions */
	struct kapa_frag_stats frag;	/**< IP fragment reassembly */
	struct kapa_race_stats race;	/**< idle-close races, hint compliance */
	uint32_t nrace_srv, nrace_agt;	/**< entries in use (0: none copied yet) */
	struct kapa_race_server race_srv[REPORT_RACE_SERVERS];
	struct kapa_race_agent race_agt[REPORT_RACE_AGENTS];
	int policy;			/**< run with a policy: print the actions */
	int csum_verify;		/**< run with --verify-checksums: print
					     what it found (act.csum_*) */
	uint32_t captures;		/**< files merged into this report (0 = one) */
};

/** Count one message (header block complete). */
void report_message(struct report *r, const struct kapa_http_msg *msg);

/** Count one idle gap: end of a final response to the next request. */
void report_gap(struct report *r, uint64_t gap_ns);

/** Count a connection leaving tracking. */
void report_leave(struct report *r, enum kapa_http_leave why);

/**
 * Count a connection leaving kapa's table.
 * @param requests  requests seen on it
 * @param http      it carried at least one HTTP message
 */
void report_conn_end(struct report *r, uint32_t requests, int http, enum report_end how);

/** Copy the race and compliance tables of a file's engine (at its end). */
void report_races(struct report *r, const struct kapa_race *race);

/**
 * Add the report of one capture file to a total over several (the last
 * lines of a multi-file run). Counters add up; maxima stay maxima; the
 * Keep-Alive sets merge by value (past REPORT_KA_DISTINCT they count as
 * other sets). A total prints no duration.
 */
void report_merge(struct report *total, const struct report *r);

/** Print the report for @p file. */
void report_print(const struct report *r, FILE *out, const char *file);

#endif /* INSPECT_REPORT_H */
