"""pooltest.util.timeout: Timeout semantics, validation messages and clock handling.

Where no clock is involved, results are compared with urllib3's Timeout for the same input.
Clock-dependent arithmetic uses a hand-driven clock installed at the module's ``_monotonic``
reference (the seam the module provides for that), so no test depends on real elapsed time.
"""

from __future__ import annotations

import copy
import inspect
import math
import pickle
import socket

import pytest
import urllib3.exceptions as u3exc
import urllib3.util.timeout as u3timeout

from pooltest.exceptions import TimeoutStateError
from pooltest.util import timeout as pt_timeout
from pooltest.util.timeout import _DEFAULT_TIMEOUT, _TYPE_DEFAULT, Timeout

U3DEFAULT = u3timeout._DEFAULT_TIMEOUT


class FakeClock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(pt_timeout, "_monotonic", fake)
    return fake


@pytest.fixture
def socket_default():
    """Set the socket module's default timeout for one test, then restore it."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(7.5)
    yield 7.5
    socket.setdefaulttimeout(previous)


def theirs(value):
    return U3DEFAULT if value is _DEFAULT_TIMEOUT else value


def build_both(**kwargs):
    return Timeout(**kwargs), u3timeout.Timeout(**{k: theirs(v) for k, v in kwargs.items()})


def outcome(func):
    """``("ok", repr of the result)`` or ``("error", exception class name, message)``."""
    try:
        result = func()
    except (ValueError, TimeoutStateError, u3exc.TimeoutStateError) as error:
        return "error", type(error).__name__, str(error)
    return "ok", repr(result).replace(repr(U3DEFAULT), repr(_DEFAULT_TIMEOUT))


# --- Sentinel and construction ---------------------------------------------------------------


def test_sentinel_is_an_enum_member_that_survives_copies():
    assert isinstance(_DEFAULT_TIMEOUT, _TYPE_DEFAULT)
    assert _DEFAULT_TIMEOUT.value == -1
    assert Timeout.DEFAULT_TIMEOUT is _DEFAULT_TIMEOUT
    assert pickle.loads(pickle.dumps(_DEFAULT_TIMEOUT)) is _DEFAULT_TIMEOUT
    assert copy.deepcopy(_DEFAULT_TIMEOUT) is _DEFAULT_TIMEOUT


def test_defaults_and_repr_match_urllib3():
    ours, their = Timeout(), u3timeout.Timeout()
    assert ours.total is None
    assert ours.connect_timeout is _DEFAULT_TIMEOUT
    assert repr(ours) == repr(their)
    assert str(ours) == repr(ours)
    ours, their = build_both(total=3, connect=1.5, read=None)
    assert repr(ours) == repr(their) == "Timeout(connect=1.5, read=None, total=3)"


VALUES = [
    None,
    _DEFAULT_TIMEOUT,
    1,
    2.5,
    1e-9,
    math.inf,
    math.nan,
    0,
    0.0,
    -1,
    -0.5,
    True,
    False,
    "5",
    "abc",
    b"1",
    [],
    object,
    -math.inf,
]


@pytest.mark.parametrize("name", ["connect", "read", "total"])
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_validation_matches_urllib3(name, value):
    expected = outcome(lambda: u3timeout.Timeout(**{name: theirs(value)}))
    assert outcome(lambda: Timeout(**{name: value})) == expected


def test_validation_messages():
    with pytest.raises(ValueError, match=r"^Timeout cannot be a boolean value\. It must be an "):
        Timeout(read=True)
    with pytest.raises(ValueError, match=r"^Timeout value connect was abc, but it must be an int"):
        Timeout(connect="abc")  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=r"^Attempted to set total timeout to 0, but the timeout cannot be set to"
    ):
        Timeout(total=0)


# --- from_float, clone, clock state ----------------------------------------------------------


@pytest.mark.parametrize("value", [None, _DEFAULT_TIMEOUT, 3, 0.25])
def test_from_float_sets_connect_and_read(value):
    ours = Timeout.from_float(value)
    their = u3timeout.Timeout.from_float(theirs(value))
    assert repr(ours) == repr(their).replace(repr(U3DEFAULT), repr(_DEFAULT_TIMEOUT))
    assert ours.connect_timeout == value


def test_clone_copies_budgets_but_not_the_clock(clock):
    original = Timeout(total=10, connect=2, read=_DEFAULT_TIMEOUT)
    original.start_connect()
    clone = original.clone()
    assert repr(clone) == repr(original)
    assert clone._read is _DEFAULT_TIMEOUT
    with pytest.raises(TimeoutStateError):
        clone.get_connect_duration()
    assert clone.start_connect() == clock.now


def test_start_connect_twice_and_duration_before_start_are_errors(clock):
    timeout = Timeout()
    with pytest.raises(
        TimeoutStateError, match=r"^Can't get connect duration for timer that has not started\.$"
    ):
        timeout.get_connect_duration()
    assert timeout.start_connect() == 100.0
    with pytest.raises(TimeoutStateError, match=r"^Timeout timer has already been started\.$"):
        timeout.start_connect()
    clock.now = 102.5
    assert timeout.get_connect_duration() == 2.5


def test_real_clock_is_monotonic():
    timeout = Timeout()
    started = timeout.start_connect()
    assert isinstance(started, float)
    assert timeout.get_connect_duration() >= 0


# --- connect_timeout and read_timeout --------------------------------------------------------

BUDGETS = [None, _DEFAULT_TIMEOUT, 1, 2.5, 10]


@pytest.mark.parametrize("total", [None, 1, 2.5, 10])
@pytest.mark.parametrize("connect", BUDGETS, ids=repr)
def test_connect_timeout_matches_urllib3(total, connect):
    ours, their = build_both(total=total, connect=connect)
    expected = their.connect_timeout
    assert ours.connect_timeout == (_DEFAULT_TIMEOUT if expected is U3DEFAULT else expected)


@pytest.mark.parametrize("read", BUDGETS, ids=repr)
def test_read_timeout_without_total_matches_urllib3(read, socket_default):
    ours, their = build_both(read=read)
    assert ours.read_timeout == their.read_timeout
    if read is _DEFAULT_TIMEOUT:
        assert ours.read_timeout == socket_default


@pytest.mark.parametrize("read", BUDGETS, ids=repr)
def test_read_timeout_with_total_before_start_matches_urllib3(read):
    ours, their = build_both(total=5, read=read)
    assert outcome(lambda: ours.read_timeout) == outcome(lambda: their.read_timeout)


@pytest.mark.parametrize(
    ("total", "read", "elapsed", "expected"),
    [
        (5, 4, 3, 2),  # what is left of the total
        (5, 1, 3, 1),  # capped by read
        (5, None, 3, 2),
        (5, _DEFAULT_TIMEOUT, 1.5, 3.5),
        (2, 4, 3, 0),  # never negative
        (2, None, 3, 0),
    ],
)
def test_read_timeout_accounts_for_connect_time(clock, total, read, elapsed, expected):
    timeout = Timeout(total=total, read=read)
    timeout.start_connect()
    clock.now += elapsed
    assert timeout.read_timeout == expected


def test_resolve_default_timeout(socket_default):
    assert Timeout.resolve_default_timeout(_DEFAULT_TIMEOUT) == socket_default
    assert Timeout.resolve_default_timeout(None) is None
    assert Timeout.resolve_default_timeout(3) == 3
    assert u3timeout.Timeout.resolve_default_timeout(U3DEFAULT) == socket_default


# --- API surface ---------------------------------------------------------------------------


def signature_of(func):
    parameters = inspect.signature(func).parameters.values()
    return [(p.name, p.kind, repr(p.default)) for p in parameters]


def test_timeout_surface_matches_urllib3():
    assert signature_of(Timeout) == signature_of(u3timeout.Timeout)
    for name in dir(u3timeout.Timeout):
        if name.startswith("__") and name != "__init__":
            continue
        their_attr = getattr(u3timeout.Timeout, name)
        assert hasattr(Timeout, name), name
        if callable(their_attr) and not isinstance(their_attr, type):
            assert signature_of(getattr(Timeout, name)) == signature_of(their_attr), name
