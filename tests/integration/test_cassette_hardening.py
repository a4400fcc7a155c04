"""Cassettes under pressure: misses, threads, contexts, hostile files, secrets, record modes, cost.

* D6 - a request no recording answers, in a mode that may not record, opens no socket: the
  server accepts nothing and ``socket.socket.connect`` (wrapped by the test) is never called.
* L6 - 32 threads replay one cassette at once (``allow_playback_repeats=False``); each gets its
  own recordings, in order, none lost or swapped.
* ``scope="context"`` - two cassettes active at once in two threads (``copy_context().run``):
  each thread's PoolManager replays from its own cassette only, and the main thread stays live.
* B8/S6 - hostile files through ``use_cassette``: random bytes, random YAML, YAML tags that would
  run code (a canary command that must never run), empty and truncated files. The only error is
  :class:`CassetteFormatError` naming the file; the file is left as it was, nothing is recorded,
  routing is not left active and no socket is opened.
* S5 - a canary secret in headers, query, form, JSON and multipart bodies, or anywhere (with
  ``filter_sensitive_data``) appears neither in the cassette file, nor in pooltest's log records
  (DEBUG), nor in the text of :class:`UnmatchedRequestError`.
* Record modes: ``once`` never records once the file exists, ``rewrite`` discards the old file,
  ``drop_unused=True`` keeps only what was played or recorded, and an exception inside the
  ``with`` block still saves what was recorded and ends the routing.
* Replay cost does not grow with the cassette: the number of recorded requests compared per
  replayed request is the same for 100 and for 5,000 interactions.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import random
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import ENCODED_PAYLOAD, KeepAliveServer, RawServer
from support.raw import respond

import pooltest
from pooltest import _routing, matchers
from pooltest.cassette import (
    DEFAULT_MATCH_ON,
    CassetteError,
    CassetteFormatError,
    Interaction,
    Request,
    Response,
    UnmatchedRequestError,
    use_cassette,
)
from pooltest.cassette._format import save

pytestmark = pytest.mark.network

READING_MODES = ("none", "once", "new_episodes", "all")
#: Origin of hand-built cassettes; never contacted, as every request to it is a replay.
_ORIGIN = "http://127.0.0.1:9"


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every address ``socket.socket.connect``/``connect_ex`` is called with during the test."""
    calls: list[object] = []
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def counting_connect(sock: socket.socket, address: Any) -> None:
        calls.append(address)
        connect(sock, address)

    def counting_connect_ex(sock: socket.socket, address: Any) -> int:
        calls.append(address)
        return connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", counting_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", counting_connect_ex)
    return calls


def _record(path: Path, urls: list[str], **options: Any) -> None:
    with use_cassette(path, **options):
        http = pooltest.PoolManager()
        for url in urls:
            http.request("GET", url)


# --- D6: a miss opens no socket -----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["none", "once"])
@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_replay_miss_opens_no_socket(
    tmp_path: Path,
    http_server: KeepAliveServer,
    https_server: KeepAliveServer,
    ca_certs: str,
    connects: list[object],
    mode: str,
    tls: bool,
) -> None:
    server = https_server if tls else http_server
    path = tmp_path / "c.yaml"
    with use_cassette(path):
        pooltest.PoolManager(ca_certs=ca_certs).request("GET", f"{server.url}/json")
    assert connects  # the counter sees live traffic
    connects.clear()
    accepted = server.connections_accepted
    with use_cassette(path, record_mode=mode), pytest.raises(UnmatchedRequestError):
        pooltest.PoolManager(ca_certs=ca_certs).request("GET", f"{server.url}/other")
    assert connects == []
    assert server.connections_accepted == accepted


def test_replay_hit_opens_no_socket_even_for_a_fresh_manager(
    tmp_path: Path, http_server: KeepAliveServer, connects: list[object]
) -> None:
    path = tmp_path / "c.yaml"
    _record(path, [f"{http_server.url}/json", f"{http_server.url}/headers"])
    connects.clear()
    with use_cassette(path, record_mode="none"):
        http = pooltest.PoolManager()
        assert http.request("GET", f"{http_server.url}/json").status == 200
        assert http.request("GET", f"{http_server.url}/headers").status == 200
    assert connects == []
    assert http_server.connections_accepted == 1


# --- L6: 32 threads, one cassette ---------------------------------------------------------------

THREADS = 32
PER_THREAD = 3


