"""The webhook channel: the rendered message as an EventBridge event other systems
subscribe to (a rule with an API destination turns it into an HTTPS webhook)."""

from __future__ import annotations

import json

from polku.messaging.delivery import Delivered, DeliveryError, from_client_error, no_resend_after_sending

SOURCE = "polku.messages"
DETAIL_TYPE = "MessageReady"


class WebhookSender:
    def __init__(self, client, bus_name: str = "default"):
        self.client = client
        self.bus_name = bus_name
        no_resend_after_sending(client, "PutEvents")

    def send(self, *, message: dict) -> Delivered:
        try:
            out = self.client.put_events(
                Entries=[
                    {
                        "Source": SOURCE,
                        "DetailType": DETAIL_TYPE,
                        "Detail": json.dumps(message, default=str),
                        "EventBusName": self.bus_name,
                    }
                ]
            )
        except Exception as exc:
            raise from_client_error(exc, "EventBridge put_events") from exc
        entry = (out.get("Entries") or [{}])[0]
        if out.get("FailedEntryCount") or entry.get("ErrorCode"):
            code = entry.get("ErrorCode", "")
            raise DeliveryError(f"EventBridge put_events: {code}", transient=code in ("ThrottlingException", "InternalFailure"), code=code)
        return Delivered("webhook", entry.get("EventId", ""))
