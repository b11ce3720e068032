"""``polku journeys``: lint, graph and simulate the journeys in statemachines/ (marketer tooling)."""

from __future__ import annotations

import sys
from pathlib import Path

from polku.cli import journey_counts
from polku.cli.errors import CliError


def register(sub) -> None:
    p = sub.add_parser("journeys", help="lint, draw and simulate journeys (statemachines/*.asl.json)")
    jsub = p.add_subparsers(dest="journeys_command", metavar="ACTION")

    lint = jsub.add_parser("lint", help="check definitions and the registry; exit 1 on any error")
    lint.add_argument("paths", nargs="*", metavar="PATH", help="definition files or folders (default: statemachines/)")
    lint.add_argument("--no-schema", action="store_true", help="skip the asl-validator schema check")
    lint.add_argument("--templates", metavar="DIR", help="the message templates Send steps may name (default: templates/)")
    lint.set_defaults(func=run_lint)

    graph = jsub.add_parser("graph", help="draw a journey as Mermaid or SVG")
    graph.add_argument("name", metavar="NAME", help="journey name from the registry (or a .asl.json path)")
    graph.add_argument("--format", choices=["mermaid", "svg"], default="mermaid")
    graph.add_argument("--output", "-o", metavar="FILE", help="write here instead of standard output")
    journey_counts.add_arguments(graph)
    graph.set_defaults(func=run_graph)

    sim = jsub.add_parser("simulate", help="run a journey over a timeline of events on a virtual clock")
    sim.add_argument("name", metavar="NAME", help="journey name from the registry")
    sim.add_argument("--statemachines", metavar="DIR",
                     help="the registry.yaml and ASL files to use (default: statemachines/ of the repository)")
    sim.add_argument("--timeline", required=True, metavar="FILE.jsonl",
                     help="JSON lines of tracking events (POST /v1/events schema, each with ts; identify lines too)")
    sim.add_argument("--start", metavar="ISO8601", help="virtual start time (default: the first event's time)")
    sim.add_argument("--until", metavar="ISO8601", help="scheduled journeys: run the scheduler until then "
                     "(default: a day after the last event)")
    sim.add_argument("--output", "-o", metavar="FILE", help="write JSON lines here instead of standard output")
    sim.add_argument("--workers", type=int, default=1, metavar="N",
                     help="split the customers over N processes (same output as one process; default 1)")
    sim.add_argument("--outbox", metavar="DIR",
                     help="also write the sent messages here as the demo's outbox does (HTML and text per e-mail, "
                     "an index.html with the SMS and push messages)")
    sim.add_argument("--summary", action="store_true",
                     help="also print per-journey counts (entered, each state, messages, actions, exits) to stderr")
    sim.set_defaults(func=run_simulate)

    pub = jsub.add_parser("publish", help="publish journeys (new version behind the alias live) and the registry "
                          "to the local twin or, with --stack, a deployed stack")
    pub.add_argument("names", nargs="*", metavar="NAME", help="journeys to publish (default: every journey)")
    pub.add_argument("--statemachines", metavar="DIR", help="registry.yaml and ASL files (default: statemachines/)")
    pub.add_argument("--description", default="", help="note kept with the new versions (e.g. the change)")
    pub.set_defaults(func=run_publish)

    rb = jsub.add_parser("rollback", help="point a journey's alias live back at the version before (new runs only; "
                         "running ones finish on their version)")
    rb.add_argument("name", metavar="NAME", help="journey name from the registry")
    rb.add_argument("--statemachines", metavar="DIR", help="registry.yaml (default: statemachines/)")
    rb.set_defaults(func=run_rollback)

    new = jsub.add_parser("new", help="scaffold a journey from an existing one: ASL, registry entry (inactive), "
                          "message templates")
    new.add_argument("name", metavar="NAME", help="the new journey's name (a-z, 0-9, _)")
    new.add_argument("--from", dest="source", required=True, metavar="EXISTING", help="the journey to start from")
    new.add_argument("--statemachines", metavar="DIR", help="where the registry and ASL live (default: statemachines/)")
    new.add_argument("--templates", metavar="DIR", help="the message templates (default: templates/)")
    new.set_defaults(func=run_new)

    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _write(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def run_lint(args) -> int:
    import dataclasses

    from polku.journeys.lint import default_context, known_templates, lint, repo_root

    ctx = default_context()
    if args.templates:
        ctx = dataclasses.replace(ctx, templates=known_templates(repo_root(), Path(args.templates)))
    findings = lint([Path(p) for p in args.paths] or None, schema=not args.no_schema, ctx=ctx)
    for f in findings:
        print(f)
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    if not args.paths:
        content = content_errors()
        for line in content:
            print(f"statemachines/registry.yaml: error: {line}")
        errors += len(content)
    print(f"polku journeys lint: {errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return 1 if errors else 0


def content_errors() -> list[str]:
    """What the shipped journeys' messages say, checked: every Send step renders for every
    variant, a split's variants differ, no two stages of a journey share a subject."""
    from polku.journeys import registry
    from polku.journeys.content import content_findings, render_all
    from polku.messaging.templating import TemplateStore
    from polku.messaging.wiring import repo_templates_dir

    try:
        reg = registry.load()
    except registry.RegistryError:
        return []  # reported by lint() already
    folder = Path(reg.path).resolve().parent
    if not (repo_templates_dir() / "_layouts").is_dir() or not any(folder.glob("*.asl.json")):
        return []
    return content_findings(render_all(TemplateStore(repo_templates_dir()), reg, folder), reg)


def _definition_path(name: str) -> tuple[Path, str]:
    from polku.cli.main import CliError
    from polku.journeys import registry
    from polku.journeys.lint import repo_root

    p = Path(name)
    if p.suffix == ".json" and p.is_file():
        return p, p.name.removesuffix(".asl.json")
    try:
        reg = registry.load()
        j = reg.get(name)
    except registry.RegistryError as exc:
        raise CliError(str(exc)) from None
    return repo_root() / "statemachines" / j.file, j.name


def run_graph(args) -> int:
    import json

    from polku.cli.main import CliError
    from polku.journeys.graph import render

    path, title = _definition_path(args.name)
    try:
        source = path.read_text(encoding="utf-8")
        counts, title = journey_counts.counts_for(args, source, title)  # --counts: who passed, stands, left
        text = render(source, args.format, title, counts)
    except (OSError, ValueError, json.JSONDecodeError) as exc:
        raise CliError(f"{path}: cannot draw it ({exc}); run `polku journeys lint {path}`") from None
    _write(text, args.output)
    return 0


def _logs_to_stderr() -> None:
    """Handler logs (Powertools writes to stdout) must not mix with the JSON lines on stdout."""
    import logging
    import os

    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon in a simulation
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # nor CloudWatch
    import polku.observability  # noqa: F401 - creates the Powertools handlers first

    logging.disable(logging.INFO)
    for logger in [logging.getLogger()] + [lg for lg in logging.root.manager.loggerDict.values()
                                           if isinstance(lg, logging.Logger)]:
        for h in logger.handlers:
            if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) is sys.stdout:
                h.setStream(sys.stderr)


def run_simulate(args) -> int:
    from polku import clock
    from polku.cli.main import CliError
    from polku.journeys import registry
    from polku.journeys.simulate import Simulation, SimulationError, TimelineError, dumps, parse_timeline

    try:
        reg = registry.load(Path(args.statemachines) / "registry.yaml" if args.statemachines else None)
        reg.get(args.name)
    except registry.RegistryError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"--statemachines: no registry.yaml in {args.statemachines} ({exc.strerror})") from None
    try:
        lines = Path(args.timeline).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CliError(f"--timeline: cannot read {args.timeline} ({exc.strerror})") from None
    try:
        start = clock.parse_iso(args.start) if args.start else None
        until = clock.parse_iso(args.until) if args.until else None
    except ValueError:
        raise CliError("--start/--until: not an ISO-8601 time (e.g. 2026-01-05T08:00:00Z)") from None
    if args.workers < 1:
        raise CliError(f"--workers: must be 1 or more, got {args.workers}")

    _logs_to_stderr()
    out = sys.stdout
    sys.stdout = sys.stderr  # handlers print (metrics, logs); only the happenings go to stdout
    try:
        events = parse_timeline(lines)
        sim = Simulation(args.name, workers=args.workers, registry=reg if args.statemachines else None)
        happenings = sim.run(events, start, until)
    except (TimelineError, SimulationError) as exc:
        raise CliError(str(exc)) from None
    finally:
        sys.stdout = out
    for r in sim.rejected:
        print(f"polku journeys simulate: timeline line {r['line']} rejected: {r.get('field')}: {r.get('reason')}",
              file=sys.stderr)
    _write(dumps(happenings), args.output)
    if args.outbox:
        from polku.journeys.simulate import write_outbox

        emails = write_outbox(happenings, sim.delivered, args.outbox)
        print(f"polku journeys simulate: outbox with {len(emails)} e-mail(s) in {Path(args.outbox) / 'index.html'}",
              file=sys.stderr)
    if args.summary:
        from polku.journeys.simulate import format_summary, summarize

        sys.stderr.write(format_summary(summarize(happenings)))
    return 0


