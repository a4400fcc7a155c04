"""The session-wide cassette factory: which cassette a test gets, with which options, and the
bookkeeping around using it.

Which options a test's cassette gets (highest first)
=====================================================
1. ``@pytest.mark.cassette(path, **options)``. Markers add up from the farthest (module) to the
   closest (function); a closer one overrides the keys it names (``path=None`` restores the
   default cassette).
2. The command line: ``--record-mode`` and ``--cassette-dir``.
3. The ``pooltest_config`` fixture (``use_cassette`` options plus ``cassette_dir``).
4. Built-in defaults: ``record_mode="none"``, cassettes beside the test file (see ``_paths``).

A relative marker path is relative to the test's cassette folder; a relative ``--cassette-dir``
to the directory pytest was invoked from; a relative ``cassette_dir`` in the config to the
rootdir.

``rewrite`` across tests and workers
====================================
A cassette shared by several tests (or xdist workers) must not be wiped by each of them. So the
first use of a file in a run deletes it and records afresh (the cassette runs in ``all`` mode,
which merges with what other workers save meanwhile); later uses of the same file in the same run
replay what this run recorded and record the rest (``new_episodes``), exactly as they will when
replayed. "First" is decided under a file lock in a per-run folder in the temp directory, so it
holds across xdist workers; the controller deletes that folder when the run ends.

Using a cassette
================
:meth:`CassetteFactory.use` enters the :class:`~pooltest.Cassette` (so every pooltest pool without
an explicit connection factory routes through it, from any thread), lifts ``--block-network``
while the cassette may record, and on exit saves it, counts what it did (see ``_summary``) and,
with ``--fail-on-unplayed``, fails the run if recorded interactions were left unplayed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shlex
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ._network import NetworkGuard
from ._paths import cassette_folder, default_cassette
from ._summary import CassetteUse, Totals

if TYPE_CHECKING:
    from pooltest.cassette import Cassette, Interaction

__all__ = ["REPLAY_MODES", "CassetteFactory", "Settings"]

#: Record modes that replay recorded interactions (and so can leave some unplayed).
REPLAY_MODES = ("none", "once", "new_episodes")
_CLAIM_TIMEOUT = 60.0

_Stat = tuple[int, int, int] | None


@dataclass(frozen=True)
class Settings:
    """What the command line and the run decided for every cassette."""

    record_mode: str | None
    cassette_root: Path | None
    fail_on_unplayed: bool
    rootdir: Path
    run_id: str


class CassetteFactory:
    """Opens each test's cassette (see the module docstring) and keeps the run's totals."""

    def __init__(self, settings: Settings, guard: NetworkGuard | None = None) -> None:
        self.settings = settings
        self.totals = Totals()
        self.guard = guard
        self.deselected = 0
        self._claims = Path(tempfile.gettempdir()) / f"pooltest-rewrite-{settings.run_id}"

    def resolve(
        self, item: pytest.Item, defaults: Mapping[str, Any]
    ) -> tuple[Path, dict[str, Any]]:
        """The cassette path and ``use_cassette`` options for ``item`` (module docstring)."""
        if not isinstance(defaults, Mapping):
            raise TypeError(f"pooltest_config must return a mapping, not {type(defaults).__name__}")
        options = dict(defaults)
        root = self._root(options.pop("cassette_dir", None))
        if self.settings.record_mode is not None:
            options["record_mode"] = self.settings.record_mode
        path = _apply_markers(item, options)
        options.setdefault("record_mode", "none")
        folder = cassette_folder(item.path, root, self.settings.rootdir)
        resolved = default_cassette(item, folder) if path is None else folder / path
        return resolved, options

    def _root(self, configured: str | os.PathLike[str] | None) -> Path | None:
        if self.settings.cassette_root is not None:
            return self.settings.cassette_root
        if configured is None:
            return None
        return self.settings.rootdir / configured

    @contextlib.contextmanager
    def use(self, item: pytest.Item, defaults: Mapping[str, Any]) -> Iterator[Cassette]:
        """Activate ``item``'s cassette for the block; save and count it afterwards."""
        cassette, before = self._build(item, defaults)
        failures_before = item.session.testsfailed
        with contextlib.ExitStack() as stack:
            _enter(stack, cassette, item)
            loaded = len(cassette.interactions)
            if self.guard is not None and _may_record(cassette.record_mode, before):
                stack.enter_context(self.guard.allowing())
            yield cassette
        passed = item.session.testsfailed == failures_before
        self._count(item, cassette, loaded, before, passed)

    def _build(self, item: pytest.Item, defaults: Mapping[str, Any]) -> tuple[Cassette, _Stat]:
        """``item``'s cassette, not yet active, and its file's state before the test."""
        from pooltest.cassette import Cassette

        try:
            path, options = self.resolve(item, defaults)
            if options["record_mode"] == "rewrite":
                options["record_mode"] = "all" if self._first_use(path) else "new_episodes"
            return Cassette(path, **options), _stat(path)
        except (TypeError, ValueError) as exc:  # a mistake in the marker or pooltest_config
            message = f"pooltest: bad cassette options for {item.nodeid}: {exc}"
            raise pytest.fail.Exception(message, pytrace=False) from None

    def _count(
        self, item: pytest.Item, cassette: Cassette, loaded: int, before: _Stat, passed: bool
    ) -> None:
        counts = cassette.play_counts
        ids = [_identity(interaction) for interaction in cassette.interactions]
        replaying = cassette.record_mode in REPLAY_MODES
        after = _stat(Path(cassette.path))
        self.totals.add(
            CassetteUse(
                nodeid=item.nodeid,
                path=cassette.path,
                played=sum(counts[:loaded]),
                recorded=len(counts) - loaded,
                written=after is not None and after != before,
                passed=passed,
                loaded_ids=frozenset(ids[:loaded]) if replaying else frozenset(),
                played_ids=frozenset(i for i, count in zip(ids, counts, strict=True) if count),
            )
        )

    def note_deselected(self, count: int) -> None:
        """Some tests were deselected (``-k``, ``-m``, ``--lf``...): they may own interactions."""
        self.deselected += count

    @property
    def unplayed_fails(self) -> bool:
        """Whether unplayed interactions fail this run (``--fail-on-unplayed``, full selection)."""
        return (
            self.settings.fail_on_unplayed and not self.deselected and bool(self.totals.unplayed())
        )

    def summary(self) -> list[tuple[str, bool]]:
        """The terminal summary lines (see ``_summary``)."""
        if not self.settings.fail_on_unplayed:
            verdict = "a warning; --fail-on-unplayed makes it a failure"
        elif self.deselected:
            verdict = "a warning only: deselected tests may play them"
        else:
            verdict = "failing the run: --fail-on-unplayed"
        return self.totals.lines(self.settings.rootdir, verdict)

    def _first_use(self, path: Path) -> bool:
        """Whether this is the run's first use of ``path`` in rewrite mode; if so, delete it."""
        import filelock

        self._claims.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(os.fsencode(path.resolve())).hexdigest()[:32]
        done = self._claims / name
        with filelock.FileLock(f"{done}.lock", timeout=_CLAIM_TIMEOUT):
            if done.exists():
                return False
            path.unlink(missing_ok=True)
            done.touch()
            return True

    def close(self, *, controller: bool) -> None:
        """End of run: lift the network block; the controller also drops the rewrite claims."""
        if self.guard is not None:
            self.guard.uninstall()
        if controller:
            shutil.rmtree(self._claims, ignore_errors=True)


