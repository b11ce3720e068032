"""The last check before delivery: consent, suppression, caps, quiet hours (table-driven)."""

from __future__ import annotations

import datetime as dt

import pytest

from polku.messaging.recipient import Recipient
from polku.messaging.send_policy import FrequencyCaps, check_send

NOW = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.timezone.utc)  # 12:00 in Helsinki
NIGHT = dt.datetime(2026, 1, 5, 21, 0, tzinfo=dt.timezone.utc)  # 23:00 in Helsinki
H = dt.timedelta(hours=1)
R = Recipient("c1", email="a@example.com", phone="+358401234567", consents={"email": True, "sms": True},
              time_zone="Europe/Helsinki")

CASES = [
    ("ok", R, "email", "offer", NOW, False, [], "send", ""),
    ("suppressed", R, "email", "offer", NOW, True, [], "skip", "suppression"),
    ("no consent", Recipient("c1", email="a@example.com"), "email", "offer", NOW, False, [], "skip", "consent"),
    ("no address", R, "push", "offer", NOW, False, [], "skip", "no push address"),
    ("daily cap", R, "email", "offer", NOW, False, [NOW - H, NOW - 2 * H], "skip", "per day"),
    ("weekly cap", R, "email", "offer", NOW, False, [NOW - 30 * H * i for i in range(1, 6)], "skip", "per week"),
    ("old sends do not count", R, "email", "offer", NOW, False, [NOW - 8 * 24 * H] * 9, "send", ""),
    ("quiet hours defer to 08:00 local", R, "sms", "offer", NIGHT, False, [], "defer", "quiet"),
    ("transactional ignores caps and quiet hours", R, "email", "transactional", NIGHT, False, [NOW - H] * 9, "send",
     "transactional"),
    ("transactional still respects suppression", R, "email", "transactional", NOW, True, [], "skip", "suppression"),
]


@pytest.mark.parametrize("name, r, channel, mtype, now, suppressed, recent, action, reason", CASES,
                         ids=[c[0] for c in CASES])
def test_send_policy(name, r, channel, mtype, now, suppressed, recent, action, reason):
    d = check_send(r, channel, mtype, now, suppressed=suppressed, recent_sends=recent, caps=FrequencyCaps(2, 5))
    assert d.action == action and reason in d.reason


def test_defer_names_the_end_of_quiet_hours():
    d = check_send(R, "email", "offer", NIGHT, suppressed=False)
    assert d.retry_at == dt.datetime(2026, 1, 6, 6, 0, tzinfo=dt.timezone.utc)  # 08:00 Helsinki
