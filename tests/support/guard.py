"""A test-suite safety net: refuse any ``connect()`` to an address that is not loopback.

``LoopbackGuard.install`` patches ``socket.socket.connect`` and ``connect_ex`` (which also covers
``socket.create_connection``, ``SSLSocket.connect`` and http.client) for the duration of a pytest
``MonkeyPatch`` context. An internet or LAN address raises ``NonLoopbackConnectError`` - not an
``OSError``, so client retry logic cannot swallow it; the socket is closed first, since callers
only clean up after ``OSError`` - and is also recorded in ``violations`` so a
fixture can fail the test even if some code caught the exception. Non-IP families (Unix sockets,
socketpairs) are allowed. The check does no DNS lookup: a name other than ``localhost`` is refused.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest

from ._base import is_loopback_host

__all__ = ["LoopbackGuard", "NonLoopbackConnectError"]

_IP_FAMILIES = (socket.AF_INET, socket.AF_INET6)


class NonLoopbackConnectError(RuntimeError):
    """A test tried to connect somewhere other than the loopback interface."""


class LoopbackGuard:
    """Records and refuses non-loopback connects once installed."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self._lock = threading.Lock()

    def check(self, sock: socket.socket, address: Any) -> None:
        """Raise ``NonLoopbackConnectError`` unless ``address`` is loopback or not an IP one."""
        if sock.family not in _IP_FAMILIES or not isinstance(address, tuple) or not address:
            return
        host = address[0]
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if isinstance(host, str) and is_loopback_host(host):
            return
        message = f"test tried to connect to non-loopback address {address!r}"
        with self._lock:
            self.violations.append(message)
        sock.close()  # callers such as create_connection only close on OSError
        raise NonLoopbackConnectError(message)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Patch ``socket.socket.connect``/``connect_ex`` through ``monkeypatch``."""
        original_connect = socket.socket.connect
        original_connect_ex = socket.socket.connect_ex
        check = self.check

        def connect(sock: socket.socket, address: Any, /) -> None:
            check(sock, address)
            original_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any, /) -> int:
            check(sock, address)
            return original_connect_ex(sock, address)

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
