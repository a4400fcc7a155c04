"""The cassette file format: vcrpy version-1 YAML both ways, safe loading, atomic saving.

vcrpy (installed in the venv) is the peer: files its serializer writes must load in pooltest
with the same content its own deserializer sees, and files pooltest writes must load in vcrpy.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import marshal
import multiprocessing
import os
import random
import re
import signal
import stat
import textwrap
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import filelock
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.streams import save_forever
from yaml.nodes import ScalarNode

from pooltest.cassette import _format
from pooltest.cassette._errors import (
    CassetteFormatError,
    CassetteNotFoundError,
    CassetteWriteError,
)
from pooltest.cassette._format import dumps, load, loads, save, save_merged
from pooltest.cassette._model import Interaction, Response
from pooltest.cassette._request import Request

UTC = dt.timezone.utc
AT = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
URI = "http://127.0.0.1:8080/items?page=2"


def make(
    *,
    method: str = "GET",
    uri: str = URI,
    request_headers: tuple[tuple[str, str], ...] = (("Accept", "*/*"),),
    request_body: bytes = b"",
    status: int = 200,
    reason: str = "OK",
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/plain"),),
    body: bytes = b"hello",
    version: str = "HTTP/1.1",
    at: dt.datetime = AT,
) -> Interaction:
    return Interaction(
        Request(method, uri, request_headers, request_body),
        Response(status, reason, headers, body, version),
        at,
    )


@pytest.fixture(params=["libyaml", "pure-python"])
def both_loaders(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with libyaml's composer and with PyYAML's pure-Python one."""
    if request.param == "pure-python":
        monkeypatch.setattr(_format, "_LOADER", _format._PyLoader)
    elif not yaml.__with_libyaml__:
        pytest.skip("PyYAML was built without libyaml")
    return str(request.param)


class Vcrpy:
    """vcrpy's serializer, the peer (absent from CI's ``[test]`` extra: then tests skip)."""

    def __init__(self) -> None:
        self.Request: Any = pytest.importorskip("vcr.request").Request
        serialize: Any = pytest.importorskip("vcr.serialize")
        serializers: Any = pytest.importorskip("vcr.serializers")
        self.yaml, self.json = serializers.yamlserializer, serializers.jsonserializer
        self._serialize, self._deserialize = serialize.serialize, serialize.deserialize

    def dumps(self, requests: list[Any], responses: list[Any], serializer: Any = None) -> str:
        data = {"requests": requests, "responses": responses}
        return str(self._serialize(data, serializer or self.yaml))

    def loads(self, text: str) -> tuple[list[Any], list[dict[str, Any]]]:
        requests, responses, *_ = self._deserialize(text, self.yaml)
        return requests, responses

    def sample_requests(self) -> list[Any]:
        return [
            self.Request(
                "POST",
                "http://127.0.0.1:8080/echo?a=1",
                b"\x00\x01 binary but valid UTF-8",
                {"Content-Type": "application/octet-stream", "User-Agent": "vcr-test"},
            ),
            self.Request("GET", "http://127.0.0.1:8080/", None, {}),
            self.Request(
                "PUT", "http://127.0.0.1:8080/bin", b"\xff\xfe\x00 not UTF-8", {"X-A": "1"}
            ),
            self.Request("POST", "http://127.0.0.1:8080/text", "caf\u00e9 text body", {}),
        ]


@pytest.fixture
def vcrpy() -> Vcrpy:
    """vcrpy's serializer, or a skip when vcrpy is not installed."""
    return Vcrpy()


def format_error(text: str | bytes, path: str = "c.yaml") -> CassetteFormatError:
    with pytest.raises(CassetteFormatError) as info:
        loads(text, path)
    assert info.value.path == path
    assert str(info.value).startswith(path)
    return info.value


def cassette(body: str) -> str:
    return textwrap.dedent(body).lstrip("\n")


# --- files vcrpy writes ------------------------------------------------------------------


VCR_RESPONSES: list[dict[str, Any]] = [
    {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Set-Cookie": ["a=1", "b=2"], "Content-Type": ["text/plain"]},
        "body": {"string": b"line1\nline2\n"},
    },
    {
        "status": {"code": 404, "message": "Not Found"},
        "headers": {},
        "body": {"string": b"\x1f\x8b\x08\x00gzip-ish"},
    },
    {
        "status": {"code": 204, "message": "No Content"},
        "headers": {"Content-Length": ["0"]},
        "body": {"string": b""},
    },
    {
        "status": {"code": 201, "message": "Created"},
        "headers": {"Location": ["/text/1"]},
        "body": {"string": "caf\u00e9 \u2603 \U0001f600".encode()},
    },
]


def test_loads_what_vcrpy_serializes_as_vcrpy_reads_it(both_loaders: str, vcrpy: Vcrpy) -> None:
    text = vcrpy.dumps(vcrpy.sample_requests(), VCR_RESPONSES)
    requests, responses = vcrpy.loads(text)
    loaded = loads(text, "vcr.yaml", default_recorded_at=AT)
    assert len(loaded) == len(requests) == 4
    for ours, vcr_request, vcr_response in zip(loaded, requests, responses, strict=True):
        assert ours.request.method == vcr_request.method
        assert ours.request.uri == vcr_request.uri
        assert ours.request.body == (vcr_request.body or b"")
        assert ours.request.raw_headers == tuple(vcr_request.headers.items())
        assert ours.response.status == vcr_response["status"]["code"]
        assert ours.response.reason == vcr_response["status"]["message"]
        expected = [(k, v) for k, values in vcr_response["headers"].items() for v in values]
        assert list(ours.response.headers) == expected
        assert ours.response.body == vcr_response["body"]["string"]
        assert ours.response.version == "HTTP/1.1"
        assert ours.recorded_at == AT


def test_loads_vcrpy_json_cassettes_of_bmp_text(vcrpy: Vcrpy) -> None:
    requests = [vcrpy.sample_requests()[1], vcrpy.sample_requests()[3]]
    responses = [VCR_RESPONSES[2], {**VCR_RESPONSES[3], "body": {"string": "caf\u00e9 \u2603"}}]
    text = vcrpy.dumps(requests, responses, vcrpy.json)
    loaded = loads(text, "vcr.json", default_recorded_at=AT)
    assert [i.request.uri for i in loaded] == [r.uri for r in requests]
    assert loaded[1].response.body == "caf\u00e9 \u2603".encode()
    assert loaded[1].request.body == "caf\u00e9 text body".encode()


def test_json_surrogate_pair_escapes_are_not_yaml(vcrpy: Vcrpy) -> None:
    """JSON writes U+1F600 as two escaped surrogates, which YAML refuses: a clear error."""
    text = vcrpy.dumps(vcrpy.sample_requests()[3:], VCR_RESPONSES[3:], vcrpy.json)
    assert "\\ud83d" in text
    assert "invalid YAML" in format_error(text).reason


FLOW_STYLE = cassette(
    """
    {interactions: [{request: {body: null, headers: {Accept: ['*/*', text/html]},
       method: GET, uri: 'http://127.0.0.1:8080/a'},
      response: {body: {string: "hi\\n"}, headers: {X-One: '1'},
       status: {code: 200, message: OK}}}], version: 1}
    """
)


def test_loads_flow_style_and_plain_string_header_values(both_loaders: str) -> None:
    (item,) = loads(FLOW_STYLE, "flow.yaml", default_recorded_at=AT)
    assert item.request.raw_headers == (("Accept", "*/*"), ("Accept", "text/html"))
    assert item.response.headers == (("X-One", "1"),)
    assert item.response.body == b"hi\n"
    assert item.request.body == b""


