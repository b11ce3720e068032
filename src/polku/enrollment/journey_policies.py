"""Which roles may enrol into a journey, and which template blocks they may edit.

* Journeys and ``enrollable_by`` come from the journey registry
  (:mod:`polku.journeys.registry`, ``statemachines/registry.yaml``). A journey is named
  in the URL by its state machine name (``event-invitation``) or its registry name
  (``event_invitation``).
* Marketing may enrol into every journey. Sales and service: journeys whose
  ``enrollable_by`` lists their role. Partners: journeys open to distributed
  marketing at all (non-empty ``enrollable_by``), and only their own customers.
* Editable blocks: :func:`editable_blocks` — the blocks the journey's message
  templates mark editable (messages package), else :data:`DEFAULT_EDITABLE_BLOCKS`.
"""

from __future__ import annotations

from dataclasses import dataclass

from polku.enrollment.errors import Forbidden, NotFound
from polku.enrollment.roles import JourneyPolicy
from polku.journeys import registry as journey_registry

DEFAULT_EDITABLE_BLOCKS = ("personal_note", "sign_off")


@dataclass(frozen=True)
class EnrollableJourney:
    policy: JourneyPolicy
    name: str  # registry name (what the state machine and the message log call it)
    state_machine: str  # name after polku-<stage>-
    split: dict


def editable_blocks(journey: str) -> tuple[str, ...]:
    """The blocks of ``journey``'s templates that enrolling users may override."""
    try:
        from polku.messages import editable as messages_editable  # type: ignore[attr-defined]
    except ImportError:
        return DEFAULT_EDITABLE_BLOCKS
    fn = getattr(messages_editable, "editable_blocks_for_journey", None)
    blocks = fn(journey) if fn else None
    return tuple(blocks) if blocks is not None else DEFAULT_EDITABLE_BLOCKS


def journey_for(url_name: str) -> EnrollableJourney:
    reg = journey_registry.current()
    journey = reg.journeys.get(url_name) or reg.by_state_machine(url_name)
    if journey is None:
        known = ", ".join(sorted(j.state_machine for j in reg.journeys.values()))
        raise NotFound("journey", f"no journey {url_name!r} (journeys: {known})")
    if not journey.active:
        raise Forbidden("journey", f"{journey.state_machine} is not active (it starts no new runs)")
    roles = set(journey.enrollable_by) | {"marketing"}
    if journey.enrollable_by:
        roles.add("partner")
    policy = JourneyPolicy(journey.name, frozenset(roles), frozenset(editable_blocks(journey.name)))
    return EnrollableJourney(policy, journey.name, journey.state_machine, dict(journey.split))


def policy_for(url_name: str) -> JourneyPolicy:
    return journey_for(url_name).policy
