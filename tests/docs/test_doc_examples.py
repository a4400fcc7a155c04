"""Every code example in docs/ runs here, offline, replaying cassettes committed in cassettes/.

The pages hold no Python of their own: each Python snippet is ``literalinclude``'d from
``docs/examples/``. These tests check that rule (no inline ``code-block:: python``, every include
target exists, every example is shown somewhere) and run each example's ``main()``, which
replays with ``record_mode="none"``. An example's ``record()`` -- the code a user runs once
against the live service -- is only ever run by ``scripts/record_cassettes.py``, which writes
``cassettes/docs/``. The pytest plugin example runs as a real inner pytest run whose
``--cassette-dir`` is the committed ``cassettes/docs/plugin_example/``.

Offline is proven, not assumed: :class:`OfflineGuard` refuses every socket ``connect`` and
``bind`` while an example runs, and the test fails if any was attempted (even if caught). The
cassette files are checked both ways: each one an example names exists, and each file in
``cassettes/`` is named by an example, the plugin example's run, or another test.

pooltest's cassette modules (and PyYAML and freezegun with them) are imported here, by the outer
process, before any in-process inner run, for the reason ``tests/plugin/conftest.py`` gives.
urllib3 is imported here too, before any guard: on import it probes IPv6 support by binding a
socket to ``::1``, which is not traffic.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import freezegun  # noqa: F401 - imported once by the outer process, see the module docstring
import pytest
import urllib3  # noqa: F401 - it probes IPv6 by binding ::1 once, on import: done before the guard

import pooltest.cassette  # noqa: F401 - same reason
from pooltest._demoserver import DemoServer
from pooltest.cli import main as pooltest_main

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
CASSETTES = ROOT / "cassettes"
DOCS_CASSETTES = CASSETTES / "docs"
PLUGIN_EXAMPLE = EXAMPLES / "plugin_example.py"
PLUGIN_CASSETTES = DOCS_CASSETTES / "plugin_example"
# What the plugin example's two tests replay: the marker's file and the default-named one.
PLUGIN_FILES = (
    PLUGIN_CASSETTES / "upload.yaml",
    PLUGIN_CASSETTES / "test_upload" / "test_default_cassette.yaml",
)
RUNNABLE = sorted(p for p in EXAMPLES.glob("*.py") if p != PLUGIN_EXAMPLE)

_INNER_ARGS = ("-p", "no:hypothesispytest", "-p", "no:cacheprovider")

# Also inside list-table cells ("* - .. literalinclude::", "  - .. literalinclude::").
_INCLUDE = re.compile(r"^[\s*-]*\.\. literalinclude:: (\S+)", re.MULTILINE)
_INLINE_PYTHON = re.compile(
    r"^\s*\.\. (?:code-block|code|sourcecode):: (?:python|py|pycon)\b", re.M
)


class OfflineError(RuntimeError):
    """An example tried to open a network connection or start a server.

    Not an ``OSError``, so retry logic cannot take it for a flaky network and swallow it.
    """


class OfflineGuard:
    """Refuses every ``socket.connect``/``connect_ex``/``bind`` once installed; lists attempts."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Patch the three socket methods through ``monkeypatch`` (undone at its teardown)."""
        for name in ("connect", "connect_ex", "bind"):
            monkeypatch.setattr(socket.socket, name, self._refuse(name))

    def _refuse(self, name: str) -> Callable[[socket.socket, Any], Any]:
        def refused(sock: socket.socket, address: Any, /) -> Any:
            self.attempts.append(f"socket.{name}({address!r})")
            sock.close()  # callers only close after OSError
            raise OfflineError(f"offline example tried socket.{name}({address!r})")

        return refused


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> OfflineGuard:
    """No socket may connect or bind during the test."""
    guard = OfflineGuard()
    guard.install(monkeypatch)
    return guard


def _pages() -> list[Path]:
    return sorted(DOCS.glob("*.rst"))


def _included() -> set[Path]:
    return {
        (page.parent / target).resolve()
        for page in _pages()
        for target in _INCLUDE.findall(page.read_text(encoding="utf-8"))
    }