OLD_STYLES = cassette(
    """
    interactions:
    - request:
        body: {string: !!python/unicode 'old style body'}
        headers: !!python/tuple [{}]
        method: !!python/str POST
        uri: http://127.0.0.1:8080/old
      response:
        body: {base64_string: aGVsbG8=}
        headers: {X-Old: !!python/tuple [a, b]}
        status: {code: 201, message: Created}
    - request:
        body: !!binary AAEC
        method: get
        uri: http://127.0.0.1:8080/bin
      response:
        body:
          string: !!binary |
            AAECAw==
        status: {code: '299'}
    version: 1
    """
)


def test_legacy_forms_vcrpy_once_wrote(both_loaders: str) -> None:
    text = OLD_STYLES.replace("headers: !!python/tuple [{}]\n", "headers: {}\n")
    first, second = loads(text, "old.yaml", default_recorded_at=AT)
    assert first.request.body == b"old style body"
    assert first.request.method == "POST"
    assert first.response.body == b"hello"
    assert first.response.headers == (("X-Old", "a"), ("X-Old", "b"))
    assert second.request.body == b"\x00\x01\x02"
    assert second.request.method == "GET"
    assert second.request.raw_headers == ()
    assert second.response.body == b"\x00\x01\x02\x03"
    assert (second.response.status, second.response.reason) == (299, "")


def test_metadata_and_unknown_keys_are_ignored() -> None:
    text = cassette(
        """
        metadata: {recorded_with: something, nested: [1, 2.5, true, {a: null}]}
        interactions:
        - request: {method: GET, uri: 'http://h/', extra_request_key: 1}
          response: {status: {code: 200, message: OK, x: y}, body: {string: a, other: b}, z: [1]}
          comment: hello
          recorded_at: 2024-05-06T07:08:09.123456+00:00
        future_key: {x: 1}
        version: 1
        """
    )
    (item,) = loads(text, "m.yaml")
    assert item.request.uri == "http://h/"
    assert item.response.body == b"a"
    assert item.recorded_at == AT


# --- recorded_at -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2024-05-06T07:08:09.123456+00:00", AT),
        ("2024-05-06T07:08:09.123456Z", AT),
        ("'2024-05-06T09:08:09.123456+02:00'", AT),
        ("2024-05-06 07:08:09.123456", AT),
        ("2024-05-06t07:08:09.123456Z", AT),
        ("2024-05-06 02:08:09.123456 -5", AT),
        ("!!timestamp 2024-05-06T07:08:09.123456Z", AT),
        ("2024-05-06", dt.datetime(2024, 5, 6, tzinfo=UTC)),
    ],
)
def test_recorded_at_forms(written: str, expected: dt.datetime) -> None:
    text = f"interactions:\n- {{request: {{method: GET, uri: 'http://h/'}}, response: {{status: {{code: 200}}}}, recorded_at: {written}}}\nversion: 1\n"  # noqa: E501
    (item,) = loads(text, "t.yaml")
    assert item.recorded_at == expected
    assert item.recorded_at.tzinfo is not None
    assert item.recorded_at.utcoffset() == dt.timedelta(0)


def _no_recorded_at(date: str | None) -> str:
    headers = f"headers: {{Date: ['{date}']}}, " if date is not None else ""
    return (
        "interactions:\n- request: {method: GET, uri: 'http://h/'}\n"
        f"  response: {{{headers}status: {{code: 200, message: OK}}}}\nversion: 1\n"
    )


def test_missing_recorded_at_uses_the_date_header() -> None:
    (item,) = loads(_no_recorded_at("Mon, 06 May 2024 07:08:09 GMT"), "d.yaml")
    assert item.recorded_at == dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_missing_recorded_at_without_date_uses_the_file_mtime(tmp_path: Path) -> None:
    path = tmp_path / "vcr.yaml"
    path.write_text(_no_recorded_at("not a date"))
    moment = dt.datetime(2021, 2, 3, 4, 5, 6, tzinfo=UTC)
    os.utime(path, (moment.timestamp(), moment.timestamp()))
    (item,) = load(path)
    assert item.recorded_at == moment
    (item,) = loads(path.read_text(), str(path))
    assert item.recorded_at == moment
    (item,) = loads(path.read_text(), "no/such/file.yaml")
    assert item.recorded_at == dt.datetime(1970, 1, 1, tzinfo=UTC)
    (item,) = load(path, default_recorded_at=AT)
    assert item.recorded_at == AT


# --- unsafe tags -------------------------------------------------------------------------

VALID = cassette(
    """
    interactions:
    - request:
        body: null
        headers:
          Accept:
          - '*/*'
        method: GET
        uri: http://127.0.0.1:8080/
      response:
        body:
          string: hello
        headers:
          Content-Type:
          - text/plain
        status:
          code: 200
          message: OK
      recorded_at: 2024-05-06T07:08:09.123456+00:00
    version: 1
    """
)
UNSAFE_TAGS = [
    "!!python/object:os.system",
    "!!python/object/apply:os.system",
    "!!python/object/new:_io.BytesIO",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/bytes",
    "!custom",
    "!<tag:example.com,2024:thing>",
]
# (line of the tagged node, old text, new text with {tag}): where the walker reads, and beyond.
UNSAFE_PLACES = [
    (2, "- request:", "- {tag}\n  request:"),
    (3, "    body: null", "    body: {tag} null"),
    (5, "      Accept:", "      {tag} Accept:"),
    (6, "      - '*/*'", "      - {tag} '*/*'"),
    (7, "    method: GET", "    method: {tag} GET"),
    (8, "    uri: http", "    uri: {tag} http"),
    (11, "      string: hello", "      string: {tag} hello"),
    (16, "      code: 200", "      code: {tag} 200"),
    (17, "      message: OK", "      message: {tag} OK"),
    (18, "  recorded_at:", "  recorded_at: {tag}"),
    (1, "interactions:\n", "metadata: [{{a: {tag} x}}]\ninteractions:\n"),
    (1, "interactions:\n", "unknown: {{deep: [[{{k: {tag} [x]}}]]}}\ninteractions:\n"),
]


def test_the_valid_sample_loads() -> None:
    (item,) = loads(VALID, "ok.yaml")
    assert item.response.body == b"hello"
    assert item.request.raw_headers == (("Accept", "*/*"),)


@pytest.mark.parametrize("tag", UNSAFE_TAGS)
@pytest.mark.parametrize(("line", "old", "new"), UNSAFE_PLACES)
def test_unsafe_and_unknown_tags_are_refused_with_the_line(
    tag: str, line: int, old: str, new: str, both_loaders: str
) -> None:
    text = VALID.replace(old, new.format(tag=tag), 1)
    assert text != VALID
    error = format_error(text)
    assert "refusing YAML tag" in error.reason
    assert error.line == line


def test_a_python_object_cassette_never_runs_code(tmp_path: Path, both_loaders: str) -> None:
    marker = tmp_path / "ran"
    text = VALID.replace(
        "body: null",
        f"body: !!python/object/apply:os.system ['touch {marker}']",
    )
    error = format_error(text)
    assert error.line == 3
    assert "python/object/apply:os.system" in error.reason
    assert not marker.exists()


def test_benign_legacy_python_tags_are_accepted() -> None:
    text = VALID.replace("method: GET", "method: !!python/unicode GET").replace(
        "string: hello", "string: !!python/str hello"
    )
    (item,) = loads(text, "legacy.yaml")
    assert item.request.method == "GET"
    assert item.response.body == b"hello"


