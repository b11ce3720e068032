"""The variables a message template sees (one place, so lint and rendering agree).

=================  =====================================================================
``customer``       ``first_name``, ``email``, ``locale``, ``customer_id`` + identify traits
``products``       recommended products ``[{product_id, name, price, image_url, url, category}]``
``offer``          ``{title, code, discount, expires_at}`` or ``None``
``data``           the journey's own context (e.g. ``cart_items``, ``order_id``, ``order_items``, ``total``)
``brand``          ``{name, shop_url, address, color, currency, logo_url}``
``links``          ``{unsubscribe, open_pixel}`` (signed)
``message``        ``{id, journey, step, variant, type, stage}`` (``stage``: what the step is for, ``main`` by default)
``track(url)``     a signed click-tracking URL for ``url``
``editable(name)`` a distributed-marketing editable block (``{% call editable("intro") %}``)
``part``, ``channel``, ``locale``, ``subject``, ``preheader``  set by the renderer
``greeting()``, ``product_list(items, heading, limit)``, ``offer_box(offer)``, ``button(url, label)``
                   the brand layout's building blocks (no import needed)
=================  =====================================================================
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Callable

from polku.messaging.links import LinkError, safe_destination

TEMPLATE_VARIABLES = frozenset(
    {"customer", "products", "offer", "data", "brand", "links", "message", "track", "editable",
     "part", "channel", "locale", "subject", "preheader",
     # the layout's building blocks (templates/_layouts/brand.j2) and the card renderer
     "greeting", "product_list", "offer_box", "offer_title", "button", "product_cards"}  # fmt: skip
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
_PLAIN = frozenset({int, float, bool, type(None)})  # returned as they are by clean()


def clean(value: Any, depth: int = 0) -> Any:
    """Data with control characters removed from every string (they could forge section
    separators or e-mail headers); nesting deeper than 8 levels is dropped."""
    kind = type(value)
    if kind is str:
        # A printable string has no control character (every one is unprintable), so the
        # expression would return it as it is; isprintable() is one quick pass.
        return value if value.isprintable() else _CONTROL.sub("", value)
    if isinstance(value, str):
        return _CONTROL.sub("", value)  # a plain str, also for a str subclass
    if depth > 8:
        return None
    if kind in _PLAIN:
        return value
    if kind is dict or isinstance(value, Mapping):
        out = {}
        for k, v in value.items():  # strings and plain numbers inline: what clean(v, depth + 1) gives
            vk = type(v)
            if vk is str:
                out[str(k)] = v if v.isprintable() else _CONTROL.sub("", v)
            elif vk in _PLAIN and depth < 8:
                out[str(k)] = v
            else:
                out[str(k)] = clean(v, depth + 1)
        return out
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


# ---------------------------------------------------------------- normalised products, cached
# The same product (same fields, same values, same types) normalises to the same dict, so
# each distinct product is cleaned and normalised once per process, not once per recipient.
# Only flat products are cached: string keys, scalar values (str, int, float, bool, None,
# Decimal), and no float zero (0.0 == -0.0 but they print differently). The normalised
# product is read-only (:class:`ReadOnlyDict`), so every message can share it: a template
# cannot change what the next message shows. Bounded: cleared when full.
_CACHEABLE_VALUES = frozenset({str, int, float, bool, type(None), Decimal})
_STR_ONLY = frozenset({str})
FLAT_VALUES = frozenset({str, int, float, bool, type(None)})
_NORMALISED: dict[tuple, dict | None] = {}
NORMALISED_CACHE_MAX = 10_000
_UNUSABLE: dict = {}  # cached "not a usable product"


def _read_only(self: Any, *args: Any, **kwargs: Any) -> None:
    raise TypeError(f"{type(self).__name__} is read-only: products and the brand cannot be changed by a template")


class ReadOnlyDict(dict):
    """A dict nobody changes: normalised products and the brand in a message's context,
    shared by the messages that show them. Reading is a plain dict's (``dict(d)`` gives a
    changeable copy); every method that would change it raises TypeError. It knows its
    content key (:meth:`_content_key`) once asked, for the product-card cache."""

    __slots__ = ("_key",)

    __setitem__ = __delitem__ = update = pop = popitem = setdefault = clear = __ior__ = _read_only

    def __reduce__(self) -> tuple:  # copy, deepcopy, pickle: a new read-only dict of the same items
        return (ReadOnlyDict, (dict(self),))

    def _content_key(self) -> int | None:
        """A number standing for ``flat_key`` of the items (None if not flat), computed once:
        the items never change. Equal flat contents get the same number (a small key is
        quick to hash in the card cache); a number is never given to other contents."""
        try:
            return self._key
        except AttributeError:
            key = flat_key(dict(self))
            self._key = None if key is None else _content_number(key)
            return self._key


_CONTENT_NUMBERS: dict[tuple, int] = {}
_next_number = itertools.count(1)


def _content_number(key: tuple) -> int:
    number = _CONTENT_NUMBERS.get(key)
    if number is None:
        if len(_CONTENT_NUMBERS) >= 10_000:  # forgetting only costs a cache miss: numbers are never reused
            _CONTENT_NUMBERS.clear()
        number = _CONTENT_NUMBERS[key] = next(_next_number)
    return number


def flat_key(obj: Any, allowed: frozenset = FLAT_VALUES) -> tuple | None:
    """A hashable key equal only for flat dicts that give the same output: string keys, values
    of the ``allowed`` scalar types compared with their types (1, 1.0 and True are equal in
    Python, not on the page), no float zero (0.0 == -0.0, printed differently). None for
    anything else (handled without a cache). Used for normalised products and product cards
    (a :class:`ReadOnlyDict` keeps its own, :meth:`ReadOnlyDict._content_key`)."""
    if type(obj) is not dict:
        return None
    values = tuple(obj.values())
    types = tuple(map(type, values))
    if not allowed.issuperset(types) or not _STR_ONLY.issuperset(map(type, obj)) or (float in types and 0.0 in values):
        return None
    return (tuple(obj), values, types)


def _normalised(p: Any, shop_url: Any, depth: int) -> dict | None:
    """``normalise_product(clean(p, depth), shop_url)`` as a :class:`ReadOnlyDict`, the same
    object for the same flat product (from the cache).

    The cache is looked up by the product's items and the shop URL, and a hit is taken only
    when the value types are the same as the cached product's (1, 1.0 and True are equal
    keys but print differently). What is cached passed ``flat_key``'s checks when it was
    stored (string keys, scalar values, no float zero), so an equal product with the same
    value types gives the same output: its keys can only be equal strings (str() of
    them is what clean() keeps), and no value of it can be a float zero."""
    if type(p) is dict:
        try:
            key = (tuple(p.items()), shop_url)
            hit = _NORMALISED.get(key)
        except TypeError:  # an unhashable value or shop_url: not cacheable
            key = hit = None
        if hit is not None and hit[0] == tuple(map(type, p.values())):
            return hit[1] if hit[1] is not _UNUSABLE else None
    else:
        key = None
    out = normalise_product(clean(p, depth), shop_url)
    if out is not None:
        out = ReadOnlyDict(out)
    if key is not None and flat_key(p, _CACHEABLE_VALUES) is not None:
        if len(_NORMALISED) >= NORMALISED_CACHE_MAX:
            _NORMALISED.clear()
        _NORMALISED[key] = (tuple(map(type, p.values())), out if out is not None else _UNUSABLE)
    return out


def _products(items: Any, shop_url: Any, limit: int, depth: int) -> list[dict]:
    """``normalise_products(clean(items, depth - 1), shop_url, limit)``, product by product."""
    if not isinstance(items, (list, tuple)):
        return []  # clean() keeps a non-list a non-list, and normalise_products ignores it
    out = []
    for p in items[: limit * 2]:
        n = _normalised(p, shop_url, depth)
        if n is not None:
            out.append(n)
    return out[:limit]


def _data(data: Any, shop_url: Any) -> dict:
    """The journey's data, cleaned, with its product lists normalised."""
    if type(data) is not dict:  # the general path
        data_ = dict(clean(data) or {})
        for key in PRODUCT_LISTS_IN_DATA:
            if key in data_:
                data_[key] = normalise_products(data_[key], shop_url, limit=50)
        return data_
    out = {}
    for k, v in data.items():
        k = str(k)
        out[k] = _products(v, shop_url, 50, depth=2) if k in PRODUCT_LISTS_IN_DATA else clean(v, 1)
    return out


