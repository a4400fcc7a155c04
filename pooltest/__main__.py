"""``python -m pooltest``: the same as the ``pooltest`` command."""

from __future__ import annotations

from .cli import _entry

if __name__ == "__main__":
    _entry()
