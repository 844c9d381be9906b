#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the hand-made fuzz_capture seeds (tests/fuzz/seeds/capture/).

Tiny capture images, one per link type kapa-inspect reads and per odd case
of the file formats (and cooked captures of the encapsulations the core
reads after an ethertype): classic pcap in both byte orders and both timestamp
precisions, pcapng, a record cut short, a record too short for its link
header, a link type kapa does not read. Run it to regenerate them:

    tests/fuzz/make_capture_seeds.py tests/fuzz/seeds/capture
"""
import os
import struct
import sys


def ip4_tcp(payload=b'GET / HTTP/1.1\r\nHost: a\r\n\r\n', flags=0x18):
    tcp = struct.pack('>HHIIBBHHH', 40000, 80, 1000, 2000, 5 << 4, flags, 65535, 0, 0)
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, total, 1, 0x4000, 64, 6, 0,
                     bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2]))
    return ip + tcp + payload


def ip6_tcp(payload=b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'):
    tcp = struct.pack('>HHIIBBHHH', 80, 40000, 2000, 1027, 5 << 4, 0x18, 65535, 0, 0)
    ip = struct.pack('>IHBB16s16s', 0x60000000, len(tcp) + len(payload), 6, 64,
                     b'\x20\x01\x0d\xb8' + b'\x00' * 11 + b'\x01',
                     b'\x20\x01\x0d\xb8' + b'\x00' * 11 + b'\x02')
    return ip + tcp + payload


def eth(ethertype, payload, vlan=None):
    hdr = b'\x02\x00\x00\x00\x00\x02' + b'\x02\x00\x00\x00\x00\x01'
    if vlan is not None:
        hdr += struct.pack('>HH', 0x8100, vlan)
    return hdr + struct.pack('>H', ethertype) + payload


def sll(proto, payload):
    return struct.pack('>HHH8sH', 0, 1, 6, b'\x02\x00\x00\x00\x00\x01\x00\x00', proto) + payload


def sll2(proto, payload):
    return struct.pack('>HHIHBB8s', proto, 0, 2, 1, 0, 6, b'\x02\x00\x00\x00\x00\x01\x00\x00') + payload


def pppoe(ppp, payload):
    return struct.pack('>BBHHH', 0x11, 0, 0x1234, len(payload) + 2, ppp) + payload


def mpls(labels, payload):
    out = b''
    for i, label in enumerate(labels):
        out += struct.pack('>I', label << 12 | (0x100 if i == len(labels) - 1 else 0) | 64)
    return out + payload


def pcap(linktype, frames, end='<', nano=False, snaplen=65535):
    magic = 0xa1b23c4d if nano else 0xa1b2c3d4
    out = struct.pack(end + 'IHHiIII', magic, 2, 4, 0, 0, snaplen, linktype)
    for i, fr in enumerate(frames):
        caplen, wire = (fr[0], fr[1]) if isinstance(fr, tuple) else (len(fr), len(fr))
        data = fr[2] if isinstance(fr, tuple) else fr
        out += struct.pack(end + 'IIII', 1700000000 + i, 500 * i, caplen, wire) + data
    return out


def pcapng(linktype, frames):
    def block(btype, body):
        body += b'\x00' * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack('<II', btype, n) + body + struct.pack('<I', n)
    out = block(0x0a0d0d0a, struct.pack('<IHHq', 0x1a2b3c4d, 1, 0, -1))
    out += block(1, struct.pack('<HHI', linktype, 0, 65535))
    for i, fr in enumerate(frames):
        out += block(6, struct.pack('<IIIII', 0, 0, 1000 * i, len(fr), len(fr)) + fr)
    return out


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'seeds', 'capture')
    os.makedirs(d, exist_ok=True)
    seeds = {
        'pcap_eth_tcp': pcap(1, [eth(0x0800, ip4_tcp()), eth(0x0806, b'\x00' * 28)]),
        'pcap_eth_vlan_be_nano': pcap(1, [eth(0x0800, ip4_tcp(), vlan=5)], end='>', nano=True),
        'pcap_sll_vlan_ip6': pcap(113, [sll(0x8100, struct.pack('>HH', 7, 0x86dd) + ip6_tcp()),
                                        sll(0x0806, b'\x00' * 28)]),
        'pcap_sll2_ip4': pcap(276, [sll2(0x0800, ip4_tcp())]),
        # After a cooked header: PPPoE in two tags (one_http_stream_rst's
        # shape), three tags led by 0x9100, MPLS, PPPoE LCP, 802.2 LLC.
        'pcap_sll_vlan2_pppoe_ip4': pcap(113, [
            sll(0x8100, struct.pack('>HHHH', 939, 0x8100, 744, 0x8864) + pppoe(0x0021, ip4_tcp())),
            sll(0x8864, pppoe(0xc021, b'\x01\x01\x00\x04')),
            sll(0x0004, b'\x42\x42\x03' + b'\x00' * 20)]),
        'pcap_sll2_vlan3_mpls_ip6': pcap(276, [
            sll2(0x9100, struct.pack('>HHHHHH', 1, 0x88a8, 2, 0x8100, 3, 0x86dd) + ip6_tcp()),
            sll2(0x8847, mpls([16, 17], ip6_tcp())),
            sll2(0x8848, mpls([18], ip4_tcp()))]),
        'pcap_null_le_ip4': pcap(0, [struct.pack('<I', 2) + ip4_tcp()]),
        'pcap_loop_ip6': pcap(108, [struct.pack('>I', 24) + ip6_tcp(), struct.pack('>I', 7) + b'xx']),
        'pcap_raw_mixed': pcap(101, [ip4_tcp(), ip6_tcp()]),
        'pcap_ipv4': pcap(228, [ip4_tcp(b'', 0x02)]),
        'pcap_ipv6': pcap(229, [ip6_tcp(b'')]),
        'pcap_short_link': pcap(113, [b'\x00' * 10, sll(0x0800, ip4_tcp())]),
        'pcap_cut_record': pcap(1, [eth(0x0800, ip4_tcp())])[:-9],
        'pcap_caplen_lt_wire': pcap(1, [(40, 1514, eth(0x0800, ip4_tcp())[:40])]),
        'pcap_unsupported_link': pcap(105, [b'\x00' * 24]),
        'pcapng_eth_tcp': pcapng(1, [eth(0x0800, ip4_tcp()), eth(0x86dd, ip6_tcp())]),
    }
    for name, img in seeds.items():
        assert len(img) < 1024, name
        with open(os.path.join(d, name), 'wb') as f:
            f.write(img)
    print('%d seeds in %s' % (len(seeds), d))


if __name__ == '__main__':
    main()
