"""HTTPS against real loopback TLS servers, differential with urllib3 where behaviour must match.

Covered: verification on by default; every way of giving trust anchors (``ca_certs``,
``ca_cert_dir``, ``ca_cert_data``, ``ssl_context``); ``assert_hostname``, ``server_hostname``
(SNI, observed by the server) and ``assert_fingerprint``; ``cert_reqs=CERT_NONE`` and its
``InsecureRequestWarning``; the failures (wrong CA, wrong host name, plaintext server, stalled
handshake) and the exception each one surfaces as; client certificates (mutual TLS, encrypted
keys); TLS keep-alive; and IPv6 (``[::1]``) over HTTP and HTTPS.

Most tests run the same scenario through urllib3 2.x and pooltest and compare what the caller
and the server observed, then pin the expected value, so a regression in either shows.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import urllib3
from support import CLIENT_KEY_PASSWORD, WRONG_HOSTNAME, KeepAliveServer, RawServer, TLSKit
from support.raw import wait_for_peer_close

import pooltest
from pooltest.connection import HTTPSConnection
from pooltest.exceptions import (
    InsecureRequestWarning,
    MaxRetryError,
    ReadTimeoutError,
    SSLError,
)

pytestmark = pytest.mark.network

LIBS = (urllib3, pooltest)
Outcome = tuple[Any, ...]
_INSECURE = r"Unverified HTTPS request is being made to host '127\.0\.0\.1'"


def _outcome(call: Callable[[], Any]) -> Outcome:
    """``("ok", value)`` or ``("error", exception name, reason name)``, comparable across libs."""
    try:
        return ("ok", call())
    except Exception as exc:
        return ("error", type(exc).__name__, *_cause_names(exc))


def _cause_names(exc: Exception) -> tuple[str | None, str | None]:
    """Class names of ``exc.reason`` and of the exception that reason wraps (None if absent)."""
    reason = getattr(exc, "reason", None)
    if reason is None:
        return None, None
    args = getattr(reason, "args", ())
    wrapped = args[0] if args and isinstance(args[0], BaseException) else None
    return type(reason).__name__, type(wrapped).__name__ if wrapped is not None else None


def _both(scenario: Callable[[ModuleType], Any]) -> Outcome:
    """Run ``scenario(lib)`` for urllib3 and pooltest; assert equal outcomes; return it."""
    expected, actual = (_outcome(functools.partial(scenario, lib)) for lib in LIBS)
    assert actual == expected
    return actual


def _get(lib: ModuleType, server: KeepAliveServer, path: str = "/", **pool_kw: Any) -> Any:
    """GET ``path`` through a fresh pool (no retries); ``(status, is_verified)``."""
    pool = lib.HTTPSConnectionPool(server.host, server.port, retries=0, **pool_kw)
    with pool:
        response = pool.request("GET", path)
        conn = pool._get_conn()
        verified = conn.is_verified
        pool._put_conn(conn)
        return response.status, verified


def _fingerprint(kit: TLSKit, algorithm: str) -> str:
    pem = kit.server_cert.cert_chain_pems[0].bytes().decode("ascii")
    return hashlib.new(algorithm, ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def _colons(hex_digest: str) -> str:
    return ":".join(hex_digest[i : i + 2] for i in range(0, len(hex_digest), 2)).upper()


@pytest.fixture(scope="module")
def ca_dir(tls_ca: TLSKit, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An OpenSSL hashed CA directory holding the session CA (for ``ca_cert_dir``)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to hash a CA directory")
    hashed = subprocess.run(
        [openssl, "x509", "-hash", "-noout", "-in", tls_ca.ca_certs],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.strip()
    directory = tmp_path_factory.mktemp("ca-dir")
    shutil.copy(tls_ca.ca_certs, directory / f"{hashed}.0")
    return str(directory)


@pytest.fixture
def sni_server(tls_ca: TLSKit) -> Iterator[tuple[KeepAliveServer, list[str | None]]]:
    """HTTPS origin that records the SNI name of every handshake (None: no SNI sent)."""
    names: list[str | None] = []
    context = tls_ca.server_context()
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)
    with KeepAliveServer(tls=context) as server:
        yield server, names


@pytest.fixture
def stalled_tls_server(raw_server: Callable[..., RawServer]) -> RawServer:
    """Accepts TCP connections and never says a word (a TLS handshake that never completes)."""

    def stall(sock: socket.socket, index: int) -> None:
        wait_for_peer_close(sock, 30.0)

    return raw_server(stall)


# --- verification on by default ------------------------------------------------------------


def test_verification_is_on_by_default(https_server: KeepAliveServer) -> None:
    """No CA given: the system store does not know the test CA, so the request fails."""
    outcome = _both(lambda lib: _get(lib, https_server))
    assert outcome == ("error", "MaxRetryError", "SSLError", "SSLCertVerificationError")
    assert https_server.requests_served == 0


def test_default_connection_settings_match_urllib3() -> None:
    """What a pool's new HTTPS connection is set to when nothing is configured."""

    def settings(lib: ModuleType, **pool_kw: Any) -> tuple[Any, ...]:
        with lib.HTTPSConnectionPool("localhost", 443, **pool_kw) as pool:
            conn = pool._new_conn()
            return (
                conn.cert_reqs,
                type(conn.cert_reqs),
                conn.assert_hostname,
                conn.assert_fingerprint,
                conn.ssl_context,
                conn.is_verified,
                conn.proxy_is_verified,
            )

    assert settings(pooltest) == settings(urllib3)
    assert settings(pooltest)[:2] == (ssl.CERT_REQUIRED, ssl.VerifyMode)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_OPTIONAL
    assert settings(pooltest, ssl_context=context) == settings(urllib3, ssl_context=context)
    assert settings(pooltest, ssl_context=context)[0] == ssl.CERT_OPTIONAL


