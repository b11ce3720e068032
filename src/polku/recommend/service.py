"""The recommend use case: validate a request, pick the strategy, shape catalogue content.

Adapters come in as callables (model, customer events, catalogue content), so this module is
tested without AWS and the Lambda handler stays one line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from polku.recommend.customer_history import history_from_events, merge_profile
from polku.recommend.strategies import STRATEGIES, Recommender
from polku.recommend.trained_model import TrainedModel

MAX_K = 50
NEEDS_PRODUCT = {"also_bought", "similar"}
NEEDS_CUSTOMER = {"category_favourites", "viewed_not_bought"}
ITEM_FIELDS = ("product_id", "name", "price", "currency", "image_url", "url", "category", "score", "reason")


class InvalidRequest(ValueError):
    """The request names a bad field; the message says which and why."""


@dataclass(frozen=True)
class Request:
    strategy: str
    k: int = 4
    product_id: str | None = None
    customer_id: str | None = None
    exclude_purchased: bool = False
    exclude: tuple[str, ...] = ()

    @classmethod
    def parse(cls, event) -> "Request":
        if not isinstance(event, dict):
            raise InvalidRequest("event: must be an object")
        strategy = event.get("strategy")
        if strategy not in STRATEGIES:
            raise InvalidRequest(f"strategy: must be one of {', '.join(STRATEGIES)} (got {strategy!r})")
        k = event.get("k", 4)
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise InvalidRequest(f"k: must be an integer from 1 to {MAX_K} (got {k!r})")
        ex = event.get("exclude_purchased", False)
        if not isinstance(ex, bool):
            raise InvalidRequest("exclude_purchased: must be true or false")
        product_id = event.get("product_id")
        customer_id = event.get("customer_id")
        for name, value in (("product_id", product_id), ("customer_id", customer_id)):
            if value is not None and (not isinstance(value, (str, int)) or isinstance(value, bool) or str(value) == ""):
                raise InvalidRequest(f"{name}: must be a non-empty string")
        if strategy in NEEDS_PRODUCT and product_id is None:
            raise InvalidRequest(f"product_id: required for strategy {strategy}")
        if strategy in NEEDS_CUSTOMER and customer_id is None:
            raise InvalidRequest(f"customer_id: required for strategy {strategy}")
        exclude = event.get("exclude") or []
        if not isinstance(exclude, list) or not all(isinstance(e, (str, int)) for e in exclude):
            raise InvalidRequest("exclude: must be a list of product ids")
        return cls(strategy, k, None if product_id is None else str(product_id),
                   None if customer_id is None else str(customer_id), ex, tuple(str(e) for e in exclude))


def _money(value):
    return round(float(value), 2) if value is not None else None


def recommend(event, model: Callable[[], TrainedModel], customer_events: Callable[[str], list[dict]],
              catalog_content: Callable[[list[str]], dict[str, dict]],
              customer_profile: Callable[[str], dict | None] = lambda customer_id: None) -> dict:
    req = Request.parse(event)
    m = model()
    history = None
    if req.customer_id:
        history = merge_profile(history_from_events(customer_events(req.customer_id)), customer_profile(req.customer_id))
    recs = Recommender(m).answer(req.strategy, k=min(MAX_K, req.k * 2 + 4), product_id=req.product_id,
                                 history=history, exclude_purchased=req.exclude_purchased, exclude=req.exclude)
    ids = [m.item_ids[r.row] for r in recs]
    fresh = catalog_content(ids) if ids else {}
    items = []
    for r, pid in zip(recs, ids):
        content = {"category": m.category(r.row), **fresh.get(pid, {})}
        if content.get("available") is False:
            continue  # the catalogue says it is no longer on sale
        items.append({
            "product_id": pid,
            "name": content.get("name") or pid,
            "price": _money(content.get("price")),
            "currency": content.get("currency"),
            "image_url": content.get("image_url"),
            "url": content.get("url"),
            "category": content.get("category"),
            "score": round(float(r.score), 6),
            "reason": r.reason,
        })
        if len(items) == req.k:
            break
    return {"model_version": m.version, "strategy": req.strategy, "items": items}
