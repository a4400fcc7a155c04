"""Time freezing: during replay the wall clock reads the interaction's recorded_at."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pooltest

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "docs"
CASSETTE = CASSETTES / "freeze_time.yaml"
URL = "http://127.0.0.1:8701/json"


def record() -> None:
    """Against the live service (scripts/record_cassettes.py runs this)."""
    with pooltest.use_cassette(CASSETTE, record_mode="once"):
        pooltest.PoolManager().request("GET", URL)


def main() -> None:
    """Offline: the clock is pinned to when the committed interaction was recorded."""
    with pooltest.use_cassette(CASSETTE, record_mode="none", freeze_time=True) as cassette:
        pooltest.PoolManager().request("GET", URL)
        now = dt.datetime.now(dt.timezone.utc)
    assert now == cassette.interactions[0].recorded_at

    # Or pin one fixed instant, for recording and replay alike.
    with pooltest.use_cassette(
        CASSETTE, record_mode="none", freeze_time="2024-01-02T03:04:05+00:00"
    ):
        assert dt.datetime.now(dt.timezone.utc).year == 2024


if __name__ == "__main__":
    main()
