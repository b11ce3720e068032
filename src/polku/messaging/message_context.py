"""The variables a message template sees (one place, so lint and rendering agree).

=================  =====================================================================
``customer``       ``first_name``, ``email``, ``locale``, ``customer_id`` + identify traits
``products``       recommended products ``[{product_id, name, price, image_url, url, category}]``
``offer``          ``{title, code, discount, expires_at}`` or ``None``
``data``           the journey's own context (e.g. ``cart_items``, ``order_id``, ``order_items``, ``total``)
``brand``          ``{name, shop_url, address, color, currency, logo_url}``
``links``          ``{unsubscribe, open_pixel}`` (signed)
``message``        ``{id, journey, step, variant, type}``
``track(url)``     a signed click-tracking URL for ``url``
``editable(name)`` a distributed-marketing editable block (``{% call editable("intro") %}``)
``part``, ``channel``, ``locale``, ``subject``, ``preheader``  set by the renderer
=================  =====================================================================
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from polku.messaging.links import LinkError, safe_destination

TEMPLATE_VARIABLES = frozenset(
    {"customer", "products", "offer", "data", "brand", "links", "message", "track", "editable",
     "part", "channel", "locale", "subject", "preheader"}  # fmt: skip
)
PRODUCT_FIELDS = ("product_id", "name", "price", "image_url", "url", "category")
PRODUCT_LISTS_IN_DATA = ("cart_items", "order_items", "viewed_items")
MAX_PRODUCTS = 12

DEFAULT_BRAND = {
    "name": "Polku Shop",
    "shop_url": "https://shop.example.com/",
    "address": "Esimerkkikatu 1, 00100 Helsinki",
    "color": "#2f6f5e",
    "currency": "EUR",
    "logo_url": "",
}


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(value: Any, depth: int = 0) -> Any:
    """Data with control characters removed from every string (they could forge section
    separators or e-mail headers); nesting deeper than 8 levels is dropped."""
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    if depth > 8:
        return None
    if isinstance(value, Mapping):
        return {str(k): clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v, depth + 1) for v in value]
    if type(value).__name__ == "Decimal":
        return int(value) if value == int(value) else float(value)
    return value


def normalise_product(p: Any, shop_url: str) -> dict | None:
    """A product dict with every field the blocks read (missing ones empty); None if unusable."""
    if not isinstance(p, Mapping):
        return None
    out = {k: p.get(k) for k in PRODUCT_FIELDS}
    out["product_id"] = str(out["product_id"] or "")
    out["name"] = str(out["name"] or out["product_id"] or "")
    if not out["name"]:
        return None
    for key in ("image_url", "url"):
        try:
            out[key] = safe_destination(out[key]) if out[key] else ""
        except LinkError:
            out[key] = ""
    out["url"] = out["url"] or shop_url
    out["category"] = str(out["category"] or "")
    out["quantity"] = p.get("quantity", 1)
    for extra, value in p.items():
        out.setdefault(str(extra), value)
    return out


def normalise_products(items: Any, shop_url: str, limit: int = MAX_PRODUCTS) -> list[dict]:
    if not isinstance(items, list):
        return []
    out = [n for n in (normalise_product(p, shop_url) for p in items[: limit * 2]) if n is not None]
    return out[:limit]


def build_context(
    *,
    customer: Mapping[str, Any],
    products: Any,
    offer: Mapping[str, Any] | None,
    data: Mapping[str, Any] | None,
    brand: Mapping[str, Any] | None,
    links: Mapping[str, str],
    message: Mapping[str, Any],
    track: Callable[[str], str],
    editable_overrides: Mapping[str, str] | None = None,
) -> dict:
    customer, products, offer, data, brand = (clean(v) for v in (customer, products, offer, data, brand))
    editable_overrides = clean(dict(editable_overrides or {}))
    brand_ = {**DEFAULT_BRAND, **dict(brand or {})}
    data_ = dict(data or {})
    for key in PRODUCT_LISTS_IN_DATA:
        if key in data_:
            data_[key] = normalise_products(data_[key], brand_["shop_url"], limit=50)
    customer_ = {"first_name": None, **dict(customer)}
    return {
        "customer": customer_,
        "products": normalise_products(products, brand_["shop_url"]),
        "offer": dict(offer) if isinstance(offer, Mapping) and offer.get("title") else None,
        "data": data_,
        "brand": brand_,
        "links": {"unsubscribe": links.get("unsubscribe", ""), "open_pixel": links.get("open_pixel", "")},
        "message": dict(message),
        "track": track,
        "editable_overrides": dict(editable_overrides or {}),
    }


def preview_track(url: str) -> str:
    """The identity tracker used for previews and lint (no signing)."""
    return url
