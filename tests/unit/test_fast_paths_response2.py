"""Second round of response-layer fast paths, each against the general code it stands for.

- ``_http11._read_status`` with its memo of parsed status lines against ``_parse_status`` (the
  general parse), cold and warm, errors included;
- ``HTTPResponse._from_reader`` (what ``read_response`` builds responses with) against the
  keyword constructor: same state, same body, same end-of-body report;
- ``BodyReader(keep_alive=...)`` against the ``on_done`` wrapper it replaces;
- the shared empty decoded-bytes buffer: nothing is ever put into it, and a response with a
  decoder gets a buffer of its own.
"""

from __future__ import annotations

import gzip
import http.client
import io
import logging
import typing

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pooltest import _http11
from pooltest._body import BodyReader
from pooltest._collections import HTTPHeaderDict
from pooltest.response import _NO_DECODED_BYTES, HTTPResponse

# -- status lines -----------------------------------------------------------------------------

_STATUS_PIECES = st.sampled_from(
    ["HTTP/1.1", "HTTP/1.0", "HTTP/2", "ICY", " ", "  ", "200", "099", "1000", "abc", "²00", "OK"]
)
_STATUS_ENDINGS = st.sampled_from(["\r\n", "\n", "\r\r\n", "", " \r\n", "\x85\r\n"])


@st.composite
def _status_lines(draw: st.DrawFn) -> bytes:
    pieces = draw(st.lists(_STATUS_PIECES, max_size=5))
    text = "".join(pieces) + draw(_STATUS_ENDINGS)
    return text.encode("latin-1", "replace")


def _outcome(read: object) -> object:
    try:
        return read()  # type: ignore[operator]
    except http.client.HTTPException as e:
        return (type(e), e.args)


def _general_status(line: bytes) -> object:
    if not line:
        return (http.client.RemoteDisconnected, ("Remote end closed connection without response",))
    return _outcome(lambda: _http11._parse_status(line))


@settings(max_examples=2000)
@given(_status_lines())
@example(b"HTTP/1.1 200 OK\r\n")
@example(b"HTTP/1.0 404  Not  Found \r\n")
@example(b"HTTP/1.1 200\r\n")
@example(b"HTTP/1.1 099 Low\r\n")
@example(b"")
def test_status_memo_agrees_with_the_general_parse(line: bytes) -> None:
    stream = line + b"next" if line.endswith(b"\n") else line
    expected = _general_status(line)
    cold = _outcome(lambda: _http11._read_status(io.BytesIO(stream)))
    warm = _outcome(lambda: _http11._read_status(io.BytesIO(stream)))
    assert cold == warm == expected
    if isinstance(expected, tuple) and isinstance(expected[0], type):
        assert line not in _http11._STATUS_MEMO  # failures are never remembered


def test_the_status_memo_is_used_and_bounded() -> None:
    line = b"HTTP/1.1 299 Memo Test\r\n"
    _http11._read_status(io.BytesIO(line))
    assert _http11._STATUS_MEMO[line] == ("HTTP/1.1", 299, "Memo Test")
    long_line = b"HTTP/1.1 200 " + b"x" * _http11._STATUS_MEMO_LINE + b"\r\n"
    assert _http11._read_status(io.BytesIO(long_line))[1] == 200
    assert long_line not in _http11._STATUS_MEMO
    saved = dict(_http11._STATUS_MEMO)
    try:
        for code in range(100, 100 + 2 * _http11._STATUS_MEMO_SIZE):
            _http11._read_status(io.BytesIO(b"HTTP/1.1 %d X\r\n" % code))
        assert len(_http11._STATUS_MEMO) <= _http11._STATUS_MEMO_SIZE
    finally:
        _http11._STATUS_MEMO.clear()
        _http11._STATUS_MEMO.update(saved)


def test_a_too_long_status_line_is_refused_before_any_memo() -> None:
    line = b"HTTP/1.1 200 " + b"x" * _http11.MAX_LINE + b"\r\n"
    with pytest.raises(http.client.LineTooLong):
        _http11._read_status(io.BytesIO(line))


# -- HTTPResponse._from_reader ----------------------------------------------------------------


