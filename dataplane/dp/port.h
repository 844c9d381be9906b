/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * One DPDK port of a bridge pair: what it can do (queues, RSS, MTU), set up
 * to match the workers, and its link state mirrored onto its peer.
 *
 * Setup adapts to the port and says what it chose: one RX queue per worker
 * with symmetric RSS where the port hashes TCP with a Toeplitz key (both
 * directions of a connection reach the same queue number on either port),
 * else the RX queues it has, their packets dispatched in software
 * (dispatch.h); one TX queue per worker where it has that many, else
 * workers share its queues under a lock.
 */
#ifndef DP_PORT_H
#define DP_PORT_H

#include <stdint.h>
#include <stdio.h>

#include <rte_ethdev.h>
#include <rte_spinlock.h>

/** What a port can do, read before anything is configured (the mbuf pool
 *  is sized from it). */
struct dp_port_caps {
	char name[RTE_ETH_NAME_MAX_LEN];
	const char *driver;
	uint16_t max_rxq, max_txq;
	uint16_t mtu;
	uint8_t rss;		/**< hashes IPv4 and IPv6 TCP with a Toeplitz key */
	/** Verifies TCP checksums on receive (RTE_ETH_RX_OFFLOAD_TCP_CKSUM):
	 *  requested, and its verdict read from each mbuf's ol_flags. Ports
	 *  without it (net_af_packet, net_memif, net_pcap, net_ring in DPDK
	 *  22.11) give none: the engine verifies in software. */
	uint8_t rx_tcp_csum;
	/** Verifies IPv4 header checksums on receive
	 *  (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM), likewise. */
	uint8_t rx_ip_csum;
	uint8_t hash_key_size;
	int socket;		/**< NUMA socket, or SOCKET_ID_ANY */
	/** The kernel interface behind the port (net_af_packet, net_af_xdp,
	 *  NICs bound to the kernel), 0 if none: its link is read and set
	 *  through the kernel, which those PMDs do not do themselves. */
	unsigned if_index;
};

struct dp_port_params {
	uint16_t port_id;
	uint16_t peer_id;	/**< what arrives here leaves there */
	uint16_t workers;
	uint8_t use_rss;	/**< one RX queue per worker, symmetric RSS */
	uint16_t nb_rxq;	/**< without RSS: RX queues (at most max_rxq) */
	uint16_t rx_desc, tx_desc;	/**< 0 = 1024 each */
	struct rte_mempool *pool;
};

struct dp_port {
	uint16_t id, peer;
	uint16_t nb_rxq, nb_txq;
	uint16_t rx_desc, tx_desc;
	uint16_t workers;
	uint8_t rss;		/**< RX queue w is worker w's */
	uint8_t started;
	uint8_t link_up;	/**< last link state read */
	uint8_t forced_down;	/**< taken down by kapa-dp because its peer went down */
	/** Brought back up by kapa-dp: not a cause until its carrier is seen
	 *  (a veth takes a moment), for at most this many syncs. */
	uint8_t settling;
	uint16_t mtu;
	/** Largest frame forwarded through the core: MTU + Ethernet + two
	 *  VLAN tags. Larger ones are forwarded untouched, counted. */
	uint32_t max_frame;
	/** One lock per TX queue when workers outnumber them, else NULL. */
	rte_spinlock_t *txq_lock;
	struct dp_port_caps caps;
};

/** Read what port @p port_id can do. @return 0, or -errno with @p err filled. */
int dp_port_probe(uint16_t port_id, struct dp_port_caps *caps, char *err, size_t errlen);

/**
 * Configure the port's queues (not started).
 * @return 0, or -errno with @p err filled.
 */
int dp_port_create(struct dp_port *p, const struct dp_port_params *pp, char *err, size_t errlen);

/** Start the port, promiscuous (a bridge forwards every frame). */
int dp_port_start(struct dp_port *p, char *err, size_t errlen);

/** Stop and close the port. */
void dp_port_stop(struct dp_port *p);

/** Free what dp_port_create() allocated. */
void dp_port_free(struct dp_port *p);

/** One line per port: queues, RSS or dispatch, MTU, what was refused. */
void dp_port_describe(const struct dp_port *p, FILE *f);

/**
 * Mirror link state within bridge pairs (main lcore, a few times a second):
 * a port whose link went down takes its peer down (so the device behind the
 * peer sees its carrier go), and brings it back up when its own link
 * returns. A port kapa-dp took down is not a cause itself.
 * @return ports whose state kapa-dp changed.
 */
unsigned dp_ports_link_sync(struct dp_port *ports, uint16_t n, FILE *log);

#endif /* DP_PORT_H */
