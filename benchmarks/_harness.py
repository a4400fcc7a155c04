"""Shared benchmark machinery: clocks, interleaved rounds, medians, targets and the Markdown table.

How a number is made
====================
Each comparison times the same work once per round for pooltest and once for each peer, the
contenders taking turns inside a round (the order rotates from round to round), so slow drift of
the machine (another process, thermal state, page cache) lands on all of them alike. A round's
result is a cost per operation; the table shows the median over rounds, and the ratio of the
medians, pooltest / peer (below 1 means pooltest is cheaper).

Two clocks: :func:`time.process_time` for work done inside this process (the client's CPU time;
the loopback server lives in another process so it is not counted), and
:func:`time.perf_counter` for wall time of work done by subprocesses (pytest runs, uploads).

Targets come from the issue and are reported, never enforced: a row says ``met`` or
``missed``, and the harness's exit status only reflects errors (a benchmark that crashed or
got a wrong answer), so CI can run the tiny size as a smoke test without asserting on timings.
"""

from __future__ import annotations

import dataclasses
import gc
import importlib
import importlib.metadata
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

__all__ = [
    "Context",
    "Row",
    "Target",
    "cpu_per_op",
    "interleave",
    "machine_info",
    "optional_import",
    "render_table",
    "wall_per_op",
]

Size = Literal["tiny", "full"]
_T = TypeVar("_T")
Clock = Callable[[], float]

_PACKAGES = (
    "pooltest",
    "urllib3",
    "vcrpy",
    "requests",
    "responses",
    "pytest",
    "pytest-recording",
    "PyYAML",
)


# -- running --------------------------------------------------------------------------------


@dataclasses.dataclass
class Context:
    """What every comparison gets: the size, rounds, the server's origin, scratch space.

    ``cache`` lets comparisons share expensive setup within one run (the recorded cassettes).
    ``log`` writes a progress line to stderr; it never goes into the table.
    """

    size: Size
    rounds: int
    origin: str
    workdir: Path
    cache: dict[str, Any] = dataclasses.field(default_factory=dict)

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on the benchmark server."""
        return self.origin + path

    def pick(self, tiny: _T, full: _T) -> _T:
        """``tiny`` or ``full``, whichever this run's size asks for."""
        return tiny if self.size == "tiny" else full

    def scratch(self, name: str) -> Path:
        """A fresh empty directory under the run's work directory."""
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.workdir))

    @staticmethod
    def log(message: str) -> None:
        """One progress line on stderr."""
        print(f"  .. {message}", file=sys.stderr, flush=True)


def cpu_per_op(batch: Callable[[], int]) -> float:
    """Run ``batch`` once; return this process's CPU seconds per operation it reports doing.

    ``batch`` returns how many operations it did. A full garbage collection runs first, outside
    the measurement, so one contender does not pay for another's garbage.
    """
    return _per_op(time.process_time, batch)


def wall_per_op(batch: Callable[[], int]) -> float:
    """Like :func:`cpu_per_op` but wall-clock seconds (for work done in subprocesses)."""
    return _per_op(time.perf_counter, batch)


def _per_op(clock: Clock, batch: Callable[[], int]) -> float:
    gc.collect()
    start = clock()
    count = batch()
    elapsed = clock() - start
    if count <= 0:
        raise ValueError("a benchmark batch must report at least one operation")
    return elapsed / count


