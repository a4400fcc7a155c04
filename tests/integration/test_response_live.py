"""HTTPResponse over real sockets, run side by side through urllib3 and pooltest.

Covers what a caller sees of a live response: status line (status, reason, version,
version_string), headers (an ``HTTPHeaderDict``: case-insensitive, repeated fields kept), ``data``
and ``json()``, every way of reading the body (``read(amt)``, ``read1``, ``stream(amt)``,
``read_chunked``, iteration), what happens to the connection (``release_conn``, ``drain_conn``,
``close``, automatic release at the end of the body), ``geturl``/``retries``, content decoding
(gzip, multi-member gzip, zlib and raw deflate, brotli, zstd), ``enforce_content_length``, and
decoding that stays bounded on a decompression bomb.

Most tests are parametrized over both libraries and compare what the caller and the server
observed; the few that are pooltest-only say why.
"""

from __future__ import annotations

import gzip
import http.client
import io
import json
import socket
import threading
import tracemalloc
import zlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
import urllib3
from support import (
    ENCODED_PAYLOAD,
    ENCODINGS,
    HAS_BROTLI,
    HAS_ZSTD,
    HEAD_CHECK_BODY,
    HEADERS_ROUTE_FIELDS,
    JSON_BODY,
    KeepAliveServer,
    RawServer,
    chunked_body,
    read_request,
    stream_payload,
)
from support import raw as faults
from support.raw import Handler

import pooltest

pytestmark = pytest.mark.network

RawFactory = Callable[[Handler], RawServer]
LIBS = pytest.mark.parametrize("lib", [pooltest, urllib3], ids=["pooltest", "urllib3"])

#: Decoded size of the decompression bomb (zeros compress about 1000:1).
BOMB_SIZE = 32 << 20
#: Largest piece a bounded read may ask for in the bomb tests.
PIECE = 1 << 16


def _pool(lib: ModuleType, server: Any, **kw: Any) -> Any:
    return lib.HTTPConnectionPool(server.host, server.port, **kw)


def _head(*lines: str) -> bytes:
    return "".join(f"{line}\r\n" for line in lines).encode("latin-1") + b"\r\n"


def _keepalive(response: bytes) -> Handler:
    """Answer every request on the connection with ``response`` until the client leaves."""

    def handler(sock: socket.socket, index: int) -> None:
        while True:
            try:
                read_request(sock)
            except (ConnectionError, TimeoutError, OSError):
                return
            sock.sendall(response)

    return handler


def _without_date(items: Any) -> list[tuple[str, str]]:
    return [(k, v) for k, v in items if k.lower() != "date"]


# --- status line and headers ----------------------------------------------------------------


@LIBS
def test_status_line_and_headers(lib: ModuleType, http_server: KeepAliveServer) -> None:
    r = _pool(lib, http_server).request("GET", "/headers")
    assert (r.status, r.reason, r.version, r.version_string) == (200, "OK", 11, "HTTP/1.1")
    # Order is kept and duplicates stay separate fields; a repeated name is listed under the
    # spelling of its first occurrence.
    sent = [(k.lower(), v) for k, v in HEADERS_ROUTE_FIELDS]
    got = [(k.lower(), v) for k, v in r.headers.items() if (k.lower(), v) in sent]
    assert got == sent
    assert ("X-Mixed-Case", "MiXeD") in r.headers.items()
    assert r.headers.getlist("SET-COOKIE") == [v for k, v in sent if k == "set-cookie"]
    assert r.headers["x-dup"] == "first, second"
    assert r.headers.getlist("X-DUP") == ["first", "second"]
    assert r.headers["x-mixed-case"] == r.headers["X-MIXED-CASE"] == "MiXeD"
    assert "x-upper-case" in r.headers
    assert r.getheader("X-Lower-Case") == "lower"
    assert r.getheader("X-Absent", "default") == "default"
    assert r.info() is r.headers
    assert r.data == b"headers\n"


def test_headers_match_urllib3(http_server: KeepAliveServer) -> None:
    seen = [
        _without_date(_pool(lib, http_server).request("GET", "/headers").headers.items())
        for lib in (urllib3, pooltest)
    ]
    assert seen[0] == seen[1]


