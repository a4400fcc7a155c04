"""The connection seam: the one place where pools get their connections.

How pooltest is layered
=======================
``PoolManager`` -> ``HTTPConnectionPool`` -> *connection* -> socket.

Everything above the connection (the LRU of pools, checkout and return of connections, retries,
redirects, request encoding, the response parser and content decoding) is the same code whether a
test talks to a real server or replays a cassette. What changes is only the connection object, and
pools get every connection from one place: their **connection factory**.

Rule 1 — one seam, injected with a default.
    ``HTTPConnectionPool(..., connection_factory=f)`` and ``PoolManager(..., connection_factory=f)``
    take a :class:`ConnectionFactory`. When none is given, :func:`pooltest.connection.
    default_connection_factory` builds the real, socket-backed :class:`~pooltest.connection.
    HTTPConnection` (or HTTPS). No class is ever patched: a cassette passes its own factory, or
    activates itself where the default factory looks (see ``pooltest.connection``).

Rule 2 — a connection is a small object with a written contract (:class:`BaseHTTPConnection`).
    The pool calls ``request(...)`` once, then ``getresponse()`` once, per exchange; then it returns
    the connection to its queue, where it may be reused for another exchange or ``close()``-d.
    ``is_closed``/``is_connected`` tell the pool whether a kept-alive connection is still usable.

Rule 3 — responses are parsed from bytes, wherever the bytes come from.
    A real connection hands ``sock.makefile("rb")`` to :func:`pooltest._http11.read_response`; a
    replaying connection hands an ``io.BytesIO`` of the recorded response to the same function.
    So status-line and header parsing, chunked and Content-Length framing, keep-alive decisions
    and content decoding run identically live and in replay.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable
from typing import Any, ClassVar, Literal, NamedTuple, Protocol, runtime_checkable

if typing.TYPE_CHECKING:
    import ssl

    from .response import BaseHTTPResponse
    from .util.url import Url

_TYPE_BODY = bytes | typing.IO[Any] | typing.Iterable[bytes | str] | str
_TYPE_SOCKET_OPTIONS = list[tuple[int, int, int | bytes]]


class ProxyConfig(NamedTuple):
    """How a pool reaches its proxy (TLS settings for an HTTPS proxy, forwarding or tunnelling)."""

    ssl_context: ssl.SSLContext | None
    use_forwarding_for_https: bool
    assert_hostname: str | Literal[False] | None
    assert_fingerprint: str | None


class _ResponseOptions(NamedTuple):
    """What ``request()`` remembers for ``getresponse()`` to build the response with."""

    request_method: str
    request_url: str
    preload_content: bool
    decode_content: bool
    enforce_content_length: bool


#: ``new_options((method, url, preload, decode, enforce))`` is ``_ResponseOptions(method, url,
#: preload, decode, enforce)`` made by ``tuple.__new__`` alone: a NamedTuple call runs its
#: ``__new__`` in Python, and one is made for every request.
new_options: Callable[[tuple[str, str, bool, bool, bool]], _ResponseOptions] = functools.partial(
    tuple.__new__, _ResponseOptions
)


@runtime_checkable
class BaseHTTPConnection(Protocol):
    """What a pool needs from a connection. Real, recording and replaying connections all fit.

    Lifecycle: a connection starts closed (``is_closed`` is True). ``request()`` connects if
    needed and sends one request; ``getresponse()`` returns its response, whose body is read
    through the connection. When the body has been read to its end and the server allows it, the
    connection may carry the next request; otherwise it closes itself. ``close()`` may be called
    at any time and leaves the object reusable (the next ``request()`` reconnects).
    """

    default_port: ClassVar[int]
    host: str
    port: int
    #: Timeout for the next socket operation, in seconds (None: block). Set by the pool before
    #: ``request()`` (connect timeout) and before ``getresponse()`` (read timeout).
    timeout: float | None
    proxy: Url | None
    proxy_config: ProxyConfig | None
    is_verified: bool
    proxy_is_verified: bool | None

    def set_tunnel(
        self,
        host: str,
        port: int | None = None,
        headers: typing.Mapping[str, str] | None = None,
        scheme: str = "http",
    ) -> None:
        """Ask ``connect()`` to open a CONNECT tunnel through the proxy to ``host:port``."""

    def connect(self) -> None:
        """Open the transport now (TCP, then TLS for HTTPS). ``request()`` calls it if needed."""

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
        """Send one request. ``url`` is the request target (origin-form, or absolute-form for a
        forwarding proxy). Raises ``ValueError`` before sending anything if the method, target
        or a header holds characters HTTP forbids (CR, LF, NUL, ...)."""

    def getresponse(self) -> BaseHTTPResponse:
        """Read the status line and headers of the response to the last ``request()``."""

    def close(self) -> None:
        """Close the transport; the object stays usable and reconnects on the next request."""

    @property
    def is_closed(self) -> bool:
        """True when there is no transport (new or closed connection)."""

    @property
    def is_connected(self) -> bool:
        """True when the transport is open and the peer has not closed or written to it."""

    @property
    def has_connected_to_proxy(self) -> bool:
        """True once a proxy connection is established (tells proxy errors from origin errors)."""


@runtime_checkable
class ConnectionFactory(Protocol):
    """Builds the connections of one pool: the seam cassettes plug into.

    Called by a pool each time it needs a new connection, with the pool's scheme, host and port,
    the connection class the pool would use (``pool.ConnectionCls``) and the keyword arguments it
    would pass to it (timeouts, TLS settings, socket options, proxy settings). It must return a
    new object fulfilling :class:`BaseHTTPConnection`. The default builds
    ``connection_cls(host, port, **conn_kw)``.
    """

    def __call__(
        self,
        scheme: str,
        host: str,
        port: int | None,
        connection_cls: type[BaseHTTPConnection],
        conn_kw: dict[str, Any],
    ) -> BaseHTTPConnection: ...
