"""Retry over real sockets, run side by side through urllib3 and pooltest.

Each counter is driven by the failure it counts: ``connect`` by a refused port, ``read`` by a
server that never answers (read timeout) or hangs up without a status line, ``other`` by a TLS
handshake that fails verification, ``status`` by ``status_forcelist`` answers, ``redirect`` by
3xx answers, and ``total`` across all of them. Also ``allowed_methods`` (POST is not retried
after the request may have reached the server, unless allowed), ``False`` counters (re-raise the
original error), ``raise_on_status``, ``Retry-After`` (seconds, HTTP dates, ``retry_after_max``,
``respect_retry_after_header``, only on 413/429/503), exponential backoff with ``backoff_max``
and ``backoff_jitter``, rewinding a file body before each attempt, and ``history``.

Sleeps are recorded rather than slept: pooltest's ``pooltest.util.retry._sleep`` and, for
urllib3, ``time.sleep`` are replaced by a list's ``append``, so the tests see exactly which waits
each library asked for without waiting.
"""

from __future__ import annotations

import email.utils
import io
import random
import socket
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
import urllib3
from support import KeepAliveServer, RawServer, read_request
from support import raw as faults
from support.raw import Handler

import pooltest
import pooltest.util.retry

pytestmark = pytest.mark.network

RawFactory = Callable[[Handler], RawServer]
Sleeps = Callable[[ModuleType], list[float]]
LIBS = pytest.mark.parametrize("lib", [pooltest, urllib3], ids=["pooltest", "urllib3"])
#: Read timeout for servers that never answer: long enough for loopback, short for the suite.
READ_TIMEOUT = 0.1


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    """``sleeps(lib)``: make ``lib``'s retry waits return at once and record their lengths."""

    def install(lib: ModuleType) -> list[float]:
        recorded: list[float] = []
        if lib is pooltest:
            monkeypatch.setattr(pooltest.util.retry, "_sleep", recorded.append)
        else:
            # urllib3 calls time.sleep through the time module: patch it there, for this test.
            monkeypatch.setattr(time, "sleep", recorded.append)
        return recorded

    return install


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port nothing listens on (bound but not listening, so it stays free)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield int(holder.getsockname()[1])


def _pool(lib: ModuleType, server: Any, **kw: Any) -> Any:
    return lib.HTTPConnectionPool(server.host, server.port, **kw)


def _respond_then(statuses: list[int], bodies: list[bytes]) -> Handler:
    """Keep-alive handler: answer request ``i`` with ``statuses[i]`` (the last one repeats) and
    record each request body in ``bodies``."""

    def handler(sock: socket.socket, index: int) -> None:
        while True:
            try:
                _, body = read_request(sock)
            except (ConnectionError, TimeoutError, OSError):
                return
            bodies.append(body)
            status = statuses[min(len(bodies), len(statuses)) - 1]
            sock.sendall(b"HTTP/1.1 %d Status\r\nContent-Length: 2\r\n\r\nok" % status)

    return handler


def _history(response: Any) -> list[tuple[Any, ...]]:
    return [
        (
            h.method,
            h.url,
            type(h.error).__name__ if h.error else None,
            h.status,
            h.redirect_location,
        )
        for h in response.retries.history
    ]


# --- status ---------------------------------------------------------------------------------


@LIBS
def test_status_forcelist_retries_until_the_budget_is_spent(
    lib: ModuleType, http_server: KeepAliveServer
) -> None:
    pool = _pool(lib, http_server)
    with pytest.raises(lib.exceptions.MaxRetryError) as info:
        pool.request("GET", "/status/500", retries=lib.Retry(total=2, status_forcelist=[500]))
    assert isinstance(info.value.reason, lib.exceptions.ResponseError)
    assert str(info.value.reason) == "too many 500 error responses"
    assert http_server.requests_served == 3
    # Every answer was drained: one connection carried all attempts.
    assert http_server.connection_ids == [0, 0, 0]


@LIBS
def test_raise_on_status_false_returns_the_last_answer(
    lib: ModuleType, http_server: KeepAliveServer
) -> None:
    retries = lib.Retry(total=2, status_forcelist=[500], raise_on_status=False)
    r = _pool(lib, http_server).request("GET", "/status/500?body=last", retries=retries)
    assert (r.status, r.data) == (500, b"last")
    assert [h.status for h in r.retries.history] == [500, 500]
    assert r.retries.total == 0


@LIBS
def test_status_counter(lib: ModuleType, http_server: KeepAliveServer) -> None:
    retries = lib.Retry(total=10, status=1, status_forcelist=[503])
    with pytest.raises(lib.exceptions.MaxRetryError):
        _pool(lib, http_server).request("GET", "/status/503", retries=retries)
    assert http_server.requests_served == 2


