"""The PoolManager guide: several origins, LRU eviction, per-pool counts, a multipart POST."""

from __future__ import annotations

from pathlib import Path

import pooltest

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "docs"
CASSETTE = CASSETTES / "poolmanager_guide.yaml"
A, B, C = "http://127.0.0.1:8701", "http://127.0.0.1:8702", "http://127.0.0.1:8703"


def walk(record_mode: str) -> None:
    """The guide, recorded live ("once") or replayed offline ("none")."""
    with pooltest.use_cassette(CASSETTE, record_mode=record_mode):
        # One pool per origin (scheme, host, port); at most num_pools are kept.
        http = pooltest.PoolManager(num_pools=2)
        http.request("GET", f"{A}/json")
        http.request("GET", f"{A}/json")
        # Both requests to A went through the same pool.
        assert http.connection_from_host("127.0.0.1", 8701).num_requests == 2

        http.request("GET", f"{B}/json")
        assert len(http.pools) == 2

        # A third origin evicts the least recently used pool (A's).
        http.request("GET", f"{C}/json")
        assert len(http.pools) == 2
        # Asking for A's pool again builds a fresh one, which has served nothing yet.
        assert http.connection_from_host("127.0.0.1", 8701).num_requests == 0

        # A multipart POST: a file tuple (filename, data, content type) and a plain field.
        r = http.request(
            "POST",
            f"{B}/upload",
            fields={"doc": ("a.txt", b"hello", "text/plain"), "tag": "x"},
        )
        assert r.status == 200
        assert r.json() == {"files": {"doc": ["a.txt", "text/plain", 5]}, "form": {"tag": ["x"]}}
        http.clear()


def record() -> None:
    """Against the three live origins (scripts/record_cassettes.py runs this)."""
    walk("once")


def main() -> None:
    """Offline, from cassettes/docs/poolmanager_guide.yaml."""
    walk("none")


if __name__ == "__main__":
    main()
