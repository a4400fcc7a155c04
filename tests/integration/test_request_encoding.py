"""Request encoding end to end: what ``request``/``request_encode_url``/``request_encode_body`` put
on the wire, as a real server receives and parses it.

``fields`` go into the URL for GET/HEAD/DELETE/OPTIONS and into the body otherwise (multipart by
default, x-www-form-urlencoded on request); ``json=`` and ``body=`` are sent as given. Where the
behaviour is urllib3's, the same call goes through ``urllib3.PoolManager`` and the server's view
is compared byte for byte (a fixed ``multipart_boundary`` makes multipart bodies comparable).
The streaming multipart upload (a file object in a file tuple) is pooltest's own and is checked
by parsing a multi-MiB upload back on the server, also after a 307 redirect that resends it.
"""

from __future__ import annotations

import base64
import io
import random
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import urllib3
from support import KeepAliveServer

import pooltest
from pooltest.poolmanager import PoolManager

pytestmark = pytest.mark.network

LIBS = pytest.mark.parametrize("lib", [pooltest, urllib3], ids=["pooltest", "urllib3"])
URL_METHODS = ["GET", "HEAD", "DELETE", "OPTIONS"]
BODY_METHODS = ["POST", "PUT", "PATCH", "PROPFIND"]
BOUNDARY = "pooltest-fixed-boundary-0123456789"

#: Fields with repeats, non-ASCII text and bytes values, as a list to keep their order.
URL_FIELDS: list[tuple[str, str | bytes]] = [
    ("a", "1"),
    ("b", "x y"),
    ("b", "caf\u00e9"),
    ("c", b"bytes&more"),
]
URL_QUERY = "a=1&b=x+y&b=caf%C3%A9&c=bytes%26more"

FILE_FIELDS: dict[str, Any] = {
    "name": "value",
    "text": "caf\u00e9 \u2713",
    "plain": ("notes.txt", "text file\r\nwith CRLF"),
    "binary": ("blob.dat", bytes(range(256)) * 4),
    "typed": ("photo.jpg", b"\xff\xd8\xff\xe0 not really", "image/x-custom"),
}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


FILE_FIELDS_PARSED = {
    "form": {"name": ["value"], "text": ["caf\u00e9 \u2713"]},
    "files": {
        "plain": ["notes.txt", "text/plain", _b64(b"text file\r\nwith CRLF")],
        "binary": ["blob.dat", "application/octet-stream", _b64(bytes(range(256)) * 4)],
        "typed": ["photo.jpg", "image/x-custom", _b64(b"\xff\xd8\xff\xe0 not really")],
    },
}


def _echo(response: Any) -> dict[str, Any]:
    """The server's view of a request sent to ``/echo``, in comparable form."""
    echo = response.json()
    headers = {name.lower(): value for name, value in echo["headers"]}
    return {
        "method": echo["method"],
        "target": echo["target"],
        "body": base64.b64decode(echo["body_base64"]),
        "content_type": headers.get("content-type"),
        "content_length": headers.get("content-length"),
        "chunked": echo["chunked"],
    }


def _both(call: Callable[[Any], Any]) -> tuple[Any, Any]:
    """Run ``call(manager)`` through a pooltest and a urllib3 PoolManager; return both results."""
    results = []
    for lib in (pooltest, urllib3):
        with lib.PoolManager() as http:
            results.append(call(http))
    return results[0], results[1]


def _form(response: Any) -> dict[str, Any]:
    parsed = response.json()
    return {"form": parsed["form"], "files": parsed["files"]}


# --- where fields go ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", URL_METHODS)
def test_fields_go_in_the_url_for_url_methods(http_server: KeepAliveServer, method: str) -> None:
    def call(http: Any) -> Any:
        r = http.request(method.lower(), http_server.url + "/echo", fields=URL_FIELDS)
        record = http_server.request_log[-1]
        return r.status, record.method, record.path, r.data if method == "HEAD" else _echo(r)

    ours, theirs = _both(call)
    assert ours == theirs
    assert ours[1:3] == (method, "/echo?" + URL_QUERY)
    if method != "HEAD":
        assert (ours[3]["body"], ours[3]["content_type"]) == (b"", None)


