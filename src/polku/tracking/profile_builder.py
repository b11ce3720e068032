"""Foundation version of the profile builder (the tracking issue completes it).

Applies stored events to their customer's profile: first/last seen and counts per
event type. Read, change, write back on the condition that nobody else wrote in
between (optimistic ``version``); the ids of recently applied events are kept on
the profile, so redelivering a stream batch changes nothing.
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PutError

from polku.data.profiles import ProfileModel

RECENT_IDS = 200


def profile_key(item: dict) -> str:
    return item.get("customer_id") or f"anon:{item.get('anonymous_id')}"


def apply_event(item: dict, attempts: int = 5) -> bool:
    """Apply one stored event (a plain dict). Returns False when it was applied before."""
    key = profile_key(item)
    for _ in range(attempts):
        try:
            profile = ProfileModel.get(key, consistent_read=True)
        except DoesNotExist:
            profile = ProfileModel(key, version=0, counts={}, traits={"applied": []})
        traits = profile.traits.as_dict() if hasattr(profile.traits, "as_dict") else dict(profile.traits or {})
        applied = list(traits.get("applied", []))
        if item["event_id"] in applied:
            return False
        counts = profile.counts.as_dict() if hasattr(profile.counts, "as_dict") else dict(profile.counts or {})
        counts[item["type"]] = int(counts.get(item["type"], 0)) + 1
        ts = item["client_ts"]
        previous_version = int(profile.version or 0)
        profile.counts = counts
        profile.first_seen = min(filter(None, [profile.first_seen, ts]))
        profile.last_seen = max(filter(None, [profile.last_seen, ts]))
        traits["applied"] = (applied + [item["event_id"]])[-RECENT_IDS:]
        profile.traits = traits
        profile.version = previous_version + 1
        condition = (
            ProfileModel.customer_id.does_not_exist()
            if previous_version == 0
            else ProfileModel.version == previous_version
        )
        try:
            profile.save(condition=condition)
            return True
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
    raise RuntimeError(f"profile {key}: too much contention, giving up after {attempts} attempts")
