"""The two containers behind pools and messages: an LRU of pools and a header multi-dict.

:class:`RecentlyUsedContainer` is the thread-safe LRU mapping a ``PoolManager`` keeps its pools in.
An ``OrderedDict`` keeps entries from least to most recently used: a read moves the entry to the
end, an insert that overflows ``maxsize`` pops the first one. Every mutation happens under the
public ``lock`` (an ``RLock``), but the ``dispose_func`` of evicted, replaced or deleted values is
called only after the lock is released, so disposing (closing a pool, say) can never deadlock
with another thread waiting on the container.

:class:`HTTPHeaderDict` is a case-insensitive mapping of header names to values that also keeps
every repeated header. Its storage is one dict from the lower-cased name to a list
``[name as first seen, value1, value2, ...]``: lookups are a single dict hit, insertion order is
the dict's order, and ``d[name]`` joins the values with ``", "``. Because a parsed response builds
one of these per exchange, :meth:`HTTPHeaderDict._from_pairs` fills that dict in a single loop
without going through ``add()`` (and :meth:`HTTPHeaderDict._from_storage` adopts one the response
parser already filled while splitting the header block), and copying clones the per-name lists
directly.

Both classes mirror urllib3 2.x's ``urllib3._collections`` in names, signatures and behaviour.
"""

from __future__ import annotations

import typing
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, KeysView, Mapping, MutableMapping
from enum import Enum, auto
from operator import itemgetter
from threading import RLock

if typing.TYPE_CHECKING:
    from typing import Protocol

    from typing_extensions import Self

    class HasGettableStringKeys(Protocol):
        """Anything with ``keys()`` and string item access, used as a header source."""

        def keys(self) -> Iterator[str]: ...

        def __getitem__(self, key: str) -> str: ...


__all__ = ["HTTPHeaderDict", "RecentlyUsedContainer"]

_KT = typing.TypeVar("_KT")
_VT = typing.TypeVar("_VT")
_DT = typing.TypeVar("_DT")

#: Everything :class:`HTTPHeaderDict` can be built from or extended with.
ValidHTTPHeaderSource = typing.Union[
    "HTTPHeaderDict",
    Mapping[str, str],
    Iterable[tuple[str, str]],
    "HasGettableStringKeys",
]

_first = itemgetter(0)


def _header_name(key: object) -> str:
    """Decode a ``bytes`` header name as Latin-1; return anything else unchanged.

    Callers test ``type(key) is not str`` first, so plain ``str`` names never pay for the call.
    A value of another type passes through and fails later (on ``.lower()``), as in urllib3.
    """
    if isinstance(key, bytes):
        return key.decode("latin-1")
    return typing.cast("str", key)


class _Sentinel(Enum):
    """Marks an argument the caller did not pass (where ``None`` is a meaningful value)."""

    not_passed = auto()


def ensure_can_construct_http_header_dict(potential: object) -> ValidHTTPHeaderSource | None:
    """Return ``potential`` if an :class:`HTTPHeaderDict` can be built from it, else ``None``.

    Accepted are header dicts, mappings, iterables (assumed to yield name/value pairs; their
    content is not inspected) and objects with ``keys()`` and ``__getitem__``.
    """
    if isinstance(potential, HTTPHeaderDict):
        return potential
    if isinstance(potential, Mapping):
        return typing.cast("Mapping[str, str]", potential)
    if isinstance(potential, Iterable):
        return typing.cast("Iterable[tuple[str, str]]", potential)
    if hasattr(potential, "keys") and hasattr(potential, "__getitem__"):
        return typing.cast("HasGettableStringKeys", potential)
    return None


