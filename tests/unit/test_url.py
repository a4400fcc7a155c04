"""pooltest.util.url (and the small pooltest.util.util helpers it builds on).

Most tests are differential: the same input goes through urllib3 2.x and pooltest, and the
results (``Url`` fields, or the ``LocationParseError`` message) must be identical.
"""

from __future__ import annotations

import contextlib
import inspect
import pickle
import sys
import unicodedata

import pytest
import urllib3.util.url as u3url
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pooltest.exceptions import LocationParseError
from pooltest.util import url as ptu
from pooltest.util.url import Url, parse_url
from pooltest.util.util import reraise, to_bytes, to_str

DIFF = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(func, *args):
    """``("ok", result)`` or ``("error", class name, message)``.

    Only LocationParseError (urllib3's or ours) is caught: any other exception fails the test.
    Results that are tuples (``Url``) are compared as plain tuples.
    """
    try:
        result = func(*args)
    except (u3url.LocationParseError, LocationParseError) as error:
        return "error", type(error).__name__, str(error)
    return "ok", tuple(result) if isinstance(result, tuple) else result


def both(name, *args):
    """Run urllib3's and pooltest's function ``name`` on ``args``; return both outcomes."""
    return outcome(getattr(u3url, name), *args), outcome(getattr(ptu, name), *args)


# --- Strategies ----------------------------------------------------------------------------


def _idna_safe(char: str) -> bool:
    # Code points Python's Unicode 14 tables do not know (the idna package knows Unicode 18),
    # and ZERO WIDTH NON-JOINER (whose joining-type rule we do not implement), are the two
    # documented places where pooltest's IDNA check may differ from urllib3's.
    return unicodedata.category(char) != "Cn" and char != "\u200c"


SAFE_CHARS = st.characters().filter(_idna_safe)
NON_ASCII_LETTERS = st.sampled_from(
    [*"éüßçжщλςσ中文日本ひらカナ한국ابجשלום١٢۱۲ीक्षअaz09-İ·", "\u0301", "\u094d", "\u200d", "\u212a"]
)
URL_PUNCT = st.sampled_from(list(":/?#[]@%!$&'()*+,;=.-_~ \t\n\\\"<>^`{|}\x00\x7f"))
URLISH_CHAR = st.one_of(URL_PUNCT, st.sampled_from(list("aAzZ09fF")), NON_ASCII_LETTERS, SAFE_CHARS)
URLISH_TEXT = st.text(URLISH_CHAR, max_size=40)

SCHEMES = st.sampled_from(["http", "https", "HTTP", "HtTpS", "ftp", "ws", "a+b-c", "x.y", "1a"])
PERCENT_BITS = st.sampled_from(["%41", "%2e", "%2E", "%7e", "%zz", "%", "%4", "%20", "%0a", "%7F"])
HOST_CHAR = st.one_of(
    st.sampled_from(list("abcXYZ019-_.~ ")), NON_ASCII_LETTERS, PERCENT_BITS, URL_PUNCT
)
REG_NAME = st.lists(HOST_CHAR, max_size=12).map("".join)
IPV4 = st.lists(
    st.one_of(st.integers(0, 999).map(str), st.sampled_from(["0x1F", "0X0a", "00", "256"])),
    min_size=1,
    max_size=5,
).map(".".join)


@st.composite
def ipv6_literals(draw):
    groups = draw(
        st.lists(st.sampled_from(["0", "1", "ff", "FFFF", "abcd", "12345", "g"]), max_size=9)
    )
    if draw(st.booleans()):
        groups.append(draw(st.sampled_from(["1.2.3.4", "255.255.255.255", "1.2.3"])))
    text = ":".join(groups)
    if groups and draw(st.booleans()):
        cut = draw(st.integers(0, len(groups)))
        text = ":".join(groups[:cut]) + "::" + ":".join(groups[cut:])
    zone = draw(
        st.sampled_from(["", "%25eth0", "%eth0", "%25", "%2541", "%25%41", "%0a", "%25EtH0", "%"])
    )
    return f"[{text}{zone}]"


