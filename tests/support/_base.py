"""Plumbing shared by every loopback test server: lifecycle, connection tracking, body framing.

The hard part is stopping quickly and for sure. Three pieces make that work:

* ``AcceptLoop`` waits in a selector on the listening socket *and* one end of a socketpair. ``stop``
  writes a byte to the other end, so the loop returns at once instead of polling a flag (which is
  what ``socketserver.BaseServer.serve_forever`` does, costing up to a poll interval per server).
* ``ConnectionRegistry`` keeps every live socket (accepted connections and any upstream sockets a
  proxy opened). ``shutdown_all`` calls ``shutdown(SHUT_RDWR)`` on each one, which wakes a thread
  blocked in ``recv``/``send`` on it (``close`` from another thread would not), then joins the
  serving threads against one deadline. Owners must ``untrack`` a socket *before* closing it, so a
  concurrent stop never shuts down a descriptor number that was already reused.
* ``LoopbackServer`` is the lifecycle mixin (``start``/``stop``/context manager/``url``) that the
  HTTP servers and the raw fault server share; ``stopping`` is an event that handlers which sleep
  (``/slow``) wait on, so they wake when the server stops.

It also holds request-body framing helpers (``read_body``, ``read_chunked``, ``SocketReader`` and
``read_request``) used by the HTTP handlers and by raw-socket fault handlers alike.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import re
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterable
from email.message import Message
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "BIND_HOSTS",
    "STOP_TIMEOUT",
    "AcceptLoop",
    "ConnectionRegistry",
    "LoopbackServer",
    "MalformedBody",
    "SocketReader",
    "bind_family",
    "format_host",
    "ipv6_available",
    "is_loopback_host",
    "read_body",
    "read_chunked",
    "read_exact",
    "read_request",
]

#: Hosts a test server may bind. Anything else is refused: tests never listen off-box.
BIND_HOSTS = frozenset({"127.0.0.1", "::1"})
#: Upper bound, in seconds, on how long ``stop`` waits for serving threads to finish.
STOP_TIMEOUT = 5.0
_MAX_LINE = 65536
_MAX_HEAD = 65536
_HEX_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_DIGITS = re.compile(r"[0-9]{1,19}")


def is_loopback_host(host: str) -> bool:
    """Tell whether ``host`` names the loopback interface, without any DNS lookup.

    Accepts ``localhost``, IPv4/IPv6 loopback literals (brackets and ``%zone`` suffixes allowed) and
    IPv4-mapped loopback addresses such as ``::ffff:127.0.0.1``. Any other name is refused.
    """
    name = host.strip("[]").split("%", 1)[0].lower()
    if name in ("localhost", "localhost."):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


@functools.cache
def ipv6_available() -> bool:
    """Whether a socket can bind ``::1`` here (cached: the answer does not change mid-run)."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def bind_family(host: str) -> socket.AddressFamily:
    """Return the address family for a bind host; raise ``ValueError`` if it is not loopback."""
    if host not in BIND_HOSTS:
        raise ValueError(f"test servers bind {sorted(BIND_HOSTS)} only, not {host!r}")
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def format_host(host: str) -> str:
    """Return ``host`` as it appears in a URL authority (IPv6 literals get brackets)."""
    return f"[{host}]" if ":" in host else host


def _shutdown_quietly(sock: socket.socket, how: int = socket.SHUT_RDWR) -> None:
    # Call the plain socket method even on an SSLSocket: SSLSocket.shutdown would also drop the
    # TLS object under the feet of the thread that is using it.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, how)


