"""On-site content (the website as a channel): what ``POST /v1/content`` answers for the slots of a page.

A page names its slots (``data-polku-slot="..."``, docs/onsite.md); for each the answer is either
products (from the recommend function, with names, prices, images and signed click links) or
cards (the visitor's web inbox: web cards that journeys and campaigns put there, channel ``web``).

Who the visitor is decides what they may see, and nothing the browser says is taken on trust:

* no id (a site that requires consent, before it is given): only what is not personal -- the
  products of a product page; cards and "for you" answer as for a stranger (nothing, popular).
* ``anonymous_id``: that browser's own anonymous profile (``anon:<id>``) and web inbox, never the
  customer's it may be linked to (knowing a browser's id proves nothing about a customer).
* ``customer_id`` with the ``identity_token`` the shop's backend minted for it (the proof
  ``/v1/identify`` checks, polku.tracking.identity_token): the customer's profile and inbox.
  A customer id without a valid token is refused (403 naming ``identity_token``).

Fast: recommendations are cached in this container for :data:`CACHE_SECONDS` (per strategy,
product and visitor; a product page's "also bought" is the same for every visitor); cards are
read fresh (one query), since they expire and are clicked. A card handed to a page is
``delivered`` the first time and a ``content_impression`` event each view (polku.messaging.web_inbox).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from polku.messaging.web_inbox import card_of
from polku.tracking.validation import Invalid, check_customer_id, check_id

MAX_SLOTS = 8
MAX_COUNT = 12
CACHE_SECONDS = 60.0
CACHE_ENTRIES = 4096
CARDS = "cards"
# slot name -> (what it shows, recommend strategy, needs a product_id)
SLOTS: dict[str, tuple[str, str | None, bool]] = {
    "product-page-also-bought": ("products", "also_bought", True),
    "product-page-similar": ("products", "similar", True),
    "home-for-you": ("products", "for_customer", False),
    "cart-offer": (CARDS, None, False),
    "inbox": (CARDS, None, False),
}
BODY_FIELDS = frozenset({"site_key", "anonymous_id", "customer_id", "identity_token", "slots"})
PRODUCT_FIELDS = ("product_id", "name", "price", "currency", "image_url", "category")


@dataclass(frozen=True)
class Slot:
    name: str
    kind: str
    strategy: str | None = None
    product_id: str | None = None
    count: int = 4


@dataclass(frozen=True)
class ContentRequest:
    anonymous_id: str | None
    customer_id: str | None
    identity_token: str | None
    slots: tuple[Slot, ...]

    @property
    def visitor(self) -> str | None:
        """The key of the profile and inbox this request may see (verified customer, else anon:<id>)."""
        if self.customer_id:
            return self.customer_id
        return f"anon:{self.anonymous_id}" if self.anonymous_id else None


def parse(body: Mapping) -> ContentRequest:
    """The request body; :class:`Invalid` names the field that is wrong."""
    unknown = sorted(set(body) - BODY_FIELDS)
    if unknown:
        raise Invalid(unknown[0], "is not a field of a content request (site_key, anonymous_id, customer_id, "
                                  "identity_token, slots)")
    anonymous_id = body.get("anonymous_id")
    if anonymous_id is not None:
        check_id(anonymous_id, "anonymous_id")
    customer_id = body.get("customer_id")
    token = body.get("identity_token")
    if customer_id is not None:
        check_customer_id(customer_id)
        if token is None:
            raise Invalid("identity_token", "is required with customer_id: personal content needs the token "
                                            "your server minted for the customer (docs/onsite.md)")
    elif token is not None:
        raise Invalid("customer_id", "is required with identity_token")
    slots = body.get("slots")
    if not isinstance(slots, list) or not slots:
        raise Invalid("slots", "must be a non-empty list of {name, product_id?, count?}")
    if len(slots) > MAX_SLOTS:
        raise Invalid("slots", f"must name at most {MAX_SLOTS} slots")
    out, seen = [], set()
    for i, raw in enumerate(slots):
        field = f"slots[{i}]"
        if not isinstance(raw, Mapping):
            raise Invalid(field, "must be an object {name, product_id?, count?}")
        unknown = sorted(set(raw) - {"name", "product_id", "count"})
        if unknown:
            raise Invalid(f"{field}.{unknown[0]}", "is not a slot field (name, product_id, count)")
        name = raw.get("name")
        if name not in SLOTS:
            raise Invalid(f"{field}.name", f"must be one of {', '.join(SLOTS)}")
        if name in seen:
            raise Invalid(f"{field}.name", "is named twice")
        seen.add(name)
        kind, strategy, needs_product = SLOTS[name]
        product_id = raw.get("product_id")
        if product_id is not None:
            check_id(product_id, f"{field}.product_id", allow_int=True)
            product_id = str(product_id)
        elif needs_product:
            raise Invalid(f"{field}.product_id", f"is required for slot {name}")
        count = raw.get("count", 4)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
            raise Invalid(f"{field}.count", f"must be an integer from 1 to {MAX_COUNT}")
        out.append(Slot(name, kind, strategy, product_id, count))
    return ContentRequest(anonymous_id, customer_id, token, tuple(out))


class TtlCache:
    """A small in-container cache with a monotonic-time TTL (thread-safe, bounded)."""

    def __init__(self, seconds: float = CACHE_SECONDS, entries: int = CACHE_ENTRIES):
        self.seconds, self.entries = seconds, entries
        self._data: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key, make: Callable[[], Any]):
        now = time.monotonic()
        with self._lock:
            found = self._data.get(key)
            if found is not None and found[0] > now:
                self.hits += 1
                return found[1]
        value = make()
        with self._lock:
            self.misses += 1
            if len(self._data) >= self.entries:
                self._data = {k: v for k, v in self._data.items() if v[0] > now}
                if len(self._data) >= self.entries:
                    self._data.clear()
            self._data[key] = (now + self.seconds, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


RECOMMENDATIONS = TtlCache()


@dataclass
class ContentDeps:
    """What the content use case talks to (the real adapters: :func:`real_deps`)."""

    recommend: Callable[[dict], list]  # a recommend request -> products (catalogue content)
    signer: Callable[[], Any]  # the LinkSigner (built lazily: a request with no links needs no secret)
    waiting_cards: Callable[[str], list]  # visitor key -> web inbox items (polku.messaging.web_inbox)
    shown: Callable[[Any, str, str], None]  # (card item, visitor key, slot) -> delivered + impression


def answer(req: ContentRequest, deps: ContentDeps) -> dict:
    """The slots' content. The caller has checked the identity token of ``req.customer_id``."""
    visitor = req.visitor
    out: dict[str, dict] = {}
    signer = None
    for slot in req.slots:
        if slot.kind == CARDS:
            items = deps.waiting_cards(visitor)[: slot.count] if visitor else []
            cards = []
            for item in items:
                cards.append(card_of(item))
                deps.shown(item, visitor, slot.name)
            out[slot.name] = {"cards": cards}
            continue
        personal = slot.strategy == "for_customer"
        request = {"strategy": slot.strategy, "k": slot.count}
        if slot.product_id is not None:
            request["product_id"] = slot.product_id
        if personal:
            request["customer_id"] = visitor or "anon:"  # a stranger: the popular products
            request["exclude_purchased"] = True
        key = (slot.strategy, slot.product_id, request.get("customer_id"), slot.count)
        products = RECOMMENDATIONS.get(key, lambda r=request: deps.recommend(r))
        if signer is None and products:
            signer = deps.signer()
        # a product the catalogue cannot show (no name or page: e.g. one bought before it was loaded)
        # would be a blank tile: only what a visitor can see and follow goes into the slot
        showable = [p for p in products if p.get("name") and p.get("url")]
        out[slot.name] = {"products": [_product(p, signer, slot.name, visitor) for p in showable]}
    return {"slots": out, "personal": bool(req.customer_id)}