# --- malformed structure -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", None, "empty"),
        ("# only a comment\n\n", None, "empty"),
        ("just a string\n", 1, "expected a mapping"),
        ("- request: {}\n", 1, "before 1.0"),
        ("version: 1\n", 1, "missing 'interactions'"),
        ("interactions: {}\nversion: 1\n", 1, "expected a list"),
        ("interactions: []\n", 1, "missing 'version: 1'"),
        ("interactions: []\nversion: 2\n", 2, "unsupported cassette format version"),
        ("interactions: [1]\nversion: 1\n", 1, "interaction #1: interaction: expected a mapping"),
        ("interactions:\n- {response: {}}\nversion: 1\n", 2, "missing 'request'"),
        ("interactions:\n- {request: {}}\nversion: 1\n", 2, "missing 'response'"),
        ("{[a]: 1}\n", 1, "string keys"),
        ("a: [\n", 2, "invalid YAML"),
        ("a: 'unterminated\n", 2, "invalid YAML"),
        ("a: 1\n---\nb: 2\n", 2, "invalid YAML"),
        ("a: *nowhere\n", 1, "invalid YAML"),
        ("\tbad: tab\n", 1, "invalid YAML"),
    ],
)
def test_malformed_files_name_the_line_and_the_problem(
    text: str, line: int | None, words: str, both_loaders: str
) -> None:
    error = format_error(text)
    assert words in error.reason
    assert error.line == line


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("    method: GET", "    method: [GET]", 7, "request.method: expected a string"),
        ("    uri: http://127.0.0.1:8080/", "    nouri: x", 3, "missing 'uri'"),
        ("      - '*/*'", "      - {a: b}", 6, "expected a string"),
        ("      Accept:\n      - '*/*'", "      Accept: {a: b}", 5, "a list of strings"),
        ("    headers:\n      Accept:\n      - '*/*'", "    headers: [a]", 4, "a mapping"),
        ("      - '*/*'", '      - "a\\r\\nInjected: yes"', 6, "CR, LF"),
        ("      - '*/*'", '      - "\\u2603"', 6, "non-latin-1"),
        ("      Accept:", '      "Acc\\nept":', 5, "CR, LF"),
        ("      string: hello", "      strung: hello", 11, "missing 'string'"),
        ("      string: hello", "      string: [hello]", 11, "body.string: expected a string"),
        ("      string: hello", "      string: !!binary 'a'", 11, "invalid base64"),
        ("    body: null", "    body: [1]", 3, "request.body: expected"),
        ("      code: 200", "      code: 20", 16, "expected 100-999"),
        ("      code: 200", "      code: 1000", 16, "expected 100-999"),
        ("      code: 200", "      code: 099", 16, "expected 100-999"),
        ("      code: 200", "      code: abc", 16, "expected 100-999"),
        ("      code: 200", "      code: 2.0e2", 16, "expected 100-999"),
        ("      code: 200", "      code: [200]", 16, "an integer"),
        ("      code: 200", "      cod: 200", 16, "missing 'code'"),
        ("      message: OK", '      message: "O\\nK"', 17, "CR, LF"),
        ("    status:\n      code: 200\n      message: OK", "    status: 200", 15, "a mapping"),
        ("    status:", "    statuses:", 10, "missing 'status'"),
        ("  recorded_at: 2024", "  recorded_at: yesterday", 18, "not a timestamp"),
        (
            "  recorded_at: 2024-05-06T07:08:09.123456+00:00",
            "  recorded_at: 2024-13-45",
            18,
            "not a",
        ),
        ("  recorded_at: 2024", "  recorded_at: [1]\n  x: 2024", 18, "an ISO-8601 timestamp"),
        ("  response:", "  response:\n    pooltest_http_version: HTTP/1.1 200 OK", 10, "bad HTTP"),
    ],
)
def test_wrong_types_and_values_name_the_interaction_and_line(
    old: str, new: str, line: int, words: str, both_loaders: str
) -> None:
    text = VALID.replace(old, new, 1)
    assert text != VALID
    error = format_error(text)
    assert error.reason.startswith("interaction #1: ")
    assert words in error.reason
    assert error.line == line


def test_errors_count_interactions_from_one() -> None:
    body = VALID.split("\n", 1)[1].rsplit("version", 1)[0]
    broken = body.replace("code: 200", "code: 600x")
    error = format_error("interactions:\n" + body * 2 + broken + "version: 1\n")
    assert error.reason.startswith("interaction #3: ")
    assert error.line == 2 + 2 * 17 + 14


def test_a_truncated_file_is_always_refused(both_loaders: str) -> None:
    items = [
        make(body=b"first line\nsecond line\n", request_body=b'{"a": 1}'),
        make(
            body=bytes(range(256)), headers=(("Set-Cookie", "a"), ("X", "1"), ("Set-Cookie", "b"))
        ),
    ]
    text = dumps(items)
    tail = len("version: 1\n")
    for cut in range(0, len(text) - tail + 1, 3):
        with pytest.raises(CassetteFormatError):
            loads(text[:cut], "cut.yaml")
    assert loads(text[:-1], "whole-but-newline.yaml") == items


def test_undecodable_bytes_are_a_format_error(both_loaders: str) -> None:
    error = format_error(VALID.encode().replace(b"hello", b"hel\xfflo"))
    assert "unreadable" in error.reason
    assert error.line == 11
    assert "unreadable" in format_error(b"\x00\x01").reason


def test_a_lone_surrogate_escape_is_a_format_error(both_loaders: str) -> None:
    """libyaml refuses the escape itself; PyYAML reads it and the body cannot be encoded."""
    error = format_error(VALID.replace("string: hello", 'string: "\\ud800"'))
    assert "lone surrogate" in error.reason or "invalid Unicode" in error.reason
    assert error.line == 11


def test_utf16_with_bom_loads() -> None:
    (item,) = loads(VALID.encode("utf-16"), "utf16.yaml")
    assert item.response.body == b"hello"


# --- bounds: aliases and nesting ---------------------------------------------------------


def _alias_bomb(width: int) -> str:
    """Interactions x request keys x header values x value size, all aliases of one node."""
    filler = "x" * width
    keys = ", ".join(f"k{i}: 1" for i in range(width))
    values = ", ".join(["*v"] * width)
    headers = ", ".join(f"H{i}: *vals" for i in range(width))
    interactions = ", ".join(["*i"] * width)
    return (
        f"anchors:\n- &v {filler}\n- &vals [{values}]\n"
        f"- &i {{request: {{method: GET, uri: 'http://h/', headers: {{{headers}}}, {keys}}},"
        f" response: {{status: {{code: 200}}, body: {{string: *v}}}}}}\n"
        f"interactions: [{interactions}]\nversion: 1\n"
    )


def test_alias_expansion_is_bounded(both_loaders: str) -> None:
    text = _alias_bomb(300)  # ~30 KB that would expand to 300**4 characters
    error = format_error(text)
    assert "alias bomb" in error.reason
    assert len(loads(_alias_bomb(3), "small.yaml", default_recorded_at=AT)) == 3


