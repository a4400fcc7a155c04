"""ProxyManager and proxy_from_url against a real loopback forward proxy.

Plain HTTP goes to the proxy in absolute-form; HTTPS goes through a CONNECT tunnel, reused for
as many requests as the pool keeps the connection. The proxy's ``records`` show what reached the
proxy (request line, ``Proxy-Authorization``), the origin's ``/echo`` what reached the origin, so
every test can assert both sides: proxy credentials reach the proxy and never the origin.

Failures are compared with urllib3 2.x: a proxy refusing CONNECT (403, 407, 502), a dead proxy,
a proxy that never answers, a plain-HTTP proxy given an ``https://`` URL. HTTPS proxies are
covered too: forwarding plain HTTP and (``use_forwarding_for_https``) HTTPS over TLS to the
proxy, verified under the proxy's own policy.
"""

from __future__ import annotations

import functools
import json
import socket
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
import urllib3
from support import KeepAliveServer, ProxyServer, RawServer, TLSKit, ipv6_available
from support.raw import wait_for_peer_close

import pooltest
from pooltest import ProxyManager, make_headers, proxy_from_url
from pooltest.exceptions import MaxRetryError, ProxyError, ProxySchemeUnsupported

pytestmark = pytest.mark.network

LIBS = (urllib3, pooltest)
Outcome = tuple[Any, ...]
AUTH = "user:secret"


def _outcome(call: Callable[[], Any]) -> Outcome:
    """``("ok", value)`` or ``("error", exception name, reason name, wrapped name)``."""
    try:
        return ("ok", call())
    except Exception as exc:
        return ("error", type(exc).__name__, *_cause_names(exc))


def _cause_names(exc: Exception) -> tuple[str | None, str | None]:
    reason = getattr(exc, "reason", None)
    if reason is None:
        return None, None
    wrapped = getattr(reason, "original_error", None)
    return type(reason).__name__, type(wrapped).__name__ if wrapped is not None else None


def _both(scenario: Callable[[ModuleType], Any]) -> Outcome:
    """Run ``scenario(lib)`` for urllib3 then pooltest; assert equal outcomes; return it."""
    expected, actual = (_outcome(functools.partial(scenario, lib)) for lib in LIBS)
    assert actual == expected
    return actual


def _echo(response: Any) -> dict[str, Any]:
    assert response.status == 200, response.data
    result: dict[str, Any] = json.loads(response.data)
    return result


def _header_names(echo: dict[str, Any]) -> set[str]:
    return {name.lower() for name, _ in echo["headers"]}


def _header(echo: dict[str, Any], name: str) -> list[str]:
    return [value for key, value in echo["headers"] if key.lower() == name.lower()]


@pytest.fixture
def auth_proxy(serve: Callable[[ProxyServer], ProxyServer], tls_ca: TLSKit) -> ProxyServer:
    """A forward proxy that demands Basic ``Proxy-Authorization`` for ``AUTH``."""
    return serve(ProxyServer(auth=AUTH, upstream_ca_certs=tls_ca.ca_certs))


@pytest.fixture
def tls_proxy(serve: Callable[[ProxyServer], ProxyServer], tls_ca: TLSKit) -> ProxyServer:
    """A forward proxy served over HTTPS (certificate for localhost/127.0.0.1/::1)."""
    return serve(ProxyServer(tls=tls_ca.server_context(), upstream_ca_certs=tls_ca.ca_certs))


@pytest.fixture
def silent_proxy(raw_server: Callable[..., RawServer]) -> RawServer:
    """Accepts connections, reads nothing useful and never answers."""

    def stall(sock: socket.socket, index: int) -> None:
        wait_for_peer_close(sock, 30.0)

    return raw_server(stall)


# --- plain HTTP through an HTTP proxy ------------------------------------------------------