def _product(p: Mapping, signer, slot: str, visitor: str | None) -> dict:
    from polku.messaging.links import LinkError

    item = {k: p.get(k) for k in PRODUCT_FIELDS if p.get(k) is not None}
    url = p.get("url")
    if url:
        try:  # the click comes back as a content_click event (the visitor's own, or a stranger's)
            item["url"] = signer.click_url(str(url), f"slot:{slot}", visitor or "anon:", channel="web")
        except LinkError:
            pass  # an unsafe URL in the catalogue is shown without a link
    return item


def real_deps() -> ContentDeps:
    from polku import aws_clients, clock
    from polku.messaging import message_log, tracking_events, web_inbox
    from polku.messaging.recommend_client import fetch_recommendations
    from polku.messaging.wiring import link_signer
    from polku.settings import get_settings

    settings = get_settings()

    def recommend(request: dict) -> list:
        return fetch_recommendations(aws_clients.client("lambda"), settings.recommend_function_name, request,
                                     request.get("customer_id"), request["k"])

    def shown(item, visitor: str, slot: str) -> None:
        at = clock.now_iso()
        if not (item.feedback is not None and "delivery_at" in item.feedback.as_dict()):
            message_log.record_feedback(item.message_id, "delivery", at)
        tracking_events.record_reaction("impression", message_id=item.message_id, customer_id=visitor,
                                        channel="web", journey=item.journey, at=at, slot=slot)

    return ContentDeps(recommend=recommend, signer=lambda: link_signer(settings),
                       waiting_cards=web_inbox.waiting, shown=shown)
