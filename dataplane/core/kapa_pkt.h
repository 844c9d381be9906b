/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Packet parsing: Ethernet (any stack of up to KAPA_MAX_VLAN_DEPTH 802.1Q /
 * 802.1ad tags), PPPoE sessions and MPLS label stacks carrying IP, IPv4, IPv6
 * with extension headers, TCP with options, from raw bytes; or the same
 * from an ethertype given apart (a cooked capture's protocol field). Tunnels
 * that tshark decodes by default (IP-in-IP, GRE and ERSPAN, VXLAN, Geneve,
 * GTP-U, Teredo, MPLS Ethernet pseudowires) are followed, up to
 * KAPA_MAX_TUNNEL_DEPTH of them, and the innermost TCP is reported. A pure
 * function over (data, len): no ports, no mbufs, no allocation. It never reads past
 * @p len; anything it cannot use is classified and given a reason, so the
 * caller counts it and forwards the packet untouched (fail open).
 */
#ifndef KAPA_PKT_H
#define KAPA_PKT_H

#include <stdint.h>

/** Where the bytes handed to kapa_pkt_parse() start. */
enum kapa_l2_type {
	KAPA_L2_ETHER = 0,	/**< Ethernet II, then optional 802.1Q / 802.1ad
				 * tags, then IPv4, IPv6, PPPoE session or MPLS */
	KAPA_L3_IPV4,		/**< bare IPv4 header */
	KAPA_L3_IPV6,		/**< bare IPv6 header */
	KAPA_L3_RAW,		/**< IPv4 or IPv6, told apart by the version nibble */
};

/** What a packet is, as far as kapa cares. */
enum kapa_pkt_class {
	KAPA_PKT_TCP = 0,	/**< a TCP segment kapa tracks */
	KAPA_PKT_NON_IP,	/**< ARP, LLDP, PPPoE discovery or control (LCP,
				 * IPCP, ...), MPLS pseudowires, ...: forwarded
				 * untouched */
	KAPA_PKT_NON_TCP,	/**< UDP, ICMP, ...: forwarded untouched */
	KAPA_PKT_FRAGMENT,	/**< an IP fragment: not reassembled, forwarded */
	KAPA_PKT_MALFORMED,	/**< see enum kapa_pkt_bad; forwarded, counted */
	KAPA_PKT_CLASS_MAX
};

/** Why a packet was classified KAPA_PKT_MALFORMED. */
enum kapa_pkt_bad {
	KAPA_BAD_NONE = 0,
	KAPA_BAD_ETH_TRUNC,	/**< shorter than an Ethernet header */
	KAPA_BAD_VLAN_TRUNC,	/**< a VLAN tag cut short */
	KAPA_BAD_VLAN_DEPTH,	/**< more than KAPA_MAX_VLAN_DEPTH VLAN tags */
	KAPA_BAD_IP_VERSION,	/**< version nibble disagrees with the ethertype */
	KAPA_BAD_IP4_TRUNC,	/**< shorter than the IPv4 header */
	KAPA_BAD_IP4_IHL,	/**< IHL < 5 or past the buffer */
	KAPA_BAD_IP4_LEN,	/**< total length < IHL or past the buffer */
	KAPA_BAD_IP6_TRUNC,	/**< shorter than the IPv6 header */
	KAPA_BAD_IP6_LEN,	/**< payload length past the buffer */
	KAPA_BAD_IP6_EXT,	/**< extension header chain cut short or too long */
	KAPA_BAD_TCP_TRUNC,	/**< shorter than a TCP header */
	KAPA_BAD_TCP_DOFF,	/**< data offset < 5 or past the IP payload */
	KAPA_BAD_TCP_OPT,	/**< an option length past the header, or < 2 */
	KAPA_BAD_TCP_PORT,	/**< port 0 */
	/* Added after the others so that counters indexed by reason keep
	 * their meaning. */
	KAPA_BAD_PPPOE_TRUNC,	/**< PPPoE session header or PPP protocol cut short */
	KAPA_BAD_PPPOE_HDR,	/**< PPPoE version/type not 1/1, or code not 0 */
	KAPA_BAD_PPPOE_LEN,	/**< PPPoE length past the buffer, or shorter
				 * than the IP datagram it carries */
	KAPA_BAD_MPLS_TRUNC,	/**< MPLS label stack cut short, or nothing after it */
	KAPA_BAD_MPLS_DEPTH,	/**< no bottom-of-stack bit in KAPA_MAX_MPLS_DEPTH labels */
	KAPA_BAD_TUNNEL_TRUNC,	/**< a GRE, ERSPAN, PPTP or GTP-U header (one
				 * whose protocol says it is there) cut short
				 * or past its outer datagram */
	KAPA_BAD_TUNNEL_DEPTH,	/**< a tunnel inside KAPA_MAX_TUNNEL_DEPTH
				 * tunnels */
	KAPA_BAD_TUNNEL_LEN,	/**< a tunnel whose outer datagram ends past
				 * offset 65535, where the struct's 16-bit
				 * offsets end */
	KAPA_BAD_MAX
};

/**
 * What is known of a packet's checksums (struct kapa_pkt::csum): of a TCP
 * segment, its IPv4 header's (if any) and its TCP checksum together; of an
 * IPv4 fragment, its header's. The parser leaves it UNKNOWN; a caller whose
 * port verified them says so before the engine sees the packet
 * (kapa_engine_conf::csum_verify says what the engine does with UNKNOWN).
 */
enum kapa_csum {
	KAPA_CSUM_UNKNOWN = 0,	/**< not verified: the engine verifies it in
				 * software when configured to, else trusts it */
	KAPA_CSUM_GOOD,		/**< verified by the port (or data whose
				 * integrity the port vouches for) */
	KAPA_CSUM_BAD,		/**< the port found it wrong */
	KAPA_CSUM_MAX
};

/** Bits of struct kapa_pkt::tcp_flags (the TCP header's flag byte). */
#define KAPA_TCP_FIN 0x01
#define KAPA_TCP_SYN 0x02
#define KAPA_TCP_RST 0x04
#define KAPA_TCP_PSH 0x08
#define KAPA_TCP_ACK 0x10
#define KAPA_TCP_URG 0x20
#define KAPA_TCP_ECE 0x40
#define KAPA_TCP_CWR 0x80

/** Bits of struct kapa_tcp_opts::present. */
#define KAPA_OPT_MSS       0x01
#define KAPA_OPT_WSCALE    0x02
#define KAPA_OPT_SACK_PERM 0x04
#define KAPA_OPT_SACK      0x08
#define KAPA_OPT_TS        0x10

#define KAPA_MAX_SACK 4
/** VLAN tags whose TPID and TCI struct kapa_pkt records (the outer ones). */
#define KAPA_MAX_VLAN 2
/** VLAN tags walked; one more is KAPA_BAD_VLAN_DEPTH. */
#define KAPA_MAX_VLAN_DEPTH 8
/** MPLS labels walked looking for the bottom of the stack. */
#define KAPA_MAX_MPLS_DEPTH 8

/** Tunnels followed into: one more is KAPA_BAD_TUNNEL_DEPTH. */
#define KAPA_MAX_TUNNEL_DEPTH 2

/** Bits of struct kapa_pkt::encap: what sits between Ethernet and IP. */
#define KAPA_ENCAP_PPPOE 0x01	/**< a PPPoE session header and PPP protocol */
#define KAPA_ENCAP_MPLS  0x02	/**< an MPLS label stack */
#define KAPA_ENCAP_TUNNEL 0x04	/**< at least one tunnel: the IP and TCP
				 * fields are the inner packet's */

/** Bits of struct kapa_pkt::tunnel: the tunnel kinds crossed. */
#define KAPA_TUNNEL_IPIP   0x01	/**< IPv4 / IPv6 in IPv4 / IPv6 (4, 41) */
#define KAPA_TUNNEL_GRE    0x02	/**< GRE version 0 (IP or Ethernet), or
				 * PPTP's enhanced GRE (version 1, PPP) */
#define KAPA_TUNNEL_ERSPAN 0x04	/**< ERSPAN type I, II or III in GRE */
#define KAPA_TUNNEL_VXLAN  0x08	/**< VXLAN, UDP port 4789 */
#define KAPA_TUNNEL_GENEVE 0x10	/**< Geneve, UDP port 6081 */
#define KAPA_TUNNEL_GTPU   0x20	/**< GTP-U G-PDU, UDP port 2152 */
#define KAPA_TUNNEL_TEREDO 0x40	/**< Teredo, UDP port 3544 */
#define KAPA_TUNNEL_PW     0x80	/**< MPLS Ethernet pseudowire with a control
				 * word */

/** TCP options kapa reads; others are skipped. */
struct kapa_tcp_opts {
	uint8_t present;	/**< KAPA_OPT_* bits */
	uint8_t wscale;		/**< shift as sent (a receiver clamps to 14) */
	uint8_t nsack;		/**< SACK blocks in sack[] */
	uint16_t mss;
	uint32_t ts_val, ts_ecr;
	uint32_t sack[KAPA_MAX_SACK][2];	/**< left, right edges */
};

/**
 * One parsed packet. Offsets are from the start of the buffer handed to
 * kapa_pkt_parse() or kapa_pkt_parse_ethertype(); the buffer must outlive
 * the struct.
 * IPv4 addresses sit in the first 4 bytes of src/dst, the rest zero.
 *
 * The link layer: bytes [0, l3_off) are everything before the IP header
 * (Ethernet or nothing after a given ethertype, all VLAN tags, PPPoE + PPP
 * protocol, MPLS labels), so a packet
 * crafted for the same path can copy them. Only the outer KAPA_MAX_VLAN tags
 * are also decoded into vlan_tpid/vlan_tci (more are rare and would grow the
 * struct for every packet); nvlan counts them all. A crafted packet of
 * another size must rewrite the PPPoE length (at pppoe_len_off: the IP
 * datagram's length + 2); MPLS has no length to rewrite. encap and
 * pppoe_len_off sit in what was padding, so the struct stays 152 bytes.
 *
 * Tunnels (encap has KAPA_ENCAP_TUNNEL): family, addresses, ip_proto,
 * l3_off and everything after are the innermost packet's, so the flow key
 * is the inner 4-tuple; eth_dst/eth_src, nvlan, the tags and pppoe_len_off
 * describe the outer link only (tags of an inner Ethernet frame are walked,
 * not recorded; a PPPoE header inside a tunnel leaves pppoe_len_off 0),
 * while encap's PPPoE and MPLS bits say such a header was met at any depth.
 * outer_l3_off is where the outermost IP
 * header (or, under a pseudowire, the control word) starts. A packet crafted
 * for a tunnelled flow would have to rewrite every outer length and checksum
 * (IPv4 total length and checksum, UDP length and checksum, GRE/GTP-U
 * lengths) between outer_l3_off and l3_off: kapa-dp must not craft (RST,
 * header insertion) for such flows until it does; a same-length rewrite
 * changes no length but still the outer UDP checksum when it is not zero.
 * tunnel, ntunnel and outer_l3_off sit in what was padding: still 152 bytes.
 *
 * csum is not parsed but given: UNKNOWN from the parser, set by a caller
 * whose port checked the TCP checksum (the inner one when tunnelled). It
 * takes the last byte of padding before opt: still 152 bytes.
 */
struct kapa_pkt {
	const uint8_t *data;
	uint32_t len;		/**< bytes in the buffer */
	uint8_t cls;		/**< enum kapa_pkt_class */
	uint8_t bad;		/**< enum kapa_pkt_bad when cls is MALFORMED */
	uint8_t family;		/**< 4 or 6; 0 when not IP */
	uint8_t nvlan;		/**< VLAN tags found (0..KAPA_MAX_VLAN_DEPTH) */
	uint16_t vlan_tpid[KAPA_MAX_VLAN];	/**< outer first; 0 past nvlan */
	uint16_t vlan_tci[KAPA_MAX_VLAN];
	uint8_t eth_dst[6], eth_src[6];	/**< zero when the packet started at L3
					 * or after an ethertype */
	uint16_t l3_off;
	uint16_t l4_off;	/**< TCP header */
	uint16_t payload_off;	/**< TCP payload */
	uint8_t encap;		/**< KAPA_ENCAP_* found before IP (or where
				 * parsing stopped), 0 for plain Ethernet / L3 */
	uint8_t pppoe_len_off;	/**< offset of the PPPoE length field; 0 when
				 * no whole PPPoE header was read */
	uint32_t payload_len;	/**< from the IP lengths, never past len */
	uint8_t ip_proto;	/**< the upper-layer protocol number */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;	/**< host order */
	uint16_t outer_l3_off;	/**< the outermost IP header when tunnelled
				 * (see above); else equal to l3_off */
	uint32_t seq, ack;	/**< host order */
	uint16_t win;		/**< unscaled, host order */
	uint16_t urg;		/**< urgent pointer, host order */
	uint8_t tcp_flags;	/**< KAPA_TCP_* */
	uint8_t ntunnel;	/**< tunnels crossed (0..KAPA_MAX_TUNNEL_DEPTH) */
	uint8_t tunnel;		/**< KAPA_TUNNEL_* of every tunnel crossed */
	uint8_t csum;		/**< enum kapa_csum: KAPA_CSUM_UNKNOWN from the
				 * parser, the port's verdict from its caller */
	struct kapa_tcp_opts opt;
};

/**
 * Parse one packet.
 *
 * @param data  first byte at the layer given by @p l2
 * @param len   bytes readable at @p data (captured length)
 * @param l2    where the packet starts
 * @param pkt   filled in; pkt->cls says what was found
 * @return pkt->cls (enum kapa_pkt_class). Never fails otherwise.
 *
 * Ethernet padding after the IP datagram is ignored (IP lengths win). An IP
 * length larger than the buffer is MALFORMED (a snap-length cut), since the
 * missing bytes cannot be tracked. The same holds for a PPPoE length, which
 * must also cover the IP datagram (KAPA_BAD_PPPOE_LEN); bytes after the
 * datagram inside it are padding. After an MPLS stack's bottom label, the
 * first nibble tells IPv4 (4) from IPv6 (6); a nibble 0 is a pseudowire
 * control word, followed as an Ethernet pseudowire when 18 bytes are there
 * and the frame's type is one kapa reads; anything else is NON_IP, as are
 * PPP protocols other than IPv4 (0x0021) and IPv6 (0x0057) and PPPoE
 * discovery (0x8863).
 *
 * Tunnels: IP protocols 4 and 41 (IPv4 and IPv6 next headers too) and GRE
 * (47) are followed by their protocol number; a GRE header or ERSPAN header
 * cut short is KAPA_BAD_TUNNEL_TRUNC, GRE with the routing bit, another
 * version than 0 and 1 (PPTP, PPP IPv4/IPv6 only) or another protocol than
 * IPv4, IPv6, MPLS, 0x6558 (Ethernet), 0x88be / 0x22eb (ERSPAN) is NON_TCP. UDP is
 * followed only when a port (the lower one first, as tshark tries them) is
 * a tunnel's and the payload passes that protocol's checks: VXLAN (4789,
 * I flag), Geneve (6081, version 0, options in the datagram), GTP-U (2152,
 * version 1, PT 1, G-PDU, length in the datagram), Teredo (3544, IPv6 whose
 * length fills the datagram after optional authentication / origin
 * headers); any other UDP is NON_TCP as before. Inside a tunnel every
 * length is bounded by the outer datagram, not the capture. Outer IP
 * fragments stay FRAGMENT.
 */
int kapa_pkt_parse(const uint8_t *data, uint32_t len, enum kapa_l2_type l2,
		   struct kapa_pkt *pkt);

/**
 * Parse one packet whose link layer ended in a type field that is not in
 * the buffer: a Linux cooked capture's protocol (LINUX_SLL, LINUX_SLL2),
 * which holds what Ethernet's ethertype would. What follows is parsed as
 * after Ethernet's: VLAN tags (any of the three TPIDs, up to
 * KAPA_MAX_VLAN_DEPTH), PPPoE session, MPLS, IPv4, IPv6; any other type is
 * NON_IP.
 *
 * @param data       the byte right after the type field
 * @param len        bytes readable at @p data (captured length)
 * @param ethertype  the type field's value, host order
 * @param pkt        filled in as by kapa_pkt_parse(), offsets from @p data;
 *                   eth_dst and eth_src zero
 * @return pkt->cls (enum kapa_pkt_class). Never fails otherwise; the
 *         malformation reasons are kapa_pkt_parse()'s (never
 *         KAPA_BAD_ETH_TRUNC, as there is no Ethernet header to cut).
 */
int kapa_pkt_parse_ethertype(const uint8_t *data, uint32_t len, uint16_t ethertype,
			     struct kapa_pkt *pkt);

/** @return a short constant name for a class ("tcp", "non-ip", ...). */
const char *kapa_pkt_class_name(unsigned cls);

/** @return a short constant name for a malformation reason. */
const char *kapa_pkt_bad_name(unsigned bad);

#endif /* KAPA_PKT_H */