def interleave(contenders: Mapping[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """Run each contender once per round, taking turns; return each one's median result.

    A contender is a callable doing one round and returning its cost per operation. The
    starting contender rotates every round.
    """
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(max(1, rounds)):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(contenders[name]())
    return {name: statistics.median(values) for name, values in samples.items()}


def optional_import(name: str) -> types.ModuleType | None:
    """Import a peer, or return None when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


# -- results --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Target:
    """A goal from the issue: on the ratio (``kind="ratio"``) or on pooltest's own value.

    ``limit`` is in the row's unit for a value target. ``strict`` makes it ``<`` not ``<=``.
    """

    kind: Literal["ratio", "value"]
    limit: float
    strict: bool = False

    def met(self, row: Row) -> bool | None:
        """Whether ``row`` meets it; None when the row lacks the numbers to tell."""
        measured = row.ratio if self.kind == "ratio" else row.ours
        if measured is None:
            return None
        return measured < self.limit if self.strict else measured <= self.limit

    def describe(self, unit: str) -> str:
        """The target as the table shows it, e.g. ``<= 0.8x`` or ``< 64 MiB``."""
        sign = "<" if self.strict else "≤"
        if self.kind == "ratio":
            return f"{sign} {self.limit:g}x"
        return f"{sign} {self.limit:g} {unit}"


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the table: pooltest's median against one peer's, for one comparison.

    ``ours`` / ``theirs`` are medians in ``unit`` (None: not measured, ``note`` says why).
    """

    bench: int
    what: str
    size: str
    ours: float | None
    peer: str
    theirs: float | None
    unit: str
    targets: tuple[Target, ...] = ()
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """pooltest / peer, when both were measured."""
        if self.ours is None or self.theirs is None or self.theirs == 0:
            return None
        return self.ours / self.theirs

    def verdict(self) -> str:
        """``met`` when every target is met, else each target's result in the order the target
        column lists them (``missed`` alone for a single target); ``-`` when unknown."""
        results = [target.met(self) for target in self.targets]
        if not results or None in results:
            return "-"
        if all(results):
            return "met"
        return ", ".join("met" if result else "**missed**" for result in results)


def render_table(rows: Sequence[Row], info: Mapping[str, str], title: str) -> str:
    """The Markdown page: title, machine facts, then one table row per :class:`Row`."""
    lines = [f"# {title}", ""]
    lines += [f"- **{key}**: {value}" for key, value in info.items()]
    lines += [
        "",
        "Medians over rounds; ratio = pooltest / peer (below 1: pooltest cheaper). "
        "Targets are the issue's; they are reported, not enforced.",
        "",
        "| # | comparison | size | pooltest | peer | peer value | ratio | target | result "
        "| notes |",
        "|" + " --- |" * 10,
    ]
    for row in rows:
        target = ", ".join(t.describe(row.unit) for t in row.targets)
        cells = (
            str(row.bench),
            row.what,
            row.size,
            _value(row.ours, row.unit),
            row.peer,
            _value(row.theirs, row.unit),
            _ratio(row.ratio),
            target,
            row.verdict(),
            row.note,
        )
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def _value(value: float | None, unit: str) -> str:
    return "n/a" if value is None else f"{_number(value)} {unit}"


def _ratio(ratio: float | None) -> str:
    if ratio is None:
        return "n/a"
    if ratio < 0.1:
        return f"{_number(ratio)}x (1/{_number(1 / ratio)})"
    return f"{ratio:.2f}x"


def _number(value: float) -> str:
    """Three significant digits, thousands separated, no exponent."""
    if value == 0 or not math.isfinite(value):
        return str(value)
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    rounded = round(value, digits)
    return f"{rounded:,.{digits}f}" if digits else f"{round(rounded):,}"


# -- machine facts --------------------------------------------------------------------------


def machine_info(size: str, rounds: int) -> dict[str, str]:
    """What the numbers were measured on: CPU, cores, OS, Python, packages, source revision."""
    return {
        "CPU": f"{_cpu_model()}, {os.cpu_count()} logical cores",
        "OS": platform.platform(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": ", ".join(_versions(_PACKAGES)) + f"; libyaml {_libyaml()}",
        "pooltest source": _revision(),
        "run": f"size={size}, rounds={rounds}, {time.strftime('%Y-%m-%d %H:%M %Z')}",
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions(names: Iterable[str]) -> list[str]:
    found = []
    for name in names:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            version = _peer_path_version(name)
            found.append(f"{name} {version or 'not installed'}")
    return found


def _peer_path_version(name: str) -> str | None:
    """Version of a peer installed outside site-packages (see ``peer_path``)."""
    directory = peer_path()
    if directory is None:
        return None
    found = importlib.metadata.distributions(name=name, path=[str(directory)])
    for dist in found:
        return str(dist.version)
    return None


def peer_path() -> Path | None:
    """Where peers that may not share an environment with pooltest's plugin are installed.

    pytest-recording and pooltest's pytest plugin both define ``--record-mode``, so both
    cannot be auto-loaded by one pytest: pytest-recording is installed into a separate folder
    (``pip install --no-deps --target "$VIRTUAL_ENV/peers" pytest-recording``) and put on the
    path of the one pytest run that needs it. ``POOLTEST_BENCH_PEERS`` overrides the folder.
    """
    configured = os.environ.get("POOLTEST_BENCH_PEERS")
    directory = Path(configured) if configured else Path(sys.prefix) / "peers"
    return directory if directory.is_dir() else None


def _libyaml() -> str:
    yaml = optional_import("yaml")
    return "yes" if yaml is not None and getattr(yaml, "__with_libyaml__", False) else "no"


def _revision() -> str:
    here = Path(__file__).resolve().parent
    try:
        commit = _git(here, "rev-parse", "--short", "HEAD")
        dirty = _git(here, "diff", "--quiet", "HEAD", "--", check=False).returncode != 0
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit.stdout.strip()}{' + uncommitted changes' if dirty else ''}"


def _git(directory: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a read-only git command (optional locks off: it must not even refresh the index)."""
    return subprocess.run(
        ["git", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=10,
        check=check,
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
    )
