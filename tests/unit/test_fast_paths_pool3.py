"""Round-4 fast paths of the pool layers give exactly what the general code gives.

* ``util.url._split_plain_url`` (a PoolManager's origin and target without building a ``Url``)
  agrees with ``parse_url`` and takes exactly the URLs ``parse_url``'s own fast path takes,
  whether the origin memo knows the origin or not, and however full that memo is.
* ``PoolManager.urlopen`` calls the pool's ``urlopen`` without ``**kw`` when it has no extra
  keywords, and without a ``Url`` for a plain URL: the pool must see the very call the general
  path makes (an upper-case scheme forces the general path), and redirects still work.
* ``_request_target`` answers plain targets itself: the same as ``_encode_target``.
* ``RecentlyUsedContainer.get`` returns the most recently used entry without the lock: every
  sequence of operations behaves as a plain LRU model does (values, order, disposals).
"""

from __future__ import annotations

import re
import string
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import KeepAliveServer

from pooltest._collections import RecentlyUsedContainer
from pooltest.connectionpool import HTTPConnectionPool, _request_target
from pooltest.exceptions import LocationParseError
from pooltest.poolmanager import PoolManager
from pooltest.response import BaseHTTPResponse
from pooltest.util import url as url_module
from pooltest.util.url import (
    _encode_target,
    _parse_plain_url,
    _split_by_pattern,
    _split_plain_url,
    parse_url,
)

# --- _split_plain_url ----------------------------------------------------------------------

_PIECES = [
    "http",
    "https",
    "HTTP",
    "ftp",
    "://",
    "//",
    ":",
    "80",
    "65536",
    "0443",
    "a.test",
    "Host",
    "127.0.0.1",
    "[::1]",
    "/",
    "/.",
    "..",
    "?",
    "#",
    "q=1",
    "&",
    "%41",
    "é",
    "@",
    "user",
    "-",
    "~",
    " ",
]
_URL_PIECES = st.lists(st.sampled_from(_PIECES), max_size=10).map("".join)


@settings(max_examples=500)
@given(url=st.one_of(_URL_PIECES, st.text(string.printable, max_size=30)))
def test_split_plain_url_agrees_with_parse_url(url: str) -> None:
    split = _split_plain_url(url)
    assert (split is None) == (_parse_plain_url(url) is None)
    if split is not None:
        u = parse_url(url)
        assert split == (u.scheme, u.host, u.port, u.request_uri)


@settings(max_examples=300)
@given(url=st.one_of(_URL_PIECES, st.text(string.printable, max_size=30)))
def test_split_plain_url_agrees_with_one_match_of_the_whole_url(url: str) -> None:
    first = _split_plain_url(url)  # the origin may be new to the memo
    assert first == _split_plain_url(url) == _split_by_pattern(url)  # now it is known


@pytest.mark.parametrize(
    "url",
    [
        "http://a.test",
        "https://a.test:8443/p?q",
        "http://h:1/?",
        "http://h/a/b?x=/y",
        "http://h?x=/y",  # a query right after the authority, holding a "/"
        "http://h:0080/p",
        "https://h/a?c/.d",  # "/." in the query only
    ],
)
def test_split_plain_url_takes_common_urls(url: str) -> None:
    u = parse_url(url)
    assert _split_plain_url(url) == (u.scheme, u.host, u.port, u.request_uri)


@pytest.mark.parametrize(
    "url", ["http://h:99999/p", "http://H/p", "http://h/a/../b", "http://h/a b", "ftp://h/p"]
)
def test_split_plain_url_leaves_the_rest_to_parse_url(url: str) -> None:
    assert _split_plain_url(url) is None
    assert _split_plain_url(url) is None  # with the origin judged


def test_split_plain_url_origin_memo_stays_bounded() -> None:
    for port in range(600):
        assert _split_plain_url(f"http://h:{port}/p") == ("http", "h", port, "/p")
    assert 0 < len(url_module._PLAIN_ORIGINS) <= 256
    long_host = "h" * 2000
    assert _split_plain_url(f"http://{long_host}/p") == ("http", long_host, None, "/p")
    assert f"http://{long_host}" not in url_module._PLAIN_ORIGINS


# --- PoolManager.urlopen -> pool.urlopen -----------------------------------------------------


class _RecordingPool(HTTPConnectionPool):
    """A pool that records the urlopen calls it gets before sending them."""

    calls: ClassVar[list[tuple[str, str, dict[str, Any]]]] = []

    def urlopen(self, method: str, url: str, *args: Any, **kw: Any) -> BaseHTTPResponse:  # type: ignore[override]
        type(self).calls.append((method, url, {"args": args, **kw}))
        return super().urlopen(method, url, *args, **kw)


@pytest.fixture(scope="module")
def origin() -> Iterator[KeepAliveServer]:
    with KeepAliveServer() as server:
        yield server


