"""pooltest: a urllib3-compatible, connection-pooling HTTP client whose traffic tests can record
once and replay offline.

The public names here are urllib3 2.x's, so ``import pooltest as urllib3`` keeps code working.
"""

from __future__ import annotations

import logging
import typing
import warnings
from logging import NullHandler

from . import exceptions
from ._base_connection import _TYPE_BODY, BaseHTTPConnection, ConnectionFactory
from ._collections import HTTPHeaderDict
from ._version import __version__
from .connection import default_connection_factory
from .connectionpool import HTTPConnectionPool, HTTPSConnectionPool, connection_from_url
from .filepost import _TYPE_FIELDS, encode_multipart_formdata
from .poolmanager import PoolEvent, PoolManager, ProxyManager, proxy_from_url
from .response import BaseHTTPResponse, HTTPResponse
from .util.request import make_headers
from .util.retry import Retry
from .util.timeout import Timeout

if typing.TYPE_CHECKING:
    from . import matchers
    from .cassette import Cassette, use_cassette

__all__ = (
    "BaseHTTPConnection",
    "BaseHTTPResponse",
    "Cassette",
    "ConnectionFactory",
    "HTTPConnectionPool",
    "HTTPHeaderDict",
    "HTTPResponse",
    "HTTPSConnectionPool",
    "PoolEvent",
    "PoolManager",
    "ProxyManager",
    "Retry",
    "Timeout",
    "__version__",
    "add_stderr_logger",
    "connection_from_url",
    "default_connection_factory",
    "disable_warnings",
    "encode_multipart_formdata",
    "exceptions",
    "make_headers",
    "matchers",
    "proxy_from_url",
    "request",
    "use_cassette",
)

# Cassettes and matchers pull in YAML and werkzeug: load them on first use, so that a plain
# ``import pooltest`` stays as light as the client itself.
_LAZY = {
    "Cassette": ("pooltest.cassette", "Cassette"),
    "use_cassette": ("pooltest.cassette", "use_cassette"),
    "matchers": ("pooltest.matchers", None),
}


def __getattr__(name: str) -> typing.Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'pooltest' has no attribute {name!r}") from None
    import importlib

    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


logging.getLogger(__name__).addHandler(NullHandler())
del NullHandler

# As urllib3 does: security warnings are shown every time, platform warnings once.
warnings.simplefilter("always", exceptions.SecurityWarning, append=True)
warnings.simplefilter("default", exceptions.InsecurePlatformWarning, append=True)


def add_stderr_logger(level: int = logging.DEBUG) -> logging.StreamHandler[typing.TextIO]:
    """Log pooltest's messages at ``level`` and above to stderr; returns the handler added."""
    logger = logging.getLogger(__name__)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.debug("Added a stderr logging handler to logger: %s", __name__)
    return handler


def disable_warnings(category: type[Warning] = exceptions.HTTPWarning) -> None:
    """Silence pooltest's warnings of ``category`` (all of them by default)."""
    warnings.simplefilter("ignore", category)


_DEFAULT_POOL: PoolManager | None = None


def request(
    method: str,
    url: str,
    *,
    body: _TYPE_BODY | None = None,
    fields: _TYPE_FIELDS | None = None,
    headers: typing.Mapping[str, str] | None = None,
    preload_content: bool | None = True,
    decode_content: bool | None = True,
    redirect: bool | None = True,
    retries: Retry | bool | int | None = None,
    timeout: Timeout | float | int | None = 3,
    json: typing.Any | None = None,
) -> BaseHTTPResponse:
    """Make one request through a module-wide :class:`PoolManager` (created on first use)."""
    global _DEFAULT_POOL  # noqa: PLW0603 - one lazily built default manager, as urllib3 has.
    if _DEFAULT_POOL is None:
        _DEFAULT_POOL = PoolManager()
    return _DEFAULT_POOL.request(
        method,
        url,
        body=body,
        fields=fields,
        headers=headers,
        preload_content=preload_content,
        decode_content=decode_content,
        redirect=redirect,
        retries=retries,
        timeout=timeout,
        json=json,
    )
