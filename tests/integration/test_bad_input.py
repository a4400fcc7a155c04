"""Bad input against real servers: nothing malformed may reach the wire, and no odd URL may make
the client fail with anything but the documented URL errors.

* B2 - CR, LF, NUL, space (any non-token character) in a method raises ``ValueError`` before a
  connection is opened: the server counts zero accepted connections.
* B3 - CR/LF in a header name or value (request headers, pool headers, proxy headers) raises
  before anything is sent; in the path, query or fragment of a URL it is percent-encoded (the
  server sees ``%0D%0A``, never a second header); in a host it is a ``LocationParseError``. Other
  characters a URL cannot hold are percent-encoded exactly as urllib3 does.
* URLs without a host raise ``LocationValueError``, unknown schemes ``URLSchemeUnknown``, and
  scheme-less URLs warn as urllib3 does. ``parse_url`` is linear on hostile input.
* B1 - hypothesis builds URLs from hostile pieces and sends them through ``PoolManager.request``
  to loopback HTTP and HTTPS origins: the outcome is a normal response or one of
  ``LocationParseError``, ``LocationValueError``, ``URLSchemeUnknown`` (and then no connection
  was opened); a second property compares the outcome and the request target the server saw
  with urllib3's. URLs that parse to some other host or port are not sent anywhere.
"""

from __future__ import annotations

import functools
import http.client
import json
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
import urllib3
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support import KeepAliveServer, ProxyServer, TLSKit

import pooltest
from pooltest import HTTPConnectionPool, PoolManager, ProxyManager
from pooltest.connection import HTTPConnection, HTTPSConnection
from pooltest.exceptions import LocationParseError, LocationValueError, URLSchemeUnknown
from pooltest.util.url import parse_url

pytestmark = pytest.mark.network

LIBS = (urllib3, pooltest)
URL_ERRORS = (LocationParseError, LocationValueError, URLSchemeUnknown)
SCHEMELESS_WARNING = (
    "URLs without a scheme (ie 'https://') are deprecated and will raise an error "
    "in urllib3 v3.0. To avoid this FutureWarning ensure all URLs "
    "start with 'https://' or 'http://'. Read more in this issue: "
    "https://github.com/urllib3/urllib3/issues/2920"
)
Outcome = tuple[Any, ...]


def _outcome(call: Callable[[], Any]) -> Outcome:
    try:
        return ("ok", call())
    except Exception as exc:
        return ("error", type(exc).__name__)


def _both(scenario: Callable[[ModuleType], Any]) -> Outcome:
    """Run ``scenario(lib)`` for urllib3 then pooltest; assert equal outcomes; return it."""
    expected, actual = (_outcome(functools.partial(scenario, lib)) for lib in LIBS)
    assert actual == expected
    return actual


# --- B2: methods -------------------------------------------------------------------------------

BAD_METHODS = [
    "GET\r\n",
    "GET\n",
    "GET\r",
    "GE\r\nT",
    "GET /evil HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET",
    "GET ",
    "G ET",
    "\tGET",
    "GET\x00",
    "GET:",
    "GÉT",
    "GET/",
]

_ENTRY_POINTS: dict[str, Callable[[KeepAliveServer, str], Any]] = {
    "PoolManager": lambda server, method: PoolManager(retries=0).request(
        method, f"{server.url}/echo"
    ),
    "HTTPConnectionPool": lambda server, method: HTTPConnectionPool(
        server.host, server.port, retries=0
    ).urlopen(method, "/echo"),
    "HTTPConnection": lambda server, method: HTTPConnection(server.host, server.port).request(
        method, "/echo"
    ),
}


@pytest.mark.parametrize("entry", sorted(_ENTRY_POINTS))
@pytest.mark.parametrize("method", BAD_METHODS)
def test_bad_method_raises_before_connecting(
    http_server: KeepAliveServer, method: str, entry: str
) -> None:
    with pytest.raises(ValueError, match="Method cannot contain non-token characters"):
        _ENTRY_POINTS[entry](http_server, method)
    assert http_server.connections_accepted == 0


def test_bad_method_or_header_over_https_sends_no_request(
    https_server: KeepAliveServer, ca_certs: str
) -> None:
    manager = PoolManager(ca_certs=ca_certs, retries=0)
    url = f"https://localhost:{https_server.port}/echo"
    with pytest.raises(ValueError, match="Method cannot contain"):
        manager.request("GET\r\nX-Injected: 1", url)
    with pytest.raises(ValueError, match="Invalid header value"):
        manager.request("GET", url, headers={"X": "1\r\nX-Injected: 1"})
    assert https_server.requests_served == 0


