"""Tests for pooltest.matchers: named comparisons, their keys, predicate matchers, explain()."""

from __future__ import annotations

import hashlib
import json
import re
import typing
from collections.abc import Callable, Hashable
from urllib.parse import urlencode

import pytest
import urllib3.filepost
import vcr.matchers  # type: ignore[import-untyped]
import vcr.request  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from pooltest import matchers as m
from pooltest.cassette._request import Request
from pooltest.filepost import encode_multipart_formdata
from pooltest.matchers import COMPARISONS, MISSING, Difference, explain

JSON = "application/json"
URLENCODED = "application/x-www-form-urlencoded"


def _json(value: object, uri: str = "http://h/", **dumps: typing.Any) -> Request:
    return Request("POST", uri, [("Content-Type", JSON)], json.dumps(value, **dumps))


def _form(pairs: list[tuple[str, str]]) -> Request:
    return Request("POST", "http://h/", [("Content-Type", URLENCODED)], urlencode(pairs))


def _multipart(fields: typing.Any, encoder: str = "pooltest") -> Request:
    if encoder == "requests":
        requests = pytest.importorskip("requests")
        data = [(n, v) for n, v in fields if not isinstance(v, tuple)]
        files = [(n, v) for n, v in fields if isinstance(v, tuple)]
        prepared = requests.Request("POST", "http://h/", data=data, files=files).prepare()
        return Request("POST", "http://h/", dict(prepared.headers), prepared.body)
    encode = (
        encode_multipart_formdata
        if encoder == "pooltest"
        else urllib3.filepost.encode_multipart_formdata
    )
    body, content_type = encode(fields)
    return Request("POST", "http://h/", [("Content-Type", content_type)], body)


def _diff(name: str, live: Request, recorded: Request) -> list[Difference]:
    comparison = COMPARISONS[name]
    differences = comparison.differences(live, recorded)
    # The invariant every named comparison keeps, checked on every example in this file.
    assert (differences == []) == (comparison.key(live) == comparison.key(recorded))
    return differences


# -- Difference and explain -----------------------------------------------------------------------


def test_difference_is_a_named_tuple() -> None:
    difference = Difference("method", "GET", "POST")
    assert difference.field == "method"
    assert (difference.actual, difference.expected) == ("GET", "POST")
    assert tuple(difference) == ("method", "GET", "POST")
    assert repr(MISSING) == "<missing>"


def test_explain_renders_an_aligned_table() -> None:
    text = explain(
        [
            Difference("json.items[2].id", 3, 4),
            Difference("headers['X-Id']", "abc", MISSING),
            Difference("method", "GET", "POST"),
        ]
    )
    assert text.splitlines() == [
        "field             actual  expected",
        "json.items[2].id  3       4",
        "headers['X-Id']   'abc'   <missing>",
        "method            'GET'   'POST'",
    ]


def test_explain_without_differences() -> None:
    assert explain([]) == "(no differences)"


def test_explain_keeps_long_values_on_one_line() -> None:
    text = explain([Difference("f" * 60, "v" * 70, 1), Difference("g", 2, 3)])
    lines = text.splitlines()
    assert len(lines) == 3
    assert lines[1].startswith("f" * 60 + "  'vvv")
    assert lines[2].startswith("g" + " " * 39 + "  2")


# -- named comparisons ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "live", "recorded", "expected"),
    [
        ("method", Request("GET", "http://h/"), Request("get", "http://h/"), []),
        (
            "method",
            Request("GET", "http://h/"),
            Request("POST", "http://h/"),
            [Difference("method", "GET", "POST")],
        ),
        ("scheme", Request("GET", "HTTP://h/"), Request("GET", "http://x/"), []),
        (
            "scheme",
            Request("GET", "http://h/"),
            Request("GET", "https://h/"),
            [Difference("scheme", "http", "https")],
        ),
        ("host", Request("GET", "http://H.example/"), Request("GET", "https://h.example:1/"), []),
        ("host", Request("GET", "http://[::1]/"), Request("GET", "http://[::1]:8/"), []),
        (
            "host",
            Request("GET", "http://a/"),
            Request("GET", "http://b/"),
            [Difference("host", "a", "b")],
        ),
        ("port", Request("GET", "http://h/"), Request("GET", "http://x:80/"), []),
        ("port", Request("GET", "https://h/"), Request("GET", "http://x:443/"), []),
        (
            "port",
            Request("GET", "http://h/"),
            Request("GET", "https://h/"),
            [Difference("port", 80, 443)],
        ),
        ("path", Request("GET", "http://h"), Request("GET", "http://x/?q"), []),
        (
            "path",
            Request("GET", "http://h/a%2Fb"),
            Request("GET", "http://h/a/b"),
            [Difference("path", "/a%2Fb", "/a/b")],
        ),
        (
            "query",
            Request("GET", "http://h/?a=1&b=2&a=3"),
            Request("GET", "http://x/?b=2&a=3&a=1"),
            [],
        ),
        ("query", Request("GET", "http://h/?a=%41"), Request("GET", "http://h/?a=A"), []),
        (
            "query",
            Request("GET", "http://h/?a=1&a=1&page=2"),
            Request("GET", "http://h/?a=1&page=3&x="),
            [
                Difference("query['a']", ["1", "1"], "1"),
                Difference("query['page']", "2", "3"),
                Difference("query['x']", MISSING, ""),
            ],
        ),
        (
            "headers",
            Request("GET", "http://h/", [("X-A", "1"), ("Accept", "*/*"), ("x-a", "2")]),
            Request("GET", "http://h/", [("accept", "*/*"), ("x-A", "2"), ("X-A", "1")]),
            [],
        ),
        (
            "headers",
            Request("GET", "http://h/", [("X-Id", "1"), ("X-Id", "1")]),
            Request("GET", "http://h/", [("x-id", "1"), ("Accept", "*/*")]),
            [
                Difference("headers['X-Id']", ["1", "1"], "1"),
                Difference("headers['Accept']", MISSING, "*/*"),
            ],
        ),
        (
            "raw_body",
            Request("POST", "http://h/", (), b"x"),
            Request("PUT", "http://x/", (), "x"),
            [],
        ),
        (
            "raw_body",
            Request("POST", "http://h/", (), b"\xff"),
            Request("POST", "http://h/", (), b"ok"),
            [Difference("raw_body", b"\xff", "ok")],
        ),
    ],
)
def test_named_comparison(
    name: str, live: Request, recorded: Request, expected: list[Difference]
) -> None:
    assert _diff(name, live, recorded) == expected


