"""The product catalogue: the content a message needs about a product."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from polku.data.base import PolkuModel


class ByCategory(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_category"
        projection = AllProjection()

    category = UnicodeAttribute(hash_key=True)
    product_id = UnicodeAttribute(range_key=True)


class ProductModel(PolkuModel):
    settings_field = "catalog_table"

    class Meta:
        table_name = "set-from-settings"

    product_id = UnicodeAttribute(hash_key=True)
    category = UnicodeAttribute()
    name = UnicodeAttribute()
    price = NumberAttribute(null=True)
    available = BooleanAttribute(default=True)
    description = UnicodeAttribute(null=True)  # marketing text
    image_url = UnicodeAttribute(null=True)
    url = UnicodeAttribute(null=True)  # product page
    currency = UnicodeAttribute(null=True)
    synthetic = BooleanAttribute(null=True)  # demo data, not a real product
    updated_at = UnicodeAttribute(null=True)
    by_category = ByCategory()
