"""PoolManager: one pool per origin, kept in an LRU, and redirects across origins.

Which pool serves a request
===========================
A request's URL gives a *request context*: the manager's ``connection_pool_kw`` plus the scheme,
host and port (and any per-call ``pool_kwargs``). ``key_fn_by_scheme[scheme]`` turns the context
into a :class:`PoolKey` (scheme and host lower-cased, dicts frozen). Requests with equal keys share
a pool. Pools live in a :class:`~pooltest._collections.RecentlyUsedContainer` of ``num_pools``
entries: using a pool makes it the most recent; creating pool number ``num_pools + 1`` evicts the
least recently used one.

Eviction never breaks a request: a pool dropped from the LRU (or by :meth:`PoolManager.clear`) is
*retired*, not closed. It closes its idle connections at once and the busy ones as they come back,
yet still serves whoever holds it: a request in flight, or a caller that got the pool from
``connection_from_url`` just before (see :mod:`pooltest.connectionpool`).

Every pool is built with the manager's ``connection_factory`` (the seam cassettes plug into), so
everything a manager does can be recorded and replayed.

Observing the pools (pooltest's addition; urllib3 has no equivalent)
====================================================================
Setting ``manager.on_pool_event = callback`` makes the manager call ``callback(PoolEvent(kind,
pool))`` when a pool is ``"created"`` (before it enters the LRU, so a creation that overflows it
is reported before the eviction it causes), ``"evicted"`` (dropped from :attr:`PoolManager.pools`
other than by :meth:`~PoolManager.clear`: the LRU overflowed, or a key was deleted) or
``"cleared"`` (dropped by :meth:`~PoolManager.clear`). Calls are made while the manager holds
``pools.lock``, so from many threads they still arrive one at a time, in the order the changes
happened; the callback must be quick, must not raise and must not make requests. It is an
attribute, not a constructor argument, so urllib3's signature stays as it is; without a callback
a pool creation or disposal costs one ``None`` check more.
"""

from __future__ import annotations

import functools
import logging
import typing
import warnings
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

from ._base_connection import _TYPE_SOCKET_OPTIONS, ConnectionFactory, ProxyConfig
from ._collections import HTTPHeaderDict, RecentlyUsedContainer
from ._request_methods import RequestMethods
from .connection import port_by_scheme
from .connectionpool import HTTPConnectionPool, HTTPSConnectionPool, without_headers
from .exceptions import LocationValueError, MaxRetryError, ProxySchemeUnknown, URLSchemeUnknown
from .response import BaseHTTPResponse
from .util.proxy import connection_requires_http_tunnel
from .util.retry import Retry
from .util.timeout import Timeout
from .util.url import Url, _split_plain_url, parse_url

if typing.TYPE_CHECKING:
    import ssl

    from typing_extensions import Self

__all__ = [
    "PoolEvent",
    "PoolKey",
    "PoolManager",
    "ProxyManager",
    "key_fn_by_scheme",
    "proxy_from_url",
]

log = logging.getLogger(__name__)

SSL_KEYWORDS = (
    "key_file",
    "cert_file",
    "cert_reqs",
    "ca_certs",
    "ca_cert_data",
    "ssl_version",
    "ssl_minimum_version",
    "ssl_maximum_version",
    "ca_cert_dir",
    "ssl_context",
    "key_password",
    "server_hostname",
    "assert_hostname",
    "assert_fingerprint",
)

_DEFAULT_BLOCKSIZE = 16384

_SCHEMELESS_WARNING = (
    "URLs without a scheme (ie 'https://') are deprecated and will raise an error "
    "in urllib3 v3.0. To avoid this FutureWarning ensure all URLs "
    "start with 'https://' or 'http://'. Read more in this issue: "
    "https://github.com/urllib3/urllib3/issues/2920"
)


