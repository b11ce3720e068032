"""``polku enroll``: distributed marketing from the command line.

* ``polku enroll JOURNEY --customers FILE|IDS --role R [--override block=text]...`` —
  POST a SigV4-signed enrolment (service execute-api) and wait for it to finish.
* ``polku enroll-status ID`` — progress of an enrolment.
* ``polku enroll-grant ARN --role R [--partner P]`` — admin: let an IAM principal enrol.
* ``polku enroll-link PARTNER --customers FILE|IDS`` — admin: link customers to a partner.

Against a deployed stack (``--stack``) requests are signed with your AWS credentials
(boto3's usual chain). Against the local twin, ``--as ARN`` (default
``arn:aws:iam::123456789012:user/polku-<role>``) gets keys for that ARN from the twin.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("enroll", help="enrol customers into a journey (distributed marketing)")
    p.add_argument("journey", help="journey name, e.g. nurture")
    p.add_argument("--customers", required=True, metavar="FILE|IDS",
                   help="comma-separated ids, or a file: one id per line, a JSON list, or a CSV with a "
                        "customer_id column (other columns = per-recipient overrides of editable blocks)")
    p.add_argument("--role", choices=["marketing", "sales", "service", "partner"], help="the role you act in")
    p.add_argument("--override", action="append", default=[], metavar="BLOCK=TEXT",
                   help="override an editable block for every recipient (repeatable)")
    p.add_argument("--property", action="append", default=[], metavar="NAME=VALUE",
                   help="a property every run receives as its trigger's (repeatable), e.g. event_date=2026-04-18")
    p.add_argument("--as", dest="as_arn", metavar="ARN", help="(local twin) the IAM principal to act as")
    p.add_argument("--idempotency-key", help="retry-safe key; the same key and body enrol each customer once")
    p.add_argument("--no-wait", action="store_true", help="return once queued")
    p.set_defaults(func=run_enroll)

    s = sub.add_parser("enroll-status", help="progress of an enrolment")
    s.add_argument("enrollment_id")
    s.add_argument("--as", dest="as_arn", metavar="ARN")
    s.set_defaults(func=run_status, role=None)

    g = sub.add_parser("enroll-grant", help="admin: let an IAM principal (user or role ARN) enrol in roles")
    g.add_argument("arn")
    g.add_argument("--role", action="append", required=True, choices=["marketing", "sales", "service", "partner"])
    g.add_argument("--partner", help="partner id (required with --role partner)")
    g.set_defaults(func=run_grant)

    link = sub.add_parser("enroll-link", help="admin: link customers to a partner (partners enrol only these)")
    link.add_argument("partner")
    link.add_argument("--customers", required=True, metavar="FILE|IDS")
    link.set_defaults(func=run_link)


def read_customers(spec: str) -> list:
    """Ids or {customer_id, overrides} from a file or a comma-separated list."""
    from polku.cli.main import CliError

    path = Path(spec)
    if not path.is_file():
        if any(sep in spec for sep in ("/", "\\")) or spec.endswith((".csv", ".txt", ".json")):
            raise CliError(f"--customers: no file {spec}")
        ids = [s.strip() for s in spec.split(",") if s.strip()]
        if not ids:
            raise CliError("--customers: give ids separated by commas or a file")
        return ids
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CliError(f"--customers: {path} is not JSON ({exc})") from None
        if not isinstance(data, list):
            raise CliError(f"--customers: {path} must hold a JSON list")
        return data
    if path.suffix == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        if not rows or "customer_id" not in rows[0]:
            raise CliError(f"--customers: {path} needs a header with a customer_id column")
        out: list = []
        for row in rows:
            ov = {k: v for k, v in row.items() if k != "customer_id" and v}
            out.append({"customer_id": row["customer_id"], "overrides": ov} if ov else row["customer_id"])
        return out
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _client(args):
    from polku.cli.main import CliError
    from polku.cli.target import Target, TargetError
    from polku.enrollment.signed_client import EnrollmentClient

    try:
        target = Target.from_args(args)
    except TargetError as exc:
        raise CliError(str(exc)) from None
    if not target.api_url:
        raise CliError("the target has no ApiUrl output")
    if target.endpoint_url:  # the local twin: ask it for keys of the ARN we act as
        import urllib.request

        from botocore.credentials import Credentials

        arn = args.as_arn or f"arn:aws:iam::123456789012:user/polku-{args.role or 'marketing'}"
        req = urllib.request.Request(target.api_url.rstrip("/") + "/_polku/principals", method="POST",
                                     data=json.dumps({"arn": arn}).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            keys = json.load(resp)
        creds = Credentials(keys["access_key"], keys["secret_key"])
    else:
        import boto3

        creds = boto3.Session().get_credentials()
        if creds is None:
            raise CliError("no AWS credentials found to sign the request (configure a profile or role)")
    return EnrollmentClient(target.api_url, creds, target.region)


def _fail(resp) -> None:
    from polku.cli.main import CliError

    err = resp.body.get("error") if isinstance(resp.body, dict) else None
    if isinstance(err, dict):
        raise CliError(f"refused ({resp.status}): {err.get('field')}: {err.get('reason')}")
    raise CliError(f"refused ({resp.status}): {resp.body.get('message') or resp.body}")


def run_enroll(args) -> int:
    from polku.cli.main import CliError

    overrides = {}
    for item in args.override:
        block, sep, text = item.partition("=")
        if not sep or not block:
            raise CliError(f"--override: expected BLOCK=TEXT, got {item!r}")
        overrides[block] = text
    properties = {}
    for item in args.property:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise CliError(f"--property: expected NAME=VALUE, got {item!r}")
        properties[name] = value
    customers = read_customers(args.customers)
    client = _client(args)
    resp = client.enroll(args.journey, customers, role=args.role, overrides=overrides or None,
                         idempotency_key=args.idempotency_key, properties=properties or None)
    if not resp.ok:
        _fail(resp)
    body = resp.body
    print(f"enrolment {body['enrollment_id']}: {body['customers']} customers into {body['journey']} as "
          f"{body['role']} in {body['chunks']} chunk(s){' (retry of an earlier request)' if body['retried'] else ''}")
    if args.no_wait:
        return 0
    for _ in range(600):
        prog = client.progress(body["enrollment_id"])
        if not prog.ok:
            _fail(prog)
        if prog.body["status"] == "completed":
            break
        time.sleep(1)
    c = prog.body["counts"]
    print(f"{prog.body['status']}: {c['started']} started, {c['unknown_customer']} unknown, "
          f"{c.get('unreachable', 0)} unreachable, {c['failed']} failed")
    for p in prog.body.get("problems", [])[:10]:
        print(f"  {p['customer_id']}: {p['status']} ({p.get('reason')})")
    return 0 if not c["failed"] else 1


def run_status(args) -> int:
    client = _client(args)
    resp = client.progress(args.enrollment_id)
    if not resp.ok:
        _fail(resp)
    print(json.dumps(resp.body, indent=2))
    return 0


def _use_target(args):
    from polku.cli.main import CliError
    from polku.cli.target import Target, TargetError

    try:
        return Target.from_args(args).use()
    except TargetError as exc:
        raise CliError(str(exc)) from None


def run_grant(args) -> int:
    from polku.cli.main import CliError
    from polku.enrollment import store

    _use_target(args)
    try:
        store.grant(args.arn, args.role, args.partner)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(f"granted {args.arn}: {', '.join(sorted(set(args.role)))}"
          + (f" (partner {args.partner})" if args.partner else ""))
    return 0


def run_link(args) -> int:
    from polku.data import enrollments

    _use_target(args)
    ids = [c if isinstance(c, str) else c["customer_id"] for c in read_customers(args.customers)]
    enrollments.link_partner_customers(args.partner, ids)
    print(f"linked {len(ids)} customers to partner {args.partner}")
    return 0
