"""One HTTP/1.1 response body, with its transfer framing removed.

:class:`BodyReader` sits on the buffered byte stream a response head was parsed from
(``socket.makefile("rb")`` live, ``io.BytesIO`` in replay) and hands out the body bytes, and only
them, according to one of four framings:

``length=0``
    No body (also HEAD, 1xx, 204 and 304 responses): complete as soon as it is built.
``length=N``
    ``Content-Length``: exactly N bytes. A stream that ends sooner raises
    :class:`~pooltest.exceptions.IncompleteRead` (unless ``enforce_content_length`` is false).
``chunked=True``
    ``Transfer-Encoding: chunked``. Each chunk is ``<hex size>[;ext]CRLF <data> CRLF``; a zero
    size ends the data, then trailer lines run to an empty line. Chunk-size lines and trailers
    are read with ``readline(limit)``, so a hostile peer cannot make the reader buffer more than
    64 KiB for them; a malformed size raises :class:`~pooltest.exceptions.InvalidChunkLength`,
    every other framing violation raises :class:`~pooltest.exceptions.ProtocolError`.
otherwise
    The body runs to the end of the stream.

The reader reports the end of the body once, through ``on_done(clean)``: ``clean`` is True when
the body was consumed exactly as its framing says (for chunked bodies: the last chunk and the
trailers were read), False when it is closed early or anything fails (including ``OSError`` or
``socket.timeout`` from the stream, which propagate unchanged). The connection uses this to decide
whether its socket can carry the next request.

Memory stays bounded by what the caller asks for: a single ``fp.read(n)`` is never larger than
8 MiB (``io.BufferedReader`` allocates ``n`` bytes up front), so a forged ``Content-Length`` or
chunk size cannot force a huge allocation before the bytes actually arrive. A ``Content-Length``
body read whole costs one ``fp.read(n)`` plus a few attribute updates, all within ``read()``.
"""

from __future__ import annotations

import typing
from collections.abc import Callable

from .exceptions import IncompleteRead, InvalidChunkLength, ProtocolError, ResponseNotChunked

__all__ = ["BodyReader"]

#: Longest chunk-size line accepted (the standard library's line limit).
MAX_CHUNK_LINE = 65536
#: Most bytes of trailer section accepted after the last chunk.
MAX_TRAILER_BYTES = 65536
#: Most trailer lines accepted after the last chunk.
MAX_TRAILER_LINES = 100
#: Largest single ``fp.read(n)``; bigger reads are split so allocation follows arriving bytes.
_MAX_SINGLE_READ = 8 * 1024 * 1024
#: What ``read1()`` asks of the stream when the caller gives no size.
_DEFAULT_READ1 = 65536
_HEXDIGITS = b"0123456789abcdefABCDEF"
_CHUNK_LINE_WHITESPACE = b" \t\r\n"


class _Stream(typing.Protocol):
    """The buffered binary reader a :class:`BodyReader` consumes."""

    def read(self, size: int | None = ..., /) -> bytes: ...

    def read1(self, size: int = ..., /) -> bytes: ...

    def readinto(self, buffer: memoryview, /) -> int: ...

    def readline(self, size: int | None = ..., /) -> bytes: ...


