"""Migrating from vcrpy: the same recording, side by side; each replays the other's file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "docs"
BY_VCRPY = CASSETTES / "migrate_vcrpy.by_vcrpy.yaml"
BY_POOLTEST = CASSETTES / "migrate_vcrpy.by_pooltest.yaml"
SERVICE = "http://127.0.0.1:8701"


def with_vcrpy(path: Path, record_mode: str) -> Any:
    import urllib3
    import vcr  # type: ignore[import-untyped]

    with vcr.use_cassette(str(path), record_mode=record_mode, match_on=["method", "uri"]):
        http = urllib3.PoolManager()
        return http.request("GET", f"{SERVICE}/json").json()


def with_pooltest(path: Path, record_mode: str) -> Any:
    import pooltest

    with pooltest.use_cassette(path, record_mode=record_mode, match_on=["method", "uri"]):
        http = pooltest.PoolManager()
        return http.request("GET", f"{SERVICE}/json").json()


def record() -> None:
    # Once, against the real service: each library records its own file.
    assert with_vcrpy(BY_VCRPY, "once") == with_pooltest(BY_POOLTEST, "once")


def main() -> None:
    # Offline: each library replays the file the other wrote.
    answer = {"ok": True, "port": 8701}
    assert with_pooltest(BY_VCRPY, "none") == answer
    assert with_vcrpy(BY_POOLTEST, "none") == answer


if __name__ == "__main__":
    main()