def test_aliased_header_value_lists_are_bounded_within_one_interaction() -> None:
    width = 3000  # 3000 names x 3000 values from ~45 KB
    values = ", ".join(["x"] * width)
    headers = ", ".join(f"H{i}: *vals" for i in range(width))
    text = (
        f"anchors: [&vals [{values}]]\ninteractions:\n- request: {{method: GET, uri: 'http://h/'}}\n"
        f"  response: {{status: {{code: 200}}, headers: {{{headers}}}}}\nversion: 1\n"
    )
    error = format_error(text)
    assert "alias bomb" in error.reason
    assert error.line == 4


def test_billion_laughs_in_ignored_parts_is_scanned_once() -> None:
    levels = ["lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for n in range(1, 10):
        levels.append(f"lol{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 10) + "]")
    bomb = "metadata:\n" + "".join(f"  {level}\n" for level in levels)
    loop = "  loop: &loop [*loop, {self: *loop}]\n"
    (item,) = loads(bomb + loop + VALID, "laughs.yaml")
    assert item.response.body == b"hello"
    body_bomb = VALID.replace("string: hello", "string: *l9")
    assert "expected a string" in format_error(bomb + body_bomb).reason


@pytest.mark.parametrize("opener", ["[", "{a: ", "- ", "a:\n  "])
def test_deep_nesting_is_a_format_error(opener: str, both_loaders: str) -> None:
    depth = 5000
    if opener.endswith("\n  "):
        text = "".join(" " * 2 * i + "a:\n" for i in range(depth))
    else:
        text = opener * depth
    format_error(text)


# --- hostile input: only CassetteFormatError, ever --------------------------------------

YAMLISH = st.text(alphabet=st.sampled_from(list("-:?[]{},&*!|>'\"#%@`~ \n\t\\abcxyz019.=<+")))
LEAF = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
VALUES = st.recursive(
    LEAF | st.binary(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)


def _outcome(data: str | bytes) -> None:
    """Load ``data``: a list of interactions or CassetteFormatError, nothing else."""
    error: CassetteFormatError | None = None
    try:
        result = loads(data, "fuzz.yaml", default_recorded_at=AT)
    except CassetteFormatError as raised:
        error, result = raised, []
    assert all(isinstance(i, Interaction) for i in result)
    if error is not None:
        assert error.path == "fuzz.yaml"
        assert error.line is None or error.line >= 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes_only_raise_format_errors(data: bytes) -> None:
    _outcome(data)
    _outcome(VALID.encode()[: len(data)] + data)


@settings(max_examples=300, deadline=None)
@given(YAMLISH)
def test_yaml_punctuation_soup_only_raises_format_errors(text: str) -> None:
    _outcome(text)
    _outcome("interactions:\n- " + text + "\nversion: 1\n")


@settings(max_examples=200, deadline=None)
@given(VALUES)
def test_random_yaml_documents_only_raise_format_errors(value: object) -> None:
    _outcome(yaml.safe_dump(value))
    _outcome(yaml.safe_dump({"interactions": [value], "version": 1}))


def _cassette_like() -> st.SearchStrategy[dict[str, Any]]:
    scalar_or_junk = st.one_of(LEAF, VALUES)
    headers = st.dictionaries(
        st.text(max_size=8), st.one_of(st.lists(scalar_or_junk, max_size=3), scalar_or_junk)
    )
    request = st.fixed_dictionaries(
        {"method": scalar_or_junk, "uri": scalar_or_junk},
        optional={"body": st.one_of(LEAF, st.binary(max_size=8), VALUES), "headers": headers},
    )
    status = st.fixed_dictionaries(
        {"code": st.one_of(st.integers(90, 1010), scalar_or_junk)},
        optional={"message": scalar_or_junk},
    )
    response = st.fixed_dictionaries(
        {"status": st.one_of(status, scalar_or_junk)},
        optional={
            "headers": st.one_of(headers, scalar_or_junk),
            "body": st.one_of(st.fixed_dictionaries({"string": LEAF | st.binary()}), VALUES),
            "pooltest_header_order": st.lists(st.text(max_size=8)) | scalar_or_junk,
            "pooltest_http_version": st.sampled_from(["HTTP/1.0", "HTTP/2"]) | scalar_or_junk,
        },
    )
    interaction = st.fixed_dictionaries(
        {"request": st.one_of(request, scalar_or_junk), "response": response},
        optional={"recorded_at": st.one_of(st.datetimes(), scalar_or_junk)},
    )
    return st.fixed_dictionaries(
        {"interactions": st.lists(interaction, max_size=3)},
        optional={"version": st.sampled_from([1, "1", 2, None])},
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cassette_like(), st.booleans())
def test_cassette_shaped_junk_only_raises_format_errors(document: Any, flow: bool) -> None:
    _outcome(yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True))


# --- dumps -------------------------------------------------------------------------------


def test_dumps_writes_vcrpy_layout_readably() -> None:
    item = make(
        method="POST",
        request_headers=(("Content-Type", "application/json"), ("Accept", "*/*")),
        request_body=b'{"a": 1}',
        headers=(("Content-Type", "text/plain"), ("Content-Length", "12")),
        body=b"line one\nline two\n",
    )
    assert dumps([item]) == cassette(
        """
        interactions:
        - request:
            body: '{"a": 1}'
            headers:
              Content-Type:
              - application/json
              Accept:
              - '*/*'
            method: POST
            uri: http://127.0.0.1:8080/items?page=2
          response:
            body:
              string: |
                line one
                line two
            headers:
              Content-Type:
              - text/plain
              Content-Length:
              - '12'
            status:
              code: 200
              message: OK
          recorded_at: 2024-05-06T07:08:09.123456+00:00
        version: 1
        """
    )


def test_dumps_binary_bodies_and_empty_bodies() -> None:
    text = dumps([make(request_body=b"\xff\x00", body=b""), make(body=b"\x00\x01\x02")])
    assert "body: !!binary |\n      /wA=\n" in text
    assert "string: ''\n" in text
    assert "string: !!binary |\n        AAEC\n" in text
    assert "python" not in text


def test_empty_request_bodies_are_null_like_vcrpy_writes_them() -> None:
    assert "    body: null\n" in dumps([make(request_body=b"")])


def test_dumps_of_nothing() -> None:
    assert dumps([]) == "interactions: []\nversion: 1\n"
    assert loads(dumps([]), "empty.yaml") == []


def test_interleaved_headers_keep_their_wire_order() -> None:
    wire = (("Set-Cookie", "a=1"), ("X-A", "x"), ("Set-Cookie", "b=2"), ("set-cookie", "c=3"))
    item = make(headers=wire, request_headers=(("A", "1"), ("B", "2"), ("A", "3")))
    text = dumps([item])
    assert (
        "pooltest_header_order:\n    - Set-Cookie\n    - X-A\n    - Set-Cookie\n    - set-cookie\n"
        in text
    )
    assert "Set-Cookie:\n      - a=1\n      - b=2\n      - c=3\n" in text
    assert "pooltest_request_header_order:\n  - A\n  - B\n  - A\n" in text
    (loaded,) = loads(text, "order.yaml")
    assert loaded.response.headers == wire
    assert loaded.request.raw_headers == item.request.raw_headers
    grouped = make(headers=(("Set-Cookie", "a"), ("Set-Cookie", "b"), ("X", "1")))
    assert "header_order" not in dumps([grouped])


def test_names_differing_in_case_are_grouped_once_for_vcrpy(vcrpy: Vcrpy) -> None:
    wire = (("X-Dup", "first"), ("x-dup", "second"), ("X-Other", "1"))
    text = dumps([make(headers=wire)])
    assert "X-Dup:\n      - first\n      - second\n" in text
    assert "pooltest_header_order:\n    - X-Dup\n    - x-dup\n    - X-Other\n" in text
    (loaded,) = loads(text, "case.yaml")
    assert loaded.response.headers == wire
    _, (response,) = vcrpy.loads(text)
    assert response["headers"]["X-Dup"] == ["first", "second"]
    assert "x-dup" not in response["headers"]


def test_a_header_order_that_disagrees_with_the_headers_is_ignored() -> None:
    wire = (("Set-Cookie", "a=1"), ("X-A", "x"), ("Set-Cookie", "b=2"))
    text = dumps([make(headers=wire)])
    edited = text.replace("    - X-A\n    - Set-Cookie\n", "    - X-A\n    - X-A\n")
    assert edited != text
    (loaded,) = loads(edited, "edited.yaml")
    assert loaded.response.headers == (("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-A", "x"))


def test_http_versions_other_than_1_1_are_kept() -> None:
    text = dumps([make(version="HTTP/1.0"), make()])
    assert text.count("pooltest_http_version: HTTP/1.0") == 1
    assert [i.response.version for i in loads(text, "v.yaml")] == ["HTTP/1.0", "HTTP/1.1"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("headers", (("X", "a\r\nb"),)), ("headers", (("X\n", "a"),)), ("reason", "O\nK")],
)
def test_dumps_refuses_what_could_not_be_replayed(field: str, value: Any) -> None:
    item = make(**{field: value})
    with pytest.raises(ValueError, match="CR, LF or non-latin-1"):
        dumps([item])


