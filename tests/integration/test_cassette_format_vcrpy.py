"""Cassette files against vcrpy, over real loopback traffic.

(a) vcrpy records urllib3 traffic to a loopback origin; pooltest loads the file and sees what
    vcrpy itself sees, and what went over the wire.
(b) pooltest writes a cassette of real responses (and hand-built ones vcrpy's layout cannot
    express directly); the origin is stopped, and vcrpy replays the file through urllib3 and
    requests with ``record_mode="none"``: bodies, statuses and headers come back as recorded.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import urllib3
import yaml
from support import (
    ENCODED_PAYLOAD,
    HEADERS_ROUTE_FIELDS,
    JSON_BODY,
    KeepAliveServer,
    stream_payload,
)

from pooltest.cassette._format import dumps, load, save
from pooltest.cassette._model import Interaction, Response, utc_now
from pooltest.cassette._request import Request

pytestmark = pytest.mark.network

# The peers; CI's ``[test]`` extra may lack them, and then this file is skipped.
vcr: Any = pytest.importorskip("vcr")
requests: Any = pytest.importorskip("requests")
_yaml_serializer: Any = pytest.importorskip("vcr.serializers.yamlserializer")
_deserialize: Any = pytest.importorskip("vcr.serialize").deserialize


def vcr_deserialize(text: str) -> tuple[list[Any], list[dict[str, Any]]]:
    """What vcrpy's loader makes of a cassette: its requests and response dicts."""
    requests_, responses, *_ = _deserialize(text, _yaml_serializer)
    return requests_, responses


def _record_with_vcrpy(server: KeepAliveServer, path: Path) -> dict[str, Any]:
    """GET/POST/gzip/binary/repeated-header/404 traffic through urllib3 under vcrpy."""
    base = server.url
    with vcr.VCR().use_cassette(str(path)), urllib3.PoolManager() as pool:
        live = {
            "json": pool.request("GET", base + "/json"),
            "post": pool.request(
                "POST",
                base + "/echo?x=1",
                body=b"posted \xff\x00 bytes",
                headers={"Content-Type": "application/octet-stream", "X-Test": "yes"},
            ),
            "gzip": pool.request("GET", base + "/gzip"),
            "binary": pool.request("GET", base + "/stream?size=3000"),
            "headers": pool.request("GET", base + "/headers"),
            "missing": pool.request("GET", base + "/status/404"),
        }
    assert server.requests_served == 6
    return live


_FIXED = ("Content-Encoding", "Content-Length")


def test_pooltest_loads_what_vcrpy_recorded(http_server: KeepAliveServer, tmp_path: Path) -> None:
    path = tmp_path / "vcr.yaml"
    live = _record_with_vcrpy(http_server, path)
    items = load(path)
    vcr_requests, vcr_responses = vcr_deserialize(path.read_text())
    assert len(items) == len(vcr_requests) == 6

    for ours, vcr_request, vcr_response in zip(items, vcr_requests, vcr_responses, strict=True):
        assert ours.request.method == vcr_request.method
        assert ours.request.uri == vcr_request.uri
        assert ours.request.body == (vcr_request.body or b"")
        assert dict(ours.request.raw_headers) == dict(vcr_request.headers)
        assert ours.response.status == vcr_response["status"]["code"]
        assert ours.response.reason == vcr_response["status"]["message"]
        flat = [(k, v) for k, values in vcr_response["headers"].items() for v in values]
        assert [p for p in ours.response.headers if p[0] not in _FIXED] == [
            p for p in flat if p[0] not in _FIXED
        ]
        assert ours.response.body == vcr_response["body"]["string"]

    json_item, post, gzipped, binary, headers, missing = items
    assert (json_item.request.method, json_item.request.uri) == ("GET", http_server.url + "/json")
    assert json_item.response.body == JSON_BODY == live["json"].data
    assert json_item.response.header("content-type") == "application/json"

    assert post.request.method == "POST"
    assert post.request.uri == http_server.url + "/echo?x=1"
    assert post.request.body == b"posted \xff\x00 bytes"
    assert ("X-Test", "yes") in post.request.raw_headers
    echoed = json.loads(post.response.body)
    assert echoed["method"] == "POST"
    assert echoed["body"] == b"posted \xff\x00 bytes".decode("latin-1")

    # vcrpy 9 records urllib3 2.x's already-decoded ``data`` next to ``Content-Encoding: gzip``
    # and the compressed Content-Length; pooltest makes the headers fit the body again.
    assert vcr_responses[2]["headers"]["Content-Encoding"] == ["gzip"]
    assert gzipped.response.header("content-encoding") is None
    assert gzipped.response.header("content-length") == str(len(ENCODED_PAYLOAD))
    assert gzipped.response.body == ENCODED_PAYLOAD == live["gzip"].data
    assert binary.response.body == stream_payload(3000) == live["binary"].data
    cookies = [v for k, v in headers.response.headers if k.lower() == "set-cookie"]
    assert cookies == [v for k, v in HEADERS_ROUTE_FIELDS if k == "Set-Cookie"]
    assert (missing.response.status, missing.response.reason) == (404, "Not Found")


