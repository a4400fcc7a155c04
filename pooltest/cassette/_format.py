"""Cassette files: vcrpy's version-1 YAML layout, read safely and fast, written atomically.

The layout
==========
A cassette is one YAML mapping, ``interactions`` (a list) then ``version: 1``. Each interaction
holds ``request`` (exactly vcrpy's four keys: ``body``, ``headers``, ``method``, ``uri``),
``response`` (``body: {string: ...}``, ``headers``, ``status: {code, message}``) and
``recorded_at`` (ISO-8601, UTC, to the microsecond). Headers are a mapping of name to the list
of its values, so vcrpy 9.x loads and replays these files unchanged. What that layout cannot say
goes in extra keys that vcrpy never reads:

* ``response.pooltest_header_order`` / ``pooltest_request_header_order`` (interaction level,
  since vcrpy builds its request with ``Request(**request)``): the header names in wire order
  and exact spelling. The mapping groups names case-insensitively under their first spelling
  (vcrpy reads headers through a case-insensitive message and would repeat values once per
  spelling), so the list is written only when names interleave (``Set-Cookie, X-A,
  Set-Cookie``) or vary in case (``X-Dup, x-dup``). It is used only if it agrees with the
  mapping (same names ignoring case, same counts); after a hand edit of the headers it is
  ignored and mapping order wins.
* ``response.pooltest_http_version``: written only when the version is not ``HTTP/1.1``.

Bodies that are UTF-8 text without control characters (tab, CR and LF allowed) stay readable
strings, multi-line ones as literal blocks; anything else is ``!!binary``. An empty request body
is written ``null``, as vcrpy records a request without a body. The output is deterministic.
Bodies are stored as received, still content-encoded; vcrpy never decodes on replay, so through
vcrpy a gzip response comes back gzipped. Header text and reasons holding CR, LF or characters
beyond latin-1 could not be replayed, and are refused both when writing and when reading.

How loading works
=================
1. libyaml (``CSafeLoader``; PyYAML's ``SafeLoader`` without it) only *composes* the document
   into nodes: no constructor ever runs, so no YAML tag can build an object. The loader's
   resolver is replaced by one that calls every untagged scalar a string; the only tags left are
   the structural ones and those the file spells out (``!!binary``, ``!!python/object:...``).
2. A walker that knows the schema turns nodes straight into :class:`Interaction` objects. It
   reads each field where the schema puts it, so there is no second pass, and every node carries
   its position: an error names the line for free. Plain ``null``/``~``/empty means no body, a
   plain integer is a status code, ``recorded_at`` is parsed with ``fromisoformat``.
3. Tags are checked against an allow-list wherever a value is read; parts the schema does not
   read (``metadata``, unknown keys) are scanned once (cycle-safe) for the same tags. Python tags
   that only build plain values (``python/str``, ``python/unicode``, ``python/tuple``, which old
   vcrpy versions wrote) are read as strings and lists; every other ``python/...`` tag and every
   unknown tag is refused with :class:`CassetteFormatError`.
4. Bounds: libyaml refuses nesting deeper than 1000 levels (the pure-Python composer's
   ``RecursionError`` is caught), and the walker spends a budget proportional to the input size
   on every node and character it reads, so alias expansion ("billion laughs") is refused. YAML
   merge keys (``<<``) are not supported (they would be read as a plain key).

A cassette must end with ``version: 1``; vcrpy and pooltest write it last, so its absence also
reveals a truncated file. An interaction without ``recorded_at`` was written by vcrpy:

* its time is the response's ``Date`` header if that parses, else the file's modification time
  (the Unix epoch when :func:`loads` has neither a file nor a default);
* vcrpy 9 recording through urllib3 2.x stores the body *decoded* next to the encoded
  ``Content-Encoding``/``Content-Length``; a body evidently not in its announced coding gets
  those two headers fixed (see :func:`_undo_vcrpy_decoding`), so replaying it parses.

The parse cache
===============
Composing YAML is most of a load's cost, so :func:`load` (not :func:`loads`) keeps what it
parsed in a cache directory (:func:`cache_directory`: ``$POOLTEST_CACHE_DIR``, where an empty
value turns the cache off, else ``$XDG_CACHE_HOME/pooltest``, else ``~/.cache/pooltest``). An
entry is named by the SHA-256 of the file's bytes salted with the cache layout, format and
``marshal`` versions, so any edit to the file, or a new pooltest or Python, simply misses. An
entry holds the interactions as plain tuples of ``str``/``bytes``/``int`` serialised with
:mod:`marshal` (never pickle: reading it builds values, it cannot run code), behind a magic
prefix and the payload's own SHA-256, which is checked before ``marshal`` sees the payload; every
value is then type-checked as the interactions are rebuilt. A missing, damaged or malformed entry
is ignored and the file parsed, so the cache can only make loading faster, never different.
Entries are written atomically (temporary file, then rename) after a successful parse, and only
when the result depends on the bytes alone: files with interactions lacking ``recorded_at``
(whose time may come from the mtime) are always parsed. Entries are never pruned; deleting the
directory at any time is safe.

Saving
======
:func:`dumps` writes the fixed layout as text itself, rendering one-line printable-ASCII
scalars (plain when the YAML emitter would write them plain, else single-quoted) and binary
bodies (``!!binary`` base64 blocks); an interaction with any other scalar is handed whole to
the YAML dumper. The result is byte for byte what the dumper writes for the whole document, only
an order of magnitude faster. Header fields repeat from one interaction to the next (a client's
request headers; a server's response headers within the second of their ``Date``), so the
rendered ``headers:`` block of each distinct tuple of fields is remembered (a bounded memo).

:func:`save` writes a temporary file in the target's directory, flushes and fsyncs it, renames
it over the target with :func:`os.replace` and fsyncs the directory: a crash at any moment
leaves either the old file or the new one, never a mix. :func:`save_merged` does that under a
``filelock`` lock (kept in the temporary directory, see :func:`lock_path_for`) after re-reading
the file, so concurrent recorders merge their interactions instead of overwriting each other.
A process killed mid-save may leave a ``.<name>.*.tmp`` file behind; it is never read.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as _dt
import email.utils
import hashlib
import marshal
import math
import os
import re
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, NoReturn, cast

import filelock
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.representer import SafeRepresenter

from ._errors import CassetteFormatError, CassetteNotFoundError, CassetteWriteError
from ._model import Interaction, Response, new_interaction, new_response
from ._request import Request

__all__ = [
    "CACHE_DIR_ENV",
    "FORMAT_VERSION",
    "LOCK_TIMEOUT",
    "Merge",
    "cache_directory",
    "dumps",
    "load",
    "loads",
    "save",
    "save_merged",
]

#: The vcrpy cassette format version pooltest reads and writes.
FORMAT_VERSION: Final = 1
#: Seconds :func:`save_merged` waits for the file lock before giving up.
LOCK_TIMEOUT: Final = 60.0

#: An interaction as its fields, in the order the writer takes them: request method, URI,
#: header pairs and body; response status, reason, header pairs, body and HTTP version; and the
#: instant it was recorded (a datetime, or a POSIX timestamp: UTC). A cassette saves exchanges
#: it recorded but has not built this way (see :func:`dumps`, :func:`as_interaction`).
Fields = tuple[
    str,
    str,
    "tuple[tuple[str, str], ...]",
    bytes,
    int,
    str,
    "tuple[tuple[str, str], ...]",
    bytes,
    str,
    "_dt.datetime | float",
]
#: What the writer saves: interactions, or their :data:`Fields`.
Saved = Interaction | Fields

#: ``merge(on_disk, ours) -> interactions to save``, called under the lock by :func:`save_merged`.
Merge = Callable[[list[Interaction], list[Saved]], list[Saved]]

HeaderPairs = list[tuple[str, str]]

_UTC: Final = _dt.timezone.utc
_EPOCH: Final = _dt.datetime(1970, 1, 1, tzinfo=_UTC)

_Y: Final = "tag:yaml.org,2002:"
_STR: Final = _Y + "str"
_SEQ: Final = _Y + "seq"
_MAP: Final = _Y + "map"
_NULL: Final = _Y + "null"
_INT: Final = _Y + "int"
_BINARY: Final = _Y + "binary"
_TIMESTAMP: Final = _Y + "timestamp"
_TEXT_TAGS: Final = frozenset({_STR, _Y + "python/str", _Y + "python/unicode", "!"})
_SEQ_TAGS: Final = frozenset({_SEQ, _Y + "python/tuple"})
_SAFE_TAGS: Final = _TEXT_TAGS | _SEQ_TAGS | {_MAP, _NULL, _INT, _BINARY, _TIMESTAMP}
_OTHER_SAFE: Final = ("bool", "float", "set", "omap", "pairs")
_SAFE_TAGS_ANYWHERE: Final = _SAFE_TAGS | {_Y + name for name in _OTHER_SAFE}
_NULL_WORDS: Final = frozenset({"", "~", "null", "Null", "NULL"})
_PRE_1_0: Final = (
    "expected a mapping with 'interactions', got a list (a vcrpy cassette from before 1.0: "
    "re-record it)"
)

_TOP_KEYS: Final = frozenset({"interactions", "version"})  # and vcrpy's unread "metadata"
_INTERACTION_KEYS: Final = frozenset(
    {"request", "response", "recorded_at", "pooltest_request_header_order"}
)
_REQUEST_KEYS: Final = frozenset({"body", "headers", "method", "uri"})
_RESPONSE_KEYS: Final = frozenset(
    {"body", "headers", "status", "pooltest_header_order", "pooltest_http_version"}
)
_BODY_KEYS: Final = frozenset({"string", "base64_string"})
_STATUS_KEYS: Final = frozenset({"code", "message"})

# Header names/values and reasons end up in a status line or a header line on replay.
_UNSAFE_LINE_TEXT: Final = re.compile(r"[\r\n]|[^\x00-\xff]")
_HTTP_VERSION: Final = re.compile(r"HTTP/[0-9](?:\.[0-9])?\Z")
# Characters that make a body "not text": C0 controls but tab/LF/CR, DEL, C1 controls, Unicode
# line/paragraph separators, BOM and the two non-characters YAML cannot print.
_NOT_TEXT: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
# Strings YAML could fold or mangle unless double-quoted with escapes: controls but tab and LF,
# NEL and the Unicode line separators (line breaks to YAML), BOM and non-characters.
_NEEDS_ESCAPES: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


# Printable ASCII (" " to "~"), the usual text, holds none of the characters the patterns above
# look for: str.isascii() and str.isprintable() say so without running a pattern over it.


def _unsafe_line_text(text: str) -> bool:
    """Whether ``text`` holds what :data:`_UNSAFE_LINE_TEXT` finds: CR, LF or non-latin-1."""
    if text.isascii() and text.isprintable():
        return False
    return _UNSAFE_LINE_TEXT.search(text) is not None


def _not_text(text: str) -> bool:
    """Whether ``text`` holds what :data:`_NOT_TEXT` finds (see there)."""
    if text.isascii() and text.isprintable():
        return False
    return _NOT_TEXT.search(text) is not None


# --- the YAML loader: compose only, every untagged scalar is a string ------------------------


class _StringResolverMixin:
    """Resolve every implicit scalar to ``!!str`` (the walker interprets by position)."""

    def resolve(self, kind: type[Node], value: object, implicit: object) -> str:
        if kind is ScalarNode:
            return _STR
        return _SEQ if kind is SequenceNode else _MAP


class _PyLoader(_StringResolverMixin, yaml.SafeLoader):
    """PyYAML's pure-Python parser and composer with the string resolver."""


