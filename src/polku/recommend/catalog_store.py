"""Catalogue adapter: write imported products to the CatalogTable, read content for ids."""

from __future__ import annotations

from decimal import Decimal

from polku import clock
from polku.data.catalog import ProductModel

CONTENT = ("name", "category", "price", "currency", "description", "image_url", "url", "available", "synthetic")


def save_products(products: list[dict]) -> int:
    now = clock.now_iso()
    with ProductModel.batch_write() as batch:
        for p in products:
            attrs = {k: _plain(p[k]) for k in CONTENT if k in p}  # PynamoDB numbers are floats
            batch.save(ProductModel(p["product_id"], **attrs, updated_at=now))
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
            out[item.product_id] = {k: _plain(getattr(item, k)) for k in CONTENT if getattr(item, k, None) is not None}
    return out


def all_content() -> dict[str, dict]:
    """The whole catalogue (training snapshots it into the model)."""
    return {item.product_id: {k: _plain(getattr(item, k)) for k in CONTENT if getattr(item, k, None) is not None}
            for item in ProductModel.scan()}