@pytest.mark.parametrize("method", BODY_METHODS)
def test_fields_go_in_the_body_for_other_methods(http_server: KeepAliveServer, method: str) -> None:
    def call(http: Any) -> Any:
        r = http.request(method, http_server.url + "/upload", fields=FILE_FIELDS)
        record = http_server.request_log[-1]
        return record.method, record.path, _form(r)

    ours, theirs = _both(call)
    assert ours == theirs == (method, "/upload", FILE_FIELDS_PARSED)


@LIBS
def test_request_encode_url_appends_fields_and_passes_headers(
    http_server: KeepAliveServer, lib: ModuleType
) -> None:
    with lib.PoolManager(headers={"X-Default": "d"}) as http:
        r = http.request_encode_url(
            "GET", http_server.url + "/echo", fields={"q": "a b"}, headers={"X-Call": "c"}
        )
        echo = r.json()
        assert echo["target"] == "/echo?q=a+b"
        assert ["X-Call", "c"] in echo["headers"]
        assert all(name != "X-Default" for name, _ in echo["headers"])
        r = http.request_encode_url("GET", http_server.url + "/echo")
        assert r.json()["target"] == "/echo"
        assert ["X-Default", "d"] in r.json()["headers"]


# --- request_encode_body --------------------------------------------------------------------------


@LIBS
def test_request_encode_body_multipart_with_file_tuples(
    http_server: KeepAliveServer, lib: ModuleType
) -> None:
    with lib.PoolManager() as http:
        r = http.request_encode_body("POST", http_server.url + "/upload", fields=FILE_FIELDS)
        assert _form(r) == FILE_FIELDS_PARSED
        assert r.json()["content_type"].startswith("multipart/form-data; boundary=")


def test_fixed_boundary_multipart_bytes_match_urllib3(http_server: KeepAliveServer) -> None:
    def call(http: Any) -> Any:
        r = http.request_encode_body(
            "POST", http_server.url + "/echo", fields=FILE_FIELDS, multipart_boundary=BOUNDARY
        )
        return _echo(r)

    ours, theirs = _both(call)
    assert ours == theirs
    assert ours["content_type"] == f"multipart/form-data; boundary={BOUNDARY}"
    assert ours["content_length"] == str(len(ours["body"]))
    assert ours["body"].startswith(f"--{BOUNDARY}\r\n".encode())
    assert ours["body"].endswith(f"--{BOUNDARY}--\r\n".encode())


@pytest.mark.parametrize("name", ["Content-Type", "content-type", "CONTENT-TYPE"])
def test_callers_content_type_is_replaced_by_the_boundary_one(
    http_server: KeepAliveServer, name: str
) -> None:
    with PoolManager() as http:
        r = http.request(
            "POST",
            http_server.url + "/upload",
            fields=FILE_FIELDS,
            headers={name: "text/plain", "X-Other": "kept"},
            multipart_boundary=BOUNDARY,
        )
    assert _form(r) == FILE_FIELDS_PARSED
    assert r.json()["content_type"] == f"multipart/form-data; boundary={BOUNDARY}"
    assert http_server.request_log[-1].method == "POST"


def test_callers_content_type_replaced_exactly_once_on_the_wire(
    http_server: KeepAliveServer,
) -> None:
    with PoolManager() as http:
        r = http.request_encode_body(
            "POST",
            http_server.url + "/echo",
            fields={"a": "b"},
            headers={"content-type": "application/json"},
            encode_multipart=False,
        )
    types = [value for name, value in r.json()["headers"] if name.lower() == "content-type"]
    assert types == ["application/x-www-form-urlencoded"]


def test_urllib3_keeps_the_callers_content_type(http_server: KeepAliveServer) -> None:
    # The documented deviation: urllib3 2.x keeps it, so the server cannot find the boundary.
    with urllib3.PoolManager() as http:
        r = http.request(
            "POST", http_server.url + "/echo", fields={"a": "b"}, headers={"Content-Type": "x/y"}
        )
    assert _echo(r)["content_type"] == "x/y"


