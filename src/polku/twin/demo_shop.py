"""The demo's shop page, served by the local twin at ``GET /_polku/shop`` (docs/onsite.md).

A product page with tracker.js and three slots (a web card, what others also bought, "for you"),
posting to the twin's own API. ``?product=<id>`` picks the product (the catalogue gives its name
and price), ``&customer=<id>`` signs in as a customer: the twin mints the identity token a shop's
backend would mint (polku.tracking.trust_secrets). ``polku local`` puts the twin's own origin on
the allow-list (AllowedOrigins), so the page may post to the API it is served from. Twin only.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from urllib.parse import parse_qs

from polku.tracking.validation import is_id

SITE = "demo-shop"
DEFAULT_PRODUCT = "24852"  # Instacart's most bought product (the demo's catalogue)


def page(api_url: str, query: str) -> bytes:
    q = {k: v[-1] for k, v in parse_qs(query).items()}
    product = q.get("product") if is_id(q.get("product")) else DEFAULT_PRODUCT
    customer = q.get("customer") if is_id(q.get("customer")) else None
    name, price = product, 1.0
    try:
        from polku.data import catalog

        found = catalog.content_for([product]).get(product) or {}
        name, price = str(found.get("name") or product), float(found.get("price") or 1.0)
    except Exception:  # noqa: BLE001 - no catalogue yet: the product id stands in
        pass
    identify = ""
    if customer:
        from polku.tracking.trust_secrets import mint_for

        identify = f"polku.identify({json.dumps(customer)}, {{}}, {{token: {json.dumps(mint_for(SITE, customer))}}});"
    text = resources.files("polku.twin").joinpath("static/demo_shop.html").read_text(encoding="utf-8")
    for key, value in (("API", api_url.rstrip("/")), ("SITE", SITE), ("PRODUCT", product), ("PRICE", f"{price:.2f}"),
                       ("NAME", html.escape(name)), ("IDENTIFY", identify)):
        text = text.replace("{{" + key + "}}", value)
    return text.encode("utf-8")
