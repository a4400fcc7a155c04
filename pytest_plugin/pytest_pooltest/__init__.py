"""pytest-pooltest: record a test's HTTP traffic once, then replay it offline on every run.

The plugin is registered as ``pooltest`` through the ``pytest11`` entry point (turn it off with
``-p no:pooltest``). It is a thin layer over pooltest's public API; pooltest never imports it.

What a test writes::

    @pytest.mark.cassette("github.yaml", match_on=["method", "uri", "body"])
    def test_upload(pool_manager, cassette):
        r = pool_manager.request("POST", "https://api.example.test/upload", fields={...})
        assert r.status == 201
        cassette.assert_requested("POST", "https://api.example.test/upload", ...)

Fixtures
    ``cassette`` — the test's :class:`pooltest.Cassette`, active for the whole test: every
    pooltest pool without an explicit connection factory (including PoolManagers built by the
    code under test, in any thread) replays from it or records into it.
    ``pool_manager`` — a :class:`pooltest.PoolManager` on that cassette, cleared at teardown; its
    pool creations, evictions and clears are appended to ``pool_events``
    (:class:`pooltest.poolmanager.PoolEvent`). ``make_pool_manager(**kw)`` — more managers on the
    same cassette, cleared at teardown (``on_pool_event=pool_events.append`` observes them too;
    other keywords are :class:`pooltest.PoolManager`'s).
    ``pooltest_config`` — override it (conftest, module or class) to return defaults for
    ``use_cassette`` options (``record_mode``, ``match_on``, filters, ``freeze_time``, ...) and
    ``cassette_dir``. ``pooltest_cassettes`` — the session-wide factory behind ``cassette``.

Marker
    ``@pytest.mark.cassette(path=None, **options)`` uses a cassette even if the test asks for no
    fixture. ``path`` is relative to the test's cassette folder; without it the test gets its
    default cassette, ``<test folder>/cassettes/<module>/<Class.test-param_id>.yaml``.

Precedence of options: marker (closest wins) > command line > ``pooltest_config`` > defaults.

Command line
    ``--record-mode={none,once,new_episodes,all,rewrite}`` (default ``none``: never touch the
    network; a missing or non-matching cassette fails with an error saying how to record it).
    ``--cassette-dir=DIR`` moves the cassette root. ``--block-network`` fails real connections
    made outside a recording cassette (:class:`NetworkBlockedError`), loopback included, except
    to ``--allowed-hosts=host,...``. The end-of-run summary counts cassettes and interactions and
    warns about recorded interactions no test played (judged per file, as cassettes may be
    shared); ``--fail-on-unplayed`` makes that fail the run (unless tests were deselected).
    Each of ``--record-mode``, ``--block-network`` and ``--allowed-hosts`` also answers to a
    ``--pooltest-`` alias; where pytest-recording is installed it keeps those three short names,
    pooltest takes only the aliases and obeys pytest-recording's values as well.

Works under pytest-xdist: workers record into shared cassettes (saves are merged under a file
lock) and the summary adds up every worker's counts.
"""

from __future__ import annotations

from ._network import NetworkBlockedError

__all__ = ["NetworkBlockedError"]