@LIBS
def test_http10_response_is_not_reused(lib: ModuleType, raw_server: RawFactory) -> None:
    response = _head("HTTP/1.0 200 Fine", "Content-Length: 2") + b"ok"
    server = raw_server(faults.respond(response))
    pool = _pool(lib, server)
    for _ in range(2):
        r = pool.request("GET", "/")
        assert (r.status, r.reason, r.version, r.data) == (200, "Fine", 10, b"ok")
    assert server.connections_accepted == 2


def test_version_string_is_the_response_version(raw_server: RawFactory) -> None:
    # Deviation: urllib3 2.8 reports its request's version ("HTTP/1.1") here whatever the
    # server answered; pooltest reports the version of the status line it parsed.
    server = raw_server(faults.respond(_head("HTTP/1.0 200 OK", "Content-Length: 0")))
    r = _pool(pooltest, server).request("GET", "/")
    assert (r.version, r.version_string) == (10, "HTTP/1.0")


_FRAMINGS = {
    "100-continue": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "length-and-chunked": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    "until-eof": b"HTTP/1.1 200 OK\r\n\r\nuntil the end",
    "same-length-twice": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
    "different-lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
    "obs-fold": b"HTTP/1.1 200 OK\r\nX-Folded: one\r\n two\r\nContent-Length: 2\r\n\r\nok",
    "no-reason": b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok",
    "bare-lf": b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    "other-transfer-coding": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nok",
    "204-with-length": b"HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\nok",
}


@pytest.mark.parametrize("name", list(_FRAMINGS))
def test_response_framing_matches_urllib3(name: str, raw_server: RawFactory) -> None:
    seen: list[tuple[Any, ...]] = []
    for lib in (urllib3, pooltest):
        server = raw_server(faults.respond(_FRAMINGS[name]))
        try:
            r = _pool(lib, server).request("GET", "/", retries=False)
        except lib.exceptions.HTTPError as exc:
            seen.append((type(exc).__name__, str(exc)))
        else:
            seen.append((r.status, r.reason, r.data, sorted(r.headers.items())))
    assert seen[0] == seen[1]


