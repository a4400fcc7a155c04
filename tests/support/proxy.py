"""``ProxyServer``: a small HTTP/1.1 forward proxy that only reaches loopback origins.

Two kinds of request are served, on keep-alive client connections:

* absolute-form requests (``GET http://127.0.0.1:8000/path HTTP/1.1``): the request is sent on to
  the origin in origin-form with the client's header fields, minus the hop-by-hop ones
  (``Connection``, ``Keep-Alive``, ``Proxy-Authorization``, ``Proxy-Connection``, ``TE``,
  ``Trailer``, ``Transfer-Encoding``, ``Upgrade``, ``Expect``) and with a recomputed
  ``Content-Length``. The origin's response is read whole and relayed with a ``Content-Length``.
  ``https://`` targets are fetched over TLS trusting ``upstream_ca_certs``.
* ``CONNECT host:port``: the proxy opens a TCP connection to the origin, answers
  ``200 Connection established`` and relays bytes both ways until either side closes.

Targets other than ``127.0.0.1``, ``::1`` and ``localhost`` get ``403`` (tests never leave the
machine); an unreachable origin gets ``502``, one that times out ``504``, an origin-form request
``400``. With ``auth="user:password"`` every request must carry the matching Basic
``Proxy-Authorization`` or gets ``407``. Every request's line and header fields are kept in
``records`` (so a test can assert what reached the proxy, e.g. ``Proxy-Authorization``, while
``/echo`` on the origin shows what was forwarded); ``request_count`` counts forwarded-form
requests and ``connect_count`` CONNECTs. ``tls=`` makes it an HTTPS proxy.

The client-side reader is unbuffered so that after ``CONNECT`` no tunnelled byte can be stranded
in a userspace buffer that the relay's ``select`` would not see.
"""

from __future__ import annotations

import base64
import http.client
import selectors
import socket
import ssl
import threading
from typing import NamedTuple
from urllib.parse import urlsplit

from ._http import LoopbackHTTPServer, QuietHandler

__all__ = ["ALLOWED_TARGET_HOSTS", "ProxyRecord", "ProxyServer"]

#: The only hosts the proxy will reach.
ALLOWED_TARGET_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
        "content-length",
    }
)
_UPSTREAM_TIMEOUT = 10.0
_TUNNEL_IDLE_TIMEOUT = 30.0


class ProxyRecord(NamedTuple):
    """One request as the proxy saw it."""

    connection_id: int
    method: str
    target: str
    request_line: str
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        """Value of the first field called ``name`` (case-insensitive), or None."""
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)


def _split_authority(authority: str) -> tuple[str, int] | None:
    host, sep, port = authority.rpartition(":")
    if not sep or not port.isdigit() or not host:
        return None
    return host.strip("[]"), int(port)


