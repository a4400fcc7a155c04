"""Servers that misbehave, and timeouts: the client fails with the right exception or recovers,
and the pool stays healthy (every slot back, no broken connection reused).

F1 an idle keep-alive connection closed by the server (noticed at checkout, or racing with the
request: resent on a fresh socket even with ``retries=0``); F2 a reset in the middle of the body;
F3 a body shorter than its Content-Length; F4 no status line (timeout or hang-up) and garbage
status lines; F5 a server that drips one byte at a time (the read timeout is per socket
operation) or stalls mid-body; F6 broken chunked framing (bad size, missing last chunk, a 1 MiB
size line, an absurd size) with bounded memory; F7 a refused connection, alone and with threads
contending for a blocking pool; F8 an upload rejected (4xx then close) while the client is
still sending 4 MiB. Then ``Timeout(connect, read, total)`` against a port whose accept queue is
full (connect timeout) and servers that answer late.

Where both libraries should agree, the scenario runs through urllib3 and pooltest alike.
"""

from __future__ import annotations

import http.client
import re
import select
import socket
import struct
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
import urllib3
from support import OK_RESPONSE, KeepAliveServer, RawServer, SocketReader, read_request
from support import raw as faults
from support.raw import Handler

import pooltest

pytestmark = pytest.mark.network

RawFactory = Callable[[Handler], RawServer]
LIBS = pytest.mark.parametrize("lib", [pooltest, urllib3], ids=["pooltest", "urllib3"])
#: Read timeout for servers that never answer: long enough for loopback, short for the suite.
SHORT = 0.1
#: Bound on every wait of a test itself (threads, sockets).
WAIT = 5.0
CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
#: An upload larger than the socket buffers, so a server can cut it off mid-send.
_UPLOAD = b"u" * (4 << 20)


def _serve_ok() -> Handler:
    """Answer every request on the connection with ``OK_RESPONSE`` until the client leaves."""

    def handler(sock: socket.socket, index: int) -> None:
        while True:
            try:
                read_request(sock)
            except (ConnectionError, TimeoutError, OSError):
                return
            sock.sendall(OK_RESPONSE)

    return handler


def _then_ok(fault: Handler) -> Handler:
    """The first connection gets ``fault``; every later one is served normally."""
    return faults.per_connection(fault, _serve_ok())


def _answer_once_then_drop(reset: bool) -> Handler:
    """Answer one request keep-alive, read the next one, then close (FIN) or reset (RST)."""

    def handler(sock: socket.socket, index: int) -> None:
        read_request(sock)
        sock.sendall(OK_RESPONSE)
        read_request(sock)
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    return handler


def _pool(lib: ModuleType, server: Any, **kw: Any) -> Any:
    return lib.HTTPConnectionPool(server.host, server.port, **kw)


def _assert_healthy(pool: Any, maxsize: int = 1) -> None:
    """Every slot is back in the pool and the pool still serves requests."""
    assert pool.pool.qsize() == maxsize
    assert pool.request("GET", "/", retries=False).data == b"ok"
    assert pool.pool.qsize() == maxsize


def _wait_until_peer_closed(pool: Any) -> None:
    """Block until the idle pooled connection's socket reports the server's FIN."""
    (conn,) = [c for c in pool.pool.queue if c is not None]
    readable, _, _ = select.select([conn.sock], [], [], WAIT)
    assert readable, "the server did not close the idle connection"


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port nothing listens on (bound but not listening, so it stays free)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield int(holder.getsockname()[1])


@pytest.fixture
def unresponsive_port() -> Iterator[int]:
    """A loopback port whose accept queue is full, so a new connect() times out."""
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        for _ in range(16):
            filler = socket.socket()
            fillers.append(filler)
            filler.settimeout(0.2)
            try:
                filler.connect(("127.0.0.1", port))
            except TimeoutError:
                break  # the queue is full: further SYNs are dropped
        else:
            pytest.skip("could not fill the accept queue on this platform")
        yield port
    finally:
        for sock in fillers:
            sock.close()
        listener.close()


# --- F1: the server closed an idle keep-alive connection ---------------------------------------


