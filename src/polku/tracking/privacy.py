"""Use cases: export and erase everything Polku holds about one customer or one anonymous visitor.

For a customer, "everything" is: their events (under the customer id and under every
anonymous id linked to them), their profile and the profiles of those anonymous ids,
the identity links, their message history (messages table) and their journey state
(under the customer id and under each linked browser's profile key).

For an anonymous visitor (a browser that never identified), it is: the events stored
under its anonymous id, its anonymous profile (``anon:<id>``) and anything stored under
that profile key in the messages and journey-state tables. A browser that is linked to a
customer is part of that customer's history: it can be exported on its own, but it is
erased by erasing the customer (:class:`LinkedBrowser` says which one).

Erase first stops the running journey executions it finds in the journey state (so no
step acts on a person whose data is gone), then deletes, and reports how many items
went from each place; it is safe to repeat (a second erase finds nothing). Events still
in flight when the erase runs can recreate a profile: run erase again after blocking the
person at the source (documented in docs/privacy.md).
"""

from __future__ import annotations

from polku import clock
from polku.data.events import EventModel
from polku.data.journey_state import JourneyStateModel
from polku.data.messages import MessageModel
from polku.journeys import runs
from polku.tracking import event_store, identity, profile_builder, profile_store


class LinkedBrowser(Exception):
    """An anonymous id linked to a customer cannot be erased on its own."""

    def __init__(self, anonymous_id: str, customer_id: str):
        super().__init__(
            f"anonymous_id {anonymous_id} is linked to customer {customer_id}: its events are part of that "
            f"customer's history; erase the customer ({customer_id}) instead"
        )
        self.anonymous_id = anonymous_id
        self.customer_id = customer_id


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


def _profile_keys(customer_id: str, anonymous_ids: list[str]) -> list[str]:
    return [customer_id] + [profile_builder.anonymous_key(a) for a in anonymous_ids]


# ------------------------------------------------------------------ which kind of id is it?

def _has_events(subject: str) -> bool:
    return next(iter(EventModel.by_subject.query(subject, limit=1)), None) is not None


def is_anonymous(some_id: str) -> bool:
    """True when ``some_id`` is known as an anonymous id and not as a customer id.

    Known as anonymous: the identity table links it, its anonymous profile exists, or
    events are stored under it. Known as a customer: a profile or events under the
    customer id. An id known as both is a customer (say ``--anonymous-id`` for the browser).
    """
    anonymous = (identity.customer_of(some_id) is not None
                 or profile_store.load(profile_builder.anonymous_key(some_id)) is not None
                 or _has_events(f"a#{some_id}"))
    if not anonymous:
        return False
    return profile_store.load(some_id) is None and not _has_events(f"c#{some_id}")


# ------------------------------------------------------------------ the per-key tables

def _messages(keys: list[str]) -> list[MessageModel]:
    return [m for k in keys for m in MessageModel.by_customer.query(k)]


def _journey_state(keys: list[str]) -> list[JourneyStateModel]:
    return [m for k in keys for m in JourneyStateModel.query(k, consistent_read=True)]


def _stop_executions(keys: list[str], sfn) -> int:
    """Stop every running journey execution recorded under ``keys``; how many were running."""
    n = 0
    for key in keys:
        for run in runs.running(key):
            try:
                if sfn.describe_execution(executionArn=run.execution_arn)["status"] != "RUNNING":
                    continue
                sfn.stop_execution(executionArn=run.execution_arn, error="erased",
                                   cause="the person's data was erased (polku customers erase)")
                n += 1
            except sfn.exceptions.ExecutionDoesNotExist:
                continue
    return n


def _delete_all(models: list) -> int:
    if not models:
        return 0
    with type(models[0]).batch_write() as batch:
        for m in models:
            batch.delete(m)
    return len(models)


def _erase_keys(subjects: list[str], profile_keys: list[str], sfn) -> tuple[dict, int]:
    """Stop executions, then delete events, profiles, messages and journey state; (removed, stopped)."""
    stopped = _stop_executions(profile_keys, sfn)
    events = event_store.of_subjects(subjects)
    removed = {"events": event_store.delete(e["event_id"] for e in events)}
    removed["profiles"] = sum(1 for k in profile_keys if profile_store.delete(k))
    removed["messages"] = _delete_all(_messages(profile_keys))
    removed["journey_state"] = _delete_all(_journey_state(profile_keys))
    return removed, stopped


# ------------------------------------------------------------------ customers

def export(customer_id: str) -> dict:
    anonymous_ids = identity.anonymous_ids_of(customer_id)
    keys = _profile_keys(customer_id, anonymous_ids)
    profiles = {}
    for key in keys:
        p = profile_store.load(key)
        if p is not None:
            profiles[key] = p
    return {
        "customer_id": customer_id,
        "exported_at": clock.now_iso(),
        "anonymous_ids": anonymous_ids,
        "profiles": profiles,
        "events": event_store.of_subjects(_subjects(customer_id, anonymous_ids)),
        "messages": [_model_dict(m) for m in _messages(keys)],
        "journey_state": [_model_dict(m) for m in _journey_state(keys)],
    }


def erase(customer_id: str, *, sfn) -> dict:
    """Erase a customer and every browser linked to them; ``sfn`` is a Step Functions client."""
    anonymous_ids = identity.anonymous_ids_of(customer_id)
    removed, stopped = _erase_keys(_subjects(customer_id, anonymous_ids),
                                   _profile_keys(customer_id, anonymous_ids), sfn)
    removed["identity_links"] = len(identity.unlink_all(customer_id))
    return {"customer_id": customer_id, "erased_at": clock.now_iso(), "removed": removed,
            "stopped_executions": stopped}


# ------------------------------------------------------------------ anonymous visitors

def export_anonymous(anonymous_id: str) -> dict:
    """One browser's own data; ``customer_id`` names the customer it is linked to, if any."""
    key = profile_builder.anonymous_key(anonymous_id)
    profile = profile_store.load(key)
    return {
        "anonymous_id": anonymous_id,
        "customer_id": identity.customer_of(anonymous_id),
        "exported_at": clock.now_iso(),
        "profiles": {key: profile} if profile is not None else {},
        "events": event_store.of_subjects([f"a#{anonymous_id}"]),
        "messages": [_model_dict(m) for m in _messages([key])],
        "journey_state": [_model_dict(m) for m in _journey_state([key])],
    }


def erase_anonymous(anonymous_id: str, *, sfn) -> dict:
    """Erase a browser that never identified. Raises :class:`LinkedBrowser` if it is linked."""
    owner = identity.customer_of(anonymous_id)
    if owner is not None:
        raise LinkedBrowser(anonymous_id, owner)
    removed, stopped = _erase_keys([f"a#{anonymous_id}"], [profile_builder.anonymous_key(anonymous_id)], sfn)
    return {"anonymous_id": anonymous_id, "erased_at": clock.now_iso(), "removed": removed,
            "stopped_executions": stopped}