def test_plain_http_goes_to_proxy_in_absolute_form(
    proxy_server: ProxyServer, http_server: KeepAliveServer
) -> None:
    url = f"http://127.0.0.1:{http_server.port}/echo?a=1"
    with ProxyManager(proxy_server.url) as manager:
        echo = _echo(manager.request("GET", url))
    (record,) = proxy_server.records
    assert record.request_line == f"GET {url} HTTP/1.1"
    assert (proxy_server.request_count, proxy_server.connect_count) == (1, 0)
    assert echo["target"] == "/echo?a=1"
    assert _header(echo, "Host") == [f"127.0.0.1:{http_server.port}"]
    assert _header(echo, "Accept") == ["*/*"]


def test_plain_http_requests_share_one_proxy_connection(
    proxy_server: ProxyServer, origins: Callable[..., Any]
) -> None:
    """Every plain-HTTP origin is reached through the proxy's pool: one kept-alive socket."""
    farm = origins(3)
    with proxy_from_url(proxy_server.url) as manager:
        for _ in range(2):
            for server in farm:
                assert manager.request("GET", f"{server.url}/").status == 200
        assert len(manager.pools) == 1
    assert proxy_server.connections_accepted == 1
    assert proxy_server.request_count == 6


def test_forwarded_request_matches_urllib3(
    proxy_server: ProxyServer, http_server: KeepAliveServer
) -> None:
    """Same request line and header fields (bar User-Agent) at the proxy, as urllib3."""

    def scenario(lib: ModuleType) -> Any:
        before = len(proxy_server.records)
        manager = lib.ProxyManager(
            proxy_server.url, headers={"X-Manager": "m"}, proxy_headers={"X-Proxy": "p"}
        )
        url = f"http://localhost:{http_server.port}/echo?q=%20x"
        body = b'{"k": 1}'
        manager.request("POST", url, body=body, headers={"X-Call": "c"})
        (record,) = proxy_server.records[before:]
        fields = [(k.lower(), v) for k, v in record.headers if k.lower() != "user-agent"]
        return record.request_line, sorted(fields)

    outcome = _both(scenario)
    assert outcome[1][0] == f"POST http://localhost:{http_server.port}/echo?q=%20x HTTP/1.1"


def test_proxy_from_url_is_a_proxy_manager(proxy_server: ProxyServer) -> None:
    manager = proxy_from_url(proxy_server.url, num_pools=3, headers={"X": "1"})
    assert isinstance(manager, ProxyManager)
    assert manager.proxy is not None
    assert (manager.proxy.scheme, manager.proxy.host, manager.proxy.port) == (
        "http",
        "127.0.0.1",
        proxy_server.port,
    )
    assert manager.pools._maxsize == 3
    assert manager.headers == {"X": "1"}


def test_proxy_url_without_port_defaults_by_scheme() -> None:
    for lib in LIBS:
        for url, port in (("http://proxy.invalid", 80), ("https://proxy.invalid", 443)):
            proxy = lib.ProxyManager(url).proxy
            assert proxy is not None
            assert proxy.port == port, lib.__name__


# --- credentials and proxy headers ---------------------------------------------------------


def test_proxy_authorization_reaches_proxy_on_forwarded_requests(
    auth_proxy: ProxyServer, http_server: KeepAliveServer
) -> None:
    headers = make_headers(proxy_basic_auth=AUTH)
    manager = ProxyManager(auth_proxy.url, proxy_headers=headers)
    echo = _echo(manager.request("GET", f"http://127.0.0.1:{http_server.port}/echo"))
    (record,) = auth_proxy.records
    assert record.header("Proxy-Authorization") == headers["proxy-authorization"]
    assert "proxy-authorization" not in _header_names(echo)


def test_missing_proxy_credentials_get_407_for_plain_http(
    auth_proxy: ProxyServer, http_server: KeepAliveServer
) -> None:
    """A forwarded request's 407 is an ordinary response, as in urllib3."""

    def scenario(lib: ModuleType) -> Any:
        response = lib.ProxyManager(auth_proxy.url, retries=0).request(
            "GET", f"http://127.0.0.1:{http_server.port}/"
        )
        return response.status, response.headers.get("Proxy-Authenticate")

    assert _both(scenario) == ("ok", (407, 'Basic realm="pooltest-proxy"'))
    assert http_server.requests_served == 0