@LIBS
def test_f1_idle_connection_closed_by_server(lib: ModuleType, raw_server: RawFactory) -> None:
    server = raw_server(faults.keepalive_then_close(idle=0))
    pool = _pool(lib, server)
    for method in ("GET", "GET", "POST"):
        assert pool.request(method, "/", body=b"b", retries=0).data == b"ok"
        _wait_until_peer_closed(pool)
    assert server.connections_accepted == 3
    assert pool.pool.qsize() == 1


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_f1_close_racing_the_request_is_resent(
    reset: bool, method: str, raw_server: RawFactory
) -> None:
    # Deviation (by design, see pooltest.connection): urllib3 raises ProtocolError here when
    # retries=0; pooltest resends an idempotent request once on a fresh socket.
    server = raw_server(_then_ok(_answer_once_then_drop(reset)))
    pool = _pool(pooltest, server)
    assert pool.request("GET", "/", retries=0).data == b"ok"
    assert pool.request(method, "/", body=b"body", retries=0).data == b"ok"
    assert server.connections_accepted == 2
    _assert_healthy(pool)


def _answer_once_then_reset_mid_upload(sock: socket.socket, index: int) -> None:
    """Answer one request keep-alive; on the next, read only the head and reset."""
    read_request(sock)
    sock.sendall(OK_RESPONSE)
    SocketReader(sock).read_until(b"\r\n\r\n")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_f1_upload_cut_off_on_a_stale_socket_is_resent(method: str, raw_server: RawFactory) -> None:
    # pooltest only (see above): the send fails on the reused socket before the request was
    # complete and no answer came, so the server cannot have processed it: the whole request
    # is sent again on a fresh socket, whatever the method.
    bodies: list[int] = []

    def serve_and_measure(sock: socket.socket, index: int) -> None:
        _, body = read_request(sock)
        bodies.append(len(body))
        sock.sendall(OK_RESPONSE)

    server = raw_server(
        faults.per_connection(_answer_once_then_reset_mid_upload, serve_and_measure)
    )
    pool = _pool(pooltest, server)
    assert pool.request("GET", "/", retries=0).data == b"ok"
    assert pool.request(method, "/", body=_UPLOAD, retries=0).data == b"ok"
    assert bodies == [len(_UPLOAD)]
    assert server.connections_accepted == 2


@LIBS
@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
def test_f1_post_that_reached_the_server_is_not_resent(
    lib: ModuleType, reset: bool, raw_server: RawFactory
) -> None:
    server = raw_server(_then_ok(_answer_once_then_drop(reset)))
    pool = _pool(lib, server)
    assert pool.request("GET", "/", retries=0).data == b"ok"
    with pytest.raises(lib.exceptions.ProtocolError) as info:
        pool.request("POST", "/", body=b"charge card", retries=0)
    expected = ConnectionResetError if reset else http.client.RemoteDisconnected
    assert isinstance(info.value.args[1], expected)
    assert server.connections_accepted == 1
    _assert_healthy(pool)


# --- F2 / F3: the body breaks off -----------------------------------------------------------------


@LIBS
@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        (faults.reset_mid_body(declared=100_000, sent=1000), ConnectionResetError),
        (faults.short_body(declared=100, sent=10), http.client.IncompleteRead),
    ],
    ids=["reset", "short"],
)
def test_f2_f3_broken_body_while_preloading(
    lib: ModuleType, fault: Handler, cause: type[Exception], raw_server: RawFactory
) -> None:
    server = raw_server(_then_ok(fault))
    pool = _pool(lib, server)
    with pytest.raises(lib.exceptions.MaxRetryError) as info:
        pool.request("GET", "/", retries=0)
    assert isinstance(info.value.reason, lib.exceptions.ProtocolError)
    assert isinstance(info.value.reason.args[1], cause)
    _assert_healthy(pool)
    assert server.connections_accepted == 2  # the broken connection was not reused


@LIBS
@pytest.mark.parametrize(
    "fault",
    [faults.reset_mid_body(declared=100_000, sent=1000), faults.short_body(declared=100, sent=10)],
    ids=["reset", "short"],
)
def test_f2_f3_broken_body_while_streaming(
    lib: ModuleType, fault: Handler, raw_server: RawFactory
) -> None:
    server = raw_server(_then_ok(fault))
    pool = _pool(lib, server, maxsize=2)
    r = pool.request("GET", "/", preload_content=False, retries=False)
    with pytest.raises(lib.exceptions.ProtocolError):
        for _ in r.stream(100):
            pass
    r.release_conn()
    _assert_healthy(pool, maxsize=2)
    assert server.connections_accepted == 2


