"""HTTP/1.1 on the wire: request heads out, response heads in. No sockets here.

Sending
    :func:`encode_request_head` validates and serialises the request line and headers. Anything
    that could split a request (CR, LF or NUL in the method, target or a header; a method or header
    name that is not an RFC 9110 token) raises ``ValueError`` before a byte is produced, so nothing
    reaches the network.

Receiving
    :func:`read_response` reads the status line and headers from a buffered binary reader, skips
    interim 1xx responses (except 101), folds obsolete line folding into single-line values,
    replaces a bare CR inside a header line by a space (so no parsed value holds CR or LF), and
    decides the body framing (RFC 9112 section 6.3):

    1. a response to HEAD, and 1xx/204/304 responses, have no body;
    2. ``Transfer-Encoding`` ending in ``chunked`` means chunked, any other transfer coding means
       the body runs to the end of the connection;
    3. otherwise a valid ``Content-Length`` (repeated identical values allowed) gives the length;
    4. otherwise the body runs to the end of the connection.

    The connection can carry another request only if the body is self-delimiting (rules 1-3), the
    response is HTTP/1.1 without ``Connection: close`` (or HTTP/1.0 with ``keep-alive``), and the
    request did not ask to close.

The reader may be ``socket.makefile("rb")`` (live) or ``io.BytesIO`` (replay): the same parser
runs both ways. Every line read is bounded, and the number of headers is capped.

The usual header block (CRLF line ends, names seen before) takes a fast path that splits it in
one pass and fills the header dict's storage in the same loop; any other block goes through the
line-by-line parser, which defines the result (both are tested to agree). When the whole head is
already at hand (in an ``io.BufferedReader``'s buffer, or in an ``io.BytesIO``) and its status
line was seen before, the head is taken in one read instead of one ``readline`` per line, on the
same conditions, so that it cannot differ from the line-by-line result either.
"""

from __future__ import annotations

import http.client
import itertools
import re
import typing
from collections.abc import Callable, Iterable, Iterator

# Imported by name: the io module has a __getattr__, so CPython 3.11 cannot speed up io.X reads.
from io import BufferedReader, BytesIO

from ._base_connection import _ResponseOptions
from ._body import new_body_reader
from ._collections import HTTPHeaderDict
from .exceptions import InvalidHeader
from .response import HTTPResponse

if typing.TYPE_CHECKING:
    from typing import BinaryIO

#: Longest status or header line accepted, like the standard library's limit.
MAX_LINE = 65536
#: Most header lines accepted in one response head.
MAX_HEADERS = 100
#: Most head bytes the one-read head path looks at (io.BufferedReader's default buffer size;
#: far below MAX_LINE, so no line it accepts can be too long).
_HEAD_WINDOW = 8192

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CTL_IN_TARGET = re.compile(r"[\x00-\x20\x7f]")
_CTL_IN_VALUE = re.compile(r"[\x00\r\n]")
_NON_TOKEN = re.compile(r"[^!#$%&'*+\-.^_`|~0-9A-Za-z]")

# Request heads are built from str and encoded once; header values may also arrive as bytes/int.
HeaderValue = str | bytes | int
#: ``on_head(version, status, reason, header pairs, chunked, length)`` of :func:`read_response`;
#: it returns the stream to read the body from instead of the response's own, or None.
HeadListener = Callable[
    [str, int, str, list[tuple[str, str]], bool, "int | None"], "BinaryIO | None"
]


def check_method(method: str) -> None:
    """Raise ``ValueError`` unless ``method`` is an HTTP token."""
    if method.isalpha() and method.isascii():  # ASCII letters only: a token, without the regex
        return
    if _TOKEN.fullmatch(method) is None:
        found = _NON_TOKEN.search(method)
        raise ValueError(
            f"Method cannot contain non-token characters {method!r} "
            f"(found at least {found.group() if found else ''!r})"
        )


def check_target(target: str) -> None:
    """Raise ``http.client.InvalidURL`` if the request target holds spaces or control chars."""
    # Printable ASCII (0x20-0x7e) without a space holds none of them: no regex needed.
    if target.isascii() and target.isprintable() and " " not in target:
        return
    found = _CTL_IN_TARGET.search(target)
    if found is not None:
        raise http.client.InvalidURL(
            f"URL can't contain control characters. {target!r} (found at least {found.group()!r})"
        )


