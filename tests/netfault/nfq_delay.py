#!/usr/bin/python3
"""Holds every packet of one NFQUEUE queue for a fixed delay, then accepts it (a netem-less delay).

There is no `netem` qdisc on the test machines, so the fault fixture delays a path like this:
iptables sends the path's packets to `-j NFQUEUE --queue-num N` inside the namespace of the host
being degraded, and this program, started in that same namespace, receives their metadata over
raw netlink (NETLINK_NETFILTER, the nfnetlink_queue protocol, include/uapi/linux/netfilter/
nfnetlink_queue.h) and issues each packet's ACCEPT verdict `--delay-ms` after it was queued.
A constant delay keeps the packets' order. Standard library only.

    ip netns exec NS /usr/bin/python3 nfq_delay.py --queue 1 --delay-ms 300

Prints "ready" on stdout once the queue is bound. On SIGTERM/SIGINT it accepts every packet it
still holds and exits 0. Exit 1 with a message when the queue cannot be bound (e.g. another
program holds it, or no CAP_NET_ADMIN).
"""

import argparse
import collections
import errno
import os
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQNL_CFG_CMD_BIND = 1
NFQNL_CFG_CMD_UNBIND = 2
NFQNL_COPY_META = 1
NF_ACCEPT = 1
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLMSG_ERROR = 0x2
NLMSG_HDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid (host order)
NFGENMSG = struct.Struct("!BBH")  # family, version, res_id (big-endian)
NLATTR = struct.Struct("=HH")  # len, type (host order)


def _attr(kind, payload):
    length = NLATTR.size + len(payload)
    return NLATTR.pack(length, kind) + payload + b"\0" * ((4 - length % 4) % 4)


class Queue:
    def __init__(self, num):
        self.num = num
        self.seq = 0
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind((0, 0))

    def _send(self, msg_type, attrs, flags=NLM_F_REQUEST):
        self.seq += 1
        body = NFGENMSG.pack(socket.AF_UNSPEC, 0, self.num) + b"".join(attrs)
        header = NLMSG_HDR.pack(NLMSG_HDR.size + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg_type,
                                flags, self.seq, 0)
        self.sock.send(header + body)
        return self.seq

    def _config(self, attrs):
        seq = self._send(NFQNL_MSG_CONFIG, attrs, NLM_F_REQUEST | NLM_F_ACK)
        while True:  # wait for the ack of this request
            data = self.sock.recv(65536)
            for msg_type, msg_seq, payload in self._messages(data):
                if msg_type == NLMSG_ERROR and msg_seq == seq:
                    code = -struct.unpack_from("=i", payload)[0]
                    if code:
                        raise OSError(code, os.strerror(code))
                    return

    def bind(self):
        self._config([_attr(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_BIND, socket.AF_INET))])
        self._config([_attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0xFFFF, NFQNL_COPY_META)),
                      _attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", 16384))])

    def unbind(self):
        try:
            self._send(NFQNL_MSG_CONFIG,
                       [_attr(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_UNBIND, socket.AF_INET))])
        except OSError:
            pass

    @staticmethod
    def _messages(data):
        offset = 0
        while offset + NLMSG_HDR.size <= len(data):
            length, msg_type, _, seq, _ = NLMSG_HDR.unpack_from(data, offset)
            if length < NLMSG_HDR.size:
                break
            yield msg_type, seq, data[offset + NLMSG_HDR.size:offset + length]
            offset += (length + 3) & ~3

    def packet_ids(self, data):
        """The packet ids of the NFQNL_MSG_PACKET messages in one datagram."""
        for msg_type, _, payload in self._messages(data):
            if msg_type != (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                continue
            offset = NFGENMSG.size
            while offset + NLATTR.size <= len(payload):
                length, kind = NLATTR.unpack_from(payload, offset)
                if length < NLATTR.size:
                    break
                if (kind & 0x7FFF) == NFQA_PACKET_HDR:
                    yield struct.unpack_from("!I", payload, offset + NLATTR.size)[0]
                    break
                offset += (length + 3) & ~3

    def accept(self, packet_id):
        self._send(NFQNL_MSG_VERDICT, [_attr(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, packet_id))])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queue", type=int, required=True, help="NFQUEUE number (0-65535)")
    parser.add_argument("--delay-ms", type=float, required=True, help="how long each packet is held")
    args = parser.parse_args()
    delay = args.delay_ms / 1000.0
    queue = Queue(args.queue)
    try:
        queue.bind()
    except OSError as e:
        print(f"nfq_delay: cannot bind queue {args.queue}: {e}", file=sys.stderr)
        return 1
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    held = collections.deque()  # (due monotonic time, packet id), in arrival order
    print("ready", flush=True)
    while not stopping:
        now = time.monotonic()
        while held and held[0][0] <= now:
            queue.accept(held.popleft()[1])
        timeout = max(0.0, held[0][0] - now) if held else 0.5
        try:
            readable, _, _ = select.select([queue.sock], [], [], timeout)
        except InterruptedError:
            continue
        if not readable:
            continue
        arrived = time.monotonic()
        while True:
            try:
                data = queue.sock.recv(1 << 16, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.ENOBUFS:  # the kernel dropped messages: keep going
                    continue
                raise
            for packet_id in queue.packet_ids(data):
                held.append((arrived + delay, packet_id))
    while held:
        queue.accept(held.popleft()[1])
    queue.unbind()
    return 0


if __name__ == "__main__":
    sys.exit(main())
