/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * kapa's XDP program (ebpf/kapa_xdp.bpf.c) on the interfaces of net_af_xdp
 * ports: find the instance attached to an interface and fill its maps (the
 * peer and the inspected ports), attach an instance of our own where
 * none is (fail open while kapa-dp is not running), detach it, read its
 * counters. libbpf only, no DPDK: kapa-dp calls it for its net_af_xdp
 * ports and the kapa-xdp tool for operators and tests. docs/xdp.md.
 *
 * Every function returns 0 or -errno and, on an error, writes what was
 * wrong into @p err (at most @p errlen bytes, NUL-terminated).
 */
#ifndef DP_XDP_H
#define DP_XDP_H

#include <stddef.h>
#include <stdint.h>

#include "kapa_xdp.h"

/** What one interface's program instance is told. */
struct dp_xdp_params {
	unsigned int if_index;		/**< the interface the program is attached to */
	unsigned int peer_if_index;	/**< where the frames kapa does not inspect go */
	/** The inspected TCP ports, a bitmap of KAPA_XDP_PORT_WORDS words (port
	 *  p is bit p % 64 of word p / 64: the layout of kapa-dp's --ports,
	 *  KAPA_HTTP_PORT_WORDS); NULL = every TCP port (kapa-dp without
	 *  --ports). */
	const uint64_t *ports;
};

/**
 * Fill the maps of the kapa XDP program attached to @c p->if_index (by
 * DPDK's net_af_xdp PMD, xdp_prog=kapa_xdp.bpf.o, or by dp_xdp_attach()):
 * the port set, then the peer, then the configuration record, which turns
 * the split on in one step. Idempotent; a new set replaces the old one.
 *
 * @param p       the interface, its peer, the ports
 * @param err     where to write what went wrong
 * @param errlen  size of @p err
 * @return 0; -ENOENT when no program is attached to the interface;
 *         -EPROTO when the attached program is not kapa's (DPDK's default
 *         program, or another object: it lacks kapa's maps) or of another
 *         layout (KAPA_XDP_ABI_VERSION); -ENODEV when the peer does not
 *         exist; another -errno from the kernel (-EPERM: not root).
 */
int dp_xdp_setup(const struct dp_xdp_params *p, char *err, size_t errlen);

/**
 * Load an instance of the built-in kapa XDP program, attach it to
 * @c p->if_index (native XDP where the driver has it, else generic) and
 * fill its maps as dp_xdp_setup() does. With no AF_XDP socket bound it
 * redirects every frame to the peer: what the bridge does while kapa-dp is
 * not running. When a kapa program is already attached (one DPDK left
 * after kapa-dp was killed, or an earlier dp_xdp_attach()), it is kept and
 * only set up again.
 *
 * @param p        the interface, its peer, the ports
 * @param replace  attach even when another (not kapa's) program is there,
 *                 replacing it
 * @param err      where to write what went wrong
 * @param errlen   size of @p err
 * @return 0; -EBUSY when another program is attached and not @p replace;
 *         the returns of dp_xdp_setup(); another -errno (load, attach).
 */
int dp_xdp_attach(const struct dp_xdp_params *p, int replace, char *err, size_t errlen);

/**
 * Detach the kapa XDP program from @p if_index, so that DPDK's net_af_xdp
 * PMD, which attaches only where no program is (XDP_FLAGS_UPDATE_IF_NOEXIST),
 * can attach its own at kapa-dp's start.
 *
 * @param if_index  the interface
 * @param force     detach whatever program is attached, kapa's or not
 * @param err       where to write what went wrong
 * @param errlen    size of @p err
 * @return 0 (also when none was attached); -EPROTO when the program is
 *         not kapa's and not @p force; another -errno.
 */
int dp_xdp_detach(unsigned int if_index, int force, char *err, size_t errlen);

/** What dp_xdp_read() finds on an interface. */
struct dp_xdp_state {
	uint32_t prog_id;		/**< the attached program's ID */
	struct kapa_xdp_cfg cfg;	/**< its configuration record */
	struct kapa_xdp_stats_rec stats;	/**< its counters, added up over the CPUs */
	char prog_name[16];		/**< the attached program's name */
};

/**
 * Read the configuration and counters of the kapa XDP program attached to
 * @p if_index.
 *
 * @param if_index  the interface
 * @param st        filled on success
 * @param err       where to write what went wrong
 * @param errlen    size of @p err
 * @return 0, or the errors of dp_xdp_setup() (-ENOENT, -EPROTO, ...).
 */
int dp_xdp_read(unsigned int if_index, struct dp_xdp_state *st, char *err, size_t errlen);

#endif /* DP_XDP_H */
