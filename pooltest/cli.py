"""The ``pooltest`` command: ``main(argv=None) -> int``.

Subcommands:

* ``demo`` — walk through a PoolManager's pooling, LRU eviction and multipart encoding against
  built-in loopback servers (no network needed).
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
        "demo", help="show pooling, LRU eviction and multipart encoding on loopback servers"
    )
    demo.add_argument(
        "--origins", type=int, default=11, help="how many loopback origins to visit (default 11)"
    )
    return parser


def main(argv: typing.Sequence[str] | None = None) -> int:
    """Run the ``pooltest`` command line; returns the process exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._demo import run_demo

        return run_demo(origins=args.origins, out=sys.stdout)
    parser.print_help()
    return 2


def _entry() -> None:  # pragma: no cover - exercised by the subprocess test
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
