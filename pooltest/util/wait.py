"""Waiting for one socket to become readable or writable.

This runs on every pool checkout (``wait_for_read(sock, timeout=0)`` tells whether a kept-alive
socket was closed by the server), so it must be cheap. For a single socket the stateless
``poll()`` beats the stateful selectors (epoll/kqueue need a registration system call and a
file descriptor of their own), and unlike ``select()`` it works with descriptors above
``FD_SETSIZE``. ``select()`` is the fallback where ``poll()`` is missing or broken (Windows,
some monkeypatched event loops); the choice is made on first use, not at import, so late
monkeypatching of :mod:`select` is respected.

Timeouts are in seconds; ``None`` blocks, and a negative timeout is treated as zero. Interrupted
system calls are retried by Python itself (PEP 475).
"""

from __future__ import annotations

import select
import socket
import typing

__all__ = ["wait_for_read", "wait_for_socket", "wait_for_write"]

_Waiter = typing.Callable[[socket.socket, bool, bool, float | None], bool]


def _check_mode(read: bool, write: bool) -> None:
    if not read and not write:
        raise RuntimeError("must specify at least one of read=True, write=True")


def poll_wait_for_socket(
    sock: socket.socket, read: bool = False, write: bool = False, timeout: float | None = None
) -> bool:
    """:func:`wait_for_socket` with ``poll()``."""
    _check_mode(read, write)
    mask = (select.POLLIN if read else 0) | (select.POLLOUT if write else 0)
    poller = select.poll()
    poller.register(sock, mask)
    if timeout is None:
        return bool(poller.poll())
    return bool(poller.poll(max(timeout, 0.0) * 1000.0))


def select_wait_for_socket(
    sock: socket.socket, read: bool = False, write: bool = False, timeout: float | None = None
) -> bool:
    """:func:`wait_for_socket` with ``select()``.

    A non-blocking connect that completes is reported as writable on most systems but as
    "exceptional" on Windows, so write waits watch both conditions.
    """
    _check_mode(read, write)
    rlist = [sock] if read else []
    wlist = [sock] if write else []
    if timeout is not None:
        timeout = max(timeout, 0.0)
    readable, writable, errored = select.select(rlist, wlist, wlist, timeout)
    return bool(readable or writable or errored)


def _poll_works() -> bool:
    try:
        select.poll().poll(0)
    except (AttributeError, OSError):
        return False
    return True


_waiter: _Waiter | None = None


def _choose_waiter() -> _Waiter:
    global _waiter  # noqa: PLW0603 - chosen once, on first use (see module docstring).
    _waiter = poll_wait_for_socket if _poll_works() else select_wait_for_socket
    return _waiter


def wait_for_socket(
    sock: socket.socket, read: bool = False, write: bool = False, timeout: float | None = None
) -> bool:
    """Wait until ``sock`` is readable (``read``) and/or writable (``write``).

    Returns True as soon as one requested condition holds (for reading, that includes the peer
    having closed the connection), False if ``timeout`` seconds pass first. Raises
    ``RuntimeError`` if neither condition is requested.
    """
    return (_waiter or _choose_waiter())(sock, read, write, timeout)


def wait_for_read(sock: socket.socket, timeout: float | None = None) -> bool:
    """Wait until ``sock`` has data to read or was closed by the peer; False on timeout."""
    return (_waiter or _choose_waiter())(sock, True, False, timeout)


def wait_for_write(sock: socket.socket, timeout: float | None = None) -> bool:
    """Wait until ``sock`` can be written to; False on timeout."""
    return (_waiter or _choose_waiter())(sock, False, True, timeout)