def test_proxy_credentials_and_headers_stay_on_the_connect(
    auth_proxy: ProxyServer, https_server: KeepAliveServer, ca_certs: str
) -> None:
    """Through a tunnel, proxy headers go on CONNECT only; the origin sees the request alone."""
    proxy_headers = {**make_headers(proxy_basic_auth=AUTH), "X-Proxy-Only": "1"}
    manager = ProxyManager(
        auth_proxy.url, proxy_headers=proxy_headers, ca_certs=ca_certs, headers={"X-Origin": "o"}
    )
    echo = _echo(manager.request("GET", f"https://localhost:{https_server.port}/echo"))
    (connect,) = auth_proxy.records
    assert connect.method == "CONNECT"
    assert connect.target == f"localhost:{https_server.port}"
    assert connect.header("Proxy-Authorization") == proxy_headers["proxy-authorization"]
    assert connect.header("X-Proxy-Only") == "1"
    assert connect.header("X-Origin") is None
    assert {"proxy-authorization", "x-proxy-only"}.isdisjoint(_header_names(echo))
    assert _header(echo, "X-Origin") == ["o"]
    assert _header(echo, "Host") == [f"localhost:{https_server.port}"]


def test_proxy_authorization_passed_per_request_is_not_forwarded_through_tunnel(
    auth_proxy: ProxyServer, https_server: KeepAliveServer, ca_certs: str
) -> None:
    """Request headers go inside the tunnel: a per-request Proxy-Authorization reaches the
    origin (the proxy never sees it) and the CONNECT is refused - as in urllib3."""
    headers = make_headers(proxy_basic_auth=AUTH)

    def scenario(lib: ModuleType) -> Any:
        manager = lib.ProxyManager(auth_proxy.url, ca_certs=ca_certs, retries=0)
        return manager.request(
            "GET", f"https://localhost:{https_server.port}/echo", headers=headers
        ).status

    assert _both(scenario) == ("error", "MaxRetryError", "ProxyError", "OSError")
    assert https_server.requests_served == 0


def test_proxy_headers_on_redirect_to_other_origin_are_dropped(
    proxy_server: ProxyServer, origins: Callable[..., Any]
) -> None:
    """A cross-origin redirect drops Proxy-Authorization from the request headers."""
    first, second = origins(2)
    manager = ProxyManager(proxy_server.url)
    target = f"{second.url}/echo"
    response = manager.request(
        "GET",
        f"{first.url}/redirect?status=302&to={target}",
        headers={"Proxy-Authorization": "Basic c2VjcmV0", "X-Keep": "k"},
    )
    echo = _echo(response)
    assert echo["path"] == "/echo"
    forwarded = [r for r in proxy_server.records if r.target == target]
    assert forwarded
    assert forwarded[0].header("Proxy-Authorization") is None
    assert forwarded[0].header("X-Keep") == "k"


# --- HTTPS through a CONNECT tunnel --------------------------------------------------------


def test_https_through_connect_tunnel(
    proxy_server: ProxyServer, https_server: KeepAliveServer, ca_certs: str
) -> None:
    manager = ProxyManager(proxy_server.url, ca_certs=ca_certs)
    response = manager.request("GET", f"https://localhost:{https_server.port}/echo?x=1")
    echo = _echo(response)
    assert echo["target"] == "/echo?x=1"  # origin-form inside the tunnel
    (connect,) = proxy_server.records
    assert connect.request_line.startswith(f"CONNECT localhost:{https_server.port} HTTP/1.")
    pool = manager.connection_from_url(f"https://localhost:{https_server.port}/")
    conn = pool._get_conn()
    assert (conn.is_verified, conn.proxy_is_verified, conn.has_connected_to_proxy) == (
        True,
        False,
        True,
    )
    pool._put_conn(conn)


