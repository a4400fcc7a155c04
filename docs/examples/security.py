"""Keeping secrets out of cassettes: default redaction, filters, and what the file holds."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import pooltest
from pooltest._demoserver import DemoServer
from pooltest.cassette import CassetteFormatError


def main(folder: Path) -> None:
    path = folder / "secrets.yaml"
    options: dict[str, Any] = {
        "filter_query_parameters": ["api_key"],
        "filter_sensitive_data": {"<ACCOUNT>": "acct-12345"},
    }
    with DemoServer() as server:
        url = f"{server.url}/json?api_key=s3cr3t&account=acct-12345"
        with pooltest.use_cassette(path, **options):
            pooltest.PoolManager().request("GET", url, headers={"Authorization": "Bearer tok"})

    text = path.read_text()
    # Authorization is redacted by default; the others by the filters above.
    for secret in ("Bearer tok", "s3cr3t", "acct-12345"):
        assert secret not in text
    assert "Authorization:\n      - <REDACTED>" in text
    assert "<ACCOUNT>" in text

    # Replay still matches: live requests are filtered the same way before matching.
    with pooltest.use_cassette(path, record_mode="none", **options):
        r = pooltest.PoolManager().request("GET", url, headers={"Authorization": "Bearer tok"})
    assert r.status == 200

    # Loading is safe: a tag that would build a Python object is refused, naming the line.
    hostile = folder / "hostile.yaml"
    hostile.write_text("interactions: !!python/object/apply:os.system ['true']\nversion: 1\n")
    try:
        with pooltest.use_cassette(hostile, record_mode="none"):
            pass
    except CassetteFormatError as exc:
        error = exc
    else:
        raise AssertionError("expected CassetteFormatError")
    assert "hostile.yaml" in str(error)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()))
