"""HTTPResponse: decoding checked against urllib3, bounded bombs, streaming, connection release."""

from __future__ import annotations

import functools
import gzip
import http.client
import io
import json
import logging
import os
import socket
import tracemalloc
import types
import typing
import zlib
from collections.abc import Callable

import brotli  # type: ignore[import-untyped]
import pytest
import urllib3
import urllib3.response
import urllib3.util.response
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st
from support.streams import FailingStream

from pooltest._body import BodyReader
from pooltest._collections import HTTPHeaderDict
from pooltest.exceptions import (
    BodyNotHttplibCompatible,
    DecodeError,
    DependencyWarning,
    HeaderParsingError,
    InvalidHeader,
    ProtocolError,
    ReadTimeoutError,
    ResponseNotChunked,
)
from pooltest.response import (
    BaseHTTPResponse,
    BrotliDecoder,
    BytesQueueBuffer,
    DeflateDecoder,
    GzipDecoder,
    HTTPResponse,
    MultiDecoder,
    ZstdDecoder,
)
from pooltest.util.response import assert_header_parsing, is_fp_closed, is_response_to_head
from pooltest.util.retry import RequestHistory, Retry

# -- helpers -------------------------------------------------------------------------------------


class FakePool:
    """Records the connections given back to it."""

    def __init__(self) -> None:
        self.returned: list[object] = []

    def _put_conn(self, conn: object) -> None:
        self.returned.append(conn)


class FakeConn:
    """Counts close() calls."""

    def __init__(self) -> None:
        self.closes = 0

    def close(self) -> None:
        self.closes += 1


def fake_pool() -> typing.Any:
    return FakePool()


def fake_conn() -> typing.Any:
    return FakeConn()


class Done:
    def __init__(self) -> None:
        self.calls: list[bool] = []

    def __call__(self, clean: bool) -> None:
        self.calls.append(clean)


def encode_chunked(data: bytes, size: int = 7) -> bytes:
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


def ours(
    payload: bytes,
    headers: dict[str, str] | None = None,
    *,
    framing: str = "length",
    preload: bool = False,
    done: Done | None = None,
    fp: typing.BinaryIO | None = None,
    **kwargs: typing.Any,
) -> HTTPResponse:
    """A pooltest response whose body is ``payload`` framed as asked (a BodyReader)."""
    headers = dict(headers or {})
    if framing == "chunked":
        headers["Transfer-Encoding"] = "chunked"
        raw = encode_chunked(payload)
        reader = BodyReader(fp or io.BytesIO(raw), chunked=True, length=None, on_done=done)
    elif framing == "length":
        headers.setdefault("Content-Length", str(len(payload)))
        length = int(headers["Content-Length"])
        reader = BodyReader(
            fp or io.BytesIO(payload),
            chunked=False,
            length=length,
            enforce_content_length=kwargs.get("enforce_content_length", True),
            on_done=done,
        )
    else:
        reader = BodyReader(fp or io.BytesIO(payload), chunked=False, length=None, on_done=done)
    return HTTPResponse(body=reader, headers=headers, status=200, preload_content=preload, **kwargs)


def theirs(
    payload: bytes,
    headers: dict[str, str] | None = None,
    *,
    chunked: bool = False,
    httplib: bool = False,
) -> urllib3.HTTPResponse:
    """The urllib3 peer: a BytesIO body, or a real http.client response (always when chunked)."""
    headers = dict(headers or {})
    if not chunked:
        headers.setdefault("Content-Length", str(len(payload)))
        if not httplib:
            return urllib3.HTTPResponse(
                body=io.BytesIO(payload), headers=headers, status=200, preload_content=False
            )
    else:
        headers["Transfer-Encoding"] = "chunked"
        payload = encode_chunked(payload)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
    raw = b"HTTP/1.1 200 OK\r\n" + head + b"\r\n" + payload

    class Sock:
        def makefile(self, mode: str) -> io.BytesIO:
            return io.BytesIO(raw)

    original = http.client.HTTPResponse(Sock(), method="GET")  # type: ignore[arg-type]
    original.begin()
    return urllib3.HTTPResponse(
        body=original,
        headers=headers,
        status=200,
        preload_content=False,
        original_response=original,
    )


def outcome(action: Callable[[], object]) -> object:
    """The result of ``action``, or the exception's type name and first argument."""
    try:
        return action()
    except Exception as e:
        return (type(e).__name__, e.args[0] if e.args else None)


def read_all_amt(response: typing.Any, amt: int) -> list[bytes]:
    pieces: list[bytes] = []
    for _ in range(1_000_000):
        piece = response.read(amt)
        if not piece:
            return pieces
        pieces.append(piece)
    raise AssertionError("read(amt) never reached the end")


def read1_all(response: typing.Any, amt: int | None) -> bytes:
    out = bytearray()
    for _ in range(1_000_000):
        piece = response.read1(amt)
        if not piece:
            return bytes(out)
        out += piece
    raise AssertionError("read1() never reached the end")


# -- decoding, compared with urllib3 -------------------------------------------------------------

TEXT = b"".join(b"line %d of some fairly compressible text\n" % i for i in range(3000))
RANDOM = os.urandom(50_000)


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def _gzip_times(data: bytes, n: int) -> bytes:
    for _ in range(n):
        data = gzip.compress(data)
    return data


