"""Use cases: export and erase everything Polku holds about one customer.

"Everything" is: their events (under the customer id and under every anonymous id
linked to them), their profile and the profiles of those anonymous ids, the
identity links, their message history (messages table) and their journey state.
Erase deletes all of it and reports how many items went from each place; it is
safe to repeat (a second erase finds nothing). Events still in flight when the
erase runs can recreate a profile: run erase again after blocking the customer
at the source (documented in docs/privacy.md).
"""

from __future__ import annotations

from polku import clock
from polku.data.journey_state import JourneyStateModel
from polku.data.messages import MessageModel
from polku.tracking import event_store, identity, profile_builder, profile_store


def _model_dict(model) -> dict:
    out = {}
    for name in type(model).get_attributes():
        value = getattr(model, name)
        if value is None:
            continue
        out[name] = value.as_dict() if hasattr(value, "as_dict") else value
    return out


def _subjects(customer_id: str, anonymous_ids: list[str]) -> list[str]:
    return [f"c#{customer_id}"] + [f"a#{a}" for a in anonymous_ids]


def export(customer_id: str) -> dict:
    anonymous_ids = identity.anonymous_ids_of(customer_id)
    profiles = {}
    for key in [customer_id] + [profile_builder.anonymous_key(a) for a in anonymous_ids]:
        p = profile_store.load(key)
        if p is not None:
            profiles[key] = p
    return {
        "customer_id": customer_id,
        "exported_at": clock.now_iso(),
        "anonymous_ids": anonymous_ids,
        "profiles": profiles,
        "events": event_store.of_subjects(_subjects(customer_id, anonymous_ids)),
        "messages": [_model_dict(m) for m in MessageModel.by_customer.query(customer_id)],
        "journey_state": [_model_dict(m) for m in JourneyStateModel.query(customer_id)],
    }


def erase(customer_id: str) -> dict:
    anonymous_ids = identity.anonymous_ids_of(customer_id)
    events = event_store.of_subjects(_subjects(customer_id, anonymous_ids))
    removed = {"events": event_store.delete(e["event_id"] for e in events)}
    n = 0
    for key in [customer_id] + [profile_builder.anonymous_key(a) for a in anonymous_ids]:
        n += profile_store.delete(key)
    removed["profiles"] = n
    removed["identity_links"] = len(identity.unlink_all(customer_id))
    n = 0
    with MessageModel.batch_write() as batch:
        for m in MessageModel.by_customer.query(customer_id):
            batch.delete(m)
            n += 1
    removed["messages"] = n
    n = 0
    with JourneyStateModel.batch_write() as batch:
        for m in JourneyStateModel.query(customer_id):
            batch.delete(m)
            n += 1
    removed["journey_state"] = n
    return {"customer_id": customer_id, "erased_at": clock.now_iso(), "removed": removed}