class BodyReader:
    """Read one response body from ``fp``, removing its HTTP/1.1 framing.

    ``chunked`` selects chunked transfer coding (``length`` is then ignored); otherwise
    ``length`` is the ``Content-Length`` (``0`` for no body) or None for a body that runs to the
    end of the stream. ``on_done(clean)`` is called exactly once, when the body ends (see the
    module docstring); with ``keep_alive`` false it is told ``clean=False`` even for a body that
    ended cleanly (the exchange does not let the stream carry another message).

    Reads never return bytes past the body, so ``fp`` is positioned at the next response once
    the reader is complete. After completion or :meth:`close`, every read returns ``b""``.
    """

    __slots__ = (
        "_chunk_left",
        "_done",
        "_enforce",
        "_fp",
        "_keep_alive",
        "_on_done",
        "_pos",
        "chunked",
        "length_remaining",
    )

    _fp: _Stream
    chunked: bool
    #: Body bytes still expected for a ``Content-Length`` body; None for other framings.
    length_remaining: int | None
    _enforce: bool
    _on_done: Callable[[bool], None] | None
    _keep_alive: bool
    _chunk_left: int
    _pos: int
    _done: bool

    def __init__(
        self,
        fp: _Stream | typing.BinaryIO,
        *,
        chunked: bool,
        length: int | None,
        enforce_content_length: bool = True,
        on_done: Callable[[bool], None] | None = None,
        keep_alive: bool = True,
    ) -> None:
        if not chunked and length is not None and length < 0:
            raise ValueError(f"length must be None or >= 0, not {length}")
        new_body_reader(fp, chunked, length, enforce_content_length, on_done, keep_alive, self)

    def __repr__(self) -> str:
        if self.chunked:
            framing = "chunked"
        elif self.length_remaining is None:
            framing = "until EOF"
        else:
            framing = f"{self.length_remaining} bytes left"
        state = "done" if self._done else "open"
        return f"<BodyReader {framing}, {self._pos} bytes read, {state}>"

    # -- public API --------------------------------------------------------------------------

    def read(self, amt: int | None = None) -> bytes:
        """Return up to ``amt`` body bytes (all the rest when ``amt`` is None or negative).

        Returns fewer bytes only at the end of the body, and ``b""`` once it is complete.
        """
        if self._done:
            return b""
        try:
            if amt is None or amt < 0:
                left = self.length_remaining
                if left is None:
                    return self._read_all()  # chunked, or up to the end of the stream
                # The rest of a Content-Length body (every preload): one plain read, booked
                # here rather than one call further down.
                data = self._fp.read(left) if left <= _MAX_SINGLE_READ else self._read_upto(left)
                got = len(data)
                self._pos += got
                self.length_remaining = left = left - got
                if left and self._enforce:
                    raise IncompleteRead(self._pos, left)
                self._finish(not left)
                return data
            if amt == 0:
                return b""
            if self.chunked:
                return self._read_chunked(amt)
            return self._read_plain(amt)
        except BaseException:
            self._finish(False)
            raise

    def read1(self, amt: int | None = -1) -> bytes:
        """Return body bytes from at most one read of the underlying stream.

        The result is non-empty unless the body is complete (or ``amt`` is 0); with ``amt``
        negative the size is chosen by the reader.
        """
        if self._done or amt == 0:
            return b""
        if amt is None or amt < 0:
            amt = _DEFAULT_READ1
        try:
            if self.chunked:
                return self._read1_chunked(amt)
            return self._read1_plain(amt)
        except BaseException:
            self._finish(False)
            raise

    def readinto(self, b: bytearray | memoryview) -> int:
        """Fill ``b`` with body bytes as :meth:`read` would; return how many were written."""
        view = memoryview(b).cast("B")
        if self._done or not view.nbytes:
            return 0
        try:
            if self.chunked:
                data = self._read_chunked(view.nbytes)
                view[: len(data)] = data
                return len(data)
            return self._readinto_plain(view)
        except BaseException:
            self._finish(False)
            raise

    def read_chunk(self, amt: int | None = None) -> bytes:
        """Return the rest of the current chunk, or at most ``amt`` bytes of it.

        Moves on to the next chunk when the current one is exhausted; returns ``b""`` after the
        last chunk (its trailers are read and discarded). Only for chunked bodies.
        """
        if not self.chunked:
            raise ResponseNotChunked("read_chunk() needs a body with chunked transfer coding")
        if self._done or amt == 0:
            return b""
        try:
            if not self._chunk_left and not self._start_chunk():
                return b""
            left = self._chunk_left
            return self._chunk_data(left if amt is None or amt < 0 or amt > left else amt)
        except BaseException:
            self._finish(False)
            raise

    def tell(self) -> int:
        """Body bytes returned so far (framing bytes not counted)."""
        return self._pos

    def isclosed(self) -> bool:
        """True once the body is complete or the reader was closed."""
        return self._done

    @property
    def closed(self) -> bool:
        """Same as :meth:`isclosed`: nothing more can be read."""
        return self._done

    def close(self) -> None:
        """Abandon the body. If it was not complete yet, ``on_done(False)`` is called.

        The underlying stream is not closed: it belongs to the connection.
        """
        self._finish(False)

    def readable(self) -> bool:
        """Always True: this is a readable stream."""
        return True

    def fileno(self) -> int:
        """The file descriptor of the underlying stream, if it has one."""
        fileno = getattr(self._fp, "fileno", None)
        if fileno is None:
            raise OSError("the stream under this body has no file descriptor")
        return typing.cast(int, fileno())

    # -- completion --------------------------------------------------------------------------

    def _finish(self, clean: bool) -> None:
        if self._done:
            return
        self._done = True
        callback = self._on_done
        if callback is not None:
            self._on_done = None
            callback(clean and self._keep_alive)

    # -- Content-Length and read-to-EOF bodies -----------------------------------------------

    def _read_all(self) -> bytes:
        """The rest of a chunked or read-to-EOF body (read() books Content-Length ones)."""
        if self.chunked:
            parts = []
            while self._chunk_left or self._start_chunk():
                parts.append(self._chunk_data(self._chunk_left))
            return b"".join(parts)
        data = self._fp.read()
        self._pos += len(data)
        self._finish(True)
        return data

    def _read_plain(self, amt: int) -> bytes:
        left = self.length_remaining
        if left is None:
            data = self._read_upto(amt)
            if not data:
                self._finish(True)
            self._pos += len(data)
            return data
        data = self._read_upto(amt if amt < left else left)
        self._account(len(data))
        return data

    def _read1_plain(self, amt: int) -> bytes:
        left = self.length_remaining
        if left is not None and left < amt:
            amt = left
        data = self._fp.read1(min(amt, _MAX_SINGLE_READ))
        if left is None:
            if not data:
                self._finish(True)
            self._pos += len(data)
        else:
            self._account(len(data))
        return data

    def _readinto_plain(self, view: memoryview) -> int:
        left = self.length_remaining
        if left is not None and left < view.nbytes:
            view = view[:left]
        got = self._fp.readinto(view)
        if left is None:
            if not got:
                self._finish(True)
            self._pos += got
        else:
            self._account(got)
        return got

    def _account(self, got: int) -> None:
        """Book ``got`` bytes of a Content-Length body; an empty read means a premature EOF."""
        left = typing.cast(int, self.length_remaining)
        if not got:
            if self._enforce:
                raise IncompleteRead(self._pos, left)
            self._finish(False)
            return
        self._pos += got
        self.length_remaining = left = left - got
        if not left:
            self._finish(True)

    def _read_upto(self, n: int) -> bytes:
        """Read ``n`` bytes, fewer only at the end of the stream, in bounded pieces."""
        if n <= _MAX_SINGLE_READ:
            return self._fp.read(n)
        parts = []
        while n > 0:
            piece = self._fp.read(min(n, _MAX_SINGLE_READ))
            if not piece:
                break
            parts.append(piece)
            n -= len(piece)
        return b"".join(parts)

    # -- chunked bodies ----------------------------------------------------------------------

    def _read_chunked(self, amt: int) -> bytes:
        parts = []
        while amt > 0 and (self._chunk_left or self._start_chunk()):
            left = self._chunk_left
            data = self._chunk_data(amt if amt < left else left)
            parts.append(data)
            amt -= len(data)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _read1_chunked(self, amt: int) -> bytes:
        if not self._chunk_left and not self._start_chunk():
            return b""
        left = self._chunk_left
        data = self._fp.read1(min(amt, left, _MAX_SINGLE_READ))
        if not data:
            raise ProtocolError(f"Response ended prematurely: {left} bytes of a chunk missing")
        self._consume_chunk_bytes(len(data))
        return data

    def _chunk_data(self, n: int) -> bytes:
        """Read ``n`` bytes (at most what is left) of the current chunk."""
        data = self._read_upto(n)
        if len(data) < n:
            missing = self._chunk_left - len(data)
            raise ProtocolError(f"Response ended prematurely: {missing} bytes of a chunk missing")
        self._consume_chunk_bytes(n)
        return data

    def _consume_chunk_bytes(self, n: int) -> None:
        self._pos += n
        self._chunk_left -= n
        if not self._chunk_left:
            crlf = self._fp.read(2)
            if crlf != b"\r\n":
                if len(crlf) < 2:
                    raise ProtocolError("Response ended prematurely: chunk missing its CRLF")
                raise ProtocolError(f"Chunk data was not followed by CRLF (got {crlf!r})")

    def _start_chunk(self) -> int:
        """Read the next chunk-size line; return the size (0: the body is now complete)."""
        line = self._fp.readline(MAX_CHUNK_LINE + 1)
        if len(line) > MAX_CHUNK_LINE:
            raise ProtocolError("Response chunk size line exceeded maximum allowed length")
        if not line:
            raise ProtocolError("Response ended prematurely")
        size_field = line.split(b";", 1)[0]
        digits = size_field.strip(_CHUNK_LINE_WHITESPACE)
        if not digits or digits.translate(None, _HEXDIGITS):
            raise InvalidChunkLength(self, size_field)
        size = int(digits, 16)
        if size:
            self._chunk_left = size
        else:
            self._skip_trailers()
        return size

    def _skip_trailers(self) -> None:
        """Discard the trailer section after the last chunk, then report the body complete."""
        budget = MAX_TRAILER_BYTES
        for _ in range(MAX_TRAILER_LINES + 1):
            line = self._fp.readline(budget + 1)
            if line in (b"\r\n", b"\n"):
                self._finish(True)
                return
            if not line:
                # The data is all there, but the stream ended without the final CRLF: tolerated
                # like other clients do, yet the connection cannot be reused.
                self._finish(False)
                return
            budget -= len(line)
            if budget < 0:
                raise ProtocolError("Response chunk trailer section exceeded maximum allowed size")
        raise ProtocolError(f"Response had more than {MAX_TRAILER_LINES} chunk trailer lines")


_new = object.__new__


def new_body_reader(
    fp: _Stream | typing.BinaryIO,
    chunked: bool,
    length: int | None,
    enforce_content_length: bool,
    on_done: Callable[[bool], None] | None,
    keep_alive: bool,
    reader: BodyReader | None = None,
) -> BodyReader:
    """``BodyReader(fp, chunked=..., length=..., ...)`` made without the call of the class, for
    a parser (every response is read through one): ``length`` is never negative here. Given a
    ``reader`` just made (``BodyReader.__init__`` passes itself), sets that one up instead."""
    if reader is None:
        reader = _new(BodyReader)
    # Both kinds of stream have the few methods _Stream names (no typing.cast call here).
    reader._fp = fp  # type: ignore[assignment]
    reader.chunked = chunked
    reader.length_remaining = None if chunked else length
    reader._enforce = enforce_content_length
    reader._on_done = on_done
    reader._keep_alive = keep_alive
    reader._chunk_left = 0  # bytes left in the current chunk; 0 means "at a chunk boundary"
    reader._pos = 0
    reader._done = False
    if length == 0 and not chunked:
        reader._finish(True)
    return reader
