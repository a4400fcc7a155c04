"""Every error and warning pooltest raises.

The hierarchy, class names and messages are urllib3 2.x's, so ``except urllib3.exceptions.X`` code
keeps working after ``import pooltest as urllib3``. Pool-related errors keep a reference to the pool
and pickle without it (pools hold sockets and locks).
"""

from __future__ import annotations

import socket
import typing
import warnings
from http.client import IncompleteRead as _StdlibIncompleteRead

if typing.TYPE_CHECKING:
    from email.errors import MessageDefect

    from .connection import HTTPConnection
    from .connectionpool import ConnectionPool
    from .util.retry import Retry

_Reduced = tuple[typing.Callable[..., object], tuple[object, ...]]


class HTTPError(Exception):
    """Root of every exception pooltest raises on purpose."""


class HTTPWarning(Warning):
    """Root of every warning pooltest emits."""


class PoolError(HTTPError):
    """Something went wrong inside a connection pool."""

    def __init__(self, pool: ConnectionPool, message: str) -> None:
        self.pool = pool
        self._message = message
        super().__init__(f"{pool}: {message}")

    def __reduce__(self) -> _Reduced:
        return self.__class__, (None, self._message)


class RequestError(PoolError):
    """A pool error about one particular URL."""

    def __init__(self, pool: ConnectionPool, url: str | None, message: str) -> None:
        self.url = url
        super().__init__(pool, message)

    def __reduce__(self) -> _Reduced:
        return self.__class__, (None, self.url, self._message)


class SSLError(HTTPError):
    """The TLS handshake or certificate verification failed."""


class ProxyError(HTTPError):
    """The proxy could not be reached or refused the tunnel."""

    original_error: Exception

    def __init__(self, message: str, error: Exception) -> None:
        super().__init__(message, error)
        self.original_error = error


class DecodeError(HTTPError):
    """The response body could not be decoded as its Content-Encoding claims."""


class ProtocolError(HTTPError):
    """The peer broke HTTP/1.1 framing, or the connection broke mid-exchange."""


#: The urllib3 1.x name of :class:`ProtocolError`.
ConnectionError = ProtocolError


class MaxRetryError(RequestError):
    """The retry budget ran out; ``reason`` holds the last underlying error."""

    def __init__(
        self, pool: ConnectionPool, url: str | None, reason: Exception | None = None
    ) -> None:
        self.reason = reason
        message = f"Max retries exceeded with url: {url} (Caused by {reason!r})"
        super().__init__(pool, url, message)

    def __reduce__(self) -> _Reduced:
        return self.__class__, (None, self.url, self.reason)


class HostChangedError(RequestError):
    """A pool was asked for a URL on another origin."""

    def __init__(self, pool: ConnectionPool, url: str, retries: Retry | int = 3) -> None:
        message = f"Tried to open a foreign host with url: {url}"
        super().__init__(pool, url, message)
        self.retries = retries


class TimeoutStateError(HTTPError):
    """A :class:`~pooltest.util.timeout.Timeout` was used in an impossible order."""


class TimeoutError(HTTPError):
    """A socket operation timed out: base of read and connect timeouts."""


class ReadTimeoutError(TimeoutError, RequestError):
    """The server did not send the next bytes within the read timeout."""


class ConnectTimeoutError(TimeoutError):
    """The TCP or TLS connection was not established within the connect timeout."""


class NewConnectionError(ConnectTimeoutError, HTTPError):
    """A new connection could not be opened (refused, unreachable, ...)."""

    def __init__(self, conn: HTTPConnection, message: str) -> None:
        self.conn = conn
        self._message = message
        super().__init__(f"{conn}: {message}")

    def __reduce__(self) -> _Reduced:
        return self.__class__, (None, self._message)

    @property
    def pool(self) -> HTTPConnection:
        warnings.warn(
            "The 'pool' property is deprecated and will be removed "
            "in urllib3 v3.0. Use 'conn' instead.",
            FutureWarning,
            stacklevel=2,
        )
        return self.conn


class NameResolutionError(NewConnectionError):
    """The host name did not resolve."""

    def __init__(self, host: str, conn: HTTPConnection, reason: socket.gaierror) -> None:
        message = f"Failed to resolve '{host}' ({reason})"
        self._host = host
        self._reason = reason
        super().__init__(conn, message)

    def __reduce__(self) -> _Reduced:
        return self.__class__, (self._host, None, self._reason)


