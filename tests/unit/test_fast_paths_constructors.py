"""Objects made for every request without the call of their class give what the call gives.

- ``_body.new_body_reader`` against ``BodyReader(...)``: the same state, the same completion
  report, and the same reads (bytes or error) from the same stream, for every framing;
- ``_base_connection.new_options`` against ``_ResponseOptions(...)``.
"""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from pooltest._base_connection import _ResponseOptions, new_options
from pooltest._body import BodyReader, new_body_reader

_STATE = ("chunked", "length_remaining", "_enforce", "_keep_alive", "_chunk_left", "_pos", "_done")
_STREAMS = st.sampled_from([b"", b"abc", b"3\r\nabc\r\n0\r\n\r\n", b"0\r\n\r\nrest", b"zz"])


def _state(reader: BodyReader) -> tuple[object, ...]:
    return tuple(getattr(reader, name) for name in _STATE)


def _read_all(reader: BodyReader) -> object:
    try:
        return reader.read()
    except Exception as exc:  # compared, not swallowed
        return (type(exc), str(exc))


@settings(max_examples=300)
@given(
    data=_STREAMS,
    chunked=st.booleans(),
    length=st.none() | st.integers(0, 4),
    enforce=st.booleans(),
    keep_alive=st.booleans(),
)
def test_new_body_reader_is_the_constructor(
    data: bytes, chunked: bool, length: int | None, enforce: bool, keep_alive: bool
) -> None:
    reports: tuple[list[bool], list[bool]] = ([], [])
    built = BodyReader(
        io.BytesIO(data),
        chunked=chunked,
        length=length,
        enforce_content_length=enforce,
        on_done=reports[0].append,
        keep_alive=keep_alive,
    )
    made = new_body_reader(
        io.BytesIO(data), chunked, length, enforce, reports[1].append, keep_alive
    )
    assert type(made) is BodyReader
    # The documented framing: chunked ignores the length; an empty body is done at once.
    assert built.length_remaining == (None if chunked else length)
    assert built._done is (length == 0 and not chunked)
    assert _state(made) == _state(built)
    assert reports[1] == reports[0]  # an empty body is reported done at once by both
    assert _read_all(made) == _read_all(built)
    assert _state(made) == _state(built)
    assert reports[1] == reports[0]


@given(
    method=st.sampled_from(["GET", "POST"]),
    url=st.text(max_size=5),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
)
def test_new_options_is_the_named_tuple(
    method: str, url: str, flags: tuple[bool, bool, bool]
) -> None:
    made = new_options((method, url, *flags))
    expected = _ResponseOptions(method, url, *flags)
    assert type(made) is _ResponseOptions
    assert made == expected
    assert made._asdict() == expected._asdict()
