"""Responses: :class:`HTTPResponse`, its content decoders and the decoded-bytes buffer.

The public surface is urllib3 2.x's ``urllib3.response``: same classes, signatures, defaults,
errors and messages, so code written against urllib3 runs unchanged.

How a body travels
    ``HTTPResponse._fp`` is usually a :class:`~pooltest._body.BodyReader`, which has already
    removed the HTTP/1.1 framing (Content-Length, chunked, read-to-EOF). Every read of wire bytes
    goes through :meth:`HTTPResponse._raw_read`, which keeps ``tell()``/``length_remaining`` up to
    date, maps low-level failures to urllib3's exceptions (``socket.timeout`` to
    :class:`ReadTimeoutError`, ``OSError``/``http.client`` errors to :class:`ProtocolError`) and,
    once the reader reports the body complete, hands the connection back to its pool. On a
    failure the connection is closed instead of being reused.

How decoding stays bounded (the hard part)
    ``Content-Encoding`` decoders are built lazily on the first read, only when the header names
    a coding we know. Every decoder takes ``decompress(data, max_length)`` and never returns more
    than ``max_length`` bytes: the zlib decoders pass the limit to ``decompressobj`` and keep its
    ``unconsumed_tail``; brotli uses ``output_buffer_limit`` and holds input back until the
    decompressor can accept more; ``zstandard`` has no output limit, so bounded calls feed it
    one zstd block at a time (a block yields at most 128 KiB), found by walking the frame
    headers. Libraries that overshoot the limit leave the excess in the decoder for later calls.
    Input or output held back is reported by ``has_unconsumed_tail``, and ``read(amt)`` drains
    it before touching the network again. So ``read(amt)`` and ``stream(amt)`` hold about
    ``amt`` decoded bytes plus one raw read, whatever the compression ratio, and
    :meth:`HTTPResponse.drain_conn` discards raw bytes without decoding them.

The fast path
    A small preloaded body without ``Content-Encoding`` costs one ``BodyReader.read()``: no
    decoder is created and the decoded-bytes buffer is bypassed. Responses from the parser are
    built by ``HTTPResponse._from_reader``, which stores each attribute once; being
    ``io.IOBase`` objects, they are asked ``closed`` by the finalizer, which reads the body
    reader's flag directly.
"""

from __future__ import annotations

import collections
import importlib
import importlib.util
import io
import json as _json
import logging
import socket
import typing
import warnings
import zlib
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from http.client import HTTPException
from socket import timeout as SocketTimeout

from ._body import BodyReader
from ._collections import HTTPHeaderDict
from .exceptions import (
    BodyNotHttplibCompatible,
    DecodeError,
    DependencyWarning,
    HTTPError,
    IncompleteRead,
    InvalidHeader,
    ProtocolError,
    ReadTimeoutError,
    ResponseNotChunked,
    SSLError,
)
from .util.response import is_fp_closed

try:
    import ssl

    BaseSSLError: type[BaseException] = ssl.SSLError
except ImportError:  # pragma: no cover - Python built without ssl

    class BaseSSLError(BaseException):  # type: ignore[no-redef]
        """Stand-in when the ssl module is missing: never raised."""


if typing.TYPE_CHECKING:
    from http.client import HTTPMessage
    from http.client import HTTPResponse as _HttplibHTTPResponse

    from ._base_connection import _TYPE_BODY, BaseHTTPConnection
    from .connectionpool import HTTPConnectionPool
    from .util.retry import Retry

brotli: typing.Any
try:
    try:
        import brotlicffi as brotli  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:
        import brotli  # type: ignore[import-untyped,import-not-found,no-redef,unused-ignore]
except ImportError:
    brotli = None

# ``zstandard`` takes milliseconds to import: note that it is there, import it on first use.
HAS_ZSTD = importlib.util.find_spec("zstandard") is not None

log = logging.getLogger(__name__)

_READ_CHUNK_SIZE = 2**16
#: Input kept while a deflate body might still turn out to be raw deflate rather than zlib.
_DEFLATE_SNIFF_LIMIT = 65536

__all__ = [
    "BaseHTTPResponse",
    "BrotliDecoder",
    "BytesQueueBuffer",
    "ContentDecoder",
    "DeflateDecoder",
    "GzipDecoder",
    "GzipDecoderState",
    "HTTPResponse",
    "MultiDecoder",
    "ZstdDecoder",
]


class _ZstdDataError(ValueError):
    """A zstd body is corrupt or incomplete (wraps the backend's own error type)."""


# ---------------------------------------------------------------------------------------------
# Content decoders
# ---------------------------------------------------------------------------------------------


class ContentDecoder:
    """Incremental decoder for one ``Content-Encoding``.

    ``decompress(data, max_length)`` returns at most ``max_length`` bytes when it is positive (no
    limit when negative; with 0 the input is only stored). Input that produced no output yet is
    kept, and ``has_unconsumed_tail`` is then True: call ``decompress(b"", n)`` to get more.
    ``flush()`` returns whatever is left once the input has ended.
    """

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        raise NotImplementedError()

    @property
    def has_unconsumed_tail(self) -> bool:
        raise NotImplementedError()

    def flush(self) -> bytes:
        raise NotImplementedError()


def _trailing_data_error(count: int, stream: str, detail: str = "") -> DecodeError:
    """The error for ``count`` bytes found after the end of a compressed stream."""
    return DecodeError(f"{count} bytes of trailing data after the {stream} stream{detail}")


class DeflateDecoder(ContentDecoder):
    """``deflate``: zlib-wrapped (RFC 1950) as the standard says, or raw (RFC 1951) as some
    servers send it.

    The zlib format is tried first; if it fails before producing any output, the input seen so far
    is replayed through a raw deflate decompressor. Any byte after the end of the stream is a
    :class:`~pooltest.exceptions.DecodeError` (urllib3 ignores such bytes): raised at once, or by
    the next call when this one has output to return first (``has_unconsumed_tail`` is then
    True). A stream cut short by the end of the body is not an error: what it decoded is returned.
    """

    def __init__(self) -> None:
        self._obj = zlib.decompressobj()
        self._sniffed: bytes | None = b""  # input seen while the format is still undecided
        self._held = b""  # input stored by a ``max_length=0`` call
        self._pending: DecodeError | None = None  # found with output to return first

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        if self._pending is not None:
            error, self._pending = self._pending, None
            raise error
        if self._held:
            data, self._held = self._held + data, b""
        if max_length == 0:
            self._held = data
            return b""
        obj = self._obj
        if obj.eof:
            if data:
                raise _trailing_data_error(len(data), "deflate")
            return b""
        tail = obj.unconsumed_tail
        if tail:
            data = tail + data if data else tail
        if not data:
            return b""
        limit = max_length if max_length > 0 else 0
        out = obj.decompress(data, limit) if self._sniffed is None else self._sniff(data, limit)
        obj = self._obj  # the raw decompressor if sniffing switched to it
        if obj.eof and obj.unused_data:
            error = _trailing_data_error(len(obj.unused_data), "deflate")
            if not out:
                raise error
            self._pending = error
        return out

    def _sniff(self, data: bytes, limit: int) -> bytes:
        seen = typing.cast(bytes, self._sniffed) + data
        try:
            out = self._obj.decompress(data, limit)
        except zlib.error:
            self._sniffed = None
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._obj.decompress(seen, limit)
        self._sniffed = None if out or len(seen) > _DEFLATE_SNIFF_LIMIT else seen
        return out

    @property
    def has_unconsumed_tail(self) -> bool:
        obj = self._obj
        return (
            self._pending is not None
            or bool(self._held)
            or (bool(obj.unconsumed_tail) and not obj.eof)
        )

    def flush(self) -> bytes:
        """Decode any input still held (checking what follows the stream), then flush zlib."""
        out = self.decompress(b"") if self.has_unconsumed_tail else b""
        return out + self._obj.flush()


