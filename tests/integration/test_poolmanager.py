"""PoolManager against real loopback origins: one pool per origin, the LRU of pools, pool keys.

Covers the seed scenario end to end (PoolManager(10), GET/POST/HEAD to several origins, pool
counts, an 11th origin evicting the least recently used pool, a multipart upload parsed back by
the server), ``connection_from_host``/``_url``/``_context``/``_pool_key``, ``clear()`` and the
context manager, default headers, absolute-URL ``urlopen`` with cross-origin redirects, the
deprecated ``get_url``/``post_url`` aliases, and a differential run of one scenario through
``urllib3.PoolManager`` and ``pooltest.PoolManager`` comparing what both callers and servers saw.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
import urllib3
from support import HEAD_CHECK_BODY, ServerFarm, stream_payload

import pooltest
from pooltest.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from pooltest.exceptions import LocationValueError, URLSchemeUnknown
from pooltest.poolmanager import PoolManager

pytestmark = pytest.mark.network

Origins = Callable[..., ServerFarm]
LIBS = pytest.mark.parametrize("lib", [pooltest, urllib3], ids=["pooltest", "urllib3"])

#: A multipart upload mixing plain values and both file-tuple shapes.
UPLOAD_FIELDS: dict[str, Any] = {
    "name": "value",
    "unicode": "caf\u00e9 \u2713",
    "plain": ("notes.txt", b"hello file\r\nsecond line"),
    "typed": ("image.bin", bytes(range(256)), "image/png"),
}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


#: What ``/upload`` answers for ``UPLOAD_FIELDS`` (files: filename, content type, base64 data).
UPLOAD_PARSED = {
    "form": {"name": ["value"], "unicode": ["caf\u00e9 \u2713"]},
    "files": {
        "plain": ["notes.txt", "text/plain", _b64(b"hello file\r\nsecond line")],
        "typed": ["image.bin", "image/png", _b64(bytes(range(256)))],
    },
}


def _idle_connections(pool: HTTPConnectionPool) -> int:
    """Connections parked in a pool's queue (the rest of its slots are None)."""
    assert pool.pool is not None
    return sum(conn is not None for conn in pool.pool.queue)


def _ports(manager: Any) -> set[int]:
    """Ports of the pools a manager holds (both libraries' keys have ``key_port``)."""
    keys = manager.pools.keys()  # a snapshot: iterating the LRU container itself is refused
    return {key.key_port for key in keys}


# --- the seed scenario ----------------------------------------------------------------------


def test_seed_scenario_end_to_end(origins: Origins) -> None:
    farm = origins(11)
    http = PoolManager(10)
    for url in farm.urls[:3]:
        r = http.request("GET", url + "/echo", fields={"q": "1"})
        assert (r.status, r.json()["target"]) == (200, "/echo?q=1")
        r = http.request("POST", url + "/upload", fields=UPLOAD_FIELDS)
        assert r.status == 200
        parsed = r.json()
        assert {"form": parsed["form"], "files": parsed["files"]} == UPLOAD_PARSED
        r = http.request("HEAD", url + "/head-check")
        assert (r.status, r.data) == (200, b"")
        assert r.headers["Content-Length"] == str(len(HEAD_CHECK_BODY))
    assert len(http.pools) == 3
    pool = http.connection_from_host("127.0.0.1", farm[0].port)  # now the most recently used
    assert (pool.num_requests, pool.num_connections) == (3, 1)
    assert farm[0].connection_ids == [0, 0, 0]  # keep-alive: one socket for all three requests

    for url in farm.urls[3:]:  # eight new origins: the eleventh pool evicts the LRU one
        assert http.request("GET", url + "/").status == 200
    assert len(http.pools) == 10
    assert _ports(http) == {server.port for server in farm} - {farm[1].port}
    assert http.connection_from_host("127.0.0.1", farm[0].port) is pool
    http.clear()


@LIBS
def test_least_recently_used_pool_is_evicted(origins: Origins, lib: ModuleType) -> None:
    farm = origins(4)
    http = lib.PoolManager(num_pools=3)
    pools = [http.connection_from_url(url) for url in farm.urls[:3]]
    http.request("GET", farm[0].url + "/")  # origin 0 becomes the most recent; 1 is now LRU
    http.request("GET", farm[3].url + "/")
    assert _ports(http) == {farm[0].port, farm[2].port, farm[3].port}
    assert http.connection_from_url(farm[0].url) is pools[0]
    assert http.connection_from_url(farm[2].url) is pools[2]
    # The origin is reachable again, through a new pool.
    assert http.request("GET", farm[1].url + "/").status == 200
    assert http.connection_from_url(farm[1].url) is not pools[1]
    assert _ports(http) == {farm[0].port, farm[2].port, farm[1].port}  # 3 was LRU this time
    http.clear()


