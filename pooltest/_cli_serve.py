"""``pooltest serve CASSETTE``: answer HTTP requests on loopback from a cassette.

Each incoming request is turned back into a :class:`pooltest.cassette.Request` (method, the
URI as the client sent it under ``http://HOST``, header fields, body) and handed to a
:class:`~pooltest.cassette.Cassette` loaded in ``record_mode="none"``: the library's own
matching picks the recording (filters first, then the ``match_on`` index, in order, once each;
repeats allowed once all candidates played, since another program may retry). The default
``match_on`` leaves out scheme, host and port, because the client reaches this server, not
the recorded origin.

The recorded response goes back as recorded: status code and reason, header fields in order
(``Server`` and ``Date`` included: the handler does not add its own), body bytes still
content-encoded. Only the hop-by-hop fields (``Connection``, ``Keep-Alive``,
``Transfer-Encoding``) are dropped, as WSGI requires; werkzeug then frames a body without
``Content-Length`` as chunked. A request that matches nothing gets ``500`` with header
``X-Pooltest-Unmatched: 1`` and the library's mismatch explanation as a ``text/plain`` body.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .cassette import Cassette, Request, UnmatchedRequestError

if typing.TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["DEFAULT_SERVE_MATCH_ON", "cassette_app", "make_cassette_server", "run_serve"]

#: What ``serve`` compares by default: everything but the origin.
DEFAULT_SERVE_MATCH_ON = ("method", "path", "query", "body")

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding"})
_ENVIRON_HEADERS = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}


class _RecordedHeadersHandler(WSGIRequestHandler):
    """werkzeug's handler, minus the ``Server``/``Date`` fields it would add to every answer."""

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)


def request_from_environ(environ: WSGIEnvironment) -> Request:
    """The :class:`Request` a WSGI environ describes (URI as sent, headers, whole body)."""
    target = environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO") or "/", safe="/;=,")
    query = environ.get("QUERY_STRING", "")
    if query and "?" not in target:
        target = f"{target}?{query}"
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "127.0.0.1")
    headers: list[tuple[str, str]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.append((key[5:].replace("_", "-").title(), value))
        elif key in _ENVIRON_HEADERS and value:
            headers.append((_ENVIRON_HEADERS[key], value))
    body = _read_body(environ)
    return Request(environ["REQUEST_METHOD"], f"http://{host}{target}", headers, body)


def _read_body(environ: WSGIEnvironment) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        return bytes(stream.read(int(length)))
    if environ.get("wsgi.input_terminated"):
        return bytes(stream.read())
    return b""


def cassette_app(
    cassette: Cassette,
) -> typing.Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]:
    """A WSGI application answering from ``cassette`` (loaded by the caller)."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = request_from_environ(environ)
        try:
            interaction = cassette.play(request)
        except UnmatchedRequestError as exc:
            body = str(exc).encode("utf-8", "replace")
            start_response(
                "500 Unmatched Request",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    ("X-Pooltest-Unmatched", "1"),
                ],
            )
            return [body]
        assert interaction is not None  # record_mode="none" never asks to record
        response = interaction.response.for_replay(request.method)
        headers = [(n, v) for n, v in response.headers if n.lower() not in _HOP_BY_HOP]
        start_response(f"{response.status} {response.reason}".rstrip(), headers)
        return [response.body] if response.body else []

    return app


def make_cassette_server(
    path: str,
    host: str = "127.0.0.1",
    port: int = 0,
    match_on: Sequence[str] = DEFAULT_SERVE_MATCH_ON,
) -> BaseWSGIServer:
    """A threaded werkzeug server for the cassette at ``path`` (not yet serving).

    Raises the cassette's load errors (not found, bad format) and ``ValueError`` for an unknown
    ``match_on`` name. Port 0 picks a free port (read it from ``server.port``).
    """
    cassette = Cassette(path, record_mode="none", match_on=match_on, allow_playback_repeats=True)
    cassette.load()
    return make_server(
        host, port, cassette_app(cassette), threaded=True, request_handler=_RecordedHeadersHandler
    )


def run_serve(path: str, host: str, port: int, match_on: Sequence[str], out: typing.TextIO) -> int:
    """Serve the cassette at ``path`` until interrupted; return 0."""
    server = make_cassette_server(path, host, port, match_on)
    try:
        print(f"Serving {path} on http://{host}:{server.port} (Ctrl-C to stop)", file=out)
        out.flush()
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