class GzipDecoderState:
    """Where a :class:`GzipDecoder` is in a body of one or more gzip members."""

    FIRST_MEMBER = 0
    OTHER_MEMBERS = 1
    SWALLOW_DATA = 2


class GzipDecoder(ContentDecoder):
    """``gzip``/``x-gzip``, read as the standard library's :mod:`gzip` reads a file.

    Members are decoded one after another and their outputs concatenated. After a complete
    member, NUL bytes (zero padding, which gzip(1) accepts) are skipped; any other byte must start
    a valid gzip member, else :class:`~pooltest.exceptions.DecodeError` is raised whichever chunk
    brings the offending bytes (urllib3 ignores such data): at once, or by the next call when this
    one has output to return first (``has_unconsumed_tail`` is then True). A corrupt first member
    raises ``zlib.error``. A member cut short by the end of the body is not an error: what it
    decoded is returned, as urllib3 does. After an error, further input is swallowed.
    """

    def __init__(self) -> None:
        self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._state = GzipDecoderState.FIRST_MEMBER
        self._tail = b""  # input not decoded yet
        self._between = False  # a member is complete and no byte of a next one was seen
        self._after_end = 0  # input consumed since the last complete member (for the error)
        self._pending: DecodeError | None = None  # found with output to return first

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        if self._state == GzipDecoderState.SWALLOW_DATA:
            error, self._pending = self._pending, None
            if error is not None:
                raise error
            return b""
        if self._tail:
            data = self._tail + data if data else self._tail
            self._tail = b""
        if max_length == 0:
            self._tail = data
            return b""
        parts: list[bytes] = []
        try:
            self._run(data, max_length, parts)
        except DecodeError as error:  # trailing junk: return what came before it first
            if not any(parts):
                raise
            self._pending = error
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _run(self, data: bytes, max_length: int, parts: list[bytes]) -> None:
        """Decode ``data`` into ``parts``, member after member, up to ``max_length`` bytes."""
        produced = 0
        while data:
            if self._between:
                data = self._skip_padding(data)
                if not data:
                    return
            out = self._feed(data, max_length - produced if max_length > 0 else 0)
            parts.append(out)
            produced += len(out)
            obj = self._obj
            if obj.eof:  # member complete: what follows is padding or another member
                data = obj.unused_data
                self._state = GzipDecoderState.OTHER_MEMBERS
                self._between = True
                self._after_end = 0
            else:
                if self._state == GzipDecoderState.OTHER_MEMBERS:
                    self._after_end += len(data) - len(obj.unconsumed_tail)
                data = obj.unconsumed_tail
            if max_length > 0 and produced >= max_length:
                self._tail = data
                return

    def _skip_padding(self, data: bytes) -> bytes:
        """Drop leading NUL padding; at the first other byte, start decoding a new member.

        That byte must be the first of the gzip magic: zlib would wait for a second byte before
        checking, and a lone junk byte at the end of the body would pass for a truncated member.
        """
        rest = data.lstrip(b"\0")
        self._after_end += len(data) - len(rest)
        if rest:
            if rest[0] != 0x1F:
                raise self._junk(len(rest))
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._between = False
        return rest

    def _feed(self, data: bytes, limit: int) -> bytes:
        """Decode ``data`` in the current member; a failure stops all decoding."""
        try:
            return self._obj.decompress(data, limit)
        except zlib.error as e:
            if self._state == GzipDecoderState.FIRST_MEMBER:
                self._stop()
                raise
            raise self._junk(len(data)) from e

    def _junk(self, count: int) -> DecodeError:
        """Stop decoding; the error for ``count`` bad bytes (plus those since the last member)."""
        self._stop()
        detail = " (neither zero padding nor a gzip member)"
        return _trailing_data_error(self._after_end + count, "gzip", detail)

    def _stop(self) -> None:
        self._state = GzipDecoderState.SWALLOW_DATA
        self._tail = b""

    @property
    def has_unconsumed_tail(self) -> bool:
        if self._state == GzipDecoderState.SWALLOW_DATA:
            return self._pending is not None
        return bool(self._tail)

    def flush(self) -> bytes:
        """Decode any input still held (checking what follows the stream), then flush zlib."""
        out = self.decompress(b"") if self.has_unconsumed_tail else b""
        if self._state == GzipDecoderState.SWALLOW_DATA:
            return b""
        return out + self._obj.flush()


class _ExcessKeepingDecoder(ContentDecoder):
    """Base for decoders whose library may return more than the limit asked for.

    Brotli's ``output_buffer_limit`` is reached in buffer-sized steps and a zstd slice can
    complete a 128 KiB block, so the subclass's :meth:`_run` may overshoot: the excess is kept in
    ``_excess`` and handed out first by later calls. Input the subclass did not feed yet waits in
    ``_input``.
    """

    def __init__(self) -> None:
        self._input = b""
        self._excess = b""

    def _run(self, data: bytes, limit: int) -> bytes:
        """Decode ``data`` (``limit`` > 0: roughly that much output, or -1: all of it)."""
        raise NotImplementedError()

    def _holds_output(self) -> bool:
        """Whether the library holds output that can come without more input."""
        return False

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        if self._input:
            data, self._input = self._input + data, b""
        excess = self._excess
        if max_length < 0:
            self._excess = b""
            out = self._run(data, -1)
            return excess + out if excess else out
        if max_length == 0 or len(excess) >= max_length:
            self._input = data
            self._excess = excess[max_length:]
            return excess[:max_length]
        self._excess = b""
        out = self._run(data, max_length - len(excess))
        if excess:
            out = excess + out
        if len(out) > max_length:
            self._excess = out[max_length:]
            out = out[:max_length]
        return out

    @property
    def has_unconsumed_tail(self) -> bool:
        return bool(self._input) or bool(self._excess) or self._holds_output()