def _header_value(name: str, value: HeaderValue) -> str:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    elif isinstance(value, int):
        value = str(value)
    if _CTL_IN_VALUE.search(value) is not None:
        raise ValueError(f"Invalid header value {value!r} for header {name!r}")
    return value


def encode_request_head(
    method: str, target: str, headers: Iterable[tuple[str, HeaderValue]]
) -> bytes:
    """Serialise a request line and headers, validating every piece first.

    Header values are encoded as Latin-1 (as ``http.client`` does); a value that is not Latin-1
    raises ``UnicodeEncodeError`` before anything is sent. Fields that pass are remembered as
    checked (see ``_CHECKED_FIELDS``): the next head with only such fields just writes them.
    """
    check_method(method)
    check_target(target)
    lines = [f"{method} {target} HTTP/1.1"]
    if _all_checked(headers):  # each field checked before (a tuple or list): only its text
        for name, value in headers:
            lines.append(f"{name}: {value if type(value) is str else _header_value(name, value)}")
        lines.append("\r\n")
        return "\r\n".join(lines).encode("latin-1")
    fresh: list[tuple[str, HeaderValue]] = []
    for field in headers:
        name, value = field
        if _TOKEN.fullmatch(name) is None:
            raise ValueError(f"Invalid header name {name!r}")
        lines.append(f"{name}: {_header_value(name, value)}")
        fresh.append(field)
    lines.append("\r\n")
    head = "\r\n".join(lines).encode("latin-1")
    # Every field passed, Latin-1 included: what check_fields remembers (see _CHECKED_FIELDS).
    _remember_checked(fresh)
    return head


def _remember_checked(fields: list[tuple[str, HeaderValue]]) -> None:
    """Add fields that passed the checks to ``_CHECKED_FIELDS`` (tuples only, while it has room)."""
    checked = _CHECKED_FIELDS
    for field in fields:
        if len(checked) >= 4096:
            return
        if type(field) is tuple:
            try:
                checked.add(field)
            except TypeError:  # an unhashable value (a caller's own type)
                return


# Header fields already checked (by check_fields, or by encode_request_head): a client sends the
# same few fields over and over, so each distinct field is checked once (bounded; a set add is
# atomic).
_CHECKED_FIELDS: set[tuple[str, HeaderValue]] = set()


def check_fields(method: str, target: str, fields: Iterable[tuple[str, HeaderValue]]) -> None:
    """Validate a request as :func:`encode_request_head` does, without serialising it.

    Raises what :func:`encode_request_head` raises, ``UnicodeEncodeError`` for a value that is
    not Latin-1 included.
    """
    # The usual request at once: a letters-only method, a printable ASCII target without spaces
    # (what check_method and check_target accept without their regexes; ASCII also encodes as
    # Latin-1) and only fields checked before. Anything else takes the general checks below.
    if (
        method.isalpha()
        and method.isascii()
        and target.isascii()
        and target.isprintable()
        and " " not in target
        and _all_checked(fields)
    ):
        return
    check_method(method)
    check_target(target)
    checked = _CHECKED_FIELDS
    if _all_checked(fields):
        target.encode("latin-1")
        return
    unchecked: list[tuple[tuple[str, HeaderValue], str]] = []
    for field in fields:
        if field not in checked:
            name, value = field
            if _TOKEN.fullmatch(name) is None:
                raise ValueError(f"Invalid header name {name!r}")
            unchecked.append((field, _header_value(name, value)))
    # Encoding comes last, as in encode_request_head: a bad name or value anywhere wins.
    target.encode("latin-1")
    for field, text in unchecked:
        text.encode("latin-1")
        if len(checked) < 4096:
            checked.add(field)


# The tuple of fields _all_checked last found checked: a connection sends one tuple of default
# fields again and again (HTTPConnection._prepare_fields), and a tuple (of str, bytes and int)
# never changes, so it is known at once. Held by reference; replacing it is atomic.
_last_checked: list[object] = [None]


