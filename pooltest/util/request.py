"""Request-side helpers: header shortcuts, body framing, and rewinding bodies for retries.

:func:`body_to_chunks` decides how a request body goes on the wire. It returns the chunks to
send and the ``Content-Length`` to announce; a length of ``None`` means the size is unknown and
the connection must use ``Transfer-Encoding: chunked``:

* no body: no chunks, and ``Content-Length: 0`` only for methods that normally carry a body;
* ``str``/``bytes`` (``str`` is encoded as UTF-8) and any buffer (``bytearray``, ``memoryview``):
  one chunk of known length;
* a readable file object: read ``blocksize`` bytes at a time (text files are encoded as UTF-8),
  length unknown;
* a *sized body* — an object with ``__len__`` and ``__iter__`` that is not a sequence, set or
  mapping, such as a streaming multipart body: its chunks, with ``len(body)`` bytes announced;
* any other iterable (lists of chunks, generators): its chunks, length unknown.

Before a request is sent the pool records the body's position with :func:`set_file_position`;
before a retry or redirect resends it, :func:`rewind_body` seeks back there.
"""

from __future__ import annotations

import importlib
import io
import typing
from base64 import b64encode
from collections.abc import Mapping, Sequence, Set
from enum import Enum

from pooltest.exceptions import UnrewindableBodyError

__all__ = [
    "ACCEPT_ENCODING",
    "SKIPPABLE_HEADERS",
    "SKIP_HEADER",
    "ChunksAndContentLength",
    "body_to_chunks",
    "make_headers",
    "rewind_body",
    "set_file_position",
]

#: A header value meaning "do not send this header at all", for the headers the connection
#: would otherwise add by itself (those in :data:`SKIPPABLE_HEADERS`).
SKIP_HEADER = "@@@SKIP_HEADER@@@"
#: Lower-case names of the headers that :data:`SKIP_HEADER` can suppress.
SKIPPABLE_HEADERS = frozenset(["accept-encoding", "host", "user-agent"])

_TYPE_BODY = bytes | typing.IO[typing.Any] | typing.Iterable[bytes | str] | str


