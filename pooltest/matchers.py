"""Matching requests: named comparisons (vcrpy's ``match_on``) and predicate matchers.

Two families share one result type, :class:`Difference` ``(field, actual, expected)``, whose
``field`` is a readable path such as ``json.items[2].id``, ``form['tag']``,
``files['doc'].content_type``, ``query['page']`` or ``headers['X-Id']``. :func:`explain` renders
a list of them as an aligned table.

**Named comparisons** (:data:`COMPARISONS`) compare a live request with a recorded one. Each has
``differences(live, recorded)`` and ``key(request)``, with the invariant that
``differences(a, b) == []`` exactly when ``key(a) == key(b)``. The key is what lets a cassette
index its recordings in a dict: a request is found with one lookup, whatever the cassette size.
The invariant holds by construction: every comparison first maps a request to a canonical,
hashable value (its key) and reports differences only where the canonical values differ.
Keys are cached per request (``Request._memo``), so a repeated lookup costs a dict hit.

* ``method``, ``scheme``, ``host``, ``port``, ``path``: plain equality of the parsed parts.
* ``uri``: the whole URI with scheme and host lower-cased, a default port dropped, an empty
  path read as ``/`` and userinfo ignored; the query is compared as sent (order kept).
* ``query``: the multiset of decoded ``(name, value)`` pairs (order does not matter).
* ``headers``: the multiset of ``(lower-case name, value)`` pairs.
* ``raw_body``: byte equality.
* ``body``: by meaning, chosen by the request's content type. JSON (``application/json`` or
  ``*+json``) by parsed value, so key order and whitespace do not matter (``true`` is not
  ``1``; ``1`` equals ``1.0``); URL-encoded forms as multisets of pairs, so order does not
  matter at all, even between values of one name; multipart bodies part by part, ignoring the
  boundary: parts are grouped by name (order between names ignored, order within a name kept)
  and compared on filename, content type and data. Anything else, and any body that does not
  parse as its content type says (or JSON nested over 100 levels), is compared as raw bytes.
  Two bodies read in different ways (say JSON and raw) differ.

**Predicate matchers** (:func:`json_params_matcher` and friends) mirror ``responses.matchers``:
each returns a :class:`Matcher`, called as ``matcher(request) -> (ok, reason)``, that checks one
request against fixed expectations. They accept pooltest :class:`Request` objects and anything
shaped like one (``method``, ``url``, ``headers``, ``body``), such as a
``requests.PreparedRequest``. Where values repeat under one name, matchers compare them in the
order given (a list in the expectation); single values may be given as ``str``, ``int`` or
``float``.

:func:`as_comparison` turns names, comparisons, predicate matchers and vcrpy-style callables
``(r1, r2) -> bool | None`` (raising ``AssertionError`` on mismatch) into comparisons; the last
two have no key (``indexable`` is False) and are checked one candidate at a time.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import reprlib
import typing
import zlib
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from urllib.parse import parse_qsl

if typing.TYPE_CHECKING:
    from pooltest.cassette._request import Part, Request

    _Differ = Callable[[Request, Request], list["Difference"]]
    _Keyer = Callable[[Request], Hashable]
    _Check = Callable[[Request], list["Difference"]]

__all__ = [
    "COMPARISONS",
    "MISSING",
    "Comparison",
    "Difference",
    "Matcher",
    "all_of",
    "as_comparison",
    "body_matcher",
    "explain",
    "fragment_identifier_matcher",
    "header_matcher",
    "json_params_matcher",
    "multipart_matcher",
    "query_param_matcher",
    "query_string_matcher",
    "register_matcher",
    "urlencoded_params_matcher",
]

_JSON_MAX_DEPTH = 100
_MAX_BYTES_SHOWN = 64
_MAX_TEXT_SHOWN = 100
_FIELD_WIDTH = 40
_VALUE_WIDTH = 40
_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60


class _Shown(str):
    """A value already rendered for display (a summary); its repr is the text itself."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


#: Stands for a value that is absent on one side of a :class:`Difference`.
MISSING: typing.Final = _Shown("<missing>")


class Difference(typing.NamedTuple):
    """One way a request differs: where (``field``), what it has, what was expected."""

    field: str
    actual: object
    expected: object


# -- rendering values --------------------------------------------------------------------------


def _bytes_shown(data: bytes) -> object:
    """Small bytes as they are; large ones as ``<N bytes sha256:0123456789ab..>``."""
    if len(data) <= _MAX_BYTES_SHOWN:
        return data
    return _Shown(f"<{len(data)} bytes sha256:{hashlib.sha256(data).hexdigest()[:12]}..>")


def _text_shown(text: str) -> object:
    """Short text as it is; long text cut, with its length."""
    if len(text) <= _MAX_TEXT_SHOWN:
        return text
    return _Shown(f"{text[: _MAX_TEXT_SHOWN - 20]!r}... ({len(text)} chars)")


def _body_shown(data: bytes) -> object:
    """A body as text when it is short UTF-8, else as (summarised) bytes."""
    if len(data) <= _MAX_TEXT_SHOWN:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data
    return _bytes_shown(data)


