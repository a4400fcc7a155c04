"""Cassette connections: the objects a cassette puts at the connection seam.

A cassette's connection factory builds, for whatever connection class the pool would use, a
subclass with :class:`CassetteConnectionMixin` in front (``CassetteHTTPConnection``, made once per
class). Such a connection behaves like the real one, except where the cassette decides:

``request()``
    The request is prepared by the real code (headers defaulted, validated, serialised), so the
    cassette sees exactly the bytes that would cross the wire. The cassette then looks for a
    recorded interaction that matches. If it finds one, nothing is sent and no socket is opened.
    Otherwise, if the record mode allows it, the connection opens a real socket (lazily: also for
    HTTPS, ``connect()`` does nothing until a live exchange needs it) and sends the request, and
    the cassette records the exchange; if the record mode forbids it, the cassette raises
    :class:`~pooltest.cassette.UnmatchedRequestError` and nothing is sent.

``getresponse()``
    For a replay, the recorded response is turned back into wire bytes and parsed by
    :func:`pooltest._http11.read_response` — the same parser, framing, keep-alive logic and
    content decoding as live. For a live exchange, the parser hands the connection the final
    response head it read (``read_response``'s ``on_head``), and every body byte the parser
    consumes is teed; when the body has been read to its end, that head and the body with its
    framing removed (still content-encoded) become the recorded response. The request is not
    built again either: the cassette finds the filtered form it made when it looked for a
    recording. A streamed download is thus recorded as the caller reads it, never read ahead.

A replayed exchange leaves the connection "open" exactly when a live one would have been kept
alive, so pools count connections and reuse them as they do live.
"""

from __future__ import annotations

import threading
import typing
from io import BytesIO  # by name: io.X reads are slow (the io module has a __getattr__)
from typing import Any

from pooltest import _http11
from pooltest._base_connection import BaseHTTPConnection, _ResponseOptions, new_options
from pooltest._body import BodyReader
from pooltest.connection import HTTPConnection, _asks_to_close

from ._model import Response, new_response
from ._request import Request, _UriParts, with_target

if typing.TYPE_CHECKING:
    from pooltest.response import HTTPResponse

    from ._model import Interaction

__all__ = [
    "CassetteConnectionMixin",
    "LiveHead",
    "Player",
    "Wire",
    "cassette_connection_class",
    "request_of_wire",
]

#: A request as the connection sends it: origin (``scheme://authority``), method, target,
#: header fields (defaults included), body (None: no body). A cassette keys, remembers and
#: builds requests from it (see :func:`request_of_wire`).
Wire = tuple[str, str, str, tuple[tuple[str, _http11.HeaderValue], ...], "bytes | None"]


#: The final head of a live response as the parser read it, with the body's framing: version,
#: status, reason, header pairs, chunked, length (None: unknown).
LiveHead = tuple[str, int, str, tuple[tuple[str, str], ...], bool, "int | None"]


#: Heads of recorded responses, each kept once. Responses mostly repeat their head (a server's
#: Date changes once a second), and a noted exchange holds its head until the cassette is
#: saved: one shared head instead of a dozen fresh objects per exchange saves memory and the
#: cache misses of filling it. Bounded; a dict get or set is atomic.
_HEADS: dict[LiveHead, LiveHead] = {}
_HEADS_LIMIT = 256


def _shared_head(head: LiveHead) -> LiveHead:
    """``head``, now the one kept for heads equal to it (see :data:`_HEADS`)."""
    if len(_HEADS) >= _HEADS_LIMIT:
        _HEADS.clear()
    _HEADS[head] = head
    return head


class Player(typing.Protocol):
    """What a cassette connection needs from its cassette."""

    def play_wire(self, wire: Wire, origin_parts: _UriParts | None) -> Interaction | None:
        """The interaction answering the request ``wire``; None to go live and record; or
        raise. ``origin_parts`` is the split origin (:func:`~._request.split_uri`), or None.
        The cassette validates the request as sending it would (:func:`request_of_wire`)."""

    def response_wire(self, interaction: Interaction) -> bytes:
        """The bytes a server would send for the recorded response."""

    def record_wire(
        self, wire: Wire, origin_parts: _UriParts | None, head: LiveHead, body: bytes
    ) -> None:
        """Keep a live exchange whose request was passed to :meth:`play_wire`: the response
        head the parser read (with its framing) and the body bytes it consumed, still framed
        (see :func:`_recorded_response`). An incomplete body is not kept."""


def request_of_wire(wire: Wire, origin_parts: _UriParts | None) -> Request:
    """The :class:`Request` a connection sends as ``wire`` (``origin_parts``: the split origin,
    or None to split it again), after checking it as sending it would (which may raise)."""
    origin, method, target, fields, body = wire
    _http11.check_fields(method, target, fields)
    return _request_from_fields(method, target, fields, body or b"", origin, origin_parts)