@pytest.mark.parametrize(
    ("method", "headers"), [("GET\r\n", {}), ("GET", {"X": "1\r\nX-Injected: 1"})]
)
def test_bad_method_or_header_over_https_opens_no_connection(
    https_server: KeepAliveServer, ca_certs: str, method: str, headers: dict[str, str]
) -> None:
    manager = PoolManager(ca_certs=ca_certs, retries=0)
    with pytest.raises(ValueError, match=r"Method cannot contain|Invalid header value"):
        manager.request(method, f"https://localhost:{https_server.port}/", headers=headers)
    assert https_server.connections_accepted == 0


@pytest.mark.parametrize("method", BAD_METHODS)
def test_bad_method_rejected_like_urllib3(http_server: KeepAliveServer, method: str) -> None:
    url = f"{http_server.url}/echo"
    outcome = _both(lambda lib: lib.PoolManager(retries=0).request(method, url).status)
    assert outcome == ("error", "ValueError")


def test_empty_method_is_rejected(http_server: KeepAliveServer) -> None:
    """Deviation: urllib3 sends ``" /echo HTTP/1.1"``; an empty method is not a token."""
    with pytest.raises(ValueError, match="Method cannot contain non-token characters"):
        PoolManager(retries=0).request("", f"{http_server.url}/echo")
    assert http_server.connections_accepted == 0


def test_unusual_token_methods_are_sent(http_server: KeepAliveServer) -> None:
    manager = PoolManager(retries=0)
    for method in ("PURGE", "M-SEARCH", "X.Y_Z~!", "get"):
        echo = json.loads(manager.request(method, f"{http_server.url}/echo").data)
        assert echo["method"] == method.upper()


def test_bad_method_on_kept_alive_connection_sends_nothing(http_server: KeepAliveServer) -> None:
    pool = HTTPConnectionPool(http_server.host, http_server.port, retries=0)
    with pool:
        assert pool.request("GET", "/echo").status == 200
        with pytest.raises(ValueError, match="Method cannot contain"):
            pool.request("GET\r\nX-Injected: 1\r\n\r\nGET", "/echo")
        assert http_server.requests_served == 1
        echo = json.loads(pool.request("GET", "/echo").data)
    assert http_server.requests_served == 2
    assert "x-injected" not in {name.lower() for name, _ in echo["headers"]}


# --- B3: headers -----------------------------------------------------------------------------

BAD_HEADERS: list[tuple[str, Any]] = [
    ("X-A\r\nX-Injected", "1"),
    ("X-A\n", "1"),
    ("X-A:", "1"),
    ("", "1"),
    ("X-A", "1\r\nX-Injected: 1"),
    ("X-A", "1\nX-Injected: 1"),
    ("X-A", "1\rX-Injected: 1"),
    ("X-A", "\r\n"),
    ("X-A", b"1\r\nX-Injected: 1"),
]


@pytest.mark.parametrize(("name", "value"), BAD_HEADERS)
def test_bad_request_header_raises_before_connecting(
    http_server: KeepAliveServer, name: str, value: Any
) -> None:
    with pytest.raises(ValueError, match=r"Invalid header (name|value)"):
        PoolManager(retries=0).request("GET", f"{http_server.url}/echo", headers={name: value})
    with pytest.raises(ValueError, match=r"Invalid header (name|value)"):
        HTTPConnection(http_server.host, http_server.port).request(
            "GET", "/echo", headers={name: value}
        )
    assert http_server.connections_accepted == 0


@pytest.mark.parametrize(("name", "value"), BAD_HEADERS)
def test_bad_request_header_rejected_like_urllib3(
    http_server: KeepAliveServer, name: str, value: Any
) -> None:
    url = f"{http_server.url}/echo"
    outcome = _both(
        lambda lib: lib.PoolManager(retries=0).request("GET", url, headers={name: value}).status
    )
    assert outcome == ("error", "ValueError")


@pytest.mark.parametrize(
    ("name", "value"),
    [("X A", "1"), ("X-A", "nul\x00byte")],
)
def test_stricter_than_urllib3_on_space_in_name_and_nul_in_value(
    http_server: KeepAliveServer, name: str, value: str
) -> None:
    """Deviation: http.client lets these through; they are not valid HTTP, so pooltest refuses."""
    with pytest.raises(ValueError, match="Invalid header"):
        PoolManager(retries=0).request("GET", f"{http_server.url}/echo", headers={name: value})
    assert http_server.connections_accepted == 0


