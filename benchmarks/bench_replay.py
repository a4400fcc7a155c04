"""Comparison 2: replaying GETs from cassettes of growing size, CPU per replayed request.

For each cassette size (100, 1,000 and 10,000 interactions at full size) every contender gets
the same recorded traffic (see ``_cassettes``) and, per round, replays a fresh random sample of
distinct URLs spread over the whole cassette, so each request does real matching work:

- pooltest: ``use_cassette(path, record_mode="none")`` around a PoolManager, both made afresh
  each round outside the timing (as each test of a suite loads its cassette), so every request
  is new to the cassette; each goes through the PoolManager, its pool, the cassette connection
  and the response parser, as in a test;
- vcrpy 9 + urllib3: ``vcr.use_cassette`` with the same options around urllib3's PoolManager.
  vcrpy compares a request with the recordings one by one, so the peers get fewer requests per
  round at the larger sizes (same method, fewer samples);
- responses + requests: the same ``n`` URLs registered in memory, fetched with a requests
  Session; no file and no cassette, so this is the per-request floor of a mocking library
  (responses also scans its registry, so it grows with ``n`` too).

Loading the cassette happens before the timing (comparison 3 measures it). Every round checks
that the last replayed body is the one recorded for its URL.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Sequence

from _cassettes import item_path, pooltest_cassette, vcrpy_cassette
from _harness import Context, Row, Target, cpu_per_op, interleave, optional_import
from _server import body_for

__all__ = ["SIZES", "run"]

#: Cassette sizes (interactions) per run size: small, middle (the targets' "1,000"), large.
SIZES = {"tiny": (20, 100, 200), "full": (100, 1_000, 10_000)}
_WHAT = "replay GET via PoolManager, CPU per request"


def run(ctx: Context) -> list[Row]:
    """Replay at every size; rows per size against vcrpy and responses, then flatness."""
    sizes = SIZES[ctx.size]
    rows: list[Row] = []
    ours_by_size: dict[int, float] = {}
    for count in sizes:
        ours, vcr_us, responses_us, samples = _measure(ctx, count)
        ours_by_size[count] = ours
        middle = count == sizes[1]
        label = f"{count:,} interactions"
        timed = f"timed on {samples[1]:,} req/round (pooltest {samples[0]:,})"
        vcr_note = "peer not installed" if vcr_us is None else timed
        rows.append(
            Row(
                2,
                _WHAT,
                label,
                ours,
                "vcrpy + urllib3",
                vcr_us,
                "µs",
                (Target("value", 20.0), Target("ratio", 1 / 500)) if middle else (),
                vcr_note,
            )
        )
        rows.append(
            Row(
                2,
                _WHAT,
                label,
                ours,
                "responses + requests (in memory)",
                responses_us,
                "µs",
                (),
                "peer not installed"
                if responses_us is None
                else f"{count:,} URLs registered; {timed}",
            )
        )
    small, large = sizes[0], sizes[-1]
    rows.append(
        Row(
            2,
            "replay flatness: pooltest at the largest size vs the smallest",
            f"{large:,} vs {small:,}",
            ours_by_size[large],
            f"pooltest at {small:,}",
            ours_by_size[small],
            "µs",
            (Target("ratio", 1.5),),
        )
    )
    return rows


def _measure(ctx: Context, count: int) -> tuple[float, float | None, float | None, list[int]]:
    """Medians (µs) for pooltest, vcrpy, responses at one size; and requests per round."""
    per_round = ctx.pick(100, 1000)
    peer_per_round = min(per_round, ctx.pick(100, max(10, 100_000 // count)))
    seeds = random.Random(count)
    with contextlib.ExitStack() as stack:
        contenders = {"pooltest": _pooltest(ctx, count, per_round, seeds, stack)}
        vcr_round = _vcrpy(ctx, count, peer_per_round, seeds, stack)
        if vcr_round is not None:
            contenders["vcrpy"] = vcr_round
        responses_round = _responses(ctx, count, peer_per_round, seeds, stack)
        if responses_round is not None:
            contenders["responses"] = responses_round
        ctx.log(f"replay at {count:,}: pooltest {per_round}, peers {peer_per_round} req/round")
        medians = interleave(contenders, ctx.rounds)
    us = {name: value * 1e6 for name, value in medians.items()}
    return us["pooltest"], us.get("vcrpy"), us.get("responses"), [per_round, peer_per_round]


def _sample(seeds: random.Random, count: int, size: int) -> list[str]:
    """``size`` distinct recorded paths, in random order."""
    return [item_path(i) for i in seeds.sample(range(count), min(size, count))]


def _batch(
    fetcher: Callable[[], Callable[[str], bytes]], urls: Callable[[], Sequence[str]]
) -> Callable[[], float]:
    """A round: fetch each URL of a fresh sample; check the last body; CPU per request.

    ``fetcher()`` gives the round's fetch function, outside the timing: pooltest's makes a new
    cassette each round, so a cassette that remembers requests it has seen starts cold.
    """

    def one_round() -> float:
        chosen = urls()
        fetch = fetcher()

        def batch() -> int:
            for url in chosen:
                data = fetch(url)
            wanted = body_for(chosen[-1])
            if data != wanted:
                raise RuntimeError(f"replayed {data[:40]!r} for {chosen[-1]}, not {wanted!r}")
            return len(chosen)

        return cpu_per_op(batch)

    return one_round


def _pooltest(
    ctx: Context, count: int, per_round: int, seeds: random.Random, stack: contextlib.ExitStack
) -> Callable[[], float]:
    """Every round replays through a cassette loaded afresh (from pooltest's parse cache,
    outside the timing), so no request of the round has been seen by it before: pooltest's
    per-cassette memo of request keys (which makes repeats cheaper) does not flatter it."""
    import pooltest
    from pooltest.poolmanager import PoolManager

    path = pooltest_cassette(ctx, count)
    round_stack = stack.enter_context(contextlib.ExitStack())

    def fresh() -> Callable[[str], bytes]:
        round_stack.close()
        round_stack.enter_context(pooltest.use_cassette(path, record_mode="none"))
        http = round_stack.enter_context(PoolManager())
        http.connection_from_url(ctx.url("/"))  # the pool exists before timing

        def fetch(url: str) -> bytes:
            data: bytes = http.request("GET", url).data
            return data

        return fetch

    return _batch(fresh, _urls(ctx, seeds, count, per_round))


def _vcrpy(
    ctx: Context, count: int, per_round: int, seeds: random.Random, stack: contextlib.ExitStack
) -> Callable[[], float] | None:
    vcr = optional_import("vcr")
    urllib3 = optional_import("urllib3")
    path = vcrpy_cassette(ctx, count)
    if vcr is None or urllib3 is None or path is None:
        return None
    recorder = vcr.VCR(record_mode="none")
    stack.enter_context(recorder.use_cassette(str(path), allow_playback_repeats=True))
    http = stack.enter_context(urllib3.PoolManager())
    http.request("GET", ctx.url(item_path(0)))

    def fetch(url: str) -> bytes:
        data: bytes = http.request("GET", url).data
        return data

    return _batch(lambda: fetch, _urls(ctx, seeds, count, per_round))


def _responses(
    ctx: Context, count: int, per_round: int, seeds: random.Random, stack: contextlib.ExitStack
) -> Callable[[], float] | None:
    responses = optional_import("responses")
    requests = optional_import("requests")
    if responses is None or requests is None:
        return None
    mock = stack.enter_context(responses.RequestsMock(assert_all_requests_are_fired=False))
    for index in range(count):
        path = item_path(index)
        mock.add("GET", ctx.url(path), body=body_for(path), content_type="application/json")
    session = stack.enter_context(requests.Session())
    session.get(ctx.url(item_path(0)))

    def fetch(url: str) -> bytes:
        data: bytes = session.get(url).content
        return data

    return _batch(lambda: fetch, _urls(ctx, seeds, count, per_round))


def _urls(
    ctx: Context, seeds: random.Random, count: int, per_round: int
) -> Callable[[], list[str]]:
    """Each call: a fresh sample of absolute URLs (the sampling is outside the timing)."""

    def urls() -> list[str]:
        return [ctx.url(path) for path in _sample(seeds, count, per_round)]

    return urls
