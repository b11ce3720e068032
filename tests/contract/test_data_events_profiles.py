"""The events, identities, profiles and catalogue tables' writes (polku.data.events, .identities,
.profiles, .catalog) behave the same on DynamoDB Local and on the twin: an event stored once, a
browser linked once, optimistic profile versions, conditional merge marks and deletes."""

from __future__ import annotations

import uuid

from polku.data import catalog, identities, profiles
from polku.data import events as event_table


def _event(eid: str, subject: str, **kw) -> dict:
    return {"event_id": eid, "subject": subject, "ts": f"2026-01-05T08:00:00.000Z#{eid}", "type": "page_view",
            "client_ts": "2026-01-05T08:00:00.000Z", "received_at": "2026-01-05T08:00:01.000Z", **kw}


def test_an_event_is_stored_once(backend):
    eid, subject = f"evt-{uuid.uuid4().hex}", f"a#{uuid.uuid4().hex}"
    assert event_table.add(_event(eid, subject, properties={"n": "first"})) is True
    assert event_table.add(_event(eid, subject, properties={"n": "second"})) is False
    assert event_table.get(eid)["properties"] == {"n": "first"}  # the refused write changed nothing
    assert event_table.has_subject(subject)
    assert event_table.delete([eid]) == 1 and event_table.get(eid) is None


def test_a_browser_is_linked_once(backend):
    anon, cid = f"anon-{uuid.uuid4().hex}", f"cust-{uuid.uuid4().hex}"
    assert identities.add_link(anon, cid, "2026-01-05T08:00:00Z") is True
    assert identities.add_link(anon, "someone-else", "2026-01-05T09:00:00Z") is False
    assert identities.customer_of(anon) == cid
    assert identities.unlink_all(cid) == [anon] and identities.customer_of(anon) is None


def test_profile_versions_refuse_a_stale_writer(backend):
    cid = f"cust-{uuid.uuid4().hex}"
    assert profiles.save_version({"customer_id": cid, "version": 1, "orders": 1}, 0) is True
    assert profiles.save_version({"customer_id": cid, "version": 1, "orders": 5}, 0) is False  # first write, again
    assert profiles.save_version({"customer_id": cid, "version": 3, "orders": 5}, 2) is False  # not the stored version
    assert profiles.find(cid).orders == 1
    assert profiles.save_version({"customer_id": cid, "version": 2, "orders": 2}, 1) is True
    assert (profiles.find(cid).orders, profiles.find(cid).version) == (2, 2)


def test_merge_marks_and_deletes_need_a_stored_profile(backend):
    key, cid = f"anon:{uuid.uuid4().hex}", f"cust-{uuid.uuid4().hex}"
    assert profiles.mark_merged(key, cid) is False
    assert profiles.find(key) is None  # no item made by the refused update
    assert profiles.delete(key) is False
    profiles.save_version({"customer_id": key, "version": 1}, 0)
    assert profiles.mark_merged(key, cid) is True and profiles.find(key).merged_into == cid
    assert profiles.delete(key) is True and profiles.find(key) is None


def test_catalogue_content_and_category(backend):
    pid = f"p-{uuid.uuid4().hex}"
    assert catalog.save_products([{"product_id": pid, "name": "Loaf", "category": "bakery", "price": 2.5}]) == 1
    assert catalog.content_for([pid, "missing"]) == {pid: {"name": "Loaf", "category": "bakery", "price": 2.5,
                                                          "available": True}}
    assert catalog.category_of(pid) == "bakery" and catalog.category_of("missing") is None
