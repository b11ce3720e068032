"""Rendering gives byte-identical messages to the recorded ones (golden corpus).

Every shipped message template, every channel it supports, a handful of recipients chosen
to reach the corners (HTML and quotes in names and products, control characters, unsafe
URLs, no products, no offer, editable overrides, other currencies, locale fallback,
order and event data), with real HMAC-signed links built the way the send step builds
them. The test proves that a change of the renderer (its caches, the product-card cache,
the sandbox's limits) did not change a single message.

If a template or the renderer is changed *on purpose*, regenerate and review the diff:
``PYTHONPATH=src .venv/bin/python tests/unit/test_messaging_render_golden.py --regenerate``.
"""

from __future__ import annotations

import decimal
import difflib
import gzip
import json
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "data" / "render_golden.json.gz"

if __name__ == "__main__":  # regeneration from a checkout
    sys.path.insert(0, str(REPO / "src"))

from polku.messaging.links import KeyRing, LinkError, LinkSigner, safe_destination  # noqa: E402
from polku.messaging.message_context import build_context  # noqa: E402
from polku.messaging.suppression_list import address_key  # noqa: E402
from polku.messaging.templating import TemplateRenderError, TemplateStore  # noqa: E402

SIGNER = LinkSigner(
    KeyRing.from_secret({"active": "k2", "k1": "golden-old-key-0123456789", "k2": "golden-key-abcdef0123456789"}),
    "https://api.example.com/prod",
)

P = [
    {"product_id": "24852", "name": "Banana", "price": 0.29, "image_url": "https://cdn.example.com/p/24852.png",
     "url": "https://shop.example.com/p/24852", "category": "fresh fruits"},
    {"product_id": "13176", "name": "Bag of Organic Bananas & \"more\"", "price": 1.99,
     "image_url": "https://cdn.example.com/p/13176.png", "url": "https://shop.example.com/p/13176?ref=a&b=c",
     "category": "fresh fruits"},
    {"product_id": "21137", "name": "Organic Strawberries", "price": 1234567.5, "image_url": "",
     "url": "https://shop.example.com/p/21137", "category": "berries"},
    {"product_id": 21903, "name": "<b>Baby Spinach</b>", "price": "3.49",
     "image_url": "javascript:alert(1)", "url": "https://shop.example.com/p/21903", "category": None},
    {"product_id": "47209", "name": "Organic Hass Avocado", "price": decimal.Decimal("2.50"),
     "url": "javascript:alert(document.cookie)", "brand_name": "Fresh Co", "badge": "new"},
    {"product_id": "x1", "name": "", "price": None, "url": "https://shop.example.com/p/x1"},  # name from id
    {"product_id": "", "name": "", "price": 1},  # unusable: dropped
    "not a product",  # unusable: dropped
    {"product_id": "x2", "name": "Line\x1fbreak\x00 tea", "price": "n/a", "url": "https://shop.example.com/p/x2 space"},
    {"product_id": "x3", "name": "Kávový čaj – Zelený", "price": 12, "quantity": 3, "url": "http://shop.example.com/p/x3"},
]