def _importable(*modules: str) -> bool:
    """True if any of ``modules`` imports."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        return True
    return False


def _accept_encoding() -> str:
    """The codings this installation can decode, for ``Accept-Encoding``."""
    codings = "gzip,deflate"
    if _importable("brotlicffi", "brotli"):
        codings += ",br"
    if _importable("zstandard"):
        codings += ",zstd"
    return codings


#: What ``make_headers(accept_encoding=True)`` advertises: gzip and deflate, plus br and zstd
#: when their optional decoders are installed. Computed once, at import.
ACCEPT_ENCODING = _accept_encoding()


class _TYPE_FAILEDTELL(Enum):
    token = 0


#: Recorded instead of a position when ``body.tell()`` failed: such a body cannot be rewound.
_FAILEDTELL: typing.Final = _TYPE_FAILEDTELL.token

_TYPE_BODY_POSITION = int | _TYPE_FAILEDTELL

# Methods that normally carry no body, so a missing body needs no "Content-Length: 0". Unknown
# methods are treated like POST.
_METHODS_NOT_EXPECTING_BODY = frozenset(["GET", "HEAD", "DELETE", "TRACE", "OPTIONS", "CONNECT"])


def _basic(credentials: str, encoding: str) -> str:
    return "Basic " + b64encode(credentials.encode(encoding)).decode()


def make_headers(
    keep_alive: bool | None = None,
    accept_encoding: bool | list[str] | str | None = None,
    user_agent: str | None = None,
    basic_auth: str | None = None,
    proxy_basic_auth: str | None = None,
    disable_cache: bool | None = None,
    *,
    basic_auth_encoding: str = "latin-1",
    proxy_basic_auth_encoding: str = "latin-1",
) -> dict[str, str]:
    """Build common request headers (lower-case names) from shortcuts.

    :param keep_alive: add ``connection: keep-alive``.
    :param accept_encoding: ``True`` for :data:`ACCEPT_ENCODING`, a list (joined with commas)
        or a string used as is.
    :param user_agent: the ``user-agent`` value.
    :param basic_auth: ``"user:password"`` (not percent-encoded) for ``authorization: Basic``,
        encoded with ``basic_auth_encoding`` before Base64.
    :param proxy_basic_auth: same, for ``proxy-authorization``, encoded with
        ``proxy_basic_auth_encoding``.
    :param disable_cache: add ``cache-control: no-cache``.
    """
    headers: dict[str, str] = {}
    if accept_encoding:
        if isinstance(accept_encoding, list):
            accept_encoding = ",".join(accept_encoding)
        elif not isinstance(accept_encoding, str):
            accept_encoding = ACCEPT_ENCODING
        headers["accept-encoding"] = accept_encoding
    if user_agent:
        headers["user-agent"] = user_agent
    if keep_alive:
        headers["connection"] = "keep-alive"
    if basic_auth:
        headers["authorization"] = _basic(basic_auth, basic_auth_encoding)
    if proxy_basic_auth:
        headers["proxy-authorization"] = _basic(proxy_basic_auth, proxy_basic_auth_encoding)
    if disable_cache:
        headers["cache-control"] = "no-cache"
    return headers


def set_file_position(
    body: typing.Any, pos: _TYPE_BODY_POSITION | None
) -> _TYPE_BODY_POSITION | None:
    """Rewind ``body`` to ``pos`` if one is given; otherwise record where the body starts.

    Returns the position to rewind to later: ``body.tell()``, ``_FAILEDTELL`` if ``tell()``
    raised, or None when the body has no ``tell``.
    """
    if pos is not None:
        rewind_body(body, pos)
    elif getattr(body, "tell", None) is not None:
        try:
            pos = body.tell()
        except OSError:
            pos = _FAILEDTELL
    return pos


def rewind_body(body: typing.IO[typing.AnyStr], body_pos: _TYPE_BODY_POSITION) -> None:
    """Seek ``body`` back to ``body_pos`` so it can be sent again (retry or redirect).

    Raises :class:`~pooltest.exceptions.UnrewindableBodyError` if seeking fails, if the start
    position could not be recorded, or if the body cannot seek; ``ValueError`` if ``body_pos``
    is not an int.
    """
    body_seek = getattr(body, "seek", None)
    if body_seek is not None and isinstance(body_pos, int):
        try:
            body_seek(body_pos)
        except OSError as e:
            raise UnrewindableBodyError(
                "An error occurred when rewinding request body for redirect/retry."
            ) from e
    elif body_pos is _FAILEDTELL:
        raise UnrewindableBodyError(
            "Unable to record file position for rewinding request body during a redirect/retry."
        )
    elif body_seek is None:
        raise UnrewindableBodyError("body does not implement seek.")
    else:
        raise ValueError(f"body_pos must be of type integer, instead it was {type(body_pos)}.")


class ChunksAndContentLength(typing.NamedTuple):
    """What :func:`body_to_chunks` returns: data to send and the length to announce."""

    chunks: typing.Iterable[bytes] | None
    content_length: int | None


# body_to_chunks' answers for no body at all.
_NO_LENGTH = ChunksAndContentLength(None, None)
_ZERO_LENGTH = ChunksAndContentLength(None, 0)


def _read_blocks(body: typing.Any, blocksize: int) -> typing.Iterator[bytes]:
    """Yield ``blocksize`` reads of a file object until it is exhausted (text as UTF-8)."""
    read = body.read
    if isinstance(body, io.TextIOBase):
        while block := read(blocksize):
            yield block.encode("utf-8")
    else:
        while block := read(blocksize):
            yield block


def _is_sized_body(body: object) -> bool:
    """True for bodies that know their byte length: sized, but not a container of chunks."""
    return hasattr(body, "__len__") and not isinstance(body, (Sequence, Set, Mapping))


def body_to_chunks(body: typing.Any | None, method: str, blocksize: int) -> ChunksAndContentLength:
    """Turn a request body into chunks for ``socket.sendall`` and a ``Content-Length``.

    ``content_length`` is None when the size is unknown (send chunked); see the module
    docstring for the rules. Raises ``TypeError`` for a body that is none of the accepted kinds.
    """
    if body is None:  # the usual case: answered with a shared (immutable) result
        return _NO_LENGTH if method.upper() in _METHODS_NOT_EXPECTING_BODY else _ZERO_LENGTH
    if isinstance(body, bytes):
        return ChunksAndContentLength((body,), len(body))
    if isinstance(body, str):
        data = body.encode("utf-8")
        return ChunksAndContentLength((data,), len(data))
    if hasattr(body, "read"):
        return ChunksAndContentLength(_read_blocks(body, blocksize), None)
    try:
        with memoryview(body) as view:
            nbytes = view.nbytes
    except TypeError:
        pass
    else:
        return ChunksAndContentLength((body,), nbytes)
    try:
        chunks = iter(body)
    except TypeError:
        raise TypeError(
            "'body' must be a bytes-like object, file-like object, or iterable. "
            f"Instead was {body!r}"
        ) from None
    return ChunksAndContentLength(chunks, len(body) if _is_sized_body(body) else None)
