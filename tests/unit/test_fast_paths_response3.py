"""Third round of response-layer fast paths, each against the general code it stands for.

- ``_http11._split_block`` (header pairs and the header dict storage built in one loop) against
  ``_parse_fields`` followed by ``HTTPHeaderDict._from_pairs``;
- ``read_response`` (headers, framing and the keep-alive answer written out inline) against the
  same response assembled from the general pieces;
- ``HTTPResponse.closed`` reading the body reader's flag against ``BodyReader.isclosed()``;
- the ``_pooltest_replayed`` mark: a slot, so marking a response gives it no instance dict.
"""

from __future__ import annotations

import io

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pooltest import _http11
from pooltest._base_connection import _ResponseOptions
from pooltest._body import BodyReader
from pooltest._collections import HTTPHeaderDict
from pooltest.response import HTTPResponse

_NAMES = st.sampled_from(
    ["Server", "Date", "Content-Length", "X-A", "x-a", "X-a", " Fold", "\tTab", "Bad Name", "", "Ä"]
)
_VALUE_PIECES = st.sampled_from([*"ab:, \t\r\n;=é", "\r\n", "chunked", "close", "12", "\x00"])
_VALUES = st.lists(_VALUE_PIECES, max_size=6).map("".join)
_ENDINGS = st.sampled_from(["\r\n", "\r\n", "\r\n", "\n", "\r\r\n"])


@st.composite
def _header_lines(draw: st.DrawFn) -> list[bytes]:
    """Header lines as readline() hands them out: each ends at (and holds one) LF."""
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(_NAMES)
        colon = draw(st.sampled_from([":", ":", ":", ""]))
        text = f"{name}{colon}{draw(_VALUES)}".replace("\n", "") + draw(_ENDINGS)
        lines.append(text.encode("latin-1"))
    return lines


def _storage(headers: HTTPHeaderDict) -> list[tuple[str, list[str]]]:
    """The header dict's storage, in order (dict equality alone ignores the order)."""
    return list(headers._container.items())


# -- _split_block -----------------------------------------------------------------------------


@settings(max_examples=3000)
@given(_header_lines(), st.booleans())
@example([b"Server: a\r\n", b"server: b\r\n", b"SERVER:c\r\n"], True)
@example([b"X-A: 1\r\n", b"Date: d\r\n", b"x-a: 2\r\n"], True)
@example([b"Server: a \t\r\n", b" b\r\n"], True)
@example([b"Server\r\n", b"Server: a\r\n"], True)
def test_split_block_agrees_with_the_line_parser_and_from_pairs(
    lines: list[bytes], warm: bool
) -> None:
    if warm:  # names the general parser has seen are "known": the fast path may take them
        _http11._parse_fields(iter(lines))
    general = _http11._parse_fields(iter(lines))
    pairs, container = _http11._split_block(lines)
    assert pairs == general
    if container is not None:
        built = HTTPHeaderDict._from_storage(container)
        assert _storage(built) == _storage(HTTPHeaderDict._from_pairs(general))


def test_a_plain_block_of_known_names_builds_the_storage_on_the_way() -> None:
    lines = [b"Server: x \r\n", b"Content-Length:\t12\r\n", b"Date: a\r\n", b"server: y\r\n"]
    _http11._parse_fields(iter(lines))  # makes the names known
    assert _http11._TOKEN_NAMES["Content-Length"] == "content-length"
    pairs, container = _http11._split_block(lines)
    assert container == {
        "server": ["Server", "x", "y"],
        "content-length": ["Content-Length", "12"],
        "date": ["Date", "a"],
    }
    assert pairs == [("Server", "x"), ("Content-Length", "12"), ("Date", "a"), ("server", "y")]


def test_an_unknown_or_invalid_name_leaves_the_storage_to_from_pairs() -> None:
    lines = [b"X-Never-Seen-Before-Round3: 1\r\n", b"Bad Name: 2\r\n"]
    pairs, container = _http11._split_block(lines)
    assert container is None
    assert pairs == [("X-Never-Seen-Before-Round3", "1")]


# -- read_response ----------------------------------------------------------------------------


_Outcome = tuple[object, list[tuple[str, list[str]]], list[bool], object]


