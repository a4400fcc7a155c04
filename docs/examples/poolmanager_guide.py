"""The PoolManager guide: several origins, LRU eviction, per-pool counts, a multipart POST."""

from __future__ import annotations

from contextlib import ExitStack

import pooltest
from pooltest._demoserver import DemoServer


def main() -> None:
    with ExitStack() as stack:
        servers = [stack.enter_context(DemoServer()) for _ in range(3)]
        a, b, c = servers

        # One pool per origin (scheme, host, port); at most num_pools are kept.
        http = pooltest.PoolManager(num_pools=2)
        http.request("GET", f"{a.url}/json")
        http.request("GET", f"{a.url}/json")
        # Both requests to `a` went through the same pool.
        assert http.connection_from_host("127.0.0.1", a.port).num_requests == 2

        http.request("GET", f"{b.url}/json")
        assert len(http.pools) == 2

        # A third origin evicts the least recently used pool (a's).
        http.request("GET", f"{c.url}/json")
        assert len(http.pools) == 2
        # Asking for a's pool again builds a fresh one, which has served nothing yet.
        assert http.connection_from_host("127.0.0.1", a.port).num_requests == 0

        # A multipart POST: a file tuple (filename, data, content type) and a plain field.
        r = http.request(
            "POST",
            f"{b.url}/upload",
            fields={"doc": ("a.txt", b"hello", "text/plain"), "tag": "x"},
        )
        assert r.status == 200
        assert r.json() == {"files": {"doc": ["a.txt", "text/plain", 5]}, "form": {"tag": ["x"]}}
        http.clear()


if __name__ == "__main__":
    main()