@pytest.mark.parametrize(
    ("live", "recorded", "same"),
    [
        ("http://h/p?q=1", "HTTP://H:80/p?q=1", True),
        ("https://h:443/p", "https://h/p", True),
        ("http://h", "http://h/", True),
        ("http://user:pw@h/", "http://h/", True),
        ("http://[::1]:80/", "http://[::1]/", True),
        ("http://h/p?a=1&b=2", "http://h/p?b=2&a=1", False),
        ("http://h/p#a", "http://h/p#b", False),
        ("http://h:8080/", "http://h/", False),
        ("http://h/P", "http://h/p", False),
        ("http://h/%7e", "http://h/~", False),
        ("/relative", "/relative", True),
        ("/relative", "/Relative", False),
    ],
)
def test_uri_comparison(live: str, recorded: str, same: bool) -> None:
    differences = _diff("uri", Request("GET", live), Request("GET", recorded))
    assert differences == ([] if same else [Difference("uri", live, recorded)])


# -- the body, by meaning -------------------------------------------------------------------------


def test_json_bodies_compare_by_value() -> None:
    value = {"b": [1, {"x": None}], "a": "é"}
    reformatted = _json(dict(reversed(value.items())), indent=4, ensure_ascii=False)
    assert _diff("body", _json(value), reformatted) == []
    assert _diff("raw_body", _json(value), reformatted) != []
    vendor = Request("POST", "http://h/", [("Content-Type", "application/vnd.x+json")], "[1]")
    assert _diff("body", vendor, _json([1.0])) == []


def test_json_differences_are_per_path() -> None:
    live = _json({"items": [{"id": 1}, {"id": 2}, {"id": 3}], "a b": True, "n": 1, "extra": 0})
    recorded = _json({"items": [{"id": 1}, {"id": 2}, {"id": 4}, {}], "a b": 1, "n": "1"})
    assert _diff("body", live, recorded) == [
        Difference("json.items[2].id", 3, 4),
        Difference("json.items[3]", MISSING, m._Shown("{}")),
        Difference("json['a b']", True, 1),
        Difference("json.n", 1, "1"),
        Difference("json.extra", 0, MISSING),
    ]


def test_json_container_versus_scalar() -> None:
    assert _diff("body", _json({"a": [1]}), _json({"a": {"0": 1}})) == [
        Difference("json.a", m._Shown("[1]"), m._Shown('{"0":1}'))
    ]
    assert _diff("body", _json([]), _json(None)) == [Difference("json", m._Shown("[]"), None)]


def test_json_large_values_are_cut() -> None:
    differences = _diff("body", _json({"s": "x" * 5000}), _json({"s": "y"}))
    assert len(differences) == 1
    shown = differences[0].actual
    assert isinstance(shown, str)
    assert len(shown) < 120
    assert "(5000 chars)" in shown


def test_invalid_or_too_deep_json_is_compared_raw() -> None:
    bad = Request("POST", "http://h/", [("Content-Type", JSON)], b"{bad")
    assert _diff("body", bad, bad) == []
    assert _diff("body", bad, Request("POST", "http://h/", [("Content-Type", JSON)], b"{bad ")) == [
        Difference("body", "{bad", "{bad ")
    ]
    deep = "[" * 150 + "]" * 150
    deep_live = Request("POST", "http://h/", [("Content-Type", JSON)], deep)
    deep_spaced = Request("POST", "http://h/", [("Content-Type", JSON)], deep + " ")
    assert (
        _diff("body", deep_live, Request("POST", "http://x/", [("Content-Type", JSON)], deep)) == []
    )
    assert len(_diff("body", deep_live, deep_spaced)) == 1


def test_bodies_read_differently_differ() -> None:
    text = Request("POST", "http://h/", [("Content-Type", "text/plain")], b'{"a": 1}')
    differences = _diff("body", _json({"a": 1}), text)
    assert differences == [
        Difference("body", m._Shown("<JSON body (application/json), 8 bytes>"), '{"a": 1}')
    ]


def test_json_body_without_content_type_is_raw() -> None:
    plain = Request("POST", "http://h/", (), b'{"a": 1}')
    assert _diff("body", plain, Request("POST", "http://h/", (), b'{"a": 1}')) == []
    assert _diff("body", plain, Request("POST", "http://h/", (), b'{"a":1}')) != []


