"""The connection classes' own API, used directly (not through a pool)."""

from __future__ import annotations

import json

import pytest
from support import KeepAliveServer

from pooltest.connection import HTTPConnection


def test_request_then_getresponse_on_a_kept_alive_connection(http_server: KeepAliveServer) -> None:
    conn = HTTPConnection("127.0.0.1", http_server.port)
    for _ in range(3):
        conn.request("POST", "/echo", body=b"abc", headers={"X-A": "1"})
        echo = json.loads(conn.getresponse().data)
        assert echo["body"] == "abc"
    assert http_server.connections_accepted == 1
    conn.close()
    assert conn.is_closed


def test_http_client_style_step_by_step(http_server: KeepAliveServer) -> None:
    conn = HTTPConnection("127.0.0.1", http_server.port)
    conn.putrequest("POST", "/echo")
    conn.putheader("Content-Length", "5")
    conn.putheader("X-Multi", "a", "b")
    conn.endheaders(b"hello")
    echo = json.loads(conn.getresponse().data)
    assert echo["body"] == "hello"
    headers = dict(echo["headers"])
    assert headers["Host"] == f"127.0.0.1:{http_server.port}"
    assert headers["Accept-Encoding"] == "identity"
    assert headers["X-Multi"] == "a, b"
    conn.close()


def test_step_by_step_rejects_injection_before_sending(http_server: KeepAliveServer) -> None:
    conn = HTTPConnection("127.0.0.1", http_server.port)
    with pytest.raises(ValueError, match="Method cannot contain"):
        conn.putrequest("GET\r\nX: y", "/")
    conn.putrequest("GET", "/")
    conn.putheader("X-Bad", "a\r\nInjected: 1")
    with pytest.raises(ValueError, match="Invalid header value"):
        conn.endheaders()
    assert http_server.connections_accepted == 0
