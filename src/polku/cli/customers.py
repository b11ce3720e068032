"""``polku customers export|erase ID`` (or ``--anonymous-id ID``): one person's data (privacy).

The id is a customer id, or the anonymous id of a browser that never identified: given as
``--anonymous-id``, or detected when Polku knows the id only as an anonymous one.
"""

from __future__ import annotations

import json
import sys


def register(sub) -> None:
    p = sub.add_parser("customers", help="export or erase one customer's or anonymous visitor's data")
    csub = p.add_subparsers(dest="customers_command", metavar="ACTION")
    e = csub.add_parser("export", help="print everything Polku holds about a customer or anonymous visitor as JSON")
    _id_arguments(e)
    e.add_argument("--out", metavar="FILE", help="write the JSON to FILE instead of stdout")
    e.set_defaults(func=run_export)
    r = csub.add_parser("erase", help="delete or anonymise everything about a customer or anonymous visitor in every "
                                      "table, export and running journey (docs/privacy.md)")
    _id_arguments(r)
    r.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    r.set_defaults(func=run_erase)
    h = csub.add_parser("hash-suppressions", help="rewrite suppression rows keyed by a plain address under the "
                                                  "address's salted hash (once, after upgrading; docs/privacy.md)")
    h.set_defaults(func=run_hash_suppressions)


def _id_arguments(parser) -> None:
    parser.add_argument("customer_id", nargs="?", metavar="ID",
                        help="a customer id (an id Polku knows only as an anonymous one is taken as one)")
    parser.add_argument("--anonymous-id", metavar="ID",
                        help="the anonymous id of a browser (the tracker's anonymous_id) instead of a customer id")


def _subject(args) -> tuple[str, str]:
    """("customer" | "anonymous", id) from the arguments, checked before anything is contacted."""
    from polku.cli.main import CliError
    from polku.tracking.validation import Invalid, check_id

    if (args.customer_id is None) == (args.anonymous_id is None):
        raise CliError("customer_id: give a customer id or --anonymous-id ID (one of them)")
    kind, some_id = ("anonymous", args.anonymous_id) if args.anonymous_id is not None else ("customer", args.customer_id)
    field = "anonymous_id" if kind == "anonymous" else "customer_id"
    try:
        check_id(some_id, field)
    except Invalid as err:
        raise CliError(f"{err.field} {err.reason}") from None
    return kind, some_id


def _target(args):
    from polku.cli.main import CliError
    from polku.cli.target import Target, TargetError

    try:
        target = Target.from_args(args)
    except TargetError as exc:
        raise CliError(str(exc)) from None
    target.use()
    return target


def _resolve(kind: str, some_id: str) -> str:
    """A customer id Polku knows only as an anonymous id is one (said on stderr)."""
    from polku.tracking import privacy

    if kind == "customer" and privacy.is_anonymous(some_id):
        print(f"{some_id} is an anonymous id (a browser): acting on it as --anonymous-id {some_id}", file=sys.stderr)
        return "anonymous"
    return kind


def run_export(args) -> int:
    from polku.tracking import privacy

    kind, some_id = _subject(args)
    target = _target(args)
    kind = _resolve(kind, some_id)
    where = {"aws": target.client, "settings": target.settings()}
    data = privacy.export_anonymous(some_id, **where) if kind == "anonymous" else privacy.export(some_id, **where)
    text = json.dumps(data, indent=2, sort_keys=True, default=str)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        print(f"exported {len(data['events'])} events of {some_id} to {args.out}", file=sys.stderr)
    else:
        print(text)
    return 0


def run_erase(args) -> int:
    from polku.cli.main import CliError
    from polku.tracking import privacy

    kind, some_id = _subject(args)
    if not args.yes and not sys.stdin.isatty():
        raise CliError("erase is permanent; pass --yes to confirm")
    target = _target(args)
    kind = _resolve(kind, some_id)
    if not args.yes:
        who = "anonymous visitor" if kind == "anonymous" else "customer"
        answer = input(f"Erase everything about {who} {some_id}? Type the id to confirm: ")
        if answer.strip() != some_id:
            raise CliError("not confirmed; nothing erased")
    where = {"aws": target.client, "settings": target.settings()}
    try:
        if kind == "anonymous":
            result = privacy.erase_anonymous(some_id, **where)
        else:
            result = privacy.erase(some_id, **where)
    except privacy.LinkedBrowser as exc:
        raise CliError(str(exc)) from None
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


def run_hash_suppressions(args) -> int:
    from polku.messaging import suppression_list

    target = _target(args)
    salt = suppression_list.load_salt(target.settings().suppression_salt_secret_arn, target.client)
    n = suppression_list.hash_earlier_rows(salt=salt)
    print(f"rewrote {n} suppression rows under the salted hash of their address", file=sys.stderr)
    return 0
