"""A test's cassette also serves the code under test, and pins the clock when asked.

The inner ``app`` module stands for application code: it builds its own PoolManagers (one at
import time, before any cassette exists, one per call in a thread it starts) and knows nothing
of pytest. Marking the test is enough for that traffic to be recorded and replayed.
"""

from __future__ import annotations

import pytest
from conftest import Run, write_test
from support import KeepAliveServer

APP = """
    import threading

    import pooltest

    SHARED = pooltest.PoolManager()


    def fetch_in_thread(url):
        box = {}

        def work():
            try:
                with pooltest.PoolManager() as http:
                    box["data"] = http.request("GET", url).data
            except Exception as exc:
                box["error"] = exc

        thread = threading.Thread(target=work)
        thread.start()
        thread.join(10)
        if "error" in box:
            raise box["error"]
        return box["data"]


    def status_of(url):
        return SHARED.request("GET", url).status
"""

ROUTED = """
    import json

    import pytest

    import app


    @pytest.mark.cassette
    def test_app_traffic_is_recorded_and_replayed():
        assert json.loads(app.fetch_in_thread("{{URL}}/{{PATH}}"))["ok"] is True
        assert app.status_of("{{URL}}/head-check") == 200
"""


def test_code_under_test_pool_managers_route_through_the_marked_cassette(
    pytester: pytest.Pytester, run: Run, http_server: KeepAliveServer
) -> None:
    pytester.makepyfile(app=APP)
    write_test(pytester, ROUTED, URL=http_server.url, PATH="json")
    recorded = run("--record-mode=once")
    recorded.assert_outcomes(passed=1)
    recorded.stdout.fnmatch_lines(["*interactions: 0 played, 2 recorded*"])
    assert http_server.requests_served == 2

    replayed = run()
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(["*interactions: 2 played, 0 recorded*"])
    assert http_server.requests_served == 2  # the server is up, yet nothing reached it

    write_test(pytester, ROUTED, URL=http_server.url, PATH="echo")
    unmatched = run()
    unmatched.assert_outcomes(failed=1)
    unmatched.stdout.fnmatch_lines(["*UnmatchedRequestError*GET*/echo*"])
    assert http_server.requests_served == 2  # none mode: an unrecorded request stays offline


CLOCK = """
    import datetime as dt

    import pytest

    INSTANT = dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc)


    @pytest.mark.cassette("clock.yaml", freeze_time={{FREEZE}})
    def test_clock(pool_manager, cassette):
        seen = []
        for path in ("json", "echo"):
            assert pool_manager.request("GET", "{{URL}}/" + path).status == 200
            seen.append(dt.datetime.now(dt.timezone.utc))
        recorded = [interaction.recorded_at for interaction in cassette.interactions]
        assert seen == {{EXPECTED}}
"""
FIXED = '"2021-03-04T05:06:07+00:00"'


def test_freeze_time_pins_a_fixed_instant_for_recording_then_each_recorded_instant(
    pytester: pytest.Pytester, run: Run, http_server: KeepAliveServer
) -> None:
    write_test(pytester, CLOCK, URL=http_server.url, FREEZE=FIXED, EXPECTED="[INSTANT] * 2")
    run("--record-mode=once").assert_outcomes(passed=1)
    http_server.stop()
    write_test(pytester, CLOCK, URL=http_server.url, FREEZE=True, EXPECTED="[INSTANT] * 2")
    run().assert_outcomes(passed=1)


def test_freeze_time_true_replays_each_real_recording_instant(
    pytester: pytest.Pytester, run: Run, http_server: KeepAliveServer
) -> None:
    write_test(pytester, CLOCK, URL=http_server.url, FREEZE=False, EXPECTED="seen")
    run("--record-mode=once").assert_outcomes(passed=1)
    http_server.stop()
    write_test(pytester, CLOCK, URL=http_server.url, FREEZE=True, EXPECTED="recorded")
    run().assert_outcomes(passed=1)
    write_test(pytester, CLOCK, URL=http_server.url, FREEZE=False, EXPECTED="recorded")
    run().assert_outcomes(failed=1)  # without freezing, the clock reads the present