@LIBS
def test_f2_retried_get_recovers(lib: ModuleType, raw_server: RawFactory) -> None:
    server = raw_server(_then_ok(faults.reset_mid_body()))
    r = _pool(lib, server).request("GET", "/", retries=1)
    assert r.data == b"ok"
    assert isinstance(r.retries.history[0].error, lib.exceptions.ProtocolError)


# --- F4: no status line, or a garbage one ---------------------------------------------------------


@LIBS
@pytest.mark.parametrize(("method", "attempts"), [("GET", 2), ("POST", 1)])
def test_f4_no_answer_is_a_read_timeout(
    lib: ModuleType, method: str, attempts: int, raw_server: RawFactory
) -> None:
    server = raw_server(faults.hang(max_wait=WAIT))
    pool = _pool(lib, server, timeout=SHORT)
    expected = lib.exceptions.MaxRetryError if method == "GET" else lib.exceptions.ReadTimeoutError
    with pytest.raises(expected):
        pool.request(method, "/", body=b"x", retries=lib.Retry(read=1))
    assert server.connections_accepted == attempts
    assert pool.pool.qsize() == 1


@LIBS
@pytest.mark.parametrize(("method", "attempts"), [("GET", 2), ("POST", 1)])
def test_f4_hang_up_without_status_line(
    lib: ModuleType, method: str, attempts: int, raw_server: RawFactory
) -> None:
    server = raw_server(faults.close_after_request())
    pool = _pool(lib, server)
    expected = lib.exceptions.MaxRetryError if method == "GET" else lib.exceptions.ProtocolError
    with pytest.raises(expected) as info:
        pool.request(method, "/", body=b"x", retries=lib.Retry(read=1))
    error = info.value.reason if method == "GET" else info.value
    assert str(error) == str(
        lib.exceptions.ProtocolError(
            "Connection aborted.",
            http.client.RemoteDisconnected("Remote end closed connection without response"),
        )
    )
    assert server.connections_accepted == attempts
    assert pool.pool.qsize() == 1


_GARBAGE = [
    b"SPAM EGGS NOT HTTP\r\n\r\n",
    b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1\r\n\r\n",
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
]


@pytest.mark.parametrize("line", _GARBAGE, ids=range(len(_GARBAGE)))
def test_f4_garbage_status_line_is_a_protocol_error(line: bytes, raw_server: RawFactory) -> None:
    seen = []
    for lib in (urllib3, pooltest):
        server = raw_server(_then_ok(faults.garbage_status_line(line)))
        pool = _pool(lib, server)
        with pytest.raises(lib.exceptions.ProtocolError) as info:
            pool.request("GET", "/", retries=False)
        seen.append(str(info.value))
        _assert_healthy(pool)
    assert seen[0] == seen[1]
    assert "BadStatusLine" in seen[1]


def test_f4_overlong_status_line(raw_server: RawFactory) -> None:
    seen = []
    for lib in (urllib3, pooltest):
        server = raw_server(_then_ok(faults.respond(b"HTTP/1.1 200 " + b"x" * 70_000 + b"\r\n")))
        pool = _pool(lib, server)
        with pytest.raises(lib.exceptions.ProtocolError) as info:
            pool.request("GET", "/", retries=False)
        seen.append(str(info.value))
        _assert_healthy(pool)
    assert seen[0] == seen[1]
    assert "LineTooLong" in seen[1]


# --- F5: slow servers -------------------------------------------------------------------------


@LIBS
def test_f5_dripping_server_within_the_read_timeout(
    lib: ModuleType, raw_server: RawFactory
) -> None:
    """Each byte comes well within the read timeout, the whole response does not: the
    timeout bounds each socket operation, not the exchange."""
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    server = raw_server(faults.drip(response, delay=0.01))
    timeout = lib.Timeout(read=0.3, total=0.3)
    assert _pool(lib, server).request("GET", "/", timeout=timeout, retries=False).data == b"hello"


