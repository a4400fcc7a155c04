"""The command line from Python: pooltest.cli.main(argv) returns the exit status."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from pooltest.cli import main as pooltest_main


def main(folder: Path) -> None:
    cassette = folder / "demo.yaml"
    assert pooltest_main(["demo", "--origins", "3", "--cassette", str(cassette)]) == 0
    assert cassette.exists()
    assert pooltest_main(["show", str(cassette)]) == 0
    assert pooltest_main(["show", str(cassette), "--full", "0"]) == 0
    assert pooltest_main(["show", str(folder / "missing.yaml")]) == 1


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()))
