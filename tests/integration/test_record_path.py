"""The record path: what a live exchange through a cassette stores, pinned against the parser.

A recording connection keeps the head the live parser hands it and the body bytes the parser
consumed, framing removed. These tests record odd responses from a raw loopback server and check
the stored response is exactly what the parser makes of the same bytes, that an incomplete body
is not stored, that a request is stored as filtered once (also when its wire form was not
remembered), and that the cassette text does not depend on the header-block memo of the writer.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import KeepAliveServer, RawServer
from support.raw import drip, respond

from pooltest import _http11
from pooltest._body import BodyReader
from pooltest._collections import HTTPHeaderDict
from pooltest.cassette import Interaction, Request, Response, use_cassette
from pooltest.cassette import _connection as connection_module
from pooltest.cassette._connection import _recorded_response
from pooltest.cassette._format import _dumps_with_yaml, dumps, loads
from pooltest.exceptions import ProtocolError
from pooltest.poolmanager import PoolManager

_BODY = b'{"ok": true}'

# name -> raw response bytes (each ends the exchange: the raw server closes after sending).
_RESPONSES: dict[str, bytes] = {
    "plain": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n"
    + _BODY,
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    "interleaved": b"HTTP/1.1 201 Created\r\nSet-Cookie: a=1\r\nX-A: x\r\nSet-Cookie: b=2\r\n"
    b"x-a: y\r\nContent-Length: 2\r\n\r\nhi",
    "folded": b"HTTP/1.1 200 OK\r\nX-Fold: a\r\n  b\r\nContent-Length: 2\r\n\r\nok",
    "not-a-token": b"HTTP/1.1 200 OK\r\nBad Name: z\r\nX-Ok: 1\r\nContent-Length: 2\r\n\r\nok",
    "no-colon": b"HTTP/1.1 200 OK\r\nnocolon\r\nContent-Length: 2\r\n\r\nok",
    "empty-name": b"HTTP/1.1 200 OK\r\n: v\r\nContent-Length: 2\r\n\r\nok",
    "lf-only": b"HTTP/1.1 200 Fine Thanks\nX-Lf: 1\nContent-Length: 2\n\nok",
    "bare-cr": b"HTTP/1.1 200 OK\r\nX-Cr: a\rb\r\nContent-Length: 2\r\n\r\nok",
    "interim": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "no-content": b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
    "not-modified": b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
    "until-eof": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
    "blanks": b"HTTP/1.1 200 OK\r\nX-Sp: \t padded value \t \r\nX-Empty:\r\n"
    b"Content-Length:  1 \r\n\r\nx",
    "twice-length": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
    "other-coding": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw until eof",
    "http10": b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "no-reason": b"HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx",
    "spaced-reason": b"HTTP/1.1 404  Not  Found \r\nContent-Length: 0\r\n\r\n",
    "latin-1": b"HTTP/1.1 200 OK\r\nX-Caf\xe9: caf\xe9\r\nX-V: \xff\r\nContent-Length: 1\r\n\r\nx",
    "binary-body": b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n\x00\r\n\r\n",
}


@pytest.mark.parametrize("name", sorted(_RESPONSES))
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_recorded_response_is_what_the_parser_reads(
    tmp_path: Path, raw_server: Callable[..., RawServer], name: str, method: str
) -> None:
    raw = _RESPONSES[name]
    server = raw_server(respond(raw))
    with use_cassette(tmp_path / "c.yaml") as cassette:
        live = PoolManager().request(method, f"{server.url}/{name}", retries=False)
    expected = _parsed(raw, method)
    (interaction,) = cassette.interactions
    assert interaction.response == expected
    assert interaction.response.body == (b"" if method == "HEAD" else live.data)


@pytest.mark.parametrize("name", ["plain", "chunked"])
def test_a_head_arriving_byte_by_byte_is_recorded_as_parsed(
    tmp_path: Path, raw_server: Callable[..., RawServer], name: str
) -> None:
    """The recorder reads a head in one go only when it is all at hand (peeked through the
    tee); a head still arriving is read line by line, with the same recording."""
    raw = _RESPONSES[name]
    server = raw_server(drip(raw, delay=0.0005))
    with use_cassette(tmp_path / "c.yaml") as cassette:
        live = PoolManager().request("GET", f"{server.url}/{name}", retries=False)
    (interaction,) = cassette.interactions
    assert interaction.response == _parsed(raw, "GET")
    assert interaction.response.body == live.data


def _parsed(raw: bytes, method: str) -> Response:
    """What the response parser makes of ``raw``: the reference a recording must equal."""
    fp = io.BytesIO(raw)
    version, status, reason, pairs = _http11.read_response_head(fp)
    headers = HTTPHeaderDict._from_pairs(pairs)
    chunked, length, _ = _http11.body_framing(method, status, headers)
    body = BodyReader(fp, chunked=chunked, length=length).read()
    return Response(status, reason, tuple(pairs), body, version)


def _head_and_body(raw: bytes, method: str) -> tuple[Any, bytes]:
    """The head as the parser reads it, with the framing it decides for ``method``, and the
    body bytes it consumes (what a tee holds)."""
    fp = io.BytesIO(raw)
    version, status, reason, pairs = _http11.read_response_head(fp)
    start = fp.tell()
    chunked, length, _ = _http11.body_framing(method, status, HTTPHeaderDict._from_pairs(pairs))
    BodyReader(fp, chunked=chunked, length=length).read()
    return (version, status, reason, tuple(pairs), chunked, length), raw[start : fp.tell()]


@pytest.mark.parametrize("name", sorted(_RESPONSES))
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_a_kept_response_is_the_parsed_head_and_unframed_body(name: str, method: str) -> None:
    head, body = _head_and_body(_RESPONSES[name], method)
    assert _recorded_response(head, bytearray(body)) == _parsed(_RESPONSES[name], method)


@pytest.mark.parametrize("name", ["plain", "chunked", "interleaved", "binary-body"])
def test_an_incomplete_body_is_not_kept(name: str) -> None:
    head, body = _head_and_body(_RESPONSES[name], "GET")
    assert _recorded_response(head, bytearray(body[: len(body) // 2])) is None
    assert _recorded_response(head, bytearray(body)) is not None


def test_an_incomplete_body_is_not_recorded(
    tmp_path: Path, raw_server: Callable[..., RawServer]
) -> None:
    server = raw_server(respond(_RESPONSES["plain"][:-3]))
    with (
        use_cassette(tmp_path / "c.yaml") as cassette,
        pytest.raises(ProtocolError),
    ):
        PoolManager().request("GET", f"{server.url}/cut", retries=False)
    assert cassette.interactions == []


def test_a_repeated_request_is_recorded_each_time_filtered(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    url = f"{http_server.url}/json?api_key=secret&q=1"
    with use_cassette(tmp_path / "c.yaml", record_mode="all") as cassette:
        http = PoolManager()
        for _ in range(3):
            http.request("GET", url, headers={"Authorization": "Bearer secret"})
    assert len(cassette.interactions) == 3
    requests = [i.request for i in cassette.interactions]
    assert requests == cassette.requests
    for request in requests:
        assert "secret" not in request.uri
        assert request.headers["Authorization"] == "<REDACTED>"
    text = (tmp_path / "c.yaml").read_text()
    assert "secret" not in text
    assert text.count("- request:") == 3


def test_a_large_body_is_recorded_filtered(tmp_path: Path, http_server: KeepAliveServer) -> None:
    # Past 64 KiB the wire form is not remembered: the request is built again for the record.
    fields = {"password": "hunter2", "blob": "x" * (70 * 1024)}
    body = urllib.parse.urlencode(fields)
    with use_cassette(tmp_path / "c.yaml") as cassette:
        PoolManager().request(
            "POST",
            f"{http_server.url}/echo",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    (interaction,) = cassette.interactions
    assert interaction.request == cassette.requests[0]
    stored = urllib.parse.parse_qs(interaction.request.body.decode())
    assert stored["password"] == ["<REDACTED>"]
    assert stored["blob"] == [fields["blob"]]


# -- exchanges kept now, built later ------------------------------------------------------------
#
# Without before_record_* hooks a recording cassette notes each live exchange and builds its
# interaction when interactions are read or saved; with a hook it builds it at once (the hook
# sees each exchange as it happens). Both must store the same thing.

_SENT = [
    ("GET", "/json?api_key=secret&q=1", {"Authorization": "Bearer secret"}, None),
    ("POST", "/echo", {"Content-Type": "application/x-www-form-urlencoded"}, b"password=x&a=1"),
    ("GET", "/status/404", {}, None),
    ("GET", "/gzip", {}, None),
    ("GET", "/chunked?n=3", {}, None),
]


def _record(path: Path, server: KeepAliveServer, **options: Any) -> Any:
    with use_cassette(path, record_mode="all", **options) as cassette:
        http = PoolManager()
        for method, target, headers, body in _SENT:
            http.request(method, server.url + target, headers=headers, body=body)
    return cassette


def _stored(interaction: Interaction) -> tuple[Request, int, list[tuple[str, str]], object]:
    """What was stored, without what differs between two runs: Date, the echo's connection."""
    response = interaction.response
    headers = [(n, v) for n, v in response.headers if n.lower() not in ("date", "content-length")]
    body: object = response.body
    if interaction.request.uri.endswith("/echo"):
        echoed = json.loads(response.body)
        body = {k: v for k, v in echoed.items() if not k.startswith("connection")}
    return interaction.request, response.status, headers, body


