"""Real connections: one HTTP/1.1 exchange at a time over a TCP (and TLS) socket.

These are the default products of the connection seam (see :mod:`pooltest._base_connection`).
:class:`HTTPConnection` keeps one socket and one buffered reader on it for as long as the server
allows keep-alive. A request is validated and serialised *before* connecting, so a malformed
method, target or header never opens a socket. The response is parsed by
:func:`pooltest._http11.read_response`, the same function a replaying connection feeds with
recorded bytes.

Stale keep-alive sockets. A server may close an idle kept-alive connection at any moment. The
pool checks for that before reusing a connection, but the close can race with our request. When a
request on a *reused* socket fails before a single response byte arrives (EOF, reset, broken
pipe), the connection reconnects and sends the request once more, provided the request can be
sent again (its body is bytes or absent) and either nothing reached the server or the method is
idempotent. This happens below the retry logic, so it works even with ``retries=0``. A server
that answered before dropping the socket (a 413 in the middle of an upload) is not stale: its
answer is read and returned. A response left unread and released must not break the connection
later: each body reports its end only while its exchange is the connection's current one.

Proxies. A connection whose ``proxy`` is set always dials the proxy, while ``host``/``port``
stay the origin's (so the seam and its cassettes see origins). With a tunnel
(:meth:`HTTPConnection.set_tunnel`, which validates and builds the CONNECT request before any
socket exists) the proxy is asked to CONNECT, then TLS runs with the origin through it; a reconnect
after an abandoned response tunnels again. Without a tunnel an :class:`HTTPSConnection` is talking
to a forwarding HTTPS proxy: TLS is with the proxy, under the proxy's policy.
"""

from __future__ import annotations

import datetime
import http.client
import logging
import socket
import typing
from typing import Any, ClassVar, Literal

from . import _http11
from ._base_connection import (
    _TYPE_BODY,
    _TYPE_SOCKET_OPTIONS,
    BaseHTTPConnection,
    ProxyConfig,
    _ResponseOptions,
    new_options,
)
from ._version import __version__
from .exceptions import (
    ConnectTimeoutError,
    NameResolutionError,
    NewConnectionError,
    ProxyError,
)
from .util import connection as _conn_util
from .util.request import (
    _METHODS_NOT_EXPECTING_BODY,
    SKIP_HEADER,
    SKIPPABLE_HEADERS,
    body_to_chunks,
)
from .util.ssl_ import (
    assert_fingerprint as _assert_fingerprint,
)
from .util.ssl_ import (
    create_urllib3_context,
    is_ipaddress,
    resolve_cert_reqs,
    resolve_ssl_version,
    ssl_wrap_socket,
)
from .util.ssl_match_hostname import CertificateError, match_hostname
from .util.timeout import _DEFAULT_TIMEOUT, _TYPE_TIMEOUT, Timeout
from .util.url import Url

if typing.TYPE_CHECKING:
    import ssl

    from .response import HTTPResponse

__all__ = [
    "BaseSSLError",
    "CertificateError",
    "HTTPConnection",
    "HTTPException",
    "HTTPSConnection",
    "ProxyConfig",
    "VerifiedHTTPSConnection",
    "default_connection_factory",
    "port_by_scheme",
]

try:
    import ssl as _ssl

    BaseSSLError: type[Exception] = _ssl.SSLError
except ImportError:  # pragma: no cover - Python built without ssl
    _ssl = None  # type: ignore[assignment]

    class BaseSSLError(Exception):  # type: ignore[no-redef]
        """Stand-in when the ssl module is missing."""


HTTPException = http.client.HTTPException
ResponseNotReady = http.client.ResponseNotReady

log = logging.getLogger(__name__)

port_by_scheme = {"http": 80, "https": 443}

_DEFAULT_USER_AGENT = f"python-pooltest/{__version__}"
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_NO_NAMES: frozenset[str] = frozenset()
# Errors that mean "the server closed this socket before answering".
_STALE_SOCKET_ERRORS = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
# Bodies at most this large are sent in the same send() call as the head.
_COALESCE_LIMIT = 1 << 16


class _PendingRequest(typing.NamedTuple):
    """A request that can be written again on a fresh socket, if a stale one drops it."""

    head: bytes
    body: bytes
    idempotent: bool