def test_form_bodies_compare_as_multi_valued_fields() -> None:
    """Field order is free; the order of a field's repeated values counts (issue 3)."""
    assert (
        _diff(
            "body",
            _form([("a", "1"), ("b", "2"), ("a", "3")]),
            _form([("b", "2"), ("a", "1"), ("a", "3")]),
        )
        == []
    )
    assert _diff(
        "body",
        _form([("a", "1"), ("b", "2"), ("a", "3")]),
        _form([("a", "3"), ("b", "2"), ("a", "1")]),
    ) == [Difference("form['a']", ["1", "3"], ["3", "1"])]
    encoded = Request("POST", "http://h/", [("Content-Type", URLENCODED)], b"a=%31&b=2&a=3")
    assert _diff("body", encoded, _form([("b", "2"), ("a", "1"), ("a", "3")])) == []
    assert _diff("body", _form([("tag", "a"), ("tag", "b"), ("x", "")]), _form([("tag", "a")])) == [
        Difference("form['tag']", ["a", "b"], "a"),
        Difference("form['x']", "", MISSING),
    ]


def test_undecodable_form_is_compared_raw() -> None:
    broken = Request("POST", "http://h/", [("Content-Type", URLENCODED)], b"a=\xff")
    assert _diff("body", broken, broken) == []
    assert _diff("body", broken, _form([("a", "\ufffd")])) != []


MULTIPART_FIELDS: list[tuple[str, typing.Any]] = [
    ("title", "Hello"),
    ("doc", ("report.pdf", b"%PDF-1.4\r\n--x\r\n\x00", "application/pdf")),
    ("tag", "a"),
    ("tag", "b"),
]


@pytest.mark.parametrize("other", ["pooltest", "urllib3", "requests"])
def test_multipart_bodies_ignore_the_boundary(other: str) -> None:
    live = _multipart(MULTIPART_FIELDS)
    recorded = _multipart(MULTIPART_FIELDS, other)
    assert live.body != recorded.body
    assert _diff("body", live, recorded) == []


def test_multipart_order_between_names_is_ignored_within_a_name_kept() -> None:
    live = _multipart(MULTIPART_FIELDS)
    shuffled = _multipart([MULTIPART_FIELDS[i] for i in (2, 3, 1, 0)])
    assert _diff("body", live, shuffled) == []
    swapped = _multipart([MULTIPART_FIELDS[i] for i in (0, 1, 3, 2)])
    assert _diff("body", live, swapped) == [
        Difference("form['tag'][0]", "a", "b"),
        Difference("form['tag'][1]", "b", "a"),
    ]


def test_multipart_differences_are_per_part() -> None:
    live = _multipart(MULTIPART_FIELDS)
    recorded = _multipart(
        [
            ("title", "Bye"),
            ("doc", ("old.pdf", b"%PDF-1.3", "application/x-pdf")),
            ("tag", "a"),
            ("new", ("n.txt", b"12345", "text/plain")),
        ]
    )
    assert _diff("body", live, recorded) == [
        Difference("form['title']", "Hello", "Bye"),
        Difference("files['doc'].filename", "report.pdf", "old.pdf"),
        Difference("files['doc'].content_type", "application/pdf", "application/x-pdf"),
        Difference("files['doc'].data", b"%PDF-1.4\r\n--x\r\n\x00", b"%PDF-1.3"),
        Difference("form['tag'][1]", "b", MISSING),
        Difference("files['new']", MISSING, m._Shown("<file 'n.txt', 5 bytes>")),
    ]


def test_large_file_data_is_summarised_by_size_and_hash() -> None:
    big = bytes(1024 * 1024)
    live = _multipart([("doc", ("a.bin", big, "application/octet-stream"))])
    recorded = _multipart([("doc", ("a.bin", b"x" + big[1:], "application/octet-stream"))])
    (difference,) = _diff("body", live, recorded)
    assert difference.field == "files['doc'].data"
    digest = hashlib.sha256(big).hexdigest()[:12]
    assert repr(difference.actual) == f"<1048576 bytes sha256:{digest}..>"
    assert str(difference.actual) in explain([difference])
    (raw,) = _diff("raw_body", live, recorded)
    assert str(raw.actual).startswith(f"<{len(live.body)} bytes sha256:")


def test_truncated_multipart_is_compared_raw() -> None:
    whole = _multipart(MULTIPART_FIELDS)
    cut = Request("POST", "http://h/", whole.raw_headers, whole.body[:-10])
    assert _diff("body", cut, cut) == []
    (difference,) = _diff("body", whole, cut)
    assert difference.field == "body"
    assert "multipart" in str(difference.actual)


def test_other_bodies_compare_raw() -> None:
    a = Request("POST", "http://h/", [("Content-Type", "text/plain")], b"hello")
    b = Request("POST", "http://h/", [("Content-Type", "text/html")], b"hello")
    assert _diff("body", a, b) == []
    assert _diff("body", a, Request("POST", "http://h/", (), b"bye")) == [
        Difference("body", "hello", "bye")
    ]


def test_keys_are_cached_per_request() -> None:
    request = Request("GET", "http://h/?b=1&a=2", [("X", "1")])
    for name in ("query", "headers", "body", "uri"):
        assert COMPARISONS[name].key(request) is COMPARISONS[name].key(request)
    assert COMPARISONS["query"].key(request) == (("a", "2"), ("b", "1"))


def test_keys_index_a_dict() -> None:
    names = ("method", "scheme", "host", "port", "path", "query", "body")
    recorded = [Request("GET", f"http://h/item/{i}?page={i % 7}") for i in range(500)]
    index: dict[tuple[Hashable, ...], list[int]] = {}
    for position, request in enumerate(recorded):
        key = tuple(COMPARISONS[n].key(request) for n in names)
        index.setdefault(key, []).append(position)
    live = Request("get", "HTTP://H:80/item/123?page=4")
    assert index[tuple(COMPARISONS[n].key(live) for n in names)] == [123]


