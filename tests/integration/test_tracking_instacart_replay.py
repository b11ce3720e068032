"""Instacart shoppers replayed as sessions through the twin's HTTP API become profiles."""

from __future__ import annotations

import datetime as dt

import pytest

from polku.data.base import bind_models
from polku.demo.instacart_data import instacart_rows
from polku.settings import get_settings
from polku.tracking import profile_store
from polku.tracking.instacart_sessions import sessions
from polku.tracking.session_replay import replay

pytestmark = pytest.mark.twin


def test_a_shopper_replayed_twice(twin):
    get_settings.cache_clear()
    bind_models(get_settings(), host=None)
    rows = instacart_rows(400)
    users = sorted({r["user_id"] for r in rows})[:1]
    orders = sorted({int(r["order_number"]) for r in rows if r["user_id"] in users})[:4]
    chosen = [r for r in rows if r["user_id"] in users and int(r["order_number"]) in orders]
    replayed = sessions(chosen, dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc))
    first = replay(twin.api_url, replayed, "demo-shop")
    assert first.rejected == [] and first.duplicates == 0 and first.identified == len(users)
    assert first.accepted == sum(len(s.events) for s in replayed)
    again = replay(twin.api_url, replayed, "demo-shop")
    assert again.duplicates == again.accepted == first.accepted  # a replay stores nothing twice
    for user in users:
        mine = [s for s in replayed if s.user_id == user]
        p = profile_store.load(f"ic-{user}")
        assert p["orders"] == len(mine)
        assert p["counts"]["purchase"] == len(mine) and p["counts"]["identify"] == 1
        assert p["traits"]["email"] == f"shopper{user}@example.com"
        assert p["anonymous_ids"] == [f"ic-device-{user}"]
        assert p["time_zone"] == "America/New_York" and p["category_affinity"]
        assert p["last_purchase_at"] == max(s.events[-1]["ts"] for s in mine)
