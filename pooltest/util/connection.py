"""Opening TCP connections, and telling whether a kept-alive one is still usable.

:func:`create_connection` is :func:`socket.create_connection` with three changes: socket
options are applied before connecting, address families are limited by
:func:`allowed_gai_family` (no IPv6 candidates on hosts that cannot use IPv6), and a bracketed
IPv6 literal (``[::1]``) is accepted. Every address ``getaddrinfo`` returns is tried in order;
if all fail, the last error is raised.
"""

from __future__ import annotations

import socket
import typing

from pooltest.exceptions import LocationParseError
from pooltest.util.timeout import _DEFAULT_TIMEOUT, _TYPE_TIMEOUT
from pooltest.util.wait import wait_for_read

if typing.TYPE_CHECKING:
    from pooltest._base_connection import BaseHTTPConnection

__all__ = [
    "HAS_IPV6",
    "allowed_gai_family",
    "create_connection",
    "is_connection_dropped",
    "wait_for_read",
]

#: ``(level, option, value)`` triples passed to :meth:`socket.socket.setsockopt`.
_TYPE_SOCKET_OPTIONS = list[tuple[int, int, int | bytes]]


def is_connection_dropped(conn: BaseHTTPConnection) -> bool:
    """True if ``conn`` should be closed rather than reused (see ``conn.is_connected``)."""
    return not conn.is_connected


def create_connection(
    address: tuple[str, int],
    timeout: _TYPE_TIMEOUT = _DEFAULT_TIMEOUT,
    source_address: tuple[str, int] | None = None,
    socket_options: _TYPE_SOCKET_OPTIONS | None = None,
) -> socket.socket:
    """Connect to ``address`` (host, port) and return the connected socket.

    ``timeout`` is set on the socket before connecting (the default leaves the global default
    from :func:`socket.getdefaulttimeout`); ``source_address`` is bound first if given
    (``""``/``0`` let the OS choose); ``socket_options`` are set before connecting. Raises
    :class:`~pooltest.exceptions.LocationParseError` for a host name IDNA cannot encode,
    :class:`socket.gaierror` if it does not resolve, else the error of the last address tried.
    """
    host, port = address
    if host.startswith("["):
        host = host.strip("[]")
    try:
        host.encode("idna")
    except UnicodeError:
        raise LocationParseError(f"'{host}', label empty or too long") from None

    err: OSError | None = None
    for family, socktype, proto, _, sockaddr in socket.getaddrinfo(
        host, port, allowed_gai_family(), socket.SOCK_STREAM
    ):
        try:
            return _connect_one(
                family, socktype, proto, sockaddr, timeout, source_address, socket_options
            )
        except OSError as e:
            err = e
    if err is None:
        raise OSError("getaddrinfo returns an empty list")
    try:
        raise err
    finally:
        err = None  # The traceback refers to this frame: break the cycle.


def _connect_one(
    family: socket.AddressFamily,
    socktype: socket.SocketKind,
    proto: int,
    sockaddr: tuple[str, int] | tuple[str, int, int, int] | tuple[int, bytes],
    timeout: _TYPE_TIMEOUT,
    source_address: tuple[str, int] | None,
    socket_options: _TYPE_SOCKET_OPTIONS | None,
) -> socket.socket:
    """Open one socket and connect it; closes the socket if anything fails."""
    sock = socket.socket(family, socktype, proto)
    try:
        if socket_options:
            for option in socket_options:
                sock.setsockopt(*option)
        if timeout is not _DEFAULT_TIMEOUT:
            sock.settimeout(timeout)
        if source_address:
            sock.bind(source_address)
        sock.connect(sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


def allowed_gai_family() -> socket.AddressFamily:
    """The ``getaddrinfo`` family to ask for: both IPv4 and IPv6 when this host can use IPv6,
    IPv4 only otherwise."""
    return socket.AF_UNSPEC if HAS_IPV6 else socket.AF_INET


def _has_ipv6(host: str) -> bool:
    """True if an IPv6 socket can bind ``host`` (Python being built with IPv6 is not enough:
    the system may have it disabled)."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind((host, 0))
    except Exception:  # any failure means "no usable IPv6"
        return False
    return True


#: Whether this host can use IPv6 (probed once, at import, by binding ``::1``).
HAS_IPV6 = _has_ipv6("::1")
