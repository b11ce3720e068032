"""``polku campaigns lint|preview|simulate|send|redrive``: one-off campaigns (campaigns/*.yaml; docs/campaigns.md)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from polku.cli.errors import CliError


def register(sub) -> None:
    p = sub.add_parser("campaigns", help="check, preview, simulate and send one-off campaigns (campaigns/*.yaml)")
    csub = p.add_subparsers(dest="campaigns_command", metavar="ACTION")

    def files(parser):
        parser.add_argument("--dir", metavar="DIR", help="the campaigns folder (default: campaigns/)")
        parser.add_argument("--segments-dir", metavar="DIR", help="the segments folder (default: segments/)")

    lint = csub.add_parser("lint", help="check campaign files: segment, template per variant and channel, send window")
    lint.add_argument("names", nargs="*", metavar="NAME", help="campaigns to check (default: all)")
    files(lint)
    lint.set_defaults(func=run_lint)

    pv = csub.add_parser("preview", help="the audience now (count, holdout, sample) and one recipient's message")
    pv.add_argument("name", metavar="NAME")
    pv.add_argument("--parts", type=int, default=4, metavar="N", help="parallel scan segments (default 4)")
    pv.add_argument("--at", metavar="ISO8601", help="evaluate the segment as of this time (default: now)")
    files(pv)
    pv.set_defaults(func=run_preview)

    sim = csub.add_parser("simulate", help="feed a timeline into a fresh twin on a virtual clock and send the campaign")
    sim.add_argument("name", metavar="NAME")
    sim.add_argument("--timeline", required=True, metavar="FILE.jsonl",
                     help="JSON lines of tracking events (the format of polku journeys simulate)")
    sim.add_argument("--at", metavar="ISO8601", help="when the campaign starts (default: its send window's start)")
    sim.add_argument("--output", "-o", metavar="FILE", help="write JSON lines here instead of standard output")
    sim.add_argument("--outbox", metavar="DIR", help="also write the sent messages here as the demo's outbox does")
    sim.add_argument("--summary", action="store_true", help="also print counts by status and variant to stderr")
    files(sim)
    sim.set_defaults(func=run_simulate)

    send = csub.add_parser("send", help="start the campaign on the twin or a deployed stack (--stack)")
    send.add_argument("name", metavar="NAME")
    send.add_argument("--run", default=None, metavar="ID", help="the run's id (default: today's date); a run is sent once")
    send.add_argument("--parts", type=int, default=4, metavar="N", help="parallel scan segments (default 4)")
    send.add_argument("--wait", action="store_true", help="wait for the run to end and print its plan")
    files(send)
    send.set_defaults(func=run_send)

    rd = csub.add_parser("redrive", help="run a failed campaign run again from its failed wave (only unsent batches)")
    rd.add_argument("name", metavar="NAME")
    rd.add_argument("--run", required=True, metavar="ID")
    rd.set_defaults(func=run_redrive)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _dir(value) -> Path | None:
    return Path(value) if value else None


def _load(args):
    from polku.campaigns import definition, segments

    try:
        campaign = definition.load(args.name, _dir(args.dir))
        segment = segments.load(campaign.segment, _dir(args.segments_dir))
    except (definition.CampaignError, segments.SegmentError) as exc:
        raise CliError(str(exc)) from None
    return campaign, segment


def _store():
    from polku.messaging.wiring import template_store

    return template_store("")


def _quiet():
    from polku.messaging.wiring import send_policy
    from polku.settings import Settings

    return send_policy(Settings())[1]


def run_lint(args) -> int:
    from polku.campaigns import content, definition

    folder = _dir(args.dir) or definition.default_dir()
    names = args.names or sorted(p.stem for p in folder.glob("*.yaml"))
    errors = 0
    for name in names:
        try:
            campaign = definition.load(name, folder)
        except definition.CampaignError as exc:
            errors += 1
            print(f"campaigns/{name}.yaml: error: {exc}")
            continue
        for finding in content.lint(campaign, _store(), segments_dir=_dir(args.segments_dir), quiet=_quiet()):
            errors += 1
            print(f"campaigns/{name}.yaml: error: {finding}")
    if not args.names:  # the campaign state machine itself: the ASL schema (asl-validator)
        from polku.journeys.lint import repo_root, schema_findings

        root = repo_root()
        for finding in schema_findings(root / "statemachines" / "campaigns" / "campaign.asl.json", root):
            errors += 1
            print(finding)
    print(f"polku campaigns lint: {len(names)} campaign(s), {errors} error(s)", file=sys.stderr)
    return 1 if errors else 0


def run_preview(args) -> int:
    from polku import clock
    from polku.campaigns import audience, content
    from polku.cli.customers import _target
    from polku.tracking import profile_store

    campaign, segment = _load(args)
    try:
        at = clock.parse_iso(args.at) if args.at else clock.now()
    except ValueError:
        raise CliError(f"--at: not an ISO-8601 time: {args.at!r}") from None
    if not 1 <= args.parts <= audience.MAX_PARTS:
        raise CliError(f"--parts: 1 to {audience.MAX_PARTS}")
    _target(args)
    found = audience.preview(segment, at, parts=args.parts, sample=5)
    print(f"campaign {campaign.name}: segment {segment.name}: {found.count} customer(s) now; about "
          f"{round(found.count * campaign.holdout)} held out ({campaign.holdout:.0%}), variants "
          + ", ".join(f"{v} {s:.0%}" for v, s in sorted(campaign.variants.items())))
    if not found.sample:
        return 0
    first = profile_store.load(found.sample[0]["customer_id"]) or {"customer_id": found.sample[0]["customer_id"]}
    member = audience.plan_member(campaign, first, at, _quiet())
    traits = first.get("traits") or {}
    customer = {**traits, "customer_id": first["customer_id"], "first_name": traits.get("first_name"),
                "email": traits.get("email")}
    variant = member.variant if member.variant != "holdout" else sorted(campaign.variants)[0]
    rendered = content.render(_store(), campaign, variant, campaign.channel or "email",
                              first.get("locale") or traits.get("locale"), customer)
    print(f"recipient {first['customer_id']} (variant {member.variant}, sends at {member.send_at}):")
    print(f"Subject: {rendered.subject}")
    print(rendered.text.strip())
    return 0


def run_simulate(args) -> int:
    from polku import clock
    from polku.campaigns.simulate import simulate
    from polku.journeys.simulate import SimulationError, TimelineError, dumps, write_outbox

    campaign, segment = _load(args)
    try:
        at = clock.parse_iso(args.at) if args.at else None
    except ValueError:
        raise CliError(f"--at: not an ISO-8601 time: {args.at!r}") from None
    try:
        lines = Path(args.timeline).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CliError(f"--timeline: {exc}") from None
    from polku.cli.journeys import _logs_to_stderr

    found: dict = {}
    _logs_to_stderr()
    out = sys.stdout
    sys.stdout = sys.stderr  # handlers print (metrics, logs); only the happenings go to stdout
    try:
        happenings = simulate(campaign, segment, lines, at=at, found=found)
    except (TimelineError, SimulationError) as exc:
        raise CliError(str(exc)) from None
    finally:
        sys.stdout = out
    text = dumps(happenings)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if args.outbox:
        write_outbox(happenings, found, args.outbox)
    if args.summary:
        from collections import Counter

        counts = Counter((h.get("status") or h.get("reason"), h.get("variant")) for h in happenings
                         if h["kind"] in ("message", "exited"))
        for (status, variant), n in sorted(counts.items(), key=str):
            print(f"{campaign.name}: {status} {variant or ''} {n}", file=sys.stderr)
    return 0


def _sfn_and_arn(args):
    from polku.cli.customers import _target

    target = _target(args)
    arn = target.outputs.get("CampaignStateMachineArn")
    if not arn:
        raise CliError("the target has no CampaignStateMachineArn output (deploy a template with campaigns)")
    return target.client("stepfunctions"), arn


def run_send(args) -> int:
    from polku import clock
    from polku.campaigns import content, fanout
    from polku.campaigns.definition import CampaignError

    campaign, segment = _load(args)
    problems = content.lint(campaign, _store(), segments_dir=_dir(args.segments_dir), quiet=_quiet())
    if problems:
        raise CliError(f"campaign {campaign.name} does not lint: " + "; ".join(problems))
    run_id = args.run or clock.now().strftime("%Y-%m-%d")
    try:
        body = fanout.start_input(campaign, segment, run_id, clock.now_iso(), args.parts)
    except CampaignError as exc:
        raise CliError(str(exc)) from None
    sfn, sm_arn = _sfn_and_arn(args)
    try:
        arn = sfn.start_execution(stateMachineArn=sm_arn, name=f"{campaign.name}-{run_id}",
                                  input=json.dumps(body))["executionArn"]
    except sfn.exceptions.ExecutionAlreadyExists:
        raise CliError(f"campaign {campaign.name} run {run_id} was started before (a run is sent once; give --run)") from None
    print(arn)
    if not args.wait:
        return 0
    while (d := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        time.sleep(0.5)
    if d["status"] != "SUCCEEDED":
        print(f"{d['status']}: {d.get('error')} {d.get('cause', '')}", file=sys.stderr)
        return 1
    plan = json.loads(d["output"])["plan"]
    print(json.dumps({k: plan[k] for k in ("audience", "holdout", "recipients", "wave_count")}))
    return 0


def run_redrive(args) -> int:
    sfn, sm_arn = _sfn_and_arn(args)
    arn = sm_arn.replace(":stateMachine:", ":execution:") + f":{args.name}-{args.run}"
    try:
        sfn.redrive_execution(executionArn=arn)
    except sfn.exceptions.ClientError as exc:
        raise CliError(str(exc)) from None
    print(arn)
    return 0
