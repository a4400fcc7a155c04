"""Helpers for testing the pytest plugin from outside, with ``pytester``.

``pytester`` itself is enabled for the whole suite by ``-p pytester`` in the ini ``addopts``:
``pytest_plugins`` is refused in a conftest below the rootdir when the suite is collected from
the top.

Inner runs are in-process unless isolation matters (xdist, entry-point loading, import cost).
They get no ini file, so they do not inherit this suite's ``addopts``; :func:`run` passes
``-p no:cacheprovider`` on purpose (no ``.pytest_cache`` in the temp folder) unless a test needs
the cache (``--lf``). The outer suite's warnings filter (``error``) does apply to in-process runs,
so inner tests must not warn. Hypothesis's plugin is turned off in inner runs (``-p
no:hypothesispytest``): it imports hypothesis at the end of every run, and in-process runs restore
``sys.modules`` afterwards, so each run would pay that import again.

For the same reason pooltest's cassette modules (and with them PyYAML and freezegun) are imported
here, once, by the outer process: a module first imported inside an in-process run is dropped
after it and imported afresh by the next run, and PyYAML's C extension cannot be: it keeps the
first run's node classes, and the fresh ``yaml`` module's ``isinstance`` checks then fail.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import freezegun  # noqa: F401 - see the module docstring
import pytest

import pooltest.cassette  # noqa: F401 - see the module docstring

Run = Callable[..., pytest.RunResult]

#: Arguments every inner run gets (see the module docstring).
QUIET = ("-p", "no:hypothesispytest")


def write_test(
    pytester: pytest.Pytester, source: str, name: str = "test_it", **values: object
) -> Path:
    """Write ``name.py`` from dedented ``source``, each ``{{KEY}}`` replaced by ``values[KEY]``."""
    text = textwrap.dedent(source)
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", str(value))
    return pytester.makepyfile(**{name: text})


@pytest.fixture
def run(pytester: pytest.Pytester) -> Run:
    """Run pytest in-process in the pytester folder, without the cache provider."""

    def runner(*args: str, cache: bool = False) -> pytest.RunResult:
        extra = () if cache else ("-p", "no:cacheprovider")
        return pytester.runpytest_inprocess(*QUIET, *extra, *args)

    return runner


def cassette_file(pytester: pytest.Pytester, module: str, stem: str) -> Path:
    """Where the plugin puts ``module``'s test ``stem``'s default cassette."""
    return pytester.path / "cassettes" / module / f"{stem}.yaml"