def test_recorded_at_is_written_in_utc_and_naive_means_utc() -> None:
    eastern = dt.timezone(dt.timedelta(hours=-5))
    text = dumps([make(at=AT.astimezone(eastern)), make(at=AT.replace(tzinfo=None))])
    assert text.count("recorded_at: 2024-05-06T07:08:09.123456+00:00\n") == 2


def test_freezegun_datetimes_are_written_too() -> None:
    freezegun = pytest.importorskip("freezegun")
    with freezegun.freeze_time("2024-05-06 07:08:09.123456"):
        now = dt.datetime.now(UTC)
        assert type(now).__name__ == "FakeDatetime"
        text = dumps([make(at=now)])
        assert loads(text, "frozen.yaml")[0].recorded_at == now
    assert "recorded_at: 2024-05-06T07:08:09.123456+00:00" in text


def test_vcrpy_reads_what_pooltest_dumps(vcrpy: Vcrpy) -> None:
    items = [
        make(
            method="POST",
            request_headers=(("Content-Type", "application/octet-stream"),),
            request_body=b"\xff\xfe binary",
            headers=(("Set-Cookie", "a"), ("X", "1"), ("Set-Cookie", "b")),
            body=bytes(range(256)),
            version="HTTP/1.0",
        ),
        make(body="caf\u00e9\nline\n".encode(), status=404, reason="Not Found"),
    ]
    requests, responses = vcrpy.loads(dumps(items))
    for item, vcr_request, vcr_response in zip(items, requests, responses, strict=True):
        assert vcr_request.method == item.request.method
        assert vcr_request.uri == item.request.uri
        assert (vcr_request.body or b"") == item.request.body
        assert dict(vcr_request.headers) == dict(item.request.raw_headers)
        assert vcr_response["body"]["string"] == item.response.body
        assert vcr_response["status"] == {
            "code": item.response.status,
            "message": item.response.reason,
        }
        flat = sorted((k, v) for k, values in vcr_response["headers"].items() for v in values)
        assert flat == sorted(item.response.headers)


# --- round trip --------------------------------------------------------------------------

TOKEN = st.text(
    alphabet=st.sampled_from("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCXYZ"),
    min_size=1,
    max_size=12,
)
LATIN1_LINE = st.text(
    alphabet=st.characters(max_codepoint=0xFF, blacklist_characters="\r\n"), max_size=20
)
HEADERS = st.lists(
    st.tuples(st.sampled_from(["Set-Cookie", "X-A", "x-a"]) | TOKEN, LATIN1_LINE), max_size=6
)
TEXTISH = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"]) | st.sampled_from("\n\r\t  #:-|>'\"")
)
BODIES = st.one_of(
    st.binary(max_size=64),
    TEXTISH.map(lambda text: text.encode("utf-8")),
    st.sampled_from([b"", b"\n", b" ", b"  lead\n", b"trail  \n\n", b"\t|x\n", b"null", b"~"]),
)
URIS = st.one_of(
    st.builds(lambda path, q: f"http://127.0.0.1:8080/{path}?{q}", TOKEN, TOKEN),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30),
)
# Fixed offsets: zoneinfo datetimes in a DST fold compare unequal across zones (PEP 495).
OFFSETS = st.integers(-23 * 60, 23 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
INTERACTIONS = st.builds(
    lambda method, uri, rh, rb, status, reason, headers, body, version, at: Interaction(
        Request(method, uri, rh, rb), Response(status, reason, tuple(headers), body, version), at
    ),
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]) | TOKEN,
    URIS,
    HEADERS,
    BODIES,
    st.integers(100, 999),
    LATIN1_LINE,
    HEADERS,
    BODIES,
    st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2"]),
    st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(9000, 1, 1), timezones=OFFSETS),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(INTERACTIONS, max_size=4))
def test_round_trip_dumps_then_loads_gives_equal_interactions(items: list[Interaction]) -> None:
    text = dumps(items)
    loaded = loads(text, "rt.yaml")
    assert loaded == items
    for ours, theirs in zip(loaded, items, strict=True):
        assert ours.request.raw_headers == theirs.request.raw_headers
        assert ours.response.headers == theirs.response.headers
        assert ours.recorded_at == theirs.recorded_at
    assert dumps(loaded) == text
    assert "!!python" not in text


@settings(max_examples=60, deadline=None)
@given(st.lists(INTERACTIONS, min_size=1, max_size=3))
def test_round_trip_through_the_pure_python_yaml(items: list[Interaction]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_format, "_LOADER", _format._PyLoader)
        patch.setattr(_format, "_DUMPER", _format._PyDumper)
        text = dumps(items)
        assert loads(text, "py.yaml") == items


@settings(max_examples=100, deadline=None)
@given(TEXTISH)
def test_text_bodies_stay_readable(text: str) -> None:
    body = text.encode()
    dumped = dumps([make(body=body)])
    clean = not any(ch in text for ch in "\x85\u2028\u2029\ufeff\ufffe\uffff") and all(
        ch in "\t\n\r" or (ch >= " " and not "\x7f" <= ch <= "\x9f") for ch in text
    )
    assert ("!!binary" not in dumped) == clean
    (item,) = loads(dumped, "t.yaml")
    assert item.response.body == body


# --- load / save -------------------------------------------------------------------------


def test_load_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CassetteNotFoundError) as info:
        load(tmp_path / "nope.yaml")
    assert isinstance(info.value, FileNotFoundError)
    assert str(tmp_path / "nope.yaml") in str(info.value)


def test_save_then_load(tmp_path: Path) -> None:
    items = [make(), make(method="POST", request_body=b"\x00", body=b"\xff" * 10)]
    path = tmp_path / "deep" / "er" / "c.yaml"
    save(path, items)
    assert load(path) == items
    assert path.read_text(encoding="utf-8") == dumps(items)
    assert sorted(p.name for p in path.parent.iterdir()) == ["c.yaml"]


def test_save_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save(path, [make()])
    path.chmod(0o640)
    save(path, [make(body=b"new")])
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert load(path)[0].response.body == b"new"