def _json_shown(value: object) -> object:
    """A JSON value for display: scalars as they are, containers as compact, cut JSON."""
    if isinstance(value, str):
        return _text_shown(value)
    if not isinstance(value, (dict, list)):
        return value
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return _Shown(_repr.repr(value))
    if len(text) > _MAX_TEXT_SHOWN:
        text = text[: _MAX_TEXT_SHOWN - 20] + f"... ({len(text)} chars)"
    return _Shown(text)


def _one_or_list(values: Sequence[object]) -> object:
    """A single value unwrapped, several as a list, none as MISSING."""
    if not values:
        return MISSING
    if len(values) == 1:
        return values[0]
    return list(values)


def _render(value: object) -> str:
    return value if isinstance(value, _Shown) else repr(value)


def explain(differences: Iterable[Difference]) -> str:
    """Render differences as an aligned table: a header row, then one row per difference.

    Columns are ``field``, ``actual`` and ``expected``; values are shown with ``repr`` except
    summaries (``<N bytes sha256:..>``, ``<missing>``), which are shown as they are.
    """
    rows = [(d.field, _render(d.actual), _render(d.expected)) for d in differences]
    if not rows:
        return "(no differences)"
    width1 = min(max(len("field"), *(len(r[0]) for r in rows)), _FIELD_WIDTH)
    width2 = min(max(len("actual"), *(len(r[1]) for r in rows)), _VALUE_WIDTH)
    lines = [f"{'field':<{width1}}  {'actual':<{width2}}  expected"]
    lines.extend(f"{f:<{width1}}  {a:<{width2}}  {e}" for f, a, e in rows)
    return "\n".join(line.rstrip() for line in lines)


# -- comparisons ----------------------------------------------------------------------------------


class Comparison:
    """A named way to compare a live request with a recorded one.

    ``differences(live, recorded)`` lists how they differ (empty: they match). ``key(request)``
    is a hashable value such that two requests match exactly when their keys are equal, or
    None for every request when the comparison has no key (``indexable`` is False); it must be a
    pure function of the request, as cassettes remember it per distinct request sent. A
    comparison is also a vcrpy-style matcher: ``comparison(r1, r2)`` returns None on a match and
    raises ``AssertionError`` (explaining the differences) otherwise.
    """

    __slots__ = ("__name__", "_differ", "_keyer", "indexable", "name")

    def __init__(self, name: str, differences: _Differ, key: _Keyer | None = None) -> None:
        self.name = self.__name__ = name
        self._differ = differences
        self._keyer = key
        self.indexable = key is not None

    def differences(self, live: Request, recorded: Request) -> list[Difference]:
        """How ``live`` differs from ``recorded``: ``actual`` is live's, ``expected`` recorded's."""
        return self._differ(live, recorded)

    def key(self, request: Request) -> Hashable:
        """The request's key for this comparison, or None when the comparison has none."""
        keyer = self._keyer
        return None if keyer is None else keyer(request)

    def __call__(self, r1: Request, r2: Request) -> None:
        differences = self._differ(r1, r2)
        if differences:
            raise AssertionError(explain(differences))

    def __repr__(self) -> str:
        return f"<Comparison {self.name}{'' if self.indexable else ' (no key)'}>"


_UNSET: typing.Any = object()


def _memoized(name: str, compute: _Keyer) -> _Keyer:
    """``compute``, cached per request under ``name`` in the request's memo dict.

    The memo pays off when one request is compared many times (explaining a miss compares the
    live request with every recording). A cassette's index needs each key once per distinct
    request (it remembers keys itself), so it calls ``compute`` directly, found as the keyer's
    ``_pooltest_compute``.
    """

    def key(request: Request) -> Hashable:
        memo: dict[str, Hashable] = request._memo
        value: Hashable = memo.get(name, _UNSET)
        if value is _UNSET:
            value = memo[name] = compute(request)
        return value

    key._pooltest_compute = compute  # type: ignore[attr-defined]
    return key


def _by_key(name: str, key: _Keyer, shown: Callable[[Request], object]) -> Comparison:
    """A comparison reporting one difference, under ``name``, whenever the keys differ."""

    def differences(live: Request, recorded: Request) -> list[Difference]:
        if key(live) == key(recorded):
            return []
        return [Difference(name, shown(live), shown(recorded))]

    return Comparison(name, differences, key)


def _normalized_uri(request: Request) -> str:
    """The URI with scheme/host lower-cased, default port dropped, empty path as ``/``."""
    if not request.scheme or not request.host:
        return request.uri
    host = f"[{request.host}]" if ":" in request.host else request.host
    port = request.port
    authority = host if DEFAULT_PORTS.get(request.scheme) == port else f"{host}:{port}"
    query = f"?{request.query_string}" if request.query_string else ""
    fragment = f"#{request.fragment}" if request.fragment else ""
    return f"{request.scheme}://{authority}{request.path}{query}{fragment}"


def _grouped(pairs: Iterable[tuple[str, typing.Any]]) -> dict[str, list[typing.Any]]:
    """Values by name, names in first-seen order, values in order."""
    groups: dict[str, list[typing.Any]] = {}
    for name, value in pairs:
        groups.setdefault(name, []).append(value)
    return groups


