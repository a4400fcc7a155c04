"""``--block-network``: refuse real connections from tests, outside recording cassettes.

:class:`NetworkGuard` patches two functions of the :mod:`socket` module while installed:

``socket.getaddrinfo``
    A lookup of a host that is not allowed raises :class:`NetworkBlockedError` naming the host
    and port, before any DNS query is sent (so an offline CI run gets this error, not a
    resolution failure). Lookups for binding (``AI_PASSIVE``, or no host) are let through. The
    addresses an allowed name resolves to become allowed too, so ``--allowed-hosts=localhost``
    admits the connect to ``127.0.0.1`` that follows.
``socket.socket.connect`` / ``connect_ex``
    An IPv4 or IPv6 connect to an address that is not allowed closes the socket (callers only
    clean up after ``OSError``) and raises :class:`NetworkBlockedError`. This also covers
    ``socket.create_connection``, TLS sockets and every client library. Other families (Unix
    sockets, socket pairs) are never blocked.

Nothing is allowed by default, loopback included. :meth:`NetworkGuard.allowing` lifts the guard
while a cassette that may record is active (the plugin enters it around such cassettes); the
lift is process-wide, so threads started by the code under test may record as well.
:class:`NetworkBlockedError` is a ``RuntimeError``, not an ``OSError``, so retry logic in client
libraries cannot mistake it for a flaky network and swallow it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["NetworkBlockedError", "NetworkGuard"]

_IP_FAMILIES = (socket.AF_INET, socket.AF_INET6)


class NetworkBlockedError(RuntimeError):
    """A test tried to reach the network while ``--block-network`` was on."""


def _canonical(host: str) -> str:
    """``host`` lower-cased, a trailing dot and an IPv6 zone dropped, IP addresses normalised."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).compressed
    except ValueError:
        return host


class NetworkGuard:
    """Blocks connections to hosts outside ``allowed_hosts`` once installed (module docstring)."""

    def __init__(self, allowed_hosts: Iterable[str] = ()) -> None:
        self._allowed = {_canonical(host) for host in allowed_hosts if host.strip()}
        self._lock = threading.Lock()
        self._lifted = 0
        self._saved: tuple[Any, Any, Any] | None = None

    @property
    def allowed_hosts(self) -> frozenset[str]:
        """Allowed names and addresses (canonical), with the addresses allowed names resolved to."""
        return frozenset(self._allowed)

    def _permits(self, host: str) -> bool:
        return self._lifted > 0 or _canonical(host) in self._allowed

    def _blocked(self, host: str, port: object) -> NetworkBlockedError:
        allowed = ",".join(sorted(self._allowed)) or "none"
        return NetworkBlockedError(
            f"pooltest --block-network: connection to {host}:{port} blocked (allowed hosts: "
            f"{allowed}). Replay it from a cassette (@pytest.mark.cassette, recorded once with "
            f"--record-mode=once), or allow it with --allowed-hosts={host}."
        )

    @contextlib.contextmanager
    def allowing(self) -> Iterator[None]:
        """Let every connection through while the block is active (a recording cassette)."""
        with self._lock:
            self._lifted += 1
        try:
            yield
        finally:
            with self._lock:
                self._lifted -= 1

    def install(self) -> None:
        """Patch :mod:`socket` (see the module docstring); undone by :meth:`uninstall`."""
        if self._saved is not None:
            return
        saved = (socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex)
        original_getaddrinfo, original_connect, original_connect_ex = saved
        guard = self

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            flags = kwargs.get("flags", args[3] if len(args) > 3 else 0)
            if host is None or flags & socket.AI_PASSIVE:
                return original_getaddrinfo(host, port, *args, **kwargs)
            name = host.decode("idna") if isinstance(host, bytes) else str(host)
            if not guard._permits(name):
                raise guard._blocked(name, port)
            results = original_getaddrinfo(host, port, *args, **kwargs)
            if not guard._lifted:
                guard._allow_addresses(result[4][0] for result in results)
            return results

        def check(sock: socket.socket, address: Any) -> None:
            if sock.family not in _IP_FAMILIES or not isinstance(address, tuple):
                return
            host = str(address[0])
            if not guard._permits(host):
                sock.close()
                raise guard._blocked(host, address[1] if len(address) > 1 else "?")

        def connect(sock: socket.socket, address: Any, /) -> None:
            check(sock, address)
            original_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any, /) -> int:
            check(sock, address)
            return original_connect_ex(sock, address)

        self._saved = saved
        socket.getaddrinfo = getaddrinfo
        socket.socket.connect = connect  # type: ignore[method-assign,assignment]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        """Restore what :meth:`install` replaced."""
        saved, self._saved = self._saved, None
        if saved is not None:
            socket.getaddrinfo = saved[0]
            socket.socket.connect = saved[1]  # type: ignore[method-assign]
            socket.socket.connect_ex = saved[2]  # type: ignore[method-assign]

    def _allow_addresses(self, addresses: Iterable[object]) -> None:
        fresh = {_canonical(str(address)) for address in addresses}
        with self._lock:
            self._allowed = self._allowed | fresh  # a new set: readers never see one change
