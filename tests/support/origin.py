"""``KeepAliveServer``: the loopback HTTP/1.1 origin every integration test talks to.

Persistent connections are the default (HTTP/1.1, every response framed by Content-Length or
chunked encoding), so a client that pools connections really reuses them. The server counts
accepted connections (``connections_accepted``) and requests (``requests_served``) and logs
``(connection id, method, target)`` per request (``request_log``), connection ids being 0-based in
accept order: two requests with the same id went over one connection. Request bodies are read
by their framing (Content-Length or chunked) before routing, on every route, so keep-alive stays
in sync whatever the client sends. Every route answers every method; HEAD gets GET's head.

Routes (query parameters in brackets):

``/``
    ``200`` plain-text greeting.
``/json``
    ``200`` the fixed 112-byte ``JSON_BODY`` (``application/json``).
``/echo``
    ``200`` JSON describing the request: ``method``, ``path``, ``target`` (raw request target),
    ``query`` (raw), ``args`` (parsed, name -> list), ``http_version``, ``headers`` (list of
    ``[name, value]`` in the order and case received), ``body`` (latin-1 text), ``body_base64``,
    ``chunked`` (request used chunked encoding), ``trailers`` and ``connection_id``.
``/status/<code>`` [``retry_after``, ``body``, ``header=Name: value`` (repeatable)]
    Answers with status ``code`` (200-599), optional ``Retry-After`` and extra headers.
``/redirect`` [``to`` (default ``/echo``), ``status`` (default 303)]
    Redirect with ``Location: <to>``.
``/redirect-n/<n>`` [``status`` (default 302), ``absolute=1``]
    A chain: ``/redirect-n/3`` -> ``/redirect-n/2`` -> ... -> ``/redirect-n/0``, which answers
    ``200`` ``redirect chain done``. The query string is carried along; ``absolute=1`` makes the
    ``Location`` an absolute URL.
``/upload``
    Parses the body with werkzeug (``multipart/form-data``, ``x-www-form-urlencoded``) or as JSON
    (``application/json`` and ``+json``) and answers JSON: ``form`` (name -> list of values, in
    order), ``files`` (name -> ``[filename, content_type, base64 data]``, first file of that name),
    ``all_files`` (name -> list of those triples), ``json``, ``content_type``, ``body_length``.
    Unparseable bodies get ``400``.
``/gzip`` [``members=<k>``], ``/deflate`` [``raw=1``], ``/br``, ``/zstd``
    ``ENCODED_PAYLOAD`` compressed with that Content-Encoding (``/deflate`` is zlib-wrapped unless
    ``raw=1``; ``/gzip?members=2`` sends two gzip members, decoding to the payload twice).
    ``/br`` and ``/zstd`` answer ``501`` when ``brotli``/``zstandard`` are not importable.
``/chunked`` [``n`` (default 3), ``trailers=1``]
    ``Transfer-Encoding: chunked`` body of ``n`` chunks, each written separately; the body equals
    ``chunked_body(n)``. ``trailers=1`` adds an ``X-Trailer: done`` trailer.
``/stream`` [``size`` (default 1 MiB), ``chunked=1``, ``piece`` (default 65536)]
    ``size`` bytes of ``stream_payload(size)`` written in pieces of ``piece`` bytes.
``/close``
    ``200`` with ``Connection: close``; the server closes the connection after the response.
``/headers``
    ``200`` with the repeated and mixed-case fields in ``HEADERS_ROUTE_FIELDS`` (two Set-Cookie).
``/slow`` [``delay`` seconds, capped at 5, default 1; ``where=head|body``]
    ``where=head`` (default) waits before answering; ``where=body`` sends the head, waits, then
    sends the body. Waits end early when the server stops.
``/head-check``
    ``200`` with body ``HEAD_CHECK_BODY`` and ``X-Method``; HEAD gets the same Content-Length and
    no body.
``/no-content``
    ``204`` without a body.
``/cookie-echo`` [``set=name=value`` (repeatable)]
    ``200`` JSON ``{"cookie": <Cookie header or null>}``; each ``set`` becomes a Set-Cookie field.

Anything else is ``404``; bad parameters are ``400``. ``ServerFarm`` runs several servers on
distinct ports (distinct origins) and starts and stops them together.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import ssl
import zlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from werkzeug.formparser import parse_form_data

from ._base import STOP_TIMEOUT
from ._http import LoopbackHTTPServer, QuietHandler

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "ENCODED_PAYLOAD",
    "ENCODINGS",
    "HAS_BROTLI",
    "HAS_ZSTD",
    "HEADERS_ROUTE_FIELDS",
    "HEAD_CHECK_BODY",
    "JSON_BODY",
    "KeepAliveServer",
    "RequestRecord",
    "ServerFarm",
    "chunked_body",
    "stream_payload",
]

#: Body of ``/json``: 112 bytes of compact JSON.
JSON_BODY = (
    b'{"service":"pooltest loopback origins","route":"/json","ok":true,'
    b'"numbers":[1,2,3,5,8,13],"unicode":"caf\\u00e9"}'
)
assert len(JSON_BODY) == 112

#: What ``/gzip``, ``/deflate``, ``/br`` and ``/zstd`` decode to.
ENCODED_PAYLOAD = (
    b"pooltest content-coding payload: the quick brown fox jumps over the lazy dog.\n" * 40
)

#: Body of ``/head-check`` (on GET).
HEAD_CHECK_BODY = b"head-check: GET gets this body, HEAD only its length\n"

#: Header fields of ``/headers``, in the order sent (names keep their case).
HEADERS_ROUTE_FIELDS: tuple[tuple[str, str], ...] = (
    ("Set-Cookie", "session=abc123; Path=/"),
    ("Set-Cookie", "theme=dark; Path=/; HttpOnly"),
    ("X-Mixed-Case", "MiXeD"),
    ("x-lower-case", "lower"),
    ("X-UPPER-CASE", "UPPER"),
    ("X-Dup", "first"),
    ("x-dup", "second"),
)

_STREAM_BLOCK = bytes(range(256)) * 256  # 64 KiB; pieces of multiples of 256 keep the pattern
_MAX_STREAM = 1 << 30
_MAX_CHUNKS = 100_000
_MAX_REDIRECTS = 1000
_SLOW_CAP = 5.0
SLOW_BODY = b"slow response body\n"


def _deflate_raw(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def _optional_encodings() -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    try:
        import brotli  # type: ignore[import-untyped]

        found["br"] = brotli.compress(ENCODED_PAYLOAD)
    except ImportError:
        pass
    try:
        import zstandard

        found["zstd"] = zstandard.ZstdCompressor().compress(ENCODED_PAYLOAD)
    except ImportError:
        pass
    return found


#: Encoded bodies by Content-Encoding token (``br``/``zstd`` present only when importable).
ENCODINGS: dict[str, bytes] = {
    "gzip": gzip.compress(ENCODED_PAYLOAD, mtime=0),
    "deflate": zlib.compress(ENCODED_PAYLOAD),
    **_optional_encodings(),
}
_RAW_DEFLATE = _deflate_raw(ENCODED_PAYLOAD)
HAS_BROTLI = "br" in ENCODINGS
HAS_ZSTD = "zstd" in ENCODINGS


def chunked_body(count: int) -> bytes:
    """The body ``/chunked?n=<count>`` decodes to."""
    return b"".join(_chunk(i) for i in range(count))


def _chunk(index: int) -> bytes:
    return b"chunk %d\n" % index


def stream_payload(size: int) -> bytes:
    """The body ``/stream?size=<size>`` sends: bytes 0..255 repeated, cut at ``size``."""
    whole, rest = divmod(size, len(_STREAM_BLOCK))
    return _STREAM_BLOCK * whole + _STREAM_BLOCK[:rest]


class RequestRecord(NamedTuple):
    """One served request: connection id, method and raw request target."""

    connection_id: int
    method: str
    path: str


class _BadParam(ValueError):
    """A query parameter or path segment a route cannot use (answered with 400)."""


class _OriginHandler(QuietHandler):
    server: KeepAliveServer
    route_path: str
    query: str
    args: dict[str, list[str]]

    def dispatch(self) -> None:
        if not self.read_request_body():
            return
        split = urlsplit(self.path)
        self.route_path, self.query = split.path, split.query
        self.args = parse_qs(split.query, keep_blank_values=True)
        self.server._record(RequestRecord(self.connection_id, self.command, self.path))
        route = _ROUTES.get(self.route_path)
        if route is None:
            prefix = self.route_path.rsplit("/", 1)[0] + "/"
            route = _PREFIX_ROUTES.get(prefix, _not_found)
        try:
            route(self)
        except _BadParam as exc:
            self.reply(400, f"bad parameter: {exc}\n".encode())

    # -- parameter helpers ----------------------------------------------------------------

    def arg(self, name: str, default: str) -> str:
        """Last value of query parameter ``name`` or ``default``."""
        values = self.args.get(name)
        return values[-1] if values else default

    def int_arg(self, name: str, default: int, low: int, high: int) -> int:
        """Integer query parameter within ``[low, high]``; ``_BadParam`` otherwise."""
        return _bounded_int(self.arg(name, str(default)), name, low, high)

    def tail_int(self, low: int, high: int) -> int:
        """The last path segment as an integer within ``[low, high]``."""
        return _bounded_int(self.route_path.rsplit("/", 1)[1], "path", low, high)

    def reply_json(self, payload: Any, status: int = 200) -> None:
        """Answer ``payload`` as compact JSON."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        self.reply(status, body, content_type="application/json")

    def send_chunk(self, data: bytes) -> None:
        """Write one chunk of a chunked response (empty ``data`` is skipped)."""
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))


