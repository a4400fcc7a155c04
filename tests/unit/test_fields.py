"""Tests for pooltest.fields: the same header text as urllib3 2.x for the same input."""

from __future__ import annotations

import re
import typing

import pytest
import urllib3.fields as u3
from hypothesis import given
from hypothesis import strategies as st

from pooltest import fields as pt

# Text that likes the characters quoting cares about, plus anything else Unicode has.
_SPECIALS = st.sampled_from(['"', "\r", "\n", "%", "\\", ";", "=", "'", "é", "名", "\x00", " "])
texts = st.text(alphabet=st.one_of(_SPECIALS, st.characters()), max_size=20)
header_values = st.one_of(texts, texts.map(lambda text: text.encode("utf-8", "surrogatepass")))
content_types = st.one_of(st.none(), st.sampled_from(["text/plain", "image/png", ""]), texts)


def _outcome(call: typing.Callable[[], object]) -> object:
    """The result of ``call``, or the type of exception it raised."""
    try:
        return call()
    except Exception as exc:
        return type(exc)


def _rendered(module: typing.Any, name: str, value: typing.Any) -> object:
    return _outcome(lambda: module.RequestField.from_tuples(name, value).render_headers())


@pytest.mark.parametrize(
    "filename",
    [None, "", "a.txt", "photo.JPG", "archive.tar.gz", "noext", "x.unknownext", "page.html"],
)
def test_guess_content_type_matches_urllib3(filename: str | None) -> None:
    assert pt.guess_content_type(filename) == u3.guess_content_type(filename)
    assert pt.guess_content_type(filename, "x/y") == u3.guess_content_type(filename, "x/y")


def test_guess_content_type_defaults() -> None:
    assert pt.guess_content_type(None) == "application/octet-stream"
    assert pt.guess_content_type("a.txt") == "text/plain"
    assert pt.guess_content_type("a.zzzz", default="x/y") == "x/y"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", 'name="plain"'),
        ('a"b', 'name="a%22b"'),
        ("a\r\nb", 'name="a%0D%0Ab"'),
        ("100%", 'name="100%"'),
        ("é", 'name="é"'),
        ("é".encode(), 'name="é"'),
        ("tab\there\\", 'name="tab\there\\"'),
    ],
)
def test_format_multipart_header_param(value: str | bytes, expected: str) -> None:
    assert pt.format_multipart_header_param("name", value) == expected


def test_format_multipart_header_param_rejects_invalid_utf8() -> None:
    with pytest.raises(UnicodeDecodeError):
        pt.format_multipart_header_param("name", b"\xff")


@given(name=texts, value=header_values)
def test_format_multipart_header_param_matches_urllib3(name: str, value: str | bytes) -> None:
    ours = _outcome(lambda: pt.format_multipart_header_param(name, value))
    assert ours == _outcome(lambda: u3.format_multipart_header_param(name, value))


_RFC2231_MESSAGE = (
    "'format_header_param_rfc2231' is insecure, deprecated and will be removed in urllib3 v3.0. "
    "This is not valid for multipart/form-data header parameters."
)


@given(name=st.one_of(st.just("filename"), texts), value=header_values)
def test_format_header_param_rfc2231_matches_urllib3(name: str, value: str | bytes) -> None:
    with pytest.warns(FutureWarning, match=re.escape(_RFC2231_MESSAGE)):
        ours = _outcome(lambda: pt.format_header_param_rfc2231(name, value))
    with pytest.warns(FutureWarning, match=re.escape(_RFC2231_MESSAGE)):
        theirs = _outcome(lambda: u3.format_header_param_rfc2231(name, value))
    assert ours == theirs


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a.txt", 'filename="a.txt"'),
        ('a"b', "filename*=utf-8''a%22b"),
        ("é.txt", "filename*=utf-8''%C3%A9.txt"),
        (b"a\\b", "filename*=utf-8''a%5Cb"),
    ],
)
def test_format_header_param_rfc2231(value: str | bytes, expected: str) -> None:
    with pytest.warns(FutureWarning, match=re.escape(_RFC2231_MESSAGE)):
        assert pt.format_header_param_rfc2231("filename", value) == expected


@pytest.mark.parametrize("alias", ["format_header_param_html5", "format_header_param"])
def test_deprecated_aliases_warn_and_format(alias: str) -> None:
    message = (
        f"'{alias}' has been renamed to 'format_multipart_header_param'. "
        "The old name will be removed in urllib3 v3.0."
    )
    with pytest.warns(FutureWarning, match=re.escape(message)) as ours:
        assert getattr(pt, alias)("name", 'a"\r\n') == 'name="a%22%0D%0A"'
    with pytest.warns(FutureWarning) as theirs:
        getattr(u3, alias)("name", "x")
    assert str(ours[0].message) == str(theirs[0].message)
    assert ours[0].filename == __file__  # stacklevel points at the caller


