"""Retry policy: :class:`Retry` and the :class:`RequestHistory` it accumulates.

A :class:`Retry` is an immutable-by-convention budget. The pool calls :meth:`Retry.increment`
after every failed attempt (an exception, a redirect, or a status in ``status_forcelist``); it
returns a *new* object with the matching counters decremented and one more history entry, or
raises :class:`~pooltest.exceptions.MaxRetryError` once any counter drops below zero.

How an attempt is classified (first match wins):

1. a connect error (:class:`~pooltest.exceptions.ConnectTimeoutError`, possibly wrapped in a
   :class:`~pooltest.exceptions.ProxyError`): the request never reached the server, so it is
   always safe to retry; spends ``connect``;
2. a read error (:class:`~pooltest.exceptions.ReadTimeoutError`,
   :class:`~pooltest.exceptions.ProtocolError`): the server may have acted on the request, so it
   is retried only for ``allowed_methods``; spends ``read``;
3. any other error: spends ``other``;
4. a response with a redirect location: spends ``redirect``;
5. otherwise a response with a retryable status: spends ``status``.

``total`` is spent by every attempt. A counter set to ``False`` (``total``, ``connect`` or
``read``) means "do not retry, re-raise the original error". ``None`` means "no limit here".

Sleeping goes through the module-level ``_sleep``, bound to :func:`time.sleep` at import time, so
a clock-freezing test helper that replaces ``time.sleep`` later cannot turn real waits into
no-ops (or the reverse).
"""

from __future__ import annotations

import email.utils
import functools
import logging
import random
import re
import time
import typing
import warnings
from collections.abc import Collection

from pooltest.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    MaxRetryError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    ResponseError,
)

if typing.TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    from typing_extensions import Self

    from pooltest.connectionpool import ConnectionPool

__all__ = ["RequestHistory", "Retry"]

log = logging.getLogger(__name__)

#: The real ``time.sleep``, captured at import: every wait of this module goes through it.
_sleep = time.sleep

# delay-seconds, surrounded by any whitespace urllib3 accepts there.
_DELAY_SECONDS_RE = re.compile(r"\s*([0-9]+)\s*")