class BrotliDecoder(_ExcessKeepingDecoder):
    """``br``, through the ``brotli`` or ``brotlicffi`` package.

    Output is bounded with ``output_buffer_limit`` (Brotli >= 1.2.0). A call that filled its
    limit may have left output inside the decompressor, which must then be drained with empty
    input before it accepts more; new input waits meanwhile. Older packages without the limit
    decode without bound and emit a :class:`DependencyWarning`.
    """

    def __init__(self) -> None:
        super().__init__()
        if brotli is None:
            raise ImportError("the brotli or brotlicffi package is needed to decode 'br'")
        self._obj = brotli.Decompressor()
        self._process: Callable[..., bytes] = (
            getattr(self._obj, "process", None) or self._obj.decompress
        )
        self._can_accept: Callable[[], bool] | None = getattr(
            self._obj, "can_accept_more_data", None
        )
        self._full = False  # the last call filled its limit: more output may be waiting

    def _holds_output(self) -> bool:
        return self._full or (self._can_accept is not None and not self._can_accept())

    def _run(self, data: bytes, limit: int) -> bytes:
        if limit < 0:
            out = b""
            if self._holds_output():
                out = self._process(b"")
                self._full = False
            return out + self._process(data) if data else out
        if self._can_accept is None:
            warnings.warn(
                "Brotli >= 1.2.0 is required to prevent decompression bombs.",
                DependencyWarning,
                stacklevel=3,
            )
            return self._process(data)
        return self._run_bounded(data, limit)

    def _run_bounded(self, data: bytes, limit: int) -> bytes:
        parts: list[bytes] = []
        produced = 0
        while produced < limit:
            left = limit - produced
            if self._holds_output():
                out = self._process(b"", output_buffer_limit=left)
            elif data:
                out = self._process(data, output_buffer_limit=left)
                data = b""
            else:
                break
            self._full = len(out) >= left
            if not out:
                break
            parts.append(out)
            produced += len(out)
        self._input = data
        return b"".join(parts)

    def flush(self) -> bytes:
        flush = getattr(self._obj, "flush", None)
        return typing.cast(bytes, flush()) if flush is not None else b""


class _ZstdBlockWalker:
    """Follows the zstd frame format (RFC 8878) over the input, to find where blocks end.

    A zstd block decodes to at most 128 KiB, so feeding the decompressor up to the end of one
    block at a time bounds each call's output without bounding its input. The walker only reads
    headers: magic numbers, frame header descriptors, block headers, skippable frame sizes; it
    passes over everything else. On bytes it cannot make sense of it stops splitting (the
    decompressor reports the error). Whatever it concludes, it never changes *what* is fed, only
    where the input is split.
    """

    __slots__ = (
        "_after",
        "_block_ends",
        "_checksum",
        "_header",
        "_opaque",
        "_skip",
        "_state",
        "_want",
    )

    _MAGIC, _DESCRIPTOR, _BLOCK_HEADER, _SKIPPABLE_SIZE, _TRAILER = range(5)
    _HEADER_SIZES = (4, 1, 3, 4)

    def __init__(self) -> None:
        self._state = self._MAGIC
        self._want = 4  # header bytes to collect in this state
        self._header = bytearray()
        self._skip = 0  # bytes to pass over, then enter ``_after``
        self._after = self._MAGIC
        self._block_ends = False  # the bytes being passed over end a block
        self._checksum = False  # the current frame ends with a 4-byte checksum
        self._opaque = False  # not zstd as far as we can tell: stop splitting

    def advance(self, data: memoryview) -> int:
        """How many bytes of ``data`` to feed: up to the end of the next block, or all of it."""
        if self._opaque:
            return len(data)
        pos = 0
        end = len(data)
        while pos < end:
            if self._skip:
                step = min(self._skip, end - pos)
                self._skip -= step
                pos += step
                if self._skip:
                    break
                block_ends = self._block_ends
                self._block_ends = False
                self._enter(self._after)
                if block_ends:
                    return pos
                continue
            take = min(self._want - len(self._header), end - pos)
            self._header += data[pos : pos + take]
            pos += take
            if len(self._header) < self._want:
                break
            header = int.from_bytes(self._header, "little")
            self._header.clear()
            if not self._on_header(header):
                self._opaque = True
                return end
        return pos

    def _enter(self, state: int) -> None:
        if state == self._TRAILER:
            self._pass(4 if self._checksum else 0, self._MAGIC)
            return
        self._state = state
        self._want = self._HEADER_SIZES[state]

    def _pass(self, count: int, after: int, *, block_ends: bool = False) -> None:
        """Pass over ``count`` bytes, then enter ``after``; an empty pass enters it at once."""
        if not count:
            self._enter(after)
            return
        self._skip = count
        self._after = after
        self._block_ends = block_ends

    def _on_header(self, value: int) -> bool:
        """Act on a complete header; False when the input does not look like zstd."""
        state = self._state
        if state == self._MAGIC:
            if value == 0xFD2FB528:
                self._enter(self._DESCRIPTOR)
            elif value & 0xFFFFFFF0 == 0x184D2A50:
                self._enter(self._SKIPPABLE_SIZE)
            else:
                return False
        elif state == self._SKIPPABLE_SIZE:
            self._pass(value, self._MAGIC)
        elif state == self._DESCRIPTOR:
            single_segment = value & 0x20
            content_size = (1 if single_segment else 0, 2, 4, 8)[value >> 6]
            dictionary_id = (0, 1, 2, 4)[value & 3]
            self._checksum = bool(value & 4)
            rest = (0 if single_segment else 1) + dictionary_id + content_size
            self._pass(rest, self._BLOCK_HEADER)
        else:  # block header: bit 0 last block, bits 1-2 type, bits 3-23 size
            block_type = (value >> 1) & 3
            if block_type == 3:
                return False
            size = 1 if block_type == 1 else value >> 3
            after = self._TRAILER if value & 1 else self._BLOCK_HEADER
            self._pass(size, after, block_ends=True)
        return True


class ZstdDecoder(_ExcessKeepingDecoder):
    """``zstd``, through the ``zstandard`` package; concatenated frames are decoded in turn.

    ``zstandard`` cannot bound its output, so a bounded call feeds the input one block at a time
    (see :class:`_ZstdBlockWalker`) until enough came out, and keeps the rest of the input. An
    unbounded call feeds everything. A body that ends inside a frame is an error at
    :meth:`flush`.
    """

    def __init__(self) -> None:
        super().__init__()
        self._zstd: typing.Any = importlib.import_module("zstandard")
        self._obj = self._new_frame()
        self._in_frame = False  # bytes of the current frame have been fed
        self._walker = _ZstdBlockWalker()

    def _new_frame(self) -> typing.Any:
        return self._zstd.ZstdDecompressor().decompressobj(write_size=2**14)

    def _run(self, data: bytes, limit: int) -> bytes:
        try:
            if limit < 0:
                return self._feed(data)
            return self._feed_blocks(data, limit)
        except self._zstd.ZstdError as e:
            raise _ZstdDataError(str(e)) from e

    def _feed_blocks(self, data: bytes, limit: int) -> bytes:
        parts: list[bytes] = []
        produced = 0
        view = memoryview(data)
        pos = 0
        while pos < len(data) and produced < limit:
            step = self._walker.advance(view[pos:])
            out = self._feed(data[pos : pos + step] if step < len(data) - pos else data[pos:])
            pos += step
            parts.append(out)
            produced += len(out)
        self._input = data[pos:]
        return b"".join(parts)

    def _feed(self, data: bytes) -> bytes:
        parts = []
        while data:
            self._in_frame = True
            parts.append(self._obj.decompress(data))
            if not self._obj.eof:
                break
            data = self._obj.unused_data  # the next frame, if any
            self._obj = self._new_frame()
            self._in_frame = False
        return b"".join(parts)

    def flush(self) -> bytes:
        if self._in_frame:
            raise DecodeError("Zstandard data is incomplete")
        return b""


