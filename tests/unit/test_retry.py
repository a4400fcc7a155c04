"""Tests for pooltest.util.retry, most of them differential against urllib3's Retry."""

from __future__ import annotations

import email.utils
import pickle
import time
import typing

import pytest
import urllib3
import urllib3.exceptions as u3exc
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3.util.retry import Retry as U3Retry

from pooltest import exceptions as ptexc
from pooltest.util import retry as retry_module
from pooltest.util.retry import RequestHistory, Retry


class FakeResponse:
    """The three things Retry reads from a response."""

    def __init__(
        self, status: int = 200, headers: dict[str, str] | None = None, location: str | None = None
    ) -> None:
        self.status = status
        self.headers = urllib3.HTTPHeaderDict(headers or {})
        if location is not None:
            self.headers["Location"] = location

    def get_redirect_location(self) -> str | typing.Literal[False] | None:
        if self.status in (301, 302, 303, 307, 308):
            return self.headers.get("Location")
        return False


# Error kinds by name: the same situation expressed with each library's exception classes.
ERROR_KINDS = ["connect", "proxy-connect", "read-timeout", "protocol", "other", "new-connection"]


def make_error(kind: str, lib: typing.Any) -> typing.Any:
    if kind == "connect":
        return lib.ConnectTimeoutError("connect timed out")
    if kind == "proxy-connect":
        return lib.ProxyError("proxy down", lib.ConnectTimeoutError("connect timed out"))
    if kind == "read-timeout":
        return lib.ReadTimeoutError(None, "/", "Read timed out.")
    if kind == "protocol":
        return lib.ProtocolError("Connection aborted.", ConnectionResetError())
    if kind == "new-connection":
        return lib.NewConnectionError(None, "refused")
    return ValueError("something else")


def counters(r: typing.Any) -> tuple[typing.Any, ...]:
    return (r.total, r.connect, r.read, r.redirect, r.status, r.other)


def history_view(r: typing.Any) -> list[tuple[typing.Any, ...]]:
    return [
        (h.method, h.url, type(h.error).__name__, h.status, h.redirect_location) for h in r.history
    ]


# -- construction -----------------------------------------------------------------------------


def test_class_constants_match_urllib3() -> None:
    assert Retry.DEFAULT_ALLOWED_METHODS == U3Retry.DEFAULT_ALLOWED_METHODS
    assert Retry.RETRY_AFTER_STATUS_CODES == U3Retry.RETRY_AFTER_STATUS_CODES
    assert Retry.DEFAULT_REMOVE_HEADERS_ON_REDIRECT == U3Retry.DEFAULT_REMOVE_HEADERS_ON_REDIRECT
    assert Retry.DEFAULT_BACKOFF_MAX == U3Retry.DEFAULT_BACKOFF_MAX
    assert Retry.DEFAULT_RETRY_AFTER_MAX == U3Retry.DEFAULT_RETRY_AFTER_MAX


def test_default_is_three_total() -> None:
    assert isinstance(Retry.DEFAULT, Retry)
    assert (
        repr(Retry.DEFAULT) == "Retry(total=3, connect=None, read=None, redirect=None, status=None)"
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"total": False},
        {"redirect": False},
        {"total": 0, "redirect": 2},
        {"total": None, "connect": 1, "read": 2, "status": 3, "other": 4},
        {"status_forcelist": [500, 502]},
        {"remove_headers_on_redirect": ["X-Secret", "AUTHORIZATION"]},
        {"allowed_methods": None},
    ],
)
def test_constructor_state_matches_urllib3(kwargs: dict[str, typing.Any]) -> None:
    ours, theirs = Retry(**kwargs), U3Retry(**kwargs)
    assert repr(ours) == repr(theirs)
    for name in (
        "total",
        "connect",
        "read",
        "redirect",
        "status",
        "other",
        "allowed_methods",
        "status_forcelist",
        "backoff_factor",
        "backoff_max",
        "backoff_jitter",
        "raise_on_redirect",
        "raise_on_status",
        "history",
        "respect_retry_after_header",
        "remove_headers_on_redirect",
        "retry_after_max",
    ):
        assert getattr(ours, name) == getattr(theirs, name), name