class _RetryableResponse(typing.Protocol):
    """The part of a response :class:`Retry` looks at."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def get_redirect_location(self) -> str | typing.Literal[False] | None: ...


class RequestHistory(typing.NamedTuple):
    """One failed attempt, as recorded by :meth:`Retry.increment`."""

    method: str | None
    url: str | None
    error: Exception | None
    status: int | None
    redirect_location: str | None


@functools.lru_cache(maxsize=32)
def _lowercased_frozen(names: frozenset[str]) -> frozenset[str]:
    return frozenset(name.lower() for name in names)


def _lowercased(names: Collection[str]) -> frozenset[str]:
    """Header names in lower case. Frozensets (the default, and what :meth:`Retry.new` passes
    on) are converted once and cached, since a new Retry is built for every attempt."""
    if isinstance(names, frozenset):
        return _lowercased_frozen(names)
    return frozenset(name.lower() for name in names)


def _reraise(error: Exception, tb: TracebackType | None) -> typing.NoReturn:
    """Raise ``error`` again, with ``tb`` as its traceback when one is given."""
    if tb is not None and error.__traceback__ is not tb:
        raise error.with_traceback(tb)
    raise error


class Retry:
    """How many times, and on what, a request may be attempted again.

    Pass one as ``retries=`` to a pool, a pool manager or a single request; an ``int`` means
    ``Retry(total=n)`` and ``False`` disables retries (errors are raised as they are, and
    redirects are returned rather than followed). Every counter defaults to ``None`` (no limit
    of its own) except ``total``; each accepts ``0`` to fail on the first attempt of its kind.

    :param total: attempts of any kind; takes precedence. ``False`` disables retries and implies
        ``raise_on_redirect=False``.
    :param connect: errors raised before the request reached the server.
    :param read: errors raised after the request was sent (only for ``allowed_methods``).
    :param redirect: redirects to follow. ``False`` behaves like ``0`` with
        ``raise_on_redirect=False``.
    :param status: responses whose status is in ``status_forcelist``.
    :param other: any other error.
    :param allowed_methods: upper-case methods that may be retried after a read error or a bad
        status; ``None`` allows every method.
    :param status_forcelist: status codes that trigger a retry.
    :param backoff_factor: the sleep between attempts is
        ``backoff_factor * 2 ** (consecutive errors - 1)`` seconds, from the second consecutive
        error on, capped at ``backoff_max``; ``backoff_jitter`` adds up to that many random
        seconds.
    :param raise_on_redirect: raise :class:`~pooltest.exceptions.MaxRetryError` when redirects
        run out, rather than return the 3xx response.
    :param raise_on_status: same, for ``status_forcelist`` responses.
    :param history: attempts so far (filled in by :meth:`increment`).
    :param respect_retry_after_header: honour ``Retry-After`` on
        :attr:`RETRY_AFTER_STATUS_CODES`.
    :param remove_headers_on_redirect: header names (any case) dropped when a redirect leaves
        the origin.
    :param retry_after_max: longest ``Retry-After`` wait obeyed, in seconds.
    """

    #: Methods retried by default: the idempotent ones.
    DEFAULT_ALLOWED_METHODS = frozenset(["HEAD", "GET", "PUT", "DELETE", "OPTIONS", "TRACE"])

    #: Statuses on which a ``Retry-After`` header triggers a retry.
    RETRY_AFTER_STATUS_CODES = frozenset([413, 429, 503])

    #: Headers dropped by default when a redirect goes to another origin.
    DEFAULT_REMOVE_HEADERS_ON_REDIRECT = frozenset(
        ["Cookie", "Authorization", "Proxy-Authorization"]
    )

    #: Longest backoff, in seconds, unless ``backoff_max`` says otherwise.
    DEFAULT_BACKOFF_MAX = 120

    #: Longest ``Retry-After`` wait obeyed, in seconds (six hours).
    DEFAULT_RETRY_AFTER_MAX: typing.Final[int] = 21600

    #: The policy used when none is given: ``Retry(3)``.
    DEFAULT: typing.ClassVar[Retry]

    def __init__(
        self,
        total: bool | int | None = 10,
        connect: int | None = None,
        read: int | None = None,
        redirect: bool | int | None = None,
        status: int | None = None,
        other: int | None = None,
        allowed_methods: Collection[str] | None = DEFAULT_ALLOWED_METHODS,
        status_forcelist: Collection[int] | None = None,
        backoff_factor: float = 0,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
        raise_on_redirect: bool = True,
        raise_on_status: bool = True,
        history: tuple[RequestHistory, ...] | None = None,
        respect_retry_after_header: bool = True,
        remove_headers_on_redirect: Collection[str] = DEFAULT_REMOVE_HEADERS_ON_REDIRECT,
        backoff_jitter: float = 0.0,
        retry_after_max: int = DEFAULT_RETRY_AFTER_MAX,
    ) -> None:
        if redirect is False or total is False:
            redirect = 0
            raise_on_redirect = False
        if not allowed_methods and isinstance(allowed_methods, Collection):
            warnings.warn(
                "Using an empty collection for 'allowed_methods' option to retry on any verb "
                "is deprecated and will skip retries for all verbs in urllib3 v3.0. Instead "
                "use Retry(..., allowed_methods=None).",
                FutureWarning,
                stacklevel=2,
            )
        self.total = total
        self.connect = connect
        self.read = read
        self.redirect = redirect
        self.status = status
        self.other = other
        self.allowed_methods = allowed_methods
        self.status_forcelist: Collection[int] = status_forcelist or set()
        self.backoff_factor = backoff_factor
        self.backoff_max = backoff_max
        self.backoff_jitter = backoff_jitter
        self.retry_after_max = retry_after_max
        self.raise_on_redirect = raise_on_redirect
        self.raise_on_status = raise_on_status
        self.history = history or ()
        self.respect_retry_after_header = respect_retry_after_header
        self.remove_headers_on_redirect = _lowercased(remove_headers_on_redirect)

    def new(self, **kw: typing.Any) -> Self:
        """Return a copy of this policy with the given constructor arguments replaced."""
        params: dict[str, typing.Any] = {
            "total": self.total,
            "connect": self.connect,
            "read": self.read,
            "redirect": self.redirect,
            "status": self.status,
            "other": self.other,
            "allowed_methods": self.allowed_methods,
            "status_forcelist": self.status_forcelist,
            "backoff_factor": self.backoff_factor,
            "backoff_max": self.backoff_max,
            "retry_after_max": self.retry_after_max,
            "raise_on_redirect": self.raise_on_redirect,
            "raise_on_status": self.raise_on_status,
            "history": self.history,
            "remove_headers_on_redirect": self.remove_headers_on_redirect,
            "respect_retry_after_header": self.respect_retry_after_header,
            "backoff_jitter": self.backoff_jitter,
        }
        params.update(kw)
        return type(self)(**params)

    @classmethod
    def from_int(
        cls,
        retries: Retry | bool | int | None,
        redirect: bool | int | None = True,
        default: Retry | bool | int | None = None,
    ) -> Retry:
        """Turn a ``retries=`` argument into a :class:`Retry`.

        A :class:`Retry` is returned as is; ``None`` means ``default`` (or :attr:`DEFAULT` when
        that is ``None`` too); a number or bool becomes ``cls(retries)``, with redirects disabled
        when ``redirect`` is falsy.
        """
        if retries is None:
            retries = default if default is not None else cls.DEFAULT
        if isinstance(retries, Retry):
            return retries
        converted = cls(retries, redirect=None if redirect else False)
        log.debug("Converted retries value: %r -> %r", retries, converted)
        return converted

    def _consecutive_errors(self) -> int:
        """Count the history entries since the last redirect (redirects do not back off)."""
        count = 0
        for entry in reversed(self.history):
            if entry.redirect_location is not None:
                break
            count += 1
        return count

    def get_backoff_time(self) -> float:
        """Seconds to sleep before the next attempt: 0 until two consecutive errors, then
        ``backoff_factor * 2 ** (n - 1)`` plus jitter, within ``[0, backoff_max]``."""
        errors = self._consecutive_errors()
        if errors <= 1:
            return 0
        backoff = self.backoff_factor * (2 ** (errors - 1))
        if self.backoff_jitter != 0.0:
            backoff += random.random() * self.backoff_jitter
        return float(max(0, min(self.backoff_max, backoff)))

    def parse_retry_after(self, retry_after: str) -> float:
        """Seconds to wait for a ``Retry-After`` value: delay-seconds or an HTTP date.

        Dates in the past give 0; waits longer than ``retry_after_max`` are cut to it.
        Raises :class:`~pooltest.exceptions.InvalidHeader` for anything else.
        """
        seconds: float
        delay = _DELAY_SECONDS_RE.fullmatch(retry_after)
        seconds = int(delay.group(1)) if delay is not None else _seconds_until(retry_after)
        return min(max(seconds, 0), self.retry_after_max)

    def get_retry_after(self, response: _RetryableResponse) -> float | None:
        """Seconds asked for by the response's ``Retry-After`` header, or None without one."""
        retry_after = response.headers.get("Retry-After")
        if retry_after is None:
            return None
        return self.parse_retry_after(retry_after)

    def sleep_for_retry(self, response: _RetryableResponse) -> bool:
        """Sleep as long as ``Retry-After`` asks; return whether it asked for a wait.

        A response replayed from a cassette never makes anyone wait: time between recorded
        exchanges is not reproduced.
        """
        retry_after = self.get_retry_after(response)
        if retry_after:
            if not getattr(response, "_pooltest_replayed", False):
                _sleep(retry_after)
            return True
        return False

    def _sleep_backoff(self) -> None:
        backoff = self.get_backoff_time()
        if backoff > 0:
            _sleep(backoff)

    def sleep(self, response: _RetryableResponse | None = None) -> None:
        """Wait before the next attempt: the response's ``Retry-After`` when it has one and it
        is respected, otherwise the exponential backoff (no wait with the default factor 0)."""
        if self.respect_retry_after_header and response and self.sleep_for_retry(response):
            return
        if getattr(response, "_pooltest_replayed", False):
            return
        self._sleep_backoff()

    def _is_connection_error(self, err: Exception) -> bool:
        """True for errors raised before the server could see the request."""
        if isinstance(err, ProxyError):
            err = err.original_error
        return isinstance(err, ConnectTimeoutError)

    def _is_read_error(self, err: Exception) -> bool:
        """True for errors raised after the request may have reached the server."""
        return isinstance(err, (ReadTimeoutError, ProtocolError))

    def _is_method_retryable(self, method: str) -> bool:
        """True when ``allowed_methods`` is unset/empty or holds ``method`` (any case)."""
        return not self.allowed_methods or method.upper() in self.allowed_methods

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        """Should a response with ``status_code`` to ``method`` be retried?

        Yes when the method is retryable and either the status is in ``status_forcelist``, or
        ``total`` allows retries and a respected ``Retry-After`` came with one of
        :attr:`RETRY_AFTER_STATUS_CODES`.
        """
        if not self._is_method_retryable(method):
            return False
        if self.status_forcelist and status_code in self.status_forcelist:
            return True
        return bool(
            self.total
            and self.respect_retry_after_header
            and has_retry_after
            and status_code in self.RETRY_AFTER_STATUS_CODES
        )

    def is_exhausted(self) -> bool:
        """True when a set (non-zero) counter has gone below zero."""
        for count in (self.total, self.connect, self.read, self.redirect, self.status, self.other):
            if count and count < 0:
                return True
        return False

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: _RetryableResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        """Account for one failed attempt and return the policy for the next one.

        Pass the ``error`` raised, or the ``response`` that asks for a retry (a redirect or a
        retryable status). Re-raises ``error`` itself when retries are disabled for its kind
        (``total``/``connect``/``read`` is ``False``, or a read error on a method that is not
        retryable). Raises :class:`~pooltest.exceptions.MaxRetryError` (``reason``: the error,
        or a :class:`~pooltest.exceptions.ResponseError`) when the budget is exhausted.
        """
        if self.total is False and error:
            _reraise(error, _stacktrace)

        total = self.total
        if total is not None:
            total -= 1
        connect, read, redirect = self.connect, self.read, self.redirect
        status_count, other = self.status, self.other
        cause = "unknown"
        status = None
        redirect_location = None

        if error and self._is_connection_error(error):
            if connect is False:
                _reraise(error, _stacktrace)
            if connect is not None:
                connect -= 1
        elif error and self._is_read_error(error):
            if read is False or method is None or not self._is_method_retryable(method):
                _reraise(error, _stacktrace)
            if read is not None:
                read -= 1
        elif error:
            if other is not None:
                other -= 1
        elif response and response.get_redirect_location():
            if redirect is not None:
                redirect -= 1
            cause = "too many redirects"
            redirect_location = response.get_redirect_location() or None
            status = response.status
        else:
            cause = ResponseError.GENERIC_ERROR
            if response and response.status:
                if status_count is not None:
                    status_count -= 1
                cause = ResponseError.SPECIFIC_ERROR.format(status_code=response.status)
                status = response.status

        new_retry = self.new(
            total=total,
            connect=connect,
            read=read,
            redirect=redirect,
            status=status_count,
            other=other,
            history=(*self.history, RequestHistory(method, url, error, status, redirect_location)),
        )
        if new_retry.is_exhausted():
            reason = error or ResponseError(cause)
            raise MaxRetryError(_pool, url, reason) from reason  # type: ignore[arg-type]
        log.debug("Incremented Retry for (url='%s'): %r", url, new_retry)
        return new_retry

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(total={self.total}, connect={self.connect}, "
            f"read={self.read}, redirect={self.redirect}, status={self.status})"
        )


def _seconds_until(http_date: str) -> float:
    """Seconds from now until an HTTP date (negative if past).

    Raises InvalidHeader for anything that is not a date, including dates too far out for the
    platform's time functions (where :mod:`email.utils` itself would raise OverflowError).
    """
    try:
        parsed = email.utils.parsedate_tz(http_date)
        if parsed is not None:
            return email.utils.mktime_tz(parsed) - time.time()
    except (OverflowError, ValueError):
        pass
    raise InvalidHeader(f"Invalid Retry-After header: {http_date}")


Retry.DEFAULT = Retry(3)
