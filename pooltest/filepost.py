"""Encoding form fields as a ``multipart/form-data`` body, in memory or streamed from files.

The wire format, for every field: ``--BOUNDARY\\r\\n``, the field's header block (see
:meth:`pooltest.fields.RequestField.render_headers`, UTF-8 encoded), the data (``str`` as UTF-8,
``bytes`` as-is, ``int`` via ``str()`` for old callers), then ``\\r\\n``; after the last field,
``--BOUNDARY--\\r\\n``. :func:`encode_multipart_formdata` builds those bytes in memory.

Streaming: when a field's data is a binary file object, :func:`multipart_body` returns a
:class:`MultipartBody` instead. It splits the body into *segments*: the fixed bytes between
files (adjacent ones merged) and, for each file, ``(file, start offset, size)``. Sizes are known
up front from ``tell()`` and ``seek(0, SEEK_END)`` (restoring the position), so ``len(body)`` is
the exact Content-Length without reading anything. Iterating seeks each file back to its start
offset and reads at most 64 KiB at a time, so the body can be sent again (retries, 307/308
redirects) and a file of any size costs a constant amount of memory. Iterating produces the same
bytes as :func:`encode_multipart_formdata` would for the files' contents.
"""

from __future__ import annotations

import io
import os
import typing

from .fields import _TYPE_FIELD_VALUE_TUPLE, RequestField

__all__ = [
    "MultipartBody",
    "choose_boundary",
    "encode_multipart_formdata",
    "iter_field_objects",
    "multipart_body",
]

_TYPE_FIELDS_SEQUENCE = typing.Sequence[tuple[str, _TYPE_FIELD_VALUE_TUPLE] | RequestField]
_TYPE_FIELDS = _TYPE_FIELDS_SEQUENCE | typing.Mapping[str, _TYPE_FIELD_VALUE_TUPLE]

#: Largest chunk a :class:`MultipartBody` yields, and largest single read from a file.
CHUNK_SIZE = 64 * 1024


class _FileSegment(typing.NamedTuple):
    """A file's share of a streamed body: ``size`` bytes of ``file`` from offset ``start``."""

    name: str
    file: typing.IO[bytes]
    start: int
    size: int


def choose_boundary() -> str:
    """Return a fresh random boundary: 32 lowercase hex digits (16 random bytes)."""
    return os.urandom(16).hex()


def iter_field_objects(fields: _TYPE_FIELDS) -> typing.Iterator[RequestField]:
    """Yield a :class:`RequestField` for each of ``fields``.

    ``fields`` is a mapping of name to value, or a sequence whose items are ``(name, value)``
    pairs or ready :class:`RequestField` objects (passed through unchanged). Values are
    turned into fields by :meth:`RequestField.from_tuples`.
    """
    items = fields.items() if isinstance(fields, typing.Mapping) else fields
    for item in items:
        if isinstance(item, RequestField):
            yield item
        else:
            yield RequestField.from_tuples(*item)


def _is_file(data: object) -> bool:
    """Whether a field's data is a file object to stream (anything with ``read``)."""
    return not isinstance(data, (str, bytes)) and hasattr(data, "read")


def _data_bytes(data: object) -> bytes:
    """Return an in-memory field value as the bytes that go on the wire.

    ``str`` is UTF-8 encoded, ``int`` goes through ``str()``, bytes-like objects are copied
    as-is; anything else raises TypeError.
    """
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, int):
        return str(data).encode("utf-8")
    try:
        return memoryview(data).tobytes()  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"multipart field data must be str, bytes or a binary file object, not "
            f"{type(data).__name__!r}"
        ) from None


def _read_whole(field: RequestField) -> bytes:
    """Read a file-valued field from its current position to its end (in-memory encoding)."""
    content = typing.cast("typing.IO[bytes]", field.data).read()
    if not isinstance(content, bytes):
        raise _text_file_error(field._name)
    return content


def _text_file_error(name: str) -> TypeError:
    return TypeError(f"multipart file field {name!r} must be opened in binary mode ('rb')")


def encode_multipart_formdata(
    fields: _TYPE_FIELDS, boundary: str | None = None
) -> tuple[bytes, str]:
    """Encode ``fields`` as multipart/form-data; return ``(body, content_type)``.

    ``fields`` is as for :func:`iter_field_objects`. ``boundary`` defaults to
    :func:`choose_boundary`; it must be latin-1 encodable. The content type is
    ``multipart/form-data; boundary=...``. File objects among the values are read to their
    end here; use :func:`multipart_body` to stream them instead.
    """
    if boundary is None:
        boundary = choose_boundary()
    delimiter = f"--{boundary}\r\n".encode("latin-1")
    parts: list[bytes] = []
    append = parts.append
    for field in iter_field_objects(fields):
        append(delimiter)
        append(field.render_headers().encode("utf-8"))
        data = field.data
        append(_read_whole(field) if _is_file(data) else _data_bytes(data))
        append(b"\r\n")
    append(f"--{boundary}--\r\n".encode("latin-1"))
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def multipart_body(
    fields: _TYPE_FIELDS, boundary: str | None = None
) -> tuple[bytes | MultipartBody, str]:
    """Encode ``fields`` as multipart/form-data, streaming any file-valued field.

    Returns ``(body, content_type)``. ``body`` is a :class:`MultipartBody` when at least one
    field's data is a file object (anything with ``read``), and the bytes of
    :func:`encode_multipart_formdata` otherwise. Raises ValueError when a file's size cannot be
    known (see :class:`MultipartBody`).
    """
    if boundary is None:
        boundary = choose_boundary()
    field_list = list(iter_field_objects(fields))
    if any(_is_file(field.data) for field in field_list):
        body = MultipartBody(field_list, boundary)
        return body, body.content_type
    return encode_multipart_formdata(field_list, boundary)