def _bounded_int(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _BadParam(f"{name}={text!r} is not an integer") from None
    if not low <= value <= high:
        raise _BadParam(f"{name}={value} outside [{low}, {high}]")
    return value


# --- routes -------------------------------------------------------------------------------


def _index(h: _OriginHandler) -> None:
    h.reply(200, b"pooltest loopback origin\n")


def _json(h: _OriginHandler) -> None:
    h.reply(200, JSON_BODY, content_type="application/json")


def _echo(h: _OriginHandler) -> None:
    h.reply_json(
        {
            "method": h.command,
            "path": h.route_path,
            "target": h.path,
            "query": h.query,
            "args": h.args,
            "http_version": h.request_version,
            "headers": [[name, value] for name, value in h.headers.items()],
            "body": h.body.decode("latin-1"),
            "body_base64": base64.b64encode(h.body).decode("ascii"),
            "chunked": h.chunked,
            "trailers": [list(t) for t in h.trailers],
            "connection_id": h.connection_id,
        }
    )


def _status(h: _OriginHandler) -> None:
    code = h.tail_int(200, 599)
    headers = []
    retry_after = h.arg("retry_after", "")
    if retry_after:
        headers.append(("Retry-After", retry_after))
    for field in h.args.get("header", []):
        name, sep, value = field.partition(":")
        if not sep or not name.strip():
            raise _BadParam(f"header={field!r} is not 'Name: value'")
        headers.append((name.strip(), value.strip()))
    body = h.arg("body", f"status {code}\n").encode()
    h.reply(code, body, headers)


def _redirect(h: _OriginHandler) -> None:
    status = h.int_arg("status", 303, 300, 399)
    target = h.arg("to", "/echo")
    h.reply(status, f"redirect to {target}\n".encode(), [("Location", target)])


def _redirect_n(h: _OriginHandler) -> None:
    remaining = h.tail_int(0, _MAX_REDIRECTS)
    if remaining == 0:
        h.reply(200, b"redirect chain done\n")
        return
    status = h.int_arg("status", 302, 300, 399)
    location = f"/redirect-n/{remaining - 1}" + (f"?{h.query}" if h.query else "")
    if h.arg("absolute", "0") == "1":
        location = h.server.url + location
    h.reply(status, f"redirect to {location}\n".encode(), [("Location", location)])


def _upload(h: _OriginHandler) -> None:
    content_type = h.headers.get("Content-Type", "")
    mimetype = content_type.split(";", 1)[0].strip().lower()
    result: dict[str, Any] = {
        "content_type": content_type,
        "body_length": len(h.body),
        "form": {},
        "files": {},
        "all_files": {},
        "json": None,
    }
    if mimetype == "application/json" or mimetype.endswith("+json"):
        try:
            result["json"] = json.loads(h.body)
        except ValueError as exc:
            raise _BadParam(f"body is not JSON: {exc}") from None
    elif mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        _parse_form(h, content_type, result)
    h.reply_json(result)


def _parse_form(h: _OriginHandler, content_type: str, result: dict[str, Any]) -> None:
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(h.body)),
        "wsgi.input": io.BytesIO(h.body),
    }
    try:
        _, form, files = parse_form_data(environ, stream_factory=_memory_stream, silent=False)
    except ValueError as exc:
        raise _BadParam(f"form body does not parse: {exc}") from None
    result["form"] = dict(form.lists())
    for name, storages in files.lists():
        triples = [
            [s.filename, s.content_type, base64.b64encode(s.read()).decode("ascii")]
            for s in storages
        ]
        result["all_files"][name] = triples
        result["files"][name] = triples[0]