class PoolKey(typing.NamedTuple):
    """Everything that makes two pools different. Custom key functions must include these."""

    key_scheme: str
    key_host: str
    key_port: int | None
    key_timeout: Timeout | float | int | None
    key_retries: Retry | bool | int | None
    key_block: bool | None
    key_source_address: tuple[str, int] | None
    key_key_file: str | None
    key_key_password: str | None
    key_cert_file: str | None
    key_cert_reqs: str | None
    key_ca_certs: str | None
    key_ca_cert_data: str | bytes | None
    key_ssl_version: int | str | None
    key_ssl_minimum_version: ssl.TLSVersion | None
    key_ssl_maximum_version: ssl.TLSVersion | None
    key_ca_cert_dir: str | None
    key_ssl_context: ssl.SSLContext | None
    key_maxsize: int | None
    key_headers: frozenset[tuple[str, str]] | None
    key__proxy: Url | None
    key__proxy_headers: frozenset[tuple[str, str]] | None
    key__proxy_config: ProxyConfig | None
    key_socket_options: _TYPE_SOCKET_OPTIONS | None
    key__socks_options: frozenset[tuple[str, str]] | None
    key_assert_hostname: bool | str | None
    key_assert_fingerprint: str | None
    key_server_hostname: str | None
    key_blocksize: int | None


_KEY_FIELDS = frozenset(PoolKey._fields)


def _default_key_normalizer(key_class: type[PoolKey], request_context: dict[str, Any]) -> PoolKey:
    """Build a pool key from a request context: scheme and host lower-cased, dicts frozen.

    Unknown context entries (keyword arguments no key field describes) raise ``TypeError``, as
    in urllib3; give such pools a custom key function.
    """
    context = {f"key_{name}": value for name, value in request_context.items()}
    context["key_scheme"] = context["key_scheme"].lower()
    context["key_host"] = context["key_host"].lower()
    for name in ("key_headers", "key__proxy_headers", "key__socks_options"):
        if context.get(name) is not None:
            context[name] = frozenset(context[name].items())
    if context.get("key_socket_options") is not None:
        context["key_socket_options"] = tuple(context["key_socket_options"])
    if context.get("key_blocksize") is None:
        context["key_blocksize"] = _DEFAULT_BLOCKSIZE
    for field in key_class._fields:
        context.setdefault(field, None)
    return key_class(**context)


#: Maps a scheme to the function that makes pool keys for it; copied by each PoolManager.
key_fn_by_scheme = {
    "http": functools.partial(_default_key_normalizer, PoolKey),
    "https": functools.partial(_default_key_normalizer, PoolKey),
}

pool_classes_by_scheme = {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}


class PoolEvent(typing.NamedTuple):
    """One change to a manager's pools, passed to its ``on_pool_event`` callback."""

    #: ``"created"``, ``"evicted"`` or ``"cleared"`` (see the module docstring).
    kind: typing.Literal["created", "evicted", "cleared"]
    pool: HTTPConnectionPool

    @property
    def origin(self) -> str:
        """The pool's ``scheme://host:port`` (IPv6 hosts in brackets)."""
        pool = self.pool
        host = f"[{pool.host}]" if ":" in pool.host else pool.host
        return f"{pool.scheme}://{host}:{pool.port}"


class _PoolObserver:
    """Holds a manager's ``on_pool_event`` callback (not the manager: no reference cycle)."""

    __slots__ = ("callback", "clearing")

    def __init__(self) -> None:
        self.callback: typing.Callable[[PoolEvent], None] | None = None
        self.clearing = False

    def dropped(self, pool: HTTPConnectionPool) -> None:
        """The LRU's dispose function: retire ``pool``, then report why it left, if observed."""
        _retire_pool(pool)
        callback = self.callback
        if callback is not None:
            callback(PoolEvent("cleared" if self.clearing else "evicted", pool))


class _KeyMemo:
    """Pool keys by origin, valid for one value of ``connection_pool_kw`` (bounded)."""

    __slots__ = ("keys", "kw")
    LIMIT = 1024

    def __init__(self) -> None:
        self.kw: dict[str, Any] | None = None
        self.keys: dict[tuple[Any, ...], tuple[PoolKey, dict[str, Any]]] = {}

    def reset(self, kw: dict[str, Any]) -> None:
        self.kw = dict(kw)
        self.keys = {}

    def remember(self, origin: tuple[Any, ...], entry: tuple[PoolKey, dict[str, Any]]) -> None:
        if len(self.keys) >= self.LIMIT:
            self.keys = {}
        self.keys[origin] = entry


