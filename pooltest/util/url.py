"""URL parsing: :func:`parse_url`, the :class:`Url` tuple it returns, and their helpers.

The results are urllib3 2.x's, field for field, on well-formed and odd input alike; what differs
is how they are reached. The parser is a single left-to-right pass of ``str`` methods plus a few
small anchored regexes, and never backtracks over the input:

1. **Split.** An optional scheme (a letter, then letters, digits, ``+`` or ``-``, then ``:``);
   without one, input not starting with ``/`` is read as if it began with ``//``, so
   ``"example.com/x"`` has a host. Then ``//`` + authority (up to ``/``, ``\\``, ``?`` or
   ``#``), the path, ``?query`` and ``#fragment``: one search and two ``partition`` calls.
2. **Authority.** The userinfo ends at the *last* ``@``. The host is either a bracketed IPv6
   literal (RFC 3986 grammar, optional RFC 6874 zone ID) ending at the first ``]``, or a
   reg-name ending at the first ``:``. What follows must be empty or ``:`` plus at most five
   significant port digits. Everything else raises :class:`LocationParseError`.
3. **Normalise** (only for ``http``, ``https`` and scheme-less URLs): the host is lower-cased,
   its percent-escapes of unreserved characters decoded and non-ASCII labels IDNA-encoded;
   ``.``/``..`` path segments are resolved; characters not allowed in a component are
   percent-encoded (existing escapes are kept and upper-cased, unless the component also holds a
   stray ``%``, in which case every ``%`` is encoded).

Because every step is a linear scan, hostile input such as ``"https://" + "@" * 10000 + "["``
fails immediately, and the only exception malformed input can raise is ``LocationParseError``.

IDNA: non-ASCII host labels are validated against IDNA 2008 (RFC 5891-5893), as the ``idna``
package does for urllib3, using only :mod:`unicodedata` and the stdlib ``punycode`` codec. (The
stdlib ``idna`` codec is IDNA 2003, which would turn ``straße`` into ``strasse``: another host.)
Code point classes follow the RFC 5892 derivation, which matches the ``idna`` package's tables
for every code point this Python's Unicode database knows; code points newer than that database
are refused. The contextual rules are implemented except the joining-type branch for ZERO WIDTH
NON-JOINER (it needs Arabic joining data the stdlib lacks), so ZWNJ is accepted only after a
virama.
"""

from __future__ import annotations

import functools
import re
import string
import typing
import unicodedata
from urllib.parse import unquote as _unquote

from pooltest.exceptions import LocationParseError
from pooltest.util.util import to_str

if typing.TYPE_CHECKING:
    from collections.abc import Container

    from typing_extensions import Self

__all__ = ["Url", "parse_url"]

#: Schemes whose URLs are normalised; ``None`` (no scheme) is read as http.
_NORMALIZABLE_SCHEMES = ("http", "https", None)

# Character classes of RFC 3986, as sets of single characters.
_UNRESERVED_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-~")
_SUB_DELIM_CHARS = frozenset("!$&'()*+,;=")
_USERINFO_CHARS = _UNRESERVED_CHARS | _SUB_DELIM_CHARS | {":"}
_PATH_CHARS = _USERINFO_CHARS | {"@", "/"}
_QUERY_CHARS = _FRAGMENT_CHARS = _PATH_CHARS | {"?"}

# --- Regular expressions. Each is anchored or scans once; none can backtrack super-linearly. ---

_SCHEME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9+\-]*:")
_AUTHORITY_END_RE = re.compile(r"[\\/?#]")
_PERCENT_RE = re.compile(r"%[0-9A-Fa-f]{2}")
_HOST_PERCENT_RE = re.compile(r"%[0-9A-Fa-f]{2}|%")
_HOST_INVALID_CHAR_RE = re.compile(r"[\x00-\x20\x7f]")
#: A reg-name may hold anything but brackets, and ``%`` only as the start of an escape.
_REG_NAME_INVALID_RE = re.compile(r"[\[\]]|%(?![0-9A-Fa-f]{2})")


