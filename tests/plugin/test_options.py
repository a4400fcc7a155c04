"""Which cassette a test gets and with which options: marker > command line > config > defaults.

The inner tests assert on ``cassette.path``, ``cassette.record_mode`` and ``cassette.match_on``
themselves; the outer test checks they all passed (so a wrong value fails an inner assert).
Tests that send no request write no cassette, so most runs here need no server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import Run, write_test
from pytest_pooltest._paths import MAX_STEM, safe_name
from support import KeepAliveServer

CONFTEST = """
    import pytest


    @pytest.fixture(scope="session")
    def pooltest_config():
        return {
            "record_mode": "once",
            "match_on": ["method", "uri"],
            "allow_playback_repeats": True,
        }
"""

PRECEDENCE = """
    import pytest


    def test_config_or_command_line(cassette):
        assert cassette.record_mode == "{{MODE}}"
        assert cassette.match_on == ("method", "uri")


    @pytest.mark.cassette(record_mode="all", match_on=["method"])
    def test_marker_beats_both(cassette):
        assert cassette.record_mode == "all"
        assert cassette.match_on == ("method",)
        assert cassette.allow_playback_repeats is True


    class TestClassOverride:
        @pytest.fixture
        def pooltest_config(self, pooltest_config):
            return {**pooltest_config, "match_on": ["path"], "record_mode": "new_episodes"}

        def test_class_config(self, cassette):
            assert cassette.match_on == ("path",)
            assert cassette.record_mode == "{{CLASS_MODE}}"
"""


@pytest.mark.parametrize(
    ("args", "mode", "class_mode"),
    [
        ((), "once", "new_episodes"),
        (("--record-mode=rewrite",), "all", "all"),
        (("--record-mode=none",), "none", "none"),
    ],
    ids=["config", "command-line", "command-line-none"],
)
def test_marker_beats_command_line_beats_config(
    pytester: pytest.Pytester, run: Run, args: tuple[str, ...], mode: str, class_mode: str
) -> None:
    pytester.makeconftest(CONFTEST)
    write_test(pytester, PRECEDENCE, MODE=mode, CLASS_MODE=class_mode)
    result = run(*args)
    if mode == "none":  # replay-only and no cassette on disk: the marker's test still runs
        result.assert_outcomes(passed=1, errors=2)
        result.stdout.fnmatch_lines(["*Cassette not found*"])
    else:
        result.assert_outcomes(passed=3)


def test_module_config_and_markers_merge_closest_last(pytester: pytest.Pytester, run: Run) -> None:
    write_test(
        pytester,
        """
        import pytest

        pytestmark = pytest.mark.cassette("module.yaml", match_on=["host"], drop_unused=True)


        @pytest.fixture
        def pooltest_config():
            return {"record_mode": "new_episodes", "decode_compressed_response": True}


        def test_module_marker(cassette):
            assert cassette.path.endswith("cassettes/module.yaml")
            assert cassette.match_on == ("host",)
            assert cassette.record_mode == "new_episodes"
            assert cassette.decode_compressed_response is True


        @pytest.mark.cassette(path=None, match_on=["path"])
        def test_function_marker(cassette):
            assert cassette.path.endswith("cassettes/test_it/test_function_marker.yaml")
            assert cassette.match_on == ("path",)
            assert cassette.drop_unused is True
        """,
    )
    run().assert_outcomes(passed=2)


PATHS = """
    from pathlib import Path

    import pytest

    HERE = Path(__file__).parent / "cassettes" / "test_paths"


    def test_plain(cassette):
        assert cassette.path == str(HERE / "test_plain.yaml")


    class TestOuter:
        def test_method(self, cassette):
            assert cassette.path == str(HERE / "TestOuter.test_method.yaml")

        class TestInner:
            def test_nested(self, cassette):
                assert cassette.path == str(HERE / "TestOuter.TestInner.test_nested.yaml")

        @pytest.mark.parametrize("n", [1, 2])
        def test_param(self, cassette, n):
            assert cassette.path == str(HERE / f"TestOuter.test_param-{n}.yaml")


    @pytest.mark.parametrize("url", ["http://x/a b"])
    def test_unsafe_id(cassette, url):
        name = Path(cassette.path).name
        assert name.startswith("test_unsafe_id-http_x_a_b-")
        assert len(name) == len("test_unsafe_id-http_x_a_b-") + 8 + len(".yaml")


    @pytest.mark.parametrize("text", ["x" * 300], ids=["x" * 300])
    def test_long_id(cassette, text):
        assert len(Path(cassette.path).stem) == {{MAX}}
        assert Path(cassette.path).parent == HERE


    @pytest.mark.cassette("shared/one.yaml")
    def test_marker_path(cassette):
        assert cassette.path == str(HERE.parent / "shared" / "one.yaml")


    @pytest.mark.cassette("{{ABSOLUTE}}")
    def test_absolute_marker_path(cassette):
        assert cassette.path == "{{ABSOLUTE}}"