def _memory_stream(
    total_content_length: int | None,
    content_type: str | None,
    filename: str | None,
    content_length: int | None = None,
) -> io.BytesIO:
    # werkzeug spools big file parts to temporary files that warn if left unclosed; the test
    # payloads are small, so keep every part in memory.
    return io.BytesIO()


def _encoded(name: str) -> Callable[[_OriginHandler], None]:
    def route(h: _OriginHandler) -> None:
        body = ENCODINGS.get(name)
        if body is None:
            h.reply(501, f"{name} support is not installed\n".encode())
            return
        if name == "gzip":
            body *= h.int_arg("members", 1, 1, 100)
        elif name == "deflate" and h.arg("raw", "0") == "1":
            body = _RAW_DEFLATE
        h.reply(200, body, [("Content-Encoding", name)])

    return route


def _chunked(h: _OriginHandler) -> None:
    count = h.int_arg("n", 3, 0, _MAX_CHUNKS)
    trailers = h.arg("trailers", "0") == "1"
    h.send_response(200)
    h.send_header("Content-Type", "text/plain")
    h.send_header("Transfer-Encoding", "chunked")
    if trailers:
        h.send_header("Trailer", "X-Trailer")
    h.end_headers()
    if h.command == "HEAD":
        return
    for index in range(count):
        h.send_chunk(_chunk(index))
    h.wfile.write(b"0\r\nX-Trailer: done\r\n\r\n" if trailers else b"0\r\n\r\n")


