"""Pinning wall-clock time to when a replayed interaction was recorded (freezegun).

With ``use_cassette(..., freeze_time=True)`` the clock reads the ``recorded_at`` of the
interaction being replayed, so code that checks expiry, signatures or ``Date`` headers behaves as
when the cassette was recorded. ``freeze_time=<datetime or ISO string>`` pins one fixed instant
instead, for recording as well as replay.

Only wall-clock time is pinned for the code under test. pooltest itself, ``threading`` and
``queue`` are on freezegun's ignore list, so pool timeouts, :class:`~pooltest.util.timeout.
Timeout`, :class:`~pooltest.util.retry.Retry` backoff and queue waits keep real monotonic time
(and replays never sleep for a recorded ``Retry-After`` at all).
"""

from __future__ import annotations

import datetime as _dt
import typing

if typing.TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory, _freeze_time

__all__ = ["IGNORED_MODULES", "Clock"]

#: Modules whose calls always see real time while a cassette pins the clock.
IGNORED_MODULES = ("pooltest", "threading", "queue", "selectors", "socket", "ssl", "filelock")

FreezeSpec = bool | str | _dt.datetime


class Clock:
    """Starts, moves and stops one freezegun freeze for a cassette."""

    def __init__(self, spec: FreezeSpec) -> None:
        #: The instant pinned for the whole cassette, if one was given (a plain attribute: each
        #: recording asks for it).
        self.fixed_instant: _dt.datetime | None = (
            _parse(spec) if not isinstance(spec, bool) else None
        )
        self._enabled = bool(spec)
        self._freezer: _freeze_time | None = None
        self._frozen: FrozenDateTimeFactory | None = None
        #: Whether :meth:`replaying` moves the clock (pinned, not to a fixed instant): a plain
        #: attribute, so a cassette asks it per replay without a call.
        self.follows_replays = False

    def start(self, first_recorded: _dt.datetime | None) -> None:
        """Begin pinning: at the fixed instant, else at the first recording (if any)."""
        if not self._enabled:
            return
        instant = self.fixed_instant or first_recorded
        if instant is None:
            return
        import freezegun

        self._freezer = freezegun.freeze_time(instant, ignore=list(IGNORED_MODULES), tick=False)
        self._frozen = typing.cast("FrozenDateTimeFactory", self._freezer.start())
        self.follows_replays = self.fixed_instant is None

    def replaying(self, recorded_at: _dt.datetime) -> None:
        """Move the pinned clock to the instant a replayed interaction was recorded."""
        if self._frozen is not None and self.fixed_instant is None:
            self._frozen.move_to(recorded_at)

    def stop(self) -> None:
        """Give real time back."""
        freezer, self._freezer, self._frozen = self._freezer, None, None
        self.follows_replays = False
        if freezer is not None:
            freezer.stop()


def _parse(spec: str | _dt.datetime) -> _dt.datetime:
    instant = spec if isinstance(spec, _dt.datetime) else _dt.datetime.fromisoformat(spec)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=_dt.timezone.utc)
    return instant
