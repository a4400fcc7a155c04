"""Fourth round of response-layer fast paths, each against the general code it stands for.

- ``_http11._take_plain_head`` (a whole head taken in one read from an ``io.BytesIO`` or from an
  ``io.BufferedReader``'s buffer) against ``_read_final_head`` (one ``readline`` per line): same
  head, same header dict storage, same stream position, same errors; a head it declines leaves
  the stream where it was;
- ``HTTPResponse._from_reader``'s inlined framing answer against ``_take_framing``.
"""

from __future__ import annotations

import io
import socket
import typing

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pooltest import _http11
from pooltest._body import BodyReader
from pooltest._collections import HTTPHeaderDict
from pooltest.response import HTTPResponse

_STATUS_LINES = st.sampled_from(
    [
        "HTTP/1.1 200 OK",
        "HTTP/1.0 404 Not Found",
        "HTTP/1.1 204",
        "HTTP/1.1 101 Switching Protocols",
        "HTTP/1.1 100 Continue",
        "HTTP/1.1 103 Early Hints",
        "HTTP/1.1 2000 Bad",
        "",
    ]
)
_NAMES = st.sampled_from(
    ["Server", "Date", "Content-Length", "X-A", "x-a", " Fold", "\tTab", "Bad Name", "", "Ä"]
)
_VALUE_PIECES = st.sampled_from([*"ab:, \t\r\n;", "\r\n", "\r\n\r\n", "chunked", "12", "\x00"])
_ENDINGS = st.sampled_from(["\r\n", "\r\n", "\r\n", "\n", "\r\r\n"])
_BODIES = st.sampled_from(["", "body", "\r\n\r\n", "HTTP/1.1 200 OK\r\nServer: a\r\n\r\nrest"])


@st.composite
def _wires(draw: st.DrawFn) -> bytes:
    """A status line, header lines, an end of head and some body bytes (or a next head)."""
    lines = [draw(_STATUS_LINES) + draw(_ENDINGS)]
    for _ in range(draw(st.integers(0, 6))):
        name = draw(_NAMES)
        colon = draw(st.sampled_from([":", ":", ":", ""]))
        value = "".join(draw(st.lists(_VALUE_PIECES, max_size=5)))
        lines.append(f"{name}{colon}{value}" + draw(_ENDINGS))
    lines.append(draw(st.sampled_from(["\r\n", "\r\n", "\n", ""])))
    lines.append(draw(_BODIES))
    return "".join(lines).encode("latin-1")


Outcome = tuple[object, int]


def _storage(head: _http11._Head) -> list[tuple[str, list[str]]]:
    """The header dict storage a head gives (built from its pairs when the parser built none)."""
    container = head[4]
    if container is None:
        container = HTTPHeaderDict._from_pairs(head[3])._container
    return list(container.items())


def _outcome(read: typing.Callable[[], _http11._Head], fp: typing.BinaryIO) -> Outcome:
    """What reading a head gives: the head (storage in order) or the error, and the position."""
    try:
        head = read()
    except Exception as e:  # the general parser's errors must come out unchanged
        return (type(e), str(e)), fp.tell()
    return (head[:4], _storage(head)), fp.tell()


def _general(wire: bytes) -> Outcome:
    fp = io.BytesIO(wire)
    return _outcome(lambda: _http11._read_final_head(fp), fp)


def _as_parsed(fp: typing.BinaryIO) -> Outcome:
    """What read_response does: the one-read path first, then the line-by-line one."""
    return _outcome(lambda: _http11._take_plain_head(fp) or _http11._read_final_head(fp), fp)


def _buffered(wire: bytes, buffer_size: int = io.DEFAULT_BUFFER_SIZE) -> io.BufferedReader:
    """A buffered reader over ``wire``, as ``socket.makefile("rb")`` is over a socket."""
    return io.BufferedReader(io.BytesIO(wire), buffer_size)  # type: ignore[arg-type]


def _declines_without_consuming(fp: typing.BinaryIO) -> bool:
    start = fp.tell()
    if _http11._take_plain_head(fp) is None:
        assert fp.tell() == start
        return True
    return False


