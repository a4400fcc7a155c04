"""Load rows of the hardening matrix (issue 7) at the sizes the issue names, on loopback.

L1 32 threads x 200 requests through one ``PoolManager(maxsize=4, block=True)``: the server sees
at most 4 connections and every answer carries its own request id. L2 the same with
``block=False``: no error, and one "Connection pool is full" warning per surplus socket. L4 16
threads over 8 origins with ``num_pools=2``: pools are evicted under the threads' feet, yet no
request fails (no ``ClosedPoolError``). L5 10,000 requests, a fixed
share of them meeting a fault (connection close, reset or short body, garbage status line,
broken chunking, a dropped request, a read timeout): each request gets the outcome its fault
dictates, and once the manager is cleared and the server stopped, the process holds exactly the
file descriptors it held before (counted in ``/proc/self/fd``).

The servers are raw-socket handlers that answer with the request target as the body, so a mixed
up response is caught without JSON parsing, and the heavy rows stay within a few seconds.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from support import RawServer, SocketReader
from support._base import join_lines

from pooltest import PoolManager
from pooltest.exceptions import HTTPError, ProtocolError, ReadTimeoutError

pytestmark = pytest.mark.network

WAIT = 30.0  # bound on joining worker threads
FD_SETTLE = 5.0  # bound on waiting for server-side sockets to close after stop
TIMEOUT = 0.05  # read timeout for the requests that meet a hanging server


def _run_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(i)`` in ``count`` threads; join within ``WAIT``; return what they raised."""
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            work(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + WAIT
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "worker threads did not finish"
    return errors


def _ok(target: bytes, close: bool = False) -> bytes:
    lines = ["HTTP/1.1 200 OK", f"Content-Length: {len(target)}"]
    if close:
        lines.append("Connection: close")
    return join_lines(lines) + target


def _partial(declared: int, sent: int) -> bytes:
    return join_lines(["HTTP/1.1 200 OK", f"Content-Length: {declared}"]) + b"x" * sent


_CHUNKED_BAD = join_lines(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"]) + b"zz\r\nxx\r\n"


class _Faulty:
    """A keep-alive handler whose answer depends on the first path segment of each request.

    ``/ok/..`` echoes the target and keeps the connection; ``/close/..`` echoes it and closes;
    ``/reset`` and ``/short`` send 10 of 100 announced body bytes then reset (RST) or close
    (FIN); ``/garbage`` sends a line that is not a status line; ``/chunk`` a bad chunk size;
    ``/drop`` closes without answering; ``/hang`` waits until the client gives up. ``served``
    counts the requests read.
    """

    def __init__(self) -> None:
        self.served = 0
        self._lock = threading.Lock()

    def __call__(self, sock: socket.socket, index: int) -> None:
        reader = SocketReader(sock, 10.0)
        while True:
            try:
                head, _ = reader.read_request()
            except (ConnectionError, TimeoutError, OSError):
                return
            with self._lock:
                self.served += 1
            target = head.split(b" ", 2)[1]
            if not self._answer(sock, target.split(b"/", 2)[1], target):
                return

    @staticmethod
    def _answer(sock: socket.socket, kind: bytes, target: bytes) -> bool:
        """Send the answer for ``kind``; return whether the connection stays open."""
        if kind == b"ok":
            sock.sendall(_ok(target))
            return True
        if kind == b"close":
            sock.sendall(_ok(target, close=True))
        elif kind in (b"reset", b"short"):
            sock.sendall(_partial(100, 10))
            if kind == b"reset":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif kind == b"garbage":
            sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        elif kind == b"chunk":
            sock.sendall(_CHUNKED_BAD)
        elif kind == b"hang":
            sock.settimeout(FD_SETTLE)
            try:
                while sock.recv(4096):
                    pass
            except OSError:
                pass
        return False


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _settled_fds(baseline: int) -> int:
    """The open fd count once it stops being above ``baseline`` (bounded wait)."""
    deadline = time.monotonic() + FD_SETTLE
    while (count := _open_fds()) > baseline and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.01)
    return count


def _echo_work(http: PoolManager, base: str, per_thread: int) -> Callable[[int], None]:
    """Worker body: ``per_thread`` GETs of ``/ok/<thread>-<n>``, each checked against its echo."""

    def work(index: int) -> None:
        for n in range(per_thread):
            target = f"/ok/{index}-{n}"
            r = http.request("GET", base + target, retries=False)
            if (r.status, r.data) != (200, target.encode()):
                raise AssertionError(f"{target} got {r.status} {r.data!r}")

    return work


# --- L1 ------------------------------------------------------------------------------------------


def test_l1_32_threads_200_requests_blocking_pool_of_4() -> None:
    threads, per_thread = 32, 200
    handler = _Faulty()
    with RawServer(handler).start() as server:
        http = PoolManager(maxsize=4, block=True)
        base = f"http://{server.host}:{server.port}"

        assert _run_threads(threads, _echo_work(http, base, per_thread)) == []
        assert handler.served == threads * per_thread
        assert 1 <= server.connections_accepted <= 4
        assert http.connection_from_url(base).num_connections <= 4
        http.clear()
    assert server.errors == []


# --- L2 ------------------------------------------------------------------------------------------


def test_l2_32_threads_200_requests_non_blocking_pool_of_4(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="pooltest.connectionpool")
    threads, per_thread, maxsize = 32, 200, 4
    handler = _Faulty()
    with RawServer(handler).start() as server:
        http = PoolManager(maxsize=maxsize, block=False)
        base = f"http://{server.host}:{server.port}"
        assert _run_threads(threads, _echo_work(http, base, per_thread)) == []
        slots = http.connection_from_url(base).pool
        assert slots is not None
        idle = list(slots.queue)
        assert len(idle) == maxsize  # every checkout came back
        surplus = server.connections_accepted - (maxsize - idle.count(None))
        warnings = sum("Connection pool is full" in r.getMessage() for r in caplog.records)
        assert warnings == surplus
        assert handler.served == threads * per_thread
        http.clear()
    assert server.errors == []
    print(
        f"\nL2: served {handler.served}, sockets {server.connections_accepted}, surplus {surplus}"
    )


# --- L4 ------------------------------------------------------------------------------------------


def test_l4_two_pools_16_threads_8_origins_never_closed_pool_error() -> None:
    threads, per_thread = 16, 100
    handler = _Faulty()
    servers = [RawServer(handler).start() for _ in range(8)]
    try:
        http = PoolManager(num_pools=2, maxsize=2)
        bases = [f"http://{server.host}:{server.port}" for server in servers]

        def work(index: int) -> None:
            for n in range(per_thread):
                target = f"/ok/{index}-{n}"
                r = http.request("GET", bases[(index + n) % 8] + target, retries=False)
                if (r.status, r.data) != (200, target.encode()):
                    raise AssertionError(f"{target} got {r.status} {r.data!r}")

        assert _run_threads(threads, work) == []  # no ClosedPoolError, nor anything else
        assert len(http.pools) <= 2
        http.clear()
    finally:
        for server in servers:
            server.stop()
    assert handler.served == threads * per_thread
    assert [server.errors for server in servers] == [[]] * 8


# --- L5 ------------------------------------------------------------------------------------------

#: One cycle of the mix: 40 requests, 9 of which meet a fault (the hang once every 10 cycles).
_CYCLE = ["ok"] * 31 + ["close", "reset", "short", "garbage", "chunk", "drop", "ok", "ok", "hang"]
_EXPECTED: dict[str, type[HTTPError] | None] = {
    "ok": None,
    "close": None,
    "reset": ProtocolError,
    "short": ProtocolError,
    "garbage": ProtocolError,
    "chunk": ProtocolError,
    "drop": ProtocolError,
    "hang": ReadTimeoutError,
}


def _kind(n: int) -> str:
    kind = _CYCLE[n % len(_CYCLE)]
    if kind == "hang" and n % (10 * len(_CYCLE)) != len(_CYCLE) - 1:
        return "ok"
    return kind


def _one(http: Any, base: str, kind: str, tag: str) -> str:
    """Send one request of ``kind``; return the outcome name, checking the echoed target."""
    target = f"/{kind}/{tag}"
    try:
        r = http.request(
            "GET", base + target, retries=False, timeout=TIMEOUT if kind == "hang" else 5.0
        )
    except HTTPError as exc:
        expected = _EXPECTED[kind]
        if expected is None or not isinstance(exc, expected):
            raise AssertionError(f"{target} raised {exc!r}") from exc
        return type(exc).__name__
    if _EXPECTED[kind] is not None or (r.status, r.data) != (200, target.encode()):
        raise AssertionError(f"{target} got {r.status} {r.data[:40]!r}")
    return "ok"


def test_l5_10000_requests_with_mixed_faults_leave_no_fd_behind() -> None:
    threads, per_thread = 4, 2500
    gc.collect()
    before = _open_fds()
    handler = _Faulty()
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    with RawServer(handler).start() as server:
        http = PoolManager(maxsize=4, block=True)
        base = f"http://{server.host}:{server.port}"

        def work(index: int) -> None:
            seen: Counter[str] = Counter()
            for n in range(per_thread):
                seen[_one(http, base, _kind(n + index * 7), f"{index}-{n}")] += 1
            with lock:
                outcomes.update(seen)

        assert _run_threads(threads, work) == []
        slots = http.connection_from_url(base).pool
        assert slots is not None
        assert slots.qsize() == 4  # every slot came back
        http.clear()
    assert server.errors == []
    after = _settled_fds(before)
    assert sum(outcomes.values()) == threads * per_thread == 10_000
    assert handler.served >= 10_000  # dropped requests on reused sockets are resent once
    assert outcomes["ProtocolError"] > 1000
    assert outcomes["ReadTimeoutError"] > 0
    assert after == before, f"fds before {before}, after {after}"
    print(f"\nL5: {dict(outcomes)}, served {handler.served}, fds {before} -> {after}")