def test_vcrpy_recordings_survive_a_pooltest_round_trip(
    http_server: KeepAliveServer, tmp_path: Path
) -> None:
    path = tmp_path / "vcr.yaml"
    _record_with_vcrpy(http_server, path)
    items = load(path)
    copy = tmp_path / "copy.yaml"
    save(copy, items)
    assert load(copy) == items
    theirs = vcr_deserialize(path.read_text())
    again = vcr_deserialize(copy.read_text())
    assert [r.uri for r in again[0]] == [r.uri for r in theirs[0]]
    assert [r["body"] for r in again[1]] == [r["body"] for r in theirs[1]]
    assert [r["status"] for r in again[1]] == [r["status"] for r in theirs[1]]


# --- (b) pooltest writes, vcrpy replays ----------------------------------------------------


def _fetch_raw(pool: urllib3.PoolManager, method: str, url: str, **kw: Any) -> Interaction:
    """One live exchange as pooltest records it: body as received, headers in wire order."""
    sent = dict(kw.pop("headers", {}))
    body = kw.pop("body", b"")
    response = pool.request(
        method, url, headers=sent, body=body or None, preload_content=False, **kw
    )
    raw = response.read(decode_content=False)
    response.release_conn()
    pairs = tuple(response.headers.iteritems())
    return Interaction(
        Request(method, url, list(sent.items()), body),
        Response(response.status, response.reason or "", pairs, raw),
        utc_now(),
    )


HAND_BUILT_PATH = "/hand-built"


def _hand_built(base: str) -> list[Interaction]:
    interleaved = (
        ("Set-Cookie", "a=1; Path=/"),
        ("X-Between", "x"),
        ("Set-Cookie", "b=2; Path=/"),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", "22"),
    )
    text = "caf\u00e9\nsecond line\n\u2603\n".encode()
    assert len(text) == 22
    return [
        Interaction(
            Request("GET", base + HAND_BUILT_PATH, [("Accept", "*/*")]),
            Response(200, "OK", interleaved, text, "HTTP/1.0"),
            utc_now(),
        ),
        Interaction(
            Request("DELETE", base + HAND_BUILT_PATH + "?id=7"),
            Response(410, "Gone", (("Content-Length", "0"),), b""),
            utc_now(),
        ),
    ]


