"""Migrating from responses: a stubbed answer becomes a recorded one; the matchers stay."""

from __future__ import annotations

from pathlib import Path

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "docs"
CASSETTE = CASSETTES / "migrate_responses.yaml"
SERVICE = "http://127.0.0.1:8701"


def with_responses() -> None:
    import requests
    import responses
    from responses import matchers

    with responses.RequestsMock() as mock:
        mock.post(
            "https://api.example.test/echo",
            json={"method": "POST"},
            match=[matchers.json_params_matcher({"name": "x"})],
        )
        r = requests.post("https://api.example.test/echo", json={"name": "x"}, timeout=5)
        assert r.json()["method"] == "POST"


def with_pooltest(base: str, path: Path, record_mode: str) -> None:
    import pooltest
    from pooltest.matchers import json_params_matcher

    with pooltest.use_cassette(path, record_mode=record_mode) as cassette:
        r = pooltest.PoolManager().request("POST", f"{base}/echo", json={"name": "x"})
        assert r.json()["method"] == "POST"
    cassette.assert_requested("POST", f"{base}/echo", json_params_matcher({"name": "x"}))


def record() -> None:
    # Once, against the real service: records its real answer.
    with_pooltest(SERVICE, CASSETTE, "once")


def main() -> None:
    with_responses()
    # Every later run, offline: replays the committed recording.
    with_pooltest(SERVICE, CASSETTE, "none")


if __name__ == "__main__":
    main()