def test_empty_allowed_methods_warns_like_urllib3() -> None:
    with pytest.warns(FutureWarning) as ours:
        Retry(allowed_methods=[])
    with pytest.warns(FutureWarning) as theirs:
        U3Retry(allowed_methods=[])
    assert str(ours[0].message) == str(theirs[0].message)
    assert ours[0].filename == __file__


def test_new_copies_everything_and_overrides() -> None:
    history = (RequestHistory("GET", "/", None, 500, None),)
    original = Retry(
        total=5,
        connect=1,
        read=2,
        redirect=3,
        status=4,
        other=0,
        allowed_methods={"GET"},
        status_forcelist={500},
        backoff_factor=0.5,
        backoff_max=7,
        raise_on_redirect=False,
        raise_on_status=False,
        history=history,
        respect_retry_after_header=False,
        remove_headers_on_redirect={"X-A"},
        backoff_jitter=0.25,
        retry_after_max=9,
    )
    copy = original.new(total=1)
    assert copy is not original
    assert vars(copy) == {**vars(original), "total": 1}


def test_new_keeps_subclass() -> None:
    class MyRetry(Retry):
        pass

    assert type(MyRetry(2).new()) is MyRetry
    assert type(MyRetry(2).increment(error=ValueError())) is MyRetry


@pytest.mark.parametrize(
    ("retries", "redirect", "default"),
    [
        (None, True, None),
        (None, True, 7),
        (None, False, Retry(4)),
        (0, True, None),
        (5, True, None),
        (5, False, None),
        (5, 0, None),
        (True, True, None),
        (False, True, None),
        (False, False, None),
    ],
)
def test_from_int_matches_urllib3(
    retries: typing.Any, redirect: typing.Any, default: typing.Any
) -> None:
    ours = Retry.from_int(retries, redirect=redirect, default=default)
    u3_default = U3Retry(4) if isinstance(default, Retry) else default
    theirs = U3Retry.from_int(retries, redirect=redirect, default=u3_default)
    assert repr(ours) == repr(theirs)
    assert ours.raise_on_redirect == theirs.raise_on_redirect


def test_from_int_returns_retry_objects_unchanged() -> None:
    r = Retry(2)
    assert Retry.from_int(r) is r
    assert Retry.from_int(None, default=r) is r
    assert Retry.from_int(None) is Retry.DEFAULT


# -- increment: differential ------------------------------------------------------------------

Event = tuple[str, typing.Any]

events = st.one_of(
    st.tuples(st.just("error"), st.sampled_from(ERROR_KINDS)),
    st.tuples(st.just("redirect"), st.sampled_from([301, 302, 303, 307, 308])),
    st.tuples(st.just("status"), st.sampled_from([429, 500, 502, 503])),
    st.tuples(st.just("none"), st.none()),
)
counter_values = st.one_of(st.none(), st.booleans(), st.integers(-1, 3))


def apply_event(retry: typing.Any, lib: typing.Any, event: Event, method: str) -> typing.Any:
    kind, arg = event
    if kind == "error":
        return retry.increment(method, "/path", error=make_error(arg, lib))
    if kind == "redirect":
        return retry.increment(method, "/path", response=FakeResponse(arg, location="/next"))
    if kind == "status":
        return retry.increment(method, "/path", response=FakeResponse(arg))
    return retry.increment(method, "/path")


def run_both(ours: typing.Any, theirs: typing.Any, evs: list[Event], method: str) -> None:
    """Apply the same events to both Retry objects; outcomes must agree step by step."""
    for event in evs:
        ours_outcome = theirs_outcome = None
        try:
            ours = apply_event(ours, ptexc, event, method)
        except Exception as e:
            ours_outcome = e
        try:
            theirs = apply_event(theirs, u3exc, event, method)
        except Exception as e:
            theirs_outcome = e
        if theirs_outcome is None:
            assert ours_outcome is None, (event, ours_outcome)
            assert counters(ours) == counters(theirs)
            assert history_view(ours) == history_view(theirs)
            assert ours.is_exhausted() == theirs.is_exhausted()
            continue
        assert type(ours_outcome).__name__ == type(theirs_outcome).__name__
        assert str(ours_outcome) == str(theirs_outcome)
        if isinstance(theirs_outcome, u3exc.MaxRetryError):
            assert isinstance(ours_outcome, ptexc.MaxRetryError)
            assert type(ours_outcome.reason).__name__ == type(theirs_outcome.reason).__name__
            assert str(ours_outcome.reason) == str(theirs_outcome.reason)
            assert ours_outcome.__cause__ is ours_outcome.reason
        return


