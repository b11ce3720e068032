"""``polku`` — one entry point; each topic lives in its own module with ``register(subparsers)``."""

from __future__ import annotations

import argparse
import importlib
import sys

from polku.cli.errors import CliError

# Topic modules, in help order. A module that is not there (yet) is skipped.
TOPICS = ["local", "customers", "templates", "catalog", "recommend", "journeys", "segments", "campaigns", "enroll", "report",
          "doctor", "sending"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="polku", description="Polku marketing automation")
    parser.add_argument(
        "--stack",
        metavar="NAME",
        help="act on the deployed CloudFormation stack NAME (found through its Outputs) "
        "instead of the running local twin",
    )
    parser.add_argument(
        "--endpoint",
        metavar="URL",
        help="the local twin's API (default: $POLKU_ENDPOINT or http://127.0.0.1:8000)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for topic in TOPICS:
        try:
            module = importlib.import_module(f"polku.cli.{topic}")
        except ModuleNotFoundError as exc:
            if exc.name == f"polku.cli.{topic}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"polku: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
