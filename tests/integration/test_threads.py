"""One PoolManager (or pool) shared by many threads, against real loopback servers.

Every response is checked against the request that produced it (a per-request id echoed back),
so crossed wires between threads show up as failures, not just as counts. Limits are checked on
the server side: with ``block=True`` the server never sees more than ``maxsize`` connections;
with ``block=False`` every surplus socket is discarded with exactly one "Connection pool is
full" warning. Pool eviction under load (``num_pools`` smaller than the number of origins) must
never raise ``ClosedPoolError``, neither through ``PoolManager.request`` nor for a thread that got
a pool from ``connection_from_url`` and uses it directly (as requests does): an evicted pool is
retired, not closed. Once every request has ended, no retired pool may hold a socket.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support import OK_RESPONSE, KeepAliveServer, RawServer, ServerFarm, read_request

from pooltest.connectionpool import HTTPConnectionPool
from pooltest.exceptions import EmptyPoolError
from pooltest.poolmanager import PoolManager

pytestmark = pytest.mark.network

Origins = Callable[..., ServerFarm]
_JOIN_TIMEOUT = 30.0
_EVENT_TIMEOUT = 5.0


@pytest.fixture
def fast_thread_switching() -> Iterator[None]:
    """Switch threads far more often than the default 5 ms, to widen race windows."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def _run_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(i)`` in ``count`` threads started together; return what they raised."""
    join = _start_threads(count, work)
    return join()