def _all_checked(fields: Iterable[tuple[str, HeaderValue]]) -> bool:
    """Whether every field of a tuple or list is in ``_CHECKED_FIELDS`` (one C-level pass; an
    iterator is not consumed, and an unhashable field is left to check_fields' own loop)."""
    if fields is _last_checked[0]:
        return True
    if type(fields) is not tuple and type(fields) is not list:
        return False
    try:
        checked = _CHECKED_FIELDS.issuperset(fields)
    except TypeError:
        return False
    if checked and type(fields) is tuple:
        _last_checked[0] = fields
    return checked


def check_request(method: str, headers: typing.Mapping[str, typing.Any] | None) -> None:
    """Validate a method and header fields as :func:`encode_request_head` would.

    Pools call it before opening a connection, so that a request that could never be sent
    does not even cost a TCP or TLS handshake.
    """
    check_method(method)
    for name, value in (headers or {}).items():
        if _TOKEN.fullmatch(name) is None:
            raise ValueError(f"Invalid header name {name!r}")
        if isinstance(value, (str, bytes, int)):
            _header_value(name, value)


# Status lines already parsed: a server sends the same few ("HTTP/1.1 200 OK\r\n") again and
# again, so each is parsed once. Only short lines are kept and the memo is bounded; a dict get or
# set is atomic, and a line that fails to parse is never stored.
_STATUS_MEMO: dict[bytes, tuple[str, int, str]] = {}
_STATUS_MEMO_LINE = 64
_STATUS_MEMO_SIZE = 256
# The memo's final (>= 200, or 101) CRLF-ended lines again, keyed by their text without the CRLF:
# what the one-read head path (_take_plain_head) looks a status line up in. Filled with the memo,
# and bounded like it.
_FINAL_STATUS_TEXTS: dict[str, tuple[str, int, str]] = {}


def _read_status(fp: BinaryIO) -> tuple[str, int, str]:
    line = fp.readline(MAX_LINE + 1)
    known = _STATUS_MEMO.get(line)
    if known is not None:
        return known
    if len(line) > MAX_LINE:
        raise http.client.LineTooLong("status line")
    if not line:
        raise http.client.RemoteDisconnected("Remote end closed connection without response")
    parsed = _parse_status(line)
    if len(line) <= _STATUS_MEMO_LINE and len(_STATUS_MEMO) < _STATUS_MEMO_SIZE:
        _STATUS_MEMO[line] = parsed
        if _is_final_crlf_line(line, parsed[1]) and len(_FINAL_STATUS_TEXTS) < _STATUS_MEMO_SIZE:
            _FINAL_STATUS_TEXTS[line[:-2].decode("latin-1")] = parsed
    return parsed


def _is_final_crlf_line(line: bytes, status: int) -> bool:
    """Whether a status line ends in CRLF and starts a final response (101 counts as final)."""
    return line[-2:] == b"\r\n" and (status >= 200 or status == 101)


def _parse_status(line: bytes) -> tuple[str, int, str]:
    """``(version, status, reason)`` of one status line, or ``BadStatusLine``."""
    # Errors carry the decoded line, as http.client's do (urllib3 shows them in its messages).
    text = line.decode("latin-1")
    parts = text.rstrip("\r\n").split(" ", 2)
    version = parts[0]
    if len(parts) < 2 or version not in ("HTTP/1.1", "HTTP/1.0") or len(parts[1]) != 3:
        raise http.client.BadStatusLine(text)
    status_text = parts[1]
    if not status_text.isdigit() or not status_text.isascii():
        raise http.client.BadStatusLine(text)
    status = int(status_text)
    if status < 100:
        raise http.client.BadStatusLine(text)
    reason = parts[2].strip() if len(parts) == 3 else ""
    return version, status, reason


# Header names already checked to be tokens, each mapped to its lower-cased form (the key of
# HTTPHeaderDict's storage): most responses repeat the same few names, so the token check and
# the lower() run once per name, not once per header line (bounded; a dict set is atomic).
_TOKEN_NAMES: dict[str, str] = {}
_BLANK_LINES = frozenset((b"\r\n", b"\n", b""))

