"""Small helpers shared by tests that are not servers: failing streams, endless savers."""

from __future__ import annotations

import io
import typing

from pooltest.cassette._format import save

if typing.TYPE_CHECKING:
    from pooltest.cassette import Interaction


class FailingStream(io.RawIOBase):
    """A raw stream that yields ``data`` and then raises ``error``."""

    def __init__(self, data: bytes, error: BaseException) -> None:
        self._data = data
        self._error = error

    def readable(self) -> bool:
        return True

    def readinto(self, b: typing.Any) -> int:
        if not self._data:
            raise self._error
        n = min(len(b), len(self._data))
        b[:n] = self._data[:n]
        self._data = self._data[n:]
        return n


def save_forever(path: str, batches: tuple[list[Interaction], list[Interaction]]) -> None:
    """Save the two batches to ``path`` in turn until the process is killed (crash tests)."""
    round_ = 0
    while True:
        save(path, batches[round_ % 2])
        round_ += 1
