"""CORS allow-list and site keys."""

import pytest

from polku.tracking.origin_policy import OriginPolicy
from polku.tracking.validation import Invalid

POLICY = OriginPolicy(("https://shop.example.com",), ("shop",))


def test_allowed_origin_is_echoed_never_a_wildcard():
    assert POLICY.cors_headers("https://shop.example.com") == {
        "Access-Control-Allow-Origin": "https://shop.example.com", "Vary": "Origin"}
    assert POLICY.cors_headers("https://evil.example") == {}


def test_unknown_origin_is_refused_but_no_origin_passes():
    with pytest.raises(Invalid) as err:
        POLICY.check_origin("https://evil.example")
    assert err.value.field == "Origin"
    POLICY.check_origin(None)


def test_site_key_must_be_known():
    assert POLICY.check_site_key("shop") == "shop"
    for bad in (None, "other", 5):
        with pytest.raises(Invalid) as err:
            POLICY.check_site_key(bad)
        assert err.value.field == "site_key"


def test_preflight_headers():
    h = POLICY.cors_headers("https://shop.example.com", preflight=True)
    assert "POST" in h["Access-Control-Allow-Methods"] and "Content-Type" in h["Access-Control-Allow-Headers"]
