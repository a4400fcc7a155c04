"""pooltest exposes urllib3 2.x's public API: same module paths, names and signatures.

For every public name a urllib3 module defines (or lists in ``__all__``), the same module path in
pooltest must have it; for functions, classes and their public methods, the parameters (names,
kinds and defaults) must be the same. pooltest's own keyword-only additions are listed below.
"""

from __future__ import annotations

import importlib
import inspect
import types
import typing

import pytest

urllib3 = pytest.importorskip("urllib3")

MODULES = [
    "",
    ".poolmanager",
    ".connectionpool",
    ".connection",
    ".response",
    "._collections",
    ".fields",
    ".filepost",
    ".exceptions",
    ".util",
    ".util.url",
    ".util.retry",
    ".util.timeout",
    ".util.request",
    ".util.response",
    ".util.connection",
    ".util.ssl_",
    ".util.ssl_match_hostname",
    ".util.util",
    ".util.wait",
    ".util.proxy",
    "._request_methods",
    "._base_connection",
]

#: Parameters pooltest adds (keyword-only, with defaults), per callable name.
ADDED_PARAMETERS = {"connection_factory"}

#: urllib3 names we knowingly do not provide, and why.
NOT_PROVIDED = {
    # TLS-in-TLS for HTTPS proxies is not supported (see README).
    ("util.ssl_", "SSLTransport"),
    # http.client's response factory: pooltest's connections always build pooltest responses.
    ("connection", "HTTPConnection.response_class"),
    ("connection", "HTTPSConnection.response_class"),
    ("connection", "VerifiedHTTPSConnection.response_class"),
    # A loop variable urllib3 leaks at module level, not an API.
    ("util.ssl_", "attr"),
}


def _public_names(module: types.ModuleType, full_name: str) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and getattr(value, "__module__", full_name) == full_name
    ]


def _parameters(obj: typing.Any) -> list[tuple[str, object, object]] | None:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [
        (p.name, p.kind, _default(p.default))
        for p in signature.parameters.values()
        if p.name not in ADDED_PARAMETERS
    ]


def _default(value: object) -> object:
    if value is inspect.Parameter.empty:
        return "<required>"
    if inspect.isclass(value) and value.__module__.split(".")[0] in ("urllib3", "pooltest"):
        return value.__qualname__
    return repr(value)


def _cases() -> list[tuple[str, str]]:
    cases = []
    for suffix in MODULES:
        module = importlib.import_module("urllib3" + suffix)
        cases.extend((suffix, name) for name in _public_names(module, module.__name__))
    return cases


@pytest.mark.parametrize(("suffix", "name"), _cases())
def test_name_exists_with_the_same_signature(suffix: str, name: str) -> None:
    ours = importlib.import_module("pooltest" + suffix)
    theirs = getattr(importlib.import_module("urllib3" + suffix), name)
    key = (suffix.lstrip("."), name)
    if key in NOT_PROVIDED:
        pytest.skip("knowingly not provided")
    assert hasattr(ours, name), f"pooltest{suffix} lacks {name}"
    mine = getattr(ours, name)
    if callable(theirs):
        assert _parameters(mine) == _parameters(theirs), name
    if inspect.isclass(theirs):
        for attribute in dir(theirs):
            if attribute.startswith("_"):
                continue
            if (suffix.lstrip("."), f"{name}.{attribute}") in NOT_PROVIDED:
                continue
            assert hasattr(mine, attribute), f"pooltest{suffix}.{name} lacks {attribute}"
            method = getattr(theirs, attribute)
            if inspect.isfunction(method) or inspect.ismethod(method):
                assert _parameters(getattr(mine, attribute)) == _parameters(method), (
                    f"{name}.{attribute}"
                )