_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = _PyLoader
if yaml.__with_libyaml__:

    class _CLoader(_StringResolverMixin, yaml.CSafeLoader):
        """libyaml's parser and composer with the string resolver."""

    _LOADER = _CLoader


# --- loading ---------------------------------------------------------------------------------


def load(
    path: str | os.PathLike[str], *, default_recorded_at: _dt.datetime | None = None
) -> list[Interaction]:
    """Read the cassette at ``path``.

    Raises :class:`CassetteNotFoundError` if there is no such file and
    :class:`CassetteFormatError` if it is not a usable cassette; other ``OSError`` (permission
    denied, a directory) propagate. Interactions without ``recorded_at`` get the response's
    ``Date``, else ``default_recorded_at``, else the file's modification time.

    The parse cache (see the module docstring) may answer instead of the parser; the result is
    the same either way.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            data = handle.read()
            mtime = os.fstat(handle.fileno()).st_mtime
    except FileNotFoundError:
        raise CassetteNotFoundError(name) from None
    cache = _cache_file(data)
    if cache is not None:
        cached = _read_cache(cache)
        if cached is not None:
            return cached
    if default_recorded_at is None:
        default_recorded_at = _dt.datetime.fromtimestamp(mtime, _UTC)
    interactions, cacheable = _parse(data, name, default_recorded_at)
    if cache is not None and cacheable:
        _write_cache(cache, interactions)
    return interactions


def loads(
    data: str | bytes, path: str, *, default_recorded_at: _dt.datetime | None = None
) -> list[Interaction]:
    """Parse cassette text (``path`` only names it in errors and locates its mtime).

    Accepts vcrpy version-1 cassettes in block or flow style, and vcrpy's JSON cassettes unless
    they escape characters beyond U+FFFF as surrogate pairs (YAML refuses those). Raises
    :class:`CassetteFormatError`, naming ``path`` and the line, for anything else: unsafe or
    unknown tags, invalid or truncated YAML, an empty document, a wrong structure or type. No
    other exception escapes, whatever the input. ``default_recorded_at`` dates interactions that
    have neither ``recorded_at`` nor a parseable ``Date`` header (default: the mtime of ``path``
    if it exists, else the Unix epoch). Never uses the parse cache.
    """
    return _parse(data, path, default_recorded_at)[0]


def _parse(
    data: str | bytes, path: str, default_recorded_at: _dt.datetime | None
) -> tuple[list[Interaction], bool]:
    """The interactions, and whether they depend on ``data`` alone (so they may be cached)."""
    root = _compose(data, path)
    walker = _Walker(path, 4 * len(data) + 4096, default_recorded_at)
    try:
        return walker.cassette(root), walker.cacheable
    except _Bad as bad:
        mark = bad.node.start_mark if bad.node is not None else None
        line = mark.line + 1 if mark is not None else None
        raise CassetteFormatError(path, bad.reason, line) from None


def _compose(data: str | bytes, path: str) -> Node:
    """The document's root node; YAML-level problems become :class:`CassetteFormatError`."""
    try:
        root = yaml.compose(data, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = "; ".join(text for text in (exc.context, exc.problem) if text)
        line = mark.line + 1 if mark is not None else None
        raise CassetteFormatError(path, f"invalid YAML: {what}", line) from None
    except yaml.reader.ReaderError as exc:
        line = _line_at(data, exc.position)
        raise CassetteFormatError(path, f"unreadable text: {exc.reason}", line) from None
    except yaml.YAMLError as exc:
        raise CassetteFormatError(path, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise CassetteFormatError(path, "the YAML is nested too deeply") from None
    except UnicodeError as exc:
        raise CassetteFormatError(path, f"unreadable text: {exc}") from None
    if root is None:
        raise CassetteFormatError(path, "the file is empty (no YAML document)")
    return root


def _line_at(data: str | bytes, position: object) -> int | None:
    if not isinstance(position, int):
        return None
    if isinstance(data, bytes):
        return data.count(b"\n", 0, position) + 1
    return data.count("\n", 0, position) + 1


class _Bad(Exception):
    """A schema problem at ``node``; :func:`loads` turns it into :class:`CassetteFormatError`."""

    def __init__(self, node: Node | None, reason: str) -> None:
        super().__init__(reason)
        self.node = node
        self.reason = reason


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_Y) :] if tag.startswith(_Y) else tag