def _ipv6_pattern() -> str:
    """The RFC 3986 ``IPv6address`` rule as a regex (no anchors, no brackets).

    Eight 16-bit pieces, the last two of which may be written as a dotted quad; or at most
    seven pieces split around a single ``::``. Each branch is the ABNF line it comes from.
    """
    h16 = "[0-9A-Fa-f]{1,4}"
    ls32 = rf"(?:{h16}:{h16}|(?:[0-9]{{1,3}}\.){{3}}[0-9]{{1,3}})"

    def up_to(count: int) -> str:
        # "[ *(count-1)( h16 ":" ) h16 ]": zero to ``count`` pieces before a "::".
        if count == 0:
            return ""
        return f"(?:(?:{h16}:){{0,{count - 1}}}{h16})?"

    branches = [f"(?:{h16}:){{6}}{ls32}"]
    branches += [f"{up_to(5 - after)}::(?:{h16}:){{{after}}}{ls32}" for after in range(5, -1, -1)]
    branches += [f"{up_to(6)}::{h16}", f"{up_to(7)}::"]
    return "(?:" + "|".join(branches) + ")"


_IPV6_PAT = _ipv6_pattern()
_ZONE_ID_PAT = r"(?:%25|%)(?:[A-Za-z0-9._~\-]|%[0-9A-Fa-f]{2})+"
_IPV6_RE = re.compile(f"^{_IPV6_PAT}$")
_IPV6_ADDRZ_RE = re.compile(rf"^\[{_IPV6_PAT}(?:{_ZONE_ID_PAT})?\]$")
#: An IPv6 address with optional zone ID and no brackets (what TLS code compares against).
_BRACELESS_IPV6_ADDRZ_RE = re.compile(f"^{_IPV6_PAT}(?:{_ZONE_ID_PAT})?$")
#: Anything ``inet_aton`` might read as IPv4 (1 to 4 decimal or hex parts); never IDNA-encoded.
_IPV4_RE = re.compile(r"^(?:0[xX][0-9a-fA-F]+|[0-9]+)(?:\.(?:0[xX][0-9a-fA-F]+|[0-9]+)){0,3}$")


class _UrlFields(typing.NamedTuple):
    scheme: str | None
    auth: str | None
    host: str | None
    port: int | None
    path: str | None
    query: str | None
    fragment: str | None


class Url(_UrlFields):
    """A parsed URL, as returned by :func:`parse_url`: a named 7-tuple of its components.

    Missing components are ``None``. ``scheme`` is lower-cased and a non-empty ``path`` always
    starts with ``/`` (both enforced here). ``auth`` is the raw userinfo, still percent-encoded;
    see :attr:`auth_decoded`.
    """

    __slots__ = ()

    def __new__(
        cls,
        scheme: str | None = None,
        auth: str | None = None,
        host: str | None = None,
        port: int | None = None,
        path: str | None = None,
        query: str | None = None,
        fragment: str | None = None,
    ) -> Self:
        if path and path[0] != "/":
            path = "/" + path
        if scheme is not None:
            scheme = scheme.lower()
        return super().__new__(cls, scheme, auth, host, port, path, query, fragment)

    @property
    def hostname(self) -> str | None:
        """The host, under the name :mod:`urllib.parse` results use."""
        return self.host

    @property
    def request_uri(self) -> str:
        """The request target: the path (``/`` if there is none) and ``?query`` if present."""
        path = self.path or "/"
        query = self.query
        if query is None:
            return path
        return path + "?" + query

    @property
    def authority(self) -> str | None:
        """``userinfo@host:port`` (RFC 3986 section 3.2); ``None`` without a host."""
        netloc = self.netloc
        if netloc is None or self.auth is None:
            return netloc
        return self.auth + "@" + netloc

    @property
    def netloc(self) -> str | None:
        """``host:port`` (or just the host without a port); ``None`` without a host.

        Unlike :mod:`urllib.parse`'s ``netloc`` this leaves out the userinfo; see
        :attr:`authority` for that.
        """
        host = self.host
        if host is None:
            return None
        if self.port is None:
            return host
        return f"{host}:{self.port}"

    @property
    def auth_decoded(self) -> tuple[None, None] | tuple[str, str | None]:
        """The userinfo as ``(username, password)``, percent-decoded as UTF-8.

        ``(None, None)`` without userinfo; the password is ``None`` when there is no ``:``.
        """
        if self.auth is None:
            return None, None
        username, colon, password = self.auth.partition(":")
        return (
            _unquote(username, encoding="utf-8"),
            _unquote(password, encoding="utf-8") if colon else None,
        )

    @property
    def auth_decoded_joined(self) -> str | None:
        """``"username:password"`` from :attr:`auth_decoded` (``"username:"`` without password).

        ``None`` without userinfo. Choosing the bytes encoding for a Basic authorization
        header is left to the caller.
        """
        username, password = self.auth_decoded
        if username is None:
            return None
        return f"{username}:{password or ''}"

    @property
    def url(self) -> str:
        """The URL as a string, each present component with its delimiter.

        Parsing it again gives an equivalent URL, though not always the original text (an
        empty port, for instance, is dropped).
        """
        scheme, auth, host, port, path, query, fragment = self
        parts: list[str] = []
        if scheme is not None:
            parts += (scheme, "://")
        if auth is not None:
            parts += (auth, "@")
        if host is not None:
            parts.append(host)
        if port is not None:
            parts += (":", str(port))
        if path is not None:
            parts.append(path)
        if query is not None:
            parts += ("?", query)
        if fragment is not None:
            parts += ("#", fragment)
        return "".join(parts)

    def __str__(self) -> str:
        return self.url