@LIBS
def test_pool_fetched_before_eviction_still_serves(origins: Origins, lib: ModuleType) -> None:
    # requests' HTTPAdapter does `pool = manager.connection_from_url(url); pool.urlopen(...)`:
    # another thread may evict the pool in between. urllib3 2.x keeps such a pool working
    # (urllib3 issue #1252); refusing it with ClosedPoolError would break that request.
    farm = origins(2)
    http = lib.PoolManager(num_pools=1)
    pool = http.connection_from_url(farm[0].url)
    assert http.request("GET", farm[1].url + "/").status == 200  # evicts `pool`
    assert http.connection_from_url(farm[0].url) is not pool
    assert pool.urlopen("GET", "/echo").status == 200
    assert pool.request("POST", "/upload", fields={"a": "b"}).json()["form"] == {"a": ["b"]}
    http.clear()


def test_evicted_pool_keeps_no_connections(origins: Origins) -> None:
    # urllib3 2.8 leaves an evicted pool's sockets open until the garbage collector closes the
    # pool; pooltest closes them at once (idle ones) or as they come back (busy ones).
    farm = origins(2)
    http = PoolManager(num_pools=1)
    pool = http.connection_from_url(farm[0].url)
    streamed = http.request("GET", farm[0].url + "/stream?size=100000", preload_content=False)
    busy = streamed.connection
    assert busy is not None
    http.request("GET", farm[1].url + "/")  # evicts `pool` while `busy` is checked out
    assert len(streamed.read()) == 100000  # the response in flight is not broken
    assert busy.is_closed  # it came back to a retired pool: closed, not kept
    for _ in range(2):
        assert pool.request("GET", "/echo").json()["connection_id"] >= 1
    assert _idle_connections(pool) == 0
    assert farm[0].connection_ids[-2:] == [1, 2]  # each request after retirement: new socket
    http.clear()


def test_evicted_pool_idle_socket_is_not_reused(origins: Origins) -> None:
    farm = origins(2)
    http = PoolManager(num_pools=1)
    assert http.request("GET", farm[0].url + "/echo").json()["connection_id"] == 0
    http.request("GET", farm[1].url + "/")  # evicts origin 0's pool and closes its idle socket
    assert http.request("GET", farm[0].url + "/echo").json()["connection_id"] == 1
    assert farm[0].connections_accepted == 2
    http.clear()


# --- pool keys and the connection_from_* family -----------------------------------------------


@LIBS
def test_connection_from_host_defaults_port_by_scheme(lib: ModuleType) -> None:
    http = lib.PoolManager()
    plain = http.connection_from_host("example.invalid")
    secure = http.connection_from_host("example.invalid", scheme="https")
    assert (type(plain).__name__, plain.port) == ("HTTPConnectionPool", 80)
    assert (type(secure).__name__, secure.port) == ("HTTPSConnectionPool", 443)
    assert http.connection_from_url("http://example.invalid/") is plain
    assert http.connection_from_url("https://example.invalid:443/x") is secure
    assert http.connection_from_host("example.invalid", 8080) is not plain
    assert len(http.pools) == 3  # no connection was made: pools are created lazily
    http.clear()


def test_connection_from_url_module_function_picks_pool_class() -> None:
    from pooltest.connectionpool import connection_from_url

    plain = connection_from_url("http://example.invalid/path", maxsize=3)
    secure = connection_from_url("https://example.invalid/")
    assert isinstance(plain, HTTPConnectionPool)
    assert not isinstance(plain, HTTPSConnectionPool)
    assert (plain.port, plain.pool.maxsize if plain.pool else None) == (80, 3)
    assert isinstance(secure, HTTPSConnectionPool)
    assert secure.port == 443
    plain.close()
    secure.close()


@LIBS
def test_pools_are_keyed_by_lowercased_scheme_and_host(http_server: Any, lib: ModuleType) -> None:
    http = lib.PoolManager()
    port = http_server.port
    pool = http.connection_from_url(f"http://localhost:{port}/")
    assert http.connection_from_url(f"HTTP://LOCALHOST:{port}/other") is pool
    assert http.connection_from_host("LocalHost", port, scheme="HTTP") is pool
    assert http.connection_from_context({"scheme": "http", "host": "localhost", "port": port}) is (
        pool
    )
    assert http.request("GET", f"http://LocalHost:{port}/").status == 200
    assert len(http.pools) == 1
    assert pool.num_requests == 1
    http.clear()