def _calls_for(url: str, **kw: Any) -> tuple[list[tuple[str, str, dict[str, Any]]], bytes]:
    _RecordingPool.calls = []
    with PoolManager(headers={"X-T": "1"}) as pm:
        pm.pool_classes_by_scheme = {"http": _RecordingPool}
        response = pm.urlopen("GET", url, **kw)
        return _RecordingPool.calls, re.sub(rb'"connection_id":\d+', b"", response.data)


@settings(max_examples=30, deadline=None)
@given(
    path=st.sampled_from(["", "/", "/a/b", "/a?x=1&y=/2", "/sp ace", "/./a", "/%7e"]),
    extra=st.sampled_from([{}, {"retries": 2}, {"headers": {"A": "b"}}, {"preload_content": True}]),
)
def test_plain_url_reaches_the_pool_with_the_general_call(
    origin: KeepAliveServer, path: str, extra: dict[str, Any]
) -> None:
    url = origin.url + path
    fast, fast_body = _calls_for(url, **extra)
    general, general_body = _calls_for("HTTP" + url[4:], **extra)  # not plain: general path
    assert fast == general
    assert list(fast[0][2]) == list(general[0][2])  # keyword order too
    assert fast_body == general_body


@pytest.mark.parametrize("status", [302, 303, 307])
def test_redirect_after_a_plain_call_matches_the_general_path(
    origin: KeepAliveServer, status: int
) -> None:
    path = f"/redirect?to=/echo&status={status}"
    fast, fast_body = _calls_for(origin.url + path)
    general, general_body = _calls_for("HTTP" + origin.url[4:] + path)
    assert [url for _, url, _ in fast] == [path, "/echo"]
    assert [(m, u, repr(kw)) for m, u, kw in fast] == [(m, u, repr(kw)) for m, u, kw in general]
    assert fast[1][2]["headers"] == {"X-T": "1"}
    assert fast_body == general_body


# --- _request_target ---------------------------------------------------------------------


@settings(max_examples=300)
@given(path=st.text(string.printable, max_size=20))
def test_request_target_matches_encode_target(path: str) -> None:
    target = "/" + path
    try:
        expected = _encode_target(target)
    except LocationParseError:
        with pytest.raises(LocationParseError):
            _request_target(target)
        return
    assert _request_target(target) == (expected, None)


def test_request_target_trusts_only_the_very_target_a_split_returned() -> None:
    split = _split_plain_url("http://h/known")
    assert split is not None
    assert _request_target(split[3]) == ("/known", None)
    # An equal string is matched again; an unplain one is still encoded after a split.
    assert _request_target("/kno" + "wn") == ("/known", None)
    assert _request_target("/a b") == ("/a%20b", None)


# --- RecentlyUsedContainer ---------------------------------------------------------------

_KEYS = [("k", i) for i in range(4)]  # fixed objects, so lookups repeat the very key object
_OPS = st.lists(
    st.tuples(
        st.sampled_from(["get", "getitem", "contains", "set", "del", "clear", "pop"]),
        st.integers(0, 3),
        st.booleans(),  # look up an equal copy of the key instead of the stored object
    ),
    max_size=40,
)


@settings(max_examples=300)
@given(maxsize=st.integers(0, 3), ops=_OPS)
def test_recently_used_container_behaves_as_an_lru(
    maxsize: int, ops: list[tuple[str, int, bool]]
) -> None:
    disposed: list[int] = []
    lru: RecentlyUsedContainer[tuple[str, int], int] = RecentlyUsedContainer(
        maxsize, dispose_func=disposed.append
    )
    model: OrderedDict[tuple[str, int], int] = OrderedDict()
    model_disposed: list[int] = []
    for step, (op, index, copy) in enumerate(ops):
        key = ("k", index) if copy else _KEYS[index]
        if op in ("get", "getitem", "contains"):
            expected = model.get(key)
            if key in model:
                model.move_to_end(key)
            if op == "get":
                assert lru.get(key) == expected
            elif op == "contains":
                assert (key in lru) == (expected is not None)
            elif expected is None:
                with pytest.raises(KeyError):
                    lru[key]
            else:
                assert lru[key] == expected
        elif op == "set":
            if key in model:
                model_disposed.append(model[key])
                model.move_to_end(key)
            model[key] = step
            if len(model) > maxsize:
                model_disposed.append(model.popitem(last=False)[1])
            lru[key] = step
        elif op in ("del", "pop"):
            if key in model:
                model_disposed.append(model.pop(key))
                if op == "del":
                    del lru[key]
                else:
                    lru.pop(key)
        else:
            model_disposed.extend(model.values())
            model.clear()
            lru.clear()
        assert list(lru.keys()) == list(model)
        assert disposed == model_disposed
