"""Migrating from vcrpy: the same recording, side by side; vcrpy's cassettes replay in pooltest."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from pooltest._demoserver import DemoServer


def with_vcrpy(base: str, path: Path) -> Any:
    import urllib3
    import vcr  # type: ignore[import-untyped]

    with vcr.use_cassette(str(path), record_mode="once", match_on=["method", "uri"]):
        http = urllib3.PoolManager()
        return http.request("GET", f"{base}/json").json()


def with_pooltest(base: str, path: Path) -> Any:
    import pooltest

    with pooltest.use_cassette(path, record_mode="once", match_on=["method", "uri"]):
        http = pooltest.PoolManager()
        return http.request("GET", f"{base}/json").json()


def main(folder: Path) -> None:
    with DemoServer() as server:
        base = server.url
        recorded = with_vcrpy(base, folder / "vcrpy.yaml")
        assert with_pooltest(base, folder / "pooltest.yaml") == recorded
    # The server is gone: each library replays the file the other wrote.
    assert with_pooltest(base, folder / "vcrpy.yaml") == recorded
    assert with_vcrpy(base, folder / "pooltest.yaml") == recorded


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()))
