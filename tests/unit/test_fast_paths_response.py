"""Fast paths of the response layer give exactly what the general code gives.

- ``_http11._split_fields`` (a plain header block split in one go) against ``_parse_fields``
  (line by line), and ``_read_headers`` against the general parser reading the same stream;
- the framing and keep-alive answers read from the header dict's storage against the same
  rules written with ``HTTPHeaderDict.get``;
- ``HTTPResponse``'s preload without ``Content-Encoding`` and its framing taken from the body
  reader against a response read with ``read()`` and the header-only ``chunked`` rule.
"""

from __future__ import annotations

import gzip
import http.client
import io

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pooltest import _http11
from pooltest._body import BodyReader
from pooltest._collections import HTTPHeaderDict
from pooltest.exceptions import InvalidHeader
from pooltest.response import HTTPResponse

_NAMES = st.sampled_from(
    ["Server", "Date", "Content-Length", "X-A", "x-a", " Fold", "\tTab", "Bad Name", "", "Ä"]
)
_VALUE_PIECES = st.sampled_from([*"ab:, \t\r\n;=é", "\r\n", "chunked", "close", "12", "\x00"])
_VALUES = st.lists(_VALUE_PIECES, max_size=6).map("".join)
_ENDINGS = st.sampled_from(["\r\n", "\r\n", "\n", "\r\r\n"])


@st.composite
def _header_lines(draw: st.DrawFn) -> list[bytes]:
    """Header lines as readline() hands them out: each ends at (and holds one) LF."""
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(_NAMES)
        colon = draw(st.sampled_from([":", ":", ""]))
        text = f"{name}{colon}{draw(_VALUES)}".replace("\n", "") + draw(_ENDINGS)
        lines.append(text.encode("latin-1"))
    return lines


def _general_fields(lines: list[bytes]) -> list[tuple[str, str]]:
    return _http11._parse_fields(iter(lines))


@settings(max_examples=3000)
@given(_header_lines(), st.booleans())
@example([b"Server: a\r\n", b"Server\r\n"], True)
@example([b"Server: a \t\r\n", b" b\r\n"], True)
@example([b"Server: a\rb\r\n"], True)
@example([b"Server: a\n", b"Date: b\r\n"], True)
def test_split_fields_agrees_with_the_line_parser(lines: list[bytes], warm: bool) -> None:
    if warm:  # names the general parser has seen are "known": the fast path may take them
        _general_fields(lines)
    assert _http11._split_fields(lines) == _general_fields(lines)


def test_a_plain_block_of_known_names_takes_the_fast_path() -> None:
    lines = [b"Server: x \r\n", b"Content-Length:\t12\r\n", b"Date: a, b\r\n"]
    _general_fields(lines)
    saved = _http11._parse_fields
    _http11._parse_fields = None  # type: ignore[assignment]
    try:
        fields = _http11._split_fields(lines)
    finally:
        _http11._parse_fields = saved
    assert fields == [("Server", "x"), ("Content-Length", "12"), ("Date", "a, b")]


def _read_general(fp: io.BytesIO) -> list[tuple[str, str]] | str:
    try:
        return _http11._parse_fields(_http11._raw_lines(fp))
    except http.client.HTTPException as e:
        return repr(e)


def _read_fast(fp: io.BytesIO) -> list[tuple[str, str]] | str:
    try:
        return _http11._read_headers(fp)
    except http.client.HTTPException as e:
        return repr(e)


@settings(max_examples=300)
@given(
    st.integers(0, 104),
    st.integers(-1, 104),
    st.sampled_from(["Server: x", "nocolon", " fold"]),
    st.sampled_from(["\r\n", "\n", ""]),
)
def test_read_headers_agrees_with_the_general_parser_at_the_limits(
    count: int, long_at: int, filler: str, blank: str
) -> None:
    lines = [
        (b"X-Long: " + b"v" * _http11.MAX_LINE if i == long_at else filler.encode()) + b"\r\n"
        for i in range(count)
    ]
    wire = b"".join(lines) + blank.encode() + b"AFTER"
    fast, general = io.BytesIO(wire), io.BytesIO(wire)
    assert _read_fast(fast) == _read_general(general)
    assert fast.tell() == general.tell()  # nothing read past what the general parser reads


# -- framing ----------------------------------------------------------------------------------


def _framing_by_get(method: str, status: int, version: str, headers: HTTPHeaderDict) -> object:
    """The framing and keep-alive rules spelt out with HTTPHeaderDict.get (the reference)."""
    if method == "HEAD" or status < 200 or status in (204, 304):
        framing: tuple[bool, int | None, bool] = (False, 0, True)
    elif (te := headers.get("transfer-encoding")) is not None:
        chunked = te.rsplit(",", 1)[-1].strip().lower() == "chunked"
        framing = (True, None, True) if chunked else (False, None, False)
    else:
        try:
            length = _http11.content_length(headers)
        except InvalidHeader as e:
            return repr(e)
        framing = (False, None, False) if length is None else (False, length, True)
    connection = headers.get("connection")
    tokens = {t.strip().lower() for t in connection.split(",")} if connection else set()
    keep = "close" not in tokens if version == "HTTP/1.1" else "keep-alive" in tokens
    return framing, keep