class HTTPConnection:
    """One HTTP/1.1 connection to ``host:port`` (or through a proxy), reused while allowed.

    Constructor arguments and attributes are urllib3 2.x's. ``socket_options`` defaults to
    :attr:`default_socket_options` (TCP_NODELAY on); pass ``[]`` to set none.
    """

    default_port: ClassVar[int] = port_by_scheme["http"]
    default_socket_options: ClassVar[_TYPE_SOCKET_OPTIONS] = [
        (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    ]
    #: Whether the peer's certificate was verified (always False for plain HTTP).
    is_verified: bool = False
    #: Told each final response head as it is parsed (see ``_http11.read_response``); a
    #: recording connection sets it, plain connections leave it None.
    _head_listener: _http11.HeadListener | None = None
    # The header fields of a body-less request without headers (see _prepare_fields).
    _default_fields: tuple[tuple[str, str], ...] | None = None
    #: Whether a TLS proxy's certificate was verified; None when no proxy is connected.
    proxy_is_verified: bool | None = None

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        timeout: _TYPE_TIMEOUT = _DEFAULT_TIMEOUT,
        source_address: tuple[str, int] | None = None,
        blocksize: int = 16384,
        socket_options: _TYPE_SOCKET_OPTIONS | None = default_socket_options,
        proxy: Url | None = None,
        proxy_config: ProxyConfig | None = None,
    ) -> None:
        self._dns_host = host
        self.port = port if port is not None else self.default_port
        self.timeout: float | None = Timeout.resolve_default_timeout(timeout)
        self.source_address = source_address
        self.blocksize = blocksize
        self.socket_options = socket_options
        self.proxy = proxy
        self.proxy_config = proxy_config
        self.sock: socket.socket | None = None
        self._fp: typing.BinaryIO | None = None
        self._has_connected_to_proxy = False
        self._response_options: _ResponseOptions | None = None
        self._pending: _PendingRequest | None = None
        self._wants_close = False
        self._body_open = False
        self._socket_reused = False
        # Bumped by every close() and every response: a body reader left over from an earlier
        # exchange (say, a released response closed later) must not touch the socket now.
        self._exchange = 0
        self._tunnel_host: str | None = None
        self._tunnel_port: int | None = None
        self._tunnel_scheme: str | None = None
        self._tunnel_headers: dict[str, str] = {}
        self._tunnel_head = b""

    def __str__(self) -> str:
        return f"{type(self).__name__}(host={self.host!r}, port={self.port!r})"

    def __repr__(self) -> str:
        state = "closed" if self.sock is None else "open"
        return f"<{type(self).__name__}(host={self.host!r}, port={self.port!r}) {state}>"

    @property
    def host(self) -> str:
        """The host to connect to; a trailing dot of a fully qualified name is dropped."""
        return self._dns_host.rstrip(".")

    @host.setter
    def host(self, value: str) -> None:
        self._dns_host = value

    # -- connecting -------------------------------------------------------------------------

    def _peer_address(self) -> tuple[str, int]:
        """Where the TCP connection goes: the proxy when one is set (for a CONNECT tunnel and
        for forwarding alike, as urllib3's pools dial it), else ``host:port``."""
        proxy = self.proxy
        if proxy is not None and proxy.host:
            port = proxy.port or port_by_scheme.get(proxy.scheme or "http", 80)
            return proxy.host, port
        return self._dns_host, self.port

    def _new_conn(self) -> socket.socket:
        """Open the TCP socket, mapping failures to pooltest's connection errors."""
        host, port = self._peer_address()
        try:
            return _conn_util.create_connection(
                (host, port),
                self.timeout,
                source_address=self.source_address,
                socket_options=self.socket_options,
            )
        except socket.gaierror as e:
            raise NameResolutionError(host.rstrip("."), self, e) from e
        except TimeoutError as e:
            raise ConnectTimeoutError(
                self,
                f"Connection to {host.rstrip('.')} timed out. (connect timeout={self.timeout})",
            ) from e
        except OSError as e:
            raise NewConnectionError(self, f"Failed to establish a new connection: {e}") from e

    def set_tunnel(
        self,
        host: str,
        port: int | None = None,
        headers: typing.Mapping[str, str] | None = None,
        scheme: str = "http",
    ) -> None:
        """Ask :meth:`connect` to open a CONNECT tunnel to ``host:port`` through the proxy.

        The CONNECT request is validated and serialised here, so a host or header that could
        split it raises ``ValueError`` before any connection is opened.
        """
        if scheme not in ("http", "https"):
            raise ValueError(
                f"Invalid proxy scheme for tunneling: {scheme!r}, must be either 'http' or 'https'"
            )
        if self.sock is not None:
            raise RuntimeError("Can't set up tunnel for established connection")
        tunnel_port = port if port is not None else port_by_scheme[scheme]
        tunnel_headers = dict(headers) if headers else {}
        self._tunnel_head = _connect_head(host, tunnel_port, tunnel_headers)
        self._tunnel_host = host
        self._tunnel_port = tunnel_port
        self._tunnel_scheme = scheme
        self._tunnel_headers = tunnel_headers

    def connect(self) -> None:
        """Open the socket (and the CONNECT tunnel when one was set)."""
        self._attach(self._new_conn())
        if self._tunnel_host is not None:
            self._has_connected_to_proxy = True
            self._tunnel()
        self._has_connected_to_proxy = bool(self.proxy)
        if self._has_connected_to_proxy:
            self.proxy_is_verified = False

    def _attach(self, sock: socket.socket) -> None:
        self.sock = sock
        self._fp = sock.makefile("rb")
        self._socket_reused = False

    def _tunnel(self) -> None:
        """Send CONNECT (built by :meth:`set_tunnel`) on the fresh socket; read the answer."""
        sock, fp = self._require_open()
        sock.sendall(self._tunnel_head)
        _version, status, reason, _headers = _http11.read_response_head(fp)
        if status != 200:
            self.close()
            raise OSError(f"Tunnel connection failed: {status} {reason.strip()}")

    def _require_open(self) -> tuple[socket.socket, typing.BinaryIO]:
        if self.sock is None or self._fp is None:
            raise http.client.NotConnected("the connection is not open")
        return self.sock, self._fp

    # -- state ------------------------------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        """True when no socket is open."""
        return self.sock is None

    @property
    def is_connected(self) -> bool:
        """True when the socket is open and the peer has neither closed it nor sent stray bytes."""
        if self.sock is None:
            return False
        return not _conn_util.wait_for_read(self.sock, timeout=0.0)

    @property
    def has_connected_to_proxy(self) -> bool:
        """True once the socket to the proxy is established."""
        return self._has_connected_to_proxy

    @property
    def proxy_is_forwarding(self) -> bool:
        """True when requests go to a proxy in absolute-form (no tunnel)."""
        return bool(self.proxy) and self._tunnel_host is None

    @property
    def proxy_is_tunneling(self) -> bool:
        """True when a CONNECT tunnel is (to be) used."""
        return self._tunnel_host is not None

    def close(self) -> None:
        """Close the socket. The object stays usable: the next request reconnects."""
        sock, fp = self.sock, self._fp
        self.sock = None
        self._fp = None
        self._response_options = None
        self._pending = None
        self._body_open = False
        self._exchange += 1
        self.is_verified = False
        self.proxy_is_verified = None
        self._has_connected_to_proxy = False
        self._tunnel_host = self._tunnel_port = self._tunnel_scheme = None
        if fp is not None:
            fp.close()
        if sock is not None:
            sock.close()

    # -- one exchange -----------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        body: _TYPE_BODY | None = None,
        headers: typing.Mapping[str, str] | None = None,
        *,
        chunked: bool = False,
        preload_content: bool = True,
        decode_content: bool = True,
        enforce_content_length: bool = True,
    ) -> None:
        """Send one request; see :class:`~pooltest._base_connection.BaseHTTPConnection`."""
        headers = headers if headers is not None else {}
        head, chunks, chunked = self._prepare(method, url, body, headers, chunked)
        if self._body_open:  # the previous response was abandoned unread: start afresh
            self._close_keeping_tunnel()
        if self.sock is None:
            self.connect()
        options = new_options(
            (method, url, preload_content, decode_content, enforce_content_length)
        )
        self._send_prepared(method, head, chunks, chunked, headers, options)

    def _send_prepared(
        self,
        method: str,
        head: bytes,
        chunks: typing.Iterable[bytes | str] | None,
        chunked: bool,
        headers: typing.Mapping[str, str],
        options: _ResponseOptions,
    ) -> None:
        """Send a request :meth:`_prepare` built, on the open socket."""
        sock, _ = self._require_open()
        if sock.gettimeout() != self.timeout:
            sock.settimeout(self.timeout)
        self._response_options = options
        self._wants_close = _asks_to_close(headers)
        if chunks is None:
            payload: bytes | None = b"0\r\n\r\n" if chunked else b""
        else:
            payload = _single_body(chunks, chunked)
        if payload is None:
            assert chunks is not None
            self._pending = None  # an iterable body cannot be sent twice
            self._send_streaming(head, chunks, chunked)
        else:
            self._pending = _PendingRequest(head, payload, method in _IDEMPOTENT)
            self._send_replayable(head, payload)

    def _prepare(
        self,
        method: str,
        url: str,
        body: _TYPE_BODY | None,
        headers: typing.Mapping[str, str],
        chunked: bool,
    ) -> tuple[bytes, typing.Iterable[bytes | str] | None, bool]:
        """Build and validate the request head; nothing is sent or connected here."""
        pairs, chunks, chunked = self._prepare_fields(method, url, body, headers, chunked)
        return _http11.encode_request_head(method, url, pairs), chunks, chunked

    def _prepare_fields(
        self,
        method: str,
        url: str,
        body: _TYPE_BODY | None,
        headers: typing.Mapping[str, str],
        chunked: bool,
    ) -> tuple[
        typing.Sequence[tuple[str, _http11.HeaderValue]], typing.Iterable[bytes | str] | None, bool
    ]:
        """The header fields to send (defaults added), the body's chunks and whether the body
        goes chunked; :meth:`_prepare` validates and serialises them."""
        if not headers and body is None and not chunked and method in _METHODS_NOT_EXPECTING_BODY:
            # The usual GET: the default fields alone, the same tuple while the Host value is
            # the same (so a field check that has seen it knows it at once: check_fields).
            host = self._host_header(url)
            fields = self._default_fields
            if fields is None or fields[0][1] != host:
                fields = self._default_fields = (
                    ("Host", host),
                    ("Accept-Encoding", "identity"),
                    ("User-Agent", _DEFAULT_USER_AGENT),
                )
            return fields, None, False
        # No headers given (the usual case for a pool's requests): no names to lower-case.
        keys = {k.lower() for k in headers} if headers else _NO_NAMES
        pairs: list[tuple[str, _http11.HeaderValue]] = []
        if "host" not in keys:
            pairs.append(("Host", self._host_header(url)))
        if "accept-encoding" not in keys:
            pairs.append(("Accept-Encoding", "identity"))
        chunks_and_length = body_to_chunks(body, method=method, blocksize=self.blocksize)
        chunks = chunks_and_length.chunks
        if chunked:
            if "transfer-encoding" not in keys:
                pairs.append(("Transfer-Encoding", "chunked"))
        elif "content-length" in keys:
            chunked = False
        elif "transfer-encoding" in keys:
            chunked = True
        elif chunks_and_length.content_length is not None:
            pairs.append(("Content-Length", str(chunks_and_length.content_length)))
        elif chunks is not None:
            chunked = True
            pairs.append(("Transfer-Encoding", "chunked"))
        if "user-agent" not in keys:
            pairs.append(("User-Agent", _DEFAULT_USER_AGENT))
        if headers:
            for name, value in headers.items():
                if value == SKIP_HEADER:
                    _check_skippable(name)
                    continue
                pairs.append((name, value))
        return pairs, chunks, chunked

    def _host_header(self, url: str) -> str:
        # An origin-form target ("/...", the usual case) settles the first test at once.
        if url[:1] != "/" and url[:4].lower() == "http" and "://" in url:  # absolute-form
            return url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
        if self._tunnel_host is not None:
            return _authority(self._tunnel_host, self._tunnel_port, self.default_port)
        return _authority(self.host, self.port, self.default_port)

    def _send_replayable(self, head: bytes, body: bytes) -> None:
        sock, _ = self._require_open()
        try:
            _send_all(sock, head, body)
        except _STALE_SOCKET_ERRORS:
            # A server that answered early (say 413 to an upload) and dropped the connection
            # has not lost our request: its answer is waiting to be read. Only a socket the
            # server closed without a word is stale.
            if not self._socket_reused or _peer_sent_data(sock):
                raise
            log.debug("Resending on a fresh socket: %s closed the kept-alive one", self)
            self._reconnect_and_resend()

    def _send_streaming(
        self, head: bytes, chunks: typing.Iterable[bytes | str], chunked: bool
    ) -> None:
        sock, _ = self._require_open()
        sock.sendall(head)
        for chunk in chunks:
            data = chunk.encode("utf-8") if isinstance(chunk, str) else chunk
            if not data:  # an empty chunk would end a chunked body early
                continue
            if chunked:
                sock.sendall(b"%x\r\n%b\r\n" % (len(data), data))
            else:
                sock.sendall(data)
        if chunked:
            sock.sendall(b"0\r\n\r\n")

    def _reconnect_and_resend(self) -> None:
        pending, options, wants_close = self._pending, self._response_options, self._wants_close
        assert pending is not None
        self._close_keeping_tunnel()
        self.connect()
        self._pending, self._response_options, self._wants_close = pending, options, wants_close
        sock, _ = self._require_open()
        _send_all(sock, pending.head, pending.body)

    def _close_keeping_tunnel(self) -> None:
        """Close the socket but keep the CONNECT tunnel, so that reconnecting goes through the
        proxy again (``close()`` forgets the tunnel, as urllib3's does)."""
        tunnel = (self._tunnel_host, self._tunnel_port, self._tunnel_headers, self._tunnel_scheme)
        self.close()
        if tunnel[0] is not None:
            self.set_tunnel(tunnel[0], tunnel[1], tunnel[2], tunnel[3] or "http")

    def getresponse(self) -> HTTPResponse:
        """Read the response to the last request (see the seam's contract)."""
        if self._response_options is None:
            raise ResponseNotReady()
        sock, fp = self._require_open()
        if sock.gettimeout() != self.timeout:
            sock.settimeout(self.timeout)
        try:
            response = self._read_response(fp, sock)
        except _STALE_SOCKET_ERRORS:
            pending = self._pending
            if not (self._socket_reused and pending is not None and pending.idempotent):
                raise
            log.debug("Resending on a fresh socket: %s closed the kept-alive one", self)
            self._reconnect_and_resend()
            sock, fp = self._require_open()
            response = self._read_response(fp, sock)
        return response

    def _read_response(self, fp: typing.BinaryIO, sock: socket.socket) -> HTTPResponse:
        options = self._response_options
        assert options is not None
        self._body_open = True
        self._exchange += 1
        response = _http11.read_response(
            fp,
            options,
            self._body_done_callback(),
            request_wants_close=self._wants_close,
            sock_shutdown=sock.shutdown,
            on_head=self._head_listener,
        )
        self._response_options = None
        self._pending = None
        return response

    def _body_done_callback(self) -> typing.Callable[[bool], None]:
        """``_on_body_done`` for the current exchange only: once the connection has moved on
        (closed, or reading a newer response), a late call from this body is ignored."""
        exchange = self._exchange
        on_done = self._on_body_done

        def done(reusable: bool) -> None:
            if exchange == self._exchange:
                on_done(reusable)

        return done

    def _on_body_done(self, reusable: bool) -> None:
        self._body_open = False
        if reusable:
            self._socket_reused = True
        else:
            self.close()

    # -- http.client's step-by-step API (urllib3's connections inherit it) -------------------

    #: http.client compatibility: connections open on demand.
    auto_open = 1
    #: http.client compatibility: pooltest logs through :mod:`logging` instead.
    debuglevel = 0

    def set_debuglevel(self, level: int) -> None:
        """Accepted for http.client compatibility; use :func:`pooltest.add_stderr_logger`."""
        self.debuglevel = level

    def putrequest(
        self,
        method: str,
        url: str,
        skip_host: bool = False,
        skip_accept_encoding: bool = False,
    ) -> None:
        """Start a request head by hand (http.client style): then ``putheader``, ``endheaders``."""
        _http11.check_method(method)
        _http11.check_target(url)
        self._manual: list[tuple[str, _http11.HeaderValue]] = []
        self._manual_line = (method, url)
        if not skip_host:
            self._manual.append(("Host", self._host_header(url)))
        if not skip_accept_encoding:
            self._manual.append(("Accept-Encoding", "identity"))

    def putheader(self, header: str, *values: str) -> None:
        """Add one header field to a manual request (several values are joined with ", ")."""
        if any(v == SKIP_HEADER for v in values):
            _check_skippable(header)
            return
        self._manual.append((header, ", ".join(str(v) for v in values)))

    def endheaders(
        self, message_body: bytes | None = None, *, encode_chunked: bool = False
    ) -> None:
        """Send the manual request head (and ``message_body``, if given)."""
        method, url = self._manual_line
        head = _http11.encode_request_head(method, url, self._manual)
        if self.sock is None:
            self.connect()
        headers = {name: str(value) for name, value in self._manual}
        options = new_options((method, url, True, True, True))
        self._send_prepared(method, head, None, False, headers, options)
        if message_body is not None:
            self.send(message_body)

    def send(self, data: bytes | typing.IO[bytes] | typing.Iterable[bytes]) -> None:
        """Send raw bytes (or a binary file's, or an iterable's) on the socket."""
        if self.sock is None:
            self.connect()
        sock, _ = self._require_open()
        if isinstance(data, (bytes, bytearray, memoryview)):
            sock.sendall(data)
        elif hasattr(data, "read"):
            while block := typing.cast(typing.IO[bytes], data).read(self.blocksize):
                sock.sendall(block)
        else:
            for block in data:
                sock.sendall(block)

    def request_chunked(
        self,
        method: str,
        url: str,
        body: _TYPE_BODY | None = None,
        headers: typing.Mapping[str, str] | None = None,
    ) -> None:
        """Deprecated: use ``request(..., chunked=True)``."""
        import warnings

        warnings.warn(
            "HTTPConnection.request_chunked() is deprecated and will be removed "
            "in urllib3 v3.0. Instead use HTTPConnection.request(..., chunked=True).",
            category=FutureWarning,
            stacklevel=2,
        )
        self.request(method, url, body=body, headers=headers, chunked=True)


