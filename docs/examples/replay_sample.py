"""Replay the cassette format page's sample file, offline."""

from __future__ import annotations

from pathlib import Path

import pooltest

SAMPLE = Path(__file__).with_name("cassette_sample.yaml")


def main() -> None:
    with pooltest.use_cassette(SAMPLE, record_mode="none") as cassette:
        http = pooltest.PoolManager()
        r = http.request(
            "POST",
            "https://api.example.test/items?page=1",
            json={"name": "x"},
            headers={"Authorization": "Bearer anything"},  # redacted before matching
        )
    assert r.status == 201
    assert r.json() == {"id": 7, "name": "x"}
    assert cassette.all_played


if __name__ == "__main__":
    main()
