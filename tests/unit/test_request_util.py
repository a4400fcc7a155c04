"""Tests for pooltest.util.request: header shortcuts, body framing, rewinding."""

from __future__ import annotations

import array
import importlib.util
import io
import typing
from collections import deque

import pytest
import urllib3.exceptions as u3exc
from urllib3.util import request as u3request

from pooltest.exceptions import UnrewindableBodyError
from pooltest.util import request as ptrequest
from pooltest.util.request import (
    _FAILEDTELL,
    ACCEPT_ENCODING,
    SKIP_HEADER,
    SKIPPABLE_HEADERS,
    ChunksAndContentLength,
    body_to_chunks,
    make_headers,
    rewind_body,
    set_file_position,
)


def test_skip_constants_match_urllib3() -> None:
    assert SKIP_HEADER == u3request.SKIP_HEADER
    assert SKIPPABLE_HEADERS == u3request.SKIPPABLE_HEADERS


def test_accept_encoding_lists_installed_decoders() -> None:
    expected = ["gzip", "deflate"]
    if importlib.util.find_spec("brotli") or importlib.util.find_spec("brotlicffi"):
        expected.append("br")
    if importlib.util.find_spec("zstandard"):
        expected.append("zstd")
    assert ",".join(expected) == ACCEPT_ENCODING
    assert make_headers(accept_encoding=True) == {"accept-encoding": ACCEPT_ENCODING}


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"keep_alive": True},
        {"keep_alive": False},
        {"accept_encoding": "gzip"},
        {"accept_encoding": ["gzip", "br"]},
        {"accept_encoding": []},
        {"accept_encoding": False},
        {"user_agent": "Batman/1.0"},
        {"basic_auth": "user:pässword"},
        {"basic_auth": "user:pässword", "basic_auth_encoding": "utf-8"},
        {"proxy_basic_auth": "p:q"},
        {"proxy_basic_auth": "p:€", "proxy_basic_auth_encoding": "utf-8"},
        {"disable_cache": True},
        {
            "keep_alive": True,
            "accept_encoding": "identity",
            "user_agent": "x",
            "basic_auth": "a:b",
            "proxy_basic_auth": "c:d",
            "disable_cache": True,
        },
    ],
)
def test_make_headers_matches_urllib3(kwargs: dict[str, typing.Any]) -> None:
    ours = make_headers(**kwargs)
    theirs = u3request.make_headers(**kwargs)
    assert ours == theirs
    assert list(ours) == list(theirs)


def test_make_headers_basic_auth_value() -> None:
    assert make_headers(basic_auth="aladdin:opensesame") == {
        "authorization": "Basic YWxhZGRpbjpvcGVuc2VzYW1l"
    }


def test_make_headers_latin1_rejects_unencodable() -> None:
    with pytest.raises(UnicodeEncodeError):
        make_headers(basic_auth="user:€")


# -- set_file_position / rewind_body ----------------------------------------------------------


class NoTell:
    def read(self, n: int = -1) -> bytes:
        return b""


class BadTell(io.BytesIO):
    def tell(self) -> int:
        raise OSError("no tell")


class BadSeek(io.BytesIO):
    def seek(self, offset: int, whence: int = 0) -> int:
        raise OSError("no seek")


def test_set_file_position_records_and_rewinds() -> None:
    body = io.BytesIO(b"0123456789")
    body.read(3)
    pos = set_file_position(body, None)
    assert pos == 3
    body.read()
    assert set_file_position(body, pos) == 3
    assert body.read() == b"3456789"


def test_set_file_position_without_tell() -> None:
    assert set_file_position(NoTell(), None) is None
    assert set_file_position(b"bytes", None) is None


def test_failed_tell_is_recorded_then_refused() -> None:
    pos = set_file_position(BadTell(b"x"), None)
    assert pos is _FAILEDTELL
    with pytest.raises(UnrewindableBodyError, match="Unable to record file position"):
        rewind_body(BadTell(b"x"), pos)


def _error_of(call: typing.Callable[[], object]) -> BaseException:
    with pytest.raises(BaseException) as info:  # noqa: PT011 - the type is what we compare.
        call()
    return info.value


@pytest.mark.parametrize(
    ("body_factory", "pos_name"),
    [
        (lambda: BadSeek(b"x"), "int"),
        (lambda: BadTell(b"x"), "failed"),
        (NoTell, "int"),
        (lambda: io.BytesIO(b"x"), "str"),
    ],
)
def test_rewind_errors_match_urllib3(
    body_factory: typing.Callable[[], typing.Any], pos_name: str
) -> None:
    ours_pos: typing.Any = {"int": 0, "failed": _FAILEDTELL, "str": "0"}[pos_name]
    theirs_pos: typing.Any = {"int": 0, "failed": u3request._FAILEDTELL, "str": "0"}[pos_name]
    ours = _error_of(lambda: rewind_body(body_factory(), ours_pos))
    theirs = _error_of(lambda: u3request.rewind_body(body_factory(), theirs_pos))
    assert type(ours).__name__ == type(theirs).__name__
    assert str(ours) == str(theirs)
    if isinstance(theirs, u3exc.UnrewindableBodyError):
        assert isinstance(ours, UnrewindableBodyError)