def _wire(body: bytes, framing: str) -> tuple[bytes, bool, int | None]:
    if framing == "chunked":
        wire = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
        return wire, True, None
    if framing == "length":
        return body, False, len(body)
    if framing == "short":  # the stream ends before Content-Length says
        return body, False, len(body) + 3
    return body, False, None


def _all_slots(response: HTTPResponse) -> dict[str, object]:
    state: dict[str, object] = {}
    for cls in type(response).__mro__:
        for name in getattr(cls, "__slots__", ()):
            value: typing.Any = getattr(response, name, "<unset>")
            if name in ("_fp", "_reader"):
                value = None if value is None else value.tell()
            elif name == "_decoder":
                value = type(value)
            elif name == "_decoded_buffer":
                value = (type(value), len(value))
            elif name == "headers":
                value = list(value.items())
            state[name] = value
    state["__dict__"] = dict(response.__dict__)
    return state


def _build(kind: str, case: dict[str, object], calls: list[bool]) -> object:
    """A response by ``kind`` ("fast" or "keywords"), or what building it raised."""
    wire, chunked, length = _wire(case["body"], case["framing"])  # type: ignore[arg-type]
    reader = BodyReader(
        io.BytesIO(wire),
        chunked=chunked,
        length=length,
        enforce_content_length=case["enforce"],  # type: ignore[arg-type]
        on_done=calls.append,
        keep_alive=case["keep_alive"],  # type: ignore[arg-type]
    )
    headers = HTTPHeaderDict._from_pairs(case["pairs"])  # type: ignore[arg-type]
    try:
        if kind == "fast":
            return HTTPResponse._from_reader(
                reader,
                headers,
                case["status"],  # type: ignore[arg-type]
                case["version"],  # type: ignore[arg-type]
                "Reason",
                case["preload"],  # type: ignore[arg-type]
                case["decode"],  # type: ignore[arg-type]
                case["enforce"],  # type: ignore[arg-type]
                case["method"],  # type: ignore[arg-type]
                "/where",
                None,
            )
        return HTTPResponse(
            body=reader,
            headers=headers,
            status=case["status"],  # type: ignore[arg-type]
            version=11 if case["version"] == "HTTP/1.1" else 10,
            version_string=case["version"],  # type: ignore[arg-type]
            reason="Reason",
            preload_content=case["preload"],  # type: ignore[arg-type]
            decode_content=case["decode"],  # type: ignore[arg-type]
            enforce_content_length=case["enforce"],  # type: ignore[arg-type]
            request_method=case["method"],  # type: ignore[arg-type]
            request_url="/where",
            sock_shutdown=None,
        )
    except Exception as e:
        return (type(e), str(e))


def _observe(built: object, calls: list[bool]) -> object:
    if not isinstance(built, HTTPResponse):
        return built, list(calls)
    before = _all_slots(built)
    try:
        rest: object = built.read()
    except Exception as e:
        rest = (type(e), str(e))
    return before, rest, _all_slots(built), list(calls)


@settings(max_examples=600)
@given(
    body=st.binary(max_size=40),
    encoding=st.sampled_from([None, "gzip", "", "identity"]),
    transfer_encoding=st.sampled_from([None, "chunked", "gzip"]),
    with_length_header=st.booleans(),
    framing=st.sampled_from(["chunked", "length", "short", "eof"]),
    status=st.sampled_from([200, 204, 301, 304]),
    version=st.sampled_from(["HTTP/1.1", "HTTP/1.0"]),
    method=st.sampled_from(["GET", "HEAD"]),
    preload=st.booleans(),
    decode=st.booleans(),
    enforce=st.booleans(),
    keep_alive=st.booleans(),
)
def test_from_reader_builds_what_the_keyword_constructor_builds(
    body: bytes,
    encoding: str | None,
    transfer_encoding: str | None,
    with_length_header: bool,
    framing: str,
    status: int,
    version: str,
    method: str,
    preload: bool,
    decode: bool,
    enforce: bool,
    keep_alive: bool,
) -> None:
    pairs = [("Server", "x")]
    if encoding is not None:
        pairs.append(("Content-Encoding", encoding))
        if encoding == "gzip":
            body = gzip.compress(body)
    if transfer_encoding is not None:
        pairs.append(("Transfer-Encoding", transfer_encoding))
    if with_length_header:
        pairs.append(("Content-Length", str(len(body))))
    case: dict[str, object] = {
        "body": body,
        "pairs": pairs,
        "framing": framing,
        "status": status,
        "version": version,
        "method": method,
        "preload": preload,
        "decode": decode,
        "enforce": enforce,
        "keep_alive": keep_alive,
    }
    logging.disable(logging.WARNING)  # the Content-Length + chunked warning, logged by both
    try:
        fast_calls: list[bool] = []
        fast = _observe(_build("fast", case, fast_calls), fast_calls)
        general_calls: list[bool] = []
        general = _observe(_build("keywords", case, general_calls), general_calls)
    finally:
        logging.disable(logging.NOTSET)
    assert fast == general


