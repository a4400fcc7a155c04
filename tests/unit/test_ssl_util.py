"""Tests for pooltest.util.ssl_ and pooltest.util.ssl_match_hostname.

TLS handshakes run over ``socket.socketpair()`` (no ports at all), with certificates from
trustme. Where urllib3 has the same helper, results are compared with it.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import threading
import typing
import warnings
from pathlib import Path

import pytest
import trustme
import urllib3.exceptions as u3exc
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3.util import ssl_ as u3ssl
from urllib3.util import ssl_match_hostname as u3match

from pooltest.exceptions import ProxySchemeUnsupported, SSLError
from pooltest.util import ssl_ as ptssl
from pooltest.util.ssl_ import (
    ALPN_PROTOCOLS,
    HAS_NEVER_CHECK_COMMON_NAME,
    IS_PYOPENSSL,
    assert_fingerprint,
    create_urllib3_context,
    is_ipaddress,
    resolve_cert_reqs,
    resolve_ssl_version,
    ssl_wrap_socket,
)
from pooltest.util.ssl_match_hostname import CertificateError, match_hostname

SERVER_NAMES = ("localhost", "127.0.0.1", "::1", "*.wild.example", "xn--bcher-kva.example")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert(*SERVER_NAMES)


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def server_context(cert: trustme.LeafCert, client_ca: trustme.CA | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    if client_ca is not None:
        ctx.verify_mode = ssl.CERT_REQUIRED
        client_ca.configure_trust(ctx)
    return ctx


class Handshake:
    """Run the server half of a TLS handshake on one end of a socketpair, in a thread."""

    def __init__(self, ctx: ssl.SSLContext) -> None:
        self.client_sock, self._server_sock = socket.socketpair()
        self.client_sock.settimeout(10)
        self._server_sock.settimeout(10)
        self._ctx = ctx
        self.error: BaseException | None = None
        self.peer_cert: typing.Any = None
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        try:
            with self._ctx.wrap_socket(self._server_sock, server_side=True) as tls:
                self.peer_cert = tls.getpeercert()
                tls.recv(1)  # Wait for the client to close.
        except (OSError, ssl.SSLError) as e:
            self.error = e
        finally:
            self._server_sock.close()

    def __enter__(self) -> Handshake:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.client_sock.close()
        self._thread.join(10)
        assert not self._thread.is_alive()


# -- constants ----------------------------------------------------------------------------------


def test_constants() -> None:
    assert IS_PYOPENSSL is False
    assert ALPN_PROTOCOLS == ["http/1.1"]
    assert HAS_NEVER_CHECK_COMMON_NAME == u3ssl.HAS_NEVER_CHECK_COMMON_NAME
    assert ptssl.SSLContext is ssl.SSLContext
    for name in ("PROTOCOL_TLS", "PROTOCOL_TLS_CLIENT", "PROTOCOL_SSLv23", "OP_NO_TICKET"):
        assert getattr(ptssl, name) == getattr(u3ssl, name)
    assert ptssl.HASHFUNC_MAP == u3ssl.HASHFUNC_MAP


# -- create_urllib3_context ---------------------------------------------------------------------


def context_state(ctx: ssl.SSLContext) -> dict[str, typing.Any]:
    return {
        "options": ctx.options,
        "verify_mode": ctx.verify_mode,
        "check_hostname": ctx.check_hostname,
        "minimum_version": ctx.minimum_version,
        "maximum_version": ctx.maximum_version,
        "verify_flags": ctx.verify_flags,
        "hostname_checks_common_name": ctx.hostname_checks_common_name,
        "post_handshake_auth": ctx.post_handshake_auth,
        "protocol": ctx.protocol,
        "ciphers": [c["name"] for c in ctx.get_ciphers()],
        "keylog_filename": ctx.keylog_filename,
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"cert_reqs": ssl.CERT_NONE},
        {"cert_reqs": ssl.CERT_OPTIONAL},
        {"cert_reqs": ssl.CERT_REQUIRED},
        {"options": 0},
        {"options": ssl.OP_NO_TICKET},
        {"ciphers": "ECDHE+AESGCM"},
        {"ssl_minimum_version": ssl.TLSVersion.TLSv1_3},
        {"ssl_maximum_version": ssl.TLSVersion.TLSv1_2},
        {"ssl_version": ssl.PROTOCOL_TLS},
        {"ssl_version": ssl.PROTOCOL_TLS_CLIENT, "ssl_minimum_version": ssl.TLSVersion.TLSv1_3},
        {"verify_flags": ssl.VERIFY_X509_STRICT},
    ],
)
def test_context_matches_urllib3(
    kwargs: dict[str, typing.Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSLKEYLOGFILE", raising=False)
    assert context_state(create_urllib3_context(**kwargs)) == context_state(
        u3ssl.create_urllib3_context(**kwargs)
    )


def test_default_context_is_strict() -> None:
    ctx = create_urllib3_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname is True
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert ctx.hostname_checks_common_name is False
    for flag in (ssl.OP_NO_SSLv3, ssl.OP_NO_COMPRESSION, ssl.OP_NO_TICKET):
        assert ctx.options & flag


def test_legacy_ssl_version_pins_and_warns_like_urllib3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSLKEYLOGFILE", raising=False)
    with pytest.warns(FutureWarning) as ours_warnings:
        ours = create_urllib3_context(ssl_version=ssl.PROTOCOL_TLSv1_2)
    with pytest.warns(FutureWarning) as theirs_warnings:
        theirs = u3ssl.create_urllib3_context(ssl_version=ssl.PROTOCOL_TLSv1_2)
    assert str(ours_warnings[0].message) == str(theirs_warnings[0].message)
    assert ours_warnings[0].filename == __file__
    assert context_state(ours) == context_state(theirs)
    assert ours.minimum_version == ours.maximum_version == ssl.TLSVersion.TLSv1_2


def test_legacy_ssl_version_conflicts_with_bounds() -> None:
    with pytest.raises(ValueError, match="Can't specify both 'ssl_version' and either"):
        create_urllib3_context(
            ssl_version=ssl.PROTOCOL_TLSv1_2, ssl_minimum_version=ssl.TLSVersion.TLSv1_2
        )


def test_keylog_file_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POOLTEST_KEYLOG_DIR", str(tmp_path))
    monkeypatch.setenv("SSLKEYLOGFILE", "$POOLTEST_KEYLOG_DIR/keys.log")
    assert create_urllib3_context().keylog_filename == str(tmp_path / "keys.log")
    monkeypatch.setenv("SSLKEYLOGFILE", "")
    assert create_urllib3_context().keylog_filename is None


# -- resolve_* ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "candidate", [None, "REQUIRED", "CERT_NONE", "OPTIONAL", ssl.CERT_NONE, 2, "NOPE"]
)
def test_resolve_cert_reqs_matches_urllib3(candidate: typing.Any) -> None:
    try:
        theirs = u3ssl.resolve_cert_reqs(candidate)
    except AttributeError:
        with pytest.raises(AttributeError):
            resolve_cert_reqs(candidate)
        return
    assert resolve_cert_reqs(candidate) == theirs


@pytest.mark.parametrize(
    "candidate", [None, "TLS", "PROTOCOL_TLS_CLIENT", "TLSv1_2", ssl.PROTOCOL_TLS, 17, "NOPE"]
)
def test_resolve_ssl_version_matches_urllib3(candidate: typing.Any) -> None:
    try:
        theirs = u3ssl.resolve_ssl_version(candidate)
    except AttributeError:
        with pytest.raises(AttributeError):
            resolve_ssl_version(candidate)
        return
    assert resolve_ssl_version(candidate) == theirs


# -- assert_fingerprint -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def der(server_cert: trustme.LeafCert) -> bytes:
    return ssl.PEM_cert_to_DER_cert(server_cert.cert_chain_pems[0].bytes().decode())


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha256"])
def test_fingerprint_accepts_matching_digest(der: bytes, algorithm: str) -> None:
    digest = hashlib.new(algorithm, der).hexdigest()
    assert_fingerprint(der, digest)
    assert_fingerprint(der, digest.upper())
    assert_fingerprint(der, ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)))


def fingerprint_error(
    func: typing.Callable[[bytes | None, str], None], cert: bytes | None, fp: str
) -> str:
    with pytest.raises((SSLError, u3exc.SSLError)) as info:
        func(cert, fp)
    return str(info.value)


@pytest.mark.parametrize(
    "fingerprint",
    [
        "00" * 32,
        "AA:" * 19 + "AA",
        "abc",
        "zz" * 16,
        "",
    ],
)
def test_fingerprint_errors_match_urllib3(der: bytes, fingerprint: str) -> None:
    ours = fingerprint_error(assert_fingerprint, der, fingerprint)
    assert ours == fingerprint_error(u3ssl.assert_fingerprint, der, fingerprint)


def test_fingerprint_without_certificate() -> None:
    with pytest.raises(SSLError, match=r"No certificate for the peer\."):
        assert_fingerprint(None, "00" * 32)


# -- is_ipaddress -------------------------------------------------------------------------------

IP_EXAMPLES = [
    "127.0.0.1",
    "1",
    "0x7f.1",
    "1.2.3.4.5",
    "999.999.999.999",
    "::1",
    "::",
    "fe80::1%eth0",
    "fe80::1%25eth0",
    "fe80::1%",
    "2001:db8::1:2:3:4:5",
    "2001:db8:0:0:0:0:0:1",
    "1:2:3:4:5:6:7:8:9",
    "::ffff:1.2.3.4",
    "[::1]",
    "localhost",
    "example.com",
    "",
    "127.0.0.1\n",
    b"127.0.0.1",
    b"example.com",
]


@pytest.mark.parametrize("value", IP_EXAMPLES)
def test_is_ipaddress_matches_urllib3(value: str | bytes) -> None:
    assert is_ipaddress(value) == u3ssl.is_ipaddress(value)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789abcdefABxX.:%25_-~[]g ", max_size=45))
def test_is_ipaddress_fuzz_against_urllib3(value: str) -> None:
    assert is_ipaddress(value) == u3ssl.is_ipaddress(value)


# -- ssl_wrap_socket ----------------------------------------------------------------------------


def test_wrap_socket_verifies_with_ca_file(server_cert: trustme.LeafCert, ca_file: str) -> None:
    with Handshake(server_context(server_cert)) as hs:
        tls = ssl_wrap_socket(hs.client_sock, ca_certs=ca_file, server_hostname="localhost")
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
        assert tls.selected_alpn_protocol() in (None, "http/1.1")
        match_hostname(tls.getpeercert(), "localhost")  # type: ignore[arg-type]
        tls.close()


def test_wrap_socket_verifies_with_ca_data(ca: trustme.CA, server_cert: trustme.LeafCert) -> None:
    with Handshake(server_context(server_cert)) as hs:
        tls = ssl_wrap_socket(
            hs.client_sock, ca_cert_data=ca.cert_pem.bytes().decode(), server_hostname="127.0.0.1"
        )
        tls.close()


def test_wrap_socket_rejects_unknown_ca(server_cert: trustme.LeafCert) -> None:
    other = trustme.CA()
    with Handshake(server_context(server_cert)) as hs, pytest.raises(ssl.SSLCertVerificationError):
        ssl_wrap_socket(
            hs.client_sock,
            ca_cert_data=other.cert_pem.bytes().decode(),
            server_hostname="localhost",
        )


def test_wrap_socket_rejects_wrong_hostname(server_cert: trustme.LeafCert, ca_file: str) -> None:
    with Handshake(server_context(server_cert)) as hs, pytest.raises(ssl.SSLCertVerificationError):
        ssl_wrap_socket(hs.client_sock, ca_certs=ca_file, server_hostname="example.org")


def test_wrap_socket_with_given_context_and_client_cert(
    ca: trustme.CA, server_cert: trustme.LeafCert, tmp_path: Path
) -> None:
    client_ca = trustme.CA()
    client_cert = client_ca.issue_cert("client@example.org", common_name="pooltest client")
    cert_path = tmp_path / "client.pem"
    client_cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    ctx = create_urllib3_context()
    ca.configure_trust(ctx)
    with Handshake(server_context(server_cert, client_ca=client_ca)) as hs:
        tls = ssl_wrap_socket(
            hs.client_sock, certfile=str(cert_path), ssl_context=ctx, server_hostname="localhost"
        )
        tls.sendall(b"x")
        tls.close()
    assert hs.error is None
    subject = dict(rdn[0] for rdn in hs.peer_cert["subject"])
    assert subject["commonName"] == "pooltest client"


def test_wrap_socket_encrypted_key_needs_password(
    server_cert: trustme.LeafCert, tmp_path: Path
) -> None:
    key = serialization.load_pem_private_key(server_cert.private_key_pem.bytes(), password=None)
    key_path = tmp_path / "key.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    cert_path = tmp_path / "cert.pem"
    server_cert.cert_chain_pems[0].write_to_path(str(cert_path))
    a, b = socket.socketpair()
    with a, b:
        ctx = create_urllib3_context(cert_reqs=ssl.CERT_NONE)
        with pytest.raises(SSLError, match="Client private key is encrypted, password is required"):
            ssl_wrap_socket(a, keyfile=str(key_path), certfile=str(cert_path), ssl_context=ctx)
        with pytest.raises(ssl.SSLError):
            ssl_wrap_socket(
                a,
                keyfile=str(key_path),
                certfile=str(cert_path),
                key_password="wrong",
                ssl_context=ctx,
            )
        # The right password loads the key; the handshake then fails only for lack of a peer.
        b.close()
        with pytest.raises(OSError):  # noqa: PT011 - any socket error: the peer is gone.
            ssl_wrap_socket(
                a,
                keyfile=str(key_path),
                certfile=str(cert_path),
                key_password="secret",
                ssl_context=ctx,
            )


def test_wrap_socket_missing_ca_file_is_ssl_error(tmp_path: Path) -> None:
    a, b = socket.socketpair()
    with a, b, pytest.raises(SSLError):
        ssl_wrap_socket(a, ca_certs=str(tmp_path / "missing.pem"))


def test_wrap_socket_refuses_tls_in_tls() -> None:
    a, b = socket.socketpair()
    with a, b, pytest.raises(ProxySchemeUnsupported):
        ssl_wrap_socket(a, tls_in_tls=True, ssl_context=create_urllib3_context())


# -- match_hostname -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def peer_cert(server_cert: trustme.LeafCert, ca_file: str) -> dict[str, typing.Any]:
    with Handshake(server_context(server_cert)) as hs:
        tls = ssl_wrap_socket(hs.client_sock, ca_certs=ca_file, server_hostname="localhost")
        cert = tls.getpeercert()
        tls.close()
    assert cert
    return dict(cert)


@pytest.mark.parametrize(
    "hostname",
    [
        "localhost",
        "LOCALHOST",
        "127.0.0.1",
        "::1",
        "0:0::1",
        "a.wild.example",
        "A.Wild.Example",
        "xn--bcher-kva.example",
    ],
)
def test_trustme_cert_matches(peer_cert: dict[str, typing.Any], hostname: str) -> None:
    match_hostname(peer_cert, hostname)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "hostname",
    ["example.org", "wild.example", "a.b.wild.example", "127.0.0.2", "::2", "localhost.", "local"],
)
def test_trustme_cert_mismatches_like_urllib3(
    peer_cert: dict[str, typing.Any], hostname: str
) -> None:
    with pytest.raises(CertificateError) as ours:
        match_hostname(peer_cert, hostname)  # type: ignore[arg-type]
    with pytest.raises(u3match.CertificateError) as theirs:
        u3match.match_hostname(peer_cert, hostname)  # type: ignore[arg-type]
    assert str(ours.value) == str(theirs.value)
    assert "doesn't match either of 'localhost'" in str(ours.value)


def test_certificate_error_is_value_error() -> None:
    assert issubclass(CertificateError, ValueError)


@pytest.mark.parametrize("cert", [None, {}])
def test_empty_certificate_is_value_error(cert: typing.Any) -> None:
    with pytest.raises(ValueError, match="empty or no certificate") as info:
        match_hostname(cert, "example.com")
    assert not isinstance(info.value, CertificateError)


def dns_cert(*names: str, cn: str | None = None) -> dict[str, typing.Any]:
    cert: dict[str, typing.Any] = {"subjectAltName": tuple(("DNS", n) for n in names)}
    if cn is not None:
        cert["subject"] = ((("countryName", "XX"),), (("commonName", cn),))
    return cert


HAND_BUILT = [
    (dns_cert("example.com"), "example.com"),
    (dns_cert("example.com"), "EXAMPLE.com"),
    (dns_cert("*.example.com"), "www.example.com"),
    (dns_cert("*.example.com"), "example.com"),
    (dns_cert("*.example.com"), ".example.com"),
    (dns_cert("*.example.com"), "a.b.example.com"),
    (dns_cert("w*.example.com"), "www.example.com"),
    (dns_cert("w*.example.com"), "w.example.com"),
    (dns_cert("*w.example.com"), "www.example.com"),
    (dns_cert("w*w.example.com"), "ww.example.com"),
    (dns_cert("w*w.example.com"), "w.example.com"),
    (dns_cert("w*.example.com"), "xw.example.com"),
    (dns_cert("**.example.com"), "www.example.com"),
    (dns_cert("www.*.com"), "www.example.com"),
    (dns_cert("www.*.com"), "www.*.com"),
    (dns_cert("xn--*.example.com"), "xn--abc.example.com"),
    (dns_cert("xn--*.example.com"), "xn--*.example.com"),
    (dns_cert("x*.example.com"), "xn--abc.example.com"),
    (dns_cert("*"), "localhost"),
    (dns_cert("*."), "a."),
    (dns_cert(""), ""),
    (dns_cert(), "example.com"),
    (dns_cert("a.com", "b.com"), "c.com"),
    (dns_cert("a.com", "**.b.com"), "c.com"),
    (dns_cert("**.b.com", "a.com"), "a.com"),
    (dns_cert(cn="example.com"), "example.com"),
    (dns_cert("other.com", cn="example.com"), "example.com"),
    ({"subjectAltName": (("IP Address", "10.0.0.1\n"),)}, "10.0.0.1"),
    ({"subjectAltName": (("IP Address", "2001:DB8::1"),)}, "2001:db8:0::1"),
    ({"subjectAltName": (("IP Address", "10.0.0.1"), ("DNS", "10.0.0.2"))}, "10.0.0.2"),
    ({"subjectAltName": (("email", "a@b"), ("DNS", "x.com"))}, "x.com"),
    ({"subjectAltName": (("IP Address", "not-an-ip"),)}, "10.0.0.1"),
    ({"subject": ((("commonName", "10.0.0.1"),),)}, "10.0.0.1"),
]


def outcome(func: typing.Callable[..., None], *args: typing.Any) -> tuple[str, str]:
    try:
        func(*args)
    except ValueError as e:
        return type(e).__name__, str(e)
    return "ok", ""


@pytest.mark.parametrize("checks_cn", [False, True])
@pytest.mark.parametrize(("cert", "hostname"), HAND_BUILT)
def test_hand_built_certs_match_urllib3(cert: typing.Any, hostname: str, checks_cn: bool) -> None:
    ours = outcome(match_hostname, cert, hostname, checks_cn)
    assert ours == outcome(u3match.match_hostname, cert, hostname, checks_cn)


def test_common_name_only_when_asked() -> None:
    cert = dns_cert(cn="example.com")
    match_hostname(cert, "example.com", hostname_checks_common_name=True)  # type: ignore[arg-type]
    with pytest.raises(CertificateError, match="no appropriate subjectAltName"):
        match_hostname(cert, "example.com")  # type: ignore[arg-type]


label = st.text(alphabet="abcxn-*", min_size=0, max_size=6)
dns_names = st.lists(label, min_size=1, max_size=4).map(".".join)
host_names = st.lists(st.text(alphabet="abcxnABC-*", max_size=6), min_size=1, max_size=4).map(
    ".".join
)


@settings(max_examples=1000, deadline=None)
@given(names=st.lists(dns_names, max_size=3), hostname=host_names, checks_cn=st.booleans())
def test_match_hostname_fuzz_against_urllib3(
    names: list[str], hostname: str, checks_cn: bool
) -> None:
    cert = (
        dns_cert(*names, cn=names[0] if names and checks_cn else None)
        if names
        else dns_cert(cn=hostname)
    )
    ours = outcome(match_hostname, cert, hostname, checks_cn)
    assert ours == outcome(u3match.match_hostname, cert, hostname, checks_cn)


def test_no_warnings_on_import() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        create_urllib3_context()
