#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""frag_client.py [--sport PORT] DST PORT SIZE...: one keep-alive connection
to DST:PORT (from source port PORT when given) whose requests (GET
/size/SIZE, one per argument) travel in IPv4 fragments.

The connection is the kernel's (connect, receive, close). Each request's
bytes are put in the socket's send queue without being sent (TCP_REPAIR:
the kernel then holds them as sent, at the right sequence numbers, and
takes the server's acknowledgement of them), and the same segment is sent
by hand through a raw socket as three IP fragments, last one first, so that
the server's IP layer reassembles it. The responses are read from the
socket. Prints "STATUS BODY_LENGTH" per response; exits 1 on a short or
missing response. Root (CAP_NET_ADMIN and CAP_NET_RAW) in the client's
namespace, TCP timestamps off there (the hand-made segment carries none)."""

import socket
import struct
import sys

TCP_REPAIR, TCP_REPAIR_QUEUE, TCP_QUEUE_SEQ = 19, 20, 21
TCP_NO_QUEUE, TCP_RECV_QUEUE, TCP_SEND_QUEUE = 0, 1, 2
TCP_REPAIR_OFF_NO_WP = -1


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def queue_seq(s, queue):
    s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR_QUEUE, queue)
    return struct.unpack("I", s.getsockopt(socket.IPPROTO_TCP, TCP_QUEUE_SEQ, 4))[0]


def send_fragmented(raw, src, sport, dst, dport, seq, ack, payload, ident):
    """The segment as three IPv4 fragments (data offsets multiples of 8),
    the last one first."""
    saddr, daddr = socket.inet_aton(src), socket.inet_aton(dst)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, 0x18, 64240, 0, 0)
    pseudo = saddr + daddr + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp + payload)) + tcp[18:]
    seg = tcp + payload
    cuts = [0, len(seg) // 3 // 8 * 8, 2 * len(seg) // 3 // 8 * 8, len(seg)]
    frags = []
    for i in range(3):
        part = seg[cuts[i]:cuts[i + 1]]
        more = 0x2000 if i < 2 else 0
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(part), ident,
                         more | cuts[i] // 8, 64, 6, 0, saddr, daddr)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        frags.append(ip + part)
    for f in reversed(frags):
        raw.sendto(f, (dst, 0))


def read_response(s, buf):
    """One response (Content-Length framed) from @p buf and the socket.
    @return (status, body length, the bytes after it)."""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError("connection closed before a response")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError("connection closed in a body")
        rest += chunk
    return status, length, rest[length:]


def main():
    args = sys.argv[1:]
    source = None
    if args[:1] == ["--sport"]:
        source = ("", int(args[1]))
        args = args[2:]
    dst, port, sizes = args[0], int(args[1]), args[2:]
    s = socket.create_connection((dst, port), timeout=10, source_address=source)
    src, sport = s.getsockname()
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    buf = b""
    for n, size in enumerate(sizes):
        req = ("GET /size/%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: frag_client\r\n"
               "Accept: */*\r\n\r\n" % (size, dst)).encode()
        s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 1)
        ack = queue_seq(s, TCP_RECV_QUEUE)
        seq = queue_seq(s, TCP_SEND_QUEUE)
        s.send(req)                     # queued as sent, not transmitted
        s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE)
        s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_OFF_NO_WP)
        send_fragmented(raw, src, sport, dst, port, seq, ack, req, 0x4b00 + n)
        status, length, buf = read_response(s, buf)
        print("%d %d" % (status, length), flush=True)
    s.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, EOFError, ValueError, IndexError) as e:
        print("frag_client: %s" % e, file=sys.stderr)
        sys.exit(1)
