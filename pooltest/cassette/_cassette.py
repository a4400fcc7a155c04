"""The Cassette: recorded interactions, which of them answer which request, and saving.

Which recorded interaction answers which request
================================================
Rule 1 — filter first. A live request is filtered (secrets redacted, see ``_filters``) before
anything else, so it is compared with recordings exactly as it would be stored.

Rule 2 — match by key. Each ``match_on`` comparison that can be expressed as a key (method,
scheme, host, port, path, query, headers, body, ...) contributes to a tuple; recordings are
indexed by that tuple when the cassette loads, so finding the candidates for a request is one
dictionary lookup whatever the cassette's size. A request's filtered form and key are
remembered by its wire form (see :meth:`Cassette.play_wire`), so keys must be pure functions of
the request; a body-less request whose key needs only its method and URI is keyed from its wire
form without being built at all. Comparisons without a key (custom callables) are then checked
on those candidates only.

Rule 3 — in order, once each. Among the candidates, the first one not yet played answers:
the n-th identical request gets the n-th recording. With ``allow_playback_repeats=True`` a
recording may answer again once all candidates have been played.

Rule 4 — the record mode decides what happens without a match:

=============== ================================= ========================================
mode            replays                           records
=============== ================================= ========================================
``none``        yes (missing file: error)         never: an unmatched request is an error
``once``        yes, if the file existed          only if the file did not exist
``new_episodes``yes                               requests that match nothing
``all``         never                             everything, replacing what it re-records
``rewrite``     never                             everything; the old file is discarded
=============== ================================= ========================================

Saving happens when the cassette is exited (or on :meth:`Cassette.save`), only if something
changed. It is atomic and merged under a file lock with what other processes saved meanwhile.
"""

from __future__ import annotations

import collections
import datetime as _dt
import functools
import io
import operator
import os
import threading
import time
import typing
from collections.abc import Callable, Hashable, Mapping, Sequence
from types import TracebackType
from typing import Any

from pooltest import _http11, _routing
from pooltest._base_connection import BaseHTTPConnection
from pooltest.matchers import (
    _KEYS_OF_NO_BODY,
    _KEYS_OF_QUERY_STRING,
    Comparison,
    Difference,
    as_comparison,
    explain,
)

from . import _format
from ._clock import Clock, FreezeSpec
from ._connection import (
    LiveHead,
    Wire,
    _recorded_response,
    _request_from_fields,
    _text_pairs,
    cassette_connection_class,
    request_of_wire,
)
from ._errors import CassetteNotFoundError, UnmatchedRequestError
from ._filters import Filters, FilterSpec, RequestHook, ResponseHook, _filter_query
from ._model import Interaction, Response, new_interaction, utc_now
from ._request import Request, _UriParts, split_uri

if typing.TYPE_CHECKING:
    from pooltest.poolmanager import PoolManager

__all__ = ["DEFAULT_MATCH_ON", "RECORD_MODES", "Cassette", "use_cassette"]

RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")
_REPLAYING_MODES = frozenset({"none", "once", "new_episodes"})
# Modes that record whatever no recording answers ("once" does only into a new cassette).
_ALWAYS_RECORDING_MODES = frozenset({"new_episodes", "all", "rewrite"})
DEFAULT_MATCH_ON = ("method", "scheme", "host", "port", "path", "query", "body")

_F = typing.TypeVar("_F", bound=Callable[..., Any])
# Where a live request keeps its filtered form (in Request._memo), so play() and record() filter
# it once.
_FILTERED = "pooltest.cassette.filtered"
# Distinct wire forms whose filtered request and key a cassette remembers (cleared when full).
_MATCHING_MEMO_SIZE = 4096
# Requests with bodies up to this size are remembered by their wire form (see play_wire).
_REMEMBERED_BODY_SIZE = 64 * 1024
# A live exchange noted by record_wire: its filtered request if built already (else None), its
# wire form, the response head and body as read, and the instant it was recorded.
# A live exchange noted by record_wire: the request's filtered form (when the matching memo
# held it), its wire form, the response head and body, and when it completed (a pinned instant,
# or a POSIX timestamp made into a datetime when the exchange is built).
_Pending = tuple["Request | None", Wire, LiveHead, bytes, "_dt.datetime | float"]


