"""Cassette files shared with vcrpy 9.x, in both directions, against a loopback origin.

* vcrpy records real traffic made with urllib3; the server is stopped; pooltest replays the file
  through ``pooltest.PoolManager`` (``record_mode="none"``) and the caller sees what urllib3 saw:
  status, reason, header fields (as a multiset per name, values in order: vcrpy's layout keeps no
  order between names) and body, decoded and raw.
* pooltest records; the server is stopped; vcrpy replays the file with urllib3 and with requests,
  and their callers see what pooltest's caller saw live (``Transfer-Encoding`` aside: vcrpy drops
  it because it hands out the de-chunked body).

Content-coded responses are the one place where the two differ, because vcrpy 9 with urllib3 2.x
keeps bodies *decoded* (kevin1024/vcrpy#719, #942): it stores the decoded body next to the
original ``Content-Encoding``/``Content-Length`` and on replay never decodes. pooltest reads such
a file with those two headers made consistent with the body (no ``Content-Encoding``, the real
length), so its replay parses; and for a file vcrpy must replay, pooltest records with
``decode_compressed_response=True`` (vcrpy's option of the same name does the same).

A scenario is one request, described as plain data so the same one runs through every library.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3
import vcr  # type: ignore[import-untyped]
import yaml
from support import ENCODED_PAYLOAD, HEADERS_ROUTE_FIELDS, KeepAliveServer

import pooltest
from pooltest.cassette import use_cassette

pytestmark = pytest.mark.network


@dataclass(frozen=True)
class Scenario:
    """One request: method, path (with query) and ``request()`` keyword arguments."""

    method: str
    path: str
    kwargs: dict[str, Any] = field(default_factory=dict)


SCENARIOS: dict[str, Scenario] = {
    "get-json": Scenario("GET", "/json"),
    "get-query": Scenario("GET", "/echo?b=2&a=1&a=3"),
    "post-json": Scenario("POST", "/upload", {"json": {"a": 1, "b": [True, None, "é"]}}),
    "post-form": Scenario(
        "POST", "/upload", {"fields": {"x": "1", "y": "two"}, "encode_multipart": False}
    ),
    "post-multipart": Scenario(
        "POST", "/upload", {"fields": {"doc": ("a.txt", b"hello\x00", "text/plain"), "t": "v"}}
    ),
    "put-binary": Scenario("PUT", "/echo", {"body": bytes(range(256))}),
    "delete": Scenario("DELETE", "/status/404"),
    "custom-method": Scenario("PURGE", "/echo"),
    "head": Scenario("HEAD", "/head-check"),
    "no-content": Scenario("GET", "/no-content"),
    "gzip-decoded": Scenario("GET", "/gzip"),
    "gzip-raw": Scenario("GET", "/gzip", {"decode_content": False}),
    "chunked": Scenario("GET", "/chunked?n=5"),
    "binary-stream": Scenario("GET", "/stream?size=3000"),
    "server-error": Scenario("POST", "/status/503?body=down", {"body": "text body"}),
}


def _grouped(pairs: Any) -> dict[str, list[str]]:
    """Header fields as lower-case name -> values in order (what vcrpy's layout keeps)."""
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        if name.lower() != "transfer-encoding":
            grouped.setdefault(name.lower(), []).append(value)
    return grouped


def _observe(response: Any) -> dict[str, object]:
    return {
        "status": response.status,
        "reason": response.reason,
        "headers": _grouped(response.headers.items()),
        "data": response.data,
    }


def _send(lib: Any, base_url: str, scenario: Scenario) -> dict[str, object]:
    http = lib.PoolManager(retries=False)
    response = http.request(scenario.method, base_url + scenario.path, **scenario.kwargs)
    return _observe(response)


def _send_with_requests(base_url: str, scenario: Scenario) -> dict[str, object]:
    kwargs = dict(scenario.kwargs)
    if "body" in kwargs:
        kwargs["data"] = kwargs.pop("body")
    if "json" not in kwargs and "fields" in kwargs:
        fields = kwargs.pop("fields")
        if kwargs.pop("encode_multipart", True):
            kwargs["files"] = fields
        else:
            kwargs["data"] = fields
    with requests.Session() as session:
        response = session.request(
            scenario.method, base_url + scenario.path, allow_redirects=False, **kwargs
        )
        return {
            "status": response.status_code,
            "reason": response.reason,
            "headers": {
                name.lower(): value
                for name, value in response.headers.items()
                if name.lower() != "transfer-encoding"
            },
            "data": response.content,
        }


def _joined(observed: dict[str, object]) -> dict[str, object]:
    """An observation with repeated header values joined as requests joins them."""
    headers = _headers_of(observed)
    return {**observed, "headers": {name: ", ".join(v) for name, v in headers.items()}}


def _headers_of(observed: dict[str, object]) -> dict[str, list[str]]:
    headers = observed["headers"]
    assert isinstance(headers, dict)
    return headers


@pytest.fixture
def origin() -> Iterator[KeepAliveServer]:
    with KeepAliveServer() as server:
        yield server


# --- vcrpy records, pooltest replays ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_vcrpy_recording_replays_in_pooltest(
    tmp_path: Path, origin: KeepAliveServer, name: str
) -> None:
    scenario = SCENARIOS[name]
    path = tmp_path / "vcrpy.yaml"
    with vcr.use_cassette(str(path), record_mode="once"):
        expected = _send(urllib3, origin.url, scenario)
    served = origin.requests_served
    origin.stop()
    assert served == 1  # vcrpy really went to the server
    with use_cassette(path, record_mode="none") as cassette:
        replayed = _send(pooltest, origin.url, scenario)
        cassette.assert_all_played()
    assert replayed == _as_pooltest_reads_vcrpy(expected)