# --- Percent-encoding --------------------------------------------------------------------


class _Escaper:
    """Precomputed percent-encoding for one set of allowed characters.

    ``clean`` finds the first character that would need work (a disallowed character or a
    ``%``), so a component without one is returned untouched after a single regex scan. The two
    tables map each UTF-8 byte to its output: ``keep_percent`` passes ``%`` through (used when
    every ``%`` already starts a valid escape), ``plain`` encodes it too.
    """

    __slots__ = ("clean", "keep_percent", "plain")

    def __init__(self, allowed: Container[str]) -> None:
        ascii_ok = "".join(char for char in map(chr, range(128)) if char in allowed)
        ascii_ok = ascii_ok.replace("%", "")
        pattern = f"[^{re.escape(ascii_ok)}]" if ascii_ok else r"[\s\S]"
        self.clean = re.compile(pattern)
        self.plain = [
            chr(byte) if byte < 128 and chr(byte) in allowed else f"%{byte:02X}"
            for byte in range(256)
        ]
        self.keep_percent = self.plain.copy()
        self.keep_percent[0x25] = "%"


_ESCAPERS: dict[object, _Escaper] = {}


def _escaper_for(allowed: Container[str]) -> _Escaper:
    """The cached :class:`_Escaper` of a hashable character set (built afresh otherwise)."""
    try:
        return _ESCAPERS[allowed]
    except KeyError:
        if len(_ESCAPERS) >= 32:  # callers passing ever-new sets must not grow this forever.
            _ESCAPERS.clear()
        escaper = _ESCAPERS[allowed] = _Escaper(allowed)
        return escaper
    except TypeError:  # an unhashable container, such as a plain set.
        return _Escaper(allowed)


def _upper_escape(match: re.Match[str]) -> str:
    return match.group().upper()


@typing.overload
def _encode_invalid_chars(component: str, allowed_chars: Container[str]) -> str: ...


@typing.overload
def _encode_invalid_chars(component: None, allowed_chars: Container[str]) -> None: ...


def _encode_invalid_chars(component: str | None, allowed_chars: Container[str]) -> str | None:
    """Percent-encode every character of ``component`` that is not in ``allowed_chars``.

    Existing ``%XX`` escapes are upper-cased and kept as they are, provided every ``%`` in the
    component starts one; otherwise the component is taken as unencoded text and each ``%``
    becomes ``%25``. Non-ASCII characters are encoded as their UTF-8 bytes (lone surrogates
    included). ``bytes`` input is decoded as UTF-8 first; ``None`` is returned unchanged.
    """
    if component is None:
        return None
    component = to_str(component)
    escaper = _escaper_for(allowed_chars)
    if component.isascii() and escaper.clean.search(component) is None:
        return component
    component, escapes = _PERCENT_RE.subn(_upper_escape, component)
    table = escaper.keep_percent if escapes == component.count("%") else escaper.plain
    return "".join(map(table.__getitem__, component.encode("utf-8", "surrogatepass")))


def _remove_path_dot_segments(path: str) -> str:
    """Resolve ``.`` and ``..`` segments of ``path`` (RFC 3986 section 5.2.4).

    ``..`` never climbs above the root; a path that ends in a dot segment keeps a trailing
    ``/``; a leading ``/`` is kept.
    """
    if "/." not in path and path[:1] != ".":
        return path  # No dot segment: the common case, left untouched.
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    if path[:1] == "/" and (not kept or kept[0]):
        kept.insert(0, "")
    if path.endswith(("/.", "/..")):
        kept.append("")
    return "/".join(kept)


