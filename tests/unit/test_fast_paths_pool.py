"""Fast paths of the pool layer give exactly what the general code gives.

Each fast path (request-target encoding, per-request timeouts, the retry-on-status check) only
handles the inputs it recognises; these properties feed both paths with the inputs that matter
and compare what is observable: returned strings, the timeouts set on a real connection, and
the outcome of real requests to a loopback origin. The general path is forced through a
subclass the fast path does not recognise (or, for the target encoder, by disabling its
pattern).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support import KeepAliveServer

from pooltest.connection import HTTPConnection
from pooltest.connectionpool import HTTPConnectionPool
from pooltest.exceptions import LocationParseError, MaxRetryError
from pooltest.poolmanager import PoolManager
from pooltest.util import url as url_module
from pooltest.util.retry import Retry
from pooltest.util.timeout import _DEFAULT_TIMEOUT, Timeout

_FIXTURE_OK = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def origin() -> Iterator[KeepAliveServer]:
    with KeepAliveServer() as server:
        yield server


# --- _encode_target --------------------------------------------------------------------------

_TARGET_PIECES = st.sampled_from(
    [*"abAZ09.-_~:/?#@%!$&'()*+,;=[] é\n\"<>\\^`{|}", "%2f", "%4G", "/.", "?", "#"]
)
_TARGETS = st.tuples(st.sampled_from(["/", "", "a"]), st.lists(_TARGET_PIECES, max_size=16)).map(
    lambda parts: parts[0] + "".join(parts[1])
)


def _general_encode(target: str) -> str | None:
    """_encode_target without its fast path (None when it raises)."""
    saved = url_module._PLAIN_TARGET_RE
    url_module._PLAIN_TARGET_RE = re.compile(r"(?!)")  # matches nothing
    try:
        return url_module._encode_target(target)
    except LocationParseError:
        return None
    finally:
        url_module._PLAIN_TARGET_RE = saved


@settings(max_examples=3000)
@given(_TARGETS)
@example("/item/000123?x=1&y=2")
@example("/a?b?c")
@example("/")
@example("/a%20b")
@example("/a#frag")
def test_plain_target_fast_path_agrees_with_the_general_encoder(target: str) -> None:
    try:
        fast: str | None = url_module._encode_target(target)
    except LocationParseError:
        fast = None
    assert fast == _general_encode(target)
    if url_module._PLAIN_TARGET_RE.fullmatch(target):
        assert fast == target


@pytest.mark.parametrize("target", ["/item/000123", "/a/b?x=1&y=2", "/?", "/:@!$&'()*+,;=-._~"])
def test_plain_targets_take_the_fast_path(target: str) -> None:
    assert url_module._PLAIN_TARGET_RE.fullmatch(target) is not None


@pytest.mark.parametrize("target", ["/a b", "/a%20b", "/a#f", "a", "/é", "/a\n"])
def test_other_targets_take_the_general_path(target: str) -> None:
    assert url_module._PLAIN_TARGET_RE.fullmatch(target) is None


# --- per-request timeouts ----------------------------------------------------------------------


class _GeneralTimeout(Timeout):
    """A Timeout the fast path does not recognise (its type is not Timeout)."""


class _RecordingConnection(HTTPConnection):
    """A real connection remembering every value its ``timeout`` attribute is given."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "timeout":
            self.__dict__.setdefault("timeouts_set", []).append(value)
        super().__setattr__(name, value)


_BUDGETS = st.sampled_from([None, _DEFAULT_TIMEOUT, 0.5, 3, 7.25])


def _timeouts_set(url: str, timeout: Timeout, pass_per_request: bool) -> list[Any]:
    host_port = url.split("//", 1)[1]
    host, _, port = host_port.rpartition(":")
    pool_timeout = _DEFAULT_TIMEOUT if pass_per_request else timeout
    with HTTPConnectionPool(host, int(port), timeout=pool_timeout) as pool:
        pool.ConnectionCls = _RecordingConnection
        kw: dict[str, Any] = {"timeout": timeout} if pass_per_request else {}
        response = pool.urlopen("GET", "/status/200", **kw)
        assert response.status == 200
        conn = pool._get_conn()
        recorded: list[Any] = conn.__dict__["timeouts_set"]
        pool._put_conn(conn)
    return recorded