def _wrong(node: Node, what: str, expected: str) -> NoReturn:
    """Raise the error for ``node`` not being ``expected``; unsafe tags are named as such."""
    if node.tag not in _SAFE_TAGS_ANYWHERE:
        raise _Bad(node, f"{what}: refusing YAML tag {_show_tag(node.tag)!r}")
    raise _Bad(node, f"{what}: expected {expected}, got {_describe(node)}")


def _describe(node: Node) -> str:
    if isinstance(node, ScalarNode):
        text = node.value if len(node.value) <= 40 else node.value[:37] + "..."
        kind = "binary" if node.tag == _BINARY else "a scalar"
        return f"{kind} {text!r}"
    return "a sequence" if isinstance(node, SequenceNode) else "a mapping"


class _Walker:
    """Turns composed nodes into interactions, checking the schema and a work budget."""

    __slots__ = ("budget", "cacheable", "dates", "default_time", "path")

    def __init__(self, path: str, budget: int, default_time: _dt.datetime | None) -> None:
        self.path = path
        self.budget = budget
        self.default_time = default_time
        self.dates: dict[str, _dt.datetime] = {}
        # False once a result depends on more than the file's bytes (see fallback_time).
        self.cacheable = True

    # -- the document -----------------------------------------------------------------------

    def cassette(self, root: Node) -> list[Interaction]:
        if isinstance(root, SequenceNode):
            raise _Bad(root, _PRE_1_0)
        top = self.mapping(root, "cassette")
        self.check_version(top, root)
        listing = top.get("interactions")
        if listing is None:
            raise _Bad(root, "cassette: missing 'interactions'")
        if not isinstance(listing, SequenceNode) or listing.tag not in _SEQ_TAGS:
            _wrong(listing, "interactions", "a list")
        self.scan_extras(top, _TOP_KEYS)
        items: list[Node] = listing.value
        self.spend(len(items), listing)
        out: list[Interaction] = []
        for number, node in enumerate(items, 1):
            try:
                out.append(self.interaction(node))
            except _Bad as bad:
                bad.reason = f"interaction #{number}: {bad.reason}"
                raise
        return out

    def check_version(self, top: dict[str, Node], root: Node) -> None:
        node = top.get("version")
        if node is None:
            raise _Bad(root, "cassette: missing 'version: 1' (the file may be truncated)")
        if not isinstance(node, ScalarNode) or node.tag not in (_STR, _INT):
            _wrong(node, "version", "1")
        if node.value.strip() != "1":
            raise _Bad(node, f"unsupported cassette format version {node.value!r} (expected 1)")

    def interaction(self, node: Node) -> Interaction:
        fields = self.mapping(node, "interaction")
        request_node = fields.get("request")
        response_node = fields.get("response")
        if request_node is None or response_node is None:
            missing = "request" if request_node is None else "response"
            raise _Bad(node, f"missing '{missing}'")
        request = self.request(request_node, fields.get("pooltest_request_header_order"))
        response = self.response(response_node)
        at = fields.get("recorded_at")
        if at is None:  # written by vcrpy, not pooltest
            self.cacheable = False  # the time may be the mtime; brotli may come and go
            recorded_at = self.fallback_time(response)
            if response.header("content-encoding") is not None:
                response = _undo_vcrpy_decoding(response)
        else:
            recorded_at = self.timestamp(at)
        if not fields.keys() <= _INTERACTION_KEYS:
            self.scan_extras(fields, _INTERACTION_KEYS)
        return new_interaction(request, response, recorded_at)

    def request(self, node: Node, order: Node | None) -> Request:
        fields = self.mapping(node, "request")
        method = fields.get("method")
        uri = fields.get("uri")
        if method is None or uri is None:
            raise _Bad(node, f"request: missing '{'method' if method is None else 'uri'}'")
        headers_node = fields.get("headers")
        headers = self.headers(headers_node, order, "request") if headers_node is not None else []
        body_node = fields.get("body")
        body = self.request_body(body_node) if body_node is not None else b""
        if not fields.keys() <= _REQUEST_KEYS:
            self.scan_extras(fields, _REQUEST_KEYS)
        return Request(
            self.text(method, "request.method"), self.text(uri, "request.uri"), headers, body
        )

    def response(self, node: Node) -> Response:
        fields = self.mapping(node, "response")
        status_node = fields.get("status")
        if status_node is None:
            raise _Bad(node, "response: missing 'status'")
        code, reason = self.status(status_node)
        headers_node = fields.get("headers")
        order = fields.get("pooltest_header_order")
        headers = self.headers(headers_node, order, "response") if headers_node is not None else []
        body_node = fields.get("body")
        body = self.response_body(body_node) if body_node is not None else b""
        version = "HTTP/1.1"
        version_node = fields.get("pooltest_http_version")
        if version_node is not None:
            version = self.text(version_node, "response.pooltest_http_version")
            if not _HTTP_VERSION.match(version):
                raise _Bad(version_node, f"response: bad HTTP version {version!r}")
        if not fields.keys() <= _RESPONSE_KEYS:
            self.scan_extras(fields, _RESPONSE_KEYS)
        return new_response(code, reason, tuple(headers), body, version)

    # -- fields -----------------------------------------------------------------------------

    def status(self, node: Node) -> tuple[int, str]:
        fields = self.mapping(node, "response.status")
        code_node = fields.get("code")
        if code_node is None:
            raise _Bad(node, "response.status: missing 'code'")
        if not isinstance(code_node, ScalarNode) or code_node.tag not in (_STR, _INT):
            _wrong(code_node, "response.status.code", "an integer")
        text = code_node.value
        if not (len(text) == 3 and text.isascii() and text.isdigit()) or text[0] == "0":
            raise _Bad(code_node, f"response.status.code: expected 100-999, got {text!r}")
        reason = ""
        message = fields.get("message")
        if message is not None and not self.is_null(message):
            reason = self.text(message, "response.status.message")
            if _unsafe_line_text(reason):
                raise _Bad(message, "response.status.message: CR, LF or non-latin-1 character")
        if len(fields) > 2:
            self.scan_extras(fields, _STATUS_KEYS)
        return int(text), reason

    def headers(self, node: Node, order: Node | None, side: str) -> HeaderPairs:
        """Header pairs in mapping order (or the recorded wire order); hot: no f-strings here."""
        if node.__class__ is not MappingNode or node.tag != _MAP:
            _wrong(node, side + ".headers", "a mapping of name to values")
        pairs: HeaderPairs = []
        append = pairs.append
        cost = len(node.value)
        for key, value in node.value:
            name = self.header_text(key, side, None)
            if value.__class__ is SequenceNode and value.tag in _SEQ_TAGS:
                items: list[Node] = value.value
            elif value.__class__ is ScalarNode:
                items = [value]
            else:
                _wrong(value, f"{side}.headers[{name!r}]", "a list of strings")
            cost += len(items)
            if cost > self.budget:  # checked per name: aliased value lists multiply work
                self.spend(cost, node)
            for item in items:
                text = self.header_text(item, side, name)
                cost += len(text)
                append((name, text))
        self.spend(cost, node)
        return pairs if order is None else self.reorder(pairs, order, side)

    @staticmethod
    def header_text(node: Node, side: str, name: str | None) -> str:
        """A header name (``name`` None) or value: a string without CR, LF or non-latin-1."""
        if node.__class__ is not ScalarNode or node.tag not in _TEXT_TAGS:
            _wrong(
                node, f"{side}.headers" + (f"[{name!r}]" if name is not None else ""), "a string"
            )
        text: str = node.value
        if (not text.isascii() or "\n" in text or "\r" in text) and _UNSAFE_LINE_TEXT.search(text):
            what = f"{side}.headers" + (f"[{name!r}]" if name is not None else f": name {text!r}")
            raise _Bad(node, f"{what}: CR, LF or non-latin-1 character")
        return text

    def reorder(self, pairs: HeaderPairs, order: Node, side: str) -> HeaderPairs:
        """``pairs`` in the wire order and spelling ``order`` gives, if it agrees with them.

        Names match case-insensitively (the mapping groups spellings under the first one); an
        order naming other headers or other counts is ignored (see the module docstring).
        """
        if not isinstance(order, SequenceNode) or order.tag not in _SEQ_TAGS:
            _wrong(order, f"{side}: header order", "a list of names")
        self.spend(len(order.value), order)
        names = [self.text(item, f"{side}: header order") for item in order.value]
        if sorted(n.lower() for n in names) != sorted(n.lower() for n, _ in pairs):
            return pairs
        queues: dict[str, list[str]] = {}
        for name, value in reversed(pairs):
            queues.setdefault(name.lower(), []).append(value)
        return [(name, queues[name.lower()].pop()) for name in names]

    def request_body(self, node: Node) -> bytes:
        if isinstance(node, MappingNode):  # vcrpy < 1.x wrote {string: ...} for requests too
            return self.response_body(node)
        return self.body_value(node, "request.body")

    def response_body(self, node: Node) -> bytes:
        fields = self.mapping(node, "response.body")
        value = fields.get("string")
        if value is None:
            value = fields.get("base64_string")
            if value is None:
                raise _Bad(node, "body: missing 'string'")
            text = self.text(value, "body.base64_string")
            return self.binary(ScalarNode(_BINARY, text, value.start_mark), "body.base64_string")
        if len(fields) > 1:
            self.scan_extras(fields, _BODY_KEYS)
        return self.body_value(value, "body.string")

    def body_value(self, node: Node, what: str) -> bytes:
        if isinstance(node, ScalarNode):
            tag = node.tag
            if tag in _TEXT_TAGS:
                value: str = node.value
                if not node.style and value in _NULL_WORDS:
                    return b""
                self.spend(len(value), node)
                try:
                    return value.encode()
                except UnicodeEncodeError:
                    raise _Bad(node, f"{what}: text with a lone surrogate") from None
            if tag == _BINARY:
                return self.binary(node, what)
            if tag == _NULL:
                return b""
        _wrong(node, what, "a string, !!binary or null")

    def binary(self, node: ScalarNode, what: str) -> bytes:
        self.spend(len(node.value), node)
        try:
            compact = "".join(node.value.split()).encode("ascii")
            return base64.b64decode(compact, validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise _Bad(node, f"{what}: invalid base64 in !!binary") from None

    def timestamp(self, node: Node) -> _dt.datetime:
        if not isinstance(node, ScalarNode) or node.tag not in (_STR, _TIMESTAMP):
            _wrong(node, "recorded_at", "an ISO-8601 timestamp")
        try:
            return _parse_time(node.value)
        except (ValueError, OverflowError):
            raise _Bad(node, f"recorded_at: not a timestamp: {node.value[:40]!r}") from None

    def fallback_time(self, response: Response) -> _dt.datetime:
        """``recorded_at`` for a file without it: the ``Date`` header, else the default."""
        date = response.header("date")
        if date is not None:
            parsed = self.dates.get(date)
            if parsed is None:
                parsed = _parse_http_date(date)
                if parsed is not None:
                    self.dates[date] = parsed
            if parsed is not None:
                return parsed
        if self.default_time is None:
            self.default_time = _mtime_or_epoch(self.path)
        return self.default_time

    # -- primitives -------------------------------------------------------------------------

    def mapping(self, node: Node, what: str) -> dict[str, Node]:
        """The mapping's values by key (keys must be strings; a repeated key: last wins)."""
        if node.__class__ is not MappingNode or node.tag != _MAP:
            _wrong(node, what, "a mapping")
        pairs: list[tuple[Node, Node]] = node.value
        self.budget -= len(pairs)
        out: dict[str, Node] = {}
        for key, value in pairs:
            if key.__class__ is not ScalarNode or key.tag not in _TEXT_TAGS:
                _wrong(key, what, "string keys")
            out[key.value] = value
        if self.budget < 0:
            self.spend(0, node)
        return out

    def text(self, node: Node, what: str) -> str:
        if node.__class__ is ScalarNode and node.tag in _TEXT_TAGS:
            value: str = node.value
            self.budget -= len(value) + 1
            if self.budget < 0:
                self.spend(0, node)
            return value
        _wrong(node, what, "a string")

    @staticmethod
    def is_null(node: Node) -> bool:
        if not isinstance(node, ScalarNode):
            return False
        return node.tag == _NULL or (not node.style and node.value in _NULL_WORDS)

    def spend(self, amount: int, node: Node) -> None:
        self.budget -= amount
        if self.budget < 0:
            raise _Bad(node, "the document expands far beyond its size (YAML alias bomb?)")

    def scan_extras(self, fields: dict[str, Node], known: frozenset[str]) -> None:
        """Check the tags of every node under keys the schema does not read."""
        for key, value in fields.items():
            if key not in known:
                self.scan(value)

    def scan(self, root: Node) -> None:
        """Refuse unsafe tags anywhere under ``root``; each node is visited once."""
        seen: set[int] = set()
        stack = [root]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if node.tag not in _SAFE_TAGS_ANYWHERE:
                raise _Bad(node, f"refusing YAML tag {_show_tag(node.tag)!r}")
            if isinstance(node, MappingNode):
                for key, value in node.value:
                    stack.append(key)
                    stack.append(value)
            elif isinstance(node, SequenceNode):
                stack.extend(node.value)


def _parse_time(text: str) -> _dt.datetime:
    """An aware UTC datetime from ISO-8601 or any YAML timestamp form; naive means UTC."""
    try:
        value = _dt.datetime.fromisoformat(text)
    except ValueError:
        value = _yaml_timestamp(text)
    if value.tzinfo is None:
        return value.replace(tzinfo=_UTC)
    return value if value.utcoffset() == _dt.timedelta(0) else value.astimezone(_UTC)


_TIMESTAMP_READER = yaml.constructor.SafeConstructor()


def _yaml_timestamp(text: str) -> _dt.datetime:
    """YAML 1.1 timestamp forms ``fromisoformat`` rejects (``2001-12-14 21:59:43.10 -5``)."""
    text = text.strip()
    if not yaml.constructor.SafeConstructor.timestamp_regexp.match(text):
        raise ValueError(text)
    value = _TIMESTAMP_READER.construct_yaml_timestamp(ScalarNode(_TIMESTAMP, text))
    if isinstance(value, _dt.datetime):
        return value
    return _dt.datetime(value.year, value.month, value.day)


def _parse_http_date(text: str) -> _dt.datetime | None:
    try:
        value = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=_UTC)
    return value.astimezone(_UTC)


