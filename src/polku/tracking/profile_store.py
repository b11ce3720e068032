"""Adapter: keep profiles in the profiles table up to date (PynamoDB).

Read, fold (:mod:`profile_builder`), write back on the condition that nobody wrote
in between (optimistic ``version``); on a conflict, read again and retry. An
``identify`` event rebuilds the customer's profile from their whole history
(every linked anonymous id included) and marks the anonymous profiles merged,
so a customer seen on two devices ends with one profile.
"""

from __future__ import annotations

import random
import time
from functools import lru_cache

from pynamodb.exceptions import DeleteError, PutError, UpdateError

from polku.data.catalog import ProductModel
from polku.data.profiles import ProfileModel
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
    try:
        return ProductModel.get(product_id).category
    except ProductModel.DoesNotExist:
        return None


def _plain(value):
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def load(key: str) -> dict | None:
    try:
        model = ProfileModel.get(key, consistent_read=True)
    except ProfileModel.DoesNotExist:
        return None
    return from_model(model)


def from_model(model: ProfileModel) -> dict:
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
    model = ProfileModel(profile["customer_id"], **{k: v for k, v in profile.items() if k != "customer_id"})
    condition = (
        ProfileModel.customer_id.does_not_exist()
        if previous_version == 0
        else ProfileModel.version == previous_version
    )
    try:
        model.save(condition=condition)
        return True
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def profile_key(event: dict) -> str:
    if event.get("customer_id"):
        return event["customer_id"]
    owner = identity.customer_of(event["anonymous_id"])
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
        anonymous_ids = identity.anonymous_ids_of(customer_id)
        subjects = [f"c#{customer_id}"] + [f"a#{a}" for a in anonymous_ids]
        events = event_store.of_subjects(subjects)
        if trigger and all(e["event_id"] != trigger["event_id"] for e in events):
            events.append(trigger)
        profile = profile_builder.build(customer_id, events, rules=rules(), category_of=catalog_category)
        previous = int(current["version"]) if current else 0
        if save(profile, previous):
            for anon in anonymous_ids:
                _mark_merged(anon, customer_id)
            return True
        _backoff(attempt)
    raise ProfileContention(f"profile {customer_id}: still contended after {attempts} attempts")


def _mark_merged(anonymous_id: str, customer_id: str) -> None:
    key = profile_builder.anonymous_key(anonymous_id)
    try:
        ProfileModel(key).update(
            actions=[ProfileModel.merged_into.set(customer_id)],
            condition=ProfileModel.customer_id.exists(),
        )
    except UpdateError as exc:  # an anonymous visitor with no profile yet: nothing to mark
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def delete(key: str) -> bool:
    try:
        ProfileModel(key).delete(condition=ProfileModel.customer_id.exists())
        return True
    except DeleteError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
