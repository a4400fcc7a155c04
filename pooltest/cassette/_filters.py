"""Keeping secrets out of cassettes.

Filters run on every live request **before** it is matched, recorded or kept in
``cassette.requests``, and on every response before it is recorded; so a recording never holds a
secret, and a replay still matches because the live request is filtered the same way.

By default the request headers in :data:`DEFAULT_REDACTED_HEADERS`, and every request header,
query parameter and body field (form, multipart, JSON keys at any depth) whose name looks secret
(:func:`looks_secret`), are replaced by :data:`PLACEHOLDER`; ``redact_defaults=False`` turns
that off. On top of that, as in vcrpy:

* ``filter_headers``: names (the header is removed) or ``(name, replacement)`` pairs (replaced;
  a None replacement removes it);
* ``filter_query_parameters``: the same for query parameters;
* ``filter_post_data_parameters``: the same for form fields, multipart fields and JSON keys (at
  any depth) of the body;
* ``filter_sensitive_data={placeholder: secret}``: every occurrence of ``secret`` in the URI,
  headers and bodies of requests and responses is replaced by ``placeholder`` when recording, and
  the placeholder is turned back into the secret in replayed responses; a ``Content-Length`` that
  described the body is made to describe the changed body each way, so stored messages stay
  self-consistent;
* ``before_record_request`` / ``before_record_response``: callables returning the (possibly
  changed) request/response, or None to leave the exchange unrecorded.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pooltest.filepost import encode_multipart_formdata

from ._model import Response
from ._request import Request

__all__ = [
    "DEFAULT_REDACTED_HEADERS",
    "DEFAULT_SECRET_ENDINGS",
    "DEFAULT_SECRET_NAMES",
    "DEFAULT_SECRET_WORDS",
    "PLACEHOLDER",
    "Filters",
    "Rules",
    "looks_secret",
]

#: What a redacted value is replaced with.
PLACEHOLDER = "<REDACTED>"

#: Request headers redacted by default (any letter case).
DEFAULT_REDACTED_HEADERS = (
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "x-auth-token",
)

#: By default, request headers, query parameters and body fields (form, multipart, JSON keys at
#: any depth) are redacted too when their name looks secret: one of its words (split at anything
#: but letters and digits) is in :data:`DEFAULT_SECRET_WORDS`, or its letters and digits end with
#: one of :data:`DEFAULT_SECRET_ENDINGS`, or it is one of :data:`DEFAULT_SECRET_NAMES`. So
#: ``access_token``, ``X-Auth-Token``, ``client_secret``, ``apiKey``, ``password`` and ``key`` are
#: redacted; ``author``, ``keyboard`` and ``Idempotency-Key`` are not.
DEFAULT_SECRET_WORDS = frozenset(
    {
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "auth",
        "authorization",
        "session",
        "signature",
        "sig",
        "credential",
        "credentials",
        "cookie",
        "jwt",
        "apikey",
        "otp",
    }
)
DEFAULT_SECRET_ENDINGS = ("apikey", "token", "secret", "password", "passwd", "sessionid")
DEFAULT_SECRET_NAMES = frozenset({"key"})
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")

FilterSpec = Iterable[str | tuple[str, str | None]]
RequestHook = Callable[[Request], Request | None]
ResponseHook = Callable[[Response], Response | None]


def looks_secret(name: str) -> bool:
    """Whether a header, parameter or field name looks like it holds a secret (see above)."""
    words = [word for word in _WORD_SPLIT.split(name.lower()) if word]
    joined = "".join(words)
    return (
        joined in DEFAULT_SECRET_NAMES
        or any(word in DEFAULT_SECRET_WORDS for word in words)
        or joined.endswith(DEFAULT_SECRET_ENDINGS)
    )


class Rules(Mapping[str, "str | None"]):
    """Filter rules: ``{lower-case name: replacement or None (remove)}``, plus, when
    ``secrets`` is on, :data:`PLACEHOLDER` for any secret-looking name not named explicitly."""

    __slots__ = ("_explicit", "_secrets", "_seen")

    def __init__(self, explicit: Mapping[str, str | None], secrets: bool) -> None:
        self._explicit = dict(explicit)
        self._secrets = secrets
        self._seen: dict[str, bool] = {}

    def _secret(self, name: str) -> bool:
        known = self._seen.get(name)
        if known is None:
            known = looks_secret(name)
            if len(self._seen) < 4096:
                self._seen[name] = known
        return known

    def __contains__(self, name: object) -> bool:
        if name in self._explicit:
            return True
        if not self._secrets or not isinstance(name, str):
            return False
        known = self._seen.get(name)
        return self._secret(name) if known is None else known

    def any_of(self, names: typing.Iterable[str]) -> bool:
        """Whether a rule applies to any of the lower-case ``names`` (``in``, without the
        per-name method calls: this runs for every request)."""
        explicit, seen = self._explicit, self._seen
        for name in names:
            if name in explicit:
                return True
            if self._secrets:
                known = seen.get(name)
                if known is None:
                    known = self._secret(name)
                if known:
                    return True
        return False

    def __getitem__(self, name: str) -> str | None:
        if name in self._explicit:
            return self._explicit[name]
        if self._secrets and self._secret(name):
            return PLACEHOLDER
        raise KeyError(name)

    def __iter__(self) -> typing.Iterator[str]:
        return iter(self._explicit)

    def __len__(self) -> int:
        return len(self._explicit)

    def __bool__(self) -> bool:
        return bool(self._explicit) or self._secrets


def _rules(spec: FilterSpec) -> dict[str, str | None]:
    """``{lower-case name: replacement or None (remove)}`` from vcrpy-style filter lists."""
    rules: dict[str, str | None] = {}
    for item in spec:
        if isinstance(item, str):
            rules[item.lower()] = None
        else:
            name, replacement = item
            rules[name.lower()] = replacement
    return rules


@dataclass
class Filters:
    """The filters of one cassette (see the module docstring)."""

    headers: Mapping[str, str | None] = field(default_factory=dict)
    query: Mapping[str, str | None] = field(default_factory=dict)
    post_data: Mapping[str, str | None] = field(default_factory=dict)
    sensitive: dict[str, str] = field(default_factory=dict)
    before_record_request: RequestHook | None = None
    before_record_response: ResponseHook | None = None
    #: Header tuples seen to need no header rule (requests repeat the same few).
    _unfiltered_headers: set[tuple[tuple[str, str], ...]] = field(
        default_factory=set, repr=False, compare=False
    )

    @classmethod
    def build(
        cls,
        *,
        redact_defaults: bool = True,
        filter_headers: FilterSpec = (),
        filter_query_parameters: FilterSpec = (),
        filter_post_data_parameters: FilterSpec = (),
        filter_sensitive_data: Mapping[str, str] | None = None,
        before_record_request: RequestHook | None = None,
        before_record_response: ResponseHook | None = None,
    ) -> Filters:
        headers: dict[str, str | None] = {}
        if redact_defaults:
            headers = dict.fromkeys(DEFAULT_REDACTED_HEADERS, PLACEHOLDER)
        headers.update(_rules(filter_headers))
        sensitive = {k: v for k, v in (filter_sensitive_data or {}).items() if v}
        return cls(
            Rules(headers, redact_defaults),
            Rules(_rules(filter_query_parameters), redact_defaults),
            Rules(_rules(filter_post_data_parameters), redact_defaults),
            sensitive,
            before_record_request,
            before_record_response,
        )

    # -- requests ---------------------------------------------------------------------------

    def request(self, request: Request) -> Request:
        """``request`` with headers, query, post data and sensitive values filtered."""
        # The stored values themselves (what the uri/body/raw_headers properties return).
        uri, body, raw = request._uri, request._body, request._raw_headers
        pairs: Sequence[tuple[str, str]] = raw
        # Each test puts the cheap, usually deciding, check first: the rule sets' truth is a
        # Python-level __bool__.
        if raw not in self._unfiltered_headers and self.headers:
            if _applies(self.headers, [name.lower() for name, _ in raw]):
                pairs = _filter_pairs(raw, self.headers)
            elif len(self._unfiltered_headers) < 1024:
                self._unfiltered_headers.add(raw)
        if "?" in uri and self.query:
            uri = _filter_query(uri, self.query)
        if body and self.post_data:
            body, pairs = _filter_body(request, body, list(pairs), self.post_data)
        if self.sensitive:
            uri = self._hide(uri)
            hidden = self._hide_bytes(body)
            pairs = _relength([(name, self._hide(value)) for name, value in pairs], body, hidden)
            body = hidden
        if uri is request._uri and body is request._body and tuple(pairs) == raw:
            return request
        return Request(request.method, uri, pairs, body)

    def leave_alone(self, uri: str, raw: tuple[tuple[str, str], ...], body: bytes) -> bool:
        """Whether :meth:`request` would return a request with these stored values unchanged,
        answered without building it; False also when only building it can tell (a body the
        post-data rules look at)."""
        if self.sensitive or (body and self.post_data):
            return False
        if "?" in uri and self.query and _filter_query(uri, self.query) is not uri:
            return False
        if raw in self._unfiltered_headers or not self.headers:
            return True
        if _applies(self.headers, [name.lower() for name, _ in raw]):
            return False
        if len(self._unfiltered_headers) < 1024:
            self._unfiltered_headers.add(raw)
        return True

    def recordable_request(self, request: Request) -> Request | None:
        """The filtered request as it will be stored, or None if a hook refuses it."""
        if self.before_record_request is None:
            return request
        return self.before_record_request(request)

    # -- responses --------------------------------------------------------------------------

    def recordable_response(self, response: Response) -> Response | None:
        """The response as it will be stored (secrets hidden), or None if a hook refuses it."""
        if self.sensitive:
            body = self._hide_bytes(response.body)
            headers = [(n, self._hide(v)) for n, v in response.headers]
            response = replace(
                response,
                headers=tuple(_relength(headers, response.body, body)),
                body=body,
                _wire=[],
            )
        if self.before_record_response is not None:
            return self.before_record_response(response)
        return response

    def replayed_response(self, response: Response) -> Response:
        """The recorded response with placeholders turned back into the real values."""
        if not self.sensitive:
            return response
        body = self._reveal_bytes(response.body)
        headers = [(n, self._reveal(v)) for n, v in response.headers]
        return replace(
            response,
            headers=tuple(_relength(headers, response.body, body)),
            body=body,
            _wire=[],
        )

    # -- sensitive values -------------------------------------------------------------------

    def _hide(self, text: str) -> str:
        for placeholder, secret in self.sensitive.items():
            text = text.replace(secret, placeholder)
        return text

    def _reveal(self, text: str) -> str:
        for placeholder, secret in self.sensitive.items():
            text = text.replace(placeholder, secret)
        return text

    def _hide_bytes(self, data: bytes) -> bytes:
        for placeholder, secret in self.sensitive.items():
            data = data.replace(secret.encode(), placeholder.encode())
        return data

    def _reveal_bytes(self, data: bytes) -> bytes:
        for placeholder, secret in self.sensitive.items():
            data = data.replace(placeholder.encode(), secret.encode())
        return data


def _applies(rules: Mapping[str, str | None], names: list[str]) -> bool:
    """Whether any of the lower-case ``names`` has a rule."""
    if isinstance(rules, Rules):
        return rules.any_of(names)
    return any(name in rules for name in names)


def _filter_pairs(
    pairs: Iterable[tuple[str, str]], rules: Mapping[str, str | None]
) -> list[tuple[str, str]]:
    kept = []
    for name, value in pairs:
        lowered = name.lower()
        if lowered not in rules:
            kept.append((name, value))
        elif rules[lowered] is not None:
            kept.append((name, typing.cast(str, rules[lowered])))
    return kept


def _filter_query(uri: str, rules: Mapping[str, str | None]) -> str:
    query = uri.partition("?")[2].partition("#")[0]
    if not query:
        return uri
    if "%" not in query and "+" not in query:  # names need no decoding: a quick look first
        names = [item.partition("=")[0].lower() for item in query.split("&")]
        if not _applies(rules, names):
            return uri
    parts = urlsplit(uri)
    if not parts.query:
        return uri
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    filtered = _filter_pairs(pairs, rules)
    if filtered == pairs:
        return uri
    return urlunsplit(parts._replace(query=urlencode(filtered)))


def _filter_body(
    request: Request,
    body: bytes,
    pairs: list[tuple[str, str]],
    rules: Mapping[str, str | None],
) -> tuple[bytes, list[tuple[str, str]]]:
    """Filter form, multipart and JSON fields; fix Content-Type/Length when re-encoded."""
    kind = request.content_type
    if kind == "application/x-www-form-urlencoded":
        fields = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
        filtered = _filter_pairs(fields, rules)
        if filtered != fields:
            return _with_body(urlencode(filtered).encode(), pairs)
    elif kind == "application/json" or kind.endswith("+json"):
        new = _filter_json(body, rules)
        if new is not None:
            return _with_body(new, pairs)
    elif kind == "multipart/form-data":
        return _filter_multipart(request, body, pairs, rules)
    return body, pairs


def _filter_json(body: bytes, rules: Mapping[str, str | None]) -> bytes | None:
    """The JSON body with filtered keys (at any depth), or None when nothing changed."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    changed = [False]
    result = _filter_json_value(document, rules, changed, 0)
    if not changed[0]:
        return None
    return json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode()


