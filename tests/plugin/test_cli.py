"""The plugin as pytest sees it: entry point, inertness, options, -k, --lf, -p no:pooltest."""

from __future__ import annotations

import pytest
from conftest import QUIET, Run, cassette_file, write_test
from pytest_pooltest import plugin
from support import KeepAliveServer

import pooltest.cassette

FIXTURES = (
    "cassette",
    "make_pool_manager",
    "pool_events",
    "pool_manager",
    "pooltest_cassettes",
    "pooltest_config",
)


def test_the_entry_point_loads_an_inert_plugin(pytester: pytest.Pytester) -> None:
    write_test(
        pytester,
        """
        import socket
        import sys


        def test_plain(request):
            assert request.fixturenames == ["request"]  # no autouse fixture
            assert "pooltest" not in sys.modules  # nothing imported until a test asks
            assert "connect" not in vars(socket.socket)  # nothing patched without an option


        def test_registered(pytestconfig):
            registered = pytestconfig.pluginmanager.get_plugin("pooltest")
            assert registered.__name__ == "pytest_pooltest.plugin"
        """,
    )
    result = pytester.runpytest_subprocess(*QUIET, "-p", "no:cacheprovider", timeout=60)
    result.assert_outcomes(passed=2)
    result.stdout.no_fnmatch_line("*pooltest cassettes*")


def test_p_no_pooltest_turns_everything_off(pytester: pytest.Pytester, run: Run) -> None:
    write_test(pytester, "def test_get(pool_manager):\n    pass\n")
    result = run("-p", "no:pooltest")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'pool_manager' not found*"])
    assert run("-p", "no:pooltest", "--record-mode=once").ret == pytest.ExitCode.USAGE_ERROR


def test_every_fixture_has_a_one_line_description(pytester: pytest.Pytester, run: Run) -> None:
    lines = run("--fixtures").stdout.lines
    for name in FIXTURES:
        (index,) = [i for i, line in enumerate(lines) if line.split(" ", 1)[0] == name]
        assert " -- " in lines[index]
        description, after = lines[index + 1], lines[index + 2]
        assert description.startswith("    ")
        assert len(description.strip()) > 20
        assert not after.startswith("    ")


def test_record_modes_are_the_librarys() -> None:
    assert plugin.RECORD_MODES == pooltest.cassette.RECORD_MODES


SELECTION = """
    import pytest


    @pytest.mark.cassette
    def test_a(pool_manager):
        assert pool_manager.request("GET", "{{URL}}/json").status == 200


    @pytest.mark.cassette
    def test_b(pool_manager):
        assert pool_manager.request("GET", "{{URL}}/echo").status == 200
"""


def test_k_and_lf_select_which_cassettes_are_recorded(
    pytester: pytest.Pytester, run: Run, http_server: KeepAliveServer
) -> None:
    write_test(pytester, SELECTION, URL=http_server.url)
    first, second = (cassette_file(pytester, "test_it", name) for name in ("test_a", "test_b"))

    run("-k", "test_a", "--record-mode=once").assert_outcomes(passed=1, deselected=1)
    assert first.is_file()
    assert not second.exists()

    run(cache=True).assert_outcomes(passed=1, errors=1)  # test_b has no cassette yet
    rerun = run("--lf", "--record-mode=once", cache=True)
    rerun.assert_outcomes(passed=1)
    rerun.stdout.fnmatch_lines(["run-last-failure: rerun previous 1 failure*"])
    assert second.is_file()

    http_server.stop()
    run().assert_outcomes(passed=2)


FAKE_RECORDING = """
    def pytest_addoption(parser):
        group = parser.getgroup("recording")
        group.addoption("--record-mode", default="none", choices=("none", "once", "all"))
        group.addoption("--block-network", action="store_true", default=False)
        group.addoption("--allowed-hosts", default=None)
"""


@pytest.mark.parametrize(
    ("args", "mode"),
    [
        ((), "none"),
        (("--record-mode=once",), "once"),
        (("--record-mode=once", "--pooltest-record-mode=all"), "all"),
    ],
)
def test_pytest_recording_keeps_its_option_names_and_pooltest_obeys_them(
    pytester: pytest.Pytester, run: Run, args: tuple[str, ...], mode: str
) -> None:
    pytester.syspathinsert()
    pytester.makepyfile(pytest_recording=FAKE_RECORDING)
    (pytester.path / "cassettes" / "test_it").mkdir(parents=True)
    (pytester.path / "cassettes" / "test_it" / "test_mode.yaml").write_text(
        "interactions: []\nversion: 1\n"
    )
    write_test(
        pytester,
        """
        def test_mode(cassette):
            assert cassette.record_mode == "{{MODE}}"
        """,
        MODE=mode,
    )
    run("-p", "pytest_recording", *args).assert_outcomes(passed=1)
