"""Connection pools: one origin, reused keep-alive connections, maxsize and block."""

from __future__ import annotations

import pooltest
from pooltest._demoserver import DemoServer
from pooltest.exceptions import EmptyPoolError


def main() -> None:
    with DemoServer() as server:
        # A pool talks to one origin; a PoolManager keeps one of these per origin.
        with pooltest.HTTPConnectionPool("127.0.0.1", server.port, maxsize=2) as pool:
            for _ in range(3):
                assert pool.request("GET", "/json").status == 200
            # Three requests, one kept-alive connection.
            assert pool.num_requests == 3
            assert pool.num_connections == 1

        # connection_from_url builds the pool from a URL.
        pool = pooltest.connection_from_url(f"{server.url}/json", maxsize=1, block=True)
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
        pool.close()


if __name__ == "__main__":
    main()