class PoolManager(RequestMethods):
    """Makes requests to any origin, keeping up to ``num_pools`` connection pools.

    ``connection_pool_kw`` go to every pool (``maxsize``, ``block``, ``timeout``, ``retries``,
    TLS settings, ...). ``connection_factory`` (keyword-only, pooltest's addition) is the seam
    every pool of this manager builds its connections with. :attr:`on_pool_event` (pooltest's
    addition) observes pool creation, eviction and clearing.

    >>> http = PoolManager(num_pools=2)
    >>> r = http.request("GET", "http://127.0.0.1:8000/")  # doctest: +SKIP
    """

    proxy: Url | None = None
    proxy_config: ProxyConfig | None = None

    def __init__(
        self,
        num_pools: int = 10,
        headers: typing.Mapping[str, str] | None = None,
        *,
        connection_factory: ConnectionFactory | None = None,
        **connection_pool_kw: Any,
    ) -> None:
        super().__init__(headers)
        if "retries" in connection_pool_kw:
            retries = connection_pool_kw["retries"]
            if not isinstance(retries, Retry):
                # Retry.from_int(False) keeps "never follow redirects" for every pool.
                connection_pool_kw = {**connection_pool_kw, "retries": Retry.from_int(retries)}
        self.connection_pool_kw = connection_pool_kw
        self.connection_factory = connection_factory
        # Read per request, so made an instance attribute (CPython 3.11 reads those faster than
        # class ones); a ProxyManager has set its own already.
        self.proxy = self.proxy
        self.pools: RecentlyUsedContainer[PoolKey, HTTPConnectionPool]
        self._observer = _PoolObserver()
        self.pools = RecentlyUsedContainer(num_pools, dispose_func=self._observer.dropped)
        # Copies, so that a manager can be customised without affecting others.
        self.pool_classes_by_scheme = pool_classes_by_scheme
        self.key_fn_by_scheme = key_fn_by_scheme.copy()
        self._key_memo = _KeyMemo()
        # The memo stands in for connection_from_context/_pool_key; subclasses that override
        # either keep the plain path.
        cls = type(self)
        self._key_cache_usable = (
            cls.connection_from_context is PoolManager.connection_from_context
            and cls.connection_from_pool_key is PoolManager.connection_from_pool_key
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} pools={len(self.pools)}/{self.pools._maxsize}>"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> typing.Literal[False]:
        self.clear()
        return False

    @property
    def on_pool_event(self) -> typing.Callable[[PoolEvent], None] | None:
        """Called with a :class:`PoolEvent` as pools are created, evicted or cleared (None: off).

        pooltest's addition (urllib3 has none); set it before use. See the module docstring.
        """
        return self._observer.callback

    @on_pool_event.setter
    def on_pool_event(self, callback: typing.Callable[[PoolEvent], None] | None) -> None:
        self._observer.callback = callback

    # -- pools ------------------------------------------------------------------------------

    def _new_pool(
        self, scheme: str, host: str, port: int, request_context: dict[str, Any] | None = None
    ) -> HTTPConnectionPool:
        """Create the pool for one origin; override to customise pool construction."""
        pool_cls: type[HTTPConnectionPool] = self.pool_classes_by_scheme[scheme]
        if request_context is None:
            request_context = self.connection_pool_kw.copy()
        if request_context.get("blocksize") is None:
            request_context["blocksize"] = _DEFAULT_BLOCKSIZE
        for key in ("scheme", "host", "port"):
            request_context.pop(key, None)
        if scheme == "http":
            for kw in SSL_KEYWORDS:
                request_context.pop(kw, None)
        if self.connection_factory is not None:
            request_context["connection_factory"] = self.connection_factory
        return pool_cls(host, port, **request_context)

    def clear(self) -> None:
        """Drop every pool; idle connections close now, busy ones when their request ends."""
        observer = self._observer
        if observer.callback is None:
            self.pools.clear()
            return
        with self.pools.lock:
            observer.clearing = True
            try:
                self.pools.clear()
            finally:
                observer.clearing = False

    def connection_from_host(
        self,
        host: str | None,
        port: int | None = None,
        scheme: str | None = "http",
        pool_kwargs: dict[str, Any] | None = None,
    ) -> HTTPConnectionPool:
        """The pool for ``scheme://host:port`` (port defaults by scheme), created if needed."""
        if not host:
            raise LocationValueError("No host specified.")
        if pool_kwargs is None and self._key_cache_usable:
            cached = self._cached_pool(host, port, scheme)
            if cached is not None:
                return cached
        request_context = self._merge_pool_kwargs(pool_kwargs)
        request_context["scheme"] = scheme or "http"
        if port is None:
            port = port_by_scheme.get(request_context["scheme"].lower(), 80)
        request_context["port"] = port
        request_context["host"] = host
        return self.connection_from_context(request_context)

    def _cached_pool(
        self, host: str, port: int | None, scheme: str | None
    ) -> HTTPConnectionPool | None:
        """The pool for an origin via a memo of its pool key, or None if the memo cannot serve.

        Building a pool key is the costliest step of picking a pool; the key only depends on
        the origin, ``connection_pool_kw`` and the scheme's key function, so it is memoised per
        origin and the memo is dropped as soon as either of the other two changes.
        """
        scheme = scheme or "http"
        lowered = scheme.lower()
        key_fn = self.key_fn_by_scheme.get(lowered)
        if key_fn is None:
            return None
        memo = self._key_memo
        if memo.kw != self.connection_pool_kw:
            memo.reset(self.connection_pool_kw)
        entry = memo.keys.get((scheme, host, port, key_fn))
        if entry is None:
            context = self.connection_pool_kw.copy()
            context["scheme"] = scheme
            context["port"] = port if port is not None else port_by_scheme.get(lowered, 80)
            context["host"] = host
            entry = (key_fn(context.copy()), context)
            memo.remember((scheme, host, port, key_fn), entry)
        # The pool usually exists: a plain (thread-safe) lookup finds it; creating it takes
        # the pools' lock, under which _pool_for_key looks again.
        pool = self.pools.get(entry[0])
        if pool is not None:
            return pool
        return self._pool_for_key(entry[0], entry[1])

    def connection_from_context(self, request_context: dict[str, Any]) -> HTTPConnectionPool:
        """The pool for a request context (see the module docstring)."""
        if "strict" in request_context:
            warnings.warn(
                "The 'strict' parameter is no longer needed on Python 3+. "
                "This will raise an error in urllib3 v3.0.",
                FutureWarning,
                stacklevel=2,
            )
            request_context.pop("strict")
        scheme = request_context["scheme"].lower()
        pool_key_constructor = self.key_fn_by_scheme.get(scheme)
        if not pool_key_constructor:
            raise URLSchemeUnknown(scheme)
        pool_key = pool_key_constructor(request_context)
        return self.connection_from_pool_key(pool_key, request_context=request_context)

    def connection_from_pool_key(
        self, pool_key: PoolKey, request_context: dict[str, Any]
    ) -> HTTPConnectionPool:
        """The pool stored under ``pool_key``, created from ``request_context`` if missing."""
        return self._pool_for_key(pool_key, request_context, copy=False)

    def _pool_for_key(
        self, pool_key: PoolKey, request_context: dict[str, Any], copy: bool = True
    ) -> HTTPConnectionPool:
        """:meth:`connection_from_pool_key`; with ``copy``, a pool is created from a copy of
        ``request_context`` (which creating a pool may change), made only then."""
        with self.pools.lock:
            pool = self.pools.get(pool_key)
            if pool is None:
                if copy:
                    request_context = request_context.copy()
                scheme = request_context["scheme"]
                host = request_context["host"]
                port = request_context["port"]
                pool = self._new_pool(scheme, host, port, request_context=request_context)
                callback = self._observer.callback
                if callback is not None:
                    callback(PoolEvent("created", pool))
                self.pools[pool_key] = pool
        return pool

    def connection_from_url(
        self, url: str, pool_kwargs: dict[str, Any] | None = None
    ) -> HTTPConnectionPool:
        """The pool for the origin of ``url``."""
        u = parse_url(url)
        return self.connection_from_host(
            u.host, port=u.port, scheme=u.scheme, pool_kwargs=pool_kwargs
        )

    def _merge_pool_kwargs(self, override: dict[str, Any] | None) -> dict[str, Any]:
        """The manager's pool kwargs updated by ``override`` (a None value removes a key)."""
        base_pool_kwargs = self.connection_pool_kw.copy()
        if override:
            for key, value in override.items():
                if value is None:
                    base_pool_kwargs.pop(key, None)
                else:
                    base_pool_kwargs[key] = value
        return base_pool_kwargs

    def _proxy_requires_url_absolute_form(self, parsed_url: Url) -> bool:
        """Whether requests for ``parsed_url`` go to the proxy in absolute-form."""
        if self.proxy is None:
            return False
        return not connection_requires_http_tunnel(self.proxy, self.proxy_config, parsed_url.scheme)

    # -- requests ---------------------------------------------------------------------------

    def urlopen(  # type: ignore[override]
        self, method: str, url: str, redirect: bool = True, **kw: Any
    ) -> BaseHTTPResponse:
        """Like :meth:`HTTPConnectionPool.urlopen`, for an absolute ``url`` on any origin.

        Redirects are followed across origins here: ``Authorization``, ``Cookie`` and
        ``Proxy-Authorization`` (``Retry.remove_headers_on_redirect``) are dropped when the
        origin changes; a 303 turns into a GET without body or ``Content-*`` headers; 307 and 308
        keep method and body.
        """
        # A plain http(s) URL (see util.url._split_plain_url) needs no Url, without a proxy.
        plain = _split_plain_url(url) if self.proxy is None else None
        if plain is not None:
            scheme, host, port, target = plain
            conn = self.connection_from_host(host, port=port, scheme=scheme)
        else:
            u = _parse_url_cached(url) if len(url) <= 2048 else parse_url(url)
            if u.scheme is None:
                warnings.warn(_SCHEMELESS_WARNING, category=FutureWarning, stacklevel=2)
            conn = self.connection_from_host(u.host, port=u.port, scheme=u.scheme)
            if self.proxy is not None and self._proxy_requires_url_absolute_form(u):
                target = u._replace(fragment=None).url
            else:
                target = u.request_uri
        # No keywords, or only headers (what request() passes): the same call as the general
        # one below, made plainly (a ``**kw`` call costs much more).
        plain_kw = not kw or (len(kw) == 1 and "headers" in kw)
        if plain_kw:
            headers = kw["headers"] if kw else self.headers
            response = conn.urlopen(
                method, target, assert_same_host=False, redirect=False, headers=headers
            )
        else:
            kw["assert_same_host"] = False
            kw["redirect"] = False
            if "headers" not in kw:
                kw["headers"] = self.headers
            response = conn.urlopen(method, target, **kw)
        redirect_location = redirect and response.get_redirect_location()
        if not redirect_location:
            return response
        if plain_kw:  # what the plain call passed, for the next hop
            kw = {"assert_same_host": False, "redirect": False, "headers": headers}
        return self._redirect(method, url, redirect_location, response, conn, redirect, kw)

    def _redirect(
        self,
        method: str,
        url: str,
        location: str,
        response: BaseHTTPResponse,
        conn: HTTPConnectionPool,
        redirect: bool,
        kw: dict[str, Any],
    ) -> BaseHTTPResponse:
        """Follow one redirect (recursing through ``urlopen`` for the next hop)."""
        location = urljoin(url, location)
        if response.status == 303:
            method = "GET"
            kw["body"] = None
            kw["chunked"] = False
            kw["body_pos"] = None
            kw["headers"] = HTTPHeaderDict(kw["headers"])._prepare_for_method_change()
        retries = kw.get("retries", response.retries)
        if not isinstance(retries, Retry):
            retries = Retry.from_int(retries, redirect=redirect)
        if retries.remove_headers_on_redirect and not conn.is_same_host(location):
            kw["headers"] = without_headers(kw["headers"], retries.remove_headers_on_redirect)
        try:
            retries = retries.increment(method, url, response=response, _pool=conn)
        except MaxRetryError:
            if retries.raise_on_redirect:
                response.drain_conn()
                raise
            return response
        kw["retries"] = retries
        kw["redirect"] = redirect
        log.info("Redirecting %s -> %s", url, location)
        response.drain_conn()
        return self.urlopen(method, location, **kw)

    def get_url(self, url: str, **kw: Any) -> BaseHTTPResponse:
        """Deprecated since urllib3 1.0: ``request("GET", url, ...)``."""
        return self._deprecated_alias("get_url", "GET", url, kw)

    def post_url(self, url: str, **kw: Any) -> BaseHTTPResponse:
        """Deprecated since urllib3 1.0: ``request("POST", url, ...)``."""
        return self._deprecated_alias("post_url", "POST", url, kw)

    def _deprecated_alias(
        self, name: str, method: str, url: str, kw: dict[str, Any]
    ) -> BaseHTTPResponse:
        warnings.warn(
            f"PoolManager.{name}() is deprecated; use request('{method}', url, ...) instead.",
            DeprecationWarning,
            stacklevel=3,
        )
        return self.request(method, url, **kw)