@LIBS
def test_f5_stall_mid_body_while_preloading(lib: ModuleType, http_server: KeepAliveServer) -> None:
    pool = _pool(lib, http_server)
    with pytest.raises(lib.exceptions.ReadTimeoutError):
        pool.request("GET", "/slow?where=body&delay=5", timeout=SHORT, retries=False)
    assert pool.pool.qsize() == 1
    assert pool.request("GET", "/").status == 200
    assert http_server.connection_ids == [0, 1]


@LIBS
def test_f5_stall_mid_body_while_streaming(lib: ModuleType, http_server: KeepAliveServer) -> None:
    pool = _pool(lib, http_server)
    r = pool.request("GET", "/slow?where=body&delay=5", timeout=SHORT, preload_content=False)
    assert r.status == 200
    with pytest.raises(lib.exceptions.ReadTimeoutError):
        r.read()
    r.release_conn()
    assert pool.request("GET", "/").status == 200
    assert http_server.connection_ids == [0, 1]


# --- F6: broken chunked framing ----------------------------------------------------------------

_BAD_CHUNKS = {
    "bad-size": CHUNKED_HEAD + b"5\r\nhello\r\nzz\r\nnot-hex\r\n0\r\n\r\n",
    "no-last-chunk": CHUNKED_HEAD + b"5\r\nhello\r\n",
    "cut-in-chunk": CHUNKED_HEAD + b"a\r\nhello",
    "megabyte-size-line": CHUNKED_HEAD + b"5" * (1 << 20) + b"\r\n",
}


@pytest.mark.parametrize("name", list(_BAD_CHUNKS))
def test_f6_broken_chunking_is_a_protocol_error(name: str, raw_server: RawFactory) -> None:
    for lib in (urllib3, pooltest):
        server = raw_server(_then_ok(faults.respond(_BAD_CHUNKS[name])))
        pool = _pool(lib, server)
        with pytest.raises(lib.exceptions.MaxRetryError) as info:
            pool.request("GET", "/", retries=0)
        assert isinstance(info.value.reason, lib.exceptions.ProtocolError)
        r = pool.request("GET", "/", retries=0, preload_content=False)
        assert r.data == b"ok"
        server = raw_server(_then_ok(faults.respond(_BAD_CHUNKS[name])))
        pool = _pool(lib, server)
        r = pool.request("GET", "/", retries=False, preload_content=False)
        with pytest.raises(lib.exceptions.ProtocolError):
            list(r.stream(2))
        r.release_conn()
        _assert_healthy(pool)


def test_f6_chunk_data_must_end_with_crlf(raw_server: RawFactory) -> None:
    # pooltest only: http.client (under urllib3) discards the two bytes after a chunk's data
    # without looking at them. pooltest refuses anything but CRLF there: a peer whose framing
    # is off must not have its following bytes read as the next chunk.
    server = raw_server(_then_ok(faults.respond(CHUNKED_HEAD + b"5\r\nhelloXX0\r\n\r\n")))
    pool = _pool(pooltest, server)
    with pytest.raises(pooltest.exceptions.ProtocolError) as info:
        pool.request("GET", "/", retries=False)
    assert "Chunk data was not followed by CRLF" in str(info.value)
    _assert_healthy(pool)


def test_f6_bad_chunk_size_matches_the_builtin_server_fault(raw_server: RawFactory) -> None:
    server = raw_server(faults.bad_chunk_size())
    with pytest.raises(pooltest.exceptions.ProtocolError) as info:
        _pool(pooltest, server).request("GET", "/", retries=False)
    assert "InvalidChunkLength" in str(info.value)


@LIBS
def test_f6_megabyte_size_line_is_read_with_bounded_memory(
    lib: ModuleType, raw_server: RawFactory, traced: Callable[[], int]
) -> None:
    server = raw_server(faults.respond(_BAD_CHUNKS["megabyte-size-line"]))
    pool = _pool(lib, server)
    tracemalloc.reset_peak()
    with pytest.raises(lib.exceptions.ProtocolError):
        pool.request("GET", "/", retries=False)
    assert traced() < 512 * 1024  # well under the 1 MiB line


