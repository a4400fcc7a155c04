"""Run pooltest's benchmarks side by side with urllib3, vcrpy and responses; print a table.

``python benchmarks/run.py [--size tiny|full] [--only 1,3] [--rounds N] [--out FILE.md]``

The loopback server starts once, in its own process, and serves every comparison; scratch files
(cassettes, generated test projects, the upload file) live in a temporary folder removed at
the end. Each comparison is a module ``bench_*.py`` with ``run(ctx) -> list[Row]``. The table
goes to stdout (and to ``--out``); progress goes to stderr. The exit status is 1 only if a
comparison raised (a crash or a wrong answer, never a slow one), so CI can run ``--size tiny``
as a smoke test.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
import traceback
from pathlib import Path

from _harness import Context, Row, machine_info, render_table
from _server import Server

#: Comparison number -> module.
BENCHES = {
    1: "bench_live",
    2: "bench_replay",
    3: "bench_load",
    4: "bench_record",
    5: "bench_encode",
    6: "bench_suite",
}
_DEFAULT_ROUNDS = {"tiny": 3, "full": 5}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description="pooltest benchmarks, side by side with peers.")
    parser.add_argument("--size", choices=("tiny", "full"), default="tiny")
    parser.add_argument(
        "--only",
        type=_numbers,
        default=sorted(BENCHES),
        metavar="N,...",
        help="comparisons to run, e.g. 1,3 (default: all)",
    )
    parser.add_argument("--rounds", type=int, default=None, help="rounds per comparison")
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    return parser.parse_args(argv)


def _numbers(text: str) -> list[int]:
    chosen = sorted({int(part) for part in text.split(",") if part.strip()})
    unknown = [n for n in chosen if n not in BENCHES]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose from {sorted(BENCHES)}, got {text!r}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    """Run the chosen comparisons; print (and write) the table; 1 if any comparison failed."""
    args = parse_args(argv)
    rounds = args.rounds or _DEFAULT_ROUNDS[args.size]
    started = time.perf_counter()
    rows: list[Row] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pooltest-bench-") as scratch, Server() as server:
        ctx = Context(args.size, rounds, server.origin, Path(scratch))
        for number in args.only:
            name = BENCHES[number]
            print(f"[{number}] {name}", file=sys.stderr, flush=True)
            try:
                rows += importlib.import_module(name).run(ctx)
            except Exception:
                failed.append(name)
                traceback.print_exc()
                rows.append(_error_row(number, name, sys.exc_info()[1]))
    elapsed = time.perf_counter() - started
    info = machine_info(args.size, rounds)
    info["run"] += f", {elapsed:.0f} s"
    table = render_table(rows, info, "pooltest benchmarks")
    print(table)
    if args.out is not None:
        args.out.write_text(table, "utf-8")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _error_row(number: int, name: str, error: BaseException | None) -> Row:
    message = f"error: {type(error).__name__}: {error}".splitlines()[0][:200]
    return Row(number, name, "-", None, "-", None, "", (), message)


if __name__ == "__main__":
    sys.exit(main())
