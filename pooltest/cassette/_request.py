"""The recorded request: what went on the wire, plus parsed views of its URI and body.

A :class:`Request` stores four things, exactly as sent: the method, the absolute URI, the header
fields (in order, letter case kept, duplicates kept) and the body bytes. Those four define
equality and hashing. Everything else is a *view*, computed on first use and cached in a slot:

* URI parts (``scheme``, ``host``, ``port``, ``path``, ``query``, ``fragment``) come from one
  match of RFC 3986's appendix B regex (which matches any string) and a few ``str`` methods.
  It never raises: a URI that is not absolute simply has an empty scheme and host.
* Body views are parsed with werkzeug, with every size limit lifted (the data was recorded, so it
  is already in memory and trusted as far as size goes). Multipart bodies go through werkzeug's
  sans-IO :class:`~werkzeug.sansio.multipart.MultipartDecoder` directly: it is fed the whole body
  at once and its events are turned into :class:`Part` tuples, so every part (fields and files,
  in wire order, raw bytes and headers) is kept and nothing is spooled to a temporary file.
  URL-encoded bodies are split as werkzeug's ``FormDataParser`` does (UTF-8, blank values
  kept, undecodable escapes left quoted), keeping the pairs in wire order.
* A body that does not parse as its content type says (truncated multipart, missing boundary,
  bad UTF-8 in a form) yields empty views; only :attr:`Request.json` raises, and only
  ``ValueError``. Internally the parsers report such failure as ``None`` so comparisons can fall
  back to raw bytes instead of treating two broken bodies as equal.

``_memo`` is a per-request dict other pooltest modules (the matchers) may use to cache values
derived from the request under their own keys; it is not part of equality.
"""

from __future__ import annotations

import codecs
import functools
import json
import re
import typing
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl

from pooltest._collections import HTTPHeaderDict

if typing.TYPE_CHECKING:
    from werkzeug.datastructures import ImmutableMultiDict
    from werkzeug.sansio.multipart import Field, File

__all__ = ["FilePart", "Part", "Request"]

HeaderPairs = tuple[tuple[str, str], ...]
HeaderSource = Iterable[tuple[str, str]] | Mapping[str, str | list[str]]

#: Default ports by scheme; a URI without a port and with another scheme has port 0.
DEFAULT_PORTS: dict[str, int] = {"http": 80, "https": 443, "ws": 80, "wss": 443}

# RFC 3986, appendix B (the scheme restricted to its grammar): it matches every string.
_URI_RE = re.compile(
    r"(?:([A-Za-z][A-Za-z0-9+.\-]*):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?", re.S
)
_T = typing.TypeVar("_T")
_MULTIPART = "multipart/form-data"
_URLENCODED = "application/x-www-form-urlencoded"
# Charsets werkzeug accepts for multipart text fields; anything else is read as UTF-8.
_FIELD_CHARSETS = frozenset({"ascii", "us-ascii", "utf-8", "iso-8859-1"})


class FilePart(typing.NamedTuple):
    """A multipart part that carried a filename (an uploaded file)."""

    filename: str
    content_type: str | None
    data: bytes
    headers: HeaderPairs


