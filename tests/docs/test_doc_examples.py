"""Every code example in docs/ runs here, offline, against loopback servers it starts itself.

The pages hold no Python of their own: each Python snippet is ``literalinclude``'d from
``docs/examples/``. These tests check that rule (no inline ``code-block:: python``, every include
target exists, every example is shown somewhere) and run each example: a module's ``main()``
(given a temporary folder if it takes one), and the pytest plugin example as a real inner pytest
run, recorded with ``--record-mode=once`` against the demo server and then replayed with the
server stopped.

pooltest's cassette modules (and PyYAML and freezegun with them) are imported here, by the outer
process, before any in-process inner run, for the reason ``tests/plugin/conftest.py`` gives.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from pathlib import Path
from types import ModuleType

import freezegun  # noqa: F401 - imported once by the outer process, see the module docstring
import pytest

import pooltest.cassette  # noqa: F401 - same reason
from pooltest._demoserver import DemoServer

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLES = DOCS / "examples"
PLUGIN_EXAMPLE = EXAMPLES / "plugin_example.py"
RUNNABLE = sorted(p for p in EXAMPLES.glob("*.py") if p != PLUGIN_EXAMPLE)

_INNER_ARGS = ("-p", "no:hypothesispytest", "-p", "no:cacheprovider")

_INCLUDE = re.compile(r"^\.\. literalinclude:: (\S+)", re.MULTILINE)
_INLINE_PYTHON = re.compile(
    r"^\s*\.\. (?:code-block|code|sourcecode):: (?:python|py|pycon)\b", re.M
)


def _pages() -> list[Path]:
    return sorted(DOCS.glob("*.rst"))


def _included() -> set[Path]:
    return {
        (page.parent / target).resolve()
        for page in _pages()
        for target in _INCLUDE.findall(page.read_text(encoding="utf-8"))
    }


def _load(path: Path) -> ModuleType:
    name = f"_pooltest_doc_example_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def test_examples_exist() -> None:
    assert PLUGIN_EXAMPLE.is_file()
    assert len(RUNNABLE) >= 10


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.name)
def test_page_has_no_inline_python(page: Path) -> None:
    """Python in the docs comes from docs/examples/, which the tests below run."""
    assert _INLINE_PYTHON.search(page.read_text(encoding="utf-8")) is None


def test_every_include_exists() -> None:
    missing = sorted(str(p) for p in _included() if not p.is_file())
    assert missing == []


def test_every_example_is_shown() -> None:
    included = _included()
    shown_somewhere = {p.resolve() for p in EXAMPLES.iterdir() if p.suffix in (".py", ".yaml")}
    assert sorted(str(p) for p in shown_somewhere - included) == []


@pytest.mark.network
@pytest.mark.parametrize("path", RUNNABLE, ids=lambda p: p.stem)
def test_example_runs(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main = _load(path).main
    if inspect.signature(main).parameters:
        main(tmp_path)
    else:
        main()
    capsys.readouterr()


@pytest.mark.network
def test_plugin_example_records_then_replays_offline(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_upload=PLUGIN_EXAMPLE.read_text(encoding="utf-8"))
    with DemoServer() as server:
        monkeypatch.setenv("DEMO_URL", server.url)
        recorded = pytester.runpytest_inprocess(*_INNER_ARGS, "--record-mode=once")
        recorded.assert_outcomes(passed=2)
    assert (pytester.path / "cassettes" / "upload.yaml").is_file()
    default = pytester.path / "cassettes" / "test_upload" / "test_default_cassette.yaml"
    assert default.is_file()

    replayed = pytester.runpytest_inprocess(*_INNER_ARGS)  # the default mode, none: offline
    replayed.assert_outcomes(passed=2)
    replayed.stdout.fnmatch_lines(["*cassettes: 2 used, 2 replayed, 0 recorded, 0 written*"])


@pytest.mark.network
def test_plugin_example_fails_offline_without_its_cassettes(pytester: pytest.Pytester) -> None:
    """The replay above can fail: with no recording, mode none refuses to touch the network."""
    pytester.makepyfile(test_upload=PLUGIN_EXAMPLE.read_text(encoding="utf-8"))
    result = pytester.runpytest_inprocess(*_INNER_ARGS)
    result.assert_outcomes(errors=2)
