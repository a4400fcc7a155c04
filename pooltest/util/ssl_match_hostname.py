"""Certificate host name checking, for when the TLS library's own check is switched off.

The standard library dropped ``ssl.match_hostname`` in Python 3.12; pooltest needs one when a
caller asks for ``assert_hostname`` (checking the certificate against a name other than the one
connected to). :func:`match_hostname` follows RFC 6125 and RFC 9110 section 4.3.4:

* a host name is compared with every ``DNS`` entry of the certificate's subjectAltName, an IP
  address with every ``IP Address`` entry (by value, so ``::1`` matches ``0:0::1``);
* a wildcard is honoured only in the left-most label and only once: ``*`` stands for one whole
  non-empty label, ``ab*`` or ``*cd`` for part of one; it never spans dots and is taken
  literally in internationalised (``xn--``) labels;
* the subject's commonName is consulted only when asked for, only for host names, and only
  when the certificate has no subjectAltName names at all.

Comparisons ignore case. The wildcard match is done label by label, without building a regular
expression per certificate name.
"""

from __future__ import annotations

import ipaddress
import typing

if typing.TYPE_CHECKING:
    from pooltest.util.ssl_ import _TYPE_PEER_CERT_RET_DICT

__all__ = ["CertificateError", "match_hostname"]

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class CertificateError(ValueError):
    """The certificate does not match the expected host name."""


def _wildcard_label_match(pattern: str, label: str) -> bool:
    """Match one host label against a left-most certificate label holding one ``*``."""
    if pattern == "*":
        return label != ""
    prefix, _, suffix = pattern.lower().partition("*")
    label = label.lower()
    return (
        len(label) >= len(prefix) + len(suffix)
        and label.startswith(prefix)
        and label.endswith(suffix)
    )


def _dnsname_match(dn: str, hostname: str, max_wildcards: int = 1) -> bool:
    """Does the certificate name ``dn`` cover ``hostname``?

    Raises :class:`CertificateError` if the left-most label of ``dn`` holds more than
    ``max_wildcards`` wildcards (refusing such names avoids pathological matching).
    """
    if not dn:
        return False
    leftmost, dot, remainder = dn.partition(".")
    wildcards = leftmost.count("*")
    if wildcards > max_wildcards:
        raise CertificateError("too many wildcards in certificate DNS name: " + repr(dn))
    if not wildcards:
        return dn.lower() == hostname.lower()
    host_leftmost, host_dot, host_remainder = hostname.partition(".")
    if dot != host_dot or remainder.lower() != host_remainder.lower():
        return False
    if leftmost != "*" and (leftmost.startswith("xn--") or hostname.startswith("xn--")):
        return leftmost.lower() == host_leftmost.lower()
    return _wildcard_label_match(leftmost, host_leftmost)


def _ipaddress_match(ipname: str, host_ip: _IPAddress) -> bool:
    """Does the certificate's ``IP Address`` entry equal ``host_ip``?"""
    # Some OpenSSL versions leave a trailing newline on these entries.
    return ipaddress.ip_address(ipname.rstrip()).packed == host_ip.packed


def _parse_ip(hostname: str) -> _IPAddress | None:
    try:
        return ipaddress.ip_address(hostname)
    except ValueError:
        return None


def _common_names(cert: _TYPE_PEER_CERT_RET_DICT) -> typing.Iterator[str]:
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                yield value


def match_hostname(
    cert: _TYPE_PEER_CERT_RET_DICT | None,
    hostname: str,
    hostname_checks_common_name: bool = False,
) -> None:
    """Return if ``cert`` (as given by ``SSLSocket.getpeercert()``) is valid for ``hostname``.

    Raises :class:`CertificateError` naming the certificate's names when it is not, and
    ``ValueError`` when there is no certificate (an unverified socket returns an empty dict).
    """
    if not cert:
        raise ValueError(
            "empty or no certificate, match_hostname needs a SSL socket or SSL context with "
            "either CERT_OPTIONAL or CERT_REQUIRED"
        )
    host_ip = _parse_ip(hostname)
    names: list[str] = []
    for key, value in cert.get("subjectAltName", ()):
        if key == "DNS":
            if host_ip is None and _dnsname_match(value, hostname):
                return
            names.append(value)
        elif key == "IP Address":
            if host_ip is not None and _ipaddress_match(value, host_ip):
                return
            names.append(value)
    if hostname_checks_common_name and host_ip is None and not names:
        for value in _common_names(cert):
            if _dnsname_match(value, hostname):
                return
            names.append(value)
    _raise_mismatch(hostname, names)


def _raise_mismatch(hostname: str, names: list[str]) -> typing.NoReturn:
    if len(names) > 1:
        listed = ", ".join(map(repr, names))
        raise CertificateError(f"hostname {hostname!r} doesn't match either of {listed}")
    if names:
        raise CertificateError(f"hostname {hostname!r} doesn't match {names[0]!r}")
    raise CertificateError("no appropriate subjectAltName fields were found")
