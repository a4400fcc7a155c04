"""Tests for pooltest.filepost: urllib3-identical multipart bytes, and the streaming body."""

from __future__ import annotations

import gc
import hashlib
import io
import os
import pathlib
import re
import tracemalloc
import typing

import pytest
import urllib3.fields
import urllib3.filepost as u3
from hypothesis import given, settings
from hypothesis import strategies as st

from pooltest import filepost as pt
from pooltest.fields import RequestField

BOUNDARY = "b0und4ry"
CHUNK = 64 * 1024

texts = st.text(
    alphabet=st.one_of(st.sampled_from(['"', "\r", "\n", "%", "é", "名"]), st.characters()),
    max_size=12,
)
datas = st.one_of(texts, st.binary(max_size=64))
values = st.one_of(
    datas,
    st.tuples(texts, datas),
    st.tuples(texts, datas, st.sampled_from(["text/plain", "image/png"])),
)
field_lists = st.lists(st.tuples(texts, values), max_size=5)


def _outcome(call: typing.Callable[[], object]) -> object:
    try:
        return call()
    except Exception as exc:
        return type(exc)


def _with_files(fields: list[tuple[str, typing.Any]]) -> list[tuple[str, typing.Any]]:
    """The same fields with every file tuple's data turned into a BytesIO."""
    result: list[tuple[str, typing.Any]] = []
    for name, value in fields:
        if isinstance(value, tuple):
            data = value[1].encode() if isinstance(value[1], str) else value[1]
            result.append((name, (value[0], io.BytesIO(data), *value[2:])))
        else:
            result.append((name, value))
    return result


def _streamed(body: pt.MultipartBody) -> bytes:
    chunks = list(body)
    assert all(0 < len(chunk) <= CHUNK and type(chunk) is bytes for chunk in chunks)
    return b"".join(chunks)


def test_choose_boundary_is_random_hex() -> None:
    first, second = pt.choose_boundary(), pt.choose_boundary()
    assert re.fullmatch("[0-9a-f]{32}", first)
    assert first != second
    assert len(u3.choose_boundary()) == len(first)


def test_encode_multipart_formdata_exact_bytes() -> None:
    fields: list[typing.Any] = [("k", "v"), ("f", ("a.txt", b"\x00data")), ("n", 7)]
    body, content_type = pt.encode_multipart_formdata(fields, boundary=BOUNDARY)
    assert content_type == "multipart/form-data; boundary=b0und4ry"
    assert body == (
        b"--b0und4ry\r\n"
        b'Content-Disposition: form-data; name="k"\r\n\r\n'
        b"v\r\n"
        b"--b0und4ry\r\n"
        b'Content-Disposition: form-data; name="f"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n"
        b"\x00data\r\n"
        b"--b0und4ry\r\n"
        b'Content-Disposition: form-data; name="n"\r\n\r\n'
        b"7\r\n"
        b"--b0und4ry--\r\n"
    )


def test_encode_multipart_formdata_empty() -> None:
    assert pt.encode_multipart_formdata({}, boundary=BOUNDARY) == (
        b"--b0und4ry--\r\n",
        "multipart/form-data; boundary=b0und4ry",
    )


def test_encode_multipart_formdata_random_boundary() -> None:
    body, content_type = pt.encode_multipart_formdata({"k": "v"})
    boundary = content_type.split("boundary=")[1]
    assert re.fullmatch("[0-9a-f]{32}", boundary)
    assert body.startswith(f"--{boundary}\r\n".encode())
    assert body.endswith(f"--{boundary}--\r\n".encode())


@given(fields=field_lists, as_dict=st.booleans(), boundary=st.sampled_from([BOUNDARY, "é", "€"]))
def test_encode_multipart_formdata_matches_urllib3(
    fields: list[tuple[str, typing.Any]], as_dict: bool, boundary: str
) -> None:
    given_fields: typing.Any = dict(fields) if as_dict else fields
    ours = _outcome(lambda: pt.encode_multipart_formdata(given_fields, boundary))
    theirs = _outcome(lambda: u3.encode_multipart_formdata(given_fields, boundary))
    assert ours == theirs


@pytest.mark.parametrize("data", [bytearray(b"ab"), memoryview(b"cd"), 12, True, "é"])
def test_encode_multipart_formdata_odd_data_matches_urllib3(data: typing.Any) -> None:
    fields = {"k": data}
    assert pt.encode_multipart_formdata(fields, BOUNDARY) == u3.encode_multipart_formdata(
        fields, BOUNDARY
    )