RECIPIENTS: list[dict[str, Any]] = [
    {  # a plain Finnish customer with everything
        "id": "c-aino", "locale": "fi",
        "customer": {"first_name": "Aino", "email": "aino@example.com", "city": "Tampere"},
        "products": [P[0], P[1], P[2], P[3]],
        "offer": {"title": "15 % alennus", "code": "AINO15", "expires_at": "2026-02-01"},
        "data": {"cart_items": [P[0], P[9]], "cart_url": "https://shop.example.com/cart", "order_id": "O-1001",
                 "order_items": [{"name": "Banana", "price": 0.29, "quantity": 6}, P[2]], "total": 5.23,
                 "event_name": "Kevään maistelu", "event_date": "2026-04-16T18:00:00Z", "store_name": "Kamppi"},
        "brand": None, "editable": {},
    },
    {  # HTML and quotes everywhere, editable override, CZK
        "id": "c-obrien", "locale": "cs",
        "customer": {"first_name": "O'Brien <script>alert(\"x\")</script> & Co", "email": "ob@example.com"},
        "products": [P[3], P[4], P[5], P[6], P[7], P[1]],
        "offer": {"title": "<i>Sleva</i> & dárek", "code": "A&B<1>", "expires_at": "not a date"},
        "data": {"cart_items": [P[3], P[4]], "cart_url": "javascript:alert(2)", "order_id": "<O-2>",
                 "order_items": [P[4]], "total": decimal.Decimal("99.90")},
        "brand": {"name": "Obchod & <Spol>", "currency": "CZK", "color": "#123456\"", "address": "Praha 1"},
        "editable": {"intro": "<p>Ahoj {{ customer.__class__ }} & vítejte</p>"},
    },
    {  # no name, no products, no offer, English
        "id": "c-anon", "locale": "en",
        "customer": {"first_name": None, "email": "anon@example.com"},
        "products": [], "offer": None, "data": {}, "brand": None, "editable": {"other_block": "unused"},
    },
    {  # control characters, locale with region, USD, long numbers, offer without code
        "id": "c-ctrl", "locale": "fi-FI",
        "customer": {"first_name": "Mik\x1fko\x00\r\n", "email": "mikko@example.com"},
        "products": [P[8], P[9], P[2]],
        "offer": {"title": "Kesä\x1f-ale", "code": "", "expires_at": "2026-06-30"},
        "data": {"cart_items": [P[8]], "order_items": [], "total": 0, "event_name": "Tapahtuma\x07"},
        "brand": {"currency": "USD", "shop_url": "https://kauppa.example.fi/"},
        "editable": {"intro": "x" * 2100},
    },
    {  # a locale no template has (fallback to en), GBP, offer without title (= no offer)
        "id": "c-sv", "locale": "sv",
        "customer": {"first_name": "Åsa", "email": "asa@example.com"},
        "products": [P[1], P[0]],
        "offer": {"code": "NOTITLE"},
        "data": {"cart_items": [], "cart_url": "https://shop.example.com/cart?x=1&y=2"},
        "brand": {"currency": "GBP", "name": "Butik"},
        "editable": {},
    },
    {  # Czech with region, a nested data structure, a currency without symbol
        "id": "c-tomas", "locale": "cs-CZ",
        "customer": {"first_name": "Tomáš", "email": "tomas@example.com", "tier": {"level": "gold", "deep": [[[1]]]}},
        "products": [P[9], P[4], P[0], P[1], P[2]],
        "offer": {"title": "Dárek", "code": "TOMAS", "expires_at": "2026-12-24"},
        "data": {"cart_items": [P[9], P[0], P[1]], "cart_url": "https://shop.example.com/cart",
                 "order_id": "O-3", "order_items": [P[9], P[0]], "total": "12.5"},
        "brand": {"currency": "SEK"},
        "editable": {},
    },
]


def message_context(store_channel: str, r: dict, journey: str = "golden") -> dict:
    """The template context as the send step builds it (signed links, track())."""
    channel = "email" if store_channel == "email" else store_channel
    mid, cid = f"m_{r['id']}_{journey}", r["id"]
    tracked: dict[str, str] = {}

    def track(url: Any) -> str:
        url = str(url)
        if url not in tracked:
            try:
                tracked[url] = SIGNER.click_url(safe_destination(url), mid, cid, channel=channel, journey=journey)
            except LinkError:
                tracked[url] = ""
        return tracked[url]

    key = address_key("email", r["customer"]["email"])
    return build_context(
        customer={**r["customer"], "customer_id": cid},
        products=r["products"],
        offer=r["offer"],
        data=r["data"],
        brand=r["brand"],
        links={"unsubscribe": SIGNER.unsubscribe_url(key, mid, cid, channel=channel, journey=journey),
               "open_pixel": SIGNER.open_url(mid, cid, channel=channel, journey=journey)},
        message={"id": mid, "journey": journey, "step": "Send", "variant": "A", "type": "offer"},
        track=track,
        editable_overrides=r["editable"],
    )