HOSTS = st.one_of(REG_NAME, IPV4, ipv6_literals(), URLISH_TEXT)
PORTS = st.one_of(
    st.just(""),
    st.integers(0, 999999).map(str),
    st.tuples(st.integers(0, 8), st.integers(0, 70000)).map(lambda zp: "0" * zp[0] + str(zp[1])),
    st.sampled_from(["abc", "\u0663", "8o", "-1", "+80", " 80"]),
)
SEGMENTS = st.sampled_from([".", "..", "a", "B", "", "%2F", "%zz", "é", "x y", "\\", "%41", ";p"])
PATHS = st.lists(SEGMENTS, max_size=8).map("/".join)


@st.composite
def urls(draw):
    """URLs assembled from (often slightly wrong) components."""
    authority = ""
    if draw(st.booleans()):
        authority = draw(HOSTS)
        if draw(st.booleans()):
            authority = draw(URLISH_TEXT) + "@" + authority
        if draw(st.booleans()):
            authority += ":" + draw(PORTS)
    path = draw(PATHS)
    if draw(st.booleans()):
        path = "/" + path
    url = ("//" + authority if authority or draw(st.booleans()) else "") + path
    if draw(st.booleans()):
        url += "?" + draw(URLISH_TEXT)
    if draw(st.booleans()):
        url += "#" + draw(URLISH_TEXT)
    form = draw(st.sampled_from(["scheme", "bare", "no-slashes"]))
    if form == "scheme":
        return draw(SCHEMES) + ":" + url
    if form == "no-slashes" and url.startswith("//"):
        return url[2:]
    return url


# --- parse_url: urllib3 parity -------------------------------------------------------------


CASES = [
    "",
    "http://example.com",
    "HTTP://EXAMPLE.COM:80/A/./b/../c?Q#F",
    "https://user:pa%20ss@host:443/path?query#frag",
    "example.com",
    "example.com:8080/x",
    "localhost:8080",
    "/just/a/path?x=1",
    "//host/path",
    "http:host",
    "http:///path",
    "http://@host",
    "http://user@",
    "http://host:",
    "http://host:0",
    "http://host:000",
    "http://host:0080",
    "http://host:65535",
    "http://host:65536",
    "http://host:123456",
    "http://host:8o",
    "http://[::1]:80/",
    "http://[::1",
    "http://[::1]x",
    "http://[fe80::1%25eth0]/",
    "http://[fe80::1%eth0]/",
    "http://[FE80::1%25EtH0]/",
    "http://[::1%25]/",
    "http://[::1%2541]/",
    "http://[::1%250a]/",
    "http://[1:2:3:4:5:6:7:8]/",
    "http://[1:2:3:4:5:6:7:8:9]/",
    "http://[::ffff:1.2.3.4]/",
    "http://[1:2:3:4:5:6::1.2.3.4]/",
    "http://0X7F.0.0.1/",
    "http://127.1/",
    "http://ex%41mple.com/",
    "http://ex%2Fmple.com/",
    "http://ex%zzmple.com/",
    "http://ex%0ample.com/",
    "http://ex%mple.com/",
    "http://exa mple.com/",
    "http://ex\nample.com/",
    "http://ex[ample.com/",
    "http://a..b./",
    "http://bücher.de/",
    "http://BÜCHER.de/",
    "http://straße.de/",
    "http://ελληνικά.gr/",
    "http://العربية.com/",
    "http://xn--bcher-kva.de/",
    "http://a\u200db.com/",
    "http://क्\u200dष.com/",
    "http://l·l.com/",
    "http://a·b.com/",
    "http://é" + "e" * 60 + ".com/",
    "http://\U0001f600.com/",
    "http://\u212a.com/",
    "http://xn--bcher-\u212ava.de/",
    "http://xn--bcher-\u212avb.de/",
    "http://xn---\u212abbk.de/",
    "http://\u0301a.com/",
    "http://-é.com/",
    "http://ab--é.com/",
    "ftp://ExAmPlE.com/a b/%zz",
    "mailto:someone@example.com",
    "http://h/%zz%41?%zz%41#%zz%41",
    "http://h/p%41?q%41#f%41",
    "http://h/\u00e9?\u00e9#\u00e9",
    "http://h/a\\b",
    "http://h\\path",
    "http://h/a#b\nc",
    "http://u:p@h@h2/",
    "http://u%zz:p w@h/",
    "http://h/..",
    "http://h/a/b/../../../c",
    "http:.",
    "http://h?",
    "http://h#",
    "http://h?#",
    "1.2.3.4:99999",
    "a.b:c",
    "https://" + "@" * 10000 + "[",
]


