"""Requests a cassette keys without building them give exactly what the general path gives.

A body-less request whose index key depends only on its method and URI (``match_on`` made of
views, ``query``, ``body`` and ``raw_body``) is keyed from its wire form and played without a
``Request`` being built; ``cassette.requests`` builds it when read. Covered: the key computed
that way against the key of the built, filtered request (hypothesis, over targets, methods,
fields, ``match_on`` and filters), when that way must not be taken, and, against a loopback
server, everything a caller observes (responses, ``requests``, play counts, errors) compared
with the same run through the general path (forced by clearing the cassette's bare key).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from support import KeepAliveServer

from pooltest import _http11
from pooltest.cassette import UnmatchedRequestError
from pooltest.cassette._cassette import Cassette, _bare_key_function
from pooltest.cassette._connection import _request_from_fields
from pooltest.cassette._model import Interaction, Response, utc_now
from pooltest.cassette._request import Request, split_uri
from pooltest.connection import HTTPConnection
from pooltest.poolmanager import PoolManager

_HEADER_BLIND = ["method", "scheme", "host", "port", "path", "query", "body", "raw_body"]
_MATCH_ON = st.lists(st.sampled_from(_HEADER_BLIND), min_size=1, max_size=8, unique=True)
_ORIGINS = st.sampled_from(
    ["http://127.0.0.1:8080", "https://example.com", "http://[::1]:81", "http://h"]
)
_TARGETS = st.lists(
    st.sampled_from(
        [*"/aZ09.-_~%+&=?#", "token=s", "page=2", "api_key=x", "a%20b", "é", "//", "?q=1&q=0"]
    ),
    max_size=10,
).map(lambda pieces: "/" + "".join(pieces))
_METHODS = st.sampled_from(["GET", "get", "Delete", "OPTIONS", "G T", "M-SEARCH"])
_FIELDS = st.lists(
    st.tuples(
        st.sampled_from(["Host", "Authorization", "X-Api-Key", "Accept", "Content-Type"]),
        st.sampled_from(["a", "Bearer t", "application/json", "x\r\ny", 3, b"\xe9"]),
    ),
    max_size=4,
).map(tuple)
_FILTERS = st.sampled_from(
    [
        {},
        {"redact_defaults": False},
        {"filter_query_parameters": ["page"]},
        {"filter_query_parameters": [("q", "Q")], "filter_headers": ["accept"]},
    ]
)


def _cassette(tmp: Path, match_on: list[str], options: dict[str, Any]) -> Cassette:
    """A replaying cassette with a (non-empty) index and the given matching and filters."""
    cassette = Cassette(tmp / "never-saved.yaml", record_mode="none", match_on=match_on, **options)
    recorded = Request("GET", "http://127.0.0.1:8080/recorded")
    cassette._set_interactions([Interaction(recorded, Response(200, "OK", (), b""), utc_now())])
    return cassette


@settings(max_examples=400, deadline=None)
@given(_MATCH_ON, _ORIGINS, _TARGETS, _METHODS, _FIELDS, _FILTERS)
@example(["method", "path", "query"], "http://h", "/a?token=s", "GET", (), {})
@example(["query"], "http://h", "/a?page=2", "GET", (), {"filter_query_parameters": ["page"]})
@example(["path"], "http://h", "/a#b?token=s", "GET", (), {})
@example(["method", "body"], "http://h", "/", "GET", (("Content-Type", "application/json"),), {})
def test_unbuilt_key_is_the_key_of_the_built_filtered_request(
    tmp_path_factory: pytest.TempPathFactory,
    match_on: list[str],
    origin: str,
    target: str,
    method: str,
    fields: tuple[tuple[str, Any], ...],
    options: dict[str, Any],
) -> None:
    cassette = _cassette(tmp_path_factory.mktemp("c"), match_on, options)
    parts = split_uri(origin)
    unbuilt = _outcome(lambda: cassette._unbuilt_key((origin, method, target, fields, None), parts))
    general = _outcome(
        lambda: (
            _http11.check_fields(method, target, fields)
            or cassette.filters.request(
                _request_from_fields(method, target, fields, b"", origin, parts)
            )
        )
    )
    if isinstance(general, Exception):
        # Refused as build() refuses it, or left to build() (which then refuses it).
        assert unbuilt is None or (type(unbuilt), str(unbuilt)) == (type(general), str(general))
    elif unbuilt is None:
        assert general.uri != origin + target  # only a URI the filters change is left to build()
    else:
        assert unbuilt == cassette._key_of(general)


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except (ValueError, UnicodeEncodeError) as error:
        return error


@pytest.mark.parametrize(
    ("match_on", "options"),
    [
        (["method", "headers"], {}),
        (["method", "uri"], {}),
        (["method", lambda r1, r2: None], {}),
        (["method", "path"], {"filter_sensitive_data": {"<S>": "secret"}}),
    ],
)
def test_requests_whose_key_needs_more_are_always_built(
    tmp_path: Path, match_on: list[Any], options: dict[str, Any]
) -> None:
    cassette = _cassette(tmp_path, match_on, options)
    assert cassette._bare_key is None
    wire = ("http://h", "GET", "/a", (), None)
    assert cassette._unbuilt_key(wire, split_uri("http://h")) is None


def test_bare_keys_have_the_general_shape() -> None:
    """One view alone is a value, several a tuple; then the other keys, in order."""
    cassette = Cassette("unused.yaml", match_on=["query", "path", "body"])
    key_of = _bare_key_function(cassette._keyers)
    assert key_of is not None
    bare = ("GET", "http", "h", 80, "/p", "b=2&a=1")
    assert key_of(bare) == (
        "/p",
        (("a", "1"), ("b", "2")),
        cassette._key_of(Request("GET", "/"))[2],
    )


# -- against a loopback server: what a caller observes ---------------------------------------


@pytest.fixture(scope="module")
def origin() -> Iterator[KeepAliveServer]:
    with KeepAliveServer() as server:
        yield server


_SENT = [
    ("GET", "/json", {"Authorization": "Bearer secret"}),
    ("POST", "/echo", {"Content-Type": "application/x-www-form-urlencoded"}),
    ("GET", "/json?page=1&token=hidden", {}),
    ("GET", "/status/404", {"Cookie": "a=1"}),
    ("GET", "/json", {}),
    ("DELETE", "/json?page=2", {"X-Trace": "1"}),
]


def _run(
    cassette: Cassette, server: KeepAliveServer, sent: list[tuple[str, str, dict[str, str]]]
) -> list[tuple[int, bytes]]:
    seen = []
    with cassette, PoolManager() as http:
        for method, target, headers in sent:
            body = b"a=1" if method == "POST" else None
            response = http.request(method, server.url + target, body=body, headers=headers)
            seen.append((response.status, response.data))
    return seen


def _replay(path: Path, general: bool, **options: Any) -> Cassette:
    cassette = Cassette(path, record_mode="none", **options)
    if general:
        cassette._bare_key = None  # the general path for every request
    return cassette


@pytest.mark.parametrize("repeats", [False, True])
def test_replay_observed_as_through_the_general_path(
    origin: KeepAliveServer, tmp_path: Path, repeats: bool
) -> None:
    path = tmp_path / "c.yaml"
    recorded = _run(Cassette(path, record_mode="once"), origin, _SENT)
    sent = _SENT + _SENT[:2] if repeats else _SENT
    runs = {}
    for general in (False, True):
        cassette = _replay(path, general, allow_playback_repeats=repeats)
        seen = _run(cassette, origin, sent)
        assert seen[: len(_SENT)] == recorded
        runs[general] = (seen, cassette.requests, cassette.play_counts)
    assert runs[False] == runs[True]
    requests = runs[False][1]
    assert all(type(request) is Request for request in requests)
    assert [r.method for r in requests] == [method for method, _, _ in sent]
    assert requests[0].headers["Authorization"] == "<REDACTED>"
    assert "token=%3CREDACTED%3E" in requests[2].uri


def test_requests_read_midway_then_later_keep_their_order(
    origin: KeepAliveServer, tmp_path: Path
) -> None:
    path = tmp_path / "c.yaml"
    _run(Cassette(path, record_mode="once"), origin, _SENT)
    cassette = Cassette(path, record_mode="none")
    with cassette, PoolManager() as http:
        http.request("GET", origin.url + "/json", headers={"Authorization": "Bearer secret"})
        first = cassette.requests
        http.request("GET", origin.url + "/json")  # played unbuilt, after the read
        http.request("GET", origin.url + "/status/404")
        assert len(first) == 1  # a snapshot: not changed under its reader
    assert cassette.requests[:1] == first
    assert all(type(request) is Request for request in cassette.requests)
    assert [r.uri.removeprefix(origin.url) for r in cassette.requests] == [
        "/json",
        "/json",
        "/status/404",
    ]
    assert cassette.assert_requested("GET", origin.url + "/json", count=2)


@pytest.mark.parametrize("general", [False, True])
def test_miss_and_invalid_request_as_through_the_general_path(
    origin: KeepAliveServer, tmp_path: Path, general: bool
) -> None:
    path = tmp_path / "c.yaml"
    _run(Cassette(path, record_mode="once"), origin, _SENT[:1])
    cassette = _replay(path, general)
    with cassette, PoolManager() as http:
        with pytest.raises(ValueError, match="Invalid header value"):
            http.request("GET", origin.url + "/json", headers={"X-Bad": "a\r\nb"})
        assert cassette.requests == []
        http.request("GET", origin.url + "/json")
        with pytest.raises(UnmatchedRequestError) as missed:
            http.request("GET", origin.url + "/json")  # played already, no repeats
    assert "/json" in str(missed.value)
    assert cassette.play_counts == [1]
    assert [r.uri for r in cassette.requests] == [origin.url + "/json"] * 2


def test_new_episodes_records_what_the_unbuilt_path_misses(
    origin: KeepAliveServer, tmp_path: Path
) -> None:
    path = tmp_path / "c.yaml"
    _run(Cassette(path, record_mode="once"), origin, _SENT[:1])
    cassette = Cassette(path, record_mode="new_episodes")
    _run(cassette, origin, [_SENT[0], _SENT[4], ("GET", "/status/404", {})])
    stored = [
        (i.request.uri, i.request.headers.get("Authorization")) for i in cassette.interactions
    ]
    assert stored == [
        (origin.url + "/json", "<REDACTED>"),
        (origin.url + "/json", None),
        (origin.url + "/status/404", None),
    ]
    assert len(cassette.requests) == 3


# -- the default fields of a body-less request without headers --------------------------------


class _TruthyEmpty(dict[str, str]):
    """An empty header mapping that claims to hold something: forces the general path."""

    def __bool__(self) -> bool:
        return True


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["GET", "get", "HEAD", "DELETE", "OPTIONS", "POST", "PUT", "M-SEARCH"]),
    st.sampled_from(["/", "/x?y", "*", "http://proxy.test:81/a", "HTTP://u@h.test/", ""]),
    st.sampled_from([None, ("tunnel.test", 8443), ("::1", None)]),
)
def test_default_fields_are_the_general_fields_for_the_current_host(
    method: str, target: str, tunnel: tuple[str, int | None] | None
) -> None:
    conn = HTTPConnection("h.test", 8080)
    first = conn._prepare_fields(method, target, None, {}, False)
    if tunnel is not None:
        conn.set_tunnel(*tunnel)
    for _ in range(2):
        fast = conn._prepare_fields(method, target, None, {}, False)
        general = conn._prepare_fields(method, target, None, _TruthyEmpty(), False)
        assert (list(fast[0]), *fast[1:]) == (list(general[0]), *general[1:])
    if tunnel is None and isinstance(first[0], tuple):
        assert fast[0] is first[0]  # the same tuple again: check_fields knows it at once


def test_check_fields_knows_a_checked_tuple_by_identity_only() -> None:
    good = (("Host", "h.test"), ("X-Round", "5"))
    _http11.check_fields("GET", "/", good)  # checks each field, and remembers them
    _http11.check_fields("GET", "/", good)  # finds them all checked: remembers the tuple
    assert _http11._last_checked[0] is good
    equal_but_bad = (("Host", "h.test"), ("X-Round", "5\r\nX-Injected: 1"))
    with pytest.raises(ValueError, match="Invalid header value"):
        _http11.check_fields("GET", "/", equal_but_bad)
    assert _http11._last_checked[0] is good
    _http11.check_fields("GET", "/", list(good))  # a list is checked, never remembered as is
    assert _http11._last_checked[0] is good
