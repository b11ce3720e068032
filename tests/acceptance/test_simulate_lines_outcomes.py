"""What a marketer reads in ``polku journeys simulate``: every message line carries the rendered
``subject`` (e-mail subject or push title) and ``text`` (e-mail text part, SMS or push body) -- the
same words the customer received."""

from __future__ import annotations

import pytest

from tests.acceptance.outcomes import plain, without_links


def words(text: str) -> str:
    """The words of a message: simulate shows links as their destination (and the unsubscribe link as
    a placeholder), the delivered message has them signed and tracked."""
    return plain(without_links(text).replace("[unsubscribe]", ""))


@pytest.fixture(scope="module")
def received(journey, catalogue):
    ids = catalogue({"Sea Buckthorn Juice": 5.5})
    cart = journey("abandoned_cart")
    mail, sms = cart.person("aino", first_name="Aino"), cart.person("sami", first_name="Sami", prefers="sms")
    lines = []
    for p in (mail, sms):
        lines += [p.identify("2026-01-05T07:00:00Z"),
                  p.event("add_to_cart", "2026-01-05T10:00:00Z", product_id=ids["Sea Buckthorn Juice"], quantity=1,
                          price=5.5)]
    out = cart(lines)
    store = journey("location_offer")
    app = store.person("noora", first_name="Noora", prefers="push")
    out |= store([app.identify("2026-01-05T07:00:00Z"), app.event("location", "2026-01-05T12:00:00Z", store_id="hki-1")])
    messages = [m for o in out.values() for m in o.messages]
    assert {m.channel for m in messages} == {"email", "sms", "push"}, out
    return messages


def test_every_message_line_carries_the_text_the_customer_received(received):
    for m in received:
        assert "text" in m.line, f"simulate's {m.channel} line has no text: {m.line}"
        assert words(m.line["text"]) == words(m.text), m.channel


def test_every_mail_and_push_line_carries_the_subject_the_customer_saw(received):
    for m in received:
        if m.channel in ("email", "push"):
            assert m.line.get("subject") == m.subject, f"simulate's {m.channel} line: {m.line}"
