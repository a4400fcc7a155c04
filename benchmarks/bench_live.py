"""Comparison 1: a live GET on a kept-alive loopback connection, client CPU per request.

Three contenders send the same ``GET /item/000001`` to the benchmark server, one request after
another on one kept-alive connection, and read the 112-byte JSON body whole:

- pooltest: ``PoolManager.request("GET", url)``;
- urllib3 2.x: the same call on urllib3's PoolManager;
- the floor: a bare :class:`http.client.HTTPConnection` loop (``request``, ``getresponse``,
  ``read``), which does no pooling, URL parsing, header merging or retry bookkeeping.

A warm-up request opens each connection before timing; afterwards the pools are checked to
have used exactly one connection, so the numbers are keep-alive numbers.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable
from typing import Any

from _harness import Context, Row, Target, cpu_per_op, interleave, optional_import
from _server import BODY_SIZE, body_for

__all__ = ["run"]

_PATH = "/item/000001"


def run(ctx: Context) -> list[Row]:
    """Time the three contenders; rows: pooltest vs urllib3, pooltest vs http.client."""
    from pooltest.poolmanager import PoolManager

    count = ctx.pick(200, 3000)
    url = ctx.url(_PATH)
    contenders: dict[str, Callable[[], float]] = {}
    ours = PoolManager()
    contenders["pooltest"] = _pool_round(ours, url, count)
    urllib3 = optional_import("urllib3")
    theirs = urllib3.PoolManager() if urllib3 is not None else None
    if theirs is not None:
        contenders["urllib3"] = _pool_round(theirs, url, count)
    floor = http.client.HTTPConnection(*_host_port(ctx.origin), timeout=10)
    contenders["http.client"] = _floor_round(floor, count)
    ctx.log(f"live GET: {count:,} requests per round, {ctx.rounds} rounds")
    medians = {name: us * 1e6 for name, us in interleave(contenders, ctx.rounds).items()}
    _check_one_connection(ours, url)
    if theirs is not None:
        _check_one_connection(theirs, url)
    floor.close()
    what = "live GET, kept-alive, client CPU per request"
    size = f"{count:,} req"
    return [
        Row(
            1,
            what,
            size,
            medians["pooltest"],
            "urllib3 PoolManager",
            medians.get("urllib3"),
            "µs",
            (Target("ratio", 0.8),),
            "" if theirs is not None else "peer not installed",
        ),
        Row(
            1,
            what,
            size,
            medians["pooltest"],
            "bare http.client loop (floor)",
            medians["http.client"],
            "µs",
            (Target("ratio", 1.5),),
        ),
    ]


def _pool_round(manager: Any, url: str, count: int) -> Callable[[], float]:
    """One round for a PoolManager (pooltest's or urllib3's: same API)."""
    manager.request("GET", url)  # warm-up: open the connection outside the timing
    expected = body_for(_PATH)

    def batch() -> int:
        request = manager.request
        for _ in range(count):
            response = request("GET", url)
        if response.status != 200 or response.data != expected:
            raise RuntimeError(f"live GET answered {response.status}: {response.data[:60]!r}")
        return count

    return lambda: cpu_per_op(batch)


def _floor_round(connection: http.client.HTTPConnection, count: int) -> Callable[[], float]:
    """One round of the bare http.client loop on one connection."""
    connection.request("GET", _PATH)
    connection.getresponse().read()

    def batch() -> int:
        for _ in range(count):
            connection.request("GET", _PATH)
            data = connection.getresponse().read()
        if len(data) != BODY_SIZE:
            raise RuntimeError(f"http.client read {len(data)} bytes, not {BODY_SIZE}")
        return count

    return lambda: cpu_per_op(batch)


def _check_one_connection(manager: Any, url: str) -> None:
    made = manager.connection_from_url(url).num_connections
    if made != 1:
        raise RuntimeError(f"{type(manager).__module__}: {made} connections, expected 1")


def _host_port(origin: str) -> tuple[str, int]:
    host, port = origin.rsplit("//", 1)[1].rsplit(":", 1)
    return host, int(port)