@pytest.mark.parametrize(
    "trust",
    [
        pytest.param(lambda kit: {"ca_certs": kit.ca_certs}, id="ca_certs"),
        pytest.param(
            lambda kit: {"ca_cert_data": kit.ca.cert_pem.bytes().decode("ascii")},
            id="ca_cert_data-pem",
        ),
        pytest.param(
            lambda kit: {
                "ca_cert_data": ssl.PEM_cert_to_DER_cert(kit.ca.cert_pem.bytes().decode("ascii"))
            },
            id="ca_cert_data-der",
        ),
        pytest.param(lambda kit: {"ssl_context": kit.client_context()}, id="ssl_context"),
        pytest.param(
            lambda kit: {
                "ca_certs": kit.ca_certs,
                "ssl_minimum_version": ssl.TLSVersion.TLSv1_3,
            },
            id="tls1.3-minimum",
        ),
        pytest.param(
            lambda kit: {
                "ca_certs": kit.ca_certs,
                "ssl_maximum_version": ssl.TLSVersion.TLSv1_2,
            },
            id="tls1.2-maximum",
        ),
    ],
)
def test_trust_anchors_verify_the_server(
    https_server: KeepAliveServer,
    tls_ca: TLSKit,
    trust: Callable[[TLSKit], dict[str, Any]],
) -> None:
    assert _both(lambda lib: _get(lib, https_server, **trust(tls_ca))) == ("ok", (200, True))


def test_ca_cert_dir_verifies_the_server(https_server: KeepAliveServer, ca_dir: str) -> None:
    assert _both(lambda lib: _get(lib, https_server, ca_cert_dir=ca_dir)) == ("ok", (200, True))


def test_own_context_from_create_urllib3_context(
    https_server: KeepAliveServer, ca_certs: str
) -> None:
    def scenario(lib: ModuleType) -> Any:
        context = lib.util.ssl_.create_urllib3_context()
        context.load_verify_locations(ca_certs)
        return _get(lib, https_server, ssl_context=context)

    assert _both(scenario) == ("ok", (200, True))


def test_ssl_context_without_the_ca_fails(https_server: KeepAliveServer) -> None:
    outcome = _both(lambda lib: _get(lib, https_server, ssl_context=ssl.create_default_context()))
    assert outcome == ("error", "MaxRetryError", "SSLError", "SSLCertVerificationError")


def test_unreadable_ca_file_is_an_ssl_error(https_server: KeepAliveServer, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.pem")
    outcome = _both(lambda lib: _get(lib, https_server, ca_certs=missing))
    assert outcome == ("error", "MaxRetryError", "SSLError", "FileNotFoundError")


# --- failures --------------------------------------------------------------------------------


def test_wrong_ca_is_max_retry_error_caused_by_ssl_error(
    https_server: KeepAliveServer, wrong_ca_certs: str
) -> None:
    outcome = _both(lambda lib: _get(lib, https_server, ca_certs=wrong_ca_certs))
    assert outcome == ("error", "MaxRetryError", "SSLError", "SSLCertVerificationError")
    with pytest.raises(MaxRetryError) as info:
        _get(pooltest, https_server, ca_certs=wrong_ca_certs)
    assert isinstance(info.value.reason, SSLError)
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value.reason)
    assert https_server.requests_served == 0