def _mtime_or_epoch(path: str) -> _dt.datetime:
    try:
        return _dt.datetime.fromtimestamp(os.stat(path).st_mtime, _UTC)
    except (OSError, ValueError, OverflowError):
        return _EPOCH


def _undo_vcrpy_decoding(response: Response) -> Response:
    """Make a body vcrpy stored decoded consistent with its headers again.

    vcrpy 9 recording through urllib3 2.x (or requests) stores the *decoded* body but keeps
    ``Content-Encoding`` and the encoded ``Content-Length``. When the body is evidently not in
    the outermost coding, that coding is dropped and ``Content-Length`` set to the body's length,
    as vcrpy's own ``decode_compressed_response`` does; bodies really encoded are left alone.
    """
    codings = [v for k, v in response.headers if k.lower() == "content-encoding"]
    outermost = ",".join(codings).rsplit(",", 1)[-1].strip().lower()
    if not response.body or _is_encoded(response.body, outermost) is not False:
        return response
    headers = []
    for name, value in response.headers:
        lower = name.lower()
        if lower == "content-encoding":
            continue
        headers.append((name, str(len(response.body)) if lower == "content-length" else value))
    return Response(
        status=response.status,
        reason=response.reason,
        headers=tuple(headers),
        body=response.body,
        version=response.version,
    )


