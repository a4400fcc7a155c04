"""The benchmarks' loopback origin: a stdlib keep-alive HTTP/1.1 server in its own process.

Every GET is answered with the same shape of JSON, exactly :data:`BODY_SIZE` (112) bytes, whose
``"id"`` is the request path's last segment (so a replayed response can be checked against the
request that asked for it). POST and PUT bodies are read and thrown away in 64 KiB chunks, so a
1 GiB upload costs the server no memory; the reply's ``X-Received-Bytes`` header says how many
body bytes arrived, so an upload benchmark can check that the whole body was sent.

The server runs in a child process started with the ``spawn`` method: the client's CPU time
(``time.process_time`` in the benchmark process) then counts the client's work only, and the
child shares no state with the parent. The child reports its port through a pipe and stops when
the parent sends anything on that pipe or closes it (so it also dies with the parent).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection

__all__ = ["BODY_SIZE", "RECEIVED_HEADER", "Server", "body_for"]

#: Size in bytes of every JSON body the server sends.
BODY_SIZE = 112
#: Response header of a POST/PUT reply: how many request-body bytes the server read.
RECEIVED_HEADER = "X-Received-Bytes"
_ID_WIDTH = 6
_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 5.0
_CHUNK = 64 * 1024
_TEMPLATE = '{"id":"%s","name":"pooltest benchmark item","tags":["a","b"],"price":12.5,"pad":"%s"}'
_PAD = BODY_SIZE - len(_TEMPLATE % ("0" * _ID_WIDTH, ""))


def body_for(path: str) -> bytes:
    """The 112-byte JSON body served for ``path``: its last segment, cut or padded to 6 chars."""
    item = path.rsplit("/", 1)[-1].split("?", 1)[0][:_ID_WIDTH].rjust(_ID_WIDTH, "0")
    return (_TEMPLATE % (item, "x" * _PAD)).encode("ascii")


class _Handler(BaseHTTPRequestHandler):
    """Keep-alive handler: JSON for GET, body discarded then JSON for POST/PUT."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._reply(None)

    def do_POST(self) -> None:
        self._reply(self._discard_body())

    do_PUT = do_POST

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: a benchmark server must not spend time writing to stderr."""

    def _reply(self, received: int | None) -> None:
        body = body_for(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if received is not None:
            self.send_header(RECEIVED_HEADER, str(received))
        self.end_headers()
        self.wfile.write(body)

    def _discard_body(self) -> int:
        """Read the request body and drop it; return how many body bytes arrived."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._discard_chunked()
        return self._discard(int(self.headers.get("Content-Length") or 0))

    def _discard_chunked(self) -> int:
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0], 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailer fields, up to the blank line
                return total
            total += self._discard(size)
            self.rfile.readline()  # the CRLF after the chunk's data

    def _discard(self, wanted: int) -> int:
        remaining = wanted
        while remaining > 0:
            got = len(self.rfile.read(min(remaining, _CHUNK)))
            if not got:
                break
            remaining -= got
        return wanted - remaining


def _serve(pipe: Connection) -> None:
    """Child process: serve until the parent says stop (or goes away)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    pipe.send(server.server_address[1])
    with contextlib.suppress(EOFError):
        pipe.recv()
    server.shutdown()
    server.server_close()


class Server:
    """Context manager: the keep-alive server running in a spawned child process.

    ``url(path)`` gives an absolute ``http://127.0.0.1:PORT`` URL for ``path``.
    """

    def __init__(self) -> None:
        self.port = 0
        self._pipe: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None

    def __enter__(self) -> Server:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child,), daemon=True, name="bench-server")
        process.start()
        child.close()
        self._pipe, self._process = parent, process
        try:
            if not parent.poll(_START_TIMEOUT):
                raise RuntimeError("benchmark server did not start within 30 s")
            self.port = int(parent.recv())
        except (EOFError, RuntimeError) as error:
            self.__exit__(None, None, None)
            raise RuntimeError(f"benchmark server failed to start: {error!r}") from error
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        if self._pipe is not None:
            with contextlib.suppress(OSError):
                self._pipe.send(None)
            self._pipe.close()
        if self._process is not None:
            self._process.join(_STOP_TIMEOUT)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(_STOP_TIMEOUT)

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` (which starts with ``/``) on this server."""
        return self.origin + path