ENCODED: dict[str, tuple[str | None, bytes]] = {
    "identity-none": (None, TEXT),
    "identity": ("identity", TEXT),
    "unknown-coding": ("compress", TEXT),
    "gzip": ("gzip", gzip.compress(TEXT)),
    "x-gzip": ("x-gzip", gzip.compress(TEXT)),
    "GZIP-uppercase": ("GZIP", gzip.compress(TEXT)),
    "gzip-random": ("gzip", gzip.compress(RANDOM)),
    "gzip-multi-member": ("gzip", gzip.compress(TEXT[:1000]) + gzip.compress(TEXT[1000:])),
    "gzip-trailing-garbage": ("gzip", gzip.compress(TEXT) + b"trailing garbage"),
    "gzip-trailing-zeros": ("gzip", gzip.compress(TEXT) + b"\0" * 20),
    "gzip-truncated": ("gzip", gzip.compress(TEXT)[:-100]),
    "gzip-corrupt": ("gzip", b"this is not gzip at all"),
    "gzip-corrupt-later": ("gzip", gzip.compress(TEXT)[:30] + b"\xff" * 50),
    "gzip-empty-body": ("gzip", b""),
    "deflate-zlib": ("deflate", zlib.compress(TEXT)),
    "deflate-raw": ("deflate", raw_deflate(TEXT)),
    "deflate-corrupt": ("deflate", b"\xff\xfe\xfd not deflate"),
    "deflate-trailing": ("deflate", zlib.compress(TEXT) + b"more"),
    "br": ("br", brotli.compress(TEXT)),
    "br-corrupt": ("br", b"\xff" * 40),
    "chain-gzip-br": ("gzip, br", brotli.compress(gzip.compress(TEXT))),
    "chain-deflate-gzip": ("deflate,gzip", gzip.compress(zlib.compress(TEXT))),
    "chain-three": ("gzip, deflate, br", brotli.compress(zlib.compress(gzip.compress(TEXT)))),
    "chain-with-unknown": ("gzip, foo", gzip.compress(TEXT)),
    "chain-only-unknown": ("foo, bar", TEXT),
    "chain-too-long": ("gzip, gzip, gzip, gzip, gzip, gzip", b"irrelevant"),
    "chain-five": ("gzip,gzip,gzip,gzip,gzip", _gzip_times(TEXT, 5)),
}


def _headers(coding: str | None) -> dict[str, str]:
    return {"Content-Encoding": coding} if coding is not None else {}


# urllib3 2.8 drops everything after the first gzip member when streaming with a limit.
URLLIB3_LOSES_DATA = {("gzip-multi-member", "stream")}
# Deliberate difference (issue 7, B6): urllib3 ignores junk after the end of the compressed
# stream; pooltest raises DecodeError, as the standard library's gzip module does.
POOLTEST_REFUSES_TRAILING = {"gzip-trailing-garbage", "deflate-trailing"}


@pytest.mark.parametrize("case", sorted(ENCODED))
@pytest.mark.parametrize("style", ["read", "read-1", "read-100", "read-8192", "stream", "read1"])
def test_decoding_matches_urllib3(case: str, style: str) -> None:
    coding, payload = ENCODED[case]
    headers = _headers(coding)
    results = [
        outcome(functools.partial(consume, response, style))
        for response in (theirs(payload, headers), ours(payload, headers))
    ]
    if (case, style) in URLLIB3_LOSES_DATA:
        assert results[1] == _split(TEXT, 1000)
    elif case in POOLTEST_REFUSES_TRAILING:
        assert isinstance(results[0], (bytes, list))  # urllib3 decodes and drops the junk
        assert isinstance(results[1], tuple)
        assert results[1][0] == "DecodeError"
        assert "bytes of trailing data after the" in results[1][1]
    else:
        assert results[1] == results[0]


def consume(response: typing.Any, style: str) -> object:
    """Read a whole response in one of several styles."""
    if style == "read":
        return response.read()
    if style.startswith("read-"):
        return read_all_amt(response, int(style[5:]))
    if style == "stream":
        return list(response.stream(1000))
    if style == "stream-decoded":
        return b"".join(response.stream(decode_content=True))
    if style == "read_chunked":
        return b"".join(response.read_chunked(decode_content=True))
    return read1_all(response, None)


@pytest.mark.parametrize("case", ["gzip", "br", "chain-gzip-br", "deflate-raw", "identity-none"])
def test_preloaded_decoding_matches_urllib3(case: str) -> None:
    coding, payload = ENCODED[case]
    headers = _headers(coding) | {"Content-Length": str(len(payload))}
    expected = urllib3.HTTPResponse(body=io.BytesIO(payload), headers=headers).data
    assert ours(payload, headers, preload=True).data == expected == TEXT


def test_too_many_codings_message_matches_urllib3() -> None:
    coding, payload = ENCODED["chain-too-long"]
    with pytest.raises(DecodeError) as excinfo:
        ours(payload, _headers(coding)).read()
    assert str(excinfo.value) == "Too many content encodings in the chain: 6 > 5"