class _ProxyHandler(QuietHandler):
    server: ProxyServer
    rbufsize = 0  # see the module docstring: nothing may hide in a read buffer before a tunnel

    def dispatch(self) -> None:
        if not self.read_request_body():
            return
        self.server._record(
            ProxyRecord(
                self.connection_id,
                self.command,
                self.path,
                self.requestline,
                tuple(self.headers.items()),
            )
        )
        if not self._authorized():
            self.reply(407, b"proxy authentication required\n", self.server.challenge)
        elif self.command == "CONNECT":
            self._connect()
        else:
            self._forward()

    def _authorized(self) -> bool:
        expected = self.server.expected_authorization
        return expected is None or self.headers.get("Proxy-Authorization") == expected

    # -- CONNECT ------------------------------------------------------------------------

    def _connect(self) -> None:
        self.server._count_connect()
        target = _split_authority(self.path)
        if target is None:
            self.reply(400, b"CONNECT needs host:port\n", close=True)
            return
        if target[0] not in ALLOWED_TARGET_HOSTS:
            self.reply(403, b"proxy only reaches loopback hosts\n", close=True)
            return
        upstream = self._open_upstream(*target)
        if upstream is None:
            return
        try:
            self.send_response(200, "Connection established")
            self.end_headers()
            self._relay(self.connection, upstream)
        finally:
            self.server.registry.untrack(upstream)
            upstream.close()
        self.close_connection = True

    def _open_upstream(self, host: str, port: int) -> socket.socket | None:
        try:
            upstream = socket.create_connection((host, port), timeout=_UPSTREAM_TIMEOUT)
        except TimeoutError:
            self.reply(504, b"upstream connect timed out\n", close=True)
            return None
        except OSError as exc:
            self.reply(502, f"upstream connect failed: {exc}\n".encode(), close=True)
            return None
        self.server.registry.track(upstream)
        return upstream

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        upstream.settimeout(None)
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, client)
            while events := selector.select(_TUNNEL_IDLE_TIMEOUT):
                for key, _ in events:
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    if not _pump(source, key.data):
                        return

    # -- absolute-form forwarding -------------------------------------------------------

    def _forward(self) -> None:
        self.server._count_request()
        split = urlsplit(self.path)
        if split.scheme not in ("http", "https") or not split.hostname:
            self.reply(400, b"proxy expects an absolute-form http(s) URL\n")
            return
        if split.hostname not in ALLOWED_TARGET_HOSTS:
            self.reply(403, b"proxy only reaches loopback hosts\n")
            return
        origin_form = (split.path or "/") + (f"?{split.query}" if split.query else "")
        try:
            status, reason, headers, data = self._fetch(split.scheme, split.netloc, origin_form)
        except TimeoutError:
            self.reply(504, b"upstream timed out\n")
            return
        except (OSError, http.client.HTTPException) as exc:
            self.reply(502, f"upstream failed: {exc!r}\n".encode())
            return
        self._relay_response(status, reason, headers, data)

    def _fetch(
        self, scheme: str, netloc: str, origin_form: str
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = http.client.HTTPSConnection(
                netloc, timeout=_UPSTREAM_TIMEOUT, context=self.server.upstream_context
            )
        else:
            conn = http.client.HTTPConnection(netloc, timeout=_UPSTREAM_TIMEOUT)
        try:
            conn.connect()
            assert conn.sock is not None
            self.server.registry.track(conn.sock)
            conn.putrequest(self.command, origin_form, skip_host=True, skip_accept_encoding=True)
            has_host = False
            for name, value in self.headers.items():
                if name.lower() not in _HOP_BY_HOP:
                    has_host = has_host or name.lower() == "host"
                    conn.putheader(name, value)
            if not has_host:
                conn.putheader("Host", netloc)
            if self.body or self.command in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(self.body)))
            conn.endheaders(self.body or None)
            response = conn.getresponse()
            data = b"" if self.command == "HEAD" else response.read()
            return response.status, response.reason, response.getheaders(), data
        finally:
            if conn.sock is not None:
                self.server.registry.untrack(conn.sock)
            conn.close()

    def _relay_response(
        self, status: int, reason: str, headers: list[tuple[str, str]], data: bytes
    ) -> None:
        self.send_response(status, reason)
        length = None
        for name, value in headers:
            lowered = name.lower()
            if lowered == "content-length":
                length = value
            elif lowered not in _HOP_BY_HOP:
                self.send_header(name, value)
        if self.command == "HEAD" and length is not None:
            self.send_header("Content-Length", length)
        elif status >= 200 and status not in (204, 304):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)


def _pump(source: socket.socket, sink: socket.socket) -> bool:
    """Move what ``source`` has to ``sink``; False once either side is closed."""
    try:
        data = source.recv(65536)
        if isinstance(source, ssl.SSLSocket):
            while source.pending():
                data += source.recv(source.pending())
        if not data:
            return False
        sink.sendall(data)
    except OSError:
        return False
    return True


class ProxyServer(LoopbackHTTPServer):
    """Loopback forward proxy (absolute-form and CONNECT) restricted to loopback targets.

    ``auth`` (``"user:password"``) makes Basic ``Proxy-Authorization`` mandatory;
    ``upstream_ca_certs`` is the CA bundle trusted when forwarding ``https://`` absolute-form
    requests; ``tls`` serves the proxy itself over HTTPS.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        auth: str | None = None,
        upstream_ca_certs: str | None = None,
    ) -> None:
        super().__init__(_ProxyHandler, host, port, tls)
        self._records: list[ProxyRecord] = []
        self._lock = threading.Lock()
        self._requests = 0
        self._connects = 0
        self.expected_authorization = (
            None if auth is None else "Basic " + base64.b64encode(auth.encode()).decode("ascii")
        )
        self.challenge = [("Proxy-Authenticate", 'Basic realm="pooltest-proxy"')]
        self.upstream_context = ssl.create_default_context(cafile=upstream_ca_certs)

    def _record(self, record: ProxyRecord) -> None:
        self._records.append(record)

    def _count_request(self) -> None:
        with self._lock:
            self._requests += 1

    def _count_connect(self) -> None:
        with self._lock:
            self._connects += 1

    @property
    def records(self) -> list[ProxyRecord]:
        """Copy of every request the proxy received (CONNECTs included), in arrival order."""
        return list(self._records)

    @property
    def request_count(self) -> int:
        """Absolute-form (forwarded) requests received."""
        return self._requests

    @property
    def connect_count(self) -> int:
        """CONNECT requests received."""
        return self._connects