def _stream(h: _OriginHandler) -> None:
    size = h.int_arg("size", 1 << 20, 0, _MAX_STREAM)
    piece = h.int_arg("piece", len(_STREAM_BLOCK), 1, 1 << 20)
    chunked = h.arg("chunked", "0") == "1"
    h.send_response(200)
    h.send_header("Content-Type", "application/octet-stream")
    if chunked:
        h.send_header("Transfer-Encoding", "chunked")
    else:
        h.send_header("Content-Length", str(size))
    h.end_headers()
    if h.command == "HEAD":
        return
    for offset in range(0, size, piece):
        data = _stream_slice(offset, min(piece, size - offset))
        if chunked:
            h.send_chunk(data)
        else:
            h.wfile.write(data)
    if chunked:
        h.wfile.write(b"0\r\n\r\n")


def _stream_slice(offset: int, length: int) -> bytes:
    start = offset % 256
    if start + length <= len(_STREAM_BLOCK):
        return _STREAM_BLOCK[start : start + length]
    return stream_payload(start + length)[start:]


def _close(h: _OriginHandler) -> None:
    h.reply(200, b"closing\n", close=True)


def _headers(h: _OriginHandler) -> None:
    h.reply(200, b"headers\n", HEADERS_ROUTE_FIELDS)


