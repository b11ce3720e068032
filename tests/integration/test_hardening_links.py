"""Issue #20 points 3 and 8 on the twin (local API Gateway, real Chalice app, real tables).

3. Click destinations are normalised (IDNA host, percent-encoded path) and refused when they
   hold control or line-separator characters: at signing, and with 400 at a click.
8. Unsubscribe links carry an opaque id; the address is resolved through the message log;
   links of mails sent in the earlier format still work.
"""

from __future__ import annotations

import base64
import json
import uuid
from urllib.parse import unquote, urlsplit

import pytest
import requests

from polku.data.base import bind_models
from polku.data.messages import MessageModel
from polku.messaging import suppression_list
from polku.messaging.links import UnsafeDestination
from polku.settings import get_settings
from polku.data import events as event_table

pytestmark = pytest.mark.twin


@pytest.fixture(scope="module")
def signer(twin):
    get_settings.cache_clear()
    bind_models(get_settings(), host=None)
    from polku.messaging.wiring import link_signer

    return link_signer()


def _uid(p):
    return f"{p}-{uuid.uuid4().hex[:10]}"


def _local(twin, url: str) -> str:
    return twin.api_url + url[url.index("/v1/"):]


def _types(cid):
    return [e["type"] for e in event_table.of_subject(f"c#{cid}")]


@pytest.mark.parametrize("product_url, host, path", [
    ("https://kauppa.example/tuotteet/pähkinä", "kauppa.example", "/tuotteet/pähkinä"),
    ("https://bücher.example/", "xn--bcher-kva.example", "/"),
    ("https://obchod.example/zboží/čaj?barva=zelená#recenze", "obchod.example", "/zboží/čaj"),
    ("https://shop.example/p/100%", "shop.example", "/p/100%"),
])
def test_international_product_urls_click_through_to_the_right_place(twin, signer, product_url, host, path):
    cid, mid = _uid("c"), _uid("m")
    link = signer.click_url(product_url, mid, cid, journey="welcome")
    r = requests.get(_local(twin, link), allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.text[:300]
    location = r.headers["Location"]
    assert location.isascii() and not any(c in location for c in " \r\n\x0b")
    parts = urlsplit(location)
    assert parts.hostname == host
    assert unquote(parts.path) == path  # the same page, percent-encoded as UTF-8
    assert "email_click" in _types(cid)


@pytest.mark.parametrize("bad", [
    "https://shop.example\x0b.evil.com/",
    "https://sh\x00op.example/",
    "https://shop.example/\u2028x",
    "https://shop.example/a\r\nSet-Cookie: x=1",
    "https://shop.example/\u202egnp.exe",
])
def test_control_and_separator_characters_are_refused_at_signing_and_at_a_click(twin, signer, bad):
    cid, mid = _uid("c"), _uid("m")
    with pytest.raises(UnsafeDestination) as err:
        signer.click_url(bad, mid, cid)
    assert "destination" in str(err.value) and "U+" in str(err.value)
    # a token signed before the rule (the destination inside the MAC as it was then)
    token = signer.ring.sign({"c": cid, "k": "c", "m": mid, "u": bad})
    r = requests.get(f"{twin.api_url}/v1/c/{token}", allow_redirects=False, timeout=30)
    assert r.status_code == 400, r.text[:300]
    assert "Location" not in r.headers and "not valid" in r.text
    assert "email_click" not in _types(cid)


def _sent_message(cid: str, address: str, journey: str = "welcome") -> str:
    mid = _uid("m")
    MessageModel(mid, customer_id=cid, journey=journey, created_at="2026-01-05T08:00:00.000Z", status="sent",
                 channel="email", address=address, step="Send").save()
    return mid


def test_unsubscribe_link_is_opaque_and_resolves_through_the_message_log(twin, signer):
    cid = _uid("c")
    email = f"{cid}@example.com"
    key = suppression_list.address_key("email", email)
    mid = _sent_message(cid, key)
    url = signer.unsubscribe_url(key, mid, cid, journey="welcome")
    token = url.rsplit("/", 1)[1]
    payload = base64.urlsafe_b64decode(token.split(".")[0] + "==")
    assert json.loads(payload) == {"k": "u", "m": mid}
    for secret in (email, cid, "example.com", "welcome"):
        assert secret not in url and secret.encode() not in payload

    page = requests.get(_local(twin, url), timeout=30)
    assert page.status_code == 200 and email in page.text and "<form method='post'" in page.text
    assert not suppression_list.is_suppressed(key)  # GET changes nothing
    r = requests.post(_local(twin, url), data="List-Unsubscribe=One-Click",
                      headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
    assert r.status_code == 200 and "unsubscribed" in r.text
    assert suppression_list.is_suppressed(key)
    assert "unsubscribe" in _types(cid)


def test_unsubscribe_links_of_mails_sent_before_still_work(twin, signer):
    cid = _uid("c")
    key = suppression_list.address_key("email", f"{cid}@example.com")
    mid = _uid("m")  # no message log item needed: the old token carries the address
    old = signer.ring.sign({"a": key, "c": cid, "j": "welcome", "k": "u", "m": mid})
    page = requests.get(f"{twin.api_url}/v1/unsubscribe/{old}", timeout=30)
    assert page.status_code == 200 and f"{cid}@example.com" in page.text
    r = requests.post(f"{twin.api_url}/v1/unsubscribe/{old}", data="List-Unsubscribe=One-Click",
                      headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
    assert r.status_code == 200 and suppression_list.is_suppressed(key)


def test_an_opaque_token_for_an_unknown_message_or_another_purpose_is_not_found(twin, signer):
    url = signer.unsubscribe_url("email:x@example.com", _uid("m"), _uid("c"))
    assert requests.get(_local(twin, url), timeout=30).status_code == 404
    assert requests.post(_local(twin, url), timeout=30).status_code == 404
    opened = signer.open_url(_uid("m"), _uid("c"))
    token = opened.rsplit("/", 1)[1]
    assert requests.get(f"{twin.api_url}/v1/unsubscribe/{token}", timeout=30).status_code == 404
