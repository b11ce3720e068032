"""``polku local``: run the local twin of the whole stack on this machine."""

from __future__ import annotations

import signal
import threading
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("local", help="start the local twin (moto + real handlers + HTTP API) on 127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="HTTP API port (default 8000)")
    p.add_argument("--aws-port", type=int, default=4566, help="AWS endpoint port (default 4566)")
    p.add_argument("--template", default=None, help="template.yaml (default: the repository's)")
    p.add_argument(
        "--virtual-clock",
        metavar="ISO8601",
        nargs="?",
        const="2026-01-05T08:00:00Z",
        help="run on a virtual clock starting at this time; advance it with POST /_polku/clock/advance",
    )
    p.set_defaults(func=run)


def default_template() -> Path:
    here = Path.cwd() / "template.yaml"
    if here.is_file():
        return here
    return Path(__file__).resolve().parents[3] / "template.yaml"


def _own_origin_allowed(template: Path, port: int) -> dict:
    """The demo shop page (GET /_polku/shop) posts to the API it is served from: its origin is allowed."""
    from polku.twin.template import Template, parameter_defaults

    if not port:
        return {}
    allowed = parameter_defaults(Template.load(template)).get("AllowedOrigins", "")
    own = f"http://127.0.0.1:{port},http://localhost:{port}"
    return {"AllowedOrigins": f"{allowed},{own}" if allowed else own}


def run(args) -> int:
    from polku import clock
    from polku.cli.errors import CliError
    from polku.twin.template import TemplateError
    from polku.twin.twin import PortInUseError, Twin

    vclock = None
    if args.virtual_clock:
        try:
            vclock = clock.VirtualClock(clock.parse_iso(args.virtual_clock), auto_advance=False)
        except ValueError:
            raise CliError(f"--virtual-clock: {args.virtual_clock!r} is not an ISO-8601 time") from None
    template = Path(args.template) if args.template else default_template()
    try:
        twin = Twin(template, aws_port=args.aws_port, api_port=args.port, clock=vclock,
                    parameters=_own_origin_allowed(template, args.port)).start()
    except PortInUseError as exc:
        raise CliError(str(exc)) from None
    except TemplateError as exc:
        raise CliError(f"template problem: {exc}; fix template.yaml and start again") from None
    print(f"polku local: HTTP API  {twin.api_url}   (POST /v1/events, GET /_polku/twin)")
    print(f"polku local: demo shop {twin.api_url}/_polku/shop   (on-site content: docs/onsite.md)")
    print(f"polku local: AWS       {twin.endpoint_url}   (region {twin.region}; any credentials)")
    print(f"polku local: {len(twin.names)} resources from {template}; clock: "
          f"{'virtual ' + clock.now_iso() if vclock else 'real'}")
    by_reason: dict[str, list[str]] = {}
    for lid, why in sorted(twin.skipped.items()):
        by_reason.setdefault(why, []).append(lid)
    for why, lids in by_reason.items():  # many of one kind (alarms, log groups): one line, all in GET /_polku/twin
        shown = ", ".join(lids) if len(lids) <= 3 else f"{len(lids)} resources ({', '.join(lids[:2])}, ...)"
        print(f"polku local:   not emulated {shown}: {why}")
    print("polku local: ready (Ctrl-C stops)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    twin.stop()
    print("polku local: stopped")
    return 0
