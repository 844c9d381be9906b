/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: probe, configure to what the port supports, start, mirror link
 * state onto the peer. See port.h.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "port.h"

#define DEFAULT_DESC 1024

/*
 * The symmetric Toeplitz key (Woo and Park, "Scalable TCP Session Monitoring
 * with Symmetric Receive-side Scaling", 2012): 0x6d5a repeated makes the
 * hash of (a, b) equal that of (b, a), so both directions of a connection
 * land in the same queue. 52 bytes covers the NICs whose key is longer than
 * the usual 40.
 */
static uint8_t symmetric_rss_key[52] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
	0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
	0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

#define RSS_TCP (RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV6_TCP)

/*
 * The kernel interface of a port: its flags read, or IFF_UP set or
 * cleared. @return the flags, or -errno.
 */
static int
kernel_if_flags(unsigned if_index, int set, int up)
{
	struct ifreq ifr;
	int s, rc;

	memset(&ifr, 0, sizeof(ifr));
	if (if_indextoname(if_index, ifr.ifr_name) == NULL)
		return -errno;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	rc = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (rc == 0 && set) {
		if (up)
			ifr.ifr_flags |= IFF_UP;
		else
			ifr.ifr_flags &= ~IFF_UP;
		rc = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	rc = rc == 0 ? (int)(unsigned short)ifr.ifr_flags : -errno;
	close(s);
	return rc;
}

/* @return 1 when the link of @p p is up; a port that cannot tell is up. A
 * kernel interface is up when administratively up and with carrier. */
static int
link_is_up(const struct dp_port *p)
{
	struct rte_eth_link link;
	int f;

	if (p->caps.if_index != 0) {
		f = kernel_if_flags(p->caps.if_index, 0, 0);
		if (f >= 0)
			return (f & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING);
	}
	if (rte_eth_link_get_nowait(p->id, &link) != 0)
		return 1;
	return link.link_status == RTE_ETH_LINK_UP;
}

/* Take a port's link down or up. @return 0, or -errno. */
static int
link_set(const struct dp_port *p, int up)
{
	int rc;

	if (p->caps.if_index != 0) {
		rc = kernel_if_flags(p->caps.if_index, 1, up);
		return rc < 0 ? rc : 0;
	}
	return up ? rte_eth_dev_set_link_up(p->id) : rte_eth_dev_set_link_down(p->id);
}

int
dp_port_probe(uint16_t port_id, struct dp_port_caps *caps, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	int rc;

	memset(caps, 0, sizeof(*caps));
	if (!rte_eth_dev_is_valid_port(port_id)) {
		snprintf(err, errlen, "port %u does not exist (%u ports: give each with -a or "
			 "--vdev in the EAL arguments)", port_id, rte_eth_dev_count_avail());
		return -ENODEV;
	}
	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0) {
		snprintf(err, errlen, "port %u: cannot read its capabilities: %s", port_id,
			 rte_strerror(-rc));
		return rc;
	}
	rte_eth_dev_get_name_by_port(port_id, caps->name);
	caps->driver = info.driver_name;
	caps->max_rxq = info.max_rx_queues ? info.max_rx_queues : 1;
	caps->max_txq = info.max_tx_queues ? info.max_tx_queues : 1;
	caps->rss = (info.flow_type_rss_offloads & RSS_TCP) == RSS_TCP &&
		    (info.hash_key_size == 40 || info.hash_key_size == 52);
	caps->hash_key_size = info.hash_key_size;
	caps->rx_tcp_csum = (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) != 0;
	caps->rx_ip_csum = (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) != 0;
	caps->socket = rte_eth_dev_socket_id(port_id);
	caps->if_index = info.if_index;
	if (rte_eth_dev_get_mtu(port_id, &caps->mtu) != 0 || caps->mtu == 0)
		caps->mtu = RTE_ETHER_MTU;
	return 0;
}