class MultiDecoder(ContentDecoder):
    """A chain of codings, such as ``Content-Encoding: gzip, br``.

    The header lists codings in the order they were applied, so they are undone right to left.
    At most :attr:`max_decode_links` codings are accepted; a longer chain is refused rather than
    letting a peer stack decoders without bound.
    """

    max_decode_links = 5

    def __init__(self, modes: str) -> None:
        codings = [mode.strip() for mode in modes.split(",")]
        if len(codings) > self.max_decode_links:
            raise DecodeError(
                f"Too many content encodings in the chain: {len(codings)} > {self.max_decode_links}"
            )
        self._decoders = [_get_decoder(coding) for coding in codings]

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        if max_length <= 0:
            for decoder in reversed(self._decoders):
                data = decoder.decompress(data, max_length)
            return data
        # Each pass pushes at most ``max_length - produced`` bytes through every stage, so no
        # stage holds more than that; passes repeat while any stage still makes progress.
        parts: list[bytes] = []
        produced = 0
        while produced < max_length:
            progressed = False
            for decoder in reversed(self._decoders):
                data = decoder.decompress(data, max_length - produced)
                progressed = progressed or bool(data)
            parts.append(data)
            produced += len(data)
            if not progressed:
                break
            data = b""
        return b"".join(parts)

    @property
    def has_unconsumed_tail(self) -> bool:
        return any(decoder.has_unconsumed_tail for decoder in self._decoders)

    def flush(self) -> bytes:
        data = b""
        for decoder in reversed(self._decoders):
            data = decoder.decompress(data) + decoder.flush() if data else decoder.flush()
        return data


def _get_decoder(mode: str) -> ContentDecoder:
    """The decoder for one coding name, or a :class:`MultiDecoder` for a comma-separated chain.

    Unknown names fall back to deflate, as urllib3 does.
    """
    if "," in mode:
        return MultiDecoder(mode)
    if mode in ("gzip", "x-gzip"):
        return GzipDecoder()
    if mode == "br" and brotli is not None:
        return BrotliDecoder()
    if mode == "zstd" and HAS_ZSTD:
        return ZstdDecoder()
    return DeflateDecoder()


# ---------------------------------------------------------------------------------------------
# Decoded-bytes buffer
# ---------------------------------------------------------------------------------------------


class BytesQueueBuffer:
    """A FIFO of byte strings that hands out exactly ``n`` bytes at a time.

    ``put`` stores a reference (no copy); ``get`` copies only the bytes it returns, keeping the
    rest of a split piece as a memoryview. Memory is the data held plus the largest ``get``.
    """

    __slots__ = ("_size", "buffer")

    def __init__(self) -> None:
        self.buffer: collections.deque[bytes | memoryview] = collections.deque()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def put(self, data: bytes) -> None:
        """Append ``data`` at the end of the queue."""
        self.buffer.append(data)
        self._size += len(data)

    def get(self, n: int) -> bytes:
        """Remove and return the first ``n`` bytes (fewer if fewer are held)."""
        if n == 0:
            return b""
        if not self.buffer:
            raise RuntimeError("buffer is empty")
        if n < 0:
            raise ValueError("n should be > 0")
        buffer = self.buffer
        first = buffer[0]
        if len(first) == n and isinstance(first, bytes):
            self._size -= n
            buffer.popleft()
            return first
        parts: list[bytes | memoryview] = []
        needed = n
        while needed > 0 and buffer:
            piece = buffer.popleft()
            if len(piece) > needed:
                view = memoryview(piece)
                parts.append(view[:needed])
                buffer.appendleft(view[needed:])
                needed = 0
                break
            parts.append(piece)
            needed -= len(piece)
        self._size -= n - needed
        return b"".join(parts)

    def get_all(self) -> bytes:
        """Remove and return everything held."""
        buffer = self.buffer
        if not buffer:
            return b""
        if len(buffer) == 1:
            piece = buffer.pop()
            data = piece if isinstance(piece, bytes) else piece.tobytes()
        else:
            data = b"".join(buffer)
            buffer.clear()
        self._size = 0
        return data


#: The decoded-bytes buffer of a response without a decoder. Only a decoder's output is ever
#: buffered (every ``put`` happens with a decoder present), so until one is made a response
#: shares this always-empty instance instead of allocating its own; see
#: :meth:`HTTPResponse._init_decoder`. Nothing may ``put`` into it.
_NO_DECODED_BYTES = BytesQueueBuffer()


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------


class _BodyFile(typing.Protocol):
    """What :class:`HTTPResponse` needs from the object its body is read from."""

    def read(self, amt: int = ..., /) -> bytes: ...

    def read1(self, amt: int = ..., /) -> bytes: ...

    def close(self) -> None: ...


