"""Tests of the loopback test servers themselves, driven by http.client and raw sockets.

Every route of ``KeepAliveServer``, every canned ``RawServer`` fault, TLS with the session CA
(wrong CA, wrong host, client certificates), the forward proxy (absolute-form and CONNECT),
connection counting under keep-alive and 32 concurrent clients, and bounded shutdown.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import socket
import ssl
import threading
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from support import (
    CLIENT_KEY_PASSWORD,
    ENCODED_PAYLOAD,
    HAS_BROTLI,
    HAS_ZSTD,
    HEAD_CHECK_BODY,
    HEADERS_ROUTE_FIELDS,
    JSON_BODY,
    KeepAliveServer,
    LoopbackGuard,
    MalformedBody,
    NonLoopbackConnectError,
    ProxyServer,
    RawServer,
    RequestRecord,
    ServerFarm,
    SocketReader,
    TLSKit,
    chunked_body,
    ipv6_available,
    is_loopback_host,
    read_request,
    stream_payload,
)
from support import raw as faults
from support.raw import Handler

pytestmark = pytest.mark.network

Response = tuple[http.client.HTTPResponse, bytes]


def _connect(server: Any, context: ssl.SSLContext | None = None) -> http.client.HTTPConnection:
    if context is not None:
        return http.client.HTTPSConnection(server.host, server.port, timeout=5, context=context)
    return http.client.HTTPConnection(server.host, server.port, timeout=5)


def _fetch(
    conn: http.client.HTTPConnection,
    path: str,
    method: str = "GET",
    body: Any = None,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> Response:
    conn.request(method, path, body=body, headers=headers or {}, **kwargs)
    response = conn.getresponse()
    return response, response.read()


def _get(server: KeepAliveServer, path: str, **kwargs: Any) -> Response:
    conn = _connect(server)
    try:
        return _fetch(conn, path, **kwargs)
    finally:
        conn.close()


def _raw_socket(server: Any) -> socket.socket:
    return socket.create_connection((server.host, server.port), timeout=5)


def _read_head(reader: SocketReader) -> bytes:
    return reader.read_until(b"\r\n\r\n")


def _echo(server: KeepAliveServer, path: str = "/echo", **kwargs: Any) -> dict[str, Any]:
    response, body = _get(server, path, **kwargs)
    assert response.status == 200
    result: dict[str, Any] = json.loads(body)
    return result


# --- KeepAliveServer routes -----------------------------------------------------------------


def test_index_and_unknown_route(http_server: KeepAliveServer) -> None:
    response, body = _get(http_server, "/")
    assert (response.status, body) == (200, b"pooltest loopback origin\n")
    response, body = _get(http_server, "/nope/deeper")
    assert response.status == 404
    assert b"/nope/deeper" in body


def test_json_route_is_fixed_112_bytes(http_server: KeepAliveServer) -> None:
    response, body = _get(http_server, "/json")
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/json"
    assert response.getheader("Content-Length") == "112"
    assert body == JSON_BODY
    assert json.loads(body)["unicode"] == "café"


def test_echo_reports_request_in_order(http_server: KeepAliveServer) -> None:
    body = bytes(range(256))
    headers = {"X-First": "1", "x-second": "two", "X-Third": "3"}
    echo = _echo(http_server, "/echo?a=1&a=2&b=", method="PUT", body=body, headers=headers)
    assert echo["method"] == "PUT"
    assert echo["path"] == "/echo"
    assert echo["target"] == "/echo?a=1&a=2&b="
    assert echo["query"] == "a=1&a=2&b="
    assert echo["args"] == {"a": ["1", "2"], "b": [""]}
    assert echo["http_version"] == "HTTP/1.1"
    names = [name for name, _ in echo["headers"]]
    assert names.index("X-First") < names.index("x-second") < names.index("X-Third")
    assert ["Content-Length", "256"] in echo["headers"]
    assert echo["body"].encode("latin-1") == body
    assert base64.b64decode(echo["body_base64"]) == body
    assert echo["chunked"] is False
    assert echo["connection_id"] == 0


def test_echo_reads_chunked_request_body(http_server: KeepAliveServer) -> None:
    parts = [b"hello ", b"chunked ", b"world"]
    echo = _echo(http_server, method="POST", body=iter(parts), encode_chunked=True)
    assert echo["chunked"] is True
    assert echo["body"] == "hello chunked world"


def test_echo_chunked_request_with_extensions_and_trailers(http_server: KeepAliveServer) -> None:
    request = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n0\r\nX-Trailer: yes\r\n\r\n"
    )
    with _raw_socket(http_server) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock)
        response.begin()
        echo = json.loads(response.read())
    assert echo["body"] == "hello"
    assert echo["trailers"] == [["X-Trailer", "yes"]]


def test_bad_chunked_request_gets_400_and_close(http_server: KeepAliveServer) -> None:
    with _raw_socket(http_server) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        reader = SocketReader(sock)
        head = _read_head(reader)
        assert head.startswith(b"HTTP/1.1 400 ")
        assert b"Connection: close" in head
        reader.read_until(b"\n")  # the one-line error body
        assert reader.read() == b""


def test_expect_100_continue(http_server: KeepAliveServer) -> None:
    with _raw_socket(http_server) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
        )
        reader = SocketReader(sock)
        assert _read_head(reader).startswith(b"HTTP/1.1 100 ")
        sock.sendall(b"data")
        assert _read_head(reader).startswith(b"HTTP/1.1 200 ")


def test_any_method_is_routed(http_server: KeepAliveServer) -> None:
    assert _echo(http_server, method="PROPFIND")["method"] == "PROPFIND"


@pytest.mark.parametrize("code", [200, 201, 400, 404, 418, 500, 503, 599])
def test_status_route(http_server: KeepAliveServer, code: int) -> None:
    response, body = _get(http_server, f"/status/{code}")
    assert response.status == code
    assert body == f"status {code}\n".encode()
    assert response.getheader("Retry-After") is None


def test_status_route_retry_after_body_and_headers(http_server: KeepAliveServer) -> None:
    path = "/status/429?retry_after=7&body=slow+down&header=X-A:%201&header=X-B:2"
    response, body = _get(http_server, path)
    assert response.status == 429
    assert response.getheader("Retry-After") == "7"
    assert (response.getheader("X-A"), response.getheader("X-B")) == ("1", "2")
    assert body == b"slow down"


@pytest.mark.parametrize("code", [204, 304])
def test_status_route_without_body(http_server: KeepAliveServer, code: int) -> None:
    conn = _connect(http_server)
    response, body = _fetch(conn, f"/status/{code}")
    assert (response.status, body, response.getheader("Content-Length")) == (code, b"", None)
    response, body = _fetch(conn, "/json")  # still in sync on the same connection
    assert body == JSON_BODY
    assert http_server.connections_accepted == 1
    conn.close()


@pytest.mark.parametrize(
    "path", ["/status/99", "/status/600", "/status/abc", "/status/200?header=nocolon"]
)
def test_status_route_rejects_bad_parameters(http_server: KeepAliveServer, path: str) -> None:
    assert _get(http_server, path)[0].status == 400


def test_redirect_defaults_and_parameters(http_server: KeepAliveServer) -> None:
    response, _ = _get(http_server, "/redirect")
    assert (response.status, response.getheader("Location")) == (303, "/echo")
    target = f"{http_server.url}/json"
    response, _ = _get(http_server, f"/redirect?to={target}&status=307")
    assert (response.status, response.getheader("Location")) == (307, target)
    assert _get(http_server, "/redirect?status=200")[0].status == 400


def test_redirect_chain(http_server: KeepAliveServer) -> None:
    conn = _connect(http_server)
    path, hops = "/redirect-n/3?status=301", 0
    while True:
        response, body = _fetch(conn, path)
        if response.status != 301:
            break
        path = response.getheader("Location") or ""
        hops += 1
    conn.close()
    assert (hops, response.status, body) == (3, 200, b"redirect chain done\n")
    assert path == "/redirect-n/0?status=301"
    assert http_server.connections_accepted == 1


def test_redirect_chain_absolute(http_server: KeepAliveServer) -> None:
    response, _ = _get(http_server, "/redirect-n/2?absolute=1")
    assert response.status == 302
    assert response.getheader("Location") == f"{http_server.url}/redirect-n/1?absolute=1"


def test_upload_multipart(http_server: KeepAliveServer) -> None:
    from urllib3.filepost import encode_multipart_formdata

    fields: list[tuple[str, Any]] = [
        ("tag", "a"),
        ("doc", ("a.txt", b"hello\x00bytes", "text/plain")),
        ("tag", "b"),
        ("doc", ("b.bin", b"\xff\xfe", "application/octet-stream")),
    ]
    body, content_type = encode_multipart_formdata(fields)
    result = _echo(
        http_server, "/upload", method="POST", body=body, headers={"Content-Type": content_type}
    )
    assert result["form"] == {"tag": ["a", "b"]}
    assert result["files"]["doc"] == [
        "a.txt",
        "text/plain",
        base64.b64encode(b"hello\x00bytes").decode(),
    ]
    assert [f[0] for f in result["all_files"]["doc"]] == ["a.txt", "b.bin"]
    assert result["body_length"] == len(body)
    assert result["json"] is None


def test_upload_multipart_sent_chunked(http_server: KeepAliveServer) -> None:
    from urllib3.filepost import encode_multipart_formdata

    body, content_type = encode_multipart_formdata({"k": "v", "f": ("x.txt", b"data")})
    result = _echo(
        http_server,
        "/upload",
        method="POST",
        body=iter([body[:10], body[10:]]),
        headers={"Content-Type": content_type},
        encode_chunked=True,
    )
    assert result["form"] == {"k": ["v"]}
    assert result["files"]["f"][0] == "x.txt"


def test_upload_urlencoded_and_json(http_server: KeepAliveServer) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    result = _echo(http_server, "/upload", method="POST", body="a=1&b=2&a=3", headers=form)
    assert result["form"] == {"a": ["1", "3"], "b": ["2"]}
    as_json = {"Content-Type": "application/json"}
    result = _echo(http_server, "/upload", method="POST", body='{"x": [1, 2]}', headers=as_json)
    assert result["json"] == {"x": [1, 2]}
    response, _ = _get(http_server, "/upload", method="POST", body="{nope", headers=as_json)
    assert response.status == 400


def test_gzip_route(http_server: KeepAliveServer) -> None:
    response, body = _get(http_server, "/gzip")
    assert response.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(body) == ENCODED_PAYLOAD
    _, body = _get(http_server, "/gzip?members=2")
    assert gzip.decompress(body) == ENCODED_PAYLOAD * 2


def test_deflate_route(http_server: KeepAliveServer) -> None:
    response, body = _get(http_server, "/deflate")
    assert response.getheader("Content-Encoding") == "deflate"
    assert zlib.decompress(body) == ENCODED_PAYLOAD
    _, body = _get(http_server, "/deflate?raw=1")
    assert zlib.decompress(body, -zlib.MAX_WBITS) == ENCODED_PAYLOAD


@pytest.mark.skipif(not HAS_BROTLI, reason="brotli not installed")
def test_br_route(http_server: KeepAliveServer) -> None:
    import brotli  # type: ignore[import-untyped]

    response, body = _get(http_server, "/br")
    assert response.getheader("Content-Encoding") == "br"
    assert brotli.decompress(body) == ENCODED_PAYLOAD


@pytest.mark.skipif(not HAS_ZSTD, reason="zstandard not installed")
def test_zstd_route(http_server: KeepAliveServer) -> None:
    import zstandard

    response, body = _get(http_server, "/zstd")
    assert response.getheader("Content-Encoding") == "zstd"
    assert zstandard.ZstdDecompressor().decompress(body) == ENCODED_PAYLOAD


@pytest.mark.parametrize("count", [0, 1, 5])
def test_chunked_route_decodes(http_server: KeepAliveServer, count: int) -> None:
    response, body = _get(http_server, f"/chunked?n={count}")
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.getheader("Content-Length") is None
    assert body == chunked_body(count)


def test_chunked_route_wire_format_and_trailers(http_server: KeepAliveServer) -> None:
    with _raw_socket(http_server) as sock:
        sock.sendall(b"GET /chunked?n=2&trailers=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        reader = SocketReader(sock)
        _read_head(reader)
        wire = reader.read_until(b"\r\n\r\n")
    assert wire == b"8\r\nchunk 0\n\r\n8\r\nchunk 1\n\r\n0\r\nX-Trailer: done\r\n\r\n"


@pytest.mark.parametrize("query", ["size=0", "size=1", "size=300001", "size=70000&piece=999"])
def test_stream_route(http_server: KeepAliveServer, query: str) -> None:
    size = int(query.split("&", 1)[0].split("=")[1])
    response, body = _get(http_server, f"/stream?{query}")
    assert response.getheader("Content-Length") == str(size)
    assert body == stream_payload(size)


def test_stream_route_chunked(http_server: KeepAliveServer) -> None:
    response, body = _get(http_server, "/stream?size=200000&chunked=1&piece=65536")
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert body == stream_payload(200000)


def test_close_route_closes_connection(http_server: KeepAliveServer) -> None:
    with _raw_socket(http_server) as sock:
        sock.sendall(b"GET /close HTTP/1.1\r\nHost: x\r\n\r\n")
        reader = SocketReader(sock)
        head = _read_head(reader)
        assert b"Connection: close" in head
        assert reader.read() == b"closing\n"  # read() to EOF returns: the server closed


def test_headers_route_keeps_duplicates_and_case(http_server: KeepAliveServer) -> None:
    with _raw_socket(http_server) as sock:
        sock.sendall(b"GET /headers HTTP/1.1\r\nHost: x\r\n\r\n")
        head = _read_head(SocketReader(sock)).decode("latin-1")
    lines = head.split("\r\n")[1:]
    sent = [tuple(line.split(": ", 1)) for line in lines if line]
    custom = [field for field in sent if field[0] not in ("Server", "Date")][
        : len(HEADERS_ROUTE_FIELDS)
    ]
    assert tuple(custom) == HEADERS_ROUTE_FIELDS
    response, _ = _get(http_server, "/headers")
    assert len(response.msg.get_all("Set-Cookie") or []) == 2


def test_slow_route(http_server: KeepAliveServer) -> None:
    response, body = _get(http_server, "/slow?delay=0.05")
    assert (response.status, body) == (200, b"slow response body\n")
    response, body = _get(http_server, "/slow?delay=0.05&where=body")
    assert body == b"slow response body\n"
    assert _get(http_server, "/slow?delay=x")[0].status == 400


def test_slow_route_trips_client_read_timeout(http_server: KeepAliveServer) -> None:
    conn = http.client.HTTPConnection(http_server.host, http_server.port, timeout=0.1)
    conn.request("GET", "/slow?delay=5")
    with pytest.raises(TimeoutError):
        conn.getresponse()
    conn.close()


def test_slow_route_body_delay_trips_read_timeout(http_server: KeepAliveServer) -> None:
    conn = http.client.HTTPConnection(http_server.host, http_server.port, timeout=0.1)
    conn.request("GET", "/slow?delay=5&where=body")
    response = conn.getresponse()
    assert response.status == 200
    with pytest.raises(TimeoutError):
        response.read()
    conn.close()


def test_head_check(http_server: KeepAliveServer) -> None:
    conn = _connect(http_server)
    response, body = _fetch(conn, "/head-check", method="HEAD")
    assert response.getheader("Content-Length") == str(len(HEAD_CHECK_BODY))
    assert (body, response.getheader("X-Method")) == (b"", "HEAD")
    response, body = _fetch(conn, "/head-check")  # would misparse if HEAD had sent a body
    assert (body, response.getheader("X-Method")) == (HEAD_CHECK_BODY, "GET")
    conn.close()
    assert http_server.connections_accepted == 1


def test_head_sends_no_body_on_the_wire(http_server: KeepAliveServer) -> None:
    with _raw_socket(http_server) as sock:
        sock.sendall(
            b"HEAD /json HTTP/1.1\r\nHost: x\r\n\r\nGET /no-content HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        reader = SocketReader(sock)
        assert b"Content-Length: 112" in _read_head(reader)
        assert _read_head(reader).startswith(b"HTTP/1.1 204 ")


def test_no_content(http_server: KeepAliveServer) -> None:
    response, body = _get(http_server, "/no-content")
    assert (response.status, body, response.getheader("Content-Length")) == (204, b"", None)


def test_cookie_echo(http_server: KeepAliveServer) -> None:
    response, body = _get(http_server, "/cookie-echo?set=a=1&set=b=2", headers={"Cookie": "x=y"})
    assert json.loads(body) == {"cookie": "x=y"}
    assert response.msg.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert json.loads(_get(http_server, "/cookie-echo")[1]) == {"cookie": None}


# --- counting, concurrency, shutdown ----------------------------------------------------------


def test_keep_alive_reuse_is_counted(http_server: KeepAliveServer) -> None:
    first = _connect(http_server)
    for path in ("/json", "/echo", "/json"):
        _fetch(first, path)
    second = _connect(http_server)
    _fetch(second, "/json", method="POST", body=b"x")
    first.close()
    second.close()
    assert http_server.connections_accepted == 2
    assert http_server.requests_served == 4
    assert http_server.request_log == [
        RequestRecord(0, "GET", "/json"),
        (0, "GET", "/echo"),
        (0, "GET", "/json"),
        (1, "POST", "/json"),
    ]
    assert http_server.connection_ids == [0, 0, 0, 1]
    assert http_server.errors == []


def test_32_concurrent_clients(http_server: KeepAliveServer) -> None:
    failures: list[BaseException] = []
    barrier = threading.Barrier(32, timeout=5)

    def client() -> None:
        try:
            conn = _connect(http_server)
            barrier.wait()
            for _ in range(3):
                response, body = _fetch(conn, "/echo")
                assert response.status == 200
                assert json.loads(body)["method"] == "GET"
            conn.close()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=client) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert failures == []
    assert http_server.connections_accepted == 32
    assert http_server.requests_served == 96
    ids = http_server.connection_ids
    assert sorted(set(ids)) == list(range(32))
    assert all(ids.count(conn_id) == 3 for conn_id in range(32))


def _server_threads(server: Any) -> list[threading.Thread]:
    marker = f"-{server.port}"
    return [t for t in threading.enumerate() if marker in t.name]


def test_stop_closes_idle_keep_alive_connections() -> None:
    server = KeepAliveServer().start()
    clients = [_raw_socket(server) for _ in range(5)]
    for sock in clients:
        sock.sendall(b"GET /json HTTP/1.1\r\nHost: x\r\n\r\n")
        reader = SocketReader(sock)
        _read_head(reader)
        reader.read(112)
    assert server.connections_accepted == 5
    server.stop()
    assert _server_threads(server) == []
    for sock in clients:
        assert sock.recv(10) == b""  # the server end was shut down
        sock.close()
    server.stop()  # idempotent


def test_stop_interrupts_slow_handler_and_stalled_upload() -> None:
    server = KeepAliveServer().start()
    slow = _raw_socket(server)
    slow.sendall(b"GET /slow?delay=5 HTTP/1.1\r\nHost: x\r\n\r\n")
    upload = _raw_socket(server)
    upload.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\npartial")
    assert server.wait_for_connections(2)
    server.stop()
    assert _server_threads(server) == []
    slow.close()
    upload.close()


def test_started_server_refuses_non_loopback_bind() -> None:
    with pytest.raises(ValueError, match="bind"):
        KeepAliveServer(host="0.0.0.0")


def test_server_farm_has_distinct_origins(origins: Callable[..., ServerFarm]) -> None:
    farm = origins(3)
    assert len({server.port for server in farm}) == 3
    assert farm.urls == [server.url for server in farm]
    for server in farm:
        assert _get(server, "/json")[1] == JSON_BODY
    assert [server.connections_accepted for server in farm] == [1, 1, 1]
    assert farm[1].requests_served == 1


def test_server_farm_context_manager() -> None:
    with ServerFarm(2) as farm:
        ports = [server.port for server in farm]
        assert _get(farm[0], "/json")[0].status == 200
    assert all(_server_threads(server) == [] for server in farm)
    assert len(set(ports)) == 2


def test_ipv6_server(ipv6_server: KeepAliveServer) -> None:
    assert ipv6_server.url == f"http://[::1]:{ipv6_server.port}"
    assert _get(ipv6_server, "/json")[1] == JSON_BODY


# --- RawServer and canned faults --------------------------------------------------------------

RawFactory = Callable[[Handler], RawServer]


def _raw_get(server: RawServer, timeout: float = 5) -> Response:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        return _fetch(conn, "/")
    finally:
        conn.close()


def test_read_request_content_length_and_chunked(raw_server: RawFactory) -> None:
    seen: list[tuple[bytes, bytes]] = []

    def handler(sock: socket.socket, index: int) -> None:
        reader = SocketReader(sock)
        for _ in range(2):
            seen.append(reader.read_request())
            sock.sendall(faults.OK_RESPONSE)

    server = raw_server(handler)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    _fetch(conn, "/a", method="POST", body=b"0123456789")
    _fetch(conn, "/b", method="POST", body=iter([b"ab", b"", b"cd"]), encode_chunked=True)
    conn.close()
    assert seen[0][0].startswith(b"POST /a HTTP/1.1\r\n")
    assert seen[0][0].endswith(b"\r\n\r\n")
    assert seen[0][1] == b"0123456789"
    assert b"Transfer-Encoding: chunked" in seen[1][0]
    assert seen[1][1] == b"abcd"
    assert server.connections_accepted == 1


def test_read_request_times_out_on_partial_request(raw_server: RawFactory) -> None:
    outcome: list[BaseException] = []

    def handler(sock: socket.socket, index: int) -> None:
        try:
            read_request(sock, timeout=0.1)
        except TimeoutError as exc:
            outcome.append(exc)

    server = raw_server(handler)
    with _raw_socket(server) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
        assert sock.recv(1) == b""  # handler gave up and the server closed
    assert len(outcome) == 1


def test_read_request_rejects_bad_chunk_and_early_close(raw_server: RawFactory) -> None:
    outcome: list[type[BaseException]] = []

    def handler(sock: socket.socket, index: int) -> None:
        try:
            read_request(sock)
        except (MalformedBody, ConnectionError) as exc:
            outcome.append(type(exc))

    server = raw_server(handler)
    with _raw_socket(server) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n")
        assert sock.recv(1) == b""
    with _raw_socket(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n")
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(1) == b""
    assert outcome == [MalformedBody, ConnectionError]


def test_raw_respond_and_counting(raw_server: RawFactory) -> None:
    server = raw_server(faults.respond())
    for _ in range(3):
        response, body = _raw_get(server)
        assert (response.status, body) == (200, b"ok")
    assert server.connections_accepted == 3
    assert server.errors == []


@pytest.mark.parametrize("handler", [faults.close_immediately(), faults.close_after_request()])
def test_close_faults(raw_server: RawFactory, handler: Handler) -> None:
    server = raw_server(handler)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)):
        _raw_get(server)


def _drain(sock: socket.socket, into: bytearray) -> None:
    while chunk := sock.recv(65536):
        into += chunk


def test_reset_mid_body(raw_server: RawFactory) -> None:
    server = raw_server(faults.reset_mid_body(declared=1000, sent=100))
    with _raw_socket(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        received = bytearray()
        with pytest.raises(ConnectionResetError):  # no exception would mean a clean EOF
            _drain(sock, received)
    assert len(received) < 1000 + 40


def test_short_body(raw_server: RawFactory) -> None:
    server = raw_server(faults.short_body(declared=100, sent=10))
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("GET", "/")
    response = conn.getresponse()
    with pytest.raises(http.client.IncompleteRead) as info:
        response.read()
    assert (len(info.value.partial), info.value.expected) == (10, 90)
    conn.close()


def test_garbage_status_line(raw_server: RawFactory) -> None:
    server = raw_server(faults.garbage_status_line())
    with pytest.raises(http.client.BadStatusLine):
        _raw_get(server)


def test_drip(raw_server: RawFactory) -> None:
    server = raw_server(faults.drip(delay=0.001))
    response, body = _raw_get(server)
    assert (response.status, body) == (200, b"ok")


def test_bad_chunk_size(raw_server: RawFactory) -> None:
    server = raw_server(faults.bad_chunk_size())
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("GET", "/")
    response = conn.getresponse()
    with pytest.raises(http.client.IncompleteRead):
        response.read()
    conn.close()


def test_keepalive_then_close(raw_server: RawFactory) -> None:
    server = raw_server(faults.keepalive_then_close())
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    response, body = _fetch(conn, "/")
    assert (response.status, body, response.will_close) == (200, b"ok", False)
    assert conn.sock is not None
    assert conn.sock.recv(1) == b""  # the server dropped the idle connection
    conn.close()
    assert _raw_get(server)[1] == b"ok"
    assert server.connections_accepted == 2


def test_keepalive_then_close_after_idle(raw_server: RawFactory) -> None:
    server = raw_server(faults.keepalive_then_close(idle=5))
    with _raw_socket(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        reader = SocketReader(sock)
        _read_head(reader)
        assert reader.read(2) == b"ok"
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # reuse ends the idle wait
        with pytest.raises(ConnectionResetError):  # closed with the request unread: a reset
            reader.read()


def test_reject_upload(raw_server: RawFactory) -> None:
    server = raw_server(faults.reject_upload(413, drain_for=2))
    with _raw_socket(server) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 1000)
        reader = SocketReader(sock)
        head = _read_head(reader)
        assert head.startswith(b"HTTP/1.1 413 ")
        assert b"Connection: close" in head
        assert reader.read() == b"upload rejected\n"


def test_hang_trips_read_timeout(raw_server: RawFactory) -> None:
    server = raw_server(faults.hang())
    with pytest.raises(TimeoutError):
        _raw_get(server, timeout=0.1)


def test_per_connection(raw_server: RawFactory) -> None:
    server = raw_server(faults.per_connection(faults.close_immediately(), faults.respond()))
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        _raw_get(server)
    assert _raw_get(server)[1] == b"ok"
    assert _raw_get(server)[1] == b"ok"
    assert server.connections_accepted == 3


def test_raw_handler_bugs_are_recorded(raw_server: RawFactory) -> None:
    def buggy(sock: socket.socket, index: int) -> None:
        raise KeyError("handler bug")

    server = raw_server(buggy)
    with _raw_socket(server) as sock:
        assert sock.recv(1) == b""
    assert [type(exc) for exc in server.errors] == [KeyError]
    server.registry.errors.clear()


def test_raw_stop_wakes_hung_handlers() -> None:
    server = RawServer(faults.hang(max_wait=30)).start()
    clients = [_raw_socket(server) for _ in range(3)]
    for sock in clients:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert server.wait_for_connections(3)
    server.stop()
    assert _server_threads(server) == []
    for sock in clients:
        sock.close()


# --- TLS --------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_https_with_session_ca(
    https_server: KeepAliveServer, tls_ca: TLSKit, ca_certs: str, host: str
) -> None:
    context = ssl.create_default_context(cafile=ca_certs)
    conn = http.client.HTTPSConnection(host, https_server.port, timeout=5, context=context)
    assert https_server.url.startswith("https://127.0.0.1:")
    for _ in range(2):
        assert _fetch(conn, "/json")[1] == JSON_BODY
    conn.close()
    assert https_server.connections_accepted == 1
    assert https_server.tls_failures == []


def test_https_over_ipv6(
    tls_ca: TLSKit, serve: Callable[[KeepAliveServer], KeepAliveServer]
) -> None:
    if not ipv6_available():
        pytest.skip("IPv6 loopback (::1) is not available")
    server = serve(KeepAliveServer(host="::1", tls=tls_ca.server_context()))
    conn = _connect(server, tls_ca.client_context())
    assert _fetch(conn, "/json")[1] == JSON_BODY
    conn.close()


def test_https_wrong_ca_fails(https_server: KeepAliveServer, wrong_ca_certs: str) -> None:
    conn = _connect(https_server, ssl.create_default_context(cafile=wrong_ca_certs))
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        _fetch(conn, "/json")
    conn.close()
    assert https_server.wait_for_connections(1)


def test_https_wrong_host_fails(https_wrong_host_server: KeepAliveServer, tls_ca: TLSKit) -> None:
    conn = _connect(https_wrong_host_server, tls_ca.client_context())
    with pytest.raises(ssl.SSLCertVerificationError, match="match"):
        _fetch(conn, "/json")
    conn.close()


def test_mtls_requires_client_certificate(mtls_server: KeepAliveServer, tls_ca: TLSKit) -> None:
    conn = _connect(mtls_server, tls_ca.client_context())
    with pytest.raises((ssl.SSLError, ConnectionError)):  # TLS 1.3 reports it on first read
        _fetch(conn, "/json")
    conn.close()
    for cert_file, key_file, password in [
        (tls_ca.client_cert_file, tls_ca.client_key_file, None),
        (tls_ca.client_cert_file, tls_ca.client_key_encrypted_file, CLIENT_KEY_PASSWORD),
        (tls_ca.client_combined_file, None, None),
    ]:
        context = tls_ca.client_context()
        context.load_cert_chain(cert_file, key_file, password)
        conn = _connect(mtls_server, context)
        assert _fetch(conn, "/json")[1] == JSON_BODY
        conn.close()
    assert mtls_server.tls_failures != []


def test_stop_with_client_stuck_before_tls_handshake(tls_ca: TLSKit) -> None:
    server = KeepAliveServer(tls=tls_ca.server_context()).start()
    stuck = _raw_socket(server)  # connects but never sends a ClientHello
    assert server.wait_for_connections(1)
    server.stop()
    assert _server_threads(server) == []
    assert server.tls_failures != []
    stuck.close()


# --- proxy ------------------------------------------------------------------------------------


def _proxy_conn(proxy: ProxyServer) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(proxy.host, proxy.port, timeout=5)


def test_proxy_forwards_absolute_form(
    proxy_server: ProxyServer, http_server: KeepAliveServer
) -> None:
    conn = _proxy_conn(proxy_server)
    headers = {"Proxy-Authorization": "Basic dTpw", "X-Custom": "kept"}
    for _ in range(2):
        response, body = _fetch(conn, f"{http_server.url}/echo?q=1", headers=headers)
        assert response.status == 200
    conn.close()
    echo = json.loads(body)
    forwarded = {name.lower(): value for name, value in echo["headers"]}
    assert echo["target"] == "/echo?q=1"
    assert "proxy-authorization" not in forwarded
    assert forwarded["x-custom"] == "kept"
    assert forwarded["host"] == f"127.0.0.1:{http_server.port}"
    record = proxy_server.records[0]
    assert record.request_line == f"GET {http_server.url}/echo?q=1 HTTP/1.1"
    assert record.header("proxy-authorization") == "Basic dTpw"
    assert (proxy_server.request_count, proxy_server.connect_count) == (2, 0)
    assert proxy_server.connections_accepted == 1


def test_proxy_forwards_bodies_and_statuses(
    proxy_server: ProxyServer, http_server: KeepAliveServer
) -> None:
    conn = _proxy_conn(proxy_server)
    response, body = _fetch(
        conn,
        f"{http_server.url}/echo",
        method="POST",
        body=iter([b"ab", b"c"]),
        encode_chunked=True,
    )
    echo = json.loads(body)
    assert (echo["body"], echo["chunked"]) == ("abc", False)
    response, body = _fetch(conn, f"{http_server.url}/status/404")
    assert (response.status, body) == (404, b"status 404\n")
    response, body = _fetch(conn, f"{http_server.url}/chunked?n=3")
    assert body == chunked_body(3)
    response, body = _fetch(conn, f"{http_server.url}/json", method="HEAD")
    assert (response.getheader("Content-Length"), body) == ("112", b"")
    response, body = _fetch(conn, f"{http_server.url}/no-content")
    assert (response.status, body) == (204, b"")
    conn.close()


@pytest.mark.parametrize("target", ["http://example.com/", "http://10.0.0.1:80/", "/relative"])
def test_proxy_refuses_non_loopback_or_origin_form(proxy_server: ProxyServer, target: str) -> None:
    conn = _proxy_conn(proxy_server)
    response, _ = _fetch(conn, target)
    conn.close()
    assert response.status == (400 if target == "/relative" else 403)


def test_proxy_connect_tunnel_to_https_origin(
    proxy_server: ProxyServer, https_server: KeepAliveServer, tls_ca: TLSKit
) -> None:
    conn = http.client.HTTPSConnection(
        proxy_server.host, proxy_server.port, timeout=5, context=tls_ca.client_context()
    )
    conn.set_tunnel("localhost", https_server.port, headers={"Proxy-Authorization": "Basic eDp5"})
    for _ in range(2):
        assert _fetch(conn, "/json")[1] == JSON_BODY
    conn.close()
    assert (proxy_server.connect_count, proxy_server.request_count) == (1, 0)
    record = proxy_server.records[0]
    assert (record.method, record.target) == ("CONNECT", f"localhost:{https_server.port}")
    assert record.header("Proxy-Authorization") == "Basic eDp5"
    assert https_server.connections_accepted == 1
    assert https_server.requests_served == 2


def test_proxy_connect_refuses_non_loopback(proxy_server: ProxyServer) -> None:
    conn = _proxy_conn(proxy_server)
    conn.set_tunnel("example.com", 443)
    with pytest.raises(OSError, match="403"):
        conn.connect()
    conn.close()


def test_proxy_forwards_https_absolute_form(
    proxy_server: ProxyServer, https_server: KeepAliveServer
) -> None:
    conn = _proxy_conn(proxy_server)
    response, body = _fetch(conn, f"{https_server.url}/json")
    conn.close()
    assert (response.status, body) == (200, JSON_BODY)


def test_proxy_authentication(
    serve: Callable[[ProxyServer], ProxyServer], http_server: KeepAliveServer
) -> None:
    proxy = serve(ProxyServer(auth="user:secret"))
    conn = _proxy_conn(proxy)
    response, _ = _fetch(conn, f"{http_server.url}/json")
    assert response.status == 407
    assert response.getheader("Proxy-Authenticate") == 'Basic realm="pooltest-proxy"'
    good = "Basic " + base64.b64encode(b"user:secret").decode()
    response, body = _fetch(conn, f"{http_server.url}/json", headers={"Proxy-Authorization": good})
    assert (response.status, body) == (200, JSON_BODY)
    conn.close()
    assert http_server.requests_served == 1


def test_https_proxy(
    serve: Callable[[ProxyServer], ProxyServer], tls_ca: TLSKit, https_server: KeepAliveServer
) -> None:
    proxy = serve(ProxyServer(tls=tls_ca.server_context(), upstream_ca_certs=tls_ca.ca_certs))
    context = tls_ca.client_context()
    conn = http.client.HTTPSConnection(proxy.host, proxy.port, timeout=5, context=context)
    conn.request("GET", f"{https_server.url}/json")
    assert conn.getresponse().read() == JSON_BODY
    conn.close()


# --- loopback guard ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.5.6.7", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("10.0.0.1", False),
        ("8.8.8.8", False),
        ("::ffff:8.8.8.8", False),
        ("2001:db8::1", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_is_loopback_host(host: str, expected: bool) -> None:
    assert is_loopback_host(host) is expected


def test_guard_refuses_non_loopback_connect(loopback_guard: LoopbackGuard) -> None:
    before = len(loopback_guard.violations)
    with socket.socket() as sock, pytest.raises(NonLoopbackConnectError):
        sock.connect(("192.0.2.1", 80))  # TEST-NET-1: never routable
    with pytest.raises(NonLoopbackConnectError):
        socket.create_connection(("198.51.100.7", 443), timeout=0.1)
    assert len(loopback_guard.violations) == before + 2
    del loopback_guard.violations[before:]  # expected here; don't fail this test


def test_guard_allows_loopback_connect(
    loopback_guard: LoopbackGuard, http_server: KeepAliveServer
) -> None:
    with socket.create_connection(("localhost", http_server.port), timeout=5):
        pass
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", http_server.port)) == 0
