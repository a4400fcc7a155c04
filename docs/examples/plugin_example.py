"""A test module using the pytest plugin (the docs run it with --record-mode=once, then offline)."""

from __future__ import annotations

import os

import pytest

from pooltest import PoolEvent, PoolManager
from pooltest.cassette import Cassette
from pooltest.matchers import multipart_matcher

# The service's address (the docs' test sets DEMO_URL to a loopback demo server).
BASE = os.environ.get("DEMO_URL", "http://127.0.0.1:8000")


@pytest.mark.cassette("upload.yaml", match_on=["method", "uri", "body"])
def test_upload(
    pool_manager: PoolManager, cassette: Cassette, pool_events: list[PoolEvent]
) -> None:
    r = pool_manager.request(
        "POST",
        f"{BASE}/upload",
        fields={"doc": ("a.txt", b"hello", "text/plain"), "tag": "x"},
    )
    assert r.status == 200
    assert len(pool_manager.pools) == 1
    assert [e.kind for e in pool_events] == ["created"]
    cassette.assert_requested(
        "POST",
        f"{BASE}/upload",
        multipart_matcher({"doc": ("a.txt", b"hello", "text/plain")}, data={"tag": "x"}),
    )


def test_default_cassette(pool_manager: PoolManager) -> None:
    # No marker: the cassette is cassettes/<module>/test_default_cassette.yaml.
    assert pool_manager.request("GET", f"{BASE}/json").json()["ok"] is True