def cases(store: TemplateStore):
    """(case id, message name, locale asked, channel, recipient) for the whole corpus."""
    for name in store.message_names():
        for r in RECIPIENTS:
            for channel in ("email", "sms", "push"):
                yield f"{name}/{r['id']}/{r['locale']}/{channel}", name, r["locale"], channel, r
        for locale in ("fi", "cs", "en"):
            yield f"{name}/c-aino/{locale}/email", name, locale, "email", RECIPIENTS[0]


def render_corpus(store: TemplateStore) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for case_id, name, locale, channel, r in cases(store):
        try:
            msg = store.render(name, message_context(channel, r, journey=name), channel=channel, locale=locale)
            out[case_id] = {"locale": msg.locale, "parts": msg.parts}
        except TemplateRenderError as exc:
            out[case_id] = {"error": str(exc)}
    return out


@pytest.fixture(scope="module")
def store():
    return TemplateStore(REPO / "templates")


def _load_golden() -> dict[str, dict]:
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as f:
        return json.load(f)


def test_the_corpus_covers_every_template_and_channel(store):
    golden = _load_golden()
    rendered = [k for k, v in golden.items() if "parts" in v]
    assert {k.split("/")[0] for k in rendered} == set(store.message_names())
    assert {k.split("/")[3] for k in rendered} == {"email", "sms", "push"}
    assert {v["locale"] for v in golden.values() if "locale" in v} == {"fi", "cs", "en"}
    # unsupported channels are recorded as the renderer's error, and they are the minority
    assert 0 < sum("error" in v for v in golden.values()) < len(rendered)


def test_rendering_is_identical_to_the_recorded_messages(store):
    golden = _load_golden()
    now = render_corpus(store)
    assert sorted(now) == sorted(golden)
    for case_id, want in golden.items():
        got = now[case_id]
        if got != want:
            for part in sorted(set(want.get("parts", {})) | set(got.get("parts", {}))):
                a, b = want.get("parts", {}).get(part, ""), got.get("parts", {}).get(part, "")
                if a != b:
                    diff = "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), "recorded", "now", lineterm=""))
                    pytest.fail(f"{case_id} part {part!r} differs:\n{diff[:4000]}")
            assert got == want, case_id


def test_rendering_twice_gives_the_same_message(store):
    """Caches (normalised products, product cards) must not leak one recipient into another."""
    first = render_corpus(store)
    second = render_corpus(store)
    assert first == second


def test_golden_messages_contain_signed_personal_links(store):
    golden = _load_golden()
    html = golden["welcome/c-aino/fi/email"]["parts"]["html"]
    assert "Aino" in html and "/v1/c/" in html and "/v1/o/" in html and "/v1/unsubscribe/" in html
    assert html.count("/v1/c/") == 5  # 4 products + the button, each its own signed link
    tokens = [part.split('"')[0] for part in html.split("https://api.example.com/prod/v1/c/")[1:]]
    claims = [SIGNER.verify(t, "click") for t in tokens]
    assert {c.customer_id for c in claims} == {"c-aino"} and len({c.url for c in claims}) == 5
    ob = golden["welcome/c-obrien/cs/email"]["parts"]
    assert "<script>" not in ob["html"] and "&lt;script&gt;" in ob["html"]
    assert "<script>" in ob["subject"]  # plain text part: not escaped
    assert "&lt;p&gt;Ahoj {{ customer.__class__ }} &amp; vítejte&lt;/p&gt;" in ob["html"]  # override is data


def regenerate() -> None:
    data = render_corpus(TemplateStore(REPO / "templates"))
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, ensure_ascii=False, indent=0, sort_keys=True)
    GOLDEN.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"wrote {len(data)} cases to {GOLDEN}")


if __name__ == "__main__":
    if "--regenerate" in sys.argv:
        regenerate()
    else:
        print(__doc__)