def test_a_new_file_gets_the_umask_mode_not_a_private_one(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        save(tmp_path / "c.yaml", [make()])
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "c.yaml").stat().st_mode) == 0o644


def _fail(*args: object) -> None:
    raise OSError(5, "Input/output error (injected)")


@pytest.mark.parametrize("step", ["open", "fchmod", "fsync", "replace"])
def test_a_failed_save_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    path = tmp_path / "c.yaml"
    save(path, [make(body=b"old")])
    before = path.read_bytes()
    monkeypatch.setattr(os, step, _fail)
    with pytest.raises(CassetteWriteError, match="cannot save the cassette"):
        save(path, [make(body=b"new")])
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


def test_saving_over_a_directory_is_a_write_error(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").mkdir()
    with pytest.raises(CassetteWriteError) as info:
        save(tmp_path / "c.yaml", [make()])
    assert isinstance(info.value, OSError)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


def _append_new(on_disk: list[Interaction], ours: list[Interaction]) -> list[Interaction]:
    return on_disk + [item for item in ours if item not in on_disk]


def test_save_merged_merges_with_what_is_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    seen: list[tuple[list[Interaction], list[Interaction]]] = []

    def merge(on_disk: list[Interaction], ours: list[Interaction]) -> list[Interaction]:
        seen.append((on_disk, ours))
        return _append_new(on_disk, ours)

    first, second = make(uri="http://h/1"), make(uri="http://h/2")
    assert save_merged(path, [first], merge) == [first]
    assert save_merged(path, (first, second), merge) == [first, second]
    assert seen == [([], [first]), ([first], [first, second])]
    assert load(path) == [first, second]


def test_save_merged_leaves_a_corrupt_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("interactions: [\n")
    with pytest.raises(CassetteFormatError):
        save_merged(path, [make()], _append_new)
    assert path.read_text() == "interactions: [\n"


def test_save_merged_gives_up_on_a_held_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.yaml"
    monkeypatch.setattr(_format, "LOCK_TIMEOUT", 0.2)
    holder = filelock.FileLock(_format.lock_path_for(str(path)), thread_local=False)
    with holder, pytest.raises(CassetteWriteError, match="still held"):
        save_merged(path, [make()], _append_new)
    assert not path.exists()


# --- crash safety and concurrency (D1, D3) -------------------------------------------------


def _big_cassettes() -> tuple[list[Interaction], list[Interaction]]:
    rng = random.Random(7)
    text = ("".join(rng.choice("abcdefgh \n") for _ in range(40_000))).encode()

    def batch(tag: str) -> list[Interaction]:
        return [
            make(uri=f"http://h/{tag}/{n}", body=rng.randbytes(60_000) if n % 2 else text)
            for n in range(12)
        ]

    return batch("a"), batch("b")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork() for a fast child per kill")
def test_killing_a_saver_never_leaves_a_broken_file(tmp_path: Path) -> None:
    """D1: SIGKILL a process saving in a loop, 32 times: the file is always old or new."""
    path = str(tmp_path / "c.yaml")
    first, second = batches = _big_cassettes()
    save(path, first)
    context = multiprocessing.get_context("fork")
    rng = random.Random(1)
    for _ in range(32):
        child = context.Process(target=save_forever, args=(path, batches), daemon=True)
        child.start()
        child.join(rng.uniform(0.0, 0.25))
        os.kill(child.pid or 0, signal.SIGKILL)
        child.join(10)
        assert child.exitcode == -signal.SIGKILL
        assert load(path) in (first, second)
    leftovers = [p for p in os.listdir(tmp_path) if p != "c.yaml"]
    assert all(p.startswith(".c.yaml.") and p.endswith(".tmp") for p in leftovers)


def _record_in(path: str, worker: int, count: int) -> None:
    for n in range(count):
        item = make(uri=f"http://h/worker{worker}/{n}", body=f"{worker}:{n}".encode())
        save_merged(path, [item], _append_new)


def test_four_processes_saving_merged_lose_nothing(tmp_path: Path) -> None:
    """D3: four spawned processes append distinct interactions to one cassette."""
    path = str(tmp_path / "shared.yaml")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_record_in, args=(path, w, 5)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    uris = sorted(item.request.uri for item in load(path))
    assert uris == sorted(f"http://h/worker{w}/{n}" for w in range(4) for n in range(5))


# --- vcrpy's decoded bodies ----------------------------------------------------------------

PAYLOAD = b"decoded text payload " * 20


def _vcrpy_encoded_response(coding: str, body: bytes, recorded_at: bool = False) -> Response:
    length = "999"
    item = make(
        headers=(("Content-Encoding", coding), ("Content-Length", length), ("X", "1")),
        body=body,
    )
    text = dumps([item])
    if not recorded_at:
        text = "".join(line for line in text.splitlines(True) if "recorded_at" not in line)
    (loaded,) = loads(text, "enc.yaml")
    return loaded.response


def _zlib(data: bytes, wbits: int) -> bytes:
    encoder = zlib.compressobj(wbits=wbits)
    return encoder.compress(data) + encoder.flush()


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "deflate", "zstd", "br", "identity, gzip"])
def test_a_body_vcrpy_stored_decoded_gets_consistent_headers(coding: str) -> None:
    response = _vcrpy_encoded_response(coding, PAYLOAD)
    assert response.header("content-encoding") is None
    assert response.headers == (("Content-Length", str(len(PAYLOAD))), ("X", "1"))
    assert response.body == PAYLOAD


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", lambda data: _zlib(data, zlib.MAX_WBITS)),
        ("deflate", lambda data: _zlib(data, -zlib.MAX_WBITS)),
        ("zstd", lambda data: b"\x28\xb5\x2f\xfd" + data),
        ("compress", lambda data: data),
    ],
)
def test_bodies_really_encoded_or_from_pooltest_are_left_alone(
    coding: str, encode: Callable[[bytes], bytes]
) -> None:
    body = encode(PAYLOAD)
    response = _vcrpy_encoded_response(coding, body)
    assert response.header("content-encoding") == coding
    assert response.header("content-length") == "999"
    assert response.body == body
    written_by_pooltest = _vcrpy_encoded_response("gzip", PAYLOAD, recorded_at=True)
    assert written_by_pooltest.header("content-encoding") == "gzip"


def test_brotli_bodies_are_recognised_when_brotli_is_installed() -> None:
    brotli = pytest.importorskip("brotli")
    body = brotli.compress(PAYLOAD)
    assert _vcrpy_encoded_response("br", body).header("content-encoding") == "br"


def test_invalid_base64_in_binary_body_is_a_format_error() -> None:
    text = (
        "interactions:\n- request: {body: null, headers: {}, method: GET, uri: 'http://h/'}\n"
        "  response:\n    body: {string: !!binary '%%%'}\n    headers: {}\n"
        "    status: {code: 200, message: OK}\nversion: 1\n"
    )
    with pytest.raises(CassetteFormatError, match="invalid base64"):
        loads(text, "bad.yaml")


# --- the parse cache ---------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="module")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Every test here caches in a directory of its own, never in the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(_format.CACHE_DIR_ENV, str(tmp_path_factory.mktemp("parse-cache")))
        yield


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv(_format.CACHE_DIR_ENV, str(directory))
    return directory


def _entries(directory: Path) -> list[Path]:
    return sorted((directory / "cassettes").glob("*.bin")) if directory.exists() else []


