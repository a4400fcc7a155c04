"""``pooltest serve``: a cassette recorded on loopback, answered back by werkzeug on loopback.

The cassette is recorded for real (pooltest against the test origin), then served; clients are
pooltest, urllib3 (the peer: another program replaying the same file) and a ``python -m
pooltest serve`` subprocess reached with http.client.
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3
from support import ENCODED_PAYLOAD, KeepAliveServer

from pooltest.cassette import Cassette
from pooltest.cassette._format import load
from pooltest.poolmanager import PoolManager

if typing.TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer

pytestmark = pytest.mark.network

UPLOAD: dict[str, str | tuple[str, bytes, str]] = {
    "doc": ("a.txt", b"hello", "text/plain"),
    "tag": "x",
}


@pytest.fixture
def recorded(http_server: KeepAliveServer, tmp_path: Path) -> str:
    """A cassette of a few exchanges with the test origin (JSON, gzip, upload, chunked...)."""
    path = str(tmp_path / "served.yaml")
    with Cassette(path, record_mode="once") as cassette, cassette.pool_manager() as http:
        base = http_server.url
        http.request("GET", f"{base}/json")
        http.request("GET", f"{base}/gzip")
        http.request("POST", f"{base}/upload", fields=UPLOAD)
        http.request("GET", f"{base}/chunked?n=2")
        http.request("GET", f"{base}/headers")
        http.request("HEAD", f"{base}/head-check")
    return path


@pytest.fixture
def served(recorded: str) -> Iterator[BaseWSGIServer]:
    from pooltest._cli_serve import make_cassette_server

    server = make_cassette_server(recorded)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _clients() -> list[typing.Any]:
    return [
        pytest.param(PoolManager, id="pooltest"),
        pytest.param(urllib3.PoolManager, id="urllib3"),
    ]


@pytest.mark.parametrize("manager", _clients())
def test_served_responses_are_the_recorded_ones(
    manager: type[typing.Any], served: BaseWSGIServer, recorded: str
) -> None:
    interactions = load(recorded)
    base = f"http://127.0.0.1:{served.port}"
    with manager(timeout=5, retries=False) as http:
        json_answer = http.request("GET", f"{base}/json")
        gzip_answer = http.request("GET", f"{base}/gzip")
        upload = http.request("POST", f"{base}/upload", fields=UPLOAD)
        chunked = http.request("GET", f"{base}/chunked?n=2")
        repeated = http.request("GET", f"{base}/headers")
        head = http.request("HEAD", f"{base}/head-check")
    assert json_answer.status == 200
    assert json_answer.data == interactions[0].response.body
    assert gzip_answer.headers["Content-Encoding"] == "gzip"
    assert gzip_answer.data == ENCODED_PAYLOAD
    assert upload.json()["form"] == {"tag": ["x"]}
    assert chunked.data == interactions[3].response.body
    assert repeated.headers.getlist("Set-Cookie") == [
        v for n, v in interactions[4].response.headers if n.lower() == "set-cookie"
    ]
    assert repeated.headers["Date"] == interactions[4].response.header("Date")
    assert head.status == 200
    assert head.data == b""
    assert head.headers["Content-Length"] == interactions[5].response.header("Content-Length")


def test_unmatched_requests_get_the_mismatch_explanation(served: BaseWSGIServer) -> None:
    with PoolManager(timeout=5, retries=False) as http:
        answer = http.request("GET", f"http://127.0.0.1:{served.port}/jsno")
    assert answer.status == 500
    assert answer.headers["X-Pooltest-Unmatched"] == "1"
    text = answer.data.decode()
    assert text.startswith(
        f"No recorded interaction matches GET http://127.0.0.1:{served.port}/jsno"
    )
    assert "path" in text
    assert "'/jsno'" in text
    assert "'/json'" in text


def test_a_request_may_be_replayed_again(served: BaseWSGIServer) -> None:
    with PoolManager(timeout=5, retries=False) as http:
        answers = [http.request("GET", f"http://127.0.0.1:{served.port}/json") for _ in range(3)]
    assert [a.status for a in answers] == [200, 200, 200]
    assert len({a.data for a in answers}) == 1


def test_the_serve_command_in_a_subprocess(recorded: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pooltest", "serve", recorded, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # printed before serving; the process is bounded below
        assert line.startswith(f"Serving {recorded} on http://127.0.0.1:")
        port = int(line.split("http://127.0.0.1:", 1)[1].split()[0])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/json")
        answer = connection.getresponse()
        assert answer.status == 200
        assert answer.read() == load(recorded)[0].response.body
        connection.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
