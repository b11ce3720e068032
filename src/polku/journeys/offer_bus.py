"""Adapter: publish offer events to the ERP (EventBridge OffersBus, optional webhook)."""

from __future__ import annotations

import json
import urllib.request

from polku.journeys.event_bus import EventPublishError, put_event
from polku.journeys.offers import SOURCE
from polku.settings import Settings, get_settings


class OfferPublishError(EventPublishError):
    """EventBridge or the webhook did not accept the event (the step is retried)."""


class OfferBus:
    def __init__(self, settings: Settings | None = None, events_client=None):
        self.settings = settings or get_settings()
        self._events = events_client

    def publish(self, detail_type: str, detail: dict) -> None:
        try:
            put_event(self.settings.offers_bus_name, SOURCE, detail_type, detail, self._events, setting="OFFERS_BUS_NAME")
        except EventPublishError as exc:
            raise OfferPublishError(str(exc)) from None
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
