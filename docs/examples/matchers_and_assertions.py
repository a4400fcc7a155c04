"""Matching: match_on, predicate matchers in the style of responses, and assert_requested."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pooltest
from pooltest._demoserver import DemoServer
from pooltest.cassette import UnmatchedRequestError
from pooltest.matchers import json_params_matcher, multipart_matcher, query_param_matcher


def main(folder: Path) -> None:
    path = folder / "matching.yaml"
    with DemoServer() as server:
        base = server.url
        with pooltest.use_cassette(path, match_on=["method", "uri", "body"]):
            http = pooltest.PoolManager()
            http.request("POST", f"{base}/echo", json={"id": 7, "tags": ["a", "b"]})

    with pooltest.use_cassette(path, record_mode="none", match_on=["method", "uri", "body"]) as c:
        http = pooltest.PoolManager()
        # "body" compares JSON by value: key order and spacing do not matter.
        http.request(
            "POST",
            f"{base}/echo",
            body=b'{"tags": ["a", "b"],   "id": 7}',
            headers={"Content-Type": "application/json"},
        )
        c.assert_requested(
            "POST", f"{base}/echo", json_params_matcher({"id": 7, "tags": ["a", "b"]})
        )

        # A request that matches no recording fails, saying what differed.
        try:
            http.request("POST", f"{base}/echo", json={"id": 8, "tags": ["a", "b"]})
        except UnmatchedRequestError as exc:
            error = exc
        else:
            raise AssertionError("expected UnmatchedRequestError")
        assert "json.id" in str(error)  # the explanation points at the JSON field

    # Matchers are plain callables: matcher(request) -> (matched, reason).
    ok, reason = query_param_matcher({"page": "2"})(c.requests[0])
    assert not ok
    assert "query['page']" in reason
    ok, _ = multipart_matcher({"doc": ("a.txt", b"hello", "text/plain")})(c.requests[0])
    assert not ok


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()))
