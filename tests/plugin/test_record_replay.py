"""Record against a loopback server, stop it, replay offline: the workflow users meet first.

Each test writes an inner test module, runs it with ``--record-mode=once`` against a live
server, stops the server, and runs it again in the default ``none`` mode. The inner tests assert
the same things both times, so anything that differs between live and replay fails them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml
from conftest import Run, cassette_file, write_test
from support import KeepAliveServer, ServerFarm

UPLOAD_TEST = """
    import json

    import pytest
    from pooltest.matchers import multipart_matcher


    @pytest.mark.cassette("uploads.yaml", match_on=["method", "uri", "body"])
    def test_upload(pool_manager, cassette):
        r = pool_manager.request(
            "POST",
            "{{URL}}/upload",
            fields={"doc": ("a.txt", b"hello", "text/plain"), "tag": "x"},
        )
        assert r.status == 200
        assert json.loads(r.data)["form"] == {"tag": ["x"]}
        assert len(pool_manager.pools) == 1
        cassette.assert_requested(
            "POST",
            "{{URL}}/upload",
            multipart_matcher({"doc": ("a.txt", b"hello", "text/plain")}, data={"tag": "x"}),
        )
        sent = cassette.requests[0]
        assert sent.form["tag"] == "x"
        assert sent.files["doc"].filename == "a.txt"
        assert sent.files["doc"].data == b"hello"
"""


def test_record_then_replay_offline(
    pytester: pytest.Pytester, run: Run, http_server: KeepAliveServer
) -> None:
    write_test(pytester, UPLOAD_TEST, URL=http_server.url)

    recorded = run("--record-mode=once")
    recorded.assert_outcomes(passed=1)
    path = pytester.path / "cassettes" / "uploads.yaml"
    assert path.is_file()
    assert http_server.requests_served == 1

    http_server.stop()
    replayed = run()
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(["*cassettes: 1 used, 1 replayed, 0 recorded, 0 written*"])


def test_default_cassette_is_beside_the_test_file(
    pytester: pytest.Pytester, run: Run, http_server: KeepAliveServer
) -> None:
    write_test(
        pytester,
        """
        def test_get(pool_manager):
            assert pool_manager.request("GET", "{{URL}}/json").status == 200
        """,
        URL=http_server.url,
    )
    result = run("--record-mode=once")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*cassettes: 1 used, 0 replayed, 1 recorded, 1 written*"])
    path = cassette_file(pytester, "test_it", "test_get")
    interactions = yaml.safe_load(path.read_text())["interactions"]
    assert [i["request"]["uri"] for i in interactions] == [f"{http_server.url}/json"]


def test_none_mode_fails_clearly_on_a_missing_cassette(pytester: pytest.Pytester, run: Run) -> None:
    write_test(
        pytester,
        """
        def test_get(pool_manager):
            pool_manager.request("GET", "http://api.example.test/")
        """,
    )
    result = run()
    result.assert_outcomes(errors=1)
    missing = cassette_file(pytester, "test_it", "test_get")
    result.stdout.fnmatch_lines(
        [
            f"*Cassette not found: {missing}*--record-mode=once*",
            "To record it: pytest --record-mode=once test_it.py::test_get",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*During handling*")
    assert not missing.exists()


def test_none_mode_fails_clearly_on_an_unmatched_request_without_network(
    pytester: pytest.Pytester, run: Run, http_server: KeepAliveServer
) -> None:
    source = """
        def test_get(pool_manager):
            assert pool_manager.request("GET", "{{URL}}/{{PATH}}").status == 200
        """
    write_test(pytester, source, URL=http_server.url, PATH="json")
    run("--record-mode=once").assert_outcomes(passed=1)
    served = http_server.requests_served

    write_test(pytester, source, URL=http_server.url, PATH="echo")
    result = run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*UnmatchedRequestError*No recorded interaction matches GET*/echo*",
            "*--record-mode=new_episodes*",
        ]
    )
    assert http_server.requests_served == served


POOLS_TEST = """
    ORIGINS = {{ORIGINS}}


    def test_lru(make_pool_manager, pool_events, cassette):
        http = make_pool_manager(num_pools=2, on_pool_event=pool_events.append)
        for origin in [ORIGINS[0], ORIGINS[1], ORIGINS[0], ORIGINS[2], ORIGINS[0]]:
            assert http.request("GET", origin + "/json").status == 200
        http.request("POST", ORIGINS[0] + "/upload", json={"b": [1, 2], "a": "x"})

        assert len(http.pools) == 2
        ports = sorted(key.key_port for key in http.pools.keys())
        assert ports == sorted(int(o.rsplit(":", 1)[1]) for o in (ORIGINS[0], ORIGINS[2]))
        assert [e.origin for e in pool_events if e.kind == "created"] == ORIGINS
        assert [e.origin for e in pool_events if e.kind == "evicted"] == [ORIGINS[1]]
        first = http.connection_from_url(ORIGINS[0])
        assert (first.num_requests, first.num_connections) == (4, 1)
        assert cassette.requests[-1].json == {"a": "x", "b": [1, 2]}
        assert cassette.requests[-1].headers["Content-Type"] == "application/json"
        http.clear()
        assert [e.kind for e in pool_events[-2:]] == ["cleared", "cleared"]
"""


def test_pools_lru_and_bodies_are_the_same_on_replay(
    pytester: pytest.Pytester, run: Run, origins: Callable[..., ServerFarm]
) -> None:
    farm = origins(3)
    write_test(pytester, POOLS_TEST, ORIGINS=repr(farm.urls))
    run("--record-mode=once").assert_outcomes(passed=1)
    farm.stop()
    run().assert_outcomes(passed=1)