@settings(max_examples=3000)
@given(_wires(), st.booleans(), st.sampled_from([0, 16, 64, 8192]))
@example(b"HTTP/1.1 200 OK\r\nServer: a\r\n\r\nbody", True, 0)
@example(b"HTTP/1.1 200 OK\r\nServer: a\n\r\nServer: b\r\n\r\n", True, 0)
@example(b"HTTP/1.1 200 OK\r\nServer: a\rb\r\n\r\n", True, 0)
@example(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nServer: a\r\n\r\n", True, 0)
@example(b"HTTP/1.1 200 OK\r\n Fold\r\n\r\n", True, 8192)
@example(b"HTTP/1.1 200 OK\r\n\r\n", True, 16)
def test_one_read_head_agrees_with_the_line_by_line_reader(
    wire: bytes, warm: bool, buffer_size: int
) -> None:
    if warm:  # status lines and names the general parser has seen are what the fast path takes
        _general(wire)
    expected = _general(wire)
    assert _as_parsed(io.BytesIO(wire)) == expected
    _declines_without_consuming(io.BytesIO(wire))
    if buffer_size:
        assert _as_parsed(_buffered(wire, buffer_size)) == expected
        _declines_without_consuming(_buffered(wire, buffer_size))


def test_a_plain_known_head_is_taken_in_one_read_and_exactly_its_bytes_consumed() -> None:
    wire = b"HTTP/1.1 200 OK\r\nServer: a\r\nserver: b\r\nContent-Length: 4\r\n\r\nbody"
    _general(wire)
    fp = io.BytesIO(wire)
    head = _http11._take_plain_head(fp)
    assert head == (
        "HTTP/1.1",
        200,
        "OK",
        [("Server", "a"), ("server", "b"), ("Content-Length", "4")],
        {"server": ["Server", "a", "b"], "content-length": ["Content-Length", "4"]},
    )
    assert fp.read() == b"body"


@pytest.mark.parametrize(
    "wire",
    [
        # An interim response: only the line-by-line reader skips it.
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nServer: a\r\n\r\n",
        # A head longer than the window the one-read path looks at.
        b"HTTP/1.1 200 OK\r\n" + b"Server: " + b"x" * _http11._HEAD_WINDOW + b"\r\n\r\n",
        # A line that ends in a bare LF ends the head sooner than the first CRLF CRLF.
        b"HTTP/1.1 200 OK\r\nServer: a\n\r\nServer: b\r\n\r\n",
        # More header lines than allowed: the general reader raises.
        b"HTTP/1.1 200 OK\r\n" + b"Server: a\r\n" * (_http11.MAX_HEADERS + 1) + b"\r\n",
    ],
)
def test_heads_the_one_read_path_declines_go_line_by_line(wire: bytes) -> None:
    _general(wire)
    _general(b"HTTP/1.1 200 OK\r\nServer: a\r\n\r\n")  # known status line and name
    assert _declines_without_consuming(io.BytesIO(wire))
    assert _as_parsed(io.BytesIO(wire)) == _general(wire)


def test_a_closed_buffered_reader_fails_as_readline_does() -> None:
    fp = _buffered(b"HTTP/1.1 200 OK\r\n\r\n")
    fp.close()
    with pytest.raises(ValueError, match="readline of closed file"):
        _http11.read_response_head(fp)


def test_a_socket_head_is_taken_from_the_buffer_and_the_body_left_in_it() -> None:
    wire = b"HTTP/1.1 200 OK\r\nServer: a\r\nContent-Length: 4\r\n\r\nbody"
    _general(wire)
    left, right = socket.socketpair()
    with left, right:
        left.settimeout(5)
        right.sendall(wire)
        fp = left.makefile("rb")
        with fp:
            head = _http11._take_plain_head(fp)
            assert head is not None
            assert head[:3] == ("HTTP/1.1", 200, "OK")
            assert fp.read(4) == b"body"


# -- _from_reader's framing -------------------------------------------------------------------


_FRAMING_HEADERS = st.sampled_from(
    [
        [],
        [("Transfer-Encoding", "chunked")],
        [("Content-Length", "3")],
        [("Transfer-Encoding", "gzip")],
    ]
)


@settings(max_examples=500)
@given(st.booleans(), st.sampled_from([None, 0, 3]), _FRAMING_HEADERS)
def test_from_reader_framing_agrees_with_take_framing(
    chunked: bool, length: int | None, fields: list[tuple[str, str]]
) -> None:
    def reader() -> BodyReader:
        return BodyReader(io.BytesIO(b"3\r\nabc\r\n0\r\n\r\n"), chunked=chunked, length=length)

    headers = HTTPHeaderDict(fields)
    built = HTTPResponse._from_reader(
        reader(), headers, 200, "HTTP/1.1", "OK", False, True, True, "GET", "/", None
    )
    general = HTTPResponse.__new__(HTTPResponse)
    general.headers = headers
    general._take_framing(reader())
    assert (built.chunked, built.length_remaining) == (general.chunked, general.length_remaining)


def test_a_head_with_as_many_headers_as_allowed_is_taken_in_one_read() -> None:
    wire = b"HTTP/1.1 200 OK\r\n" + b"Server: a\r\n" * _http11.MAX_HEADERS + b"\r\nbody"
    _general(wire)
    assert not _declines_without_consuming(io.BytesIO(wire))
    assert _as_parsed(io.BytesIO(wire)) == _general(wire)


def test_only_final_crlf_status_lines_are_kept_for_the_one_read_path_and_bounded() -> None:
    memo, texts = _http11._STATUS_MEMO, _http11._FINAL_STATUS_TEXTS
    saved = dict(memo), dict(texts)
    try:
        memo.clear()
        texts.clear()
        for line in (b"HTTP/1.1 298 A\r\n", b"HTTP/1.1 101 B\r\n", b"HTTP/1.1 102 C\r\n"):
            _http11._read_status(io.BytesIO(line))
        _http11._read_status(io.BytesIO(b"HTTP/1.1 297 D\n"))
        assert texts == {
            "HTTP/1.1 298 A": ("HTTP/1.1", 298, "A"),
            "HTTP/1.1 101 B": ("HTTP/1.1", 101, "B"),
        }
        memo.clear()  # even when the memo it follows is emptied, it stays bounded
        for code in range(200, 200 + 2 * _http11._STATUS_MEMO_SIZE):
            _http11._read_status(io.BytesIO(b"HTTP/1.1 %d X\r\n" % code))
            memo.clear()
        assert len(texts) <= _http11._STATUS_MEMO_SIZE
    finally:
        memo.clear()
        memo.update(saved[0])
        texts.clear()
        texts.update(saved[1])
