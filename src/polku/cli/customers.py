"""``polku customers export ID`` / ``polku customers erase ID``: one customer's data (privacy)."""

from __future__ import annotations

import json
import sys


def register(sub) -> None:
    p = sub.add_parser("customers", help="export or erase one customer's data")
    csub = p.add_subparsers(dest="customers_command", metavar="ACTION")
    e = csub.add_parser("export", help="print everything Polku holds about a customer as JSON")
    e.add_argument("customer_id")
    e.add_argument("--out", metavar="FILE", help="write the JSON to FILE instead of stdout")
    e.set_defaults(func=run_export)
    r = csub.add_parser("erase", help="delete a customer's events, profile, identity links, messages, journey state")
    r.add_argument("customer_id")
    r.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    r.set_defaults(func=run_erase)


def _target(args):
    from polku.cli.main import CliError
    from polku.cli.target import Target, TargetError
    from polku.tracking.validation import Invalid, check_id

    try:
        check_id(args.customer_id, "customer_id")
    except Invalid as err:
        raise CliError(f"{err.field} {err.reason}") from None
    try:
        target = Target.from_args(args)
    except TargetError as exc:
        raise CliError(str(exc)) from None
    target.use()
    return target


def run_export(args) -> int:
    from polku.tracking import privacy

    _target(args)
    data = privacy.export(args.customer_id)
    text = json.dumps(data, indent=2, sort_keys=True, default=str)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        print(f"exported {len(data['events'])} events of {args.customer_id} to {args.out}", file=sys.stderr)
    else:
        print(text)
    return 0


def run_erase(args) -> int:
    from polku.cli.main import CliError
    from polku.tracking import privacy

    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError("erase is permanent; pass --yes to confirm")
        answer = input(f"Erase everything about {args.customer_id}? Type the id to confirm: ")
        if answer.strip() != args.customer_id:
            raise CliError("not confirmed; nothing erased")
    _target(args)
    result = privacy.erase(args.customer_id)
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0
