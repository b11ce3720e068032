"""The customer profile: the segment of one (see docs/profile.md for every field).

The key is the customer id, or ``anon:<anonymous_id>`` for a visitor not yet
identified. Built by :mod:`polku.tracking.profile_builder` from the customer's
events; written with an optimistic ``version`` condition.
"""

from __future__ import annotations

from typing import Iterator

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute

from polku.data.base import PolkuModel, delete_if, get_or_none, put_once, update_if


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


# -- the table's reads and writes (the profile reader, polku.tracking.profile_store.load, and every
# other module reach the profiles table through these) ---------------------------------------
def find(key: str, *, consistent_read: bool = True) -> ProfileModel | None:
    """One stored profile (a customer id or ``anon:<id>``), or None."""
    return get_or_none(ProfileModel, key, consistent_read=consistent_read)


def of_customers(customer_ids: list[str], attributes: tuple[str, ...]) -> list[ProfileModel]:
    """The stored profiles of these customers (only ``attributes``), by BatchGetItem."""
    return list(ProfileModel.batch_get(customer_ids, attributes_to_get=list(attributes)))


def scan(segment: int | None = None, total_segments: int | None = None) -> Iterator[ProfileModel]:
    """Every stored profile, by a scan (or one segment of a parallel scan)."""
    return ProfileModel.scan(segment=segment, total_segments=total_segments)


def save_version(profile: dict, previous_version: int) -> bool:
    """Write the profile if the stored version is still ``previous_version`` (0: none); False if not."""
    model = ProfileModel(profile["customer_id"], **{k: v for k, v in profile.items() if k != "customer_id"})
    condition = (
        ProfileModel.customer_id.does_not_exist()
        if previous_version == 0
        else ProfileModel.version == previous_version
    )
    return put_once(model, condition)


def mark_merged(key: str, customer_id: str) -> bool:
    """Mark a stored profile as folded into ``customer_id``; False (nothing written) when there is none."""
    return update_if(ProfileModel(key), [ProfileModel.merged_into.set(customer_id)], ProfileModel.customer_id.exists())


def delete(key: str) -> bool:
    """Delete a stored profile. False when there was none."""
    return delete_if(ProfileModel(key), ProfileModel.customer_id.exists())
