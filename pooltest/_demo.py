"""``pooltest demo``: PoolManager behaviour, recorded on loopback servers and replayed offline.

The walk-through (:func:`_scenario`) runs twice with the same code. First live, against several
built-in :class:`~pooltest._demoserver.DemoServer` origins (distinct loopback ports), with a
cassette recording every exchange: one PoolManager reuses a kept-alive connection, sends a
multipart upload the server parses back, and evicts its least recently used pool once it holds
``num_pools``. Then the servers are stopped and the scenario runs again on a PoolManager bound
to the same cassette in ``record_mode="none"``, so nothing can reach the network. What each run
saw (pool events, request counts, the upload's parsed form) is gathered in an
:class:`_Observed` record; the demo passes when both records are equal and the live one holds
what pooling promises.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
import threading
import typing

from ._demoserver import DemoServer
from .cassette import Cassette
from .poolmanager import PoolEvent, PoolManager

__all__ = ["run_demo"]

_UPLOAD_FIELDS: dict[str, str | tuple[str, bytes, str]] = {
    "doc": ("a.txt", b"hello", "text/plain"),
    "tag": "x",
}


@dataclasses.dataclass
class _Observed:
    """What one run of the scenario saw; two runs agree when these compare equal."""

    num_requests: int = 0
    num_connections: int = 0
    upload: object = None
    sent_form: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    sent_files: dict[str, list[tuple[str | None, str | None, int]]] = dataclasses.field(
        default_factory=dict
    )
    len_pools: int = 0
    events: list[tuple[str, str]] = dataclasses.field(default_factory=list)


def _scenario(http: PoolManager, urls: typing.Sequence[str], cassette: Cassette) -> _Observed:
    """Run the walk-through on ``http`` (bound to ``cassette``) and report what it saw."""
    seen = _Observed()

    def on_event(event: PoolEvent) -> None:
        seen.events.append((event.kind, event.origin))

    http.on_pool_event = on_event
    first = urls[0]
    for _ in range(3):
        http.request("GET", f"{first}/json")
    http.request("HEAD", f"{first}/json")
    pool = http.connection_from_url(first)
    seen.upload = http.request("POST", f"{first}/upload", fields=_UPLOAD_FIELDS).json()
    seen.num_requests = pool.num_requests
    seen.num_connections = pool.num_connections
    sent = cassette.requests[-1]
    seen.sent_form = {name: sent.form.getlist(name) for name in sent.form}
    seen.sent_files = {
        name: [(f.filename, f.content_type, len(f.data)) for f in sent.files.getlist(name)]
        for name in sent.files
    }
    for url in urls[1:]:
        http.request("GET", f"{url}/json")
    seen.len_pools = len(http.pools)
    return seen


def _live_ok(seen: _Observed, first_origin: str, num_pools: int) -> bool:
    """Whether the live run shows what pooling promises."""
    return (
        seen.num_requests == 5
        and seen.num_connections == 1
        and seen.upload == {"form": {"tag": ["x"]}, "files": {"doc": ["a.txt", "text/plain", 5]}}
        and seen.sent_files == {"doc": [("a.txt", "text/plain", 5)]}
        and seen.len_pools == num_pools
        and ("evicted", first_origin) in seen.events
    )


def run_demo(
    origins: int = 11, out: typing.TextIO | None = None, cassette_path: str | None = None
) -> int:
    """Record the walk-through live, replay it offline, print the story to ``out``.

    ``cassette_path`` keeps the cassette there (rewritten); by default it goes to a temporary
    directory that is removed afterwards. Returns 0 when the live run shows pooling at work and
    the replay saw exactly what the live run saw, 1 otherwise. Raises ValueError for fewer
    than 2 origins.
    """
    if origins < 2:
        raise ValueError("the demo needs at least 2 origins")
    with contextlib.ExitStack() as stack:
        if cassette_path is None:
            directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="pooltest-demo-"))
            cassette_path = os.path.join(directory, "demo.yaml")
        return _record_and_replay(origins, cassette_path, out)


@contextlib.contextmanager
def _servers(count: int) -> typing.Iterator[list[DemoServer]]:
    """``count`` running demo servers, stopped together on exit.

    Each stop waits for its serve loop's next poll (up to half a second), so they are stopped
    in parallel threads rather than one after another.
    """
    servers: list[DemoServer] = []
    try:
        for _ in range(count):
            servers.append(DemoServer().__enter__())
        yield servers
    finally:
        stoppers = [threading.Thread(target=server.close) for server in servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join(timeout=10)


def _record_and_replay(origins: int, path: str, out: typing.TextIO | None) -> int:
    def say(line: str = "") -> None:
        print(line, file=out)

    num_pools = origins - 1
    with _servers(origins) as servers:
        urls = [server.url for server in servers]
        say(f"1. Live: {origins} loopback origins, PoolManager(num_pools={num_pools}).")
        with (
            Cassette(path, record_mode="rewrite") as recorder,
            recorder.pool_manager(num_pools=num_pools) as http,
        ):
            live = _scenario(http, urls, recorder)
        recorded = len(recorder.interactions)
    _tell(say, live, urls[0])
    say(f"   Recorded {recorded} interactions into {path}; servers stopped.")

    with (
        Cassette(path, record_mode="none") as player,
        player.pool_manager(num_pools=num_pools) as http,
    ):
        replayed = _scenario(http, urls, player)
    same = replayed == live
    say(
        f"2. Offline replay: {len(player.requests)} requests answered from the cassette;\n"
        f"   pools, evictions and encoded bodies {'are the same' if same else 'DIFFER'}."
    )
    ok = same and _live_ok(live, urls[0], num_pools)
    say("All checks hold." if ok else "Something differed from what the demo expects!")
    return 0 if ok else 1


def _tell(say: typing.Callable[[str], None], seen: _Observed, first: str) -> None:
    evicted = [origin for kind, origin in seen.events if kind == "evicted"]
    say(
        f"   5 requests to {first}: pool.num_requests={seen.num_requests}, "
        f"num_connections={seen.num_connections} (one kept-alive socket)."
    )
    say(f"   multipart POST sent form={seen.sent_form} files={seen.sent_files}")
    say(f"   server parsed it back: {seen.upload}")
    say(f"   len(pools)={seen.len_pools}; evicted (least recently used): {', '.join(evicted)}")