def _apply_markers(item: pytest.Item, options: dict[str, Any]) -> str | os.PathLike[str] | None:
    """Update ``options`` from ``item``'s cassette markers, farthest first; return the path."""
    path = None
    for mark in reversed(list(item.iter_markers("cassette"))):
        if len(mark.args) > 1:
            raise TypeError("@pytest.mark.cassette takes one positional argument: the path")
        kwargs = dict(mark.kwargs)
        if mark.args or "path" in kwargs:
            path = kwargs.pop("path", mark.args[0] if mark.args else None)
        options.update(kwargs)
    return path


def _enter(stack: contextlib.ExitStack, cassette: Cassette, item: pytest.Item) -> None:
    """Activate ``cassette``; a cassette problem fails the test with the library's message."""
    from pooltest.cassette import CassetteError, CassetteNotFoundError

    try:
        stack.enter_context(cassette)
    except CassetteNotFoundError as exc:
        command = f"pytest --record-mode=once {shlex.quote(item.nodeid)}"
        raise pytest.fail.Exception(f"{exc}\nTo record it: {command}", pytrace=False) from None
    except CassetteError as exc:  # the library's message says it all: no traceback
        raise pytest.fail.Exception(str(exc), pytrace=False) from None


def _identity(interaction: Interaction) -> str:
    """What tells recorded interactions apart across tests and workers (``_summary``)."""
    request = interaction.request
    return f"{request.method} {request.uri} {interaction.recorded_at.isoformat()}"


def _may_record(record_mode: str, before: _Stat) -> bool:
    """Whether a cassette in ``record_mode`` may go live (``once`` only for a missing file)."""
    if record_mode == "once":
        return before is None
    return record_mode != "none"


def _stat(path: Path) -> _Stat:
    """What tells whether a file was (re)written: inode, size and modification time."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)
