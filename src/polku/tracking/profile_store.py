"""Keep profiles in the profiles table up to date.

Read, fold (:mod:`profile_builder`), write back on the condition that nobody wrote
in between (optimistic ``version``); on a conflict, read again and retry. An
``identify`` event rebuilds the customer's profile from their whole history
(every linked anonymous id included) and marks the anonymous profiles merged,
so a customer seen on two devices ends with one profile. The profiles table's reads and
writes are in :mod:`polku.data.profiles`.
"""

from __future__ import annotations

import random
import time
from functools import lru_cache

from polku.data import catalog, identities, profiles
from polku.settings import get_settings
from polku.tracking import event_store, identity, profile_builder
from polku.tracking.event_schema import IDENTIFY
from polku.tracking.lead_score import LeadScoreRules

FIELDS = tuple(profile_builder.new_profile("x"))


class ProfileContention(RuntimeError):
    pass


@lru_cache(maxsize=1)
def rules() -> LeadScoreRules:
    return LeadScoreRules.from_json(get_settings().lead_score_rules)


@lru_cache(maxsize=4096)
def catalog_category(product_id: str) -> str | None:
    return catalog.category_of(product_id)


def _plain(value):
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def load(key: str) -> dict | None:
    """The one profile reader: the stored profile (read consistently) as the profile builder's
    dict, or None."""
    model = profiles.find(key)
    return None if model is None else from_model(model)


def from_model(model) -> dict:
    """A stored profile item as the plain dict the profile builder writes (every field)."""
    profile = profile_builder.new_profile(model.customer_id)
    for name in FIELDS:
        value = getattr(model, name, None)
        if value is not None:
            profile[name] = profile_builder._plain(_plain(value))
    return profile


def save(profile: dict, previous_version: int) -> bool:
    """Write if the stored version is still ``previous_version``. False on a conflict."""
    profile["version"] = previous_version + 1
    return profiles.save_version(profile, previous_version)


def profile_key(event: dict) -> str:
    if event.get("customer_id"):
        return event["customer_id"]
    owner = identities.customer_of(event["anonymous_id"])
    return owner or profile_builder.anonymous_key(event["anonymous_id"])


def _backoff(attempt: int) -> None:
    """Jittered pause after losing an optimistic write (wall time: an adapter concern)."""
    time.sleep(random.uniform(0, 0.005 * (attempt + 1)))


def apply(event: dict, attempts: int = 20) -> bool:
    """Apply one stored event to its profile. False when it was applied before."""
    if event.get("type") == IDENTIFY and event.get("customer_id"):
        return rebuild(event["customer_id"], trigger=event)
    key = profile_key(event)
    for attempt in range(attempts):
        profile = load(key) or profile_builder.new_profile(key)
        previous = int(profile["version"] or 0)
        if not profile_builder.apply_event(profile, event, rules=rules(), category_of=catalog_category):
            return False
        if save(profile, previous):
            return True
        _backoff(attempt)
    raise ProfileContention(f"profile {key}: still contended after {attempts} attempts")


def rebuild(customer_id: str, trigger: dict | None = None, attempts: int = 20) -> bool:
    """Recompute a customer's profile from every event of theirs (all linked devices).

    ``trigger`` (the identify event being applied) is folded in even if the index
    has not caught up with it yet. False when the trigger was applied before.
    """
    for attempt in range(attempts):
        current = load(customer_id)
        if current and trigger and trigger["event_id"] in current["applied"]:
            return False
        anonymous_ids = identities.anonymous_ids_of(customer_id)
        events = event_store.of_subjects(identity.subjects_of(customer_id, anonymous_ids))
        if trigger and all(e["event_id"] != trigger["event_id"] for e in events):
            events.append(trigger)
        profile = profile_builder.build(customer_id, events, rules=rules(), category_of=catalog_category)
        previous = int(current["version"]) if current else 0
        if save(profile, previous):
            for anon in anonymous_ids:
                # an anonymous visitor with no profile yet: nothing to mark
                profiles.mark_merged(profile_builder.anonymous_key(anon), customer_id)
            return True
        _backoff(attempt)
    raise ProfileContention(f"profile {customer_id}: still contended after {attempts} attempts")