def _multiset_differences(
    where: str,
    live: Iterable[tuple[str, str]],
    recorded: Iterable[tuple[str, str]],
    spelled: Mapping[str, str] | None = None,
) -> list[Difference]:
    """Per name, where the multisets of values differ (values shown in their order).

    ``spelled`` maps a name to the spelling shown in the field (default: the name itself).
    """
    ours, theirs = _grouped(live), _grouped(recorded)
    out = []
    for name in {**ours, **theirs}:
        mine, other = ours.get(name, []), theirs.get(name, [])
        if sorted(mine) != sorted(other):
            label = spelled.get(name, name) if spelled else name
            out.append(Difference(f"{where}[{label!r}]", _one_or_list(mine), _one_or_list(other)))
    return out


def _query_key(request: Request) -> Hashable:
    if not request.query_string:
        return ()  # what the general line below gives for no query, without parsing one
    return tuple(sorted(request.query_pairs()))


def _query_string_key(query_string: str) -> Hashable:
    """:func:`_query_key` of any request whose query string is ``query_string``."""
    if not query_string:
        return ()
    return tuple(sorted(split_query(query_string)))


def _query_differences(live: Request, recorded: Request) -> list[Difference]:
    if _QUERY_KEY(live) == _QUERY_KEY(recorded):
        return []
    return _multiset_differences("query", live.query_pairs(), recorded.query_pairs())


_BOUNDARY = re.compile(r"(?i)(;\s*boundary=)(\"[^\"]*\"|[^;]*)")


def _header_pairs(request: Request) -> list[tuple[str, str]]:
    """Header fields with lower-cased names; a multipart boundary reads as ``<boundary>``.

    The boundary is random on every request, so comparing it would make ``match_on=["headers"]``
    fail for every multipart upload; the body comparison checks the parts themselves.
    """
    pairs = []
    for name, value in request.raw_headers:
        lowered = name.lower()
        if lowered == "content-type" and "boundary=" in value.lower():
            pairs.append((lowered, _BOUNDARY.sub(r"\1<boundary>", value)))
        else:
            pairs.append((lowered, value))
    return pairs


def _headers_key(request: Request) -> Hashable:
    return tuple(sorted(_header_pairs(request)))


def _headers_differences(live: Request, recorded: Request) -> list[Difference]:
    if _HEADERS_KEY(live) == _HEADERS_KEY(recorded):
        return []
    spelled: dict[str, str] = {}
    for name, _ in (*live.raw_headers, *recorded.raw_headers):
        spelled.setdefault(name.lower(), name)
    return _multiset_differences("headers", _header_pairs(live), _header_pairs(recorded), spelled)


_QUERY_KEY = _memoized("query", _query_key)
_HEADERS_KEY = _memoized("headers", _headers_key)
_URI_KEY = _memoized("uri", _normalized_uri)


# -- the body, by meaning -------------------------------------------------------------------------


class _TooDeep(Exception):
    """A JSON value nests deeper than this module compares structurally."""


def _json_canonical(value: object, depth: int = 0) -> Hashable:
    """A hashable form of a JSON value: equal exactly when the values mean the same.

    Objects compare regardless of key order, numbers by value (``1 == 1.0``), and each kind
    is tagged so that ``true`` is not ``1`` and ``"1"`` is not ``1``.
    """
    if depth > _JSON_MAX_DEPTH:
        raise _TooDeep
    if isinstance(value, dict):
        return ("o", frozenset((k, _json_canonical(v, depth + 1)) for k, v in value.items()))
    if isinstance(value, list):
        return ("a", tuple(_json_canonical(v, depth + 1) for v in value))
    return _scalar_canonical(value)


def _scalar_canonical(value: object) -> Hashable:
    if value is None:
        return ("z",)
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    return ("?", repr(value))


def _json_key(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]"


def _json_differences(
    actual: object, expected: object, path: str, strict: bool, out: list[Difference]
) -> None:
    """Append where ``actual`` differs from ``expected``, one entry per JSON path.

    With ``strict`` False, object members ``actual`` has and ``expected`` lacks are ignored,
    at every depth.
    """
    if isinstance(actual, dict) and isinstance(expected, dict):
        for key, value in actual.items():
            if key in expected:
                _json_differences(value, expected[key], _json_key(path, key), strict, out)
            elif strict:
                out.append(Difference(_json_key(path, key), _json_shown(value), MISSING))
        for key, value in expected.items():
            if key not in actual:
                out.append(Difference(_json_key(path, key), MISSING, _json_shown(value)))
    elif isinstance(actual, list) and isinstance(expected, list):
        for index in range(max(len(actual), len(expected))):
            where = f"{path}[{index}]"
            if index >= len(actual):
                out.append(Difference(where, MISSING, _json_shown(expected[index])))
            elif index >= len(expected):
                out.append(Difference(where, _json_shown(actual[index]), MISSING))
            else:
                _json_differences(actual[index], expected[index], where, strict, out)
    elif (
        isinstance(actual, (dict, list))
        or isinstance(expected, (dict, list))
        or _scalar_canonical(actual) != _scalar_canonical(expected)
    ):
        out.append(Difference(path, _json_shown(actual), _json_shown(expected)))


