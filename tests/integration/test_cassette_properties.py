"""Round-trip properties of cassettes: what is replayed is byte for byte what was recorded.

* D5 - hypothesis draws a short conversation: requests with random methods (the usual ones and
  invented tokens), header fields with duplicates and odd letter case, text or binary bodies;
  and for each the response a scripted raw server sends: random status and reason (also an empty
  one), duplicate header fields, text or binary body, optionally gzip/deflate content-coding,
  framed by Content-Length, chunked encoding (in random pieces) or the end of the connection.
  The conversation runs live through urllib3, then through pooltest recording, and then, with the
  server stopped, through pooltest replaying. Status, reason, version, header pairs in order and
  the body (with ``decode_content`` True or False) must be identical in all three, and
  ``cassette.requests[i]`` must be exactly what the server received (method, target, header
  fields in order, body).
* D4 - a 50 MiB download and a 20 MiB upload replay sha256-identical (streamed on the client).
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import tempfile
import threading
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import urllib3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import KeepAliveServer, RawServer, SocketReader, stream_payload

import pooltest
from pooltest.cassette import Cassette, Request, use_cassette

pytestmark = pytest.mark.network

# --- the scripted server ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One response the scripted server sends, as the test drew it."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    framing: str  # "length", "chunked" or "close"
    encoding: str | None  # Content-Encoding applied to ``body``, or None
    pieces: tuple[int, ...]  # chunk sizes for chunked framing (the rest goes in one chunk)

    def encoded_body(self) -> bytes:
        if self.encoding == "gzip":
            return gzip.compress(self.body, mtime=0)
        if self.encoding == "deflate":
            return zlib.compress(self.body)
        return self.body

    def wire(self) -> bytes:
        """The exact bytes the server writes."""
        lines = [f"HTTP/1.1 {self.status} {self.reason}"]
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        if self.encoding is not None:
            lines.append(f"Content-Encoding: {self.encoding}")
        body = self.encoded_body()
        if self.framing == "length":
            lines.append(f"Content-Length: {len(body)}")
        elif self.framing == "chunked":
            lines.append("Transfer-Encoding: chunked")
            body = _chunked(body, self.pieces)
        head = "".join(f"{line}\r\n" for line in lines) + "\r\n"
        return head.encode("latin-1") + body


def _chunked(body: bytes, pieces: tuple[int, ...]) -> bytes:
    out = bytearray()
    offset = 0
    for size in (*pieces, len(body)):
        piece = body[offset : offset + size]
        if piece:
            out += b"%x\r\n%b\r\n" % (len(piece), piece)
            offset += len(piece)
    return bytes(out + b"0\r\n\r\n")


class Script:
    """What the raw server answers, in order, and what it received (head, body) per request."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.received: list[tuple[bytes, bytes]] = []
        self._lock = threading.Lock()

    def load(self, replies: list[Reply]) -> None:
        with self._lock:
            self.replies = deque(replies)
            self.received = []

    def handler(self, sock: Any, index: int) -> None:
        """Serve requests on one connection until the client closes or a reply ends it."""
        reader = SocketReader(sock, timeout=10.0)
        while True:
            try:
                head, body = reader.read_request()
            except (ConnectionError, TimeoutError):
                return
            with self._lock:
                self.received.append((head, body))
                reply = self.replies.popleft()
            sock.sendall(reply.wire())
            if reply.framing == "close":
                return


def _parse_head(head: bytes) -> tuple[str, str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    pairs = [tuple(line.split(": ", 1)) for line in lines[1:] if line]
    return method, target, [(name, value) for name, value in pairs]


# --- strategies ---------------------------------------------------------------------------------

_TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_RESERVED_METHODS = {"HEAD", "CONNECT"}

methods = st.one_of(
    st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
    st.text(_TCHARS, min_size=1, max_size=12).filter(lambda m: m.upper() not in _RESERVED_METHODS),
)

_name_tail = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", max_size=8)
header_names = _name_tail.map(lambda tail: f"X-{tail}")
# Visible ASCII with inner spaces; no leading/trailing whitespace (parsers strip it).
header_values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=0, max_size=24
).map(str.strip)


