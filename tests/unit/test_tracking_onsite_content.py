"""On-site content (issue #19): the request's checks, who sees what, the cache, the web channel's
policy per message type, and the tracker's size budget with the content part."""

from __future__ import annotations

import gzip

import pytest

from polku.messaging.channel_choice import choose_channel, web_card_alongside
from polku.messaging.links import KeyRing, LinkSigner
from polku.messaging.recipient import Recipient
from polku.messaging.send_policy import check_send
from polku.messaging.web_inbox import card
from polku.tracking import content, http_api
from polku.tracking.validation import Invalid

SIGNER = LinkSigner(KeyRing.from_secret({"active": "k1", "k1": "unit-test-key-0123456789abcdef"}), "https://api.example.com")
PRODUCTS = [{"product_id": "p1", "name": "Rye", "price": 3.5, "currency": "EUR", "image_url": "https://img.example.com/1.png",
             "url": "https://shop.example.com/p/p1", "category": "bakery", "score": 0.9, "reason": "also_bought"},
            {"product_id": "p2", "name": "Jam", "price": 6.5, "url": "javascript:alert(1)"}]


@pytest.mark.parametrize("body, field", [
    ({}, "slots"),
    ({"slots": [{"name": "inbox"}], "customer": "c-1"}, "customer"),
    ({"slots": []}, "slots"),
    ({"slots": [{"name": "nope"}]}, "slots[0].name"),
    ({"slots": [{"name": "product-page-also-bought"}]}, "slots[0].product_id"),
    ({"slots": [{"name": "inbox"}, {"name": "inbox"}]}, "slots[1].name"),
    ({"slots": [{"name": "inbox", "count": 0}]}, "slots[0].count"),
    ({"slots": [{"name": "inbox", "count": True}]}, "slots[0].count"),
    ({"slots": [{"name": "inbox", "color": "red"}]}, "slots[0].color"),
    ({"slots": [{"name": f"x{i}"} for i in range(9)]}, "slots"),
    ({"anonymous_id": "a b", "slots": [{"name": "inbox"}]}, "anonymous_id"),
    ({"customer_id": "c-1", "slots": [{"name": "inbox"}]}, "identity_token"),
    ({"customer_id": "anon:a1", "identity_token": "1.x", "slots": [{"name": "inbox"}]}, "customer_id"),
    ({"identity_token": "1.x", "slots": [{"name": "inbox"}]}, "customer_id"),
])
def test_a_bad_request_names_the_field(body, field):
    with pytest.raises(Invalid) as err:
        content.parse(body)
    assert err.value.field == field


class Fake:
    def __init__(self):
        self.asked, self.cards, self.shown = [], {}, []

    def deps(self):
        return content.ContentDeps(recommend=lambda r: self.asked.append(r) or list(PRODUCTS), signer=lambda: SIGNER,
                                   waiting_cards=lambda who: self.cards.get(who, []),
                                   shown=lambda item, who, slot: self.shown.append((item.message_id, who, slot)))


class Card:
    def __init__(self, mid, who):
        from polku.data.messages import MessageModel

        self.item = MessageModel(mid, customer_id=who, journey="abandoned_cart", created_at="2026-01-05T10:00:00Z",
                                 status="sent", channel="web", card={"title": f"for {who}", "text": "t", "url": "u"},
                                 expires_at="2026-01-12T10:00:00Z")


@pytest.fixture(autouse=True)
def fresh_cache():
    content.RECOMMENDATIONS.clear()
    yield
    content.RECOMMENDATIONS.clear()


def test_an_anonymous_browser_sees_only_its_own_inbox_and_profile():
    fake = Fake()
    fake.cards = {"anon:a1": [Card("m-anon", "anon:a1").item], "c-1": [Card("m-cust", "c-1").item]}
    req = content.parse({"anonymous_id": "a1", "slots": [{"name": "inbox"}, {"name": "home-for-you"}]})
    out = content.answer(req, fake.deps())
    assert [c["message_id"] for c in out["slots"]["inbox"]["cards"]] == ["m-anon"] and out["personal"] is False
    assert fake.shown == [("m-anon", "anon:a1", "inbox")]
    assert fake.asked[0]["customer_id"] == "anon:a1"  # "for you" from the browser's own anonymous profile


def test_a_verified_customer_sees_their_inbox():
    fake = Fake()
    fake.cards = {"c-1": [Card("m-cust", "c-1").item]}
    req = content.parse({"anonymous_id": "a1", "customer_id": "c-1", "identity_token": "1.x", "slots": [{"name": "cart-offer"}]})
    out = content.answer(req, fake.deps())
    [shown] = out["slots"]["cart-offer"]["cards"]
    assert shown["title"] == "for c-1" and shown["expires_at"] == "2026-01-12T10:00:00Z" and out["personal"] is True


def test_no_id_before_consent_gets_nothing_personal():
    fake = Fake()
    fake.cards = {"anon:": [Card("m", "anon:").item]}
    req = content.parse({"slots": [{"name": "inbox"}, {"name": "product-page-also-bought", "product_id": 42}]})
    out = content.answer(req, fake.deps())
    assert out["slots"]["inbox"] == {"cards": []} and fake.shown == []
    assert fake.asked == [{"strategy": "also_bought", "k": 4, "product_id": "42"}]  # no customer in it


def test_products_carry_signed_web_click_links_and_no_unsafe_url():
    fake = Fake()
    out = content.answer(content.parse({"anonymous_id": "a1", "slots": [
        {"name": "product-page-also-bought", "product_id": "p0"}]}), fake.deps())
    first, second = out["slots"]["product-page-also-bought"]["products"]
    claims = SIGNER.verify(first["url"].split("/v1/c/")[1], "click")
    assert claims.url == "https://shop.example.com/p/p1" and claims.channel == "web"
    assert claims.customer_id == "anon:a1" and claims.message_id == "slot:product-page-also-bought"
    assert set(first) == {"product_id", "name", "price", "currency", "image_url", "category", "url"}
    assert "url" not in second  # javascript: is never a link


