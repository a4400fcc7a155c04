"""Keeping secrets out of cassettes.

Filters run on every live request **before** it is matched, recorded or kept in
``cassette.requests``, and on every response before it is recorded; so a recording never holds a
secret, and a replay still matches because the live request is filtered the same way.

By default the request headers in :data:`DEFAULT_REDACTED_HEADERS` are replaced by
:data:`PLACEHOLDER`. On top of that, as in vcrpy:

* ``filter_headers``: names (the header is removed) or ``(name, replacement)`` pairs (replaced;
  a None replacement removes it);
* ``filter_query_parameters``: the same for query parameters;
* ``filter_post_data_parameters``: the same for form fields, multipart fields and top-level JSON
  keys of the body;
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
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pooltest.filepost import encode_multipart_formdata

from ._model import Response
from ._request import Request

__all__ = ["DEFAULT_REDACTED_HEADERS", "PLACEHOLDER", "Filters"]

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

FilterSpec = Iterable[str | tuple[str, str | None]]
RequestHook = Callable[[Request], Request | None]
ResponseHook = Callable[[Response], Response | None]


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

    headers: dict[str, str | None] = field(default_factory=dict)
    query: dict[str, str | None] = field(default_factory=dict)
    post_data: dict[str, str | None] = field(default_factory=dict)
    sensitive: dict[str, str] = field(default_factory=dict)
    before_record_request: RequestHook | None = None
    before_record_response: ResponseHook | None = None

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
            headers,
            _rules(filter_query_parameters),
            _rules(filter_post_data_parameters),
            sensitive,
            before_record_request,
            before_record_response,
        )

    # -- requests ---------------------------------------------------------------------------

    def request(self, request: Request) -> Request:
        """``request`` with headers, query, post data and sensitive values filtered."""
        uri, body = request.uri, request.body
        pairs: list[tuple[str, str]] = list(request.raw_headers)
        if self.headers and any(name.lower() in self.headers for name, _ in pairs):
            pairs = _filter_pairs(pairs, self.headers)
        if self.query and "?" in uri:
            uri = _filter_query(uri, self.query)
        if self.post_data and body:
            body, pairs = _filter_body(request, body, pairs, self.post_data)
        if self.sensitive:
            uri = self._hide(uri)
            hidden = self._hide_bytes(body)
            pairs = _relength([(name, self._hide(value)) for name, value in pairs], body, hidden)
            body = hidden
        if uri is request.uri and body is request.body and tuple(pairs) == request.raw_headers:
            return request
        return Request(request.method, uri, pairs, body)

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
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict) or not any(k.lower() in rules for k in document):
        return None
    result = {}
    for key, value in document.items():
        lowered = key.lower()
        if lowered not in rules:
            result[key] = value
        elif rules[lowered] is not None:
            result[key] = rules[lowered]
    return json.dumps(result, separators=(",", ":")).encode()


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