def test_decode_content_false_returns_raw_bytes() -> None:
    payload = gzip.compress(TEXT)
    assert ours(payload, {"Content-Encoding": "gzip"}).read(decode_content=False) == payload
    response = ours(payload, {"Content-Encoding": "gzip"}, decode_content=False, preload=True)
    assert response.data == payload


@pytest.mark.parametrize("case", ["gzip", "br", "chain-gzip-br", "deflate-zlib"])
@pytest.mark.parametrize("style", ["read", "read-10", "stream-decoded", "read_chunked"])
def test_chunked_decoding_matches_urllib3(case: str, style: str) -> None:
    coding, payload = ENCODED[case]
    headers = _headers(coding)
    results = [
        outcome(functools.partial(consume, response, style))
        for response in (
            theirs(payload, headers, chunked=True),
            ours(payload, headers, framing="chunked"),
        )
    ]
    assert results[1] == results[0]
    whole = results[1]
    if isinstance(whole, list):
        whole = b"".join(whole)
    assert whole == TEXT


def test_chunked_stream_without_decode_content_yields_raw_bytes_like_urllib3() -> None:
    # urllib3 only decodes chunked streams when decode_content=True is passed explicitly.
    payload = gzip.compress(TEXT)
    expected = b"".join(theirs(payload, {"Content-Encoding": "gzip"}, chunked=True).stream())
    got = b"".join(ours(payload, {"Content-Encoding": "gzip"}, framing="chunked").stream())
    assert got == expected == payload


def test_zstd_decoding() -> None:
    frame = zstandard.ZstdCompressor().compress(TEXT)
    for style in ("read", "read-7", "stream", "read1"):
        response = ours(frame + frame, {"Content-Encoding": "zstd"})
        if style == "read":
            got = response.read()
        elif style == "read-7":
            got = b"".join(read_all_amt(response, 7))
        elif style == "stream":
            got = b"".join(response.stream(4096))
        else:
            got = read1_all(response, None)
        assert got == TEXT + TEXT, style


@pytest.mark.parametrize(
    "payload",
    [
        zstandard.ZstdCompressor().compress(TEXT)[:-50],  # ends inside the frame
        b"\x28\xb5\x2f\xfd" + b"\xff" * 30,  # magic number, then junk
        b"not zstd at all",
    ],
    ids=["truncated", "corrupt", "not-zstd"],
)
def test_zstd_bad_data_raises_decode_error(payload: bytes) -> None:
    with pytest.raises(DecodeError):
        ours(payload, {"Content-Encoding": "zstd"}).read()


def test_content_decoders_lists_what_is_installed() -> None:
    assert {"gzip", "x-gzip", "deflate", "br", "zstd"} <= set(HTTPResponse.CONTENT_DECODERS)


# -- bounded decoding ----------------------------------------------------------------------------

BOMB_SIZE = 200 * 2**20


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    zeros = b"\0" * BOMB_SIZE
    return {
        "gzip": gzip.compress(zeros, compresslevel=9),
        "deflate": zlib.compress(zeros, 9),
        "br": brotli.compress(zeros[: 64 * 2**20], quality=5),
        "zstd": zstandard.ZstdCompressor(level=3).compress(zeros),
        "gzip, gzip": gzip.compress(gzip.compress(zeros, compresslevel=9)),
    }


def _peak(action: Callable[[], int]) -> tuple[int, int]:
    tracemalloc.start()
    try:
        result = action()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _count_read(response: HTTPResponse, amt: int) -> int:
    total = 0
    while piece := response.read(amt):
        assert len(piece) <= amt
        total += len(piece)
    return total


def _count_stream(response: HTTPResponse, amt: int) -> int:
    total = 0
    for piece in response.stream(amt):
        assert len(piece) <= amt
        total += len(piece)
    return total


@pytest.mark.parametrize("coding", ["gzip", "deflate", "gzip, gzip"])
@pytest.mark.parametrize("how", ["read", "stream"])
def test_zlib_bomb_decodes_with_bounded_memory(
    bombs: dict[str, bytes], coding: str, how: str
) -> None:
    payload = bombs[coding]
    response = ours(payload, {"Content-Encoding": coding})
    count = _count_read if how == "read" else _count_stream
    total, peak = _peak(lambda: count(response, 65536))
    assert total == BOMB_SIZE
    assert peak < 2 * 2**20


@pytest.mark.parametrize("coding", ["br", "zstd"])
def test_brotli_and_zstd_bombs_decode_with_bounded_memory(
    bombs: dict[str, bytes], coding: str
) -> None:
    payload = bombs[coding]
    response = ours(payload, {"Content-Encoding": coding})
    total, peak = _peak(lambda: _count_stream(response, 65536))
    assert total == (64 * 2**20 if coding == "br" else BOMB_SIZE)
    assert peak < 2 * 2**20


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_drain_conn_discards_a_bomb_without_decoding(bombs: dict[str, bytes], coding: str) -> None:
    pool, conn = fake_pool(), fake_conn()
    response = ours(bombs[coding], {"Content-Encoding": coding}, pool=pool, connection=conn)
    assert response.read(10) == b"\0" * 10

    def drain() -> int:
        response.drain_conn()
        return 0

    _, peak = _peak(drain)
    assert peak < 2**20
    assert response.isclosed()
    assert pool.returned == [conn]
    assert conn.closes == 0
    assert response._decoder is None  # dropped, not kept holding its buffers


