"""etcd request bodies for scripts/bench.sh: gRPC frames (byte 0, 4-byte big-endian length) of
hand-encoded etcdserverpb messages holding dcdir's answer under one key.

    python3 etcd_requests.py KEY ANSWER_FILE OUT_DIR

writes OUT_DIR/range.req (RangeRequest{key, serializable: true}) and OUT_DIR/put.req
(PutRequest{key, value: the answer bytes}).
"""
import struct
import sys


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def field(n, b):  # a length-delimited field (wire type 2)
    return varint(n << 3 | 2) + varint(len(b)) + b


def frame(m):
    return b"\0" + struct.pack(">I", len(m)) + m


def main():
    key, answer_file, out = sys.argv[1].encode(), sys.argv[2], sys.argv[3]
    answer = open(answer_file, "rb").read()
    # RangeRequest: key = 1, serializable = 7 (varint true)
    open(f"{out}/range.req", "wb").write(frame(field(1, key) + bytes([7 << 3 | 0, 1])))
    # PutRequest: key = 1, value = 2
    open(f"{out}/put.req", "wb").write(frame(field(1, key) + field(2, answer)))


if __name__ == "__main__":
    main()
