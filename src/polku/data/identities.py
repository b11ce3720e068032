"""Identity links: an anonymous id (a browser) belongs to at most one customer.

Written once with a conditional put (``attribute_not_exists`` or same customer),
so linking is idempotent and two racing links cannot both win.
"""

from __future__ import annotations

from typing import Iterable

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from polku.data.base import PolkuModel, get_or_none, put_once


class ByCustomer(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_customer"
        projection = AllProjection()

    customer_id = UnicodeAttribute(hash_key=True)


class IdentityModel(PolkuModel):
    settings_field = "identities_table"

    class Meta:
        table_name = "set-from-settings"

    anonymous_id = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute()
    linked_at = UnicodeAttribute()
    site_key = UnicodeAttribute(null=True)
    by_customer = ByCustomer()


# -- the table's reads and writes (every module reaches the identity links through these) -----
def add_link(anonymous_id: str, customer_id: str, linked_at: str, site_key: str | None = None) -> bool:
    """Link the anonymous id to the customer unless it is linked (to anyone) already; True when written."""
    return put_once(IdentityModel(anonymous_id, customer_id=customer_id, linked_at=linked_at, site_key=site_key),
                    IdentityModel.anonymous_id.does_not_exist())


def customer_of(anonymous_id: str, *, consistent_read: bool = True) -> str | None:
    """The customer this anonymous id is linked to, or None."""
    item = get_or_none(IdentityModel, anonymous_id, consistent_read=consistent_read)
    return item.customer_id if item is not None else None


def customers_of(anonymous_ids: Iterable[str]) -> dict[str, str]:
    """anonymous id -> customer id, for those linked (one BatchGetItem per 100)."""
    keys = list(dict.fromkeys(a for a in anonymous_ids if a))
    if not keys:
        return {}
    return {m.anonymous_id: m.customer_id for m in IdentityModel.batch_get(keys)}


def anonymous_ids_of(customer_id: str) -> list[str]:
    """The anonymous ids linked to the customer (``by_customer`` index), sorted."""
    return sorted(m.anonymous_id for m in IdentityModel.by_customer.query(customer_id))


def unlink_all(customer_id: str) -> list[str]:
    """Delete every link of the customer; returns the anonymous ids unlinked."""
    ids = anonymous_ids_of(customer_id)
    for a in ids:
        IdentityModel(a).delete()
    return ids
