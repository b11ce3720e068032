"""Adapter: publish offer events to the ERP (EventBridge OffersBus, optional webhook)."""

from __future__ import annotations

import json
import urllib.request
from functools import lru_cache

from polku.journeys.offers import SOURCE
from polku.settings import Settings, get_settings


class OfferPublishError(RuntimeError):
    """EventBridge or the webhook did not accept the event (the step is retried)."""


@lru_cache(maxsize=1)
def _events_client():
    import boto3

    return boto3.client("events")


class OfferBus:
    def __init__(self, settings: Settings | None = None, events_client=None):
        self.settings = settings or get_settings()
        self._events = events_client

    @property
    def events(self):
        if self._events is None:
            self._events = _events_client()
        return self._events

    def publish(self, detail_type: str, detail: dict) -> None:
        if not self.settings.offers_bus_name:
            raise OfferPublishError("OFFERS_BUS_NAME is not set for this function")
        resp = self.events.put_events(
            Entries=[
                {
                    "Source": SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, sort_keys=True),
                    "EventBusName": self.settings.offers_bus_name,
                    "Resources": [],
                }
            ]
        )
        if resp.get("FailedEntryCount"):
            raise OfferPublishError(f"EventBridge rejected {detail_type} {detail.get('offer_id')}: {resp['Entries']}")
        if self.settings.offers_webhook_url:
            body = json.dumps({"source": SOURCE, "detail-type": detail_type, "detail": detail}, sort_keys=True).encode()
            req = urllib.request.Request(
                self.settings.offers_webhook_url, data=body, method="POST",
                headers={"Content-Type": "application/json", "Idempotency-Key": f"{detail_type}:{detail['offer_id']}"},
            )
            try:
                with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 - URL is operator configuration
                    if r.status >= 300:
                        raise OfferPublishError(f"offer webhook answered {r.status}")
            except OSError as exc:
                raise OfferPublishError(f"offer webhook failed: {exc}") from None
