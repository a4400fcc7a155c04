"""Comparison 4: what recording costs on top of the live request, client CPU per request.

Each round sends ``n`` distinct GETs, new URLs every round (``/rec/<round><index>``), to the
benchmark server:

- live: a fresh pooltest PoolManager, no cassette;
- record: the same inside ``pooltest.use_cassette(new file, record_mode="once")``, so every
  request goes live and is kept; the timing includes leaving the block, which writes the YAML
  file (atomically, under its lock) — recording is not done until the cassette is saved. The
  note gives the saving's share (its median CPU time over rounds, per request);
- for reference, vcrpy 9 recording the same kind of traffic with urllib3 into a new cassette,
  against pooltest recording the same number of requests. vcrpy compares every new request with
  all it has recorded so far, so its per-request cost grows with the cassette; both sides record
  :data:`VCR_REQUESTS` requests per cassette there.

Every round uses a new cassette file, and the connection is opened anew in each round for all
contenders alike (a new PoolManager per round).
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable
from typing import Any

from _harness import Context, Row, Target, cpu_per_op, interleave, optional_import
from _server import body_for

__all__ = ["VCR_REQUESTS", "run"]

#: Requests per cassette in the reference comparison with vcrpy.
VCR_REQUESTS = 200


def run(ctx: Context) -> list[Row]:
    """Rows: pooltest record vs pooltest live; pooltest record vs vcrpy record (reference)."""
    count = ctx.pick(100, 1000)
    vcr_count = min(count, VCR_REQUESTS)
    names = itertools.count()
    (ctx.workdir / "record").mkdir(exist_ok=True)
    saving: list[float] = []
    contenders: dict[str, Callable[[], float]] = {
        "live": _round(ctx, count, names, _live),
        "record": _round(ctx, count, names, _Recorder(saving)),
    }
    ctx.log(f"recording overhead: {count:,} requests per round")
    medians = interleave(contenders, ctx.rounds)
    reference = {"pooltest": _round(ctx, vcr_count, names, _Recorder([]))}
    vcr = optional_import("vcr")
    if vcr is not None and optional_import("urllib3") is not None:
        reference["vcrpy"] = _round(ctx, vcr_count, names, _vcrpy_record)
    ctx.log(f"recording, vs vcrpy: {vcr_count:,} requests per cassette")
    versus = interleave(reference, ctx.rounds)
    return [
        Row(
            4,
            "record (incl. saving the file) vs live, client CPU per request",
            f"{count:,} req",
            medians["record"] * 1e6,
            "pooltest live",
            medians["live"] * 1e6,
            "µs",
            (Target("ratio", 1.3),),
            f"of which saving the file: {statistics.median(saving) / count * 1e6:,.0f} µs",
        ),
        Row(
            4,
            "record into a new cassette, client CPU per request",
            f"{vcr_count:,} req",
            versus["pooltest"] * 1e6,
            "vcrpy + urllib3 record",
            versus["vcrpy"] * 1e6 if "vcrpy" in versus else None,
            "µs",
            (),
            "reference only" if "vcrpy" in versus else "peer not installed",
        ),
    ]


Sender = Callable[[Context, list[str], str], bytes]


def _round(
    ctx: Context, count: int, names: itertools.count[int], send: Sender
) -> Callable[[], float]:
    """A round: ``send`` the round's ``count`` fresh URLs (new cassette path each round)."""

    def one_round() -> float:
        tag = next(names)
        paths = [f"/rec/{tag:04d}{index:06d}" for index in range(count)]
        cassette = str(ctx.workdir / "record" / f"round-{tag}.yaml")
        last: list[bytes] = []

        def batch() -> int:
            last.append(send(ctx, paths, cassette))
            return count

        result = cpu_per_op(batch)
        if last[-1] != body_for(paths[-1]):
            raise RuntimeError(f"{getattr(send, '__name__', send)}: wrong body {last[-1]!r}")
        return result

    return one_round


def _live(ctx: Context, paths: list[str], cassette: str) -> bytes:
    from pooltest.poolmanager import PoolManager

    http = PoolManager()
    for path in paths:
        data: bytes = http.request("GET", ctx.url(path)).data
    http.clear()
    return data


class _Recorder:
    """Sender: the requests inside ``use_cassette``; keeps the CPU seconds each save took."""

    def __init__(self, saving: list[float]) -> None:
        self.saving = saving

    def __call__(self, ctx: Context, paths: list[str], cassette: str) -> bytes:
        import pooltest

        recording = pooltest.use_cassette(cassette, record_mode="once")
        with recording:
            data = _live(ctx, paths, cassette)
            started = time.process_time()  # leaving the block saves the file
        self.saving.append(time.process_time() - started)
        return data


def _vcrpy_record(ctx: Context, paths: list[str], cassette: str) -> bytes:
    vcr: Any = optional_import("vcr")
    urllib3: Any = optional_import("urllib3")
    with vcr.VCR(record_mode="once").use_cassette(cassette):
        http = urllib3.PoolManager()
        for path in paths:
            data: bytes = http.request("GET", ctx.url(path)).data
        http.clear()
    return data
