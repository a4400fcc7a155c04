"""Record against loopback servers, stop them, replay, and compare everything a caller sees.

The round-trip helper runs one scenario twice: live through a recording cassette, then with the
servers stopped through a replay-only cassette (``record_mode="none"``). Everything the scenario
observes — statuses, header fields in order, bodies decoded and raw, pool counts, LRU state —
must come out the same.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import typing
from collections.abc import Callable
from pathlib import Path

import pytest
from support import KeepAliveServer, ServerFarm

import pooltest
from pooltest import matchers
from pooltest.cassette import (
    CassetteNotFoundError,
    UnmatchedRequestError,
    use_cassette,
)

Scenario = Callable[[], object]


def record_then_replay(
    path: Path, servers: list[KeepAliveServer], scenario: Scenario, **options: typing.Any
) -> tuple[object, object]:
    """Run ``scenario`` recording, stop ``servers``, run it replaying; return both results."""
    with use_cassette(path, record_mode="once", **options):
        live = scenario()
    for server in servers:
        server.stop()
    with use_cassette(path, record_mode="none", **options) as cassette:
        replayed = scenario()
        cassette.assert_all_played()
    return live, replayed


def observe(response: pooltest.BaseHTTPResponse) -> dict[str, object]:
    return {
        "status": response.status,
        "reason": response.reason,
        "version": response.version,
        "headers": [(k, v) for k, v in response.headers.items() if k.lower() != "date"],
        "data": response.data,
    }


def test_get_and_post_replay_identically(tmp_path: Path, http_server: KeepAliveServer) -> None:
    def scenario() -> object:
        with pooltest.PoolManager() as http:
            seen = [observe(http.request("GET", f"{http_server.url}/json"))]
            seen.append(observe(http.request("POST", f"{http_server.url}/upload", json={"a": 1})))
            seen.append(observe(http.request("HEAD", f"{http_server.url}/head-check")))
            pool = http.connection_from_url(http_server.url)
            seen.append((pool.num_connections, pool.num_requests))
            return seen

    live, replayed = record_then_replay(tmp_path / "c.yaml", [http_server], scenario)
    assert live == replayed
    assert typing.cast(list[object], replayed)[-1] == (1, 3)


def test_decode_content_false_returns_recorded_encoded_bytes(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    def scenario() -> object:
        http = pooltest.PoolManager()
        decoded = http.request("GET", f"{http_server.url}/gzip").data
        raw = http.request("GET", f"{http_server.url}/gzip", decode_content=False).data
        return decoded, raw

    live, replayed = record_then_replay(tmp_path / "gz.yaml", [http_server], scenario)
    assert live == replayed
    decoded, raw = typing.cast(tuple[bytes, bytes], replayed)
    assert raw[:2] == b"\x1f\x8b"
    assert decoded != raw


def test_chunked_response_replays_chunked(tmp_path: Path, http_server: KeepAliveServer) -> None:
    def scenario() -> object:
        http = pooltest.PoolManager()
        r = http.request("GET", f"{http_server.url}/chunked?n=4", preload_content=False)
        chunks = b"".join(r.read_chunked())
        r.release_conn()
        return r.headers.get("transfer-encoding"), chunks

    live, replayed = record_then_replay(tmp_path / "chunked.yaml", [http_server], scenario)
    assert live == replayed
    assert typing.cast(tuple[str, bytes], replayed)[0] == "chunked"


def test_duplicate_headers_keep_their_order(tmp_path: Path, http_server: KeepAliveServer) -> None:
    def scenario() -> object:
        r = pooltest.PoolManager().request("GET", f"{http_server.url}/headers")
        return list(r.headers.items()), r.headers.getlist("set-cookie")

    live, replayed = record_then_replay(tmp_path / "h.yaml", [http_server], scenario)
    assert live == replayed
    assert len(typing.cast(tuple[list[object], list[str]], replayed)[1]) == 2


def test_lru_eviction_and_pool_counts_replay(
    tmp_path: Path, origins: Callable[..., ServerFarm]
) -> None:
    farm = origins(11)

    def scenario() -> object:
        http = pooltest.PoolManager(num_pools=10)
        for url in farm.urls:
            http.request("GET", f"{url}/json")
        http.request("GET", f"{farm.urls[5]}/json")
        keys = [(k.key_host, k.key_port) for k in http.pools.keys()]  # noqa: SIM118
        pool = http.connection_from_url(farm.urls[5])
        return len(http.pools), keys, pool.num_requests, pool.num_connections

    live, replayed = record_then_replay(tmp_path / "lru.yaml", list(farm), scenario)
    assert live == replayed
    count, keys, *_ = typing.cast(tuple[int, list[tuple[str, int]], int, int], replayed)
    assert count == 10
    assert ("127.0.0.1", farm[0].port) not in keys


def test_identical_requests_get_recordings_in_order(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    def scenario() -> object:
        http = pooltest.PoolManager()
        return [
            http.request("GET", f"{http_server.url}/echo", headers={"X-Seq": str(i)}).json()[
                "headers"
            ]
            for i in range(3)
        ]

    live, replayed = record_then_replay(tmp_path / "seq.yaml", [http_server], scenario)
    assert live == replayed
    seqs = [dict(h)["X-Seq"] for h in typing.cast(list[list[list[str]]], replayed)]
    assert seqs == ["0", "1", "2"]


def test_streamed_download_is_recorded_as_read(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    size = 300_000

    def scenario() -> object:
        http = pooltest.PoolManager()
        r = http.request("GET", f"{http_server.url}/stream?size={size}", preload_content=False)
        data = b"".join(r.stream(10_000))
        r.release_conn()
        return len(data), data[:50], data[-50:]

    live, replayed = record_then_replay(tmp_path / "stream.yaml", [http_server], scenario)
    assert live == replayed
    assert typing.cast(tuple[int, bytes, bytes], replayed)[0] == size


def test_https_round_trip(tmp_path: Path, https_server: KeepAliveServer, ca_certs: str) -> None:
    def scenario() -> object:
        http = pooltest.PoolManager(ca_certs=ca_certs)
        return observe(http.request("GET", f"{https_server.url}/json"))

    live, replayed = record_then_replay(tmp_path / "tls.yaml", [https_server], scenario)
    assert live == replayed


def test_none_mode_without_cassette_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    with pytest.raises(CassetteNotFoundError) as info:
        use_cassette(path, record_mode="none").__enter__()
    assert str(path) in str(info.value)
    assert "record_mode='once'" in str(info.value)


def test_unmatched_request_explains_and_sends_nothing(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"
    with use_cassette(path):
        pooltest.PoolManager().request(
            "POST", f"{http_server.url}/upload", json={"a": 1, "b": [1, 2]}
        )
    before = http_server.connections_accepted
    with use_cassette(path, record_mode="none"), pytest.raises(UnmatchedRequestError) as info:
        pooltest.PoolManager().request(
            "POST", f"{http_server.url}/upload", json={"a": 1, "b": [1, 3]}
        )
    assert http_server.connections_accepted == before
    text = str(info.value)
    assert str(path) in text
    assert "record mode: none" in text
    assert "b[1]" in text  # the JSON path that differed


def test_unmatched_raises_cassette_error_directly_with_retries_false(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"
    with use_cassette(path):
        pooltest.PoolManager().request("GET", f"{http_server.url}/json")
    with (
        use_cassette(path, record_mode="none"),
        pytest.raises(UnmatchedRequestError, match="No recorded interaction matches GET"),
    ):
        pooltest.PoolManager(retries=False).request("GET", f"{http_server.url}/other")


def test_code_under_test_and_its_threads_are_routed(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    def application() -> list[int]:
        results: list[int] = []

        def worker() -> None:
            results.append(pooltest.PoolManager().request("GET", f"{http_server.url}/json").status)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        return results

    path = tmp_path / "threads.yaml"
    with use_cassette(path, allow_playback_repeats=True) as cassette:
        assert application() == [200] * 4
    assert len(cassette.interactions) == 4
    http_server.stop()
    with use_cassette(path, record_mode="none") as cassette:
        assert application() == [200] * 4
        assert cassette.all_played


def test_pool_manager_made_before_the_cassette_does_not_leak_live_sockets(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    http = pooltest.PoolManager()
    http.request("GET", f"{http_server.url}/json")  # a kept-alive real socket sits in the pool
    path = tmp_path / "c.yaml"
    with use_cassette(path):
        http.request("GET", f"{http_server.url}/json")
    http_server.stop()
    with use_cassette(path, record_mode="none"):
        assert http.request("GET", f"{http_server.url}/json").status == 200


def test_secrets_are_redacted_and_replay_still_matches(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "secret.yaml"
    secret = "tok-8f2a-canary"

    def scenario() -> object:
        r = pooltest.PoolManager().request(
            "GET",
            f"{http_server.url}/echo?api_key={secret}",
            headers={"Authorization": f"Bearer {secret}", "Cookie": f"s={secret}"},
        )
        return r.status

    live, replayed = record_then_replay(
        path,
        [http_server],
        scenario,
        filter_query_parameters=["api_key"],
        filter_sensitive_data={"<TOKEN>": secret},
    )
    assert live == replayed == 200
    text = path.read_text()
    assert secret not in text
    assert "<REDACTED>" in text


def test_new_episodes_records_only_what_is_missing(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"
    with use_cassette(path):
        pooltest.PoolManager().request("GET", f"{http_server.url}/json")
    with use_cassette(path, record_mode="new_episodes") as cassette:
        http = pooltest.PoolManager()
        http.request("GET", f"{http_server.url}/json")
        http.request("GET", f"{http_server.url}/no-content")
    assert len(cassette.interactions) == 2
    served = http_server.requests_served
    assert served == 2  # the first GET was replayed, only /no-content went live


def test_all_mode_rerecords_without_duplicates(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"
    for _ in range(3):
        with use_cassette(path, record_mode="all"):
            pooltest.PoolManager().request("GET", f"{http_server.url}/json")
    with use_cassette(path, record_mode="none") as cassette:
        assert len(cassette.interactions) == 1


def test_replay_never_sleeps_on_retry_after(
    tmp_path: Path, http_server: KeepAliveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pooltest.util.retry as retry_module

    slept: list[float] = []
    monkeypatch.setattr(retry_module, "_sleep", slept.append)
    retry = pooltest.Retry(total=1, status_forcelist=[503], raise_on_status=False)

    def scenario() -> object:
        url = f"{http_server.url}/status/503?retry_after=2"
        return pooltest.PoolManager().request("GET", url, retries=retry).status

    path = tmp_path / "c.yaml"
    with use_cassette(path, allow_playback_repeats=True):
        assert scenario() == 503
    assert slept == [2]
    slept.clear()
    with use_cassette(path, record_mode="none", allow_playback_repeats=True):
        assert scenario() == 503
    assert slept == []


def test_freeze_time_pins_the_clock_to_the_recording(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"
    with use_cassette(path) as recorder:
        pooltest.PoolManager().request("GET", f"{http_server.url}/json")
    recorded_at = recorder.interactions[0].recorded_at
    with use_cassette(path, record_mode="none", freeze_time=True):
        pooltest.PoolManager().request("GET", f"{http_server.url}/json")
        now = dt.datetime.now(dt.timezone.utc)
    assert abs((now - recorded_at).total_seconds()) < 1
    assert abs((dt.datetime.now(dt.timezone.utc) - now).total_seconds()) >= 0


def test_explicitly_bound_pool_manager_needs_no_activation(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"
    with use_cassette(path) as cassette:
        pass
    cassette = type(cassette)(path, record_mode="new_episodes")
    cassette.load()
    http = cassette.pool_manager()
    assert http.request("GET", f"{http_server.url}/json").status == 200
    assert len(cassette.interactions) == 1
    cassette.save()
    http_server.stop()
    replay = type(cassette)(path, record_mode="none")
    replay.load()
    assert replay.pool_manager().request("GET", f"{http_server.url}/json").status == 200


def test_assert_requested_with_multipart_matcher(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    with use_cassette(tmp_path / "c.yaml") as cassette:
        http = pooltest.PoolManager()
        r = http.request(
            "POST",
            f"{http_server.url}/upload",
            fields={"doc": ("a.txt", b"hello", "text/plain"), "tag": "x"},
        )
        assert json.loads(r.data)["form"] == {"tag": ["x"]}
    cassette.assert_requested(
        "POST",
        f"{http_server.url}/upload",
        matchers.multipart_matcher({"doc": ("a.txt", b"hello", "text/plain")}, data={"tag": "x"}),
        count=1,
    )
    with pytest.raises(AssertionError, match="tag"):
        cassette.assert_requested(
            "POST",
            f"{http_server.url}/upload",
            matchers.multipart_matcher(
                {"doc": ("a.txt", b"hello", "text/plain")}, data={"tag": "y"}
            ),
        )


def test_decode_compressed_response_stores_readable_bodies(
    tmp_path: Path, http_server: KeepAliveServer
) -> None:
    path = tmp_path / "c.yaml"

    def scenario() -> object:
        r = pooltest.PoolManager().request("GET", f"{http_server.url}/gzip")
        return r.data, r.headers.get("content-encoding")

    live, replayed = record_then_replay(
        path, [http_server], scenario, decode_compressed_response=True
    )
    data, encoding = typing.cast(tuple[bytes, str | None], replayed)
    assert data == typing.cast(tuple[bytes, str | None], live)[0]
    assert encoding is None
    text = path.read_text()
    assert "Content-Encoding" not in text
    assert data.decode() in text or data.decode()[:40] in text
