"""Loopback servers and helpers for pooltest's integration tests (import as ``support``).

* ``origin``: ``KeepAliveServer`` (the HTTP/1.1 origin with every route tests need, documented in
  that module) and ``ServerFarm`` (several origins on distinct ports).
* ``raw``: ``RawServer`` for hand-written, misbehaving connections, plus canned fault handlers.
* ``proxy``: ``ProxyServer``, a forward proxy (absolute-form and CONNECT) to loopback only.
* ``tls``: ``TLSKit``, trustme-made CAs and certificates, and server/client contexts.
* ``guard``: ``LoopbackGuard``, which refuses non-loopback ``connect()`` during the test run.
* ``outcomes``: ``call_outcome``, what a call returned or raised, to compare two implementations.
* ``streams``: ``FailingStream`` and ``save_forever`` for tests that need no server.
* ``_base``: lifecycle and connection tracking shared by the servers; body-framing helpers
  (``read_request``, ``SocketReader``) for raw handlers.

Every server binds 127.0.0.1 (or ::1), starts in a daemon thread on ``start()`` or ``with``, exposes
``host``, ``port``, ``url`` and ``connections_accepted``, and ``stop()`` shuts down every open
connection and joins every thread within ``STOP_TIMEOUT`` seconds.
"""

from __future__ import annotations

from ._base import (
    STOP_TIMEOUT,
    MalformedBody,
    SocketReader,
    ipv6_available,
    is_loopback_host,
    read_request,
)
from .guard import LoopbackGuard, NonLoopbackConnectError
from .origin import (
    ENCODED_PAYLOAD,
    ENCODINGS,
    HAS_BROTLI,
    HAS_ZSTD,
    HEAD_CHECK_BODY,
    HEADERS_ROUTE_FIELDS,
    JSON_BODY,
    KeepAliveServer,
    RequestRecord,
    ServerFarm,
    chunked_body,
    stream_payload,
)
from .outcomes import call_outcome
from .proxy import ProxyRecord, ProxyServer
from .raw import OK_RESPONSE, Handler, RawServer
from .tls import CLIENT_KEY_PASSWORD, WRONG_HOSTNAME, TLSKit, make_tls_kit

__all__ = [
    "CLIENT_KEY_PASSWORD",
    "ENCODED_PAYLOAD",
    "ENCODINGS",
    "HAS_BROTLI",
    "HAS_ZSTD",
    "HEADERS_ROUTE_FIELDS",
    "HEAD_CHECK_BODY",
    "JSON_BODY",
    "OK_RESPONSE",
    "STOP_TIMEOUT",
    "WRONG_HOSTNAME",
    "Handler",
    "KeepAliveServer",
    "LoopbackGuard",
    "MalformedBody",
    "NonLoopbackConnectError",
    "ProxyRecord",
    "ProxyServer",
    "RawServer",
    "RequestRecord",
    "ServerFarm",
    "SocketReader",
    "TLSKit",
    "call_outcome",
    "chunked_body",
    "ipv6_available",
    "is_loopback_host",
    "make_tls_kit",
    "read_request",
    "stream_payload",
]
