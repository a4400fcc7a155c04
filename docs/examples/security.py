"""Keeping secrets out of cassettes: default redaction, filters, and what the file holds."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pooltest
from pooltest.cassette import CassetteFormatError

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "docs"
CASSETTE = CASSETTES / "security.yaml"
URL = "http://127.0.0.1:8701/json?api_key=s3cr3t&account=acct-12345"
OPTIONS: dict[str, Any] = {
    "filter_query_parameters": ["api_key"],
    "filter_sensitive_data": {"<ACCOUNT>": "acct-12345"},
}


def record() -> None:
    """Against the live service (scripts/record_cassettes.py runs this)."""
    with pooltest.use_cassette(CASSETTE, record_mode="once", **OPTIONS):
        pooltest.PoolManager().request("GET", URL, headers={"Authorization": "Bearer tok"})


def main() -> None:
    """Offline: what the committed file holds, replaying it, and safe loading."""
    text = CASSETTE.read_text()
    # Authorization is redacted by default; the others by the filters above.
    for secret in ("Bearer tok", "s3cr3t", "acct-12345"):
        assert secret not in text
    assert "Authorization:\n      - <REDACTED>" in text
    assert "<ACCOUNT>" in text

    # Replay still matches: live requests are filtered the same way before matching.
    with pooltest.use_cassette(CASSETTE, record_mode="none", **OPTIONS):
        r = pooltest.PoolManager().request("GET", URL, headers={"Authorization": "Bearer tok"})
    assert r.status == 200

    # Loading is safe: a tag that would build a Python object is refused, naming the line.
    with tempfile.TemporaryDirectory() as folder:
        hostile = Path(folder) / "hostile.yaml"
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
    main()