class RecentlyUsedContainer(typing.Generic[_KT, _VT], MutableMapping[_KT, _VT]):
    """A thread-safe mapping that keeps at most ``maxsize`` entries, dropping the least recent.

    :param maxsize: How many entries to keep. Inserting a new key beyond it evicts the entry that
        was read or written longest ago (with ``0``, the new entry itself).
    :param dispose_func: Called with every value that leaves the container: evicted, replaced by
        a new value for the same key, deleted, or cleared. Always called outside :attr:`lock`.

    Reading an entry (``c[key]``, ``c.get(key)``, ``key in c``) marks it most recently used.
    Iterating is refused (``NotImplementedError``) because it cannot be made thread-safe; use
    :meth:`keys` for a snapshot.
    """

    _container: OrderedDict[_KT, _VT]
    _maxsize: int
    dispose_func: Callable[[_VT], None] | None
    #: Held around every access; callers may hold it too to make several calls atomic.
    lock: RLock

    def __init__(
        self,
        maxsize: int = 10,
        dispose_func: Callable[[_VT], None] | None = None,
    ) -> None:
        self._maxsize = maxsize
        self.dispose_func = dispose_func
        self._container = OrderedDict()
        self.lock = RLock()
        # The most recently used entry as one ``(key, value)`` tuple, or None: see ``get``.
        self._last: tuple[_KT, _VT] | None = None

    def __getitem__(self, key: _KT) -> _VT:
        with self.lock:
            container = self._container
            container.move_to_end(key)  # KeyError for a missing key, as a mapping should.
            value = container[key]
            self._last = (key, value)
            return value

    @typing.overload
    def get(self, key: _KT) -> _VT | None: ...

    @typing.overload
    def get(self, key: _KT, default: _VT | _DT) -> _VT | _DT: ...

    def get(self, key: _KT, default: _VT | _DT | None = None) -> _VT | _DT | None:
        """Return the value for ``key`` (marking it most recently used), or ``default``."""
        # Fast path: asking again for the very key object that is already the most recently
        # used entry changes no order, so neither the lock nor hashing the key (a PoolManager's
        # key has 29 fields) is needed. ``_last`` is one tuple, read in one step; every change
        # under the lock resets it, so it never names an entry that is not the newest.
        last = self._last
        if last is not None and last[0] is key:
            return last[1]
        with self.lock:
            container = self._container
            try:
                container.move_to_end(key)
            except KeyError:
                return default
            value = container[key]
            self._last = (key, value)
            return value

    def __setitem__(self, key: _KT, value: _VT) -> None:
        with self.lock:
            self._last = None
            container = self._container
            if key in container:
                disposed = container[key]
                container.move_to_end(key)
                container[key] = value
            else:
                container[key] = value
                if len(container) <= self._maxsize:
                    return
                disposed = container.popitem(last=False)[1]
        if self.dispose_func:
            self.dispose_func(disposed)

    def __delitem__(self, key: _KT) -> None:
        with self.lock:
            self._last = None
            value = self._container.pop(key)
        if self.dispose_func:
            self.dispose_func(value)

    def __len__(self) -> int:
        with self.lock:
            return len(self._container)

    def __iter__(self) -> typing.NoReturn:
        raise NotImplementedError("Iteration over this class is unlikely to be threadsafe.")

    def clear(self) -> None:
        """Remove every entry, then dispose of each removed value (outside the lock)."""
        with self.lock:
            self._last = None
            values = list(self._container.values())
            self._container.clear()
        if self.dispose_func:
            for value in values:
                self.dispose_func(value)

    def keys(self) -> KeysView[_KT]:
        """A snapshot of the keys, least recently used first.

        The snapshot is set-like (it compares equal to a ``set`` of the same keys, as urllib3's
        ``set`` result does) and does not change when the container does.
        """
        with self.lock:
            return dict.fromkeys(self._container).keys()


class HTTPHeaderDictItemView(set[tuple[str, str]]):
    """The ``items()`` view of an :class:`HTTPHeaderDict`: one ``(name, value)`` per header line.

    Unlike a plain mapping's items, a name added several times appears once per value (unless
    the values were combined with ``add(..., combine=True)``), in the order the names were first
    added. Membership tests look the value up in the live header dict.
    """

    _headers: HTTPHeaderDict

    def __init__(self, headers: HTTPHeaderDict) -> None:
        self._headers = headers

    def __len__(self) -> int:
        return self._headers._line_count()

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return self._headers.iteritems()

    def __contains__(self, item: object) -> bool:
        if isinstance(item, tuple) and len(item) == 2:
            name, value = item
            if isinstance(name, str) and isinstance(value, str):
                return self._headers._has_value_for_header(name, value)
        return False


