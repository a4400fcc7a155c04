"""Fault rows of the hardening matrix (issue 7) that tests/integration does not state exactly.

F5 a server dripping one byte at a time: a gap longer than the read timeout fails with
``ReadTimeoutError`` even though bytes keep coming (the timeout bounds each socket operation),
and ``Timeout(total=...)`` caps that per-operation timeout when ``read`` is longer. F9 a TLS
server that turns to plaintext in the middle of the exchange (inside the head, or inside the
body) gives ``SSLError``, never a response built from the plaintext. D1 (a process fault) a
process saving a cassette in a loop is killed with SIGKILL 100 times: the file on disk is always
the complete old or the complete new cassette.

Each scenario runs through urllib3 and pooltest alike; the two must agree.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import random
import signal
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import urllib3
from support import RawServer, read_request
from support import raw as faults
from support.raw import Handler
from support.streams import save_forever
from support.tls import TLSKit

import pooltest
from pooltest.cassette._format import load, save
from pooltest.cassette._model import Interaction, Response
from pooltest.cassette._request import Request

pytestmark = pytest.mark.network

RawFactory = Callable[[Handler], RawServer]
LIBS = pytest.mark.parametrize("lib", [pooltest, urllib3], ids=["pooltest", "urllib3"])
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
LONG = 5.0  # a timeout that never fires in these tests
_AT = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


def _pool(lib: ModuleType, server: Any, **kw: Any) -> Any:
    return lib.HTTPConnectionPool(server.host, server.port, **kw)


# --- F5: dripping servers ----------------------------------------------------------------------


def _head_then_drip(delay: float) -> Handler:
    """Send the head of ``RESPONSE`` at once, then its body one byte every ``delay`` s."""
    head, _, body = RESPONSE.partition(b"\r\n\r\n")

    def handler(sock: socket.socket, index: int) -> None:
        read_request(sock)
        sock.sendall(head + b"\r\n\r\n")
        for offset in range(len(body)):
            sock.sendall(body[offset : offset + 1])
            faults.wait_for_peer_close(sock, delay)  # ends early once the client gives up

    return handler


@LIBS
@pytest.mark.parametrize("where", ["head", "body"])
def test_f5_drip_slower_than_the_read_timeout_times_out(
    lib: ModuleType, where: str, raw_server: RawFactory
) -> None:
    """Bytes keep arriving, but each gap exceeds the read timeout: ``ReadTimeoutError``,
    whether the gaps fall in the head or (streaming) in the body."""
    handler = faults.drip(RESPONSE, delay=1.0) if where == "head" else _head_then_drip(1.0)
    pool = _pool(lib, raw_server(handler), retries=False)
    if where == "head":
        with pytest.raises(lib.exceptions.ReadTimeoutError):
            pool.request("GET", "/", timeout=0.2)
    else:
        r = pool.request("GET", "/", timeout=0.2, preload_content=False)
        assert r.status == 200
        with pytest.raises(lib.exceptions.ReadTimeoutError):
            r.read()
        r.release_conn()
    assert pool.pool.qsize() == 1


@LIBS
def test_f5_total_timeout_caps_a_long_read_timeout_on_a_drip(
    lib: ModuleType, raw_server: RawFactory
) -> None:
    """``read`` alone would wait; ``total`` shortens each wait, so the drip times out."""
    server = raw_server(faults.drip(RESPONSE, delay=0.3))
    pool = _pool(lib, server, retries=False)
    with pytest.raises(lib.exceptions.ReadTimeoutError):
        pool.request("GET", "/", timeout=lib.Timeout(read=LONG, total=0.05))
    assert pool.pool.qsize() == 1


@LIBS
def test_f5_total_timeout_is_not_a_deadline_for_the_exchange(
    lib: ModuleType, raw_server: RawFactory
) -> None:
    """As urllib3 documents, ``total`` bounds connect plus each read wait, not the transfer:
    a drip whose every gap fits completes even when the whole response takes longer."""
    server = raw_server(faults.drip(RESPONSE, delay=0.01))
    pool = _pool(lib, server, retries=False)
    r = pool.request("GET", "/", timeout=lib.Timeout(total=0.2))
    assert r.data == b"hello"


# --- F9: plaintext in the middle of a TLS stream -----------------------------------------------


def _tls_then_plaintext(context: ssl.SSLContext, encrypted: bytes, plain: bytes) -> Handler:
    """Handshake, read the request, send ``encrypted`` over TLS, then ``plain`` in the clear."""

    def handler(sock: socket.socket, index: int) -> None:
        with context.wrap_socket(sock, server_side=True) as tls:
            read_request(tls)
            if encrypted:
                tls.sendall(encrypted)
            os.write(tls.fileno(), plain)
            faults.wait_for_peer_close(sock)

    return handler


_MID_STREAM = {
    "in-head": (b"HTTP/1.1 200 OK\r\n", b"Content-Length: 5\r\n\r\nhello"),
    "before-head": (b"", RESPONSE),
    "in-body": (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", b"world"),
}


def _outcome(lib: ModuleType, server: RawServer, ca_certs: str) -> tuple[str, ...]:
    pool = lib.HTTPSConnectionPool(
        server.host, server.port, ca_certs=ca_certs, retries=False, timeout=LONG
    )
    with pool:
        try:
            r = pool.request("GET", "/")
        except lib.exceptions.HTTPError as exc:
            return ("error", type(exc).__name__)
        return ("response", str(r.status), r.data.decode())


@pytest.mark.parametrize("where", list(_MID_STREAM))
def test_f9_plaintext_mid_stream_is_an_ssl_error(
    where: str, raw_server: RawFactory, tls_ca: TLSKit
) -> None:
    encrypted, plain = _MID_STREAM[where]
    seen = []
    for lib in (pooltest, urllib3):
        server = raw_server(_tls_then_plaintext(tls_ca.server_context(), encrypted, plain))
        seen.append(_outcome(lib, server, tls_ca.ca_certs))
    assert seen[0] == seen[1]
    assert seen[0] == ("error", "SSLError")


# --- D1: kill -9 during save -------------------------------------------------------------------


def _batch(tag: str, rng: random.Random) -> list[Interaction]:
    """Twelve interactions of 40-60 kB bodies: a save takes long enough to be cut."""
    text = "".join(rng.choice("abcdefgh \n") for _ in range(40_000)).encode()
    return [
        Interaction(
            Request("GET", f"http://h/{tag}/{n}", (("Accept", "*/*"),), b""),
            Response(
                200,
                "OK",
                (("Content-Type", "text/plain"),),
                rng.randbytes(60_000) if n % 2 else text,
                "HTTP/1.1",
            ),
            _AT,
        )
        for n in range(12)
    ]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork() for a fast child per kill")
def test_d1_kill_9_during_save_100_times(tmp_path: Path) -> None:
    path = str(tmp_path / "c.yaml")
    rng = random.Random(11)
    first, second = batches = _batch("a", rng), _batch("b", rng)
    save(path, first)
    context = multiprocessing.get_context("fork")
    for _ in range(100):
        child = context.Process(target=save_forever, args=(path, batches), daemon=True)
        child.start()
        child.join(rng.uniform(0.0, 0.08))
        os.kill(child.pid or 0, signal.SIGKILL)
        child.join(10)
        assert child.exitcode == -signal.SIGKILL
        assert load(path) in (first, second)
    leftovers = [p for p in os.listdir(tmp_path) if p != "c.yaml"]
    assert all(p.startswith(".c.yaml.") and p.endswith(".tmp") for p in leftovers)
    print(f"\nD1: 100 kills, {len(leftovers)} left a temporary file (killed mid-save)")