def _multipart_canonical(parts: Sequence[Part]) -> Hashable:
    groups = _grouped((p.name, (p.filename, p.content_type, p.data)) for p in parts)
    return frozenset((name, tuple(entries)) for name, entries in groups.items())


def _form_canonical(pairs: Iterable[tuple[str, str]]) -> Hashable:
    """A form as multi-valued fields: field order is free, value order within a field counts."""
    return tuple(sorted((name, tuple(values)) for name, values in _grouped(pairs).items()))


def _form_differences(
    live: Iterable[tuple[str, str]], recorded: Iterable[tuple[str, str]]
) -> list[Difference]:
    ours, theirs = _grouped(live), _grouped(recorded)
    out = []
    for name in {**ours, **theirs}:
        mine, other = ours.get(name, []), theirs.get(name, [])
        if mine != other:
            out.append(Difference(f"form[{name!r}]", _one_or_list(mine), _one_or_list(other)))
    return out


class _Meaning(typing.NamedTuple):
    """How a body is read (``kind``) and its canonical value for that reading."""

    kind: str
    value: Hashable


_EMPTY_BODY = _Meaning("raw", b"")


def _body_meaning(request: Request) -> Hashable:
    if not request.body:
        return _EMPTY_BODY  # an empty body means the same whatever its content type says
    mimetype = request.content_type
    if mimetype and is_json_type(mimetype):
        ok, value = request.parsed_json()
        if ok:
            try:
                return _Meaning("json", _json_canonical(value))
            except _TooDeep:
                pass
    pairs = request.urlencoded_pairs()
    if pairs is not None:
        return _Meaning("form", _form_canonical(pairs))
    parts = request.multipart_parts()
    if parts is not None:
        return _Meaning("multipart", _multipart_canonical(parts))
    return _Meaning("raw", request.body)


_BODY_KEY = _memoized("body", _body_meaning)
_KIND_NAMES = {"json": "JSON", "form": "URL-encoded", "multipart": "multipart", "raw": "raw"}


def _body_differences(live: Request, recorded: Request) -> list[Difference]:
    ours = typing.cast(_Meaning, _BODY_KEY(live))
    theirs = typing.cast(_Meaning, _BODY_KEY(recorded))
    if ours == theirs:
        return []
    if ours.kind != theirs.kind:
        return [Difference("body", _read_as(ours.kind, live), _read_as(theirs.kind, recorded))]
    if ours.kind == "json":
        out: list[Difference] = []
        _json_differences(live.parsed_json()[1], recorded.parsed_json()[1], "json", True, out)
        return out
    if ours.kind == "form":
        return _form_differences(live.urlencoded_pairs() or (), recorded.urlencoded_pairs() or ())
    if ours.kind == "multipart":
        return _parts_differences(live.multipart_parts() or (), recorded.multipart_parts() or ())
    return [Difference("body", _body_shown(live.body), _body_shown(recorded.body))]


def _read_as(kind: str, request: Request) -> object:
    if kind == "raw":
        return _body_shown(request.body)
    what = request.content_type or "no content type"
    return _Shown(f"<{_KIND_NAMES[kind]} body ({what}), {len(request.body)} bytes>")


def _part_shown(part: Part) -> object:
    if part.filename is None:
        return _field_value(part.data)
    return _Shown(f"<file {part.filename!r}, {len(part.data)} bytes>")


def _field_value(data: bytes) -> object:
    try:
        return _text_shown(data.decode("utf-8"))
    except UnicodeDecodeError:
        return _bytes_shown(data)


def _parts_differences(live: Sequence[Part], recorded: Sequence[Part]) -> list[Difference]:
    """Per name and position within the name, how multipart parts differ."""
    ours = _grouped((p.name, p) for p in live)
    theirs = _grouped((p.name, p) for p in recorded)
    out: list[Difference] = []
    for name in {**ours, **theirs}:
        mine, other = ours.get(name, []), theirs.get(name, [])
        several = max(len(mine), len(other)) > 1
        for index in range(max(len(mine), len(other))):
            a = mine[index] if index < len(mine) else None
            b = other[index] if index < len(other) else None
            is_file = (a is not None and a.filename is not None) or (
                b is not None and b.filename is not None
            )
            where = f"{'files' if is_file else 'form'}[{name!r}]" + (
                f"[{index}]" if several else ""
            )
            _part_differences(where, a, b, is_file, out)
    return out


def _part_differences(
    where: str, a: Part | None, b: Part | None, is_file: bool, out: list[Difference]
) -> None:
    if a is None or b is None:
        out.append(
            Difference(
                where,
                MISSING if a is None else _part_shown(a),
                MISSING if b is None else _part_shown(b),
            )
        )
        return
    if not is_file:
        if a.data != b.data:
            out.append(Difference(where, _field_value(a.data), _field_value(b.data)))
        elif a.content_type != b.content_type:
            out.append(Difference(f"{where}.content_type", a.content_type, b.content_type))
        return
    if a.filename != b.filename:
        out.append(Difference(f"{where}.filename", a.filename, b.filename))
    if a.content_type != b.content_type:
        out.append(Difference(f"{where}.content_type", a.content_type, b.content_type))
    if a.data != b.data:
        out.append(Difference(f"{where}.data", _bytes_shown(a.data), _bytes_shown(b.data)))