def _statemachines(args) -> Path:
    from polku.journeys.lint import repo_root

    return Path(args.statemachines) if getattr(args, "statemachines", None) else repo_root() / "statemachines"


def _journey_target(args):
    """(Target, JourneyStack): where publish/rollback act (the running twin, or --stack)."""
    from polku.cli.target import Target, TargetError
    from polku.journeys.publish import JourneyStack, PublishError

    try:
        target = Target.from_args(args)
        return target, JourneyStack.from_outputs(target.outputs)
    except (TargetError, PublishError) as exc:
        raise CliError(str(exc)) from None


def run_publish(args) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from polku.journeys import publish, registry

    folder = _statemachines(args)
    target, stack = _journey_target(args)
    try:
        done = publish.publish_all(target.client("stepfunctions"), target.client("s3"), folder, stack,
                                   args.names or None, args.description)
    except (publish.PublishError, registry.RegistryError) as exc:
        raise CliError(str(exc)) from None
    except (BotoCoreError, ClientError) as exc:
        raise CliError(f"publishing failed: {exc}") from None
    for p in done:
        what = f"published {p.version_arn.rsplit(':', 1)[1]}" if p.changed else "unchanged"
        print(f"{p.journey}: {what} (live: {p.version_arn})")
    print(f"registry: s3://{stack.bucket}/{publish.REGISTRY_KEY}")
    return 0


