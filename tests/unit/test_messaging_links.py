"""Signed links: round trips, key rotation, forgery, purpose binding, no open redirect."""

from __future__ import annotations

import base64
import json

import pytest

from polku.messaging.links import KeyRing, LinkError, LinkSigner, safe_destination

SECRET = {"active": "k1", "k1": "first-key-0123456789abcdef"}


def signer(secret=SECRET):
    return LinkSigner(KeyRing.from_secret(json.dumps(secret)), "https://t.example.com/prod")


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_click_round_trip_carries_destination():
    s = signer()
    url = s.click_url("https://shop.example.com/p/1?x=1", "m_1", "c1", journey="welcome")
    assert url.startswith("https://t.example.com/prod/v1/c/")
    claims = s.verify(token_of(url), "click")
    assert (claims.url, claims.message_id, claims.customer_id, claims.journey) == (
        "https://shop.example.com/p/1?x=1", "m_1", "c1", "welcome")


def test_open_and_unsubscribe_round_trip():
    s = signer()
    assert s.verify(token_of(s.open_url("m_1", "c1")), "open").message_id == "m_1"
    claims = s.verify(token_of(s.unsubscribe_url("email:ann@example.com", "m_1", "c1")), "unsubscribe")
    # opaque: only the message id; the address is resolved through the message log
    assert (claims.message_id, claims.address, claims.customer_id) == ("m_1", None, "")
    legacy = s.ring.sign({"a": "email:ann@example.com", "c": "c1", "k": "u", "m": "m_1"})  # mails sent before
    claims = s.verify(legacy, "unsubscribe")
    assert claims.address == "email:ann@example.com" and claims.channel == "email" and claims.customer_id == "c1"


def test_rotation_old_links_verify_new_links_use_new_key():
    old = signer()
    old_link = token_of(old.click_url("https://shop.example.com/", "m_1", "c1"))
    rotated = signer({"active": "k2", "k1": SECRET["k1"], "k2": "second-key-0123456789abcdef"})
    assert rotated.verify(old_link, "click").url == "https://shop.example.com/"
    new_link = token_of(rotated.click_url("https://shop.example.com/", "m_1", "c1"))
    assert ".k2." in new_link
    with pytest.raises(LinkError, match="unknown key"):
        old.verify(new_link, "click")  # a ring without k2
    retired = signer({"active": "k2", "k2": "second-key-0123456789abcdef"})
    with pytest.raises(LinkError):
        retired.verify(old_link, "click")  # k1 removed: its links stop working


def _forge(token: str, change) -> str:
    payload, kid, mac = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(claims)
    new = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{new}.{kid}.{mac}"


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.update(u="https://evil.example.net/"),  # open redirect attempt
        lambda c: c.update(c="someone-else"),  # unsubscribe another customer
        lambda c: c.update(k="u", a="email:victim@example.com"),  # turn a click into an unsubscribe
    ],
)
def test_altered_payload_is_rejected(change):
    s = signer()
    token = token_of(s.click_url("https://shop.example.com/", "m_1", "c1"))
    with pytest.raises(LinkError, match="bad signature"):
        s.verify(_forge(token, change), "click")


def test_token_signed_with_another_secret_is_rejected():
    mine, theirs = signer(), signer({"active": "k1", "k1": "attacker-key-0123456789abcdef"})
    forged = token_of(theirs.unsubscribe_url("email:victim@example.com", "m_1", "c1"))
    with pytest.raises(LinkError, match="bad signature"):
        mine.verify(forged, "unsubscribe")


def test_token_is_bound_to_its_purpose():
    s = signer()
    open_token = token_of(s.open_url("m_1", "c1"))
    with pytest.raises(LinkError, match="not a unsubscribe token"):
        s.verify(open_token, "unsubscribe")
    with pytest.raises(LinkError, match="not a click token"):
        s.verify(open_token, "click")


@pytest.mark.parametrize(
    "token", ["", "abc", "a.b", "a.b.c.d", "!!!.k1.abc", "x" * 5000, "e30.k1.AAAAAAAAAAAAAAAAAAAAAA"]
)
def test_malformed_tokens_are_rejected(token):
    with pytest.raises(LinkError):
        signer().verify(token, "click")


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "//evil.example.net/", "/relative", "data:text/html,x", "ftp://x.example.com/",
     "https:///nohost", "https://ok.example.com/\r\nSet-Cookie: x", "http://a.example.com\\@evil.example.net", None, 42],
)
def test_only_absolute_http_destinations(url):
    with pytest.raises(LinkError):
        safe_destination(url)
    with pytest.raises(LinkError):
        signer().click_url(url, "m_1", "c1")


def test_signed_but_unsafe_destination_is_still_refused():
    s = signer()
    token = s.ring.sign({"k": "c", "m": "m_1", "c": "c1", "u": "javascript:alert(1)"})
    with pytest.raises(LinkError, match="destination"):
        s.verify(token, "click")