def _run_threads(target: Callable[[int], None], count: int) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            target(index)
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not [t for t in threads if t.is_alive()], "a worker thread hung"
    return errors


@pytest.mark.parametrize("shared_manager", [True, False], ids=["shared", "per-thread"])
def test_32_threads_replay_their_own_recordings(
    tmp_path: Path, http_server: KeepAliveServer, shared_manager: bool
) -> None:
    path = tmp_path / "threads.yaml"
    base = f"{http_server.url}/echo"
    with use_cassette(path):
        http = pooltest.PoolManager()
        for thread in range(THREADS):
            for seq in range(PER_THREAD):
                http.request("GET", f"{base}?thread={thread}", headers={"X-Seq": f"{thread}.{seq}"})
    http_server.stop()

    results: dict[int, list[str]] = {}
    barrier = threading.Barrier(THREADS, timeout=10)
    shared = pooltest.PoolManager(maxsize=THREADS)

    def worker(thread: int) -> None:
        http = shared if shared_manager else pooltest.PoolManager()
        barrier.wait()
        got = []
        for _ in range(PER_THREAD):
            echoed = http.request("GET", f"{base}?thread={thread}").json()
            assert echoed["args"] == {"thread": [str(thread)]}
            got.append(dict(echoed["headers"])["X-Seq"])
        results[thread] = got

    with use_cassette(path, record_mode="none", allow_playback_repeats=False) as player:
        errors = _run_threads(worker, THREADS)
    assert errors == []
    assert results == {t: [f"{t}.{s}" for s in range(PER_THREAD)] for t in range(THREADS)}
    assert player.all_played
    assert len(player.requests) == THREADS * PER_THREAD


# --- scope="context" ----------------------------------------------------------------------------


@pytest.mark.parametrize("shared_manager", [True, False], ids=["shared", "per-thread"])
def test_context_scoped_cassettes_replay_side_by_side(
    tmp_path: Path, http_server: KeepAliveServer, shared_manager: bool
) -> None:
    url = f"{http_server.url}/echo"
    paths = {who: tmp_path / f"{who}.yaml" for who in ("a", "b")}
    for who, path in paths.items():
        with use_cassette(path, scope="context", allow_playback_repeats=True):
            pooltest.PoolManager().request("GET", url, headers={"X-Who": who})
    http_server.stop()

    rounds = 3
    seen: dict[str, list[str]] = {}
    barrier = threading.Barrier(3, timeout=10)
    shared = pooltest.PoolManager(maxsize=1)

    def replay(who: str) -> None:
        with use_cassette(
            paths[who], record_mode="none", scope="context", allow_playback_repeats=True
        ):
            barrier.wait()  # both cassettes are active now
            http = shared if shared_manager else pooltest.PoolManager()
            seen[who] = [
                dict(http.request("GET", url).json()["headers"])["X-Who"] for _ in range(rounds)
            ]
            barrier.wait()  # neither cassette ends before both threads replayed

    def in_own_context(index: int) -> None:
        contextvars.copy_context().run(replay, "ab"[index])

    with KeepAliveServer() as live_server:
        result: list[BaseException] = []

        def run_workers() -> None:
            result.extend(_run_threads(in_own_context, 2))

        workers = threading.Thread(target=run_workers, daemon=True)
        workers.start()
        barrier.wait()
        assert _routing.active_factory() is None  # the main thread's context is untouched
        assert pooltest.PoolManager().request("GET", f"{live_server.url}/json").status == 200
        barrier.wait()
        workers.join(30)
        assert not workers.is_alive()
    assert result == []
    assert live_server.requests_served == 1
    assert seen == {"a": ["a"] * rounds, "b": ["b"] * rounds}


# --- B8/S6: hostile cassettes -------------------------------------------------------------------


def _assert_refused(path: Path, mode: str) -> CassetteFormatError:
    """``use_cassette(path)`` raises CassetteFormatError naming ``path`` and changes nothing."""
    before = path.read_bytes()
    with pytest.raises(CassetteError) as info, use_cassette(path, record_mode=mode):
        pytest.fail("the with block ran on a hostile cassette")
    error = info.value
    assert isinstance(error, CassetteFormatError), repr(error)
    assert error.path == str(path)
    assert str(path) in str(error)
    assert path.read_bytes() == before
    assert _routing.active_factory() is None
    return error


def _canary_command(marker: Path) -> str:
    return f"touch {marker}"