class ProxyManager(PoolManager):
    """A PoolManager that sends every request through one HTTP(S) proxy.

    Plain HTTP requests go to the proxy in absolute-form; HTTPS requests go through a CONNECT
    tunnel (unless ``use_forwarding_for_https``). ``proxy_headers`` (e.g. from
    ``make_headers(proxy_basic_auth=...)``) are sent to the proxy only.
    """

    def __init__(
        self,
        proxy_url: str,
        num_pools: int = 10,
        headers: typing.Mapping[str, str] | None = None,
        proxy_headers: typing.Mapping[str, str] | None = None,
        proxy_ssl_context: ssl.SSLContext | None = None,
        use_forwarding_for_https: bool = False,
        proxy_assert_hostname: str | typing.Literal[False] | None = None,
        proxy_assert_fingerprint: str | None = None,
        **connection_pool_kw: Any,
    ) -> None:
        if isinstance(proxy_url, HTTPConnectionPool):
            proxy_url = f"{proxy_url.scheme}://{proxy_url.host}:{proxy_url.port}"
        proxy = parse_url(proxy_url)
        if proxy.scheme not in ("http", "https"):
            raise ProxySchemeUnknown(proxy.scheme)
        if proxy.port is None:
            proxy = proxy._replace(port=port_by_scheme.get(proxy.scheme, 80))
        self.proxy_ssl_context = proxy_ssl_context
        self.proxy = proxy
        self.proxy_headers = proxy_headers or {}
        self.proxy_config = ProxyConfig(
            proxy_ssl_context,
            use_forwarding_for_https,
            proxy_assert_hostname,
            proxy_assert_fingerprint,
        )
        connection_pool_kw["_proxy"] = self.proxy
        connection_pool_kw["_proxy_headers"] = self.proxy_headers
        connection_pool_kw["_proxy_config"] = self.proxy_config
        super().__init__(num_pools, headers, **connection_pool_kw)

    def connection_from_host(
        self,
        host: str | None,
        port: int | None = None,
        scheme: str | None = "http",
        pool_kwargs: dict[str, Any] | None = None,
    ) -> HTTPConnectionPool:
        """HTTPS origins get their own (tunnelled) pool; plain HTTP shares the proxy's pool."""
        if scheme == "https":
            return super().connection_from_host(host, port, scheme, pool_kwargs=pool_kwargs)
        assert self.proxy is not None
        return super().connection_from_host(
            self.proxy.host, self.proxy.port, self.proxy.scheme, pool_kwargs=pool_kwargs
        )

    def _set_proxy_headers(
        self, url: str, headers: typing.Mapping[str, str] | None = None
    ) -> typing.Mapping[str, str]:
        """Add the ``Accept`` and ``Host`` headers a forwarding proxy needs, unless given."""
        headers_ = {"Accept": "*/*"}
        netloc = parse_url(url).netloc
        if netloc:
            headers_["Host"] = netloc
        if headers:
            headers_.update(headers)
        return headers_

    def urlopen(  # type: ignore[override]
        self, method: str, url: str, redirect: bool = True, **kw: Any
    ) -> BaseHTTPResponse:
        """Same as :meth:`PoolManager.urlopen`; ``url`` must be absolute."""
        u = parse_url(url)
        if not connection_requires_http_tunnel(self.proxy, self.proxy_config, u.scheme):
            headers = kw.get("headers", self.headers)
            kw["headers"] = self._set_proxy_headers(url, headers)
        return super().urlopen(method, url, redirect=redirect, **kw)


def proxy_from_url(url: str, **kw: Any) -> ProxyManager:
    """A :class:`ProxyManager` for the proxy at ``url``."""
    return ProxyManager(proxy_url=url, **kw)


# URLs are immutable values: the same string always parses to the same Url.
_parse_url_cached = functools.lru_cache(maxsize=512)(parse_url)


def _retire_pool(pool: HTTPConnectionPool) -> None:
    """Dispose of a pool dropped from the LRU: it keeps no connection, yet still serves."""
    pool._retire()
