"""Dispatch of journey step actions (pure domain; handlers stay thin)."""

from __future__ import annotations

from polku import clock
from polku.journeys.variants import assign


class StepInputError(ValueError):
    """The step input is missing a field or has a wrong value (names the field)."""


def _require(event: dict, name: str, kind=str):
    value = event.get(name)
    if not isinstance(value, kind) or value in ("", None):
        raise StepInputError(f"{name}: required ({kind.__name__})")
    return value


def assign_variant(event: dict) -> dict:
    customer_id = _require(event, "customer_id")
    journey = _require(event, "journey")
    splits = event.get("splits") or {"A": 1.0}
    try:
        variant = assign(customer_id, journey, {k: float(v) for k, v in splits.items()})
    except ValueError as exc:
        raise StepInputError(str(exc)) from None
    return {"variant": variant, "at": clock.now_iso()}


def now(event: dict) -> dict:
    return {"now": clock.now_iso()}


ACTIONS = {"assign_variant": assign_variant, "now": now}


def run_step(event: dict) -> dict:
    if not isinstance(event, dict):
        raise StepInputError("input: must be an object")
    action = event.get("action")
    if action not in ACTIONS:
        raise StepInputError(f"action: must be one of {sorted(ACTIONS)}, got {action!r}")
    return ACTIONS[action](event)
