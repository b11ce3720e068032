"""The product catalogue: the content a message needs about a product."""

from __future__ import annotations

from decimal import Decimal

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from polku import clock
from polku.data.base import PolkuModel, get_or_none


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


# -- the table's reads and writes (every module reaches the catalogue through these) ----------
CONTENT = ("name", "category", "price", "currency", "description", "image_url", "url", "available", "synthetic")


def save_products(products: list[dict]) -> int:
    """Write imported products (content fields, ``updated_at`` now) in batches; returns how many."""
    updated_at = clock.now_iso()
    with ProductModel.batch_write() as batch:
        for p in products:
            attrs = {k: _plain(p[k]) for k in CONTENT if k in p}  # PynamoDB numbers are floats
            batch.save(ProductModel(p["product_id"], **attrs, updated_at=updated_at))
    return len(products)


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def content_for(product_ids) -> dict[str, dict]:
    """product id -> catalogue content (ids not in the catalogue are absent)."""
    ids = list(dict.fromkeys(str(p) for p in product_ids))
    out: dict[str, dict] = {}
    for start in range(0, len(ids), 100):
        for item in ProductModel.batch_get(ids[start:start + 100]):
            out[item.product_id] = _content(item)
    return out


def all_content() -> dict[str, dict]:
    """The whole catalogue (training snapshots it into the model)."""
    return {item.product_id: _content(item) for item in ProductModel.scan()}


def _content(item: ProductModel) -> dict:
    """A stored product's content fields that are set, as plain values."""
    return {k: _plain(getattr(item, k)) for k in CONTENT if getattr(item, k, None) is not None}


def category_of(product_id: str) -> str | None:
    """The product's category, or None when it is not in the catalogue."""
    item = get_or_none(ProductModel, product_id, consistent_read=False)
    return item.category if item is not None else None