@pytest.mark.parametrize("data", [None, 1.5, ["a"]])
def test_encode_multipart_formdata_rejects_other_data(data: typing.Any) -> None:
    with pytest.raises(TypeError):
        pt.encode_multipart_formdata({"k": data}, BOUNDARY)
    with pytest.raises(TypeError):
        u3.encode_multipart_formdata({"k": data}, BOUNDARY)


def test_encode_multipart_formdata_with_request_fields_matches_urllib3() -> None:
    ours = RequestField("n", b"v", filename="x.bin", headers={"X-Extra": "1"})
    ours.make_multipart(content_type="a/b")
    theirs = urllib3.fields.RequestField("n", b"v", filename="x.bin", headers={"X-Extra": "1"})
    theirs.make_multipart(content_type="a/b")
    assert pt.encode_multipart_formdata(
        [ours, ("k", "v")], BOUNDARY
    ) == u3.encode_multipart_formdata([theirs, ("k", "v")], BOUNDARY)


def test_encode_multipart_formdata_reads_file_objects() -> None:
    file = io.BytesIO(b"skip-content")
    file.seek(5)
    body, _ = pt.encode_multipart_formdata({"f": ("a.bin", file)}, BOUNDARY)
    assert body == pt.encode_multipart_formdata({"f": ("a.bin", b"content")}, BOUNDARY)[0]


def test_iter_field_objects() -> None:
    field = RequestField("r", "v")
    produced = list(pt.iter_field_objects([("a", "1"), field]))
    assert produced[1] is field
    assert produced[0].data == "1"
    assert [f._name for f in pt.iter_field_objects({"x": "1", "y": ("f", "2")})] == ["x", "y"]


def test_multipart_body_without_files_is_bytes() -> None:
    fields: dict[str, typing.Any] = {"k": "v", "f": ("a.txt", b"data")}
    assert pt.multipart_body(fields, BOUNDARY) == pt.encode_multipart_formdata(fields, BOUNDARY)


def test_multipart_body_random_boundary() -> None:
    body, content_type = pt.multipart_body({"f": ("a", io.BytesIO(b"x"))})
    assert isinstance(body, pt.MultipartBody)
    assert content_type == body.content_type == f"multipart/form-data; boundary={body.boundary}"
    assert re.fullmatch("[0-9a-f]{32}", body.boundary)


@settings(max_examples=50, deadline=None)
@given(fields=field_lists)
def test_streamed_body_equals_encoded_bytes(fields: list[tuple[str, typing.Any]]) -> None:
    expected = _outcome(lambda: pt.encode_multipart_formdata(fields, BOUNDARY)[0])
    body = _outcome(lambda: pt.MultipartBody(pt.iter_field_objects(_with_files(fields)), BOUNDARY))
    if isinstance(body, pt.MultipartBody):
        assert len(body) == len(_streamed(body))
        assert _streamed(body) == expected
    else:
        assert body == expected  # both failed the same way (e.g. a non-latin-1 boundary)