@LIBS
def test_pool_kwargs_are_part_of_the_key(http_server: Any, lib: ModuleType) -> None:
    http = lib.PoolManager(maxsize=3, block=True)
    host, port = http_server.host, http_server.port
    default = http.connection_from_host(host, port)
    bigger = http.connection_from_host(host, port, pool_kwargs={"maxsize": 5})
    unset = http.connection_from_host(host, port, pool_kwargs={"maxsize": None})
    assert (default.pool.maxsize, default.block) == (3, True)
    assert (bigger.pool.maxsize, bigger.block) == (5, True)
    assert unset.pool.maxsize == 1  # None removes the manager's value: the pool default applies
    assert len({id(default), id(bigger), id(unset)}) == 3
    assert http.connection_from_host(host, port, pool_kwargs={"maxsize": 5}) is bigger
    assert http.connection_from_url(http_server.url, pool_kwargs={"maxsize": 5}) is bigger
    assert len(http.pools) == 3
    http.clear()


@LIBS
def test_connection_from_pool_key_reuses_or_creates(http_server: Any, lib: ModuleType) -> None:
    http = lib.PoolManager()
    context = {"scheme": "http", "host": http_server.host, "port": http_server.port}
    key = http.key_fn_by_scheme["http"](context)
    pool = http.connection_from_pool_key(key, request_context=dict(context))
    assert pool.port == http_server.port
    assert http.connection_from_pool_key(key, request_context=dict(context)) is pool
    assert http.connection_from_context(dict(context)) is pool
    assert http.request("GET", http_server.url + "/").status == 200
    assert pool.num_requests == 1
    http.clear()


def _pools_view(lib: ModuleType) -> list[Any]:
    """Which pool each way of naming an origin gets: (class, host, port, index of first equal)."""
    http = lib.PoolManager()
    pools = [
        http.connection_from_host("Example.INVALID"),
        http.connection_from_host("example.invalid", 0),
        http.connection_from_host("example.invalid", 443, scheme="https"),
        http.connection_from_host("[::1]", 8080),
        http.connection_from_url("http://[::1]:8080/x"),
        http.connection_from_url("http://example.invalid./"),
        http.connection_from_url("http://caf\u00e9.invalid/"),
        http.connection_from_url("http://xn--caf-dma.invalid:80/"),
        http.connection_from_url("https://example.invalid:8443", pool_kwargs={"timeout": 3}),
        http.connection_from_url("https://example.invalid:8443", pool_kwargs={"timeout": 3}),
        http.connection_from_url("http://example.invalid", pool_kwargs={"headers": {"A": "b"}}),
        http.connection_from_url("http://example.invalid", pool_kwargs={"headers": {"A": "b"}}),
    ]
    view: list[Any] = [
        (
            type(pool).__name__,
            pool.host,
            pool.port,
            next(i for i, p in enumerate(pools) if p is pool),
        )
        for pool in pools
    ]
    view.append(len(http.pools))
    http.clear()
    return view


def test_pool_lookup_matches_urllib3() -> None:
    assert _pools_view(pooltest) == _pools_view(urllib3)


@LIBS
def test_strict_in_request_context_warns_and_is_dropped(lib: ModuleType) -> None:
    http = lib.PoolManager()
    context = {"scheme": "http", "host": "example.invalid", "port": 80, "strict": True}
    with pytest.warns(FutureWarning, match="The 'strict' parameter is no longer needed"):
        pool = http.connection_from_context(context)
    assert http.connection_from_host("example.invalid") is pool


@LIBS
def test_unknown_pool_keyword_is_a_type_error(lib: ModuleType) -> None:
    http = lib.PoolManager(not_a_pool_option=1)
    with pytest.raises(TypeError, match="key_not_a_pool_option"):
        http.connection_from_host("example.invalid")


@LIBS
def test_key_functions_are_per_manager(http_server: Any, lib: ModuleType) -> None:
    custom, plain = lib.PoolManager(), lib.PoolManager()
    default_key = custom.key_fn_by_scheme["http"]
    seen: list[Any] = []

    def key_fn(context: dict[str, Any]) -> Any:
        seen.append(context["host"])
        return default_key(context)

    custom.key_fn_by_scheme["http"] = key_fn
    assert custom.request("GET", http_server.url + "/").status == 200
    assert plain.request("GET", http_server.url + "/").status == 200
    assert seen == [http_server.host]
    assert plain.key_fn_by_scheme["http"] is default_key
    custom.clear()
    plain.clear()