def _filter_json_value(
    value: object, rules: Mapping[str, str | None], changed: list[bool], depth: int
) -> object:
    if depth > 100:
        return value
    if isinstance(value, list):
        return [_filter_json_value(item, rules, changed, depth + 1) for item in value]
    if not isinstance(value, dict):
        return value
    result = {}
    for key, item in value.items():
        lowered = key.lower()
        if lowered not in rules:
            result[key] = _filter_json_value(item, rules, changed, depth + 1)
            continue
        changed[0] = True
        replacement = rules[lowered]
        if replacement is not None:
            result[key] = replacement
    return result


def _filter_multipart(
    request: Request,
    body: bytes,
    pairs: list[tuple[str, str]],
    rules: Mapping[str, str | None],
) -> tuple[bytes, list[tuple[str, str]]]:
    parts = request.parts
    if not any(part.name.lower() in rules for part in parts):
        return body, pairs
    fields: list[tuple[str, typing.Any]] = []
    for part in parts:
        lowered = part.name.lower()
        if lowered in rules:
            replacement = rules[lowered]
            if replacement is not None:
                fields.append((part.name, replacement))
        elif part.filename is not None:
            fields.append((part.name, (part.filename, part.data, part.content_type)))
        else:
            fields.append((part.name, part.data))
    boundary = request.headers.get("content-type", "").partition("boundary=")[2].strip('"')
    new_body, content_type = encode_multipart_formdata(fields, boundary=boundary or None)
    new_pairs = [
        (n, content_type if n.lower() == "content-type" else v)
        for n, v in _with_body(new_body, pairs)[1]
    ]
    return new_body, new_pairs


def _relength(pairs: list[tuple[str, str]], old: bytes, new: bytes) -> list[tuple[str, str]]:
    """``pairs`` with a Content-Length that described ``old`` now describing ``new``.

    A Content-Length that did not equal ``len(old)`` (a HEAD response, say) is left alone.
    """
    if len(new) == len(old):
        return pairs
    before, after = str(len(old)), str(len(new))
    return [
        (n, after if n.lower() == "content-length" and v.strip() == before else v) for n, v in pairs
    ]


def _with_body(body: bytes, pairs: list[tuple[str, str]]) -> tuple[bytes, list[tuple[str, str]]]:
    fixed = [(n, str(len(body)) if n.lower() == "content-length" else v) for n, v in pairs]
    return body, fixed
