"""What a cassette holds: interactions, each one request and the response it got.

Everything here is plain data, exactly as it crossed the wire:

* a :class:`~pooltest.cassette._request.Request` keeps the method, the absolute URI, the header
  fields really sent (defaults included, in order, duplicates kept) and the body bytes with any
  chunked framing removed;
* a :class:`Response` keeps the HTTP version, status, reason, header fields in order with
  duplicates, and the body bytes as received (still content-encoded, framing removed);
* an :class:`Interaction` pairs them with the instant (UTC) it was recorded.

:meth:`Response.wire_bytes` turns a response back into the bytes a server would send, which a
replaying connection hands to the same parser live responses go through;
:meth:`Response.for_replay` first makes a hand-edited body and its ``Content-Length`` agree.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, replace

from ._request import Request

__all__ = ["Interaction", "Request", "Response"]

HeaderPairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Response:
    """A recorded response: status line, header fields in order, body as received."""

    status: int
    reason: str
    headers: HeaderPairs
    body: bytes
    version: str = "HTTP/1.1"
    _wire: list[bytes] = field(default_factory=list, repr=False, compare=False)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any letter case), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    @property
    def is_chunked(self) -> bool:
        """Whether the response was sent with ``Transfer-Encoding: chunked``."""
        return _is_chunked(self.header("transfer-encoding"))

    def for_replay(self, method: str) -> Response:
        """This response with a ``Content-Length`` that contradicts the body set to its length.

        Recorded responses always agree with their length; hand-edited cassettes often do not
        (vcrpy ignores the header, so a changed body "works" there). Sending such a length would
        cut the body short or wait for bytes that never come, so the body wins. An empty body is
        left alone where emptiness is the framing (``HEAD``, 1xx, 204, 304), as is chunked.
        """
        length = str(len(self.body))
        if self._length_agrees(method, length):
            return self
        headers = tuple(
            (n, length if n.lower() == "content-length" else v) for n, v in self.headers
        )
        return replace(self, headers=headers, _wire=[])

    def _length_agrees(self, method: str, length: str) -> bool:
        """Whether :meth:`for_replay` keeps the headers as they are (one pass over them)."""
        if method == "HEAD" or self.status < 200 or self.status in (204, 304):
            return True
        if self.is_chunked:
            return True
        return all(
            value.strip() == length
            for name, value in self.headers
            if name.lower() == "content-length"
        )

    def replay_wire(self, method: str) -> bytes:
        """``for_replay(method).wire_bytes()``, in one pass over the headers and not cached
        (a cassette caches it per interaction)."""
        length = str(len(self.body))
        keeps_length = method == "HEAD" or self.status < 200 or self.status in (204, 304)
        chunked: bool | None = None  # decided by the first Transfer-Encoding, as is_chunked
        length_lines: list[int] = []
        agrees = True
        lines = [f"{self.version} {self.status} {self.reason}".rstrip(" ")]
        for name, value in self.headers:
            if len(name) in (14, 17):  # the lengths of Content-Length and Transfer-Encoding
                lowered = name.lower()
                if lowered == "content-length":
                    length_lines.append(len(lines))
                    agrees = agrees and value.strip() == length
                elif lowered == "transfer-encoding" and chunked is None:
                    chunked = _is_chunked(value)
            lines.append(f"{name}: {value}")
        if not (agrees or chunked or keeps_length):  # every Content-Length says the length
            for position in length_lines:
                name = lines[position].partition(":")[0]
                lines[position] = f"{name}: {length}"
        lines.append("\r\n")
        head = "\r\n".join(lines).encode("latin-1")
        return head + (_one_chunk(self.body) if chunked else self.body)

    def wire_bytes(self) -> bytes:
        """The response as a server would send it (computed once, then cached).

        A chunked response is framed again as one chunk; otherwise the body follows the head
        as is, so ``Content-Length`` framing and close-delimited bodies behave as recorded.
        """
        if self._wire:
            return self._wire[0]
        lines = [f"{self.version} {self.status} {self.reason}".rstrip(" ")]
        lines.extend([f"{name}: {value}" for name, value in self.headers])
        lines.append("\r\n")
        head = "\r\n".join(lines).encode("latin-1")
        self._wire.append(head + (_one_chunk(self.body) if self.is_chunked else self.body))
        return self._wire[0]


def _one_chunk(body: bytes) -> bytes:
    """``body`` framed as one chunk (none if empty) and the last chunk."""
    return (b"%x\r\n%b\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"


def _is_chunked(transfer_encoding: str | None) -> bool:
    if transfer_encoding is None:
        return False
    return transfer_encoding.rsplit(",", 1)[-1].strip().lower() == "chunked"


@dataclass(frozen=True, slots=True)
class Interaction:
    """One recorded exchange."""

    request: Request
    response: Response
    recorded_at: _dt.datetime

    def __repr__(self) -> str:
        return (
            f"<Interaction {self.request.method} {self.request.uri} -> "
            f"{self.response.status} at {self.recorded_at.isoformat()}>"
        )


# Recording and loading make a Response and an Interaction per interaction. The dataclasses'
# own __init__ sets each frozen field through object.__setattr__; these set the slots directly,
# in half the time, with the same result (tests/unit/test_cassette_model.py compares them).
_new = object.__new__
_RESPONSE_SLOTS = tuple(
    getattr(Response, name).__set__
    for name in ("status", "reason", "headers", "body", "version", "_wire")
)
_INTERACTION_SLOTS = tuple(
    getattr(Interaction, name).__set__ for name in ("request", "response", "recorded_at")
)


def new_response(
    status: int, reason: str, headers: HeaderPairs, body: bytes, version: str = "HTTP/1.1"
) -> Response:
    """``Response(status, reason, headers, body, version)``, made without its ``__init__``."""
    response = _new(Response)
    set_status, set_reason, set_headers, set_body, set_version, set_wire = _RESPONSE_SLOTS
    set_status(response, status)
    set_reason(response, reason)
    set_headers(response, headers)
    set_body(response, body)
    set_version(response, version)
    set_wire(response, [])
    return response


def new_interaction(request: Request, response: Response, recorded_at: _dt.datetime) -> Interaction:
    """``Interaction(request, response, recorded_at)``, made without its ``__init__``."""
    interaction = _new(Interaction)
    set_request, set_response, set_recorded_at = _INTERACTION_SLOTS
    set_request(interaction, request)
    set_response(interaction, response)
    set_recorded_at(interaction, recorded_at)
    return interaction


def utc_now() -> _dt.datetime:
    """The current time, timezone-aware UTC, to the microsecond."""
    return _dt.datetime.now(_dt.timezone.utc)