def test_non_latin1_header_value_raises_before_connecting(http_server: KeepAliveServer) -> None:
    url = f"{http_server.url}/echo"
    outcome = _both(
        lambda lib: lib.PoolManager(retries=0).request("GET", url, headers={"X": "€"}).status
    )
    assert outcome == ("error", "UnicodeEncodeError")
    with pytest.raises(UnicodeEncodeError):
        HTTPConnection(http_server.host, http_server.port).request("GET", "/", headers={"X": "€"})
    assert http_server.requests_served == 0


def test_bad_pool_headers_raise_before_connecting(http_server: KeepAliveServer) -> None:
    manager = PoolManager(headers={"X-Default": "a\r\nX-Injected: 1"}, retries=0)
    with pytest.raises(ValueError, match="Invalid header value"):
        manager.request("GET", f"{http_server.url}/echo")
    assert http_server.connections_accepted == 0


def test_header_values_pass_through_when_legal(http_server: KeepAliveServer) -> None:
    """Latin-1 text, bytes and ints are fine; leading blanks are trimmed by the server only."""

    def scenario(lib: ModuleType) -> Any:
        headers = {"X-Latin": "café", "X-Bytes": b"raw", "X-Int": 5, "X-Trail": "t "}
        echo = json.loads(
            lib.PoolManager(retries=0)
            .request("GET", f"{http_server.url}/echo", headers=headers)
            .data
        )
        return [pair for pair in echo["headers"] if pair[0].startswith("X-")]

    assert _both(scenario) == (
        "ok",
        [["X-Latin", "café"], ["X-Bytes", "raw"], ["X-Int", "5"], ["X-Trail", "t "]],
    )


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_bad_proxy_headers_raise_before_connecting(
    proxy_server: ProxyServer, ca_certs: str, scheme: str
) -> None:
    """Proxy headers are checked before the proxy is dialled (urllib3 connects, then raises)."""
    manager = ProxyManager(
        proxy_server.url, proxy_headers={"X-Proxy": "a\r\nX-Injected: 1"}, ca_certs=ca_certs
    )
    with pytest.raises(ValueError, match="Invalid header value"):
        manager.request("GET", f"{scheme}://localhost:8/")
    assert proxy_server.connections_accepted == 0


def test_tunnel_host_with_control_characters(proxy_server: ProxyServer) -> None:
    def tunnel(conn: Any) -> None:
        conn.set_tunnel("localhost\r\nX-Injected: 1", 443)
        conn.connect()  # urllib3 checks here, pooltest already in set_tunnel

    for lib in LIBS:
        conn = lib.connection.HTTPSConnection("127.0.0.1", proxy_server.port)
        with pytest.raises(ValueError, match="Tunnel host can't contain control characters"):
            tunnel(conn)
        conn.close()
    assert proxy_server.records == []


def test_set_tunnel_rejects_before_any_connection(proxy_server: ProxyServer) -> None:
    conn = HTTPSConnection("127.0.0.1", proxy_server.port)
    with pytest.raises(ValueError, match="Invalid header value"):
        conn.set_tunnel("localhost", 443, headers={"X": "a\nb"})
    with pytest.raises(ValueError, match="Tunnel host can't contain control characters"):
        conn.set_tunnel("local host", 443)
    assert conn.is_closed
    assert proxy_server.connections_accepted == 0


# --- B3: URLs --------------------------------------------------------------------------------

ODD_PATHS = [
    "/echo?a b",
    "/echo\r\nX-Injected: 1",
    "/echo?q=1\r\nX-Injected: 1",
    "/echo#frag\r\nX-Injected: 1",
    "/echo/é?q=ü",
    "/echo/\U0001f600",
    "/echo\x00",
    "/echo\x7f",
    "/echo?\t",
    '/echo?"<>`{}|^',
    "/echo?q=%zz",
    "/echo?q=%41%4a%2f",
    "/echo?q=%41%",
    "/echo/./x/../",
    "/echo/%2e%2e/x",
    "/echo?a=1&b=2;c",
    "/echo?%",
    "/ec%68o",
    "/echo?q=\ud800",
]


