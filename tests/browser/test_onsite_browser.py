"""The website as a channel (issue #19), in real Chromium against the twin.

A signed-in visitor views a product: the product page's slot shows what other buyers of it also
bought (the real recommend function, trained on the twin). They put it in the cart and leave; on
the twin's virtual clock the abandoned-cart journey sends its reminder, and its web card waits in
the customer's web inbox. On the next visit the card is shown in the page's slot (delivered, an
impression event); a click on it is tracked (content_click) and leads to the cart, and the
purchase there ends the journey as a goal.

The shop is served as https://shop.example.com (the brand's shop address, so the card's link
leads back to it) and the API at its deployed address: the browser's requests to both are
answered locally (drive_page.mjs, ``proxy``).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
import requests

from page_driver import drive, origins_allowed, serve, wait_for  # tests/browser/page_driver.py

pytestmark = [pytest.mark.browser, pytest.mark.twin]
HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHOP = "https://shop.example.com"
SITE = "demo-shop"
RUN = uuid.uuid4().hex[:8]
P = [f"{RUN}-tea{i}" for i in range(6)]  # P[0..2] are bought together, P[3..5] together


def _train(twin):
    """Twelve shoppers bought P0-P2 together and twelve P3-P5: a model in the twin's S3."""
    import sys

    from polku.testing.recommend_model import train_on_two_groups

    train_on_two_groups(twin, P, RUN, dt.datetime(2026, 1, 1, 9, tzinfo=dt.timezone.utc))
    lam = twin.client("lambda")
    out = lam.invoke(FunctionName=twin.names["RecommendFunction"],
                     Payload=json.dumps({"strategy": "also_bought", "product_id": P[0], "k": 2}).encode())
    assert {i["product_id"] for i in json.loads(out["Payload"].read())["items"]} == {P[1], P[2]}
    sys.modules["polku_fn.recommend.handler"].model_cache().check_seconds = 0  # this model from now on


@pytest.fixture(scope="module")
def shop(twin, tmp_path_factory):
    from polku.messaging.wiring import link_base_url
    from polku.settings import get_settings
    from polku.tracking import content

    with origins_allowed(f"{SHOP},{twin.api_url}"):  # the shop, and the demo shop page the twin serves itself
        api_base = link_base_url(get_settings())  # where the signed links point (the deployed API's address)
        root = tmp_path_factory.mktemp("onsite")
        (root / "p").mkdir()
        for name, target, consent in (("product.html", root / "p" / f"{P[0]}.html", "undefined"),
                                      ("product.html", root / "p" / f"{P[0]}-consent.html", "false"),  # the site requires consent
                                      ("cart.html", root / "index.html", "undefined")):
            page = (HERE / "onsite" / name).read_text().replace("__CONSENT__", consent)
            target.write_text(page.replace("__API__", api_base).replace("__PRODUCT__", P[0]).replace("__NAME__", "Green tea"))
        origin, server = serve(root)
        _train(twin)
        content.RECOMMENDATIONS.clear()
        yield {"proxy": {SHOP: origin, api_base: twin.api_url},
               "profile": str(tmp_path_factory.mktemp("chromium-profile"))}
        server.shutdown()


def _events(customer_id):
    from polku.data import events as event_table

    return list(event_table.of_subject(f"c#{customer_id}"))


def _web_cards(customer_id):
    from polku.data import messages

    return [m for m in messages.of_customer(customer_id) if m.channel == "web"]