@functools.cache
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


def _named_cassettes(module: ModuleType) -> list[Path]:
    """The cassette files an example names: its module-level ``Path`` constants to ``.yaml``."""
    return [v for v in vars(module).values() if isinstance(v, Path) and v.suffix == ".yaml"]


# -- the pages --------------------------------------------------------------------------------


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
    shown = _included()
    assert sorted(str(p) for p in EXAMPLES.iterdir() if p.resolve() not in shown) == []


# -- running the examples offline -------------------------------------------------------------


def test_the_offline_guard_refuses_sockets(offline: OfflineGuard) -> None:
    """The guard the replays run under does catch a connection and a server."""
    with pytest.raises(OfflineError):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    with pytest.raises(OfflineError):
        DemoServer()
    assert offline.attempts == ["socket.connect(('127.0.0.1', 9))", "socket.bind(('127.0.0.1', 0))"]


@pytest.mark.parametrize("path", RUNNABLE, ids=lambda p: p.stem)
def test_example_replays_offline(
    path: Path, offline: OfflineGuard, capsys: pytest.CaptureFixture[str]
) -> None:
    _load(path).main()
    capsys.readouterr()
    assert offline.attempts == []


def test_plugin_example_replays_the_committed_cassettes_offline(
    pytester: pytest.Pytester, offline: OfflineGuard
) -> None:
    pytester.makepyfile(test_upload=PLUGIN_EXAMPLE.read_text(encoding="utf-8"))
    result = pytester.runpytest_inprocess(
        *_INNER_ARGS, f"--cassette-dir={PLUGIN_CASSETTES}", "--block-network"
    )  # the default record mode, none
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*cassettes: 2 used, 2 replayed, 0 recorded, 0 written*"])
    assert offline.attempts == []
    assert not (pytester.path / "cassettes").exists()


def test_plugin_example_fails_offline_without_its_cassettes(
    pytester: pytest.Pytester, offline: OfflineGuard
) -> None:
    """The replay above can fail: with no recording, mode none refuses to touch the network."""
    pytester.makepyfile(test_upload=PLUGIN_EXAMPLE.read_text(encoding="utf-8"))
    result = pytester.runpytest_inprocess(*_INNER_ARGS)
    result.assert_outcomes(errors=2)
    assert offline.attempts == []


# -- the cassette files -----------------------------------------------------------------------


@pytest.mark.parametrize("path", RUNNABLE, ids=lambda p: p.stem)
def test_cassettes_an_example_names_are_committed(path: Path) -> None:
    module = _load(path)
    named = _named_cassettes(module)
    missing = [str(p) for p in named if not p.is_file() or not p.is_relative_to(CASSETTES)]
    assert missing == []
    if hasattr(module, "record"):
        # What record() writes lives in cassettes/docs/, named after the example.
        assert named
        assert all(p.parent == DOCS_CASSETTES for p in named)
        assert all(p.name.startswith(f"{path.stem}.") for p in named)


def test_the_plugin_example_cassettes_are_committed() -> None:
    assert sorted(PLUGIN_CASSETTES.rglob("*.yaml")) == sorted(PLUGIN_FILES)


def test_no_cassette_is_an_orphan() -> None:
    """Each file in cassettes/ is named by an example, the plugin example, or another test."""
    used = {p for path in RUNNABLE for p in _named_cassettes(_load(path))} | set(PLUGIN_FILES)
    other_tests = "\n".join(
        p.read_text(encoding="utf-8")
        for p in (ROOT / "tests").rglob("*.py")
        if p.resolve() != Path(__file__).resolve()
    )
    orphans = [
        str(p.relative_to(CASSETTES))
        for p in sorted(CASSETTES.rglob("*.yaml"))
        if p not in used and p.name not in other_tests
    ]
    assert orphans == []


def test_the_docs_cassettes_pass_check(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in DOCS_CASSETTES.rglob("*.yaml"))
    assert pooltest_main(["check", *files]) == 0
    assert capsys.readouterr().out == f"{len(files)} cassette(s) checked: clean\n"