@LIBS
def test_urlencoded_body_when_encode_multipart_is_false(
    http_server: KeepAliveServer, lib: ModuleType
) -> None:
    with lib.PoolManager() as http:
        r = http.request(
            "POST", http_server.url + "/upload", fields=URL_FIELDS, encode_multipart=False
        )
        parsed = r.json()
        assert parsed["content_type"] == "application/x-www-form-urlencoded"
        assert parsed["form"] == {"a": ["1"], "b": ["x y", "caf\u00e9"], "c": ["bytes&more"]}
        assert parsed["body_length"] == len(URL_QUERY)


def test_urlencoded_body_matches_urllib3(http_server: KeepAliveServer) -> None:
    def call(http: Any) -> Any:
        url = http_server.url + "/echo"
        return _echo(http.request("PUT", url, fields=URL_FIELDS, encode_multipart=False))

    ours, theirs = _both(call)
    assert ours == theirs
    assert ours["body"] == URL_QUERY.encode()


@LIBS
def test_fields_and_body_together_raise_type_error(lib: ModuleType) -> None:
    with lib.PoolManager() as http, pytest.raises(TypeError, match="'fields' and 'body'"):
        http.request("POST", "http://127.0.0.1:1/", fields={"a": "b"}, body=b"x")


# --- json= and body= ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [{"a": 1, "b": [True, None, 2.5]}, ["caf\u00e9", "\u2603", {"nested": {}}], "text", 0, False],
    ids=["object", "unicode-list", "string", "zero", "false"],
)
def test_json_body_matches_urllib3(http_server: KeepAliveServer, payload: Any) -> None:
    def call(http: Any) -> Any:
        return _echo(http.request("POST", http_server.url + "/echo", json=payload))

    ours, theirs = _both(call)
    assert ours == theirs
    assert ours["content_type"] == "application/json"
    with PoolManager() as http:
        assert http.request("POST", http_server.url + "/upload", json=payload).json()["json"] == (
            payload
        )


@LIBS
def test_json_keeps_the_callers_content_type(http_server: KeepAliveServer, lib: ModuleType) -> None:
    with lib.PoolManager(headers={"content-type": "application/vnd.api+json"}) as http:
        r = http.request("PATCH", http_server.url + "/upload", json={"x": 1})
        assert (r.json()["content_type"], r.json()["json"]) == (
            "application/vnd.api+json",
            {"x": 1},
        )
        assert http.headers == {"content-type": "application/vnd.api+json"}


@LIBS
def test_json_and_body_together_raise_type_error(lib: ModuleType) -> None:
    with lib.PoolManager() as http, pytest.raises(TypeError, match="mutually exclusive"):
        http.request("POST", "http://127.0.0.1:1/", json={}, body=b"x")


@pytest.mark.parametrize(
    "make_body",
    [
        lambda: b"raw \x00 bytes",
        lambda: "text caf\u00e9",
        lambda: [b"chunk one, ", "chunk two, ", b"chunk three"],
        lambda: io.BytesIO(b"from a file object" * 1000),
        lambda: b"",
    ],
    ids=["bytes", "str", "iterable", "file", "empty"],
)
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_body_matches_urllib3(http_server: KeepAliveServer, make_body: Any, method: str) -> None:
    def call(http: Any) -> Any:
        return _echo(http.request(method, http_server.url + "/echo", body=make_body()))

    ours, theirs = _both(call)
    assert ours == theirs


# --- default headers stay untouched --------------------------------------------------------------


@LIBS
def test_encoding_does_not_leak_into_default_headers(
    http_server: KeepAliveServer, lib: ModuleType
) -> None:
    defaults = {"X-Default": "1"}
    with lib.PoolManager(headers=defaults) as http:
        http.request("POST", http_server.url + "/upload", fields={"a": "b"})
        http.request("POST", http_server.url + "/upload", json={"a": "b"})
        echo = _echo(http.request("GET", http_server.url + "/echo"))
    assert defaults == {"X-Default": "1"}
    assert echo["content_type"] is None