def test_read1_with_amt_is_bounded(bombs: dict[str, bytes]) -> None:
    response = ours(bombs["gzip"], {"Content-Encoding": "gzip"})

    def run() -> int:
        total = 0
        for _ in range(200):
            piece = response.read1(65536)
            assert 0 < len(piece) <= 65536
            total += len(piece)
        return total

    total, peak = _peak(run)
    assert total > 0
    assert peak < 2 * 2**20


# -- decoders directly ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "encode"),
    [
        (GzipDecoder, gzip.compress),
        (DeflateDecoder, zlib.compress),
        (DeflateDecoder, raw_deflate),
        (BrotliDecoder, brotli.compress),
        (ZstdDecoder, lambda d: zstandard.ZstdCompressor().compress(d)),
        (lambda: MultiDecoder("gzip, br"), lambda d: brotli.compress(gzip.compress(d))),
    ],
    ids=["gzip", "deflate", "raw-deflate", "br", "zstd", "multi"],
)
def test_decoders_respect_max_length(
    factory: Callable[[], typing.Any], encode: Callable[[bytes], bytes]
) -> None:
    decoder = factory()
    data = encode(TEXT)
    assert decoder.decompress(data[:5], 0) == b""  # stored, not decoded
    out = bytearray()
    pieces = [data[5:]]
    for _ in range(1_000_000):
        piece = decoder.decompress(pieces.pop() if pieces else b"", 1000)
        assert len(piece) <= 1000
        out += piece
        if not piece and not decoder.has_unconsumed_tail:
            break
    out += decoder.flush()
    assert out == TEXT


def _zstd_variants() -> dict[str, bytes]:
    text = TEXT * 4
    skippable = (0x184D2A53).to_bytes(4, "little") + (5).to_bytes(4, "little") + b"12345"
    with_checksum = zstandard.ZstdCompressor(write_checksum=True).compress(text)
    return {
        "plain": zstandard.ZstdCompressor().compress(text),
        "checksum": with_checksum,
        "no-content-size": zstandard.ZstdCompressor(write_content_size=False).compress(text),
        "incompressible": zstandard.ZstdCompressor().compress(RANDOM * 4),
        "zeros": zstandard.ZstdCompressor(level=3).compress(b"\0" * 2_000_000),
        "frames-and-skippable": with_checksum + skippable + with_checksum,
        "empty-frame": zstandard.ZstdCompressor().compress(b""),
    }


@pytest.mark.parametrize("name", sorted(_zstd_variants()))
@pytest.mark.parametrize("piece", [1, 5, 4096, None])
def test_zstd_feeds_one_block_at_a_time(name: str, piece: int | None) -> None:
    data = _zstd_variants()[name]
    expected = zstandard.ZstdDecompressor().decompressobj(read_across_frames=True)
    decoder = ZstdDecoder()
    out = bytearray()
    pieces = [data[i : i + piece] for i in range(0, len(data), piece)] if piece else [data]
    for chunk in pieces:
        # A bounded call may feed only part of its input: it never decodes past one block.
        produced = decoder.decompress(chunk, 1)
        out += produced
        while decoder.has_unconsumed_tail:
            produced = decoder.decompress(b"", 65536)
            assert len(produced) <= 65536
            out += produced
    out += decoder.flush()
    assert not decoder._walker._opaque
    assert bytes(out) == expected.decompress(data)


def test_zstd_output_per_feed_is_one_block_at_most() -> None:
    data = _zstd_variants()["zeros"]
    decoder = ZstdDecoder()
    assert decoder.decompress(data, 1) == b"\0"
    assert len(decoder._excess) < 128 * 1024  # only the rest of the first block is held


def test_multi_decoder_flush_runs_through_the_chain() -> None:
    decoder = MultiDecoder("deflate, gzip")
    data = gzip.compress(zlib.compress(TEXT))
    assert decoder.decompress(data) + decoder.flush() == TEXT


def test_old_brotli_without_output_limit_warns() -> None:
    decoder = BrotliDecoder()
    decoder._can_accept = None  # what a brotli package older than 1.2.0 looks like
    with pytest.warns(DependencyWarning, match=r"Brotli >= 1\.2\.0 is required"):
        assert decoder.decompress(brotli.compress(TEXT), 10) == TEXT[:10]
    assert decoder.has_unconsumed_tail  # the rest was decoded at once and is kept
    assert decoder.decompress(b"") == TEXT[10:]


# -- reading -------------------------------------------------------------------------------------


def test_read_amt_zero_and_negative() -> None:
    response = ours(b"hello world")
    assert response.read(0) == b""
    assert response.read(-1) == b"hello world"


