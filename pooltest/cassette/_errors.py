"""Errors about cassettes. Each names the file, and where it applies, the line and the request."""

from __future__ import annotations

from pooltest.exceptions import HTTPError

__all__ = [
    "CassetteError",
    "CassetteFormatError",
    "CassetteNotFoundError",
    "CassetteWriteError",
    "UnmatchedRequestError",
]


class CassetteError(HTTPError):
    """Base of every cassette problem."""


class CassetteFormatError(CassetteError, ValueError):
    """A cassette file cannot be used: unsafe, malformed, empty or truncated.

    ``path`` is the file, ``line`` the 1-based line the problem was found at (None when the
    problem is not tied to a line), ``reason`` what is wrong.
    """

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.line = line
        where = f"{path}, line {line}" if line is not None else path
        super().__init__(f"{where}: {reason}")

    def __reduce__(self) -> tuple[type[CassetteFormatError], tuple[str, str, int | None]]:
        return type(self), (self.path, self.reason, self.line)


class CassetteNotFoundError(CassetteError, FileNotFoundError):
    """Replay was required but the cassette file does not exist."""

    def __init__(self, path: str, hint: str = "") -> None:
        self.path = path
        message = f"Cassette not found: {path}"
        super().__init__(f"{message}. {hint}" if hint else message)

    def __str__(self) -> str:
        return str(self.args[0])


class CassetteWriteError(CassetteError, OSError):
    """A cassette could not be saved (the previous file, if any, is left intact)."""


class UnmatchedRequestError(CassetteError):
    """A request matched no recorded interaction and the record mode forbids recording it."""
