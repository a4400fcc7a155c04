"""Matching: match_on, predicate matchers in the style of responses, and assert_requested."""

from __future__ import annotations

from pathlib import Path

import pooltest
from pooltest.cassette import UnmatchedRequestError
from pooltest.matchers import json_params_matcher, multipart_matcher, query_param_matcher

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "docs"
CASSETTE = CASSETTES / "matchers_and_assertions.yaml"
ECHO = "http://127.0.0.1:8701/echo"
MATCH_ON = ["method", "uri", "body"]


def record() -> None:
    """Against the live service (scripts/record_cassettes.py runs this)."""
    with pooltest.use_cassette(CASSETTE, record_mode="once", match_on=MATCH_ON):
        pooltest.PoolManager().request("POST", ECHO, json={"id": 7, "tags": ["a", "b"]})


def main() -> None:
    """Offline, from cassettes/docs/matchers_and_assertions.yaml."""
    with pooltest.use_cassette(CASSETTE, record_mode="none", match_on=MATCH_ON) as c:
        http = pooltest.PoolManager()
        # "body" compares JSON by value: key order and spacing do not matter.
        http.request(
            "POST",
            ECHO,
            body=b'{"tags": ["a", "b"],   "id": 7}',
            headers={"Content-Type": "application/json"},
        )
        c.assert_requested("POST", ECHO, json_params_matcher({"id": 7, "tags": ["a", "b"]}))

        # A request that matches no recording fails, saying what differed.
        try:
            http.request("POST", ECHO, json={"id": 8, "tags": ["a", "b"]})
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
    main()