retry_kwargs = st.fixed_dictionaries(
    dict.fromkeys(("total", "connect", "read", "redirect", "status", "other"), counter_values),
    optional={"allowed_methods": st.sampled_from([None, frozenset(["POST"])])},
)


@settings(max_examples=300, deadline=None)
@given(
    kwargs=retry_kwargs,
    method=st.sampled_from(["GET", "get", "POST", "PUT"]),
    evs=st.lists(events, max_size=8),
)
def test_increment_matches_urllib3(
    kwargs: dict[str, typing.Any], method: str, evs: list[Event]
) -> None:
    run_both(Retry(**kwargs), U3Retry(**kwargs), evs, method)


def test_status_exhaustion_reason() -> None:
    r = Retry(total=None, status=0, status_forcelist=[500])
    with pytest.raises(ptexc.MaxRetryError) as info:
        r.increment("GET", "/x", response=FakeResponse(500))
    assert isinstance(info.value.reason, ptexc.ResponseError)
    assert str(info.value.reason) == "too many 500 error responses"
    assert info.value.url == "/x"


def test_redirect_exhaustion_reason_and_history() -> None:
    r = Retry(total=None, redirect=1)
    r = r.increment("GET", "/a", response=FakeResponse(302, location="/b"))
    assert r.history == (RequestHistory("GET", "/a", None, 302, "/b"),)
    with pytest.raises(ptexc.MaxRetryError) as info:
        r.increment("GET", "/b", response=FakeResponse(302, location="/c"))
    assert str(info.value.reason) == "too many redirects"


def test_no_response_no_error_is_generic() -> None:
    with pytest.raises(ptexc.MaxRetryError) as info:
        Retry(0).increment("GET", "/")
    assert str(info.value.reason) == ptexc.ResponseError.GENERIC_ERROR


def test_error_is_the_reason_and_the_cause() -> None:
    error = ptexc.ConnectTimeoutError("slow")
    with pytest.raises(ptexc.MaxRetryError) as info:
        Retry(0).increment("GET", "/", error=error)
    assert info.value.reason is error
    assert info.value.__cause__ is error
    assert "Caused by ConnectTimeoutError('slow')" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "kind", "method"),
    [
        ({"total": False}, "other", "GET"),
        ({"total": False}, "connect", "GET"),
        ({"connect": False}, "connect", "GET"),
        ({"connect": False}, "proxy-connect", "GET"),
        ({"read": False}, "read-timeout", "GET"),
        ({}, "read-timeout", "POST"),
        ({}, "protocol", "POST"),
    ],
)
def test_disabled_counters_reraise_the_original_error(
    kwargs: dict[str, typing.Any], kind: str, method: str
) -> None:
    error = make_error(kind, ptexc)
    try:
        raise error
    except Exception as e:
        tb = e.__traceback__
    with pytest.raises(type(error)) as info:
        Retry(**kwargs).increment(method, "/", error=error, _stacktrace=tb)
    assert info.value is error


def test_read_error_without_method_reraises() -> None:
    error = ptexc.ReadTimeoutError(None, "/", "Read timed out.")  # type: ignore[arg-type]
    with pytest.raises(ptexc.ReadTimeoutError):
        Retry().increment(None, "/", error=error)


def test_increment_is_pure() -> None:
    r = Retry(total=3, connect=2)
    r2 = r.increment("GET", "/", error=ptexc.ConnectTimeoutError())
    assert (r.total, r.connect, r.history) == (3, 2, ())
    assert (r2.total, r2.connect, len(r2.history)) == (2, 1, 1)