@pytest.mark.parametrize("path", ODD_PATHS)
def test_invalid_url_characters_are_percent_encoded_like_urllib3(
    http_server: KeepAliveServer, path: str
) -> None:
    """The target the server received, through PoolManager and through a pool, as urllib3."""

    def target_after(request: Callable[[], Any]) -> str:
        try:
            request()
        except LocationParseError:  # only for a control character in the fragment
            return "LocationParseError"
        except urllib3.exceptions.LocationParseError:
            return "LocationParseError"
        return http_server.request_log[-1].path

    def scenario(lib: ModuleType) -> Any:
        manager = lib.PoolManager(retries=0)
        pool = lib.HTTPConnectionPool(http_server.host, http_server.port, retries=0)
        return (
            target_after(lambda: manager.request("GET", f"{http_server.url}{path}")),
            target_after(lambda: pool.request("GET", path)),
        )

    for target in _both(scenario)[1]:
        assert all(33 <= ord(char) < 127 for char in target), target


def test_crlf_in_path_is_not_a_header(http_server: KeepAliveServer) -> None:
    manager = PoolManager(retries=0)
    response = manager.request("GET", f"{http_server.url}/echo?x=1\r\nX-Injected: 1")
    echo = json.loads(response.data)
    assert echo["target"] == "/echo?x=1%0D%0AX-Injected:%201"
    assert "x-injected" not in {name.lower() for name, _ in echo["headers"]}
    assert http_server.requests_served == 1


@pytest.mark.parametrize("target", ["/a\r\nb", "/a b", "/a\x00", "/a\tb", "/\x7f"])
def test_raw_target_with_control_characters_is_refused(
    http_server: KeepAliveServer, target: str
) -> None:
    """A connection sends the target it is given: it refuses one that would split the request."""
    for lib in LIBS:
        conn = lib.connection.HTTPConnection(http_server.host, http_server.port)
        with pytest.raises(http.client.InvalidURL, match="URL can't contain control characters"):
            conn.request("GET", target)
        conn.close()
    assert http_server.connections_accepted == 0


@pytest.mark.parametrize(
    "host", ["127.0.0.1\r\nX-Injected: 1", "local host", "local\x00host", "127.0.0.1\n"]
)
def test_control_characters_in_host_are_parse_errors(
    http_server: KeepAliveServer, host: str
) -> None:
    url = f"http://{host}:{http_server.port}/"
    assert _both(lambda lib: lib.PoolManager().request("GET", url).status) == (
        "error",
        "LocationParseError",
    )
    assert http_server.connections_accepted == 0


@pytest.mark.parametrize(
    "url", ["http://", "http:///echo", "https://", "http://:80/", "mailto:a@b", "/echo", "", "?q"]
)
def test_url_without_host_raises_location_value_error(url: str) -> None:
    """Scheme-less ones also warn first (FutureWarning), as urllib3 does."""

    def scenario(lib: ModuleType) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                lib.PoolManager().request("GET", url)
            except lib.exceptions.LocationValueError as exc:
                return str(exc), [w.category.__name__ for w in caught]
        raise AssertionError("no error")

    warned = ["FutureWarning"] if "://" not in url and ":" not in url else []
    assert _both(scenario) == ("ok", ("No host specified.", warned))


@pytest.mark.parametrize("scheme", ["ftp", "ws", "file", "httpx", "h2"])
def test_unknown_scheme_raises(http_server: KeepAliveServer, scheme: str) -> None:
    url = f"{scheme}://127.0.0.1:{http_server.port}/"
    assert _both(lambda lib: lib.PoolManager().request("GET", url).status) == (
        "error",
        "URLSchemeUnknown",
    )
    assert http_server.connections_accepted == 0


@pytest.mark.parametrize("form", ["{host}:{port}/echo", "//{host}:{port}/echo"])
def test_schemeless_url_warns_like_urllib3(http_server: KeepAliveServer, form: str) -> None:
    url = form.format(host=http_server.host, port=http_server.port)
    for lib in LIBS:
        with pytest.warns(FutureWarning) as caught:
            response = lib.PoolManager().request("GET", url)
        assert [str(w.message) for w in caught] == [SCHEMELESS_WARNING], lib.__name__
        assert json.loads(response.data)["target"] == "/echo"


def test_schemeless_warning_points_at_the_caller(http_server: KeepAliveServer) -> None:
    with pytest.warns(FutureWarning) as caught:
        PoolManager().urlopen("GET", f"{http_server.host}:{http_server.port}/")
    assert caught[0].filename == __file__


# --- parse_url on hostile input -------------------------------------------------------------

