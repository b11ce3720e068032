"""Issue #20 point 3 (pure): click destinations normalised once, unsafe ones refused by name."""

import pytest

from polku.messaging.links import UnsafeDestination, safe_destination


@pytest.mark.parametrize("url, want", [
    ("https://kauppa.example/tuotteet/pähkinä", "https://kauppa.example/tuotteet/p%C3%A4hkin%C3%A4"),
    ("https://bücher.example/", "https://xn--bcher-kva.example/"),
    ("https://Shop.Example/p/1?q=grüner#Ä", "https://shop.example/p/1?q=gr%C3%BCner#%C3%84"),
    ("https://shop.example/a%20b/100%", "https://shop.example/a%20b/100%25"),
    ("https://shop.example/p?x=<script>", "https://shop.example/p?x=%3Cscript%3E"),
    ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    ("https://shop.example:8443/", "https://shop.example:8443/"),
])
def test_normalised_and_idempotent(url, want):
    assert safe_destination(url) == want
    assert safe_destination(want) == want


@pytest.mark.parametrize("url, words", [
    ("https://shop.example\x0b.evil.com", "U+000B"),
    ("https://sh\x00op.example", "U+0000"),
    ("https://shop.example/\u2028", "U+2028"),
    ("https://shop.example/\u2029", "U+2029"),
    ("https://shop.example/\u00a0", "U+00A0"),
    ("https://shop.example/\u200b", "U+200B"),
    ("https://shop.example\\@evil.com", "backslash"),
    ("https://user:pw@shop.example/", "user names"),
    ("https://straße.example/", "punycode"),
    ("https://exa mple.com/", "U+0020"),
    ("ftp://shop.example/", "http(s)"),
    ("https://shop.example:99999/", "port"),
    ("https:///nohost", "http(s)"),
])
def test_unsafe_destinations_are_refused_with_the_reason(url, words):
    with pytest.raises(UnsafeDestination) as err:
        safe_destination(url)
    assert str(err.value).startswith("destination:") and words in str(err.value)