def test_connect_tunnel_is_reused(
    proxy_server: ProxyServer, https_server: KeepAliveServer, ca_certs: str
) -> None:
    """Several HTTPS requests, one CONNECT, one proxy connection, one origin connection."""

    def scenario(lib: ModuleType) -> Any:
        proxy_before = proxy_server.connections_accepted
        connects_before = proxy_server.connect_count
        ids = []
        with lib.ProxyManager(proxy_server.url, ca_certs=ca_certs) as manager:
            for path in ("/echo", "/json", "/echo", "/echo"):
                response = manager.request("GET", f"https://localhost:{https_server.port}{path}")
                if path == "/echo":
                    ids.append(_echo(response)["connection_id"])
        return (
            proxy_server.connections_accepted - proxy_before,
            proxy_server.connect_count - connects_before,
            len(set(ids)),
        )

    assert _both(scenario) == ("ok", (1, 1, 1))


def test_two_https_origins_get_one_tunnel_each(
    proxy_server: ProxyServer, origins: Callable[..., Any], tls_ca: TLSKit
) -> None:
    farm = origins(2, tls=tls_ca.server_context())
    manager = ProxyManager(proxy_server.url, ca_certs=tls_ca.ca_certs)
    for _ in range(2):
        for server in farm:
            assert manager.request("GET", f"https://localhost:{server.port}/").status == 200
    assert proxy_server.connect_count == 2
    assert [server.connections_accepted for server in farm] == [1, 1]


def test_tunnel_reopened_after_abandoned_response(
    proxy_server: ProxyServer, https_server: KeepAliveServer, ca_certs: str
) -> None:
    """A response released unread makes the connection start afresh - through the proxy.

    (urllib3 2.8 fails here with ResponseNotReady; pooltest reconnects, so the point is that
    the new socket tunnels again rather than going to the origin or the proxy directly.)
    """
    manager = ProxyManager(proxy_server.url, ca_certs=ca_certs, retries=0)
    url = f"https://localhost:{https_server.port}"
    response = manager.request("GET", f"{url}/stream?size=3000", preload_content=False)
    assert response.read(10)
    response.release_conn()
    echo = _echo(manager.request("GET", f"{url}/echo"))
    assert echo["connection_id"] == 1
    assert proxy_server.connect_count == 2
    assert https_server.tls_failures == []
    assert https_server.connections_accepted == 2


def test_tunnelled_request_with_tls_failure_is_ssl_error(
    proxy_server: ProxyServer, https_server: KeepAliveServer, wrong_ca_certs: str
) -> None:
    """The tunnel is up, so a bad origin certificate is an SSLError, not a ProxyError."""
    outcome = _both(
        lambda lib: (
            lib.ProxyManager(proxy_server.url, ca_certs=wrong_ca_certs, retries=0)
            .request("GET", f"https://localhost:{https_server.port}/")
            .status
        )
    )
    assert outcome[:3] == ("error", "MaxRetryError", "SSLError")


# --- refusals and dead proxies -------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "status"),
    [("example.invalid:443", "403 Forbidden"), ("127.0.0.1:1", "502 Bad Gateway")],
)
def test_proxy_refusing_connect_is_proxy_error(
    proxy_server: ProxyServer, ca_certs: str, target: str, status: str
) -> None:
    def scenario(lib: ModuleType) -> Any:
        manager = lib.ProxyManager(proxy_server.url, ca_certs=ca_certs, retries=0)
        return manager.request("GET", f"https://{target}/").status

    assert _both(scenario) == ("error", "MaxRetryError", "ProxyError", "OSError")
    with pytest.raises(MaxRetryError) as info:
        scenario(pooltest)
    assert isinstance(info.value.reason, ProxyError)
    assert str(info.value.reason.original_error) == f"Tunnel connection failed: {status}"


def test_missing_credentials_refuse_connect_with_407(
    auth_proxy: ProxyServer, https_server: KeepAliveServer, ca_certs: str
) -> None:
    with pytest.raises(MaxRetryError) as info:
        ProxyManager(auth_proxy.url, ca_certs=ca_certs, retries=0).request(
            "GET", f"https://localhost:{https_server.port}/"
        )
    assert isinstance(info.value.reason, ProxyError)
    assert "407 Proxy Authentication Required" in str(info.value.reason)
    assert https_server.connections_accepted == 0


