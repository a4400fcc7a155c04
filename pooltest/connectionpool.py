"""Connection pools: reusable connections to one origin, checked out one request at a time.

How checkout works
==================
A pool holds a LIFO queue of ``maxsize`` slots. A slot holds either an idle connection or None
(room for one more connection). ``_get_conn`` takes the most recently returned slot, so a busy
pool keeps reusing its warmest socket; an empty slot or a connection whose socket the server has
closed yields a fresh connection from the pool's **connection factory** (the seam, see
:mod:`pooltest._base_connection`). When every slot is taken, a blocking pool (``block=True``)
waits up to ``pool_timeout`` and then raises :class:`~pooltest.exceptions.EmptyPoolError`; a
non-blocking pool opens an extra connection and discards it on return with a "Connection pool is
full, discarding connection" warning.

A connection goes back to the queue when its response has been read (``preload_content=True``),
when the caller releases or drains the response, or closed after an error. A closed pool refuses
new requests (:class:`~pooltest.exceptions.ClosedPoolError`) and closes connections as they come
back.

Retirement (for PoolManager). A PoolManager drops pools from its LRU (eviction, ``clear()``)
while other threads may still be using them: in the middle of a request, or holding a pool they
got from ``connection_from_url`` and are about to use (as requests' adapters do). Closing such a
pool would fail them with ClosedPoolError (urllib3 issue #1252), so a dropped pool is *retired*
instead: its idle connections are closed at once and every connection coming back later is
closed too, but it keeps serving requests, each on a fresh connection. A retired pool thus holds
no socket once its requests end, and never refuses one.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import queue
import sys
import typing
import warnings
import weakref
from socket import getdefaulttimeout
from socket import timeout as SocketTimeout
from types import TracebackType
from typing import Any

from . import _http11, _routing
from ._base_connection import _TYPE_BODY, BaseHTTPConnection, ConnectionFactory, ProxyConfig
from ._collections import HTTPHeaderDict
from ._request_methods import RequestMethods
from .connection import (
    BaseSSLError,
    CertificateError,
    HTTPConnection,
    HTTPException,
    HTTPSConnection,
    default_connection_factory,
    port_by_scheme,
    wrap_proxy_error,
)
from .exceptions import (
    ClosedPoolError,
    EmptyPoolError,
    FullPoolError,
    HostChangedError,
    InsecureRequestWarning,
    LocationValueError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
    TimeoutError,
)
from .response import BaseHTTPResponse
from .util.proxy import connection_requires_http_tunnel
from .util.request import _TYPE_BODY_POSITION, set_file_position
from .util.retry import Retry
from .util.timeout import _DEFAULT_TIMEOUT, _TYPE_DEFAULT, Timeout
from .util.url import _PLAIN_TARGET_RE, Url, _encode_target, _known_plain_target, parse_url
from .util.url import _normalize_host as normalize_host

if typing.TYPE_CHECKING:
    import ssl

    from typing_extensions import Self

__all__ = ["ConnectionPool", "HTTPConnectionPool", "HTTPSConnectionPool", "connection_from_url"]

log = logging.getLogger(__name__)

_TYPE_TIMEOUT = Timeout | float | _TYPE_DEFAULT | None
_BLOCKING_ERRNOS = {errno.EAGAIN, errno.EWOULDBLOCK}
_CONNECTION_ERRORS = (
    TimeoutError,
    HTTPException,
    OSError,
    ProtocolError,
    BaseSSLError,
    SSLError,
    CertificateError,
    ProxyError,
)


class _SlotQueue(queue.LifoQueue):  # type: ignore[type-arg]
    """The pools' queue of slots: a :class:`queue.LifoQueue` whose ``get`` and ``put`` take
    only the queue's lock when they need not wait, and wake a waiting thread only when there
    is one. Every request checks a connection out and back in, so this is on the hot path.
    """

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        with self.mutex:
            slots = self.queue
            if slots:
                item = slots.pop()
                if self.not_full._waiters:  # type: ignore[attr-defined]
                    self.not_full.notify()
                return item
        return super().get(block, timeout)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        with self.mutex:
            if self.maxsize <= 0 or len(self.queue) < self.maxsize:
                self.queue.append(item)
                self.unfinished_tasks += 1
                if self.not_empty._waiters:  # type: ignore[attr-defined]
                    self.not_empty.notify()
                return
        super().put(item, block, timeout)


class ConnectionPool:
    """Base of the pools: the origin (scheme, host, port) and closing on ``with`` exit."""

    scheme: str | None = None
    QueueCls: type[queue.LifoQueue] = _SlotQueue  # type: ignore[type-arg]

    def __init__(self, host: str, port: int | None = None) -> None:
        if not host:
            raise LocationValueError("No host specified.")
        self.host = _normalize_host(host, scheme=self.scheme)
        self.port = port
        # The bracket-less, lower-cased host, used as the CONNECT tunnel target.
        self._tunnel_host = normalize_host(host, scheme=self.scheme).lower()

    def __str__(self) -> str:
        return f"{type(self).__name__}(host={self.host!r}, port={self.port!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> typing.Literal[False]:
        self.close()
        return False

    def close(self) -> None:
        """Close the pool and every idle connection in it."""


class HTTPConnectionPool(ConnectionPool, RequestMethods):
    """A thread-safe pool of connections to one HTTP origin.

    Arguments are urllib3 2.x's, plus ``connection_factory``: the seam that builds this pool's
    connections (default :func:`pooltest.connection.default_connection_factory`).
    """

    scheme = "http"
    ConnectionCls: type[BaseHTTPConnection] = HTTPConnection

    def __init__(
        self,
        host: str,
        port: int | None = None,
        timeout: _TYPE_TIMEOUT | None = _DEFAULT_TIMEOUT,
        maxsize: int = 1,
        block: bool = False,
        headers: typing.Mapping[str, str] | None = None,
        retries: Retry | bool | int | None = None,
        _proxy: Url | None = None,
        _proxy_headers: typing.Mapping[str, str] | None = None,
        _proxy_config: ProxyConfig | None = None,
        *,
        connection_factory: ConnectionFactory | None = None,
        **conn_kw: Any,
    ) -> None:
        ConnectionPool.__init__(self, host, port)
        RequestMethods.__init__(self, headers)
        if not isinstance(timeout, Timeout):
            timeout = Timeout.from_float(timeout)
        if retries is None:
            retries = Retry.DEFAULT
        self.timeout = timeout
        self.retries = retries
        self.pool: queue.LifoQueue[Any] | None = self.QueueCls(maxsize)
        self.block = block
        self.proxy = _proxy
        self.proxy_headers = _proxy_headers or {}
        self.proxy_config = _proxy_config
        for _ in range(maxsize):
            self.pool.put(None)
        self.num_connections = 0
        self.num_requests = 0
        self.conn_kw = conn_kw
        if self.proxy:
            # A proxy makes Nagle's algorithm harmless; urllib3 disables its default there too.
            self.conn_kw.setdefault("socket_options", [])
            self.conn_kw["proxy"] = self.proxy
            self.conn_kw["proxy_config"] = self.proxy_config
        #: The factory given to the constructor; None means "whichever is in force"
        #: (a cassette's while one is active, else real connections; see ``pooltest._routing``).
        self.connection_factory: ConnectionFactory | None = connection_factory
        self._retired = False
        # Close idle sockets when the pool is garbage-collected without close().
        weakref.finalize(self, _close_pool_connections, self.pool)

    def __repr__(self) -> str:
        pool = self.pool  # read once: another thread may close the pool meanwhile
        state = "closed" if pool is None else f"{pool.qsize()} idle slots"
        return (
            f"<{type(self).__name__} {self.scheme}://{self.host}:{self.port} "
            f"connections={self.num_connections} requests={self.num_requests} {state}>"
        )

    # -- connections ------------------------------------------------------------------------

    def _conn_kwargs(self) -> dict[str, Any]:
        return {"timeout": self.timeout.connect_timeout, **self.conn_kw}

    def _factory_in_force(self) -> ConnectionFactory:
        return self.connection_factory or _routing.active_factory() or default_connection_factory

    def _new_conn(self, factory: ConnectionFactory | None = None) -> BaseHTTPConnection:
        """Build a new connection through the connection factory in force."""
        factory = factory or self._factory_in_force()
        self.num_connections += 1
        log.debug(
            "Starting new %s connection (%d): %s:%s",
            self.scheme.upper(),
            self.num_connections,
            self.host,
            self.port or port_by_scheme[self.scheme],
        )
        conn = factory(self.scheme, self.host, self.port, self.ConnectionCls, self._conn_kwargs())
        with contextlib.suppress(AttributeError):  # a connection class with __slots__
            conn._pooltest_factory = factory  # type: ignore[attr-defined]
        return conn

    def _get_conn(self, timeout: float | None = None) -> BaseHTTPConnection:
        """Check out a connection: an idle one, or a new one if a slot is free."""
        if self.pool is None:
            raise ClosedPoolError(self, "Pool is closed.")
        conn: BaseHTTPConnection | None = None
        try:
            conn = self.pool.get(block=self.block, timeout=timeout)
        except AttributeError:  # self.pool became None in another thread
            raise ClosedPoolError(self, "Pool is closed.") from None
        except queue.Empty:
            if self.block:
                raise EmptyPoolError(
                    self,
                    "Pool is empty and a new connection can't be opened due to blocking mode.",
                ) from None
        # _factory_in_force(), inlined: this runs for every request.
        factory = self.connection_factory or _routing.active_factory() or default_connection_factory
        if conn is not None:
            if getattr(conn, "_pooltest_factory", factory) is not factory:
                conn.close()  # made for another cassette (or for none): never reuse it
                return self._new_conn(factory)
            if not conn.is_closed and not conn.is_connected:
                log.debug("Resetting dropped connection: %s", self.host)
                conn.close()
            return conn
        return self._new_conn(factory)

    def _put_conn(self, conn: BaseHTTPConnection | None) -> None:
        """Return a connection (or None, freeing its slot) to the pool.

        ``close()`` or ``_retire()`` may run in another thread at any point (while a streamed
        response still holds a connection, say), so the queue is read once, and a connection put
        into a queue that was closed or retired meanwhile is closed here.
        """
        pool = self.pool
        if pool is not None:
            try:
                pool.put(conn, block=False)
            except queue.Full:
                if conn is not None:
                    conn.close()
                if self.block:
                    raise FullPoolError(
                        self, "Pool reached maximum size and no more connections are allowed."
                    ) from None
                log.warning(
                    "Connection pool is full, discarding connection: %s. Connection pool size: %s",
                    self.host,
                    pool.qsize(),
                )
                return
            if self.pool is None:  # closed meanwhile: don't leave the connection in a dead queue
                _close_pool_connections(pool)
            elif self._retired:  # keeps no connection (checked after the put: retiring may race)
                _close_idle_connections(pool)
            return
        if conn is not None:
            conn.close()

    def _validate_conn(self, conn: BaseHTTPConnection) -> None:
        """Called before a request is sent on ``conn``; HTTPS connects and warns here."""

    def _prepare_proxy(self, conn: BaseHTTPConnection) -> None:
        """Plain HTTP through a proxy needs no tunnel."""

    def _get_timeout(self, timeout: _TYPE_TIMEOUT) -> Timeout:
        if timeout is _DEFAULT_TIMEOUT:
            return self.timeout.clone()
        if isinstance(timeout, Timeout):
            return timeout.clone()
        return Timeout.from_float(timeout)

    def _raise_timeout(
        self, err: BaseException, url: str, timeout_value: _TYPE_TIMEOUT | None
    ) -> None:
        """Raise ReadTimeoutError if ``err`` is a socket read timeout; else return."""
        if isinstance(err, SocketTimeout) or getattr(err, "errno", None) in _BLOCKING_ERRNOS:
            raise ReadTimeoutError(
                self, url, f"Read timed out. (read timeout={timeout_value})"
            ) from err

    # -- retirement (see module docstring) --------------------------------------------------

    def _retire(self) -> None:
        """Stop keeping connections: close the idle ones now, the busy ones as they come back.

        The pool still serves requests; unlike :meth:`close`, nothing is ever refused.
        """
        self._retired = True
        pool = self.pool
        if pool is not None:
            _close_idle_connections(pool)

    def close(self) -> None:
        """Close the pool: idle connections now, busy ones when they come back."""
        if self.pool is None:
            return
        old_pool, self.pool = self.pool, None
        _close_pool_connections(old_pool)

    def is_same_host(self, url: str) -> bool:
        """Whether ``url`` (absolute, or a path) is on this pool's origin."""
        if url.startswith("/"):
            return True
        scheme, _, host, port, *_ = parse_url(url)
        scheme = scheme or "http"
        if host is not None:
            host = _normalize_host(host, scheme=scheme)
        if self.port and not port:
            port = port_by_scheme.get(scheme)
        elif not self.port and port == port_by_scheme.get(scheme):
            port = None
        return (scheme, host, port) == (self.scheme, self.host, self.port)

    # -- one exchange on one connection -----------------------------------------------------

    def _make_request(
        self,
        conn: BaseHTTPConnection,
        method: str,
        url: str,
        body: _TYPE_BODY | None = None,
        headers: typing.Mapping[str, str] | None = None,
        retries: Retry | None = None,
        timeout: _TYPE_TIMEOUT = _DEFAULT_TIMEOUT,
        chunked: bool = False,
        response_conn: BaseHTTPConnection | None = None,
        preload_content: bool = True,
        decode_content: bool = True,
        enforce_content_length: bool = True,
    ) -> BaseHTTPResponse:
        """Send one request on ``conn`` and read the response head (and body if preloading)."""
        self.num_requests += 1
        budgets = self.timeout if timeout is _DEFAULT_TIMEOUT else timeout
        clock: Timeout | None = None
        if type(budgets) is Timeout and budgets.total is None:
            # Fast path: without a total budget, neither budget depends on the clock, so the
            # clone-and-start of the general path would give these very values.
            connect_timeout, read_budget = budgets._connect, budgets._read
        else:
            clock = self._get_timeout(timeout)
            clock.start_connect()
            connect_timeout, read_budget = clock.connect_timeout, None
        # The default sentinel means the socket module's default, read at the last moment.
        conn.timeout = (
            getdefaulttimeout() if connect_timeout is _DEFAULT_TIMEOUT else connect_timeout
        )
        if conn.is_closed:
            _http11.check_request(method, headers)  # fail before any handshake
        # The base _validate_conn does nothing (and so cannot fail): only an override is called.
        if type(self)._validate_conn is not HTTPConnectionPool._validate_conn:
            self._connect_and_validate(conn, url)
        try:
            conn.request(
                method,
                url,
                body=body,
                headers=headers,
                chunked=chunked,
                preload_content=preload_content,
                decode_content=decode_content,
                enforce_content_length=enforce_content_length,
            )
        except BrokenPipeError:
            pass  # the server may have answered before reading the whole body: read it
        except OSError as e:
            if e.errno not in (errno.EPROTOTYPE, errno.ECONNRESET):
                raise
        if clock is not None:
            read_timeout = clock.read_timeout
        else:
            read_timeout = getdefaulttimeout() if read_budget is _DEFAULT_TIMEOUT else read_budget
        if not conn.is_closed:
            if read_timeout == 0:
                raise ReadTimeoutError(self, url, f"Read timed out. (read timeout={read_timeout})")
            conn.timeout = read_timeout
        try:
            response = conn.getresponse()
        except (BaseSSLError, OSError) as e:
            self._raise_timeout(err=e, url=url, timeout_value=read_timeout)
            raise
        response.retries = retries
        response._connection = response_conn  # type: ignore[attr-defined]
        response._pool = self  # type: ignore[attr-defined]
        return response

    def _connect_and_validate(self, conn: BaseHTTPConnection, url: str) -> None:
        try:
            try:
                self._validate_conn(conn)
            except (SocketTimeout, BaseSSLError) as e:
                self._raise_timeout(err=e, url=url, timeout_value=conn.timeout)
                raise
        except (
            OSError,
            NewConnectionError,
            TimeoutError,
            BaseSSLError,
            CertificateError,
            SSLError,
        ) as e:
            new_e: Exception = e
            if isinstance(e, (BaseSSLError, CertificateError)):
                new_e = SSLError(e)
            if conn.proxy and not conn.has_connected_to_proxy:
                new_e = wrap_proxy_error(new_e, conn.proxy.scheme)
            raise new_e from e

    # -- the public entry point -------------------------------------------------------------

    def urlopen(  # type: ignore[override]
        self,
        method: str,
        url: str,
        body: _TYPE_BODY | None = None,
        headers: typing.Mapping[str, str] | None = None,
        retries: Retry | bool | int | None = None,
        redirect: bool = True,
        assert_same_host: bool = True,
        timeout: _TYPE_TIMEOUT = _DEFAULT_TIMEOUT,
        pool_timeout: int | None = None,
        release_conn: bool | None = None,
        chunked: bool = False,
        body_pos: _TYPE_BODY_POSITION | None = None,
        preload_content: bool = True,
        decode_content: bool = True,
        **response_kw: Any,
    ) -> BaseHTTPResponse:
        """Send a request through this pool, retrying and following same-host redirects.

        Arguments and behaviour are urllib3 2.x's ``HTTPConnectionPool.urlopen``. ``retries``
        takes a :class:`~pooltest.util.retry.Retry`, an int (connection-error retries), or False
        (no retries; redirects are returned, not followed). ``release_conn`` defaults to
        ``preload_content``: with both False the response keeps its connection until
        ``release_conn()``/``drain_conn()`` or until its body is read to the end.
        """
        if headers is None:
            headers = self.headers
        if retries is None and isinstance(self.retries, Retry):
            retries = self.retries  # what Retry.from_int(None, default=self.retries) returns
        elif not isinstance(retries, Retry):
            retries = Retry.from_int(retries, redirect=redirect, default=self.retries)
        if release_conn is None:
            release_conn = preload_content
        while True:
            url, destination_scheme = _request_target(url)
            if assert_same_host and not self.is_same_host(url):
                raise HostChangedError(self, url, retries)
            if body is not None or body_pos is not None:  # both None: nothing to record/rewind
                body_pos = set_file_position(body, body_pos)
            send_headers = headers
            # Proxy headers go with forwarded (not tunnelled) requests; without any to add
            # (always the case without a proxy) the tunnel question need not be asked.
            if self.proxy_headers and not connection_requires_http_tunnel(
                self.proxy, self.proxy_config, destination_scheme
            ):
                send_headers = _with_proxy_headers(headers, self.proxy_headers)
            # One attempt, inline (this loop runs for every request): check a connection out
            # and exchange. A failed attempt's connection is closed and its slot freed before
            # any retry decision or back-off sleep.
            conn = None
            try:
                conn = self._get_conn(timeout=pool_timeout)
                if self.proxy is not None:
                    conn.timeout = self._get_timeout(timeout).connect_timeout  # type: ignore[assignment]
                    self._maybe_prepare_proxy(conn, url)
                make_request = self._make_request
                if response_kw:  # kept off the common call: ``**{}`` makes a call much slower
                    make_request = functools.partial(make_request, **response_kw)
                response = make_request(
                    conn,
                    method,
                    url,
                    timeout=timeout,
                    body=body,
                    headers=send_headers,
                    chunked=chunked,
                    retries=retries,
                    response_conn=None if release_conn else conn,
                    preload_content=preload_content,
                    decode_content=decode_content,
                )
            except EmptyPoolError:
                raise  # no connection was checked out
            except BaseException as e:
                error = self._release_failed(conn, e)
                if error is None:
                    raise
                retries = retries.increment(
                    method, url, error=error, _pool=self, _stacktrace=sys.exc_info()[2]
                )
                retries.sleep()
                log.warning("Retrying (%r) after connection broken by '%r': %s", retries, e, url)
                continue
            if release_conn:
                self._put_conn(conn)

            location = redirect and response.get_redirect_location()
            if not location and _status_is_final(retries, response.status):
                return response  # the common case, decided without a call
            next_step = self._follow_up(method, url, body, headers, retries, location, response)
            if next_step is None:
                return response
            method, url, body, headers, retries, dropped_body = next_step
            if dropped_body:
                body_pos = None
                chunked = False

    def _release_failed(
        self, conn: BaseHTTPConnection | None, e: BaseException
    ) -> Exception | None:
        """After an attempt failed with ``e``: close ``conn`` and free its slot. Returns the
        error a retry decision sees, or None if ``e`` is not a connection error (no retry)."""
        error = _map_connection_error(e, conn) if isinstance(e, _CONNECTION_ERRORS) else None
        if conn is not None:
            conn.close()
        self._put_conn(None)
        return error

    def _maybe_prepare_proxy(self, conn: BaseHTTPConnection, url: str) -> None:
        if self.proxy is None or not conn.is_closed:
            return
        destination_scheme = parse_url(url).scheme if not url.startswith("/") else None
        if not connection_requires_http_tunnel(self.proxy, self.proxy_config, destination_scheme):
            return
        try:
            self._prepare_proxy(conn)
        except (BaseSSLError, OSError, SocketTimeout) as e:
            self._raise_timeout(err=e, url=self.proxy.url, timeout_value=conn.timeout)
            raise

    def _follow_up(
        self,
        method: str,
        url: str,
        body: _TYPE_BODY | None,
        headers: typing.Mapping[str, str],
        retries: Retry,
        location: str | typing.Literal[False] | None,
        response: BaseHTTPResponse,
    ) -> tuple[str, str, _TYPE_BODY | None, typing.Mapping[str, str], Retry, bool] | None:
        """Decide whether ``response`` is final; if not, what to send next (redirect/retry).

        ``location`` is the redirect to follow (falsy when redirects are off or there is none).
        """
        if location:
            dropped_body = False
            if response.status == 303:
                method, body, dropped_body = "GET", None, True
                headers = HTTPHeaderDict(headers)._prepare_for_method_change()
            if retries.remove_headers_on_redirect and not self.is_same_host(location):
                headers = without_headers(headers, retries.remove_headers_on_redirect)
            try:
                retries = retries.increment(method, url, response=response, _pool=self)
            except MaxRetryError:
                if retries.raise_on_redirect:
                    response.drain_conn()
                    raise
                return None
            response.drain_conn()
            retries.sleep_for_retry(response)
            log.debug("Redirecting %s -> %s", url, location)
            return method, location, body, headers, retries, dropped_body
        status = response.status
        if _status_is_final(retries, status):
            return None
        has_retry_after = bool(response.headers.get("Retry-After"))
        if not retries.is_retry(method, status, has_retry_after):
            return None
        try:
            retries = retries.increment(method, url, response=response, _pool=self)
        except MaxRetryError:
            if retries.raise_on_status:
                response.drain_conn()
                raise
            return None
        response.drain_conn()
        retries.sleep(response)
        log.debug("Retry: %s", url)
        return method, url, body, headers, retries, False