def test_vcrpy_replays_what_pooltest_wrote(http_server: KeepAliveServer, tmp_path: Path) -> None:
    base = http_server.url
    with urllib3.PoolManager() as pool:
        recorded = [
            _fetch_raw(pool, "GET", base + "/json"),
            _fetch_raw(pool, "GET", base + "/gzip"),
            _fetch_raw(pool, "GET", base + "/stream?size=5000"),
            _fetch_raw(pool, "GET", base + "/headers"),
            _fetch_raw(pool, "GET", base + "/chunked?n=4"),
            _fetch_raw(
                pool,
                "POST",
                base + "/echo",
                headers={"Content-Type": "application/json"},
                body=b'{"k": "v"}',
            ),
        ]
    recorded += _hand_built(base)
    path = tmp_path / "pooltest.yaml"
    save(path, recorded)
    assert "pooltest_header_order" in path.read_text()
    http_server.stop()

    replaying = vcr.VCR(record_mode="none").use_cassette(str(path), allow_playback_repeats=True)
    with replaying as cassette, urllib3.PoolManager() as pool:
        _check_urllib3_replay(pool, base)
        _check_requests_replay(base)
        assert cassette.play_count == len(recorded) + 5  # urllib3 played all, requests 5
    assert http_server.requests_served == len(recorded) - 2


def _check_urllib3_replay(pool: urllib3.PoolManager, base: str) -> None:
    json_response = pool.request("GET", base + "/json")
    assert (json_response.status, json_response.data) == (200, JSON_BODY)
    assert json_response.headers["Content-Type"] == "application/json"
    # vcrpy never decodes on replay (it expects cassettes to hold decoded bodies); pooltest
    # stores the bytes as received, so a content-encoded body comes back still encoded.
    gzipped = pool.request("GET", base + "/gzip")
    assert gzipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gzipped.data) == ENCODED_PAYLOAD
    assert pool.request("GET", base + "/stream?size=5000").data == stream_payload(5000)
    headers = pool.request("GET", base + "/headers").headers
    assert headers.getlist("Set-Cookie") == [
        v for k, v in HEADERS_ROUTE_FIELDS if k == "Set-Cookie"
    ]
    assert pool.request("GET", base + "/chunked?n=4").data
    echoed = pool.request("POST", base + "/echo", body=b'{"k": "v"}').json()
    assert echoed["body"] == '{"k": "v"}'
    hand = pool.request("GET", base + HAND_BUILT_PATH)
    assert hand.data.decode() == "caf\u00e9\nsecond line\n\u2603\n"
    assert hand.headers.getlist("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert hand.headers["X-Between"] == "x"
    gone = pool.request("DELETE", base + HAND_BUILT_PATH + "?id=7")
    assert (gone.status, gone.data) == (410, b"")


def _check_requests_replay(base: str) -> None:
    with requests.Session() as session:
        response = session.get(base + "/json")
        assert (response.status_code, response.content) == (200, JSON_BODY)
        assert gzip.decompress(session.get(base + "/gzip").content) == ENCODED_PAYLOAD
        cookies = session.get(base + "/headers").cookies
        assert cookies.get("session") == "abc123"
        hand = session.get(base + HAND_BUILT_PATH)
        assert hand.text == "caf\u00e9\nsecond line\n\u2603\n"
        assert hand.reason == "OK"
        gone = session.delete(base + HAND_BUILT_PATH, params={"id": "7"})
        assert (gone.status_code, gone.reason) == (410, "Gone")


def test_a_pooltest_file_is_plain_vcrpy_yaml(http_server: KeepAliveServer) -> None:
    """What vcrpy needs is there, with nothing Python-specific."""
    with urllib3.PoolManager() as pool:
        item = _fetch_raw(pool, "GET", http_server.url + "/json")
    text = dumps([item])
    assert "!!python" not in text
    document = yaml_safe_load(text)
    (interaction,) = document["interactions"]
    assert sorted(interaction["request"]) == ["body", "headers", "method", "uri"]
    assert interaction["response"]["body"] == {"string": JSON_BODY.decode()}
    assert document["version"] == 1


def yaml_safe_load(text: str) -> Any:
    return yaml.safe_load(text)