class HTTPSConnection(HTTPConnection):
    """An :class:`HTTPConnection` over TLS that verifies certificate and host name by default."""

    default_port: ClassVar[int] = port_by_scheme["https"]

    cert_reqs: int | str | None = None
    ca_certs: str | None = None
    ca_cert_dir: str | None = None
    ca_cert_data: str | bytes | None = None
    ssl_version: int | str | None = None
    ssl_minimum_version: int | None = None
    ssl_maximum_version: int | None = None
    assert_fingerprint: str | None = None

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        timeout: _TYPE_TIMEOUT = _DEFAULT_TIMEOUT,
        source_address: tuple[str, int] | None = None,
        blocksize: int = 16384,
        socket_options: _TYPE_SOCKET_OPTIONS | None = HTTPConnection.default_socket_options,
        proxy: Url | None = None,
        proxy_config: ProxyConfig | None = None,
        cert_reqs: int | str | None = None,
        assert_hostname: str | Literal[False] | None = None,
        assert_fingerprint: str | None = None,
        server_hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        ca_certs: str | None = None,
        ca_cert_dir: str | None = None,
        ca_cert_data: str | bytes | None = None,
        ssl_minimum_version: int | None = None,
        ssl_maximum_version: int | None = None,
        ssl_version: int | str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        key_password: str | None = None,
    ) -> None:
        super().__init__(
            host,
            port=port,
            timeout=timeout,
            source_address=source_address,
            blocksize=blocksize,
            socket_options=socket_options,
            proxy=proxy,
            proxy_config=proxy_config,
        )
        self.key_file = key_file
        self.cert_file = cert_file
        self.key_password = key_password
        self.ssl_context = ssl_context
        self.server_hostname = server_hostname
        self.assert_hostname = assert_hostname
        self.assert_fingerprint = assert_fingerprint
        self.ssl_version = ssl_version
        self.ssl_minimum_version = ssl_minimum_version
        self.ssl_maximum_version = ssl_maximum_version
        self.ca_certs = ca_certs
        self.ca_cert_dir = ca_cert_dir
        self.ca_cert_data = ca_cert_data
        self.cert_reqs = cert_reqs if cert_reqs is not None else _default_cert_reqs(ssl_context)

    def set_cert(
        self,
        key_file: str | None = None,
        cert_file: str | None = None,
        cert_reqs: int | str | None = None,
        key_password: str | None = None,
        ca_certs: str | None = None,
        assert_hostname: str | Literal[False] | None = None,
        assert_fingerprint: str | None = None,
        ca_cert_dir: str | None = None,
        ca_cert_data: str | bytes | None = None,
    ) -> None:
        """Deprecated: pass these settings to the constructor instead."""
        import warnings

        warnings.warn(
            "HTTPSConnection.set_cert() is deprecated and will be removed "
            "in urllib3 v3.0. Instead provide the parameters to the "
            "HTTPSConnection constructor.",
            category=DeprecationWarning,
            stacklevel=2,
        )
        if cert_reqs is None:
            cert_reqs = _default_cert_reqs(self.ssl_context)
        self.key_file, self.cert_file, self.cert_reqs = key_file, cert_file, cert_reqs
        self.key_password, self.assert_hostname = key_password, assert_hostname
        self.assert_fingerprint = assert_fingerprint
        self.ca_certs, self.ca_cert_dir, self.ca_cert_data = ca_certs, ca_cert_dir, ca_cert_data

    def connect(self) -> None:
        """Open the socket (through the tunnel if set), then the TLS session, then verify.

        Without a tunnel but with a proxy (a forwarding HTTPS proxy), the TLS session is with
        the proxy, under the proxy's policy (see :meth:`_wrap_for_proxy`); the origin is then
        never verified by us, so ``is_verified`` stays False, as in urllib3.
        """
        sock = self._new_conn()
        self._attach(sock)
        if self.proxy_is_forwarding:
            self._connect_forwarding(sock)
            return
        server_hostname = self.host
        if self._tunnel_host is not None:
            if self._tunnel_scheme == "https":
                self.close()
                from .exceptions import ProxySchemeUnsupported

                raise ProxySchemeUnsupported(
                    "TLS in TLS (an HTTPS origin through an HTTPS proxy) is not supported"
                )
            self.proxy_is_verified = False
            self._has_connected_to_proxy = True
            self._tunnel()
            server_hostname = self._tunnel_host
        if self.server_hostname is not None:
            server_hostname = self.server_hostname
        try:
            tls_sock, verified = self._wrap(sock, server_hostname.rstrip("."))
        except BaseException:
            # A TLS failure past an established tunnel is the origin's, not the proxy's: keep
            # has_connected_to_proxy so the pool reports SSLError rather than ProxyError.
            tunnelled = self._has_connected_to_proxy
            self.close()
            self._has_connected_to_proxy = tunnelled
            raise
        assert self._fp is not None
        self._fp.close()
        self._attach(tls_sock)
        self.is_verified = verified
        self._has_connected_to_proxy = bool(self.proxy)
        if self._has_connected_to_proxy and self.proxy_is_verified is None:
            self.proxy_is_verified = False

    def _connect_forwarding(self, sock: socket.socket) -> None:
        try:
            tls_sock, proxy_verified = self._wrap_for_proxy(sock)
        except BaseException:
            self.close()
            raise
        assert self._fp is not None
        self._fp.close()
        self._attach(tls_sock)
        self.is_verified = False
        self.proxy_is_verified = proxy_verified
        self._has_connected_to_proxy = True

    def _wrap_for_proxy(self, sock: socket.socket) -> tuple[ssl.SSLSocket, bool]:
        """TLS with the proxy itself: its own ``ssl_context`` from ``proxy_config`` if one was
        given, else this connection's CA settings (no client certificate); the host name and
        fingerprint checks are the proxy's (``proxy_assert_hostname``/``_fingerprint``)."""
        config = self.proxy_config
        hostname = self._peer_address()[0].rstrip(".")
        if config is not None and config.ssl_context is not None:
            context = config.ssl_context
            return wrap_and_verify(
                sock,
                server_hostname=hostname,
                cert_reqs=context.verify_mode,
                ssl_version=None,
                ssl_minimum_version=None,
                ssl_maximum_version=None,
                cert_file=None,
                key_file=None,
                key_password=None,
                ca_certs=None,
                ca_cert_dir=None,
                ca_cert_data=None,
                assert_hostname=config.assert_hostname,
                assert_fingerprint=config.assert_fingerprint,
                ssl_context=context,
            )
        return wrap_and_verify(
            sock,
            server_hostname=hostname,
            cert_reqs=self.cert_reqs,
            ssl_version=self.ssl_version,
            ssl_minimum_version=self.ssl_minimum_version,
            ssl_maximum_version=self.ssl_maximum_version,
            cert_file=None,
            key_file=None,
            key_password=None,
            ca_certs=self.ca_certs,
            ca_cert_dir=self.ca_cert_dir,
            ca_cert_data=self.ca_cert_data,
            assert_hostname=config.assert_hostname if config else self.assert_hostname,
            assert_fingerprint=config.assert_fingerprint if config else self.assert_fingerprint,
            ssl_context=self.ssl_context,
        )

    def _wrap(self, sock: socket.socket, server_hostname: str) -> tuple[ssl.SSLSocket, bool]:
        return wrap_and_verify(
            sock,
            server_hostname=server_hostname,
            cert_reqs=self.cert_reqs,
            ssl_version=self.ssl_version,
            ssl_minimum_version=self.ssl_minimum_version,
            ssl_maximum_version=self.ssl_maximum_version,
            cert_file=self.cert_file,
            key_file=self.key_file,
            key_password=self.key_password,
            ca_certs=self.ca_certs,
            ca_cert_dir=self.ca_cert_dir,
            ca_cert_data=self.ca_cert_data,
            assert_hostname=self.assert_hostname,
            assert_fingerprint=self.assert_fingerprint,
            ssl_context=self.ssl_context,
        )