# A header block as pairs, and the HTTPHeaderDict storage those pairs make when the fast path
# could build it on the way (None: build it from the pairs).
_Block = tuple[list[tuple[str, str]], dict[str, list[str]] | None]
# A final head: version, status, reason, header pairs, and the storage as in _Block.
_Head = tuple[str, int, str, list[tuple[str, str]], dict[str, list[str]] | None]


def _read_headers(fp: BinaryIO) -> list[tuple[str, str]]:
    """Read header lines up to the blank line; obs-fold continuations join their header."""
    return _read_block(fp)[0]


def _read_block(fp: BinaryIO) -> _Block:
    """:func:`_read_headers`, with the header dict storage when the fast path built it."""
    readline = fp.readline
    lines: list[bytes] = []
    # Up to MAX_HEADERS + 1 lines: the general parser would read at least as many.
    for _ in range(MAX_HEADERS + 1):
        line = readline(MAX_LINE + 1)
        if line in _BLANK_LINES:
            return _split_block(lines)
        lines.append(line)
        if len(line) > MAX_LINE:
            break
    # A line too long or too many lines: the general parser decides, reading on from fp.
    return _parse_fields(itertools.chain(lines, _raw_lines(fp))), None


def _split_fields(lines: list[bytes]) -> list[tuple[str, str]]:
    """The fields of a complete header block (no line longer than MAX_LINE)."""
    return _split_block(lines)[0]


def _split_block(lines: list[bytes]) -> _Block:
    """The fields of a complete header block, and their header dict storage when built here.

    Fast path: when every line ends in CRLF, holds no other CR or LF and starts with a name
    already known to be a token followed by a colon, each line is just ``name:value``; the
    storage ``HTTPHeaderDict._from_pairs`` would make is filled in the same loop (the lower-cased
    names come from the known-names memo). Anything else (obs-fold, bare CR or LF, a new or
    invalid name, a line without colon) goes to :func:`_parse_fields`, which defines the result.
    """
    text = b"".join(lines).decode("latin-1")
    count = len(lines)
    fields = text.split("\r\n")
    # Each line holds one LF, at its end: count + 1 pieces means every line ends in CRLF.
    if len(fields) == count + 1 and text.count("\r") == count:
        fields.pop()  # the empty string after the last CRLF
        block = _known_fields(iter(fields))
        if block is not None:
            return block
    return _parse_fields(iter(lines)), None


def _known_fields(
    fields: Iterator[str],
) -> tuple[list[tuple[str, str]], dict[str, list[str]]] | None:
    """Pairs and header dict storage of header lines (without line ends, CR or LF) whose names
    are all known tokens followed by a colon; None as soon as one is not."""
    known = _TOKEN_NAMES
    pairs: list[tuple[str, str]] = []
    append = pairs.append
    container: dict[str, list[str]] = {}
    for field in fields:
        name, colon, value = field.partition(":")
        key = known.get(name)
        if key is None or not colon:
            return None
        value = value.strip(" \t")
        append((name, value))
        # As _from_pairs: a repeated name adds its value to the first one's line.
        if key in container:
            container[key].append(value)
        else:
            container[key] = [name, value]
    return pairs, container


def _raw_lines(fp: BinaryIO) -> Iterator[bytes]:
    readline = fp.readline
    while True:
        yield readline(MAX_LINE + 1)


def _parse_fields(lines: Iterator[bytes]) -> list[tuple[str, str]]:
    """Parse header lines up to a blank line (or the end of ``lines``), raising on limits.

    Lines are taken one at a time, so when ``lines`` reads from a stream nothing is read past
    the line that ends the head or breaks a limit.
    """
    pairs: list[tuple[str, str]] = []
    known = _TOKEN_NAMES
    for line in lines:
        if line in _BLANK_LINES:
            return pairs
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("header line")
        if len(pairs) >= MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")
        text = line.decode("latin-1")
        cr = text.find("\r")
        if 0 <= cr < len(text) - 2:  # a bare CR inside the line becomes SP (RFC 9112 section 2.2)
            content = text.rstrip("\r\n")
            text = content.replace("\r", " ") + text[len(content) :]
        if text[0] in " \t":
            if pairs:  # obsolete line folding: continue the previous value on one line
                name, value = pairs[-1]
                pairs[-1] = (name, f"{value} {text.strip()}".strip())
            continue
        name, colon, value = text.partition(":")
        if not colon:
            continue  # not a header line; dropped rather than smuggled into a value
        if name not in known:
            if _TOKEN.fullmatch(name) is None:
                continue
            if len(known) < 4096:
                known[name] = name.lower()
        pairs.append((name, value.strip(" \t\r\n")))
    return pairs


