"""The end-of-run summary, unplayed interactions, and several xdist workers on one cassette."""

from __future__ import annotations

import pytest
import yaml
from conftest import QUIET, Run, write_test
from pytest_pooltest._summary import CassetteUse, Totals
from support import KeepAliveServer

TWO_REQUESTS = """
    import pytest


    @pytest.mark.cassette("pair.yaml")
    def test_pair(pool_manager):
        for path in {{PATHS}}:
            assert pool_manager.request("GET", "{{URL}}/" + path).status == 200


    def test_other():
        pass
"""


def _record_pair(pytester: pytest.Pytester, run: Run, server: KeepAliveServer) -> None:
    write_test(pytester, TWO_REQUESTS, URL=server.url, PATHS='["json", "echo"]')
    run("--record-mode=once").assert_outcomes(passed=2)
    server.stop()
    write_test(pytester, TWO_REQUESTS, URL=server.url, PATHS='["json"]')


def test_unplayed_interactions_are_a_warning_by_default(
    pytester: pytest.Pytester, run: Run, http_server: KeepAliveServer
) -> None:
    _record_pair(pytester, run, http_server)
    result = run()
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "*- pooltest cassettes -*",
            "cassettes: 1 used, 1 replayed, 0 recorded, 0 written",
            "interactions: 1 played, 0 recorded",
            "recorded interactions left unplayed (a warning; --fail-on-unplayed makes it a*",
            "  cassettes/pair.yaml: 1 of 2 never played (used by test_it.py::test_pair)",
        ]
    )


def test_fail_on_unplayed_fails_the_run_unless_tests_were_deselected(
    pytester: pytest.Pytester, run: Run, http_server: KeepAliveServer
) -> None:
    _record_pair(pytester, run, http_server)
    result = run("--fail-on-unplayed")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*left unplayed (failing the run: --fail-on-unplayed):"])

    result = run("--fail-on-unplayed", "-k", "pair")
    result.assert_outcomes(passed=1, deselected=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["*left unplayed (a warning only: deselected tests may play them):"]
    )


def test_failing_tests_and_runs_without_cassettes_report_nothing_unplayed(
    pytester: pytest.Pytester, run: Run, http_server: KeepAliveServer
) -> None:
    _record_pair(pytester, run, http_server)
    failing = """

    @pytest.mark.cassette("pair.yaml")
    def test_fail(cassette):
        assert False
    """
    write_test(pytester, TWO_REQUESTS + failing, URL=http_server.url, PATHS='["json"]')
    result = run()
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.no_fnmatch_line("*left unplayed*")  # a failing user of pair.yaml explains it

    quiet = run("-k", "other")
    quiet.assert_outcomes(passed=1, deselected=2)
    quiet.stdout.no_fnmatch_line("*pooltest cassettes*")


SHARED = """
    import pytest


    @pytest.mark.cassette("shared.yaml")
    @pytest.mark.parametrize("n", range(6))
    def test_shared(pool_manager, n):
        assert pool_manager.request("GET", "{{URL}}/echo?{{KEY}}=" + str(n)).status == 200
"""


def _queries(pytester: pytest.Pytester) -> list[str]:
    document = yaml.safe_load((pytester.path / "cassettes" / "shared.yaml").read_text())
    return sorted(i["request"]["uri"].rsplit("?", 1)[1] for i in document["interactions"])


def test_xdist_workers_record_into_one_cassette_and_replay_it(
    pytester: pytest.Pytester, http_server: KeepAliveServer
) -> None:
    write_test(pytester, SHARED, URL=http_server.url, KEY="n")
    args = (*QUIET, "-p", "no:cacheprovider", "-n", "2")
    recorded = pytester.runpytest_subprocess(*args, "-v", "--record-mode=new_episodes", timeout=120)
    recorded.assert_outcomes(passed=6)
    recorded.stdout.fnmatch_lines(["*[[]gw0[]]*PASSED*"])  # both workers recorded...
    recorded.stdout.fnmatch_lines(["*[[]gw1[]]*PASSED*"])
    recorded.stdout.fnmatch_lines(  # ...into the one file
        [
            "cassettes: 1 used, 0 replayed, 1 recorded, 1 written",
            "interactions: 0 played, 6 recorded",
        ]
    )
    assert _queries(pytester) == [f"n={n}" for n in range(6)]

    write_test(pytester, SHARED, URL=http_server.url, KEY="m")
    rewritten = pytester.runpytest_subprocess(*args, "--record-mode=rewrite", timeout=120)
    rewritten.assert_outcomes(passed=6)
    assert _queries(pytester) == [f"m={n}" for n in range(6)]  # deleted once, not per worker
    assert http_server.requests_served == 12

    http_server.stop()
    replayed = pytester.runpytest_subprocess(*args, "--fail-on-unplayed", timeout=120)
    replayed.assert_outcomes(passed=6)
    assert replayed.ret == pytest.ExitCode.OK  # every worker's plays count for the file
    replayed.stdout.fnmatch_lines(["interactions: 6 played, 0 recorded"])
    replayed.stdout.no_fnmatch_line("*left unplayed*")


def test_totals_travel_between_processes_as_plain_data() -> None:
    worker = Totals()
    worker.add(CassetteUse("t::a", "/c/x.yaml", 1, 0, False, True, frozenset("ab"), frozenset("a")))
    controller = Totals()
    controller.add(
        CassetteUse("t::b", "/c/x.yaml", 1, 1, True, True, frozenset("ab"), frozenset("bc"))
    )
    assert [u.unplayed for u in controller.unplayed()] == [1]
    controller.merge(yaml.safe_load(yaml.safe_dump(worker.to_data())))
    assert controller.unplayed() == []
    assert (controller.played_interactions, controller.recorded_interactions) == (2, 1)
    assert controller.files["/c/x.yaml"].tests == ["t::b", "t::a"]
