"""``RawServer``: a loopback TCP server whose per-connection handler misbehaves on purpose.

``RawServer(handler)`` accepts connections in a daemon thread and runs ``handler(sock, index)`` for
each in its own daemon thread (``index`` is 0-based, in accept order); the socket is closed when
the handler returns. Handler exceptions that are not ``OSError`` land in ``errors``. A handler
blocked in ``recv``/``send`` is woken by ``stop`` (the socket is shut down under it); handlers
that wait should use ``wait_for_peer_close``, which also ends when the server stops.

Canned handlers (each a factory returning a handler, so parameters can be tuned):

* ``close_immediately()`` - close without reading anything.
* ``close_after_request()`` - read the request, close without answering.
* ``respond(data)`` - read the request, send ``data`` verbatim, close.
* ``reset_mid_body(declared, sent)`` - head with ``Content-Length: declared``, ``sent`` body bytes,
  then an RST (``SO_LINGER`` 0).
* ``short_body(declared, sent)`` - same but a clean close (FIN) after ``sent`` bytes.
* ``garbage_status_line(line)`` - answer a status line that is not HTTP.
* ``drip(data, delay)`` - send a response one byte at a time, ``delay`` seconds apart.
* ``bad_chunk_size()`` - chunked response whose chunk-size line is not hex.
* ``keepalive_then_close(idle)`` - answer one request as keep-alive, wait ``idle`` s, close.
* ``reject_upload(status, drain_for)`` - answer ``status`` and close after reading only the head
  of the request, while the client is still sending the body.
* ``hang(max_wait)`` - read the request, never answer.
* ``per_connection(*handlers)`` - connection ``i`` uses ``handlers[i]`` (the last one repeats).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from collections.abc import Callable

from ._base import (
    STOP_TIMEOUT,
    AcceptLoop,
    ConnectionRegistry,
    LoopbackServer,
    SocketReader,
    bind_family,
    join_lines,
    read_request,
)

__all__ = [
    "OK_RESPONSE",
    "Handler",
    "RawServer",
    "bad_chunk_size",
    "close_after_request",
    "close_immediately",
    "drip",
    "garbage_status_line",
    "hang",
    "keepalive_then_close",
    "per_connection",
    "reject_upload",
    "reset_mid_body",
    "respond",
    "short_body",
    "wait_for_peer_close",
]

Handler = Callable[[socket.socket, int], None]

#: A minimal valid keep-alive response with body ``ok``.
OK_RESPONSE = (
    join_lines(["HTTP/1.1 200 OK", "Content-Length: 2", "Content-Type: text/plain"]) + b"ok"
)
_HANDLER_TIMEOUT = 10.0  # backstop for blocking socket calls inside a handler


class RawServer(LoopbackServer):
    """Run ``handler(sock, index)`` per accepted loopback connection, each in its own thread."""

    scheme = "http"

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self.handler = handler
        self.registry = ConnectionRegistry()
        self._listener = socket.create_server((host, port), family=bind_family(host), backlog=128)
        self.host = host
        self.port = int(self._listener.getsockname()[1])
        self._name = f"RawServer-{self.port}"
        self._loop = AcceptLoop(self._listener, self._accepted, self.registry, self._name)

    def _close_listener(self) -> None:
        self._listener.close()

    def _accepted(self, sock: socket.socket, address: object) -> None:
        index = self.registry.accept(sock)
        self.registry.spawn(f"{self._name}-conn{index}", self._run_handler, sock, index)

    def _run_handler(self, sock: socket.socket, index: int) -> None:
        try:
            sock.settimeout(_HANDLER_TIMEOUT)
            self.handler(sock, index)
        except Exception as exc:
            self.registry.record_error(exc)
        finally:
            self.registry.untrack(sock)
            sock.close()


def wait_for_peer_close(sock: socket.socket, timeout: float = STOP_TIMEOUT) -> None:
    """Discard input until the peer closes, the server stops, or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        sock.settimeout(remaining)
        try:
            if not sock.recv(65536):
                return
        except OSError:
            return