@_FIXTURE_OK
@given(
    connect=_BUDGETS,
    read=_BUDGETS,
    socket_default=st.sampled_from([None, 20.0]),
    pass_per_request=st.booleans(),
)
def test_timeout_fast_path_sets_what_the_general_path_sets(
    origin: KeepAliveServer,
    connect: Any,
    read: Any,
    socket_default: float | None,
    pass_per_request: bool,
) -> None:
    saved = socket.getdefaulttimeout()
    socket.setdefaulttimeout(socket_default)
    try:
        fast = _timeouts_set(origin.url, Timeout(connect=connect, read=read), pass_per_request)
        general = _timeouts_set(
            origin.url, _GeneralTimeout(connect=connect, read=read), pass_per_request
        )
    finally:
        socket.setdefaulttimeout(saved)
    assert fast == general
    assert _DEFAULT_TIMEOUT not in fast  # the sentinel is always resolved before it is set


def test_a_float_timeout_is_still_validated(origin: KeepAliveServer) -> None:
    pool = PoolManager().connection_from_url(origin.url)
    with pytest.raises(ValueError, match="less than or equal to 0"):
        pool.urlopen("GET", "/status/200", timeout=-1)


# --- retry on status -----------------------------------------------------------------------------


class _GeneralRetry(Retry):
    """A Retry whose is_retry the fast path must ask (it is overridden, same answers)."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        return super().is_retry(method, status_code, has_retry_after)


def _outcome(url: str, retry: Retry, method: str, path: str) -> tuple[Any, ...]:
    with PoolManager() as pm:
        try:
            response = pm.request(method, url + path, retries=retry)
        except MaxRetryError as e:
            return ("raised", type(e.reason).__name__)
        return ("returned", response.status, len(response.retries.history))  # type: ignore[union-attr]


@_FIXTURE_OK
@given(
    status=st.sampled_from([200, 404, 413, 418, 429, 500, 503]),
    method=st.sampled_from(["GET", "POST", "put"]),
    forcelist=st.sampled_from([None, (), (500,), (418, 503)]),
    allowed=st.sampled_from([Retry.DEFAULT_ALLOWED_METHODS, None, frozenset({"POST"})]),
    total=st.sampled_from([0, 1, 2, None]),
    retry_after=st.sampled_from(["", "0"]),
    respect=st.booleans(),
    raise_on_status=st.booleans(),
)
def test_status_retry_fast_path_agrees_with_is_retry(
    origin: KeepAliveServer,
    status: int,
    method: str,
    forcelist: Any,
    allowed: Any,
    total: int | None,
    retry_after: str,
    respect: bool,
    raise_on_status: bool,
) -> None:
    kw: dict[str, Any] = {
        "total": total,
        "status": 2 if total is None else None,
        "status_forcelist": forcelist,
        "allowed_methods": allowed,
        "respect_retry_after_header": respect,
        "raise_on_status": raise_on_status,
        "backoff_factor": 0,
    }
    path = f"/status/{status}" + (f"?retry_after={retry_after}" if retry_after else "")
    fast = _outcome(origin.url, Retry(**kw), method, path)
    general = _outcome(origin.url, _GeneralRetry(**kw), method, path)
    assert fast == general


def test_a_forced_status_is_retried(origin: KeepAliveServer) -> None:
    retry = Retry(total=2, status_forcelist=(503,), backoff_factor=0, raise_on_status=False)
    with PoolManager() as pm:
        response = pm.request("GET", origin.url + "/status/503", retries=retry)
    assert response.status == 503
    assert len(response.retries.history) == 2  # type: ignore[union-attr]


# --- pool lookup -----------------------------------------------------------------------------


def test_the_cached_pool_is_the_pool_for_the_key() -> None:
    pm = PoolManager(num_pools=1)
    first = pm.connection_from_url("http://a.test:81/")
    assert pm.connection_from_url("http://a.test:81/x") is first
    pm.connection_from_url("http://b.test:82/")  # evicts the first pool
    again = pm.connection_from_url("http://a.test:81/")
    assert again is not first
    assert len(pm.pools) == 1
    assert pm.connection_from_url("http://a.test:81/") is again
