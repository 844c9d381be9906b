/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/**
 * @file
 * The maps of kapa's XDP program for AF_XDP deployments (kapa_xdp.bpf.c),
 * shared by the program and whatever fills them (dataplane/dp/xdp.c,
 * kapa-xdp). Same rules as kapa_maps.h: fixed-width kernel types, no
 * pointers, no bitfields, sizes checked below; any change to a record
 * bumps KAPA_XDP_ABI_VERSION.
 *
 * The maps are per program instance, not pinned: DPDK's net_af_xdp PMD
 * loads the object once per port (xdp_prog=PATH), so each interface of a
 * bridged pair has its own socket map, its own peer, its own port set (the
 * setup writes the same set into both) and its own counters. See
 * docs/xdp.md.
 */
#ifndef KAPA_XDP_H
#define KAPA_XDP_H

#include <linux/types.h>

/** Bumped on any change to a record below. */
#define KAPA_XDP_ABI_VERSION 1

/* Map names, as the kernel keeps them (at most 15 characters). DPDK's
 * net_af_xdp finds its socket map by the name "xsks_map". */
#define KAPA_XDP_MAP_XSKS  "xsks_map"	/**< XSKMAP: RX queue -> AF_XDP socket */
#define KAPA_XDP_MAP_PEER  "kapa_xdp_peer"	/**< DEVMAP: key 0 -> peer ifindex */
#define KAPA_XDP_MAP_PORTS "kapa_xdp_ports"	/**< 1 x struct kapa_xdp_ports */
#define KAPA_XDP_MAP_CFG   "kapa_xdp_cfg"	/**< 1 x struct kapa_xdp_cfg */
#define KAPA_XDP_MAP_STATS "kapa_xdp_stats"	/**< per CPU: 1 x struct kapa_xdp_stats_rec */

/** Entries of xsks_map: RX queues an interface may have sockets on. */
#define KAPA_XDP_MAX_QUEUES 64
/** 64-bit words of the port bitmap: one bit per TCP port. */
#define KAPA_XDP_PORT_WORDS (65536 / 64)

/* Bits of kapa_xdp_cfg::flags. */
/** Setup has run: the port set and the peer are in force. Until then every
 *  frame goes to the socket when one is bound (as with DPDK's own program),
 *  so that a kapa-dp started without the setup step still sees everything. */
#define KAPA_XDP_F_CONFIGURED 0x1u
/** Every TCP segment is inspected (kapa-dp without --ports); the bitmap is
 *  not read. */
#define KAPA_XDP_F_ALL_TCP 0x2u

/**
 * The configuration of one program instance, the single element of
 * KAPA_XDP_MAP_CFG. The setup writes it last, after the port set and the
 * peer, so the program switches to the new set in one step.
 */
struct kapa_xdp_cfg {
	__u32 abi_version;	/**< KAPA_XDP_ABI_VERSION of the setup that wrote it */
	__u32 flags;		/**< KAPA_XDP_F_* */
	__u32 peer_ifindex;	/**< what KAPA_XDP_MAP_PEER holds, for operators */
	__u32 ports_count;	/**< ports set in the bitmap, for operators */
};

/**
 * The inspected TCP ports, the single element of KAPA_XDP_MAP_PORTS: port p
 * is bit (p % 64) of bits[p / 64]. A segment is inspected when its source
 * or its destination port is set (both directions of a connection match).
 */
struct kapa_xdp_ports {
	__u64 bits[KAPA_XDP_PORT_WORDS];
};

/**
 * The program's counters, defined once: X(field, "name", "help").
 * Every frame ends in exactly one of to_socket, to_peer, no_peer; the
 * others count why or what, among those.
 */
#define KAPA_XDP_COUNTERS(X)						\
	X(to_socket, "to_socket", "frames redirected to the AF_XDP socket of their RX queue (kapa inspects them)") \
	X(to_peer, "to_peer", "frames redirected to the peer interface (kapa does not inspect them, or no socket was bound)") \
	X(no_peer, "no_peer", "frames dropped: no peer interface set (the setup has not run)") \
	X(failopen, "failopen", "frames for the socket sent to the peer instead: no socket bound on their queue (kapa-dp not running)") \
	X(tcp_frags, "tcp_frags", "fragments of TCP datagrams: no ports to look at, all to the socket") \
	X(malformed, "malformed", "frames whose headers end early, to the peer") \
	X(unparsed, "unparsed", "frames under headers the program does not walk (a third VLAN tag, MPLS, PPPoE, a long IPv6 extension chain), to the peer")

/**
 * Counters of one CPU, the single element of the per-CPU array
 * KAPA_XDP_MAP_STATS: readers add the CPUs up.
 */
struct kapa_xdp_stats_rec {
#define KAPA_XDP_STATS_FIELD(field, name, help) __u64 field;
	KAPA_XDP_COUNTERS(KAPA_XDP_STATS_FIELD)
#undef KAPA_XDP_STATS_FIELD
	__u64 spare;
};

_Static_assert(sizeof(struct kapa_xdp_cfg) == 16, "kapa_xdp_cfg layout changed: bump KAPA_XDP_ABI_VERSION");
_Static_assert(sizeof(struct kapa_xdp_ports) == 8192, "kapa_xdp_ports must hold 65536 bits");
_Static_assert(sizeof(struct kapa_xdp_stats_rec) == 64, "kapa_xdp_stats_rec layout changed: bump KAPA_XDP_ABI_VERSION");

#endif /* KAPA_XDP_H */