@pytest.mark.parametrize("preload", [True, False], ids=["preload", "stream"])
def test_f6_absurd_chunk_size_allocates_only_what_arrives(
    preload: bool, raw_server: RawFactory, traced: Callable[[], int]
) -> None:
    # pooltest only: http.client (under urllib3) asks the buffered reader for the whole
    # announced size at once.
    server = raw_server(faults.respond(CHUNKED_HEAD + b"7fffffffffffffff\r\n" + b"x" * 1000))
    pool = _pool(pooltest, server)
    tracemalloc.reset_peak()
    if preload:
        with pytest.raises(pooltest.exceptions.ProtocolError):
            pool.request("GET", "/", retries=False)
    else:
        r = pool.request("GET", "/", retries=False, preload_content=False)
        with pytest.raises(pooltest.exceptions.ProtocolError):
            list(r.stream(1024))
    # One bounded read buffer at most (8 MiB), never the announced 8 EiB.
    assert traced() < (9 << 20 if preload else 256 * 1024)


# --- F7: connection refused ------------------------------------------------------------------


@LIBS
def test_f7_refused_returns_every_slot(lib: ModuleType, refused_port: int) -> None:
    pool = lib.HTTPConnectionPool("127.0.0.1", refused_port, maxsize=2, block=True)
    for _ in range(5):
        with pytest.raises(lib.exceptions.MaxRetryError) as info:
            pool.request("GET", "/", retries=1, pool_timeout=SHORT)
        assert isinstance(info.value.reason, lib.exceptions.NewConnectionError)
    assert pool.pool.qsize() == 2
    with pytest.raises(lib.exceptions.NewConnectionError):
        pool.request("GET", "/", retries=False, pool_timeout=SHORT)
    assert pool.pool.qsize() == 2


@LIBS
def test_f7_refused_under_contention(lib: ModuleType, refused_port: int) -> None:
    pool = lib.HTTPConnectionPool("127.0.0.1", refused_port, maxsize=2, block=True)
    errors: list[BaseException] = []

    def worker() -> None:
        for _ in range(5):
            try:
                pool.request("GET", "/", retries=2, pool_timeout=WAIT)
            except BaseException as exc:  # collected and checked below
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads)
    assert len(errors) == 30
    assert {type(e) for e in errors} == {lib.exceptions.MaxRetryError}
    assert pool.pool.qsize() == 2


@LIBS
def test_f7_refused_through_a_pool_manager(lib: ModuleType, refused_port: int) -> None:
    manager = lib.PoolManager(maxsize=3, block=True)
    with pytest.raises(lib.exceptions.MaxRetryError):
        manager.request("GET", f"http://127.0.0.1:{refused_port}/", retries=2)
    assert manager.connection_from_host("127.0.0.1", refused_port).pool.qsize() == 3


# --- F8: the server rejects an upload before reading it --------------------------------------


def _upload_bodies() -> list[Any]:
    return [
        pytest.param(lambda: _UPLOAD, id="bytes"),
        pytest.param(
            lambda: iter([_UPLOAD[i : i + 65536] for i in range(0, 4 << 20, 65536)]), id="iterable"
        ),
    ]


@LIBS
@pytest.mark.parametrize("drain_for", [1.0, 0.0], ids=["half-close", "reset"])
@pytest.mark.parametrize("make_body", _upload_bodies())
def test_f8_rejected_upload_returns_the_response(
    lib: ModuleType, drain_for: float, make_body: Callable[[], Any], raw_server: RawFactory
) -> None:
    server = raw_server(_then_ok(faults.reject_upload(413, drain_for=drain_for)))
    pool = _pool(lib, server)
    r = pool.request("POST", "/upload", body=make_body(), retries=False)
    assert (r.status, r.data) == (413, b"upload rejected\n")
    _assert_healthy(pool)
    assert server.connections_accepted == 2


def _answer_then_reject_upload(drain_for: float) -> Handler:
    """Serve one request keep-alive, then reject the next upload as ``reject_upload`` does."""
    reject = faults.reject_upload(413, drain_for=drain_for)

    def handler(sock: socket.socket, index: int) -> None:
        read_request(sock)
        sock.sendall(OK_RESPONSE)
        reject(sock, index)

    return handler


