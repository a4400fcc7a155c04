"""Fast paths on the request hot path give exactly what the general code gives.

Each fast path handles only the inputs it recognises and hands everything else to the general
code; these properties feed both with inputs built from the characters that matter (delimiters,
dot segments, ports out of range, upper case, non-ASCII) and compare the results.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pooltest import _http11
from pooltest.cassette import _request
from pooltest.cassette._model import Response
from pooltest.exceptions import LocationParseError
from pooltest.util import url as url_module

_PIECES = st.sampled_from(
    [*"abAZ09.-_~:/?#@%!$&'()*+,;=[] é", "/.", "/..", "..", ":65536", ":0080", ":", "//"]
)
_TAILS = st.lists(_PIECES, max_size=14).map("".join)
_PREFIXES = st.sampled_from(["http://", "https://", "HTTP://", "", "ftp://", "http:"])


def _general_parse(url: str) -> url_module.Url | None:
    """parse_url without its fast path (None when it raises)."""
    saved = url_module._parse_plain_url
    url_module._parse_plain_url = lambda url: None
    try:
        return url_module.parse_url(url)
    except LocationParseError:
        return None
    finally:
        url_module._parse_plain_url = saved


@settings(max_examples=3000)
@given(_PREFIXES, _TAILS)
def test_plain_url_fast_path_agrees_with_the_general_parser(prefix: str, tail: str) -> None:
    url = prefix + tail
    plain = url_module._parse_plain_url(url)
    if plain is not None:
        assert plain == _general_parse(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/item/000123",
        "https://api.example.test/a/b?x=1&y=2",
        "http://localhost",
        "http://h.test?q",
        "http://h.test:0080/",
    ],
)
def test_plain_urls_take_the_fast_path(url: str) -> None:
    assert url_module._parse_plain_url(url) == _general_parse(url)
    assert url_module._parse_plain_url(url) is not None


@pytest.mark.parametrize(
    "url", ["HTTP://h/", "http://H/", "http://h/a/../b", "http://h:99999/", "http://u@h/"]
)
def test_other_urls_take_the_general_path(url: str) -> None:
    assert url_module._parse_plain_url(url) is None


@settings(max_examples=3000)
@given(_PREFIXES, _TAILS)
def test_split_uri_fast_path_agrees_with_the_rfc3986_regex(prefix: str, tail: str) -> None:
    uri = prefix + tail
    assert _request.split_uri(uri) == _request._split_any_uri(uri)


@settings(max_examples=3000)
@given(
    st.sampled_from(["http://127.0.0.1:8080", "https://h", "http://[::1]:80", "http://u@H:0080"]),
    _TAILS.map(lambda tail: "/" + tail),
)
def test_target_joined_to_split_origin_equals_split_of_the_whole(origin: str, target: str) -> None:
    whole = _request.split_uri(origin + target)
    assert _request.with_target(_request.split_uri(origin), target) == whole


_FIELD_VALUES = st.one_of(
    st.text(st.sampled_from(list("ab \t:\r\n\x00\x7fé€")), max_size=6),
    st.binary(max_size=4),
    st.integers(-5, 5),
)
_FIELD_NAMES = st.text(st.sampled_from(list("Ab-_:; \r\n\x00é")), max_size=6)


def _outcome(check: Callable[..., object], *args: object) -> str:
    try:
        check(*args)
    except Exception as e:
        return type(e).__name__
    return "ok"


@settings(max_examples=3000)
@example("GET", "/", [("A", "\u20ac"), ("", "")])  # a bad name after a non-Latin-1 value
@given(
    st.sampled_from(["GET", "POST", "G T", "GET\r\n", ""]),
    st.sampled_from(["/", "/a?b", "/a b", "/\x00", "/\u20ac"]),
    st.lists(st.tuples(_FIELD_NAMES, _FIELD_VALUES), max_size=4),
)
def test_check_fields_accepts_and_refuses_what_encoding_does(
    method: str, target: str, fields: list[tuple[str, str | bytes | int]]
) -> None:
    """Checked fields are remembered: asking twice must not change the answer."""
    expected = _outcome(_http11.encode_request_head, method, target, fields)
    assert _outcome(_http11.check_fields, method, target, fields) == expected
    assert _outcome(_http11.check_fields, method, target, fields) == expected


def _encoded(method: str, target: str, fields: object) -> object:
    try:
        return _http11.encode_request_head(method, target, fields)  # type: ignore[arg-type]
    except Exception as e:
        return type(e).__name__


@settings(max_examples=1000)
@given(
    st.sampled_from(["GET", "POST", "G T"]),
    st.sampled_from(["/", "/a?b", "/a b", "/\u20ac"]),
    st.lists(st.tuples(_FIELD_NAMES, _FIELD_VALUES), max_size=4),
)
def test_encoding_remembered_fields_gives_the_same_head(
    method: str, target: str, fields: list[tuple[str, str | bytes | int]]
) -> None:
    """Fields a head was encoded with are remembered as checked; encoding them again, as a
    list or a tuple, gives the same bytes (or the same error)."""
    _http11._CHECKED_FIELDS.clear()
    _http11._last_checked[0] = None
    first = _encoded(method, target, fields)
    assert _encoded(method, target, fields) == first
    assert _encoded(method, target, tuple(fields)) == first
    assert _encoded(method, target, tuple(fields)) == first  # known by identity now


_HEADER_NAMES = st.sampled_from(
    [
        "Content-Length",
        "content-length",
        "Transfer-Encoding",
        "TRANSFER-ENCODING",
        "X-Long-Name-17",
        "X-Content-Length",
        "Date",
    ]
)
_HEADER_VALUES = st.sampled_from(
    [
        "0",
        "3",
        "5",
        " 3 ",
        "chunked",
        "gzip, chunked",
        "gzip",
        "x",
        "content-length: 3",
        "5\r\nContent-Length: 3",
    ]
)


@settings(max_examples=3000)
@given(
    st.sampled_from([100, 200, 204, 304, 404]),
    st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=4),
    st.sampled_from([b"", b"abc", b"hello"]),
    st.sampled_from(["GET", "HEAD", "POST"]),
)
def test_replay_wire_is_for_replay_then_wire_bytes(
    status: int, headers: list[tuple[str, str]], body: bytes, method: str
) -> None:
    response = Response(status, "Some Reason", tuple(headers), body)
    assert response.replay_wire(method) == response.for_replay(method).wire_bytes()
