"""Which roles may enrol into a journey, and which template blocks they may edit.

Sources, first found wins (switch here when the journeys / messages packages settle):

1. ``enrollable_by``: the journey registry (``registry.yaml`` shipped in
   ``polku/journeys/`` or, in a checkout, ``statemachines/registry.yaml``), key
   ``enrollable_by`` per journey.
2. ``editable_blocks``: the registry's ``editable_blocks`` per journey if it lists them,
   else the blocks the journey's message templates mark editable
   (:func:`_template_editable_blocks`), else :data:`DEFAULT_EDITABLE_BLOCKS`.

Marketing may enrol into every journey whatever the registry says.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from polku.enrollment.errors import NotFound
from polku.enrollment.roles import JourneyPolicy

JOURNEYS = (
    "welcome",
    "abandoned-cart",
    "browse-abandonment",
    "cross-sell",
    "birthday",
    "event-invitation",
    "nurture",
    "win-back",
    "location-offer",
)

# Used only where the registry says nothing about a journey.
DEFAULT_ENROLLABLE_BY = {
    "event-invitation": ("marketing", "sales", "service", "partner"),
    "nurture": ("marketing", "sales", "partner"),
    "cross-sell": ("marketing", "sales"),
    "win-back": ("marketing", "service"),
}
DEFAULT_EDITABLE_BLOCKS = ("personal_note", "sign_off")

_PACKAGE = Path(__file__).resolve().parents[1]  # src/polku
_REGISTRY_CANDIDATES = (
    _PACKAGE / "journeys" / "registry.yaml",
    _PACKAGE.parents[1] / "statemachines" / "registry.yaml",
)


def _registry_entries(doc) -> dict[str, dict]:
    """Accept ``{journeys: {name: {...}}}``, ``{journeys: [{name: ...}]}`` or ``{name: {...}}``."""
    if isinstance(doc, dict) and "journeys" in doc:
        doc = doc["journeys"]
    if isinstance(doc, list):
        return {str(e["name"]): e for e in doc if isinstance(e, dict) and "name" in e}
    if isinstance(doc, dict):
        return {str(k): (v if isinstance(v, dict) else {}) for k, v in doc.items()}
    return {}


@lru_cache(maxsize=1)
def load_registry() -> dict[str, dict]:
    for path in _REGISTRY_CANDIDATES:
        if path.is_file():
            return _registry_entries(yaml.safe_load(path.read_text(encoding="utf-8")))
    return {}


def _template_editable_blocks(journey: str) -> tuple[str, ...] | None:
    """The editable blocks the messages package marks in this journey's templates, if it says."""
    try:
        from polku.messages import editable as messages_editable  # type: ignore[attr-defined]
    except ImportError:
        return None
    fn = getattr(messages_editable, "editable_blocks_for_journey", None)
    if fn is None:
        return None
    blocks = fn(journey)
    return tuple(blocks) if blocks is not None else None


def policy_for(journey: str) -> JourneyPolicy:
    registry = load_registry()
    known = set(JOURNEYS) | set(registry)
    if journey not in known:
        raise NotFound("journey", f"no journey {journey!r} (journeys: {', '.join(sorted(known))})")
    entry = registry.get(journey, {})
    roles = entry.get("enrollable_by")
    if roles is None:
        roles = DEFAULT_ENROLLABLE_BY.get(journey, ("marketing",))
    blocks = entry.get("editable_blocks")
    if blocks is None:
        blocks = _template_editable_blocks(journey)
    if blocks is None:
        blocks = DEFAULT_EDITABLE_BLOCKS
    return JourneyPolicy(journey, frozenset(roles) | {"marketing"}, frozenset(blocks))
