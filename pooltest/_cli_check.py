"""``pooltest check CASSETTE...``: lint cassettes for CI and pre-commit hooks.

Each file is loaded with the library's safe loader (no YAML tag can build an object); a file
that does not load is reported as ``PATH:LINE: reason``. A file that loads is then searched
for secrets a recording should not hold, each reported as ``PATH:LINE: interaction N: ...``
(``LINE`` is where the interaction starts):

* request headers that carry credentials (``Authorization``, ``Cookie``, ``X-Api-Key``...);
* request headers, query parameters, form fields and JSON fields (request and response bodies,
  at any depth) whose names look secret by the rule cassettes redact with by default
  (``access_token``, ``X-Auth-Token``, ``client_secret``, ``apiKey``, ``password``, ``key``...).

A value counts as redacted when it is empty or one of the accepted placeholders:
:data:`~pooltest.cassette.PLACEHOLDER` plus any given with ``--placeholder`` (for cassettes
filtered with ``filter_headers=[("Authorization", "XXX")]`` and the like).

Line numbers are only looked up when a file has findings: the YAML is composed once more
(nodes only, nothing built) and the ``interactions`` items' start marks are read.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Collection, Sequence

from .cassette import PLACEHOLDER, CassetteError, Interaction
from .cassette._filters import DEFAULT_REDACTED_HEADERS, looks_secret
from .cassette._format import _compose, load

__all__ = ["check_file", "find_secrets", "is_secret_name", "run_check"]

_SECRET_HEADERS = frozenset(DEFAULT_REDACTED_HEADERS)

_MAX_DEPTH = 100


def is_secret_name(name: str) -> bool:
    """Whether a query, form or JSON field called ``name`` holds a credential: the same rule
    cassettes redact by default with (:func:`pooltest.cassette._filters.looks_secret`)."""
    return looks_secret(name)


def _is_secret_header(name: str) -> bool:
    return name.lower() in _SECRET_HEADERS or looks_secret(name)


class _Finder:
    """Collects findings for one interaction, given the values that count as redacted."""

    def __init__(self, placeholders: Collection[str]) -> None:
        self.placeholders = placeholders
        self.found: list[str] = []

    def unredacted(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return False
        text = str(value)
        return text != "" and text not in self.placeholders

    def json(self, value: object, where: str, depth: int = 0) -> None:
        if depth > _MAX_DEPTH:
            return
        if isinstance(value, dict):
            for key, item in value.items():
                if is_secret_name(str(key)) and self.unredacted(item):
                    self.found.append(f"unredacted JSON field {where}.{key}")
                self.json(item, f"{where}.{key}", depth + 1)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.json(item, f"{where}[{index}]", depth + 1)

    def request(self, interaction: Interaction) -> None:
        request = interaction.request
        for name, value in request.raw_headers:
            if _is_secret_header(name) and self.unredacted(value):
                self.found.append(f"unredacted header {name}")
        for name, value in request.query:
            if is_secret_name(name) and self.unredacted(value):
                self.found.append(f"unredacted query parameter {name!r}")
        for name, value in request.form.items(multi=True):
            if is_secret_name(name) and self.unredacted(value):
                self.found.append(f"unredacted form field {name!r}")
        ok, parsed = request.parsed_json()
        if ok:
            self.json(parsed, "request json")

    def response(self, interaction: Interaction) -> None:
        response = interaction.response
        content_type = (response.header("content-type") or "").split(";", 1)[0].strip().lower()
        encoding = (response.header("content-encoding") or "identity").strip().lower()
        if encoding != "identity" or not (
            content_type == "application/json" or content_type.endswith("+json")
        ):
            return
        try:
            parsed = json.loads(response.body)
        except (ValueError, RecursionError):
            return
        self.json(parsed, "response json")


def find_secrets(
    interaction: Interaction, placeholders: Collection[str] = (PLACEHOLDER,)
) -> list[str]:
    """What in ``interaction`` looks like a credential left unredacted (one line each).

    Values that are empty or in ``placeholders`` count as redacted.
    """
    finder = _Finder(placeholders)
    finder.request(interaction)
    finder.response(interaction)
    return finder.found


def _interaction_lines(path: str) -> list[int]:
    """The 1-based line each interaction starts at (empty when it cannot be told)."""
    from yaml.nodes import MappingNode, SequenceNode

    with open(path, "rb") as handle:
        root = _compose(handle.read(), path)
    if not isinstance(root, MappingNode):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "interactions" and isinstance(value, SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def check_file(path: str, placeholders: Collection[str] = (PLACEHOLDER,)) -> list[str]:
    """Every finding for the cassette at ``path``, as ``PATH[:LINE]: message`` lines."""
    try:
        interactions = load(path)
    except CassetteError as exc:
        line = getattr(exc, "line", None)
        reason = getattr(exc, "reason", None) or str(exc)
        return [f"{path}:{line}: {reason}" if line else f"{path}: {reason}"]
    except OSError as exc:
        return [f"{path}: cannot read: {exc.strerror or exc}"]
    findings: list[str] = []
    lines: list[int] | None = None
    for index, interaction in enumerate(interactions):
        secrets = find_secrets(interaction, placeholders)
        if secrets and lines is None:
            lines = _interaction_lines(path)
        where = f"{path}:{lines[index]}" if lines and index < len(lines) else path
        findings.extend(f"{where}: interaction {index}: {secret}" for secret in secrets)
    return findings


def run_check(paths: Sequence[str], out: typing.TextIO, placeholders: Sequence[str] = ()) -> int:
    """Check every file in ``paths``, print findings to ``out``; 1 if any, else 0.

    ``placeholders`` are accepted as redacted values besides :data:`PLACEHOLDER`.
    """
    accepted = frozenset((PLACEHOLDER, *placeholders))
    findings: list[str] = []
    for path in paths:
        findings.extend(check_file(path, accepted))
    for finding in findings:
        print(finding, file=out)
    checked = f"{len(paths)} cassette(s) checked"
    print(f"{checked}: {len(findings)} finding(s)" if findings else f"{checked}: clean", file=out)
    return 1 if findings else 0