@pytest.mark.parametrize(
    "options",
    [{}, {"decode_compressed_response": True}, {"filter_sensitive_data": {"<P>": "pooltest"}}],
    ids=["plain", "decoded", "sensitive"],
)
def test_exchanges_built_later_are_stored_as_those_built_at_once(
    tmp_path: Path, http_server: KeepAliveServer, options: dict[str, Any]
) -> None:
    hook_calls: list[Response] = []

    def hook(response: Response) -> Response:
        hook_calls.append(response)
        return response

    later = _record(tmp_path / "later.yaml", http_server, **options)
    at_once = _record(tmp_path / "once.yaml", http_server, before_record_response=hook, **options)
    assert len(hook_calls) == len(_SENT)
    assert [_stored(i) for i in later.interactions] == [_stored(i) for i in at_once.interactions]
    assert later.requests == at_once.requests == [i.request for i in later.interactions]
    assert "secret" not in (tmp_path / "later.yaml").read_text()
    assert loads((tmp_path / "later.yaml").read_text(), "later.yaml") == later.interactions


def test_a_hook_sees_each_exchange_as_it_happens(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    seen: list[str] = []

    def hook(request: Request) -> Request:
        seen.append(request.uri)
        return request

    with use_cassette(tmp_path / "c.yaml", before_record_request=hook):
        PoolManager().request("GET", f"{http_server.url}/json")
        assert seen == [f"{http_server.url}/json"]


def test_exchanges_noted_are_readable_in_the_block_and_keep_their_instant(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    with use_cassette(tmp_path / "c.yaml") as cassette:
        http = PoolManager()
        http.request("GET", f"{http_server.url}/json")
        first_done = dt.datetime.now(dt.timezone.utc)
        for _ in range(100_000):  # until the clock moves on (bounded; no timing asserted)
            if dt.datetime.now(dt.timezone.utc) > first_done:
                break
        http.request("GET", f"{http_server.url}/status/404")
        assert "recorded=2" in repr(cassette)
        first, second = cassette.interactions  # built here, in the block
        assert cassette.play_counts == [1, 1]
        assert first.recorded_at <= first_done < second.recorded_at
        http.request("GET", f"{http_server.url}/json?again=1")
        assert len(cassette.interactions) == 3
    assert [i.response.status for i in cassette.interactions] == [200, 404, 200]
    assert len(loads((tmp_path / "c.yaml").read_text(), "c.yaml")) == 3


def test_an_incomplete_body_noted_is_not_saved(
    tmp_path: Path, raw_server: Callable[..., RawServer]
) -> None:
    server = raw_server(respond(_RESPONSES["plain"][:-3]))
    path = tmp_path / "c.yaml"
    with use_cassette(path) as cassette, pytest.raises(ProtocolError):
        PoolManager().request("GET", f"{server.url}/cut", retries=False)
    assert cassette.interactions == []
    assert not path.exists()  # nothing was kept, so nothing was saved


def test_threads_recording_into_one_cassette_keep_every_exchange(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"
    with use_cassette(path) as cassette:
        http = PoolManager(maxsize=8)
        errors: list[BaseException] = []

        def worker(thread: int) -> None:
            try:
                for seq in range(25):
                    http.request("GET", f"{http_server.url}/echo?t={thread}&s={seq}")
            except BaseException as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not errors
        assert not [t for t in threads if t.is_alive()]
    uris = sorted(i.request.uri for i in cassette.interactions)
    wanted = sorted(f"{http_server.url}/echo?t={t}&s={s}" for t in range(8) for s in range(25))
    assert uris == wanted
    assert sorted(r.uri for r in cassette.requests) == wanted
    assert len(loads(path.read_text(), "c.yaml")) == 200


def _interaction(index: int, headers: tuple[tuple[str, str], ...]) -> Interaction:
    moment = dt.datetime(2024, 1, 2, 3, 4, 5, index, tzinfo=dt.timezone.utc)
    request = Request("GET", f"http://example.test/{index}", (("Host", "example.test"),))
    return Interaction(request, Response(200, "OK", headers, b"%d" % index), moment)


@pytest.mark.parametrize(
    "headers",
    [
        (("Content-Length", "1"),),
        (("Set-Cookie", "a"), ("X-A", "1"), ("set-cookie", "b")),
        (("X-Dup", "1"), ("x-dup", "2")),
        (("X-Quote", "it's: here"), ("X-Num", "12"), ("X-Empty", "")),
        (),
    ],
)
def test_shared_header_fields_are_written_as_the_dumper_writes_them(
    headers: tuple[tuple[str, str], ...],
) -> None:
    interactions = [_interaction(index, headers) for index in range(3)]
    first = dumps(interactions)
    assert first == dumps(interactions) == _dumps_with_yaml(interactions)
    assert loads(first, "memo.yaml") == interactions


def test_unsafe_header_text_is_refused_every_time() -> None:
    interactions = [_interaction(0, (("X-Bad", "a\nb"),))]
    for _ in range(2):
        with pytest.raises(ValueError, match="response header 'X-Bad'"):
            dumps(interactions)


# -- saved unbuilt ------------------------------------------------------------------------------
#
# Saving a recording writes the noted exchanges from their fields when building them would store
# them unchanged (no filter changes them, no chunked or decoded body, mode neither "all" nor
# dropping unused ones); they are built only if read. The text must be what building them and
# writing the interactions gives.

_PLAIN = [
    ("GET", "/json", {}, None),
    ("GET", "/json?q=1&r=two", {"X-Trace": "abc"}, None),
    ("HEAD", "/json", {}, None),
    ("GET", "/status/204", {}, None),
    ("GET", "/status/404?body=gone", {}, None),
    ("DELETE", "/echo", {}, None),
]
# Requests with bodies are built: the default post-data rules look into them.
_BODIES = [
    ("POST", "/echo", {"Content-Type": "text/plain"}, b"line one\nline two\n"),
    ("PUT", "/echo", {}, b"\x00\xff binary"),
]


def _record_each(path: Path, server: KeepAliveServer, sent: list[Any], **options: Any) -> Any:
    with use_cassette(path, **options) as cassette:
        http = PoolManager()
        for method, target, headers, body in sent:
            http.request(method, server.url + target, headers=headers, body=body)
        noted = len(cassette._pending)  # exchanges not built yet
    return cassette, noted


@pytest.mark.parametrize("mode", ["once", "new_episodes", "rewrite"])
def test_a_recording_saved_unbuilt_is_what_its_interactions_write(
    tmp_path: Path, http_server: KeepAliveServer, mode: str
) -> None:
    path = tmp_path / "c.yaml"
    cassette, noted = _record_each(path, http_server, _PLAIN, record_mode=mode)
    assert noted == len(_PLAIN)
    assert len(cassette._pending) == noted  # the save wrote them without building them
    saved = path.read_text()
    assert saved == dumps(cassette.interactions)  # built only now
    assert loads(saved, "c.yaml") == cassette.interactions
    assert [i.request.method for i in cassette.interactions] == [s[0] for s in _PLAIN]


@pytest.mark.parametrize(
    "options",
    [
        {},  # with bodies (below)
        {"record_mode": "all"},
        {"drop_unused": True},
        {"decode_compressed_response": True},
        {"filter_sensitive_data": {"<SVC>": "loopback"}},
        {"filter_query_parameters": ["q"]},
        {"filter_headers": ["x-trace"]},
    ],
    ids=["bodies", "all", "drop-unused", "decoded", "sensitive", "query", "headers"],
)
def test_a_recording_that_needs_building_is_saved_built_and_the_same(
    tmp_path: Path, http_server: KeepAliveServer, options: dict[str, Any]
) -> None:
    path = tmp_path / "c.yaml"
    sent = [*_PLAIN, *_BODIES, ("GET", "/gzip", {}, None)]
    if options:
        sent.append(("GET", "/chunked?n=2", {}, None))
    cassette, _ = _record_each(path, http_server, sent, **options)
    assert not cassette._pending
    saved = path.read_text()
    assert saved == dumps(cassette.interactions)
    assert "loopback" not in saved or "filter_sensitive_data" not in options
    assert "q=1" not in saved or "filter_query_parameters" not in options
    assert "abc" not in saved or "filter_headers" not in options


def test_secrets_in_a_recording_are_never_saved_unbuilt(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"
    sent = [*_PLAIN, ("GET", "/json?api_key=k1", {"Authorization": "Bearer t0ken"}, None)]
    cassette, _ = _record_each(path, http_server, sent)
    saved = path.read_text()
    assert "t0ken" not in saved
    assert "k1" not in saved
    assert saved == dumps(cassette.interactions)


def test_two_recordings_saved_unbuilt_into_one_file_are_merged(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"
    with use_cassette(path) as first, use_cassette(path) as second:
        # Both start from no file; the inner one (second) is the active seam.
        http = PoolManager()
        for index in range(3):
            http.request("GET", f"{http_server.url}/echo?n={index}")
        assert len(second._pending) == 3
        assert not first._pending
        assert first.requests == []  # nothing went through the outer cassette
    on_disk = loads(path.read_text(), "c.yaml")
    assert on_disk == second.interactions
    with use_cassette(path, record_mode="new_episodes") as third:
        PoolManager().request("GET", f"{http_server.url}/echo?n=3")
        assert len(third._pending) == 1
    merged = loads(path.read_text(), "c.yaml")
    assert merged[:3] == second.interactions
    assert merged == third.interactions  # what it loaded, then what it recorded
    assert [i.request.uri for i in merged][-1] == f"{http_server.url}/echo?n=3"


def test_equal_heads_recorded_are_kept_once(
    tmp_path: Path, raw_server: Callable[..., RawServer]
) -> None:
    """Noted exchanges with equal heads share one head object (memory per noted exchange),
    and each is saved as the parser reads it."""
    raw = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    server = raw_server(respond(raw))  # which closes each connection: one exchange each
    with use_cassette(tmp_path / "c.yaml") as cassette:
        http = PoolManager()
        for index in range(3):
            http.request("GET", f"{server.url}/same/{index}", retries=False)
        heads = [entry[2] for entry in cassette._pending]
        assert len(heads) == 3
        assert heads[0] is heads[1] is heads[2]
        assert [i.response for i in cassette.interactions] == [_parsed(raw, "GET")] * 3


def test_the_shared_heads_stay_bounded() -> None:
    for status in range(200, 200 + 2 * connection_module._HEADS_LIMIT):
        head = ("HTTP/1.1", status, "OK", (), False, 0)
        assert connection_module._HEADS.get(head) or connection_module._shared_head(head) == head
    assert 0 < len(connection_module._HEADS) <= connection_module._HEADS_LIMIT
