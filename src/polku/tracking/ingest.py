"""Foundation version of event ingestion (the tracking issue replaces the validation).

Each event is stored once: the write is conditional on its event id being new.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pynamodb.exceptions import PutError

from polku import clock
from polku.data.events import EventModel

REQUIRED = ("event_id", "type", "ts")


@dataclass
class IngestResult:
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)


def ingest(events: list, site_key: str | None = None) -> IngestResult:
    result = IngestResult()
    received = clock.now_iso()
    for i, ev in enumerate(events):
        if not isinstance(ev, dict):
            result.rejected.append({"index": i, "field": f"events[{i}]", "reason": "must be an object"})
            continue
        missing = [f for f in REQUIRED if not ev.get(f)]
        if not ev.get("anonymous_id") and not ev.get("customer_id"):
            missing.append("anonymous_id|customer_id")
        if missing:
            result.rejected.append({"index": i, "field": missing[0], "reason": "required"})
            continue
        subject = f"c#{ev['customer_id']}" if ev.get("customer_id") else f"a#{ev['anonymous_id']}"
        item = EventModel(
            ev["event_id"],
            subject=subject,
            ts=f"{ev['ts']}#{ev['event_id']}",
            type=ev["type"],
            site_key=site_key,
            anonymous_id=ev.get("anonymous_id"),
            customer_id=ev.get("customer_id"),
            client_ts=ev["ts"],
            received_at=received,
            properties=ev.get("properties") or {},
        )
        try:
            item.save(condition=EventModel.event_id.does_not_exist())
            result.accepted.append(ev["event_id"])
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                result.duplicates.append(ev["event_id"])
            else:
                raise
    return result