def _file_segment(field: RequestField) -> _FileSegment:
    """Record where a file field's data starts and how long it is, leaving its position as is.

    Raises TypeError for a text-mode file and ValueError when the file cannot seek or tell.
    """
    if isinstance(field.data, io.TextIOBase):
        raise _text_file_error(field._name)
    file = typing.cast("typing.IO[bytes]", field.data)
    try:
        if hasattr(file, "seekable") and not file.seekable():
            raise OSError("not seekable")
        start = file.tell()
        end = file.seek(0, os.SEEK_END)
        file.seek(start)
    except (AttributeError, OSError) as exc:  # io.UnsupportedOperation is an OSError.
        raise ValueError(
            f"cannot stream multipart file field {field._name!r}: its size cannot be known "
            f"because the file object cannot seek and tell ({exc}); pass its content as bytes"
        ) from exc
    return _FileSegment(field._name, file, start, max(end - start, 0))


class MultipartBody:
    """A multipart/form-data body that streams its file fields; built by :func:`multipart_body`.

    Contract:

    * ``len(body)`` is the exact number of bytes iteration yields, computed once at
      construction (each file counts from its position at that time to its end).
    * Every ``iter(body)`` starts over: it seeks each file back to where it was at
      construction, so the same body can be sent more than once.
    * Iteration yields non-empty ``bytes`` chunks of at most :data:`CHUNK_SIZE` (64 KiB) and
      never holds more than one chunk of file data in memory.
    * If a file is shorter than it was at construction, iteration raises ValueError; extra
      bytes appended since are not sent. Files are never closed by the body.

    ``content_type`` is ``multipart/form-data; boundary=...``; ``boundary`` is the boundary.
    """

    __slots__ = ("_length", "_segments", "boundary", "content_type")

    def __init__(self, fields: typing.Iterable[RequestField], boundary: str) -> None:
        self.boundary = boundary
        self.content_type = f"multipart/form-data; boundary={boundary}"
        self._segments = _build_segments(fields, boundary)
        self._length = sum(
            len(segment) if isinstance(segment, bytes) else segment.size
            for segment in self._segments
        )

    def __len__(self) -> int:
        return self._length

    def __repr__(self) -> str:
        return f"<MultipartBody boundary={self.boundary!r} length={self._length}>"

    def __iter__(self) -> typing.Iterator[bytes]:
        pending = bytearray()
        for segment in self._segments:
            if isinstance(segment, bytes):
                pending += segment
                while len(pending) >= CHUNK_SIZE:
                    yield bytes(pending[:CHUNK_SIZE])
                    del pending[:CHUNK_SIZE]
            else:
                yield from _stream_file(segment, pending)
        if pending:
            yield bytes(pending)


def _build_segments(
    fields: typing.Iterable[RequestField], boundary: str
) -> list[bytes | _FileSegment]:
    """Lay out the body as fixed bytes and file segments, merging adjacent fixed bytes."""
    segments: list[bytes | _FileSegment] = []
    fixed: list[bytes] = []
    delimiter = f"--{boundary}\r\n".encode("latin-1")
    for field in fields:
        fixed += (delimiter, field.render_headers().encode("utf-8"))
        if _is_file(field.data):
            segments.append(b"".join(fixed))
            segments.append(_file_segment(field))
            fixed = []
        else:
            fixed.append(_data_bytes(field.data))
        fixed.append(b"\r\n")
    fixed.append(f"--{boundary}--\r\n".encode("latin-1"))
    segments.append(b"".join(fixed))
    return segments


def _stream_file(segment: _FileSegment, pending: bytearray) -> typing.Iterator[bytes]:
    """Yield one file's bytes in chunks of at most CHUNK_SIZE, topping up ``pending`` first.

    ``pending`` holds fixed bytes not yet yielded (fewer than CHUNK_SIZE); the first read is
    sized so that ``pending`` plus it makes one full chunk. What remains in ``pending`` on return
    is for the caller to yield.
    """
    file = segment.file
    file.seek(segment.start)
    remaining = segment.size
    while remaining:
        data = file.read(min(CHUNK_SIZE - len(pending), remaining))
        if not data:
            raise ValueError(
                f"multipart file field {segment.name!r} ended {remaining} bytes early: "
                f"the file shrank after the body was built"
            )
        if not isinstance(data, bytes):
            raise _text_file_error(segment.name)
        remaining -= len(data)
        if pending:
            pending += data
            if len(pending) >= CHUNK_SIZE:
                yield bytes(pending)
                pending.clear()
        elif len(data) == CHUNK_SIZE:
            yield data
        else:
            pending += data
