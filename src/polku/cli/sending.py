"""``polku sending status|resume``: the automatic pause of marketing e-mail (docs/operations.md)."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("sending", help="the automatic pause of marketing e-mail (bounce/complaint rates)")
    ssub = p.add_subparsers(dest="sending_command", metavar="ACTION")
    s = ssub.add_parser("status", help="the last 24 hours' bounce and complaint rates, and whether sending is paused")
    s.set_defaults(func=run_status)
    r = ssub.add_parser("resume", help="lift the pause (after the cause is fixed)")
    r.set_defaults(func=run_resume)


def _use(args) -> None:
    from polku.cli.customers import _target

    _target(args)


def run_status(args) -> int:
    from polku.messaging import sending_pause

    _use(args)
    r = sending_pause.rates()
    print(json.dumps({"paused": sending_pause.paused_reason(fresh=True), **{k: round(v, 4) if isinstance(v, float) else v
                                                                            for k, v in r.items()}}))
    return 0


def run_resume(args) -> int:
    from polku.messaging import sending_pause

    _use(args)
    print("resumed: marketing e-mail goes out again" if sending_pause.resume() else "not paused")
    return 0