class HTTPSConnectionPool(HTTPConnectionPool):
    """An :class:`HTTPConnectionPool` for HTTPS origins; verifies certificates by default."""

    scheme = "https"
    ConnectionCls: type[BaseHTTPConnection] = HTTPSConnection

    def __init__(
        self,
        host: str,
        port: int | None = None,
        timeout: _TYPE_TIMEOUT | None = _DEFAULT_TIMEOUT,
        maxsize: int = 1,
        block: bool = False,
        headers: typing.Mapping[str, str] | None = None,
        retries: Retry | bool | int | None = None,
        _proxy: Url | None = None,
        _proxy_headers: typing.Mapping[str, str] | None = None,
        key_file: str | None = None,
        cert_file: str | None = None,
        cert_reqs: int | str | None = None,
        key_password: str | None = None,
        ca_certs: str | None = None,
        ssl_version: int | str | None = None,
        ssl_minimum_version: ssl.TLSVersion | None = None,
        ssl_maximum_version: ssl.TLSVersion | None = None,
        assert_hostname: str | typing.Literal[False] | None = None,
        assert_fingerprint: str | None = None,
        ca_cert_dir: str | None = None,
        *,
        connection_factory: ConnectionFactory | None = None,
        **conn_kw: Any,
    ) -> None:
        super().__init__(
            host,
            port,
            timeout,
            maxsize,
            block,
            headers,
            retries,
            _proxy,
            _proxy_headers,
            connection_factory=connection_factory,
            **conn_kw,
        )
        self.key_file = key_file
        self.cert_file = cert_file
        self.cert_reqs = cert_reqs
        self.key_password = key_password
        self.ca_certs = ca_certs
        self.ca_cert_dir = ca_cert_dir
        self.ssl_version = ssl_version
        self.ssl_minimum_version = ssl_minimum_version
        self.ssl_maximum_version = ssl_maximum_version
        self.assert_hostname = assert_hostname
        self.assert_fingerprint = assert_fingerprint

    def _conn_kwargs(self) -> dict[str, Any]:
        return {
            "timeout": self.timeout.connect_timeout,
            "cert_file": self.cert_file,
            "key_file": self.key_file,
            "key_password": self.key_password,
            "cert_reqs": self.cert_reqs,
            "ca_certs": self.ca_certs,
            "ca_cert_dir": self.ca_cert_dir,
            "assert_hostname": self.assert_hostname,
            "assert_fingerprint": self.assert_fingerprint,
            "ssl_version": self.ssl_version,
            "ssl_minimum_version": self.ssl_minimum_version,
            "ssl_maximum_version": self.ssl_maximum_version,
            **self.conn_kw,
        }

    def _prepare_proxy(self, conn: BaseHTTPConnection) -> None:
        """Open the CONNECT tunnel through the proxy to this pool's origin."""
        assert self.proxy is not None
        tunnel_scheme = "https" if self.proxy.scheme == "https" else "http"
        conn.set_tunnel(
            scheme=tunnel_scheme, host=self._tunnel_host, port=self.port, headers=self.proxy_headers
        )
        conn.connect()

    def _validate_conn(self, conn: BaseHTTPConnection) -> None:
        """Connect now (TLS errors surface here) and warn if the peer is not verified."""
        if conn.is_closed:
            conn.connect()
        if not conn.is_verified and not conn.proxy_is_verified:
            warnings.warn(
                f"Unverified HTTPS request is being made to host '{conn.host}'. "
                "Adding certificate verification is strongly advised. See: "
                "https://urllib3.readthedocs.io/en/latest/advanced-usage.html"
                "#tls-warnings",
                InsecureRequestWarning,
                stacklevel=2,
            )


