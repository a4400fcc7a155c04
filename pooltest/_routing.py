"""Where pools without an explicit connection factory get their connections from.

A pool built with ``connection_factory=None`` (the default) asks this module, each time it
checks out a connection, which factory is in force:

1. the innermost factory activated for the current :mod:`contextvars` context
   (``scope="context"``), if any;
2. else the innermost factory activated for the whole process (``scope="process"``), which
   every thread sees, including threads started by the code under test;
3. else the real connection factory.

A cassette activates its factory while it is in use, so application code that builds its own
PoolManager is recorded and replayed without changes, and no class is ever patched: this is a
lookup at the seam. A pooled connection remembers which factory made it; when the factory in
force changes, the pool closes that connection and makes a new one through the new factory, so a
kept-alive real socket never leaks into a replay (nor a replaying connection into live traffic).
"""

from __future__ import annotations

import contextvars
import threading
import typing

if typing.TYPE_CHECKING:
    from ._base_connection import ConnectionFactory

__all__ = ["activate", "active_factory", "deactivate"]

_process_stack: list[ConnectionFactory] = []
_process_lock = threading.Lock()
_context_stack: contextvars.ContextVar[tuple[ConnectionFactory, ...]] = contextvars.ContextVar(
    "pooltest_connection_factories", default=()
)


class Activation(typing.NamedTuple):
    """What :func:`deactivate` needs to undo one :func:`activate`."""

    factory: ConnectionFactory
    scope: str
    token: contextvars.Token[tuple[ConnectionFactory, ...]] | None


def active_factory() -> ConnectionFactory | None:
    """The factory in force for the caller (see the module docstring), or None for real ones."""
    context = _context_stack.get()
    if context:
        return context[-1]
    stack = _process_stack
    return stack[-1] if stack else None


def activate(factory: ConnectionFactory, scope: str = "process") -> Activation:
    """Put ``factory`` in force for the process or for the current context."""
    if scope == "context":
        token = _context_stack.set((*_context_stack.get(), factory))
        return Activation(factory, scope, token)
    if scope != "process":
        raise ValueError(f"scope must be 'process' or 'context', not {scope!r}")
    with _process_lock:
        _process_stack.append(factory)
    return Activation(factory, scope, None)


def deactivate(activation: Activation) -> None:
    """Undo :func:`activate`. Process activations may end in any order."""
    if activation.token is not None:
        _context_stack.reset(activation.token)
        return
    with _process_lock:
        for index in range(len(_process_stack) - 1, -1, -1):
            if _process_stack[index] is activation.factory:
                del _process_stack[index]
                return
