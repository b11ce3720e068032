"""Counters of rate-limited actions (consent-confirmation sends per address and per site; SES
outcomes per hour for the sending pause), one item per key and window; TTL removes a window once it
is over. The sending pause itself is one item (``sending-paused``)."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from polku.data.base import PolkuModel


class RateLimitModel(PolkuModel):
    settings_field = "rate_limits_table"

    class Meta:
        table_name = "set-from-settings"

    key = UnicodeAttribute(hash_key=True)  # "<what>#<whom>#<window start>", e.g. "confirm-sms#+358401234567#2026-12-04"
    count = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)  # TTL: the end of the window
    reason = UnicodeAttribute(null=True)  # the sending pause: why (messaging/sending_pause.py)
    since = UnicodeAttribute(null=True)  # and since when