def connection_from_url(url: str, **kw: Any) -> HTTPConnectionPool:
    """A pool for the origin of ``url``: ``HTTPSConnectionPool`` for https, else HTTP."""
    scheme, _, host, port, *_ = parse_url(url)
    scheme = scheme or "http"
    port = port or port_by_scheme.get(scheme, 80)
    if scheme == "https":
        return HTTPSConnectionPool(host, port=port, **kw)  # type: ignore[arg-type]
    return HTTPConnectionPool(host, port=port, **kw)  # type: ignore[arg-type]


def _map_connection_error(e: Exception, conn: BaseHTTPConnection | None) -> Exception:
    """The error a retry decision sees, as urllib3 maps it."""
    new_e: Exception = e
    if isinstance(e, (BaseSSLError, CertificateError)):
        new_e = SSLError(e)
    if (
        isinstance(new_e, (OSError, NewConnectionError, TimeoutError, SSLError, HTTPException))
        and conn is not None
        and conn.proxy
        and not conn.has_connected_to_proxy
    ):
        return wrap_proxy_error(new_e, conn.proxy.scheme)
    if isinstance(new_e, (OSError, HTTPException)):
        return ProtocolError("Connection aborted.", new_e)
    return new_e


def _status_is_final(retries: Retry, status: int) -> bool:
    """True when ``retries`` certainly does not retry ``status`` (False: ask ``is_retry``).

    Retry.is_retry says no to a status outside both status_forcelist and
    RETRY_AFTER_STATUS_CODES, whatever the method and headers, so most responses need neither
    it nor the Retry-After lookup. A subclass's is_retry is always asked.
    """
    return (
        type(retries).is_retry is Retry.is_retry
        and not retries.status_forcelist
        and status not in retries.RETRY_AFTER_STATUS_CODES
    )