class ConnectionRegistry:
    """Thread-safe bookkeeping of a server's connections and serving threads.

    ``accept`` counts a new connection (ids are 0-based, in accept order) and tracks its socket;
    ``track``/``untrack``/``replace`` manage any socket that ``shutdown_all`` must be able to wake.
    Non-``OSError`` exceptions escaping handlers are kept in ``errors``: they are server bugs, while
    ``OSError`` means the peer went away, which faulty clients are allowed to do.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._live: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._accepted = 0
        self.errors: list[BaseException] = []
        self.stopping = threading.Event()

    @property
    def accepted(self) -> int:
        """Number of connections accepted so far."""
        return self._accepted

    def accept(self, sock: socket.socket) -> int:
        """Count and track a freshly accepted connection; return its connection id."""
        with self._cond:
            conn_id = self._accepted
            self._accepted += 1
            self._track_locked(sock)
            self._cond.notify_all()
        return conn_id

    def track(self, sock: socket.socket) -> None:
        """Make ``sock`` part of what ``shutdown_all`` wakes (shut down at once if stopping)."""
        with self._cond:
            self._track_locked(sock)

    def _track_locked(self, sock: socket.socket) -> None:
        self._live.add(sock)
        if self.stopping.is_set():
            _shutdown_quietly(sock)

    def untrack(self, sock: socket.socket) -> None:
        """Forget ``sock``; call this before closing it."""
        with self._cond:
            self._live.discard(sock)

    def replace(self, old: socket.socket, new: socket.socket) -> None:
        """Swap a tracked socket for its wrapper (a TLS socket made from it)."""
        with self._cond:
            self._live.discard(old)
            self._track_locked(new)

    def wait_accepted(self, count: int, timeout: float = STOP_TIMEOUT) -> bool:
        """Block until at least ``count`` connections were accepted; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._accepted >= count, timeout)

    def record_error(self, exc: BaseException) -> None:
        """Keep ``exc`` unless it is an ``OSError`` (peer gone, reset, TLS failure)."""
        if not isinstance(exc, OSError):
            with self._cond:
                self.errors.append(exc)

    def spawn(self, name: str, target: Callable[..., None], *args: Any) -> None:
        """Run ``target(*args)`` in a new daemon thread that ``shutdown_all`` will join."""
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._cond:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def shutdown_all(self, timeout: float) -> list[threading.Thread]:
        """Wake every tracked socket, join all threads; return the threads still alive."""
        with self._cond:
            self.stopping.set()
            for sock in self._live:
                _shutdown_quietly(sock)
            threads = list(self._threads)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return [t for t in threads if t.is_alive()]


