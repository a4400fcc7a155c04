"""Comparison 3: loading a cassette (parse and index) of 1,000 and 10,000 interactions.

- pooltest: ``Cassette(path, record_mode="none").load()`` reads the YAML (libyaml's safe loader
  when PyYAML has it), builds the interactions and their matching index;
- vcrpy: ``vcr.cassette.Cassette.load(path=..., record_mode="none")`` reads its own cassette of
  the same recorded traffic (libyaml too) into its request/response list.

Each contender loads its own format of the same traffic (recorded in this run, see
``_cassettes``); the note gives both files' sizes, since the formats differ (pooltest keeps the
request headers and a timestamp per interaction). The unit is CPU milliseconds per load.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from _cassettes import pooltest_cassette, vcrpy_cassette
from _harness import Context, Row, Target, cpu_per_op, interleave, optional_import

__all__ = ["SIZES", "run"]

#: Cassette sizes (interactions) per run size.
SIZES = {"tiny": (100, 200), "full": (1_000, 10_000)}


def run(ctx: Context) -> list[Row]:
    """One row per size: pooltest's load against vcrpy's."""
    return [_row(ctx, count) for count in SIZES[ctx.size]]


def _row(ctx: Context, count: int) -> Row:
    ours = pooltest_cassette(ctx, count)
    theirs = vcrpy_cassette(ctx, count)
    contenders: dict[str, Callable[[], float]] = {"pooltest": _pooltest_round(ours, count)}
    vcr_round = _vcrpy_round(theirs, count) if theirs is not None else None
    if vcr_round is not None:
        contenders["vcrpy"] = vcr_round
    ctx.log(f"cassette load at {count:,} interactions")
    medians = interleave(contenders, ctx.rounds)
    note = f"files: pooltest {_kib(ours)}"
    note += "; vcrpy not installed" if theirs is None else f", vcrpy {_kib(theirs)}"
    return Row(
        3,
        "cassette load (parse + index), CPU per load",
        f"{count:,} interactions",
        medians["pooltest"] * 1e3,
        "vcrpy Cassette.load",
        medians["vcrpy"] * 1e3 if "vcrpy" in medians else None,
        "ms",
        (Target("ratio", 0.5),),
        note,
    )


def _pooltest_round(path: Path, count: int) -> Callable[[], float]:
    from pooltest.cassette import Cassette

    def batch() -> int:
        cassette = Cassette(path, record_mode="none")
        cassette.load()
        if len(cassette.interactions) != count:
            raise RuntimeError(f"pooltest loaded {len(cassette.interactions)} of {count}")
        return 1

    return lambda: cpu_per_op(batch)


def _vcrpy_round(path: Path, count: int) -> Callable[[], float] | None:
    cassette_module = optional_import("vcr.cassette")
    if cassette_module is None:
        return None
    cassette_class = cassette_module.Cassette

    def batch() -> int:
        cassette = cassette_class.load(path=str(path), record_mode="none")
        if len(cassette.data) != count:
            raise RuntimeError(f"vcrpy loaded {len(cassette.data)} of {count}")
        return 1

    return lambda: cpu_per_op(batch)


def _kib(path: Path) -> str:
    return f"{path.stat().st_size / 1024:,.0f} KiB"