def run_rollback(args) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from polku.journeys import publish, registry

    target, stack = _journey_target(args)
    try:
        journey = registry.load(_statemachines(args) / "registry.yaml").get(args.name)
        before, after = publish.rollback(target.client("stepfunctions"), journey, stack)
    except (publish.PublishError, registry.RegistryError) as exc:
        raise CliError(str(exc)) from None
    except (BotoCoreError, ClientError) as exc:
        raise CliError(f"rollback failed: {exc}") from None
    print(f"{journey.name}: new runs start on version {after.rsplit(':', 1)[1]} "
          f"(was {before.rsplit(':', 1)[1]}; running executions finish on their own version)")
    return 0


def run_new(args) -> int:
    from polku.journeys import registry
    from polku.journeys.lint import repo_root
    from polku.journeys.scaffold import ScaffoldError, new_journey

    templates = Path(args.templates) if args.templates else repo_root() / "templates"
    try:
        made = new_journey(args.name, args.source, _statemachines(args), templates)
    except (ScaffoldError, registry.RegistryError) as exc:
        raise CliError(str(exc)) from None
    print(f"created {made.definition}")
    print(f"added {args.name} to {made.registry} (active: false - edit its trigger and description, then set active)")
    if made.templates:
        print(f"created {made.templates}/")
    print(f"next: polku journeys lint, polku journeys simulate {args.name} --timeline FILE, "
          f"polku journeys publish {args.name}")
    return 0