def wrap_and_verify(
    sock: socket.socket,
    *,
    server_hostname: str,
    cert_reqs: int | str | None,
    ssl_version: int | str | None,
    ssl_minimum_version: int | None,
    ssl_maximum_version: int | None,
    cert_file: str | None,
    key_file: str | None,
    key_password: str | None,
    ca_certs: str | None,
    ca_cert_dir: str | None,
    ca_cert_data: str | bytes | None,
    assert_hostname: str | Literal[False] | None,
    assert_fingerprint: str | None,
    ssl_context: ssl.SSLContext | None,
) -> tuple[ssl.SSLSocket, bool]:
    """Run the TLS handshake and the checks urllib3 runs; return ``(socket, is_verified)``.

    The standard library checks the host name during the handshake, except when the caller asked
    for a fingerprint, for another name (``assert_hostname``) or for no check (False): then the
    check runs here, after the handshake, and the socket is closed if it fails.
    """
    own_context = ssl_context is None
    context = ssl_context or create_urllib3_context(
        ssl_version=resolve_ssl_version(ssl_version),
        ssl_minimum_version=ssl_minimum_version,
        ssl_maximum_version=ssl_maximum_version,
        cert_reqs=resolve_cert_reqs(cert_reqs),
    )
    context.verify_mode = resolve_cert_reqs(cert_reqs)
    if assert_fingerprint or assert_hostname or assert_hostname is False:
        context.check_hostname = False
    if own_context and not (ca_certs or ca_cert_dir or ca_cert_data):
        context.load_default_certs()
    hostname = server_hostname.strip("[]")
    if "%" in hostname:
        hostname = hostname[: hostname.rfind("%")]
    if not is_ipaddress(hostname):
        hostname = server_hostname
    tls_sock = ssl_wrap_socket(
        sock=sock,
        keyfile=key_file,
        certfile=cert_file,
        key_password=key_password,
        ca_certs=ca_certs,
        ca_cert_dir=ca_cert_dir,
        ca_cert_data=ca_cert_data,
        server_hostname=hostname,
        ssl_context=context,
    )
    try:
        if assert_fingerprint:
            _assert_fingerprint(tls_sock.getpeercert(binary_form=True), assert_fingerprint)
        elif (
            context.verify_mode != _ssl.CERT_NONE
            and not context.check_hostname
            and assert_hostname is not False
        ):
            checks_cn = not own_context and bool(
                getattr(context, "hostname_checks_common_name", False)
            )
            asserted = (assert_hostname or hostname).strip("[]")
            match_hostname(tls_sock.getpeercert(), asserted, checks_cn)  # type: ignore[arg-type]
    except BaseException:
        tls_sock.close()
        raise
    return tls_sock, context.verify_mode == _ssl.CERT_REQUIRED or bool(assert_fingerprint)