def test_rewind_seek_error_is_chained() -> None:
    with pytest.raises(UnrewindableBodyError) as info:
        rewind_body(BadSeek(b"x"), 0)
    assert isinstance(info.value.__cause__, OSError)


# -- body_to_chunks ---------------------------------------------------------------------------


def _gen() -> typing.Iterator[bytes]:
    yield b"a"
    yield b"bc"


BODIES: list[tuple[str, typing.Callable[[], typing.Any]]] = [
    ("none", lambda: None),
    ("bytes", lambda: b"hello"),
    ("empty-bytes", lambda: b""),
    ("str", lambda: "h\u00e9llo \u20ac"),
    ("bytearray", lambda: bytearray(b"abc")),
    ("memoryview", lambda: memoryview(b"abcdef")[1:4]),
    ("array", lambda: array.array("i", [1, 2, 3])),
    ("bytesio", lambda: io.BytesIO(b"x" * 10)),
    ("stringio", lambda: io.StringIO("\u00e9" * 5)),
    ("list", lambda: [b"a", b"bc"]),
    ("tuple", lambda: (b"a", b"bc")),
    ("deque", lambda: deque([b"a", b"bc"])),
    ("generator", _gen),
]


def _materialise(result: typing.Any) -> tuple[list[bytes] | None, int | None]:
    chunks = None if result.chunks is None else [bytes(c) for c in result.chunks]
    return chunks, result.content_length


@pytest.mark.parametrize("method", ["GET", "get", "POST", "PUT", "HEAD", "PURGE", "CONNECT"])
@pytest.mark.parametrize(("name", "factory"), BODIES)
def test_body_to_chunks_matches_urllib3(
    name: str, factory: typing.Callable[[], typing.Any], method: str
) -> None:
    ours = body_to_chunks(factory(), method=method, blocksize=4)
    theirs = u3request.body_to_chunks(factory(), method=method, blocksize=4)
    assert isinstance(ours, ChunksAndContentLength)
    assert _materialise(ours) == _materialise(theirs)


def test_file_bodies_are_read_in_blocks() -> None:
    result = body_to_chunks(io.BytesIO(b"0123456789"), method="POST", blocksize=4)
    assert result.content_length is None
    assert list(result.chunks or ()) == [b"0123", b"4567", b"89"]


def test_text_file_bodies_are_utf8() -> None:
    result = body_to_chunks(io.StringIO("\u00e9\u00e9\u00e9"), method="POST", blocksize=2)
    assert list(result.chunks or ()) == [b"\xc3\xa9\xc3\xa9", b"\xc3\xa9"]


def test_file_body_is_read_lazily() -> None:
    body = io.BytesIO(b"abcdef")
    chunks = iter(body_to_chunks(body, method="POST", blocksize=2).chunks or ())
    assert body.tell() == 0
    assert next(chunks) == b"ab"
    assert body.tell() == 2


class SizedBody:
    """Shaped like a streaming multipart body: re-iterable with a known byte length."""

    def __init__(self, parts: list[bytes]) -> None:
        self.parts = parts

    def __len__(self) -> int:
        return sum(map(len, self.parts))

    def __iter__(self) -> typing.Iterator[bytes]:
        return iter(self.parts)


def test_sized_iterable_bodies_announce_their_length() -> None:
    result = body_to_chunks(SizedBody([b"abc", b"de"]), method="POST", blocksize=4)
    assert result.content_length == 5
    assert list(result.chunks or ()) == [b"abc", b"de"]


def test_multipart_body_from_filepost_is_sized() -> None:
    filepost = pytest.importorskip("pooltest.filepost")
    streamer = getattr(filepost, "multipart_body", None)
    if streamer is None:
        pytest.skip("streaming multipart body not available")
    body, _ = streamer({"f": ("a.bin", io.BytesIO(b"\x00" * 1000))}, boundary="b")
    result = body_to_chunks(body, method="POST", blocksize=16384)
    assert result.content_length == len(body)
    assert len(b"".join(result.chunks or ())) == len(body) > 1000


def test_containers_of_chunks_stay_chunked() -> None:
    for body in ([b"abc"], (b"abc",), {b"abc"}, {b"abc": 1}):
        assert body_to_chunks(body, method="POST", blocksize=4).content_length is None


@pytest.mark.parametrize("body", [123, 4.5, object()])
def test_bad_bodies_raise_like_urllib3(body: object) -> None:
    with pytest.raises(TypeError) as ours:
        body_to_chunks(body, method="POST", blocksize=4)
    with pytest.raises(TypeError) as theirs:
        u3request.body_to_chunks(body, method="POST", blocksize=4)
    assert str(ours.value) == str(theirs.value)


def test_module_exports() -> None:
    for name in ptrequest.__all__:
        assert hasattr(ptrequest, name)
    assert ptrequest._TYPE_BODY is not None
