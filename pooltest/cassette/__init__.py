"""Cassettes: record HTTP traffic at the connection seam and replay it offline.

``use_cassette(path)`` activates a :class:`Cassette`; every pooltest pool without an explicit
connection factory then gets cassette connections, which replay recorded responses through the
real response parser or record live exchanges (see ``_connection`` and ``_cassette``).
"""

from __future__ import annotations

from ._cassette import DEFAULT_MATCH_ON, RECORD_MODES, Cassette, use_cassette
from ._errors import (
    CassetteError,
    CassetteFormatError,
    CassetteNotFoundError,
    CassetteWriteError,
    UnmatchedRequestError,
)
from ._filters import DEFAULT_REDACTED_HEADERS, PLACEHOLDER
from ._model import Interaction, Response
from ._request import Request

__all__ = [
    "DEFAULT_MATCH_ON",
    "DEFAULT_REDACTED_HEADERS",
    "PLACEHOLDER",
    "RECORD_MODES",
    "Cassette",
    "CassetteError",
    "CassetteFormatError",
    "CassetteNotFoundError",
    "CassetteWriteError",
    "Interaction",
    "Request",
    "Response",
    "UnmatchedRequestError",
    "use_cassette",
]