def default_connection_factory(
    scheme: str,
    host: str,
    port: int | None,
    connection_cls: type[BaseHTTPConnection],
    conn_kw: dict[str, Any],
) -> BaseHTTPConnection:
    """The seam's default: a real connection of the pool's connection class."""
    return connection_cls(host=host, port=port, **conn_kw)  # type: ignore[call-arg]


def wrap_proxy_error(err: Exception, proxy_scheme: str | None) -> ProxyError:
    """Wrap an error met while reaching a proxy, hinting at an HTTP-only proxy when likely."""
    text = str(err).lower()
    likely_http_proxy = any(
        hint in text
        for hint in ("wrong version number", "unknown protocol", "record layer failure")
    )
    hint = (
        ". Your proxy appears to only use HTTP and not HTTPS, "
        "try changing your proxy URL to be HTTP. See: "
        "https://urllib3.readthedocs.io/en/latest/advanced-usage.html"
        "#https-proxy-error-http-proxy"
    )
    suffix = hint if likely_http_proxy and proxy_scheme == "https" else ""
    new_err = ProxyError(f"Unable to connect to proxy{suffix}", err)
    new_err.__cause__ = err
    return new_err


def _authority(host: str, port: int | None, default_port: int | None) -> str:
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return host if port is None or port == default_port else f"{host}:{port}"