@LIBS
def test_status_not_in_forcelist_is_returned(lib: ModuleType, http_server: KeepAliveServer) -> None:
    retries = lib.Retry(total=3, status_forcelist=[502])
    r = _pool(lib, http_server).request("GET", "/status/500", retries=retries)
    assert r.status == 500
    assert http_server.requests_served == 1


@LIBS
def test_post_is_not_retried_on_status_by_default(
    lib: ModuleType, http_server: KeepAliveServer
) -> None:
    retries = lib.Retry(total=3, status_forcelist=[500])
    r = _pool(lib, http_server).request("POST", "/status/500", body=b"x", retries=retries)
    assert r.status == 500
    assert http_server.requests_served == 1


@LIBS
@pytest.mark.parametrize("allowed", [None, ["POST"], frozenset({"post"})], ids=str)
def test_allowed_methods_lets_post_retry_and_resends_the_body(
    lib: ModuleType, allowed: Any, raw_server: RawFactory
) -> None:
    bodies: list[bytes] = []
    server = raw_server(_respond_then([500, 500, 200], bodies))
    retries = lib.Retry(total=3, status_forcelist=[500], allowed_methods=allowed)
    r = _pool(lib, server).request("POST", "/", body=b"payload", retries=retries)
    if allowed == frozenset({"post"}):
        # allowed_methods are compared with the upper-case method: "post" never matches.
        assert (r.status, bodies) == (500, [b"payload"])
        return
    assert (r.status, bodies) == (200, [b"payload"] * 3)
    assert server.connections_accepted == 1


@LIBS
def test_a_file_body_is_rewound_before_each_attempt(
    lib: ModuleType, raw_server: RawFactory
) -> None:
    bodies: list[bytes] = []
    server = raw_server(_respond_then([503, 503, 200], bodies))
    body = io.BytesIO(b"skip:file contents")
    body.seek(5)
    retries = lib.Retry(total=3, status_forcelist=[503], allowed_methods=None)
    r = _pool(lib, server).request("PUT", "/", body=body, retries=retries)
    assert r.status == 200
    assert bodies == [b"file contents"] * 3


# --- Retry-After --------------------------------------------------------------------------------


@LIBS
@pytest.mark.parametrize("status", [413, 429, 503])
def test_retry_after_is_obeyed(
    lib: ModuleType, status: int, http_server: KeepAliveServer, sleeps: Sleeps
) -> None:
    slept = sleeps(lib)
    r = _pool(lib, http_server).request(
        "GET", f"/status/{status}?retry_after=7", retries=lib.Retry(total=2)
    )
    assert r.status == status  # not in a forcelist: retried for Retry-After, then returned
    assert slept == [7, 7]
    assert http_server.requests_served == 3


@LIBS
def test_retry_after_on_other_statuses_is_ignored(
    lib: ModuleType, http_server: KeepAliveServer, sleeps: Sleeps
) -> None:
    slept = sleeps(lib)
    r = _pool(lib, http_server).request(
        "GET", "/status/500?retry_after=7", retries=lib.Retry(total=2)
    )
    assert (r.status, slept, http_server.requests_served) == (500, [], 1)


@LIBS
def test_retry_after_can_be_disrespected(
    lib: ModuleType, http_server: KeepAliveServer, sleeps: Sleeps
) -> None:
    slept = sleeps(lib)
    pool = _pool(lib, http_server)
    retries = lib.Retry(total=2, respect_retry_after_header=False)
    assert pool.request("GET", "/status/503?retry_after=7", retries=retries).status == 503
    assert http_server.requests_served == 1
    retries = retries.new(status_forcelist=[503], raise_on_status=False)
    assert pool.request("GET", "/status/503?retry_after=7", retries=retries).status == 503
    assert http_server.requests_served == 4
    assert slept == []  # the backoff (factor 0) replaces the header's wait


@LIBS
def test_retry_after_http_dates(
    lib: ModuleType, http_server: KeepAliveServer, sleeps: Sleeps
) -> None:
    slept = sleeps(lib)
    pool = _pool(lib, http_server)
    past = email.utils.formatdate(time.time() - 3600, usegmt=True)
    r = pool.request("GET", f"/status/503?retry_after={past}", retries=lib.Retry(total=1))
    assert (r.status, slept) == (503, [])
    future = email.utils.formatdate(time.time() + 3600, usegmt=True)
    pool.request("GET", f"/status/503?retry_after={future}", retries=lib.Retry(total=1))
    assert len(slept) == 1
    assert 3000 < slept[0] <= 3600