# A request target with nothing to encode: a path of _PATH_CHARS and an optional query of
# _QUERY_CHARS (no "%", no "#"). _encode_target returns such a target unchanged, as its general
# path would. Most targets sent (any from a URL parse_url's fast path takes) have this form.
_PLAIN_TARGET_RE = re.compile(
    r"/[A-Za-z0-9._~!$&'()*+,;=:@/\-]*(?:\?[A-Za-z0-9._~!$&'()*+,;=:@/?\-]*)?"
)


def _encode_target(target: str) -> str:
    """Percent-encode a request target (``/path?query``), dropping any ``#fragment``.

    :raises LocationParseError: if ``target`` does not start with ``/``, or if its fragment
        holds a line break anywhere but at its very end.
    """
    if _PLAIN_TARGET_RE.fullmatch(target) is not None:
        return target  # fast path: nothing to encode or drop
    request = target
    if "#" in target:
        request, _, fragment = target.partition("#")
        if "\n" in fragment[:-1]:
            raise LocationParseError(f"{target!r} is not a valid request URI")
    if request[:1] != "/":
        raise LocationParseError(f"{target!r} is not a valid request URI")
    path, question, query = request.partition("?")
    encoded = _encode_invalid_chars(path, _PATH_CHARS)
    if question:
        return encoded + "?" + _encode_invalid_chars(query, _QUERY_CHARS)
    return encoded


# --- Hosts ------------------------------------------------------------------------------


def _invalid_char_error(host: str, char: str) -> LocationParseError:
    return LocationParseError(f"Host {host!r} contains invalid character {char!r}")


def _control_escape_error(host: str, escape: str) -> LocationParseError:
    return LocationParseError(
        f"Host {host!r} contains invalid percent-encoded control character {escape!r}"
    )


def _decode_escape(escape: str, host: str) -> str:
    """The character a ``%XX`` escape stands for; control characters are refused."""
    char = chr(int(escape[1:], 16))
    if char < "\x20" or char == "\x7f":
        raise _control_escape_error(host, escape)
    return char


@typing.overload
def _normalize_host(host: None, scheme: str | None) -> None: ...


@typing.overload
def _normalize_host(host: str, scheme: str | None) -> str: ...


def _normalize_host(host: str | None, scheme: str | None) -> str | None:
    """Return ``host`` in the canonical form pooltest compares and connects with.

    Any host containing a control character or a space is refused. For http, https and no
    scheme: an IPv6 literal is lower-cased (its zone ID keeps its case, with the ``%25`` form of
    the separator reduced to ``%``); a host ``inet_aton`` could read as IPv4 is kept as is;
    any other name has escapes of unreserved characters decoded, is lower-cased and has its
    non-ASCII labels IDNA-encoded. Hosts of other schemes, and ``None`` or ``""``, come back
    unchanged.

    :raises LocationParseError: for an invalid character, escape or IDNA label.
    """
    if not host:
        return host
    invalid = _HOST_INVALID_CHAR_RE.search(host)
    if invalid is not None:
        raise _invalid_char_error(host, invalid.group())
    if scheme not in _NORMALIZABLE_SCHEMES:
        return host
    if host[0] == "[" and _IPV6_ADDRZ_RE.match(host):
        return _normalize_ipv6_literal(host)
    if _IPV4_RE.match(host):
        return host
    if "%" in host:
        host = _decode_host_escapes(host)
    if host.isascii():
        return _lower_ascii_name(host)
    return ".".join([_encode_label(label) for label in host.split(".")])


def _normalize_ipv6_literal(host: str) -> str:
    """Lower-case a bracketed IPv6 literal, normalising its zone ID (RFC 6874) if any."""
    percent = host.find("%")
    if percent == -1:
        return host.lower()
    zone = host[percent:-1]
    zone_id = zone[3:] if zone.startswith("%25") and zone != "%25" else zone[1:]
    if "%" in zone_id:
        zone_id = _PERCENT_RE.sub(lambda match: _checked_upper_escape(match, host), zone_id)
    # The zone grammar admits only unreserved characters and escapes: nothing left to encode.
    return f"{host[:percent].lower()}%{zone_id}]"


def _checked_upper_escape(match: re.Match[str], host: str) -> str:
    escape = match.group()
    _decode_escape(escape, host)
    return escape.upper()