def test_header_formatter_parameter_is_deprecated() -> None:
    message = "The 'header_formatter' parameter is deprecated and will be removed in urllib3 v3.0."
    with pytest.warns(FutureWarning, match=re.escape(message)):
        field = pt.RequestField.from_tuples(
            "n", ("f.txt", "data"), header_formatter=lambda name, value: f"{name}=<{value!r}>"
        )
    assert field.headers["Content-Disposition"] == "form-data; name=<'n'>; filename=<'f.txt'>"


def test_request_field_defaults() -> None:
    field = pt.RequestField("name", b"data")
    assert field.data == b"data"
    assert field.headers == {}
    assert field.header_formatter is pt.format_multipart_header_param
    assert field.render_headers() == "\r\n"


def test_request_field_copies_headers() -> None:
    given_headers = {"X-A": "1"}
    field = pt.RequestField("name", "v", headers=given_headers)
    field.make_multipart()
    assert given_headers == {"X-A": "1"}
    assert field.headers["X-A"] == "1"


def test_render_headers_order_and_empty_values() -> None:
    field = pt.RequestField(
        "n",
        "v",
        headers={"X-Later": "1", "Content-Location": "/loc", "Empty": "", "Content-Type": "t/t"},
    )
    field.headers["Content-Disposition"] = "form-data"
    assert field.render_headers() == (
        "Content-Disposition: form-data\r\n"
        "Content-Type: t/t\r\n"
        "Content-Location: /loc\r\n"
        "X-Later: 1\r\n"
        "\r\n"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("v", 'Content-Disposition: form-data; name="f"\r\n\r\n'),
        (
            ("a.txt", "v"),
            'Content-Disposition: form-data; name="f"; filename="a.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n",
        ),
        (
            ('q"\r\n.bin', b"v", "x/y"),
            'Content-Disposition: form-data; name="f"; filename="q%22%0D%0A.bin"\r\n'
            "Content-Type: x/y\r\n\r\n",
        ),
    ],
)
def test_from_tuples(value: typing.Any, expected: str) -> None:
    assert pt.RequestField.from_tuples("f", value).render_headers() == expected


@given(
    name=texts,
    data=header_values,
    filename=st.one_of(st.none(), texts),
    content_type=content_types,
    shape=st.sampled_from(["plain", "pair", "triple"]),
)
def test_from_tuples_matches_urllib3(
    name: str, data: str | bytes, filename: str | None, content_type: str | None, shape: str
) -> None:
    value: typing.Any = {
        "plain": data,
        "pair": (filename, data),
        "triple": (filename, data, content_type),
    }[shape]
    assert _rendered(pt, name, value) == _rendered(u3, name, value)


@pytest.mark.parametrize("value", [("only",), ("a", "b", "c", "d")])
def test_from_tuples_bad_tuple_fails_like_urllib3(value: typing.Any) -> None:
    assert _rendered(pt, "n", value) is ValueError
    assert _rendered(u3, "n", value) is ValueError


@given(
    disposition=st.one_of(st.none(), st.sampled_from(["attachment", "inline", ""])),
    content_type=content_types,
    location=st.one_of(st.none(), texts),
    extra=st.dictionaries(st.sampled_from(["X-A", "Content-Type", "x-b"]), texts, max_size=3),
)
def test_make_multipart_matches_urllib3(
    disposition: str | None, content_type: str | None, location: str | None, extra: dict[str, str]
) -> None:
    rendered = []
    for module in (pt, u3):
        field = module.RequestField("n", "v", filename="f.txt", headers=extra)
        field.make_multipart(disposition, content_type, location)
        rendered.append((field.headers, field.render_headers()))
    assert rendered[0] == rendered[1]


@pytest.mark.parametrize(
    "parts",
    [
        {"name": "a", "filename": None, "x": b"\xc3\xa9"},
        [("name", "a"), ("skip", None), ("q", '"')],
        [],
    ],
)
def test_render_parts_matches_urllib3(parts: typing.Any) -> None:
    ours = pt.RequestField("n", "v")._render_parts(parts)
    assert ours == u3.RequestField("n", "v")._render_parts(parts)


def test_render_part_is_overridable() -> None:
    class Upper(pt.RequestField):
        def _render_part(self, name: str, value: str | bytes) -> str:
            return f"{name.upper()}={value!s}"

    field = Upper.from_tuples("n", ("f", "v"))
    assert field.headers["Content-Disposition"] == "form-data; NAME=n; FILENAME=f"