class Part(typing.NamedTuple):
    """Any multipart part, field or file, as it appeared in the body."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes
    headers: HeaderPairs


class _UriParts(typing.NamedTuple):
    """The parts of a URI, as :func:`split_uri` returns them."""

    scheme: str
    host: str
    port: int
    explicit_port: bool
    path: str
    query_string: str
    fragment: str


def _split_port(host_port: str) -> tuple[str, str]:
    """Split ``host[:port]`` (host possibly a bracketed IPv6 literal) into host and port text."""
    if host_port.startswith("["):
        host, _, rest = host_port[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else ""
    host, colon, port = host_port.rpartition(":")
    return (host, port) if colon else (host_port, "")


def split_uri(uri: str) -> _UriParts:
    """Split an absolute URI into its parts; never raises.

    Scheme and host are lower-cased, an IPv6 host loses its brackets, userinfo is dropped. A
    port that is not all digits is ignored (the scheme's default applies). An empty path is
    ``"/"``, since that is what a request line carries for it.
    """
    scheme, sep, rest = uri.partition("://")
    if sep and scheme.isalpha() and scheme.isascii():  # the usual case, without the regex
        end = len(rest)
        for delimiter in "/?#":
            found = rest.find(delimiter, 0, end)
            if found >= 0:
                end = found
        authority, tail = rest[:end], rest[end:]
        tail, _, fragment = tail.partition("#")
        path, _, query_string = tail.partition("?")
        return _uri_parts(scheme.lower(), authority, path, query_string, fragment)
    return _split_any_uri(uri)


def _split_any_uri(uri: str) -> _UriParts:
    """:func:`split_uri` for any string, by RFC 3986's appendix B regex."""
    match = _URI_RE.match(uri)  # never None: every group of the pattern is optional
    groups = match.groups() if match else (None, None, uri, None, None)
    scheme, authority, path, query_string, fragment = typing.cast(
        "tuple[str | None, str | None, str, str | None, str | None]", groups
    )
    return _uri_parts(
        scheme.lower() if scheme else "",
        authority or "",
        path,
        query_string or "",
        fragment or "",
    )


def with_target(origin: _UriParts, target: str) -> _UriParts:
    """The parts of ``origin`` (the parts of ``scheme://authority``) joined with the
    origin-form ``target`` (``/path?query#fragment``)."""
    rest, _, fragment = target.partition("#")
    path, _, query_string = rest.partition("?")
    # tuple.__new__ skips the namedtuple's Python-level __new__ (this runs once per request).
    return _new_uri_parts(
        (origin[0], origin[1], origin[2], origin[3], path or "/", query_string, fragment)
    )


_new_uri_parts: typing.Callable[[tuple[str, str, int, bool, str, str, str]], _UriParts] = (
    functools.partial(tuple.__new__, _UriParts)
)


def _uri_parts(
    scheme: str, authority: str, path: str, query_string: str, fragment: str
) -> _UriParts:
    host = port_text = ""
    if authority:
        host, port_text = _split_port(authority.rpartition("@")[2])
    explicit = port_text.isdigit() and port_text.isascii() and len(port_text) <= 5
    port = int(port_text) if explicit else DEFAULT_PORTS.get(scheme, 0)
    return _UriParts(scheme, host.lower(), port, explicit, path or "/", query_string, fragment)


def split_query(query_string: str) -> tuple[tuple[str, str], ...]:
    """Decoded ``(name, value)`` pairs of a query string, blank values kept, in order.

    The same as ``urllib.parse.parse_qsl(query_string, keep_blank_values=True)``, with a fast
    path for the common case of a query with nothing to decode.
    """
    if "%" in query_string or "+" in query_string:
        return tuple(parse_qsl(query_string, keep_blank_values=True))
    pairs = []
    for item in query_string.split("&"):
        if item:
            name, _, value = item.partition("=")
            pairs.append((name, value))
    return tuple(pairs)


def _header_pairs(headers: HeaderSource) -> HeaderPairs:
    """Flatten any accepted header source into ``(name, value)`` pairs, order kept."""
    if isinstance(headers, HTTPHeaderDict):
        return tuple(headers.iteritems())
    if isinstance(headers, Mapping):
        pairs: list[tuple[str, str]] = []
        for name, value in headers.items():
            if isinstance(value, (list, tuple)):
                pairs.extend((name, item) for item in value)
            else:
                pairs.append((name, value))
        return tuple(pairs)
    return tuple((name, value) for name, value in headers)


def _charset_codec(charset: str | None) -> str:
    """A codec name for ``charset``, or ``"utf-8"`` when it is missing or unknown."""
    if charset:
        try:
            return codecs.lookup(charset).name
        except LookupError:
            pass
    return "utf-8"


def _reject_constant(name: str) -> typing.NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _copy_json(value: object) -> object:
    """A deep copy of a parsed JSON value (only lists and dicts are mutable)."""
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    return value


def is_json_type(mimetype: str) -> bool:
    """Whether a (lower-case, parameter-free) media type denotes JSON."""
    return mimetype == "application/json" or mimetype.endswith("+json")


def _decode_parts(body: bytes, boundary: bytes) -> tuple[Part, ...] | None:
    """Every part of a multipart body, or None if werkzeug cannot decode it completely."""
    from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder

    decoder = MultipartDecoder(boundary, max_form_memory_size=None, max_parts=None)
    decoder.receive_data(body)
    decoder.receive_data(None)
    parts: list[Part] = []
    current: Field | File | None = None
    chunks: list[bytes] = []
    # Each event consumes input or advances the state, so this bound is never reached by
    # werkzeug's decoder; it only guarantees the loop ends whatever happens.
    for _ in range(3 * len(body) + 16):
        event = decoder.next_event()
        if isinstance(event, (Field, File)):
            current, chunks = event, []
        elif isinstance(event, Data) and current is not None:
            chunks.append(event.data)
            if not event.more_data:
                parts.append(_make_part(current, b"".join(chunks)))
                current = None
        elif isinstance(event, Epilogue):
            return tuple(parts)
    return None


def _make_part(event: Field | File, data: bytes) -> Part:
    """A :class:`Part` from the event that opened it and its collected data."""
    headers: HeaderPairs = tuple(event.headers.items())
    filename: str | None = getattr(event, "filename", None)
    name = event.name or ""  # werkzeug leaves it None when the disposition names nothing
    return Part(name, filename, event.headers.get("content-type"), data, headers)


class Request:
    """A request as it crossed the wire, with lazily parsed, cached views.

    ``headers`` may be ``(name, value)`` pairs, an :class:`HTTPHeaderDict`, or a mapping whose
    values are strings or lists of strings (one field per list item, in order). A ``str`` body
    is UTF-8 encoded, ``None`` means no body (``b""``). The method is upper-cased; the URI is
    kept as given. Instances are immutable: nothing can be assigned after construction.
    """

    __slots__ = (
        "_body",
        "_content_type",
        "_hash",
        "_headers",
        "_json",
        "_memo",
        "_method",
        "_pairs",
        "_parts",
        "_query",
        "_raw_headers",
        "_uri",
        "_uri_parts",
        "_urlencoded",
    )

    _method: str
    _uri: str
    _raw_headers: HeaderPairs
    _body: bytes
    _memo: dict[str, typing.Any]
    # Caches. ``_uri_parts`` (which every match reads) starts as None; the others stay unset
    # (reading raises AttributeError) until first computed.
    _uri_parts: _UriParts | None
    _query: tuple[tuple[str, str], ...]
    _hash: int
    _headers: HTTPHeaderDict
    _content_type: tuple[str, dict[str, str]]
    _json: tuple[bool, object]
    _parts: tuple[Part, ...] | None
    _urlencoded: tuple[tuple[str, str], ...] | None
    _pairs: tuple[tuple[str, str], ...]

    def __init__(
        self,
        method: str,
        uri: str,
        headers: HeaderSource = (),
        body: bytes | str | None = b"",
    ) -> None:
        if body is None:
            body = b""
        elif isinstance(body, str):
            body = body.encode("utf-8")
        else:
            body = bytes(body)
        init = object.__setattr__
        init(self, "_method", method.upper())
        init(self, "_uri", uri)
        init(self, "_raw_headers", _header_pairs(headers))
        init(self, "_body", body)
        init(self, "_memo", {})
        init(self, "_uri_parts", None)

    @classmethod
    def _sent(
        cls,
        method: str,
        uri: str,
        headers: HeaderPairs,
        body: bytes,
        uri_parts: _UriParts | None = None,
    ) -> Request:
        """A request from values already in their stored form (upper-case method, pairs as a
        tuple, bytes body), optionally with its URI already split: what a connection sends."""
        request = cls.__new__(cls)
        # The slots' own setters: cheaper than object.__setattr__, which looks each name up.
        _set_method(request, method)
        _set_uri(request, uri)
        _set_raw_headers(request, headers)
        _set_body(request, body)
        _set_memo(request, {})
        _set_uri_parts(request, uri_parts)
        return request

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Request is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Request is immutable; cannot delete {name!r}")

    def __reduce__(self) -> tuple[type[Request], tuple[str, str, HeaderPairs, bytes]]:
        return type(self), (self._method, self._uri, self._raw_headers, self._body)

    def _cache(self, slot: str, value: _T) -> _T:
        object.__setattr__(self, slot, value)
        return value

    # -- what was sent ----------------------------------------------------------------------

    @property
    def method(self) -> str:
        """The request method, upper-case."""
        return self._method

    @property
    def uri(self) -> str:
        """The absolute URI, exactly as given."""
        return self._uri

    @property
    def url(self) -> str:
        """Alias of :attr:`uri`."""
        return self._uri

    @property
    def raw_headers(self) -> HeaderPairs:
        """The header fields sent: exact order, letter case and duplicates."""
        return self._raw_headers

    @property
    def body(self) -> bytes:
        """The body bytes (transfer framing removed); ``b""`` for none."""
        return self._body

    @property
    def headers(self) -> HTTPHeaderDict:
        """The header fields as a case-insensitive multi-dict (built once; do not mutate)."""
        try:
            return self._headers
        except AttributeError:
            return self._cache("_headers", HTTPHeaderDict._from_pairs(self._raw_headers))

    # -- URI views --------------------------------------------------------------------------

    @property
    def _parts_of_uri(self) -> _UriParts:
        parts = self._uri_parts
        if parts is None:
            return self._cache("_uri_parts", split_uri(self._uri))
        return parts

    @property
    def scheme(self) -> str:
        """The URI scheme, lower-case (``""`` if the URI has none)."""
        return self._parts_of_uri.scheme

    @property
    def host(self) -> str:
        """The host, lower-case, IPv6 literals without brackets (``""`` if none)."""
        return self._parts_of_uri.host

    @property
    def port(self) -> int:
        """The port: explicit, else the scheme's default (80 / 443), else 0."""
        return self._parts_of_uri.port

    @property
    def path(self) -> str:
        """The path as sent, percent-escapes kept; ``"/"`` when the URI has an empty path."""
        return self._parts_of_uri.path

    @property
    def query_string(self) -> str:
        """The query as sent, without the ``?`` (``""`` if none)."""
        return self._parts_of_uri.query_string

    @property
    def fragment(self) -> str:
        """The fragment without the ``#`` (``""`` if none)."""
        return self._parts_of_uri.fragment

    def query_pairs(self) -> tuple[tuple[str, str], ...]:
        """The query's decoded ``(name, value)`` pairs, in order, blank values kept (cached)."""
        try:
            return self._query
        except AttributeError:
            return self._cache("_query", split_query(self._parts_of_uri.query_string))

    @property
    def query(self) -> list[tuple[str, str]]:
        """The query's decoded ``(name, value)`` pairs, in order, blank values kept."""
        return list(self.query_pairs())

    @property
    def args(self) -> ImmutableMultiDict[str, str]:
        """The query as a werkzeug multi-dict (see :attr:`query`)."""
        from werkzeug.datastructures import ImmutableMultiDict

        return ImmutableMultiDict(self.query_pairs())

    # -- body views ---------------------------------------------------------------------------

    @property
    def _content_type_parts(self) -> tuple[str, dict[str, str]]:
        try:
            return self._content_type
        except AttributeError:
            pass
        value = next((v for name, v in self._raw_headers if name.lower() == "content-type"), None)
        if value is None:
            return self._cache("_content_type", ("", {}))
        from werkzeug.http import parse_options_header

        mimetype, options = parse_options_header(value)
        return self._cache("_content_type", (mimetype.lower(), options))

    @property
    def content_type(self) -> str:
        """The body's media type, lower-case, without parameters (``""`` if not given)."""
        return self._content_type_parts[0]

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter of the content type, if any."""
        return self._content_type_parts[1].get("charset")

    def multipart_parts(self) -> tuple[Part, ...] | None:
        """The multipart parts, or None when the body is not multipart or does not decode."""
        try:
            return self._parts
        except AttributeError:
            pass
        parts = None
        mimetype, options = self._content_type_parts
        boundary = options.get("boundary", "")
        if mimetype == _MULTIPART and boundary and boundary.isascii():
            try:
                parts = _decode_parts(self._body, boundary.encode("ascii"))
            except Exception:  # a hostile body must never escape as an error
                parts = None
        return self._cache("_parts", parts)

    def urlencoded_pairs(self) -> tuple[tuple[str, str], ...] | None:
        """The form pairs of a URL-encoded body, or None when not URL-encoded or undecodable."""
        try:
            return self._urlencoded
        except AttributeError:
            pass
        pairs = None
        if self.content_type == _URLENCODED:
            import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" handler

            try:
                text = self._body.decode()
            except UnicodeDecodeError:
                pass
            else:
                # What werkzeug's FormDataParser does, keeping the pairs in wire order.
                pairs = tuple(parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"))
        return self._cache("_urlencoded", pairs)

    @property
    def parts(self) -> list[Part]:
        """Every multipart part, fields and files, in body order (empty if not multipart)."""
        return list(self.multipart_parts() or ())

    def _field_pairs(self) -> tuple[tuple[str, str], ...]:
        try:
            return self._pairs
        except AttributeError:
            pass
        pairs = self.urlencoded_pairs()
        if pairs is None:
            pairs = tuple(
                (part.name, part.data.decode(_field_charset(part), "replace"))
                for part in self.multipart_parts() or ()
                if part.filename is None
            )
        return self._cache("_pairs", pairs)

    @property
    def form(self) -> ImmutableMultiDict[str, str]:
        """Form fields: URL-encoded pairs, or multipart parts without a filename (as text)."""
        from werkzeug.datastructures import ImmutableMultiDict

        return ImmutableMultiDict(self._field_pairs())

    @property
    def files(self) -> ImmutableMultiDict[str, FilePart]:
        """Multipart parts with a filename, by field name, in body order."""
        from werkzeug.datastructures import ImmutableMultiDict

        return ImmutableMultiDict(
            (part.name, FilePart(part.filename, part.content_type, part.data, part.headers))
            for part in self.multipart_parts() or ()
            if part.filename is not None
        )

    def parsed_json(self) -> tuple[bool, object]:
        """``(True, value)`` when the body is JSON (see :attr:`json`), else ``(False, why)``.

        The value is cached and shared: callers must not mutate it.
        """
        try:
            return self._json
        except AttributeError:
            return self._cache("_json", self._parse_json())

    def _parse_json(self) -> tuple[bool, object]:
        mimetype = self.content_type
        if mimetype and not is_json_type(mimetype):
            return False, f"content type {mimetype!r} is not JSON"
        if not self._body:
            return False, "the body is empty"
        try:
            data: str | bytes = self._body
            if self.charset:
                data = self._body.decode(_charset_codec(self.charset))
            return True, json.loads(data, parse_constant=_reject_constant)
        except RecursionError:
            return False, "the body is JSON nested too deeply to parse"
        except ValueError as exc:
            return False, f"the body is not valid JSON ({exc})"

    @property
    def json(self) -> typing.Any:
        """The body parsed as JSON (a fresh copy on each access).

        The body is read as JSON when the content type is ``application/json`` or ends in
        ``+json``, or when there is no content type at all. Strict JSON: ``NaN`` and
        ``Infinity`` are refused. Raises ValueError, saying why, in every other case (other
        content type, empty body, invalid or too deeply nested JSON).
        """
        ok, value = self.parsed_json()
        if not ok:
            raise ValueError(f"{self!r} has no JSON body: {value}")
        return _copy_json(value)

    @property
    def json_or_none(self) -> typing.Any:
        """Like :attr:`json`, but None instead of raising (so also None for a JSON ``null``)."""
        ok, value = self.parsed_json()
        return _copy_json(value) if ok else None

    @property
    def text(self) -> str:
        """The body decoded by its ``charset`` parameter, else UTF-8; bad bytes replaced."""
        return self._body.decode(_charset_codec(self.charset), "replace")

    # -- identity -------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Request):
            return NotImplemented
        return (
            self._method == other._method
            and self._uri == other._uri
            and self._body == other._body
            and self._raw_headers == other._raw_headers
        )

    def __hash__(self) -> int:
        try:
            return self._hash
        except AttributeError:
            key = (self._method, self._uri, self._raw_headers, self._body)
            return self._cache("_hash", hash(key))

    def __repr__(self) -> str:
        return f"<Request {self._method} {self._uri} ({len(self._body)} bytes)>"


# The setters of the slots Request._sent fills (see there).
_set_method = Request.__dict__["_method"].__set__
_set_uri = Request.__dict__["_uri"].__set__
_set_raw_headers = Request.__dict__["_raw_headers"].__set__
_set_body = Request.__dict__["_body"].__set__
_set_memo = Request.__dict__["_memo"].__set__
_set_uri_parts = Request.__dict__["_uri_parts"].__set__


def _field_charset(part: Part) -> str:
    """The charset werkzeug would decode a multipart text field with."""
    if part.content_type:
        from werkzeug.http import parse_options_header

        charset = parse_options_header(part.content_type)[1].get("charset", "").lower()
        if charset in _FIELD_CHARSETS:
            return charset
    return "utf-8"
