"""The ``pooltest`` pytest plugin: hooks, command-line options and fixtures.

This module is what the ``pytest11`` entry point loads in every pytest run, so it imports only
pytest and a few standard modules; pooltest itself is imported by the fixtures, when a test uses a
cassette. Without ``--block-network`` and without a test asking for a cassette, the plugin does
no work per test. See the package docstring for what users write, and ``_session`` for how a
test's cassette is chosen.
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pytest

from ._network import NetworkGuard
from ._session import CassetteFactory, Settings

if TYPE_CHECKING:
    from pooltest import PoolManager
    from pooltest.cassette import Cassette
    from pooltest.poolmanager import PoolEvent

__all__ = [
    "cassette",
    "make_pool_manager",
    "pool_events",
    "pool_manager",
    "pooltest_cassettes",
    "pooltest_config",
]

#: The record modes ``--record-mode`` accepts (pooltest.cassette.RECORD_MODES, not imported here).
RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")
_FACTORY = pytest.StashKey[CassetteFactory]()
_MARKER = (
    "cassette(path=None, **options): replay or record the test's HTTP traffic through a pooltest "
    "cassette; path is relative to the cassette folder (default: "
    "cassettes/<module>/<test>.yaml), options are pooltest.use_cassette's"
)


# -- hooks ----------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``pooltest`` option group (see :func:`_names` for pytest-recording's names)."""
    shared = importlib.util.find_spec("pytest_recording") is not None
    group = parser.getgroup("pooltest", "pooltest: record and replay HTTP traffic with cassettes")
    group.addoption(
        *_names("--record-mode", shared),
        dest="pooltest_record_mode",
        choices=RECORD_MODES,
        default=None,
        help="cassette record mode (default: none, unless pooltest_config sets one): none "
        "replays only and never touches the network; rewrite deletes and re-records.",
    )
    group.addoption(
        "--cassette-dir",
        dest="pooltest_cassette_dir",
        default=None,
        metavar="DIR",
        help="root folder for cassettes, mirroring the test folders (default: a cassettes/ "
        "folder beside each test file).",
    )
    group.addoption(
        *_names("--block-network", shared),
        dest="pooltest_block_network",
        action="store_true",
        help="fail any real socket connection made outside a recording cassette.",
    )
    group.addoption(
        *_names("--allowed-hosts", shared),
        dest="pooltest_allowed_hosts",
        default=None,
        metavar="HOST,...",
        help="hosts or addresses --block-network lets through (loopback is blocked otherwise).",
    )
    group.addoption(
        "--fail-on-unplayed",
        dest="pooltest_fail_on_unplayed",
        action="store_true",
        help="fail the run if recorded cassette interactions were never played.",
    )


def _names(option: str, shared: bool) -> tuple[str, ...]:
    """``option`` and its ``--pooltest-`` alias; only the alias if pytest-recording is installed.

    pytest-recording defines ``--record-mode``, ``--block-network`` and ``--allowed-hosts`` too,
    and argparse refuses a name twice. When it is installed it keeps the short names, and
    pooltest also obeys their values (see :func:`_option`).
    """
    alias = "--pooltest-" + option.removeprefix("--")
    return (alias,) if shared else (option, alias)


