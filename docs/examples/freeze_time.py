"""Time freezing: during replay the wall clock reads the interaction's recorded_at."""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

import pooltest
from pooltest._demoserver import DemoServer


def main(folder: Path) -> None:
    path = folder / "clock.yaml"
    with DemoServer() as server:
        url = f"{server.url}/json"
        with pooltest.use_cassette(path) as cassette:
            pooltest.PoolManager().request("GET", url)
    recorded_at = cassette.interactions[0].recorded_at

    with pooltest.use_cassette(path, record_mode="none", freeze_time=True):
        pooltest.PoolManager().request("GET", url)
        now = dt.datetime.now(dt.timezone.utc)
    assert now == recorded_at

    # Or pin one fixed instant, for recording and replay alike.
    with pooltest.use_cassette(path, record_mode="none", freeze_time="2024-01-02T03:04:05+00:00"):
        assert dt.datetime.now(dt.timezone.utc).year == 2024


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()))
