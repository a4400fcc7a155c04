"""Fixtures shared by the whole test suite: loopback servers, TLS material, a connect guard.

Servers are function-scoped: starting one costs a bind and a thread, and stopping one is
immediate (the accept loop is woken, not polled), so every test gets fresh counters and no test
can see another's connections. TLS material is session-scoped (one CA per run).

``loopback_guard`` is autouse for the session: any ``connect()`` to a non-loopback address raises
``NonLoopbackConnectError``, and ``_fail_on_non_loopback_connect`` fails the test afterwards even
if the error was caught somewhere.

The server helpers live in ``tests/support`` and are imported as ``support``; this file puts
``tests/`` on ``sys.path`` so that works under any pytest import mode.
"""

from __future__ import annotations

import os
import sys
import tempfile
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from hypothesis import HealthCheck, settings

_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

# Property tests run on shared 2-core CI machines: no per-example deadline and no "too slow"
# health check, which would fail on load rather than on a bug. Example counts stay as each test
# sets them. Under CI (CI=true) examples are derandomized, so a submission's result does not
# depend on luck; local runs keep exploring new examples.
settings.register_profile(
    "pooltest",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("pooltest")

# Cassette parse caches go to a folder of this run, never to the user's ~/.cache (subprocesses
# and pytester runs inherit it).
os.environ.setdefault("POOLTEST_CACHE_DIR", tempfile.mkdtemp(prefix="pooltest-test-cache-"))

from support import (  # noqa: E402 - needs the sys.path entry above
    KeepAliveServer,
    LoopbackGuard,
    ProxyServer,
    RawServer,
    ServerFarm,
    TLSKit,
    ipv6_available,
    make_tls_kit,
)
from support.raw import Handler  # noqa: E402


class _Stoppable(Protocol):
    def start(self) -> Any: ...

    def stop(self) -> None: ...


_S = TypeVar("_S", bound=_Stoppable)


# --- guard ----------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def loopback_guard() -> Iterator[LoopbackGuard]:
    """Refuse ``connect()`` to non-loopback addresses for the whole session."""
    guard = LoopbackGuard()
    with pytest.MonkeyPatch.context() as patch:
        guard.install(patch)
        yield guard


@pytest.fixture(autouse=True)
def _fail_on_non_loopback_connect(loopback_guard: LoopbackGuard) -> Iterator[None]:
    before = len(loopback_guard.violations)
    yield
    attempts = loopback_guard.violations[before:]
    if attempts:
        pytest.fail("\n".join(attempts), pytrace=False)


# --- generic --------------------------------------------------------------------------------


@pytest.fixture
def serve() -> Iterator[Callable[[_S], _S]]:
    """Start any test server (or farm) and stop it at teardown: ``serve(ProxyServer(auth=...))``."""
    running: list[_Stoppable] = []

    def start(server: _S) -> _S:
        running.append(server)
        server.start()
        return server

    yield start
    _stop_all(running)


def _stop_all(servers: list[_Stoppable]) -> None:
    failures: list[BaseException] = []
    for server in reversed(servers):
        try:
            server.stop()
        except RuntimeError as exc:
            failures.append(exc)
    if failures:
        raise failures[0]


# --- plain HTTP -----------------------------------------------------------------------------


@pytest.fixture
def http_server() -> Iterator[KeepAliveServer]:
    """A fresh HTTP/1.1 keep-alive origin on 127.0.0.1."""
    with KeepAliveServer() as server:
        yield server


@pytest.fixture
def origins(serve: Callable[[ServerFarm], ServerFarm]) -> Callable[..., ServerFarm]:
    """Factory: ``origins(n, tls=None)`` starts ``n`` origins on distinct ports."""

    def make(count: int, tls: Any = None) -> ServerFarm:
        return serve(ServerFarm(count, tls=tls))

    return make


@pytest.fixture
def raw_server(serve: Callable[[RawServer], RawServer]) -> Callable[[Handler], RawServer]:
    """Factory: ``raw_server(handler)`` starts a ``RawServer`` running ``handler(sock, index)``."""

    def make(handler: Handler) -> RawServer:
        return serve(RawServer(handler))

    return make


@pytest.fixture
def ipv6_server() -> Iterator[KeepAliveServer]:
    """A keep-alive origin on ``::1``; the test is skipped where IPv6 loopback is missing."""
    if not ipv6_available():
        pytest.skip("IPv6 loopback (::1) is not available")
    with KeepAliveServer(host="::1") as server:
        yield server


# --- TLS ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tls_ca(tmp_path_factory: pytest.TempPathFactory) -> TLSKit:
    """Session CA, server/wrong-host/client certificates and a second CA (see ``support.tls``)."""
    return make_tls_kit(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def ca_certs(tls_ca: TLSKit) -> str:
    """Path of the PEM bundle that verifies ``https_server``."""
    return tls_ca.ca_certs


@pytest.fixture(scope="session")
def wrong_ca_certs(tls_ca: TLSKit) -> str:
    """Path of a PEM bundle of an unrelated CA: verifying ``https_server`` with it fails."""
    return tls_ca.wrong_ca_certs


@pytest.fixture
def https_server(tls_ca: TLSKit) -> Iterator[KeepAliveServer]:
    """HTTPS origin on 127.0.0.1, certificate valid for localhost, 127.0.0.1 and ::1."""
    with KeepAliveServer(tls=tls_ca.server_context()) as server:
        yield server


@pytest.fixture
def https_wrong_host_server(tls_ca: TLSKit) -> Iterator[KeepAliveServer]:
    """HTTPS origin whose certificate (from the right CA) names ``support.WRONG_HOSTNAME``."""
    with KeepAliveServer(tls=tls_ca.server_context(tls_ca.wrong_host_cert)) as server:
        yield server


@pytest.fixture
def mtls_server(tls_ca: TLSKit) -> Iterator[KeepAliveServer]:
    """HTTPS origin that requires a client certificate from ``tls_ca`` (``client_cert_file``)."""
    context = tls_ca.server_context(require_client_cert=True)
    with KeepAliveServer(tls=context) as server:
        yield server


# --- proxy ----------------------------------------------------------------------------------


@pytest.fixture
def proxy_server(tls_ca: TLSKit) -> Iterator[ProxyServer]:
    """Forward proxy (absolute-form and CONNECT) to loopback origins, no authentication."""
    with ProxyServer(upstream_ca_certs=tls_ca.ca_certs) as server:
        yield server


@pytest.fixture
def traced() -> Iterator[Callable[[], int]]:
    """Trace allocations during the test; yields a function returning the peak so far."""
    tracemalloc.start()
    try:
        yield lambda: tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
