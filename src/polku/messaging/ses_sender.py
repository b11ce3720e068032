"""E-mail delivery through SES v2 (raw MIME, so the unsubscribe headers go out as built)."""

from __future__ import annotations

import re

from polku.messaging.delivery import Delivered, from_client_error, no_resend_after_sending

_TAG = re.compile(r"[^A-Za-z0-9_\-]")


class SesSender:
    def __init__(self, client, configuration_set: str | None):
        self.client = client
        self.configuration_set = configuration_set or None
        no_resend_after_sending(client, "SendEmail")

    def send(self, *, sender: str, to: str, raw: bytes, message_id: str, journey: str) -> Delivered:
        kwargs = {
            "FromEmailAddress": sender,
            "Destination": {"ToAddresses": [to]},
            "Content": {"Raw": {"Data": raw}},
            "EmailTags": [
                {"Name": "polku_message_id", "Value": message_id},
                {"Name": "polku_journey", "Value": _TAG.sub("_", journey)[:256] or "none"},
            ],
        }
        if self.configuration_set:
            kwargs["ConfigurationSetName"] = self.configuration_set
        try:
            out = self.client.send_email(**kwargs)
        except Exception as exc:  # mapped to transient / permanent
            raise from_client_error(exc, "SES send_email") from exc
        return Delivered("ses", out["MessageId"])
