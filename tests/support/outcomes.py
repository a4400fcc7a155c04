"""What a call did, as a value tests can compare: a fast path against the code it replaces."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["call_outcome"]


def call_outcome(function: Callable[..., object], *args: Any) -> object:
    """What ``function(*args)`` did: returned (None) or raised (type and message)."""
    try:
        function(*args)
    except Exception as exc:  # compared, not swallowed
        return (type(exc), str(exc))
    return None