# -- is_retry / is_exhausted ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "get", "POST", "PATCH"])
@pytest.mark.parametrize("status", [200, 413, 429, 500, 503])
@pytest.mark.parametrize("has_retry_after", [False, True])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"status_forcelist": [500, 503]},
        {"allowed_methods": None, "status_forcelist": [500]},
        {"respect_retry_after_header": False},
        {"total": 0},
        {"total": False, "status_forcelist": [500]},
    ],
)
def test_is_retry_matches_urllib3(
    method: str, status: int, has_retry_after: bool, kwargs: dict[str, typing.Any]
) -> None:
    ours = Retry(**kwargs).is_retry(method, status, has_retry_after)
    assert ours == U3Retry(**kwargs).is_retry(method, status, has_retry_after)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"total": -1},
        {"total": 0},
        {"total": None},
        {"total": None, "connect": -1},
        {"total": 5, "read": -1},
        {"total": 5, "redirect": -1},
        {"total": 5, "status": -1},
        {"total": 5, "other": -1},
        {"total": 5, "other": 0},
    ],
)
def test_is_exhausted_matches_urllib3(kwargs: dict[str, typing.Any]) -> None:
    assert Retry(**kwargs).is_exhausted() == U3Retry(**kwargs).is_exhausted()


# -- backoff ----------------------------------------------------------------------------------


def _history(pattern: str) -> tuple[RequestHistory, ...]:
    """'e' = an error, 'r' = a redirect."""
    return tuple(
        RequestHistory("GET", "/", None, 302 if c == "r" else 500, "/x" if c == "r" else None)
        for c in pattern
    )


@pytest.mark.parametrize("pattern", ["", "e", "ee", "eee", "eeeeeeee", "eer", "eere", "reee", "r"])
@pytest.mark.parametrize(("factor", "backoff_max"), [(0, 120), (0.5, 120), (1, 3), (3, 1000)])
def test_backoff_time_matches_urllib3(pattern: str, factor: float, backoff_max: float) -> None:
    history = _history(pattern)
    u3_history = tuple(u3exc_history(h) for h in history)
    ours = Retry(backoff_factor=factor, backoff_max=backoff_max, history=history)
    theirs = U3Retry(backoff_factor=factor, backoff_max=backoff_max, history=u3_history)
    assert ours.get_backoff_time() == theirs.get_backoff_time()


def u3exc_history(h: RequestHistory) -> typing.Any:
    from urllib3.util.retry import RequestHistory as U3History

    return U3History(*h)


def test_backoff_doubles_from_second_consecutive_error() -> None:
    times = [
        Retry(backoff_factor=0.5, history=_history("e" * n)).get_backoff_time() for n in range(6)
    ]
    assert times == [0, 0, 1.0, 2.0, 4.0, 8.0]


def test_backoff_jitter_stays_in_range() -> None:
    r = Retry(backoff_factor=1, backoff_jitter=0.5, history=_history("ee"))
    samples = {r.get_backoff_time() for _ in range(200)}
    assert all(2.0 <= s <= 2.5 for s in samples)
    assert len(samples) > 1
    capped = Retry(backoff_factor=1, backoff_jitter=5, backoff_max=2.2, history=_history("ee"))
    assert all(capped.get_backoff_time() <= 2.2 for _ in range(50))


# -- Retry-After ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["0", "5", " 7 ", "\t12\t", "3600", "21601", "99999999999999999999"]
)
def test_parse_retry_after_seconds_matches_urllib3(value: str) -> None:
    assert Retry().parse_retry_after(value) == U3Retry().parse_retry_after(value)


def test_retry_after_max_caps_waits() -> None:
    assert Retry(retry_after_max=10).parse_retry_after("11") == 10
    assert Retry().parse_retry_after("99999") == Retry.DEFAULT_RETRY_AFTER_MAX


