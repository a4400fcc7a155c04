"""Fast paths of the cassette/connection layer (round 4) give exactly what the general code gives.

Covered: ``check_fields``' one-step test for a plain method, a plain target and fields checked
before (compared, outcome and message, with a reference copy of the former checks), and the
cassette connection mixin calling the real connection class directly (no cast per call): a
recorded exchange, its replay and closing, over plain and chunked bodies, observed as a caller
sees them.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from support import KeepAliveServer, call_outcome

from pooltest import _http11
from pooltest.cassette._cassette import Cassette
from pooltest.cassette._connection import (
    CassetteConnectionMixin,
    _SocketClosedMixin,
    cassette_connection_class,
)
from pooltest.connection import HTTPConnection, HTTPSConnection
from pooltest.connectionpool import HTTPConnectionPool
from pooltest.poolmanager import PoolManager

_TEXT = st.lists(
    st.sampled_from([*"aZ09 !#-_~.%/?#:@\x00\x01\r\n\x7f\x80éĀ\t", "/item", "x y"]), max_size=12
).map("".join)
_METHODS = st.one_of(
    st.sampled_from(["GET", "get", "POST", "P@T", "GÉT", "G T", "", "M-SEARCH", "ŁOCK"]), _TEXT
)
_FIELDS = st.lists(
    st.tuples(
        st.sampled_from(["Host", "X-A", "Bad Name", "Ünicode", ""]),
        st.one_of(_TEXT, st.integers(min_value=-5, max_value=5), st.binary(max_size=3)),
    ),
    max_size=4,
)


def _check_fields_before(
    method: str, target: str, fields: Iterable[tuple[str, _http11.HeaderValue]]
) -> None:
    """Reference copy of check_fields before its one-step test (round 3)."""
    _http11.check_method(method)
    _http11.check_target(target)
    if _http11._all_checked(fields):
        target.encode("latin-1")
        return
    unchecked: list[str] = []
    for field in fields:
        if field not in _http11._CHECKED_FIELDS:
            name, value = field
            if _http11._TOKEN.fullmatch(name) is None:
                raise ValueError(f"Invalid header name {name!r}")
            unchecked.append(_http11._header_value(name, value))
    target.encode("latin-1")
    for text in unchecked:
        text.encode("latin-1")


@settings(max_examples=1000)
@given(_METHODS, _TEXT.map(lambda text: "/" + text), _FIELDS)
@example("GET", "/item/1", [("Host", "h.test"), ("X-A", "1")])
@example("GÉT", "/item/1", [])
@example("GET", "/é", [])
@example("GET", "/a b", [("Host", "h.test")])
def test_check_fields_agrees_with_the_former_checks(
    method: str, target: str, fields: list[tuple[str, Any]]
) -> None:
    expected = call_outcome(_check_fields_before, method, target, list(fields))
    # Twice: the second time every valid field is known, so the one-step test may answer.
    for _ in range(2):
        assert call_outcome(_http11.check_fields, method, target, tuple(fields)) == expected
        assert call_outcome(_http11.check_fields, method, target, fields) == expected


def test_the_mixin_calls_the_real_connection_class_next_in_line() -> None:
    for real in (HTTPConnection, HTTPSConnection):
        made = cassette_connection_class(real)
        assert made.__mro__[1:4] == (_SocketClosedMixin, CassetteConnectionMixin, real)
        assert cassette_connection_class(real) is made


class _ClosedWhenAsked(HTTPConnection):
    """A connection class with its own idea of being closed."""

    closed_answer = True

    @property
    def is_closed(self) -> bool:
        return self.closed_answer


def test_a_class_with_its_own_is_closed_is_asked_through_the_general_mixin() -> None:
    made = cassette_connection_class(_ClosedWhenAsked)
    assert made.__mro__[1:3] == (CassetteConnectionMixin, _ClosedWhenAsked)
    conn = made("h.test", 80)
    assert conn.is_closed is True  # its own answer, not "no socket"
    conn.closed_answer = False
    assert conn.is_closed is False
    conn.connect()  # virtually open: replays answer without asking the real class
    conn.closed_answer = True
    assert conn.is_closed is False


class _Overriding(HTTPConnection):
    """A connection class overriding what a live exchange through a cassette calls next."""

    calls: typing.ClassVar[list[str]] = []

    @property
    def is_connected(self) -> bool:
        type(self).calls.append("is_connected")
        return super().is_connected

    def getresponse(self) -> Any:
        type(self).calls.append("getresponse")
        return super().getresponse()

    def _on_body_done(self, reusable: bool) -> None:
        type(self).calls.append("_on_body_done")
        super()._on_body_done(reusable)


class _OverridingPool(HTTPConnectionPool):
    ConnectionCls = _Overriding


def test_a_live_exchange_calls_what_the_real_class_overrides(
    origin: KeepAliveServer, tmp_path: Path
) -> None:
    """The mixin reaches the real class's methods as super() would (it keeps the class)."""
    made = cassette_connection_class(_Overriding)
    assert made._live is _Overriding
    _Overriding.calls.clear()
    path = os.fspath(tmp_path / "c.yaml")
    pool = _OverridingPool("127.0.0.1", origin.port)
    with Cassette(path), pool:
        for _ in range(2):
            assert pool.urlopen("GET", "/json").status == 200
    # The second request asks whether the kept-alive connection is still up.
    assert _Overriding.calls.count("getresponse") == 2
    assert _Overriding.calls.count("_on_body_done") == 2
    assert "is_connected" in _Overriding.calls


def test_the_socket_mixin_answers_as_the_real_class_does() -> None:
    conn = cassette_connection_class(HTTPConnection)("h.test", 80)
    real = HTTPConnection("h.test", 80)
    assert conn.is_closed is real.is_closed is True
    conn.connect()
    assert conn.is_closed is False
    conn.close()
    assert conn.is_closed is True


# -- end to end: record and replay through the mixin, as observed by a caller ----------------


@pytest.fixture(scope="module")
def origin() -> Iterator[KeepAliveServer]:
    with KeepAliveServer() as server:
        yield server


def _observed(manager: PoolManager, url: str) -> tuple[int, bytes, list[tuple[str, str]]]:
    response = manager.request("GET", url)
    headers = [(n, v) for n, v in response.headers.items() if n.lower() != "date"]
    return response.status, response.data, headers


@pytest.mark.parametrize("target", ["/json", "/chunked?n=2", "/no-content", "/status/404"])
def test_recorded_then_replayed_exchange_looks_the_same(
    origin: KeepAliveServer, tmp_path: Path, target: str
) -> None:
    path = os.fspath(tmp_path / "c.yaml")
    with Cassette(path):
        manager = PoolManager()
        recorded = _observed(manager, origin.url + target)
        manager.clear()  # closes the recording connection through the mixin
    served = origin.requests_served
    with Cassette(path, record_mode="none") as cassette:
        manager = PoolManager()
        replayed = _observed(manager, origin.url + target)
        pool = manager.connection_from_url(origin.url)
        conn = pool._get_conn()
        assert not conn.is_closed  # kept "open" as a live keep-alive connection would be
        conn.close()
        assert conn.is_closed
        assert cassette.all_played
    assert origin.requests_served == served  # nothing was sent
    status, data, headers = recorded
    # A chunked recording is replayed as one chunk: same body, same framing header.
    assert replayed == (status, data, headers)