def _decode_host_escapes(host: str) -> str:
    """Decode escapes of unreserved characters in a reg-name and upper-case the others.

    :raises LocationParseError: for a ``%`` that starts no escape, or an escaped control
        character.
    """

    def replace(match: re.Match[str]) -> str:
        escape = match.group()
        if len(escape) == 1:
            raise LocationParseError(f"{host!r} is not a valid host")
        char = _decode_escape(escape, host)
        return char if char in _UNRESERVED_CHARS else escape.upper()

    return _HOST_PERCENT_RE.sub(replace, host)


def _lower_ascii_name(name: str) -> str:
    """Lower-case an ASCII name or label, keeping its ``%XX`` escapes upper-case."""
    lowered = name.lower()
    if "%" not in lowered:
        return lowered
    return _PERCENT_RE.sub(_upper_escape, lowered)


def _encode_label(label: str) -> str:
    """One host label in DNS form: ASCII labels lower-cased, others as IDNA A-labels."""
    if label.isascii():
        return _lower_ascii_name(label)
    return _idna_encode(label)


@functools.lru_cache(maxsize=256)
def _idna_encode(label: str) -> str:
    """The IDNA 2008 A-label of a non-ASCII label (cached: a client sees the same hosts often).

    :raises LocationParseError: if the label is not a valid U-label (errors are not cached).
    """
    lowered = label.lower()
    if lowered.isascii():
        # Only KELVIN SIGN lower-cases to ASCII: the result must then be a valid ASCII label.
        if len(lowered) <= 63 and _is_idna_ascii_label(lowered):
            return lowered
    # An A-label is at least "xn--" plus one character per code point, and at most 63 long:
    # checking the length first also keeps the quadratic punycode codec off huge input.
    elif len(lowered) <= 59 and _is_idna_u_label(lowered):
        encoded = "xn--" + lowered.encode("punycode").decode("ascii")
        if len(encoded) <= 63:
            return encoded
    raise LocationParseError(f"Name '{label}' is not a valid IDNA label")


# --- IDNA 2008 validation of U-labels (RFC 5891 section 4.2, RFC 5892, RFC 5893) ----------

_PVALID, _CONTEXTJ, _CONTEXTO, _DISALLOWED = range(4)

#: RFC 5892 section 2.6: code points whose class is fixed by hand.
_IDNA_EXCEPTIONS: dict[str, int] = {
    **dict.fromkeys("\u00df\u03c2\u06fd\u06fe\u0f0b\u3007", _PVALID),
    **dict.fromkeys("\u00b7\u0375\u05f3\u05f4\u30fb", _CONTEXTO),
    **dict.fromkeys(map(chr, range(0x0660, 0x066A)), _CONTEXTO),
    **dict.fromkeys(map(chr, range(0x06F0, 0x06FA)), _CONTEXTO),
    **dict.fromkeys("\u0640\u07fa\u302e\u302f\u3031\u3032\u3033\u3034\u3035\u303b", _DISALLOWED),
}

#: Letters and marks that are still DISALLOWED: default-ignorable code points, the blocks of
#: RFC 5892 section 2.5 and old Hangul jamo (inclusive ranges).
_IDNA_EXCLUDED_RANGES = (
    (0x034F, 0x034F),
    (0x1100, 0x11FF),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x20D0, 0x20FF),
    (0x3164, 0x3164),
    (0xA960, 0xA97C),
    (0xD7B0, 0xD7C6),
    (0xD7CB, 0xD7FB),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0x1D100, 0x1D24F),
    (0xE0100, 0xE01EF),
)

_LETTER_DIGIT_CATEGORIES = frozenset(("Ll", "Lu", "Lo", "Nd", "Lm", "Mn", "Mc"))
_LDH = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
#: Name prefixes of the Hiragana, Katakana and Han code points that can appear in a label.
_KANA_HAN_PREFIXES = (
    "HIRAGANA",
    "HENTAIGANA",
    "KATAKANA ",
    "CJK UNIFIED IDEOGRAPH",
    "CJK COMPATIBILITY IDEOGRAPH",
    "IDEOGRAPHIC ITERATION MARK",
    "IDEOGRAPHIC NUMBER ZERO",
    "OLD CHINESE ITERATION MARK",
    "VIETNAMESE ALTERNATE READING MARK",
)
_VIRAMA = 9


