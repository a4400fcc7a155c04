"""HTTPConnectionPool against real loopback servers: keep-alive, the LIFO queue, limits, closing.

Keep-alive reuse is proven by the server's connection ids, not by the pool's own counters. The
queue's order, ``maxsize``/``block`` limits (``EmptyPoolError`` after ``pool_timeout``, the
"Connection pool is full" warning, extra sockets closed), ``ClosedPoolError`` and stale kept-alive
sockets (a server that closes idle connections, ``/close``) are driven through both urllib3 and
pooltest where the behaviour should match, and the observations compared.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
import urllib3
from support import OK_RESPONSE, RawServer, read_request
from support import raw as faults

import pooltest
from pooltest.connectionpool import HTTPConnectionPool
from pooltest.exceptions import (
    EmptyPoolError,
    MaxRetryError,
    ProtocolError,
)
from pooltest.poolmanager import PoolManager

pytestmark = pytest.mark.network

LIBS = pytest.mark.parametrize("lib", [pooltest, urllib3], ids=["pooltest", "urllib3"])
RawFactory = Callable[[faults.Handler], RawServer]
_EVENT_TIMEOUT = 5.0


def _pool(lib: ModuleType, server: Any, **kw: Any) -> Any:
    return lib.HTTPConnectionPool(server.host, server.port, **kw)


def _conn_id(response: Any) -> int:
    conn_id: int = response.json()["connection_id"]
    return conn_id


def _full_pool_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "Connection pool is full" in r.getMessage()]


# --- keep-alive and counters ---------------------------------------------------------------------


@LIBS
def test_keep_alive_reuses_one_socket(http_server: Any, lib: ModuleType) -> None:
    with _pool(lib, http_server) as pool:
        for _ in range(10):
            assert pool.request("GET", "/echo").status == 200
        assert (pool.num_requests, pool.num_connections) == (10, 1)
    assert http_server.connection_ids == [0] * 10
    assert http_server.connections_accepted == 1


@LIBS
def test_streamed_response_returns_its_connection_when_released(
    http_server: Any, lib: ModuleType
) -> None:
    with _pool(lib, http_server) as pool:
        r = pool.request("GET", "/stream?size=100000", preload_content=False)
        assert len(r.read()) == 100000
        r.release_conn()
        assert _conn_id(pool.request("GET", "/echo")) == 0
        r = pool.request("GET", "/stream?size=100000", preload_content=False)
        r.drain_conn()
        r.release_conn()
        assert _conn_id(pool.request("GET", "/echo")) == 0
    assert http_server.connections_accepted == 1


@LIBS
def test_pool_default_headers_and_field_encoding(http_server: Any, lib: ModuleType) -> None:
    with _pool(lib, http_server, headers={"X-Pool": "p"}) as pool:
        echo = pool.request("GET", "/echo", fields={"a": "1"}).json()
        assert echo["target"] == "/echo?a=1"
        assert ["X-Pool", "p"] in echo["headers"]
        parsed = pool.request("POST", "/upload", fields={"a": "1"}).json()
        assert parsed["form"] == {"a": ["1"]}


# --- the LIFO queue ------------------------------------------------------------------------------


@LIBS
def test_queue_is_last_in_first_out(http_server: Any, lib: ModuleType) -> None:
    with _pool(lib, http_server, maxsize=3) as pool:
        held = [pool.urlopen("GET", "/echo", preload_content=False) for _ in range(3)]
        # Reading a body to its end returns the connection: read (return) in the order 0, 2, 1.
        assert [_conn_id(held[index]) for index in (0, 2, 1)] == [0, 2, 1]
        again = [pool.urlopen("GET", "/echo", preload_content=False) for _ in range(3)]
        assert [_conn_id(r) for r in again] == [1, 2, 0]  # last returned, first reused
        assert (pool.num_requests, pool.num_connections) == (6, 3)
    assert http_server.connections_accepted == 3


@LIBS
def test_reading_the_body_to_the_end_returns_the_connection(
    http_server: Any, lib: ModuleType
) -> None:
    with _pool(lib, http_server, maxsize=1, block=True) as pool:
        r = pool.urlopen("GET", "/stream?size=70000", preload_content=False)
        assert r.connection is not None
        assert len(r.read()) == 70000
        assert r.connection is None
        assert _conn_id(pool.request("GET", "/echo", pool_timeout=0.2)) == 0


# --- limits: block, pool_timeout, discarding -----------------------------------------------------


@LIBS
def test_blocking_pool_raises_empty_pool_error_after_pool_timeout(
    http_server: Any, lib: ModuleType
) -> None:
    with _pool(lib, http_server, maxsize=1, block=True) as pool:
        held = pool.urlopen("GET", "/echo", preload_content=False)
        with pytest.raises(lib.exceptions.EmptyPoolError) as info:
            pool.urlopen("GET", "/echo", pool_timeout=0.2)
        assert str(info.value) == (
            f"{pool}: Pool is empty and a new connection can't be opened due to blocking mode."
        )
        assert info.value.pool is pool
        assert _conn_id(held) == 0  # reading the body to its end gives the connection back
        assert _conn_id(pool.request("GET", "/echo", pool_timeout=0.2)) == 0
        assert (pool.num_requests, pool.num_connections) == (2, 1)
    assert http_server.connections_accepted == 1


def test_empty_pool_error_is_not_retried(http_server: Any) -> None:
    with HTTPConnectionPool(http_server.host, http_server.port, maxsize=1, block=True) as pool:
        held = pool.urlopen("GET", "/", preload_content=False)
        with pytest.raises(EmptyPoolError):
            pool.urlopen("GET", "/", pool_timeout=0.05, retries=5)  # type: ignore[arg-type]
        held.release_conn()
    assert http_server.requests_served == 1


@LIBS
def test_non_blocking_pool_opens_extra_socket_and_discards_it(
    http_server: Any, lib: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with _pool(lib, http_server, maxsize=1, block=False) as pool:
        held = pool.urlopen("GET", "/echo", preload_content=False)
        held_conn = held.connection
        assert _conn_id(pool.request("GET", "/echo")) == 1  # an extra socket, not an error
        assert _full_pool_messages(caplog) == []  # it went back into the free slot
        held.release_conn()  # the queue is full now: this connection is discarded
        assert _full_pool_messages(caplog) == [
            "Connection pool is full, discarding connection: 127.0.0.1. Connection pool size: 1"
        ]
        assert held_conn.is_closed
        assert _conn_id(pool.request("GET", "/echo")) == 1
        assert (pool.num_requests, pool.num_connections) == (3, 2)
    assert http_server.connections_accepted == 2


# --- failures give the slot back ------------------------------------------------------------------


def _invalid_header(pool: Any) -> Any:
    return pool.request("GET", "/echo", headers={"X-Bad": "a\r\nInjected: yes"}, retries=0)


def _read_timeout(pool: Any) -> Any:
    return pool.request("GET", "/slow?delay=2", timeout=0.1, retries=0)


def _refused_body(pool: Any) -> Any:
    return pool.request("POST", "/echo", body=object(), retries=0)


@LIBS
@pytest.mark.parametrize(
    ("fail", "expected"),
    [
        (_invalid_header, lambda lib: ValueError),
        (_read_timeout, lambda lib: lib.exceptions.MaxRetryError),
        (_refused_body, lambda lib: TypeError),
    ],
    ids=["invalid-header", "read-timeout", "bad-body-type"],
)
def test_failed_request_gives_its_slot_back(
    http_server: Any,
    lib: ModuleType,
    fail: Callable[[Any], Any],
    expected: Callable[[ModuleType], type[Exception]],
) -> None:
    with _pool(lib, http_server, maxsize=1, block=True) as pool:
        for _ in range(2):
            with pytest.raises(expected(lib)):
                fail(pool)
        # A leaked slot would make this wait pool_timeout and raise EmptyPoolError.
        assert pool.request("GET", "/echo", pool_timeout=_EVENT_TIMEOUT).status == 200


# --- closing -------------------------------------------------------------------------------------


@LIBS
def test_closed_pool_raises_closed_pool_error(http_server: Any, lib: ModuleType) -> None:
    pool = _pool(lib, http_server)
    assert pool.request("GET", "/").status == 200
    pool.close()
    with pytest.raises(lib.exceptions.ClosedPoolError) as info:
        pool.request("GET", "/")
    assert str(info.value) == f"{pool}: Pool is closed."
    pool.close()  # idempotent
    assert http_server.requests_served == 1


@LIBS
def test_context_manager_closes_pool(http_server: Any, lib: ModuleType) -> None:
    with _pool(lib, http_server) as pool:
        assert pool.request("GET", "/").status == 200
    assert pool.pool is None
    with pytest.raises(lib.exceptions.ClosedPoolError):
        pool.request("GET", "/")


@LIBS
def test_close_with_a_connection_checked_out(http_server: Any, lib: ModuleType) -> None:
    pool = _pool(lib, http_server)
    r = pool.urlopen("GET", "/stream?size=200000", preload_content=False)
    conn = r.connection
    pool.close()
    assert len(r.read()) == 200000  # the response in flight is not broken
    r.release_conn()
    assert conn.is_closed  # ...but its connection is closed, not kept


@LIBS
def test_other_origin_raises_host_changed_error(http_server: Any, lib: ModuleType) -> None:
    with _pool(lib, http_server) as pool:
        with pytest.raises(lib.exceptions.HostChangedError):
            pool.urlopen("GET", "http://other.invalid/", retries=0)
        url = f"http://{http_server.host}:{http_server.port}/echo?a=1"
        assert pool.urlopen("GET", url).json()["target"] == url  # sent in absolute-form
    assert http_server.requests_served == 1


# --- stale kept-alive sockets ---------------------------------------------------------------------


def serve_ok(sock: socket.socket, index: int) -> None:
    """Answer every request on the connection with ``OK_RESPONSE`` until the peer closes."""
    while True:
        try:
            read_request(sock)
        except (ConnectionError, TimeoutError):
            return
        sock.sendall(OK_RESPONSE)


def _answer_then_close(closed: list[threading.Event]) -> faults.Handler:
    """Answer one request as keep-alive, close the socket, then set ``closed[index]``."""

    def handler(sock: socket.socket, index: int) -> None:
        read_request(sock)
        sock.sendall(OK_RESPONSE)
        sock.close()
        closed[index].set()

    return handler


@LIBS
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_socket_closed_by_server_while_idle_is_replaced(
    raw_server: RawFactory, lib: ModuleType, method: str
) -> None:
    closed = [threading.Event() for _ in range(4)]
    server = raw_server(_answer_then_close(closed))
    with _pool(lib, server) as pool:
        for index in range(3):
            r = pool.request(method, "/", body=b"payload", retries=0)
            assert (r.status, r.data) == (200, b"ok")
            assert closed[index].wait(_EVENT_TIMEOUT)  # the kept-alive socket is dead now
        assert pool.num_requests == 3
    assert server.connections_accepted == 3


@LIBS
def test_socket_closed_by_server_as_request_arrives_is_resent(
    raw_server: RawFactory, lib: ModuleType
) -> None:
    # Connection 0 answers once as keep-alive, then closes when the next request arrives: the
    # pool saw a live socket and the request is lost. pooltest sends an idempotent request
    # again on a new socket, below the retry layer; urllib3 fails it (a deliberate deviation).
    server = raw_server(faults.per_connection(faults.keepalive_then_close(idle=5.0), serve_ok))
    with _pool(lib, server) as pool:
        assert pool.request("GET", "/", retries=0).data == b"ok"
        if lib is urllib3:
            # urllib3 only checks the socket before reuse; the close races its request.
            with pytest.raises(
                (urllib3.exceptions.ProtocolError, urllib3.exceptions.MaxRetryError)
            ):
                pool.request("GET", "/", retries=0)
            return
        assert pool.request("GET", "/", retries=0).data == b"ok"
        assert pool.num_connections == 1  # the same connection object reconnected
    assert server.connections_accepted == 2


def test_non_idempotent_request_is_not_resent_on_a_racing_close(raw_server: RawFactory) -> None:
    server = raw_server(faults.per_connection(faults.keepalive_then_close(idle=5.0), serve_ok))
    with HTTPConnectionPool(server.host, server.port) as pool:
        assert pool.request("POST", "/", body=b"1").data == b"ok"
        with pytest.raises(ProtocolError):
            pool.request("POST", "/", body=b"2", retries=0)
        assert pool.request("POST", "/", body=b"3", retries=0).data == b"ok"
    assert server.connections_accepted == 2


def test_resend_after_a_racing_close_consumes_no_retry(raw_server: RawFactory) -> None:
    server = raw_server(faults.per_connection(faults.keepalive_then_close(idle=5.0), serve_ok))
    with HTTPConnectionPool(server.host, server.port) as pool:
        assert pool.request("PUT", "/", body=b"1").data == b"ok"
        # PUT is idempotent: resent below the retry layer, no retry consumed.
        r = pool.request("PUT", "/", body=b"2", retries=pooltest.Retry(0, read=0))
        assert r.data == b"ok"
        assert r.retries is not None
        assert r.retries.history == ()
    assert server.connections_accepted == 2


@LIBS
def test_close_route_then_next_request_with_no_retries(http_server: Any, lib: ModuleType) -> None:
    with _pool(lib, http_server) as pool:
        r = pool.request("GET", "/close", retries=0)
        assert (r.status, r.headers["Connection"]) == (200, "close")
        assert _conn_id(pool.request("GET", "/echo", retries=0)) == 1
        assert _conn_id(pool.request("GET", "/echo", retries=0)) == 1
        assert (pool.num_requests, pool.num_connections) == (3, 1)
    assert http_server.connections_accepted == 2


def test_pool_manager_replaces_stale_socket_with_no_retries(raw_server: RawFactory) -> None:
    server = raw_server(faults.per_connection(faults.keepalive_then_close(idle=5.0), serve_ok))
    with PoolManager(retries=0) as http:
        assert http.request("GET", server.url + "/").data == b"ok"
        assert http.request("GET", server.url + "/").data == b"ok"
        assert http.request("DELETE", server.url + "/").data == b"ok"
    assert server.connections_accepted == 2


def test_refused_connection_with_no_retries_is_max_retry_error() -> None:
    # Sanity check that the stale-socket resend does not hide real failures.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with HTTPConnectionPool("127.0.0.1", port) as pool, pytest.raises(MaxRetryError):
        pool.request("GET", "/", retries=0)


# --- differential: counters and server view -------------------------------------------------------


def _pool_scenario(lib: ModuleType, server: Any) -> dict[str, Any]:
    with _pool(lib, server, maxsize=2, block=False) as pool:
        a = pool.urlopen("GET", "/echo", preload_content=False)
        b = pool.urlopen("GET", "/echo", preload_content=False)
        c = pool.urlopen("GET", "/echo")  # third socket, returned into a free slot
        ids = [_conn_id(a), _conn_id(b), _conn_id(c)]
        a.release_conn()
        b.release_conn()  # the pool is full: discarded
        ids += [_conn_id(pool.request("GET", "/echo")) for _ in range(3)]
        pool.request("GET", "/close")
        ids.append(_conn_id(pool.request("GET", "/echo")))
        ids.append(_conn_id(pool.request("POST", "/echo", fields={"x": "y"})))
        counters = (pool.num_requests, pool.num_connections)
    log = [(r.connection_id, r.method, r.path) for r in server.request_log]
    return {"ids": ids, "counters": counters, "log": log, "accepted": server.connections_accepted}


def test_same_pool_scenario_through_urllib3_and_pooltest(serve: Any) -> None:
    from support import KeepAliveServer

    ours = _pool_scenario(pooltest, serve(KeepAliveServer()))
    theirs = _pool_scenario(urllib3, serve(KeepAliveServer()))
    assert ours == theirs
    assert ours["counters"] == (9, 3)