def _raw_body_differences(live: Request, recorded: Request) -> list[Difference]:
    if live.body == recorded.body:
        return []
    return [Difference("raw_body", _body_shown(live.body), _body_shown(recorded.body))]


def _body(request: Request) -> Hashable:
    return request.body


def _method(request: Request) -> Hashable:
    return request.method


def _scheme(request: Request) -> Hashable:
    return request.scheme


def _host(request: Request) -> Hashable:
    return request.host


def _port(request: Request) -> Hashable:
    return request.port


def _path(request: Request) -> Hashable:
    return request.path


#: The computed keys (by their plain function, a keyer's ``_pooltest_compute``) whose value
#: depends on nothing but the query string (not on headers), each with that dependency as a
#: function of the query string; and those whose value is the same for every request with an
#: empty body, with that value. A cassette keys such requests without building them (see
#: ``Cassette.play_wire``).
_KEYS_OF_QUERY_STRING: dict[Callable[[Request], Hashable], Callable[[str], Hashable]] = {
    _query_key: _query_string_key,
}
_KEYS_OF_NO_BODY: dict[Callable[[Request], Hashable], Hashable] = {
    _body_meaning: _EMPTY_BODY,
    _body: b"",
}

# Keys that are one attribute of the request: a cassette reads them all with one attrgetter.
for _keyer, _view in ((_method, "method"), (_scheme, "scheme"), (_host, "host"), (_port, "port")):
    _keyer._pooltest_view = _view  # type: ignore[attr-defined]
_path._pooltest_view = "path"  # type: ignore[attr-defined]


def _uri_shown(request: Request) -> object:
    return _text_shown(request.uri)


#: The named comparisons, by vcrpy ``match_on`` name.
COMPARISONS: dict[str, Comparison] = {
    "method": _by_key("method", _method, _method),
    "uri": _by_key("uri", _URI_KEY, _uri_shown),
    "scheme": _by_key("scheme", _scheme, _scheme),
    "host": _by_key("host", _host, _host),
    "port": _by_key("port", _port, _port),
    "path": _by_key("path", _path, _path),
    "query": Comparison("query", _query_differences, _QUERY_KEY),
    "headers": Comparison("headers", _headers_differences, _HEADERS_KEY),
    "raw_body": Comparison("raw_body", _raw_body_differences, _body),
    "body": Comparison("body", _body_differences, _BODY_KEY),
}


# -- predicate matchers ---------------------------------------------------------------------------


class Matcher:
    """A check of one request against fixed expectations, in the style of ``responses``.

    ``matcher(request)`` returns ``(True, "")`` on a match, else ``(False, reason)`` where the
    reason is a headline and the :func:`explain` table of :meth:`differences`.
    """

    __slots__ = ("_check", "_description", "_headline")

    def __init__(self, description: str, check: _Check, headline: str) -> None:
        self._description = description
        self._check = check
        self._headline = headline

    def differences(self, request: object) -> list[Difference]:
        """How ``request`` differs from the expectations (empty: it matches)."""
        return self._check(_as_request(request))

    def __call__(self, request: object) -> tuple[bool, str]:
        differences = self.differences(request)
        if not differences:
            return True, ""
        return False, f"{self._headline}:\n{explain(differences)}"

    def __repr__(self) -> str:
        return self._description


def _as_request(obj: object) -> Request:
    """``obj`` if it is a Request, else a Request built from its method/url/headers/body."""
    if isinstance(obj, Request):
        return obj
    anyobj = typing.cast(typing.Any, obj)
    url = getattr(anyobj, "url", None) or getattr(anyobj, "uri", "")
    headers = getattr(anyobj, "headers", None) or {}
    pairs = headers if isinstance(headers, Mapping) else list(headers)
    body = getattr(anyobj, "body", None)
    if isinstance(body, bytearray):
        body = bytes(body)
    elif not isinstance(body, (bytes, str)):
        body = b""
    return Request(str(anyobj.method), str(url), pairs, body)


def _describe(name: str, *args: object, **kwargs: object) -> str:
    shown = [_repr.repr(arg) for arg in args]
    shown.extend(f"{key}={value!r}" for key, value in kwargs.items())
    return f"{name}({', '.join(shown)})"


def _expected_values(params: Mapping[str, object] | None) -> dict[str, list[str]]:
    """Expected values by name: a list/tuple gives several values, anything else one (str)."""
    out: dict[str, list[str]] = {}
    for name, value in (params or {}).items():
        items = value if isinstance(value, (list, tuple)) else [value]
        out[str(name)] = [v if isinstance(v, str) else str(v) for v in items]
    return out


