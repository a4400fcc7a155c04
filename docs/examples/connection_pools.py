"""Connection pools: one origin, reused keep-alive connections, maxsize and block."""

from __future__ import annotations

from pathlib import Path

import pooltest
from pooltest.exceptions import EmptyPoolError

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "docs"
CASSETTE = CASSETTES / "connection_pools.yaml"
SERVICE = "http://127.0.0.1:8701"


def use_pools(record_mode: str) -> None:
    """The walk-through, recorded live ("once") or replayed offline ("none")."""
    with pooltest.use_cassette(CASSETTE, record_mode=record_mode):
        # A pool talks to one origin; a PoolManager keeps one of these per origin.
        with pooltest.HTTPConnectionPool("127.0.0.1", 8701, maxsize=2) as pool:
            for _ in range(3):
                assert pool.request("GET", "/json").status == 200
            # Three requests, one kept-alive connection.
            assert pool.num_requests == 3
            assert pool.num_connections == 1

        # connection_from_url builds the pool from a URL.
        pool = pooltest.connection_from_url(f"{SERVICE}/json", maxsize=1, block=True)
        # With block=True, a request waits for a free connection (here: none, for 1 s).
        r = pool.urlopen("GET", "/json", preload_content=False)
        try:
            pool.urlopen("GET", "/json", pool_timeout=1)
        except EmptyPoolError:
            pass
        else:
            raise AssertionError("expected EmptyPoolError")
        r.read()
        r.release_conn()  # the connection goes back to the pool ...
        assert pool.urlopen("GET", "/json").status == 200  # ... and is reused
        assert pool.num_connections == 1
        pool.close()


def record() -> None:
    """Against the live origin (scripts/record_cassettes.py runs this)."""
    use_pools("once")


def main() -> None:
    """Offline, from cassettes/docs/connection_pools.yaml."""
    use_pools("none")


if __name__ == "__main__":
    main()