def _start_threads(
    count: int, work: Callable[[int], None], *, together: bool = True
) -> Callable[[], list[BaseException]]:
    """Start ``work(i)`` in ``count`` threads; return a function that joins them (one deadline)
    and returns what they raised. With ``together`` they pass a barrier before working."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(count, timeout=_EVENT_TIMEOUT)

    def run(index: int) -> None:
        try:
            if together:
                barrier.wait()
            work(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()

    def join() -> list[BaseException]:
        deadline = time.monotonic() + _JOIN_TIMEOUT
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        assert not any(thread.is_alive() for thread in threads), "worker threads did not finish"
        return errors

    return join


def _check_echo(response: Any, request_id: str) -> None:
    echo = response.json()
    if response.status != 200 or echo["args"].get("id") != [request_id]:
        raise AssertionError(f"request {request_id} got {response.status} {echo['args']}")


def _pool_full_warnings(caplog: pytest.LogCaptureFixture) -> int:
    return sum("Connection pool is full" in record.getMessage() for record in caplog.records)


# --- limits under load ----------------------------------------------------------------------------


def test_blocking_pool_caps_server_connections(http_server: KeepAliveServer) -> None:
    threads, per_thread = 32, 50
    http = PoolManager(maxsize=4, block=True)
    url = http_server.url + "/echo"

    def work(index: int) -> None:
        for n in range(per_thread):
            request_id = f"{index}-{n}"
            _check_echo(http.request("GET", url, fields={"id": request_id}), request_id)

    assert _run_threads(threads, work) == []
    assert http_server.requests_served == threads * per_thread
    assert 1 <= http_server.connections_accepted <= 4
    assert len(http.pools) == 1
    assert http.connection_from_url(http_server.url).num_connections <= 4
    http.clear()


def test_non_blocking_pool_discards_each_surplus_socket_once(
    http_server: KeepAliveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pooltest.connectionpool")
    threads, per_thread, maxsize = 32, 20, 2
    http = PoolManager(maxsize=maxsize, block=False)
    url = http_server.url + "/echo"

    def work(index: int) -> None:
        for n in range(per_thread):
            request_id = f"{index}-{n}"
            r = http.request("POST", url + f"?id={request_id}", body=request_id.encode())
            _check_echo(r, request_id)
            if r.json()["body"] != request_id:
                raise AssertionError(f"request {request_id} got body {r.json()['body']!r}")

    assert _run_threads(threads, work) == []
    pool = http.connection_from_url(http_server.url)
    assert pool.pool is not None
    idle = list(pool.pool.queue)
    assert len(idle) == maxsize  # every checkout came back
    sockets_from_slots = maxsize - idle.count(None)
    surplus = http_server.connections_accepted - sockets_from_slots
    assert _pool_full_warnings(caplog) == surplus
    assert http_server.requests_served == threads * per_thread
    http.clear()


def test_exhausted_blocking_pool_raises_empty_pool_error(http_server: KeepAliveServer) -> None:
    pool = HTTPConnectionPool(http_server.host, http_server.port, maxsize=2, block=True)
    holding, release = threading.Barrier(3, timeout=_EVENT_TIMEOUT), threading.Event()

    def hold(index: int) -> None:
        r = pool.urlopen("GET", "/echo", preload_content=False)
        holding.wait()
        release.wait(_EVENT_TIMEOUT)
        r.drain_conn()
        r.release_conn()

    holders = [threading.Thread(target=hold, args=(i,), daemon=True) for i in range(2)]
    for thread in holders:
        thread.start()
    holding.wait()  # both connections are checked out now
    with pytest.raises(EmptyPoolError):
        pool.urlopen("GET", "/echo", pool_timeout=0.2)  # type: ignore[arg-type]
    release.set()
    for thread in holders:
        thread.join(_JOIN_TIMEOUT)
    assert pool.request("GET", "/echo", pool_timeout=_EVENT_TIMEOUT).status == 200
    assert http_server.connections_accepted == 2
    pool.close()


def test_waiting_threads_are_served_as_connections_come_back(
    http_server: KeepAliveServer,
) -> None:
    pool = HTTPConnectionPool(http_server.host, http_server.port, maxsize=1, block=True)
    held = pool.urlopen("GET", "/echo", preload_content=False)

    def work(index: int) -> None:
        request_id = str(index)
        r = pool.request("GET", "/echo", fields={"id": request_id}, pool_timeout=_JOIN_TIMEOUT)
        _check_echo(r, request_id)

    join = _start_threads(8, work, together=False)  # they queue up behind the held socket
    held.drain_conn()
    held.release_conn()
    assert join() == []
    assert http_server.requests_served == 9
    assert http_server.connections_accepted == 1  # everyone waited for the one socket
    pool.close()


# --- eviction under load --------------------------------------------------------------------------


class RecordingPoolManager(PoolManager):
    """A PoolManager that remembers every pool it created (``_new_pool`` is the override point)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.created: list[HTTPConnectionPool] = []
        self._created_lock = threading.Lock()

    def _new_pool(
        self, scheme: str, host: str, port: int, request_context: dict[str, Any] | None = None
    ) -> HTTPConnectionPool:
        pool = super()._new_pool(scheme, host, port, request_context)
        with self._created_lock:
            self.created.append(pool)
        return pool


def test_eviction_under_load_never_breaks_a_request(
    origins: Origins, fast_thread_switching: None
) -> None:
    farm = origins(8)
    http = RecordingPoolManager(num_pools=2)

    def work(index: int) -> None:
        for n in range(24):
            server = farm[(index + n) % len(farm)]
            request_id = f"{index}-{n}"
            if n % 3 == 0:  # a streamed response, read while other threads evict pools
                r = http.request(
                    "GET", server.url + f"/stream?size=70000&id={request_id}", preload_content=False
                )
                if len(r.read()) != 70000:
                    raise AssertionError(f"short stream for {request_id}")
                r.release_conn()
            elif n % 3 == 1:  # requests' way: look the pool up, then use it (maybe evicted)
                pool = http.connection_from_url(server.url)
                _check_echo(pool.urlopen("GET", f"/echo?id={request_id}"), request_id)
            else:
                _check_echo(http.request("GET", server.url + f"/echo?id={request_id}"), request_id)

    assert _run_threads(16, work) == []
    assert sum(server.requests_served for server in farm) == 16 * 24
    assert len(http.pools) == 2
    live = {id(http.connection_from_url(u)) for u in farm.urls if _holds(http, u)}
    assert len(live) == 2
    for pool in http.created:  # evicted pools closed their sockets as requests ended
        assert pool.pool is not None  # never closed: a retired pool still serves
        if id(pool) not in live:
            assert _idle_connections(pool) == 0
    http.clear()
    assert sum(_idle_connections(pool) for pool in http.created) == 0