@st.composite
def header_fields(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Header pairs with repeats of one name in varying letter case."""
    fields = draw(st.lists(st.tuples(header_names, header_values), max_size=5))
    repeat: bool = draw(st.booleans())
    if fields and repeat:
        name, _ = draw(st.sampled_from(fields))
        odd = "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(name))
        fields.append((draw(st.sampled_from([name, odd, name.upper()])), draw(header_values)))
    return fields


bodies = st.one_of(
    st.none(),
    st.binary(max_size=2048),
    st.text(max_size=300),
)


@st.composite
def replies(draw: st.DrawFn) -> Reply:
    status = draw(
        st.one_of(
            st.sampled_from([200, 201, 206, 301, 302, 400, 404, 418, 500, 503, 599]),
            st.integers(200, 599).filter(lambda s: s not in (204, 304)),
        )
    )
    reason = draw(st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ -", max_size=20))
    body = draw(st.one_of(st.binary(max_size=4096), st.text(max_size=400).map(str.encode)))
    framing = draw(st.sampled_from(["length", "chunked", "close"]))
    return Reply(
        status=status,
        reason=reason.strip(),
        headers=tuple(draw(header_fields())),
        body=body,
        framing=framing,
        encoding=draw(st.sampled_from([None, None, "gzip", "deflate"])),
        pieces=tuple(draw(st.lists(st.integers(1, 700), max_size=4))),
    )


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | str | None
    decode_content: bool
    reply: Reply


@st.composite
def exchanges(draw: st.DrawFn) -> Exchange:
    return Exchange(
        method=draw(methods),
        path="/" + draw(st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", max_size=10)),
        headers=tuple(draw(header_fields())),
        body=draw(bodies),
        decode_content=draw(st.booleans()),
        reply=draw(replies()),
    )


# --- running a conversation ---------------------------------------------------------------------


def _observe(response: Any) -> dict[str, object]:
    return {
        "status": response.status,
        "reason": response.reason,
        "version": response.version,
        "headers": list(response.headers.items()),
        "data": response.data,
    }


def _converse(lib: Any, base_url: str, conversation: list[Exchange]) -> list[dict[str, object]]:
    """Send ``conversation`` through ``lib``'s PoolManager; observe every response."""
    http = lib.PoolManager(retries=False)
    seen = []
    for exchange in conversation:
        headers = lib.HTTPHeaderDict()
        for name, value in exchange.headers:
            headers.add(name, value)
        response = http.request(
            exchange.method,
            base_url + exchange.path,
            body=exchange.body,
            headers=headers,
            redirect=False,
            decode_content=exchange.decode_content,
        )
        seen.append(_observe(response))
    http.clear()
    return seen


def _assert_requests_as_received(
    requests: list[Request], received: list[tuple[bytes, bytes]]
) -> None:
    assert len(requests) == len(received)
    for request, (head, body) in zip(requests, received, strict=True):
        method, target, pairs = _parse_head(head)
        assert request.method == method
        assert request.uri.endswith(target)
        assert list(request.raw_headers) == pairs
        assert request.body == body


def _assert_responses_as_sent(cassette: Cassette, sent: list[Reply]) -> None:
    """The recorded responses hold the status line, fields and (still encoded) body as sent."""
    assert len(cassette.interactions) == len(sent)
    for interaction, reply in zip(cassette.interactions, sent, strict=True):
        wire = reply.wire()
        head = wire[: wire.index(b"\r\n\r\n")].decode("latin-1").split("\r\n")
        recorded = interaction.response
        assert (recorded.version, recorded.status, recorded.reason) == (
            "HTTP/1.1",
            reply.status,
            reply.reason,
        )
        assert list(recorded.headers) == [tuple(line.split(": ", 1)) for line in head[1:]]
        assert recorded.body == reply.encoded_body()


class _Run:
    """One hypothesis example's scratch directory, deleted afterwards."""

    def __enter__(self) -> Path:
        self.path = Path(tempfile.mkdtemp(prefix="pooltest-d5-"))
        return self.path / "cassette.yaml"

    def __exit__(self, *exc_info: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def check_round_trip(conversation: list[Exchange]) -> None:
    """urllib3 live == pooltest recording == pooltest replaying; requests as the server saw them."""
    script = Script()
    replies_ = [exchange.reply for exchange in conversation]
    with _Run() as path:
        server = RawServer(script.handler).start()
        try:
            script.load(replies_)
            expected = _converse(urllib3, server.url, conversation)
            script.load(replies_)
            # Redaction would (rightly) change secret-looking random headers: fidelity is
            # what is tested here, redaction in test_cassette_hardening.py.
            with use_cassette(path, record_mode="once", redact_defaults=False) as recorder:
                live = _converse(pooltest, server.url, conversation)
            received = list(script.received)
        finally:
            server.stop()
        assert server.errors == []
        with use_cassette(path, record_mode="none", redact_defaults=False) as player:
            replayed = _converse(pooltest, server.url, conversation)
            player.assert_all_played()
    assert live == expected
    assert replayed == live
    _assert_requests_as_received(recorder.requests, received)
    assert player.requests == recorder.requests
    _assert_responses_as_sent(recorder, replies_)
    assert player.interactions == recorder.interactions


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(conversation=st.lists(exchanges(), min_size=1, max_size=3))
def test_round_trip_replays_byte_identical(conversation: list[Exchange]) -> None:
    check_round_trip(conversation)


# A few fixed conversations the property must always cover, whatever hypothesis draws.
_FIXED: dict[str, Reply] = {
    "empty-reason": Reply(200, "", (("X-A", "1"),), b"x", "length", None, ()),
    "gzip-chunked": Reply(
        201, "Made", (("X-Dup", "a"), ("x-dup", "b")), b"z" * 900, "chunked", "gzip", (3, 1)
    ),
    "close-delimited-binary": Reply(
        599, "Odd Status", (), bytes(range(256)) * 3, "close", None, ()
    ),
    "empty-chunked": Reply(404, "Not Found", (), b"", "chunked", None, ()),
}


@pytest.mark.parametrize("name", sorted(_FIXED))
@pytest.mark.parametrize("decode_content", [True, False])
def test_fixed_round_trips(name: str, decode_content: bool) -> None:
    exchange = Exchange(
        "PURGE", "/x", (("x-Odd", "1"), ("X-ODD", "2")), b"\x00\xff", decode_content, _FIXED[name]
    )
    check_round_trip([exchange, exchange])


# --- D4: large bodies ---------------------------------------------------------------------------

DOWNLOAD = 50 << 20
UPLOAD = 20 << 20


def _download_digest(url: str) -> tuple[str, int]:
    response = pooltest.PoolManager().request("GET", url, preload_content=False)
    digest = hashlib.sha256()
    size = 0
    for piece in response.stream(1 << 20):
        digest.update(piece)
        size += len(piece)
    response.release_conn()
    return digest.hexdigest(), size


def _upload(url: str, payload: bytes) -> dict[str, Any]:
    response = pooltest.PoolManager().request(
        "POST", url, body=payload, headers={"Content-Type": "application/octet-stream"}
    )
    result: dict[str, Any] = response.json()
    return result


def test_large_download_and_upload_replay_sha256_identical(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "large.yaml"
    download_url = f"{http_server.url}/stream?size={DOWNLOAD}"
    upload_url = f"{http_server.url}/upload"
    payload = stream_payload(UPLOAD)[::-1]
    payload_digest = hashlib.sha256(payload).hexdigest()
    expected = hashlib.sha256(stream_payload(DOWNLOAD)).hexdigest()

    run: Callable[[], tuple[tuple[str, int], dict[str, Any]]] = lambda: (  # noqa: E731
        _download_digest(download_url),
        _upload(upload_url, payload),
    )
    with use_cassette(path):
        live = run()
    http_server.stop()
    with use_cassette(path, record_mode="none") as player:
        replayed = run()
        player.assert_all_played()
        stored_upload = player.interactions[1].request.body
    assert live == replayed
    assert replayed[0] == (expected, DOWNLOAD)
    assert replayed[1]["body_length"] == UPLOAD
    assert hashlib.sha256(stored_upload).hexdigest() == payload_digest