def test_wrong_ca_is_retried_like_urllib3(
    https_server: KeepAliveServer, wrong_ca_certs: str
) -> None:
    """A failed handshake counts as a connection error: Retry(2) means three handshakes."""
    for lib in LIBS:
        before = https_server.connections_accepted
        pool = lib.HTTPSConnectionPool(
            https_server.host,
            https_server.port,
            ca_certs=wrong_ca_certs,
            retries=lib.Retry(2, backoff_factor=0),
        )
        with pool, pytest.raises(lib.exceptions.MaxRetryError):
            pool.request("GET", "/")
        assert https_server.connections_accepted - before == 3, lib.__name__


def test_wrong_hostname_fails(https_wrong_host_server: KeepAliveServer, ca_certs: str) -> None:
    outcome = _both(lambda lib: _get(lib, https_wrong_host_server, ca_certs=ca_certs))
    assert outcome == ("error", "MaxRetryError", "SSLError", "SSLCertVerificationError")
    with pytest.raises(MaxRetryError) as info:
        _get(pooltest, https_wrong_host_server, ca_certs=ca_certs)
    assert "mismatch" in str(info.value.reason)
    assert https_wrong_host_server.requests_served == 0


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"assert_hostname": WRONG_HOSTNAME}, id="assert_hostname"),
        pytest.param({"server_hostname": WRONG_HOSTNAME}, id="server_hostname"),
        pytest.param({"assert_hostname": False}, id="assert_hostname-False"),
    ],
)
def test_wrong_hostname_accepted_when_told_what_to_expect(
    https_wrong_host_server: KeepAliveServer, ca_certs: str, options: dict[str, Any]
) -> None:
    """The chain is still verified (is_verified), only the name to match changes."""
    outcome = _both(lambda lib: _get(lib, https_wrong_host_server, ca_certs=ca_certs, **options))
    assert outcome == ("ok", (200, True))


def test_assert_hostname_other_than_certificate_fails(
    https_server: KeepAliveServer, ca_certs: str
) -> None:
    outcome = _both(
        lambda lib: _get(lib, https_server, ca_certs=ca_certs, assert_hostname=WRONG_HOSTNAME)
    )
    assert outcome == ("error", "MaxRetryError", "SSLError", "CertificateError")
    with pytest.raises(MaxRetryError) as info:
        _get(pooltest, https_server, ca_certs=ca_certs, assert_hostname=WRONG_HOSTNAME)
    assert f"hostname '{WRONG_HOSTNAME}' doesn't match" in str(info.value.reason)


def test_wrong_ca_fails_even_with_assert_hostname_false(
    https_server: KeepAliveServer, wrong_ca_certs: str
) -> None:
    outcome = _both(
        lambda lib: _get(lib, https_server, ca_certs=wrong_ca_certs, assert_hostname=False)
    )
    assert outcome == ("error", "MaxRetryError", "SSLError", "SSLCertVerificationError")


def test_plaintext_server_on_https_url_is_ssl_error(http_server: KeepAliveServer) -> None:
    outcome = _both(
        lambda lib: (
            lib.PoolManager(retries=0)
            .request("GET", f"https://127.0.0.1:{http_server.port}/")
            .status
        )
    )
    assert outcome[:3] == ("error", "MaxRetryError", "SSLError")
    assert http_server.requests_served == 0  # the ClientHello is not a request