def _as_pooltest_reads_vcrpy(observed: dict[str, object]) -> dict[str, object]:
    """vcrpy stored a decoded body under Content-Encoding: pooltest drops it, fixes the length."""
    headers = dict(_headers_of(observed))
    if headers.pop("content-encoding", None) is None:
        return observed
    data = observed["data"]
    assert isinstance(data, bytes)
    headers["content-length"] = [str(len(data))]
    return {**observed, "headers": headers}


def test_vcrpy_recording_of_many_requests_replays_in_order(
    tmp_path: Path, origin: KeepAliveServer
) -> None:
    path = tmp_path / "vcrpy.yaml"
    http = urllib3.PoolManager()
    with vcr.use_cassette(str(path), record_mode="once", allow_playback_repeats=False):
        expected = [
            http.request("GET", f"{origin.url}/echo", headers={"X-Seq": str(i)}).json()
            for i in range(3)
        ]
    origin.stop()
    with use_cassette(path, record_mode="none"):
        manager = pooltest.PoolManager()
        replayed = [manager.request("GET", f"{origin.url}/echo").json() for _ in range(3)]
    assert replayed == expected
    assert [dict(r["headers"])["X-Seq"] for r in replayed] == ["0", "1", "2"]


# --- pooltest records, vcrpy replays ------------------------------------------------------------


def _record_with_pooltest(
    path: Path, origin: KeepAliveServer, scenario: Scenario, **options: Any
) -> dict[str, object]:
    with use_cassette(path, **options):
        live = _send(pooltest, origin.url, scenario)
    assert origin.requests_served == 1
    origin.stop()
    return live


PLAIN = sorted(name for name in SCENARIOS if not name.startswith("gzip"))


@pytest.mark.parametrize("name", PLAIN)
def test_pooltest_recording_replays_in_vcrpy_with_urllib3(
    tmp_path: Path, origin: KeepAliveServer, name: str
) -> None:
    scenario = SCENARIOS[name]
    path = tmp_path / "pooltest.yaml"
    live = _record_with_pooltest(path, origin, scenario)
    with vcr.use_cassette(str(path), record_mode="none") as cassette:
        replayed = _send(urllib3, origin.url, scenario)
        assert cassette.all_played
    assert replayed == live


@pytest.mark.parametrize("name", PLAIN)
def test_pooltest_recording_replays_in_vcrpy_with_requests(
    tmp_path: Path, origin: KeepAliveServer, name: str
) -> None:
    scenario = SCENARIOS[name]
    path = tmp_path / "pooltest.yaml"
    live = _record_with_pooltest(path, origin, scenario)
    with vcr.use_cassette(str(path), record_mode="none") as cassette:
        replayed = _send_with_requests(origin.url, scenario)
        assert cassette.all_played
    assert replayed == _joined(live)


@pytest.mark.parametrize("client", ["urllib3", "requests"])
def test_pooltest_decoded_recording_of_gzip_replays_in_vcrpy(
    tmp_path: Path, origin: KeepAliveServer, client: str
) -> None:
    scenario = SCENARIOS["gzip-decoded"]
    path = tmp_path / "gz.yaml"
    live = _record_with_pooltest(path, origin, scenario, decode_compressed_response=True)
    with vcr.use_cassette(str(path), record_mode="none"):
        if client == "urllib3":
            replayed = _send(urllib3, origin.url, scenario)
        else:
            replayed = _send_with_requests(origin.url, scenario)
    assert replayed["data"] == live["data"] == ENCODED_PAYLOAD
    assert replayed["status"] == live["status"]
    headers = _headers_of(live)
    assert "content-encoding" in headers  # the live caller saw the coding ...
    stored = {name.lower() for name, _ in use_cassette_headers(path)}
    assert "content-encoding" not in stored  # ... the file holds the decoded body only


