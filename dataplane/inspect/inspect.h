/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The kapa-inspect run: one capture file through the same core the data
 * plane runs (packet parser, the engine: TCP core, HTTP tracker, policy and
 * actions), with the output as the engine's user: JSON objects or the
 * operator's report, and with -w the frames kapa-dp would send.
 */
#ifndef INSPECT_H
#define INSPECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct kapa_policy;
struct report;

/**
 * The connection table starts with this many entries (or --max-conns, if
 * smaller) and doubles whenever it is full, up to its limit: --max-conns,
 * or by default inspect_default_max_conns().
 */
#define INSPECT_START_CONNS (64u * 1024u)
/** The default limit's floor: small captures get a table of this size. */
#define INSPECT_MIN_CONNS 1024u
/** The default limit's cap: 8M connections open at once. */
#define INSPECT_DEFAULT_CONNS_CAP (8u * 1024u * 1024u)

struct inspect_opts {
	uint32_t max_conns;	/**< TCP core table limit (it grows up to it) */
	int max_conns_given;	/**< from --max-conns (else from the machine's memory) */
	int json;		/**< one JSON object per message, else the report */
	int with_file;		/**< add "file" to each object (several FILEs) */
	const uint64_t *ports;	/**< --ports bitmap (kapa_http_conf::ports), or NULL */
	struct report *total;	/**< each file's report is merged here, or NULL */
	FILE *out;
	/** --policy / --rule: the rule set the actions run under (capture
	 *  time is the clock); NULL: observe only, no decision taken. */
	const struct kapa_policy *policy;
	/** -w: write what kapa-dp would send here (one FILE only), or NULL. */
	const char *write_path;
	/** --verify-checksums: segments whose TCP checksum is wrong are
	 *  ignored, as the receiver drops them (kapa_engine_conf::csum_verify).
	 *  Off by default: captures taken on the sending host hold checksums
	 *  its NIC was to fill. */
	int verify_csum;
};

/** What inspect_file() did. */
enum inspect_result {
	INSPECT_OK = 0,
	INSPECT_UNREADABLE,	/**< nothing read: not a capture, link type, ... */
	INSPECT_TRUNCATED,	/**< read error part way: output covers what was read */
	INSPECT_FAILED,		/**< kapa itself failed (memory, core creation) */
};

/**
 * Run one capture file and print its JSON objects or report to o->out.
 * @param err  filled with a message unless INSPECT_OK is returned
 * @return enum inspect_result
 */
enum inspect_result inspect_file(const struct inspect_opts *o, const char *path,
				 char *err, size_t errlen);

/** @return EAL memory (MiB) to ask for, for a table of @p max_conns entries. */
unsigned int inspect_mem_mb(uint32_t max_conns);

/**
 * The smallest capture record that can open a connection kapa tracks: a
 * pcap record header (16 bytes) and an IPv4 header and a TCP header (40)
 * on a raw IP link. A file of N bytes holds at most N / this many.
 */
#define INSPECT_MIN_CONN_BYTES 56

/**
 * The table's limit without --max-conns: one connection per 2 KiB of the
 * machine's memory (a tracked connection costs about 0.6 KiB; the rest is
 * room for everything else), at most INSPECT_DEFAULT_CONNS_CAP; and when
 * every one of the @p nfiles @p files is a regular file, at most what the
 * largest can hold (INSPECT_MIN_CONN_BYTES a connection), so that a small
 * capture does not pay at start for the hash of a large one (EAL memory is
 * sized for the limit). @p nfiles 0: the machine's figure.
 */
uint32_t inspect_default_max_conns(int nfiles, char *const *files);

#endif /* INSPECT_H */