def _option(config: pytest.Config, name: str) -> Any:
    """pooltest's value of option ``name``, else pytest-recording's for the same short name."""
    value = config.getoption(f"pooltest_{name}")
    if value:
        return value
    foreign = config.getoption(name, None)
    if name == "record_mode" and foreign == "none":  # pytest-recording's default, not a choice
        return None
    return foreign


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker; set up the cassette factory and, if asked, the network block."""
    config.addinivalue_line("markers", _MARKER)
    guard = None
    if _option(config, "block_network"):
        guard = NetworkGuard(str(_option(config, "allowed_hosts") or "").split(","))
        guard.install()
    workerinput = getattr(config, "workerinput", {})
    root = config.getoption("pooltest_cassette_dir")
    settings = Settings(
        record_mode=_option(config, "record_mode"),
        cassette_root=None if root is None else config.invocation_params.dir / root,
        fail_on_unplayed=bool(config.getoption("pooltest_fail_on_unplayed")),
        rootdir=Path(config.rootpath),
        run_id=str(workerinput.get("pooltest_run_id") or uuid.uuid4().hex),
    )
    config.stash[_FACTORY] = CassetteFactory(settings, guard)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Lift the network block; drop the run's rewrite bookkeeping."""
    factory = config.stash.get(_FACTORY, None)
    if factory is not None:
        factory.close(controller=not hasattr(config, "workerinput"))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: give each worker this run's id (rewrite claims are per run)."""
    node.workerinput["pooltest_run_id"] = node.config.stash[_FACTORY].settings.run_id


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give tests marked ``cassette`` the ``cassette`` fixture, set up before their others."""
    for item in items:
        if (
            isinstance(item, pytest.Function)
            and "cassette" not in item.fixturenames
            and item.get_closest_marker("cassette") is not None
        ):
            # A new list: parametrized siblings share the old one.
            item.fixturenames = ["cassette", *item.fixturenames]


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Remember deselection: deselected tests may own interactions of shared cassettes."""
    if items:
        items[0].config.stash[_FACTORY].note_deselected(len(items))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Hand a worker's totals to the controller; fail the run on unplayed interactions if asked."""
    factory = session.config.stash[_FACTORY]
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["pooltest"] = factory.totals.to_data()
        workeroutput["pooltest_deselected"] = factory.deselected
    elif factory.unplayed_fails and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist controller: fold a finished worker's cassette totals into the run's."""
    output = getattr(node, "workeroutput", {})
    factory = node.config.stash[_FACTORY]
    if output.get("pooltest"):
        factory.totals.merge(output["pooltest"])
    factory.note_deselected(int(output.get("pooltest_deselected", 0)))


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Summarise cassette use: files replayed, recorded, written; unplayed interactions."""
    if hasattr(config, "workerinput"):
        return
    lines = config.stash[_FACTORY].summary()
    if not lines:
        return
    terminalreporter.write_sep("-", "pooltest cassettes")
    for text, warning in lines:
        terminalreporter.write_line(text, yellow=warning)


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pooltest_cassettes(pytestconfig: pytest.Config) -> CassetteFactory:
    """Session-wide factory that opens each test's cassette and keeps the run's totals."""
    return pytestconfig.stash[_FACTORY]


@pytest.fixture(scope="session")
def pooltest_config() -> Mapping[str, Any]:
    """Defaults for use_cassette options and cassette_dir; override it at any scope."""
    return MappingProxyType({})


@pytest.fixture
def cassette(
    request: pytest.FixtureRequest,
    pooltest_cassettes: CassetteFactory,
    pooltest_config: Mapping[str, Any],
) -> Iterator[Cassette]:
    """The test's pooltest Cassette, active for the test: requests, interactions, assertions."""
    with pooltest_cassettes.use(request.node, pooltest_config) as active:
        yield active


@pytest.fixture
def pool_events() -> list[PoolEvent]:
    """Pool creations, evictions and clears of pool_manager, in order (PoolEvent list)."""
    return []


@pytest.fixture
def make_pool_manager(cassette: Cassette) -> Iterator[Callable[..., PoolManager]]:
    """Factory: make_pool_manager(**kw) builds more PoolManagers on the test's cassette."""
    made: list[PoolManager] = []

    def make(on_pool_event: Callable[[PoolEvent], None] | None = None, **kw: Any) -> PoolManager:
        manager = cassette.pool_manager(**kw)
        manager.on_pool_event = on_pool_event
        made.append(manager)
        return manager

    yield make
    for manager in made:
        manager.clear()


@pytest.fixture
def pool_manager(
    make_pool_manager: Callable[..., PoolManager], pool_events: list[PoolEvent]
) -> PoolManager:
    """A pooltest PoolManager bound to the test's cassette, cleared at teardown."""
    return make_pool_manager(on_pool_event=pool_events.append)