def test_mixing_decoded_and_raw_reads_raises_like_urllib3() -> None:
    payload = gzip.compress(TEXT)
    messages = []
    for response in (
        theirs(payload, {"Content-Encoding": "gzip"}),
        ours(payload, {"Content-Encoding": "gzip"}),
    ):
        response.read(10)
        with pytest.raises(RuntimeError) as excinfo:
            response.read(10, decode_content=False)
        messages.append(str(excinfo.value))
    assert messages[0] == messages[1]
    assert "read(decode_content=False) is not supported" in messages[1]

    messages = []
    for response in (
        theirs(payload, {"Content-Encoding": "gzip"}),
        ours(payload, {"Content-Encoding": "gzip"}),
    ):
        response.read1(10)
        with pytest.raises(RuntimeError) as excinfo:
            response.read1(10, decode_content=False)
        messages.append(str(excinfo.value))
    assert messages[0] == messages[1]


def test_raw_then_decoded_reads_are_allowed() -> None:
    payload = gzip.compress(TEXT)
    response = ours(payload, {"Content-Encoding": "gzip"})
    head = response.read(10, decode_content=False)
    assert head == payload[:10]


@pytest.mark.parametrize("amt", [None, 1, 5, 1000])
def test_read1_matches_urllib3(amt: int | None) -> None:
    payload = gzip.compress(TEXT)
    expected = read1_all(theirs(payload, {"Content-Encoding": "gzip"}), amt)
    assert read1_all(ours(payload, {"Content-Encoding": "gzip"}), amt) == expected == TEXT
    assert read1_all(ours(TEXT), amt) == TEXT
    assert read1_all(ours(TEXT, framing="chunked"), amt) == TEXT


def test_read1_zero() -> None:
    assert ours(b"abc").read1(0) == b""


def test_readinto_and_io_wrappers() -> None:
    response = ours(gzip.compress(TEXT), {"Content-Encoding": "gzip"})
    buf = bytearray(100)
    assert response.readinto(buf) == 100
    assert bytes(buf) == TEXT[:100]
    wrapped = io.BufferedReader(ours(TEXT), buffer_size=4096)
    assert wrapped.read() == TEXT


def test_text_wrapper_with_auto_close_false() -> None:
    response = ours(b"first line\nsecond line\n", auto_close=False)
    with io.TextIOWrapper(response, encoding="utf-8") as text:  # type: ignore[type-var]
        assert text.readlines() == ["first line\n", "second line\n"]
    assert response.closed


def test_data_is_cached_and_json() -> None:
    response = ours(json.dumps({"a": [1, 2]}).encode())
    assert response.json() == {"a": [1, 2]}
    assert response.data == b'{"a": [1, 2]}'
    assert response.read() == b""
    with pytest.raises(json.JSONDecodeError):
        ours(b"{not json").json()
    with pytest.raises(UnicodeDecodeError):
        ours(b"\xff\xfe").json()


def test_preload_reads_everything_at_construction() -> None:
    done = Done()
    response = ours(b"hello", preload=True, done=done)
    assert done.calls == [True]
    assert response.data == b"hello"
    assert response.isclosed()


def test_bytes_and_str_bodies_behave_like_urllib3() -> None:
    for body in (b"abc", "abc", b""):
        peer = urllib3.HTTPResponse(body=body)
        response = HTTPResponse(body=body)
        assert response.data == peer.data
    peer = urllib3.HTTPResponse(body=b"abc", preload_content=False)
    response = HTTPResponse(body=b"abc", preload_content=False)
    assert response.read() == peer.read()
    assert response.data == peer.data == b"abc"


@pytest.mark.parametrize("amt", [1, 3, 4096])
def test_iterating_yields_lines_like_urllib3(amt: int) -> None:
    body = b"one\ntwo\n\nthree\nno newline at end"
    assert list(ours(body)) == list(theirs(body))
    assert list(ours(body, framing="chunked")) == list(ours(body))


def test_tell_counts_wire_bytes_and_length_remaining_counts_down() -> None:
    payload = gzip.compress(TEXT)
    response = ours(payload, {"Content-Encoding": "gzip"})
    assert response.length_remaining == len(payload)
    response.read(100)
    assert 0 < response.tell() <= len(payload)
    assert response.length_remaining == len(payload) - response.tell()
    response.read()
    assert response.tell() == len(payload)
    assert response.length_remaining == 0


def test_read_chunked_splits_by_amt_and_decodes_on_request() -> None:
    response = ours(TEXT[:100], framing="chunked")  # 7-byte chunks
    assert list(response.read_chunked(3)) == [
        piece for i in range(0, 100, 7) for piece in _split(TEXT[i : min(i + 7, 100)], 3)
    ]
    response = ours(gzip.compress(TEXT), {"Content-Encoding": "gzip"}, framing="chunked")
    assert b"".join(response.read_chunked(decode_content=True)) == TEXT
    assert list(response.read_chunked()) == []  # already read


def _split(data: bytes, n: int) -> list[bytes]:
    return [data[i : i + n] for i in range(0, len(data), n)]


def test_read_chunked_refuses_unchunked_and_incompatible_bodies() -> None:
    with pytest.raises(ResponseNotChunked, match="Header 'transfer-encoding: chunked' is missing"):
        next(ours(b"abc").read_chunked())
    response = HTTPResponse(
        body=io.BytesIO(b"3\r\nabc\r\n0\r\n\r\n"),
        headers={"Transfer-Encoding": "chunked"},
        preload_content=False,
    )
    assert not response.supports_chunked_reads()
    with pytest.raises(BodyNotHttplibCompatible, match="should have have an fp attribute"):
        next(response.read_chunked())