def _idna_class(char: str) -> int:
    """The IDNA 2008 class of one code point, derived as in RFC 5892 section 3."""
    exception = _IDNA_EXCEPTIONS.get(char)
    if exception is not None:
        return exception
    if char.isascii():
        return _PVALID if char in _LDH else _DISALLOWED
    category = unicodedata.category(char)
    if category not in _LETTER_DIGIT_CATEGORIES:
        return _CONTEXTJ if char in "\u200c\u200d" else _DISALLOWED
    stable = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", char).casefold())
    if stable != char:
        return _DISALLOWED
    code = ord(char)
    for first, last in _IDNA_EXCLUDED_RANGES:
        if first <= code <= last:
            return _DISALLOWED
    return _PVALID


def _context_ok(label: str, index: int) -> bool:
    """Whether the CONTEXTJ/CONTEXTO code point at ``label[index]`` is allowed where it is."""
    char = label[index]
    before = label[index - 1] if index else ""
    after = label[index + 1] if index + 1 < len(label) else ""
    if char in "\u200c\u200d":
        return bool(before) and unicodedata.combining(before) == _VIRAMA
    if char == "\u00b7":
        return before == after == "l"
    if char == "\u0375":
        return bool(after) and unicodedata.name(after, "").startswith("GREEK")
    if char in "\u05f3\u05f4":
        return bool(before) and unicodedata.name(before, "").startswith("HEBREW")
    if char == "\u30fb":
        return any(
            other != "\u30fb" and unicodedata.name(other, "").startswith(_KANA_HAN_PREFIXES)
            for other in label
        )
    if "\u0660" <= char <= "\u0669":
        return not any("\u06f0" <= other <= "\u06f9" for other in label)
    return not any("\u0660" <= other <= "\u0669" for other in label)  # U+06F0..U+06F9


def _is_idna_ascii_label(label: str) -> bool:
    """Whether a lower-cased ASCII label is valid IDNA 2008: an LDH label, or a canonical A-label.

    An A-label (``xn--`` prefix) must decode as Punycode to a valid U-label that encodes back
    to exactly the same text.
    """
    if not label.startswith("xn--"):
        return _is_idna_u_label(label)
    body = label[4:]
    if not body or body[-1] == "-":
        return False
    try:
        decoded = body.encode("ascii").decode("punycode")
    except (UnicodeError, ValueError, OverflowError):
        return False
    return decoded.encode("punycode") == body.encode("ascii") and _is_idna_u_label(decoded)


def _is_idna_u_label(label: str) -> bool:
    """Whether a non-empty label is valid IDNA 2008 (NFC, hyphens, code points, Bidi Rule)."""
    if not unicodedata.is_normalized("NFC", label):
        return False
    if label[2:4] == "--" or label[0] == "-" or label[-1] == "-":
        return False
    if unicodedata.category(label[0])[0] == "M":
        return False
    for index, char in enumerate(label):
        kind = _idna_class(char)
        if kind == _DISALLOWED or (kind != _PVALID and not _context_ok(label, index)):
            return False
    return _bidi_ok(label)


_RTL = frozenset(("R", "AL", "AN"))
_RTL_ALLOWED = frozenset(("R", "AL", "AN", "EN", "ES", "CS", "ET", "ON", "BN", "NSM"))
_RTL_END = frozenset(("R", "AL", "EN", "AN"))
_LTR_ALLOWED = frozenset(("L", "EN", "ES", "CS", "ET", "ON", "BN", "NSM"))
_LTR_END = frozenset(("L", "EN"))


def _bidi_ok(label: str) -> bool:
    """The Bidi Rule of RFC 5893, applied to labels holding any right-to-left character."""
    directions = [unicodedata.bidirectional(char) for char in label]
    if _RTL.isdisjoint(directions):
        return True
    first = directions[0]
    if first in ("R", "AL"):
        allowed, ends = _RTL_ALLOWED, _RTL_END
        if "EN" in directions and "AN" in directions:
            return False
    elif first == "L":
        allowed, ends = _LTR_ALLOWED, _LTR_END
    else:
        return False
    if not allowed.issuperset(directions):
        return False
    last = next((d for d in reversed(directions) if d != "NSM"), "")
    return last in ends


# --- parse_url --------------------------------------------------------------------------


def _host_port_error(host_port: str) -> LocationParseError:
    invalid = _HOST_INVALID_CHAR_RE.search(host_port)
    if invalid is not None:
        return _invalid_char_error(host_port, invalid.group())
    return LocationParseError(f"{host_port!r} is not a valid host or port")


