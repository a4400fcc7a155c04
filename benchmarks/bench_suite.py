"""Comparison 6: wall time of a generated pytest suite of cassette-backed tests, replaying.

Two throwaway projects with the same ``N`` tests (500 at full size, in modules of 50), each
test doing one GET of its own URL on the benchmark server and checking the JSON:

- pooltest: tests marked ``@pytest.mark.cassette`` using the plugin's ``pool_manager`` fixture;
- peer: tests marked ``@pytest.mark.vcr`` (pytest-recording + vcrpy) using a urllib3
  PoolManager from a conftest fixture, made and cleared per test as pooltest's is.

Each project first records its cassettes (``--record-mode=once``, one file per test), then the
timed runs replay them with ``--record-mode=none``: ``python -m pytest -q -p no:cacheprovider``
in a subprocess, wall time from start to exit, so interpreter and pytest start-up are included
on both sides. Plugin auto-loading is turned off in both runs and each loads only its own plugin
with ``-p``: pytest-recording and pooltest's plugin both define ``--record-mode``, so they cannot
be loaded together (see ``_harness.peer_path`` for where pytest-recording is installed).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from _harness import Context, Row, interleave, peer_path, wall_per_op

__all__ = ["run"]

_PER_MODULE = 50
_RUN_TIMEOUT = 600

_POOLTEST_TEST = """
@pytest.mark.cassette
def test_{index:06d}(pool_manager):
    response = pool_manager.request("GET", BASE + "{index:06d}")
    assert response.status == 200
    assert response.json()["id"] == "{index:06d}"
"""

_VCR_TEST = """
@pytest.mark.vcr
def test_{index:06d}(http):
    response = http.request("GET", BASE + "{index:06d}")
    assert response.status == 200
    assert response.json()["id"] == "{index:06d}"
"""

_VCR_CONFTEST = """import pytest
import urllib3


@pytest.fixture
def http():
    manager = urllib3.PoolManager()
    yield manager
    manager.clear()
"""


class _Suite:
    """One generated project: where it is, how to run it, and its plugin's name."""

    def __init__(self, root: Path, plugin: str, extra_path: Path | None) -> None:
        self.root = root
        self.plugin = plugin
        self.env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        if extra_path is not None:
            existing = os.environ.get("PYTHONPATH")
            joined = str(extra_path) + (os.pathsep + existing if existing else "")
            self.env["PYTHONPATH"] = joined

    def pytest(self, record_mode: str, expected: int) -> None:
        """Run the suite once; fail unless all ``expected`` tests passed."""
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        command += ["-p", self.plugin, f"--record-mode={record_mode}"]
        done = subprocess.run(
            command,
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=_RUN_TIMEOUT,
            check=False,
        )
        if done.returncode != 0 or f"{expected} passed" not in done.stdout:
            tail = (done.stdout + done.stderr)[-3000:]
            raise RuntimeError(f"{self.plugin} suite ({record_mode}) failed:\n{tail}")

    def cassettes(self) -> int:
        """How many cassette files the suite has recorded."""
        return sum(1 for _ in self.root.rglob("*.yaml"))


def run(ctx: Context) -> list[Row]:
    """Generate, record, then time replaying runs of both suites."""
    count: int = ctx.pick(20, 500)
    suites: dict[str, _Suite] = {}
    notes: list[str] = []
    if importlib.util.find_spec("pytest_pooltest") is not None:
        suites["pooltest"] = _generate(ctx, "pooltest", count)
    else:
        notes.append("skipped: plugin not available")
    recording = _pytest_recording()
    if recording is not False and importlib.util.find_spec("vcr") is not None:
        suites["vcrpy"] = _generate(ctx, "vcrpy", count, recording or None)
    else:
        notes.append("pytest-recording: peer not installed")
    contenders: dict[str, Callable[[], float]] = {}
    for name, suite in suites.items():
        ctx.log(f"suite: recording {count} cassettes with {suite.plugin}")
        suite.pytest("once", count)
        if suite.cassettes() != count:
            raise RuntimeError(f"{name} suite recorded {suite.cassettes()} of {count} cassettes")
        contenders[name] = _timed_run(suite, count)
    ctx.log(f"suite: {len(contenders)} replaying runs per round, {ctx.rounds} rounds")
    medians = interleave(contenders, ctx.rounds) if contenders else {}
    ours, theirs = medians.get("pooltest"), medians.get("vcrpy")
    if ours is not None:
        notes.append(f"pooltest {ours / count * 1e3:.1f} ms per test")
    if theirs is not None:
        notes.append(f"pytest-recording {theirs / count * 1e3:.1f} ms per test")
    return [
        Row(
            6,
            f"pytest suite of {count} cassette tests, --record-mode=none, wall per run",
            f"{count} tests",
            ours,
            "pytest-recording + vcrpy (urllib3)",
            theirs,
            "s",
            (),
            "; ".join(notes),
        )
    ]


def _timed_run(suite: _Suite, count: int) -> Callable[[], float]:
    def batch() -> int:
        suite.pytest("none", count)
        return 1

    return lambda: wall_per_op(batch)


def _pytest_recording() -> Path | bool:
    """True if pytest-recording is importable here, its folder if installed apart, else False."""
    if importlib.util.find_spec("pytest_recording") is not None:
        return True
    folder = peer_path()
    if folder is not None and (folder / "pytest_recording").is_dir():
        return folder
    return False


def _generate(ctx: Context, flavour: str, count: int, extra: Path | bool | None = None) -> _Suite:
    """Write a project of ``count`` tests in modules of 50 for ``flavour``."""
    root = ctx.scratch(f"suite-{flavour}")
    (root / "pytest.ini").write_text("[pytest]\n", "utf-8")
    base = ctx.url("/suite/")
    template = _POOLTEST_TEST if flavour == "pooltest" else _VCR_TEST
    if flavour != "pooltest":
        (root / "conftest.py").write_text(_VCR_CONFTEST, "utf-8")
    for first in range(0, count, _PER_MODULE):
        indices = range(first, min(count, first + _PER_MODULE))
        header = f"import pytest\n\nBASE = {base!r}\n"
        body = "\n".join(template.format(index=index) for index in indices)
        (root / f"test_items_{first // _PER_MODULE:03d}.py").write_text(header + body, "utf-8")
    plugin = "pytest_pooltest.plugin" if flavour == "pooltest" else "pytest_recording.plugin"
    return _Suite(root, plugin, extra if isinstance(extra, Path) else None)