def test_head_response_with_chunked_header_has_no_body() -> None:
    reader = BodyReader(io.BytesIO(b""), chunked=False, length=0)
    response = HTTPResponse(
        body=reader,
        headers={"Transfer-Encoding": "chunked"},
        status=200,
        request_method="HEAD",
        preload_content=False,
    )
    assert list(response.read_chunked()) == []
    assert list(response.stream()) == []
    assert response.read() == b""


# -- lengths and headers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_length", "status", "method"),
    [
        ("42", 200, "GET"),
        ("42, 42", 200, "GET"),
        ("-5", 200, "GET"),
        ("abc", 200, "GET"),
        (None, 200, "GET"),
        ("42", 204, "GET"),
        ("42", 304, "GET"),
        ("42", 101, "GET"),
        ("42", 200, "HEAD"),
    ],
)
def test_length_remaining_matches_urllib3(
    content_length: str | None, status: int, method: str
) -> None:
    headers = {"Content-Length": content_length} if content_length is not None else {}
    kwargs: dict[str, typing.Any] = {
        "headers": headers,
        "status": status,
        "request_method": method,
        "preload_content": False,
    }
    peer = urllib3.HTTPResponse(body=io.BytesIO(b""), **kwargs)
    response = HTTPResponse(body=io.BytesIO(b""), **kwargs)
    assert response.length_remaining == peer.length_remaining


def test_conflicting_content_lengths_raise_invalid_header() -> None:
    with pytest.raises(InvalidHeader, match=r"multiple unmatching values \(42, 43\)"):
        HTTPResponse(body=io.BytesIO(b""), headers={"Content-Length": "42, 43"})


def test_content_length_with_chunked_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="pooltest.response"):
        response = ours(b"abc", {"Content-Length": "3"}, framing="chunked")
    assert "both Content-Length and Transfer-Encoding" in caplog.text
    assert response.length_remaining is None
    assert response.read() == b"abc"


def test_accessors() -> None:
    response = HTTPResponse(
        body=b"",
        headers={"Location": "/next", "X-A": "1"},
        status=301,
        reason="Moved",
        version=11,
        version_string="HTTP/1.1",
        request_url="http://example.test/start",
    )
    assert response.get_redirect_location() == "/next"
    assert response.getheader("x-a") == "1"
    assert response.getheader("missing", "d") == "d"
    assert response.getheaders() is response.headers
    assert response.info() is response.headers
    assert isinstance(response.headers, HTTPHeaderDict)
    assert response.geturl() == response.url == "http://example.test/start"
    assert (response.status, response.reason, response.version, response.version_string) == (
        301,
        "Moved",
        11,
        "HTTP/1.1",
    )
    assert HTTPResponse(status=302).get_redirect_location() is None
    assert HTTPResponse(status=200, headers={"Location": "/x"}).get_redirect_location() is False
    assert response.readable()
    response.flush()


def test_retries_setter_takes_the_last_redirect_location() -> None:
    history = (RequestHistory("GET", "http://a.test/", None, 302, "http://b.test/final"),)
    response = HTTPResponse(request_url="http://a.test/", retries=Retry(history=history))
    assert response.url == "http://b.test/final"
    response.retries = Retry()
    assert response.url == "http://b.test/final"


def test_headers_may_be_given_as_any_mapping() -> None:
    headers = HTTPHeaderDict({"A": "1"})
    assert HTTPResponse(headers=headers).headers is headers
    assert HTTPResponse(headers={"A": "1"}).headers["a"] == "1"


def _half_built(excinfo: pytest.ExceptionInfo[BaseException]) -> HTTPResponse:
    """The response whose constructor raised, fished out of the traceback."""
    tb: types.TracebackType | None = excinfo.tb
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("self")
        if isinstance(candidate, HTTPResponse):
            return candidate
        tb = tb.tb_next
    raise AssertionError("no HTTPResponse in the traceback")


@pytest.mark.parametrize(
    "build",
    [
        lambda: HTTPResponse(body=io.BytesIO(b""), headers={"Content-Length": "1, 2"}),
        lambda: ours(b"not gzip", {"Content-Encoding": "gzip"}, preload=True),
        lambda: HTTPResponse(body=io.BytesIO(b"x"), retries=object()),  # type: ignore[arg-type]
    ],
    ids=["invalid-length", "decode-error", "base-class-failure"],
)
def test_a_half_built_response_can_still_be_closed(build: Callable[[], object]) -> None:
    # io.IOBase.__del__ calls close() on whatever the failed constructor left behind.
    with pytest.raises(Exception) as excinfo:  # noqa: PT011 - each case raises its own error
        build()
    response = _half_built(excinfo)
    response.close()
    assert response.closed


def test_base_class_is_abstract() -> None:
    base = BaseHTTPResponse(
        status=200,
        version=11,
        version_string="HTTP/1.1",
        reason="OK",
        decode_content=True,
        request_url=None,
    )
    with pytest.raises(NotImplementedError):
        base.read()
    with pytest.raises(NotImplementedError):
        _ = base.data


# -- connection release and errors ---------------------------------------------------------------


