"""``pooltest show CASSETTE [--full N]``: a cassette's interactions, readable.

The table has one row per interaction: index, method, URL, status, request and response body
sizes (bytes as stored, so a gzip body counts compressed), ``recorded_at`` and the response's
content type. ``--full N`` prints interaction ``N`` with its headers and the parsed views the
matchers use (:class:`pooltest.cassette.Request`'s ``query``, ``form``, ``files``, ``json``), and
the response body as text when it is text, else its size.
"""

from __future__ import annotations

import typing

from .cassette import Interaction, Request
from .cassette._format import load

__all__ = ["run_show"]

_COLUMNS = ("#", "METHOD", "URL", "STATUS", "REQ", "RESP", "RECORDED_AT", "CONTENT-TYPE")
_URL_WIDTH = 60
_TEXT_LIMIT = 2000


def run_show(path: str, full: int | None, out: typing.TextIO) -> int:
    """Print the table (or interaction ``full``) of the cassette at ``path``; return 0.

    Raises the cassette's load errors, and ValueError when ``full`` is out of range.
    """
    interactions = load(path)
    if full is None:
        _table(interactions, out)
        return 0
    if not 0 <= full < len(interactions):
        raise ValueError(f"--full {full}: {path} holds interactions 0 to {len(interactions) - 1}")
    _full(full, interactions[full], out)
    return 0


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _table(interactions: list[Interaction], out: typing.TextIO) -> None:
    rows = [_COLUMNS]
    for index, item in enumerate(interactions):
        request, response = item.request, item.response
        rows.append(
            (
                str(index),
                request.method,
                _shorten(request.uri, _URL_WIDTH),
                str(response.status),
                str(len(request.body)),
                str(len(response.body)),
                item.recorded_at.isoformat(timespec="seconds"),
                (response.header("content-type") or "-").split(";", 1)[0],
            )
        )
    widths = [max(len(row[col]) for row in rows) for col in range(len(_COLUMNS))]
    for row in rows:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), file=out
        )
    print(f"{len(interactions)} interaction(s)", file=out)


def _full(index: int, item: Interaction, out: typing.TextIO) -> None:
    request, response = item.request, item.response

    def say(line: str) -> None:
        print(line, file=out)

    say(f"Interaction {index}, recorded at {item.recorded_at.isoformat()}")
    say(f"Request: {request.method} {request.uri}")
    for name, value in request.raw_headers:
        say(f"  {name}: {value}")
    if request.query:
        say(f"  query: {request.query}")
    _request_body(request, say)
    say(f"Response: {response.version} {response.status} {response.reason}")
    for name, value in response.headers:
        say(f"  {name}: {value}")
    _response_body(response.body, response.header("content-encoding"), say)


def _request_body(request: Request, say: typing.Callable[[str], None]) -> None:
    body = request.body
    if not body:
        say("  body: (empty)")
        return
    form, files = request.form, request.files
    if form or files:
        say(f"  form: {[(name, value) for name, value in form.items(multi=True)]}")
        for name, part in files.items(multi=True):
            say(f"  file {name!r}: {part.filename!r}, {part.content_type}, {len(part.data)} bytes")
        return
    ok, value = request.parsed_json()
    if ok:
        say(f"  json: {value!r}")
        return
    _response_body(body, None, say)


def _response_body(body: bytes, encoding: str | None, say: typing.Callable[[str], None]) -> None:
    if not body:
        say("  body: (empty)")
        return
    if encoding and encoding.strip().lower() != "identity":
        say(f"  body: {len(body)} bytes, {encoding}-encoded")
        return
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        say(f"  body: {len(body)} bytes of binary data")
        return
    say("  body: " + _shorten(text, _TEXT_LIMIT))