def _default_cert_reqs(ssl_context: ssl.SSLContext | None) -> ssl.VerifyMode:
    """``cert_reqs`` when none is given: the context's mode, else ``CERT_REQUIRED`` (as urllib3)."""
    return ssl_context.verify_mode if ssl_context is not None else resolve_cert_reqs(None)


def _connect_head(host: str, port: int, headers: typing.Mapping[str, str]) -> bytes:
    """The CONNECT request for a tunnel to ``host:port``; ValueError if any part is unsafe."""
    authority = _authority(host, port, None)
    try:
        _http11.check_target(authority)
    except http.client.InvalidURL:
        raise ValueError(f"Tunnel host can't contain control characters {host!r}") from None
    pairs = [("Host", authority), *headers.items()]
    return _http11.encode_request_head("CONNECT", authority, pairs)


def _asks_to_close(headers: typing.Mapping[str, str]) -> bool:
    for name, value in headers.items():
        if name.lower() == "connection" and "close" in str(value).lower():
            return True
    return False


def _single_body(chunks: typing.Iterable[bytes | str] | None, chunked: bool) -> bytes | None:
    """The body as one bytes object when it is one (a resendable request), else None."""
    if chunked or not isinstance(chunks, tuple) or len(chunks) != 1:
        return None
    (only,) = chunks
    return only.encode("utf-8") if isinstance(only, str) else only