@pytest.mark.parametrize("framing", ["length", "chunked", "eof"])
@pytest.mark.parametrize(
    "how",
    [
        lambda r: r.read(),
        lambda r: read_all_amt(r, 10),
        lambda r: list(r.stream(10)),
        lambda r: read1_all(r, None),
    ],
    ids=["read", "read-amt", "stream", "read1"],
)
def test_connection_is_released_once_when_the_body_ends(
    framing: str, how: Callable[[HTTPResponse], object]
) -> None:
    pool, conn, done = fake_pool(), fake_conn(), Done()
    response = ours(TEXT[:100], framing=framing, pool=pool, connection=conn, done=done)
    how(response)
    assert pool.returned == [conn]
    assert response.connection is None
    assert conn.closes == 0
    assert done.calls == [True]
    response.read()
    response.release_conn()
    assert pool.returned == [conn]


def test_partial_read_keeps_the_connection() -> None:
    pool, conn = fake_pool(), fake_conn()
    response = ours(TEXT[:100], pool=pool, connection=conn)
    response.read(10)
    assert pool.returned == []
    assert response.connection is conn
    response.release_conn()
    assert pool.returned == [conn]
    response.release_conn()
    assert pool.returned == [conn]


def test_drain_conn_releases() -> None:
    pool, conn, done = fake_pool(), fake_conn(), Done()
    response = ours(TEXT, pool=pool, connection=conn, done=done)
    response.read(10)
    response.drain_conn()
    assert pool.returned == [conn]
    assert done.calls == [True]
    assert conn.closes == 0


def test_drain_conn_of_a_broken_body_closes_the_connection() -> None:
    pool, conn, done = fake_pool(), fake_conn(), Done()
    response = ours(b"short", {"Content-Length": "100"}, pool=pool, connection=conn, done=done)
    response.drain_conn()  # swallows the error
    assert done.calls == [False]
    assert conn.closes == 1
    assert pool.returned == [conn]  # handed back closed, as urllib3 does


def test_close_closes_body_and_connection() -> None:
    pool, conn, done = fake_pool(), fake_conn(), Done()
    response = ours(TEXT, pool=pool, connection=conn, done=done)
    response.read(5)
    response.close()
    assert done.calls == [False]
    assert conn.closes == 1
    assert response.closed
    assert response.read() == b""


@pytest.mark.parametrize("style", ["read", "read-3", "stream", "read1"])
@pytest.mark.parametrize("httplib", [False, True], ids=["bytesio-peer", "http.client-peer"])
def test_truncated_body_raises_protocol_error_like_urllib3(style: str, httplib: bool) -> None:
    headers = {"Content-Length": "10"}
    peer = theirs(b"hello", headers, httplib=httplib)
    expected = outcome(functools.partial(consume, peer, style))
    got = outcome(functools.partial(consume, ours(b"hello", headers), style))
    message = "Connection broken: IncompleteRead(5 bytes read, 5 more expected)"
    assert got == ("ProtocolError", message)
    if style == "read1":
        # urllib3 only checks the length when read1() is given a size; pooltest always does.
        assert expected == b"hello"
    elif httplib or style != "read":
        assert expected == got
    else:
        assert expected == b"hello"  # a BytesIO body cannot tell urllib3 it was cut short


def test_truncated_body_without_enforcement_returns_what_came() -> None:
    response = ours(b"hello", {"Content-Length": "10"}, enforce_content_length=False)
    assert response.read() == b"hello"


def test_errors_close_the_connection() -> None:
    pool, conn, done = fake_pool(), fake_conn(), Done()
    response = ours(b"hel", {"Content-Length": "5"}, pool=pool, connection=conn, done=done)
    with pytest.raises(ProtocolError, match=r"Connection broken: IncompleteRead\(3 bytes read"):
        response.read()
    assert conn.closes == 1
    assert done.calls == [False]


def test_socket_timeout_becomes_read_timeout_error() -> None:
    pool, conn, done = fake_pool(), fake_conn(), Done()
    fp = io.BufferedReader(FailingStream(b"abc", TimeoutError("timed out")))
    response = ours(b"", {"Content-Length": "10"}, fp=fp, pool=pool, connection=conn, done=done)
    assert response.read(3) == b"abc"
    with pytest.raises(ReadTimeoutError, match="Read timed out") as excinfo:
        response.read(3)
    assert excinfo.value.pool is pool
    assert conn.closes == 1
    assert done.calls == [False]


def test_os_error_becomes_protocol_error() -> None:
    error = ConnectionResetError(104, "Connection reset by peer")
    fp = io.BufferedReader(FailingStream(b"", error))
    response = ours(b"", {"Content-Length": "10"}, fp=fp)
    with pytest.raises(ProtocolError) as excinfo:
        response.read()
    assert excinfo.value.args == (f"Connection broken: {error!r}", error)


def test_invalid_chunk_length_becomes_protocol_error() -> None:
    fp = io.BytesIO(b"zz\r\nabc\r\n0\r\n\r\n")
    response = ours(b"", framing="chunked", fp=fp)
    with pytest.raises(
        ProtocolError, match=r"Connection broken: InvalidChunkLength\(got length b'zz"
    ):
        response.read()
    fp = io.BytesIO(b"zz\r\nabc\r\n0\r\n\r\n")
    response = ours(b"", framing="chunked", fp=fp)
    with pytest.raises(ProtocolError, match="InvalidChunkLength"):
        list(response.read_chunked())