HOSTILE = {
    "brief": "https://" + "@" * 10000 + "[",
    "many-at": "http://" + "@" * 200_000 + "[",
    "many-colons": "http://" + ":" * 200_000 + "x",
    "open-brackets": "http://" + "[" * 200_000,
    "ipv6-prefix": "http://[" + "0:" * 100_000 + "x]",
    "percent": "http://" + "%" * 200_000 + "/",
    "long-port": "http://a:" + "0" * 200_000 + "1x/",
    "slashes": "http:" + "/" * 200_000 + "@[",
    "dots": "http://" + "." * 200_000 + "[",
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_parse_url_fails_fast_on_hostile_input(http_server: KeepAliveServer, name: str) -> None:
    """Linear parsing: each input is hundreds of kilobytes; a super-linear parser would not
    finish within the (generous) timeout, a linear one takes milliseconds."""
    url = HOSTILE[name]
    with pytest.raises(URL_ERRORS):
        PoolManager().request("GET", url)
    assert http_server.connections_accepted == 0


def test_hostile_input_from_the_brief_matches_urllib3() -> None:
    url = HOSTILE["brief"]
    for lib in LIBS:
        with pytest.raises(lib.exceptions.LocationParseError) as info:
            lib.PoolManager().request("GET", url)
        assert str(info.value) == "Failed to parse: '[' is not a valid host or port"


# --- B1: fuzzed URLs through PoolManager -----------------------------------------------------

_SPECIAL = "/?#[]@:%\\ \r\n\t\x00\x7f'\"<>`{}|^~.,;=+&$!*()-_éß€\U0001f600\ud800"
_TEXT = st.text(st.sampled_from(_SPECIAL) | st.characters(), max_size=16)
_SCHEMES = st.sampled_from(
    ["http", "https", "HTTP", "hTTps", "ftp", "", "h t", "1http", "http+unix"]
) | st.text(st.characters(), max_size=6)
_SEPARATORS = st.sampled_from(["://", ":", ":/", "//", ":///", ":\\\\", ""])
_HOSTS = (
    st.sampled_from(
        [
            "127.0.0.1",
            "localhost",
            "LOCALHOST",
            "%6c%6fcalhost",
            "127.0.0.1.",
            "[::1]",
            "[127.0.0.1]",
            "[::1%25eth0]",
            "",
            "[",
            "]",
            "xn--",
            "a" * 64,
            "\u0131",
        ]
    )
    | _TEXT
)
_PATHS = st.sampled_from(["", "/", "/echo", "/echo/", "/%2e%2e/", "/json", "//x"]) | _TEXT


@st.composite
def _urls(draw: st.DrawFn, ports: tuple[int, int]) -> str:
    scheme = draw(_SCHEMES)
    userinfo = draw(st.none() | _TEXT.map(lambda text: text + "@"))
    host = draw(_HOSTS)
    port = draw(
        st.none()
        | st.sampled_from(ports).map(str)
        | st.sampled_from(["", "0", "080", "99999", "port", "-1", " 1"])
        | st.text("0123456789", max_size=7)
    )
    path = draw(_PATHS)
    query = draw(st.none() | _TEXT)
    fragment = draw(st.none() | _TEXT)
    url = scheme + draw(_SEPARATORS) + (userinfo or "") + host
    url += f":{port}" if port is not None else ""
    url += path
    url += f"?{query}" if query is not None else ""
    url += f"#{fragment}" if fragment is not None else ""
    return url


@st.composite
def _near_valid_urls(draw: st.DrawFn, ports: tuple[int, int]) -> str:
    """A URL to one of the test origins with hostile userinfo, path, query and fragment."""
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "hTtPs", None]))
    port = ports[1] if scheme is not None and scheme.lower() == "https" else ports[0]
    prefix = f"{scheme}://" if scheme is not None else draw(st.sampled_from(["//", ""]))
    userinfo = draw(st.none() | _TEXT.map(lambda text: text + "@"))
    host = draw(st.sampled_from(["127.0.0.1", "localhost", "LocalHost", "%6cocalhost"]))
    port_text = draw(st.sampled_from([str(port), f"0{port}"]))
    path = draw(st.sampled_from(["/", "/echo", "/echo/", ""])) + draw(_TEXT)
    query = draw(st.none() | _TEXT)
    fragment = draw(st.none() | _TEXT)
    url = f"{prefix}{userinfo or ''}{host}:{port_text}{path}"
    url += f"?{query}" if query is not None else ""
    url += f"#{fragment}" if fragment is not None else ""
    return url


_ANY_URL = st.text(max_size=60) | st.text(st.sampled_from(_SPECIAL + "ahtps01"), max_size=40)


