"""``pooltest demo``: the PoolManager's behaviour, shown on loopback servers.

The walk-through: one PoolManager talks to several origins (distinct loopback ports), reuses
kept-alive connections, evicts the least recently used pool when it holds ``num_pools``, and
sends a multipart upload whose fields and files the server parses back.
"""

from __future__ import annotations

import contextlib
import typing

from ._demoserver import DemoServer
from .poolmanager import PoolManager

__all__ = ["run_demo"]


def run_demo(origins: int = 11, out: typing.TextIO | None = None) -> int:
    """Run the walk-through, printing to ``out``; returns 0 when every check holds."""
    if origins < 2:
        raise ValueError("the demo needs at least 2 origins")

    def say(line: str = "") -> None:
        print(line, file=out)

    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(DemoServer()) for _ in range(origins)]
        num_pools = origins - 1
        http = stack.enter_context(PoolManager(num_pools=num_pools))
        say(f"Started {origins} loopback origins; PoolManager(num_pools={num_pools}).")
        first = servers[0]

        for _ in range(3):
            http.request("GET", f"{first.url}/json")
        http.request("HEAD", f"{first.url}/json")
        pool = http.connection_from_host("127.0.0.1", first.port)
        say(
            f"4 requests to {first.url}: pool.num_requests={pool.num_requests}, "
            f"num_connections={pool.num_connections} (one kept-alive socket)"
        )

        r = http.request(
            "POST",
            f"{first.url}/upload",
            fields={"doc": ("a.txt", b"hello", "text/plain"), "tag": "x"},
        )
        parsed = r.json()
        say(f"multipart POST -> server parsed form={parsed['form']} files={parsed['files']}")

        for server in servers[1:]:
            http.request("GET", f"{server.url}/json")
        keys = http.pools.keys()
        ports = [key.key_port for key in keys]
        evicted = first.port not in ports
        say(
            f"Visited {origins} origins: len(pools)={len(http.pools)}; the least recently "
            f"used ({first.url}) was evicted: {evicted}"
        )
        ok = (
            pool.num_requests == 5
            and pool.num_connections == 1
            and parsed["files"] == {"doc": ["a.txt", "text/plain", 5]}
            and len(http.pools) == num_pools
            and evicted
        )
        say("All checks hold." if ok else "Something differed from what the demo expects!")
        return 0 if ok else 1