def _general_response(wire: bytes, method: str, wants_close: bool) -> _Outcome:
    """What read_response must give, assembled from the general pieces (or the error)."""
    fp = io.BytesIO(wire)
    calls: list[bool] = []
    try:
        for _ in range(_http11.MAX_HEADERS):
            version, status, reason = _http11._parse_status(fp.readline(_http11.MAX_LINE + 1))
            pairs = _http11._parse_fields(_http11._raw_lines(fp))
            if status >= 200 or status == 101:
                break
        headers = HTTPHeaderDict._from_pairs(pairs)
        chunked, length, self_delimited = _http11.body_framing(method, status, headers)
        keep_alive = (
            self_delimited and not wants_close and _http11.wants_keep_alive(version, headers)
        )
        reader = BodyReader(
            fp, chunked=chunked, length=length, on_done=calls.append, keep_alive=keep_alive
        )
        response = HTTPResponse(
            body=reader,
            headers=headers,
            status=status,
            version=11 if version == "HTTP/1.1" else 10,
            version_string=version,
            reason=reason,
            request_method=method,
            request_url="/x",
        )
    except Exception as e:
        return (type(e), str(e)), [], calls, None
    head = (response.version_string, response.status, response.reason)
    return head, _storage(response.headers), calls, response.data


def _fast_response(wire: bytes, method: str, wants_close: bool) -> _Outcome:
    options = _ResponseOptions(method, "/x", True, True, True)
    calls: list[bool] = []
    try:
        response = _http11.read_response(
            io.BytesIO(wire), options, calls.append, request_wants_close=wants_close
        )
    except Exception as e:
        return (type(e), str(e)), [], calls, None
    head = (response.version_string, response.status, response.reason)
    return head, _storage(response.headers), calls, response.data


_CONNECTION = st.sampled_from([None, "close", "keep-alive", "Keep-Alive, foo", "CLOSE", ""])


@settings(max_examples=1500)
@given(
    lines=_header_lines(),
    connection=_CONNECTION,
    version=st.sampled_from(["HTTP/1.1", "HTTP/1.0"]),
    status=st.sampled_from([100, 200, 204, 304]),
    length=st.sampled_from([None, 0, 3, 5]),
    method=st.sampled_from(["GET", "HEAD"]),
    wants_close=st.booleans(),
    warm=st.booleans(),
)
def test_read_response_agrees_with_the_general_pieces(
    lines: list[bytes],
    connection: str | None,
    version: str,
    status: int,
    length: int | None,
    method: str,
    wants_close: bool,
    warm: bool,
) -> None:
    head = [f"{version} {status} Some Reason\r\n".encode()]
    if status == 100:  # an interim response first, then the final one
        head += [b"X-A: interim\r\n", b"\r\n", f"{version} 200 OK\r\n".encode()]
    head += lines
    if connection is not None:
        head.append(f"Connection: {connection}\r\n".encode())
    if length is not None:
        head.append(f"Content-Length: {length}\r\n".encode())
    wire = b"".join(head) + b"\r\nabc"
    if warm:
        _http11._parse_fields(iter(lines))
    assert _fast_response(wire, method, wants_close) == _general_response(wire, method, wants_close)


# -- HTTPResponse.closed ----------------------------------------------------------------------


@settings(max_examples=300)
@given(
    body=st.binary(max_size=20),
    length=st.one_of(st.none(), st.integers(0, 25)),
    sizes=st.lists(st.one_of(st.none(), st.integers(0, 8)), max_size=4),
    close_reader=st.booleans(),
)
def test_closed_is_what_the_reader_says(
    body: bytes, length: int | None, sizes: list[int | None], close_reader: bool
) -> None:
    reader = BodyReader(
        io.BytesIO(body), chunked=False, length=length, enforce_content_length=False
    )
    response = HTTPResponse._from_reader(
        reader, HTTPHeaderDict(), 200, "HTTP/1.1", "OK", False, True, False, "GET", "/", None
    )
    assert response.closed == reader.isclosed()
    for size in sizes:
        response.read(size)
        assert response.closed == reader.isclosed()
    if close_reader:
        reader.close()
    assert response.closed == reader.isclosed()


# -- the replay mark --------------------------------------------------------------------------


def test_the_replay_mark_is_a_slot_with_a_false_default() -> None:
    wire = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    options = _ResponseOptions("GET", "/x", True, True, True)
    parsed = _http11.read_response(io.BytesIO(wire), options)
    built = HTTPResponse(body=b"ok", headers={"Content-Length": "2"})
    for response in (parsed, built):
        assert getattr(response, "_pooltest_replayed", None) is False
        response._pooltest_replayed = True
        assert getattr(response, "_pooltest_replayed", None) is True
        assert "_pooltest_replayed" not in response.__dict__
