"""Record once against the live service, then replay offline, with no server at all."""

from __future__ import annotations

from pathlib import Path

import pooltest

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "docs"
CASSETTE = CASSETTES / "record_replay.yaml"
SERVICE = "http://127.0.0.1:8701"  # the live service (the demo server, when recording)


def exercise() -> tuple[int, dict[str, object]]:
    """The code under test: it builds its own PoolManager, as real code does."""
    http = pooltest.PoolManager()
    r = http.request("GET", f"{SERVICE}/json")
    return r.status, r.json()


def record() -> None:
    """Run once with the service up: the file does not exist yet, so "once" records."""
    with pooltest.use_cassette(CASSETTE, record_mode="once") as cassette:
        assert exercise() == (200, {"ok": True, "port": 8701})
    cassette.assert_requested("GET", f"{SERVICE}/json", count=1)


def main() -> None:
    """What CI runs: record_mode="none" replays the committed file and never connects."""
    with pooltest.use_cassette(CASSETTE, record_mode="none") as cassette:
        assert exercise() == (200, {"ok": True, "port": 8701})
    assert cassette.all_played


if __name__ == "__main__":
    main()