def test_abandoning_read_chunked_closes_the_connection() -> None:
    pool, conn = fake_pool(), fake_conn()
    response = ours(TEXT, framing="chunked", pool=pool, connection=conn)
    chunks = response.read_chunked()
    next(chunks)
    chunks.close()
    assert conn.closes == 1


def test_shutdown() -> None:
    calls: list[int] = []
    conn = fake_conn()
    response = ours(TEXT, connection=conn, sock_shutdown=calls.append)
    response.shutdown()
    assert calls == [socket.SHUT_RD]
    with pytest.raises(ValueError, match="sock_shutdown is not set"):
        ours(TEXT).shutdown()
    released = ours(TEXT, sock_shutdown=calls.append)
    with pytest.raises(RuntimeError, match="already been released"):
        released.shutdown()


def test_fileno() -> None:
    with pytest.raises(OSError, match="no file to get a fileno from"):
        HTTPResponse(body=b"x").fileno()
    a, b = socket.socketpair()
    try:
        with a.makefile("rb") as fp:
            response = ours(b"", {"Content-Length": "1"}, fp=fp)
            assert response.fileno() == a.fileno()
    finally:
        a.close()
        b.close()


def test_closed_and_isclosed() -> None:
    response = ours(b"abc")
    states = [response.closed, response.isclosed()]
    response.read()
    states += [response.closed, response.isclosed()]
    assert states == [False, False, True, True]
    assert HTTPResponse(body=b"abc").closed


def test_is_response_to_head() -> None:
    assert is_response_to_head(HTTPResponse(request_method="HEAD", preload_content=False))
    assert not is_response_to_head(HTTPResponse(request_method="GET", preload_content=False))

    class Sock:
        def makefile(self, mode: str) -> io.BytesIO:
            return io.BytesIO(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n")

    original = http.client.HTTPResponse(Sock(), method="HEAD")  # type: ignore[arg-type]
    assert is_response_to_head(original)


# -- util.response -------------------------------------------------------------------------------


def test_is_fp_closed() -> None:
    fp = io.BytesIO()
    assert not is_fp_closed(fp)
    fp.close()
    assert is_fp_closed(fp)
    reader = BodyReader(io.BytesIO(b""), chunked=False, length=0)
    assert is_fp_closed(reader)

    class Wrapper:
        fp = None

    assert is_fp_closed(Wrapper())
    with pytest.raises(ValueError, match=r"Unable to determine whether fp is closed\."):
        is_fp_closed(object())


@pytest.mark.parametrize(
    "head",
    [
        b"A: 1\r\nB: 2\r\n\r\n",
        b"A: 1\r\nnot a header line\r\nB: 2\r\n\r\n",
        b" folded: x\r\nA: 1\r\n\r\n",
    ],
)
def test_assert_header_parsing_matches_urllib3(head: bytes) -> None:
    message = http.client.parse_headers(io.BytesIO(head))
    expected = outcome(lambda: urllib3.util.response.assert_header_parsing(message))
    got = outcome(lambda: assert_header_parsing(message))
    if expected is None:
        assert got is None
    else:
        assert isinstance(expected, tuple)
        assert isinstance(got, tuple)
        assert got[0] == "HeaderParsingError"
        assert got[1] == expected[1]


def test_assert_header_parsing_accepts_our_headers_and_refuses_others() -> None:
    assert_header_parsing(HTTPHeaderDict({"A": "1"}))
    with pytest.raises(TypeError, match=r"expected httplib\.Message, got <class 'dict'>"):
        assert_header_parsing({"A": "1"})  # type: ignore[arg-type]
    assert issubclass(HeaderParsingError, Exception)


# -- BytesQueueBuffer ----------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    ops=st.lists(
        st.one_of(
            st.tuples(st.just("put"), st.binary(max_size=20)),
            st.tuples(st.just("get"), st.integers(min_value=0, max_value=30)),
            st.tuples(st.just("get_all"), st.just(0)),
        ),
        max_size=30,
    )
)
def test_bytes_queue_buffer_matches_urllib3(ops: list[tuple[str, typing.Any]]) -> None:
    mine, peer = BytesQueueBuffer(), urllib3.response.BytesQueueBuffer()
    for op, arg in ops:
        if op == "put":
            mine.put(arg)
            peer.put(arg)
        elif op == "get":
            assert outcome(functools.partial(mine.get, arg)) == outcome(
                functools.partial(peer.get, arg)
            )
        else:
            assert mine.get_all() == peer.get_all()
        assert len(mine) == len(peer)


def test_bytes_queue_buffer_errors() -> None:
    buffer = BytesQueueBuffer()
    with pytest.raises(RuntimeError, match="buffer is empty"):
        buffer.get(1)
    buffer.put(b"abc")
    with pytest.raises(ValueError, match="n should be > 0"):
        buffer.get(-1)
    assert buffer.get(0) == b""
    assert buffer.get(2) == b"ab"
    assert buffer.get_all() == b"c"
    assert buffer.get_all() == b""
