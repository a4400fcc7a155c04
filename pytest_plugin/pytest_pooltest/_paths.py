"""Where a test's cassette lives, and how test names become safe, bounded file names.

The *cassette folder* of a test is ``<folder of its test file>/cassettes``; with a cassette root
``R`` (``--cassette-dir`` or ``pooltest_config["cassette_dir"]``) it is ``R/<folder of the test
file relative to the rootdir>`` instead, so test folders keep separate cassettes under one root.

A test's *default cassette* is ``<cassette folder>/<module>/<name>.yaml``, where ``<module>`` is
the test file's stem and ``<name>`` joins the enclosing class names and the function name with
``.`` and appends ``-<parametrize id>``. A name with characters outside ``[A-Za-z0-9_.-]``, or
longer than :data:`MAX_STEM`, is cleaned and cut, then suffixed with a hash of the original name,
so two tests never share a default cassette by accident.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

__all__ = ["MAX_STEM", "cassette_folder", "default_cassette", "safe_name", "stem_for"]

#: Longest file-name stem produced; longer (or cleaned) names end in ``-<8 hex digits>``.
MAX_STEM = 100

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")
_HASH_LENGTH = 8


def safe_name(name: str) -> str:
    """``name`` itself when it is safe and short; else a cleaned, cut name ending in its hash."""
    cleaned = _UNSAFE.sub("_", name)
    if cleaned == name and len(name) <= MAX_STEM:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_LENGTH]
    return f"{cleaned[: MAX_STEM - _HASH_LENGTH - 1]}-{digest}"


def stem_for(item: pytest.Item) -> str:
    """The default cassette's file stem for ``item``: ``Class.test_name-param_id``, made safe."""
    parts = [node.name for node in item.listchain() if isinstance(node, pytest.Class)]
    parts.append(getattr(item, "originalname", item.name))
    name = ".".join(parts)
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        name = f"{name}-{callspec.id}"
    return safe_name(name)


def cassette_folder(test_file: Path, root: Path | None, rootdir: Path) -> Path:
    """The folder cassette paths of tests in ``test_file`` are relative to (module docstring)."""
    folder = test_file.parent
    if root is None:
        return folder / "cassettes"
    try:
        return root / folder.relative_to(rootdir)
    except ValueError:
        return root


def default_cassette(item: pytest.Item, folder: Path) -> Path:
    """``<folder>/<module>/<name>.yaml`` for ``item`` (see the module docstring)."""
    return folder / safe_name(item.path.stem) / f"{stem_for(item)}.yaml"