def test_a_visitor_sees_also_bought_then_the_abandoned_carts_web_card_and_its_click_ends_the_journey(twin, shop):
    from polku import clock
    from polku.data.journey_state import JourneyStateModel
    from polku.journeys import runs
    from polku.journeys.registry import load
    from polku.tracking import trust_secrets

    journey = load().get("abandoned_cart")
    cid = next(c for c in (f"web-{RUN}-{i}" for i in range(100)) if not runs.in_holdout(journey, c))  # gets messages
    real = dt.datetime.now(dt.timezone.utc)
    start = real.replace(hour=10, minute=0, second=0, microsecond=0)  # daytime, never ahead of the browser's clock
    vc = clock.VirtualClock(start if start <= real else start - dt.timedelta(days=1))
    previous = clock.set_clock(vc)
    vc.enter()  # the test drives the clock: time moves only when it sleeps
    try:
        # the shop's backend: the customer's address and consent (so the journey may start for them)
        r = requests.post(f"{twin.api_url}/v1/server/identify", timeout=30,
                          headers={"X-Polku-Server-Key": trust_secrets.server_key_for(SITE)},
                          json={"site_key": SITE, "customer_id": cid,
                                "traits": {"email": f"{cid}@example.org", "first_name": "Tea",
                                           "consents": {"email": True}}})
        assert r.status_code == 200, r.text
        token = trust_secrets.mint_for(SITE, cid, lifetime_seconds=23 * 3600)  # rendered into the page at sign-in
        product = f"{SHOP}/p/{P[0]}.html"

        # visit 1: sign in, see what others also bought, put the tea in the cart, leave
        first = drive(product, [
            {"waitFor": "window.polku && window.polku.loaded"},
            {"eval": f"window.CUSTOMER = '{cid}'; window.TOKEN = '{token}'; 1"},
            {"click": "#login"},
            {"waitFor": "document.querySelectorAll('#also .polku-product').length > 0"},
            {"eval": "[...document.querySelectorAll('#also a')].map(a => [a.dataset.polkuProduct, a.href,"
                     " a.querySelector('.polku-name').textContent, a.querySelector('.polku-price').textContent])"},
            {"eval": "document.querySelector('#offer').children.length"},
            {"wait": 600},
            {"click": "#add"},
            {"wait": 1200},
        ], profile=shop["profile"], proxy=shop["proxy"])
        assert not [c for c in first["console"] if c.startswith("pageerror")], first["console"]
        also = first["results"][1]
        assert {p for p, *_ in also[:2]} == {P[1], P[2]}, also  # bought together with P[0]
        assert all("/v1/c/" in href and name and price for _, href, name, price in also), also
        assert first["results"][2] == 0  # no card yet
        assert any(r["url"].endswith("/v1/polku-content.js") for r in first["requests"])
        posted = [json.loads(r["body"]) for r in first["requests"] if "/v1/content" in r["url"] and r["method"] == "POST"]
        assert posted and all(p["site_key"] == SITE and "anonymous_id" in p for p in posted)

        # the abandoned-cart journey starts; an hour later (virtual) its reminder goes out with the web card
        run = wait_for(lambda: [x for x in runs.running(cid) if x.journey == "abandoned_cart"])
        assert run, _events(cid)
        for _ in range(60):
            if _web_cards(cid):
                break
            vc.sleep(1800)
        [card] = _web_cards(cid)
        assert card.status == "sent" and card.step == "SendReminder/web" and card.card["title"]

        # visit 2: the card is in the page's slot; a click goes to the cart, where the customer buys
        second = drive(product, [
            {"waitFor": "window.polku && window.polku.loaded"},
            {"waitFor": "document.querySelector('#offer .polku-card')"},
            {"eval": "[document.querySelector('#offer .polku-card-title').textContent,"
                     " document.querySelector('#offer .polku-card').dataset.polkuMessage]"},
            {"click": "#offer .polku-card a"},
            {"waitFor": "location.pathname == '/' && window.polku && window.polku.loaded"},
            {"click": "#buy"},
            {"wait": 1200},
            {"goto": "about:blank"},
            {"wait": 300},
        ], profile=shop["profile"], proxy=shop["proxy"])
        assert not [c for c in second["console"] if c.startswith("pageerror")], second["console"]
        title, message_id = second["results"][0]
        assert title == card.card["title"] and message_id == card.message_id
        asked = [json.loads(r["body"]) for r in second["requests"] if "/v1/content" in r["url"] and r["method"] == "POST"]
        assert asked[0]["customer_id"] == cid and asked[0]["identity_token"] == token  # the token from sign-in

        card.refresh()
        feedback = card.feedback.as_dict()
        assert card.status == "delivered" and "delivery_at" in feedback and "click_at" in feedback
        kinds = lambda: [(e["type"], e["properties"].get("slot")) for e in _events(cid)]  # noqa: E731
        assert wait_for(lambda: {("content_impression", "cart-offer"), ("content_click", "inbox")} <= set(kinds())), kinds()
        assert wait_for(lambda: any(t == "purchase" for t, _ in kinds())), kinds()

        def ended():
            item = JourneyStateModel.get(cid, "run#abandoned_cart", consistent_read=True)
            return item.status == "exited" and item.exit_reason

        assert wait_for(ended) == "goal"
    finally:
        vc.leave()
        clock.set_clock(previous)


def test_the_demo_shop_page_served_by_the_twin_shows_the_slots(twin, shop):
    """``GET /_polku/shop`` (polku local prints it): a product page whose slots polku.js fills from the
    twin's own API; ``customer=`` signs in with a token the twin mints as a shop's backend would."""
    cid = f"demo-{RUN}"
    out = drive(f"{twin.api_url}/_polku/shop?product={P[3]}&customer={cid}", [
        {"waitFor": "document.querySelectorAll('[data-polku-slot=product-page-also-bought] .polku-product').length > 1"},
        {"waitFor": "document.querySelectorAll('[data-polku-slot=home-for-you] .polku-product').length > 0"},
        {"eval": "[...document.querySelectorAll('[data-polku-slot=product-page-also-bought] a')]"
                 ".map(a => a.dataset.polkuProduct)"},
        {"eval": "document.querySelector('h1').textContent"},
        {"wait": 1200},
    ])
    assert not [c for c in out["console"] if c.startswith("pageerror")], out["console"]
    assert set(out["results"][0][:2]) == {P[4], P[5]}, out["results"]
    assert out["results"][1].endswith(f"#{P[3]}")  # the catalogue's name of the product
    identified = [json.loads(r["body"]) for r in out["requests"] if "/v1/identify" in r["url"]]
    assert identified and identified[0]["customer_id"] == cid and identified[0]["identity_token"]


def test_before_consent_a_page_gets_only_what_is_not_personal(twin, shop):
    """A site that requires consent: before it is given no id goes with the content request (no cookie,
    nothing stored), the product page's products still show, and the visitor's inbox is not asked as
    theirs; after consent the browser's own id goes with it."""
    out = drive(f"{SHOP}/p/{P[0]}-consent.html", [
        {"waitFor": "document.querySelectorAll('#also .polku-product').length > 0"},
        {"eval": "[document.cookie.indexOf('polku_aid') < 0, localStorage.length, document.querySelector('#offer').children.length]"},
        {"eval": "polku.consent(true); polku.content().then(() => document.cookie.match(/polku_aid=([^;]+)/)[1])"},
    ], profile=str(Path(shop["profile"]).parent / f"consent-{RUN}"), proxy=shop["proxy"])
    assert not [c for c in out["console"] if c.startswith("pageerror")], out["console"]
    assert out["results"][0] == [True, 0, 0]
    asked = [json.loads(r["body"]) for r in out["requests"] if "/v1/content" in r["url"] and r["method"] == "POST"]
    assert len(asked) == 2 and not {"anonymous_id", "customer_id", "identity_token"} & set(asked[0]), asked
    assert asked[1]["anonymous_id"] == out["results"][1]  # after consent: the browser's own id
