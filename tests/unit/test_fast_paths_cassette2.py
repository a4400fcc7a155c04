"""Fast paths of the cassette/connection layer (round 3) give exactly what the general code gives.

Covered: method and target checks that skip their regex for plain ASCII, ``check_fields`` for
fields all checked before, ``body_to_chunks`` for no body, a request target joined to its
origin's split parts, header values already text, ``Request._sent`` against the public
constructor, the index key's direct keyer calls and method-first views, filters whose checks
were reordered, and the clock's ``follows_replays`` flag. Each general path is a reference copy
of the former code (or the public API), and the results are compared.
"""

from __future__ import annotations

import http.client
import operator
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from support import call_outcome

from pooltest import _http11, matchers
from pooltest.cassette._cassette import _key_function, _views_reader
from pooltest.cassette._clock import Clock
from pooltest.cassette._connection import _request_from_fields, _text_pairs, _wire_text
from pooltest.cassette._filters import Filters
from pooltest.cassette._request import Request, split_uri, with_target
from pooltest.util.request import ChunksAndContentLength, body_to_chunks

_TEXT = st.lists(
    st.sampled_from([*"aZ09 !#-_~.%/?#:@\x00\x01\r\n\x7f\x80éĀ\t", "GET", "x y"]), max_size=12
).map("".join)


def _check_method_before(method: str) -> None:
    if _http11._TOKEN.fullmatch(method) is None:
        found = _http11._NON_TOKEN.search(method)
        raise ValueError(
            f"Method cannot contain non-token characters {method!r} "
            f"(found at least {found.group() if found else ''!r})"
        )


def _check_target_before(target: str) -> None:
    found = _http11._CTL_IN_TARGET.search(target)
    if found is not None:
        raise http.client.InvalidURL(
            f"URL can't contain control characters. {target!r} (found at least {found.group()!r})"
        )


@settings(max_examples=1500)
@given(_TEXT)
@example("")
@example("ÀB")
@example("GET")
def test_method_check_agrees_with_the_regex(method: str) -> None:
    assert call_outcome(_http11.check_method, method) == call_outcome(_check_method_before, method)


@settings(max_examples=1500)
@given(_TEXT)
@example("")
@example("/a b")
@example("/\x7f")
@example("/é")
def test_target_check_agrees_with_the_regex(target: str) -> None:
    assert call_outcome(_http11.check_target, target) == call_outcome(_check_target_before, target)


_FIELDS = st.lists(
    st.tuples(
        st.sampled_from(["Host", "X-A", "bad name", ""]),
        st.one_of(_TEXT, st.integers(0, 99), st.binary(max_size=4)),
    ),
    max_size=4,
)


@settings(max_examples=800)
@given(st.sampled_from(["GET", "P@T"]), _TEXT, _FIELDS)
def test_check_fields_agrees_with_encoding_however_often_and_in_whatever_container(
    method: str, target: str, fields: list[tuple[str, Any]]
) -> None:
    # Exception types: a Latin-1 error's message gives a position in what was encoded.
    expected = _kind(call_outcome(_http11.encode_request_head, method, target, fields))
    # Twice each: the second call may find every field checked already.
    for container in (tuple(fields), fields, tuple(fields), iter(fields)):
        assert _kind(call_outcome(_http11.check_fields, method, target, container)) == expected


def _kind(outcome: object) -> object:
    return outcome[0] if isinstance(outcome, tuple) else outcome


def test_check_fields_checks_an_iterator_it_was_given() -> None:
    fields = [("Host", "h.test"), ("X-New-Field-For-This-Test", "a\r\nb")]
    with pytest.raises(ValueError, match="Invalid header value"):
        _http11.check_fields("GET", "/", iter(fields))


@settings(max_examples=300)
@given(st.sampled_from(["GET", "get", "POST", "post", "HEAD", "PUT", "Delete", "PATCH", "x"]))
def test_no_body_answers_as_before(method: str) -> None:
    length = None if method.upper() in {"GET", "HEAD", "DELETE", "TRACE", "OPTIONS"} else 0
    assert body_to_chunks(None, method, 8192) == ChunksAndContentLength(None, length)


_ORIGINS = st.sampled_from(
    ["http://h.test", "https://H.test:8443", "http://[::1]:8080", "http://u@h.test:80"]
)
_TARGET_PIECES = st.lists(st.sampled_from([*"/ab?#=&%", "/x", "?q=1", "#f"]), max_size=8)


@settings(max_examples=1000)
@given(_ORIGINS, _TARGET_PIECES.map(lambda pieces: "/" + "".join(pieces)))
def test_target_joined_to_origin_parts_agrees_with_splitting_the_uri(
    origin: str, target: str
) -> None:
    joined = with_target(split_uri(origin), target)
    assert joined == split_uri(origin + target)
    assert type(joined) is type(split_uri(origin))


@settings(max_examples=500)
@given(st.lists(st.tuples(_TEXT, st.one_of(_TEXT, st.integers(), st.binary(max_size=4)))))
def test_text_pairs_agree_with_converting_every_value(fields: list[tuple[str, Any]]) -> None:
    expected = tuple((n, v if isinstance(v, str) else _wire_text(v)) for n, v in fields)
    assert _text_pairs(tuple(fields)) == expected
    assert _text_pairs(fields) == expected