@LIBS
def test_unknown_scheme_raises_url_scheme_unknown(lib: ModuleType) -> None:
    http = lib.PoolManager()
    with pytest.raises(lib.exceptions.URLSchemeUnknown) as info:
        http.connection_from_url("ftp://example.invalid/")
    assert info.value.scheme == "ftp"
    assert len(http.pools) == 0


def test_missing_host_raises_location_value_error() -> None:
    http = PoolManager()
    with pytest.raises(LocationValueError, match="No host specified"):
        http.connection_from_host(None)
    with pytest.raises(URLSchemeUnknown):
        http.connection_from_host("example.invalid", scheme="gopher")


# --- clear and the context manager ------------------------------------------------------------


def test_clear_closes_idle_sockets_and_new_requests_work(origins: Origins) -> None:
    # urllib3 2.8's clear() only forgets its pools (the garbage collector closes them later).
    farm = origins(2)
    http = PoolManager()
    pools = [http.connection_from_url(url) for url in farm.urls]
    for url in farm.urls:
        http.request("GET", url + "/")
    assert [_idle_connections(pool) for pool in pools] == [1, 1]
    http.clear()
    assert len(http.pools) == 0
    assert [_idle_connections(pool) for pool in pools] == [0, 0]
    assert http.request("GET", farm[0].url + "/echo").json()["connection_id"] == 1
    assert http.connection_from_url(farm[0].url) not in pools
    http.clear()


def test_clear_does_not_break_a_response_being_read(http_server: Any) -> None:
    http = PoolManager()
    r = http.request("GET", http_server.url + "/stream?size=300000", preload_content=False)
    conn = r.connection
    assert conn is not None
    http.clear()
    assert r.read() == stream_payload(300000)
    r.release_conn()
    assert conn.is_closed  # the pool was dropped: the connection is not kept
    assert http.request("GET", http_server.url + "/echo").json()["connection_id"] == 1


def test_context_manager_clears_pools(http_server: Any) -> None:
    with PoolManager() as http:
        assert http.request("GET", http_server.url + "/").status == 200
        pool = http.connection_from_url(http_server.url)
    assert len(http.pools) == 0
    assert _idle_connections(pool) == 0


def test_exception_in_context_manager_propagates_and_clears(http_server: Any) -> None:
    http = PoolManager()

    def fail_inside() -> None:
        with http:
            http.request("GET", http_server.url + "/")
            raise KeyError("boom")

    with pytest.raises(KeyError):
        fail_inside()
    assert len(http.pools) == 0


# --- headers, urlopen and redirects ------------------------------------------------------------


def _sent_headers(response: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in response.json()["headers"]}


@LIBS
def test_default_headers_are_sent_and_replaced_not_merged(
    http_server: Any, lib: ModuleType
) -> None:
    defaults = {"X-Team": "pool"}
    http = lib.PoolManager(headers=defaults)
    sent = _sent_headers(http.request("GET", http_server.url + "/echo"))
    assert sent["x-team"] == "pool"
    sent = _sent_headers(http.request("GET", http_server.url + "/echo", headers={"X-Own": "1"}))
    assert "x-team" not in sent
    assert sent["x-own"] == "1"
    sent = _sent_headers(http.urlopen("GET", http_server.url + "/echo"))
    assert sent["x-team"] == "pool"
    http.request("POST", http_server.url + "/upload", fields={"a": "b"})
    assert defaults == {"X-Team": "pool"}  # never changed by what a request adds
    http.clear()


@LIBS
def test_urlopen_requires_an_absolute_url(lib: ModuleType) -> None:
    http = lib.PoolManager()
    with (
        pytest.warns(FutureWarning, match="URLs without a scheme"),
        pytest.raises(lib.exceptions.LocationValueError),
    ):
        http.urlopen("GET", "/echo")
    assert len(http.pools) == 0


@LIBS
def test_schemeless_url_warns_and_defaults_to_http(http_server: Any, lib: ModuleType) -> None:
    http = lib.PoolManager()
    with pytest.warns(FutureWarning, match="URLs without a scheme"):
        r = http.urlopen("GET", f"127.0.0.1:{http_server.port}/echo?x=1")
    assert (r.status, r.json()["target"]) == (200, "/echo?x=1")
    http.clear()