def test_every_interim_response_is_skipped(raw_server: RawFactory) -> None:
    # Deviation: http.client (under urllib3) skips only "100 Continue" and hands back a
    # "103 Early Hints" as if it were the final response; pooltest skips every 1xx but 101.
    interim = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n"
    server = raw_server(_keepalive(interim * 2 + b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    pool = _pool(pooltest, server)
    for _ in range(2):
        r = pool.request("GET", "/", retries=False)
        assert (r.status, r.data, "Link" in r.headers) == (200, b"ok", False)
    assert server.connections_accepted == 1


@pytest.mark.parametrize("value", ["-1", "abc", "1e3"])
def test_invalid_content_length_is_refused(value: str, raw_server: RawFactory) -> None:
    # Deviation: urllib3 ignores an invalid Content-Length and reads to the end of the
    # connection; pooltest follows RFC 9112 section 6.3 (invalid framing is an error).
    head = _head("HTTP/1.1 200 OK", f"Content-Length: {value}")
    server = raw_server(faults.respond(head + b"ok"))
    with pytest.raises(pooltest.exceptions.InvalidHeader):
        _pool(pooltest, server).request("GET", "/", retries=False)


# --- data, json, geturl, retries ---------------------------------------------------------


@LIBS
def test_data_json_geturl_and_retries(lib: ModuleType, http_server: KeepAliveServer) -> None:
    r = _pool(lib, http_server).request("GET", "/json?x=1")
    assert r.data == JSON_BODY
    assert r.json() == json.loads(JSON_BODY)
    assert r.json()["unicode"] == "caf\u00e9"
    assert r.geturl() == r.url == "/json?x=1"
    assert isinstance(r.retries, lib.Retry)
    assert r.retries.history == ()
    assert r.closed
    assert r.isclosed()


@LIBS
def test_json_of_a_body_that_is_not_json(lib: ModuleType, http_server: KeepAliveServer) -> None:
    r = _pool(lib, http_server).request("GET", "/")
    with pytest.raises(json.JSONDecodeError):
        r.json()


@LIBS
def test_json_of_a_chunked_echo(lib: ModuleType, http_server: KeepAliveServer) -> None:
    r = _pool(lib, http_server).request("POST", "/echo", body=iter([b"a", b"b"]))
    echoed = r.json()
    assert (echoed["body"], echoed["chunked"]) == ("ab", True)


def test_geturl_after_redirects_through_poolmanager(http_server: KeepAliveServer) -> None:
    urls = []
    for lib in (urllib3, pooltest):
        r = lib.PoolManager().request("GET", http_server.url + "/redirect-n/2")
        urls.append((r.status, r.geturl(), len(r.retries.history)))
    # The URL is the last Location, as sent (here relative), in both libraries.
    assert urls[0] == urls[1] == (200, "/redirect-n/0", 2)


# --- reading the body -------------------------------------------------------------------


@LIBS
def test_read_amt_tell_and_length_remaining(lib: ModuleType, http_server: KeepAliveServer) -> None:
    size = 100_000
    r = _pool(lib, http_server).request(
        "GET", f"/stream?size={size}&piece=7000", preload_content=False
    )
    assert r.length_remaining == size
    pieces = []
    while piece := r.read(30_000):
        pieces.append(piece)
        assert r.tell() == sum(map(len, pieces))
        assert r.length_remaining == size - r.tell()
    assert [len(p) for p in pieces] == [30_000, 30_000, 30_000, 10_000]
    assert b"".join(pieces) == stream_payload(size)
    assert r.read() == b""
    assert r.read(10) == b""


@pytest.mark.parametrize("path", ["/stream?size=70000&piece=5000", "/chunked?n=50"])
def test_read1_pieces_match_urllib3(path: str, http_server: KeepAliveServer) -> None:
    results = []
    for lib in (urllib3, pooltest):
        r = _pool(lib, http_server).request("GET", path, preload_content=False)
        pieces = []
        while piece := r.read1(4096):
            assert 0 < len(piece) <= 4096
            pieces.append(piece)
        results.append(b"".join(pieces))
        assert r.read1() == b""
    assert results[0] == results[1]
    expected = stream_payload(70_000) if path.startswith("/stream") else chunked_body(50)
    assert results[1] == expected


@LIBS
def test_read1_without_amount(lib: ModuleType, http_server: KeepAliveServer) -> None:
    r = _pool(lib, http_server).request("GET", "/stream?size=5000", preload_content=False)
    got = b""
    while piece := r.read1():
        got += piece
    assert got == stream_payload(5000)


@pytest.mark.parametrize(
    "path",
    [
        "/stream?size=100000&piece=3000",
        "/stream?size=100000&chunked=1&piece=3000",
        "/chunked?n=20",
        "/gzip",
        "/deflate",
    ],
)
def test_stream_pieces_match_urllib3(path: str, http_server: KeepAliveServer) -> None:
    seen = []
    for lib in (urllib3, pooltest):
        r = _pool(lib, http_server).request("GET", path, preload_content=False)
        pieces = list(r.stream(1000))
        assert all(0 < len(p) <= 1000 for p in pieces)
        seen.append(pieces)
    assert seen[0] == seen[1]


@LIBS
def test_read_chunked_yields_the_server_chunks(
    lib: ModuleType, http_server: KeepAliveServer
) -> None:
    pool = _pool(lib, http_server)
    r = pool.request("GET", "/chunked?n=4", preload_content=False)
    assert r.chunked
    assert list(r.read_chunked()) == [b"chunk %d\n" % i for i in range(4)]
    r = pool.request("GET", "/chunked?n=2&trailers=1", preload_content=False)
    assert list(r.read_chunked(3)) == [b"chu", b"nk ", b"0\n", b"chu", b"nk ", b"1\n"]
    r = pool.request("GET", "/json", preload_content=False)
    with pytest.raises(lib.exceptions.ResponseNotChunked):
        next(r.read_chunked())
    r.drain_conn()
    # Trailers were consumed: the keep-alive connection carried every request.
    assert http_server.connection_ids == [0, 0, 0]


@LIBS
def test_iterating_yields_lines(lib: ModuleType, http_server: KeepAliveServer) -> None:
    r = _pool(lib, http_server).request("GET", "/chunked?n=3", preload_content=False)
    assert list(r) == [b"chunk 0\n", b"chunk 1\n", b"chunk 2\n"]


@LIBS
def test_head_and_no_content_have_no_body(lib: ModuleType, http_server: KeepAliveServer) -> None:
    pool = _pool(lib, http_server)
    r = pool.request("HEAD", "/head-check", preload_content=False)
    assert r.headers["Content-Length"] == str(len(HEAD_CHECK_BODY))
    assert (r.read(), r.length_remaining, list(r.stream())) == (b"", 0, [])
    r = pool.request("HEAD", "/chunked")
    assert r.data == b""
    r = pool.request("GET", "/no-content", preload_content=False)
    assert (r.status, r.read(), r.length_remaining) == (204, b"", 0)
    r = pool.request("GET", "/head-check")
    assert r.data == HEAD_CHECK_BODY
    assert http_server.connection_ids == [0, 0, 0, 0]


@LIBS
def test_io_wrappers(lib: ModuleType, http_server: KeepAliveServer) -> None:
    pool = _pool(lib, http_server)
    r = pool.request("GET", "/chunked?n=3", preload_content=False)
    lines = io.TextIOWrapper(r, encoding="utf-8").readlines()
    assert lines == ["chunk 0\n", "chunk 1\n", "chunk 2\n"]
    r = pool.request("GET", "/gzip", preload_content=False)
    assert io.BufferedReader(r, 100).read() == ENCODED_PAYLOAD
    r = pool.request("GET", "/gzip", preload_content=False)
    buffer = bytearray(50)
    assert r.readinto(buffer) == 50
    assert bytes(buffer) == ENCODED_PAYLOAD[:50]


@LIBS
def test_shutdown_unblocks_a_read_in_another_thread(
    lib: ModuleType, http_server: KeepAliveServer
) -> None:
    pool = _pool(lib, http_server, timeout=10)
    r = pool.request("GET", "/slow?where=body&delay=5", preload_content=False)
    timer = threading.Timer(0.1, r.shutdown)
    timer.start()
    try:
        with pytest.raises(lib.exceptions.ProtocolError):
            r.read()  # would wait 5 s for the body
    finally:
        timer.join(5)
    r.release_conn()
    assert pool.request("GET", "/").status == 200
    assert http_server.connection_ids == [0, 1]


# --- the connection behind a response ---------------------------------------------------------


@LIBS
def test_body_read_to_the_end_releases_the_connection(
    lib: ModuleType, http_server: KeepAliveServer
) -> None:
    pool = _pool(lib, http_server)
    r = pool.request("GET", "/stream?size=3000", preload_content=False)
    assert r.connection is not None
    assert pool.pool.qsize() == 0
    assert r.read() == stream_payload(3000)
    assert r.connection is None
    assert pool.pool.qsize() == 1
    r.release_conn()  # a second release is a no-op
    assert pool.pool.qsize() == 1
    assert pool.request("GET", "/").status == 200
    assert http_server.connection_ids == [0, 0]


@LIBS
def test_drain_conn_keeps_the_connection(lib: ModuleType, http_server: KeepAliveServer) -> None:
    pool = _pool(lib, http_server)
    r = pool.request("GET", "/stream?size=200000", preload_content=False)
    assert len(r.read(100)) == 100
    r.drain_conn()
    assert r.connection is None
    assert pool.pool.qsize() == 1
    r = pool.request("GET", "/gzip", preload_content=False)
    r.read(10)
    r.drain_conn()
    assert pool.request("GET", "/json").data == JSON_BODY
    assert http_server.connection_ids == [0, 0, 0]


def test_release_and_close_of_unread_bodies_match_urllib3(http_server: KeepAliveServer) -> None:
    """An unread body makes the connection unusable: released or closed, it is not reused."""
    seen = []
    for lib in (urllib3, pooltest):
        before = http_server.connections_accepted
        pool = _pool(lib, http_server)
        r = pool.request("GET", "/stream?size=1000", preload_content=False)
        r.release_conn()
        released = pool.pool.qsize()
        assert pool.request("GET", "/").data == b"pooltest loopback origin\n"
        r = pool.request("GET", "/stream?size=1000", preload_content=False)
        r.read(10)
        r.close()
        closed = (r.closed, r.read(), pool.pool.qsize())
        assert pool.request("GET", "/").status == 200
        seen.append((released, closed, http_server.connections_accepted - before))
    assert seen[0] == seen[1]
    assert seen[1][2] == 3  # initial, after the release, after the close


@LIBS
def test_closing_a_released_response_spares_the_reused_connection(
    lib: ModuleType, http_server: KeepAliveServer
) -> None:
    """A response released early and closed (or collected) later must not break the request
    that has since taken its connection."""
    pool = _pool(lib, http_server)
    first = pool.request("GET", "/stream?size=1000", preload_content=False)
    first.read(10)
    first.release_conn()
    second = pool.request("GET", "/stream?size=2000", preload_content=False)
    first.close()
    del first
    assert second.read() == stream_payload(2000)
    assert pool.request("GET", "/").status == 200


@LIBS
def test_preload_and_release_conn_false(lib: ModuleType, http_server: KeepAliveServer) -> None:
    pool = _pool(lib, http_server)
    r = pool.urlopen("GET", "/json", release_conn=False)
    assert r.data == JSON_BODY
    r.release_conn()
    assert pool.pool.qsize() == 1
    assert pool.request("GET", "/").status == 200
    assert http_server.connection_ids == [0, 0]


# --- content decoding ------------------------------------------------------------------------

_CODINGS = [
    pytest.param("/gzip", ENCODED_PAYLOAD, id="gzip"),
    pytest.param("/gzip?members=2", ENCODED_PAYLOAD * 2, id="gzip-2-members"),
    pytest.param("/deflate", ENCODED_PAYLOAD, id="deflate-zlib"),
    pytest.param("/deflate?raw=1", ENCODED_PAYLOAD, id="deflate-raw"),
    pytest.param(
        "/br",
        ENCODED_PAYLOAD,
        id="br",
        marks=pytest.mark.skipif(not HAS_BROTLI, reason="brotli is not installed"),
    ),
]


@LIBS
@pytest.mark.parametrize(("path", "decoded"), _CODINGS)
def test_content_decoding(
    lib: ModuleType, path: str, decoded: bytes, http_server: KeepAliveServer
) -> None:
    pool = _pool(lib, http_server)
    assert pool.request("GET", path).data == decoded
    r = pool.request("GET", path, preload_content=False)
    assert b"".join(r.stream(100)) == decoded
    r = pool.request("GET", path, preload_content=False)
    assert r.read(500) == decoded[:500]
    assert r.read() == decoded[500:]
    assert http_server.connection_ids == [0, 0, 0]


@pytest.mark.skipif(not HAS_ZSTD, reason="zstandard is not installed")
def test_zstd_decoding(http_server: KeepAliveServer) -> None:
    # pooltest only: urllib3 2.8 decodes zstd with backports.zstd / compression.zstd, not the
    # ``zstandard`` package installed here.
    pool = _pool(pooltest, http_server)
    assert pool.request("GET", "/zstd").data == ENCODED_PAYLOAD
    r = pool.request("GET", "/zstd", preload_content=False)
    pieces = list(r.stream(256))
    assert all(len(p) <= 256 for p in pieces)
    assert b"".join(pieces) == ENCODED_PAYLOAD


@LIBS
@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_decode_content_false_gives_the_wire_bytes(
    lib: ModuleType, coding: str, http_server: KeepAliveServer
) -> None:
    pool = _pool(lib, http_server)
    assert pool.request("GET", f"/{coding}", decode_content=False).data == ENCODINGS[coding]
    r = pool.request("GET", f"/{coding}", preload_content=False)
    assert r.read(decode_content=False) == ENCODINGS[coding]


@LIBS
def test_decoded_read_then_undecoded_read_is_refused(
    lib: ModuleType, http_server: KeepAliveServer
) -> None:
    r = _pool(lib, http_server).request("GET", "/gzip", preload_content=False)
    assert r.read(10) == ENCODED_PAYLOAD[:10]
    with pytest.raises(RuntimeError):
        r.read(10, decode_content=False)


@LIBS
def test_corrupt_gzip_body_raises_decode_error(lib: ModuleType, raw_server: RawFactory) -> None:
    body = b"\x1f\x8b\x08\x00this is not deflate data at all"
    response = _head("HTTP/1.1 200 OK", "Content-Encoding: gzip", f"Content-Length: {len(body)}")
    server = raw_server(faults.respond(response + body))
    with pytest.raises(lib.exceptions.DecodeError):
        _pool(lib, server).request("GET", "/", retries=False)


# --- enforce_content_length ------------------------------------------------------------------


@LIBS
def test_short_body_is_a_protocol_error(lib: ModuleType, raw_server: RawFactory) -> None:
    server = raw_server(faults.short_body(declared=100, sent=10))
    r = _pool(lib, server).request("GET", "/", preload_content=False)
    with pytest.raises(lib.exceptions.ProtocolError) as info:
        r.read()
    assert isinstance(info.value.args[1], http.client.IncompleteRead)
    assert "10 bytes read, 90 more expected" in str(info.value)


@LIBS
def test_short_body_streamed_without_enforcement(lib: ModuleType, raw_server: RawFactory) -> None:
    server = raw_server(faults.short_body(declared=100, sent=10))
    r = _pool(lib, server).request("GET", "/", enforce_content_length=False, preload_content=False)
    assert list(r.stream(4)) == [b"xxxx", b"xxxx", b"xx"]
    assert r.read() == b""


def test_short_body_read_whole_without_enforcement(raw_server: RawFactory) -> None:
    # Deviation: urllib3 2.8 still raises here, because http.client checks the length of a
    # whole-body read itself; pooltest honours enforce_content_length=False for every read.
    server = raw_server(faults.short_body(declared=100, sent=10))
    pool = _pool(pooltest, server)
    assert pool.request("GET", "/", enforce_content_length=False).data == b"x" * 10
    r = pool.request("GET", "/", enforce_content_length=False, preload_content=False)
    assert r.read() == b"x" * 10
    assert server.connections_accepted == 2  # a short body never leaves a reusable socket


# --- bounded decoding ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """A keep-alive response whose 32 KiB gzip body decodes to ``BOMB_SIZE`` zero bytes."""
    body = gzip.compress(bytes(BOMB_SIZE), compresslevel=9, mtime=0)
    head = _head("HTTP/1.1 200 OK", "Content-Encoding: gzip", f"Content-Length: {len(body)}")
    return head + body


@LIBS
def test_streaming_a_bomb_is_bounded(
    lib: ModuleType, gzip_bomb: bytes, raw_server: RawFactory, traced: Callable[[], int]
) -> None:
    server = raw_server(_keepalive(gzip_bomb))
    r = _pool(lib, server).request("GET", "/", preload_content=False)
    total = 0
    for piece in r.stream(PIECE):
        assert 0 < len(piece) <= PIECE
        assert not piece.strip(b"\0")
        total += len(piece)
    assert total == BOMB_SIZE
    assert traced() < 8 * PIECE  # a few pieces, never the decoded body


@LIBS
def test_small_reads_of_a_bomb_are_bounded(
    lib: ModuleType, gzip_bomb: bytes, raw_server: RawFactory, traced: Callable[[], int]
) -> None:
    server = raw_server(_keepalive(gzip_bomb))
    pool = _pool(lib, server)
    r = pool.request("GET", "/", preload_content=False)
    for _ in range(3):
        assert r.read(1000) == bytes(1000)
        assert r.read1(1000) == bytes(1000)
    r.drain_conn()  # discards the rest without decoding it
    assert traced() < 8 * PIECE
    assert (
        pool.request("GET", "/", decode_content=False).data == gzip_bomb.partition(b"\r\n\r\n")[2]
    )
    assert server.connections_accepted == 1


def test_deflate_bomb_read_amt_is_bounded(
    raw_server: RawFactory, traced: Callable[[], int]
) -> None:
    body = zlib.compress(bytes(BOMB_SIZE), 9)
    head = _head("HTTP/1.1 200 OK", "Content-Encoding: deflate", f"Content-Length: {len(body)}")
    server = raw_server(_keepalive(head + body))
    tracemalloc.reset_peak()
    r = _pool(pooltest, server).request("GET", "/", preload_content=False)
    assert r.read(PIECE) == bytes(PIECE)
    assert traced() < 8 * PIECE
    r.close()
