"""The cassette format page's sample: a JSON POST to a small items API, recorded, replayed."""

from __future__ import annotations

from pathlib import Path

import pooltest
from pooltest.response import BaseHTTPResponse

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "docs"
CASSETTE = CASSETTES / "replay_sample.yaml"
ITEMS = "http://127.0.0.1:8704/items?page=1"


def create_item(token: str) -> BaseHTTPResponse:
    """The code under test: create an item, authenticated."""
    headers = {"Authorization": f"Bearer {token}"}
    return pooltest.PoolManager().request("POST", ITEMS, json={"name": "x"}, headers=headers)


def record() -> None:
    """Against the live API (scripts/record_cassettes.py runs this)."""
    with pooltest.use_cassette(CASSETTE, record_mode="once"):
        assert create_item("real-token").status == 201


def main() -> None:
    """Offline: the token is redacted before matching, so any token matches."""
    with pooltest.use_cassette(CASSETTE, record_mode="none") as cassette:
        r = create_item("anything")
    assert r.status == 201
    assert r.json() == {"id": 7, "name": "x"}
    assert cassette.all_played


if __name__ == "__main__":
    main()