class EmptyPoolError(PoolError):
    """No connection became free within ``pool_timeout`` of a blocking pool."""


class FullPoolError(PoolError):
    """A connection was returned to a blocking pool that was already full."""


class ClosedPoolError(PoolError):
    """A request reached a pool that has been closed."""


class LocationValueError(ValueError, HTTPError):
    """A URL is unusable (for example, it names no host)."""


class LocationParseError(LocationValueError):
    """A URL could not be parsed."""

    def __init__(self, location: str) -> None:
        message = f"Failed to parse: {location}"
        super().__init__(message)
        self.location = location


class URLSchemeUnknown(LocationValueError):
    """A URL's scheme is neither http nor https."""

    def __init__(self, scheme: str) -> None:
        message = f"Not supported URL scheme {scheme}"
        super().__init__(message)
        self.scheme = scheme


class ResponseError(HTTPError):
    """The ``reason`` of a :class:`MaxRetryError` caused by retried status codes."""

    GENERIC_ERROR = "too many error responses"
    SPECIFIC_ERROR = "too many {status_code} error responses"


class SecurityWarning(HTTPWarning):
    """Something that weakens security is happening."""


class InsecureRequestWarning(SecurityWarning):
    """An HTTPS request is being made without certificate verification."""


class NotOpenSSLWarning(SecurityWarning):
    """The ssl module is not backed by OpenSSL."""


class SystemTimeWarning(SecurityWarning):
    """The system clock looks wrong."""


class InsecurePlatformWarning(SecurityWarning):
    """The platform lacks a TLS feature pooltest would use."""


class DependencyWarning(HTTPWarning):
    """An optional dependency is missing."""


class ResponseNotChunked(ProtocolError, ValueError):
    """``read_chunked()`` was called on a response that is not chunked."""


class BodyNotHttplibCompatible(HTTPError):
    """The response body object cannot be read chunk by chunk."""


class IncompleteRead(HTTPError, _StdlibIncompleteRead):
    """The body ended before the length its framing announced.

    ``partial`` is a byte count, not the bytes themselves, so large streamed reads stay cheap.
    """

    partial: int  # type: ignore[assignment]  # the stdlib class stores bytes here; we store a count.
    expected: int

    def __init__(self, partial: int, expected: int) -> None:
        self.partial = partial
        self.expected = expected

    def __repr__(self) -> str:
        return f"IncompleteRead({self.partial} bytes read, {self.expected} more expected)"


class InvalidChunkLength(HTTPError, _StdlibIncompleteRead):
    """A chunk-size line of a chunked body is not a hexadecimal number."""

    def __init__(self, response: typing.Any, length: bytes) -> None:
        tell = getattr(response, "tell", None)
        self.partial: int = tell() if callable(tell) else 0  # type: ignore[assignment]
        self.expected: int | None = getattr(response, "length_remaining", None)
        self.response = response
        self.length = length

    def __repr__(self) -> str:
        return f"InvalidChunkLength(got length {self.length!r}, {self.partial} bytes read)"


class InvalidHeader(HTTPError):
    """A header is malformed."""


class ProxySchemeUnknown(AssertionError, URLSchemeUnknown):
    """A proxy URL has a scheme other than http or https."""

    def __init__(self, scheme: str | None) -> None:
        # "localhost:8080" parses with scheme "localhost": treat it as no scheme.
        if scheme == "localhost":
            scheme = None
        if scheme is None:
            message = "Proxy URL had no scheme, should start with http:// or https://"
        else:
            message = f"Proxy URL had unsupported scheme {scheme}, should use http:// or https://"
        super().__init__(message)


class ProxySchemeUnsupported(ValueError):
    """The requested proxy setup is not supported."""


class HeaderParsingError(HTTPError):
    """Response headers had defects; logged as a warning rather than raised to callers."""

    def __init__(
        self, defects: list[MessageDefect] | list[str], unparsed_data: bytes | str | None
    ) -> None:
        message = f"{defects or 'Unknown'}, unparsed data: {unparsed_data!r}"
        super().__init__(message)


class UnrewindableBodyError(HTTPError):
    """A request body could not be rewound to be sent again (retry or redirect)."""
