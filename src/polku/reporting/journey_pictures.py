"""The report's journey pictures: every journey of the registry drawn as its graph with, on every
state, how many customers passed, stand there now and left, and every Send's open and click rates
(:mod:`polku.journeys.counts` from the executions and the message log; :func:`polku.journeys.graph.svg`)."""

from __future__ import annotations

from pathlib import Path

from polku.journeys import graph
from polku.journeys.counts import from_live
from polku.journeys.definition import Definition


def journey_pictures(sfn, prefix: str, messages: list, runs: list, registry=None) -> list[dict]:
    """``[{"journey", "svg", "counts"}]`` in name order. ``messages`` carry their opens and clicks
    (figures.attach_engagement); ``runs`` (journey state records) give the holdout."""
    from polku.journeys import registry as registry_mod

    reg = registry or registry_mod.load()
    folder = Path(reg.path).resolve().parent  # the packaged registry.yaml links to statemachines/
    out = []
    for name in sorted(reg.journeys):
        journey = reg.journeys[name]
        d = Definition.parse((folder / journey.file).read_text(encoding="utf-8"))
        c = from_live(d, journey, sfn, prefix, messages, runs, source="executions and message log")
        out.append({"journey": name, "svg": graph.svg(d, c.headline(), c, marker=f"arrow-{name}"), "counts": c.to_dict()})
    return out
