"""Tracking's data layer against the real DynamoDB Local: conditional writes under races."""

from __future__ import annotations

import os
import threading
import uuid

import boto3
import pytest

from polku.data.base import bind_models
from polku.settings import Settings, get_settings
from polku.testing.dynamodb_local import create_tables_from_template
from polku.data import events as event_table
from polku.data import identities
from polku.tracking import event_store, identity, profile_builder, profile_store

pytestmark = pytest.mark.dynamodb_local


@pytest.fixture(scope="module")
def tables(dynamodb_local, template):
    for k, v in {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        os.environ.setdefault(k, v)
    client = boto3.client("dynamodb", endpoint_url=dynamodb_local.endpoint_url, region_name="eu-west-1")
    stage = "trk" + uuid.uuid4().hex[:8]
    names = create_tables_from_template(client, template, stage=stage)
    settings = Settings(
        events_table=names["EventsTable"], profiles_table=names["ProfilesTable"],
        identities_table=names["IdentitiesTable"], messages_table=names["MessagesTable"],
        journey_state_table=names["JourneyStateTable"], catalog_table=names["CatalogTable"],
    )
    bind_models(settings, host=dynamodb_local.endpoint_url)
    yield client
    bind_models(get_settings(), host=None)


def item(event_id, subject="a#x", ts="2026-01-05T08:00:00.000Z"):
    return {"event_id": event_id, "subject": subject, "ts": f"{ts}#{event_id}", "type": "page_view",
            "client_ts": ts, "received_at": ts, "properties": {"url": "/"}}


def race(n, fn):
    results, barrier = [None] * n, threading.Barrier(n)

    def run(i):
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_same_event_raced_from_eight_threads_is_stored_once(tables):
    eid = uuid.uuid4().hex
    results = race(8, lambda i: event_store.put_new(item(eid)))
    assert sorted(results, key=str) == [False] * 7 + [True]
    assert len(list(event_table.of_subject("a#x"))) >= 1
    assert sum(e["event_id"] == eid for e in event_table.of_subject("a#x")) == 1


def test_subject_history_is_in_time_order(tables):
    subject = f"c#{uuid.uuid4().hex}"
    for ts in ("2026-01-05T10:00:00.000Z", "2026-01-05T08:00:00.000Z", "2026-01-05T09:00:00.000Z"):
        event_store.put_new(item(uuid.uuid4().hex, subject, ts))
    assert [e["client_ts"][11:13] for e in event_table.of_subject(subject)] == ["08", "09", "10"]


def test_racing_links_of_one_browser_have_exactly_one_winner(tables):
    anon = uuid.uuid4().hex
    results = race(6, lambda i: identity.link(anon, f"cust-{i}"))
    winners = [r for r in results if r is True]
    losers = [r for r in results if isinstance(r, identity.LinkConflict)]
    assert len(winners) == 1 and len(losers) == 5
    owner = identities.customer_of(anon)
    assert identity.link(anon, owner) is False  # repeating the winning link is harmless


def test_profile_write_refuses_a_stale_version(tables):
    key = uuid.uuid4().hex
    p = profile_builder.new_profile(key)
    assert profile_store.save(p, 0) is True
    stale = profile_builder.new_profile(key)
    assert profile_store.save(stale, 0) is False  # someone created it first
    fresh = profile_store.load(key)
    assert profile_store.save(fresh, int(fresh["version"])) is True
    assert profile_store.save(p, 1) is False  # version 1 is gone


def test_concurrent_stream_applies_to_one_profile_lose_nothing(tables):
    cust = uuid.uuid4().hex
    events = [dict(item(f"{cust}-{i}", f"c#{cust}", f"2026-01-05T08:00:0{i}.000Z"), customer_id=cust)
              for i in range(6)]
    race(6, lambda i: profile_store.apply(events[i]))
    p = profile_store.load(cust)
    assert p["counts"] == {"page_view": 6}
    assert sorted(p["applied"]) == sorted(e["event_id"] for e in events)