@pytest.mark.parametrize("url", CASES, ids=range(len(CASES)))
def test_parse_url_matches_urllib3_on_known_cases(url):
    expected, actual = both("parse_url", url)
    assert actual == expected


@DIFF
@given(urls())
@example("http://[::1%25]:080/a/../b?c#d")
@example("x.y:1")
def test_parse_url_matches_urllib3_on_generated_urls(url):
    expected, actual = both("parse_url", url)
    assert actual == expected


@DIFF
@given(URLISH_TEXT)
def test_parse_url_matches_urllib3_on_urlish_text(text):
    expected, actual = both("parse_url", text)
    assert actual == expected


@DIFF
@given(st.text(SAFE_CHARS, max_size=30), st.sampled_from(["http://", "", "//", "https://u@"]))
def test_parse_url_matches_urllib3_on_arbitrary_text(text, prefix):
    expected, actual = both("parse_url", prefix + text)
    assert actual == expected


@settings(max_examples=300, deadline=None)
@given(st.text(NON_ASCII_LETTERS, min_size=1, max_size=12))
def test_idna_labels_match_urllib3(label):
    expected, actual = both("parse_url", f"http://{label}.example/")
    assert actual == expected


KELVIN = "\u212a"  # KELVIN SIGN: the one non-ASCII character that lower-cases to ASCII ("k").


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from([*"abkz09-", KELVIN]), max_size=14), st.booleans())
def test_labels_that_lower_case_to_ascii_match_urllib3(text, a_label):
    """Such labels go through urllib3's A-label/LDH validation instead of being encoded."""
    label = ("xn--" if a_label else "") + text + KELVIN
    expected, actual = both("parse_url", f"http://{label}.example/")
    assert actual == expected


def test_idna_code_point_classes_match_the_idna_package():
    """Every code point Python knows gets the class the idna package's tables give it."""
    idna_core = pytest.importorskip("idna.core")
    from idna.intranges import intranges_contain

    classes = idna_core.idnadata.codepoint_classes
    names = {ptu._PVALID: "PVALID", ptu._CONTEXTJ: "CONTEXTJ", ptu._CONTEXTO: "CONTEXTO"}
    mismatches = []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.category(char) == "Cn":
            continue
        ours = names.get(ptu._idna_class(char), "DISALLOWED")
        theirs = next((n for n in names.values() if intranges_contain(code, classes[n])), None)
        if ours != (theirs or "DISALLOWED"):
            mismatches.append(hex(code))
    assert mismatches == []


# --- parse_url: robustness -----------------------------------------------------------------


def test_hostile_authority_fails_at_once():
    with pytest.raises(LocationParseError, match="is not a valid host or port"):
        parse_url("https://" + "@" * 10000 + "[")


HOSTILE_UNITS = [
    "@",
    "[",
    "]",
    ":",
    "%",
    "::",
    "1:",
    "%25",
    "/..",
    "a.",
    "é.",
    "0",
    "%4",
    "\\",
    "?",
]


@pytest.mark.timeout(60)
@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["http://", "https://[", "//", "", "http://h/", "http://[::1%25", "http://h:"]),
    st.lists(st.tuples(st.sampled_from(HOSTILE_UNITS), st.integers(1, 3000)), max_size=4),
)
def test_hostile_repetitions_only_raise_location_parse_error(prefix, runs):
    url = prefix + "".join(unit * count for unit, count in runs)
    with contextlib.suppress(LocationParseError):
        parse_url(url)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), st.binary().map(lambda b: b.decode("latin-1")), URLISH_TEXT))
def test_fuzzed_strings_only_raise_location_parse_error(text):
    for candidate in (text, "http://" + text, "http://h/" + text, "http://[" + text):
        try:
            result = parse_url(candidate)
        except LocationParseError:
            continue
        assert isinstance(result, Url)


def test_big_inputs_of_every_part_parse():
    big = "a" * 200_000
    url = parse_url(f"http://u{big}@h{big}:80/{big}?{big}#{big}")
    assert (len(url.auth), len(url.host), len(url.path)) == (200_001, 200_001, 200_001)
    with pytest.raises(LocationParseError, match="is not a valid IDNA label"):
        parse_url("http://" + "é" * 200_000)


# --- Private helpers: urllib3 parity ------------------------------------------------------