@LIBS
@pytest.mark.parametrize("drain_for", [1.0, 0.0], ids=["half-close", "reset"])
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_f8_rejected_upload_on_a_reused_connection(
    lib: ModuleType, drain_for: float, method: str, raw_server: RawFactory
) -> None:
    """The early answer wins over the stale-socket resend: the upload is not sent again."""
    server = raw_server(_then_ok(_answer_then_reject_upload(drain_for)))
    pool = _pool(lib, server)
    assert pool.request("GET", "/").data == b"ok"
    r = pool.request(method, "/upload", body=_UPLOAD, retries=False)
    assert (r.status, r.data) == (413, b"upload rejected\n")
    assert server.connections_accepted == 1
    _assert_healthy(pool)


# --- timeouts ------------------------------------------------------------------------------------


@LIBS
def test_connect_timeout(lib: ModuleType, unresponsive_port: int) -> None:
    pool = lib.HTTPConnectionPool("127.0.0.1", unresponsive_port)
    with pytest.raises(lib.exceptions.ConnectTimeoutError) as info:
        pool.request("GET", "/", timeout=lib.Timeout(connect=SHORT, read=WAIT), retries=False)
    assert info.value.args[1] == f"Connection to 127.0.0.1 timed out. (connect timeout={SHORT})"
    with pytest.raises(lib.exceptions.MaxRetryError) as retried:
        pool.request("GET", "/", timeout=SHORT, retries=lib.Retry(connect=1))
    assert isinstance(retried.value.reason, lib.exceptions.ConnectTimeoutError)
    assert pool.pool.qsize() == 1


@LIBS
def test_read_timeout_message(lib: ModuleType, raw_server: RawFactory) -> None:
    server = raw_server(faults.hang(max_wait=WAIT))
    pool = _pool(lib, server)
    with pytest.raises(lib.exceptions.ReadTimeoutError) as info:
        pool.request("GET", "/", timeout=lib.Timeout(connect=WAIT, read=SHORT), retries=False)
    assert str(info.value) == (
        f"HTTPConnectionPool(host='127.0.0.1', port={server.port}): "
        f"Read timed out. (read timeout={SHORT})"
    )
    assert pool.pool.qsize() == 1


@LIBS
def test_total_timeout_caps_the_read_timeout(lib: ModuleType, raw_server: RawFactory) -> None:
    server = raw_server(faults.hang(max_wait=WAIT))
    pool = _pool(lib, server)
    with pytest.raises(lib.exceptions.ReadTimeoutError) as info:
        pool.request("GET", "/", timeout=lib.Timeout(total=0.2, read=WAIT), retries=False)
    match = re.search(r"read timeout=([0-9.]+)\)", str(info.value))
    assert match is not None
    assert 0 < float(match.group(1)) <= 0.2


@LIBS
def test_per_request_timeout_overrides_the_pool_timeout(
    lib: ModuleType, http_server: KeepAliveServer
) -> None:
    pool = _pool(lib, http_server, timeout=SHORT)
    with pytest.raises(lib.exceptions.ReadTimeoutError):
        pool.request("GET", "/slow?delay=5", retries=False)
    r = pool.request("GET", "/slow?delay=0.3", timeout=lib.Timeout(read=WAIT), retries=False)
    assert r.data == b"slow response body\n"
    r = pool.request("GET", "/slow?delay=0.3", timeout=WAIT, retries=False)
    assert r.status == 200


@LIBS
def test_pool_manager_timeout(lib: ModuleType, http_server: KeepAliveServer) -> None:
    manager = lib.PoolManager(timeout=lib.Timeout(read=SHORT))
    with pytest.raises(lib.exceptions.MaxRetryError) as info:
        manager.request("GET", http_server.url + "/slow?delay=5", retries=1)
    assert isinstance(info.value.reason, lib.exceptions.ReadTimeoutError)
    assert manager.request("GET", http_server.url + "/").status == 200


@LIBS
def test_no_timeout_waits_for_a_slow_answer(lib: ModuleType, http_server: KeepAliveServer) -> None:
    pool = _pool(lib, http_server, timeout=None)
    assert pool.request("GET", "/slow?delay=0.2", retries=False).status == 200