def read_response_head(fp: BinaryIO) -> tuple[str, int, str, list[tuple[str, str]]]:
    """Read the final response head: ``(version_string, status, reason, headers)``.

    Interim 1xx responses other than 101 are read and discarded.
    """
    return (_take_plain_head(fp) or _read_final_head(fp))[:4]


def _read_final_head(fp: BinaryIO) -> _Head:
    """:func:`read_response_head` line by line, plus the header dict storage when
    :func:`_split_block`'s fast path built it. Callers try :func:`_take_plain_head` first."""
    for _ in range(MAX_HEADERS):
        version, status, reason = _read_status(fp)
        pairs, container = _read_block(fp)
        if status >= 200 or status == 101:
            return version, status, reason, pairs, container
    raise http.client.HTTPException("too many interim (1xx) responses")


def _take_plain_head(fp: BinaryIO) -> _Head | None:
    """The final head read in one step when it is plain and already at hand, else None.

    Plain: the first blank line lies within the first ``_HEAD_WINDOW`` bytes the stream holds
    (``peek`` of an ``io.BufferedReader``, a read of an ``io.BytesIO``), every line ends in CRLF
    and holds no other CR or LF, the status line is a final one parsed before, and every header
    name is known. Then the line-by-line reader would read exactly these lines and take
    :func:`_split_block`'s fast path: the same result, without a ``readline`` per line. Exactly
    the head's bytes are consumed on success, nothing otherwise (the general path then runs).
    """
    kind = type(fp)
    if kind is BufferedReader:
        if fp.closed:
            return None  # the general path raises readline's own error
        # The buffered bytes, after at most one raw read (which readline would do as well).
        window = fp.peek(_HEAD_WINDOW)  # type: ignore[attr-defined]  # a BufferedReader's
        start = -1  # nothing to seek back to: peek consumed nothing
    elif kind is BytesIO:
        start = fp.tell()
        window = fp.read(_HEAD_WINDOW)
    else:
        return None
    end = window.find(b"\r\n\r\n", 0, _HEAD_WINDOW)
    head = _plain_head(window[:end].decode("latin-1")) if end >= 0 else None
    if start < 0:
        if head is not None:
            fp.read(end + 4)  # taken from the buffer just peeked at: no I/O
    else:
        fp.seek(start if head is None else start + end + 4)
    return head


def _plain_head(text: str) -> _Head | None:
    """The head whose lines, CRLF-separated and without the final blank line, are ``text``;
    None unless it is plain (see :func:`_take_plain_head`)."""
    lines = text.split("\r\n")
    breaks = len(lines) - 1
    # With as many CR and LF as line breaks, every CR and LF is one of the CRLF line ends.
    if breaks > MAX_HEADERS or text.count("\r") != breaks or text.count("\n") != breaks:
        return None
    fields = iter(lines)
    status = _FINAL_STATUS_TEXTS.get(next(fields))
    if status is None:
        return None
    block = _known_fields(fields)
    if block is None:
        return None
    return status[0], status[1], status[2], block[0], block[1]


# Framing questions are answered from the header dict's storage (lower-cased name ->
# [name, value, ...], see pooltest._collections): one dict lookup per question, no method calls.
_Fields = dict[str, list[str]]


def _joined(line: list[str]) -> str:
    """A header's values as ``HTTPHeaderDict.get`` joins them."""
    return line[1] if len(line) == 2 else ", ".join(line[1:])


def content_length(headers: HTTPHeaderDict) -> int | None:
    """The body length a ``Content-Length`` header announces, or None when there is none.

    Repeated identical values are accepted (RFC 9110 section 8.6); different or invalid values
    raise :class:`~pooltest.exceptions.InvalidHeader`.
    """
    raw = headers.getlist("content-length")
    return _content_length_of(raw) if raw else None


