#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A request the server never receives: a segment with a wrong checksum.

Run in the client namespace (root: a packet socket). Opens a TCP connection
to HOST:PORT (IPv4 or IPv6) with the kernel's stack, learns the connection's
real sequence numbers from its own handshake ACK (read back from a packet
socket on IFACE),
then sends, beside the kernel, one segment at the next sequence number whose
TCP checksum is wrong (WHICH "tcp", the default) or, over IPv4, whose IP
header checksum is wrong and TCP checksum right (WHICH "ip"), carrying two
requests (/?csum-bad-1, /?csum-bad-2). The server's stack drops it. Then the real request, of the same length, goes
through the socket (/?csum-good, one request): the same sequence numbers, other
bytes. Its response must come back (status 200), and the connection is closed.

Prints one line: "sent bad=LEN good=LEN status=CODE". Exit status 0 when the
response came, 1 otherwise.

Usage: bad_csum_client.py IFACE HOST PORT [WHICH]
"""
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4

BAD = b"GET /?csum-bad-1 HTTP/1.1\r\nHost: x\r\n\r\nGET /?csum-bad-2 HTTP/1.1\r\nHost: x\r\n\r\n"
_GOOD_HEAD = b"GET /?csum-good HTTP/1.1\r\nHost: x\r\nX-Pad: "
GOOD = _GOOD_HEAD + b"p" * (len(BAD) - len(_GOOD_HEAD) - 4) + b"\r\n\r\n"
assert len(BAD) == len(GOOD), (len(BAD), len(GOOD))


def ones_sum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def l3_of(fr):
    """(family, IP header length, TCP header offset, payload length) of an
    Ethernet frame carrying TCP over IPv4 or IPv6 (no extension headers),
    or None."""
    if fr[12:14] == b"\x08\x00" and len(fr) >= 34 and fr[23] == 6:
        ihl = (fr[14] & 0x0F) * 4
        total = struct.unpack("!H", fr[16:18])[0]
        l4 = 14 + ihl
        fam = 4
        tcp_and_payload = total - ihl
    elif fr[12:14] == b"\x86\xdd" and len(fr) >= 54 and fr[20] == 6:
        ihl = 40
        l4 = 54
        fam = 6
        tcp_and_payload = struct.unpack("!H", fr[18:20])[0]
    else:
        return None
    if len(fr) < l4 + 20:
        return None
    return fam, ihl, l4, tcp_and_payload - (fr[l4 + 12] >> 4) * 4


def handshake_ack(sniff, lport, rport, deadline):
    """The Ethernet frame of the connection's last handshake segment the
    client sent (a pure ACK), as it left the interface (offloads off:
    checksums filled), or None."""
    while time.monotonic() < deadline:
        sniff.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            fr, addr = sniff.recvfrom(65535)
        except socket.timeout:
            return None
        if addr[2] != PACKET_OUTGOING:
            continue
        l3 = l3_of(fr)
        if l3 is None:
            continue
        l4 = l3[2]
        sport, dport = struct.unpack("!HH", fr[l4:l4 + 4])
        if (sport, dport) == (lport, rport) and fr[l4 + 13] == 0x10 and l3[3] == 0:
            return fr
    return None


def bad_segment(ack_frame, payload, which):
    """The handshake ACK turned into a data segment (PSH|ACK, same sequence
    and acknowledgement numbers) carrying @payload, TCP checksum wrong and
    the IP header right (IPv4: its length, ID and checksum; IPv6: its
    payload length); or, @which "ip", the IPv4 header checksum wrong and
    the TCP checksum right."""
    fam, ihl, l4, _ = l3_of(ack_frame)
    eth = ack_frame[:14]
    ip = bytearray(ack_frame[14:l4])
    tcp = bytearray(ack_frame[l4:l4 + (ack_frame[l4 + 12] >> 4) * 4])
    tcp[13] = 0x18
    tcp[16:18] = b"\0\0"
    seg = bytes(tcp) + payload
    if fam == 4:
        ip[2:4] = struct.pack("!H", ihl + len(seg))
        ip[4:6] = struct.pack("!H", (struct.unpack("!H", ip[4:6])[0] + 1000) & 0xFFFF)
        ip[10:12] = b"\0\0"
        ip[10:12] = struct.pack("!H", ~ones_sum(bytes(ip)) & 0xFFFF)
        pseudo = bytes(ip[12:20]) + struct.pack("!BBH", 0, 6, len(seg))
    else:
        ip[4:6] = struct.pack("!H", len(seg))
        pseudo = bytes(ip[8:40]) + struct.pack("!IxxxB", len(seg), 6)
    good = ~ones_sum(pseudo + seg) & 0xFFFF
    if which == "ip":
        ip[10:12] = struct.pack("!H", struct.unpack("!H", ip[10:12])[0] ^ 0x5A5A)
        seg = seg[:16] + struct.pack("!H", good) + seg[18:]
    else:
        seg = seg[:16] + struct.pack("!H", good ^ 0x5A5A) + seg[18:]
    return eth + bytes(ip) + seg


def main():
    iface, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    which = sys.argv[4] if len(sys.argv) > 4 else "tcp"
    if which not in ("tcp", "ip") or (which == "ip" and ":" in host):
        print("WHICH is tcp, or ip over IPv4")
        return 2
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sniff.bind((iface, 0))
    conn = socket.create_connection((host, port), timeout=10)  # IPv4 or IPv6
    lport = conn.getsockname()[1]
    ack = handshake_ack(sniff, lport, port, time.monotonic() + 5)
    if ack is None:
        print("no handshake ACK seen on %s for port %d" % (iface, lport))
        return 1
    sniff.send(bad_segment(ack, BAD, which))
    sniff.close()
    # The bad copy is on the wire first (kapa would keep the first copy).
    time.sleep(0.2)
    conn.sendall(GOOD)
    resp = b""
    while b"\r\n\r\n" not in resp:
        chunk = conn.recv(65536)
        if not chunk:
            break
        resp += chunk
    conn.close()
    status = resp.split(b" ", 2)[1].decode() if resp.startswith(b"HTTP/1.") else "none"
    print("sent bad=%d good=%d status=%s" % (len(BAD), len(GOOD), status))
    return 0 if status == "200" else 1


if __name__ == "__main__":
    sys.exit(main())