@LIBS
def test_retry_after_max_caps_the_wait(
    lib: ModuleType, http_server: KeepAliveServer, sleeps: Sleeps
) -> None:
    slept = sleeps(lib)
    retries = lib.Retry(total=1, retry_after_max=3)
    _pool(lib, http_server).request("GET", "/status/429?retry_after=100000", retries=retries)
    assert slept == [3]


@LIBS
def test_invalid_retry_after_raises_invalid_header(
    lib: ModuleType, http_server: KeepAliveServer, sleeps: Sleeps
) -> None:
    sleeps(lib)
    with pytest.raises(lib.exceptions.InvalidHeader):
        _pool(lib, http_server).request(
            "GET", "/status/503?retry_after=soon", retries=lib.Retry(total=1)
        )


# --- backoff ----------------------------------------------------------------------------------


def _backoff_sleeps(lib: ModuleType, server: KeepAliveServer, sleeps: Sleeps, **kw: Any) -> Any:
    slept = sleeps(lib)
    retries = lib.Retry(total=4, status_forcelist=[500], raise_on_status=False, **kw)
    assert _pool(lib, server).request("GET", "/status/500", retries=retries).status == 500
    return slept


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"backoff_factor": 0.5}, [1.0, 2.0, 4.0]),
        ({"backoff_factor": 0.5, "backoff_max": 1.5}, [1.0, 1.5, 1.5]),
        ({"backoff_factor": 0}, []),
    ],
    ids=["exponential", "capped", "none"],
)
def test_backoff_matches_urllib3(
    kw: dict[str, float], expected: list[float], http_server: KeepAliveServer, sleeps: Sleeps
) -> None:
    seen = [_backoff_sleeps(lib, http_server, sleeps, **kw) for lib in (urllib3, pooltest)]
    assert seen[0] == seen[1] == expected


def test_backoff_jitter_matches_urllib3(http_server: KeepAliveServer, sleeps: Sleeps) -> None:
    seen = []
    for lib in (urllib3, pooltest):
        random.seed(1234)  # both draw random.random() once per wait: same seed, same jitter
        seen.append(
            _backoff_sleeps(
                lib, http_server, sleeps, backoff_factor=0.5, backoff_jitter=0.25, backoff_max=3.0
            )
        )
    assert seen[0] == seen[1]
    first, second, third = seen[1]
    assert 1.0 < first < 1.25
    assert 2.0 < second < 2.25
    assert third == 3.0  # 4.0 plus jitter, capped by backoff_max


@LIBS
def test_backoff_after_connection_errors(
    lib: ModuleType, refused_port: int, sleeps: Sleeps
) -> None:
    slept = sleeps(lib)
    pool = lib.HTTPConnectionPool("127.0.0.1", refused_port)
    with pytest.raises(lib.exceptions.MaxRetryError):
        pool.request("GET", "/", retries=lib.Retry(connect=3, backoff_factor=0.1))
    assert slept == pytest.approx([0.2, 0.4])  # no wait after the first error


# --- connect, read, other, total -------------------------------------------------------------


@LIBS
def test_connect_counter(lib: ModuleType, refused_port: int) -> None:
    pool = lib.HTTPConnectionPool("127.0.0.1", refused_port)
    with pytest.raises(lib.exceptions.MaxRetryError) as info:
        pool.request("GET", "/", retries=lib.Retry(total=None, connect=2))
    assert isinstance(info.value.reason, lib.exceptions.NewConnectionError)
    assert "Connection refused" in str(info.value.reason)
    assert pool.num_connections == 3


@LIBS
def test_total_takes_precedence(lib: ModuleType, refused_port: int) -> None:
    pool = lib.HTTPConnectionPool("127.0.0.1", refused_port)
    with pytest.raises(lib.exceptions.MaxRetryError):
        pool.request("GET", "/", retries=lib.Retry(total=1, connect=5))
    assert pool.num_connections == 2


@LIBS
def test_int_retries_on_a_pool_manager(lib: ModuleType, refused_port: int) -> None:
    manager = lib.PoolManager(retries=1)
    with pytest.raises(lib.exceptions.MaxRetryError):
        manager.request("GET", f"http://127.0.0.1:{refused_port}/")
    assert manager.connection_from_host("127.0.0.1", refused_port).num_connections == 2


@LIBS
@pytest.mark.parametrize("retries", [False, "connect-false"])
def test_false_reraises_the_connection_error(
    lib: ModuleType, retries: Any, refused_port: int
) -> None:
    policy = False if retries is False else lib.Retry(connect=False)
    pool = lib.HTTPConnectionPool("127.0.0.1", refused_port)
    with pytest.raises(lib.exceptions.NewConnectionError):
        pool.request("GET", "/", retries=policy)
    assert pool.num_connections == 1