def _is_encoded(body: bytes, coding: str) -> bool | None:
    """Whether ``body`` is in content-coding ``coding`` (None: cannot tell)."""
    if coding in ("gzip", "x-gzip"):
        return body[:2] == b"\x1f\x8b"
    if coding == "zstd":
        return body[:4] == b"\x28\xb5\x2f\xfd"
    if coding == "deflate":
        return _inflates(body, zlib.MAX_WBITS) or _inflates(body, -zlib.MAX_WBITS)
    if coding == "br":
        return _brotli_decodes(body)
    return None


def _inflates(body: bytes, wbits: int) -> bool:
    decoder = zlib.decompressobj(wbits)
    try:
        decoder.decompress(body)
    except zlib.error:
        return False
    return decoder.eof


def _brotli_decodes(body: bytes) -> bool | None:
    try:
        import brotli  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        return None
    try:
        brotli.decompress(body)
    except brotli.error:
        return False
    return True


# --- the parse cache -------------------------------------------------------------------------

#: Environment variable naming the cache directory; set but empty turns the cache off.
CACHE_DIR_ENV: Final = "POOLTEST_CACHE_DIR"
# Bump when the walker's results or the record layout change: old entries are then never read.
_CACHE_FORMAT: Final = 1
_CACHE_SALT: Final = (
    f"pooltest-cassette-cache {_CACHE_FORMAT} {FORMAT_VERSION} marshal {marshal.version} "
    f"{sys.implementation.cache_tag}\n"
).encode()
_CACHE_MAGIC: Final = b"PTCC\x01"
_DIGEST_SIZE: Final = 32

_Pairs = tuple[tuple[str, str], ...]
_Flat = tuple[str, ...]  # header pairs as name, value, name, value...
_Record = tuple[str, str, _Flat, bytes, int, str, _Flat, bytes, str, str]


def cache_directory() -> str | None:
    """Where parsed cassettes are cached: ``$POOLTEST_CACHE_DIR`` (empty: None, no cache), else
    ``$XDG_CACHE_HOME/pooltest``, else ``~/.cache/pooltest``. Read on every call."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured is not None:
        return configured or None
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pooltest")


def _cache_file(data: bytes) -> str | None:
    """The cache entry for a cassette of these bytes, or None when caching is off."""
    directory = cache_directory()
    if directory is None:
        return None
    digest = hashlib.sha256(_CACHE_SALT)
    digest.update(data)
    return os.path.join(directory, "cassettes", digest.hexdigest() + ".bin")


def _read_cache(entry: str) -> list[Interaction] | None:
    """The interactions stored in ``entry``; None if it is absent, damaged or malformed.

    The payload's SHA-256 is checked before :func:`marshal.loads` sees it, and every value is
    type-checked as it is rebuilt: anything unexpected (a code object, a wrong type, a short
    record) means the entry is ignored and the file parsed.
    """
    try:
        with open(entry, "rb") as handle:
            blob = handle.read()
        head = len(_CACHE_MAGIC) + _DIGEST_SIZE
        payload = blob[head:]
        if blob[: len(_CACHE_MAGIC)] != _CACHE_MAGIC:
            return None
        if hashlib.sha256(payload).digest() != blob[len(_CACHE_MAGIC) : head]:
            return None
        records = marshal.loads(payload)
        if type(records) is not tuple:
            return None
        return [_from_record(record) for record in records]
    except Exception:  # an accelerator only: any failure at all means "parse instead"
        return None


def _write_cache(entry: str, interactions: Sequence[Interaction]) -> None:
    """Store ``interactions`` in ``entry`` atomically; failures are ignored (no cache then)."""
    try:
        payload = marshal.dumps(tuple(_to_record(item) for item in interactions))
        directory = os.path.dirname(entry)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd, temp = _create_temp(directory, os.path.basename(entry))
    except (OSError, ValueError):
        return
    try:
        with open(fd, "wb", closefd=True) as handle:
            handle.write(_CACHE_MAGIC + hashlib.sha256(payload).digest() + payload)
        os.replace(temp, entry)
    except OSError:
        _discard(temp)


def _to_record(item: Interaction) -> _Record:
    request, response = item.request, item.response
    return (
        request.method,
        request.uri,
        _flat(request.raw_headers),
        request.body,
        response.status,
        response.reason,
        _flat(response.headers),
        response.body,
        response.version,
        item.recorded_at.isoformat(),
    )


def _flat(pairs: Iterable[tuple[str, str]]) -> _Flat:
    return tuple([text for pair in pairs for text in pair])


def _from_record(record: object) -> Interaction:
    """Rebuild one interaction, checking every type exactly (raises on anything else)."""
    if type(record) is not tuple or len(record) != 10:
        raise ValueError("bad cache record")
    method, uri, raw, request_body, status, reason, headers, body, version, at = record
    if not (
        type(method) is str
        and type(uri) is str
        and type(request_body) is bytes
        and type(status) is int
        and type(reason) is str
        and type(body) is bytes
        and type(version) is str
        and type(at) is str
    ):
        raise ValueError("bad cache record")
    request = Request(method, uri, _pairs(raw), request_body)
    response = new_response(status, reason, _pairs(headers), body, version)
    return new_interaction(request, response, _dt.datetime.fromisoformat(at))


def _pairs(flat: object) -> _Pairs:
    """``(name, value)`` pairs from a flat tuple of strings (raises on anything else)."""
    if type(flat) is not tuple or len(flat) % 2:
        raise ValueError("bad cache record")
    "".join(flat)  # TypeError unless every item is a str (marshal makes no subclasses)
    items = iter(flat)
    return tuple(zip(items, items, strict=True))


# --- dumping ---------------------------------------------------------------------------------


class _Literal(str):
    """Text written as a literal block (``|``)."""

    __slots__ = ()


class _Timestamp(str):
    """An ISO-8601 instant written as a plain YAML timestamp."""

    __slots__ = ()


def _represent_str(dumper: SafeRepresenter, data: str) -> Node:
    style = '"' if _NEEDS_ESCAPES.search(data) else None
    return dumper.represent_scalar(_STR, data, style=style)


def _represent_literal(dumper: SafeRepresenter, data: _Literal) -> Node:
    return dumper.represent_scalar(_STR, str(data), style="|")


def _represent_timestamp(dumper: SafeRepresenter, data: _Timestamp) -> Node:
    return dumper.represent_scalar(_TIMESTAMP, str(data))


class _PyDumper(yaml.SafeDumper):
    """The safe dumper (it cannot emit Python tags), never emitting anchors or aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_DUMPER: type[yaml.SafeDumper] | type[yaml.CSafeDumper] = _PyDumper