def _set_reset_on_close(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def close_immediately() -> Handler:
    """Close each connection at once, before reading anything."""

    def handler(sock: socket.socket, index: int) -> None:
        sock.close()

    return handler


def close_after_request() -> Handler:
    """Read one request, then close without a response."""

    def handler(sock: socket.socket, index: int) -> None:
        read_request(sock)

    return handler


def respond(data: bytes = OK_RESPONSE) -> Handler:
    """Read one request, send ``data`` verbatim, close."""

    def handler(sock: socket.socket, index: int) -> None:
        read_request(sock)
        sock.sendall(data)

    return handler


def _partial_body_head(declared: int) -> bytes:
    return join_lines(["HTTP/1.1 200 OK", f"Content-Length: {declared}"])


def reset_mid_body(declared: int = 1000, sent: int = 100) -> Handler:
    """Announce ``declared`` body bytes, send ``sent`` of them, then reset the connection."""

    def handler(sock: socket.socket, index: int) -> None:
        read_request(sock)
        sock.sendall(_partial_body_head(declared) + b"x" * sent)
        _set_reset_on_close(sock)

    return handler


def short_body(declared: int = 100, sent: int = 10) -> Handler:
    """Announce ``declared`` body bytes, send ``sent`` of them, then close cleanly."""

    def handler(sock: socket.socket, index: int) -> None:
        read_request(sock)
        sock.sendall(_partial_body_head(declared) + b"x" * sent)

    return handler


def garbage_status_line(line: bytes = b"SPAM EGGS NOT HTTP\r\n\r\n") -> Handler:
    """Answer with ``line`` (not a valid status line), then close."""
    return respond(line)


def drip(data: bytes = OK_RESPONSE, delay: float = 0.01) -> Handler:
    """Send ``data`` one byte at a time, ``delay`` seconds apart, then close."""

    def handler(sock: socket.socket, index: int) -> None:
        read_request(sock)
        for offset in range(len(data)):
            sock.sendall(data[offset : offset + 1])
            time.sleep(delay)

    return handler


def bad_chunk_size() -> Handler:
    """Send a chunked response whose chunk-size line is not hexadecimal, then close."""
    head = join_lines(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"])
    return respond(head + b"5\r\nhello\r\nzz\r\nnot-hex\r\n0\r\n\r\n")


def keepalive_then_close(idle: float = 0.0, response: bytes = OK_RESPONSE) -> Handler:
    """Answer one request as a keep-alive response, wait ``idle`` seconds, close the connection."""

    def handler(sock: socket.socket, index: int) -> None:
        read_request(sock)
        sock.sendall(response)
        if idle > 0:
            sock.settimeout(idle)
            with contextlib.suppress(OSError):  # returns early if the client sends or closes
                sock.recv(1, socket.MSG_PEEK)

    return handler


def reject_upload(status: int = 413, drain_for: float = 0.0) -> Handler:
    """Answer ``status`` with ``Connection: close`` right after the request head, then close.

    The request body is not read first. With ``drain_for`` > 0 the server half-closes and
    discards input for up to that long before closing, so the client sees the response rather
    than a reset; with 0 unread upload bytes make the kernel reset the connection.
    """
    body = b"upload rejected\n"
    response = join_lines(
        [
            f"HTTP/1.1 {status} Rejected",
            "Connection: close",
            "Content-Type: text/plain",
            f"Content-Length: {len(body)}",
        ]
    )

    def handler(sock: socket.socket, index: int) -> None:
        SocketReader(sock).read_until(b"\r\n\r\n")
        sock.sendall(response + body)
        if drain_for > 0:
            sock.shutdown(socket.SHUT_WR)
            wait_for_peer_close(sock, drain_for)

    return handler


def hang(max_wait: float = STOP_TIMEOUT) -> Handler:
    """Read the request and never answer (until the client closes or ``max_wait`` passes)."""

    def handler(sock: socket.socket, index: int) -> None:
        read_request(sock)
        wait_for_peer_close(sock, max_wait)

    return handler


def per_connection(*handlers: Handler) -> Handler:
    """Use ``handlers[index]`` for connection ``index``; the last handler serves the rest."""
    if not handlers:
        raise ValueError("per_connection needs at least one handler")

    def handler(sock: socket.socket, index: int) -> None:
        handlers[min(index, len(handlers) - 1)](sock, index)

    return handler
