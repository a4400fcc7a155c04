"""Tiny conversion helpers shared by the rest of pooltest.

``to_bytes`` and ``to_str`` accept either ``str`` or ``bytes`` and return the other form (or the
value untouched when it already has the wanted type); anything else is a ``TypeError``. ``reraise``
raises an exception again with a chosen traceback, dropping its own references on the way out so
that no frame keeps the exception (and everything it references) alive.
"""

from __future__ import annotations

import typing

if typing.TYPE_CHECKING:
    from types import TracebackType

__all__ = ["reraise", "to_bytes", "to_str"]


def to_bytes(x: str | bytes, encoding: str | None = None, errors: str | None = None) -> bytes:
    """Return ``x`` as bytes.

    ``bytes`` come back unchanged; ``str`` is encoded with ``encoding`` (UTF-8 when omitted) and
    ``errors`` (``"strict"`` when omitted). Any other type raises ``TypeError``.
    """
    if isinstance(x, bytes):
        return x
    if not isinstance(x, str):
        raise TypeError(f"not expecting type {type(x).__name__}")
    if encoding is None and errors is None:
        return x.encode()
    return x.encode(encoding or "utf-8", errors or "strict")


def to_str(x: str | bytes, encoding: str | None = None, errors: str | None = None) -> str:
    """Return ``x`` as str.

    ``str`` comes back unchanged; ``bytes`` are decoded with ``encoding`` (UTF-8 when omitted) and
    ``errors`` (``"strict"`` when omitted). Any other type raises ``TypeError``.
    """
    if isinstance(x, str):
        return x
    if not isinstance(x, bytes):
        raise TypeError(f"not expecting type {type(x).__name__}")
    if encoding is None and errors is None:
        return x.decode()
    return x.decode(encoding or "utf-8", errors or "strict")


def reraise(
    tp: type[BaseException] | None,
    value: BaseException,
    tb: TracebackType | None = None,
) -> typing.NoReturn:
    """Raise ``value`` again, with ``tb`` as its traceback (``None`` starts a fresh traceback).

    ``tp`` is accepted for compatibility with the ``sys.exc_info()`` triple and ignored. The local
    references are cleared before leaving, so the raised exception does not keep this frame alive.
    """
    try:
        if value.__traceback__ is not tb:
            raise value.with_traceback(tb)
        raise value
    finally:
        del value, tb