# -- the invariant, on generated requests ---------------------------------------------------------

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.sampled_from([0, 1, 1.0, -0.0, 2.5]),
        st.sampled_from(["", "a", "1"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("abc"), inner, max_size=3)
    ),
    max_leaves=8,
)
pairs = st.lists(st.tuples(st.sampled_from("ab"), st.sampled_from(["", "1", "é"])), max_size=4)
part_values = st.one_of(
    st.sampled_from(["x", "y"]),
    st.tuples(
        st.sampled_from(["f.txt", "g.bin"]),
        st.sampled_from([b"", b"\x00", b"--"]),
        st.sampled_from(["text/plain", "image/png"]),
    ),
)
part_lists = st.lists(st.tuples(st.sampled_from("ab"), part_values), max_size=3)


@st.composite
def bodies(draw: st.DrawFn) -> tuple[list[tuple[str, str]], bytes]:
    kind = draw(st.sampled_from(["json", "form", "multipart", "raw", "broken"]))
    if kind == "json":
        content_type = draw(st.sampled_from([JSON, "application/ld+json"]))
        text = json.dumps(
            draw(json_values),
            indent=draw(st.sampled_from([None, 1])),
            sort_keys=draw(st.booleans()),
        )
        return [("Content-Type", content_type)], text.encode()
    if kind == "form":
        return [("Content-Type", URLENCODED)], urlencode(
            draw(st.permutations(draw(pairs)))
        ).encode()
    if kind == "multipart":
        encoder: typing.Any = draw(
            st.sampled_from([encode_multipart_formdata, urllib3.filepost.encode_multipart_formdata])
        )
        body, content_type = encoder(draw(part_lists), boundary=draw(st.sampled_from(["B", "C"])))
        return [("Content-Type", content_type)], body
    if kind == "raw":
        headers = draw(st.sampled_from([[], [("Content-Type", "text/plain")]]))
        return headers, draw(st.sampled_from([b"", b"1", b"[1]", b"x"]))
    return [
        (
            "Content-Type",
            draw(st.sampled_from([JSON, URLENCODED, "multipart/form-data; boundary=B"])),
        )
    ], draw(st.sampled_from([b"{", b"\xff", b"--B\r\n"]))


@st.composite
def requests_(draw: st.DrawFn) -> Request:
    uri = "".join(
        [
            draw(st.sampled_from(["http", "HTTP", "https"])),
            "://",
            draw(st.sampled_from(["h", "H", "[::1]", "u@h"])),
            draw(st.sampled_from(["", ":80", ":443", ":8080"])),
            draw(st.sampled_from(["", "/", "/a", "/A", "/a%2F"])),
            draw(st.sampled_from(["", "?", "?a=1", "?a=%31", "?b=&a=1", "?a=1&b="])),
            draw(st.sampled_from(["", "#f"])),
        ]
    )
    headers = draw(
        st.lists(st.tuples(st.sampled_from(["X-A", "x-a", "B"]), st.sampled_from("12")), max_size=3)
    )
    body_headers, body = draw(bodies())
    return Request(draw(st.sampled_from(["GET", "get", "POST"])), uri, headers + body_headers, body)


@settings(max_examples=400, deadline=None)
@given(requests_(), st.data())
def test_differences_are_empty_exactly_when_keys_are_equal(
    live: Request, data: st.DataObject
) -> None:
    recorded = data.draw(st.one_of(st.just(live), requests_()))
    for name, comparison in COMPARISONS.items():
        differences = comparison.differences(live, recorded)
        same_key = comparison.key(live) == comparison.key(recorded)
        assert (differences == []) == same_key, (name, differences)
        assert (comparison.differences(recorded, live) == []) == same_key, name
        hash(comparison.key(live))


@settings(max_examples=200, deadline=None)
@given(json_values, st.booleans(), st.sampled_from([None, 2]))
def test_reencoded_json_has_the_same_body_key(
    value: object, sort: bool, indent: int | None
) -> None:
    live = _json(value)
    assert _diff("body", live, _json(value, sort_keys=sort, indent=indent)) == []


@settings(max_examples=200, deadline=None)
@given(part_lists, st.sampled_from(["pooltest", "urllib3"]))
def test_reencoded_multipart_has_the_same_body_key(
    fields: list[tuple[str, typing.Any]], encoder: str
) -> None:
    assert _diff("body", _multipart(fields), _multipart(fields, encoder)) == []


# -- vcrpy interoperability -----------------------------------------------------------------------


def _vcr(request: Request) -> vcr.request.Request:
    return vcr.request.Request(request.method, request.uri, request.body, dict(request.raw_headers))


def _vcr_matches(function: Callable[..., object], a: Request, b: Request) -> bool:
    try:
        return function(_vcr(a), _vcr(b)) is None
    except AssertionError:
        return False


@pytest.mark.parametrize("name", ["method", "scheme", "host", "port", "path", "query"])
@pytest.mark.parametrize(
    ("live", "recorded"),
    [
        ("http://h/p?a=1&b=2", "http://h/p?b=2&a=1"),
        ("http://h/p", "https://h/p"),
        ("http://H/p", "http://h:80/p"),
        ("http://h", "http://h/"),
        ("http://h:8080/p", "http://h/p"),
        ("https://h/a/b", "https://h/a/c?a=%31"),
        ("http://[::1]/", "http://[::1]:81/"),
    ],
)
def test_named_comparisons_agree_with_vcrpy(name: str, live: str, recorded: str) -> None:
    a, b = Request("GET", live), Request("GET" if recorded.endswith("/") else "POST", recorded)
    ours = COMPARISONS[name].differences(a, b) == []
    assert ours == _vcr_matches(getattr(vcr.matchers, name), a, b)