def _framing_fast(method: str, status: int, version: str, headers: HTTPHeaderDict) -> object:
    try:
        framing = _http11._body_framing(method, status, headers._container)
    except InvalidHeader as e:
        return repr(e)
    return framing, _http11._wants_keep_alive(version, headers._container)


_FRAMING_NAMES = st.sampled_from(
    ["Transfer-Encoding", "transfer-encoding", "Content-Length", "Connection", "X-Other"]
)
_FRAMING_VALUES = st.sampled_from(
    ["chunked", "gzip, chunked", "chunked, gzip", "", " ", "12", "012", "1,1", "1, 2", "-1", "¹",
     "close", "keep-alive", "Keep-Alive, x", "CLOSE"]
)  # fmt: skip


@settings(max_examples=2000)
@given(
    st.sampled_from(["GET", "HEAD"]),
    st.sampled_from([100, 101, 200, 204, 304, 404]),
    st.sampled_from(["HTTP/1.1", "HTTP/1.0"]),
    st.lists(st.tuples(_FRAMING_NAMES, _FRAMING_VALUES), max_size=4),
)
def test_framing_from_storage_agrees_with_get(
    method: str, status: int, version: str, pairs: list[tuple[str, str]]
) -> None:
    headers = HTTPHeaderDict._from_pairs(pairs)
    assert _framing_fast(method, status, version, headers) == _framing_by_get(
        method, status, version, headers
    )


# -- HTTPResponse -----------------------------------------------------------------------------


def _response(
    body: bytes, pairs: list[tuple[str, str]], *, preload: bool, framing: str, method: str = "GET"
) -> HTTPResponse:
    if framing == "chunked":
        wire = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
        reader = BodyReader(io.BytesIO(wire), chunked=True, length=None)
    elif framing == "length":
        reader = BodyReader(io.BytesIO(body), chunked=False, length=len(body))
    else:
        reader = BodyReader(io.BytesIO(body), chunked=False, length=None)
    return HTTPResponse(
        body=reader,
        headers=HTTPHeaderDict._from_pairs(pairs),
        status=200,
        preload_content=preload,
        request_method=method,
    )


def _state(response: HTTPResponse) -> tuple[object, ...]:
    return (
        response.tell(),
        response.length_remaining,
        response.chunked,
        response.closed,
        response._decoder_initialized,
        type(response._decoder),
        response._uncached_read_occurred,
        response._has_decoded_content,
    )


_ENCODINGS = st.sampled_from([None, "gzip", "identity", "", "x-unknown"])


@settings(max_examples=500)
@given(
    st.binary(max_size=64),
    _ENCODINGS,
    st.sampled_from(["chunked", "length", "eof"]),
    st.sampled_from([None, "chunked", "gzip", ""]),
)
def test_preload_agrees_with_a_later_read(
    raw: bytes, encoding: str | None, framing: str, transfer_encoding: str | None
) -> None:
    pairs = []
    body = raw
    if encoding is not None:
        pairs.append(("Content-Encoding", encoding))
        if encoding == "gzip":
            body = gzip.compress(raw)
    if transfer_encoding is not None:
        pairs.append(("Transfer-Encoding", transfer_encoding))
    preloaded = _response(body, pairs, preload=True, framing=framing)
    read_later = _response(body, pairs, preload=False, framing=framing)
    data = read_later.read()
    assert preloaded.data == data == (raw if encoding == "gzip" else body)
    assert _state(preloaded) == _state(read_later)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("framing", ["chunked", "length", "eof"])
@pytest.mark.parametrize("transfer_encoding", [None, "chunked", "gzip, chunked", "gzip"])
def test_chunked_attribute_follows_the_reader_then_the_header(
    method: str, framing: str, transfer_encoding: str | None
) -> None:
    pairs = [] if transfer_encoding is None else [("Transfer-Encoding", transfer_encoding)]
    response = _response(b"", pairs, preload=False, framing=framing, method=method)
    says_chunked = transfer_encoding is not None and "chunked" in transfer_encoding
    reader = response._reader
    assert reader is not None
    expected = True if reader.chunked else (reader.isclosed() and says_chunked)
    assert response.chunked is expected
    # A response without a body reader keeps the header's word.
    plain = HTTPResponse(body=io.BytesIO(b""), headers=dict(pairs), preload_content=False)
    assert plain.chunked is says_chunked