def _holds(http: PoolManager, url: str) -> bool:
    port = int(url.rsplit(":", 1)[1])
    keys = http.pools.keys()  # a snapshot: iterating the LRU container itself is refused
    return any(key.key_port == port for key in keys)


def _idle_connections(pool: HTTPConnectionPool) -> int:
    """Connections parked in a pool's queue (the rest of its slots are None)."""
    assert pool.pool is not None
    return sum(conn is not None for conn in pool.pool.queue)


def _gated_handler(
    arrived: threading.Event, release: threading.Event
) -> Callable[[socket.socket, int], None]:
    """Read a request, signal ``arrived``, wait for ``release``, answer ``OK_RESPONSE``."""

    def handler(sock: socket.socket, index: int) -> None:
        read_request(sock)
        arrived.set()
        release.wait(_EVENT_TIMEOUT)
        sock.sendall(OK_RESPONSE)

    return handler


@pytest.mark.parametrize("preload_content", [True, False])
@pytest.mark.parametrize("drop", ["evict", "clear"])
def test_dropping_a_pool_mid_request_does_not_break_it(
    serve: Callable[[Any], Any], http_server: KeepAliveServer, preload_content: bool, drop: str
) -> None:
    arrived, release = threading.Event(), threading.Event()
    gated = serve(RawServer(_gated_handler(arrived, release)))
    http = PoolManager(num_pools=1)
    busy = http.connection_from_url(gated.url)
    result: list[Any] = []

    def slow_request() -> None:
        r = http.request("GET", gated.url + "/", preload_content=preload_content)
        result.append((r.status, r.data))

    thread = threading.Thread(target=slow_request, daemon=True)
    thread.start()
    try:
        assert arrived.wait(_EVENT_TIMEOUT)  # the request is on the wire, its pool leased
        if drop == "evict":
            assert http.request("GET", http_server.url + "/").status == 200  # evicts the pool
            assert _holds(http, http_server.url)
        else:
            http.clear()
        assert not _holds(http, gated.url)
        assert _idle_connections(busy) == 0  # retired: nothing idle kept
    finally:
        release.set()
        thread.join(_JOIN_TIMEOUT)
    assert result == [(200, b"ok")]
    assert _idle_connections(busy) == 0  # the busy connection was closed when it came back
    assert busy.request("GET", "/").data == b"ok"  # and the retired pool still serves
    assert _idle_connections(busy) == 0
    http.clear()


# --- many origins and methods at once -------------------------------------------------------------


def test_shared_manager_mixed_requests_across_origins(origins: Origins) -> None:
    farm = origins(3)
    http = PoolManager(num_pools=3, maxsize=2)

    def work(index: int) -> None:
        for n in range(15):
            server = farm[n % 3]
            request_id = f"{index}-{n}"
            kind = (index + n) % 3
            if kind == 0:
                _check_echo(
                    http.request("GET", server.url + "/echo", fields={"id": request_id}), request_id
                )
            elif kind == 1:
                r = http.request(
                    "POST",
                    server.url + "/upload",
                    fields={"id": request_id, "f": ("f.txt", request_id)},
                )
                if r.json()["form"] != {"id": [request_id]}:
                    raise AssertionError(f"request {request_id} got {r.json()['form']}")
            else:
                r = http.request("PUT", server.url + "/upload", json={"id": request_id})
                if r.json()["json"] != {"id": request_id}:
                    raise AssertionError(f"request {request_id} got {r.json()['json']}")

    assert _run_threads(12, work) == []
    assert len(http.pools) == 3
    assert sum(server.requests_served for server in farm) == 12 * 15
    http.clear()
