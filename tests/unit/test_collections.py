"""pooltest._collections: the LRU container of pools and the HTTP header multi-dict.

HTTPHeaderDict is checked against urllib3's by replaying the same random operation sequences
on both and comparing everything observable after each step.
"""

from __future__ import annotations

import contextlib
import inspect
import pickle
import threading

import pytest
import urllib3._collections as u3c
from hypothesis import given, settings
from hypothesis import strategies as st

from pooltest._collections import HTTPHeaderDict, HTTPHeaderDictItemView, RecentlyUsedContainer

# --- RecentlyUsedContainer -----------------------------------------------------------------


def test_lru_evicts_least_recently_used_and_disposes_it():
    disposed = []
    lru = RecentlyUsedContainer(3, dispose_func=disposed.append)
    for key in "abc":
        lru[key] = key.upper()
    assert lru["a"] == "A"  # a is now the most recent; b is the least recent
    lru["d"] = "D"
    assert disposed == ["B"]
    assert list(lru.keys()) == ["c", "a", "d"]
    assert len(lru) == 3
    assert "b" not in lru


def test_lru_replacing_a_value_disposes_the_old_one_and_refreshes_the_key():
    disposed = []
    lru = RecentlyUsedContainer(2, dispose_func=disposed.append)
    lru["a"], lru["b"] = 1, 2
    lru["a"] = 10
    assert disposed == [1]
    lru["c"] = 3
    assert disposed == [1, 2]
    assert list(lru.keys()) == ["a", "c"]


def test_lru_get_marks_recent_and_returns_default():
    lru = RecentlyUsedContainer(2)
    lru["a"], lru["b"] = 1, 2
    assert lru.get("a") == 1
    assert lru.get("zz") is None
    assert lru.get("zz", 5) == 5
    assert lru.get("zz", default=6) == 6
    lru["c"] = 3
    assert list(lru.keys()) == ["a", "c"]


def test_lru_delete_clear_and_zero_size():
    disposed = []
    lru = RecentlyUsedContainer(5, dispose_func=disposed.append)
    lru.update({"a": 1, "b": 2, "c": 3})
    del lru["b"]
    assert disposed == [2]
    with pytest.raises(KeyError):
        del lru["b"]
    with pytest.raises(KeyError):
        lru["b"]
    lru.clear()
    assert disposed == [2, 1, 3]
    assert len(lru) == 0
    zero = RecentlyUsedContainer(0, dispose_func=disposed.append)
    zero["x"] = "X"
    assert disposed[-1] == "X"
    assert len(zero) == 0


def test_lru_refuses_iteration_and_keys_is_a_snapshot():
    lru = RecentlyUsedContainer()
    lru["a"] = 1
    with pytest.raises(NotImplementedError, match="unlikely to be threadsafe"):
        iter(lru)
    keys = lru.keys()
    lru["b"] = 2
    assert keys == {"a"}
    assert lru.keys() == {"a", "b"}
    theirs = u3c.RecentlyUsedContainer()
    theirs["a"], theirs["b"] = 1, 2
    assert lru.keys() == theirs.keys()


def test_lru_without_dispose_func_and_defaults():
    lru = RecentlyUsedContainer()
    for number in range(12):
        lru[number] = number
    assert list(lru.keys()) == list(range(2, 12))
    assert lru.dispose_func is None
    assert isinstance(lru.lock, type(threading.RLock()))


def test_lru_disposes_outside_the_lock():
    """Another thread can take the lock while dispose_func runs."""
    acquired = []

    def dispose(value):
        def grab():
            if lru.lock.acquire(timeout=5):
                acquired.append(value)
                lru.lock.release()

        thread = threading.Thread(target=grab)
        thread.start()
        thread.join(timeout=10)

    lru = RecentlyUsedContainer(1, dispose_func=dispose)
    lru["a"] = 1
    lru["b"] = 2  # evicts
    lru["b"] = 3  # replaces
    del lru["b"]
    lru["c"] = 4
    lru.clear()
    assert acquired == [1, 2, 3, 4]


