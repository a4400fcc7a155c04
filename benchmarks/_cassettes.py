"""Cassettes for the replay and load comparisons, recorded from real traffic in this run.

Interaction ``i`` of an ``n``-interaction cassette is ``GET /item/<i, 6 digits>`` on the
benchmark server, answered with that item's 112-byte JSON. pooltest records its cassette with
``pooltest.use_cassette`` and a PoolManager; vcrpy records its own with urllib3. Both are made
once per run and size, and shared through ``Context.cache``.

vcrpy compares each new request with every interaction already in the cassette, even when
recording, so recording ``n`` requests into one cassette costs O(n²). To keep a 10,000-request
cassette affordable, vcrpy records it in chunks of :data:`VCR_CHUNK` requests, each in its own
cassette, and the chunks are joined with vcrpy's own (de)serializer into one file: the result is
what vcrpy would have written for the whole sequence.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from _harness import Context, optional_import

__all__ = ["VCR_CHUNK", "item_path", "pooltest_cassette", "vcrpy_cassette"]

#: Requests vcrpy records per chunk cassette (see the module docstring).
VCR_CHUNK = 250


def item_path(index: int) -> str:
    """The request path of interaction ``index``."""
    return f"/item/{index:06d}"


def pooltest_cassette(ctx: Context, count: int) -> Path:
    """A pooltest cassette of ``count`` recorded GETs (made on first call, then cached)."""
    key = f"pooltest-cassette-{count}"
    if key not in ctx.cache:
        ctx.cache[key] = _record_pooltest(ctx, count)
    path: Path = ctx.cache[key]
    return path


def vcrpy_cassette(ctx: Context, count: int) -> Path | None:
    """vcrpy's cassette of the same ``count`` GETs, or None if vcrpy or urllib3 is missing."""
    key = f"vcrpy-cassette-{count}"
    if key not in ctx.cache:
        ctx.cache[key] = _record_vcrpy(ctx, count)
    path: Path | None = ctx.cache[key]
    return path


def _record_pooltest(ctx: Context, count: int) -> Path:
    import pooltest
    from pooltest.poolmanager import PoolManager

    ctx.log(f"recording a {count:,}-interaction pooltest cassette")
    path = ctx.scratch("pooltest-cassette") / f"items-{count}.yaml"
    with pooltest.use_cassette(path, record_mode="once") as cassette:
        http = PoolManager()
        for index in range(count):
            http.request("GET", ctx.url(item_path(index)))
        http.clear()
    if len(cassette.interactions) != count:
        raise RuntimeError(f"pooltest recorded {len(cassette.interactions)} of {count} requests")
    return path


def _record_vcrpy(ctx: Context, count: int) -> Path | None:
    vcr = optional_import("vcr")
    urllib3 = optional_import("urllib3")
    if vcr is None or urllib3 is None:
        return None
    serialize = importlib.import_module("vcr.serialize")
    yamlserializer = importlib.import_module("vcr.serializers.yamlserializer")

    ctx.log(f"recording a {count:,}-interaction vcrpy cassette (urllib3)")
    folder = ctx.scratch("vcrpy-cassette")
    requests: list[object] = []
    responses: list[object] = []
    for start in range(0, count, VCR_CHUNK):
        chunk = folder / f"chunk-{start}.yaml"
        with vcr.VCR(record_mode="once").use_cassette(str(chunk)):
            http = urllib3.PoolManager()
            for index in range(start, min(count, start + VCR_CHUNK)):
                http.request("GET", ctx.url(item_path(index)))
            http.clear()
        text = chunk.read_text("utf-8")
        chunk_requests, chunk_responses = serialize.deserialize(text, yamlserializer)
        requests += chunk_requests
        responses += chunk_responses
    if len(requests) != count:
        raise RuntimeError(f"vcrpy recorded {len(requests)} of {count} requests")
    path = folder / f"items-{count}.yaml"
    document = {"requests": requests, "responses": responses}
    path.write_text(serialize.serialize(document, yamlserializer), "utf-8")
    return path