@LIBS
def test_urlopen_follows_redirects_across_origins(origins: Origins, lib: ModuleType) -> None:
    farm = origins(2)
    http = lib.PoolManager()
    target = farm[1].url + "/echo"
    url = farm[0].url + "/redirect?status=302&to=" + target
    r = http.urlopen("GET", url, headers={"Authorization": "secret", "X-Keep": "1"})
    assert r.status == 200
    sent = _sent_headers(r)
    assert "authorization" not in sent  # dropped across origins
    assert sent["x-keep"] == "1"
    assert len(http.pools) == 2
    r = http.urlopen("GET", url, redirect=False)
    assert (r.status, r.headers["Location"]) == (302, target)
    assert http.request("GET", url, redirect=False).status == 302
    http.clear()


def test_urlopen_sends_only_the_request_target(http_server: Any) -> None:
    http = PoolManager()
    r = http.urlopen("GET", http_server.url + "/echo?a=1#fragment")
    assert r.json()["target"] == "/echo?a=1"
    http.clear()


# --- deprecated aliases -------------------------------------------------------------------------


def test_get_url_is_a_deprecated_alias_of_get(http_server: Any) -> None:
    http = PoolManager()
    with pytest.warns(DeprecationWarning, match=r"get_url\(\) is deprecated"):
        r = http.get_url(http_server.url + "/echo", fields={"a": "b"})
    assert (r.json()["method"], r.json()["target"]) == ("GET", "/echo?a=b")
    http.clear()


def test_post_url_is_a_deprecated_alias_of_post(http_server: Any) -> None:
    http = PoolManager()
    with pytest.warns(DeprecationWarning, match=r"post_url\(\) is deprecated"):
        r = http.post_url(http_server.url + "/upload", fields={"a": "b"})
    assert r.json()["form"] == {"a": ["b"]}
    assert http_server.request_log[-1].method == "POST"
    http.clear()


# --- differential: the same scenario through urllib3 and pooltest ----------------------------


def _echo_view(response: Any) -> dict[str, Any]:
    """What the server saw, minus what legitimately differs (User-Agent, connection ids)."""
    echo = response.json()
    headers = sorted(
        (name.lower(), value.rsplit(":", 1)[0] if name.lower() == "host" else value)
        for name, value in echo["headers"]
        if name.lower() != "user-agent"
    )
    return {
        "method": echo["method"],
        "target": echo["target"],
        "headers": headers,
        "body": echo["body"],
        "chunked": echo["chunked"],
    }


def _scenario(lib: ModuleType, farm: ServerFarm) -> dict[str, Any]:
    http = lib.PoolManager(num_pools=3, headers={"X-Scenario": "diff"})
    index = {server.port: i for i, server in enumerate(farm)}
    seen: list[Any] = []
    for i, url in enumerate(farm.urls):
        seen.append(_echo_view(http.request("GET", url + "/echo", fields={"i": str(i)})))
        seen.append(_echo_view(http.request("DELETE", url + "/echo", fields={"d": "x y"})))
        seen.append(_echo_view(http.request("PUT", url + "/echo", json={"i": i, "s": "\u00e9"})))
        r = http.request("POST", url + "/echo", body=b"raw body", headers={"X-Own": "1"})
        seen.append(_echo_view(r))
        r = http.request("POST", url + "/upload", fields={"f": ("a.txt", b"A" * 100)})
        seen.append(r.json()["files"])
        seen.append(http.request("HEAD", url + "/head-check").data)
        seen.append(http.request("GET", url + "/close").data)
        seen.append(http.request("GET", url + "/").data)  # after /close: a reconnect
    seen.append(http.request("GET", farm[3].url + "/").status)  # kept pool
    seen.append(http.request("GET", farm[0].url + "/").status)  # evicted pool, rebuilt
    stats = {}
    for key in http.pools.keys():  # noqa: SIM118 - iterating the LRU itself is refused
        pool = http.connection_from_pool_key(
            key, {"scheme": "http", "host": key.key_host, "port": key.key_port}
        )
        stats[index[key.key_port]] = (pool.num_requests, pool.num_connections)
    log = [[(r.connection_id, r.method, r.path) for r in server.request_log] for server in farm]
    http.clear()
    return {
        "pools": len(stats),
        "stats": stats,
        "seen": seen,
        "log": log,
        "accepted": [server.connections_accepted for server in farm],
    }


def test_same_scenario_through_urllib3_and_pooltest(origins: Origins) -> None:
    ours = _scenario(pooltest, origins(4))
    theirs = _scenario(urllib3, origins(4))
    assert ours["pools"] == theirs["pools"] == 3
    assert ours["stats"] == theirs["stats"]
    assert ours["seen"] == theirs["seen"]
    assert ours["log"] == theirs["log"]
    assert ours["accepted"] == theirs["accepted"]
