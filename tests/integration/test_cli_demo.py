"""``pooltest demo``: records on loopback, replays offline, and says the two runs agree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pooltest.cassette._format import load
from pooltest.cli import main

pytestmark = [pytest.mark.network]


def test_demo_records_replays_and_keeps_the_cassette(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = tmp_path / "demo.yaml"
    assert main(["demo", "--origins", "4", "--cassette", str(kept)]) == 0
    out = capsys.readouterr().out
    assert "pool.num_requests=5, num_connections=1" in out
    assert "files={'doc': [('a.txt', 'text/plain', 5)]}" in out
    assert "len(pools)=3; evicted (least recently used): http://127.0.0.1:" in out
    assert "pools, evictions and encoded bodies are the same" in out
    assert out.rstrip().endswith("All checks hold.")
    interactions = load(kept)
    # 3 GET + 1 HEAD + 1 upload on the first origin, one GET on each of the 3 others.
    assert [i.request.method for i in interactions[:5]] == ["GET", "GET", "GET", "HEAD", "POST"]
    assert len(interactions) == 8
    assert interactions[4].request.files["doc"].data == b"hello"


def test_demo_rewrites_a_kept_cassette(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kept = tmp_path / "demo.yaml"
    assert main(["demo", "--origins", "2", "--cassette", str(kept)]) == 0
    first = load(kept)
    assert main(["demo", "--origins", "2", "--cassette", str(kept)]) == 0
    second = load(kept)
    assert len(first) == len(second) == 6
    assert first[0].request.uri != second[0].request.uri  # fresh ports, old file replaced
    capsys.readouterr()


def test_python_dash_m_pooltest_demo(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pooltest", "demo", "--origins", "3"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.rstrip().endswith("All checks hold.")
    assert list(tmp_path.iterdir()) == []  # the default cassette was temporary