def test_deviations_from_vcrpy_are_deliberate() -> None:
    # vcrpy drops blank query values; they are part of the request, so they count here.
    a, b = Request("GET", "http://h/?a=1&b="), Request("GET", "http://h/?a=1")
    assert _vcr_matches(vcr.matchers.query, a, b)
    assert _diff("query", a, b) == [Difference("query['b']", "", MISSING)]
    # vcrpy's uri compares the text; here case of scheme/host and a default port do not matter.
    a, b = Request("GET", "HTTP://H:80/"), Request("GET", "http://h/")
    assert not _vcr_matches(vcr.matchers.uri, a, b)
    assert _diff("uri", a, b) == []


def test_comparisons_are_vcrpy_matchers() -> None:
    a, b = Request("GET", "http://h/x"), Request("POST", "http://h/x")
    matchers = [COMPARISONS["method"], COMPARISONS["path"]]
    assert vcr.matchers.requests_match(a, a, matchers)
    assert not vcr.matchers.requests_match(a, b, matchers)
    _, failures = vcr.matchers.get_matchers_results(a, b, matchers)
    assert failures == [("method", explain([Difference("method", "GET", "POST")]))]
    with pytest.raises(AssertionError, match="'GET'"):
        COMPARISONS["method"](a, b)
    assert COMPARISONS["path"](a, b) is None


# -- as_comparison --------------------------------------------------------------------------------


def test_as_comparison_names_and_objects() -> None:
    assert m.as_comparison("body") is COMPARISONS["body"]
    custom = m.Comparison("len", lambda a, b: [], key=lambda r: len(r.body))
    assert m.as_comparison(custom) is custom
    assert custom.indexable
    assert custom.key(Request("POST", "http://h/", (), b"abc")) == 3
    with pytest.raises(ValueError, match="Unknown comparison 'nope'; known: method, uri"):
        m.as_comparison("nope")
    with pytest.raises(TypeError, match="Cannot compare requests with 42"):
        m.as_comparison(42)
    assert repr(COMPARISONS["uri"]) == "<Comparison uri>"
    assert COMPARISONS["uri"].__name__ == "uri"


def test_as_comparison_wraps_vcrpy_callables() -> None:
    a, b = _json({"a": 1}), _json({"a": 2})

    def same_body_length(r1: Request, r2: Request) -> bool:
        return len(r1.body) == len(r2.body)

    def asserting(r1: Request, r2: Request) -> None:
        assert r1.json == r2.json, "json differs"

    for function in (same_body_length, asserting, vcr.matchers.body, vcr.matchers.method):
        comparison = m.as_comparison(function)
        assert not comparison.indexable
        assert comparison.key(a) is None
        assert comparison.differences(a, a) == []
    assert m.as_comparison(same_body_length).differences(a, _json({"a": 10})) == [
        Difference("same_body_length", m._Shown("returned False"), m._Shown("match"))
    ]
    (difference,) = m.as_comparison(asserting).differences(a, b)
    assert difference.field == "asserting"
    assert "json differs" in str(difference.actual)
    assert m.as_comparison(vcr.matchers.body).differences(a, b)[0].field == "body"
    assert m.as_comparison(vcr.matchers.method).differences(a, b) == []


def test_as_comparison_wraps_predicate_matchers() -> None:
    matcher = m.json_params_matcher({"a": 1})
    comparison = m.as_comparison(matcher)
    assert not comparison.indexable
    assert comparison.key(_json({"a": 1})) is None
    assert comparison.differences(_json({"a": 1}), _json({"a": 2})) == []
    assert comparison.differences(_json({"a": 2}), _json({"a": 1})) == [Difference("json.a", 2, 1)]
    assert comparison.name == "json_params_matcher({'a': 1}, strict_match=True)"


# -- predicate matchers ---------------------------------------------------------------------------


def test_json_params_matcher() -> None:
    request = _json({"id": 1, "items": [{"n": "a", "x": 1}], "meta": {"v": 2, "w": 3}})
    assert m.json_params_matcher(
        {"meta": {"w": 3, "v": 2}, "items": [{"x": 1, "n": "a"}], "id": 1}
    )(request) == (True, "")
    ok, reason = m.json_params_matcher({"id": 1})(request)
    assert not ok
    assert reason.startswith("request.body doesn't match:\nfield")
    assert "json.items" in reason
    loose = m.json_params_matcher(
        {"meta": {"v": 2}, "items": [{"n": "a", "x": 1}]}, strict_match=False
    )
    assert loose(request) == (True, "")
    assert m.json_params_matcher({"meta": {"v": 3}}, strict_match=False).differences(request) == [
        Difference("json.meta.v", 2, 3)
    ]
    assert m.json_params_matcher(None)(Request("POST", "http://h/")) == (True, "")
    assert m.json_params_matcher({"t": (1, 2)})(_json({"t": [1, 2]}))[0]
    assert m.json_params_matcher([1, 2])(_json([1, 2]))[0]
    assert m.json_params_matcher({"a": 1}).differences(Request("POST", "http://h/", (), b"{")) == [
        Difference("json", m._Shown("<not JSON: JSONDecodeError>"), m._Shown('{"a":1}'))
    ]


def test_json_params_matcher_reads_gzip_bodies() -> None:
    import gzip

    request = Request(
        "POST", "http://h/", [("Content-Encoding", "gzip")], gzip.compress(b'{"a": 1}')
    )
    assert m.json_params_matcher({"a": 1})(request) == (True, "")
    assert not m.json_params_matcher({"a": 1})(Request("POST", "http://h/", (), b"\xff"))[0]


def test_json_params_matcher_types_matter() -> None:
    # responses compares with ==, so True == 1 matches there; JSON true is not 1.
    assert m.json_params_matcher({"a": True}).differences(_json({"a": 1})) == [
        Difference("json.a", 1, True)
    ]
    assert m.json_params_matcher({"a": 1.0})(_json({"a": 1}))[0]


