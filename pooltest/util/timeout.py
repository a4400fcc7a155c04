"""Connect, read and total timeouts for one request, with urllib3 2.x's semantics.

A :class:`Timeout` holds up to three budgets. ``connect`` bounds the connection attempt, ``read``
bounds each wait for bytes from the server, and ``total`` bounds the two together: once
:meth:`Timeout.start_connect` has stamped the start of the connection attempt, the read budget
is whatever ``total`` has left, capped by ``read``.

"Not given" and "no timeout" are different things. ``None`` means wait forever; the sentinel
``_DEFAULT_TIMEOUT`` (the only member of the ``_TYPE_DEFAULT`` enum, so it survives pickling and
``copy``) means "use :func:`socket.getdefaulttimeout`", resolved as late as possible.

The clock is read through the module-level ``_monotonic`` name rather than ``time.monotonic``
directly, so a feature that freezes wall-clock time can leave this reference pointing at the real
monotonic clock (or swap it deliberately) without patching the ``time`` module.
"""

from __future__ import annotations

import time
import typing
from enum import Enum
from socket import getdefaulttimeout

from pooltest.exceptions import TimeoutStateError

if typing.TYPE_CHECKING:
    from typing import Final

__all__ = ["Timeout"]

#: The clock behind ``start_connect`` and ``get_connect_duration``.
_monotonic = time.monotonic


class _TYPE_DEFAULT(Enum):
    """Type of the "use the socket module's default timeout" sentinel."""

    # Negative on purpose: should it ever leak into socket.settimeout(), that call refuses it.
    token = -1


_DEFAULT_TIMEOUT: Final[_TYPE_DEFAULT] = _TYPE_DEFAULT.token

#: Anything a timeout attribute may hold: seconds, ``None`` (no limit) or the default sentinel.
_TYPE_TIMEOUT = float | _TYPE_DEFAULT | None

_NOT_A_NUMBER = "Timeout value {name} was {value}, but it must be an int, float or None."
_NOT_POSITIVE = (
    "Attempted to set {name} timeout to {value}, but the timeout cannot be set to a value less "
    "than or equal to 0."
)


class Timeout:
    """The timeouts that apply to one request (or the default for a pool).

    :param total: Budget for connect and read together; when combined with ``connect`` or
        ``read``, the smaller budget wins. ``None`` (the default) means no overall budget.
    :param connect: Seconds allowed to establish the connection, ``None`` for no limit. Omitted,
        it falls back to the socket module's global default.
    :param read: Seconds allowed for each wait for response bytes, ``None`` for no limit. Omitted,
        it falls back to the socket module's global default.

    Every given value must be a positive int or float (or ``None``/the sentinel); anything else
    raises ``ValueError``. A ``Timeout`` that has been started belongs to one request: use
    :meth:`clone` to hand a fresh copy to each request.
    """

    #: The sentinel meaning "the socket module's default timeout".
    DEFAULT_TIMEOUT: _TYPE_TIMEOUT = _DEFAULT_TIMEOUT

    def __init__(
        self,
        total: _TYPE_TIMEOUT = None,
        connect: _TYPE_TIMEOUT = _DEFAULT_TIMEOUT,
        read: _TYPE_TIMEOUT = _DEFAULT_TIMEOUT,
    ) -> None:
        self._connect = self._validate_timeout(connect, "connect")
        self._read = self._validate_timeout(read, "read")
        self.total = self._validate_timeout(total, "total")
        self._start_connect: float | None = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(connect={self._connect!r}, read={self._read!r}, "
            f"total={self.total!r})"
        )

    __str__ = __repr__

    @staticmethod
    def resolve_default_timeout(timeout: _TYPE_TIMEOUT) -> float | None:
        """Map the default sentinel to :func:`socket.getdefaulttimeout`; keep other values."""
        if timeout is _DEFAULT_TIMEOUT:
            return getdefaulttimeout()
        return timeout

    @classmethod
    def _validate_timeout(cls, value: _TYPE_TIMEOUT, name: str) -> _TYPE_TIMEOUT:
        """Return ``value`` if it is a usable ``name`` timeout, else raise ``ValueError``.

        Usable means ``None``, the default sentinel, or a number greater than zero. Booleans are
        refused even though they are ints, and so is anything ``float()`` cannot convert or that
        does not compare with zero.
        """
        if value is None or value is _DEFAULT_TIMEOUT:
            return value
        if isinstance(value, bool):
            raise ValueError("Timeout cannot be a boolean value. It must be an int, float or None.")
        try:
            float(value)
            too_small = value <= 0  # NaN compares False here and is accepted, as in urllib3.
        except (TypeError, ValueError):
            raise ValueError(_NOT_A_NUMBER.format(name=name, value=value)) from None
        if too_small:
            raise ValueError(_NOT_POSITIVE.format(name=name, value=value))
        return value

    @classmethod
    def from_float(cls, timeout: _TYPE_TIMEOUT) -> Timeout:
        """Build a ``Timeout`` whose connect and read budgets are both ``timeout``.

        This is how a bare number (the ``http.client`` style of timeout) is interpreted.
        """
        return Timeout(read=timeout, connect=timeout)

    def clone(self) -> Timeout:
        """Return an unstarted copy with the same connect, read and total budgets.

        The default sentinel is carried over as-is (it is never deep-copied). The values were
        validated when this timeout was made, so the copy skips validation (pools clone a
        timeout for every request).
        """
        copy = Timeout.__new__(Timeout)
        copy._connect = self._connect
        copy._read = self._read
        copy.total = self.total
        copy._start_connect = None
        return copy

    def start_connect(self) -> float:
        """Stamp the start of the connection attempt and return the stamp.

        :raises TimeoutStateError: if the clock was already started.
        """
        if self._start_connect is not None:
            raise TimeoutStateError("Timeout timer has already been started.")
        self._start_connect = _monotonic()
        return self._start_connect

    def get_connect_duration(self) -> float:
        """Seconds elapsed since :meth:`start_connect`.

        :raises TimeoutStateError: if the clock has not been started.
        """
        if self._start_connect is None:
            raise TimeoutStateError("Can't get connect duration for timer that has not started.")
        return _monotonic() - self._start_connect

    @property
    def connect_timeout(self) -> _TYPE_TIMEOUT:
        """The budget for the connection attempt.

        ``connect`` when there is no total; the total when ``connect`` is ``None`` or the default;
        otherwise the smaller of the two. May be ``None`` or the default sentinel.
        """
        total = self.total
        if total is None:
            return self._connect
        connect = self._connect
        if connect is None or connect is _DEFAULT_TIMEOUT:
            return total
        return min(connect, total)  # type: ignore[type-var]  # total is a number here.

    @property
    def read_timeout(self) -> float | None:
        """The budget for each read, accounting for time already spent connecting.

        With a total budget, this is what is left of it since :meth:`start_connect` (never below
        zero), capped by ``read`` when ``read`` is a number; before the clock starts, a numeric
        ``read`` is returned as is. Without a total it is ``read``, with the default sentinel
        resolved through :func:`socket.getdefaulttimeout`.

        :raises TimeoutStateError: if a total is set, ``read`` is not a number and the clock
            has not been started.
        """
        total = self.total
        if total is None or total is _DEFAULT_TIMEOUT:
            return self.resolve_default_timeout(self._read)
        read = self._read
        if read is None or read is _DEFAULT_TIMEOUT:
            return max(0, total - self.get_connect_duration())
        if self._start_connect is None:
            return read
        return max(0, min(total - self.get_connect_duration(), read))