def _peer_sent_data(sock: socket.socket) -> bool:
    """Whether bytes from the peer wait on ``sock`` (a peer that only closed or reset has none).

    Peeks at the raw socket, below any TLS layer, so it never consumes anything.
    """
    if not _conn_util.wait_for_read(sock, timeout=0.0):
        return False
    try:
        return bool(socket.socket.recv(sock, 1, socket.MSG_PEEK))
    except OSError:  # reset with nothing queued
        return False


def _send_all(sock: socket.socket, head: bytes, body: bytes) -> None:
    if not body:
        sock.sendall(head)
    elif len(body) <= _COALESCE_LIMIT:
        sock.sendall(head + body)
    else:
        sock.sendall(head)
        sock.sendall(body)


def _check_skippable(name: str) -> None:
    if name.lower() not in SKIPPABLE_HEADERS:
        listed = "', '".join(h.title() for h in sorted(SKIPPABLE_HEADERS))
        raise ValueError(f"urllib3.util.SKIP_HEADER only supports '{listed}'")


#: urllib3 1.x name of :class:`HTTPSConnection`.
VerifiedHTTPSConnection = HTTPSConnection

#: Before this date the system clock is surely wrong (certificates would fail to validate).
RECENT_DATE = datetime.date(2025, 1, 1)


class DummyConnection:
    """Stands in for :class:`HTTPSConnection` where Python has no ssl module (as in urllib3)."""
