"""Record once against a live server, then replay offline with the server gone."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pooltest
from pooltest._demoserver import DemoServer


def exercise(base: str) -> tuple[int, dict[str, object]]:
    """The code under test: it builds its own PoolManager, as real code does."""
    http = pooltest.PoolManager()
    r = http.request("GET", f"{base}/json")
    return r.status, r.json()


def main(folder: Path) -> None:
    path = folder / "example.yaml"
    with DemoServer() as server:
        base = server.url
        # First run: the file does not exist, so record_mode="once" records.
        with pooltest.use_cassette(path) as cassette:
            live = exercise(base)
        cassette.assert_requested("GET", f"{base}/json", count=1)

    # The server is stopped. record_mode="none" (what CI uses) replays, never connects.
    with pooltest.use_cassette(path, record_mode="none") as cassette:
        replayed = exercise(base)
    assert replayed == live
    assert cassette.all_played


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()))
