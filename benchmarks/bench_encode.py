"""Comparison 5: request encoding — multipart throughput, and memory of a large file upload.

Throughput: ``encode_multipart_formdata`` from pooltest and from urllib3 encode the same fields
(a small form: ten short text fields and a 4 KiB file; a large one: a 1 MiB file), with fresh
random boundaries as callers get by default. The unit is CPU time per encoded form, so a ratio
at or below 1 means pooltest's throughput is at least urllib3's.

Memory: a child process (this file run as a script, one per library) POSTs a sparse temp file
(1 GiB at full size, 32 MiB at tiny) as a multipart file field to the benchmark server, which
discards the body and says how many bytes it got. The child reports its peak resident set
(``VmHWM`` on Linux: unlike ``ru_maxrss`` it does not carry the parent's peak over ``exec``;
``ru_maxrss`` elsewhere) and its peak before it opened the file.
pooltest is given the open file object, which it streams; urllib3 only accepts the file's bytes
in a file tuple, so it gets ``f.read()`` and builds the whole body in memory.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _harness import Context, Row, Target, cpu_per_op, interleave, optional_import

__all__ = ["run"]

_MIB = 1024 * 1024
_UPLOAD_TIMEOUT = 600


def run(ctx: Context) -> list[Row]:
    """Rows: small and large form encoding vs urllib3; upload peak RSS vs urllib3."""
    return [*_encoding_rows(ctx), _upload_row(ctx)]


# -- throughput -----------------------------------------------------------------------------


def _forms() -> dict[str, tuple[dict[str, Any], int]]:
    """Workloads: name -> (fields, encodes per round at full size)."""
    small: dict[str, Any] = {f"field{i}": f"value number {i}" for i in range(10)}
    small["doc"] = ("notes.txt", b"n" * 4096, "text/plain")
    large = {"name": "blob", "file": ("blob.bin", os.urandom(_MIB), "application/octet-stream")}
    return {"10 fields + 4 KiB file": (small, 4000), "1 MiB file": (large, 200)}


def _encoding_rows(ctx: Context) -> list[Row]:
    from pooltest.filepost import encode_multipart_formdata as ours

    theirs_module = optional_import("urllib3.filepost")
    rows = []
    for name, (fields, full_count) in _forms().items():
        count = ctx.pick(max(1, full_count // 20), full_count)
        contenders = {"pooltest": _encode_round(ours, fields, count)}
        if theirs_module is not None:
            theirs = theirs_module.encode_multipart_formdata
            contenders["urllib3"] = _encode_round(theirs, fields, count)
        ctx.log(f"encode_multipart_formdata, {name}: {count:,} per round")
        medians = interleave(contenders, ctx.rounds)
        us = {key: value * 1e6 for key, value in medians.items()}
        size = len(ours(fields)[0])
        rows.append(
            Row(
                5,
                f"encode_multipart_formdata, {name}, CPU per form",
                f"{size / 1024:,.0f} KiB body",
                us["pooltest"],
                "urllib3 encode_multipart_formdata",
                us.get("urllib3"),
                "µs",
                (Target("ratio", 1.0),),
                _throughput(size, us),
            )
        )
    return rows


def _throughput(size: int, us: dict[str, float]) -> str:
    """The note: each contender's throughput in MB/s (bytes per µs)."""
    if "urllib3" not in us:
        return "peer not installed"
    return ", ".join(f"{name} {size / value:,.0f} MB/s" for name, value in us.items())


def _encode_round(
    encode: Callable[..., tuple[bytes, str]], fields: dict[str, Any], count: int
) -> Callable[[], float]:
    def batch() -> int:
        for _ in range(count):
            body, _content_type = encode(fields)
        if len(body) < 100:
            raise RuntimeError("encoded body is too short")
        return count

    return lambda: cpu_per_op(batch)


# -- upload memory --------------------------------------------------------------------------


def _upload_row(ctx: Context) -> Row:
    size = ctx.pick(32 * _MIB, 1024 * _MIB)
    path = ctx.workdir / "upload.bin"
    with open(path, "wb") as sparse:
        sparse.truncate(size)
    ctx.log(f"upload of a {size // _MIB:,} MiB file, one child per library")
    try:
        ours = _upload_in_child("pooltest", ctx.url("/upload"), path)
        theirs = None
        if optional_import("urllib3") is not None:
            theirs = _upload_in_child("urllib3", ctx.url("/upload"), path)
    finally:
        path.unlink()
    note = f"before upload: pooltest {ours['baseline_mib']:.0f} MiB"
    if theirs is None:
        note += "; urllib3 not installed"
    else:
        note += f", urllib3 {theirs['baseline_mib']:.0f} MiB"
        note += f"; wall {ours['seconds']:.2f} s vs {theirs['seconds']:.2f} s"
    return Row(
        5,
        "multipart upload of a file object, peak RSS of the client process",
        f"{size // _MIB:,} MiB file",
        ours["peak_mib"],
        "urllib3 (body built in memory)",
        None if theirs is None else theirs["peak_mib"],
        "MiB",
        (Target("value", 64.0, strict=True),),
        note,
    )


def _upload_in_child(library: str, url: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, library, url, str(path)],
        capture_output=True,
        text=True,
        timeout=_UPLOAD_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{library} upload child failed:\n{done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _peak_mib() -> float:
    """This process's peak resident set, in MiB.

    Linux keeps ``ru_maxrss`` across ``exec``, so a child forked from a big parent starts with
    the parent's peak; ``VmHWM`` in ``/proc/self/status`` is the peak of this program only, so
    it is used where it exists, ``ru_maxrss`` elsewhere.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def _child(library: str, url: str, path: str) -> None:
    """In the child: POST the file as a multipart field; print peak RSS and timing as JSON."""
    if library == "pooltest":
        from pooltest.poolmanager import PoolManager as Manager
    else:
        from urllib3 import PoolManager as Manager  # type: ignore[assignment]
    http = Manager()
    baseline = _peak_mib()
    size = os.path.getsize(path)
    start = time.perf_counter()
    with open(path, "rb") as upload:
        data: Any = upload if library == "pooltest" else upload.read()
        fields = {"file": ("big.bin", data, "application/octet-stream")}
        response = http.request("POST", url, fields=fields, timeout=_UPLOAD_TIMEOUT)
    seconds = time.perf_counter() - start
    received = int(response.headers.get("X-Received-Bytes", -1))
    if response.status != 200 or not size < received < size + 4096:
        raise SystemExit(f"upload: status {response.status}, server got {received} of {size}")
    report = {"peak_mib": _peak_mib(), "baseline_mib": baseline, "seconds": seconds}
    print(json.dumps(report))


if __name__ == "__main__":
    _child(*sys.argv[1:4])
