"""The command line from Python: pooltest.cli.main(argv) returns the exit status."""

from __future__ import annotations

from pathlib import Path

from pooltest.cli import main as pooltest_main

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "docs"
CASSETTE = CASSETTES / "cli_demo.yaml"


def record() -> None:
    # `pooltest demo` starts its own loopback servers, records, then replays offline;
    # --cassette keeps what it recorded (scripts/record_cassettes.py runs this).
    assert pooltest_main(["demo", "--origins", "3", "--cassette", str(CASSETTE)]) == 0


def main() -> None:
    # Offline, on the committed file:
    assert pooltest_main(["show", str(CASSETTE)]) == 0
    assert pooltest_main(["show", str(CASSETTE), "--full", "0"]) == 0
    assert pooltest_main(["check", str(CASSETTE)]) == 0
    assert pooltest_main(["show", str(CASSETTES / "missing.yaml")]) == 1  # one error line


if __name__ == "__main__":
    main()