if yaml.__with_libyaml__:

    class _CDumper(yaml.CSafeDumper):
        """libyaml's emitter behind the safe representer, never emitting anchors or aliases."""

        def ignore_aliases(self, data: Any) -> bool:
            return True

    _DUMPER = _CDumper

# Registered on SafeRepresenter's subclasses only (add_representer copies the table per class).
_PyDumper.add_representer(str, _represent_str)
_PyDumper.add_representer(_Literal, _represent_literal)
_PyDumper.add_representer(_Timestamp, _represent_timestamp)
_DUMPER.add_representer(str, _represent_str)
_DUMPER.add_representer(_Literal, _represent_literal)
_DUMPER.add_representer(_Timestamp, _represent_timestamp)


def as_interaction(item: Saved) -> Interaction:
    """``item`` as an :class:`Interaction` (:data:`Fields` are made into one)."""
    if type(item) is not tuple:
        return cast(Interaction, item)
    method, uri, raw, request_body, status, reason, headers, body, version, at = item
    if isinstance(at, float):
        at = _dt.datetime.fromtimestamp(at, _UTC)
    request = Request._sent(method, uri, raw, request_body)
    return new_interaction(request, new_response(status, reason, headers, body, version), at)


def dumps(interactions: Sequence[Saved]) -> str:
    """The cassette text for ``interactions`` (vcrpy version 1; see the module docstring);
    each may also be given as its :data:`Fields`.

    Deterministic: equal input gives equal text, byte for byte what the YAML dumper writes for
    the document (most interactions are written by the fast writer below, the rest by the
    dumper). Raises ``ValueError`` if a header name or value, or a reason phrase, holds CR, LF
    or a character outside latin-1 (it could not be replayed).
    """
    if not interactions:
        return "interactions: []\nversion: 1\n"
    out = ["interactions:\n"]
    open_ended = False
    for interaction in interactions:
        mark = len(out)
        try:
            if type(interaction) is tuple:
                block = _emit_fields(interaction, out)
            else:
                block = _emit_interaction(cast(Interaction, interaction), out)
            if block:
                open_ended = False
        except _NotFast:
            del out[mark:]
            text = _yaml_text([_interaction_dict(as_interaction(interaction))])
            # libyaml ends the document with "..." when its last block scalar kept its
            # trailing newlines ("|+"); any other block scalar after one cancels that.
            if text.endswith("\n...\n"):
                text = text[:-4]
                open_ended = True
            elif _has_block_scalar(text):
                open_ended = False
            out.append(text)
    out.append("version: 1\n...\n" if open_ended else "version: 1\n")
    return "".join(out)


_RESPONSE_BODY_AT: Final = "\n  response:\n    body:\n      string: "


def _has_block_scalar(text: str) -> bool:
    """Whether the dumper wrote a body in ``text`` (one interaction) as a block scalar.

    Only bodies can be blocks. Their scalars start at fixed places: nothing before the
    response's body can spell its lead-in, since every continuation line of a multi-line
    scalar is indented deeper than ``response:``.
    """
    if text.startswith(("- request:\n    body: |", "- request:\n    body: !!binary |")):
        return True
    at = text.find(_RESPONSE_BODY_AT) + len(_RESPONSE_BODY_AT)
    return text.startswith(("|", "!!binary |"), at)


def _dumps_with_yaml(interactions: Sequence[Interaction]) -> str:
    """The whole document through the YAML dumper: what :func:`dumps` must equal."""
    return _yaml_text({"interactions": [_interaction_dict(i) for i in interactions], "version": 1})


def _yaml_text(document: object) -> str:
    text: str = yaml.dump(
        document,
        Dumper=_DUMPER,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1 << 16,
    )
    return text


def _interaction_dict(interaction: Interaction) -> dict[str, object]:
    request, response = interaction.request, interaction.response
    request_headers, request_order = _grouped(request.raw_headers, "request")
    headers, order = _grouped(response.headers, "response")
    if _unsafe_line_text(response.reason):
        raise ValueError(f"reason phrase {response.reason!r} holds CR, LF or non-latin-1 text")
    response_dict: dict[str, object] = {
        "body": {"string": _body_value(response.body)},
        "headers": headers,
        "status": {"code": response.status, "message": response.reason},
    }
    if order is not None:
        response_dict["pooltest_header_order"] = order
    if response.version != "HTTP/1.1":
        response_dict["pooltest_http_version"] = response.version
    out: dict[str, object] = {
        "request": {
            "body": _body_value(request.body) if request.body else None,
            "headers": request_headers,
            "method": request.method,
            "uri": request.uri,
        },
        "response": response_dict,
        "recorded_at": _Timestamp(_utc_text(interaction.recorded_at)),
    }
    if request_order is not None:
        out["pooltest_request_header_order"] = request_order
    return out


def _grouped(
    pairs: Iterable[tuple[str, str]], side: str
) -> tuple[dict[str, list[str]], list[str] | None]:
    """Headers as name -> values, plus the wire order of names when grouping loses it.

    Names are grouped case-insensitively under their first spelling (vcrpy reads headers back
    through a case-insensitive message and would repeat every value once per spelling). The
    order list, with exact spellings, is returned when names interleave or vary in case.
    """
    grouped: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    names: list[str] = []
    exact = True
    last = None
    for name, value in pairs:
        if _unsafe_line_text(name) or _unsafe_line_text(value):
            raise ValueError(f"{side} header {name!r} holds CR, LF or non-latin-1 text")
        lower = name.lower()
        key = spelling.get(lower)
        if key is None:
            spelling[lower] = name
            grouped[name] = [value]
        else:
            exact = exact and key == name and lower == last
            grouped[key].append(value)
        names.append(name)
        last = lower
    return grouped, None if exact else names


