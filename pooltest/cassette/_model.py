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
        agrees = True
        for name, value in self.headers:
            lowered = name.lower()
            if lowered == "transfer-encoding":
                if _is_chunked(value):
                    return True
            elif lowered == "content-length" and value.strip() != length:
                agrees = False
        return agrees

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
        if self.is_chunked:
            body = (b"%x\r\n%b\r\n" % (len(self.body), self.body) if self.body else b"") + (
                b"0\r\n\r\n"
            )
        else:
            body = self.body
        self._wire.append(head + body)
        return self._wire[0]


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


def utc_now() -> _dt.datetime:
    """The current time, timezone-aware UTC, to the microsecond."""
    return _dt.datetime.now(_dt.timezone.utc)