@pytest.mark.timeout(60)
def test_lru_is_thread_safe_and_disposes_each_evicted_value_exactly_once():
    disposed = []
    lru = RecentlyUsedContainer(8, dispose_func=disposed.append)
    errors = []
    start = threading.Barrier(6, timeout=10)

    def worker(worker_id):
        try:
            start.wait()
            for step in range(3000):
                key = (worker_id * 7 + step) % 20
                lru[key] = (worker_id, step)  # every value is unique
                lru.get((key + 3) % 20)
                if step % 97 == 0:
                    with contextlib.suppress(KeyError):
                        del lru[(key + 1) % 20]
                assert len(lru) <= 8
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=50)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    with lru.lock:
        remaining = list(lru._container.values())
    # Every value ever inserted either is still held or was disposed, never both, never twice.
    assert len(disposed) == len(set(disposed))
    assert set(disposed).isdisjoint(remaining)
    assert len(disposed) + len(remaining) == 6 * 3000
    assert len(remaining) <= 8


# --- HTTPHeaderDict: behaviour -------------------------------------------------------------


def test_header_dict_basics():
    headers = HTTPHeaderDict({"Content-Type": "text/plain"}, Accept="a")
    headers.add("Set-Cookie", "a=1")
    headers.add("set-cookie", "b=2")
    assert headers["SET-COOKIE"] == "a=1, b=2"
    assert headers.getlist("set-cookie") == ["a=1", "b=2"]
    assert list(headers) == ["Content-Type", "Accept", "Set-Cookie"]
    assert list(headers.items()) == [
        ("Content-Type", "text/plain"),
        ("Accept", "a"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
    ]
    assert len(headers) == 3
    assert len(headers.items()) == 4
    assert ("set-cookie", "b=2") in headers.items()
    assert ("Set-Cookie", "a=1, b=2") not in headers.items()
    assert "content-TYPE" in headers
    assert b"accept" in headers
    assert 5 not in headers
    headers["set-cookie"] = "c=3"
    assert headers.getlist("Set-Cookie") == ["c=3"]
    assert list(headers)[-1] == "set-cookie"


def test_header_dict_add_combine_and_bytes_names():
    headers = HTTPHeaderDict()
    headers.add(b"X-A", "1")
    headers.add("x-a", "2")
    headers.add("X-A", "3", combine=True)
    headers.add("X-New", "n", combine=True)
    assert list(headers.iteritems()) == [("X-A", "1"), ("X-A", "2, 3"), ("X-New", "n")]
    assert headers[b"x-a"] == "1, 2, 3"
    assert headers.get(b"X-NEW") == "n"
    headers[b"Y"] = "y"
    del headers[b"y"]
    assert "y" not in headers


def test_header_dict_getlist_aliases_and_defaults():
    headers = HTTPHeaderDict([("A", "1"), ("a", "2")])
    for method in ("getlist", "getheaders", "getallmatchingheaders", "iget", "get_all"):
        assert getattr(headers, method)("A") == ["1", "2"]
        assert getattr(headers, method)("missing") == []
        assert getattr(headers, method)("missing", None) is None
    values = headers.getlist("a")
    values.append("3")
    assert headers.getlist("a") == ["1", "2"]


def test_header_dict_mapping_methods():
    headers = HTTPHeaderDict(a="1")
    assert headers.get("A") == "1"
    assert headers.get("b") is None
    assert headers.get("b", "x") == "x"
    assert headers.get("b", default="y") == "y"
    assert headers.setdefault("A", "z") == "1"
    assert headers.setdefault("B") == ""
    assert headers.pop("b") == ""
    headers.discard("missing")
    headers.discard(b"A")
    assert len(headers) == 0
    with pytest.raises(KeyError):
        headers["a"]
    with pytest.raises(KeyError):
        del headers["a"]


def test_header_dict_equality():
    headers = HTTPHeaderDict([("A", "1"), ("a", "2"), ("B", "x")])
    assert headers == {"a": "1, 2", "b": "x"}
    assert headers == [("A", "1"), ("A", "2"), ("b", "x")]
    assert headers == HTTPHeaderDict({"B": "x", "A": "1, 2"})
    assert headers != {"a": "1", "b": "x"}
    assert headers != 3
    assert headers != object()
    assert headers == u3c.HTTPHeaderDict(headers)
    with pytest.raises(TypeError):
        hash(headers)


def test_header_dict_copies_are_independent():
    headers = HTTPHeaderDict([("A", "1"), ("a", "2")])
    for clone in (headers.copy(), HTTPHeaderDict(headers)):
        clone.add("A", "3")
        clone["B"] = "b"
        assert headers.getlist("a") == ["1", "2"]
        assert "b" not in headers
        assert clone.getlist("a") == ["1", "2", "3"]


def test_header_dict_operators():
    headers = HTTPHeaderDict(A="1")
    merged = headers | {"a": "2", "B": "3"}
    assert isinstance(merged, HTTPHeaderDict)
    assert merged.getlist("a") == ["1", "2"]
    assert headers.getlist("a") == ["1"]
    reflected = {"a": "0"} | headers
    assert isinstance(reflected, HTTPHeaderDict)
    assert list(reflected.iteritems()) == [("a", "0"), ("a", "1")]
    same = headers
    headers |= [("A", "9")]
    assert headers is same
    assert headers.getlist("A") == ["1", "9"]
    with pytest.raises(TypeError):
        headers | 5
    with pytest.raises(TypeError):
        headers |= 5


def test_header_dict_extend_sources_and_errors():
    class KeysOnly:
        def keys(self):
            return ["K"]

        def __getitem__(self, key):
            return "v"

    headers = HTTPHeaderDict()
    headers.extend(KeysOnly())
    headers.extend({"k": "w"}, k="x")
    headers.extend(headers)
    assert headers.getlist("k") == ["v", "w", "x", "v", "w", "x"]
    with pytest.raises(
        TypeError, match=r"extend\(\) takes at most 1 positional arguments \(2 given\)"
    ):
        headers.extend({}, {})


def test_header_dict_repr_and_pickle():
    headers = HTTPHeaderDict([("A", "1"), ("a", "2"), ("B", "3")])
    assert repr(headers) == "HTTPHeaderDict({'A': '1, 2', 'B': '3'})"
    assert repr(headers) == repr(u3c.HTTPHeaderDict(headers))
    restored = pickle.loads(pickle.dumps(headers))
    assert list(restored.iteritems()) == list(headers.iteritems())


def test_from_pairs_equals_adding_each_pair():
    pairs = [("Content-Type", "a"), ("Set-Cookie", "1"), ("set-cookie", "2"), ("X", "")]
    fast = HTTPHeaderDict._from_pairs(pairs)
    slow = HTTPHeaderDict()
    for name, value in pairs:
        slow.add(name, value)
    assert type(fast) is HTTPHeaderDict
    assert list(fast.iteritems()) == list(slow.iteritems())
    assert fast._container == slow._container
    assert HTTPHeaderDict._from_pairs([]) == {}


def test_from_pairs_keeps_the_subclass():
    class Sub(HTTPHeaderDict):
        pass

    built = Sub._from_pairs([("A", "1")])
    assert type(built) is Sub
    assert type(built.copy()) is Sub
    assert type(built | {}) is Sub


def test_prepare_for_method_change_drops_body_headers():
    names = [
        "Content-Encoding",
        "Content-Language",
        "Content-Location",
        "Content-Type",
        "Content-Length",
        "Digest",
        "Last-Modified",
        "Transfer-Encoding",
    ]
    source = [(name.upper(), "x") for name in names] + [("Host", "h"), ("Cookie", "c")]
    ours = HTTPHeaderDict(source)
    assert ours._prepare_for_method_change() is ours
    assert list(ours.iteritems()) == [("Host", "h"), ("Cookie", "c")]
    theirs = u3c.HTTPHeaderDict(source)._prepare_for_method_change()
    assert list(ours.iteritems()) == list(theirs.iteritems())


def test_items_view_is_a_set_subclass():
    headers = HTTPHeaderDict(A="1")
    view = headers.items()
    assert isinstance(view, HTTPHeaderDictItemView)
    assert isinstance(view, set)
    assert ("A", "1") in view
    assert ("A", 1) not in view
    assert "A" not in view
    headers.add("a", "2")
    assert len(view) == 2


# --- HTTPHeaderDict: differential against urllib3 ------------------------------------------

NAMES = st.sampled_from(["A", "a", "Set-Cookie", "set-cookie", "SET-COOKIE", "B", "content-type"])
NAME_OR_BYTES = st.one_of(NAMES, NAMES.map(lambda name: name.encode("latin-1")))
VALUES = st.sampled_from(["1", "2", "", "x, y", "é"])
PAIRS = st.lists(st.tuples(NAMES, VALUES), max_size=5)

OPERATIONS = st.one_of(
    st.tuples(st.just("add"), NAME_OR_BYTES, VALUES, st.booleans()),
    st.tuples(st.just("setitem"), NAME_OR_BYTES, VALUES),
    st.tuples(st.just("delitem"), NAME_OR_BYTES),
    st.tuples(st.just("discard"), NAME_OR_BYTES),
    st.tuples(st.just("setdefault"), NAMES, VALUES),
    st.tuples(st.just("extend_pairs"), PAIRS),
    st.tuples(st.just("extend_dict"), st.dictionaries(NAMES, VALUES, max_size=3)),
    st.tuples(st.just("extend_self")),
    st.tuples(st.just("ior"), PAIRS),
    st.tuples(st.just("or"), st.dictionaries(NAMES, VALUES, max_size=3)),
    st.tuples(st.just("ror"), st.dictionaries(NAMES, VALUES, max_size=3)),
    st.tuples(st.just("copy")),
    st.tuples(st.just("pop"), NAMES),
    st.tuples(st.just("method_change")),
)


def apply(headers, operation):
    """Apply one operation; return (new headers object, result or exception type name)."""
    kind, *args = operation
    try:
        if kind == "add":
            return headers, headers.add(args[0], args[1], combine=args[2])
        if kind == "setitem":
            headers[args[0]] = args[1]
            return headers, None
        if kind == "delitem":
            del headers[args[0]]
            return headers, None
        if kind == "discard":
            return headers, headers.discard(args[0])
        if kind == "setdefault":
            return headers, headers.setdefault(args[0], args[1])
        if kind == "extend_pairs":
            return headers, headers.extend(args[0])
        if kind == "extend_dict":
            return headers, headers.extend(args[0])
        if kind == "extend_self":
            return headers, headers.extend(headers)
        if kind == "ior":
            headers |= args[0]
            return headers, None
        if kind == "or":
            return headers | args[0], None
        if kind == "ror":
            return args[0] | headers, None
        if kind == "copy":
            return headers.copy(), None
        if kind == "pop":
            return headers, headers.pop(args[0])
        if kind == "method_change":
            return headers._prepare_for_method_change(), None
    except KeyError as error:
        return headers, type(error).__name__
    raise AssertionError(kind)


def observe(headers):
    probes = ["a", "A", b"set-cookie", "b", "content-type", "missing"]
    return (
        list(headers),
        list(headers.iteritems()),
        list(headers.itermerged()),
        list(headers.items()),
        len(headers),
        len(headers.items()),
        repr(headers).split("(", 1)[1],
        [(probe in headers, headers.get(probe), headers.getlist(probe)) for probe in probes],
        sorted(headers.keys()),
        list(headers.values()),
    )


@settings(max_examples=400, deadline=None)
@given(PAIRS, st.lists(OPERATIONS, max_size=12))
def test_header_dict_matches_urllib3_operation_by_operation(initial, operations):
    ours, theirs = HTTPHeaderDict(initial), u3c.HTTPHeaderDict(initial)
    assert observe(ours) == observe(theirs)
    for operation in operations:
        ours, our_result = apply(ours, operation)
        theirs, their_result = apply(theirs, operation)
        assert our_result == their_result
        assert observe(ours) == observe(theirs)
        assert ours == theirs
        assert (ours == dict(theirs.itermerged())) == (theirs == dict(theirs.itermerged()))


@settings(max_examples=200, deadline=None)
@given(PAIRS, PAIRS)
def test_header_dict_equality_matches_urllib3(left, right):
    assert (HTTPHeaderDict(left) == right) == (u3c.HTTPHeaderDict(left) == right)
    assert (HTTPHeaderDict(left) != dict(right)) == (u3c.HTTPHeaderDict(left) != dict(right))
    assert (HTTPHeaderDict._from_pairs(left) == HTTPHeaderDict(right)) == (
        u3c.HTTPHeaderDict(left) == u3c.HTTPHeaderDict(right)
    )


# --- API surface ---------------------------------------------------------------------------


def signature_of(func):
    parameters = inspect.signature(func).parameters.values()
    return [(p.name, p.kind, repr(p.default)) for p in parameters]


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (RecentlyUsedContainer, u3c.RecentlyUsedContainer),
        (HTTPHeaderDict, u3c.HTTPHeaderDict),
        (HTTPHeaderDictItemView, u3c.HTTPHeaderDictItemView),
    ],
)
def test_public_methods_and_signatures_match_urllib3(ours, theirs):
    checked = {"__init__", "__getitem__", "__or__", "_prepare_for_method_change"}
    for name in dir(theirs):
        if name.startswith("_") and name not in checked:
            continue
        assert hasattr(ours, name), name
        our_attr, their_attr = getattr(ours, name), getattr(theirs, name)
        if our_attr is their_attr or not callable(their_attr) or isinstance(their_attr, type):
            continue  # inherited unchanged from the same base (set, Mapping...) or not a method
        assert signature_of(our_attr) == signature_of(their_attr), name
