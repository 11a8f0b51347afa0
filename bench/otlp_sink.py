#!/usr/bin/python3
"""A lean OTLP/HTTP sink for benchmarks: accepts POSTs on 127.0.0.1:PORT, reads each body
(Content-Length) into a reused buffer, answers 200 "{}", and keeps connections alive.

It stands in for a collector running on another machine: it shares this machine's cores with
what is measured, so it does as little as it can (no HTTP framework, no per-request thread).
Its own CPU time is reported by bench/observability.sh beside the results.

    otlp_sink.py PORT
"""
import selectors
import socket
import sys

REPLY = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.head = b""  # the start of a head split across reads
        self.left = 0  # body bytes still to read

    def feed(self, data, at, n):
        """Consumes data[at:n]: heads are parsed, bodies skipped, each request answered."""
        while at < n:
            if self.left > 0:
                take = min(self.left, n - at)
                self.left -= take
                at += take
                if self.left == 0:
                    self.sock.sendall(REPLY)
                continue
            if self.head:  # finish a split head on a copy, then go on with its rest
                data, at, n = self.head + bytes(data[at:n]), 0, len(self.head) + n - at
                self.head = b""
            end = data.find(b"\r\n\r\n", at, n)
            if end < 0:
                self.head = bytes(data[at:n])
                return
            length = 0
            for line in bytes(data[at:end]).split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            at = end + 4
            self.left = length
            if length == 0:
                self.sock.sendall(REPLY)


def main():
    port = int(sys.argv[1])
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    listener.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, None)
    buf = bytearray(1 << 20)
    while True:
        for key, _ in sel.select():
            if key.data is None:
                sock, _ = listener.accept()
                sock.setblocking(False)
                sel.register(sock, selectors.EVENT_READ, Conn(sock))
                continue
            try:
                n = key.fileobj.recv_into(buf)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                n = 0
            if n == 0:
                sel.unregister(key.fileobj)
                key.fileobj.close()
                continue
            key.data.feed(buf, 0, n)


if __name__ == "__main__":
    main()