def test_parse_retry_after_http_dates() -> None:
    past = "Sun, 06 Nov 1994 08:49:37 GMT"
    assert Retry().parse_retry_after(past) == 0
    future = email.utils.formatdate(time.time() + 3600, usegmt=True)
    ours, theirs = Retry().parse_retry_after(future), U3Retry().parse_retry_after(future)
    assert 3500 < ours <= 3600
    assert abs(ours - theirs) < 60


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "soon",
        "-1",
        "1.5",
        "5 seconds",
        "0x10",
        "Mon, 32 Foo 2020",
        "1 Jan 99999999999 00:00:00",
    ],
)
def test_parse_retry_after_junk_is_invalid_header(junk: str) -> None:
    with pytest.raises(ptexc.InvalidHeader, match="Invalid Retry-After header"):
        Retry().parse_retry_after(junk)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_parse_retry_after_fuzz_against_urllib3(value: str) -> None:
    try:
        theirs: float | Exception = U3Retry().parse_retry_after(value)
    except Exception as e:
        theirs = e
    try:
        ours: float | Exception = Retry().parse_retry_after(value)
    except ptexc.InvalidHeader as e:
        ours = e
    if isinstance(theirs, Exception):
        if isinstance(theirs, ValueError) and not isinstance(theirs, u3exc.InvalidHeader):
            # urllib3 crashes in int() on digits padded with whitespace int() does not strip
            # ("0\x1f"); we read the digits.
            assert isinstance(ours, float | int)
            return
        # urllib3 lets OverflowError out of email.utils for absurd years; we say InvalidHeader.
        assert isinstance(ours, ptexc.InvalidHeader)
        assert isinstance(theirs, (u3exc.InvalidHeader, OverflowError))
    else:
        assert not isinstance(ours, Exception)
        assert abs(ours - theirs) < 60


def test_get_retry_after_reads_the_header_case_insensitively() -> None:
    assert Retry().get_retry_after(FakeResponse(503, {"retry-after": "4"})) == 4
    assert Retry().get_retry_after(FakeResponse(503)) is None


def test_sleep_for_retry_without_header_does_not_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(retry_module, "_sleep", slept.append)
    assert Retry().sleep_for_retry(FakeResponse(503)) is False
    assert Retry().sleep_for_retry(FakeResponse(503, {"Retry-After": "0"})) is False
    assert slept == []


def test_sleep_really_waits_the_backoff() -> None:
    r = Retry(backoff_factor=0.01, history=_history("ee"))
    assert r.get_backoff_time() == 0.02
    start = time.monotonic()
    r.sleep()
    assert time.monotonic() - start >= 0.02


def test_sleep_uses_the_sleep_captured_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_sleep(_: float) -> None:
        raise AssertionError("time.sleep replaced after import must not be used")

    monkeypatch.setattr(time, "sleep", broken_sleep)
    Retry(backoff_factor=0.001, history=_history("ee")).sleep()
    Retry().sleep_for_retry(FakeResponse(429, {"Retry-After": "0"}))


def test_sleep_prefers_retry_after_over_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(retry_module, "_sleep", slept.append)
    r = Retry(backoff_factor=10, history=_history("eee"))
    r.sleep(FakeResponse(503, {"Retry-After": "3"}))
    r.sleep(FakeResponse(503, {"Retry-After": "0"}))
    r.sleep(None)
    Retry(respect_retry_after_header=False).sleep(FakeResponse(503, {"Retry-After": "3"}))
    assert slept == [3, 40.0, 40.0]


# -- misc ---------------------------------------------------------------------------------------


def test_repr_matches_urllib3() -> None:
    for kwargs in ({}, {"total": None, "connect": 2, "read": False}, {"redirect": False}):
        assert repr(Retry(**kwargs)) == repr(U3Retry(**kwargs))


def test_remove_headers_on_redirect_is_lowercased() -> None:
    assert Retry().remove_headers_on_redirect == {"cookie", "authorization", "proxy-authorization"}
    assert Retry(remove_headers_on_redirect=["X-Token"]).remove_headers_on_redirect == {"x-token"}


def test_request_history_pickles() -> None:
    h = RequestHistory("GET", "/", None, 500, None)
    assert pickle.loads(pickle.dumps(h)) == h
    assert h._fields == ("method", "url", "error", "status", "redirect_location")
