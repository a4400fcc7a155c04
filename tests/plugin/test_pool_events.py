"""``PoolManager.on_pool_event``: the library hook the plugin's ``pool_events`` rests on.

urllib3 has no such hook, so parity is checked on what both have: which pools a manager keeps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import urllib3
from support import ServerFarm

import pooltest
from pooltest.poolmanager import PoolEvent


def _kinds_and_hosts(events: list[PoolEvent]) -> list[tuple[str, str]]:
    return [(event.kind, event.pool.host) for event in events]


@pytest.mark.parametrize(
    "hosts",
    [["a", "b", "c"], ["a", "b", "a", "c", "d", "a"], ["a", "a", "a"], ["c", "b", "a", "b", "d"]],
)
def test_creation_and_eviction_follow_the_lru_as_urllib3_keeps_it(hosts: list[str]) -> None:
    events: list[PoolEvent] = []
    ours = pooltest.PoolManager(2)
    ours.on_pool_event = events.append
    theirs = urllib3.PoolManager(2)
    for host in hosts:
        ours.connection_from_host(host, 80)
        theirs.connection_from_host(host, 80)
    kept, expected = ours.pools.keys(), theirs.pools.keys()  # (the LRU refuses iteration)
    assert {key.key_host for key in kept} == {key.key_host for key in expected}

    live: list[str] = []  # replay the events: they must describe exactly the manager's state
    for kind, host in _kinds_and_hosts(events):
        if kind == "created":
            assert host not in live
            live.append(host)
        else:
            assert kind == "evicted"
            live.remove(host)
    assert sorted(live) == sorted(key.key_host for key in kept)


def test_a_creation_is_reported_before_the_eviction_it_causes() -> None:
    seen: list[tuple[str, str, int]] = []
    managers: list[pooltest.PoolManager] = []

    def record(event: PoolEvent) -> None:
        seen.append((event.kind, event.pool.host, len(managers[0].pools)))

    manager = pooltest.PoolManager(1)
    manager.on_pool_event = record
    managers.append(manager)
    manager.connection_from_host("a")
    manager.connection_from_host("b")
    assert seen == [("created", "a", 0), ("created", "b", 1), ("evicted", "a", 1)]


def test_clear_and_exit_report_every_pool_as_cleared() -> None:
    events: list[PoolEvent] = []
    with pooltest.PoolManager() as manager:
        manager.on_pool_event = events.append
        manager.connection_from_host("a")
        manager.connection_from_url("https://b.example.test")
        manager.clear()
        manager.connection_from_host("c")
    assert _kinds_and_hosts(events) == [
        ("created", "a"),
        ("created", "b.example.test"),
        ("cleared", "a"),
        ("cleared", "b.example.test"),
        ("created", "c"),
        ("cleared", "c"),
    ]
    assert [event.origin for event in events[:2]] == ["http://a:80", "https://b.example.test:443"]


def test_origin_brackets_ipv6_hosts() -> None:
    events: list[PoolEvent] = []
    manager = pooltest.PoolManager()
    manager.on_pool_event = events.append
    manager.connection_from_host("::1", 8080)
    assert events[0].origin == "http://[::1]:8080"


def test_without_a_callback_nothing_is_reported_and_pools_still_retire(
    origins: Callable[..., ServerFarm],
) -> None:
    farm = origins(2)
    with pooltest.PoolManager(1) as manager:
        assert manager.on_pool_event is None
        first = manager.connection_from_url(farm.urls[0])
        first.urlopen("GET", "/json")
        manager.request("GET", farm.urls[1] + "/json")
        first.urlopen("GET", "/json")
        assert first.num_connections == 2


def test_an_observed_eviction_still_retires_the_pool(origins: Callable[..., ServerFarm]) -> None:
    farm = origins(2)
    events: list[PoolEvent] = []
    with pooltest.PoolManager(1) as manager:
        manager.on_pool_event = events.append
        first = manager.connection_from_url(farm.urls[0])
        assert first.urlopen("GET", "/json").status == 200
        manager.request("GET", farm.urls[1] + "/json")
        assert [event.kind for event in events] == ["created", "created", "evicted"]
        assert first.urlopen("GET", "/json").status == 200  # still serves...
        assert first.num_connections == 2  # ...but kept no idle connection
    assert farm.servers[0].connections_accepted == 2


def test_events_from_many_threads_arrive_one_at_a_time() -> None:
    events: list[PoolEvent] = []
    manager = pooltest.PoolManager(3)
    manager.on_pool_event = events.append
    start = threading.Barrier(4, timeout=10)

    def work(worker: int) -> None:
        start.wait()
        for n in range(40):
            manager.connection_from_host(f"h{(worker * 7 + n) % 12}")

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    live: set[int] = set()
    for event in events:
        if event.kind == "created":
            assert id(event.pool) not in live
            live.add(id(event.pool))
            assert len(live) <= 4  # at most one over the limit, just before its eviction
        else:
            live.remove(id(event.pool))
            assert len(live) <= 3
    assert len(live) == len(manager.pools) == 3


def test_proxy_managers_report_too() -> None:
    events: list[PoolEvent] = []
    proxy = pooltest.ProxyManager("http://127.0.0.1:3128")
    proxy.on_pool_event = events.append
    proxy.connection_from_url("https://secure.example.test/")
    proxy.connection_from_url("http://plain.example.test/")
    assert [event.origin for event in events] == [
        "https://secure.example.test:443",
        "http://127.0.0.1:3128",
    ]