@DIFF
@given(
    st.one_of(REG_NAME, IPV4, ipv6_literals(), URLISH_TEXT, st.just(""), st.none()),
    st.sampled_from(["http", "https", None, "HTTP", "ftp"]),
)
@example("::1", "http")
def test_normalize_host_matches_urllib3(host, scheme):
    expected, actual = both("_normalize_host", host, scheme)
    assert actual == expected


@DIFF
@given(st.one_of(PATHS, URLISH_TEXT))
def test_remove_path_dot_segments_matches_urllib3(path):
    assert ptu._remove_path_dot_segments(path) == u3url._remove_path_dot_segments(path)


@DIFF
@given(st.one_of(PATHS.map(lambda p: "/" + p), URLISH_TEXT, st.just("/a#b\n"), st.just("/a#\n\n")))
def test_encode_target_matches_urllib3(target):
    expected, actual = both("_encode_target", target)
    assert actual == expected


ALLOWED_SETS = [
    ptu._UNRESERVED_CHARS,
    ptu._USERINFO_CHARS,
    ptu._PATH_CHARS,
    ptu._QUERY_CHARS,
    set("abc%"),
    "xyz",
    frozenset(),
]


@DIFF
@given(st.one_of(URLISH_TEXT, PATHS), st.sampled_from(range(len(ALLOWED_SETS))))
def test_encode_invalid_chars_matches_urllib3(component, which):
    allowed = ALLOWED_SETS[which]
    expected = u3url._encode_invalid_chars(component, allowed)
    assert ptu._encode_invalid_chars(component, allowed) == expected


def test_encode_invalid_chars_edge_cases():
    assert ptu._encode_invalid_chars(None, ptu._PATH_CHARS) is None
    assert ptu._encode_invalid_chars(b"a b", ptu._PATH_CHARS) == "a%20b"
    assert ptu._encode_invalid_chars("%41%zz", ptu._PATH_CHARS) == "%2541%25zz"
    assert ptu._encode_invalid_chars("%7e/\ud800", ptu._PATH_CHARS) == "%7E/%ED%A0%80"


def test_encode_target_refuses_what_urllib3_refuses():
    for target in ("no-slash", "/a#b\nc", ""):
        with pytest.raises(LocationParseError, match="is not a valid request URI"):
            ptu._encode_target(target)
    assert ptu._encode_target("/a b?c d#e f") == "/a%20b?c%20d"


def test_tls_helper_regexes_match_urllib3():
    for text in ["::1", "fe80::1%eth0", "1.2.3.4", "0x7f.1", "[::1]", "host", "1:2:3", "::1\n"]:
        assert bool(ptu._BRACELESS_IPV6_ADDRZ_RE.match(text)) == bool(
            u3url._BRACELESS_IPV6_ADDRZ_RE.match(text)
        )
        assert bool(ptu._IPV4_RE.match(text)) == bool(u3url._IPV4_RE.match(text))
        assert bool(ptu._IPV6_RE.match(text)) == bool(u3url._IPV6_RE.match(text))


# --- Url ---------------------------------------------------------------------------------

OPTIONAL_TEXT = st.one_of(st.none(), st.text(st.sampled_from(list("aB:/%é@ ")), max_size=6))
URL_FIELDS = st.tuples(
    OPTIONAL_TEXT,
    OPTIONAL_TEXT,
    OPTIONAL_TEXT,
    st.one_of(st.none(), st.integers(0, 65535)),
    OPTIONAL_TEXT,
    OPTIONAL_TEXT,
    OPTIONAL_TEXT,
)
URL_PROPERTIES = [
    "hostname",
    "request_uri",
    "authority",
    "netloc",
    "url",
    "auth_decoded",
    "auth_decoded_joined",
]


@DIFF
@given(URL_FIELDS)
def test_url_fields_and_properties_match_urllib3(fields):
    ours, theirs = Url(*fields), u3url.Url(*fields)
    assert tuple(ours) == tuple(theirs)
    assert repr(ours) == repr(theirs)
    assert str(ours) == str(theirs)
    for name in URL_PROPERTIES:
        assert getattr(ours, name) == getattr(theirs, name), name


