"""BodyReader: HTTP/1.1 body framing over buffered byte streams (BytesIO and dripping readers)."""

from __future__ import annotations

import http.client
import io
import socket
import tracemalloc
import typing
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.streams import FailingStream

from pooltest._body import MAX_CHUNK_LINE, MAX_TRAILER_LINES, BodyReader
from pooltest.exceptions import (
    IncompleteRead,
    InvalidChunkLength,
    ProtocolError,
    ResponseNotChunked,
)

NEXT = b"HTTP/1.1 200 OK\r\n"  # what follows a body on a kept-alive connection


class Drip(io.RawIOBase):
    """A raw stream handing out one byte per read, like a slow socket."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: typing.Any) -> int:
        if self._pos >= len(self._data):
            return 0
        b[0] = self._data[self._pos]
        self._pos += 1
        return 1


def drip(data: bytes) -> io.BufferedReader:
    return io.BufferedReader(Drip(data), buffer_size=1)


def bytesio(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


STREAMS: list[Callable[[bytes], typing.BinaryIO]] = [bytesio, drip]


class Done:
    """Records on_done calls."""

    def __init__(self) -> None:
        self.calls: list[bool] = []

    def __call__(self, clean: bool) -> None:
        self.calls.append(clean)


def chunked(*chunks: bytes, trailers: bytes = b"") -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks if c)
    return body + b"0\r\n" + trailers + b"\r\n"


def reader(
    data: bytes,
    *,
    chunked: bool = False,
    length: int | None = None,
    stream: Callable[[bytes], typing.BinaryIO] = bytesio,
    enforce: bool = True,
) -> tuple[BodyReader, Done, typing.BinaryIO]:
    done = Done()
    fp = stream(data)
    r = BodyReader(fp, chunked=chunked, length=length, enforce_content_length=enforce, on_done=done)
    return r, done, fp


def read_until_end(r: BodyReader, how: str) -> bytes:
    """Read ``r`` to its end in the given style; bounded so a bug cannot loop forever."""
    out = bytearray()
    for _ in range(1000):
        if how == "read":
            piece = r.read()
        elif how == "read_amt":
            piece = r.read(2)
        elif how == "read1":
            piece = r.read1(2)
        elif how == "readinto":
            buf = bytearray(2)
            piece = bytes(buf[: r.readinto(buf)])
        else:
            piece = r.read_chunk()
        if not piece and r.isclosed():
            return bytes(out)
        out += piece
    raise AssertionError("reader never finished")


# -- Content-Length ------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", STREAMS)
def test_content_length_read_all_stops_at_the_boundary(stream: Callable[..., typing.Any]) -> None:
    r, done, fp = reader(b"hello" + NEXT, length=5, stream=stream)
    assert r.length_remaining == 5
    assert r.read() == b"hello"
    assert done.calls == [True]
    assert r.isclosed()
    assert r.closed
    assert r.tell() == 5
    assert r.length_remaining == 0
    assert r.read() == b""
    assert r.read(3) == b""
    assert r.read1() == b""
    assert fp.read() == NEXT


@pytest.mark.parametrize("stream", STREAMS)
def test_content_length_read_in_pieces(stream: Callable[..., typing.Any]) -> None:
    r, done, fp = reader(b"0123456789" + NEXT, length=10, stream=stream)
    assert r.read(4) == b"0123"
    assert r.tell() == 4
    assert r.length_remaining == 6
    assert done.calls == []
    assert r.read(0) == b""
    assert r.read(4) == b"4567"
    assert r.read(100) == b"89"
    assert done.calls == [True]  # reported as soon as the last byte was read
    assert fp.read() == NEXT


@pytest.mark.parametrize("stream", STREAMS)
def test_content_length_read1_and_readinto(stream: Callable[..., typing.Any]) -> None:
    r, done, fp = reader(b"0123456789" + NEXT, length=10, stream=stream)
    first = r.read1(3)
    assert 0 < len(first) <= 3
    buf = bytearray(4)
    got = r.readinto(buf)
    assert got > 0
    rest = bytearray()
    while piece := r.read1():
        rest += piece
    assert first + bytes(buf[:got]) + rest == b"0123456789"
    assert done.calls == [True]
    assert r.readinto(bytearray(5)) == 0
    assert fp.read() == NEXT


def test_readinto_accepts_memoryview_and_stops_at_length() -> None:
    r, done, _ = reader(b"abcdefXYZ", length=6)
    buf = bytearray(10)
    assert r.readinto(memoryview(buf)) == 6
    assert buf[:6] == b"abcdef"
    assert done.calls == [True]


def test_zero_length_is_complete_at_once() -> None:
    r, done, fp = reader(NEXT, length=0)
    assert done.calls == [True]
    assert r.isclosed()
    assert r.read() == b""
    assert r.read1() == b""
    assert r.readinto(bytearray(3)) == 0
    assert fp.read() == NEXT


@pytest.mark.parametrize("how", ["read", "read_amt", "read1", "readinto"])
def test_truncated_content_length_raises_incomplete_read(how: str) -> None:
    r, done, _ = reader(b"hel", length=5)
    with pytest.raises(IncompleteRead) as excinfo:
        read_until_end(r, how)
    assert excinfo.value.partial == 3
    assert excinfo.value.expected == 2
    assert repr(excinfo.value) == "IncompleteRead(3 bytes read, 2 more expected)"
    assert done.calls == [False]
    assert r.isclosed()


def test_truncated_read_amt_returns_what_arrived_before_raising() -> None:
    r, _, _ = reader(b"hel", length=5)
    assert r.read(10) == b"hel"
    with pytest.raises(IncompleteRead):
        r.read(10)


def test_truncated_content_length_without_enforcement() -> None:
    r, done, _ = reader(b"hel", length=5, enforce=False)
    assert r.read() == b"hel"
    assert done.calls == [False]
    r, done, _ = reader(b"hel", length=5, enforce=False)
    assert r.read(2) == b"he"
    assert r.read(2) == b"l"
    assert r.read(2) == b""
    assert done.calls == [False]


def test_huge_content_length_does_not_allocate_it_up_front() -> None:
    # io.BufferedReader.read(n) allocates n bytes before reading: the reader must split reads.
    fp = io.BufferedReader(io.BytesIO(b"x" * 1000))
    r = BodyReader(fp, chunked=False, length=2**40)
    tracemalloc.start()
    try:
        with pytest.raises(IncompleteRead):
            r.read()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20


def test_large_content_length_body_is_read_whole() -> None:
    data = bytes(range(256)) * (40 * 1024)  # 10 MiB: more than one bounded read
    r, done, fp = reader(
        data + NEXT, length=len(data), stream=lambda b: io.BufferedReader(bytesio(b))
    )
    assert r.read() == data
    assert done.calls == [True]
    assert fp.read() == NEXT


def test_negative_length_is_rejected() -> None:
    with pytest.raises(ValueError, match="length"):
        BodyReader(io.BytesIO(b""), chunked=False, length=-1)


# -- read to EOF ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", STREAMS)
def test_close_delimited_body(stream: Callable[..., typing.Any]) -> None:
    r, done, _ = reader(b"all of it", stream=stream)
    assert r.length_remaining is None
    assert r.read(3) == b"all"
    assert r.read() == b" of it"
    assert done.calls == [True]
    assert r.tell() == 9


@pytest.mark.parametrize("stream", STREAMS)
def test_close_delimited_read1_and_readinto(stream: Callable[..., typing.Any]) -> None:
    r, done, _ = reader(b"all of it", stream=stream)
    out = bytearray()
    buf = bytearray(4)
    while True:
        got = r.readinto(buf)
        if not got:
            break
        out += buf[:got]
        out += r.read1(2)
    assert out == b"all of it"
    assert done.calls == [True]


# -- chunked -------------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", STREAMS)
def test_chunked_read_all_consumes_trailers(stream: Callable[..., typing.Any]) -> None:
    raw = chunked(b"hello", b" ", b"world", trailers=b"Expires: never\r\nX-A: b\r\n") + NEXT
    r, done, fp = reader(raw, chunked=True, stream=stream)
    assert r.chunked
    assert r.length_remaining is None
    assert r.read() == b"hello world"
    assert done.calls == [True]
    assert r.tell() == 11
    assert fp.read() == NEXT


@pytest.mark.parametrize("stream", STREAMS)
def test_chunked_read_amt_spans_chunks(stream: Callable[..., typing.Any]) -> None:
    r, done, fp = reader(chunked(b"ab", b"cde", b"f") + NEXT, chunked=True, stream=stream)
    assert r.read(4) == b"abcd"
    assert r.read(1) == b"e"
    assert done.calls == []
    assert r.read(10) == b"f"
    assert done.calls == [True]
    assert r.read(10) == b""
    assert fp.read() == NEXT


@pytest.mark.parametrize("stream", STREAMS)
def test_read_chunk_returns_chunks_then_empty(stream: Callable[..., typing.Any]) -> None:
    r, done, fp = reader(chunked(b"first", b"second!") + NEXT, chunked=True, stream=stream)
    assert r.read_chunk() == b"first"
    assert r.read_chunk(3) == b"sec"
    assert r.read_chunk(100) == b"ond!"
    assert done.calls == []
    assert r.read_chunk() == b""
    assert done.calls == [True]
    assert r.read_chunk() == b""
    assert fp.read() == NEXT


@pytest.mark.parametrize("stream", STREAMS)
def test_chunked_read1_and_readinto(stream: Callable[..., typing.Any]) -> None:
    r, done, _ = reader(chunked(b"hello", b"world"), chunked=True, stream=stream)
    out = bytearray()
    buf = bytearray(3)
    while True:
        piece = r.read1(4)
        assert len(piece) <= 4
        out += piece
        got = r.readinto(buf)
        out += buf[:got]
        if not piece and not got:
            break
    assert out == b"helloworld"
    assert done.calls == [True]


@pytest.mark.parametrize(
    "size_line",
    [b"5\r\n", b"05\r\n", b"5;name=value\r\n", b"5 ; ext\r\n", b"5\t\r\n", b"5\n", b"0005\r\n"],
)
def test_chunk_size_line_variants(size_line: bytes) -> None:
    r, done, _ = reader(size_line + b"hello\r\n0\r\n\r\n", chunked=True)
    assert r.read() == b"hello"
    assert done.calls == [True]


def test_uppercase_and_lowercase_hex_sizes() -> None:
    body = b"x" * 0xAB
    raw = b"aB\r\n" + body + b"\r\n0\r\n\r\n"
    r, _, _ = reader(raw, chunked=True)
    assert r.read() == body


@pytest.mark.parametrize("line", [b"zz\r\n", b"-5\r\n", b"+5\r\n", b"0x5\r\n", b"1_0\r\n", b"\r\n"])
def test_invalid_chunk_size_raises_invalid_chunk_length(line: bytes) -> None:
    r, done, _ = reader(b"3\r\nabc\r\n" + line + b"hello\r\n0\r\n\r\n", chunked=True)
    with pytest.raises(InvalidChunkLength) as excinfo:
        r.read()
    assert excinfo.value.length == line
    assert excinfo.value.partial == 3
    assert done.calls == [False]


def test_overlong_chunk_size_line_is_refused_with_bounded_memory() -> None:
    raw = b"1" * (MAX_CHUNK_LINE * 16)
    r, done, _ = reader(raw, chunked=True, stream=lambda b: io.BufferedReader(bytesio(b)))
    tracemalloc.start()
    try:
        with pytest.raises(ProtocolError, match="chunk size line exceeded"):
            r.read()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_CHUNK_LINE
    assert done.calls == [False]


def test_huge_chunk_size_with_little_data() -> None:
    r, done, _ = reader(b"ffffffffffffffff\r\nsmall", chunked=True)
    with pytest.raises(ProtocolError, match="ended prematurely"):
        r.read()
    assert done.calls == [False]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "ended prematurely"),
        (b"5\r\nhello\r\n", "ended prematurely"),  # no last chunk
        (b"5\r\nhel", "ended prematurely"),  # EOF inside a chunk
        (b"5\r\nhello", "ended prematurely"),  # EOF before the CRLF
        (b"5\r\nhelloXY3\r\nabc\r\n0\r\n\r\n", "not followed by CRLF"),
        (b"5\r\nhello\n3\r\nabc\r\n0\r\n\r\n", "not followed by CRLF"),
    ],
)
@pytest.mark.parametrize("how", ["read", "read_amt", "read1", "read_chunk"])
def test_chunked_framing_errors(raw: bytes, message: str, how: str) -> None:
    r, done, _ = reader(raw, chunked=True)
    with pytest.raises(ProtocolError, match=message):
        read_until_end(r, how)
    assert done.calls == [False]


def test_too_many_trailer_lines() -> None:
    trailers = b"".join(b"X-%d: v\r\n" % i for i in range(MAX_TRAILER_LINES + 1))
    r, done, _ = reader(chunked(b"abc", trailers=trailers), chunked=True)
    with pytest.raises(ProtocolError, match="trailer lines"):
        r.read()
    assert done.calls == [False]


def test_exactly_the_maximum_trailer_lines_is_fine() -> None:
    trailers = b"".join(b"X-%d: v\r\n" % i for i in range(MAX_TRAILER_LINES))
    r, done, fp = reader(chunked(b"abc", trailers=trailers) + NEXT, chunked=True)
    assert r.read() == b"abc"
    assert done.calls == [True]
    assert fp.read() == NEXT


@pytest.mark.parametrize(
    "trailers",
    [b"X: " + b"v" * 70000 + b"\r\n", (b"X: " + b"v" * 700 + b"\r\n") * 99],
    ids=["one long line", "many lines over the size limit"],
)
def test_oversized_trailer_section(trailers: bytes) -> None:
    r, done, _ = reader(chunked(b"abc", trailers=trailers), chunked=True)
    with pytest.raises(ProtocolError, match="trailer section exceeded"):
        r.read()
    assert done.calls == [False]


def test_eof_in_trailers_keeps_the_data_but_not_the_connection() -> None:
    r, done, _ = reader(b"3\r\nabc\r\n0\r\nX-Trailer: yes\r\n", chunked=True)
    assert r.read() == b"abc"
    assert done.calls == [False]
    r, done, _ = reader(b"3\r\nabc\r\n0\r\n", chunked=True)
    assert r.read() == b"abc"
    assert done.calls == [False]


def test_read_chunk_needs_a_chunked_body() -> None:
    r, _, _ = reader(b"abc", length=3)
    with pytest.raises(ResponseNotChunked):
        r.read_chunk()


# -- completion, close and errors ----------------------------------------------------------------


def test_close_early_reports_unclean_once() -> None:
    r, done, _ = reader(b"hello", length=5)
    assert r.read(2) == b"he"
    r.close()
    r.close()
    assert done.calls == [False]
    assert r.read() == b""
    assert r.isclosed()


def test_close_after_completion_is_a_no_op() -> None:
    r, done, _ = reader(b"hello", length=5)
    r.read()
    r.close()
    assert done.calls == [True]


@pytest.mark.parametrize("error", [TimeoutError("timed out"), ConnectionResetError(104)])
@pytest.mark.parametrize("framing", [{"length": 10}, {"chunked": True}, {}])
def test_stream_errors_propagate_unchanged(
    error: BaseException, framing: dict[str, typing.Any]
) -> None:
    start = b"5\r\nab" if framing.get("chunked") else b"ab"
    done = Done()
    fp = io.BufferedReader(FailingStream(start, error))
    r = BodyReader(
        fp, chunked=framing.get("chunked", False), length=framing.get("length"), on_done=done
    )
    with pytest.raises(type(error)) as excinfo:
        r.read()
    assert excinfo.value is error
    assert done.calls == [False]


def test_on_done_is_optional() -> None:
    r = BodyReader(io.BytesIO(chunked(b"abc")), chunked=True, length=None)
    assert r.read() == b"abc"
    r.close()


def test_fileno_and_readable() -> None:
    r, _, _ = reader(b"abc", length=3)
    assert r.readable()
    with pytest.raises(io.UnsupportedOperation):
        r.fileno()  # BytesIO has no descriptor
    a, b = socket.socketpair()
    try:
        with a.makefile("rb") as fp:
            sock_reader = BodyReader(fp, chunked=False, length=0)
            assert sock_reader.fileno() == a.fileno()
    finally:
        a.close()
        b.close()


def test_repr_mentions_framing_and_state() -> None:
    r, _, _ = reader(b"abc", length=3)
    assert "3 bytes left" in repr(r)
    assert "open" in repr(r)
    r.read()
    assert "done" in repr(r)
    r2, _, _ = reader(chunked(b"a"), chunked=True)
    assert "chunked" in repr(r2)
    r3, _, _ = reader(b"abc")
    assert "until EOF" in repr(r3)


def test_works_over_a_live_socket() -> None:
    a, b = socket.socketpair()
    try:
        a.settimeout(5)
        b.sendall(chunked(b"over ", b"the wire") + b"5\r\nnext!")
        done = Done()
        with a.makefile("rb") as fp:
            r = BodyReader(fp, chunked=True, length=None, on_done=done)
            assert r.read() == b"over the wire"
            assert done.calls == [True]
            assert fp.read(8) == b"5\r\nnext!"
    finally:
        a.close()
        b.close()


# -- properties ----------------------------------------------------------------------------------


def _encode_chunks(chunks: list[bytes], uppercase: bool, ext: bool) -> bytes:
    out = []
    for c in chunks:
        size = b"%X" % len(c) if uppercase else b"%x" % len(c)
        out.append(size + (b";e=1" if ext else b"") + b"\r\n" + c + b"\r\n")
    return b"".join(out) + b"0\r\n\r\n"


@settings(max_examples=60, deadline=None)
@given(
    chunks=st.lists(st.binary(min_size=1, max_size=40), max_size=8),
    uppercase=st.booleans(),
    ext=st.booleans(),
    amts=st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=6),
)
def test_chunked_reads_reassemble_the_body(
    chunks: list[bytes], uppercase: bool, ext: bool, amts: list[int]
) -> None:
    raw = _encode_chunks(chunks, uppercase, ext)
    expected = b"".join(chunks)
    for stream in STREAMS:
        r, done, fp = reader(raw + NEXT, chunked=True, stream=stream)
        out = bytearray()
        i = 0
        while not r.isclosed():
            out += r.read(amts[i % len(amts)])
            i += 1
        assert out == expected
        assert done.calls == [True]
        assert fp.read() == NEXT
        # The standard library agrees on what the body is.
        assert _stdlib_chunked(raw) == expected


def _stdlib_chunked(raw: bytes) -> bytes:
    class Sock:
        def makefile(self, mode: str) -> io.BytesIO:
            return io.BytesIO(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + raw)

    response = http.client.HTTPResponse(Sock(), method="GET")  # type: ignore[arg-type]
    response.begin()
    return response.read()


@settings(max_examples=60, deadline=None)
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_only_raise_framing_errors(raw: bytes) -> None:
    r, done, _ = reader(raw, chunked=True)
    try:
        while r.read(7):
            pass
    except (ProtocolError, InvalidChunkLength):
        assert done.calls == [False]
    else:
        assert len(done.calls) == 1