def _hostile_documents(marker: Path) -> dict[str, str]:
    command = _canary_command(marker)
    apply = f"!!python/object/apply:os.system [{command!r}]"
    laughs = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    laughs += [f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]" for p, c in
               zip("abcdefgh", "bcdefghi", strict=True)]  # fmt: skip
    valid_head = "interactions:\n- request:\n    body: null\n    headers: {}\n    method: GET\n"
    return {
        "apply-top": f"{apply}\n",
        "apply-version": f"interactions: []\nversion: {apply}\n",
        "apply-in-uri": f"{valid_head}    uri: {apply}\n  response: {{}}\nversion: 1\n",
        "apply-in-body": (
            f"{valid_head}    uri: http://h/\n  response:\n    body: {{string: {apply}}}\n"
            "    headers: {}\n    status: {code: 200, message: OK}\nversion: 1\n"
        ),
        "apply-in-metadata": f"metadata: {{x: [{apply}]}}\ninteractions: []\nversion: 1\n",
        "apply-as-key": f"? {apply}\n: 1\ninteractions: []\nversion: 1\n",
        "apply-subprocess": (
            f"!!python/object/apply:subprocess.check_call [[touch, {str(marker)!r}]]\n"
        ),
        "object-new": f"!!python/object/new:os.system [{command!r}]\n",
        "python-name": "interactions: [!!python/name:os.system ]\nversion: 1\n",
        "python-module": "interactions: [!!python/module:os ]\nversion: 1\n",
        "local-tag": "interactions: [!evil {x: 1}]\nversion: 1\n",
        "billion-laughs": "\n".join(laughs) + "\ninteractions: *i\nversion: 1\n",
        "deep-nesting": "interactions: " + "[" * 5000 + "]" * 5000 + "\nversion: 1\n",
        "empty": "",
        "blank": "  \n\n\t\n",
        "comment-only": "# nothing here\n",
        "scalar": "hello\n",
        "list": "- 1\n- 2\n",
        "no-version": "interactions: []\n",
        "version-2": "interactions: []\nversion: 2\n",
        "interactions-mapping": "interactions: {a: 1}\nversion: 1\n",
        "status-text": (
            f"{valid_head}    uri: http://h/\n  response:\n    body: {{string: ''}}\n"
            "    headers: {}\n    status: {code: two hundred, message: OK}\nversion: 1\n"
        ),
        "header-crlf": (
            f"{valid_head}    uri: http://h/\n  response:\n    body: {{string: ''}}\n"
            '    headers: {X: ["a\\r\\nInjected: 1"]}\n    status: {code: 200, message: OK}\n'
            "version: 1\n"
        ),
        "bad-base64": (
            f"{valid_head}    uri: http://h/\n  response:\n    body: {{string: !!binary 'abc'}}\n"
            "    headers: {}\n    status: {code: 200, message: OK}\nversion: 1\n"
        ),
        "tab-indent": "interactions:\n\t- x\nversion: 1\n",
    }


HOSTILE = sorted(_hostile_documents(Path("/m")))


@pytest.mark.parametrize("mode", READING_MODES)
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_cassette_is_refused(
    tmp_path: Path, connects: list[object], name: str, mode: str
) -> None:
    marker = tmp_path / "canary-ran"
    path = tmp_path / "hostile.yaml"
    path.write_text(_hostile_documents(marker)[name])
    _assert_refused(path, mode)
    assert not marker.exists(), "a YAML tag ran a command"
    assert connects == []


@pytest.mark.parametrize("mode", READING_MODES)
@pytest.mark.parametrize("data", [b"\xff\xfe\x00b\x00a\x00d", b"\x00" * 64, b"caf\xe9: 1\n"])
def test_undecodable_bytes_are_refused(
    tmp_path: Path, connects: list[object], data: bytes, mode: str
) -> None:
    path = tmp_path / "bytes.yaml"
    path.write_bytes(data)
    _assert_refused(path, mode)
    assert connects == []