def test_url_defaults_and_normalisation():
    assert tuple(Url()) == (None,) * 7
    url = Url(scheme="HTTPS", host="h", path="p", query="")
    assert (url.scheme, url.path, url.request_uri, url.url) == (
        "https",
        "/p",
        "/p?",
        "https://h/p?",
    )
    assert Url(host="h", port=0).netloc == "h:0"
    assert Url(auth="a%3Ab:c%40d").auth_decoded == ("a:b", "c@d")
    assert Url(auth="user").auth_decoded_joined == "user:"
    assert Url().auth_decoded == (None, None)


def test_url_is_an_immutable_tuple_that_round_trips():
    url = parse_url("http://u:p@h:1/p?q#f")
    assert url == ("http", "u:p", "h", 1, "/p", "q", "f")
    assert pickle.loads(pickle.dumps(url)) == url
    assert type(pickle.loads(pickle.dumps(url))) is Url
    assert url._replace(port=2).port == 2
    assert parse_url(url.url) == url
    with pytest.raises(AttributeError):
        url.extra = 1  # type: ignore[attr-defined]


def test_request_uri_defaults_to_slash():
    assert parse_url("http://h").request_uri == "/"
    assert parse_url("http://h?x").request_uri == "/?x"
    assert parse_url("http://h/a?").request_uri == "/a?"


# --- pooltest.util.util ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "args", "expected"),
    [
        ("é", (), "é".encode()),
        (b"\xff", (), b"\xff"),
        ("é", ("latin-1",), b"\xe9"),
        ("é", (None, "ignore"), "é".encode()),
        ("é", ("ascii", "replace"), b"?"),
    ],
)
def test_to_bytes(value, args, expected):
    assert to_bytes(value, *args) == expected == urllib3_util().to_bytes(value, *args)


@pytest.mark.parametrize(
    ("value", "args", "expected"),
    [
        (b"\xc3\xa9", (), "é"),
        ("x", (), "x"),
        (b"\xe9", ("latin-1",), "é"),
        (b"\xff", (None, "replace"), "\ufffd"),
    ],
)
def test_to_str(value, args, expected):
    assert to_str(value, *args) == expected == urllib3_util().to_str(value, *args)


@pytest.mark.parametrize("func", [to_bytes, to_str])
def test_conversions_refuse_other_types(func):
    with pytest.raises(TypeError, match="not expecting type int"):
        func(1)  # type: ignore[arg-type]


def traceback_chain(error):
    entries, tb = [], error.__traceback__
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    return entries


def raised_here():
    try:
        raise ValueError("first")
    except ValueError as error:
        return error, error.__traceback__


@pytest.mark.parametrize("module", ["pooltest", "urllib3"])
def test_reraise_keeps_the_given_traceback(module):
    func = reraise if module == "pooltest" else urllib3_util().reraise
    original, traceback = raised_here()
    with pytest.raises(ValueError, match="first") as caught:
        func(type(original), original, traceback)
    assert caught.value is original
    assert traceback in traceback_chain(caught.value)


@pytest.mark.parametrize("module", ["pooltest", "urllib3"])
def test_reraise_without_traceback_starts_afresh(module):
    func = reraise if module == "pooltest" else urllib3_util().reraise
    original, traceback = raised_here()
    with pytest.raises(ValueError, match="first") as caught:
        func(None, original)
    assert traceback not in traceback_chain(caught.value)


def urllib3_util():
    import urllib3.util.util

    return urllib3.util.util


# --- API surface ---------------------------------------------------------------------------


def signature_of(func):
    parameters = inspect.signature(func).parameters.values()
    return [(p.name, p.kind, repr(p.default)) for p in parameters]


@pytest.mark.parametrize(
    "name",
    [
        "parse_url",
        "_encode_invalid_chars",
        "_normalize_host",
        "_encode_target",
        "_remove_path_dot_segments",
    ],
)
def test_function_signatures_match_urllib3(name):
    assert signature_of(getattr(ptu, name)) == signature_of(getattr(u3url, name))


@pytest.mark.parametrize("name", ["to_bytes", "to_str", "reraise"])
def test_util_signatures_match_urllib3(name):
    import pooltest.util.util as ours

    assert signature_of(getattr(ours, name)) == signature_of(getattr(urllib3_util(), name))


def test_url_class_surface_matches_urllib3():
    assert Url._fields == u3url.Url._fields
    assert signature_of(Url) == signature_of(u3url.Url)
    for name in dir(u3url.Url):
        if not name.startswith("_"):
            assert hasattr(Url, name), name