class HTTPHeaderDict(MutableMapping[str, str]):
    """A case-insensitive ``dict`` of HTTP header fields that keeps repeated fields.

    :param headers: Initial fields: another header dict (copied), a mapping, an iterable of
        ``(name, value)`` pairs, or an object with ``keys()`` and ``__getitem__``. Repeated names
        are kept, as by :meth:`add`.
    :param kwargs: More fields, added after ``headers``.

    Names compare case-insensitively and iterate in the case first seen. ``d[name]`` returns all
    values joined with ``", "``; ``d[name] = value`` replaces every earlier value; :meth:`add`
    appends one; :meth:`getlist` returns them separately. ``bytes`` names are decoded as
    Latin-1 wherever a name is accepted.

    >>> headers = HTTPHeaderDict()
    >>> headers.add("Set-Cookie", "a=1")
    >>> headers.add("set-cookie", "b=2")
    >>> headers["SET-COOKIE"]
    'a=1, b=2'
    >>> list(headers.items())
    [('Set-Cookie', 'a=1'), ('Set-Cookie', 'b=2')]
    """

    #: Lower-cased name -> ``[name as first seen, value, value, ...]``; never a shorter list.
    _container: dict[str, list[str]]

    # Mutable, hence unhashable (defining __eq__ implies this; spelt out for readers and linters).
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, headers: ValidHTTPHeaderSource | None = None, **kwargs: str) -> None:
        if isinstance(headers, HTTPHeaderDict):
            self._container = {name: line.copy() for name, line in headers._container.items()}
        else:
            self._container = {}
            if headers is not None:
                self.extend(headers)
        if kwargs:
            self.extend(kwargs)

    @classmethod
    def _from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Self:
        """Build a header dict from parsed ``(name, value)`` string pairs in one pass.

        Repeated names are kept as separate values, exactly as a loop of :meth:`add` would, but
        without its per-call overhead. Contract: names are ``str`` (no ``bytes`` decoding here).
        ``__init__`` is not run, so subclasses that need it should use the constructor.
        """
        container: dict[str, list[str]] = {}
        setdefault = container.setdefault
        for name, value in pairs:
            line = [name, value]
            existing = setdefault(name.lower(), line)
            if existing is not line:
                existing.append(value)
        headers = cls.__new__(cls)
        headers._container = container
        return headers

    @classmethod
    def _from_storage(cls, container: dict[str, list[str]]) -> Self:
        """A header dict that takes ``container`` as its storage (not copied).

        Contract: ``container`` maps each lower-cased name to ``[name, value, ...]``, as
        :meth:`_from_pairs` builds it; the caller hands it over and keeps no reference.
        """
        headers = cls.__new__(cls)
        headers._container = container
        return headers

    def __setitem__(self, key: str, val: str) -> None:
        if type(key) is not str:
            key = _header_name(key)
        self._container[key.lower()] = [key, val]

    def __getitem__(self, key: str) -> str:
        if type(key) is not str:
            key = _header_name(key)
        line = self._container[key.lower()]
        if len(line) == 2:
            return line[1]
        return ", ".join(line[1:])

    @typing.overload
    def get(self, key: str) -> str | None: ...

    @typing.overload
    def get(self, key: str, default: str | _DT) -> str | _DT: ...

    def get(self, key: str, default: str | _DT | None = None) -> str | _DT | None:
        """Return the joined values of ``key``, or ``default`` when it is absent."""
        if type(key) is not str:
            key = _header_name(key)
        line = self._container.get(key.lower())
        if line is None:
            return default
        if len(line) == 2:
            return line[1]
        return ", ".join(line[1:])

    def __delitem__(self, key: str) -> None:
        if type(key) is not str:
            key = _header_name(key)
        del self._container[key.lower()]

    def __contains__(self, key: object) -> bool:
        if isinstance(key, bytes):
            key = key.decode("latin-1")
        if isinstance(key, str):
            return key.lower() in self._container
        return False

    def setdefault(self, key: str, default: str = "") -> str:
        """Return ``self[key]``, first setting it to ``default`` if it is absent."""
        try:
            return self[key]
        except KeyError:
            self[key] = default
            return default

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HTTPHeaderDict):
            source = ensure_can_construct_http_header_dict(other)
            if source is None:
                return False
            other = type(self)(source)
        return self._merged_by_lower_name() == other._merged_by_lower_name()

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __len__(self) -> int:
        return len(self._container)

    def __iter__(self) -> Iterator[str]:
        return map(_first, self._container.values())

    def discard(self, key: str) -> None:
        """Remove ``key`` and all its values if present; do nothing otherwise."""
        if type(key) is not str:
            key = _header_name(key)
        self._container.pop(key.lower(), None)

    def add(self, key: str, val: str, *, combine: bool = False) -> None:
        """Add one value for ``key``, keeping any values it already has.

        With ``combine=True`` the value is appended to the last existing value with ``", "``
        instead of becoming a separate header line. A new name is simply added either way.
        """
        if type(key) is not str:
            key = _header_name(key)
        line = [key, val]
        existing = self._container.setdefault(key.lower(), line)
        if existing is not line:
            if combine:
                existing[-1] = existing[-1] + ", " + val
            else:
                existing.append(val)

    def extend(self, *args: ValidHTTPHeaderSource, **kwargs: str) -> None:
        """Add every field of one header source and of ``kwargs``, keeping existing values.

        The source may be anything the constructor accepts. Unlike ``update()``, nothing is
        overwritten: each field goes through :meth:`add`.
        """
        if len(args) > 1:
            raise TypeError(f"extend() takes at most 1 positional arguments ({len(args)} given)")
        if args:
            other = args[0]
            if isinstance(other, HTTPHeaderDict):
                self._extend_lines(other)
            elif isinstance(other, Mapping):
                self._add_pairs(other.items())
            elif isinstance(other, Iterable):
                self._add_pairs(other)
            elif hasattr(other, "keys") and hasattr(other, "__getitem__"):
                # Not a Mapping: only keys() is promised, not iteration.
                self._add_pairs((key, other[key]) for key in other.keys())  # noqa: SIM118
        if kwargs:
            self._add_pairs(kwargs.items())

    def _add_pairs(self, pairs: Iterable[tuple[str, str]]) -> None:
        """``add()`` each pair, inlined for speed (``bytes`` names still decoded)."""
        setdefault = self._container.setdefault
        for key, value in pairs:
            name = key if type(key) is str else _header_name(key)
            line = [name, value]
            existing = setdefault(name.lower(), line)
            if existing is not line:
                existing.append(value)

    def _extend_lines(self, other: HTTPHeaderDict) -> None:
        """Add every value of another header dict (which may be ``self``)."""
        container = self._container
        for name, line in other._container.items():
            existing = container.get(name)
            if existing is None:
                container[name] = line.copy()
            else:
                existing.extend(line[1:])  # the slice is taken first, so ``self`` is safe.

    @typing.overload
    def getlist(self, key: str) -> list[str]: ...

    @typing.overload
    def getlist(self, key: str, default: _DT) -> list[str] | _DT: ...

    def getlist(self, key: str, default: _Sentinel | _DT = _Sentinel.not_passed) -> list[str] | _DT:
        """Every value of ``key`` as a new list; ``[]`` (or ``default`` if given) when absent."""
        if type(key) is not str:
            key = _header_name(key)
        line = self._container.get(key.lower())
        if line is None:
            if default is _Sentinel.not_passed:
                return []
            return default
        return line[1:]

    # Names kept by http.client.HTTPMessage and http.cookiejar users.
    getheaders = getlist
    getallmatchingheaders = getlist
    iget = getlist
    get_all = getlist

    def _prepare_for_method_change(self) -> Self:
        """Drop the fields that describe a body, before a redirect turns the request into a GET.

        These are the content-specific fields of RFC 9110 section 15.4, plus
        ``Transfer-Encoding`` since no body will be framed. Returns ``self``.
        """
        for name in _CONTENT_SPECIFIC_HEADERS:
            self._container.pop(name, None)
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self.itermerged())})"

    def copy(self) -> Self:
        """An independent copy (its value lists are not shared with this one)."""
        clone = type(self)()
        clone._container = {name: line.copy() for name, line in self._container.items()}
        return clone

    def iteritems(self) -> Iterator[tuple[str, str]]:
        """Yield ``(name, value)`` for every header line, repeated names included."""
        for line in self._container.values():
            name = line[0]
            for value in line[1:]:
                yield name, value

    def itermerged(self) -> Iterator[tuple[str, str]]:
        """Yield ``(name, values joined with ", ")`` once per distinct name."""
        for line in self._container.values():
            yield line[0], ", ".join(line[1:])

    def items(self) -> HTTPHeaderDictItemView:  # type: ignore[override]
        """A set-like view with one ``(name, value)`` per header line (see the view class)."""
        return HTTPHeaderDictItemView(self)

    def _has_value_for_header(self, header_name: str, potential_value: str) -> bool:
        line = self._container.get(header_name.lower())
        return line is not None and potential_value in line[1:]

    def _line_count(self) -> int:
        """How many ``(name, value)`` lines :meth:`iteritems` yields."""
        return sum(map(len, self._container.values())) - len(self._container)

    def _merged_by_lower_name(self) -> dict[str, str]:
        return {name: ", ".join(line[1:]) for name, line in self._container.items()}

    def __ior__(self, other: object) -> HTTPHeaderDict:
        source = ensure_can_construct_http_header_dict(other)
        if source is None:
            return NotImplemented
        self.extend(source)
        return self

    def __or__(self, other: object) -> Self:
        source = ensure_can_construct_http_header_dict(other)
        if source is None:
            return NotImplemented
        result = self.copy()
        result.extend(source)
        return result

    def __ror__(self, other: object) -> Self:
        source = ensure_can_construct_http_header_dict(other)
        if source is None:
            return NotImplemented
        result = type(self)(source)
        result.extend(self)
        return result


#: Lower-cased names dropped by ``HTTPHeaderDict._prepare_for_method_change``.
_CONTENT_SPECIFIC_HEADERS = (
    "content-encoding",
    "content-language",
    "content-location",
    "content-type",
    "content-length",
    "digest",
    "last-modified",
    "transfer-encoding",
)