# --- streaming multipart uploads ------------------------------------------------------------------


def _payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def test_streamed_file_upload_of_a_few_mib_is_parsed_back_exactly(
    http_server: KeepAliveServer, tmp_path: Path
) -> None:
    big = _payload(3 * 1024 * 1024 + 123, seed=1)
    small = _payload(70_000, seed=2)
    (tmp_path / "big.bin").write_bytes(big)
    with (
        PoolManager() as http,
        (tmp_path / "big.bin").open("rb") as big_file,
        io.BytesIO(small) as small_file,
    ):
        r = http.request(
            "POST",
            http_server.url + "/upload",
            fields={
                "before": "first",
                "big": ("big.bin", big_file),
                "middle": "caf\u00e9",
                "small": ("small.csv", small_file, "text/csv"),
                "after": "last",
            },
        )
    parsed = r.json()
    assert parsed["form"] == {"before": ["first"], "middle": ["caf\u00e9"], "after": ["last"]}
    assert parsed["files"]["big"][:2] == ["big.bin", "application/octet-stream"]
    assert base64.b64decode(parsed["files"]["big"][2]) == big
    assert parsed["files"]["small"][:2] == ["small.csv", "text/csv"]
    assert base64.b64decode(parsed["files"]["small"][2]) == small
    assert parsed["body_length"] > len(big) + len(small)


def test_streamed_upload_announces_content_length_not_chunked(
    http_server: KeepAliveServer,
) -> None:
    data = _payload(200_000, seed=3)
    with PoolManager() as http:
        r = http.request(
            "POST",
            http_server.url + "/echo",
            fields={"f": ("f.bin", io.BytesIO(data)), "g": "x"},
            multipart_boundary=BOUNDARY,
        )
        echo = _echo(r)
        in_memory = _echo(
            http.request(
                "POST",
                http_server.url + "/echo",
                fields={"f": ("f.bin", data), "g": "x"},
                multipart_boundary=BOUNDARY,
            )
        )
    assert echo["chunked"] is False
    assert echo["content_length"] == str(len(echo["body"]))
    assert echo == in_memory  # streaming sends exactly what in-memory encoding would


def test_streamed_upload_starts_at_the_files_position(http_server: KeepAliveServer) -> None:
    data = _payload(100_000, seed=4)
    file = io.BytesIO(data)
    file.seek(1000)
    with PoolManager() as http:
        r = http.request("POST", http_server.url + "/upload", fields={"f": ("f.bin", file)})
    assert base64.b64decode(r.json()["files"]["f"][2]) == data[1000:]


@pytest.mark.parametrize("status", [307, 308])
def test_streamed_upload_is_resent_whole_after_a_redirect(
    http_server: KeepAliveServer, status: int
) -> None:
    data = _payload(1024 * 1024 + 7, seed=5)
    with PoolManager() as http, io.BytesIO(data) as file:
        r = http.request(
            "POST",
            f"{http_server.url}/redirect?status={status}&to=/upload",
            fields={"f": ("f.bin", file), "k": "v"},
        )
    assert r.status == 200
    assert base64.b64decode(r.json()["files"]["f"][2]) == data
    assert r.json()["form"] == {"k": ["v"]}
    assert [(rec.method, rec.path.split("?")[0]) for rec in http_server.request_log] == [
        ("POST", "/redirect"),
        ("POST", "/upload"),
    ]


def test_streamed_upload_through_a_pool(http_server: KeepAliveServer) -> None:
    data = _payload(500_000, seed=6)
    with pooltest.HTTPConnectionPool(http_server.host, http_server.port) as pool:
        r = pool.request("PUT", "/upload", fields={"f": ("f.bin", io.BytesIO(data))})
        again = pool.request("GET", "/echo")
    assert base64.b64decode(r.json()["files"]["f"][2]) == data
    assert again.json()["connection_id"] == 0  # keep-alive survives a streamed body