@settings(max_examples=500)
@given(
    st.sampled_from(["GET", "POST"]),
    _ORIGINS,
    _TARGET_PIECES.map(lambda pieces: "/" + "".join(pieces)),
    st.binary(max_size=8),
)
def test_a_sent_request_equals_the_same_request_built_publicly(
    method: str, origin: str, target: str, body: bytes
) -> None:
    fields = (("Host", "h.test"), ("X-N", 5), ("X-B", b"\xe9"))
    sent = _request_from_fields(method, target, fields, body, origin, split_uri(origin))
    public = Request(
        method, origin + target, [("Host", "h.test"), ("X-N", "5"), ("X-B", "é")], body
    )
    assert sent == public
    assert hash(sent) == hash(public)
    for view in ("scheme", "host", "port", "path", "query_string", "fragment", "raw_headers"):
        assert getattr(sent, view) == getattr(public, view)
    assert sent.query_pairs() == public.query_pairs()
    assert sent._memo == {}
    assert sent._memo is not public._memo


class _SubRequest(Request):
    """A Request the key fast paths do not recognise: it takes the general path."""

    __slots__ = ()


_URIS = st.tuples(_ORIGINS, _TARGET_PIECES.map("".join)).map("".join)
_VIEW_LISTS = st.lists(st.sampled_from(["scheme", "host", "port", "path", "method"]), max_size=4)


@settings(max_examples=800)
@given(_URIS, _VIEW_LISTS)
def test_method_first_views_agree_with_attrgetter(uri: str, rest: list[str]) -> None:
    views = ["method", *rest]
    read = _views_reader(views)
    plain = Request("get", uri)
    assert read(plain) == operator.attrgetter(*views)(plain)
    assert read(_SubRequest("get", uri)) == read(plain)
    assert read(plain) == read(Request("get", uri))  # parts split already, or not yet


@settings(max_examples=500)
@given(_URIS, st.lists(st.sampled_from(["query", "body", "headers", "uri", "raw_body"])))
def test_keys_with_direct_keyer_calls_agree_with_the_general_key(
    uri: str, others: list[str]
) -> None:
    names = ["method", "host", *others]
    keyers = [matchers.COMPARISONS[name]._keyer for name in names]
    key_of = _key_function([k for k in keyers if k is not None])
    request = Request("POST", uri, (("Content-Type", "application/json"),), b'{"a": 1}')
    general = (
        ("POST", request.host),
        *[matchers.COMPARISONS[name].key(request) for name in others],
    )
    assert key_of(request) == general


def _filters(
    defaults: bool,
    headers: tuple[str, ...],
    query: tuple[str, ...],
    sensitive: dict[str, str] | None = None,
) -> Filters:
    """Filters with ``query`` naming query and post-data parameters alike."""
    return Filters.build(
        redact_defaults=defaults,
        filter_headers=headers,
        filter_query_parameters=query,
        filter_post_data_parameters=query,
        filter_sensitive_data=sensitive or {},
    )


@settings(max_examples=300)
@given(
    st.booleans(),
    st.sampled_from([(), ("x-secret-thing",)]),
    st.sampled_from([(), ("q",)]),
    st.sampled_from(["http://h.test/p", "http://h.test/p?q=1&token=2"]),
    st.sampled_from([b"", b"q=1&password=2"]),
)
def test_filters_still_apply_every_rule(
    defaults: bool, headers: tuple[str, ...], query: tuple[str, ...], uri: str, body: bytes
) -> None:
    filters = _filters(defaults, headers, query)
    form = ("Content-Type", "application/x-www-form-urlencoded")
    request = Request("POST", uri, (("X-Secret-Thing", "s"), form), body)
    for _ in range(2):  # the second time, the header tuple may be known to need no rule
        filtered = filters.request(request)
        assert ("X-Secret-Thing", "s") not in filtered.raw_headers or not (defaults or headers)
        assert ("q", "1") not in filtered.query_pairs() or not query
        assert ("token", "2") not in filtered.query_pairs() or not defaults
        assert b"password=2" not in filtered.body or not defaults


def test_the_clock_follows_replays_only_while_pinned_to_recordings() -> None:
    import datetime as dt

    instant = dt.datetime(2020, 1, 2, tzinfo=dt.timezone.utc)
    following = Clock(True)
    assert not following.follows_replays
    following.start(instant)
    try:
        assert following.follows_replays
        following.replaying(dt.datetime(2021, 5, 6, tzinfo=dt.timezone.utc))
        assert dt.datetime.now(dt.timezone.utc).year == 2021
    finally:
        following.stop()
    assert not following.follows_replays
    fixed = Clock("2019-03-04T00:00:00")
    fixed.start(instant)
    try:
        assert not fixed.follows_replays
    finally:
        fixed.stop()
    unpinned = Clock(False)
    unpinned.start(instant)
    assert not unpinned.follows_replays


@settings(max_examples=300)
@given(
    st.booleans(),
    st.sampled_from([(), ("x-secret-thing",), ("x-other",)]),
    st.sampled_from([(), ("q",), ("absent",)]),
    st.sampled_from([{}, {"<S>": "s"}]),
    st.sampled_from(["http://h.test/p", "http://h.test/p?q=1", "http://h.test/p?token=2&a=s"]),
    st.sampled_from([(), (("X-Secret-Thing", "s"),), (("Authorization", "t"),), (("X-A", "1"),)]),
    st.sampled_from([b"", b"q=1", b"plain text"]),
)
def test_filters_leave_alone_only_what_request_returns_unchanged(
    defaults: bool,
    headers: tuple[str, ...],
    query: tuple[str, ...],
    sensitive: dict[str, str],
    uri: str,
    raw: tuple[tuple[str, str], ...],
    body: bytes,
) -> None:
    filters = _filters(defaults, headers, query, sensitive)
    request = Request._sent("GET", uri, raw, body)
    for _ in range(2):  # the second time, the header tuple may be known to need no rule
        if filters.leave_alone(uri, raw, body):
            assert filters.request(request) is request
