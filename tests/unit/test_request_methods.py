"""Tests for pooltest._request_methods.RequestMethods.

A tiny subclass records what reaches ``urlopen``; the same calls go through urllib3's
RequestMethods for comparison, and produced bodies are parsed back with werkzeug.
"""

from __future__ import annotations

import io
import pathlib
import re
import typing

import pytest
import urllib3._request_methods
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.formparser import FormDataParser
from werkzeug.http import parse_options_header

from pooltest._collections import HTTPHeaderDict
from pooltest._request_methods import RequestMethods
from pooltest.filepost import MultipartBody

BOUNDARY = "b0und4ry"


class Recorder(RequestMethods):
    """Records the arguments of every urlopen call."""

    def __init__(self, headers: typing.Mapping[str, str] | None = None) -> None:
        super().__init__(headers)
        self.calls: list[dict[str, typing.Any]] = []

    def urlopen(
        self,
        method: str,
        url: str,
        body: typing.Any = None,
        headers: typing.Mapping[str, str] | None = None,
        encode_multipart: bool = True,
        multipart_boundary: str | None = None,
        **kw: typing.Any,
    ) -> typing.Any:
        self.calls.append({"method": method, "url": url, "body": body, "headers": headers, **kw})
        return "response"


class Urllib3Recorder(urllib3._request_methods.RequestMethods):
    """The same recorder on top of urllib3's RequestMethods."""

    def __init__(self, headers: typing.Mapping[str, str] | None = None) -> None:
        super().__init__(headers)
        self.calls: list[dict[str, typing.Any]] = []

    def urlopen(
        self,
        method: str,
        url: str,
        body: typing.Any = None,
        headers: typing.Mapping[str, str] | None = None,
        encode_multipart: bool = True,
        multipart_boundary: str | None = None,
        **kw: typing.Any,
    ) -> typing.Any:
        self.calls.append({"method": method, "url": url, "body": body, "headers": headers, **kw})
        return "response"


def _only_call(recorder: Recorder | Urllib3Recorder) -> dict[str, typing.Any]:
    assert len(recorder.calls) == 1
    call = dict(recorder.calls[0])
    call["headers"] = list(call["headers"].items())
    return call


def _parse_form(body: bytes, content_type: str) -> tuple[MultiDict[str, str], list[typing.Any]]:
    """Parse a form body as a server would: (text fields, [(name, filename, type, bytes)])."""
    mimetype, options = parse_options_header(content_type)
    _, form, files = FormDataParser(silent=False).parse(
        io.BytesIO(body), mimetype, len(body), options
    )
    uploads = []
    for name, upload in files.items(multi=True):
        try:
            uploads.append((name, upload.filename, upload.content_type, upload.read()))
        finally:
            upload.close()
    return form, uploads


def _sent_body(call: dict[str, typing.Any]) -> bytes:
    body = call["body"]
    if isinstance(body, MultipartBody):
        return b"".join(body)
    return body.encode() if isinstance(body, str) else typing.cast(bytes, body)


def test_class_attributes_match_urllib3() -> None:
    expected = {"DELETE", "GET", "HEAD", "OPTIONS"}
    assert RequestMethods._encode_url_methods == expected
    assert urllib3._request_methods.RequestMethods._encode_url_methods == expected
    assert RequestMethods().headers == {}
    assert RequestMethods({"A": "1"}).headers == {"A": "1"}


def test_urlopen_is_abstract_with_urllib3_message() -> None:
    with pytest.raises(NotImplementedError) as theirs:
        urllib3._request_methods.RequestMethods().urlopen("GET", "/")
    with pytest.raises(NotImplementedError) as ours:
        RequestMethods().urlopen("GET", "/")
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(NotImplementedError):
        RequestMethods().request("POST", "/", fields={"a": "b"})


_DIFFERENTIAL_CASES: list[tuple[str, str, dict[str, typing.Any]]] = [
    ("get", "/p", {"fields": {"a": "1", "b": "é", "c": "x y&z"}}),
    ("GET", "/p?x=1", {"fields": [("a", "1"), ("a", b"2")]}),
    ("HEAD", "/p", {}),
    ("options", "/p", {"fields": {}}),
    ("delete", "/p", {"body": b"x", "headers": {"X-A": "1"}}),
    ("get", "/p", {"json": {"q": 1}}),
    ("post", "/p", {"fields": {"a": "1", "f": ("a.txt", b"\x00data")}}),
    ("post", "/p", {"fields": [("a", "1"), ("f", ("x", "é", "a/b"))], "headers": {"X": "1"}}),
    ("PUT", "/p", {"fields": {"a": "1", "b": "é&="}, "encode_multipart": False}),
    ("post", "/p", {"body": b"raw", "headers": {"X": "1"}}),
    ("post", "/p", {"body": "text"}),
    ("patch", "/p", {"json": {"a": [1, "é", None], "b": 1.5}}),
    ("post", "/p", {"json": "x", "headers": {"content-TYPE": "text/x"}}),
    ("post", "/p", {"json": [], "headers": {"X": "1"}}),
    ("post", "/p", {"json": None, "body": None}),
    ("post", "/p", {"retries": False, "timeout": 3, "redirect": True}),
]