@pytest.mark.parametrize(
    "timeout",
    [
        pytest.param(lambda lib: 0.2, id="float"),
        pytest.param(lambda lib: lib.Timeout(connect=0.2, read=60), id="connect-timeout"),
        pytest.param(lambda lib: lib.Timeout(total=0.2), id="total"),
    ],
)
def test_stalled_handshake_times_out(
    stalled_tls_server: RawServer, ca_certs: str, timeout: Callable[[ModuleType], Any]
) -> None:
    """The handshake runs under the connect timeout and surfaces as ReadTimeoutError.

    The server stays silent for 30 s: any other outcome than a timeout error would mean the
    configured timeout did not apply (the server's own close would give an SSL EOF error).
    """

    def scenario(lib: ModuleType) -> Any:
        pool = lib.HTTPSConnectionPool(
            "127.0.0.1",
            stalled_tls_server.port,
            ca_certs=ca_certs,
            retries=0,
            timeout=timeout(lib),
        )
        with pool:
            return pool.request("GET", "/").status

    assert _both(scenario) == ("error", "MaxRetryError", "ReadTimeoutError", None)
    with pytest.raises(MaxRetryError) as info:
        scenario(pooltest)
    assert isinstance(info.value.reason, ReadTimeoutError)
    assert "read timeout=0.2" in str(info.value.reason)


def test_stalled_handshake_without_retries_raises_timeout_directly(
    stalled_tls_server: RawServer, ca_certs: str
) -> None:
    outcome = _both(
        lambda lib: (
            lib.PoolManager(ca_certs=ca_certs, timeout=0.2, retries=False)
            .request("GET", f"https://127.0.0.1:{stalled_tls_server.port}/")
            .status
        )
    )
    assert outcome == ("error", "ReadTimeoutError", None, None)


# --- CERT_NONE and fingerprints ------------------------------------------------------------


@pytest.mark.parametrize(
    "cert_reqs", ["CERT_NONE", "NONE", ssl.CERT_NONE], ids=["CERT_NONE", "NONE", "constant"]
)
def test_cert_none_warns_insecure_request(
    https_server: KeepAliveServer, cert_reqs: str | int
) -> None:
    for lib in LIBS:
        with pytest.warns(lib.exceptions.InsecureRequestWarning, match=_INSECURE):
            assert _get(lib, https_server, cert_reqs=cert_reqs) == (200, False)


def test_cert_none_warns_on_every_request(https_server: KeepAliveServer) -> None:
    pool = pooltest.HTTPSConnectionPool(https_server.host, https_server.port, cert_reqs="CERT_NONE")
    with pool:
        for _ in range(3):
            with pytest.warns(InsecureRequestWarning, match=_INSECURE):
                assert pool.request("GET", "/").status == 200
    assert https_server.connections_accepted == 1


def test_unverifying_ssl_context_warns(https_server: KeepAliveServer) -> None:
    for lib in LIBS:
        context = lib.util.ssl_.create_urllib3_context(cert_reqs=ssl.CERT_NONE)
        with pytest.warns(lib.exceptions.InsecureRequestWarning, match=_INSECURE):
            assert _get(lib, https_server, ssl_context=context) == (200, False)


@pytest.mark.parametrize(
    ("algorithm", "style"),
    [("sha256", str.lower), ("sha1", _colons), ("sha256", _colons), ("md5", str.upper)],
)
def test_matching_fingerprint_verifies_without_a_ca(
    https_server: KeepAliveServer,
    tls_ca: TLSKit,
    algorithm: str,
    style: Callable[[str], str],
) -> None:
    """A pinned certificate is enough: verified, and no InsecureRequestWarning."""
    pin = style(_fingerprint(tls_ca, algorithm))
    outcome = _both(
        lambda lib: _get(lib, https_server, cert_reqs="CERT_NONE", assert_fingerprint=pin)
    )
    assert outcome == ("ok", (200, True))


def test_fingerprint_mismatch_is_ssl_error(https_server: KeepAliveServer) -> None:
    pin = "00" * 32
    outcome = _both(
        lambda lib: _get(lib, https_server, cert_reqs="CERT_NONE", assert_fingerprint=pin)
    )
    assert outcome == ("error", "MaxRetryError", "SSLError", None)
    with pytest.raises(MaxRetryError) as info:
        _get(pooltest, https_server, cert_reqs="CERT_NONE", assert_fingerprint=pin)
    assert "Fingerprints did not match" in str(info.value.reason)
    assert https_server.requests_served == 0


def test_fingerprint_does_not_bypass_ca_verification(
    https_server: KeepAliveServer, tls_ca: TLSKit
) -> None:
    """With the default CERT_REQUIRED the chain must still verify, pin or not."""
    pin = _fingerprint(tls_ca, "sha256")
    outcome = _both(lambda lib: _get(lib, https_server, assert_fingerprint=pin))
    assert outcome == ("error", "MaxRetryError", "SSLError", "SSLCertVerificationError")


