"""Channel choice, table-driven."""

from __future__ import annotations

import pytest

from polku.messaging.channel_choice import choose_channel
from polku.messaging.recipient import Recipient

ALL = ["email", "sms", "push"]


def r(**kw):
    base = dict(customer_id="c1", email="a@example.com", phone="+358401234567", push_endpoint="arn:aws:sns:endpoint/x",
                consents={"email": True, "sms": True, "push": True})
    base.update(kw)
    return Recipient(**base)


CASES = [
    # (name, recipient, message_type, supported, requested, expected channel, reason contains)
    ("offer: preferred wins", r(preferred_channel="sms", last_channel="push"), "offer", ALL, None, "sms", "preferred"),
    ("offer: last read when no preference", r(last_channel="push"), "offer", ALL, None, "push", "last_read"),
    ("offer: default order", r(), "offer", ALL, None, "email", "default"),
    ("preferred without consent falls back to last read",
     r(preferred_channel="sms", last_channel="push", consents={"email": True, "sms": False, "push": True}),
     "offer", ALL, None, "push", "last_read"),
    ("preferred without address falls back", r(preferred_channel="sms", phone=None), "offer", ALL, None, "email", "default"),
    ("preferred not supported by template", r(preferred_channel="sms"), "offer", ["email", "push"], None, "email", "default"),
    ("unknown consent is no consent for marketing", r(consents={"push": True}), "offer", ALL, None, "push", "default"),
    ("transactional goes by e-mail even if sms preferred", r(preferred_channel="sms"), "transactional", ALL, None, "email",
     "transactional"),
    ("transactional needs no granted consent", r(consents={}), "transactional", ALL, None, "email", "transactional"),
    ("transactional: withdrawn consent stops it", r(consents={"email": False}), "transactional", ALL, None, None,
     "consent withdrawn"),
    ("transactional without e-mail address", r(email=None), "transactional", ALL, None, None, "no address"),
    ("requested channel honoured when usable", r(preferred_channel="email"), "offer", ALL, "push", "push", "requested"),
    ("requested channel refused without consent", r(consents={"email": True}), "offer", ALL, "sms", None, "no consent"),
    ("nothing usable", r(consents={}), "offer", ALL, None, None, "no usable channel"),
    ("empty profile gets nothing", Recipient.from_profile({}, "c1"), "offer", ALL, None, None, "no usable channel"),
]


@pytest.mark.parametrize("name, recipient, mtype, supported, requested, expected, reason", CASES, ids=[c[0] for c in CASES])
def test_channel_choice(name, recipient, mtype, supported, requested, expected, reason):
    d = choose_channel(recipient, mtype, supported, requested=requested)
    assert d.channel == expected
    assert reason in d.reason
