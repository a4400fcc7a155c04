"""TLS helpers: the default client context, socket wrapping and certificate pinning.

:func:`create_urllib3_context` builds the :class:`ssl.SSLContext` every HTTPS connection starts
from: TLS 1.2 or newer, no SSLv2/SSLv3, no TLS compression, no session tickets, certificate
and host name verification on (unless ``cert_reqs`` says otherwise), post-handshake
authentication allowed, and ``SSLKEYLOGFILE`` honoured for debugging with packet captures. The
legacy ``ssl_version`` argument is translated into a minimum/maximum version pair.

:func:`ssl_wrap_socket` loads CA and client certificates into a context and runs the handshake
(with SNI and ALPN ``http/1.1``). :func:`assert_fingerprint` pins a peer certificate by its
MD5, SHA-1 or SHA-256 digest, told apart by the length of the hex string.

TLS inside TLS (an HTTPS request tunnelled through an HTTPS proxy) is not supported: asking for
it raises :class:`~pooltest.exceptions.ProxySchemeUnsupported`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import socket
import ssl
import sys
import typing
import warnings
from binascii import Error as BinasciiError
from binascii import unhexlify
from ssl import (
    CERT_REQUIRED,
    OP_NO_COMPRESSION,
    OP_NO_TICKET,
    OPENSSL_VERSION,
    PROTOCOL_TLS,
    PROTOCOL_TLS_CLIENT,
    VERIFY_X509_PARTIAL_CHAIN,
    VERIFY_X509_STRICT,
    OP_NO_SSLv2,
    OP_NO_SSLv3,
    SSLContext,
    TLSVersion,
)

from pooltest.exceptions import ProxySchemeUnsupported, SSLError

if typing.TYPE_CHECKING:
    from typing import TypedDict

    class _TYPE_PEER_CERT_RET_DICT(TypedDict, total=False):
        subjectAltName: tuple[tuple[str, str], ...]
        subject: tuple[tuple[tuple[str, str], ...], ...]
        serialNumber: str


__all__ = [
    "ALPN_PROTOCOLS",
    "HASHFUNC_MAP",
    "HAS_NEVER_CHECK_COMMON_NAME",
    "IS_PYOPENSSL",
    "OP_NO_COMPRESSION",
    "OP_NO_TICKET",
    "PROTOCOL_TLS",
    "PROTOCOL_TLS_CLIENT",
    "OP_NO_SSLv2",
    "OP_NO_SSLv3",
    "PROTOCOL_SSLv23",
    "SSLContext",
    "assert_fingerprint",
    "create_urllib3_context",
    "is_ipaddress",
    "resolve_cert_reqs",
    "resolve_ssl_version",
    "ssl_wrap_socket",
]

#: Always False: pooltest uses the standard library's ssl module, never pyOpenSSL.
IS_PYOPENSSL = False
#: Protocols offered through ALPN.
ALPN_PROTOCOLS = ["http/1.1"]
#: The legacy name of :data:`ssl.PROTOCOL_TLS`.
PROTOCOL_SSLv23 = PROTOCOL_TLS

#: Whether ``SSLContext.hostname_checks_common_name = False`` is honoured. LibreSSL claims the
#: feature but still accepts certificates that only carry a commonName.
HAS_NEVER_CHECK_COMMON_NAME: bool = ssl.HAS_NEVER_CHECK_COMMON_NAME and OPENSSL_VERSION.startswith(
    "OpenSSL "
)

_TYPE_PEER_CERT_RET = typing.Union["_TYPE_PEER_CERT_RET_DICT", bytes, None]

#: Digest functions by the length of their hex digest, for :func:`assert_fingerprint`.
HASHFUNC_MAP: dict[int, typing.Callable[..., typing.Any] | None] = {
    length: getattr(hashlib, name, None)
    for length, name in ((32, "md5"), (40, "sha1"), (64, "sha256"))
}

# Exact legacy protocol constants, mapped to the TLS version they pin.
_SSL_VERSION_TO_TLS_VERSION: dict[int, TLSVersion] = {
    getattr(ssl, f"PROTOCOL_{name}"): getattr(TLSVersion, name)
    for name in ("TLSv1", "TLSv1_1", "TLSv1_2")
    if hasattr(ssl, f"PROTOCOL_{name}")
}

# IP address syntax as URLs allow it (RFC 3986), without brackets. IPv4 is loose on purpose: one
# to four dot-separated decimal or 0x-hex numbers (the shapes inet_aton() parses), with no range
# check, so anything that looks like an address is never sent as an SNI host name.
_IPV4_LOOSE = r"(?:0[xX][0-9a-fA-F]+|[0-9]+)(?:\.(?:0[xX][0-9a-fA-F]+|[0-9]+)){0,3}"
_H16 = "[0-9A-Fa-f]{1,4}"
_LS32 = rf"(?:{_H16}:{_H16}|(?:[0-9]{{1,3}}\.){{3}}[0-9]{{1,3}})"


def _ipv6_pattern() -> str:
    """The RFC 3986 ``IPv6address`` rule: full form, or ``::`` after at most i groups."""
    tails = [f"(?:{_H16}:){{{5 - i}}}{_LS32}" for i in range(6)] + [_H16, ""]
    forms = [f"(?:{_H16}:){{6}}{_LS32}", f"::{tails[0]}"]
    forms += [f"(?:(?:{_H16}:){{0,{i - 1}}}{_H16})?::{tails[i]}" for i in range(1, 8)]
    return "(?:" + "|".join(forms) + ")"


_ZONE_ID = r"(?:%25|%)(?:[A-Za-z0-9._\-~]|%[a-fA-F0-9]{2})+"
_IPV4_RE = re.compile(f"^{_IPV4_LOOSE}$")
_IPV6_ZONE_RE = re.compile(f"^{_ipv6_pattern()}(?:{_ZONE_ID})?$")


def assert_fingerprint(cert: bytes | None, fingerprint: str) -> None:
    """Raise :class:`~pooltest.exceptions.SSLError` unless ``cert`` (DER bytes) has this digest.

    ``fingerprint`` is hex, optionally with colons; its length picks MD5 (32), SHA-1 (40) or
    SHA-256 (64). Comparison is constant-time.
    """
    if cert is None:
        raise SSLError("No certificate for the peer.")
    fingerprint = fingerprint.replace(":", "").lower()
    digest_length = len(fingerprint)
    if digest_length not in HASHFUNC_MAP:
        raise SSLError(f"Fingerprint of invalid length: {fingerprint}")
    hashfunc = HASHFUNC_MAP[digest_length]
    if hashfunc is None:
        raise SSLError(
            f"Hash function implementation unavailable for fingerprint length: {digest_length}"
        )
    try:
        expected = unhexlify(fingerprint.encode())
    except BinasciiError as e:
        raise SSLError(e) from e
    actual: bytes = hashfunc(cert).digest()
    if not hmac.compare_digest(actual, expected):
        raise SSLError(
            f'Fingerprints did not match. Expected "{fingerprint}", got "{actual.hex()}"'
        )


def resolve_cert_reqs(candidate: int | str | None) -> ssl.VerifyMode:
    """Turn ``cert_reqs`` into an :class:`ssl.VerifyMode`: None means ``CERT_REQUIRED``; a
    string names an ``ssl`` constant, with or without its ``CERT_`` prefix."""
    if candidate is None:
        return CERT_REQUIRED
    if isinstance(candidate, str):
        res = getattr(ssl, candidate, None)
        if res is None:
            res = getattr(ssl, "CERT_" + candidate)
        return typing.cast("ssl.VerifyMode", res)
    return typing.cast("ssl.VerifyMode", candidate)


def resolve_ssl_version(candidate: int | str | None) -> int:
    """Turn ``ssl_version`` into a protocol constant: None means ``PROTOCOL_TLS``; a string
    names an ``ssl`` constant, with or without its ``PROTOCOL_`` prefix."""
    if candidate is None:
        return PROTOCOL_TLS
    if isinstance(candidate, str):
        res = getattr(ssl, candidate, None)
        if res is None:
            res = getattr(ssl, "PROTOCOL_" + candidate)
        return typing.cast(int, res)
    return candidate


def _versions_from_legacy(
    ssl_version: int | None, minimum: int | None, maximum: int | None
) -> tuple[int | None, int | None]:
    """Translate an exact legacy ``ssl_version`` into (minimum, maximum) TLS versions."""
    if ssl_version in (None, PROTOCOL_TLS, PROTOCOL_TLS_CLIENT):
        return minimum, maximum
    if minimum is not None or maximum is not None:
        raise ValueError(
            "Can't specify both 'ssl_version' and either "
            "'ssl_minimum_version' or 'ssl_maximum_version'"
        )
    warnings.warn(
        "'ssl_version' option is deprecated and will be removed in urllib3 v3.0. "
        "Instead use 'ssl_minimum_version'",
        category=FutureWarning,
        stacklevel=3,
    )
    pinned = _SSL_VERSION_TO_TLS_VERSION.get(ssl_version)
    return (
        pinned or TLSVersion.MINIMUM_SUPPORTED,
        pinned or TLSVersion.MAXIMUM_SUPPORTED,
    )


def _default_options() -> int:
    return OP_NO_SSLv2 | OP_NO_SSLv3 | OP_NO_COMPRESSION | OP_NO_TICKET


def _default_verify_flags() -> int:
    # Python 3.13's ssl.create_default_context() turns these on; match it there.
    if sys.version_info >= (3, 13):
        return VERIFY_X509_PARTIAL_CHAIN | VERIFY_X509_STRICT
    return 0


def create_urllib3_context(
    ssl_version: int | None = None,
    cert_reqs: int | None = None,
    options: int | None = None,
    ciphers: str | None = None,
    ssl_minimum_version: int | None = None,
    ssl_maximum_version: int | None = None,
    verify_flags: int | None = None,
) -> ssl.SSLContext:
    """Build a client :class:`ssl.SSLContext` with pooltest's defaults.

    :param ssl_version: deprecated; an exact ``PROTOCOL_*`` constant pins that TLS version
        (FutureWarning). Cannot be combined with the two version bounds.
    :param cert_reqs: verification mode, ``ssl.CERT_REQUIRED`` by default; host names are
        checked only when it is ``CERT_REQUIRED``.
    :param options: OpenSSL options to add; by default no SSLv2, SSLv3, compression or tickets.
    :param ciphers: an OpenSSL cipher string; by default the system's.
    :param ssl_minimum_version: lowest :class:`ssl.TLSVersion`, TLS 1.2 by default.
    :param ssl_maximum_version: highest :class:`ssl.TLSVersion`.
    :param verify_flags: certificate verification flags to add (on Python 3.13+ the default
        adds ``VERIFY_X509_PARTIAL_CHAIN`` and ``VERIFY_X509_STRICT``).
    """
    minimum, maximum = _versions_from_legacy(ssl_version, ssl_minimum_version, ssl_maximum_version)
    context = SSLContext(PROTOCOL_TLS_CLIENT)
    context.minimum_version = TLSVersion(minimum) if minimum is not None else TLSVersion.TLSv1_2
    if maximum is not None:
        context.maximum_version = TLSVersion(maximum)
    if ciphers:
        context.set_ciphers(ciphers)
    context.options |= _default_options() if options is None else options
    context.verify_flags |= _default_verify_flags() if verify_flags is None else verify_flags
    if getattr(context, "post_handshake_auth", None) is not None:
        context.post_handshake_auth = True
    _set_verification(context, CERT_REQUIRED if cert_reqs is None else cert_reqs)
    context.hostname_checks_common_name = False
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog is not None and (keylog := os.path.expandvars(keylog)):
        context.keylog_filename = keylog
    return context


def _set_verification(context: ssl.SSLContext, cert_reqs: int) -> None:
    """Set verify_mode and check_hostname in the only order ssl accepts for each direction."""
    if cert_reqs == CERT_REQUIRED:
        context.verify_mode = CERT_REQUIRED
        context.check_hostname = True
    else:
        context.check_hostname = False
        context.verify_mode = ssl.VerifyMode(cert_reqs)


def ssl_wrap_socket(
    sock: socket.socket,
    keyfile: str | None = None,
    certfile: str | None = None,
    cert_reqs: int | None = None,
    ca_certs: str | None = None,
    server_hostname: str | None = None,
    ssl_version: int | None = None,
    ciphers: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    ca_cert_dir: str | None = None,
    key_password: str | None = None,
    ca_cert_data: str | bytes | None = None,
    tls_in_tls: bool = False,
) -> ssl.SSLSocket:
    """Run the TLS handshake on ``sock`` and return the TLS socket.

    Uses ``ssl_context``, or a new :func:`create_urllib3_context` (built from ``ssl_version``,
    ``cert_reqs`` and ``ciphers``, and loaded with the system's CAs when no CA is given).
    ``ca_certs`` (file), ``ca_cert_dir`` (OpenSSL hashed directory) and ``ca_cert_data`` (PEM
    or DER) add trust anchors; ``certfile``/``keyfile``/``key_password`` present a client
    certificate. ``server_hostname`` is sent as SNI and checked when the context checks host
    names. Raises :class:`~pooltest.exceptions.SSLError` for unreadable CA files or an
    encrypted key without a password, and
    :class:`~pooltest.exceptions.ProxySchemeUnsupported` for ``tls_in_tls``.
    """
    if tls_in_tls:
        raise ProxySchemeUnsupported(
            "TLS in TLS (an HTTPS destination through an HTTPS proxy) is not supported"
        )
    context = ssl_context
    if context is None:
        context = create_urllib3_context(ssl_version, cert_reqs, ciphers=ciphers)
    if ca_certs or ca_cert_dir or ca_cert_data:
        try:
            context.load_verify_locations(ca_certs, ca_cert_dir, ca_cert_data)
        except OSError as e:
            raise SSLError(e) from e
    elif ssl_context is None:
        context.load_default_certs()
    if keyfile and key_password is None and _is_key_file_encrypted(keyfile):
        raise SSLError("Client private key is encrypted, password is required")
    if certfile:
        context.load_cert_chain(certfile, keyfile, key_password)
    context.set_alpn_protocols(ALPN_PROTOCOLS)
    return context.wrap_socket(sock, server_hostname=server_hostname)


def is_ipaddress(hostname: str | bytes) -> bool:
    """True if ``hostname`` is an IPv4 or IPv6 address (IPv6 without brackets, zone ID
    allowed), as URL syntax defines them."""
    if isinstance(hostname, bytes):
        hostname = hostname.decode("ascii")
    return bool(_IPV4_RE.match(hostname) or _IPV6_ZONE_RE.match(hostname))


def _is_key_file_encrypted(key_file: str) -> bool:
    """True if a PEM key file is encrypted (OpenSSL would otherwise prompt on the terminal)."""
    with open(key_file) as f:
        return any("ENCRYPTED" in line for line in f)
