"""Tests of the measuring instrument itself: server, medians, targets, table, runner.

Run with ``python -m pytest -q -p no:randomly benchmarks/test_harness.py``. They check what
the numbers are made of, never how fast anything is.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _harness import Row, Target, _number, interleave, render_table
from _server import BODY_SIZE, RECEIVED_HEADER, Server, body_for
from run import _numbers, parse_args

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with Server() as running:
        yield running


@pytest.mark.parametrize(
    ("path", "item"),
    [
        ("/item/000042", "000042"),
        ("/item/42", "000042"),
        ("/x/1234567?q=1", "123456"),
        ("/", "000000"),
    ],
)
def test_body_is_112_bytes_of_json_naming_the_item(path: str, item: str) -> None:
    body = body_for(path)
    assert len(body) == BODY_SIZE
    assert json.loads(body)["id"] == item


def test_server_keeps_the_connection_alive(server: Server) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        for index in range(3):
            connection.request("GET", f"/item/{index}")
            response = connection.getresponse()
            assert response.status == 200
            assert response.read() == body_for(f"/item/{index}")
            assert response.getheader("Connection") != "close"
        assert connection.sock is not None
    finally:
        connection.close()


@pytest.mark.parametrize("chunked", [False, True])
def test_server_discards_uploads_and_counts_them(server: Server, chunked: bool) -> None:
    payload = [b"a" * 70_000, b"b" * 5, b"c" * 100_000]
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        body = iter(payload) if chunked else b"".join(payload)
        connection.request("POST", "/upload", body=body, encode_chunked=chunked)
        response = connection.getresponse()
        response.read()
        assert response.getheader(RECEIVED_HEADER) == str(sum(map(len, payload)))
        connection.request("GET", "/item/7")  # the same connection still works
        assert connection.getresponse().read() == body_for("/item/7")
    finally:
        connection.close()


def test_interleave_rotates_the_order_and_takes_medians() -> None:
    calls: list[str] = []
    values = {"a": iter([5.0, 1.0, 3.0]), "b": iter([10.0, 30.0, 20.0])}

    def contender(name: str) -> float:
        calls.append(name)
        return next(values[name])

    medians = interleave({"a": lambda: contender("a"), "b": lambda: contender("b")}, 3)
    assert medians == {"a": 3.0, "b": 20.0}
    assert calls == ["a", "b", "b", "a", "a", "b"]


@pytest.mark.parametrize(
    ("target", "ours", "theirs", "expected"),
    [
        (Target("ratio", 0.8), 80.0, 100.0, "met"),
        (Target("ratio", 0.8), 81.0, 100.0, "**missed**"),
        (Target("value", 64.0, strict=True), 64.0, None, "**missed**"),
        (Target("value", 64.0, strict=True), 63.9, None, "met"),
        (Target("ratio", 0.5), 1.0, None, "-"),
        (Target("ratio", 0.5), None, 1.0, "-"),
    ],
)
def test_verdicts(target: Target, ours: float | None, theirs: float | None, expected: str) -> None:
    row = Row(1, "w", "s", ours, "peer", theirs, "µs", (target,))
    assert row.verdict() == expected


def test_each_target_has_its_result() -> None:
    targets = (Target("value", 20.0), Target("ratio", 0.002))
    assert Row(2, "w", "s", 19.0, "p", 10_000.0, "µs", targets).verdict() == "met"
    assert Row(2, "w", "s", 19.0, "p", 100.0, "µs", targets).verdict() == "met, **missed**"
    assert Row(2, "w", "s", 21.0, "p", 100_000.0, "µs", targets).verdict() == "**missed**, met"
    assert Row(2, "w", "s", 21.0, "p", 100.0, "µs", targets).verdict() == "**missed**, **missed**"


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.000123456, "0.000123"), (1.5, "1.50"), (73.06, "73.1"), (11_234.6, "11,235"), (0.0, "0.0")],
)
def test_numbers_keep_three_significant_digits(value: float, text: str) -> None:
    assert _number(value) == text


def test_table_has_machine_facts_targets_and_escaped_cells() -> None:
    rows = [
        Row(1, "live | GET", "200 req", 50.0, "urllib3", 100.0, "µs", (Target("ratio", 0.8),)),
        Row(6, "suite", "20 tests", None, "peer", 1.0, "s", (), "skipped: plugin not available"),
    ]
    table = render_table(rows, {"CPU": "test CPU"}, "title")
    assert "- **CPU**: test CPU" in table
    assert "| 1 | live \\| GET | 200 req | 50.0 µs | urllib3 | 100 µs | 0.50x | ≤ 0.8x | met |" in (
        table
    )
    assert "| n/a | peer | 1.00 s | n/a |  | - | skipped: plugin not available |" in table


def test_command_line() -> None:
    args = parse_args(["--size", "full", "--only", "3,1", "--rounds", "2"])
    assert (args.size, args.only, args.rounds, args.out) == ("full", [1, 3], 2, None)
    assert parse_args([]).only == [1, 2, 3, 4, 5, 6]
    with pytest.raises(Exception, match="choose from"):
        _numbers("1,9")


def test_runner_prints_the_table_and_writes_it(tmp_path: Path) -> None:
    out = tmp_path / "table.md"
    done = subprocess.run(
        [sys.executable, str(HERE / "run.py"), "--only", "1", "--rounds", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "| 1 | live GET, kept-alive, client CPU per request |" in done.stdout
    assert "bare http.client loop (floor)" in done.stdout
    assert out.read_text("utf-8") == done.stdout.rstrip("\n") + "\n"
