"""Redirects over real sockets, run side by side through urllib3 and pooltest.

What the next server sees after a redirect: on a cross-origin hop ``Authorization``, ``Cookie``
and ``Proxy-Authorization`` are gone (whatever their letter case), while same-origin hops keep
them; a 303 turns any method into a GET without body, ``Content-*`` headers or chunked framing;
307 and 308 keep method and body; 301/302 keep the method, as urllib3 2.x does. Also the budget:
``retries=False`` returns the 3xx, ``retries=0`` raises, ``Retry(redirect=n)`` counts hops, a
redirect loop ends in :class:`MaxRetryError`, ``raise_on_redirect=False`` hands back the last 3xx,
``history`` records every hop; and Locations that are not http(s) are refused without any
connection attempt.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Callable
from types import ModuleType
from typing import Any
from urllib.parse import quote

import pytest
import urllib3
from support import HEAD_CHECK_BODY, KeepAliveServer, RawServer, ServerFarm, read_request
from support.raw import Handler

import pooltest

pytestmark = pytest.mark.network

Origins = Callable[..., ServerFarm]
RawFactory = Callable[[Handler], RawServer]
LIBS = pytest.mark.parametrize("lib", [pooltest, urllib3], ids=["pooltest", "urllib3"])

#: Headers that must not follow a redirect to another origin, in assorted spellings.
CREDENTIALS = [
    ("Authorization", "Bearer secret"),
    ("AUTHORIZATION", "Bearer secret"),
    ("authorization", "Basic c2VjcmV0"),
    ("Cookie", "session=1"),
    ("COOKIE", "session=1"),
    ("cOoKiE", "session=1"),
    ("Proxy-Authorization", "Basic cHJveHk="),
    ("proxy-authorization", "Basic cHJveHk="),
    ("PROXY-AUTHORIZATION", "Basic cHJveHk="),
]
CONTENT_HEADERS = {
    "Content-Type": "text/plain",
    "Content-Language": "en",
    "Content-Encoding": "identity",
    "Content-Location": "/here",
}


def _redirect_path(to: str, status: int) -> str:
    return f"/redirect?status={status}&to={quote(to, safe='')}"


def _echoed_names(echo: dict[str, Any]) -> set[str]:
    return {name.lower() for name, _ in echo["headers"]}


def _echo_header(echo: dict[str, Any], name: str) -> str | None:
    for key, value in echo["headers"]:
        if key.lower() == name.lower():
            return str(value)
    return None


def _redirect_loop() -> Handler:
    """Answer every request on a keep-alive connection with ``302 Location: /loop``."""
    response = b"HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 5\r\n\r\nagain"

    def handler(sock: socket.socket, index: int) -> None:
        while True:
            try:
                read_request(sock)
            except (ConnectionError, TimeoutError, OSError):
                return
            sock.sendall(response)

    return handler


# --- header stripping ------------------------------------------------------------------------


@LIBS
@pytest.mark.parametrize(("name", "value"), CREDENTIALS)
def test_cross_origin_redirect_strips_credentials(
    lib: ModuleType, name: str, value: str, origins: Origins
) -> None:
    a, b = origins(2)
    headers = {name: value, "X-Kept": "yes"}
    r = lib.PoolManager().request(
        "GET", a.url + _redirect_path(b.url + "/echo", 302), headers=headers
    )
    echo = r.json()
    assert echo["connection_id"] == 0
    assert b.requests_served == 1
    assert name.lower() not in _echoed_names(echo)
    assert _echo_header(echo, "X-Kept") == "yes"


@LIBS
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_same_origin_redirect_keeps_credentials(
    lib: ModuleType, status: int, http_server: KeepAliveServer
) -> None:
    headers = dict(CREDENTIALS[::3])
    r = lib.PoolManager().request(
        "GET", http_server.url + _redirect_path("/echo", status), headers=headers
    )
    echo = r.json()
    for name, value in headers.items():
        assert _echo_header(echo, name) == value


@LIBS
def test_redirect_to_another_port_on_the_same_host_is_cross_origin(
    lib: ModuleType, origins: Origins
) -> None:
    a, b = origins(2)
    assert (a.host, a.scheme) == (b.host, b.scheme)
    r = lib.PoolManager().request(
        "GET", a.url + _redirect_path(b.url + "/echo", 307), headers={"Cookie": "c=1"}
    )
    assert "cookie" not in _echoed_names(r.json())


@LIBS
def test_custom_remove_headers_on_redirect(lib: ModuleType, origins: Origins) -> None:
    a, b = origins(2)
    retries = lib.Retry(remove_headers_on_redirect=["X-SECRET"])
    headers = {"x-Secret": "s", "Authorization": "kept now", "X-Other": "o"}
    r = lib.PoolManager().request(
        "GET", a.url + _redirect_path(b.url + "/echo", 302), headers=headers, retries=retries
    )
    echo = r.json()
    assert "x-secret" not in _echoed_names(echo)
    assert _echo_header(echo, "Authorization") == "kept now"
    assert _echo_header(echo, "X-Other") == "o"


@LIBS
def test_empty_remove_headers_on_redirect_keeps_everything(
    lib: ModuleType, origins: Origins
) -> None:
    a, b = origins(2)
    retries = lib.Retry(remove_headers_on_redirect=[])
    r = lib.PoolManager().request(
        "GET",
        a.url + _redirect_path(b.url + "/echo", 302),
        headers={"Cookie": "c=1"},
        retries=retries,
    )
    assert _echo_header(r.json(), "Cookie") == "c=1"


@LIBS
def test_credentials_stay_stripped_on_later_hops(lib: ModuleType, origins: Origins) -> None:
    """a -> b (cross-origin, stripped) -> b again: the credentials do not come back."""
    a, b = origins(2)
    hop2 = b.url + _redirect_path("/echo", 302)
    r = lib.PoolManager().request(
        "GET", a.url + _redirect_path(hop2, 302), headers={"Authorization": "t", "X-A": "1"}
    )
    echo = r.json()
    assert "authorization" not in _echoed_names(echo)
    assert _echo_header(echo, "X-A") == "1"
    assert len(r.retries.history) == 2


# --- method and body ---------------------------------------------------------------------------


@LIBS
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "GET"])
@pytest.mark.parametrize("cross", [False, True], ids=["same-origin", "cross-origin"])
def test_303_becomes_get_without_body(
    lib: ModuleType, method: str, cross: bool, origins: Origins
) -> None:
    a, b = origins(2)
    target = (b.url if cross else "") + "/echo"
    r = lib.PoolManager().request(
        method, a.url + _redirect_path(target, 303), body=b"secret body", headers=CONTENT_HEADERS
    )
    echo = r.json()
    assert (echo["method"], echo["body"], echo["chunked"]) == ("GET", "", False)
    names = _echoed_names(echo)
    assert not {n for n in names if n.startswith("content-")}
    assert "transfer-encoding" not in names


@LIBS
def test_303_drops_a_chunked_body(lib: ModuleType, http_server: KeepAliveServer) -> None:
    r = lib.PoolManager().request(
        "POST", http_server.url + _redirect_path("/echo", 303), body=iter([b"a", b"b"])
    )
    echo = r.json()
    assert (echo["method"], echo["body"], echo["chunked"]) == ("GET", "", False)
    assert "transfer-encoding" not in _echoed_names(echo)


@LIBS
def test_303_after_a_form_upload(lib: ModuleType, http_server: KeepAliveServer) -> None:
    r = lib.PoolManager().request(
        "POST", http_server.url + _redirect_path("/echo", 303), fields={"field": "value"}
    )
    echo = r.json()
    assert (echo["method"], echo["body"]) == ("GET", "")
    assert "content-type" not in _echoed_names(echo)


@LIBS
def test_303_on_a_connection_pool(lib: ModuleType, http_server: KeepAliveServer) -> None:
    pool = lib.HTTPConnectionPool(http_server.host, http_server.port)
    r = pool.request("PUT", _redirect_path("/echo", 303), body=b"x", headers=CONTENT_HEADERS)
    echo = r.json()
    assert (echo["method"], echo["body"]) == ("GET", "")
    assert not {n for n in _echoed_names(echo) if n.startswith("content-")}


@LIBS
@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("cross", [False, True], ids=["same-origin", "cross-origin"])
def test_307_and_308_keep_method_and_body(
    lib: ModuleType, status: int, method: str, cross: bool, origins: Origins
) -> None:
    a, b = origins(2)
    target = (b.url if cross else "") + "/echo"
    r = lib.PoolManager().request(
        method,
        a.url + _redirect_path(target, status),
        body=b"the body",
        headers={"Content-Type": "application/octet-stream"},
    )
    echo = r.json()
    assert (echo["method"], echo["body"]) == (method, "the body")
    assert _echo_header(echo, "Content-Type") == "application/octet-stream"
    assert _echo_header(echo, "Content-Length") == "8"
    assert (b if cross else a).requests_served == (1 if cross else 2)


@LIBS
@pytest.mark.parametrize("status", [307, 308])
def test_307_and_308_on_a_pool_resend_a_file_body(
    lib: ModuleType, status: int, http_server: KeepAliveServer
) -> None:
    pool = lib.HTTPConnectionPool(http_server.host, http_server.port)
    r = pool.request("PUT", _redirect_path("/echo", status), body=io.BytesIO(b"file body"))
    assert (r.json()["method"], r.json()["body"]) == ("PUT", "file body")


@pytest.mark.parametrize("status", [301, 302])
def test_301_and_302_keep_post_like_urllib3(status: int, http_server: KeepAliveServer) -> None:
    seen = []
    for lib in (urllib3, pooltest):
        r = lib.PoolManager().request(
            "POST", http_server.url + _redirect_path("/echo", status), body=b"payload"
        )
        echo = r.json()
        seen.append((echo["method"], echo["body"], r.geturl()))
    assert seen[0] == seen[1]
    assert seen[1][:2] == ("POST", "payload")


def test_303_to_head_matches_urllib3(http_server: KeepAliveServer) -> None:
    seen = []
    for lib in (urllib3, pooltest):
        before = http_server.requests_served
        r = lib.PoolManager().request("HEAD", http_server.url + _redirect_path("/head-check", 303))
        seen.append((r.status, r.headers["X-Method"], r.data, http_server.request_log[before:]))
    assert seen[0][:3] == seen[1][:3] == (200, "GET", HEAD_CHECK_BODY)  # HEAD became GET
    assert [(m, p) for _, m, p in seen[0][3]] == [(m, p) for _, m, p in seen[1][3]]


# --- budget and history ------------------------------------------------------------------------


@LIBS
def test_retries_false_returns_the_redirect(lib: ModuleType, http_server: KeepAliveServer) -> None:
    for manager, kw in (
        (lib.PoolManager(retries=False), {}),
        (lib.PoolManager(), {"retries": False}),
    ):
        before = http_server.requests_served
        r = manager.request("GET", http_server.url + "/redirect-n/3", **kw)
        assert (r.status, r.headers["Location"]) == (302, "/redirect-n/2")
        assert http_server.requests_served == before + 1


@LIBS
def test_retries_zero_does_not_follow(lib: ModuleType, http_server: KeepAliveServer) -> None:
    for manager, kw in ((lib.PoolManager(retries=0), {}), (lib.PoolManager(), {"retries": 0})):
        before = http_server.requests_served
        with pytest.raises(lib.exceptions.MaxRetryError) as info:
            manager.request("GET", http_server.url + "/redirect-n/3", **kw)
        assert isinstance(info.value.reason, lib.exceptions.ResponseError)
        assert "too many redirects" in str(info.value.reason)
        assert http_server.requests_served == before + 1


@LIBS
def test_redirect_false_returns_the_redirect(lib: ModuleType, http_server: KeepAliveServer) -> None:
    r = lib.PoolManager().request("GET", http_server.url + "/redirect-n/3", redirect=False)
    assert (r.status, r.get_redirect_location()) == (302, "/redirect-n/2")
    pool = lib.HTTPConnectionPool(http_server.host, http_server.port)
    assert pool.request("GET", "/redirect-n/3", redirect=False).status == 302
    assert http_server.requests_served == 2


def test_redirect_history_matches_urllib3(origins: Origins) -> None:
    a, b = origins(2)
    start = a.url + _redirect_path(b.url + "/redirect-n/2?absolute=1", 301)
    seen = []
    for lib in (urllib3, pooltest):
        r = lib.PoolManager().request("GET", start, retries=lib.Retry(total=10, redirect=5))
        history = [(h.method, h.url, h.status, h.redirect_location) for h in r.retries.history]
        seen.append((r.status, r.geturl(), r.retries.redirect, r.retries.total, history))
    assert seen[0] == seen[1]
    status, url, redirect_left, total_left, history = seen[1]
    assert (status, redirect_left, total_left, len(history)) == (200, 2, 7, 3)
    assert history[0] == ("GET", start, 301, b.url + "/redirect-n/2?absolute=1")
    assert url == b.url + "/redirect-n/0?absolute=1"


@LIBS
def test_redirect_budget_runs_out(lib: ModuleType, http_server: KeepAliveServer) -> None:
    manager = lib.PoolManager()
    with pytest.raises(lib.exceptions.MaxRetryError) as info:
        manager.request("GET", http_server.url + "/redirect-n/5", retries=lib.Retry(redirect=2))
    assert "too many redirects" in str(info.value.reason)
    assert [path for _, _, path in http_server.request_log] == [
        "/redirect-n/5",
        "/redirect-n/4",
        "/redirect-n/3",
    ]
    r = manager.request(
        "GET",
        http_server.url + "/redirect-n/5",
        retries=lib.Retry(redirect=2, raise_on_redirect=False),
    )
    assert (r.status, r.headers["Location"]) == (302, "/redirect-n/2")
    assert r.data == b"redirect to /redirect-n/2\n"


@LIBS
def test_pool_manager_level_retry_policy(lib: ModuleType, http_server: KeepAliveServer) -> None:
    manager = lib.PoolManager(retries=lib.Retry(redirect=1))
    assert manager.request("GET", http_server.url + "/redirect-n/1").status == 200
    with pytest.raises(lib.exceptions.MaxRetryError):
        manager.request("GET", http_server.url + "/redirect-n/2")


@LIBS
def test_redirect_loop_ends_in_max_retry_error(lib: ModuleType, raw_server: RawFactory) -> None:
    server = raw_server(_redirect_loop())
    url = f"http://{server.host}:{server.port}/loop"
    with pytest.raises(lib.exceptions.MaxRetryError) as info:
        lib.PoolManager().request("GET", url)  # the default Retry(3)
    assert "too many redirects" in str(info.value.reason)
    with pytest.raises(lib.exceptions.MaxRetryError):
        lib.PoolManager().request("GET", url, retries=lib.Retry(redirect=10))
    pool = lib.HTTPConnectionPool(server.host, server.port)
    with pytest.raises(lib.exceptions.MaxRetryError):
        pool.request("GET", "/loop")
    # Redirect bodies are drained, so each loop ran on one keep-alive connection.
    assert server.connections_accepted == 3


@LIBS
def test_redirect_chain_reuses_one_connection(
    lib: ModuleType, http_server: KeepAliveServer
) -> None:
    r = lib.PoolManager().request(
        "GET", http_server.url + "/redirect-n/3", retries=lib.Retry(redirect=3)
    )
    assert r.data == b"redirect chain done\n"
    assert http_server.connection_ids == [0, 0, 0, 0]


@LIBS
def test_redirects_across_origins_use_one_pool_each(lib: ModuleType, origins: Origins) -> None:
    a, b = origins(2)
    back_to_a = a.url + _redirect_path("/echo", 302)
    manager = lib.PoolManager()
    for _ in range(2):
        r = manager.request(
            "GET", a.url + _redirect_path(b.url + _redirect_path(back_to_a, 307), 302)
        )
        assert r.json()["path"] == "/echo"
    assert len(manager.pools) == 2
    assert set(a.connection_ids) == {0}
    assert set(b.connection_ids) == {0}


@LIBS
def test_relative_locations(lib: ModuleType, http_server: KeepAliveServer) -> None:
    manager = lib.PoolManager()
    r = manager.request("GET", http_server.url + _redirect_path("echo?a=1", 302))
    assert r.json()["target"] == "/echo?a=1"
    r = manager.request("GET", http_server.url + "/status/301?header=Location:%20../echo%23frag")
    assert r.json()["target"] == "/echo"


_LOCATIONS = [
    "/echo?a=b c",
    "/echo?q=caf\u00e9",
    "//{host}:{port}/echo?x=1",
    "/e%63ho",
    "/echo#fragment",
    " /echo",
    "HTTP://{host}:{port}/echo",
]


@pytest.mark.parametrize("location", _LOCATIONS, ids=range(len(_LOCATIONS)))
def test_location_forms_match_urllib3(location: str, http_server: KeepAliveServer) -> None:
    location = location.format(host=http_server.host, port=http_server.port)
    path = "/status/302?header=" + quote(f"Location: {location}")
    seen = []
    for lib in (urllib3, pooltest):
        before = http_server.requests_served
        r = lib.PoolManager().request("GET", http_server.url + path)
        seen.append((r.status, http_server.request_log[before:][-1].path))
    assert seen[0] == seen[1]


@LIBS
@pytest.mark.parametrize("direction", ["upgrade", "downgrade"])
def test_redirect_across_schemes_strips_credentials(
    lib: ModuleType,
    direction: str,
    http_server: KeepAliveServer,
    https_server: KeepAliveServer,
    ca_certs: str,
) -> None:
    source, target = (http_server, https_server)
    if direction == "downgrade":
        source, target = target, source
    # The ports differ as well as the schemes: either makes the hop cross-origin.
    manager = lib.PoolManager(ca_certs=ca_certs)
    r = manager.request(
        "POST",
        source.url + _redirect_path(target.url + "/echo", 307),
        body=b"b",
        headers={"Authorization": "a", "Cookie": "c", "X-Kept": "k"},
    )
    echo = r.json()
    assert (echo["method"], echo["body"]) == ("POST", "b")
    assert not {"authorization", "cookie"} & _echoed_names(echo)
    assert _echo_header(echo, "X-Kept") == "k"
    assert target.requests_served == 1


@LIBS
def test_pool_refuses_a_redirect_to_another_host(lib: ModuleType, origins: Origins) -> None:
    a, b = origins(2)
    pool = lib.HTTPConnectionPool(a.host, a.port)
    with pytest.raises(lib.exceptions.HostChangedError):
        pool.request("GET", _redirect_path(b.url + "/echo", 302))
    assert b.requests_served == 0


# --- locations that are not http(s) ------------------------------------------------------------

_NON_HTTP = [
    "ftp://127.0.0.1/file",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "data:text/plain,hello",
    "gopher://127.0.0.1:70/",
]


@pytest.mark.parametrize("location", _NON_HTTP)
def test_redirect_to_a_non_http_scheme_is_refused(
    location: str, http_server: KeepAliveServer
) -> None:
    raised = []
    for lib in (urllib3, pooltest):
        before = http_server.requests_served
        with pytest.raises(lib.exceptions.HTTPError) as info:
            lib.PoolManager().request("GET", http_server.url + _redirect_path(location, 302))
        raised.append(type(info.value).__name__)
        assert http_server.requests_served == before + 1
    assert raised[0] == raised[1]
    assert raised[1] in ("URLSchemeUnknown", "LocationValueError")