def _slow(h: _OriginHandler) -> None:
    try:
        delay = min(max(float(h.arg("delay", "1")), 0.0), _SLOW_CAP)
    except ValueError:
        raise _BadParam("delay is not a number") from None
    where = h.arg("where", "head")
    if where not in ("head", "body"):
        raise _BadParam("where must be head or body")
    if where == "head":
        h.server.stopping.wait(delay)
        h.reply(200, SLOW_BODY)
        return
    h.send_response(200)
    h.send_header("Content-Type", "text/plain")
    h.send_header("Content-Length", str(len(SLOW_BODY)))
    h.end_headers()
    h.server.stopping.wait(delay)
    if h.command != "HEAD":
        h.wfile.write(SLOW_BODY)


def _head_check(h: _OriginHandler) -> None:
    h.reply(200, HEAD_CHECK_BODY, [("X-Method", h.command)])


def _no_content(h: _OriginHandler) -> None:
    h.reply(204)


def _cookie_echo(h: _OriginHandler) -> None:
    cookies = [("Set-Cookie", value) for value in h.args.get("set", [])]
    body = json.dumps({"cookie": h.headers.get("Cookie")}).encode()
    h.reply(200, body, cookies, content_type="application/json")


def _not_found(h: _OriginHandler) -> None:
    h.reply(404, f"no route for {h.route_path}\n".encode())


_Route = Callable[[_OriginHandler], None]
_ROUTES: dict[str, _Route] = {
    "/": _index,
    "/json": _json,
    "/echo": _echo,
    "/redirect": _redirect,
    "/upload": _upload,
    "/gzip": _encoded("gzip"),
    "/deflate": _encoded("deflate"),
    "/br": _encoded("br"),
    "/zstd": _encoded("zstd"),
    "/chunked": _chunked,
    "/stream": _stream,
    "/close": _close,
    "/headers": _headers,
    "/slow": _slow,
    "/head-check": _head_check,
    "/no-content": _no_content,
    "/cookie-echo": _cookie_echo,
}
_PREFIX_ROUTES: dict[str, _Route] = {"/status/": _status, "/redirect-n/": _redirect_n}


class KeepAliveServer(LoopbackHTTPServer):
    """Loopback HTTP/1.1 origin with persistent connections; see the module docstring for routes.

    ``KeepAliveServer(host="::1")`` serves IPv6, ``KeepAliveServer(tls=context)`` serves HTTPS.
    Use as a context manager (or ``start``/``stop``); ``url`` has no trailing slash.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
    ) -> None:
        super().__init__(_OriginHandler, host, port, tls)
        self._log: list[RequestRecord] = []

    def _record(self, record: RequestRecord) -> None:
        self._log.append(record)  # list.append is atomic; readers take copies

    @property
    def requests_served(self) -> int:
        """Requests received so far (counted before the response is written)."""
        return len(self._log)

    @property
    def request_log(self) -> list[RequestRecord]:
        """Copy of ``(connection_id, method, path)`` per request, in arrival order."""
        return list(self._log)

    @property
    def connection_ids(self) -> list[int]:
        """Connection id of each request, in arrival order."""
        return [record.connection_id for record in self._log]


class ServerFarm:
    """``count`` ``KeepAliveServer``s on distinct ports, started and stopped together.

    Indexable and iterable; ``urls`` lists their base URLs.
    """

    def __init__(
        self, count: int, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
    ) -> None:
        self.servers: list[KeepAliveServer] = []
        try:
            for _ in range(count):
                self.servers.append(KeepAliveServer(host, tls=tls))
        except BaseException:
            self.stop()
            raise

    @property
    def urls(self) -> list[str]:
        """Base URL of each server, in order."""
        return [server.url for server in self.servers]

    def start(self) -> Self:
        """Start every server; return ``self``."""
        for server in self.servers:
            server.start()
        return self

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop every server (each within ``timeout``), raising the first failure at the end."""
        failures: list[BaseException] = []
        for server in self.servers:
            try:
                server.stop(timeout)
            except RuntimeError as exc:
                failures.append(exc)
        if failures:
            raise failures[0]

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __getitem__(self, index: int) -> KeepAliveServer:
        return self.servers[index]

    def __len__(self) -> int:
        return len(self.servers)

    def __iter__(self) -> Iterator[KeepAliveServer]:
        return iter(self.servers)