def _content_length_of(raw: list[str]) -> int:
    """The length the (one or more) ``Content-Length`` values announce."""
    if len(raw) == 1 and raw[0].isdigit() and raw[0].isascii():
        return int(raw[0])
    values = {part.strip() for value in raw for part in value.split(",")}
    if len(values) != 1:
        raise InvalidHeader(
            f"Content-Length contained multiple unmatching values ({', '.join(raw)})"
        )
    (text,) = values
    if not text.isdigit() or not text.isascii():
        raise InvalidHeader(f"Invalid Content-Length header value: {text!r}")
    return int(text)


def body_framing(
    method: str, status: int, headers: HTTPHeaderDict
) -> tuple[bool, int | None, bool]:
    """Decide ``(chunked, length, self_delimited)`` for a response body (see module docstring)."""
    return _body_framing(method, status, headers._container)


def _body_framing(method: str, status: int, fields: _Fields) -> tuple[bool, int | None, bool]:
    if method == "HEAD" or status < 200 or status in (204, 304):
        return False, 0, True
    line = fields.get("transfer-encoding")
    if line is not None:
        last = _joined(line).rsplit(",", 1)[-1].strip().lower()
        if last == "chunked":
            return True, None, True
        return False, None, False
    line = fields.get("content-length")
    if line is None:
        return False, None, False
    value = line[1]
    if len(line) == 2 and value.isdigit() and value.isascii():
        return False, int(value), True  # the usual single plain value, without a call
    return False, _content_length_of(line[1:]), True


def wants_keep_alive(version: str, headers: HTTPHeaderDict) -> bool:
    """Whether the server lets the connection carry another request after this response."""
    return _wants_keep_alive(version, headers._container)


def _wants_keep_alive(version: str, fields: _Fields) -> bool:
    line = fields.get("connection")
    if line is None:
        return version == "HTTP/1.1"
    tokens = {t.strip().lower() for t in _joined(line).split(",")}
    if version == "HTTP/1.1":
        return "close" not in tokens
    return "keep-alive" in tokens


def read_response(
    fp: BinaryIO,
    options: _ResponseOptions,
    on_done: Callable[[bool], None] | None = None,
    *,
    request_wants_close: bool = False,
    sock_shutdown: Callable[[int], None] | None = None,
    on_head: HeadListener | None = None,
) -> HTTPResponse:
    """Parse one response from ``fp`` and wrap its body in an :class:`HTTPResponse`.

    ``on_done(reusable)`` is called exactly once, when the body has been read to its end or
    abandoned: ``reusable`` is True only if the body ended cleanly and the exchange allows the
    transport to carry another request (see the module docstring). With ``preload_content`` that
    happens before this function returns. ``on_head(version, status, reason, pairs, chunked,
    length)`` is called with the final head and the body's framing (as ``body_framing`` decides
    it) as soon as they are known, before any body byte is read; if it returns a stream, the
    body is read from that one (a recorder's tee over ``fp``, say) instead of ``fp``.
    """
    version, status, reason, pairs, container = _take_plain_head(fp) or _read_final_head(fp)
    if container is None:
        headers = HTTPHeaderDict._from_pairs(pairs)
    else:
        headers = HTTPHeaderDict._from_storage(container)
    fields = headers._container
    # The options unpacked at once: a NamedTuple's fields are slower to read one by one.
    method, url, preload_content, decode_content, enforce_content_length = options
    chunked, length, self_delimited = _body_framing(method, status, fields)
    if on_head is not None:
        fp = on_head(version, status, reason, pairs, chunked, length) or fp
    if not self_delimited or request_wants_close:
        keep_alive = False
    elif "connection" in fields:
        keep_alive = _wants_keep_alive(version, fields)
    else:
        keep_alive = version == "HTTP/1.1"  # _wants_keep_alive's answer without the header
    reader = new_body_reader(fp, chunked, length, enforce_content_length, on_done, keep_alive)
    return HTTPResponse._from_reader(
        reader,
        headers,
        status,
        version,
        reason,
        preload_content,
        decode_content,
        enforce_content_length,
        method,
        url,
        sock_shutdown,
    )
