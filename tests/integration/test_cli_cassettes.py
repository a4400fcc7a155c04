"""The project's own cassettes (``cassettes/``, re-recorded by ``scripts/record_cassettes.py``).

Every file must load with the safe loader and pass ``pooltest check``; a few are replayed
offline (``record_mode="none"``) to show the recordings, pooltest's and vcrpy's, still answer.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from pooltest.cassette import Cassette
from pooltest.cassette._format import load
from pooltest.cli import main
from pooltest.poolmanager import PoolEvent

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
FILES = sorted(CASSETTES.rglob("*.yaml"))
GZIP_PAYLOAD = json.dumps({"compressed": True, "items": list(range(20))}).encode()


def test_the_directory_holds_both_recorders() -> None:
    names = [path.name for path in FILES]
    assert any(name.startswith("pooltest_") for name in names)
    assert any(name.startswith("vcrpy_") for name in names)


@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_every_cassette_loads_and_passes_check(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    interactions = load(path)
    assert interactions
    assert all(i.request.host == "127.0.0.1" for i in interactions)
    assert main(["check", str(path)]) == 0
    assert capsys.readouterr().out == "1 cassette(s) checked: clean\n"


@pytest.mark.parametrize("name", ["pooltest_gzip.yaml", "vcrpy_urllib3_gzip.yaml"])
def test_gzip_recordings_replay_decoded(name: str) -> None:
    with (
        Cassette(CASSETTES / name, record_mode="none") as cassette,
        cassette.pool_manager() as http,
    ):
        answer = http.request("GET", "http://127.0.0.1:8704/data")
    assert answer.data == GZIP_PAYLOAD
    # pooltest stores the body as received; vcrpy 9 with urllib3 2 stored it decoded, and the
    # loader then drops the Content-Encoding that no longer describes it.
    stored = load(CASSETTES / name)[0].response
    if name.startswith("pooltest_"):
        assert answer.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(stored.body) == GZIP_PAYLOAD
    else:
        assert "Content-Encoding" not in answer.headers
        assert stored.body == GZIP_PAYLOAD


def test_the_lru_recording_replays_its_evictions() -> None:
    events: list[tuple[str, str]] = []

    def seen(event: PoolEvent) -> None:
        events.append((event.kind, event.origin))

    path = CASSETTES / "pooltest_lru_pools.yaml"
    with Cassette(path, record_mode="none") as cassette, cassette.pool_manager(2) as http:
        http.on_pool_event = seen
        for port in (8701, 8702, 8703, 8701):
            assert http.request("GET", f"http://127.0.0.1:{port}/json").json()["port"] == port
        assert cassette.all_played
    kinds = [kind for kind, _ in events]
    lru = ["created", "created", "created", "evicted", "created", "evicted"]
    assert kinds == [*lru, "cleared", "cleared"]  # closing the manager clears the last two
    assert events[3] == ("evicted", "http://127.0.0.1:8701")


def test_the_redirect_recording_is_followed_offline() -> None:
    path = CASSETTES / "pooltest_redirect.yaml"
    with Cassette(path, record_mode="none") as cassette, cassette.pool_manager() as http:
        answer = http.request("GET", "http://127.0.0.1:8701/redirect?to=http://127.0.0.1:8702/json")
    assert answer.status == 200
    assert answer.json() == {"ok": True, "port": 8702}
    assert answer.geturl() == "http://127.0.0.1:8702/json"


def test_the_upload_recording_matches_a_fresh_multipart_body() -> None:
    path = CASSETTES / "pooltest_multipart_upload.yaml"
    fields: dict[str, str | tuple[str, bytes, str]] = {
        "doc": ("report.txt", b"hello, cassette\n", "text/plain"),
        "tag": "demo",
    }
    with Cassette(path, record_mode="none") as cassette, cassette.pool_manager() as http:
        answer = http.request("POST", "http://127.0.0.1:8701/upload", fields=fields)
    assert answer.json() == {
        "files": {"doc": ["report.txt", "text/plain", 16]},
        "form": {"tag": ["demo"]},
    }