def test_refused_connect_is_retried_like_urllib3(proxy_server: ProxyServer, ca_certs: str) -> None:
    def scenario(lib: ModuleType) -> Any:
        before = proxy_server.connect_count
        manager = lib.ProxyManager(proxy_server.url, ca_certs=ca_certs, retries=lib.Retry(2))
        with pytest.raises(lib.exceptions.MaxRetryError):
            manager.request("GET", "https://example.invalid/")
        return proxy_server.connect_count - before

    assert _both(scenario) == ("ok", 3)


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound, never listening, held for the test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_dead_proxy_is_proxy_error(refusing_port: int, scheme: str, ca_certs: str) -> None:
    def scenario(lib: ModuleType) -> Any:
        proxy = f"http://127.0.0.1:{refusing_port}"
        manager = lib.ProxyManager(proxy, ca_certs=ca_certs, retries=0)
        return manager.request("GET", f"{scheme}://localhost:8/").status

    outcome = _both(scenario)
    assert outcome == ("error", "MaxRetryError", "ProxyError", "NewConnectionError")


def test_silent_proxy_times_out_on_connect(silent_proxy: RawServer, ca_certs: str) -> None:
    outcome = _both(
        lambda lib: (
            lib.ProxyManager(silent_proxy.url, ca_certs=ca_certs, retries=0, timeout=0.2)
            .request("GET", "https://localhost:8/")
            .status
        )
    )
    assert outcome == ("error", "MaxRetryError", "ReadTimeoutError", None)


def test_silent_proxy_times_out_when_forwarding(silent_proxy: RawServer) -> None:
    outcome = _both(
        lambda lib: (
            lib.ProxyManager(silent_proxy.url, retries=0, timeout=0.2)
            .request("GET", "http://localhost:8/")
            .status
        )
    )
    assert outcome == ("error", "MaxRetryError", "ReadTimeoutError", None)


def test_https_scheme_for_plain_proxy_hints_at_http(proxy_server: ProxyServer) -> None:
    url = f"https://127.0.0.1:{proxy_server.port}"
    outcome = _both(
        lambda lib: lib.ProxyManager(url, retries=0).request("GET", "http://localhost:8/").status
    )
    assert outcome == ("error", "MaxRetryError", "ProxyError", "SSLError")
    with pytest.raises(MaxRetryError, match="Your proxy appears to only use HTTP and not HTTPS"):
        ProxyManager(url, retries=0).request("GET", "http://localhost:8/")


# --- HTTPS proxies -------------------------------------------------------------------------


def _via(lib: ModuleType, proxy: ProxyServer, url: str, **kw: Any) -> Any:
    """Request ``url`` through ``proxy``; ``(target at origin, is_verified, proxy_is_verified)``."""
    manager = lib.ProxyManager(proxy.url, retries=0, **kw)
    echo = _echo(manager.request("GET", url))
    pool = manager.connection_from_url(url)
    conn = pool._get_conn()
    flags = (conn.is_verified, conn.proxy_is_verified)
    pool._put_conn(conn)
    return echo["target"], *flags


def test_plain_http_through_https_proxy(
    tls_proxy: ProxyServer, http_server: KeepAliveServer, ca_certs: str
) -> None:
    url = f"http://127.0.0.1:{http_server.port}/echo"
    assert _both(lambda lib: _via(lib, tls_proxy, url, ca_certs=ca_certs)) == (
        "ok",
        ("/echo", False, True),
    )
    assert tls_proxy.request_count == 2


def test_https_proxy_verified_with_proxy_ssl_context(
    tls_proxy: ProxyServer, http_server: KeepAliveServer, tls_ca: TLSKit
) -> None:
    url = f"http://127.0.0.1:{http_server.port}/echo"
    outcome = _both(
        lambda lib: _via(lib, tls_proxy, url, proxy_ssl_context=tls_ca.client_context())
    )
    assert outcome == ("ok", ("/echo", False, True))


def test_https_proxy_with_unknown_certificate_is_proxy_error(
    tls_proxy: ProxyServer, http_server: KeepAliveServer, wrong_ca_certs: str
) -> None:
    url = f"http://127.0.0.1:{http_server.port}/echo"
    outcome = _both(lambda lib: _via(lib, tls_proxy, url, ca_certs=wrong_ca_certs))
    assert outcome == ("error", "MaxRetryError", "ProxyError", "SSLError")
    assert http_server.requests_served == 0