class Cassette:
    """Recorded interactions for one file, and the seam that replays or records them.

    Use it through :func:`use_cassette`. While it is active, every pooltest pool without an
    explicit connection factory gets its connections from :meth:`connection_factory`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        record_mode: str = "once",
        match_on: Sequence[Any] = DEFAULT_MATCH_ON,
        *,
        scope: str = "process",
        allow_playback_repeats: bool = False,
        drop_unused: bool = False,
        decode_compressed_response: bool = False,
        redact_defaults: bool = True,
        filter_headers: FilterSpec = (),
        filter_query_parameters: FilterSpec = (),
        filter_post_data_parameters: FilterSpec = (),
        filter_sensitive_data: Mapping[str, str] | None = None,
        before_record_request: RequestHook | None = None,
        before_record_response: ResponseHook | None = None,
        freeze_time: FreezeSpec = False,
    ) -> None:
        if record_mode not in RECORD_MODES:
            raise ValueError(
                f"record_mode must be one of {', '.join(RECORD_MODES)}, not {record_mode!r}"
            )
        self.path = os.fspath(path)
        self.record_mode = record_mode
        self.match_on = tuple(match_on)
        self.scope = scope
        self.allow_playback_repeats = allow_playback_repeats
        self.drop_unused = drop_unused
        self.decode_compressed_response = decode_compressed_response
        self.filters = Filters.build(
            redact_defaults=redact_defaults,
            filter_headers=filter_headers,
            filter_query_parameters=filter_query_parameters,
            filter_post_data_parameters=filter_post_data_parameters,
            filter_sensitive_data=filter_sensitive_data,
            before_record_request=before_record_request,
            before_record_response=before_record_response,
        )
        self._comparisons = [as_comparison(m) for m in self.match_on]
        self._keyers = [c._keyer for c in self._comparisons if c._keyer is not None]
        self._key_of = _key_function(self._keyers)
        self._checks = [c for c in self._comparisons if not c.indexable]
        # The key of an unbuilt request (see play_wire), when the comparisons and filters allow.
        self._bare_key = (
            None if self._checks or self.filters.sensitive else _bare_key_function(self._keyers)
        )
        # wire form of a request -> (filtered request, index key); see play_wire()
        self._matching_memo: dict[Hashable, tuple[Request, tuple[Hashable, ...] | None]] = {}
        self._clock = Clock(freeze_time)
        self._lock = threading.RLock()
        self._activation: _routing.Activation | None = None
        self._loaded_from_disk = False
        # What ``interactions`` and ``play_counts`` return (see _keep_later for what is pending).
        self._interactions: list[Interaction] = []
        self._play_counts: list[int] = []
        # What ``requests`` returns; an entry past _built may still be the wire form (a tuple)
        # of an unbuilt request (see play_wire). Appending is atomic: it needs no lock.
        self._requests: list[Request | Wire] = []
        self._built = 0
        self._recorded: list[Interaction] = []
        # Live exchanges kept without building them yet (see record_wire), in order.
        self._pending: collections.deque[_Pending] = collections.deque()
        self._index: dict[tuple[Hashable, ...], list[int]] = {}
        self._cursor: dict[tuple[Hashable, ...], int] = {}
        self._wire_cache: dict[int, bytes] = {}
        self._dirty = False

    def __repr__(self) -> str:
        pending = len(self._pending)  # kept exchanges count as what they will be (played once)
        played = sum(1 for count in self._play_counts if count) + pending
        return (
            f"<Cassette {self.path!r} mode={self.record_mode} "
            f"interactions={len(self._interactions) + pending} played={played} "
            f"recorded={len(self._recorded) + pending}>"
        )

    @property
    def interactions(self) -> list[Interaction]:
        """The recorded interactions: those loaded, then those this run recorded."""
        self._build_pending()
        return self._interactions

    @property
    def play_counts(self) -> list[int]:
        """How often each of :attr:`interactions` was played (1 for those recorded)."""
        self._build_pending()
        return self._play_counts

    @property
    def requests(self) -> list[Request]:
        """Every request this run sent through the cassette so far, filtered, in order (a new
        list on each read, as vcrpy's)."""
        with self._lock:
            sent = self._requests
            end = len(sent)  # a request another thread appends meanwhile is built next time
            for position in range(self._built, end):
                entry = sent[position]
                if type(entry) is tuple:
                    sent[position] = self.filters.request(request_of_wire(entry, None))
            self._built = end
            return typing.cast("list[Request]", sent[:end])

    # -- loading ----------------------------------------------------------------------------

    def load(self) -> None:
        """Read the file (as the record mode requires) and index its interactions."""
        with self._lock:
            exists = os.path.exists(self.path)
            if self.record_mode == "none" and not exists:
                raise CassetteNotFoundError(
                    self.path,
                    "Record it with record_mode='once' (pytest: --record-mode=once).",
                )
            self._build_pending()  # what this run recorded stays recorded
            interactions: list[Interaction] = []
            if exists and self.record_mode != "rewrite":
                interactions = _format.load(self.path)
                self._loaded_from_disk = True
            self._set_interactions(interactions)

    def _set_interactions(self, interactions: list[Interaction]) -> None:
        self._interactions = list(interactions)
        self._play_counts = [0] * len(self._interactions)
        self._index = {}
        self._cursor = {}
        self._wire_cache = {}
        self._matching_memo = {}  # it may hold "no key" answers given while the index was empty
        for position, interaction in enumerate(self._interactions):
            self._index.setdefault(self._key(interaction.request), []).append(position)

    def _key(self, request: Request) -> tuple[Hashable, ...]:
        return self._key_of(request)

    # -- what the record mode allows --------------------------------------------------------

    @property
    def _may_replay(self) -> bool:
        return self.record_mode in _REPLAYING_MODES

    @property
    def _may_record(self) -> bool:
        mode = self.record_mode
        if mode == "once":
            return not self._loaded_from_disk
        return mode in _ALWAYS_RECORDING_MODES

    # -- the seam ---------------------------------------------------------------------------

    def connection_factory(
        self,
        scheme: str,
        host: str,
        port: int | None,
        connection_cls: type[BaseHTTPConnection],
        conn_kw: dict[str, Any],
    ) -> BaseHTTPConnection:
        """Build a connection that replays from, or records into, this cassette."""
        cls = cassette_connection_class(connection_cls)
        conn = cls(host=host, port=port, **conn_kw)
        conn._player = self
        default = 443 if scheme == "https" else 80
        authority = f"[{host}]" if ":" in host else host
        if port is not None and port != default:
            authority = f"{authority}:{port}"
        conn._origin = f"{scheme}://{authority}"
        conn._origin_parts = split_uri(conn._origin)
        conn._head_listener = conn._record_head
        return typing.cast(BaseHTTPConnection, conn)

    def pool_manager(self, num_pools: int = 10, **kw: Any) -> PoolManager:
        """A PoolManager bound to this cassette, whether or not the cassette is active."""
        from pooltest.poolmanager import PoolManager

        return PoolManager(num_pools, connection_factory=self.connection_factory, **kw)

    def play(self, request: Request) -> Interaction | None:
        """Find the recording answering ``request`` (see the module docstring).

        Returns None when the request should go live and be recorded; raises
        :class:`UnmatchedRequestError` when the record mode forbids that.
        """
        filtered = self._filtered(request)
        return self._play(filtered, self._key(filtered))

    def play_wire(self, wire: Wire, origin_parts: _UriParts | None = None) -> Interaction | None:
        """:meth:`play` for the request a connection sends as ``wire`` (origin, method,
        target, header fields, body), built (and validated, see
        :func:`~._connection.request_of_wire`) only when needed. ``origin_parts`` (the
        :func:`split_uri` of the origin) lets a request be keyed without being built.

        Straight to recording: when no recording can answer (the index is empty, or the mode
        never replays) and the mode records, the request is validated and goes live unbuilt.

        Unbuilt: a request without a body whose key depends on its method and URI alone (see
        :func:`_bare_key_function`), and whose URI the filters leave as it is, is validated,
        keyed from its wire form and, if a recording answers it, played without building it:
        ``requests`` builds and filters it when read. Anything else, a miss included, takes the
        general path below.

        General: filtering and keying are pure functions of the wire form, so they run once per
        distinct request (body up to 64 KiB), not once per replay: a repeated request costs
        one dictionary lookup before the index lookup of :meth:`_find`.
        """
        mode = self.record_mode
        if (not self._index or mode not in _REPLAYING_MODES) and (
            mode in _ALWAYS_RECORDING_MODES or (mode == "once" and not self._loaded_from_disk)
        ):  # _may_record, inlined: this runs for every request recorded
            self._go_live(wire)
            return None
        body = wire[4]
        if not body:
            if origin_parts is not None and self._bare_key is not None:
                key = self._unbuilt_key(wire, origin_parts)
                if key is not None:
                    interaction = self._play_unbuilt(key, wire)
                    if interaction is not None:
                        return interaction
        elif len(body) > _REMEMBERED_BODY_SIZE:
            return self.play(request_of_wire(wire, origin_parts))
        memo = self._matching_memo.get(wire)
        if memo is None:
            # Nothing to look up in an empty index (a cassette being recorded afresh): no key,
            # and no split URI to build the request with (it splits its URI if ever asked).
            indexed = bool(self._index)
            request = request_of_wire(wire, origin_parts if indexed else None)
            # A new request, so there is no filtered form in its memo to reuse.
            filtered = self.filters.request(request)
            memo = (filtered, self._key_of(filtered) if indexed else None)
            if len(self._matching_memo) >= _MATCHING_MEMO_SIZE:
                self._matching_memo.clear()
            self._matching_memo[wire] = memo
        return self._play(*memo)

    def _go_live(self, wire: Wire) -> None:
        """Let ``wire`` go live unbuilt (no recording could answer it, and it will be recorded),
        after validating it as building it does: ``requests`` builds it when read."""
        _origin, method, target, fields, _body = wire
        _http11.check_fields(method, target, fields)  # may raise, as request_of_wire would
        self._requests.append(wire)

    def _unbuilt_key(self, wire: Wire, origin_parts: _UriParts) -> tuple[Hashable, ...] | None:
        """The index key of the (body-less) request ``wire`` computed without building it,
        after validating it as building it does; None if it cannot be (see :meth:`play_wire`)."""
        bare_key = self._bare_key
        _origin, method, target, fields, _body = wire
        if bare_key is None or target[:1] != "/" or not self._index:
            return None
        # As the parts of a Request with an origin-form target are split (_request.with_target).
        path, _, query_string = target.partition("#")[0].partition("?")
        if query_string:
            rules = self.filters.query
            if rules and _filter_query(target, rules) is not target:
                return None  # the filters would change the URI
        _http11.check_fields(method, target, fields)  # may raise, as request_of_wire would
        scheme, host, port = origin_parts[0], origin_parts[1], origin_parts[2]
        return bare_key((method.upper(), scheme, host, port, path, query_string))

    def _play_unbuilt(self, key: tuple[Hashable, ...], wire: Wire) -> Interaction | None:
        """The recording answering the unbuilt request ``wire``, whose index key is ``key``:
        ``requests`` builds it when read. None if no recording answers it."""
        with self._lock:
            if self.record_mode not in _REPLAYING_MODES:
                return None
            position = self._find(None, key)
            if position is None:
                return None
            self._requests.append(wire)
            return self._played(position)

    def _play(self, filtered: Request, key: tuple[Hashable, ...] | None) -> Interaction | None:
        with self._lock:
            self._requests.append(filtered)
            if self.record_mode in _REPLAYING_MODES:  # _may_replay, inlined: runs per request
                position = self._find(filtered, key)
                if position is not None:
                    return self._played(position)
            if self._may_record:
                return None
            raise UnmatchedRequestError(self._explain_miss(filtered))

    def _played(self, position: int) -> Interaction:
        """Count a replay of the recording at ``position`` (under the lock) and return it."""
        self._play_counts[position] += 1
        interaction = self._interactions[position]
        if self._clock.follows_replays:
            self._clock.replaying(interaction.recorded_at)
        return interaction

    def _filtered(self, request: Request) -> Request:
        """``request`` through this cassette's filters, computed once per request object."""
        memo = request._memo
        filtered: Request | None = memo.get(_FILTERED)
        if filtered is None:
            filtered = memo[_FILTERED] = self.filters.request(request)
        return filtered

    def _find(self, request: Request | None, key: tuple[Hashable, ...] | None) -> int | None:
        """The position of the recording answering the request with index key ``key`` (Rule
        3); ``request`` is needed only for checks without a key (it is None only without)."""
        if key is None:
            return None
        candidates = self._index.get(key)
        if not candidates:
            return None
        checks = self._checks
        play_counts = self._play_counts
        if len(candidates) == 1 and not checks and not play_counts[candidates[0]]:
            return candidates[0]  # the usual answer, without the cursor (which would stay 0)
        start = self._cursor.get(key, 0)
        for offset in range(start, len(candidates)):
            position = candidates[offset]
            if play_counts[position]:
                if offset == start:
                    start += 1
                continue
            if not checks or self._passes(checks, typing.cast(Request, request), position):
                self._cursor[key] = start
                return position
        self._cursor[key] = start
        if self.allow_playback_repeats:
            for position in candidates:
                if not checks or self._passes(checks, typing.cast(Request, request), position):
                    return position
        return None

    def _passes(self, checks: list[Comparison], request: Request, position: int) -> bool:
        recorded = self._interactions[position].request
        return all(not c.differences(request, recorded) for c in checks)

    def response_wire(self, interaction: Interaction) -> bytes:
        """The wire bytes of a recorded response, placeholders revealed (cached)."""
        cached = self._wire_cache.get(id(interaction))
        if cached is None:
            response = interaction.response
            if self.filters.sensitive:
                response = self.filters.replayed_response(response)
            cached = response.replay_wire(interaction.request.method)
            self._wire_cache[id(interaction)] = cached
        return cached

    def record(self, request: Request, response: Response) -> None:
        """Keep a live exchange (filtered, hooks applied) as a new interaction."""
        self._keep(self._filtered(request), response)

    def record_wire(
        self, wire: Wire, origin_parts: _UriParts | None, head: LiveHead, body: bytes
    ) -> None:
        """Keep a live exchange whose request :meth:`play_wire` saw as ``wire``, and whose
        response the live parser read as ``head`` (with its framing) and ``body`` (as received,
        still framed). Its filtered request comes from the matching memo when it holds it.

        Without ``before_record_*`` hooks (which must see each exchange as it happens) the
        exchange is only noted here, with its instant, and built (request filtered, response
        unframed, interaction made) when the cassette's interactions are next read or saved:
        in one batch, at a fraction of the cost per exchange.
        """
        filtered = None
        if self._matching_memo and (wire[4] is None or len(wire[4]) <= _REMEMBERED_BODY_SIZE):
            memo = self._matching_memo.get(wire)
            filtered = None if memo is None else memo[0]
        filters = self.filters
        if filters.before_record_request is None and filters.before_record_response is None:
            instant = self._clock.fixed_instant or time.time()  # a datetime when built
            self._pending.append((filtered, wire, head, body, instant))  # atomic
            return
        response = _recorded_response(head, body)
        if response is not None:
            if filtered is None:
                filtered = self._filtered(request_of_wire(wire, origin_parts))
            self._keep(filtered, response)

    def _build_pending(self) -> None:
        """Build the exchanges :meth:`record_wire` noted (see there) into interactions, as
        :meth:`_keep` would have kept them then (there are no ``before_record_*`` hooks)."""
        if not self._pending:
            return
        filters = self.filters
        with self._lock:
            pending = self._pending
            kept: list[Interaction] = []
            while pending:  # popleft is atomic: an exchange noted meanwhile is taken too
                built, wire, head, body, instant = pending.popleft()
                response = _recorded_response(head, body)
                if response is None:
                    continue  # the body did not complete: nothing to keep
                # The request was checked when it went live: it is built without checking.
                origin, method, target, fields, payload = wire
                filtered = built or filters.request(
                    _request_from_fields(method, target, fields, payload or b"", origin)
                )
                if self.decode_compressed_response:
                    response = _decoded(response)
                stored = filters.recordable_response(response)  # secrets hidden; no hook
                recorded_at = (
                    _dt.datetime.fromtimestamp(instant, _dt.timezone.utc)
                    if type(instant) is float
                    else typing.cast(_dt.datetime, instant)
                )  # what utc_now() gave then
                kept.append(new_interaction(filtered, typing.cast(Response, stored), recorded_at))
            if kept:
                self._recorded.extend(kept)
                self._interactions.extend(kept)
                self._play_counts.extend([1] * len(kept))
                self._dirty = True

    def _noted_fields(self) -> list[_format.Fields] | None:
        """What :meth:`_build_pending` would keep of the noted exchanges, as the writer's fields
        and without building them (saving a recording needs no objects); or None when one of
        them needs building to know (filters that change it, a chunked or decoded body, a
        filtered form from the matching memo). The exchanges stay noted."""
        filters = self.filters
        if self.decode_compressed_response or filters.sensitive:
            return None
        fields_of: list[_format.Fields] = []
        # A connection sends one tuple of default fields again and again: one answer for it.
        last_fields: object = None
        last_raw: tuple[tuple[str, str], ...] = ()
        for built, wire, head, body, instant in list(self._pending):  # a C-level snapshot
            version, status, reason, pairs, chunked, length = head
            origin, method, target, fields, payload = wire
            if built is not None or chunked or target[:1] != "/":
                return None
            if length is not None and len(body) != length:
                continue  # the body did not complete: nothing to keep (_recorded_response)
            uri = origin + target  # as _request_from_fields makes it for an origin-form target
            request_body = payload or b""
            if fields is last_fields and not request_body and "?" not in uri:
                raw = last_raw  # leave_alone said yes to these fields with no query or body
            else:
                raw = _text_pairs(fields)
                if not filters.leave_alone(uri, raw, request_body):
                    return None
                if not request_body and "?" not in uri:
                    last_fields, last_raw = fields, raw
            fields_of.append(
                (
                    method.upper(),
                    uri,
                    raw,
                    request_body,
                    status,
                    reason,
                    pairs,
                    body,
                    version,
                    instant,
                )
            )
        return fields_of

    def _keep(
        self, filtered: Request, response: Response, recorded_at: _dt.datetime | None = None
    ) -> None:
        stored_request = self.filters.recordable_request(filtered)
        if stored_request is None:
            return
        if self.decode_compressed_response:
            response = _decoded(response)
        stored_response = self.filters.recordable_response(response)
        if stored_response is None:
            return
        if recorded_at is None:
            recorded_at = self._clock.fixed_instant or utc_now()
        interaction = Interaction(stored_request, stored_response, recorded_at)
        with self._lock:
            self._recorded.append(interaction)
            self._interactions.append(interaction)
            self._play_counts.append(1)
            self._dirty = True

    # -- explaining a miss ------------------------------------------------------------------

    def _explain_miss(self, request: Request) -> str:
        lines = [
            f"No recorded interaction matches {request.method} {request.uri}",
            f"  cassette:   {self.path}",
            f"  record mode: {self.record_mode}",
            f"  match_on:   {', '.join(_name(m) for m in self.match_on)}",
        ]
        ranked = self._closest(request)
        if not ranked:
            lines.append("  the cassette holds no interactions.")
        for position, differences in ranked[:3]:
            recorded = self.interactions[position].request
            played = self.play_counts[position]
            status = f" (already played {played}x)" if played else ""
            lines.append(f"  closest #{position}: {recorded.method} {recorded.uri}{status}")
            if differences:
                lines.extend("    " + line for line in explain(differences).splitlines())
            elif played:
                lines.append(
                    "    it matches but was already played; pass allow_playback_repeats=True "
                    "or record the repeat"
                )
        lines.append(_fix_hint(self.record_mode))
        return "\n".join(lines)

    def _closest(self, request: Request) -> list[tuple[int, list[Difference]]]:
        scored = []
        for position, interaction in enumerate(self.interactions):
            differences: list[Difference] = []
            for comparison in self._comparisons:
                differences.extend(comparison.differences(request, interaction.request))
            scored.append((len(differences), position, differences))
        scored.sort(key=lambda item: (item[0], item[1]))
        return [(position, differences) for _, position, differences in scored]

    # -- state for tests --------------------------------------------------------------------

    @property
    def all_played(self) -> bool:
        """Whether every interaction has been played (or recorded) at least once."""
        return all(self.play_counts)

    @property
    def unplayed(self) -> list[Interaction]:
        """The interactions no request has used yet."""
        return [
            i for i, count in zip(self.interactions, self.play_counts, strict=True) if not count
        ]

    def assert_all_played(self) -> None:
        """Fail, listing them, if some interactions were never played."""
        missing = self.unplayed
        if missing:
            listed = "\n".join(f"  {i.request.method} {i.request.uri}" for i in missing)
            raise AssertionError(
                f"{len(missing)} recorded interaction(s) of {self.path} were not played:\n{listed}"
            )

    def assert_requested(
        self, method: str, url: str, *matchers: Any, count: int | None = None
    ) -> list[Request]:
        """Assert this run sent ``method url`` (``count`` times if given), matching ``matchers``.

        ``url`` may omit the query string; then any query matches. Returns the matching requests.
        """
        method = method.upper()
        same_target = [r for r in self.requests if r.method == method and _same_url(r.uri, url)]
        matching = [r for r in same_target if all(m(r)[0] for m in matchers)]
        if (count is None and matching) or (count is not None and len(matching) == count):
            return matching
        expected = "at least once" if count is None else f"{count} time(s)"
        lines = [f"{method} {url} was requested {len(matching)} time(s), expected {expected}."]
        for request in same_target:
            for matcher in matchers:
                ok, reason = matcher(request)
                if not ok:
                    lines.append(f"  {request.method} {request.uri}: {reason}")
        if not same_target:
            sent = "\n".join(f"  {r.method} {r.uri}" for r in self.requests) or "  (nothing)"
            lines.append(f"Requests sent through {self.path}:\n{sent}")
        raise AssertionError("\n".join(lines))

    # -- saving -----------------------------------------------------------------------------

    def save(self) -> None:
        """Write the cassette if this run changed it (atomic, merged under a file lock)."""
        with self._lock:
            # Saved as fields, unbuilt, unless the merge must key them or knows what was played.
            simple = self.record_mode != "all" and not self.drop_unused
            noted = self._noted_fields() if simple else None
            if noted is None:
                self._build_pending()
                noted = []
            if not (noted or self._needs_save()):
                return
            recorded: list[_format.Saved] = [*self._recorded, *noted]
            unused = set(self.unplayed) if self.drop_unused else set()
            rewrite = self.record_mode == "rewrite"
            replaced_keys = (
                {self._key(i.request) for i in self._recorded}  # all built ("all" builds)
                if self.record_mode == "all"
                else set()
            )

        def merge(on_disk: list[Interaction], ours: list[_format.Saved]) -> list[_format.Saved]:
            if rewrite:
                return ours
            # Sets, not lists: a merge must stay linear in the size of the cassette.
            kept = [
                i
                for i in on_disk
                if i not in unused
                and (not replaced_keys or self._key(i.request) not in replaced_keys)
            ]
            if not kept:
                return ours  # nothing on disk to deduplicate against: skip hashing ours
            known = set(kept)
            return [*kept, *[i for i in map(_format.as_interaction, ours) if i not in known]]

        _format.save_merged(self.path, recorded, merge)
        with self._lock:
            self._dirty = False

    def _needs_save(self) -> bool:
        if self._dirty or (self.record_mode == "rewrite" and os.path.exists(self.path)):
            return True  # rewrite discards the old file even when nothing was recorded
        return self.drop_unused and self._loaded_from_disk and not self.all_played

    # -- activation -------------------------------------------------------------------------

    def __enter__(self) -> Cassette:
        self.load()
        self._clock.start(self._interactions[0].recorded_at if self._interactions else None)
        self._activation = _routing.activate(self.connection_factory, self.scope)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        if self._activation is not None:
            _routing.deactivate(self._activation)
            self._activation = None
        self._clock.stop()
        self.save()


class use_cassette:
    """Use a cassette: ``with use_cassette(path) as cassette:`` or ``@use_cassette(path)``.

    Keyword arguments are :class:`Cassette`'s. As a context manager it yields the
    :class:`Cassette`; as a decorator, each call of the function gets a fresh one.
    """

    def __init__(
        self, path: str | os.PathLike[str], record_mode: str = "once", **options: Any
    ) -> None:
        self._args = (path, record_mode)
        self._options = options
        self._stack: list[Cassette] = []

    def __enter__(self) -> Cassette:
        cassette = Cassette(*self._args, **self._options)
        cassette.__enter__()
        self._stack.append(cassette)
        return cassette

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self._stack.pop().__exit__(exc_type, exc_val, exc_tb)

    def __call__(self, function: _F) -> _F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with use_cassette(*self._args, **self._options):
                return function(*args, **kwargs)

        return typing.cast(_F, wrapper)


def _decoded(response: Response) -> Response:
    """``response`` with its body content-decoded and Content-Encoding/Length fixed.

    A body that does not decode as its Content-Encoding says is kept as received.
    """
    from pooltest._collections import HTTPHeaderDict
    from pooltest.exceptions import DecodeError
    from pooltest.response import HTTPResponse

    encoding = response.header("content-encoding")
    if not encoding or encoding.strip().lower() == "identity":
        return response
    decoder = HTTPResponse(
        body=io.BytesIO(response.body),
        headers=HTTPHeaderDict._from_pairs(response.headers),
        status=response.status,
        preload_content=False,
        decode_content=True,
    )
    try:
        body = decoder.read(decode_content=True)
    except DecodeError:
        return response
    headers = []
    for name, value in response.headers:
        lowered = name.lower()
        if lowered == "content-encoding":
            continue
        headers.append((name, str(len(body)) if lowered == "content-length" else value))
    return Response(response.status, response.reason, tuple(headers), body, response.version)


def _name(matcher: Any) -> str:
    if isinstance(matcher, str):
        return matcher
    return getattr(matcher, "__name__", None) or repr(matcher)


def _same_url(sent: str, wanted: str) -> bool:
    if "?" in wanted:
        return sent == wanted
    return sent.split("?", 1)[0] == wanted


def _fix_hint(record_mode: str) -> str:
    if record_mode in ("none", "once"):
        return (
            "  To record it, use record_mode='new_episodes' (pytest: --record-mode=new_episodes); "
            "to match more loosely, change match_on."
        )
    return "  Change match_on if the request should have matched."


# Where the attribute views a key may read are found in ``(request.method, *split URI)``, for a
# plain Request (whose views are exactly those values).
_VIEW_INDEX = {"method": 0, "scheme": 1, "host": 2, "port": 3, "path": 5}


def _key_function(
    keyers: Sequence[Callable[[Request], Hashable]],
) -> Callable[[Request], tuple[Hashable, ...]]:
    """The index key of a request: every keyer's value (a key is computed once per distinct
    request, so memoizing keyers are called through their plain function). The keyers that
    just read one attribute of the request (``method``, ``host``, ...) are read together: for a
    plain :class:`Request` by one :func:`operator.itemgetter` over its method and split URI,
    otherwise by one :func:`operator.attrgetter` giving the same value.

    The key's shape only has to be the same for recordings and live requests, which it is.
    """
    views, others = _key_plan(keyers)
    return _assemble(_views_reader(views) if views else None, others)


# Where the views a key may read are found in a bare request (see _bare_key_function).
_BARE_INDEX = {"method": 0, "scheme": 1, "host": 2, "port": 3, "path": 4}
# (method, scheme, host, port, path, query string) of a request, for _bare_key_function.
_Bare = tuple[str, str, str, int, str, str]


def _bare_key_function(
    keyers: Sequence[Callable[[Request], Hashable]],
) -> Callable[[_Bare], tuple[Hashable, ...]] | None:
    """The key :func:`_key_function` gives a plain :class:`Request` with an empty body, computed
    from its bare form (upper-case method, scheme, host, port, path, query string), whatever
    its headers; None unless every keyer is a view, a key of the query string alone or a key
    of the (empty) body (``matchers._KEYS_OF_QUERY_STRING`` and ``_KEYS_OF_NO_BODY``). Same
    views in the same order, same shape: views picked by one itemgetter (a single view alone,
    several as a tuple), as _views_reader does.
    """
    views, others = _key_plan(keyers)
    if not all(view in _BARE_INDEX for view in views):
        return None
    of_bare: list[Callable[[_Bare], Hashable]] = []
    for keyer in others:
        if keyer in _KEYS_OF_NO_BODY:
            of_bare.append(_constant(_KEYS_OF_NO_BODY[keyer]))
        elif keyer in _KEYS_OF_QUERY_STRING:
            of_bare.append(_of_bare_query(_KEYS_OF_QUERY_STRING[keyer]))
        else:
            return None
    read = operator.itemgetter(*[_BARE_INDEX[view] for view in views]) if views else None
    if read is not None and len(others) == 2 and others[1] in _KEYS_OF_NO_BODY:
        # The default match_on's shape (views, query, body), without a call for the constant.
        first, body_key = of_bare[0], _KEYS_OF_NO_BODY[others[1]]
        return lambda bare: (read(bare), first(bare), body_key)
    return _assemble(read, of_bare)


def _of_bare_query(key: Callable[[str], Hashable]) -> Callable[[_Bare], Hashable]:
    return lambda bare: key(bare[5])


def _constant(value: Hashable) -> Callable[[_Bare], Hashable]:
    return lambda _bare: value


def _key_plan(
    keyers: Sequence[Callable[[Request], Hashable]],
) -> tuple[list[str], list[Callable[[Request], Hashable]]]:
    """The views the keyers read (in order) and the other keyers, as plain functions."""
    views = [getattr(keyer, "_pooltest_view", None) for keyer in keyers]
    others = [
        getattr(keyer, "_pooltest_compute", keyer)
        for keyer, view in zip(keyers, views, strict=True)
        if view is None
    ]
    return [view for view in views if view is not None], others


_S = typing.TypeVar("_S")


def _assemble(
    read: Callable[[_S], Hashable] | None, others: Sequence[Callable[[_S], Hashable]]
) -> Callable[[_S], tuple[Hashable, ...]]:
    """A key function: the views ``read`` gives (if any), then each other keyer's value."""
    if read is None:
        return lambda subject: tuple([keyer(subject) for keyer in others])
    # Up to two other keyers (the default match_on has query and body) are called directly:
    # a comprehension costs more than the keyers themselves.
    if not others:
        return lambda subject: (read(subject),)
    if len(others) == 1:
        only = others[0]
        return lambda subject: (read(subject), only(subject))
    if len(others) == 2:
        first, second = others
        return lambda subject: (read(subject), first(subject), second(subject))
    return lambda subject: (read(subject), *[keyer(subject) for keyer in others])


def _views_reader(views: list[str]) -> Callable[[Request], Hashable]:
    """``operator.attrgetter(*views)``, cheaper for a plain :class:`Request`: one read of its
    split URI instead of one property (and one cache check) per view."""
    read = operator.attrgetter(*views)
    if not all(view in _VIEW_INDEX for view in views):
        return read
    pick = operator.itemgetter(*[_VIEW_INDEX[view] for view in views])
    if views[0] == "method" and "method" not in views[1:] and len(views) >= 3:
        # The usual shape (method, then URI views): the URI views straight from the split URI,
        # without first copying it into a tuple behind the method.
        pick_uri = operator.itemgetter(*[_VIEW_INDEX[view] - 1 for view in views[1:]])

        def method_and_uri_views(request: Request) -> Hashable:
            if type(request) is Request:
                return (request._method, *pick_uri(request._uri_parts or request._parts_of_uri))
            return read(request)

        return method_and_uri_views

    def views_of(request: Request) -> Hashable:
        if type(request) is Request:
            return pick((request._method, *request._parts_of_uri))  # type: ignore[no-any-return]
        return read(request)

    return views_of