def _body_value(body: bytes) -> str | bytes:
    """``body`` as readable text when it is UTF-8 text (see module docstring), else bytes."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body
    if _not_text(text):
        return body
    return _Literal(text) if "\n" in text else text


def _utc_text(moment: _dt.datetime) -> str:
    """``moment`` as ISO-8601 in UTC (naive means UTC; any datetime subclass, e.g. freezegun's)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=_UTC).isoformat()
    return moment.astimezone(_UTC).isoformat()


# --- the fast writer: the fixed layout as text -----------------------------------------------
#
# dumps() writes each interaction's fixed layout directly, rendering scalars itself only when
# they are printable ASCII on one line: such a scalar is written plain when YAML's emitter would
# write it plain (no indicator where it matters, and the resolver reads it back as a string),
# else single-quoted, exactly as the emitter does; binary bodies become !!binary blocks of
# base64 lines, as the representer makes them; multi-line text bodies become literal blocks
# ("|" or "|-") when the emitter would write them as they stand (see _literal). Any other
# scalar (double-quoted escapes, "|+" or indented blocks, one-line non-ASCII, very long text, odd
# keys) sends the whole interaction to the YAML dumper instead, so the text is byte-identical
# to what the dumper alone writes (tests check this).

_NOT_PLAIN_FIRST: Final = frozenset("#,[]{}&*!|>'\"%@` ")
_FAST_LIMIT: Final = 16384  # far below the dumper's line width: it never folds these
_KEY_LIMIT: Final = 100  # the emitter writes keys of 128 characters or more as "? key"
_SCALAR_MEMO_LIMIT: Final = 4096
_RESOLVE: Final[Callable[[type[Node], str, tuple[bool, bool]], str]] = (
    yaml.resolver.Resolver().resolve
)
_scalar_memo: dict[str, str] = {}
# The resolver's implicit resolvers by first character (None: for any), read live.
_IMPLICIT_BY_FIRST: Final[dict[str | None, Any]] = yaml.resolver.Resolver.yaml_implicit_resolvers


class _NotFast(Exception):
    """An interaction holds a scalar the fast writer does not render (the dumper will)."""


def _scalar(text: str) -> str:
    """``text`` as the emitter writes it in block context, or :class:`_NotFast`."""
    rendered = _scalar_memo.get(text)
    if rendered is not None:
        return rendered
    if not text:
        return "''"
    # Printable ASCII on one line (text is not empty here): what [ -~]+ matches whole.
    if len(text) > _FAST_LIMIT or not (text.isascii() and text.isprintable()):
        raise _NotFast
    rendered = text if _plain(text) else "'" + text.replace("'", "''") + "'"
    if len(text) <= 200:
        if len(_scalar_memo) >= _SCALAR_MEMO_LIMIT:
            _scalar_memo.clear()
        _scalar_memo[text] = rendered
    return rendered


def _key(text: str) -> str:
    if not text or len(text) >= _KEY_LIMIT:
        raise _NotFast
    return _scalar(text)


def _plain(text: str) -> bool:
    """Whether the emitter writes one-line printable ASCII ``text`` as a plain scalar."""
    first = text[0]
    if first in _NOT_PLAIN_FIRST or text[-1] == " ":
        return False
    if first in "?:-" and (len(text) == 1 or text[1] == " "):
        return False
    if ": " in text or text[-1] == ":" or " #" in text or text.startswith(("---", "...")):
        return False
    if first not in _IMPLICIT_BY_FIRST and None not in _IMPLICIT_BY_FIRST:
        return True  # what the resolver answers when no implicit resolver looks at the text
    return _RESOLVE(ScalarNode, text, (True, False)) == _STR


def _emit_interaction(interaction: Interaction, out: list[str]) -> bool:
    """Append the interaction's text (as the dumper writes it) to ``out``, or raise
    :class:`_NotFast`; ``ValueError`` for unsafe header text or reasons, as :func:`dumps`.
    Returns whether a body was written as a block scalar (literal or ``!!binary``)."""
    request, response = interaction.request, interaction.response
    fields = (
        request.method,
        request.uri,
        request.raw_headers,
        request.body,
        response.status,
        response.reason,
        response.headers,
        response.body,
        response.version,
        interaction.recorded_at,
    )
    return _emit_fields(fields, out)


def _emit_fields(fields: Fields, out: list[str]) -> bool:
    """:func:`_emit_interaction` for an interaction given as its :data:`Fields`."""
    method, uri, raw_headers, request_body, status, reason, headers, body, version, at = fields
    request_block, request_order = _header_block(raw_headers, "request")
    block, order = _header_block(headers, "response")
    if _unsafe_line_text(reason):
        raise ValueError(f"reason phrase {reason!r} holds CR, LF or non-latin-1 text")
    request_text = _body_text(request_body, "\n      ") if request_body else "null"
    body_text = _body_text(body, "\n        ")
    add = out.append
    add(
        f"- request:\n    body: {request_text}{request_block}"
        f"\n    method: {_scalar(method)}\n    uri: {_scalar(uri)}"
        f"\n  response:\n    body:\n      string: {body_text}{block}"
        f"\n    status:\n      code: {status:d}\n"
        f"      message: {_scalar(reason)}\n"
    )
    if order is not None:
        add("    pooltest_header_order:\n")
        out.extend([f"    - {_scalar(name)}\n" for name in order])
    if version != "HTTP/1.1":
        add(f"    pooltest_http_version: {_scalar(version)}\n")
    add(f"  recorded_at: {_timestamp_text(at)}\n")
    if request_order is not None:
        add("  pooltest_request_header_order:\n")
        out.extend([f"  - {_scalar(name)}\n" for name in request_order])
    # "!!binary |" and literal "|" blocks; a quoted scalar starts with "'".
    return request_text[0] in "!|" or body_text[0] in "!|"


# Header fields (a tuple of pairs) -> their rendered ``headers:`` block and wire order (see
# _grouped). Requests repeat the same fields, responses mostly do within a second (``Date``).
_HeaderBlock = tuple[str, "list[str] | None"]
_BLOCK_MEMO_LIMIT: Final = 1024
_block_memo: dict[tuple[tuple[str, str], ...], _HeaderBlock] = {}


def _header_block(pairs: Sequence[tuple[str, str]], side: str) -> _HeaderBlock:
    """The ``headers:`` block of ``pairs`` as the dumper writes it, and the wire order of names
    when grouping loses it (see :func:`_grouped`); raises as :func:`_grouped` and
    :class:`_NotFast`. Computed once per distinct tuple of fields (the order list is shared:
    callers only read it)."""
    memo = _block_memo
    if type(pairs) is tuple:
        block = memo.get(pairs)
        if block is not None:
            return block
    grouped, order = _grouped(pairs, side)
    out: list[str] = []
    _emit_headers(grouped, "\n    headers:", out)
    block = ("".join(out), order)
    if type(pairs) is tuple:
        if len(memo) >= _BLOCK_MEMO_LIMIT:
            memo.clear()
        memo[pairs] = block
    return block


def _emit_headers(headers: dict[str, list[str]], lead: str, out: list[str]) -> None:
    if not headers:
        out.append(lead + " {}")
        return
    out.append(lead)
    for name, values in headers.items():
        out.append(f"\n      {_key(name)}:")
        out.extend([f"\n      - {_scalar(value)}" for value in values])


def _body_text(body: bytes, indent: str) -> str:
    """A body's scalar; ``indent`` (a newline and spaces) starts each line of a block."""
    if body.isascii():
        text = body.decode("ascii")
        if text.isprintable() and 0 < len(text) <= _FAST_LIMIT:
            # One line of printable ASCII (JSON, say): the text _body_value gives, rendered as
            # _scalar renders it, without its memo (bodies seldom repeat).
            return text if _plain(text) else "'" + text.replace("'", "''") + "'"
    value = _body_value(body)
    if type(value) is str:
        return _scalar(value)
    if type(value) is bytes:  # base64 in lines of 76 characters, as the representer writes
        lines = base64.encodebytes(value).decode("ascii").splitlines()
        return "!!binary |" + indent + indent.join(lines)
    return _literal(cast(str, value), indent)  # a _Literal: multi-line text


# Text both emitters write in a literal block as it stands: LF and what libyaml holds printable
# (unicode allowed, but not beyond U+FFFF, which it escapes) other than tab and the YAML line
# breaks NEL, LS and PS.
_LITERAL_TEXT: Final = re.compile("[\n -~\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]+")


def _literal(text: str, indent: str) -> str:
    """Multi-line ``text`` as the emitter writes a literal block scalar (``|``, or ``|-``
    without a final line break), each line after ``indent`` and empty lines bare; or
    :class:`_NotFast` where the emitter needs more: an indentation indicator (a first line
    that starts with a space or is empty), ``|+`` (more than one final line break, which may
    also end the document with ``...``), another style (a space before a line break or at the
    end: double quotes) or characters outside :data:`_LITERAL_TEXT`.
    """
    if text[0] in " \n" or text.endswith(("\n\n", " ")) or " \n" in text:
        raise _NotFast
    if _LITERAL_TEXT.fullmatch(text) is None:
        raise _NotFast
    if text[-1] == "\n":
        header, text = "|", text[:-1]
    else:
        header = "|-"
    block = indent + indent.join(text.split("\n"))
    # An empty line is indentation before a line break (no line ends in a space): drop it.
    return header + block.replace(indent[1:] + "\n", "\n")


# What isoformat() makes of an aware UTC datetime: always a plain YAML timestamp.
_ISO_UTC: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{6})?\+00:00"
)


