"""Security rows of the hardening matrix (issue 7), stated exactly as the issue words them.

S3 in one test: ``retries=False`` returns the redirect, ``retries=3`` follows a three-hop chain,
a redirect loop ends in ``MaxRetryError`` (urllib3 and pooltest alike). S5 under default
settings (no filter options, default logging): a canary in the headers pooltest redacts by
default never reaches the cassette file, the log or an exception text. The row's wider wording
(a canary in any header, the query, a form, JSON or multipart body, with no filter configured)
is not what pooltest does: like vcrpy it records what was sent unless told to filter, and like
urllib3 it names the URL (query included) in error texts; that test is a strict xfail so the
gap stays visible (tests/integration/test_cassette_hardening.py proves the configured filters).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import urllib3
from support import KeepAliveServer, RawServer, read_request
from support.raw import Handler

import pooltest
from pooltest.cassette import UnmatchedRequestError, use_cassette

pytestmark = pytest.mark.network

RawFactory = Callable[[Handler], RawServer]
LIBS = pytest.mark.parametrize("lib", [pooltest, urllib3], ids=["pooltest", "urllib3"])
CANARY = "c4n4ry-h7-5ecret-91d2"


# --- S3 -------------------------------------------------------------------------------------------


def _loop() -> Handler:
    """Every request is answered ``302 Location: /loop`` on one keep-alive connection."""
    answer = b"HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n"

    def handler(sock: socket.socket, index: int) -> None:
        while True:
            try:
                read_request(sock)
            except (ConnectionError, TimeoutError, OSError):
                return
            sock.sendall(answer)

    return handler


@LIBS
def test_s3_no_follow_follow_and_loop(
    lib: ModuleType, http_server: KeepAliveServer, raw_server: RawFactory
) -> None:
    http = lib.PoolManager()
    chain = http_server.url + "/redirect-n/3"
    r = http.request("GET", chain, retries=False)
    assert (r.status, r.headers["Location"]) == (302, "/redirect-n/2")
    r = http.request("GET", chain, retries=3)
    assert (r.status, len(r.retries.history)) == (200, 3)
    loop = raw_server(_loop())
    with pytest.raises(lib.exceptions.MaxRetryError) as info:
        http.request("GET", f"http://{loop.host}:{loop.port}/loop", retries=3)
    assert "too many redirects" in str(info.value.reason)


# --- S5 -------------------------------------------------------------------------------------------

_REDACTED_BY_DEFAULT = {
    "Authorization": f"Bearer {CANARY}",
    "proxy-authorization": f"Basic {CANARY}",
    "COOKIE": f"session={CANARY}",
    "X-Api-Key": CANARY,
    "x-auth-token": CANARY,
}


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


def test_s5_default_redacted_headers_never_leak(
    tmp_path: Path, http_server: KeepAliveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pooltest")  # even more than the default shows
    path = tmp_path / "c.yaml"
    url = http_server.url + "/json"
    with use_cassette(path):
        assert (
            pooltest.PoolManager().request("GET", url, headers=_REDACTED_BY_DEFAULT).status == 200
        )
    assert CANARY not in path.read_text()
    with use_cassette(path, record_mode="none"), pytest.raises(UnmatchedRequestError) as info:
        pooltest.PoolManager().request("GET", url + "?miss=1", headers=_REDACTED_BY_DEFAULT)
    assert CANARY not in str(info.value)
    assert CANARY not in repr(info.value)
    assert caplog.records  # pooltest did log
    assert CANARY not in _logged(caplog)


def _send_everywhere(base: str) -> None:
    http = pooltest.PoolManager()
    http.request("GET", f"{base}/json?token={CANARY}", headers={"X-Custom-Secret": CANARY})
    http.request("POST", f"{base}/json", fields={"password": CANARY}, encode_multipart=False)
    http.request("POST", f"{base}/json", json={"password": CANARY})
    http.request("POST", f"{base}/json", fields={"password": CANARY})


def test_s5_canary_anywhere_under_default_settings(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"
    with use_cassette(path):
        _send_everywhere(http_server.url)
    stored = path.read_text()
    with use_cassette(path, record_mode="none"), pytest.raises(UnmatchedRequestError) as info:
        pooltest.PoolManager().request("GET", f"{http_server.url}/json?token={CANARY}&miss=1")
    assert (stored.count(CANARY), str(info.value).count(CANARY)) == (0, 0)


def test_s5_redact_defaults_false_records_everything(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    """The default redaction can be turned off; then the canary is stored (the test can fail)."""
    path = tmp_path / "c.yaml"
    with use_cassette(path, redact_defaults=False):
        _send_everywhere(http_server.url)
    assert path.read_text().count(CANARY) >= 4
