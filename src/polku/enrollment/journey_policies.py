"""Which roles may enrol into a journey, and which template blocks they may edit.

* Journeys and ``enrollable_by`` come from the journey registry
  (:mod:`polku.journeys.registry`, ``statemachines/registry.yaml``). A journey is named
  in the URL by its state machine name (``event-invitation``) or its registry name
  (``event_invitation``).
* Marketing may enrol into every journey. Sales, service and partners: journeys whose
  ``enrollable_by`` lists their role (a partner also by ``partner:<partner id>``);
  partners only their own customers. Nothing is admitted implicitly.
* Editable blocks: :func:`editable_blocks` — the blocks the journey's message
  templates mark editable (``{% call editable("intro") %}``, see docs/messages.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from polku.enrollment.errors import Forbidden, NotFound
from polku.enrollment.roles import JourneyPolicy
from polku.journeys import registry as journey_registry
from polku.settings import get_settings


@dataclass(frozen=True)
class EnrollableJourney:
    policy: JourneyPolicy
    name: str  # registry name (what the state machine and the message log call it)
    state_machine: str  # name after polku-<stage>-
    split: dict
    requires: tuple[str, ...] = ()  # properties an enrolment must give (registry enroll_requires)
    requires_reachable: bool = True  # enrol only customers a consented channel reaches (registry)


@lru_cache(maxsize=64)
def editable_blocks(journey: str) -> tuple[str, ...]:
    """The blocks that ``journey``'s message templates (``templates/messages/<journey>/*.j2``)
    mark with ``{% call editable("name") %}``, over all locales. None found: nothing is editable
    (fail closed)."""
    from jinja2 import nodes

    from polku.messaging.wiring import template_store

    try:
        store = template_store(get_settings().templates_dir)
    except FileNotFoundError:
        return ()
    folder = store.root / "messages" / journey
    blocks: set[str] = set()
    for path in sorted(folder.glob("*.j2")) if folder.is_dir() else []:
        ast = store.html_env.parse(path.read_text(encoding="utf-8"))
        blocks.update(
            c.args[0].value
            for c in ast.find_all(nodes.Call)
            if isinstance(c.node, nodes.Name) and c.node.name == "editable" and c.args
            and isinstance(c.args[0], nodes.Const)
        )
    return tuple(sorted(blocks))


def journey_for(url_name: str) -> EnrollableJourney:
    reg = journey_registry.current()
    journey = reg.journeys.get(url_name) or reg.by_state_machine(url_name)
    if journey is None:
        known = ", ".join(sorted(j.state_machine for j in reg.journeys.values()))
        raise NotFound("journey", f"no journey {url_name!r} (journeys: {known})")
    if not journey.active:
        raise Forbidden("journey", f"{journey.state_machine} is not active (it starts no new runs)")
    roles = set(journey.enrollable_by) | {"marketing"}
    policy = JourneyPolicy(journey.name, frozenset(roles), frozenset(editable_blocks(journey.name)))
    return EnrollableJourney(policy, journey.name, journey.state_machine, dict(journey.split), journey.enroll_requires,
                             journey.starts_only_reachable)