@pytest.mark.parametrize(
    "secret",
    ["not json", {"k1": "0123456789abcdef0"}, {"active": "k9", "k1": "0123456789abcdef0"},
     {"active": "k1", "k1": "short"}, {"active": "bad id!", "bad id!": "0123456789abcdef0"}],
)
def test_bad_secrets_are_refused(secret):
    with pytest.raises(LinkError):
        KeyRing.from_secret(secret if isinstance(secret, str) else json.dumps(secret))


@pytest.mark.parametrize("claims", [
    {"k": "c", "m": "m_1", "c": "c1", "u": "https://shop.example.com/p/1?x=1&y=\"2\""},
    {"k": "u", "m": "m_1", "c": "Tomáš ☃ \U0001f600", "a": "email:ann@example.com", "j": "welcome", "ch": "sms"},
    {"k": "o", "m": "m\\1\n\t\x00\x7f\u2028", "c": "</script>"},
    {"k": "c", "m": "m_1", "c": 17, "u": "https://x.example.com/"},  # not all strings: json.dumps itself
    {"b": None, "a": ["x", 1.5], "c": True},
])
def test_signing_fast_path_gives_the_same_token_as_json_dumps_and_hmac_new(claims):
    import hashlib
    import hmac

    from polku.messaging.links import _compact_json

    want = json.dumps(claims, separators=(",", ":"), sort_keys=True)
    assert _compact_json(claims) == want
    ring = KeyRing.from_secret(SECRET)
    payload = base64.urlsafe_b64encode(want.encode("utf-8")).rstrip(b"=").decode()
    mac = hmac.new(SECRET["k1"].encode(), f"k1.{payload}".encode(), hashlib.sha256).digest()[:16]
    reference = f"{payload}.k1.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    assert ring.sign(claims) == reference
    assert ring.sign(claims) == reference  # the cached keyed state is copied, not consumed
    assert ring.verify(reference) == claims


@pytest.mark.parametrize("mid,cid,channel,journey", [
    ("m_1", "c1", "email", None),
    ("m_1", "c1", "sms", "welcome"),
    ("m_\u00e4\"\\", "Tom\u00e1\u0161 \U0001f600", "push", ""),
    ("m_2", "c2", "email", "j\n\t"),
])
def test_click_links_fast_path_matches_the_general_claims_path(mid, cid, channel, journey):
    s = signer()
    for url in ("https://shop.example.com/p/1?x=1&y=\u00e4", "http://a.example.com/\"q\"", "https://shop.example.com/p/1?x=1&y=\u00e4"):
        claims = s._claims("c", mid, cid, channel, journey)
        claims["u"] = safe_destination(url)  # signed as normalised (percent-encoded)
        want = s.base_url + "/v1/c/" + s.ring.sign(claims)
        assert s.click_url(url, mid, cid, channel=channel, journey=journey) == want
        back = s.verify(token_of(want), "click")
        assert (back.url, back.message_id, back.customer_id, back.channel) == (claims["u"], mid, cid, channel)
    other = signer()  # a prefix kept for one message is never used for another
    a = other.click_url("https://s.example.com/", "m_a", "c_a")
    b = other.click_url("https://s.example.com/", "m_b", "c_a")
    assert other.verify(token_of(a), "click").message_id == "m_a" and other.verify(token_of(b), "click").message_id == "m_b"


def test_hmac_from_precomputed_states_matches_hmac_new_for_long_and_short_keys():
    import hashlib
    import hmac

    for key in ("k" * 16, "long-key-" * 20):
        ring = KeyRing.from_secret({"active": "k9", "k9": key})
        for payload in ("", "abc", "x" * 200):
            want = hmac.new(key.encode(), f"k9.{payload}".encode(), hashlib.sha256).digest()[:16]
            assert ring._mac("k9", payload) == base64.urlsafe_b64encode(want).rstrip(b"=").decode()


@pytest.mark.parametrize("mid,cid,channel,journey,address", [
    ("m_1", "c1", "email", None, "email:ann@example.com"),
    ("m_1", "c1", "sms", "welcome", "sms:+358401234567"),
    ("m_\u00e4\"", "Tom\u00e1\u0161", "push", "", "push:arn:aws:sns:eu-west-1:1:endpoint/GCM/app/\u00e4"),
])
def test_open_and_unsubscribe_fast_paths_match_the_general_claims_path(mid, cid, channel, journey, address):
    from urllib.parse import quote

    s = signer()
    want_open = s.base_url + "/v1/o/" + s.ring.sign(s._claims("o", mid, cid, channel, journey))
    want_unsub = s.base_url + "/v1/unsubscribe/" + quote(s.ring.sign({"k": "u", "m": mid}), safe=".-_")
    for _ in range(2):  # computed, then from the kept message head
        assert s.open_url(mid, cid, channel=channel, journey=journey) == want_open
        assert s.unsubscribe_url(address, mid, cid, channel=channel, journey=journey) == want_unsub
    assert s.verify(token_of(want_unsub), "unsubscribe").message_id == mid
    legacy = s._claims("u", mid, cid, channel, journey)  # the format of mails sent before
    legacy["a"] = address
    assert s.verify(s.ring.sign(legacy), "unsubscribe").address == address
