"""``polku segments lint|preview``: marketer-written segments (segments/*.yaml; docs/campaigns.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from polku.cli.errors import CliError


def register(sub) -> None:
    p = sub.add_parser("segments", help="check segments and preview who is in one (segments/*.yaml)")
    ssub = p.add_subparsers(dest="segments_command", metavar="ACTION")
    lint = ssub.add_parser("lint", help="check every segment file; exit 1 on an error")
    lint.add_argument("--dir", metavar="DIR", help="the segments folder (default: segments/)")
    lint.set_defaults(func=run_lint)
    pv = ssub.add_parser("preview", help="count a segment's members now (parallel scan of the profiles) and show a sample")
    pv.add_argument("name", metavar="NAME")
    pv.add_argument("--dir", metavar="DIR", help="the segments folder (default: segments/)")
    pv.add_argument("--sample", type=int, default=5, metavar="N", help="how many members to show (default 5)")
    pv.add_argument("--parts", type=int, default=4, metavar="N", help="parallel scan segments (default 4)")
    pv.add_argument("--at", metavar="ISO8601", help="evaluate as of this time (default: now)")
    pv.set_defaults(func=run_preview)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _folder(args) -> Path | None:
    return Path(args.dir) if getattr(args, "dir", None) else None


def run_lint(args) -> int:
    from polku.campaigns import segments

    folder = _folder(args) or segments.default_dir()
    errors = 0
    for path in sorted(folder.glob("*.yaml")):
        try:
            segments.load(path.stem, folder)
        except segments.SegmentError as exc:
            errors += 1
            print(f"segments/{path.name}: error: {exc}")
    print(f"polku segments lint: {errors} error(s)", file=sys.stderr)
    return 1 if errors else 0


def run_preview(args) -> int:
    from polku import clock
    from polku.campaigns import audience, segments
    from polku.cli.customers import _target

    try:
        segment = segments.load(args.name, _folder(args))
    except segments.SegmentError as exc:
        raise CliError(str(exc)) from None
    if not 1 <= args.parts <= audience.MAX_PARTS:
        raise CliError(f"--parts: 1 to {audience.MAX_PARTS}")
    try:
        at = clock.parse_iso(args.at) if args.at else None
    except ValueError:
        raise CliError(f"--at: not an ISO-8601 time: {args.at!r}") from None
    _target(args)
    result = audience.preview(segment, at, parts=args.parts, sample=max(0, args.sample))
    print(json.dumps({"segment": result.segment, "count": result.count, "sample": result.sample}, indent=2))
    return 0
