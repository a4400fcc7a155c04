"""A small HTTP/1.1 keep-alive server on loopback, for the demo and for examples.

It answers:

* ``GET /json`` — a small JSON document naming the server's port;
* ``GET|POST|PUT|... /echo`` — JSON describing the request (method, path, headers, body size);
* ``POST /upload`` — the form fields and files of a multipart or urlencoded body, parsed with
  werkzeug, as JSON (``{"form": {...}, "files": {name: [filename, content_type, size]}}``);
* ``GET /redirect?to=URL`` — a 302 to ``URL``;
* ``HEAD`` on any path — the headers of the GET answer, no body.

It binds 127.0.0.1 only, serves each connection in a daemon thread, and keeps connections
alive (unlike werkzeug's development server), so connection pooling is observable.
"""

from __future__ import annotations

import io
import json
import threading
import typing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from werkzeug.formparser import parse_form_data

__all__ = ["DemoServer"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pooltest-demo/1"

    def log_message(self, format: str, *args: typing.Any) -> None:
        """Stay quiet: the demo prints its own story."""

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, payload: object, *, head: bool = False) -> None:
        data = json.dumps(payload, sort_keys=True).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _route(self, *, head: bool = False) -> None:
        url = urlsplit(self.path)
        body = self._body()
        if url.path == "/redirect":
            target = parse_qs(url.query).get("to", ["/json"])[0]
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif url.path == "/upload":
            self._send_json(200, self._parse_form(body), head=head)
        elif url.path == "/echo":
            echo = {
                "method": self.command,
                "path": self.path,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body_size": len(body),
            }
            self._send_json(200, echo, head=head)
        else:
            port = typing.cast("tuple[str, int]", self.server.server_address)[1]
            self._send_json(200, {"port": port, "ok": True}, head=head)

    def _parse_form(self, body: bytes) -> dict[str, object]:
        environ = {
            "REQUEST_METHOD": "POST",
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
        _, form, files = parse_form_data(environ)
        parsed_files = {}
        for name, upload in files.items():
            try:
                parsed_files[name] = [upload.filename, upload.content_type, len(upload.read())]
            finally:
                upload.close()  # werkzeug may spool parts to temporary files
        return {"form": {k: form.getlist(k) for k in form}, "files": parsed_files}

    def do_GET(self) -> None:
        self._route()

    def do_HEAD(self) -> None:
        self._route(head=True)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET


class DemoServer:
    """The demo server as a context manager: ``with DemoServer() as s: s.url``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> DemoServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and close the listening socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