def _split_host_port(host_port: str) -> tuple[str, str | None]:
    """Split ``host[:port]`` into the host and the port's significant digits.

    The port comes back as ``None`` when absent or empty, else as its digits without leading
    zeros (``"0"`` for zero); more than five significant digits is an error.

    :raises LocationParseError: if the host is not a reg-name or bracketed IPv6 literal, or
        what follows it is not a port.
    """
    if host_port[:1] == "[":
        close = host_port.find("]") + 1
        host, rest = host_port[:close], host_port[close:]
        if not close or not _IPV6_ADDRZ_RE.match(host):
            raise _host_port_error(host_port)
    else:
        host, colon, rest = host_port.partition(":")
        if _REG_NAME_INVALID_RE.search(host):
            raise _host_port_error(host_port)
        rest = colon + rest
    if rest in ("", ":"):
        return host, None
    digits = rest[1:]
    if rest[0] != ":" or not digits.isascii() or not digits.isdigit():
        raise _host_port_error(host_port)
    significant = digits.lstrip("0")
    if len(significant) > 5:
        raise _host_port_error(host_port)
    return host, significant or "0"


# The URLs most programs send: lower-case http(s) scheme and host name (or IPv4 address), a
# port, a path and query with nothing to encode, no userinfo and no fragment. parse_url's
# normalisation leaves such a URL unchanged (but for dot segments, checked separately), so it
# is split by this one anchored match. Every other URL takes the general path.
_PLAIN_URL_RE = re.compile(
    r"(https?)://([a-z0-9][a-z0-9.\-]*)(?::([0-9]{1,5}))?"
    r"(/[A-Za-z0-9._~!$&'()*+,;=:@/\-]*)?(?:\?([A-Za-z0-9._~!$&'()*+,;=:@/?\-]*))?"
)


def _parse_plain_url(url: str) -> Url | None:
    """``parse_url(url)`` for a URL :data:`_PLAIN_URL_RE` matches whole, else None."""
    match = _PLAIN_URL_RE.fullmatch(url)
    if match is None:
        return None
    scheme, host, port_text, path, query = match.groups()
    if path is not None and ("/." in path):
        return None  # dot segments to remove
    port = None if port_text is None else int(port_text)
    if port is not None and port > 65535:
        return None  # the general path raises
    if path is None and query is not None:
        path = ""
    return Url._make((scheme, None, host, port, path, query, None))


def _split_plain_url(url: str) -> tuple[str, str, int | None, str] | None:
    """``(scheme, host, port, request_uri)`` of ``parse_url(url)`` for a plain URL, else None.

    For a pool manager, which needs only the origin and the request target: the same answer as
    :func:`_parse_plain_url` without building the :class:`Url` (tests check the two agree).
    The origin (up to the first ``/`` after ``scheme://``) is looked up in a memo of origins
    already judged, so only the target is matched per URL; anything else, such as a query
    right after the authority, takes :func:`_split_by_pattern`.
    """
    slash = url.find("/", 8)  # the first "/" after "http://x" or "https://"
    if slash > 0:
        origin = _PLAIN_ORIGINS.get(url[:slash])
        if origin is None:
            origin = _judge_origin(url[:slash])
        target = url[slash:]
        # _PLAIN_TARGET_RE matches a target that starts with "/" (this one does) exactly when
        # every character is one of _TARGET_CHARS: stripping them all leaves nothing.
        if origin and not target.strip(_TARGET_CHARS):
            if "/." in target and "/." in target.partition("?")[0]:
                return None  # dot segments to remove
            _known_plain_target[0] = target
            return origin[0], origin[1], origin[2], target
    return _split_by_pattern(url)


#: The characters of a plain target: _PLAIN_TARGET_RE's path and query characters.
_TARGET_CHARS = string.ascii_letters + string.digits + "._~!$&'()*+,;=:@/-?"

#: Origins (``scheme://authority``) judged by :func:`_judge_origin`: their scheme, host and
#: port, or ``()`` when not plain. Bounded: emptied when full.
_PLAIN_ORIGINS: dict[str, tuple[str, str, int | None] | tuple[()]] = {}
_PLAIN_ORIGIN_RE = re.compile(r"(https?)://([a-z0-9][a-z0-9.\-]*)(?::([0-9]{1,5}))?")

