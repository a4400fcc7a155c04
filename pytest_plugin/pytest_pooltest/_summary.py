"""The run's cassette totals: collected per test, merged across xdist workers, summarised.

Cassettes are counted as files (a cassette shared by several tests counts once): *used*,
*replayed* (at least one recorded interaction answered a request), *recorded* (at least one new
interaction was recorded) and *written* (the file changed on disk). Interactions are counted per
use: *played* (replays, repeats included) and *recorded*.

Unplayed interactions are judged per file, not per test, because several tests may share a
cassette and each plays only its own part: an interaction loaded by a test in a replaying record
mode (``none``, ``once``, ``new_episodes``) is *unplayed* if no test of the run played it.
Interactions are told apart by method, URI and recording instant (to the microsecond), which
also holds when xdist workers saw the file at different sizes. A file is reported only if every
test that used it passed (a failing test explains its own leftovers).

A worker's totals travel to the controller as :meth:`Totals.to_data` (plain JSON-able data) in
xdist's ``workeroutput``, and are folded in with :meth:`Totals.merge`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CassetteUse", "FileUse", "Totals", "Unplayed"]


@dataclass(frozen=True)
class CassetteUse:
    """What one test did with its cassette (interaction ids as in the module docstring)."""

    nodeid: str
    path: str
    played: int
    recorded: int
    written: bool
    passed: bool
    loaded_ids: frozenset[str] = frozenset()
    played_ids: frozenset[str] = frozenset()


@dataclass
class FileUse:
    """Every test's use of one cassette file, for judging unplayed interactions."""

    tests: list[str] = field(default_factory=list)
    loaded: set[str] = field(default_factory=set)
    played: set[str] = field(default_factory=set)
    clean: bool = True

    def add(
        self, tests: Iterable[str], loaded: Iterable[str], played: Iterable[str], clean: bool
    ) -> None:
        """Fold in another use (or another worker's uses) of the file."""
        self.tests.extend(tests)
        self.loaded.update(loaded)
        self.played.update(played)
        self.clean = self.clean and clean


@dataclass(frozen=True, order=True)
class Unplayed:
    """A cassette file with recorded interactions that no test of the run played."""

    path: str
    unplayed: int
    loaded: int
    tests: tuple[str, ...]


@dataclass
class Totals:
    """Cassette files and interaction counts for the whole run (see the module docstring)."""

    files: dict[str, FileUse] = field(default_factory=dict)
    replayed: set[str] = field(default_factory=set)
    recorded: set[str] = field(default_factory=set)
    written: set[str] = field(default_factory=set)
    played_interactions: int = 0
    recorded_interactions: int = 0

    def add(self, use: CassetteUse) -> None:
        """Count one test's use of a cassette."""
        file = self.files.setdefault(use.path, FileUse())
        file.add([use.nodeid], use.loaded_ids, use.played_ids, use.passed)
        if use.played:
            self.replayed.add(use.path)
        if use.recorded:
            self.recorded.add(use.path)
        if use.written:
            self.written.add(use.path)
        self.played_interactions += use.played
        self.recorded_interactions += use.recorded

    def unplayed(self) -> list[Unplayed]:
        """Files whose users all passed yet left recorded interactions unplayed, by path."""
        found = []
        for path, file in self.files.items():
            missing = file.loaded - file.played
            if missing and file.clean:
                tests = tuple(sorted(set(file.tests)))
                found.append(Unplayed(path, len(missing), len(file.loaded), tests))
        return sorted(found)

    def to_data(self) -> dict[str, Any]:
        """These totals as JSON-able data, for :meth:`merge` in another process."""
        return {
            "files": {
                path: [file.tests, sorted(file.loaded), sorted(file.played), file.clean]
                for path, file in self.files.items()
            },
            "replayed": sorted(self.replayed),
            "recorded": sorted(self.recorded),
            "written": sorted(self.written),
            "played_interactions": self.played_interactions,
            "recorded_interactions": self.recorded_interactions,
        }

    def merge(self, data: Mapping[str, Any]) -> None:
        """Add totals produced by :meth:`to_data` (an xdist worker's)."""
        for path, (tests, loaded, played, clean) in data["files"].items():
            self.files.setdefault(path, FileUse()).add(tests, loaded, played, bool(clean))
        self.replayed.update(data["replayed"])
        self.recorded.update(data["recorded"])
        self.written.update(data["written"])
        self.played_interactions += int(data["played_interactions"])
        self.recorded_interactions += int(data["recorded_interactions"])

    def lines(self, rootdir: Path, verdict: str) -> list[tuple[str, bool]]:
        """The summary as ``(text, is_warning)`` lines; empty when no cassette was used.

        ``verdict`` says what unplayed interactions mean for this run (a warning or a failure).
        """
        if not self.files:
            return []
        lines = [
            (
                f"cassettes: {len(self.files)} used, {len(self.replayed)} replayed, "
                f"{len(self.recorded)} recorded, {len(self.written)} written",
                False,
            ),
            (
                f"interactions: {self.played_interactions} played, "
                f"{self.recorded_interactions} recorded",
                False,
            ),
        ]
        unplayed = self.unplayed()
        if unplayed:
            lines.append((f"recorded interactions left unplayed ({verdict}):", True))
            lines.extend((_unplayed_line(entry, rootdir), True) for entry in unplayed)
        return lines


def _unplayed_line(entry: Unplayed, rootdir: Path) -> str:
    shown = _relative(entry.path, rootdir)
    tests = ", ".join(entry.tests)
    return f"  {shown}: {entry.unplayed} of {entry.loaded} never played (used by {tests})"


def _relative(path: str, rootdir: Path) -> str:
    try:
        return os.path.relpath(path, rootdir)
    except ValueError:  # another drive (Windows)
        return path