def test_https_proxy_assert_hostname(
    tls_proxy: ProxyServer, http_server: KeepAliveServer, ca_certs: str
) -> None:
    url = f"http://127.0.0.1:{http_server.port}/echo"
    outcome = _both(
        lambda lib: _via(lib, tls_proxy, url, ca_certs=ca_certs, proxy_assert_hostname="x.invalid")
    )
    assert outcome == ("error", "MaxRetryError", "ProxyError", "SSLError")
    outcome = _both(
        lambda lib: _via(lib, tls_proxy, url, ca_certs=ca_certs, proxy_assert_hostname="localhost")
    )
    assert outcome == ("ok", ("/echo", False, True))


def test_https_forwarded_through_https_proxy(
    tls_proxy: ProxyServer, https_server: KeepAliveServer, ca_certs: str
) -> None:
    """``use_forwarding_for_https``: absolute-form https URL to the proxy over TLS; the origin
    certificate is the proxy's business, so the connection is not verified end to end."""
    url = f"https://localhost:{https_server.port}/echo"
    outcome = _both(
        lambda lib: _via(lib, tls_proxy, url, ca_certs=ca_certs, use_forwarding_for_https=True)
    )
    assert outcome == ("ok", ("/echo", False, True))
    assert [r.request_line for r in tls_proxy.records] == [f"GET {url} HTTP/1.1"] * 2
    assert tls_proxy.connect_count == 0


def test_unverified_https_proxy_warns(tls_proxy: ProxyServer, http_server: KeepAliveServer) -> None:
    for lib in LIBS:
        manager = lib.ProxyManager(tls_proxy.url, cert_reqs="CERT_NONE", retries=0)
        with pytest.warns(lib.exceptions.InsecureRequestWarning, match="127.0.0.1"):
            manager.request("GET", f"http://127.0.0.1:{http_server.port}/")


def test_https_origin_through_https_proxy_tunnel_is_unsupported(
    tls_proxy: ProxyServer, https_server: KeepAliveServer, ca_certs: str
) -> None:
    """Deviation: urllib3 nests TLS in TLS here; pooltest refuses, before sending anything."""
    manager = ProxyManager(tls_proxy.url, ca_certs=ca_certs, retries=0)
    with pytest.raises(ProxySchemeUnsupported):
        manager.request("GET", f"https://localhost:{https_server.port}/")
    assert tls_proxy.records == []
    assert https_server.connections_accepted == 0


# --- IPv6 ------------------------------------------------------------------------------------


@pytest.fixture
def ipv6_proxy(tls_ca: TLSKit) -> Iterator[ProxyServer]:
    if not ipv6_available():
        pytest.skip("IPv6 loopback (::1) is not available")
    with ProxyServer(host="::1", upstream_ca_certs=tls_ca.ca_certs) as proxy:
        yield proxy


def test_ipv6_proxy_and_origins(
    ipv6_proxy: ProxyServer, ipv6_server: KeepAliveServer, tls_ca: TLSKit
) -> None:
    """Bracketed authorities in the request line, CONNECT target and Host header."""
    manager = ProxyManager(f"http://[::1]:{ipv6_proxy.port}", ca_certs=tls_ca.ca_certs)
    plain = f"http://[::1]:{ipv6_server.port}/echo"
    assert _header(_echo(manager.request("GET", plain)), "Host") == [f"[::1]:{ipv6_server.port}"]
    with KeepAliveServer(host="::1", tls=tls_ca.server_context()) as secure:
        echo = _echo(manager.request("GET", f"https://[::1]:{secure.port}/echo"))
    assert _header(echo, "Host") == [f"[::1]:{secure.port}"]
    lines = [record.request_line for record in ipv6_proxy.records]
    assert lines[0] == f"GET {plain} HTTP/1.1"
    assert lines[1].startswith(f"CONNECT [::1]:{secure.port} HTTP/1.")
