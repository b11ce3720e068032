"""Tracking events: one item per accepted event, keyed by its event id (dedupe by
conditional write); the ``by_subject`` index lists one customer's or one anonymous
visitor's events in time order."""

from __future__ import annotations

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from polku.data.base import PolkuModel


class BySubject(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_subject"
        projection = AllProjection()

    subject = UnicodeAttribute(hash_key=True)
    ts = UnicodeAttribute(range_key=True)


class EventModel(PolkuModel):
    settings_field = "events_table"

    class Meta:
        table_name = "set-from-settings"

    event_id = UnicodeAttribute(hash_key=True)
    subject = UnicodeAttribute()  # "c#<customer_id>" or "a#<anonymous_id>"
    ts = UnicodeAttribute()  # "<client ISO time>#<event_id>": time order, unique
    type = UnicodeAttribute()
    site_key = UnicodeAttribute(null=True)
    anonymous_id = UnicodeAttribute(null=True)
    customer_id = UnicodeAttribute(null=True)
    client_ts = UnicodeAttribute()
    received_at = UnicodeAttribute()
    properties = MapAttribute(null=True)
    context = MapAttribute(null=True)  # locale, time_zone, url, referrer, user_agent, library
    expires_at = NumberAttribute(null=True)
    by_subject = BySubject()
