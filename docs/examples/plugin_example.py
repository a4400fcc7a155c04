"""A test module using the pytest plugin (the docs' tests replay it from cassettes/docs/)."""

from __future__ import annotations

import pytest

from pooltest import PoolEvent, PoolManager
from pooltest.cassette import Cassette
from pooltest.matchers import multipart_matcher

# The service's address (recorded against the project's demo server).
BASE = "http://127.0.0.1:8701"


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