class BaseHTTPResponse(io.IOBase):
    """What every response offers: status, headers, body reading and content decoding.

    :class:`HTTPResponse` is the implementation; this base keeps the decoding machinery and the
    small accessors, like urllib3's.
    """

    # Slots make the dozen-odd attribute stores of every construction cheap; instances keep
    # io.IOBase's __dict__ for anything else callers attach.
    __slots__ = (
        "_decoder",
        "_decoder_initialized",
        "_has_decoded_content",
        "_request_url",
        "_retries",
        "chunked",
        "decode_content",
        "headers",
        "length_remaining",
        "reason",
        "status",
        "version",
        "version_string",
    )

    CONTENT_DECODERS: typing.ClassVar[list[str]] = ["gzip", "x-gzip", "deflate"]
    if brotli is not None:
        CONTENT_DECODERS += ["br"]
    if HAS_ZSTD:
        CONTENT_DECODERS += ["zstd"]
    REDIRECT_STATUSES: typing.ClassVar[list[int]] = [301, 302, 303, 307, 308]

    DECODER_ERROR_CLASSES: typing.ClassVar[tuple[type[Exception], ...]] = (
        OSError,
        zlib.error,
        _ZstdDataError,
    )
    if brotli is not None:
        DECODER_ERROR_CLASSES += (brotli.error,)

    def __init__(
        self,
        *,
        headers: Mapping[str, str] | Mapping[bytes, bytes] | None = None,
        status: int,
        version: int,
        version_string: str,
        reason: str | None,
        decode_content: bool,
        request_url: str | None,
        retries: Retry | None = None,
    ) -> None:
        self._init_message(
            headers, status, version, version_string, reason, decode_content, request_url, retries
        )
        self.chunked = _says_chunked(self.headers)

    def _init_message(
        self,
        headers: Mapping[str, str] | Mapping[bytes, bytes] | None,
        status: int,
        version: int,
        version_string: str,
        reason: str | None,
        decode_content: bool,
        request_url: str | None,
        retries: Retry | None,
    ) -> None:
        """Set everything ``__init__`` sets except :attr:`chunked`.

        :class:`HTTPResponse` calls this directly: with a body reader it knows the framing
        already and looks at ``Transfer-Encoding`` only when the reader has no body.
        """
        if isinstance(headers, HTTPHeaderDict):
            self.headers = headers
        else:
            self.headers = HTTPHeaderDict(headers)  # type: ignore[arg-type]
        self.status = status
        self.version = version
        self.version_string = version_string
        self.reason = reason
        self.decode_content = decode_content
        self._has_decoded_content = False
        self._request_url: str | None = request_url
        if retries is None:
            self._retries: Retry | None = None  # what the setter stores (it acts on a history)
        else:
            self.retries = retries
        self._decoder: ContentDecoder | None = None
        self._decoder_initialized = False
        self.length_remaining: int | None

    def get_redirect_location(self) -> str | typing.Literal[False] | None:
        """The ``Location`` of a redirect (None if it has none); False if this is no redirect."""
        if self.status in self.REDIRECT_STATUSES:
            return self.headers.get("location")
        return False

    @property
    def data(self) -> bytes:
        raise NotImplementedError()

    def json(self) -> typing.Any:
        """The body decoded as UTF-8 JSON.

        Raises ``UnicodeDecodeError`` or ``json.JSONDecodeError`` when it is not.
        """
        return _json.loads(self.data.decode("utf-8"))

    @property
    def url(self) -> str | None:
        raise NotImplementedError()

    @url.setter
    def url(self, url: str | None) -> None:
        raise NotImplementedError()

    @property
    def connection(self) -> BaseHTTPConnection | None:
        raise NotImplementedError()

    @property
    def retries(self) -> Retry | None:
        """The :class:`~pooltest.util.retry.Retry` state that produced this response."""
        return self._retries

    @retries.setter
    def retries(self, retries: Retry | None) -> None:
        # After redirects, the response's URL is where the last redirect pointed.
        if retries is not None and retries.history:
            self.url = retries.history[-1].redirect_location
        self._retries = retries

    def stream(
        self, amt: int | None = _READ_CHUNK_SIZE, decode_content: bool | None = None
    ) -> Iterator[bytes]:
        raise NotImplementedError()

    def read(
        self,
        amt: int | None = None,
        decode_content: bool | None = None,
        cache_content: bool = False,
    ) -> bytes:
        raise NotImplementedError()

    def read1(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        raise NotImplementedError()

    def read_chunked(
        self, amt: int | None = None, decode_content: bool | None = None
    ) -> Iterator[bytes]:
        raise NotImplementedError()

    def release_conn(self) -> None:
        raise NotImplementedError()

    def drain_conn(self) -> None:
        raise NotImplementedError()

    def shutdown(self) -> None:
        raise NotImplementedError()

    def close(self) -> None:
        raise NotImplementedError()

    def _init_decoder(self) -> None:
        """Create the decoder ``Content-Encoding`` asks for, once; none for unknown codings."""
        if self._decoder_initialized:
            return
        self._decoder_initialized = True
        content_encoding = self.headers.get("content-encoding")
        if not content_encoding:
            return
        content_encoding = content_encoding.lower()
        known = self.CONTENT_DECODERS
        if content_encoding in known or (
            "," in content_encoding
            and any(coding.strip() in known for coding in content_encoding.split(","))
        ):
            self._decoder = _get_decoder(content_encoding)

    def _refuse_raw_after_decoded(self, method: str) -> None:
        """Raw bytes cannot follow decoded ones: the decoder has already consumed them."""
        if self._has_decoded_content:
            raise RuntimeError(
                f"Calling {method}(decode_content=False) is not supported after "
                f"{method}(decode_content=True) was called."
            )

    def _decode(
        self,
        data: bytes,
        decode_content: bool | None,
        flush_decoder: bool,
        max_length: int | None = None,
    ) -> bytes:
        """Decode ``data`` (at most ``max_length`` bytes out unless flushing)."""
        if not decode_content:
            self._refuse_raw_after_decoded("read")
            return data
        if max_length is None or flush_decoder:
            max_length = -1
        decoder = self._decoder
        try:
            if decoder is not None:
                data = decoder.decompress(data, max_length)
                self._has_decoded_content = True
        except self.DECODER_ERROR_CLASSES as e:
            content_encoding = self.headers.get("content-encoding", "").lower()
            raise DecodeError(
                f"Received response with content-encoding: {content_encoding}, "
                "but failed to decode it.",
                e,
            ) from e
        if flush_decoder:
            data += self._flush_decoder()
        return data

    def _flush_decoder(self) -> bytes:
        """What the decoder still holds once the body has ended."""
        decoder = self._decoder
        if decoder is None:
            return b""
        return decoder.decompress(b"") + decoder.flush()

    # Compatibility with the io module.
    def readinto(self, b: bytearray | memoryview) -> int:
        """Read up to ``len(b)`` decoded bytes into ``b``; return how many."""
        data = self.read(len(b))
        if not data:
            return 0
        b[: len(data)] = data
        return len(data)

    # Accessors used by http.client-era code (http.cookiejar, older requests).
    def getheaders(self) -> HTTPHeaderDict:
        """The response headers (same as :attr:`headers`)."""
        return self.headers

    def getheader(self, name: str, default: str | None = None) -> str | None:
        """One header's value, or ``default``."""
        return self.headers.get(name, default)

    def info(self) -> HTTPHeaderDict:
        """The response headers, for ``http.cookiejar``."""
        return self.headers

    def geturl(self) -> str | None:
        """The URL the response came from (after redirects)."""
        return self.url


class HTTPResponse(BaseHTTPResponse):
    """A response whose body is read (and decoded) on demand.

    ``body`` is either already-read content (``bytes``/``str``) or a readable file-like object,
    normally a :class:`~pooltest._body.BodyReader` built by the connection. With
    ``preload_content`` the whole body is read and decoded during construction; otherwise read
    it with :meth:`read`, :meth:`stream`, :meth:`read1`, :meth:`read_chunked` or as a file.

    ``decode_content`` undoes ``Content-Encoding`` (gzip, deflate, br and zstd when their
    packages are installed). ``enforce_content_length`` turns a body shorter than its
    ``Content-Length`` into a :class:`~pooltest.exceptions.ProtocolError`. When the body has
    been read to its end, the connection goes back to ``pool``.
    """

    __slots__ = (
        "_body",
        "_connection",
        "_decoded_buffer",
        "_fp",
        "_fp_bytes_read",
        "_original_response",
        "_pool",
        # Set by a cassette connection on the responses it replays; a slot, so that marking a
        # response does not give it an instance dict.
        "_pooltest_replayed",
        "_reader",
        "_request_method",
        "_sock_shutdown",
        "_uncached_read_occurred",
        "auto_close",
        "chunk_left",
        "enforce_content_length",
        "msg",
    )

    def __init__(
        self,
        body: _TYPE_BODY | BodyReader = "",
        headers: Mapping[str, str] | Mapping[bytes, bytes] | None = None,
        status: int = 0,
        version: int = 0,
        version_string: str = "HTTP/?",
        reason: str | None = None,
        preload_content: bool = True,
        decode_content: bool = True,
        original_response: _HttplibHTTPResponse | None = None,
        pool: HTTPConnectionPool | None = None,
        connection: BaseHTTPConnection | None = None,
        msg: HTTPMessage | None = None,
        retries: Retry | None = None,
        enforce_content_length: bool = True,
        request_method: str | None = None,
        request_url: str | None = None,
        auto_close: bool = True,
        sock_shutdown: Callable[[int], None] | None = None,
    ) -> None:
        # Everything close() needs comes first: io.IOBase.__del__ calls it even when the
        # constructor failed half way.
        self.auto_close = auto_close
        self._sock_shutdown = sock_shutdown
        self._fp: _BodyFile | None = None
        self._pool = pool
        self._connection = connection
        self._original_response = original_response
        self._reader: BodyReader | None = None
        self._init_message(
            headers, status, version, version_string, reason, decode_content, request_url, retries
        )
        self.enforce_content_length = enforce_content_length
        self._body: bytes | None = None
        self._uncached_read_occurred = False
        self._fp_bytes_read = 0
        self.msg = msg
        #: Kept for urllib3 compatibility; chunk bookkeeping lives in the body reader.
        self.chunk_left: int | None = None
        self._request_method = request_method
        self._pooltest_replayed = False

        if body and isinstance(body, (str, bytes)):
            self._body = body  # type: ignore[assignment]  # urllib3 keeps str bodies as given
        if isinstance(body, BodyReader):
            self._init_reader(body)
        else:
            self.chunked = _says_chunked(self.headers)
            if hasattr(body, "read"):
                self._fp = typing.cast(_BodyFile, body)
            self.length_remaining = self._init_length(request_method)

        self._decoded_buffer = _NO_DECODED_BYTES

        if preload_content and not self._body:
            self._body = self._preload(decode_content)

    @classmethod
    def _from_reader(
        cls,
        reader: BodyReader,
        headers: HTTPHeaderDict,
        status: int,
        version_string: str,
        reason: str,
        preload_content: bool,
        decode_content: bool,
        enforce_content_length: bool,
        request_method: str,
        request_url: str,
        sock_shutdown: Callable[[int], None] | None,
    ) -> HTTPResponse:
        """The response ``HTTPResponse(body=reader, headers=headers, ...)`` builds, for a parser.

        Same state as the keyword constructor given these arguments (``version`` follows from
        ``version_string``; no pool, connection, retries or original response), but each
        attribute is stored once and none of the constructor's branches for other body kinds
        or header sources run: this is what every parsed response goes through.
        """
        self = cls.__new__(cls)
        # What close() needs comes first, as in __init__ (io.IOBase.__del__ calls it).
        self.auto_close = True
        self._sock_shutdown = sock_shutdown
        self._pool = None
        self._connection = None
        self._original_response = None
        self._fp = self._reader = reader
        self.headers = headers
        self.status = status
        self.version = 11 if version_string == "HTTP/1.1" else 10
        self.version_string = version_string
        self.reason = reason
        self.decode_content = decode_content
        self._has_decoded_content = False
        self._request_url = request_url
        self._retries = None
        self._decoder = None
        self._decoder_initialized = False
        self.enforce_content_length = enforce_content_length
        self._body = None
        self._uncached_read_occurred = False
        self._fp_bytes_read = 0
        self.msg = None
        self.chunk_left = None
        self._request_method = request_method
        self._pooltest_replayed = False
        if reader.chunked or reader._done:
            self._take_framing(reader)
        else:  # _take_framing's answer for a body still to come without chunked framing
            self.length_remaining = reader.length_remaining
            self.chunked = False
        self._decoded_buffer = _NO_DECODED_BYTES
        if preload_content:
            if "content-encoding" in headers._container:
                self._body = self._preload(decode_content)
            else:  # what _preload does without the header, minus its look-up
                self._decoder_initialized = True
                self._body = self._read_whole_reader(reader)
        return self

    # -- connection handling -----------------------------------------------------------------

    def release_conn(self) -> None:
        """Give the connection back to its pool (once); the body must not be read any more."""
        if not self._pool or not self._connection:
            return
        self._pool._put_conn(self._connection)
        self._connection = None

    def drain_conn(self) -> None:
        """Read and discard the rest of the body, undecoded, so the connection can be reused.

        Errors while draining are swallowed: the connection is then closed instead.
        """
        try:
            while self._raw_read(_READ_CHUNK_SIZE):
                pass
        except (HTTPError, OSError, BaseSSLError, HTTPException):
            pass
        if self._has_decoded_content:
            # Drop the decoder's state (and anything it buffered) rather than keep it alive.
            self._decoded_buffer = BytesQueueBuffer()
            self._decoder = None

    @property
    def data(self) -> bytes:
        """The whole decoded body, read (and cached) on first access."""
        if self._body:
            return self._body
        if self._fp:
            return self.read(cache_content=True)
        return None  # type: ignore[return-value]  # urllib3 returns None without a body

    @property
    def connection(self) -> BaseHTTPConnection | None:
        """The connection the body is read from, until it is released."""
        return self._connection

    def isclosed(self) -> bool:
        """Whether the body file is closed (or fully read)."""
        return is_fp_closed(self._fp)

    def tell(self) -> int:
        """Raw (still encoded) body bytes read from the wire so far."""
        return self._fp_bytes_read

    def _init_decoder(self) -> None:
        """As the base class's, plus a buffer of this response's own once there is a decoder."""
        if self._decoder_initialized:
            return
        super()._init_decoder()
        if self._decoder is not None and self._decoded_buffer is _NO_DECODED_BYTES:
            self._decoded_buffer = BytesQueueBuffer()

    def _init_reader(self, reader: BodyReader) -> None:
        """Take the body, its length and its framing from a :class:`BodyReader`."""
        self._fp = self._reader = reader
        self._take_framing(reader)

    def _take_framing(self, reader: BodyReader) -> None:
        """Take :attr:`length_remaining` and :attr:`chunked` from the body reader."""
        self.length_remaining = reader.length_remaining
        if reader.chunked:
            self.chunked = True
            if "content-length" in self.headers:
                _warn_length_and_chunked()
        else:
            # The reader's framing wins; a reader with no body at all (a HEAD response, say)
            # leaves what the header says.
            # (reader._done is what reader.isclosed() returns, without the call.)
            self.chunked = reader._done and _says_chunked(self.headers)

    def _preload(self, decode_content: bool) -> bytes:
        """``read(decode_content=decode_content)`` for a response nothing has been read from.

        Without ``Content-Encoding`` there is no decoder and the decoded-bytes buffer is empty,
        so ``read()`` comes down to one raw read: do just that.
        """
        if self.headers.get("content-encoding"):
            return self.read(decode_content=decode_content)
        self._decoder_initialized = True  # as _init_decoder() finds: nothing to decode
        data = self._raw_read()
        self._uncached_read_occurred = True
        return data

    def _read_whole_reader(self, reader: BodyReader) -> bytes:
        """``_raw_read()`` then what ``read()`` records, for a body read from its reader.

        Only for a response just built around ``reader`` (no connection attached yet, nothing
        read): ``_raw_read``'s branches for other body files, ``amt``/``read1`` and releasing
        a connection cannot apply, so one ``reader.read()`` with the same error handling
        remains.
        """
        try:
            data = reader.read()
        except BaseException as e:
            mapped = self._read_failed(e)
            if mapped is not None:
                raise mapped from e
            raise
        if data:
            self._fp_bytes_read += len(data)
            if self.length_remaining is not None:
                self.length_remaining -= len(data)
        self._uncached_read_occurred = True
        return data

    def _init_length(self, request_method: str | None) -> int | None:
        """The body length the headers announce, or None (urllib3's rules)."""
        length: int | None = None
        content_length = self.headers.get("content-length")
        if content_length is not None:
            if self.chunked:
                _warn_length_and_chunked()
                return None
            try:
                # "Content-Length: 42, 42" is allowed as long as every value agrees.
                lengths = {int(value) for value in content_length.split(",")}
            except ValueError:
                length = None
            else:
                if len(lengths) > 1:
                    raise InvalidHeader(
                        f"Content-Length contained multiple unmatching values ({content_length})"
                    )
                length = lengths.pop()
                if length < 0:
                    length = None
        try:
            status = int(self.status)
        except ValueError:
            status = 0
        if status in (204, 304) or 100 <= status < 200 or request_method == "HEAD":
            length = 0
        return length

    # -- error handling ----------------------------------------------------------------------

    def _translate_error(self, error: BaseException) -> BaseException | None:
        """The urllib3 exception a low-level read error becomes, or None to let it through."""
        if isinstance(error, SocketTimeout):
            return ReadTimeoutError(self._pool, None, "Read timed out.")  # type: ignore[arg-type]
        if isinstance(error, BaseSSLError):
            return SSLError(error)
        if isinstance(error, IncompleteRead):
            if error.expected is not None and error.expected == -error.partial:
                return ProtocolError("Response may not contain content.", error)
            return ProtocolError(f"Connection broken: {error!r}", error)
        if isinstance(error, (HTTPException, OSError)):
            return ProtocolError(f"Connection broken: {error!r}", error)
        return None

    def _read_failed(self, error: BaseException) -> BaseException | None:
        """After a raw read raised ``error``: give up the body and the connection, and return
        the exception to raise instead (None: re-raise ``error``)."""
        self._abandon()
        self._release_if_done()
        return self._translate_error(error)

    def _abandon(self) -> None:
        """After a failed read: make sure neither the body nor the connection is reused."""
        if self._original_response is not None:
            self._original_response.close()
        if self._reader is not None:
            self._reader.close()
        if self._connection is not None:
            self._connection.close()

    def _release_if_done(self) -> None:
        reader = self._reader
        original = self._original_response
        if (reader is not None and reader.isclosed()) or (
            original is not None and original.isclosed()
        ):
            self.release_conn()

    @contextmanager
    def _error_catcher(self) -> Generator[None]:
        """Map low-level read errors to urllib3's; on any failure close the connection.

        On the way out, a body read to its end releases the connection to the pool.
        """
        clean_exit = False
        try:
            try:
                yield
            except BaseException as e:
                mapped = self._translate_error(e)
                if mapped is not None:
                    raise mapped from e
                raise
            clean_exit = True
        finally:
            if not clean_exit:
                self._abandon()
            self._release_if_done()

    # -- raw reads ---------------------------------------------------------------------------

    def _raw_read(self, amt: int | None = None, *, read1: bool = False) -> bytes:
        """Read undecoded body bytes, with errors mapped and the connection released at end."""
        fp = self._fp
        if fp is None:
            return None  # type: ignore[return-value]  # as urllib3
        try:
            if fp is not self._reader and getattr(fp, "closed", False):
                data = b""  # a BodyReader returns b"" once closed by itself; others may raise
            elif read1:
                data = fp.read1(amt) if amt is not None else fp.read1()
            else:
                data = fp.read(amt) if amt is not None else fp.read()
            if amt and not data:
                fp.close()
                remaining = self.length_remaining
                if self.enforce_content_length and remaining:
                    # A body file that is not a BodyReader gives no error of its own.
                    raise IncompleteRead(self._fp_bytes_read, remaining)
            elif read1 and (self.length_remaining == len(data) or (amt != 0 and not data)):
                fp.close()
        except BaseException as e:
            mapped = self._read_failed(e)
            if mapped is not None:
                raise mapped from e
            raise
        if data:
            self._fp_bytes_read += len(data)
            if self.length_remaining is not None:
                self.length_remaining -= len(data)
        if self._connection is not None:
            self._release_if_done()
        return data

    # -- decoded reads -----------------------------------------------------------------------

    def read(
        self,
        amt: int | None = None,
        decode_content: bool | None = None,
        cache_content: bool = False,
    ) -> bytes:
        """Read and return up to ``amt`` decoded bytes (all the rest when None).

        ``decode_content`` overrides the response's setting for this call. ``cache_content``
        keeps a whole-body read for :attr:`data` (ignored when ``amt`` is given). Once decoded
        content was returned, ``decode_content=False`` raises ``RuntimeError``.
        """
        if not self._decoder_initialized:
            self._init_decoder()
        if decode_content is None:
            decode_content = self.decode_content
        if amt is not None and amt < 0:
            amt = None
        if amt is None:
            return self._read_rest(decode_content, cache_content)
        return self._read_amt(amt, decode_content)

    def _read_rest(self, decode_content: bool, cache_content: bool) -> bytes:
        data = self._raw_read()
        if not cache_content:
            self._uncached_read_occurred = True
        decoder = self._decoder
        buffer = self._decoded_buffer
        if decoder is not None or buffer or self._has_decoded_content:
            if not data and not buffer and not (decoder and decoder.has_unconsumed_tail):
                return data
            data = self._decode(data, decode_content, flush_decoder=True)
            if decode_content and buffer:
                buffer.put(data)
                data = buffer.get_all()
        if cache_content and not self._uncached_read_occurred:
            self._body = data
        return data

    def _read_amt(self, amt: int, decode_content: bool) -> bytes:
        buffer = self._decoded_buffer
        decoder = self._decoder
        if decoder is not None and decoder.has_unconsumed_tail and len(buffer) < amt:
            buffer.put(self._decode(b"", decode_content, False, amt - len(buffer)))
        if len(buffer) >= amt:
            return buffer.get(amt)

        data = self._raw_read(amt)
        self._uncached_read_occurred = True
        if not data and not buffer and not (decoder and decoder.has_unconsumed_tail):
            return data
        if not decode_content:
            self._refuse_raw_after_decoded("read")
            return data
        if decoder is None and not buffer:
            return data  # nothing to decode: skip the buffer

        flush_decoder = not data
        buffer.put(self._decode(data, True, flush_decoder, amt - len(buffer)))
        while len(buffer) < amt and data:
            data = self._raw_read(amt)
            buffer.put(self._decode(data, True, flush_decoder, amt - len(buffer)))
        return buffer.get(amt)

    def read1(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        """Like :meth:`read`, but with at most one read of the underlying body.

        Returns decoded bytes already buffered first; with ``amt`` None, whatever one read gives.
        """
        if decode_content is None:
            decode_content = self.decode_content
        if amt is not None and amt < 0:
            amt = None
        buffer = self._decoded_buffer
        if self._has_decoded_content:
            if not decode_content:
                self._refuse_raw_after_decoded("read1")
            decoder = self._decoder
            if decoder and decoder.has_unconsumed_tail and (amt is None or len(buffer) < amt):
                limit = amt - len(buffer) if amt is not None else None
                buffer.put(self._decode(b"", decode_content, False, limit))
            if buffer:
                return buffer.get_all() if amt is None else buffer.get(amt)
        if amt == 0:
            return b""

        data = self._raw_read(amt, read1=True)
        self._uncached_read_occurred = True
        if not decode_content or data is None:
            return data
        if not self._decoder_initialized:
            self._init_decoder()
        if self._decoder is None and not buffer:
            return data
        while True:
            flush_decoder = not data
            decoded = self._decode(data, decode_content, flush_decoder, amt)
            buffer.put(decoded)
            if decoded or flush_decoder:
                break
            data = self._raw_read(8192, read1=True)
        if amt is None or not buffer:
            return buffer.get_all()
        return buffer.get(amt)

    def stream(
        self, amt: int | None = _READ_CHUNK_SIZE, decode_content: bool | None = None
    ) -> Generator[bytes]:
        """Yield the body in pieces of at most ``amt`` decoded bytes until it ends.

        Never yields ``b""``. A chunked body is read chunk by chunk (see :meth:`read_chunked`).
        """
        if amt == 0:
            return
        if self.chunked and self.supports_chunked_reads():
            yield from self.read_chunked(amt, decode_content=decode_content)
            return
        buffer = self._decoded_buffer
        while (
            not is_fp_closed(self._fp)
            or len(buffer) > 0
            or (self._decoder is not None and self._decoder.has_unconsumed_tail)
        ):
            data = self.read(amt=amt, decode_content=decode_content)
            if data:
                yield data

    def read_chunked(
        self, amt: int | None = None, decode_content: bool | None = None
    ) -> Generator[bytes]:
        """Yield a chunked body chunk by chunk (pieces of at most ``amt`` bytes).

        As in urllib3, content is decoded only when ``decode_content`` is true: the response's
        own ``decode_content`` setting is not consulted here.
        """
        self._init_decoder()
        if not self.chunked:
            raise ResponseNotChunked(
                "Response is not chunked. Header 'transfer-encoding: chunked' is missing."
            )
        if not self.supports_chunked_reads():
            raise BodyNotHttplibCompatible(
                "Body should be http.client.HTTPResponse like. "
                "It should have have an fp attribute which returns raw chunks."
            )
        reader = typing.cast(BodyReader, self._fp)
        with self._error_catcher():
            if not reader.chunked or reader.isclosed():
                return  # no body (a response to HEAD, 204, 304) or already read
            if amt == 0:
                return
            if amt is not None and amt < 0:
                amt = None
            yield from self._chunks(reader, amt, decode_content)

    def _chunks(
        self, reader: BodyReader, amt: int | None, decode_content: bool | None
    ) -> Generator[bytes]:
        decoder = self._decoder if decode_content else None
        while True:
            if decoder is not None and decoder.has_unconsumed_tail:
                chunk = b""
            else:
                chunk = reader.read_chunk(amt)
                self._uncached_read_occurred = True
                if not chunk:
                    break
                self._fp_bytes_read += len(chunk)
            decoded = self._decode(chunk, decode_content, flush_decoder=False, max_length=amt)
            if decoded:
                yield decoded
        if decode_content:
            decoded = self._flush_decoder()
            if decoded:
                yield decoded

    # -- io.IOBase ---------------------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def shutdown(self) -> None:
        """Shut the socket down for reading, to unblock a read in another thread."""
        if not self._sock_shutdown:
            raise ValueError("Cannot shutdown socket as self._sock_shutdown is not set")
        if self._connection is None:
            raise RuntimeError(
                "Cannot shutdown as connection has already been released to the pool"
            )
        self._sock_shutdown(socket.SHUT_RD)

    def close(self) -> None:
        """Stop reading: close the body and the connection (which is then not reused)."""
        self._sock_shutdown = None
        if not self.closed and self._fp:
            self._fp.close()
        if self._connection:
            self._connection.close()
        if not self.auto_close:
            io.IOBase.close(self)

    @property
    def closed(self) -> bool:
        if not self.auto_close:
            return typing.cast(bool, io.IOBase.closed.__get__(self))
        if self._reader is not None:
            # What reader.isclosed() returns, without the call: io.IOBase's finalizer asks
            # every response whether it is closed.
            return self._reader._done
        fp = self._fp
        if fp is None:
            return True
        isclosed = getattr(fp, "isclosed", None)
        if isclosed is not None:
            return typing.cast(bool, isclosed())
        return typing.cast(bool, getattr(fp, "closed", True))

    def fileno(self) -> int:
        if self._fp is None:
            raise OSError("HTTPResponse has no file to get a fileno from")
        fileno = getattr(self._fp, "fileno", None)
        if fileno is None:
            raise OSError(
                "The file-like object this HTTPResponse is wrapped around has no file descriptor"
            )
        return typing.cast(int, fileno())

    def flush(self) -> None:
        fp = self._fp
        flush = getattr(fp, "flush", None)
        if flush is not None and not getattr(fp, "closed", False):
            flush()

    def supports_chunked_reads(self) -> bool:
        """Whether the body can be read chunk by chunk (it is a :class:`BodyReader`)."""
        return hasattr(self._fp, "read_chunk")

    @property
    def url(self) -> str | None:
        """The URL this response came from; after redirects, the last one."""
        return self._request_url

    @url.setter
    def url(self, url: str | None) -> None:
        self._request_url = url

    def __iter__(self) -> Iterator[bytes]:
        """Yield the decoded body line by line (each line keeps its ``\\n``)."""
        pending: list[bytes] = []
        for chunk in self.stream(decode_content=True):
            if b"\n" not in chunk:
                pending.append(chunk)
                continue
            lines = chunk.split(b"\n")
            yield b"".join(pending) + lines[0] + b"\n"
            for line in lines[1:-1]:
                yield line + b"\n"
            pending = [lines[-1]] if lines[-1] else []
        if pending:
            yield b"".join(pending)


def _says_chunked(headers: HTTPHeaderDict) -> bool:
    """Whether ``Transfer-Encoding`` lists ``chunked`` (urllib3's ``chunked`` attribute)."""
    transfer_encoding = headers.get("transfer-encoding")
    return transfer_encoding is not None and "chunked" in (
        coding.strip() for coding in transfer_encoding.lower().split(",")
    )


def _warn_length_and_chunked() -> None:
    log.warning(
        "Received response with both Content-Length and "
        "Transfer-Encoding set. This is expressly forbidden "
        "by RFC 7230 sec 3.3.2. Ignoring Content-Length and "
        "attempting to process response as Transfer-Encoding: "
        "chunked."
    )