int
dp_port_create(struct dp_port *p, const struct dp_port_params *pp, char *err, size_t errlen)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t q, nrx, ntx, rxd, txd;
	int rc;

	memset(p, 0, sizeof(*p));
	p->id = pp->port_id;
	p->peer = pp->peer_id;
	rc = dp_port_probe(p->id, &p->caps, err, errlen);
	if (rc != 0)
		return rc;
	rte_eth_dev_info_get(p->id, &info);
	memset(&conf, 0, sizeof(conf));
	if (pp->use_rss) {
		nrx = pp->workers;
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = symmetric_rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = p->caps.hash_key_size;
		/* TCP on both families, and plain IP so that fragments of one
		 * datagram (no ports) stay together too. */
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads &
			(RSS_TCP | RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_IPV6 |
			 RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_FRAG_IPV6);
		p->rss = 1;
	} else {
		nrx = pp->nb_rxq ? pp->nb_rxq : 1;
		if (nrx > p->caps.max_rxq)
			nrx = p->caps.max_rxq;
	}
	if (p->caps.rx_tcp_csum)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
	if (p->caps.rx_ip_csum)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	ntx = pp->workers < p->caps.max_txq ? pp->workers : p->caps.max_txq;
	rc = rte_eth_dev_configure(p->id, nrx, ntx, &conf);
	if (rc != 0) {
		snprintf(err, errlen, "port %u (%s): cannot configure %u RX / %u TX queues: %s",
			 p->id, p->caps.name, nrx, ntx, rte_strerror(-rc));
		return rc;
	}
	rxd = pp->rx_desc ? pp->rx_desc : DEFAULT_DESC;
	txd = pp->tx_desc ? pp->tx_desc : DEFAULT_DESC;
	rte_eth_dev_adjust_nb_rx_tx_desc(p->id, &rxd, &txd);
	for (q = 0; q < nrx; q++) {
		rc = rte_eth_rx_queue_setup(p->id, q, rxd, (unsigned)p->caps.socket, NULL, pp->pool);
		if (rc != 0) {
			snprintf(err, errlen, "port %u (%s): RX queue %u: %s", p->id, p->caps.name,
				 q, rte_strerror(-rc));
			return rc;
		}
	}
	for (q = 0; q < ntx; q++) {
		rc = rte_eth_tx_queue_setup(p->id, q, txd, (unsigned)p->caps.socket, NULL);
		if (rc != 0) {
			snprintf(err, errlen, "port %u (%s): TX queue %u: %s", p->id, p->caps.name,
				 q, rte_strerror(-rc));
			return rc;
		}
	}
	if (ntx < pp->workers) {
		p->txq_lock = calloc(ntx, sizeof(*p->txq_lock));
		if (p->txq_lock == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		for (q = 0; q < ntx; q++)
			rte_spinlock_init(&p->txq_lock[q]);
	}
	p->workers = pp->workers;
	p->nb_rxq = nrx;
	p->nb_txq = ntx;
	p->rx_desc = rxd;
	p->tx_desc = txd;
	p->mtu = p->caps.mtu;
	p->max_frame = (uint32_t)p->mtu + RTE_ETHER_HDR_LEN + 2 * RTE_VLAN_HLEN;
	return 0;
}

int
dp_port_start(struct dp_port *p, char *err, size_t errlen)
{
	int rc;

	rc = rte_eth_dev_start(p->id);
	if (rc != 0) {
		snprintf(err, errlen, "port %u (%s): cannot start: %s", p->id, p->caps.name,
			 rte_strerror(-rc));
		return rc;
	}
	p->started = 1;
	rc = rte_eth_promiscuous_enable(p->id);
	if (rc != 0 && rc != -ENOTSUP) {
		snprintf(err, errlen, "port %u (%s): cannot enable promiscuous mode: %s", p->id,
			 p->caps.name, rte_strerror(-rc));
		return rc;
	}
	p->link_up = (uint8_t)link_is_up(p);
	return 0;
}

void
dp_port_stop(struct dp_port *p)
{
	if (!p->started)
		return;
	/* A peer kapa-dp took down comes back: the bridge is going away, the
	 * devices behind it should not stay without carrier. */
	if (p->forced_down)
		link_set(p, 1);
	rte_eth_dev_stop(p->id);
	rte_eth_dev_close(p->id);
	p->started = 0;
}

void
dp_port_free(struct dp_port *p)
{
	free(p->txq_lock);
	p->txq_lock = NULL;
}

void
dp_port_describe(const struct dp_port *p, FILE *f)
{
	fprintf(f, "kapa-dp: port %u (%s, %s) -> port %u: %u RX queue%s (%s), %u TX queue%s%s, "
		"%u/%u descriptors, MTU %u, TCP checksums %s, link %s\n",
		p->id, p->caps.name, p->caps.driver, p->peer, p->nb_rxq, p->nb_rxq == 1 ? "" : "s",
		p->workers == 1 ? "one worker" : p->rss ? "symmetric RSS, one per worker" :
		p->caps.rss ? "software dispatch" : "no RSS: software dispatch",
		p->nb_txq, p->nb_txq == 1 ? "" : "s",
		p->txq_lock != NULL ? " shared by the workers under a lock" : "",
		p->rx_desc, p->tx_desc, p->mtu,
		p->caps.rx_tcp_csum ? "checked by the port" : "not checked by the port",
		p->link_up ? "up" : "down");
}

unsigned
dp_ports_link_sync(struct dp_port *ports, uint16_t n, FILE *log)
{
	unsigned changed = 0;
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct dp_port *p = &ports[i];

		if (!p->started || p->forced_down)
			continue;
		p->link_up = (uint8_t)link_is_up(p);
		if (p->settling != 0 && (p->link_up || --p->settling == 0))
			p->settling = 0;
	}
	for (i = 0; i < n; i++) {
		struct dp_port *p = &ports[i], *peer;

		if (!p->started || p->forced_down || p->settling || p->peer >= n)
			continue;
		peer = &ports[p->peer];
		if (!peer->started)
			continue;
		if (!p->link_up && !peer->forced_down && peer->link_up) {
			if (link_set(peer, 0) == 0) {
				peer->forced_down = 1;
				peer->link_up = 0;
				changed++;
				fprintf(log, "kapa-dp: port %u link down: port %u taken down with it\n",
					p->id, peer->id);
			}
		} else if (p->link_up && peer->forced_down) {
			if (link_set(peer, 1) == 0) {
				peer->forced_down = 0;
				peer->settling = 20;
				changed++;
				fprintf(log, "kapa-dp: port %u link up: port %u brought back up\n",
					p->id, peer->id);
			}
		}
	}
	return changed;
}
