"""``--block-network``: real connections fail clearly outside recording cassettes.

Every blocked attempt here targets a live loopback server, and the outer test checks the server
saw no connection at all: blocking happens before the socket connects (or before the lookup).
"""

from __future__ import annotations

import socket

import pytest
from conftest import Run, write_test
from pytest_pooltest import NetworkBlockedError
from pytest_pooltest._network import NetworkGuard
from support import KeepAliveServer

POOLTEST_GET = """
    import pooltest


    def test_get():
        with pooltest.PoolManager(retries=False) as http:
            assert http.request("GET", "{{URL}}/json").status == 200
"""


def test_a_connection_outside_cassettes_fails_naming_host_and_port(
    pytester: pytest.Pytester, run: Run, http_server: KeepAliveServer
) -> None:
    patched = (socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex)
    write_test(pytester, POOLTEST_GET, URL=http_server.url)
    result = run("--block-network")
    result.assert_outcomes(failed=1)
    blocked = f"connection to 127.0.0.1:{http_server.port} blocked"
    result.stdout.fnmatch_lines([f"*NetworkBlockedError: pooltest --block-network: {blocked}*"])
    assert http_server.connections_accepted == 0
    # The inner run put back exactly what it found (here, the outer suite's loopback guard).
    assert (socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex) == patched

    run("--block-network", "--allowed-hosts=example.test,127.0.0.1").assert_outcomes(passed=1)
    assert http_server.connections_accepted == 1


def test_host_names_are_blocked_before_resolution_and_allowed_by_name(
    pytester: pytest.Pytester, run: Run, http_server: KeepAliveServer
) -> None:
    url = http_server.url.replace("127.0.0.1", "localhost")
    write_test(pytester, POOLTEST_GET, URL=url)
    result = run("--block-network", "--allowed-hosts=127.0.0.1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*connection to localhost:{http_server.port} blocked*"])
    assert http_server.connections_accepted == 0

    run("--block-network", "--allowed-hosts=localhost").assert_outcomes(passed=1)


def test_a_recording_cassette_lifts_the_block_and_replays_need_no_network(
    pytester: pytest.Pytester, run: Run, http_server: KeepAliveServer
) -> None:
    write_test(
        pytester,
        """
        import socket

        import pytest


        @pytest.mark.cassette
        def test_get(pool_manager):
            assert pool_manager.request("GET", "{{URL}}/json").status == 200


        @pytest.mark.cassette("other.yaml", record_mode="none", allow_playback_repeats=True)
        def test_raw_socket_in_a_replaying_cassette():
            with pytest.raises(RuntimeError, match="connection to 127.0.0.1:{{PORT}} blocked"):
                socket.create_connection(("127.0.0.1", {{PORT}}), timeout=5)
        """,
        URL=http_server.url,
        PORT=http_server.port,
    )
    (pytester.path / "cassettes").mkdir()
    (pytester.path / "cassettes" / "other.yaml").write_text("interactions: []\nversion: 1\n")
    run("--block-network", "--record-mode=once").assert_outcomes(passed=2)
    assert http_server.connections_accepted == 1
    run("--block-network").assert_outcomes(passed=2)
    assert http_server.connections_accepted == 1


def test_without_the_option_nothing_is_patched(
    pytester: pytest.Pytester, run: Run, http_server: KeepAliveServer
) -> None:
    write_test(
        pytester,
        """
        import socket

        import pooltest


        def test_untouched():
            assert socket.getaddrinfo.__module__ == "socket"


        def test_get():
            with pooltest.PoolManager(retries=False) as http:
                assert http.request("GET", "{{URL}}/json").status == 200
        """,
        URL=http_server.url,
    )
    run().assert_outcomes(passed=2)


def test_guard_allows_bind_lookups_and_normalises_addresses() -> None:
    patched = (socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex)
    guard = NetworkGuard(["[::1]", " ", "Example.TEST."])
    assert guard.allowed_hosts == {"::1", "example.test"}
    guard.install()
    try:
        assert socket.getaddrinfo(None, 0, flags=socket.AI_PASSIVE)
        assert socket.getaddrinfo("0:0::1", 80, proto=socket.IPPROTO_TCP)
        with pytest.raises(NetworkBlockedError, match=r"127\.0\.0\.1:80"):
            socket.getaddrinfo("127.0.0.1", 80)
        with guard.allowing():
            assert socket.getaddrinfo("127.0.0.1", 80)
        with pytest.raises(NetworkBlockedError):
            socket.getaddrinfo(b"127.0.0.1", 80)
        sock = socket.socket()
        with pytest.raises(NetworkBlockedError, match=r"10\.0\.0\.1:9 "):
            sock.connect(("10.0.0.1", 9))
        assert sock.fileno() == -1  # closed, as callers only clean up after OSError
    finally:
        guard.uninstall()
    assert (socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex) == patched
