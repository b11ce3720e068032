"""Identity links: an anonymous id (a browser) belongs to at most one customer.

Written once with a conditional put (``attribute_not_exists`` or same customer),
so linking is idempotent and two racing links cannot both win.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from polku.data.base import PolkuModel


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
