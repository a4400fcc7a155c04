"""Migrating from responses: a stubbed answer becomes a recorded one; the matchers stay."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from pooltest._demoserver import DemoServer


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


def main(folder: Path) -> None:
    with_responses()
    with DemoServer() as server:
        base = server.url
        with_pooltest(base, folder / "echo.yaml", "once")  # records the real answer
    with_pooltest(base, folder / "echo.yaml", "none")  # replays it offline


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()))