class _Origins:
    """An HTTP and an HTTPS origin; ``sendable`` says whether a URL may go on the wire."""

    def __init__(self, plain: KeepAliveServer, secure: KeepAliveServer) -> None:
        self.by_scheme = {"http": plain, "https": secure}

    @property
    def connections(self) -> int:
        return sum(server.connections_accepted for server in self.by_scheme.values())

    def sendable(self, url: str) -> bool:
        """False when the URL parses to a host or port other than the test's origins."""
        try:
            parsed = parse_url(url)
        except LocationParseError:
            return True  # fails before any connection
        if not parsed.host or parsed.scheme not in ("http", "https", None):
            return True  # LocationValueError / URLSchemeUnknown, before any connection
        server = self.by_scheme[parsed.scheme or "http"]
        return parsed.host in ("127.0.0.1", "localhost") and parsed.port == server.port

    def last_target(self, url: str) -> str | None:
        parsed = parse_url(url)
        log = self.by_scheme[parsed.scheme or "http"].request_log
        return log[-1].path if log else None


@pytest.fixture
def fuzz_origins(http_server: KeepAliveServer, https_server: KeepAliveServer) -> _Origins:
    return _Origins(http_server, https_server)


def _fuzz_request(manager: Any, url: str) -> Any:
    """One request as the fuzz sends it: no redirects, no retries, a short timeout."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = manager.request("GET", url, redirect=False, retries=False, timeout=5.0)
    unexpected = [w for w in caught if not issubclass(w.category, FutureWarning)]
    assert unexpected == []
    return response


FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


def _check_only_url_errors(origins: _Origins, manager: PoolManager, url: str) -> None:
    if not origins.sendable(url):
        event("not sent: another host or port")
        return
    before = origins.connections
    try:
        response = _fuzz_request(manager, url)
    except URL_ERRORS as exc:
        event(type(exc).__name__)
        assert origins.connections == before  # refused before the network
    else:
        event("response")
        assert 100 <= response.status < 600


@FUZZ
@given(data=st.data())
def test_fuzzed_urls_give_a_response_or_a_url_error(
    fuzz_origins: _Origins, ca_certs: str, data: st.DataObject
) -> None:
    manager = PoolManager(ca_certs=ca_certs)
    ports = (fuzz_origins.by_scheme["http"].port, fuzz_origins.by_scheme["https"].port)
    _check_only_url_errors(fuzz_origins, manager, data.draw(_near_valid_urls(ports)))
    _check_only_url_errors(fuzz_origins, manager, data.draw(_urls(ports)))
    _check_only_url_errors(fuzz_origins, manager, data.draw(_ANY_URL))


def _compared_outcome(lib: ModuleType, origins: _Origins, ca_certs: str, url: str) -> Outcome:
    try:
        response = _fuzz_request(lib.PoolManager(ca_certs=ca_certs), url)
    except Exception as exc:
        return ("error", type(exc).__name__)
    return ("ok", response.status, origins.last_target(url))


@FUZZ
@given(data=st.data())
def test_fuzzed_urls_match_urllib3(
    fuzz_origins: _Origins, ca_certs: str, data: st.DataObject
) -> None:
    """Same exception class, or same status and same request target at the server."""
    ports = (fuzz_origins.by_scheme["http"].port, fuzz_origins.by_scheme["https"].port)
    for url in (data.draw(_near_valid_urls(ports)), data.draw(_urls(ports))):
        if not fuzz_origins.sendable(url):
            continue
        expected = _compared_outcome(urllib3, fuzz_origins, ca_certs, url)
        actual = _compared_outcome(pooltest, fuzz_origins, ca_certs, url)
        event(actual[0] if actual[0] == "ok" else actual[1])
        assert actual == expected, url


def test_fuzz_setup_reaches_both_origins(fuzz_origins: _Origins, tls_ca: TLSKit) -> None:
    """Guard for the properties above: the gate lets well-formed URLs through to both servers."""
    for scheme, server in fuzz_origins.by_scheme.items():
        url = f"{scheme}://127.0.0.1:{server.port}/echo?x=%20"
        assert fuzz_origins.sendable(url)
        response = _fuzz_request(PoolManager(ca_certs=tls_ca.ca_certs), url)
        assert response.status == 200
        assert fuzz_origins.last_target(url) == "/echo?x=%20"
    assert not fuzz_origins.sendable("http://example.invalid/")
    assert not fuzz_origins.sendable("http://127.0.0.1/")