class _Tee:
    """A live response's stream, as its body reader sees it: keeps every byte the reader takes
    (the body with its framing), not what the stream reads ahead."""

    __slots__ = ("_fp", "captured")

    def __init__(self, fp: typing.BinaryIO) -> None:
        self._fp = fp
        self.captured: list[bytes] = []

    def read(self, size: int | None = -1) -> bytes:
        data = self._fp.read(-1 if size is None else size)
        self.captured.append(data)
        return data

    def read1(self, size: int = -1) -> bytes:
        data: bytes = self._fp.read1(size)  # type: ignore[attr-defined]
        self.captured.append(data)
        return data

    def readline(self, limit: int = -1) -> bytes:
        data = self._fp.readline(limit)
        self.captured.append(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:
        count: int = self._fp.readinto(buffer)  # type: ignore[attr-defined]
        self.captured.append(bytes(memoryview(buffer)[:count]))
        return count

    def close(self) -> None:
        self._fp.close()

    @property
    def closed(self) -> bool:
        return self._fp.closed

    def fileno(self) -> int:
        return self._fp.fileno()


# For the type checker the mixin is an HTTPConnection (it only ever runs in front of one, see
# cassette_connection_class); at run time it is a plain mixin, so no cast is needed per call.
if typing.TYPE_CHECKING:
    _MixinBase = HTTPConnection
else:
    _MixinBase = object


class CassetteConnectionMixin(_MixinBase):
    """Replays or records, in front of a real connection class (see the module docstring)."""

    _player: Player
    #: The connection class this one is the cassette variant of (what super() finds next).
    _live: type[HTTPConnection]
    _origin: str
    _origin_parts: _UriParts | None = None
    _virtual_open: bool = False
    _replay: tuple[Interaction, _ResponseOptions, bool] | None = None
    _recording: Wire | None = None
    _tee: _Tee | None = None
    _head: LiveHead | None = None

    def connect(self) -> None:
        """Open nothing yet: a socket is opened only when a live exchange needs one."""
        self._virtual_open = True
        self.is_verified = _verifies(self)

    def close(self) -> None:
        self._virtual_open = False
        self._replay = None
        self._recording = None
        self._head = None
        self._tee = None
        super().close()

    @property
    def is_closed(self) -> bool:
        if self._virtual_open:
            return False
        return super().is_closed

    @property
    def is_connected(self) -> bool:
        if self._virtual_open:
            return True
        # What super().is_connected gives, without a super object (asked for every request).
        connected: bool = self._live.is_connected.__get__(self)
        return connected

    def request(
        self,
        method: str,
        url: str,
        body: Any = None,
        headers: typing.Mapping[str, str] | None = None,
        *,
        chunked: bool = False,
        preload_content: bool = True,
        decode_content: bool = True,
        enforce_content_length: bool = True,
    ) -> None:
        """Prepare the request as the real connection would, then replay or go live."""
        headers = headers if headers is not None else {}
        fields, chunks, chunked = self._prepare_fields(method, url, body, headers, chunked)
        payload = None if chunks is None else _join(chunks)
        wire = (self._origin, method, url, tuple(fields), payload)
        if self._body_open:
            self.close()
        interaction = self._player.play_wire(wire, self._origin_parts)
        options = new_options(
            (method, url, preload_content, decode_content, enforce_content_length)
        )
        if interaction is not None:
            self._replay = (interaction, options, bool(headers) and _asks_to_close(headers))
            self._virtual_open = True
            self._response_options = options
            return
        # The request was built and filtered once already, in play_wire(): the cassette finds
        # that again by ``wire`` when the exchange is recorded.
        self._recording = wire
        self._virtual_open = False
        if self.sock is None:
            super().connect()
        self._send_prepared(
            method,
            _http11.encode_request_head(method, url, fields),
            None if payload is None else (payload,),
            chunked,
            headers,
            options,
        )

    def getresponse(self) -> HTTPResponse:
        """The recorded response for a replay; the live one (teed) otherwise."""
        replay = self._replay
        if replay is None:
            return self._live.getresponse(self)  # super()'s, without a super object
        self._replay = None
        interaction, options, wants_close = replay
        self._response_options = None
        self._body_open = True
        fp = BytesIO(self._player.response_wire(interaction))
        response = _http11.read_response(
            fp, options, self._replay_done, request_wants_close=wants_close
        )
        response._pooltest_replayed = True
        return response

    def _replay_done(self, reusable: bool) -> None:
        self._body_open = False
        self._virtual_open = reusable

    def _record_head(
        self,
        version: str,
        status: int,
        reason: str,
        pairs: list[tuple[str, str]],
        chunked: bool,
        length: int | None,
    ) -> typing.BinaryIO | None:
        """The live parser read the final head: keep it, and have the body read through a tee
        (for a recorded exchange)."""
        if self._recording is None or self._fp is None:
            return None
        head = (version, status, reason, tuple(pairs), chunked, length)
        self._head = _HEADS.get(head) or _shared_head(head)
        tee = self._tee = _Tee(self._fp)
        return typing.cast(typing.BinaryIO, tee)

    def _on_body_done(self, reusable: bool) -> None:
        wire, self._recording = self._recording, None
        head, self._head = self._head, None
        tee, self._tee = self._tee, None
        if wire is not None and tee is not None and head is not None:
            body = b"".join(tee.captured)
            self._player.record_wire(wire, self._origin_parts, head, body)
        self._live._on_body_done(self, reusable)  # super()'s, without a super object


class _SocketClosedMixin(CassetteConnectionMixin):
    """The mixin for connection classes whose ``is_closed`` is :class:`HTTPConnection`'s
    (closed: no socket), which a live exchange asks three times per request: answered here
    without a ``super()`` lookup."""

    @property
    def is_closed(self) -> bool:
        return not self._virtual_open and self.sock is None


_classes: dict[type[Any], type[Any]] = {}
_classes_lock = threading.Lock()


def cassette_connection_class(connection_cls: type[BaseHTTPConnection]) -> type[Any]:
    """The cassette variant of ``connection_cls`` (made once, then reused)."""
    made = _classes.get(connection_cls)
    if made is None:
        if not issubclass(connection_cls, HTTPConnection):
            raise TypeError(
                f"cassettes need a connection class derived from pooltest.connection."
                f"HTTPConnection, not {connection_cls.__qualname__}"
            )
        with _classes_lock:
            made = _classes.get(connection_cls)
            if made is None:
                name = f"Cassette{connection_cls.__name__}"
                plain = connection_cls.is_closed is HTTPConnection.is_closed
                mixin = _SocketClosedMixin if plain else CassetteConnectionMixin
                made = type(name, (mixin, connection_cls), {"_live": connection_cls})
                _classes[connection_cls] = made
    return made


def _verifies(conn: Any) -> bool:
    """Whether the real connection would have verified its peer (HTTPS with verification)."""
    cert_reqs = getattr(conn, "cert_reqs", None)
    if cert_reqs is None:
        return False
    return cert_reqs not in ("CERT_NONE", "NONE", 0)


def _join(chunks: typing.Iterable[bytes | str]) -> bytes:
    if isinstance(chunks, tuple) and len(chunks) == 1 and isinstance(chunks[0], bytes):
        return chunks[0]
    return b"".join(c.encode("utf-8") if isinstance(c, str) else c for c in chunks)


def _request_from_fields(
    method: str,
    target: str,
    fields: typing.Sequence[tuple[str, _http11.HeaderValue]],
    body: bytes,
    origin: str,
    origin_parts: _UriParts | None = None,
) -> Request:
    """The :class:`Request` that crosses the wire (``origin`` completes an origin-form target;
    ``origin_parts``, its :func:`split_uri`, saves splitting the whole URI again).

    Header values become the text that is sent: bytes as Latin-1, numbers in decimal.
    """
    pairs = _text_pairs(fields)
    if target[:1] != "/":  # absolute-form (through a proxy), or "*"
        uri = target if "://" in target[:8] else origin + target
        return Request._sent(method.upper(), uri, pairs, body)
    parts = None if origin_parts is None else with_target(origin_parts, target)
    return Request._sent(method.upper(), origin + target, pairs, body, parts)


# The tuple of fields _text_pairs last found to be text: a connection sends its one tuple of
# default fields again and again, and a tuple never changes. Replacing it is atomic.
_last_text: list[object] = [None]


def _text_pairs(
    fields: typing.Sequence[tuple[str, _http11.HeaderValue]],
) -> tuple[tuple[str, str], ...]:
    """``fields`` with every value as the text sent; a tuple of text fields (the usual case: the
    default fields are text) is returned as is."""
    if fields is _last_text[0]:
        return typing.cast("tuple[tuple[str, str], ...]", fields)
    if isinstance(fields, tuple):
        for _, value in fields:
            if type(value) is not str:
                break
        else:
            _last_text[0] = fields
            return typing.cast("tuple[tuple[str, str], ...]", fields)
    return tuple(
        [(name, value if isinstance(value, str) else _wire_text(value)) for name, value in fields]
    )


def _wire_text(value: bytes | int) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _recorded_response(head: LiveHead, body: bytes | bytearray) -> Response | None:
    """The :class:`Response` to keep: the head the live parser read, and the body bytes it
    consumed with their framing (as the parser decided it) removed (None if the body did not
    complete)."""
    version, status, reason, pairs, chunked, length = head
    if not chunked:
        if length is not None and len(body) != length:
            return None
        return new_response(status, reason, pairs, bytes(body), version)
    reader = BodyReader(BytesIO(body), chunked=True, length=None)
    try:
        data = reader.read()
    except Exception:  # an exchange that did not complete is not recorded
        return None
    return new_response(status, reason, pairs, data, version)
