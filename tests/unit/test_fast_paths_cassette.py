"""Fast paths of the cassette/connection layer give exactly what the general code gives.

Covered: the index key of a plain Request (views read from its split URI, keyers called without
their memo), the query key of a request without a query, request fields prepared for an empty
header mapping, and the Host value for an origin-form target. The general path is forced
through a Request subclass (which the key fast path does not recognise), a header mapping that
is empty but truthy, or a reference copy of the former check; the results are compared.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from support import KeepAliveServer

from pooltest import matchers
from pooltest.cassette import _cassette
from pooltest.cassette._cassette import Cassette, _key_function, _views_reader
from pooltest.cassette._request import Request, _UriParts
from pooltest.connection import HTTPConnection
from pooltest.poolmanager import PoolManager

_PIECES = st.sampled_from(
    [*"abAZ09.-_~:/?#@%+&=[] é", "//", ":8080", ":0080", ":65536", "?a=1&b=", "&", "a%20b"]
)
_URIS = st.tuples(
    st.sampled_from(["http://", "https://", "HTTP://", "ws://", "", "ftp:", "x://"]),
    st.lists(_PIECES, max_size=12).map("".join),
).map("".join)
_VIEWS = st.lists(
    st.sampled_from(["method", "scheme", "host", "port", "path"]), min_size=1, max_size=5
)
_FORM = "application/x-www-form-urlencoded"
_BODIES = st.sampled_from([b"", b"a=1&b=2", b'{"x": [1, 2]}', b"\xff raw"])
_CONTENT_TYPES = st.sampled_from(
    [(), (("Content-Type", "application/json"),), (("content-type", _FORM),)]
)


class _SubRequest(Request):
    """A Request the key fast path does not recognise: it takes the general path."""

    __slots__ = ()


def _general_key(keyers: list[Any], request: Request) -> tuple[Any, ...]:
    """The index key as the general code computes it: one attrgetter, memoized keyers."""
    views = [getattr(keyer, "_pooltest_view", None) for keyer in keyers]
    simple = [view for view in views if view is not None]
    others = [keyer(request) for keyer, view in zip(keyers, views, strict=True) if view is None]
    if not simple:
        return tuple(others)
    return (operator.attrgetter(*simple)(request), *others)


def _keyer(name: str) -> Callable[[Request], Hashable]:
    keyer = matchers.COMPARISONS[name]._keyer
    assert keyer is not None
    return keyer


def test_view_positions_name_the_split_uri_fields() -> None:
    assert _cassette._VIEW_INDEX["method"] == 0
    for view, position in _cassette._VIEW_INDEX.items():
        if position:
            assert _UriParts._fields[position - 1] == view


@settings(max_examples=1500)
@given(_URIS, st.sampled_from(["get", "POST", "Patch"]), _VIEWS)
@example("http://H.test:0080/p?q#f", "get", ["port", "host", "path", "scheme", "method"])
@example("[::1]", "GET", ["host"])
def test_views_of_a_plain_request_agree_with_attrgetter(
    uri: str, method: str, views: list[str]
) -> None:
    read = _views_reader(views)
    plain = Request(method, uri)
    assert read(plain) == operator.attrgetter(*views)(plain)
    assert read(plain) == read(_SubRequest(method, uri))


def test_views_a_uri_does_not_hold_are_read_by_attrgetter() -> None:
    read = _views_reader(["method", "uri"])
    assert isinstance(read, operator.attrgetter)
    assert read(Request("get", "http://h.test/x")) == ("GET", "http://h.test/x")


@settings(max_examples=800)
@given(
    _URIS,
    _BODIES,
    _CONTENT_TYPES,
    st.lists(st.sampled_from(list(matchers.COMPARISONS)), min_size=1, max_size=6),
)
def test_index_key_agrees_with_the_general_key(
    uri: str, body: bytes, headers: tuple[tuple[str, str], ...], names: list[str]
) -> None:
    keyers = [_keyer(name) for name in names]
    key_of = _key_function(keyers)
    assert key_of(Request("GET", uri, headers, body)) == _general_key(
        keyers, Request("GET", uri, headers, body)
    )
    assert key_of(_SubRequest("GET", uri, headers, body)) == key_of(
        Request("GET", uri, headers, body)
    )


def test_index_keys_leave_the_request_memo_alone() -> None:
    request = Request("GET", "http://h.test/p?b=2&a=1", (), b"x=1")
    _key_function([_keyer("query"), _keyer("body")])(request)
    assert request._memo == {}


@settings(max_examples=1500)
@given(_URIS)
@example("http://h.test/p?")
@example("http://h.test/p?&&")
@example("http://h.test/p#?a=1")
def test_query_key_without_a_query_agrees_with_parsing(uri: str) -> None:
    request = Request("GET", uri)
    assert matchers._query_key(request) == tuple(sorted(request.query_pairs()))


class _TruthyEmpty(dict[str, str]):
    """An empty header mapping that claims to hold something: forces the general path."""

    def __bool__(self) -> bool:
        return True


_TARGETS = st.sampled_from(
    ["/", "/x?y", "*", "http://proxy.test:81/a", "HTTP://u@h.test/", "httpx", "h://x", ""]
)


@settings(max_examples=300)
@given(
    st.sampled_from(["GET", "POST", "head", "PUT"]),
    _TARGETS,
    st.sampled_from([None, b"", b"data", "text", [b"a", b"b"]]),
    st.booleans(),
)
def test_fields_for_no_headers_agree_with_the_general_path(
    method: str, target: str, body: Any, chunked: bool
) -> None:
    conn = HTTPConnection("h.test", 8080)
    fast = conn._prepare_fields(method, target, body, {}, chunked)
    general = conn._prepare_fields(method, target, body, _TruthyEmpty(), chunked)
    assert list(fast[0]) == list(general[0])
    assert fast[2] == general[2]


def _host_header_before(conn: HTTPConnection, url: str) -> str:
    """The Host value as computed before the origin-form shortcut."""
    if url[:4].lower() == "http" and "://" in url:
        return url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
    return conn._host_header("/")


@settings(max_examples=500)
@given(
    st.tuples(st.sampled_from(["/", "http", "HTTP", "", "h", "*"]), _URIS).map("".join),
    st.sampled_from([("h.test", None), ("::1", 8080), ("H.test", 80)]),
)
def test_host_header_agrees_with_the_former_check(
    target: str, host_port: tuple[str, int | None]
) -> None:
    conn = HTTPConnection(*host_port)
    assert conn._host_header(target) == _host_header_before(conn, target)


# -- end to end: replays through the fast paths, as observed by a caller --------------------


@pytest.fixture(scope="module")
def origin() -> Iterator[KeepAliveServer]:
    with KeepAliveServer() as server:
        yield server


@pytest.mark.parametrize(
    "match_on",
    [
        _cassette.DEFAULT_MATCH_ON,
        ("method", "uri"),
        ("path",),
        ("host", "query", "headers"),
        ("body", "method"),
    ],
)
def test_replays_answer_with_each_match_on(
    origin: KeepAliveServer, tmp_path: Path, match_on: tuple[str, ...]
) -> None:
    path = os.fspath(tmp_path / "c.yaml")
    targets = ["/item/1", "/item/2?b=2&a=1", "/item/3?"]
    with Cassette(path, match_on=match_on) as cassette:
        manager = PoolManager()
        recorded = [manager.request("GET", origin.url + t).data for t in targets]
        assert len(cassette.interactions) == 3
    with Cassette(path, record_mode="none", match_on=match_on) as cassette:
        manager = PoolManager()
        replayed = [manager.request("GET", origin.url + t).data for t in targets]
        assert cassette.all_played
    assert replayed == recorded
