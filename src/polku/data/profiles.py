"""The customer profile: the segment of one."""

from __future__ import annotations

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute

from polku.data.base import PolkuModel


class ProfileModel(PolkuModel):
    settings_field = "profiles_table"

    class Meta:
        table_name = "set-from-settings"

    customer_id = UnicodeAttribute(hash_key=True)
    first_seen = UnicodeAttribute(null=True)
    last_seen = UnicodeAttribute(null=True)
    counts = MapAttribute(null=True)  # event type -> count
    traits = MapAttribute(null=True)
    lead_score = NumberAttribute(null=True)
    version = NumberAttribute(null=True)
