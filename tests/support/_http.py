"""Base classes for the HTTP test servers: a ``ThreadingHTTPServer`` with fast, bounded stop.

``LoopbackHTTPServer`` keeps the stdlib request handling (request line and header parsing,
``Expect: 100-continue``, keep-alive decisions) but replaces its serving machinery: connections
are accepted by ``AcceptLoop`` and served one thread per connection, tracked by
``ConnectionRegistry`` so ``stop`` can wake and join them (see ``_base``). With ``tls`` set, each
connection's handshake runs in its own thread after the socket is tracked, so a client that never
finishes its handshake cannot block the accept loop or ``stop``; failed handshakes are listed in
``tls_failures``.

``QuietHandler`` is the handler base: HTTP/1.1, no logging, Nagle off (a head and a body written
separately must not wait for a delayed ACK), and every method name routed to ``dispatch`` so the
servers answer any method a client invents.
"""

from __future__ import annotations

import socketserver
import ssl
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ._base import (
    STOP_TIMEOUT,
    AcceptLoop,
    ConnectionRegistry,
    LoopbackServer,
    MalformedBody,
    bind_family,
    read_body,
)

__all__ = ["LoopbackHTTPServer", "QuietHandler"]

#: Idle seconds after which a server closes a kept-alive connection (a backstop, tests are faster).
IDLE_TIMEOUT = 30.0


class LoopbackHTTPServer(LoopbackServer, ThreadingHTTPServer):
    """A loopback ``ThreadingHTTPServer`` serving ``handler_class``, plain or TLS.

    The socket is bound and listening when the constructor returns (``port=0`` picks a free
    port); requests are served once ``start`` (or ``with``) runs. ``shutdown`` is ``stop``.
    """

    daemon_threads = True
    request_queue_size = 128  # 32+ clients connect at once; a short backlog costs SYN retries

    def __init__(
        self,
        handler_class: type[BaseHTTPRequestHandler],
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.address_family = bind_family(host)
        self.tls = tls
        self.scheme = "https" if tls is not None else "http"
        self.registry = ConnectionRegistry()
        self.tls_failures: list[str] = []
        self._local = threading.local()
        ThreadingHTTPServer.__init__(self, (host, port), handler_class)
        self.host = host
        self.port = int(self.server_address[1])
        name = f"{type(self).__name__}-{self.port}"
        self._name = name
        self._loop = AcceptLoop(self.socket, self._accepted, self.registry, name)

    def server_bind(self) -> None:
        """Bind without ``HTTPServer``'s reverse DNS lookup (``getfqdn`` can stall for seconds)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def current_connection_id(self) -> int:
        """Id of the connection served by the calling thread (0-based, in accept order)."""
        conn_id: int = self._local.conn_id
        return conn_id

    def shutdown(self) -> None:
        """Same as ``stop`` (the inherited version would wait for a ``serve_forever`` loop)."""
        self.stop()

    def _close_listener(self) -> None:
        self.server_close()

    def _accepted(self, sock: Any, address: Any) -> None:
        conn_id = self.registry.accept(sock)
        name = f"{self._name}-conn{conn_id}"
        self.registry.spawn(name, self._serve_connection, sock, address, conn_id)

    def _serve_connection(self, sock: Any, address: Any, conn_id: int) -> None:
        self._local.conn_id = conn_id
        conn = sock
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                self.registry.replace(sock, conn)
                if not self._handshake(conn):
                    return
            self.finish_request(conn, address)
        except Exception as exc:
            self.registry.record_error(exc)
        finally:
            self.registry.untrack(conn)
            self.shutdown_request(conn)

    def _handshake(self, conn: ssl.SSLSocket) -> bool:
        try:
            conn.settimeout(STOP_TIMEOUT)
            conn.do_handshake()
        except OSError as exc:
            self.tls_failures.append(repr(exc))
            return False
        return True


class QuietHandler(BaseHTTPRequestHandler):
    """Silent HTTP/1.1 handler base; subclasses implement ``dispatch`` for every method.

    After ``read_request_body`` succeeds, ``body``, ``trailers`` and ``chunked`` describe the
    request payload.
    """

    protocol_version = "HTTP/1.1"
    server_version = "pooltest-testserver/1.0"
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT
    server: LoopbackHTTPServer
    body: bytes = b""
    trailers: list[tuple[str, str]]
    chunked: bool = False

    def dispatch(self) -> None:
        """Answer the parsed request; ``self.command`` may be any method token."""
        raise NotImplementedError

    def __getattr__(self, name: str) -> Callable[[], None]:
        # BaseHTTPRequestHandler looks up ``do_<METHOD>``; route every method to dispatch().
        if name.startswith("do_"):
            return self.dispatch
        raise AttributeError(name)

    def version_string(self) -> str:
        """The ``Server`` header value (without the stdlib's Python version suffix)."""
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: test output is not the place for access logs."""

    @property
    def connection_id(self) -> int:
        """0-based id of this connection on its server, in accept order."""
        return self.server.current_connection_id()

    def read_request_body(self) -> bool:
        """Read the body by its framing; on bad framing answer 400, close, and return False."""
        try:
            self.body, self.trailers, self.chunked = read_body(self.headers, self.rfile)
        except MalformedBody as exc:
            self.reply(400, f"bad request body: {exc}\n".encode(), close=True)
            return False
        return True

    def reply(
        self,
        status: int,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
        content_type: str = "text/plain; charset=utf-8",
        close: bool = False,
    ) -> None:
        """Send a complete response with Content-Length (omitted for 1xx/204/304).

        HEAD gets the same head as GET would, without the body. ``close`` adds
        ``Connection: close`` and ends the connection after this response.
        """
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status >= 200 and status not in (204, 304):
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        else:
            body = b""
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
