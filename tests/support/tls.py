"""TLS material for the HTTPS test servers, made with ``trustme`` (nothing leaves the process).

``make_tls_kit(directory)`` builds, once per test session:

* a CA (``ca``; its PEM bundle at ``ca_certs``) and a server certificate for ``localhost``,
  ``127.0.0.1`` and ``::1`` (``server_cert``);
* a second, unrelated CA (``wrong_ca``, bundle at ``wrong_ca_certs``) for verification failures;
* a certificate from the right CA for another name (``wrong_host_cert``, for ``WRONG_HOSTNAME``)
  for hostname-mismatch failures;
* a client certificate from the CA: ``client_cert_file`` (certificate chain), ``client_key_file``
  (unencrypted key), ``client_key_encrypted_file`` (key encrypted with
  ``CLIENT_KEY_PASSWORD``) and ``client_combined_file`` (key and chain in one file).

``server_context`` turns a certificate into a server ``SSLContext``, optionally demanding a client
certificate signed by the CA (mutual TLS); ``client_context`` is a client context trusting the CA,
for tests that talk to the servers with the stdlib.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography.hazmat.primitives import serialization

__all__ = [
    "CLIENT_KEY_PASSWORD",
    "SERVER_IDENTITIES",
    "WRONG_HOSTNAME",
    "TLSKit",
    "make_tls_kit",
]

SERVER_IDENTITIES = ("localhost", "127.0.0.1", "::1")
WRONG_HOSTNAME = "wrong-host.pooltest.invalid"
CLIENT_KEY_PASSWORD = "pooltest-client-key"


@dataclass(frozen=True)
class TLSKit:
    """Certificates, keys and bundle paths for one test session (see the module docstring)."""

    ca: trustme.CA
    server_cert: trustme.LeafCert
    ca_certs: str
    wrong_ca: trustme.CA
    wrong_ca_certs: str
    wrong_host_cert: trustme.LeafCert
    client_cert: trustme.LeafCert
    client_cert_file: str
    client_key_file: str
    client_key_encrypted_file: str
    client_combined_file: str

    def server_context(
        self, cert: trustme.LeafCert | None = None, require_client_cert: bool = False
    ) -> ssl.SSLContext:
        """Server context presenting ``cert`` (default ``server_cert``).

        With ``require_client_cert`` the handshake fails unless the client presents a
        certificate issued by ``ca``.
        """
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        (cert or self.server_cert).configure_cert(context)
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            self.ca.configure_trust(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Client context that trusts ``ca`` and checks hostnames."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def _chain(cert: trustme.LeafCert) -> bytes:
    return b"".join(blob.bytes() for blob in cert.cert_chain_pems)


def _encrypted_key(cert: trustme.LeafCert) -> bytes:
    key = serialization.load_pem_private_key(cert.private_key_pem.bytes(), password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(CLIENT_KEY_PASSWORD.encode()),
    )


def make_tls_kit(directory: Path) -> TLSKit:
    """Create the CAs and certificates and write the PEM files into ``directory``."""
    ca = trustme.CA()
    wrong_ca = trustme.CA()
    client_cert = ca.issue_cert("client.pooltest.invalid")
    return TLSKit(
        ca=ca,
        server_cert=ca.issue_cert(*SERVER_IDENTITIES),
        ca_certs=_write(directory / "ca.pem", ca.cert_pem.bytes()),
        wrong_ca=wrong_ca,
        wrong_ca_certs=_write(directory / "wrong-ca.pem", wrong_ca.cert_pem.bytes()),
        wrong_host_cert=ca.issue_cert(WRONG_HOSTNAME),
        client_cert=client_cert,
        client_cert_file=_write(directory / "client-cert.pem", _chain(client_cert)),
        client_key_file=_write(directory / "client-key.pem", client_cert.private_key_pem.bytes()),
        client_key_encrypted_file=_write(
            directory / "client-key-encrypted.pem", _encrypted_key(client_cert)
        ),
        client_combined_file=_write(
            directory / "client-combined.pem", client_cert.private_key_and_cert_chain_pem.bytes()
        ),
    )