def test_a_product_the_catalogue_cannot_show_is_left_out_of_the_slot():
    """A recommended product with no catalogue entry (no name or page) would be a blank, dead tile."""
    fake = Fake()
    deps = fake.deps()
    deps.recommend = lambda r: [PRODUCTS[0], {"product_id": "p7"}, {"product_id": "p8", "name": "Tea"},
                                {"product_id": "p9", "url": "https://shop.example.com/p/p9"}]
    out = content.answer(content.parse({"anonymous_id": "a1", "slots": [
        {"name": "product-page-also-bought", "product_id": "p0"}]}), deps)
    assert [p["product_id"] for p in out["slots"]["product-page-also-bought"]["products"]] == ["p1"]


def test_recommendations_are_cached_per_strategy_product_and_visitor():
    fake = Fake()
    also = {"name": "product-page-also-bought", "product_id": "p0"}
    for anon in ("a1", "a2", "a1"):
        content.answer(content.parse({"anonymous_id": anon, "slots": [also, {"name": "home-for-you"}]}), fake.deps())
    asked = [(r["strategy"], r.get("customer_id")) for r in fake.asked]
    assert asked == [("also_bought", None), ("for_customer", "anon:a1"), ("for_customer", "anon:a2")]


def test_a_customer_id_needs_a_valid_identity_token(monkeypatch):
    calls = []
    monkeypatch.setattr(http_api.trust_secrets, "ring", lambda arn: None)
    answer = http_api.post_content(b'{"site_key": "demo-shop", "customer_id": "c-1", "identity_token": "9999999999.' + b"0" * 64
                                   + b'", "slots": [{"name": "inbox"}]}', {}, deps=calls)
    assert answer.status == 403 and answer.body["error"]["field"] == "identity_token" and calls == []


def test_web_card_goes_alongside_per_message_type_and_never_as_a_fallback():
    linked = Recipient.from_profile({"customer_id": "c-1", "anonymous_ids": ["a1"], "traits": {"email": "c@example.com"},
                                     "consents": {"email": {"granted": True}}})
    assert linked.address("web") == "c-1" and linked.has_consent("web")
    supported = ["email", "web"]
    assert web_card_alongside(linked, "reminder", supported, "email").channel == "web"
    assert web_card_alongside(linked, "offer", supported, None).channel == "web"  # e-mail not usable: the card still goes
    assert not web_card_alongside(linked, "journey", supported, "email").ok  # not this message type
    assert not web_card_alongside(linked, "reminder", ["email"], "email").ok  # no web part in the template
    no_browser = Recipient.from_profile({"customer_id": "c-2", "consents": {"email": {"granted": True}}})
    assert "no address" in web_card_alongside(no_browser, "reminder", supported, "email").reason
    withdrawn = Recipient.from_profile({"customer_id": "c-3", "anonymous_ids": ["a3"], "consents": {"web": False}})
    assert "consent withdrawn" in web_card_alongside(withdrawn, "reminder", supported, None).reason
    only_web = Recipient.from_profile({"customer_id": "c-4", "anonymous_ids": ["a4"]})
    assert not choose_channel(only_web, "reminder", supported).ok  # never the fallback of a message
    assert choose_channel(only_web, "reminder", supported, requested="web").channel == "web"


def test_a_web_card_is_not_capped_or_held_by_quiet_hours():
    import datetime as dt

    r = Recipient.from_profile({"customer_id": "c-1", "anonymous_ids": ["a1"], "time_zone": "Europe/Helsinki"})
    night = dt.datetime(2026, 1, 5, 23, 30, tzinfo=dt.timezone.utc)
    many = [night - dt.timedelta(hours=h) for h in range(1, 6)]
    assert check_send(r, "web", "reminder", night, suppressed=False, recent_sends=many).send


def test_the_card_is_signed_and_shows_the_first_image():
    made = card({"web_title": "Your cart", "web_body": "Rye", "web_url": "https://shop.example.com/cart"},
                lambda url: f"signed:{url}", [{"image_url": "https://img/2.png"}], {"cart_items": [{"name": "Rye"}]})
    assert made == {"title": "Your cart", "text": "Rye", "url": "signed:https://shop.example.com/cart",
                    "image_url": "https://img/2.png"}


def test_the_tracker_core_stays_within_3_kb_and_loads_the_content_part_on_demand():
    core, _ = http_api.tracker_script()
    part, _ = http_api.tracker_script(http_api.CONTENT_SCRIPT)
    assert len(gzip.compress(core, 9)) <= 3 * 1024
    assert b"/polku-content.js" in core and b"data-polku-slot" in core
    assert b"/content" in part and len(gzip.compress(part, 9)) <= 3 * 1024
    served = http_api.get_tracker({}, http_api.CONTENT_SCRIPT)
    assert served.status == 200 and served.headers["Content-Type"].startswith("application/javascript")


def test_browsers_may_not_post_content_events():
    import datetime as dt

    from polku.tracking.ingest import prepare

    now = dt.datetime(2026, 1, 5, 10, tzinfo=dt.timezone.utc)
    ev = {"event_id": "e1", "type": "content_click", "anonymous_id": "a1", "ts": "2026-01-05T10:00:00Z",
          "properties": {"slot": "inbox", "url": "https://shop.example.com/"}}
    items, rejected = prepare([ev], now, browser=True)
    assert items == [] and rejected[0]["field"] == "type"
    items, rejected = prepare([ev], now, browser=False)
    assert len(items) == 1 and rejected == []