def test_urlencoded_params_matcher() -> None:
    request = _form([("a", "1"), ("b", ""), ("t", "x"), ("t", "y")])
    assert m.urlencoded_params_matcher({"a": "1", "t": ["x", "y"]})(request) == (True, "")
    assert m.urlencoded_params_matcher({"a": 1, "t": ["x", "y"], "b": ""}, allow_blank=True)(
        request
    )[0]
    assert m.urlencoded_params_matcher({"a": "1", "t": ["y", "x"]}).differences(request) == [
        Difference("form['t']", ["x", "y"], ["y", "x"])
    ]
    assert m.urlencoded_params_matcher({"a": "1"}).differences(request) == [
        Difference("form['t']", ["x", "y"], MISSING)
    ]
    assert m.urlencoded_params_matcher({"a": "1"}, strict_match=False)(request)[0]
    assert not m.urlencoded_params_matcher({}, strict_match=False)(request)[0]
    assert m.urlencoded_params_matcher(None)(Request("POST", "http://h/"))[0]


def test_query_param_matcher() -> None:
    request = Request("GET", "http://h/p?page=2&tag=a&tag=b&empty=")
    assert m.query_param_matcher({"page": 2, "tag": ["a", "b"], "empty": ""})(request) == (True, "")
    assert m.query_param_matcher({"page": "2"}, strict_match=False)(request)[0]
    ok, reason = m.query_param_matcher({"page": "3"}, strict_match=False)(request)
    assert not ok
    assert reason.splitlines() == [
        "Parameters do not match (non-strict: extra parameters allowed):",
        "field          actual  expected",
        "query['page']  '2'     '3'",
    ]
    assert m.query_param_matcher(None).differences(request)[0].expected is MISSING


def test_query_string_matcher() -> None:
    request = Request("GET", "http://h/p?b=2&a=1&c=")
    assert m.query_string_matcher("a=1&c=&b=2")(request) == (True, "")
    assert m.query_string_matcher("a=1&b=2").differences(request) == [
        Difference("query['c']", "", MISSING)
    ]
    assert m.query_string_matcher(None)(Request("GET", "http://h/p"))[0]
    assert m.query_string_matcher("")(Request("GET", "http://h/p?"))[0]


def test_header_matcher() -> None:
    request = Request("GET", "http://h/", [("X-Id", "abc-1"), ("Accept", "a"), ("accept", "b")])
    assert m.header_matcher({"x-id": "abc-1", "ACCEPT": "a, b"})(request) == (True, "")
    assert m.header_matcher({"X-Id": re.compile(r"abc-\d")})(request)[0]
    assert not m.header_matcher({"X-Id": re.compile(r"\d")})(request)[0]
    assert m.header_matcher({"X-Id": "abc", "X-New": "1"}).differences(request) == [
        Difference("headers['X-Id']", "abc-1", "abc"),
        Difference("headers['X-New']", MISSING, "1"),
    ]
    assert m.header_matcher({"x-id": "abc-1"}, strict_match=True).differences(request) == [
        Difference("headers['Accept']", "a, b", MISSING)
    ]
    pattern_diff = m.header_matcher({"X-Id": re.compile("z")}).differences(request)
    assert repr(pattern_diff[0].expected) == "re.compile('z')"


def test_body_matcher() -> None:
    request = Request("POST", "http://h/", (), "héllo")
    assert m.body_matcher("héllo")(request) == (True, "")
    assert m.body_matcher(b"h\xc3\xa9llo", allow_blank=True)(request)[0]
    assert m.body_matcher("hello").differences(request) == [Difference("body", "héllo", "hello")]


@pytest.mark.parametrize(
    ("identifier", "uri", "ok"),
    [
        ("a=1&b=2", "http://h/#b=2&a=1", True),
        ("a=1", "http://h/#a=2", False),
        ("/users/5", "http://h/#/users/5", True),
        ("/users/5", "http://h/#/users/6", False),
        (None, "http://h/", True),
        (None, "http://h/#x", False),
        ("x", "http://h/", False),
    ],
)
def test_fragment_identifier_matcher(identifier: str | None, uri: str, ok: bool) -> None:
    matcher = m.fragment_identifier_matcher(identifier)
    assert matcher(Request("GET", uri))[0] is ok
    if not ok:
        assert matcher.differences(Request("GET", uri))[0].field == "fragment"


@pytest.mark.parametrize("encoder", ["pooltest", "urllib3", "requests"])
def test_multipart_matcher_is_encoder_independent(encoder: str) -> None:
    request = _multipart(
        [
            ("title", "Hello"),
            ("doc", ("r.pdf", b"%PDF\r\n", "application/pdf")),
            ("tag", "a"),
            ("tag", "b"),
        ],
        encoder,
    )
    files = {"doc": ("r.pdf", b"%PDF\r\n", "application/pdf")}
    assert m.multipart_matcher(files, {"title": "Hello", "tag": ["a", "b"]})(request) == (True, "")
    assert m.multipart_matcher(
        {"doc": ("r.pdf", "%PDF\r\n")}, {"title": "Hello", "tag": ["a", "b"]}
    )(request)[0]
    assert m.multipart_matcher({"doc": b"%PDF\r\n"}, strict_match=False)(request)[0]
    assert m.multipart_matcher(files).differences(request) == [
        Difference("form['title']", "Hello", MISSING),
        Difference("form['tag']", ["a", "b"], MISSING),
    ]