def _same(ours: list[Interaction], theirs: list[Interaction]) -> None:
    assert ours == theirs
    for a, b in zip(ours, theirs, strict=True):
        assert a.request.raw_headers == b.request.raw_headers
        assert a.response == b.response
        assert a.response.headers == b.response.headers
        assert a.recorded_at == b.recorded_at
        assert a.recorded_at.utcoffset() == b.recorded_at.utcoffset()
        assert type(a.request.body) is bytes
        assert type(a.response.body) is bytes


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(INTERACTIONS, max_size=4))
def test_cached_load_equals_a_fresh_parse(items: list[Interaction]) -> None:
    base = Path(os.environ[_format.CACHE_DIR_ENV])
    path = base / "prop.yaml"
    save(path, items)
    parsed = loads(path.read_bytes(), str(path))
    first = load(path)  # a miss (or a hit from an earlier equal example): writes the entry
    entry = _format._cache_file(path.read_bytes())
    assert entry is not None
    assert os.path.exists(entry)
    assert _format._read_cache(entry) is not None
    second = load(path)  # a hit
    _same(first, parsed)
    _same(second, parsed)


def test_load_writes_one_entry_then_reads_it(cache_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save(path, [make(), make(body=b"\xff binary", headers=(("X-A", "1"), ("x-a", "2")))])
    first = load(path)
    (entry,) = _entries(cache_dir)
    assert entry.read_bytes().startswith(b"PTCC")
    # Prove the second load is served by the entry: give it different (well-formed) content.
    _format._write_cache(str(entry), [make(body=b"from the cache")])
    (item,) = load(path)
    assert item.response.body == b"from the cache"
    entry.unlink()
    _same(load(path), first)


def test_an_edited_cassette_misses_the_cache(cache_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save(path, [make(body=b"one")])
    assert load(path)[0].response.body == b"one"
    save(path, [make(body=b"two")])
    assert load(path)[0].response.body == b"two"
    assert len(_entries(cache_dir)) == 2


def _corruptions(good: bytes) -> list[bytes]:
    head = len(_format._CACHE_MAGIC) + 32
    payload = good[head:]
    code = marshal_with_digest(compile("raise SystemExit(3)", "x", "exec"))
    return [
        b"",
        good[:10],
        good[:-1],
        b"XXXX" + good[4:],
        good[:head] + bytes([payload[0] ^ 1]) + payload[1:],
        marshal_with_digest(b"\xff\xfe not marshal"),
        code,
        marshal_with_digest_of(("GET",)),
        marshal_with_digest_of(((1, 2, 3),)),
        marshal_with_digest_of((("GET", "u", ("a", 1), b"", 200, "", (), b"", "HTTP/1.1", ""),)),
        marshal_with_digest_of((("GET", "u", ("a",), b"", 200, "", (), b"", "HTTP/1.1", ""),)),
        marshal_with_digest_of((("GET", "u", (("a", "b"),), b"", 200, "", (), b"", "1.1", ""),)),
        marshal_with_digest_of((("GET", "u", (), b"", 200, "", (), b"", "HTTP/1.1", "nope"),)),
        marshal_with_digest_of([]),
    ]


def marshal_with_digest(payload: Any) -> bytes:
    """An entry whose digest is right but whose payload is ``payload`` (bytes) or its marshal."""
    raw = payload if isinstance(payload, bytes) else marshal.dumps(payload)
    return _format._CACHE_MAGIC + hashlib.sha256(raw).digest() + raw


def marshal_with_digest_of(value: Any) -> bytes:
    return marshal_with_digest(marshal.dumps(value))


def test_a_damaged_or_malformed_entry_falls_back_to_parsing(
    cache_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "c.yaml"
    save(path, [make(), make(method="POST", request_body=b"x=1")])
    expected = loads(path.read_bytes(), str(path))
    load(path)
    (entry,) = _entries(cache_dir)
    good = entry.read_bytes()
    for bad in _corruptions(good):
        entry.write_bytes(bad)
        assert _format._read_cache(str(entry)) is None
        _same(load(path), expected)


def test_an_empty_cache_dir_variable_turns_the_cache_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(_format.CACHE_DIR_ENV, "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _format.cache_directory() is None
    path = tmp_path / "c.yaml"
    save(path, [make()])
    assert load(path) == [make()]
    assert not (tmp_path / "xdg").exists()


def test_default_cache_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(_format.CACHE_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _format.cache_directory() == str(tmp_path / "xdg" / "pooltest")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _format.cache_directory() == str(tmp_path / "home" / ".cache" / "pooltest")


def test_an_unusable_cache_directory_does_not_break_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(_format.CACHE_DIR_ENV, str(blocker))
    path = tmp_path / "c.yaml"
    save(path, [make()])
    assert load(path) == [make()]
    assert load(path) == [make()]


def test_files_without_recorded_at_and_bad_files_are_not_cached(
    cache_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "vcr.yaml"
    path.write_text(_no_recorded_at(None))
    at = dt.datetime(2001, 2, 3, tzinfo=UTC)
    assert load(path, default_recorded_at=at)[0].recorded_at == at
    later = dt.datetime(2002, 2, 3, tzinfo=UTC)
    assert load(path, default_recorded_at=later)[0].recorded_at == later
    path.write_text("interactions: []\n")  # no version: a format error
    with pytest.raises(CassetteFormatError):
        load(path)
    assert _entries(cache_dir) == []


# --- the fast writer ---------------------------------------------------------------------

ASCII_LINE = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)
TRICKY = st.sampled_from(
    [
        "yes",
        "No",
        "ON",
        "off",
        "~",
        "null",
        "NULL",
        "1",
        "-1",
        "+1",
        "0x1F",
        "0o17",
        "1_000",
        "1:20",
        "1.5",
        ".5",
        ".inf",
        "-.INF",
        ".NaN",
        "2001-12-14",
        "2001-12-14 21:59:43.10 -5",
        "-",
        "- a",
        "-a",
        "?",
        "? a",
        "?a",
        ":",
        ": a",
        ":a",
        "a:",
        "a: b",
        "a:b",
        "a #b",
        "a#b",
        "#a",
        "---",
        "---x",
        "...",
        "...x",
        "=",
        "<<",
        "'q'",
        "it's",
        '"d"',
        " lead",
        "trail ",
        "a  b",
        "@x",
        "`x",
        "%x",
        "!x",
        "&x",
        "*x",
        "|x",
        ">x",
        "[x",
        "]x",
        "{x",
        "}x",
        ",x",
        "x,y",
        "x[y]",
        "x{y}",
        "x?",
        "x-",
        "x'",
        "text/plain; charset=utf-8",
        "y",
        "n",
        "Y",
    ]
)


def _yaml(document: object, dumper: Any = None) -> str:
    return str(
        yaml.dump(
            document,
            Dumper=dumper or _format._DUMPER,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=1 << 16,
        )
    )


@settings(max_examples=400, deadline=None)
@given(ASCII_LINE | TRICKY)
def test_fast_scalars_are_what_the_yaml_emitter_writes(text: str) -> None:
    for dumper in (_format._DUMPER, _format._PyDumper):
        assert _yaml({"k": text}, dumper) == f"k: {_format._scalar(text)}\n"
        assert _yaml({"k": [text]}, dumper) == f"k:\n- {_format._scalar(text)}\n"
        if text:
            assert _yaml({text: "v"}, dumper) == f"{_format._key(text)}: v\n"


@pytest.mark.parametrize("text", ["tab\there", "caf\u00e9", "x" * 20000, "a\nb", "\x00"])
def test_other_scalars_are_left_to_the_yaml_dumper(text: str) -> None:
    with pytest.raises(_format._NotFast):
        _format._scalar(text)
    with pytest.raises(_format._NotFast):
        _format._key("k" * 100)


ASCII_INTERACTIONS = st.builds(
    lambda method, uri, rh, rb, status, reason, headers, body, version, at: Interaction(
        Request(method, uri, rh, rb), Response(status, reason, tuple(headers), body, version), at
    ),
    TOKEN,
    ASCII_LINE | TRICKY,
    st.lists(st.tuples(TOKEN | TRICKY, ASCII_LINE | TRICKY), max_size=4),
    st.one_of(st.just(b""), (ASCII_LINE | TRICKY).map(str.encode)),
    st.integers(100, 999),
    ASCII_LINE | TRICKY,
    st.lists(st.tuples(TOKEN | TRICKY, ASCII_LINE | TRICKY), max_size=4),
    (ASCII_LINE | TRICKY).map(str.encode),
    st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2"]),
    st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(9000, 1, 1), timezones=OFFSETS),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ASCII_INTERACTIONS | INTERACTIONS, max_size=4))
def test_dumps_is_byte_identical_to_the_yaml_dumper(items: list[Interaction]) -> None:
    assert dumps(items) == _format._dumps_with_yaml(items)


# Multi-line texts: lines of printable, tricky and non-ASCII characters, empty lines, spaces at
# the start or end of lines, several final line breaks, tabs, CR and YAML's own line breaks.
_LINES = st.lists(
    st.text(alphabet=st.sampled_from([*"a #:-|>'\"{}", " ", "é", "\u4e2d", "\U0001f600"]))
    | st.sampled_from(["", " ", "...", "---", "  indented", "x\ty", "a\rb", "\x85", "\u2028"]),
    min_size=2,
    max_size=6,
)
MULTI_LINE_BODIES = _LINES.map("\n".join).map(lambda text: text.encode("utf-8"))


@settings(max_examples=500, deadline=None)
@given(MULTI_LINE_BODIES, MULTI_LINE_BODIES | st.just(b""))
def test_literal_blocks_are_written_as_the_yaml_dumper_writes_them(
    body: bytes, request_body: bytes
) -> None:
    items = [make(body=body, request_body=request_body, method="POST"), make(body=b"plain")]
    assert dumps(items) == _format._dumps_with_yaml(items)
    assert loads(dumps(items), "literal.yaml") == items
    # Without libyaml the Python dumper writes the document: it agrees wherever we write it all.
    document = {"interactions": [_format._interaction_dict(i) for i in items], "version": 1}
    if all(_fast_body(i.request.body) and _fast_body(i.response.body) for i in items):
        assert dumps(items) == _yaml(document, _format._PyDumper)


def _fast_body(body: bytes) -> bool:
    """Whether the fast writer writes ``body`` itself (not the YAML dumper)."""
    try:
        _format._body_text(body, "\n  ")
    except _format._NotFast:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31)))