def test_read_response_builds_through_from_reader() -> None:
    from pooltest._base_connection import _ResponseOptions

    wire = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
    options = _ResponseOptions("GET", "/x", True, True, True)
    calls: list[bool] = []
    response = _http11.read_response(io.BytesIO(wire), options, calls.append)
    assert type(response) is HTTPResponse
    assert (response.data, response.version, response.version_string) == (b"abc", 11, "HTTP/1.1")
    assert calls == [True]


# -- BodyReader keep_alive --------------------------------------------------------------------


def _read_pattern(reader: BodyReader, sizes: list[int | None], close: bool) -> object:
    out: list[object] = []
    try:
        for size in sizes:
            out.append(reader.read(size))
        if close:
            reader.close()
    except Exception as e:
        out.append((type(e), str(e)))
    return out


@settings(max_examples=800)
@given(
    body=st.binary(max_size=30),
    framing=st.sampled_from(["chunked", "length", "short", "eof"]),
    sizes=st.lists(st.one_of(st.none(), st.integers(-1, 12)), max_size=5),
    close=st.booleans(),
    keep_alive=st.booleans(),
    enforce=st.booleans(),
)
def test_keep_alive_flag_agrees_with_a_wrapping_callback(
    body: bytes,
    framing: str,
    sizes: list[int | None],
    close: bool,
    keep_alive: bool,
    enforce: bool,
) -> None:
    wire, chunked, length = _wire(body, framing)
    flagged: list[bool] = []
    reader = BodyReader(
        io.BytesIO(wire),
        chunked=chunked,
        length=length,
        enforce_content_length=enforce,
        on_done=flagged.append,
        keep_alive=keep_alive,
    )
    wrapped: list[bool] = []
    general = BodyReader(
        io.BytesIO(wire),
        chunked=chunked,
        length=length,
        enforce_content_length=enforce,
        on_done=lambda clean: wrapped.append(clean and keep_alive),
    )
    assert _read_pattern(reader, sizes, close) == _read_pattern(general, sizes, close)
    assert flagged == wrapped
    assert len(flagged) <= 1


# -- the shared empty decoded-bytes buffer ----------------------------------------------------


@settings(max_examples=300)
@given(
    raw=st.binary(max_size=200),
    encoding=st.sampled_from([None, "gzip", "identity"]),
    sizes=st.lists(st.one_of(st.none(), st.integers(0, 50)), min_size=1, max_size=6),
    use_read1=st.booleans(),
)
def test_the_shared_buffer_stays_empty_and_reads_still_add_up(
    raw: bytes, encoding: str | None, sizes: list[int | None], use_read1: bool
) -> None:
    body = gzip.compress(raw) if encoding == "gzip" else raw
    pairs = [] if encoding is None else [("Content-Encoding", encoding)]
    reader = BodyReader(io.BytesIO(body), chunked=False, length=len(body))
    response = HTTPResponse._from_reader(
        reader, HTTPHeaderDict._from_pairs(pairs), 200, "HTTP/1.1", "OK",
        False, True, True, "GET", "/", None,
    )  # fmt: skip
    assert response._decoded_buffer is _NO_DECODED_BYTES
    pieces = []
    for size in sizes:
        pieces.append(response.read1(size) if use_read1 else response.read(size))
    pieces.append(response.read())
    assert b"".join(pieces) == raw
    assert len(_NO_DECODED_BYTES) == 0
    assert not _NO_DECODED_BYTES.buffer
    if encoding == "gzip":
        assert response._decoded_buffer is not _NO_DECODED_BYTES