def test_multipart_matcher_differences() -> None:
    request = _multipart([("doc", ("r.pdf", b"PDF", "application/pdf")), ("t", "v")])
    matcher = m.multipart_matcher(
        {"doc": ("x.pdf", b"PDx", "text/plain"), "more": ("m.txt", b"12")}, {"t": "w", "u": "z"}
    )
    ok, reason = matcher(request)
    assert not ok
    assert reason.startswith("multipart/form-data doesn't match:\n")
    assert matcher.differences(request) == [
        Difference("form['t']", "v", "w"),
        Difference("form['u']", MISSING, "z"),
        Difference("files['doc'].filename", "r.pdf", "x.pdf"),
        Difference("files['doc'].content_type", "application/pdf", "text/plain"),
        Difference("files['doc'].data", b"PDF", b"PDx"),
        Difference("files['more']", MISSING, m._Shown("<file 'm.txt', 2 bytes>")),
    ]


def test_multipart_matcher_on_other_bodies() -> None:
    matcher = m.multipart_matcher({"f": b"x"})
    assert matcher.differences(_json({})) == [
        Difference("content_type", "application/json", "multipart/form-data")
    ]
    assert matcher.differences(Request("POST", "http://h/"))[0].actual is MISSING
    broken = Request(
        "POST", "http://h/", [("Content-Type", "multipart/form-data; boundary=B")], b"--B"
    )
    assert matcher.differences(broken)[0].field == "body"
    with pytest.raises(TypeError, match="files argument cannot be empty"):
        m.multipart_matcher({})


def test_all_of_and_reprs() -> None:
    request = Request("POST", "http://h/p?page=1", [("X-Id", "7")], b"body")

    def plain(request: object) -> tuple[bool, str]:
        return False, "plain says no"

    combined = m.all_of(
        m.query_param_matcher({"page": "1"}), m.header_matcher({"X-Id": "8"}), plain
    )
    assert combined.differences(request) == [
        Difference("headers['X-Id']", "7", "8"),
        Difference("plain", m._Shown("plain says no"), m._Shown("match")),
    ]
    assert repr(combined).startswith(
        "all_of(query_param_matcher({'page': '1'}, strict_match=True), "
        "header_matcher({'X-Id': '8'}, strict_match=False), <function"
    )
    assert m.all_of(m.body_matcher("body"), m.query_string_matcher("page=1"))(request) == (True, "")
    long_repr = repr(m.body_matcher("x" * 1000))
    assert len(long_repr) < 100


# -- parity with responses ------------------------------------------------------------------------


def _prepared(**kwargs: typing.Any) -> typing.Any:
    requests = pytest.importorskip("requests")
    kwargs.setdefault("method", "POST")
    kwargs.setdefault("url", "http://h/p")
    return requests.Request(**kwargs).prepare()


PARITY: list[tuple[str, tuple[typing.Any, ...], dict[str, typing.Any], dict[str, typing.Any]]] = [
    ("json_params_matcher", ({"a": 1, "b": [1, 2]},), {}, {"json": {"b": [1, 2], "a": 1}}),
    ("json_params_matcher", ({"a": 1},), {}, {"json": {"a": 2}}),
    ("json_params_matcher", ({"a": 1},), {}, {"json": {"a": 1, "b": 2}}),
    ("json_params_matcher", ({"a": 1},), {"strict_match": False}, {"json": {"a": 1, "b": 2}}),
    (
        "json_params_matcher",
        ({"n": {"a": 1}},),
        {"strict_match": False},
        {"json": {"n": {"a": 1, "z": 0}}},
    ),
    ("json_params_matcher", ([1, 2],), {}, {"json": [1, 2]}),
    ("json_params_matcher", (None,), {}, {}),
    ("json_params_matcher", ({"a": 1},), {}, {"data": "not json"}),
    ("urlencoded_params_matcher", ({"a": "1", "b": "2"},), {}, {"data": {"b": "2", "a": "1"}}),
    ("urlencoded_params_matcher", ({"a": "1"},), {}, {"data": {"b": "2", "a": "1"}}),
    (
        "urlencoded_params_matcher",
        ({"a": "1"},),
        {"strict_match": False},
        {"data": {"b": "2", "a": "1"}},
    ),
    (
        "urlencoded_params_matcher",
        ({"a": "1", "b": ""},),
        {"allow_blank": True},
        {"data": {"a": "1", "b": ""}},
    ),
    ("urlencoded_params_matcher", ({"a": "1", "b": ""},), {}, {"data": {"a": "1", "b": ""}}),
    ("urlencoded_params_matcher", ({},), {"strict_match": False}, {"data": {"a": "1"}}),
    ("query_param_matcher", ({"a": "1", "b": 2},), {}, {"url": "http://h/p?b=2&a=1"}),
    ("query_param_matcher", ({"a": "1"},), {}, {"url": "http://h/p?b=2&a=1"}),
    ("query_param_matcher", ({"a": "1"},), {"strict_match": False}, {"url": "http://h/p?b=2&a=1"}),
    ("query_param_matcher", ({"a": ["1", "2"]},), {}, {"url": "http://h/p?a=1&a=2"}),
    ("query_param_matcher", ({"a": ""},), {}, {"url": "http://h/p?a="}),
    ("query_string_matcher", ("a=1&b=2",), {}, {"url": "http://h/p?b=2&a=1"}),
    ("query_string_matcher", ("a=1",), {}, {"url": "http://h/p?b=2&a=1"}),
    ("query_string_matcher", ("a=1&b=",), {}, {"url": "http://h/p?b=&a=1"}),
    ("query_string_matcher", (None,), {}, {"url": "http://h/p"}),
    ("header_matcher", ({"X-Id": "1"},), {}, {"headers": {"X-Id": "1"}}),
    ("header_matcher", ({"X-Id": re.compile(r"\d")},), {}, {"headers": {"X-Id": "1"}}),
    ("header_matcher", ({"X-Id": "2"},), {}, {"headers": {"X-Id": "1"}}),
    ("header_matcher", ({"X-Id": "1"},), {"strict_match": True}, {"headers": {"X-Id": "1"}}),
    ("body_matcher", ("abc",), {}, {"data": "abc"}),
    ("body_matcher", ("abc",), {}, {"data": "abd"}),
    ("fragment_identifier_matcher", ("a=1&b=2",), {}, {"url": "http://h/p#b=2&a=1"}),
    ("fragment_identifier_matcher", ("/x/1",), {}, {"url": "http://h/p#/x/2"}),
    ("fragment_identifier_matcher", (None,), {}, {"url": "http://h/p"}),
    (
        "multipart_matcher",
        ({"f": ("a.txt", b"data", "text/plain")},),
        {},
        {"files": {"f": ("a.txt", b"data", "text/plain")}, "data": {"t": "v"}},
    ),
    (
        "multipart_matcher",
        ({"f": ("a.txt", b"data", "text/plain")}, {"t": "v"}),
        {},
        {"files": {"f": ("a.txt", b"data", "text/plain")}, "data": {"t": "v"}},
    ),
    (
        "multipart_matcher",
        ({"f": ("a.txt", b"data", "text/plain")}, {"t": "w"}),
        {},
        {"files": {"f": ("a.txt", b"data", "text/plain")}, "data": {"t": "v"}},
    ),
    ("multipart_matcher", ({"f": ("a.txt", b"data")},), {}, {"files": {"f": ("a.txt", b"data")}}),
    ("multipart_matcher", ({"f": ("a.txt", b"data")},), {}, {"files": {"f": ("b.txt", b"data")}}),
]


