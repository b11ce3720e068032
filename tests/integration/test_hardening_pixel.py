"""Issue #20 point 4: the open pixel answers a GIF whatever the Accept header, through the
twin's API Gateway (BinaryMediaTypes from template.yaml, first-Accept rule) and the real
Chalice app; the open is recorded."""

from __future__ import annotations

import uuid

import pytest
import requests

from polku.data.base import bind_models
from polku.messaging.link_actions import PIXEL_GIF
from polku.settings import get_settings

pytestmark = pytest.mark.twin

# Accept headers of the kinds image loaders send. The browser strings are the image-request
# defaults of the engines that mail readers embed (WebKit: Apple Mail; Chromium: Gmail and
# Outlook on the web); proxies and desktop clients send a wildcard or no Accept at all.
ACCEPTS = {
    "image/* (Outlook desktop, many proxies)": "image/*",
    "*/*": "*/*",
    "none (Gmail's image proxy fetches without negotiation)": None,
    "WebKit image request (Apple Mail)": "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,"
                                         "video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5",
    "Chromium image request (Gmail / Outlook on the web)": "image/avif,image/webp,image/apng,image/svg+xml,"
                                                           "image/*,*/*;q=0.8",
    "Firefox image request": "image/avif,image/webp,*/*",
    "text/html first": "text/html,application/xhtml+xml",
    "image/gif": "image/gif",
}


@pytest.fixture(scope="module")
def signer(twin):
    get_settings.cache_clear()
    bind_models(get_settings(), host=None)
    from polku.messaging.wiring import link_signer

    return link_signer()


def _path(url: str) -> str:
    return url[url.index("/v1/"):]


@pytest.mark.parametrize("accept", list(ACCEPTS.values()), ids=list(ACCEPTS))
def test_pixel_is_a_gif_for_any_accept(twin, signer, accept):
    url = twin.api_url + _path(signer.open_url(f"m-{uuid.uuid4().hex[:10]}", f"c-{uuid.uuid4().hex[:10]}"))
    r = requests.get(url, headers={"Accept": accept}, timeout=30)  # None removes requests' default */*
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"] == "image/gif"
    assert r.content == PIXEL_GIF


def test_json_and_html_answers_stay_text_under_binary_media_types(twin, signer):
    """``*/*`` makes every payload binary at API Gateway; text answers must still arrive as text."""
    r = requests.get(f"{twin.api_url}/v1/health", headers={"Accept": "image/*"}, timeout=30)
    assert r.status_code == 200 and r.json() == {"ok": True}
    r = requests.get(twin.api_url + "/v1/c/not-a-token", headers={"Accept": None}, timeout=30)
    assert r.status_code == 404 and "<h1>" in r.text
    js = requests.get(f"{twin.api_url}/v1/polku.js", headers={"Accept": None}, timeout=30)
    assert js.status_code == 200 and "polku" in js.text


def test_the_twin_follows_the_first_accept_rule_for_a_narrow_list(twin):
    """With the old ``image/gif`` list, API Gateway would have sent base64 text to a browser
    whose first Accept type is image/webp: the twin models that (why the template says */*)."""
    from polku.twin.api_gateway import first_accept, media_type_matches

    narrow = ("image/gif",)
    webkit = ACCEPTS["WebKit image request (Apple Mail)"]
    assert not media_type_matches(first_accept(webkit), narrow)
    assert not media_type_matches(first_accept(None), narrow)
    assert media_type_matches(first_accept("image/gif, */*"), narrow)
    assert media_type_matches(first_accept(webkit), ("*/*",)) and media_type_matches(None, ("*/*",))
    assert media_type_matches("image/png", ("image/*",)) and not media_type_matches("text/html", ("image/*",))
    assert twin.api.binary_media_types == ("*/*",)