@pytest.fixture(scope="module")
def valid_cassette(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a real recording: text, binary and chunked bodies, duplicate headers."""
    path = tmp_path_factory.mktemp("valid") / "valid.yaml"
    with KeepAliveServer() as server:
        _record(
            path,
            [f"{server.url}/headers", f"{server.url}/gzip", f"{server.url}/chunked?n=2"],
        )
    return path.read_bytes()


def test_truncated_cassette_is_refused_at_every_cut(
    tmp_path: Path, valid_cassette: bytes, connects: list[object]
) -> None:
    end = valid_cassette.rindex(b"version: 1")
    path = tmp_path / "cut.yaml"
    rng = random.Random(6)
    cuts = sorted({*range(0, end, 97), *rng.sample(range(end), 60), end - 1, end})
    for cut in cuts:
        path.write_bytes(valid_cassette[:cut])
        _assert_refused(path, rng.choice(READING_MODES))
    assert connects == []
    path.write_bytes(valid_cassette)
    with use_cassette(path, record_mode="none") as cassette:  # the whole file is fine
        assert len(cassette.interactions) == 3


class _Scratch:
    """A temporary directory per hypothesis example (function-scoped fixtures are shared)."""

    def __enter__(self) -> Path:
        self.directory = Path(tempfile.mkdtemp(prefix="pooltest-hostile-"))
        return self.directory

    def __exit__(self, *exc_info: object) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


_HYPOTHESIS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_HYPOTHESIS
@given(data=st.binary(max_size=4096), mode=st.sampled_from(READING_MODES))
def test_random_bytes_are_refused(connects: list[object], data: bytes, mode: str) -> None:
    with _Scratch() as directory:
        path = directory / "random.yaml"
        path.write_bytes(data)
        _assert_refused(path, mode)
    assert connects == []


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.dates(),
)
_documents = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _replace_at(document: Any, steps: list[int], value: Any) -> Any:
    """``document`` with the node reached by following ``steps`` (indexes) replaced."""
    if not steps or not isinstance(document, (dict, list)) or not document:
        return value
    keys = list(document) if isinstance(document, dict) else list(range(len(document)))
    key = keys[steps[0] % len(keys)]
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[key] = _replace_at(document[key], steps[1:], value)
    return copy


def _open_outcome(path: Path, mode: str) -> CassetteError | None:
    """The CassetteError ``use_cassette(path)`` raised, or None if it opened the file."""
    try:
        with use_cassette(path, record_mode=mode) as cassette:
            assert all(isinstance(i, Interaction) for i in cassette.interactions)
    except CassetteError as error:
        return error
    return None


def _assert_refused_or_valid(path: Path, mode: str) -> None:
    """A random document either is a usable cassette or is refused as CassetteFormatError."""
    before = path.read_bytes()
    refused = _open_outcome(path, mode)
    if refused is not None:
        assert isinstance(refused, CassetteFormatError), repr(refused)
        assert str(path) in str(refused)
    assert path.read_bytes() == before
    assert _routing.active_factory() is None


@_HYPOTHESIS
@given(
    document=_documents,
    shape=st.sampled_from(["plain", "interactions", "one-interaction"]),
    mode=st.sampled_from(READING_MODES),
)
def test_random_yaml_is_refused_or_valid(
    connects: list[object], document: Any, shape: str, mode: str
) -> None:
    if shape == "interactions":
        document = {"interactions": document, "version": 1}
    elif shape == "one-interaction":
        document = {"interactions": [document], "version": 1}
    with _Scratch() as directory:
        path = directory / "random.yaml"
        path.write_text(yaml.safe_dump(document))
        _assert_refused_or_valid(path, mode)
    assert connects == []


@_HYPOTHESIS
@given(
    steps=st.lists(st.integers(0, 50), min_size=1, max_size=8),
    value=_documents,
    mode=st.sampled_from(READING_MODES),
)
def test_mutated_real_cassette_is_refused_or_valid(
    valid_cassette: bytes, connects: list[object], steps: list[int], value: Any, mode: str
) -> None:
    document = yaml.safe_load(valid_cassette)
    with _Scratch() as directory:
        path = directory / "mutated.yaml"
        path.write_text(yaml.safe_dump(_replace_at(document, steps, value)))
        _assert_refused_or_valid(path, mode)
    assert connects == []


# --- S5: secrets never leak ---------------------------------------------------------------------

CANARY = "c4n4ry-5ecret-7f3e9b"
OTHER_CANARY = "0ther-c4n4ry-a1b2c3"
Sender = Callable[[pooltest.PoolManager, str, str, str], pooltest.BaseHTTPResponse]


def _send_default_headers(
    http: pooltest.PoolManager, base: str, secret: str, variant: str
) -> pooltest.BaseHTTPResponse:
    headers = {
        "Authorization": f"Bearer {secret}",
        "x-api-key": secret,
        "COOKIE": f"session={secret}; theme=dark",
        "Proxy-Authorization": f"Basic {secret}",
        "X-Auth-Token": secret,
        "X-Variant": variant,
    }
    return http.request("GET", f"{base}/json", headers=headers)


def _send_query(
    http: pooltest.PoolManager, base: str, secret: str, variant: str
) -> pooltest.BaseHTTPResponse:
    return http.request("GET", f"{base}/json?api_key={secret}&page={variant}&Token={secret}")


def _send_form(
    http: pooltest.PoolManager, base: str, secret: str, variant: str
) -> pooltest.BaseHTTPResponse:
    fields = {"user": "bob", "password": secret, "page": variant}
    return http.request("POST", f"{base}/json", fields=fields, encode_multipart=False)


def _send_json(
    http: pooltest.PoolManager, base: str, secret: str, variant: str
) -> pooltest.BaseHTTPResponse:
    body = {"user": "bob", "Password": secret, "page": variant, "nested": {"x": [1, 2]}}
    return http.request("POST", f"{base}/json", json=body)


def _send_multipart(
    http: pooltest.PoolManager, base: str, secret: str, variant: str
) -> pooltest.BaseHTTPResponse:
    fields: dict[str, str | tuple[str, bytes, str]] = {
        "password": secret,
        "doc": ("notes.txt", f"page {variant}".encode(), "text/plain"),
        "page": variant,
    }
    return http.request("POST", f"{base}/json", fields=fields)


def _send_anywhere(
    http: pooltest.PoolManager, base: str, secret: str, variant: str
) -> pooltest.BaseHTTPResponse:
    return http.request(
        "POST",
        f"{base}/echo?q={secret}&page={variant}",
        body=f"text with {secret} inside, page {variant}",
        headers={"X-Custom": f"v={secret}", "Content-Type": "text/plain"},
    )


SECRET_CASES: dict[str, tuple[Sender, dict[str, Any]]] = {
    "default-headers": (_send_default_headers, {}),
    "default-headers-matched": (
        _send_default_headers,
        {"match_on": (*DEFAULT_MATCH_ON, "headers")},
    ),
    "query": (_send_query, {"filter_query_parameters": ["api_key", "token"]}),
    "form": (_send_form, {"filter_post_data_parameters": ["password"]}),
    "json": (_send_json, {"filter_post_data_parameters": [("password", "<PW>")]}),
    "multipart": (_send_multipart, {"filter_post_data_parameters": ["password"]}),
    "anywhere": (_send_anywhere, {"filter_sensitive_data": {"<SECRET>": CANARY}}),
}


def _leaks(text: str) -> list[str]:
    return [secret for secret in (CANARY, OTHER_CANARY) if secret in text]


def _stored_text(path: Path) -> str:
    """Everything the file holds, with ``!!binary`` bodies decoded (a secret could hide there)."""
    with use_cassette(path, record_mode="none") as cassette:
        interactions = list(cassette.interactions)
    parts = [path.read_text()]
    for interaction in interactions:
        parts.append(repr(interaction.request.raw_headers) + interaction.request.uri)
        parts.append(interaction.request.body.decode("latin-1"))
        parts.append(repr(interaction.response.headers))
        parts.append(interaction.response.body.decode("latin-1"))
    return "\n".join(parts)


@pytest.mark.parametrize("case", sorted(SECRET_CASES))
def test_secret_never_reaches_file_logs_or_errors(
    tmp_path: Path, http_server: KeepAliveServer, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    send, options = SECRET_CASES[case]
    # A keyed filter hides any value; filter_sensitive_data hides only the secret it was given.
    replay_secret = CANARY if case == "anywhere" else OTHER_CANARY
    caplog.set_level(logging.DEBUG, logger="pooltest")
    path = tmp_path / "secret.yaml"
    base = http_server.url

    with use_cassette(path, **options) as recorder:
        live = send(pooltest.PoolManager(), base, CANARY, "1")
    assert live.status == 200
    assert _leaks(_stored_text(path)) == []
    assert _leaks(repr(recorder.requests)) == []
    http_server.stop()

    with use_cassette(path, record_mode="none", **options):
        replayed = send(pooltest.PoolManager(), base, replay_secret, "1")
        assert replayed.status == 200  # filtered the same way, so it still matches
        with pytest.raises(UnmatchedRequestError) as info:
            send(pooltest.PoolManager(), base, CANARY, "2")
    message = str(info.value)
    assert "No recorded interaction matches" in message
    assert _leaks(message) == []
    assert _leaks(repr(info.value)) == []
    logged = [r.getMessage() for r in caplog.records]
    assert logged  # pooltest did log at DEBUG
    assert _leaks("\n".join(logged)) == []
    if case == "anywhere":
        assert live.data.count(CANARY.encode()) >= 3
        assert replayed.data == live.data  # placeholders turned back into the secret on replay


def test_secret_in_response_is_hidden_and_revealed(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"
    url = f"{http_server.url}/status/200?body={CANARY}&header=X-Token:%20{CANARY}"
    options: dict[str, Any] = {"filter_sensitive_data": {"<T>": CANARY}}
    with use_cassette(path, **options):
        live = pooltest.PoolManager().request("GET", url)
    assert _leaks(_stored_text(path)) == []
    http_server.stop()
    with use_cassette(path, record_mode="none", **options) as cassette:
        replayed = pooltest.PoolManager().request("GET", url)
    assert replayed.data == live.data == CANARY.encode()
    assert replayed.headers["X-Token"] == CANARY
    assert replayed.headers["Content-Length"] == live.headers["Content-Length"]
    stored = cassette.interactions[0].response
    assert stored.body == b"<T>"
    assert stored.header("Content-Length") == "3"  # the stored message is self-consistent


def test_secret_in_request_body_keeps_stored_length_consistent(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"
    with use_cassette(path, filter_sensitive_data={"<T>": CANARY}) as cassette:
        pooltest.PoolManager().request("PUT", f"{http_server.url}/json", body=f"[{CANARY}]")
    stored = cassette.interactions[0].request
    assert stored.body == b"[<T>]"
    assert stored.headers["Content-Length"] == "5"


# --- record modes -------------------------------------------------------------------------------


def test_once_with_existing_file_never_records(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"
    _record(path, [f"{http_server.url}/json"])
    before, served = path.read_bytes(), http_server.requests_served
    with use_cassette(path, record_mode="once") as cassette:
        http = pooltest.PoolManager()
        assert http.request("GET", f"{http_server.url}/json").status == 200
        with pytest.raises(UnmatchedRequestError, match="record mode: once"):
            http.request("GET", f"{http_server.url}/headers")
    assert http_server.requests_served == served
    assert path.read_bytes() == before
    assert len(cassette.interactions) == 1


def test_once_with_empty_cassette_file_never_records(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"
    with use_cassette(path) as cassette:
        pass  # nothing recorded: no file is written
    assert not path.exists()
    save(path, [])
    with use_cassette(path, record_mode="once"), pytest.raises(UnmatchedRequestError):
        pooltest.PoolManager().request("GET", f"{http_server.url}/json")
    assert http_server.requests_served == 0
    assert cassette.interactions == []


def test_rewrite_discards_the_old_file(tmp_path: Path, http_server: KeepAliveServer) -> None:
    path = tmp_path / "c.yaml"
    _record(path, [f"{http_server.url}/json", f"{http_server.url}/headers"])
    served = http_server.requests_served
    with use_cassette(path, record_mode="rewrite") as cassette:
        http = pooltest.PoolManager()
        http.request("GET", f"{http_server.url}/json")  # goes live again
        http.request("GET", f"{http_server.url}/no-content")
    assert http_server.requests_served == served + 2
    assert len(cassette.interactions) == 2
    with use_cassette(path, record_mode="none") as replay:
        paths = [i.request.path for i in replay.interactions]
    assert paths == ["/json", "/no-content"]


def test_drop_unused_keeps_only_played_and_recorded(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"
    base = http_server.url
    _record(path, [f"{base}/json", f"{base}/headers", f"{base}/no-content"])
    with use_cassette(path, record_mode="new_episodes", drop_unused=True):
        http = pooltest.PoolManager()
        http.request("GET", f"{base}/headers")  # played
        http.request("GET", f"{base}/chunked")  # recorded
    with use_cassette(path, record_mode="none") as replay:
        kept = [i.request.path for i in replay.interactions]
    assert kept == ["/headers", "/chunked"]

    with use_cassette(path, record_mode="once", drop_unused=True):
        pooltest.PoolManager().request("GET", f"{base}/chunked")
    with use_cassette(path, record_mode="none") as replay:
        assert [i.request.path for i in replay.interactions] == ["/chunked"]


@pytest.mark.parametrize("size", [200, 2000])
def test_saving_with_drop_unused_compares_linearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """Merging on save looks interactions up by hash: about one comparison per interaction."""
    path = tmp_path / "c.yaml"
    _synthetic_cassette(path, size, distinct=True)
    comparisons = 0
    compare = Interaction.__eq__

    def counting(self: Interaction, other: object) -> bool:
        nonlocal comparisons
        comparisons += 1
        return compare(self, other)

    with use_cassette(path, record_mode="once", drop_unused=True):
        pooltest.PoolManager().request("GET", f"{_ORIGIN}/item/7")
        monkeypatch.setattr(Interaction, "__eq__", counting)
    monkeypatch.undo()
    assert 0 < comparisons <= size + 5
    with use_cassette(path, record_mode="none") as replay:
        assert [i.request.path for i in replay.interactions] == ["/item/7"]


def test_exception_in_block_saves_recordings_and_ends_routing(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"

    class Boom(Exception):
        pass

    def application() -> None:
        with use_cassette(path, record_mode="new_episodes"):
            pooltest.PoolManager().request("GET", f"{http_server.url}/json")
            raise Boom

    with pytest.raises(Boom):
        application()
    assert _routing.active_factory() is None
    served = http_server.requests_served
    assert pooltest.PoolManager().request("GET", f"{http_server.url}/json").status == 200
    assert http_server.requests_served == served + 1  # live again, not replayed
    http_server.stop()
    with use_cassette(path, record_mode="none"):
        assert pooltest.PoolManager().request("GET", f"{http_server.url}/json").status == 200


def test_unmatched_error_inside_block_still_saves_and_ends_routing(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"
    _record(path, [f"{http_server.url}/json"])
    with (
        pytest.raises(UnmatchedRequestError),
        use_cassette(path, record_mode="none", drop_unused=True),
    ):
        pooltest.PoolManager().request("GET", f"{http_server.url}/headers")
    assert _routing.active_factory() is None
    with use_cassette(path, record_mode="none") as replay:  # drop_unused dropped the unplayed one
        assert replay.interactions == []


# --- decode_compressed_response -----------------------------------------------------------------


@pytest.mark.parametrize("route", ["/gzip", "/deflate", "/gzip?members=2"])
def test_decode_compressed_response_stores_the_decoded_body(
    tmp_path: Path, http_server: KeepAliveServer, route: str
) -> None:
    path = tmp_path / "c.yaml"
    with use_cassette(path, decode_compressed_response=True):
        live = pooltest.PoolManager().request("GET", f"{http_server.url}{route}")
    http_server.stop()
    with use_cassette(path, record_mode="none") as cassette:
        replayed = pooltest.PoolManager().request("GET", f"{http_server.url}{route}")
    stored = cassette.interactions[0].response
    expected = ENCODED_PAYLOAD * (2 if "members" in route else 1)
    assert replayed.data == live.data == stored.body == expected
    assert stored.header("content-encoding") is None
    assert stored.header("content-length") == str(len(expected))


def test_decode_compressed_response_keeps_a_body_that_does_not_decode(
    tmp_path: Path, raw_server: Callable[..., RawServer]
) -> None:
    body = b"not gzip at all"
    head = f"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {len(body)}\r\n\r\n"
    server = raw_server(respond(head.encode() + body))
    path = tmp_path / "c.yaml"
    with use_cassette(path, decode_compressed_response=True):
        live = pooltest.PoolManager().request("GET", f"{server.url}/", decode_content=False)
    assert live.data == body
    with use_cassette(path, record_mode="none") as cassette:
        assert cassette.interactions[0].response.body == body
        assert cassette.interactions[0].response.header("content-encoding") == "gzip"


# --- replay framing of hand-built responses ----------------------------------------------------


def _one_interaction(path: Path, method: str, response: Response) -> str:
    url = f"{_ORIGIN}/built"
    moment = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    save(path, [Interaction(Request(method, url, (), b""), response, moment)])
    return url


@pytest.mark.parametrize(
    ("declared", "body"), [("3", b"longer than three"), ("99", b"short"), ("5", b"")]
)
def test_body_wins_over_a_contradicting_content_length(
    tmp_path: Path, declared: str, body: bytes
) -> None:
    path = tmp_path / "c.yaml"
    response = Response(200, "OK", (("Content-Length", declared),), body)
    url = _one_interaction(path, "GET", response)
    with use_cassette(path, record_mode="none") as cassette:
        replayed = pooltest.PoolManager(retries=False).request("GET", url)
    assert replayed.data == body
    assert replayed.headers["Content-Length"] == str(len(body))
    assert cassette.interactions[0].response.header("Content-Length") == declared


@pytest.mark.parametrize(("method", "status"), [("HEAD", 200), ("GET", 304), ("GET", 204)])
def test_bodyless_responses_keep_their_content_length(
    tmp_path: Path, method: str, status: int
) -> None:
    path = tmp_path / "c.yaml"
    url = _one_interaction(path, method, Response(status, "X", (("Content-Length", "42"),), b""))
    with use_cassette(path, record_mode="none"):
        replayed = pooltest.PoolManager(retries=False).request(method, url)
    assert replayed.data == b""
    assert replayed.headers["Content-Length"] == "42"


# --- replay cost does not grow with the cassette ------------------------------------------------


class Counter:
    """Counts how often each matching hook runs."""

    def __init__(self) -> None:
        self.keys = 0
        self.checks = 0

    def comparison(self) -> matchers.Comparison:
        """``path`` as an indexable comparison whose key counts its calls."""

        def key(request: Request) -> object:
            self.keys += 1
            return request.path

        def differences(live: Request, recorded: Request) -> list[matchers.Difference]:
            self.checks += 1
            if live.path == recorded.path:
                return []
            return [matchers.Difference("path", live.path, recorded.path)]

        return matchers.Comparison("counted_path", differences, key)

    def callable_check(self, live: Request, recorded: Request) -> bool:
        """A vcrpy-style matcher without a key: checked on each candidate."""
        self.checks += 1
        return live.method == recorded.method


def _synthetic_cassette(path: Path, size: int, distinct: bool) -> None:
    moment = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    interactions = [
        Interaction(
            Request("GET", f"{_ORIGIN}/item/{i if distinct else 0}", (), b""),
            Response(200, "OK", (("Content-Length", str(len(str(i)))),), str(i).encode()),
            moment,
        )
        for i in range(size)
    ]
    save(path, interactions)


def _replay_cost(path: Path, size: int, distinct: bool, replays: int) -> tuple[int, int]:
    """(key computations, candidate checks) over ``replays`` requests, loading excluded.

    Keys are computed once per distinct request (the cassette remembers a request's key by its
    wire form); candidate checks run once per request.
    """
    counter = Counter()
    match_on = ("method", counter.comparison(), counter.callable_check)
    wanted = (
        [0, size // 2, size - 1] * (replays // 3) if distinct else [0] * replays
    )  # first, middle and last of the cassette
    with use_cassette(
        path, record_mode="none", match_on=match_on, allow_playback_repeats=distinct
    ) as cassette:
        assert counter.keys == size  # the index was built once, on load
        counter.keys = 0
        http = pooltest.PoolManager()
        for index in wanted:
            response = http.request("GET", f"{_ORIGIN}/item/{index if distinct else 0}")
            if not distinct:
                assert int(response.data) == cassette.play_counts.count(1) - 1
    return counter.keys, counter.checks


@pytest.mark.parametrize("distinct", [True, False], ids=["distinct", "identical"])
def test_replay_cost_does_not_grow_with_cassette_size(
    tmp_path: Path, connects: list[object], distinct: bool
) -> None:
    costs = []
    for size in (100, 5000):
        path = tmp_path / f"{size}.yaml"
        _synthetic_cassette(path, size, distinct)
        costs.append(_replay_cost(path, size, distinct, replays=60))
    distinct_requests = 3 if distinct else 1
    assert costs[0] == costs[1] == (distinct_requests, 60)
    assert connects == []


@pytest.fixture(autouse=True)
def _no_cassette_left_active() -> Iterator[None]:
    yield
    assert _routing.active_factory() is None


def test_rewrite_with_no_requests_leaves_an_empty_cassette(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"
    _record(path, [f"{http_server.url}/json"])
    with use_cassette(path, record_mode="rewrite"):
        pass
    with use_cassette(path, record_mode="none") as replay:
        assert replay.interactions == []


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("access_token", True),
        ("X-Auth-Token", True),
        ("client_secret", True),
        ("apiKey", True),
        ("password", True),
        ("key", True),
        ("X-Custom-Secret", True),
        ("author", False),
        ("keyboard", False),
        ("Idempotency-Key", False),
        ("page", False),
        ("Content-Type", False),
    ],
)
def test_secret_looking_names(name: str, secret: bool) -> None:
    from pooltest.cassette._filters import looks_secret

    assert looks_secret(name) is secret
