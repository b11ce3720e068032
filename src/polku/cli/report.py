"""``polku report --out DIR``: a static HTML report (plotly, works offline) and the same figures as JSON."""

from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("report", help="build the HTML report (and report.json) from the tables")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for index.html, report.json, plotly.min.js")
    p.add_argument("--days", type=int, default=7, help="attribution window in days after a message/click (default 7)")
    p.set_defaults(func=run)


def run(args) -> int:
    from polku.cli.main import CliError
    from polku.cli.target import Target, TargetError
    from polku.reporting.build import build_report
    from polku.reporting.figures import summary_lines

    if args.days < 1:
        raise CliError("--days: must be at least 1")
    try:
        target = Target.from_args(args)
    except TargetError as exc:
        raise CliError(str(exc)) from None
    settings = target.use()
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out: {out} exists and is not a folder")
    index = build_report(out, target.client("dynamodb"), settings, attribution_days=args.days,
                         sfn=target.client("stepfunctions"))
    fig = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for line in summary_lines(fig):
        print(f"  {line}")
    print(f"report: {index.resolve()}")
    print(f"report: {(out / 'report.json').resolve()}")
    return 0
