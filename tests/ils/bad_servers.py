"""Servers that speak SIP2 badly, on loopback threads, for the client's bad-input tests."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
import time
from collections.abc import Callable

from pysip2 import LoginResponse, encode_message

Behaviour = Callable[[socket.socket], None]


def _read_request(connection: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\r"):
        chunk = connection.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def garbage(connection: socket.socket) -> None:
    _read_request(connection)
    connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")


def truncated(connection: socket.socket) -> None:
    _read_request(connection)
    connection.sendall(b"941AY1AZ")  # no checksum digits, no CR: the connection ends


def wrong_checksum(connection: socket.socket) -> None:
    for _ in range(2):  # the answer, then the resend the client asks for
        request = _read_request(connection)
        if not request:
            return
        frame = encode_message(LoginResponse(ok="1"), sequence_number=1, checksum=True)
        connection.sendall(frame[:-5] + b"0000\r")


def silent(connection: socket.socket) -> None:
    _read_request(connection)
    time.sleep(3)


def huge_line(connection: socket.socket) -> None:
    _read_request(connection)
    with contextlib.suppress(OSError):  # the client hangs up, as it should
        connection.sendall(b"94" + b"1" * (10 * 1024 * 1024) + b"\r")


class BadServer:
    """A TCP server on 127.0.0.1 that does one bad thing per connection."""

    def __init__(self, behaviour: Behaviour) -> None:
        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with contextlib.suppress(OSError):
                    behaviour(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> BadServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