#: The last target :func:`_split_plain_url` returned. Holding the string keeps it alive, so a
#: target that *is* this object is known to match ``_PLAIN_TARGET_RE``: a pool given the target
#: a pool manager just split need not match it again. Threads overwriting it only cost a match.
_known_plain_target: list[str] = [""]


#: Longest origin the memo keeps: "https://", a 253-character host name and ":65535", rounded.
_ORIGIN_MEMO_LENGTH = 272


def _judge_origin(origin: str) -> tuple[str, str, int | None] | tuple[()]:
    match = _PLAIN_ORIGIN_RE.fullmatch(origin)
    judged: tuple[str, str, int | None] | tuple[()] = ()
    if match is not None:
        scheme, host, port_text = match.groups()
        port = None if port_text is None else int(port_text)
        if port is None or port <= 65535:
            judged = (scheme, host, port)
    if len(origin) <= _ORIGIN_MEMO_LENGTH:  # the memo's memory stays bounded too
        if len(_PLAIN_ORIGINS) >= 256:
            _PLAIN_ORIGINS.clear()
        _PLAIN_ORIGINS[origin] = judged
    return judged


def _split_by_pattern(url: str) -> tuple[str, str, int | None, str] | None:
    """:func:`_split_plain_url` by one match of the whole URL."""
    match = _PLAIN_URL_RE.fullmatch(url)
    if match is None:
        return None
    scheme, host, port_text, path, query = match.groups()
    if path is None:
        path = "/"
    elif "/." in path:
        return None  # dot segments to remove
    port = None if port_text is None else int(port_text)
    if port is not None and port > 65535:
        return None  # the general path raises
    return scheme, host, port, path if query is None else path + "?" + query


def parse_url(url: str) -> Url:
    """Split ``url`` into a :class:`Url`, normalising http(s) URLs as urllib3 2.x does.

    Incomplete input is parsed as far as it goes; missing parts are ``None``, except that the
    path is ``""`` when there is a query or fragment but no path. ``parse_url("example.com:80")``
    has host ``example.com`` and port 80, and ``parse_url("/a?b")`` only a path and a query.
    Like urllib3, a leading name without dots followed by ``:`` is a scheme:
    ``parse_url("localhost:80")`` has scheme ``localhost`` and path ``/80``.

    See the module documentation for the grammar and the normalisation applied.

    :raises LocationParseError: if the authority is malformed, the port is out of range, or
        the host holds invalid characters or labels.
    """
    if not url:
        return Url()
    plain = _parse_plain_url(url)
    if plain is not None:
        return plain
    match = _SCHEME_RE.match(url)
    if match is not None:
        scheme: str | None = url[: match.end() - 1].lower()
        rest = url[match.end() :]
    else:
        scheme = None
        if url[0] != "/":
            url = "//" + url  # read as an authority; also how errors quote the URL.
        rest = url
    normalize = scheme is None or scheme in _NORMALIZABLE_SCHEMES

    if rest[:2] == "//":
        end = _AUTHORITY_END_RE.search(rest, 2)
        stop = end.start() if end is not None else len(rest)
        authority = rest[2:stop]
        rest = rest[stop:]
    else:
        authority = ""
    rest, hash_sign, fragment_text = rest.partition("#")
    path, question, query_text = rest.partition("?")
    fragment = fragment_text if hash_sign else None
    query = query_text if question else None

    auth: str | None = None
    host: str | None = None
    port: int | None = None
    if authority:
        userinfo, _, host_port = authority.rpartition("@")
        host, port_digits = _split_host_port(host_port)
        if userinfo:
            auth = _encode_invalid_chars(userinfo, _USERINFO_CHARS) if normalize else userinfo
        if port_digits is not None:
            port = int(port_digits)
            if port > 65535:
                raise LocationParseError(url)
        host = _normalize_host(host, scheme)

    if normalize:
        if path:
            path = _encode_invalid_chars(_remove_path_dot_segments(path), _PATH_CHARS)
        if query:
            query = _encode_invalid_chars(query, _QUERY_CHARS)
        if fragment:
            fragment = _encode_invalid_chars(fragment, _FRAGMENT_CHARS)

    if not path:
        final_path = "" if query is not None or fragment is not None else None
    else:
        final_path = path if path[0] == "/" else "/" + path
    return Url._make((scheme, auth, host, port, final_path, query, fragment))
