"""Round-3 fast paths of the pool layers give exactly what the general code gives.

* ``request``/``request_encode_url`` call the next layer without ``**{}`` when there are no
  extra keywords: the overriding ``urlopen`` must see the very call it sees with them.
* ``HTTPConnectionPool.urlopen`` calls ``_make_request`` without ``**response_kw`` when there is
  none: the exchange must match one that passes ``enforce_content_length=True`` (the default),
  which takes the general call.
* ``_make_request`` skips ``_connect_and_validate`` while ``_validate_conn`` is the base no-op;
  an override is still called, and its failures are still mapped and retried.
* A failed attempt frees its slot before the retry decision and the back-off sleep.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import KeepAliveServer

from pooltest._collections import HTTPHeaderDict
from pooltest.connection import BaseSSLError
from pooltest.connectionpool import HTTPConnectionPool
from pooltest.exceptions import MaxRetryError, ProtocolError, SSLError
from pooltest.poolmanager import PoolManager
from pooltest.response import BaseHTTPResponse, HTTPResponse
from pooltest.util.retry import Retry

_FIXTURE_OK = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def origin() -> Iterator[KeepAliveServer]:
    with KeepAliveServer() as server:
        yield server


def _host_port(url: str) -> tuple[str, int]:
    host, _, port = url.split("//", 1)[1].rpartition(":")
    return host, int(port)


# --- request -> request_encode_url -> urlopen ----------------------------------------------


class _RecordingManager(PoolManager):
    """A PoolManager whose overriding urlopen records each call instead of sending it."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def urlopen(  # type: ignore[override]
        self, method: str, url: str, redirect: bool = True, **kw: Any
    ) -> BaseHTTPResponse:
        self.calls.append((method, url, {"redirect": redirect, **kw}))
        return HTTPResponse(b"", status=200)


_HEADERS = st.sampled_from([None, {}, {"X-A": "1"}, HTTPHeaderDict({"Accept": "b"})])
_EXTRA_KW = st.sampled_from(
    [{}, {"retries": False}, {"redirect": False}, {"timeout": 3.0, "preload_content": False}]
)


@settings(max_examples=200)
@given(
    method=st.sampled_from(["GET", "get", "HEAD", "DELETE", "Options"]),
    fields=st.sampled_from([None, {}, {"a": "1"}, [("b", "x y"), ("b", "2")]]),
    headers=_HEADERS,
    default_headers=st.sampled_from([None, {"User-Agent": "t"}]),
    extra=_EXTRA_KW,
    body=st.sampled_from([None, b"data"]),
)
def test_url_encoding_methods_reach_urlopen_with_the_same_call(
    method: str,
    fields: Any,
    headers: Any,
    default_headers: Any,
    extra: dict[str, Any],
    body: bytes | None,
) -> None:
    pm = _RecordingManager(headers=default_headers)
    pm.request(method, "http://a.test/p", fields=fields, headers=headers, body=body, **extra)
    pm.request_encode_url(method.upper(), "http://a.test/p", fields, headers, **extra)
    [(m1, u1, kw1), (m2, u2, kw2)] = pm.calls
    expected_kw = {"redirect": True, "headers": pm.headers if headers is None else headers}
    expected_kw.update(extra)
    assert (m1, u1) == (m2, u2) == (method.upper(), u1)
    assert u1 == ("http://a.test/p?" + urlencode(fields) if fields else "http://a.test/p")
    assert kw1.pop("body", None) is body
    assert kw1 == kw2 == expected_kw
    assert kw1["headers"] is expected_kw["headers"]  # passed on, never copied


# --- HTTPConnectionPool.urlopen -> _make_request -------------------------------------------


def _exchange(origin: KeepAliveServer, path: str, preload: bool, extra: dict[str, Any]) -> Any:
    with HTTPConnectionPool(*_host_port(origin.url), maxsize=2) as pool:
        response = pool.urlopen("GET", path, preload_content=preload, **extra)
        body = response.data if preload else response.read()
        body = re.sub(rb'"connection_id":\d+', b"", body)  # /echo names its connection
        outcome = (
            response.status,
            body,
            sorted(response.headers.items()),
            response.retries,
            response.connection is None,
        )
        response.release_conn()
        return (*outcome, pool.pool.qsize() if pool.pool is not None else None)