class AcceptLoop:
    """Accept connections on a listening socket in a daemon thread until ``stop``.

    ``on_accept(sock, address)`` runs in the loop thread for every connection and must hand the
    socket off quickly (the servers start a thread per connection).
    """

    def __init__(
        self,
        listener: socket.socket,
        on_accept: Callable[[socket.socket, Any], None],
        registry: ConnectionRegistry,
        name: str,
    ) -> None:
        self._listener = listener
        self._on_accept = on_accept
        self._registry = registry
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        listener.setblocking(False)

    def start(self) -> None:
        """Start accepting in the background."""
        self._thread.start()

    def _run(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r:
                        return
                    self._accept_one()

    def _accept_one(self) -> None:
        try:
            sock, address = self._listener.accept()
        except OSError:  # nothing pending after all (another wakeup) or out of descriptors
            return
        sock.setblocking(True)
        try:
            self._on_accept(sock, address)
        except Exception as exc:
            self._registry.record_error(exc)
            self._registry.untrack(sock)
            sock.close()

    def stop(self, timeout: float) -> None:
        """Stop accepting and wait (at most ``timeout`` seconds) for the loop thread to end."""
        if self._thread.is_alive():
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
            self._thread.join(timeout)
        self._wake_r.close()
        self._wake_w.close()


class LoopbackServer:
    """Lifecycle shared by the test servers: ``start``, ``stop``, ``url``, context manager.

    Subclasses set ``host``, ``port``, ``scheme``, ``registry`` and ``_loop`` and implement
    ``_close_listener``. ``stop`` is idempotent and raises ``RuntimeError`` if some serving thread
    is still alive after ``STOP_TIMEOUT`` seconds (a leaked thread is a server bug).
    """

    host: str
    port: int
    scheme: str
    registry: ConnectionRegistry
    _loop: AcceptLoop
    _started: bool = False
    _stopped: bool = False

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234`` or ``https://[::1]:41234`` (no slash)."""
        return f"{self.scheme}://{format_host(self.host)}:{self.port}"

    @property
    def connections_accepted(self) -> int:
        """Connections accepted so far (exact once a response was read on each of them)."""
        return self.registry.accepted

    @property
    def errors(self) -> list[BaseException]:
        """Unexpected (non-``OSError``) exceptions raised while serving; empty when healthy."""
        return list(self.registry.errors)

    @property
    def stopping(self) -> threading.Event:
        """Set when ``stop`` begins; sleeping handlers wait on it."""
        return self.registry.stopping

    def wait_for_connections(self, count: int, timeout: float = STOP_TIMEOUT) -> bool:
        """Wait until ``count`` connections were accepted; return False on timeout."""
        return self.registry.wait_accepted(count, timeout)

    def start(self) -> Self:
        """Start serving in a daemon thread; return ``self``."""
        if not self._started:
            self._started = True
            self._loop.start()
        return self

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop accepting, wake and close every connection, join every thread."""
        if self._stopped:
            return
        self._stopped = True
        self._loop.stop(timeout)
        self._close_listener()
        leaked = self.registry.shutdown_all(timeout)
        if leaked:
            names = ", ".join(t.name for t in leaked)
            raise RuntimeError(f"{type(self).__name__} threads still running after stop: {names}")

    def _close_listener(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"


# --- request body framing -------------------------------------------------------------------


class MalformedBody(ValueError):
    """The request (or response) body framing is invalid or ended early."""


class _Stream(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...

    def read(self, size: int = -1, /) -> bytes: ...


def read_exact(stream: _Stream, size: int) -> bytes:
    """Read exactly ``size`` bytes; raise ``MalformedBody`` if the stream ends first."""
    data = stream.read(size)
    if len(data) == size:
        return data
    parts = [data]
    remaining = size - len(data)
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise MalformedBody(f"body ended {remaining} bytes early")
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def read_chunked(stream: _Stream) -> tuple[bytes, list[tuple[str, str]]]:
    """Decode a chunked body from ``stream``; return ``(body, trailers)``.

    Chunk extensions are ignored. Raises ``MalformedBody`` on a bad size line, a missing CRLF
    after a chunk, or end of stream.
    """
    body = bytearray()
    while True:
        line = stream.readline(_MAX_LINE)
        if not line.endswith(b"\n"):
            raise MalformedBody("chunk-size line truncated")
        size_text = line.split(b";", 1)[0].strip()
        if not _HEX_SIZE.fullmatch(size_text):
            raise MalformedBody(f"invalid chunk size {size_text!r}")
        size = int(size_text, 16)
        if size == 0:
            break
        body += read_exact(stream, size)
        if read_exact(stream, 2) != b"\r\n":
            raise MalformedBody("chunk data not followed by CRLF")
    trailers: list[tuple[str, str]] = []
    while True:
        line = stream.readline(_MAX_LINE)
        if not line.endswith(b"\n"):
            raise MalformedBody("trailer section truncated")
        if line in (b"\r\n", b"\n"):
            return bytes(body), trailers
        name, _, value = line.decode("latin-1").partition(":")
        trailers.append((name.strip(), value.strip()))


def read_body(headers: Message, stream: _Stream) -> tuple[bytes, list[tuple[str, str]], bool]:
    """Read a request body framed by ``headers``; return ``(body, trailers, was_chunked)``.

    ``Transfer-Encoding: chunked`` wins over ``Content-Length`` (RFC 9112 6.3); a transfer coding
    other than chunked, or an invalid Content-Length, raises ``MalformedBody``.
    """
    encoding = headers.get("Transfer-Encoding")
    if encoding is not None:
        if encoding.rsplit(",", 1)[-1].strip().lower() != "chunked":
            raise MalformedBody(f"unsupported transfer coding {encoding!r}")
        body, trailers = read_chunked(stream)
        return body, trailers, True
    length = headers.get("Content-Length")
    if length is None:
        return b"", [], False
    if not _DIGITS.fullmatch(length.strip()):
        raise MalformedBody(f"invalid Content-Length {length!r}")
    return read_exact(stream, int(length)), [], False


class SocketReader:
    """Buffered reads from a raw socket against one overall deadline.

    Offers ``readline``/``read`` (so ``read_chunked`` works on it), ``read_until`` and
    ``read_request``. Bytes read past one request stay buffered for the next call, so a
    keep-alive handler should reuse one reader per connection. Raises ``TimeoutError`` when the
    deadline passes.
    """

    def __init__(self, sock: socket.socket, timeout: float = STOP_TIMEOUT) -> None:
        self._sock = sock
        self._buffer = bytearray()
        self._deadline = time.monotonic() + timeout

    def _fill(self) -> bool:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out reading from the client")
        self._sock.settimeout(remaining)
        data = self._sock.recv(65536)
        self._buffer += data
        return bool(data)

    def read_until(self, marker: bytes, limit: int = _MAX_HEAD) -> bytes:
        """Return bytes up to and including ``marker`` (or everything left at EOF)."""
        start = 0
        while True:
            index = self._buffer.find(marker, start)
            if index >= 0:
                return self._take(index + len(marker))
            if len(self._buffer) > limit:
                raise MalformedBody(f"no {marker!r} within {limit} bytes")
            start = max(0, len(self._buffer) - len(marker) + 1)
            if not self._fill():
                return self._take(len(self._buffer))

    def readline(self, size: int = -1, /) -> bytes:
        """Return one line including its newline, at most ``size`` bytes (``-1``: no limit)."""
        line = self.read_until(b"\n", _MAX_LINE if size < 0 else size)
        if 0 <= size < len(line):
            self._buffer[:0] = line[size:]
            line = line[:size]
        return line

    def read(self, size: int = -1, /) -> bytes:
        """Return up to ``size`` bytes (at least one unless at EOF); ``-1`` reads to EOF."""
        if size == 0:
            return b""
        if size < 0:
            while self._fill():
                pass
            return self._take(len(self._buffer))
        if not self._buffer:
            self._fill()
        return self._take(min(size, len(self._buffer)))

    def _take(self, count: int) -> bytes:
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    def read_request(self) -> tuple[bytes, bytes]:
        """Read one HTTP/1.1 request; return ``(head, body)`` with the body de-chunked.

        ``head`` is the request line and headers including the blank line. Raises
        ``ConnectionError`` if the peer closed before sending a complete head.
        """
        head = self.read_until(b"\r\n\r\n")
        if not head.endswith(b"\r\n\r\n"):
            raise ConnectionError(f"peer closed after {len(head)} bytes of request head")
        headers = _parse_head_fields(head)
        body, _, _ = read_body(headers, self)
        return head, body


def _parse_head_fields(head: bytes) -> Message:
    message = Message()
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.decode("latin-1").partition(":")
        if sep:
            message[name.strip()] = value.strip()
    return message


def read_request(sock: socket.socket, timeout: float = STOP_TIMEOUT) -> tuple[bytes, bytes]:
    """Read one full HTTP/1.1 request from ``sock`` within ``timeout`` seconds.

    Returns ``(head bytes, body bytes)``; the body is framed by Content-Length or chunked encoding
    (returned de-chunked). Raises ``TimeoutError``, ``ConnectionError`` or ``MalformedBody``.
    """
    return SocketReader(sock, timeout).read_request()


def join_lines(lines: Iterable[str]) -> bytes:
    """Join header lines with CRLF and add the terminating blank line."""
    return "".join(f"{line}\r\n" for line in lines).encode("latin-1") + b"\r\n"
