"""Sphinx configuration for pooltest's documentation (furo theme, autodoc of the public API).

Build: ``python -m sphinx -W --keep-going -b html docs /tmp/docs-out``.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
# The library and the pytest plugin import from the work tree, installed or not.
for _path in (_ROOT, _ROOT / "pytest_plugin"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

project = "pooltest"
author = "The pooltest team"
copyright = "2026, The pooltest team"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "myst_parser",
]
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

html_theme = "furo"
html_title = "pooltest"
templates_path: list[str] = []
exclude_patterns = ["_build", "README.md", "examples"]
nitpicky = False

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
# Type aliases that autodoc cannot resolve are left as text rather than warned about.
autodoc_type_aliases: dict[str, str] = {}
suppress_warnings: list[str] = []

html_static_path = ["_static"]
html_css_files = ["pooltest.css"]
