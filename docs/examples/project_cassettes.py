"""Replaying the project's own cassettes (cassettes/ at the repository root), offline."""

from __future__ import annotations

from pathlib import Path

import pooltest
from pooltest.poolmanager import PoolEvent

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


def replay_lru() -> None:
    """Three origins through two pools: the first is evicted, then comes back as a new pool."""
    events: list[PoolEvent] = []
    path = CASSETTES / "pooltest_lru_pools.yaml"
    with pooltest.use_cassette(path, record_mode="none") as cassette:
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


def replay_vcrpy_file() -> None:
    """A file vcrpy 9 recorded through urllib3 replays in pooltest unchanged."""
    path = CASSETTES / "vcrpy_urllib3_get.yaml"
    with pooltest.use_cassette(path, record_mode="none"):
        r = pooltest.PoolManager().request("GET", "http://127.0.0.1:8701/json")
    assert r.json() == {"ok": True, "port": 8701}


def main() -> None:
    replay_lru()
    replay_vcrpy_file()


if __name__ == "__main__":
    main()
