"""The customer profile: the segment of one (see docs/profile.md for every field).

The key is the customer id, or ``anon:<anonymous_id>`` for a visitor not yet
identified. Built by :mod:`polku.tracking.profile_builder` from the customer's
events; written with an optimistic ``version`` condition.
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute

from polku.data.base import PolkuModel


class ProfileModel(PolkuModel):
    settings_field = "profiles_table"

    class Meta:
        table_name = "set-from-settings"

    customer_id = UnicodeAttribute(hash_key=True)
    anonymous_ids = ListAttribute(null=True)  # browsers/devices linked to this customer
    first_seen = UnicodeAttribute(null=True)
    last_seen = UnicodeAttribute(null=True)
    counts = MapAttribute(null=True)  # event type -> count
    recently_viewed = ListAttribute(null=True)  # [{product_id, ts}], newest first
    purchased = MapAttribute(null=True)  # product_id -> {quantity, last_ts}
    orders = NumberAttribute(null=True)
    revenue = NumberAttribute(null=True)
    last_purchase_at = UnicodeAttribute(null=True)
    category_affinity = MapAttribute(null=True)  # category -> weighted count
    open_hours = MapAttribute(null=True)  # "0".."167" (UTC hour of week, Monday 00:00 = 0) -> opens
    click_hours = MapAttribute(null=True)
    last_read = MapAttribute(null=True)  # {channel, ts}
    preferred_channel = UnicodeAttribute(null=True)
    consents = MapAttribute(null=True)  # channel -> {granted, ts}
    traits = MapAttribute(null=True)  # identify traits (email, phone, first_name, birthday, ...)
    trait_ts = MapAttribute(null=True)  # trait -> ts of the identify that set it
    last_location_key = UnicodeAttribute(null=True)
    last_read_key = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)
    time_zone = UnicodeAttribute(null=True)
    context_ts = UnicodeAttribute(null=True)
    last_location = MapAttribute(null=True)  # {store_id?, lat?, lon?, ts}
    lead_score = NumberAttribute(null=True)  # value at lead_score_at (decays with a half-life)
    lead_score_at = UnicodeAttribute(null=True)
    merged_into = UnicodeAttribute(null=True)  # anonymous profile folded into this customer
    applied = ListAttribute(null=True)  # ids of the most recently applied events (redelivery guard)
    version = NumberAttribute(null=True)