@pytest.mark.parametrize(("method", "url", "kwargs"), _DIFFERENTIAL_CASES)
@pytest.mark.parametrize("default_headers", [None, {"User-Agent": "t", "Accept": "*/*"}])
def test_request_matches_urllib3(
    method: str,
    url: str,
    kwargs: dict[str, typing.Any],
    default_headers: dict[str, str] | None,
) -> None:
    ours, theirs = Recorder(default_headers), Urllib3Recorder(default_headers)
    response: object = ours.request(method, url, multipart_boundary=BOUNDARY, **kwargs)
    assert response == "response"
    theirs.request(method, url, multipart_boundary=BOUNDARY, **kwargs)
    assert _only_call(ours) == _only_call(theirs)


@pytest.mark.parametrize("fields", [{"a": "1"}, [("a", "1")]])
def test_fields_with_body_raise_like_urllib3(fields: typing.Any) -> None:
    with pytest.raises(TypeError) as theirs:
        Urllib3Recorder().request("POST", "/", body=b"x", fields=fields)
    with pytest.raises(TypeError, match=re.escape(str(theirs.value))):
        Recorder().request("POST", "/", body=b"x", fields=fields)
    with pytest.raises(TypeError, match=re.escape(str(theirs.value))):
        Recorder().request_encode_body("POST", "/", body=b"x", fields=fields)


def test_json_with_body_raises_like_urllib3() -> None:
    with pytest.raises(TypeError) as theirs:
        Urllib3Recorder().request("POST", "/", body=b"x", json={})
    assert "mutually exclusive" in str(theirs.value)
    with pytest.raises(TypeError, match=re.escape(str(theirs.value))):
        Recorder().request("POST", "/", body=b"x", json={})


def test_json_body_is_compact_utf8() -> None:
    recorder = Recorder()
    recorder.request("post", "/", json={"a": [1, "é"]})
    call = recorder.calls[0]
    assert call["method"] == "POST"
    assert call["body"] == '{"a":[1,"é"]}'.encode()
    assert call["headers"]["content-type"] == "application/json"


@pytest.mark.parametrize("encode_multipart", [True, False])
@pytest.mark.parametrize("header_name", ["Content-Type", "content-type", "CONTENT-type"])
def test_caller_content_type_is_replaced_for_fields(
    encode_multipart: bool, header_name: str
) -> None:
    """The one deliberate difference from urllib3, which keeps the caller's Content-Type."""
    caller_headers = {header_name: "text/plain", "X-Keep": "1"}
    recorder = Recorder()
    recorder.request_encode_body(
        "POST",
        "/",
        fields={"a": "b"},
        headers=caller_headers,
        encode_multipart=encode_multipart,
        multipart_boundary=BOUNDARY,
    )
    headers = recorder.calls[0]["headers"]
    expected = (
        f"multipart/form-data; boundary={BOUNDARY}"
        if encode_multipart
        else "application/x-www-form-urlencoded"
    )
    assert headers.getlist("content-type") == [expected]
    assert headers["X-Keep"] == "1"
    assert caller_headers == {header_name: "text/plain", "X-Keep": "1"}
    form, _ = _parse_form(_sent_body(recorder.calls[0]), headers["Content-Type"])
    assert form.to_dict() == {"a": "b"}

    theirs = Urllib3Recorder()
    theirs.request_encode_body(
        "POST", "/", fields={"a": "b"}, headers=caller_headers, encode_multipart=encode_multipart
    )
    assert theirs.calls[0]["headers"]["content-type"] == "text/plain"


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("GET", {}),
        ("GET", {"fields": {"a": "b"}}),
        ("POST", {}),
        ("POST", {"fields": {"a": "b"}}),
        ("POST", {"fields": {"f": ("f", io.BytesIO(b"x"))}}),
        ("POST", {"json": {"a": 1}}),
        ("GET", {"json": {"a": 1}}),
    ],
)
@pytest.mark.parametrize("use_defaults", [True, False])
def test_headers_are_never_mutated(
    method: str, kwargs: dict[str, typing.Any], use_defaults: bool
) -> None:
    """pooltest never changes the caller's headers. Where it must add or replace a field (a
    body's Content-Type) it sends a copy; otherwise, as urllib3, it passes them on as they are."""
    given_headers = HTTPHeaderDict({"X-A": "1"})
    given_headers.add("X-A", "2")
    recorder = Recorder(given_headers if use_defaults else {"Default": "yes"})
    if use_defaults:
        recorder.request(method, "/", **kwargs)
    else:
        recorder.request(method, "/", headers=given_headers, **kwargs)
    sent = recorder.calls[0]["headers"]
    assert HTTPHeaderDict(sent).getlist("X-A") == ["1", "2"]
    assert list(given_headers.items()) == [("X-A", "1"), ("X-A", "2")]
    assert "Default" not in sent
    adds_fields = bool(method == "POST" and kwargs) or "json" in kwargs
    if adds_fields:
        assert sent is not given_headers


