"""The cassette model's fast constructors make what the dataclasses' own ``__init__`` makes."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pooltest.cassette import Interaction, Response
from pooltest.cassette._model import new_interaction, new_response
from pooltest.cassette._request import Request

_text = st.text(max_size=20)
_pairs = st.lists(st.tuples(_text, _text), max_size=4).map(tuple)


@given(
    st.integers(100, 599),
    _text,
    _pairs,
    st.binary(max_size=40),
    st.sampled_from(["HTTP/1.1", "HTTP/1.0"]),
)
def test_new_response_is_the_dataclass(
    status: int, reason: str, headers: tuple[tuple[str, str], ...], body: bytes, version: str
) -> None:
    made = new_response(status, reason, headers, body, version)
    expected = Response(status, reason, headers, body, version)
    assert made == expected
    assert repr(made) == repr(expected)
    assert hash(made) == hash(expected)
    assert made._wire == []
    assert made._wire is not new_response(status, reason, headers, body)._wire
    assert new_response(status, reason, headers, body) == Response(status, reason, headers, body)


def test_made_objects_stay_frozen() -> None:
    response = new_response(200, "OK", (), b"")
    with pytest.raises(dataclasses.FrozenInstanceError):
        response.status = 500  # type: ignore[misc]
    request = Request("GET", "http://h.test/", [], b"")
    at = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
    interaction = new_interaction(request, response, at)
    assert interaction == Interaction(request, response, at)
    assert repr(interaction) == repr(Interaction(request, response, at))
    with pytest.raises(dataclasses.FrozenInstanceError):
        interaction.recorded_at = at  # type: ignore[misc]