def use_cassette_headers(path: Path) -> list[tuple[str, str]]:
    """The response header fields of the only interaction in the cassette at ``path``."""
    with use_cassette(path, record_mode="none") as cassette:
        (interaction,) = cassette.interactions
    return list(interaction.response.headers)


def test_pooltest_recording_with_case_variant_duplicates_replays_in_vcrpy(
    tmp_path: Path, origin: KeepAliveServer
) -> None:
    """X-Dup and x-dup are one field to vcrpy: the file must group them under one key."""
    scenario = Scenario("GET", "/headers")
    live = _record_with_pooltest(tmp_path / "h.yaml", origin, scenario)
    assert _headers_of(live)["x-dup"] == ["first", "second"]
    with vcr.use_cassette(str(tmp_path / "h.yaml"), record_mode="none"):
        replayed = _send(urllib3, origin.url, scenario)
    assert replayed == live


def test_vcrpy_recording_of_case_variant_duplicates_replays_in_pooltest(
    tmp_path: Path, origin: KeepAliveServer
) -> None:
    scenario = Scenario("GET", "/headers")
    path = tmp_path / "vcrpy.yaml"
    with vcr.use_cassette(str(path), record_mode="once"):
        expected = _send(urllib3, origin.url, scenario)
    origin.stop()
    with use_cassette(path, record_mode="none"):
        replayed = _send(pooltest, origin.url, scenario)
    assert replayed == expected
    sent = {name.lower() for name, _ in HEADERS_ROUTE_FIELDS}
    assert sent <= set(_headers_of(replayed))


EDITS = {
    "shorter": b'{"edited":true}',
    "longer": b'{"edited":true,"padding":"' + b"x" * 300 + b'"}',
    "empty": b"",
}


@pytest.mark.parametrize("recorder", ["vcrpy", "pooltest"])
@pytest.mark.parametrize("edit", sorted(EDITS))
def test_hand_edited_body_replays_as_written(
    tmp_path: Path, origin: KeepAliveServer, recorder: str, edit: str
) -> None:
    """A body edited by hand (its Content-Length not) replays whole in pooltest, as in vcrpy."""
    path = tmp_path / "edited.yaml"
    url = f"{origin.url}/json"
    if recorder == "vcrpy":
        with vcr.use_cassette(str(path)):
            urllib3.PoolManager().request("GET", url)
    else:
        with use_cassette(path):
            pooltest.PoolManager().request("GET", url)
    origin.stop()
    document = yaml.safe_load(path.read_text())
    document["interactions"][0]["response"]["body"]["string"] = EDITS[edit].decode()
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with vcr.use_cassette(str(path), record_mode="none"):
        expected = urllib3.PoolManager().request("GET", url).data
    with use_cassette(path, record_mode="none"):
        replayed = pooltest.PoolManager(retries=False).request("GET", url)
    assert replayed.data == expected == EDITS[edit]
    assert replayed.headers["Content-Length"] == str(len(EDITS[edit]))


def test_pooltest_file_loads_as_vcrpy_data(tmp_path: Path, origin: KeepAliveServer) -> None:
    """vcrpy's own deserializer reads every interaction pooltest wrote (bodies, statuses)."""
    from vcr.persisters.filesystem import (  # type: ignore[import-untyped]
        FilesystemPersister,
    )
    from vcr.serializers import yamlserializer  # type: ignore[import-untyped]

    path = tmp_path / "pooltest.yaml"
    with use_cassette(path) as recorder:
        http = pooltest.PoolManager()
        for scenario in SCENARIOS.values():
            http.request(scenario.method, origin.url + scenario.path, **scenario.kwargs)
    vcr_requests, vcr_responses = FilesystemPersister.load_cassette(str(path), yamlserializer)
    assert len(vcr_requests) == len(recorder.interactions) == len(SCENARIOS)
    for vcr_request, vcr_response, interaction in zip(
        vcr_requests, vcr_responses, recorder.interactions, strict=True
    ):
        assert vcr_request.method == interaction.request.method
        assert vcr_request.uri == interaction.request.uri
        assert (vcr_request.body or b"") == interaction.request.body
        assert vcr_response["status"]["code"] == interaction.response.status
        assert vcr_response["body"]["string"] == interaction.response.body
    assert json.loads(vcr_responses[0]["body"]["string"])  # the JSON route came back as bytes