# --- SNI ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "options", "sent"),
    [
        ("localhost", {}, "localhost"),
        ("LocalHost", {}, "localhost"),
        ("127.0.0.1", {}, None),  # no SNI for an IP address
        ("127.0.0.1", {"server_hostname": "localhost"}, "localhost"),
    ],
)
def test_sni_name_seen_by_server(
    sni_server: tuple[KeepAliveServer, list[str | None]],
    ca_certs: str,
    host: str,
    options: dict[str, str],
    sent: str | None,
) -> None:
    server, names = sni_server
    for lib in LIBS:
        names.clear()
        manager = lib.PoolManager(ca_certs=ca_certs, retries=0, **options)
        assert manager.request("GET", f"https://{host}:{server.port}/").status == 200
        assert names == [sent], lib.__name__


# --- mutual TLS ------------------------------------------------------------------------------


def _mtls(lib: ModuleType, server: KeepAliveServer, ca_certs: str, **options: Any) -> int:
    pool = lib.HTTPSConnectionPool(
        server.host,
        server.port,
        ca_certs=ca_certs,
        retries=0,
        # TLS 1.2 makes a missing client certificate fail during the handshake, not on the
        # first read, so the error is the same whichever way the race goes.
        ssl_maximum_version=ssl.TLSVersion.TLSv1_2,
        **options,
    )
    with pool:
        return int(pool.request("GET", "/echo").status)


@pytest.mark.parametrize(
    "files",
    [
        pytest.param(lambda kit: {"cert_file": kit.client_combined_file}, id="combined-file"),
        pytest.param(
            lambda kit: {"cert_file": kit.client_cert_file, "key_file": kit.client_key_file},
            id="cert-and-key",
        ),
        pytest.param(
            lambda kit: {
                "cert_file": kit.client_cert_file,
                "key_file": kit.client_key_encrypted_file,
                "key_password": CLIENT_KEY_PASSWORD,
            },
            id="encrypted-key-with-password",
        ),
    ],
)
def test_client_certificate_accepted(
    mtls_server: KeepAliveServer,
    tls_ca: TLSKit,
    files: Callable[[TLSKit], dict[str, str]],
) -> None:
    assert _both(lambda lib: _mtls(lib, mtls_server, tls_ca.ca_certs, **files(tls_ca))) == (
        "ok",
        200,
    )
    assert mtls_server.requests_served == 2


def test_client_certificate_over_tls13(mtls_server: KeepAliveServer, tls_ca: TLSKit) -> None:
    manager = pooltest.PoolManager(
        ca_certs=tls_ca.ca_certs,
        cert_file=tls_ca.client_cert_file,
        key_file=tls_ca.client_key_file,
        ssl_minimum_version=ssl.TLSVersion.TLSv1_3,
    )
    for _ in range(2):
        assert manager.request("GET", f"https://localhost:{mtls_server.port}/").status == 200
    assert mtls_server.connections_accepted == 1


def test_missing_client_certificate_is_rejected(
    mtls_server: KeepAliveServer, ca_certs: str
) -> None:
    outcome = _both(lambda lib: _mtls(lib, mtls_server, ca_certs))
    assert outcome[:3] == ("error", "MaxRetryError", "SSLError")
    assert mtls_server.requests_served == 0


def test_encrypted_key_without_password_is_ssl_error(
    mtls_server: KeepAliveServer, tls_ca: TLSKit
) -> None:
    files = {"cert_file": tls_ca.client_cert_file, "key_file": tls_ca.client_key_encrypted_file}
    outcome = _both(lambda lib: _mtls(lib, mtls_server, tls_ca.ca_certs, **files))
    assert outcome == ("error", "MaxRetryError", "SSLError", None)
    with pytest.raises(
        MaxRetryError, match="Client private key is encrypted, password is required"
    ):
        _mtls(pooltest, mtls_server, tls_ca.ca_certs, **files)


def test_encrypted_key_with_wrong_password_is_ssl_error(
    mtls_server: KeepAliveServer, tls_ca: TLSKit
) -> None:
    files = {
        "cert_file": tls_ca.client_cert_file,
        "key_file": tls_ca.client_key_encrypted_file,
        "key_password": "not the password",
    }
    outcome = _both(lambda lib: _mtls(lib, mtls_server, tls_ca.ca_certs, **files))
    assert outcome == ("error", "MaxRetryError", "SSLError", "SSLError")
    assert mtls_server.requests_served == 0


