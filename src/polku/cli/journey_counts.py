"""``polku journeys graph NAME --counts [FILE.jsonl]``: the journey's picture with, on every state,
how many customers passed, stand there now and left (goal, exit, failed, done), and on every Send
its open and click rates (:mod:`polku.journeys.counts`).

From a simulation (``--counts out.jsonl``, the output of ``polku journeys simulate``, with
``--timeline`` the timeline it ran for the opens and clicks), or live (``--counts`` alone): the
running twin, or a deployed stack with ``--stack NAME`` (Step Functions executions and the message
log, as the report reads them).
"""

from __future__ import annotations

from pathlib import Path

LIVE = "-"  # --counts without a file


def add_arguments(graph) -> None:
    graph.add_argument("--counts", nargs="?", const=LIVE, metavar="FILE.jsonl",
                       help="draw on every state how many customers passed, stand there now and left, and each "
                       "Send's open/click rates: from FILE.jsonl (the output of `polku journeys simulate`) or, "
                       "without FILE, live from the running twin or --stack NAME (executions and the message log)")
    graph.add_argument("--timeline", metavar="FILE.jsonl",
                       help="with --counts FILE: the timeline the simulation ran (its opens and clicks give "
                       "the Send rates)")


def counts_for(args, text: str, name: str):
    """The counts ``args`` ask for (None without --counts), and the title that says their totals."""
    from polku.cli.errors import CliError
    from polku.journeys.definition import Definition

    if getattr(args, "timeline", None) and args.counts in (None, LIVE):
        raise CliError("--timeline: only with --counts FILE.jsonl (a simulation's output)")
    if args.counts is None:
        return None, name
    d = Definition.parse(text)
    c = _live(args, d, name) if args.counts == LIVE else _simulated(args, d, name)
    if c.entered == 0 and c.holdout == 0:
        import sys

        print(f"polku journeys graph: no run of journey {name} in {c.source}", file=sys.stderr)
    return c, c.headline()


def _simulated(args, d, name: str):
    from polku.cli.errors import CliError
    from polku.journeys.counts import from_simulation, read_happenings

    try:
        happenings = read_happenings(Path(args.counts).read_text(encoding="utf-8"), args.counts)
    except OSError as exc:
        raise CliError(f"--counts: cannot read {args.counts} ({exc.strerror})") from None
    except ValueError as exc:
        raise CliError(f"--counts: {exc}") from None
    timeline = []
    if args.timeline:
        from polku.journeys.simulate import TimelineError, parse_timeline

        try:
            lines = Path(args.timeline).read_text(encoding="utf-8").splitlines()
            timeline = [e.body for e in parse_timeline(lines)]
        except OSError as exc:
            raise CliError(f"--timeline: cannot read {args.timeline} ({exc.strerror})") from None
        except TimelineError as exc:
            raise CliError(f"--timeline: {exc}") from None
    if not any(h.get("journey") == name for h in happenings):
        journeys = sorted({str(h.get("journey")) for h in happenings})
        raise CliError(f"--counts: {args.counts} has no happening of journey {name} (it has: {', '.join(journeys)})")
    return from_simulation(d, name, happenings, timeline, source=f"simulation {Path(args.counts).name}")


def _live(args, d, name: str):
    from polku.cli.errors import CliError
    from polku.cli.target import Target, TargetError
    from polku.journeys import registry
    from polku.journeys.counts import from_live
    from polku.reporting import build, figures

    try:
        journey = registry.load().get(name)
        target = Target.from_args(args)
    except (registry.RegistryError, TargetError) as exc:
        raise CliError(str(exc)) from None
    settings = target.use()
    prefix = target.outputs.get("StateMachinePrefix")
    if not prefix:
        raise CliError("the target has no output StateMachinePrefix: deploy the current template.yaml")
    messages, events, runs, _ = build.collect(target.client("dynamodb"), settings)
    figures.attach_engagement(messages, events)
    where = f"stack {args.stack}" if getattr(args, "stack", None) else "the local twin"
    return from_live(d, journey, target.client("stepfunctions"), prefix, messages, runs, source=where)
