"""Replaying the project's own cassettes (cassettes/ at the repository root), offline."""

from __future__ import annotations

from pathlib import Path

import pooltest
from pooltest.poolmanager import PoolEvent

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
LRU = CASSETTES / "pooltest_lru_pools.yaml"
GET_BY_POOLTEST = CASSETTES / "pooltest_get_json.yaml"
GET_BY_VCRPY = CASSETTES / "vcrpy_urllib3_get.yaml"
POST_BY_VCRPY = CASSETTES / "vcrpy_urllib3_post_json.yaml"


def replay_lru() -> None:
    """Three origins through two pools: the first is evicted, then comes back as a new pool."""
    events: list[PoolEvent] = []
    with pooltest.use_cassette(LRU, record_mode="none") as cassette:
        http = pooltest.PoolManager(num_pools=2)
        http.on_pool_event = events.append
        for port in (8701, 8702, 8703, 8701):
            assert http.request("GET", f"http://127.0.0.1:{port}/json").json()["port"] == port
        assert len(http.pools) == 2
    assert [(e.kind, e.pool.port) for e in events] == [
        ("created", 8701),
        ("created", 8702),
        ("created", 8703),
        ("evicted", 8701),  # the least recently used pool makes room
        ("created", 8701),
        ("evicted", 8702),
    ]
    assert cassette.all_played


def replay_both_recorders() -> None:
    """The same GET, recorded by pooltest and by vcrpy 9 through urllib3, replays alike."""
    for path in (GET_BY_POOLTEST, GET_BY_VCRPY):
        with pooltest.use_cassette(path, record_mode="none"):
            r = pooltest.PoolManager().request("GET", "http://127.0.0.1:8701/json")
        assert r.json() == {"ok": True, "port": 8701}

    # vcrpy stored the JSON body urllib3 sent; "body" matching compares it by value.
    with pooltest.use_cassette(POST_BY_VCRPY, record_mode="none") as cassette:
        r = pooltest.PoolManager().request("POST", "http://127.0.0.1:8701/echo", json={"n": 1})
    assert r.json()["method"] == "POST"
    assert cassette.all_played


def main() -> None:
    replay_lru()
    replay_both_recorders()


if __name__ == "__main__":
    main()