def test_deviations_from_responses_are_deliberate() -> None:
    responses_matchers = pytest.importorskip("responses.matchers")
    # Header names are case-insensitive here; responses' non-strict filter is case-sensitive.
    prepared = _prepared(headers={"X-Id": "1"})
    assert not responses_matchers.header_matcher({"x-id": "1"})(prepared)[0]
    assert m.header_matcher({"x-id": "1"})(prepared)[0]
    # responses keeps the last value of a repeated form field; here every value counts.
    prepared = _prepared(data=[("a", "1"), ("a", "2")])
    assert responses_matchers.urlencoded_params_matcher({"a": "2"})(prepared)[0]
    assert not m.urlencoded_params_matcher({"a": "2"})(prepared)[0]
    assert m.urlencoded_params_matcher({"a": ["1", "2"]})(prepared)[0]
    # JSON true is not the number 1 (responses compares with ==).
    prepared = _prepared(json={"a": 1})
    assert responses_matchers.json_params_matcher({"a": True})(prepared)[0]
    assert not m.json_params_matcher({"a": True})(prepared)[0]
    # Content types are checked only when given: urllib3 guesses one, requests sends none.
    body, content_type = urllib3.filepost.encode_multipart_formdata({"f": ("a.txt", b"x")})
    prepared = _prepared(data=body, headers={"Content-Type": content_type})
    assert not responses_matchers.multipart_matcher({"f": ("a.txt", b"x")})(prepared)[0]
    assert m.multipart_matcher({"f": ("a.txt", b"x")})(prepared)[0]


@pytest.mark.parametrize(("name", "args", "kwargs", "request_kwargs"), PARITY)
def test_predicate_matchers_agree_with_responses(
    name: str,
    args: tuple[typing.Any, ...],
    kwargs: dict[str, typing.Any],
    request_kwargs: dict[str, typing.Any],
) -> None:
    responses_matchers = pytest.importorskip("responses.matchers")
    import responses

    prepared = _prepared(**request_kwargs)
    prepared.params = responses.RequestsMock()._parse_request_params(prepared.url)
    prepared.req_kwargs = {}
    theirs = getattr(responses_matchers, name)
    their_kwargs = dict(kwargs)
    if name == "multipart_matcher":
        their_kwargs.pop("strict_match", None)
    expected_ok, _ = theirs(*args, **their_kwargs)(prepared)
    ours = getattr(m, name)(*args, **kwargs)
    ok, reason = ours(prepared)
    assert ok is expected_ok, reason
    assert (reason == "") is ok
    assert (ours.differences(prepared) == []) is ok


def test_register_matcher_makes_a_name_usable_in_match_on() -> None:
    def same_tenant(r1: Request, r2: Request) -> None:
        assert r1.headers.get("X-Tenant") == r2.headers.get("X-Tenant"), "tenants differ"

    registered = m.register_matcher("tenant", same_tenant)
    try:
        assert m.as_comparison("tenant") is registered
        a = Request("GET", "http://h/", [("X-Tenant", "a")])
        b = Request("GET", "http://h/", [("X-Tenant", "b")])
        assert registered.differences(a, a) == []
        assert "tenants differ" in m.explain(registered.differences(a, b))
    finally:
        del m.COMPARISONS["tenant"]


def test_headers_comparison_ignores_the_multipart_boundary() -> None:
    def upload(boundary: str) -> Request:
        content_type = f"multipart/form-data; boundary={boundary}"
        return Request("POST", "http://h/", [("Content-Type", content_type), ("X-A", "1")])

    assert _diff("headers", upload("aaa"), upload("bbb")) == []
    assert m.COMPARISONS["headers"].key(upload("aaa")) == m.COMPARISONS["headers"].key(upload("b"))
    other = Request("POST", "http://h/", [("Content-Type", "text/plain"), ("X-A", "1")])
    assert _diff("headers", upload("aaa"), other) != []