# --- keep-alive, direct connections, PoolManager --------------------------------------------


def test_tls_connection_is_kept_alive(https_server: KeepAliveServer, ca_certs: str) -> None:
    manager = pooltest.PoolManager(ca_certs=ca_certs)
    for _ in range(5):
        response = manager.request("GET", f"https://localhost:{https_server.port}/echo")
        assert json.loads(response.data)["connection_id"] == 0
    assert https_server.connections_accepted == 1


def test_https_connection_used_directly(https_server: KeepAliveServer, ca_certs: str) -> None:
    conn = HTTPSConnection("localhost", https_server.port, ca_certs=ca_certs, timeout=5)
    try:
        assert conn.is_closed
        conn.request("GET", "/echo")
        response = conn.getresponse()
        assert response.status == 200
        assert conn.is_verified
        assert ["Host", f"localhost:{https_server.port}"] in json.loads(response.data)["headers"]
    finally:
        conn.close()
    assert conn.is_closed
    assert not conn.is_verified


def test_pool_manager_keeps_tls_settings_apart(
    https_server: KeepAliveServer, ca_certs: str, wrong_ca_certs: str
) -> None:
    """Different TLS settings for one origin mean different pools (and outcomes)."""
    manager = pooltest.PoolManager(retries=0)
    url = f"https://localhost:{https_server.port}/"
    good = manager.connection_from_url(url, pool_kwargs={"ca_certs": ca_certs})
    bad = manager.connection_from_url(url, pool_kwargs={"ca_certs": wrong_ca_certs})
    assert good is not bad
    assert good.request("GET", "/").status == 200
    with pytest.raises(MaxRetryError):
        bad.request("GET", "/")


# --- IPv6 ------------------------------------------------------------------------------------


def test_ipv6_request_has_bracketed_host_header(ipv6_server: KeepAliveServer) -> None:
    def scenario(lib: ModuleType) -> Any:
        manager = lib.PoolManager(retries=0)
        echo = json.loads(manager.request("GET", f"http://[::1]:{ipv6_server.port}/echo").data)
        return [value for name, value in echo["headers"] if name == "Host"]

    assert _both(scenario) == ("ok", [f"[::1]:{ipv6_server.port}"])


def test_ipv6_pool_takes_bare_or_bracketed_host(ipv6_server: KeepAliveServer) -> None:
    for host in ("::1", "[::1]"):
        pool = pooltest.HTTPConnectionPool(host, ipv6_server.port)
        with pool:
            assert pool.host == "::1"
            echo = json.loads(pool.request("GET", "/echo").data)
        assert ["Host", f"[::1]:{ipv6_server.port}"] in echo["headers"]


def test_ipv6_pools_are_shared_across_spellings(ipv6_server: KeepAliveServer) -> None:
    manager = pooltest.PoolManager()
    for url in (f"http://[::1]:{ipv6_server.port}/", f"http://[0:0::1]:{ipv6_server.port}/"):
        assert manager.request("GET", url).status == 200
    assert ipv6_server.requests_served == 2


@pytest.fixture
def ipv6_https_server(ipv6_server: KeepAliveServer, tls_ca: TLSKit) -> Iterator[KeepAliveServer]:
    """HTTPS origin on ``::1`` (the IPv6 fixture's skip applies: it is requested first)."""
    with KeepAliveServer(host="::1", tls=tls_ca.server_context()) as server:
        yield server


def test_ipv6_https_verifies_ip_address_certificate(
    ipv6_https_server: KeepAliveServer, ca_certs: str
) -> None:
    def scenario(lib: ModuleType) -> Any:
        manager = lib.PoolManager(ca_certs=ca_certs, retries=0)
        response = manager.request("GET", f"https://[::1]:{ipv6_https_server.port}/echo")
        host = [v for n, v in json.loads(response.data)["headers"] if n == "Host"]
        return response.status, host

    assert _both(scenario) == ("ok", (200, [f"[::1]:{ipv6_https_server.port}"]))


def test_ipv6_assert_hostname_literal(ipv6_https_server: KeepAliveServer, ca_certs: str) -> None:
    outcome = _both(
        lambda lib: _get(lib, ipv6_https_server, ca_certs=ca_certs, assert_hostname="::1")
    )
    assert outcome == ("ok", (200, True))