"""


def test_default_paths_for_plain_class_and_parametrized_tests(
    pytester: pytest.Pytester, run: Run, tmp_path: Path
) -> None:
    absolute = tmp_path / "elsewhere.yaml"
    write_test(pytester, PATHS, name="test_paths", MAX=MAX_STEM, ABSOLUTE=absolute)
    run("--record-mode=once").assert_outcomes(passed=9)
    assert not (pytester.path / "cassettes").exists()  # nothing was requested: nothing written


def test_cassette_dir_moves_the_root_and_mirrors_test_folders(
    pytester: pytest.Pytester, run: Run
) -> None:
    pytester.mkpydir("sub")
    source = """
        from pathlib import Path


        def test_deep(cassette, pytestconfig):
            expected = Path(pytestconfig.rootpath, {{ROOT}}, "sub", "test_deep", "test_deep.yaml")
            assert cassette.path == str(expected)
        """
    (pytester.path / "sub" / "test_deep.py").write_text(
        write_test(pytester, source, name="scratch", ROOT='"recorded"').read_text()
    )
    (pytester.path / "scratch.py").unlink()
    run("--record-mode=once", "--cassette-dir=recorded", "sub").assert_outcomes(passed=1)

    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def pooltest_config():
            return {"cassette_dir": "recorded"}
        """
    )
    run("--record-mode=once", "sub").assert_outcomes(passed=1)  # the config's root
    result = run("--record-mode=once", "--cassette-dir=elsewhere", "sub")
    result.assert_outcomes(failed=1)  # the command line beats the config
    result.stdout.fnmatch_lines(["*elsewhere/sub/test_deep/test_deep.yaml*"])


def test_marker_alone_uses_a_cassette_only_where_it_applies(
    pytester: pytest.Pytester, run: Run
) -> None:
    write_test(
        pytester,
        """
        import pytest


        @pytest.mark.parametrize("n", [pytest.param(1, marks=pytest.mark.cassette("p1.yaml")), 2])
        def test_param(request, n):
            assert ("cassette" in request.fixturenames) == (n == 1)


        def test_unmarked(request):
            assert "cassette" not in request.fixturenames
        """,
    )
    run("--record-mode=once").assert_outcomes(passed=3)


def test_marker_rejects_two_positional_arguments(pytester: pytest.Pytester, run: Run) -> None:
    write_test(
        pytester,
        """
        import pytest


        @pytest.mark.cassette("a.yaml", "b.yaml")
        def test_two():
            pass
        """,
    )
    result = run("--record-mode=once")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*pooltest: bad cassette options for test_it.py::test_two: *one positional argument*"]
    )
    result.stdout.no_fnmatch_line("*Traceback*")


def test_unknown_or_invalid_options_fail_without_a_traceback(
    pytester: pytest.Pytester, run: Run
) -> None:
    write_test(
        pytester,
        """
        import pytest


        @pytest.mark.cassette(match_on=["method"], colour="blue")
        def test_unknown(cassette):
            pass


        @pytest.mark.cassette(record_mode="sometimes")
        def test_invalid(cassette):
            pass
        """,
    )
    result = run()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*bad cassette options for test_it.py::test_unknown: *'colour'*",
            "*bad cassette options for test_it.py::test_invalid: record_mode must be one of*",
        ]
    )


REWRITE = """
    import pytest


    @pytest.mark.cassette("shared.yaml")
    def test_a(pool_manager):
        assert pool_manager.request("GET", "{{URL}}/{{PATH_A}}").status == 200


    @pytest.mark.cassette("shared.yaml")
    def test_b(pool_manager):
        assert pool_manager.request("GET", "{{URL}}/json").status == 200
"""


def _recorded_paths(path: Path) -> list[str]:
    interactions = yaml.safe_load(path.read_text())["interactions"]
    return [i["request"]["uri"].rsplit("/", 1)[1] for i in interactions]


def test_rewrite_deletes_once_per_run_and_keeps_every_test_of_a_shared_cassette(
    pytester: pytest.Pytester, run: Run, http_server: KeepAliveServer
) -> None:
    shared = pytester.path / "cassettes" / "shared.yaml"
    write_test(pytester, REWRITE, URL=http_server.url, PATH_A="echo")
    run("--record-mode=new_episodes").assert_outcomes(passed=2)
    assert _recorded_paths(shared) == ["echo", "json"]

    write_test(pytester, REWRITE, URL=http_server.url, PATH_A="head-check")
    for _ in range(2):  # the stale /echo goes; nothing is recorded twice
        result = run("--record-mode=rewrite")
        result.assert_outcomes(passed=2)
        assert _recorded_paths(shared) == ["head-check", "json"]
    result.stdout.fnmatch_lines(
        [
            "*cassettes: 1 used, 0 replayed, 1 recorded, 1 written*",
            "*interactions: 0 played, 2 recorded*",
        ]
    )
    result.stdout.no_fnmatch_line("*left unplayed*")  # test_b does not "leave" test_a's interaction

    http_server.stop()
    run().assert_outcomes(passed=2)


def test_rewrite_of_an_unused_cassette_deletes_it(pytester: pytest.Pytester, run: Run) -> None:
    stale = pytester.path / "cassettes" / "test_it" / "test_quiet.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text("stale: true\n")
    write_test(pytester, "def test_quiet(cassette):\n    pass\n")
    run("--record-mode=rewrite").assert_outcomes(passed=1)
    assert not stale.exists()


def test_safe_names_never_collide_and_stay_short() -> None:
    assert safe_name("test_x-plain.id_1") == "test_x-plain.id_1"
    assert safe_name("test_x-a b") != safe_name("test_x-a_b")
    assert safe_name("test_x-a/b").startswith("test_x-a_b-")
    long_one, long_two = safe_name("t" * 300), safe_name("t" * 301)
    assert len(long_one) == len(long_two) == MAX_STEM
    assert long_one != long_two
    assert safe_name("test_\u00e9t\u00e9") != safe_name("test___")