def test_utc_timestamps_are_written_as_the_general_path_writes_them(naive: dt.datetime) -> None:
    moment = naive.replace(tzinfo=dt.timezone.utc)
    text = _format._timestamp_text(moment)
    assert text == _format._utc_text(moment)
    assert _format._RESOLVE(ScalarNode, text, (True, False)) == _format._TIMESTAMP
    assert yaml.safe_load(f"k: {text}")["k"] == moment


@pytest.mark.parametrize(
    "body",
    [b'{\n  "a": 1,\n  "b": [\n    2\n  ]\n}\n', b"<p>\n\n  caf\xc3\xa9\n</p>", b"a\n...\n---"],
)
def test_usual_literal_blocks_need_no_yaml_dumper(
    monkeypatch: pytest.MonkeyPatch, body: bytes
) -> None:
    items = [make(body=body), make(request_body=body, method="PUT")]
    expected = _format._dumps_with_yaml(items)
    assert "|" in expected

    def refuse(*args: object, **kwargs: object) -> str:
        raise AssertionError("the fast writer fell back to the YAML dumper")

    monkeypatch.setattr(yaml, "dump", refuse)
    assert dumps(items) == expected


def test_dumps_writes_common_interactions_without_the_yaml_dumper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    items = [
        make(),
        make(headers=(("X-A", "1"), ("x-a", "2"), ("X-A", "3")), version="HTTP/1.0"),
        make(method="POST", request_body=bytes(range(200)), body=gzip.compress(b"x" * 300)),
        make(body=b"kept\n\n"),  # a literal block: the dumper's job ...
        make(body=b"\xff"),  # ... until a !!binary block ends its open "|+"
    ]
    expected = _format._dumps_with_yaml(items)
    assert "!!binary" in expected
    assert not expected.endswith("...\n")
    items.pop(3)
    expected_fast = _format._dumps_with_yaml(items)

    def refuse(*args: object, **kwargs: object) -> str:
        raise AssertionError("the fast writer fell back to the YAML dumper")

    assert dumps([*items[:3], make(body=b"kept\n\n"), items[3]]) == expected
    monkeypatch.setattr(yaml, "dump", refuse)
    assert dumps(items) == expected_fast
    assert dumps([]) == "interactions: []\nversion: 1\n"


@pytest.mark.parametrize(
    "bodies",
    [
        [b"kept\n\n"],
        [b"kept\n\n", b"plain"],
        [b"kept\n\n", b"\xff binary"],
        [b"\xff binary", b"kept\n\n", b"plain", b"two\nlines\n"],
        [b"\n"],
        [b" lead\n\n\n", b"plain", b"it's"],
        [b"\n", b"\n "],  # the second is a literal the emitter must double-quote
    ],
)
def test_dumps_ends_the_document_as_libyaml_does(bodies: list[bytes]) -> None:
    items = [make(body=body) for body in bodies]
    assert dumps(items) == _format._dumps_with_yaml(items)
    assert loads(dumps(items), "end.yaml") == items


@given(
    st.one_of(
        st.floats(0, _format._FOUR_DIGIT_YEARS, exclude_max=True),
        st.integers(0, 4_000_000_000).map(lambda s: s + 0.0000005),  # exact halves of a µs
        st.integers(0, 4_000_000_000).map(lambda s: s + 0.9999996),  # rounds up a second
        st.integers(0, 4_000_000_000).map(float),
    )
)
def test_a_posix_instant_is_written_as_its_utc_datetime(posix: float) -> None:
    expected = dt.datetime.fromtimestamp(posix, dt.timezone.utc)
    assert _format._timestamp_text(posix) == _format._timestamp_text(expected)
    assert _format._timestamp_text(posix) == expected.isoformat()


_ANY_TEXT = st.text(max_size=12) | st.text(
    "ab \t\r\n\x00\x1f\x7f\x85\x9f\xa0\xff\u0100\u2028\ufeff\uffff~", max_size=8
)


@settings(max_examples=1000)
@given(text=_ANY_TEXT)
def test_text_checks_agree_with_their_patterns(text: str) -> None:
    """The printable-ASCII shortcut of the writer's and loader's text checks changes no
    answer (and the writer's one-line test is what ``[ -~]+`` matches whole)."""
    assert _format._unsafe_line_text(text) is (_format._UNSAFE_LINE_TEXT.search(text) is not None)
    assert _format._not_text(text) is (_format._NOT_TEXT.search(text) is not None)
    printable_ascii = text.isascii() and text.isprintable() and text != ""
    assert printable_ascii is (re.fullmatch(r"[ -~]+", text) is not None)
