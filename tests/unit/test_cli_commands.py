"""The ``pooltest`` command line without servers: parsing, exit codes, ``show`` and ``check``.

Cassettes here are built from :class:`Interaction` objects and saved with the library's writer,
or written as broken text on purpose; the commands read them back from disk.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest
from werkzeug.test import EnvironBuilder

from pooltest._cli_check import find_secrets, is_secret_name
from pooltest._cli_serve import request_from_environ
from pooltest.cassette import PLACEHOLDER, Interaction, Request, Response
from pooltest.cassette._format import save
from pooltest.cli import main

WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


def _interaction(
    uri: str = "http://127.0.0.1:8000/json",
    *,
    method: str = "GET",
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
    response_body: bytes = b'{"ok": true}',
    response_headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),),
    status: int = 200,
) -> Interaction:
    length = (("Content-Length", str(len(response_body))),)
    response = Response(status, "OK", response_headers + length, response_body)
    return Interaction(Request(method, uri, headers, body), response, WHEN)


def _cassette(tmp_path: Path, *interactions: Interaction, name: str = "c.yaml") -> str:
    path = tmp_path / name
    save(path, list(interactions))
    return str(path)


# --- parsing and exit codes -------------------------------------------------------------------


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pooltest: error: choose a command")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["nope"],
        ["show"],
        ["check"],
        ["show", "x.yaml", "--full", "one"],
        ["serve", "x.yaml", "--port", "http"],
    ],
)
def test_argparse_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage: pooltest" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("demo", "show", "check", "serve"):
        assert command in out


def test_demo_refuses_one_origin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--origins", "1"]) == 2
    assert capsys.readouterr().err == "pooltest: error: --origins must be at least 2\n"


def test_serve_refuses_an_unknown_comparison(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _cassette(tmp_path, _interaction())
    assert main(["serve", path, "--match-on", "method,colour"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pooltest: error: --match-on: unknown comparison 'colour'")


@pytest.mark.parametrize("command", ["show", "serve"])
def test_a_missing_cassette_is_one_line_and_exit_1(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "missing.yaml")
    assert main([command, missing]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"pooltest: error: Cassette not found: {missing}")
    assert err.count("\n") == 1


# --- show -------------------------------------------------------------------------------------


def test_show_lists_every_interaction(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _cassette(
        tmp_path,
        _interaction(),
        _interaction(
            "http://127.0.0.1:8000/upload",
            method="POST",
            headers=(("Content-Type", "application/x-www-form-urlencoded"),),
            body=b"a=1&b=2",
            response_body=b"done",
            response_headers=(("Content-Type", "text/plain; charset=utf-8"),),
            status=201,
        ),
    )
    assert main(["show", path]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "#", "METHOD", "URL", "STATUS", "REQ", "RESP", "RECORDED_AT", "CONTENT-TYPE"
    ]  # fmt: skip
    assert lines[1].split() == [
        "0", "GET", "http://127.0.0.1:8000/json", "200", "0", "12",
        "2026-01-02T03:04:05+00:00", "application/json",
    ]  # fmt: skip
    assert lines[2].split() == [
        "1", "POST", "http://127.0.0.1:8000/upload", "201", "7", "4",
        "2026-01-02T03:04:05+00:00", "text/plain",
    ]  # fmt: skip
    assert lines[3] == "2 interaction(s)"


def test_show_shortens_long_urls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _cassette(tmp_path, _interaction("http://127.0.0.1:8000/" + "x" * 200))
    assert main(["show", path]) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert "x" * 200 not in row
    assert "..." in row


def test_show_full_parses_a_multipart_upload(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pooltest.filepost import encode_multipart_formdata

    body, content_type = encode_multipart_formdata(
        {"doc": ("a.txt", b"hello", "text/plain"), "tag": "x"}
    )
    path = _cassette(
        tmp_path,
        _interaction(),
        _interaction(
            "http://127.0.0.1:8000/upload?v=2",
            method="POST",
            headers=(("Content-Type", content_type),),
            body=body,
        ),
    )
    assert main(["show", path, "--full", "1"]) == 0
    out = capsys.readouterr().out
    assert "Request: POST http://127.0.0.1:8000/upload?v=2" in out
    assert "query: [('v', '2')]" in out
    assert "form: [('tag', 'x')]" in out
    assert "file 'doc': 'a.txt', text/plain, 5 bytes" in out
    assert 'body: {"ok": true}' in out


def test_show_full_parses_json_and_describes_encoded_bodies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packed = gzip.compress(b'{"n": 1}')
    path = _cassette(
        tmp_path,
        _interaction(
            method="POST",
            headers=(("Content-Type", "application/json"),),
            body=json.dumps({"items": [1, 2]}).encode(),
            response_body=packed,
            response_headers=(("Content-Encoding", "gzip"),),
        ),
    )
    assert main(["show", path, "--full", "0"]) == 0
    out = capsys.readouterr().out
    assert "json: {'items': [1, 2]}" in out
    assert f"body: {len(packed)} bytes, gzip-encoded" in out


def test_show_full_out_of_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _cassette(tmp_path, _interaction())
    assert main(["show", path, "--full", "3"]) == 1
    assert capsys.readouterr().err == (
        f"pooltest: error: --full 3: {path} holds interactions 0 to 0\n"
    )


# --- check ------------------------------------------------------------------------------------


def test_check_passes_redacted_cassettes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _cassette(
        tmp_path,
        _interaction(
            "http://127.0.0.1:8000/json?token=" + PLACEHOLDER + "&page=2",
            headers=(("Authorization", PLACEHOLDER), ("Cookie", PLACEHOLDER)),
        ),
    )
    assert main(["check", path]) == 0
    assert capsys.readouterr().out == "1 cassette(s) checked: clean\n"


def test_check_reports_secrets_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leaky = _interaction(
        "http://127.0.0.1:8000/json?access_token=abc",
        headers=(("Authorization", "Bearer abc"), ("X-Session-Id", "s1")),
    )
    path = _cassette(tmp_path, _interaction(), leaky)
    assert main(["check", path]) == 1
    out = capsys.readouterr().out.splitlines()
    lines = Path(path).read_text().splitlines()
    start = [n for n, line in enumerate(lines, 1) if line == "- request:"][1]
    assert out == [
        f"{path}:{start}: interaction 1: unredacted header Authorization",
        f"{path}:{start}: interaction 1: unredacted header X-Session-Id",
        f"{path}:{start}: interaction 1: unredacted query parameter 'access_token'",
        "1 cassette(s) checked: 3 finding(s)",
    ]


def test_check_reports_structural_errors_with_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _cassette(tmp_path, _interaction(), name="good.yaml")
    bad = tmp_path / "bad.yaml"
    lines = Path(good).read_text().splitlines()
    at = lines.index("    body: null")
    lines[at] = "    body: !!python/object/apply:os.system ['echo owned']"
    bad.write_text("\n".join(lines) + "\n")
    assert main(["check", good, str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert out[0].startswith(f"{bad}:{at + 1}: ")
    assert "python/object" in out[0]
    assert out[1] == "2 cassette(s) checked: 1 finding(s)"


def test_check_reports_unreadable_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.yaml"
    assert main(["check", str(tmp_path), str(missing)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{tmp_path}: cannot read: ")
    assert out[1] == f"{missing}: Cassette not found: {missing}"


def test_secrets_in_json_and_form_bodies() -> None:
    sent = _interaction(
        method="POST",
        headers=(("Content-Type", "application/json"),),
        body=json.dumps({"user": {"password": "hunter2", "name": "x"}, "api_key": ""}).encode(),
        response_body=json.dumps({"data": [{"refresh_token": "r"}]}).encode(),
    )
    assert find_secrets(sent) == [
        "unredacted JSON field request json.user.password",
        "unredacted JSON field response json.data[0].refresh_token",
    ]
    form = _interaction(
        method="POST",
        headers=(("Content-Type", "application/x-www-form-urlencoded"),),
        body=b"client_secret=s&grant_type=password",
    )
    assert find_secrets(form) == ["unredacted form field 'client_secret'"]


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("token", True),
        ("Access-Token", True),
        ("API_KEY", True),
        ("github_token", True),
        ("client_secret", True),
        ("password", True),
        ("page", False),
        ("tokens_used", False),
        ("keyword", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


# --- serve: from a WSGI environ to a Request --------------------------------------------------


def test_request_from_environ_keeps_uri_headers_and_body() -> None:
    environ = EnvironBuilder(
        path="/upload",
        query_string="a=1&a=2",
        method="POST",
        headers=[("Host", "127.0.0.1:9000"), ("X-Id", "7")],
        data=b'{"k": 1}',
        content_type="application/json",
    ).get_environ()
    request = request_from_environ(environ)
    assert request.method == "POST"
    assert request.uri == "http://127.0.0.1:9000/upload?a=1&a=2"
    assert request.headers["X-Id"] == "7"
    assert request.content_type == "application/json"
    assert request.json == {"k": 1}


def test_check_accepts_extra_placeholders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _cassette(
        tmp_path,
        _interaction("http://127.0.0.1:8000/json?api_key=XXX", headers=(("Cookie", "XXX"),)),
    )
    assert main(["check", path]) == 1
    assert capsys.readouterr().out.endswith("1 cassette(s) checked: 2 finding(s)\n")
    assert main(["check", "--placeholder", "XXX", path]) == 0
    assert capsys.readouterr().out == "1 cassette(s) checked: clean\n"


def test_non_text_json_values_are_not_secrets() -> None:
    body = json.dumps({"token": True, "password": None, "secret": {"id": "1"}}).encode()
    sent = _interaction(method="POST", headers=(("Content-Type", "application/json"),), body=body)
    assert find_secrets(sent) == []
    numeric = _interaction(
        method="POST",
        headers=(("Content-Type", "application/json"),),
        body=b'{"pin": 1, "access_token": 12345}',
    )
    assert find_secrets(numeric) == ["unredacted JSON field request json.access_token"]