def _values_differences(
    where: str, actual: dict[str, list[str]], expected: dict[str, list[str]], strict: bool
) -> list[Difference]:
    """Per name, where the value lists differ (in order); extra names only if ``strict``."""
    out = [
        Difference(f"{where}[{name!r}]", _one_or_list(actual.get(name, [])), _one_or_list(values))
        for name, values in expected.items()
        if actual.get(name, []) != values
    ]
    if strict:
        out.extend(
            Difference(f"{where}[{name!r}]", _one_or_list(values), MISSING)
            for name, values in actual.items()
            if name not in expected
        )
    return out


def _body_text(body: bytes) -> str:
    """The body as text for parsing, with a gzip fallback as ``responses`` has."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return gzip.decompress(body).decode("utf-8")


def json_params_matcher(
    params: Mapping[str, typing.Any] | list[typing.Any] | None, *, strict_match: bool = True
) -> Matcher:
    """Match a JSON body equal to ``params`` (an empty body reads as ``{}``).

    ``params`` is taken as it would be sent (JSON-encoded and decoded again, so tuples equal
    lists). Comparison is by meaning: key order does not matter, ``true`` is not ``1``. With
    ``strict_match=False`` the body may hold object members ``params`` does not mention, at any
    depth. The content type is not checked; a body that is not UTF-8 is tried as gzip.
    Raises TypeError if ``params`` cannot be JSON-encoded.
    """
    expected: object = (params or {}) if not isinstance(params, list) else params
    expected = json.loads(json.dumps(expected))

    def check(request: Request) -> list[Difference]:
        try:
            text = _body_text(request.body)
            actual = json.loads(text) if text else {}
        except (ValueError, OSError, EOFError, zlib.error) as exc:
            shown = _Shown(f"<not JSON: {type(exc).__name__}>")
            return [Difference("json", shown, _json_shown(expected))]
        out: list[Difference] = []
        strict = strict_match or not (isinstance(actual, dict) and isinstance(expected, dict))
        try:
            _json_differences(actual, expected, "json", strict, out)
        except RecursionError:
            return [Difference("json", _Shown("<nested too deeply>"), _json_shown(expected))]
        return out

    headline = "request.body doesn't match"
    if not strict_match:
        headline += " (non-strict: extra members allowed)"
    return Matcher(
        _describe("json_params_matcher", params, strict_match=strict_match), check, headline
    )


def urlencoded_params_matcher(
    params: Mapping[str, typing.Any] | None,
    *,
    strict_match: bool = True,
    allow_blank: bool = False,
) -> Matcher:
    """Match a URL-encoded body with the fields of ``params``.

    Values of one name are compared in order (give a list for repeated names). Blank values
    in the body are dropped unless ``allow_blank``. With ``strict_match=False`` the body may
    have other names; an empty ``params`` never matches a non-empty body (as in responses).
    """
    expected = _expected_values(params)

    def check(request: Request) -> list[Difference]:
        text = request.body.decode("utf-8", "replace")
        actual = _grouped(parse_qsl(text, keep_blank_values=allow_blank))
        out = _values_differences("form", actual, expected, strict_match)
        if not out and not params and request.body:
            out.append(Difference("body", _body_shown(request.body), b""))
        return out

    return Matcher(
        _describe(
            "urlencoded_params_matcher", params, strict_match=strict_match, allow_blank=allow_blank
        ),
        check,
        "request.body doesn't match",
    )


class _ExpectedPart(typing.NamedTuple):
    filename: str | None
    data: bytes
    content_type: str | None
    check_filename: bool
    is_file: bool


def _value_bytes(value: object) -> bytes:
    if hasattr(value, "read"):
        value = typing.cast(typing.Any, value).read()
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return str(value).encode("utf-8")


def _expected_file(spec: object) -> _ExpectedPart:
    if isinstance(spec, (tuple, list)):
        filename = spec[0]
        content_type = spec[2] if len(spec) > 2 else None
        return _ExpectedPart(filename, _value_bytes(spec[1]), content_type, True, True)
    return _ExpectedPart(None, _value_bytes(spec), None, False, True)


def _expected_parts(
    files: Mapping[str, object], data: Mapping[str, object] | None
) -> dict[str, list[_ExpectedPart]]:
    out: dict[str, list[_ExpectedPart]] = {}
    for name, value in (data or {}).items():
        items = value if isinstance(value, (list, tuple)) else [value]
        out.setdefault(name, []).extend(
            _ExpectedPart(None, _value_bytes(item), None, True, False) for item in items
        )
    for name, spec in files.items():
        out.setdefault(name, []).append(_expected_file(spec))
    return out


def _expected_shown(want: _ExpectedPart) -> object:
    if not want.is_file:
        return _field_value(want.data)
    named = f"{want.filename!r}, " if want.check_filename else ""
    return _Shown(f"<file {named}{len(want.data)} bytes>")


def _expected_part_differences(where: str, part: Part, want: _ExpectedPart) -> list[Difference]:
    out = []
    if want.check_filename and part.filename != want.filename:
        out.append(Difference(f"{where}.filename", part.filename, want.filename))
    if want.content_type is not None and part.content_type != want.content_type:
        out.append(Difference(f"{where}.content_type", part.content_type, want.content_type))
    if part.data != want.data:
        if want.is_file:
            out.append(
                Difference(f"{where}.data", _bytes_shown(part.data), _bytes_shown(want.data))
            )
        else:
            out.append(Difference(where, _field_value(part.data), _field_value(want.data)))
    return out


def multipart_matcher(
    files: Mapping[str, typing.Any],
    data: Mapping[str, typing.Any] | None = None,
    *,
    strict_match: bool = True,
) -> Matcher:
    """Match a ``multipart/form-data`` body holding ``files`` and ``data``, whatever its boundary.

    ``files`` maps a name to ``(filename, data[, content_type])`` or to bare data (``bytes``,
    ``str`` or a file object; then the filename is not checked, since encoders differ: urllib3
    sends none, requests sends the field name). A part's content type is checked only when
    given. ``data`` maps names to field values (a list for repeated fields; parts must have no
    filename). Parts are compared by name, in order within a name. With ``strict_match`` the
    body may not hold other names. Raises TypeError if ``files`` is empty, as responses does.
    """
    if not files:
        raise TypeError("files argument cannot be empty")
    expected = _expected_parts(files, data)

    def check(request: Request) -> list[Difference]:
        parts = request.multipart_parts()
        if parts is None:
            if request.content_type != "multipart/form-data":
                what = request.content_type or MISSING
                return [Difference("content_type", what, "multipart/form-data")]
            return [Difference("body", _Shown("<undecodable multipart>"), _Shown("<parts>"))]
        actual = _grouped((p.name, p) for p in parts)
        out: list[Difference] = []
        for name, wanted in expected.items():
            _expected_name_differences(name, actual.get(name, []), wanted, out)
        if strict_match:
            for name, extra in actual.items():
                if name not in expected:
                    prefix = "files" if extra[0].filename is not None else "form"
                    shown = _one_or_list([_part_shown(p) for p in extra])
                    out.append(Difference(f"{prefix}[{name!r}]", shown, MISSING))
        return out

    return Matcher(
        _describe("multipart_matcher", files, data, strict_match=strict_match),
        check,
        "multipart/form-data doesn't match",
    )


def _expected_name_differences(
    name: str, parts: list[Part], wanted: list[_ExpectedPart], out: list[Difference]
) -> None:
    several = max(len(parts), len(wanted)) > 1
    for index in range(max(len(parts), len(wanted))):
        is_file = wanted[min(index, len(wanted) - 1)].is_file
        where = f"{'files' if is_file else 'form'}[{name!r}]" + (f"[{index}]" if several else "")
        if index >= len(parts):
            out.append(Difference(where, MISSING, _expected_shown(wanted[index])))
        elif index >= len(wanted):
            out.append(Difference(where, _part_shown(parts[index]), MISSING))
        else:
            out.extend(_expected_part_differences(where, parts[index], wanted[index]))


def query_param_matcher(
    params: Mapping[str, typing.Any] | None, *, strict_match: bool = True
) -> Matcher:
    """Match the query's decoded parameters with ``params`` (blank values count).

    Values are compared as strings (``1`` matches ``"1"``); a list gives repeated values, in
    order. With ``strict_match=False`` the query may have other names.
    """
    expected = _expected_values(params)

    def check(request: Request) -> list[Difference]:
        actual = _grouped(request.query_pairs())
        return _values_differences("query", actual, expected, strict_match)

    headline = "Parameters do not match"
    if not strict_match:
        headline += " (non-strict: extra parameters allowed)"
    return Matcher(
        _describe("query_param_matcher", params, strict_match=strict_match), check, headline
    )


def query_string_matcher(query: str | None) -> Matcher:
    """Match a query string with ``query``: same decoded pairs, in any order."""
    expected = parse_qsl(query, keep_blank_values=True) if query else []

    def check(request: Request) -> list[Difference]:
        return _multiset_differences("query", request.query_pairs(), expected)

    return Matcher(_describe("query_string_matcher", query), check, "Query string doesn't match")


def header_matcher(
    headers: Mapping[str, str | re.Pattern[str]], strict_match: bool = False
) -> Matcher:
    """Match request headers: each name in ``headers`` (any letter case) must be present with
    that value, or a value the compiled regex matches (``re.match``, anchored at the start).

    Repeated fields are joined with ``", "``. With ``strict_match`` the request may not have
    other headers.
    """
    wanted = {name.lower(): (name, value) for name, value in headers.items()}

    def check(request: Request) -> list[Difference]:
        got = request.headers
        out = []
        for name, value in wanted.values():
            actual = got.get(name)
            if actual is None:
                out.append(Difference(f"headers[{name!r}]", MISSING, _pattern_shown(value)))
            elif not _header_value_matches(actual, value):
                out.append(Difference(f"headers[{name!r}]", actual, _pattern_shown(value)))
        if strict_match:
            out.extend(
                Difference(f"headers[{name!r}]", value, MISSING)
                for name, value in got.itermerged()
                if name.lower() not in wanted
            )
        return out

    return Matcher(
        _describe("header_matcher", headers, strict_match=strict_match),
        check,
        "Headers do not match",
    )


def _header_value_matches(actual: str, value: str | re.Pattern[str]) -> bool:
    if isinstance(value, re.Pattern):
        return value.match(actual) is not None
    return actual == value


def _pattern_shown(value: str | re.Pattern[str]) -> object:
    if isinstance(value, re.Pattern):
        return _Shown(f"re.compile({value.pattern!r})")
    return value


def body_matcher(params: str | bytes, *, allow_blank: bool = False) -> Matcher:
    """Match a body equal to ``params`` (``str`` is compared UTF-8 encoded).

    ``allow_blank`` is accepted for compatibility with responses and has no effect there either.
    """
    expected = params.encode("utf-8") if isinstance(params, str) else bytes(params)

    def check(request: Request) -> list[Difference]:
        if request.body == expected:
            return []
        return [Difference("body", _body_shown(request.body), _body_shown(expected))]

    return Matcher(_describe("body_matcher", params), check, "request.body doesn't match")


def fragment_identifier_matcher(identifier: str | None) -> Matcher:
    """Match the URL fragment: with ``=`` in ``identifier``, as query-style pairs in any order;
    otherwise verbatim. A falsy ``identifier`` matches only a URL without a fragment."""

    def check(request: Request) -> list[Difference]:
        fragment = request.fragment
        if not identifier:
            same = not fragment
        elif "=" in identifier:
            same = sorted(parse_qsl(fragment)) == sorted(parse_qsl(identifier))
        else:
            same = fragment == identifier
        if same:
            return []
        return [Difference("fragment", fragment or MISSING, identifier or MISSING)]

    return Matcher(
        _describe("fragment_identifier_matcher", identifier),
        check,
        "URL fragment identifier is different",
    )


def all_of(*matchers: Matcher | Callable[[Request], tuple[bool, str]]) -> Matcher:
    """A matcher that matches when every one of ``matchers`` does; differences add up.

    Besides :class:`Matcher` objects, any responses-style callable ``(request) -> (ok, reason)``
    is accepted; its failure becomes one difference named after it.
    """

    def check(request: Request) -> list[Difference]:
        out: list[Difference] = []
        for matcher in matchers:
            if isinstance(matcher, Matcher):
                out.extend(matcher.differences(request))
            else:
                ok, reason = matcher(request)
                if not ok:
                    name = getattr(matcher, "__name__", None) or repr(matcher)
                    out.append(Difference(name, _Shown(reason or "no match"), _Shown("match")))
        return out

    description = f"all_of({', '.join(repr(m) for m in matchers)})"
    return Matcher(description, check, "request doesn't match")


# -- adapting anything to a comparison ------------------------------------------------------------


def _from_matcher(matcher: Matcher) -> Comparison:
    def differences(live: Request, recorded: Request) -> list[Difference]:
        return matcher.differences(live)

    return Comparison(repr(matcher), differences)


def _from_vcrpy(function: Callable[[Request, Request], object]) -> Comparison:
    name = getattr(function, "__name__", None) or repr(function)

    def differences(live: Request, recorded: Request) -> list[Difference]:
        try:
            result = function(live, recorded)
        except AssertionError as exc:
            return [Difference(name, _Shown(str(exc) or "AssertionError"), _Shown("match"))]
        if result is None or result:
            return []
        return [Difference(name, _Shown(f"returned {result!r}"), _Shown("match"))]

    return Comparison(name, differences)


def register_matcher(name: str, matcher: object) -> Comparison:
    """Make ``name`` usable in ``match_on``, as vcrpy's ``register_matcher`` does.

    ``matcher`` is a vcrpy-style callable ``(r1, r2) -> bool | None`` (raising AssertionError
    with a reason on a mismatch), a :class:`Matcher` or a :class:`Comparison`. A matcher without
    a key is checked only on the candidates the keyed comparisons of ``match_on`` select.
    """
    comparison = as_comparison(matcher)
    named = Comparison(name, comparison.differences, comparison._keyer)
    COMPARISONS[name] = named
    return named


def as_comparison(obj: object) -> Comparison:
    """A :class:`Comparison` for a name in :data:`COMPARISONS`, a Comparison, a
    :class:`Matcher` (applied to the live request; no key) or a vcrpy-style callable
    ``(r1, r2) -> bool | None`` that raises AssertionError on mismatch (no key).

    Raises ValueError for an unknown name and TypeError for anything else.
    """
    if isinstance(obj, Comparison):
        return obj
    if isinstance(obj, str):
        try:
            return COMPARISONS[obj]
        except KeyError:
            known = ", ".join(COMPARISONS)
            raise ValueError(f"Unknown comparison {obj!r}; known: {known}") from None
    if isinstance(obj, Matcher):
        return _from_matcher(obj)
    if callable(obj):
        return _from_vcrpy(obj)
    raise TypeError(f"Cannot compare requests with {obj!r}")


# pooltest.cassette imports this module (its package __init__ loads the cassette, which uses
# matchers), and this module needs the Request model from that package. Importing it last means
# whichever side is imported first, the names the other needs already exist.
from pooltest.cassette._request import (  # noqa: E402
    DEFAULT_PORTS,
    Request,
    is_json_type,
    split_query,
)