@settings(max_examples=30, deadline=None)
@given(
    sizes=st.lists(
        st.one_of(
            st.integers(0, 3 * CHUNK),
            st.sampled_from([CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK - 200]),
        ),
        min_size=1,
        max_size=3,
    ),
    seed=st.binary(min_size=1, max_size=32),
    text_size=st.sampled_from([0, 10, CHUNK - 150, CHUNK + 5, 3 * CHUNK]),
)
def test_streamed_binary_files_round_trip(sizes: list[int], seed: bytes, text_size: int) -> None:
    contents = [(seed * (size // len(seed) + 1))[:size] for size in sizes]
    in_memory: list[tuple[str, typing.Any]] = [("text", "t" * text_size)]
    streamed: list[tuple[str, typing.Any]] = [("text", "t" * text_size)]
    for index, content in enumerate(contents):
        in_memory.append((f"f{index}", (f"{index}.bin", content)))
        streamed.append((f"f{index}", (f"{index}.bin", io.BytesIO(content))))
    expected, content_type = pt.encode_multipart_formdata(in_memory, BOUNDARY)
    body, streamed_type = pt.multipart_body(streamed, BOUNDARY)
    assert isinstance(body, pt.MultipartBody)
    assert streamed_type == content_type
    assert len(body) == len(expected)
    assert _streamed(body) == expected
    assert _streamed(body) == expected  # a second pass rewinds every file


def test_streaming_starts_at_each_files_initial_position(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"HEADER" + bytes(range(256)) * 600)
    with path.open("rb") as file:
        file.seek(6)
        body, _ = pt.multipart_body({"f": ("d.bin", file), "k": "v"}, BOUNDARY)
        assert isinstance(body, pt.MultipartBody)
        assert file.tell() == 6  # measuring the size left the position alone
        expected = pt.encode_multipart_formdata(
            {"f": ("d.bin", bytes(range(256)) * 600), "k": "v"}, BOUNDARY
        )[0]
        assert len(body) == len(expected)
        assert _streamed(body) == expected
        file.seek(0)
        assert _streamed(body) == expected


def test_file_that_grows_sends_only_the_measured_size(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "grow.bin"
    path.write_bytes(b"abc")
    with path.open("rb") as file:
        body, _ = pt.multipart_body({"f": ("g", file)}, BOUNDARY)
        assert isinstance(body, pt.MultipartBody)
        with path.open("ab") as appender:
            appender.write(b"more")
        assert _streamed(body) == pt.encode_multipart_formdata({"f": ("g", b"abc")}, BOUNDARY)[0]


def test_file_that_shrinks_raises(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "shrink.bin"
    path.write_bytes(b"x" * 100)
    with path.open("rb") as file:
        body, _ = pt.multipart_body({"f": ("s", file)}, BOUNDARY)
        assert isinstance(body, pt.MultipartBody)
        path.write_bytes(b"x" * 10)
        with pytest.raises(ValueError, match="ended 90 bytes early"):
            list(body)


class _Unseekable(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer: typing.Any) -> int:
        return 0


class _ReadOnly:
    """Has read() but no seek/tell at all."""

    def read(self, size: int = -1) -> bytes:
        return b""


@pytest.mark.parametrize("make", [_Unseekable, _ReadOnly])
def test_unknowable_size_raises_value_error(make: typing.Callable[[], typing.Any]) -> None:
    with pytest.raises(ValueError, match="its size cannot be known"):
        pt.multipart_body({"f": ("u.bin", make())}, BOUNDARY)


def test_pipe_raises_value_error() -> None:
    read_fd, write_fd = os.pipe()
    with (
        os.fdopen(read_fd, "rb") as reader,
        os.fdopen(write_fd, "wb"),
        pytest.raises(ValueError, match="'f'"),
    ):
        pt.multipart_body({"f": ("p.bin", reader)}, BOUNDARY)


def test_text_mode_file_raises_type_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("text")
    with path.open() as file, pytest.raises(TypeError, match="binary mode"):
        pt.multipart_body({"f": ("t.txt", typing.cast(typing.Any, file))}, BOUNDARY)


def test_reader_returning_str_raises_type_error() -> None:
    fake = typing.cast(typing.Any, io.BytesIO(b"abc"))
    fake.read = lambda size=-1: "abc"
    body, _ = pt.multipart_body({"f": ("r", fake)}, BOUNDARY)
    assert isinstance(body, pt.MultipartBody)
    with pytest.raises(TypeError, match="binary mode"):
        list(body)


def test_file_objects_are_not_closed() -> None:
    file = io.BytesIO(b"abc")
    body, _ = pt.multipart_body({"f": ("a", file)}, BOUNDARY)
    assert isinstance(body, pt.MultipartBody)
    list(body)
    assert not file.closed
    assert "length=" in repr(body)


def test_large_file_streams_in_small_memory(tmp_path: pathlib.Path) -> None:
    block = os.urandom(1024 * 1024)
    blocks = 50  # a 50 MiB file
    path = tmp_path / "big.bin"
    with path.open("wb") as out:
        for _ in range(blocks):
            out.write(block)
    head, tail = pt.encode_multipart_formdata({"big": ("big.bin", b"")}, BOUNDARY)[0].split(
        b"\r\n\r\n\r\n"
    )
    expected = hashlib.sha256(head + b"\r\n\r\n")
    for _ in range(blocks):
        expected.update(block)
    expected.update(b"\r\n" + tail)
    with path.open("rb") as file:
        gc.collect()
        tracemalloc.start()
        try:
            body, _ = pt.multipart_body({"big": ("big.bin", file)}, BOUNDARY)
            assert isinstance(body, pt.MultipartBody)
            digest = hashlib.sha256()
            total = 0
            for chunk in body:
                assert len(chunk) <= CHUNK
                total += len(chunk)
                digest.update(chunk)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert total == len(body) == len(head) + 4 + blocks * len(block) + 2 + len(tail)
    assert digest.hexdigest() == expected.hexdigest()
    assert peak < 1024 * 1024  # a few chunks, nowhere near the file's 50 MiB
