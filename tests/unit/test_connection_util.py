"""Tests for pooltest.util.connection, pooltest.util.wait and pooltest.util.proxy.

Sockets here are real: loopback listeners on 127.0.0.1 (and ::1 when the host has IPv6) and
socketpairs. Nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import select
import socket
import typing

import pytest
import urllib3.util.connection as u3conn
import urllib3.util.proxy as u3proxy
from urllib3.util.url import parse_url as u3_parse_url

from pooltest._base_connection import ProxyConfig
from pooltest.exceptions import LocationParseError
from pooltest.util import wait as wait_module
from pooltest.util.connection import (
    HAS_IPV6,
    allowed_gai_family,
    create_connection,
    is_connection_dropped,
)
from pooltest.util.proxy import connection_requires_http_tunnel
from pooltest.util.timeout import _DEFAULT_TIMEOUT
from pooltest.util.url import parse_url
from pooltest.util.wait import (
    poll_wait_for_socket,
    select_wait_for_socket,
    wait_for_read,
    wait_for_socket,
    wait_for_write,
)

requires_ipv6 = pytest.mark.skipif(not HAS_IPV6, reason="::1 is not available")


@contextlib.contextmanager
def listener(host: str = "127.0.0.1") -> typing.Iterator[socket.socket]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as server:
        server.bind((host, 0))
        server.listen(8)
        server.settimeout(5)
        yield server


def refused_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def accept_peer(server: socket.socket) -> tuple[str, int]:
    conn, addr = server.accept()
    conn.close()
    return addr[0], addr[1]


# -- create_connection --------------------------------------------------------------------------


def test_connects_to_ipv4_loopback() -> None:
    with listener() as server:
        port = server.getsockname()[1]
        with create_connection(("127.0.0.1", port)) as sock:
            assert sock.getpeername() == ("127.0.0.1", port)
            assert accept_peer(server) == sock.getsockname()


def test_connects_to_localhost_name() -> None:
    with listener() as server, create_connection(("localhost", server.getsockname()[1])) as sock:
        assert sock.getpeername()[1] == server.getsockname()[1]


@requires_ipv6
@pytest.mark.parametrize("host", ["::1", "[::1]"])
def test_connects_to_ipv6_loopback(host: str) -> None:
    with listener("::1") as server:
        port = server.getsockname()[1]
        with create_connection((host, port)) as sock:
            assert sock.family == socket.AF_INET6
            assert sock.getpeername()[:2] == ("::1", port)


def test_refused_port_raises_connection_refused() -> None:
    with pytest.raises(ConnectionRefusedError):
        create_connection(("127.0.0.1", refused_port()), timeout=5)


def test_tries_every_address_until_one_works(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = refused_port()
    with listener() as server:
        good = server.getsockname()[1]
        calls: list[tuple[typing.Any, ...]] = []

        def fake_getaddrinfo(*args: typing.Any) -> list[typing.Any]:
            calls.append(args)
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", bad)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", good)),
            ]

        monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
        with create_connection(("example.invalid", 80), timeout=5) as sock:
            assert sock.getpeername() == ("127.0.0.1", good)
    assert calls == [("example.invalid", 80, allowed_gai_family(), socket.SOCK_STREAM)]


@pytest.mark.parametrize("refused_last", [True, False])
def test_raises_the_last_error_when_all_fail(
    monkeypatch: pytest.MonkeyPatch, refused_last: bool
) -> None:
    refused = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", refused_port()))
    # SOCK_STREAM with protocol IPPROTO_RAW: socket() itself fails, with another error.
    unsupported = (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_RAW, "", ("127.0.0.1", 1))
    entries = [unsupported, refused] if refused_last else [refused, unsupported]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a: entries)
    with pytest.raises(OSError) as info:  # noqa: PT011 - the exact OSError is the point.
        create_connection(("example.invalid", 80), timeout=5)
    assert isinstance(info.value, ConnectionRefusedError) == refused_last


def test_empty_getaddrinfo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a: [])
    with pytest.raises(OSError, match="getaddrinfo returns an empty list"):
        create_connection(("example.invalid", 80))


def test_sockets_of_failed_attempts_are_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[socket.socket] = []

    class RecordingSocket(socket.socket):
        def __init__(self, *args: typing.Any) -> None:
            super().__init__(*args)
            created.append(self)

    port = refused_port()
    monkeypatch.setattr(socket, "socket", RecordingSocket)
    with pytest.raises(ConnectionRefusedError):
        create_connection(("127.0.0.1", port), timeout=5)
    assert len(created) == 1
    assert created[0].fileno() == -1


def test_unresolvable_name_raises_gaierror(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*args: typing.Any) -> list[typing.Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with pytest.raises(socket.gaierror):
        create_connection(("no-such-host.invalid", 80))


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "a..example", ".example"])
def test_bad_idna_host_matches_urllib3(host: str) -> None:
    with pytest.raises(LocationParseError) as ours:
        create_connection((host, 80))
    with pytest.raises(Exception) as theirs:  # noqa: PT011 - compared by type name and text.
        u3conn.create_connection((host, 80))
    assert type(theirs.value).__name__ == "LocationParseError"
    assert str(ours.value) == str(theirs.value)


def test_socket_options_are_set_before_connecting() -> None:
    options: list[tuple[int, int, int | bytes]] = [
        (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),
        (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
    ]
    with listener() as server:
        with create_connection(
            ("127.0.0.1", server.getsockname()[1]), socket_options=options
        ) as sock:
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0
        with create_connection(("127.0.0.1", server.getsockname()[1]), socket_options=[]) as sock:
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0


def test_timeout_is_applied_or_left_default() -> None:
    with listener() as server:
        port = server.getsockname()[1]
        with create_connection(("127.0.0.1", port), timeout=2.5) as sock:
            assert sock.gettimeout() == 2.5
        with create_connection(("127.0.0.1", port), timeout=None) as sock:
            assert sock.gettimeout() is None
        with create_connection(("127.0.0.1", port), _DEFAULT_TIMEOUT) as sock:
            assert sock.gettimeout() == socket.getdefaulttimeout()


def test_source_address_is_bound() -> None:
    with listener() as server:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            source_port = probe.getsockname()[1]
        port = server.getsockname()[1]
        with create_connection(
            ("127.0.0.1", port), source_address=("127.0.0.1", source_port)
        ) as sock:
            assert sock.getsockname() == ("127.0.0.1", source_port)
            assert accept_peer(server) == ("127.0.0.1", source_port)


def test_ipv6_detection_matches_urllib3() -> None:
    assert HAS_IPV6 == u3conn.HAS_IPV6
    assert allowed_gai_family() == u3conn.allowed_gai_family()
    assert allowed_gai_family() == (socket.AF_UNSPEC if HAS_IPV6 else socket.AF_INET)


class ConnState:
    """Just the property is_connection_dropped reads."""

    def __init__(self, connected: bool) -> None:
        self.is_connected = connected


def test_is_connection_dropped() -> None:
    assert is_connection_dropped(ConnState(False)) is True  # type: ignore[arg-type]
    assert is_connection_dropped(ConnState(True)) is False  # type: ignore[arg-type]


# -- wait ----------------------------------------------------------------------------------------

WAITERS = [wait_for_socket, poll_wait_for_socket, select_wait_for_socket]


@pytest.fixture
def pair() -> typing.Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    with a, b:
        yield a, b


@pytest.mark.parametrize("waiter", WAITERS)
def test_read_readiness(waiter: typing.Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    assert waiter(a, read=True, timeout=0) is False
    assert waiter(a, read=True, timeout=0.01) is False
    assert waiter(a, read=True, timeout=-1) is False
    b.sendall(b"x")
    assert waiter(a, read=True, timeout=5) is True
    assert waiter(a, read=True, timeout=None) is True
    assert a.recv(1) == b"x"
    assert waiter(a, read=True, timeout=0) is False


@pytest.mark.parametrize("waiter", WAITERS)
def test_peer_close_is_readable(
    waiter: typing.Any, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    b.close()
    assert waiter(a, read=True, timeout=5) is True
    assert a.recv(1) == b""


@pytest.mark.parametrize("waiter", WAITERS)
def test_write_readiness(waiter: typing.Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, _ = pair
    assert waiter(a, write=True, timeout=0) is True
    assert waiter(a, read=True, write=True, timeout=0) is True


@pytest.mark.parametrize("waiter", WAITERS)
def test_full_buffer_is_not_writable(
    waiter: typing.Any, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, _ = pair
    a.setblocking(False)
    with contextlib.suppress(BlockingIOError):
        for _ in range(100_000):
            a.send(b"x" * 65536)
    assert waiter(a, write=True, timeout=0) is False


@pytest.mark.parametrize("waiter", WAITERS)
def test_must_ask_for_something(
    waiter: typing.Any, pair: tuple[socket.socket, socket.socket]
) -> None:
    with pytest.raises(RuntimeError, match="must specify at least one of read=True, write=True"):
        waiter(pair[0])


def test_read_and_write_helpers(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    assert wait_for_write(a, timeout=0) is True
    assert wait_for_read(a, timeout=0) is False
    b.sendall(b"y")
    assert wait_for_read(a, timeout=5) is True


def test_falls_back_to_select_without_poll(
    monkeypatch: pytest.MonkeyPatch, pair: tuple[socket.socket, socket.socket]
) -> None:
    monkeypatch.setattr(wait_module, "_waiter", None)
    monkeypatch.delattr(select, "poll")
    a, b = pair
    b.sendall(b"z")
    assert wait_for_read(a, timeout=5) is True
    assert wait_module._waiter is select_wait_for_socket


def test_prefers_poll_when_it_works(
    monkeypatch: pytest.MonkeyPatch, pair: tuple[socket.socket, socket.socket]
) -> None:
    if not hasattr(select, "poll"):
        pytest.skip("no poll() here")
    monkeypatch.setattr(wait_module, "_waiter", None)
    assert wait_for_read(pair[0], timeout=0) is False
    assert wait_module._waiter is poll_wait_for_socket


def test_closed_socket_is_an_error(pair: tuple[socket.socket, socket.socket]) -> None:
    a, _ = pair
    a.close()
    with pytest.raises((ValueError, OSError)):
        wait_for_read(a, timeout=0)


# -- proxy ---------------------------------------------------------------------------------------

PROXY_CASES = [
    (None, None, "https"),
    (None, None, "http"),
    ("http://proxy:3128", None, "http"),
    ("http://proxy:3128", None, "https"),
    ("http://proxy:3128", None, None),
    ("https://proxy:3128", None, "https"),
    ("https://proxy:3128", False, "https"),
    ("https://proxy:3128", True, "https"),
    ("https://proxy:3128", True, "http"),
    ("http://proxy:3128", True, "https"),
]


@pytest.mark.parametrize(("proxy", "forwarding", "scheme"), PROXY_CASES)
def test_tunnel_decision_matches_urllib3(
    proxy: str | None, forwarding: bool | None, scheme: str | None
) -> None:
    config: typing.Any = None if forwarding is None else ProxyConfig(None, forwarding, None, None)
    ours = connection_requires_http_tunnel(parse_url(proxy) if proxy else None, config, scheme)
    theirs = u3proxy.connection_requires_http_tunnel(
        u3_parse_url(proxy) if proxy else None,
        config,
        scheme,
    )
    assert ours == theirs