# The text of whole UTC seconds (a POSIX time) without the offset, as isoformat() writes them:
# exchanges recorded within one second share it.
_second_memo: dict[int, str] = {}
# POSIX times whose datetime has a four-digit year, from 1970 (what time.time() gives).
_FOUR_DIGIT_YEARS: Final = 253402300800


def _posix_text(posix: float) -> str:
    """``datetime.fromtimestamp(posix, timezone.utc).isoformat()``, for ``0 <= posix <``
    :data:`_FOUR_DIGIT_YEARS`: microseconds rounded half to even, as fromtimestamp does."""
    fraction, whole = math.modf(posix)
    micro = round(fraction * 1e6)
    if micro >= 1_000_000:
        whole += 1
        micro -= 1_000_000
    second = int(whole)
    text = _second_memo.get(second)
    if text is None:
        text = _dt.datetime.fromtimestamp(second, _UTC).isoformat()[:-6]  # without "+00:00"
        if len(_second_memo) >= _SCALAR_MEMO_LIMIT:
            _second_memo.clear()
        _second_memo[second] = text
    return f"{text}.{micro:06d}+00:00" if micro else f"{text}+00:00"


def _timestamp_text(moment: _dt.datetime | float) -> str:
    if isinstance(moment, float):
        if 0 <= moment < _FOUR_DIGIT_YEARS:
            return _posix_text(moment)
        moment = _dt.datetime.fromtimestamp(moment, _UTC)
    if type(moment) is _dt.datetime and moment.tzinfo is _UTC:
        # What recording stores (utc_now): its isoformat() is what _utc_text gives, and always
        # a plain YAML timestamp (four-digit year, +00:00).
        return moment.isoformat()
    text = _utc_text(moment)
    if _ISO_UTC.fullmatch(text) is None and _RESOLVE(ScalarNode, text, (True, False)) != _TIMESTAMP:
        raise _NotFast
    return text


# --- saving ----------------------------------------------------------------------------------


def save(path: str | os.PathLike[str], interactions: Sequence[Saved]) -> None:
    """Write ``interactions`` to ``path`` atomically (creating missing directories).

    Raises :class:`CassetteWriteError` if the file cannot be written; the previous file, if any,
    is then left as it was. An existing file's permission bits are kept.
    """
    name = os.fspath(path)
    _write_atomically(name, dumps(interactions).encode("utf-8"))


def lock_path_for(path: str) -> str:
    """The lock file guarding ``path``: in the temporary directory, named by a hash of the
    absolute path, so no ``.lock`` file is left beside cassettes in a user's repository."""
    digest = hashlib.sha256(os.path.abspath(path).encode("utf-8", "surrogatepass")).hexdigest()
    directory = os.path.join(tempfile.gettempdir(), "pooltest-locks")
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, f"{digest[:32]}.lock")


def save_merged(
    path: str | os.PathLike[str], interactions: Sequence[Saved], merge: Merge
) -> list[Saved]:
    """Save ``merge(on_disk, list(interactions))`` under the cassette's file lock; return it.

    The file is re-read while the lock is held (an absent file reads as no interactions), so
    several processes recording into one cassette each see what the others saved. Waits at most
    :data:`LOCK_TIMEOUT` seconds for the lock, then raises :class:`CassetteWriteError`. A file on
    disk that does not load raises :class:`CassetteFormatError` and is left untouched.
    """
    name = os.fspath(path)
    lock_path = lock_path_for(name)
    lock = filelock.FileLock(lock_path, timeout=LOCK_TIMEOUT)
    try:
        with lock:
            try:
                on_disk = load(name)
            except CassetteNotFoundError:
                on_disk = []
            merged = merge(on_disk, list(interactions))
            save(name, merged)
    except filelock.Timeout as exc:
        raise CassetteWriteError(
            f"{name}: lock {lock_path} still held after {LOCK_TIMEOUT:g} seconds"
        ) from exc
    return merged


def _write_atomically(path: str, data: bytes) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        mode = _existing_mode(path)
        fd, temp = _create_temp(directory, os.path.basename(path))
    except OSError as exc:
        raise CassetteWriteError(f"{path}: cannot save the cassette: {exc}") from exc
    try:
        with open(fd, "wb", closefd=True) as handle:
            handle.write(data)
            handle.flush()
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException as exc:
        _discard(temp)
        if isinstance(exc, OSError):
            raise CassetteWriteError(f"{path}: cannot save the cassette: {exc}") from exc
        raise
    _sync_directory(directory)


def _existing_mode(path: str) -> int | None:
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return None


def _create_temp(directory: str, name: str) -> tuple[int, str]:
    """A new file next to the target, created with mode 0o666 so the umask applies."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        temp = os.path.join(directory, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        try:
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name for {name} in {directory}")


def _discard(temp: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(temp)


def _sync_directory(directory: str) -> None:
    """Make the rename durable; skipped where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
