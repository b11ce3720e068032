"""Adapter: put one Polku event on an EventBridge bus (the ERP's OffersBus, the CRM's SalesBus).

The one place journeys call ``PutEvents``: a rejected entry raises :class:`EventPublishError`
(the step fails and Step Functions retries it; consumers de-duplicate on the detail's id).
"""

from __future__ import annotations

import json

from polku import aws_clients


class EventPublishError(RuntimeError):
    """EventBridge did not accept the event (the step is retried)."""


def put_event(bus_name: str, source: str, detail_type: str, detail: dict, events=None, setting: str = "") -> None:
    if not bus_name:
        raise EventPublishError(f"{setting or 'the bus name'} is not set for this function")
    resp = (events or aws_clients.client("events")).put_events(Entries=[{
        "Source": source, "DetailType": detail_type, "Detail": json.dumps(detail, sort_keys=True, default=str),
        "EventBusName": bus_name, "Resources": [],
    }])
    if resp.get("FailedEntryCount"):
        raise EventPublishError(f"EventBridge rejected {detail_type} on {bus_name}: {resp['Entries']}")
