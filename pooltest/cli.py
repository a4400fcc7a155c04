"""The ``pooltest`` command: ``main(argv=None) -> int``.

Subcommands (each lives in its own module, imported only when chosen, so ``pooltest --help``
stays fast):

* ``demo`` — record PoolManager pooling, LRU eviction and multipart encoding against built-in
  loopback servers, then replay the cassette offline and compare (``pooltest._demo``);
* ``show CASSETTE`` — the interactions as a table, or one in full (``pooltest._cli_show``);
* ``check CASSETTE...`` — lint: structure and unredacted secrets (``pooltest._cli_check``);
* ``serve CASSETTE`` — answer HTTP requests on loopback from the cassette
  (``pooltest._cli_serve``).

Exit status: 0 success, 1 failure or findings, 2 usage errors. Errors are one line on stderr,
``pooltest: error: ...``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import typing

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pooltest",
        description="A urllib3-compatible HTTP client whose traffic tests record and replay.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="record pooling, LRU eviction and multipart on loopback, replay it offline"
    )
    demo.add_argument(
        "--origins", type=int, default=11, help="how many loopback origins to visit (default 11)"
    )
    demo.add_argument("--cassette", metavar="PATH", help="keep the recorded cassette at PATH")
    show = commands.add_parser("show", help="list a cassette's interactions")
    show.add_argument("cassette", metavar="CASSETTE")
    show.add_argument(
        "--full", type=int, metavar="N", help="show interaction N (from 0) with its parsed body"
    )
    check = commands.add_parser("check", help="lint cassettes: structure and unredacted secrets")
    check.add_argument("cassettes", metavar="CASSETTE", nargs="+")
    check.add_argument(
        "--placeholder",
        action="append",
        default=[],
        metavar="TEXT",
        help="also accept TEXT as a redacted value (repeatable; <REDACTED> always is)",
    )
    serve = commands.add_parser("serve", help="serve a cassette's responses over loopback HTTP")
    serve.add_argument("cassette", metavar="CASSETTE")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    serve.add_argument(
        "--match-on",
        default="method,path,query,body",
        metavar="NAMES",
        help="comma-separated comparisons (default method,path,query,body)",
    )
    return parser


def _run(args: argparse.Namespace, out: typing.TextIO, err: typing.TextIO) -> int:
    if args.command == "demo":
        from ._demo import run_demo

        if args.origins < 2:
            raise _UsageError("--origins must be at least 2")
        return run_demo(origins=args.origins, out=out, cassette_path=args.cassette)
    if args.command == "show":
        from ._cli_show import run_show

        return run_show(args.cassette, args.full, out)
    if args.command == "check":
        from ._cli_check import run_check

        return run_check(args.cassettes, out, args.placeholder)
    if args.command == "serve":
        from ._cli_serve import run_serve

        match_on = _match_on(args.match_on)
        return run_serve(args.cassette, args.host, args.port, match_on, out)
    raise _UsageError("choose a command: demo, show, check or serve (see pooltest --help)")


def _match_on(text: str) -> list[str]:
    from .matchers import COMPARISONS

    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in COMPARISONS]
    if unknown or not names:
        known = ", ".join(COMPARISONS)
        raise _UsageError(f"--match-on: unknown comparison {', '.join(unknown)!r}; known: {known}")
    return names


class _UsageError(Exception):
    """A command line that cannot be run as given (exit status 2)."""


def main(argv: typing.Sequence[str] | None = None) -> int:
    """Run the ``pooltest`` command line; return the process exit status.

    Never raises for bad input: argparse's own exits become their status, and an expected
    failure (a missing or unreadable file, a bad cassette, a bad option value) is printed as
    one ``pooltest: error: ...`` line on stderr.
    """
    from .cassette import CassetteError

    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return _run(args, sys.stdout, sys.stderr)
    except _UsageError as exc:
        print(f"pooltest: error: {exc}", file=sys.stderr)
        return 2
    except (CassetteError, OSError, ValueError) as exc:
        print(f"pooltest: error: {_one_line(exc)}", file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0] if text else text


def _entry() -> None:  # pragma: no cover - exercised by the subprocess test
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