@LIBS
def test_read_timeouts_retry_get_but_not_post(lib: ModuleType, raw_server: RawFactory) -> None:
    server = raw_server(faults.hang(max_wait=5))
    pool = _pool(lib, server, timeout=lib.Timeout(read=READ_TIMEOUT))
    with pytest.raises(lib.exceptions.MaxRetryError) as info:
        pool.request("GET", "/", retries=lib.Retry(read=1))
    assert isinstance(info.value.reason, lib.exceptions.ReadTimeoutError)
    assert server.connections_accepted == 2
    with pytest.raises(lib.exceptions.ReadTimeoutError):
        pool.request("POST", "/", body=b"x", retries=lib.Retry(read=1))
    assert server.connections_accepted == 3
    with pytest.raises(lib.exceptions.MaxRetryError):
        pool.request("POST", "/", body=b"x", retries=lib.Retry(read=1, allowed_methods=None))
    assert server.connections_accepted == 5


@LIBS
def test_read_false_reraises_the_read_error(lib: ModuleType, raw_server: RawFactory) -> None:
    server = raw_server(faults.hang(max_wait=5))
    pool = _pool(lib, server, timeout=READ_TIMEOUT)
    with pytest.raises(lib.exceptions.ReadTimeoutError):
        pool.request("GET", "/", retries=lib.Retry(read=False))
    assert server.connections_accepted == 1


@LIBS
def test_dropped_connections_count_as_read_errors(lib: ModuleType, raw_server: RawFactory) -> None:
    server = raw_server(faults.close_after_request())
    pool = _pool(lib, server)
    with pytest.raises(lib.exceptions.MaxRetryError) as info:
        pool.request("GET", "/", retries=lib.Retry(total=10, read=2))
    assert isinstance(info.value.reason, lib.exceptions.ProtocolError)
    assert server.connections_accepted == 3
    with pytest.raises(lib.exceptions.ProtocolError):
        pool.request("POST", "/", body=b"x", retries=lib.Retry(total=10, read=2))
    assert server.connections_accepted == 4


@LIBS
@pytest.mark.parametrize(("other", "attempts"), [(0, 1), (2, 3)])
def test_tls_failures_count_as_other(
    lib: ModuleType, other: int, attempts: int, https_server: KeepAliveServer, wrong_ca_certs: str
) -> None:
    pool = lib.HTTPSConnectionPool(https_server.host, https_server.port, ca_certs=wrong_ca_certs)
    with pytest.raises(lib.exceptions.MaxRetryError) as info:
        pool.request("GET", "/", retries=lib.Retry(total=10, other=other))
    assert isinstance(info.value.reason, lib.exceptions.SSLError)
    assert pool.num_connections == attempts


# --- history and immutability ------------------------------------------------------------------


def test_history_matches_urllib3(raw_server: RawFactory) -> None:
    seen = []
    for lib in (urllib3, pooltest):
        server = raw_server(faults.per_connection(faults.close_after_request(), faults.respond()))
        r = lib.PoolManager().request("GET", f"http://{server.host}:{server.port}/x")
        assert r.data == b"ok"
        assert server.connections_accepted == 2
        seen.append(_history(r))
    assert seen[0] == seen[1] == [("GET", "/x", "ProtocolError", None, None)]


def test_mixed_history_matches_urllib3(http_server: KeepAliveServer) -> None:
    path = "/redirect?status=302&to=/status/500"
    seen = []
    for lib in (urllib3, pooltest):
        retries = lib.Retry(total=5, status_forcelist=[500], raise_on_status=False)
        r = lib.PoolManager().request("GET", http_server.url + path, retries=retries)
        seen.append((r.status, _history(r), r.retries.total, r.retries.redirect))
    assert seen[0] == seen[1]
    assert [h[3] for h in seen[1][1]] == [302, 500, 500, 500, 500]


@LIBS
def test_a_retry_object_is_not_changed_by_use(
    lib: ModuleType, http_server: KeepAliveServer
) -> None:
    retries = lib.Retry(total=3, redirect=2, status_forcelist=[500], raise_on_status=False)
    pool = _pool(lib, http_server, retries=retries)
    r = pool.request("GET", "/status/500")
    assert len(r.retries.history) == 3
    assert (retries.total, retries.redirect, retries.history) == (3, 2, ())
    r = pool.request("GET", "/redirect-n/2")
    assert r.retries.redirect == 0
    assert retries.redirect == 2