_DEFAULT_BRAND = ReadOnlyDict(DEFAULT_BRAND)
_BRANDS: dict[tuple, ReadOnlyDict] = {}


def _brand(brand: Any) -> ReadOnlyDict:
    """The brand over the defaults (``{**DEFAULT_BRAND, **brand}``), read-only, one object per
    distinct flat brand (a brand usually repeats for every message)."""
    if not brand:
        return _DEFAULT_BRAND
    key = flat_key(brand) if type(brand) is dict else None
    hit = _BRANDS.get(key) if key is not None else None
    if hit is None:
        hit = ReadOnlyDict({**DEFAULT_BRAND, **dict(brand)})
        if key is not None:
            if len(_BRANDS) >= 256:
                _BRANDS.clear()
            _BRANDS[key] = hit
    return hit


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
    customer, offer, brand = clean(customer), clean(offer), clean(brand)
    editable_overrides = clean(dict(editable_overrides or {}))
    brand_ = _brand(brand)
    shop_url = brand_["shop_url"]
    data_ = _data(data, shop_url)
    customer_ = {"first_name": None, **dict(customer)}
    return {
        "customer": customer_,
        "products": _products(products, shop_url, MAX_PRODUCTS, depth=1),
        "offer": dict(offer) if isinstance(offer, Mapping) and offer.get("title") else None,
        "data": data_,
        "brand": brand_,
        "links": {"unsubscribe": links.get("unsubscribe", ""), "open_pixel": links.get("open_pixel", "")},
        "message": {"stage": "main", **dict(message)},  # stage: what the step is for (templates branch on it)
        "track": track,
        "editable_overrides": dict(editable_overrides or {}),
    }


def preview_track(url: str) -> str:
    """The identity tracker used for previews and lint (no signing)."""
    return url