def _request_target(url: str) -> tuple[str, str | None]:
    """``url`` made safe to send (invalid characters encoded, fragment dropped) and its scheme."""
    if url.startswith("/"):
        # The very target a pool manager just split is known plain (see _known_plain_target).
        if url is _known_plain_target[0] or _PLAIN_TARGET_RE.fullmatch(url) is not None:
            return url, None  # _encode_target's own fast path, without the call
        return _encode_target(url), None
    parsed = parse_url(url)
    return parsed._replace(fragment=None).url, parsed.scheme


def _with_proxy_headers(
    headers: typing.Mapping[str, str], proxy_headers: typing.Mapping[str, str]
) -> typing.Mapping[str, str]:
    if not proxy_headers:
        return headers
    merged = HTTPHeaderDict(headers)
    merged.update(proxy_headers)
    return merged


def without_headers(
    headers: typing.Mapping[str, str], names: typing.Collection[str]
) -> HTTPHeaderDict:
    """A copy of ``headers`` without the ``names`` (lower-case), in any letter case."""
    kept = HTTPHeaderDict(headers)
    for name in list(kept):
        if name.lower() in names:
            kept.discard(name)
    return kept


def _normalize_host(host: str | None, scheme: str | None) -> str:
    """Normalise ``host`` like urllib3 and drop IPv6 brackets (pools key on the bare address)."""
    normalized = normalize_host(host, scheme)
    assert normalized is not None
    if normalized.startswith("[") and normalized.endswith("]"):
        normalized = normalized[1:-1]
    return normalized


def _close_idle_connections(pool: queue.LifoQueue[Any]) -> None:
    """Close every idle connection in a pool's queue, leaving an empty slot in its place."""
    idle = []
    try:
        while True:
            idle.append(pool.get(block=False))
    except queue.Empty:
        pass
    for conn in idle:
        if conn is not None:
            conn.close()
        with contextlib.suppress(queue.Full):  # a connection coming back took the slot meanwhile
            pool.put(None, block=False)


def _close_pool_connections(pool: queue.LifoQueue[Any]) -> None:
    """Close every idle connection left in a pool's queue."""
    try:
        while True:
            conn = pool.get(block=False)
            if conn is not None:
                conn.close()
    except queue.Empty:
        pass