@_FIXTURE_OK
@given(
    path=st.sampled_from(["/", "/json", "/echo?x=1", "/chunked", "/gzip", "/no-content"]),
    preload=st.booleans(),
)
def test_the_plain_make_request_call_matches_the_general_one(
    origin: KeepAliveServer, path: str, preload: bool
) -> None:
    fast = _exchange(origin, path, preload, {})
    general = _exchange(origin, path, preload, {"enforce_content_length": True})
    assert fast[:2] == general[:2]
    assert [h for h in fast[2] if h[0].lower() != "date"] == [
        h for h in general[2] if h[0].lower() != "date"
    ]
    assert fast[3:] == general[3:]


class _MakeRequestSpy(HTTPConnectionPool):
    """A pool whose overriding _make_request records the keywords it is called with."""

    seen: list[dict[str, Any]]

    def _make_request(self, conn: Any, method: str, url: str, **kw: Any) -> BaseHTTPResponse:
        self.seen.append(kw)
        return super()._make_request(conn, method, url, **kw)


@pytest.mark.parametrize("extra", [{}, {"enforce_content_length": False}])
def test_an_overriding_make_request_gets_every_keyword(
    origin: KeepAliveServer, extra: dict[str, Any]
) -> None:
    with _MakeRequestSpy(*_host_port(origin.url)) as pool:
        pool.seen = []
        assert pool.urlopen("GET", "/json", **extra).status == 200
    [kw] = pool.seen
    assert set(kw) == {
        "timeout",
        "body",
        "headers",
        "chunked",
        "retries",
        "response_conn",
        "preload_content",
        "decode_content",
        *extra,
    }
    assert {k: kw[k] for k in extra} == extra


# --- _validate_conn ------------------------------------------------------------------------


class _FailingValidation(HTTPConnectionPool):
    """A pool whose _validate_conn raises ``errors`` in turn (then passes), noting free slots."""

    errors: list[BaseException]
    calls: int

    def _validate_conn(self, conn: Any) -> None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)


class _SlotNotingRetry(Retry):
    """A Retry whose back-off records how many of the pool's slots are free at that moment."""

    pool: HTTPConnectionPool | None = None
    free_at_sleep: list[int] = []  # noqa: RUF012 - shared on purpose: each increment is a copy

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        assert self.pool is not None
        assert self.pool.pool is not None
        self.free_at_sleep.append(self.pool.pool.qsize())


def test_an_overriding_validate_conn_is_called(origin: KeepAliveServer) -> None:
    with _FailingValidation(*_host_port(origin.url)) as pool:
        pool.errors, pool.calls = [], 0
        assert pool.urlopen("GET", "/").status == 200
        assert pool.urlopen("GET", "/").status == 200
    assert pool.calls == 2


def test_validation_failures_are_retried_after_the_slot_is_freed(
    origin: KeepAliveServer,
) -> None:
    with _FailingValidation(*_host_port(origin.url), maxsize=1) as pool:
        pool.errors, pool.calls = [ConnectionResetError("reset"), BaseSSLError("tls")], 0
        _SlotNotingRetry.pool, _SlotNotingRetry.free_at_sleep = pool, []
        response = pool.urlopen("GET", "/", retries=_SlotNotingRetry(total=3))
        assert response.status == 200
        assert pool.calls == 3
        assert _SlotNotingRetry.free_at_sleep == [1, 1]  # the one slot was free both times
        errors = [type(entry.error) for entry in response.retries.history]  # type: ignore[union-attr]
        assert errors == [ProtocolError, SSLError]


def test_a_validation_failure_without_retries_left_raises(origin: KeepAliveServer) -> None:
    with _FailingValidation(*_host_port(origin.url), maxsize=1) as pool:
        pool.errors, pool.calls = [ConnectionResetError("reset")], 0
        with pytest.raises(MaxRetryError) as info:
            pool.urlopen("GET", "/", retries=Retry(total=0))
        assert isinstance(info.value.reason, ProtocolError)
        assert pool.pool is not None
        assert pool.pool.qsize() == 1


def test_a_non_connection_error_frees_the_slot_and_is_not_retried(
    origin: KeepAliveServer,
) -> None:
    with _FailingValidation(*_host_port(origin.url), maxsize=1) as pool:
        pool.errors, pool.calls = [ValueError("not a connection error")], 0
        with pytest.raises(ValueError, match="not a connection error"):
            pool.urlopen("GET", "/", retries=Retry(total=3))
        assert pool.calls == 1
        assert pool.pool is not None
        assert pool.pool.qsize() == 1
        assert pool.urlopen("GET", "/").status == 200