def test_request_encode_url_and_body_directly() -> None:
    recorder = Recorder({"D": "1"})
    recorder.request_encode_url("GET", "/u", fields=[("k", "v w")], timeout=1)
    recorder.request_encode_body("POST", "/b", body=b"raw", headers={"H": "2"})
    url_call, body_call = recorder.calls
    assert url_call["url"] == "/u?k=v+w"
    assert url_call["timeout"] == 1
    assert list(url_call["headers"].items()) == [("D", "1")]
    assert body_call["body"] == b"raw"
    assert list(body_call["headers"].items()) == [("H", "2")]


def test_file_object_upload_streams_with_content_length(tmp_path: pathlib.Path) -> None:
    content = bytes(range(256)) * 1000
    path = tmp_path / "upload.bin"
    path.write_bytes(content)
    recorder = Recorder()
    with path.open("rb") as file:
        recorder.request(
            "POST",
            "/upload",
            fields={"note": "hi", "file": ("upload.bin", file), "typed": ("t", file, "x/y")},
        )
        call = recorder.calls[0]
        body = call["body"]
        assert isinstance(body, MultipartBody)
        headers = call["headers"]
        assert headers["Content-Length"] == str(len(body))
        assert headers["Content-Type"] == body.content_type
        for _ in range(2):  # a retry or redirect can send it again
            sent = b"".join(body)
            assert len(sent) == len(body)
            form, files = _parse_form(sent, headers["Content-Type"])
            assert form.to_dict() == {"note": "hi"}
            assert files == [
                ("file", "upload.bin", "application/octet-stream", content),
                ("typed", "t", "x/y", content),
            ]


# Field names: anything but backslash and "%" (the WHATWG format cannot carry them unambiguously).
_NAME_ALPHABET = st.one_of(
    st.sampled_from(['"', "\r", "\n", "é", "名", ";", "=", "'", " "]),
    st.characters(codec="utf-8", exclude_characters="\\%"),
)
names = st.text(alphabet=_NAME_ALPHABET, min_size=1, max_size=12)


def _from_wire(name: str) -> str:
    """Undo the only escapes werkzeug leaves in place (it decodes %22 itself)."""
    return name.replace("%0D", "\r").replace("%0A", "\n")


@settings(max_examples=60, deadline=None)
@given(
    text_fields=st.lists(st.tuples(names, st.text(max_size=20)), max_size=4),
    file_fields=st.lists(
        st.tuples(names, names, st.binary(max_size=3000), st.booleans()), max_size=3
    ),
)
def test_multipart_round_trips_through_werkzeug(
    text_fields: list[tuple[str, str]], file_fields: list[tuple[str, str, bytes, bool]]
) -> None:
    fields: list[tuple[str, typing.Any]] = list(text_fields)
    for name, filename, content, stream in file_fields:
        data = io.BytesIO(content) if stream else content
        fields.append((name, (filename, data, "application/x-test")))
    recorder = Recorder()
    recorder.request("POST", "/", fields=fields)
    call = recorder.calls[0]
    if not fields:
        assert call["body"] is None
        return
    if any(stream for *_, stream in file_fields):
        assert isinstance(call["body"], MultipartBody)
    form, files = _parse_form(_sent_body(call), call["headers"]["Content-Type"])
    received = [(_from_wire(k), v) for k, v in form.items(multi=True)]
    assert received == list(MultiDict(text_fields).items(multi=True))
    expected = MultiDict([(n, (n, filename, content)) for n, filename, content, _ in file_fields])
    assert [(_from_wire(n), _from_wire(f), t, c) for n, f, t, c in files] == [
        (name, filename, "application/x-test", content)
        for _, (name, filename, content) in expected.items(multi=True)
    ]


@settings(max_examples=60, deadline=None)
@given(fields=st.lists(st.tuples(st.text(max_size=10), st.text(max_size=10)), max_size=5))
def test_urlencoded_round_trips_through_werkzeug(fields: list[tuple[str, str]]) -> None:
    recorder = Recorder()
    recorder.request("POST", "/", fields=fields, encode_multipart=False)
    call = recorder.calls[0]
    if not fields:
        assert call["body"] is None
        return
    form, _ = _parse_form(_sent_body(call), call["headers"]["Content-Type"])
    assert list(form.items(multi=True)) == list(MultiDict(fields).items(multi=True))
