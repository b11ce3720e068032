"""The data layer behaves the same on real DynamoDB Local and on the twin (moto).

Conditional writes (dedupe, optimistic versions) and transactions are what
correctness rests on; moto is known to accept things AWS rejects, so each case
runs on both backends.
"""

from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from polku.data.events import EventModel
from polku.data.identities import IdentityModel


def _event(eid: str, **kw) -> EventModel:
    return EventModel(
        eid, subject="a#anon-1", ts=f"2026-01-05T08:00:00.000Z#{eid}", type="page_view",
        client_ts="2026-01-05T08:00:00.000Z", received_at="2026-01-05T08:00:01.000Z", **kw,
    )


def test_conditional_put_stores_an_event_once(backend):
    eid = f"evt-{uuid.uuid4()}"
    _event(eid).save(condition=EventModel.event_id.does_not_exist())
    with pytest.raises(PutError) as err:
        _event(eid, properties={"changed": "yes"}).save(condition=EventModel.event_id.does_not_exist())
    assert err.value.cause_response_code == "ConditionalCheckFailedException"
    stored = EventModel.get(eid, consistent_read=True)
    assert stored.properties is None or "changed" not in stored.properties.as_dict()


def test_transaction_is_all_or_nothing(backend):
    name, endpoint, settings = backend
    anon, taken = f"anon-{uuid.uuid4()}", f"anon-{uuid.uuid4()}"
    IdentityModel(taken, customer_id="someone-else", linked_at="t0").save()
    conn = Connection(host=endpoint, region="eu-west-1")
    with pytest.raises(TransactWriteError) as err:
        with TransactWrite(connection=conn) as tx:
            tx.save(IdentityModel(anon, customer_id="c1", linked_at="t1"),
                    condition=IdentityModel.anonymous_id.does_not_exist())
            tx.save(IdentityModel(taken, customer_id="c1", linked_at="t1"),
                    condition=IdentityModel.anonymous_id.does_not_exist())
    assert err.value.cause_response_code == "TransactionCanceledException"
    # The second item's condition failed; the first was not written either.
    assert [r.code if r else None for r in err.value.cancellation_reasons] == [None, "ConditionalCheckFailed"]
    with pytest.raises(IdentityModel.DoesNotExist):
        IdentityModel.get(anon, consistent_read=True)
    assert IdentityModel.get(taken, consistent_read=True).customer_id == "someone-else"


def test_optimistic_version_rejects_a_stale_writer(backend):
    from polku.data.profiles import ProfileModel

    cid = f"cust-{uuid.uuid4()}"
    ProfileModel(cid, version=1, counts={"page_view": 1}).save(condition=ProfileModel.customer_id.does_not_exist())
    fresh = ProfileModel.get(cid, consistent_read=True)
    fresh.version = 2
    fresh.save(condition=ProfileModel.version == 1)
    stale = ProfileModel(cid, version=2, counts={"page_view": 99})
    with pytest.raises(PutError) as err:
        stale.save(condition=ProfileModel.version == 1)
    assert err.value.cause_response_code == "ConditionalCheckFailedException"
    assert ProfileModel.get(cid, consistent_read=True).version == 2


def test_gsi_lists_a_subjects_events_in_time_order(backend):
    subject = f"c#{uuid.uuid4()}"
    for minute in (30, 10, 20):
        eid = f"evt-{uuid.uuid4()}"
        EventModel(eid, subject=subject, ts=f"2026-01-05T08:{minute}:00.000Z#{eid}", type="page_view",
                   client_ts=f"2026-01-05T08:{minute}:00.000Z", received_at="x").save()
    got = [e.client_ts for e in EventModel.by_subject.query(subject)]
    assert got == sorted(got) and len(got) == 3


def test_empty_string_key_is_rejected_by_both(backend):
    name, endpoint, settings = backend
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="eu-west-1",
                          aws_access_key_id="x", aws_secret_access_key="x")
    with pytest.raises(ClientError) as err:
        client.put_item(TableName=settings.events_table, Item={"event_id": {"S": ""}})
    assert err.value.response["Error"]["Code"] == "ValidationException"


def _subject_event(eid: str, subject: str, minute: int) -> EventModel:
    return EventModel(eid, subject=subject, ts=f"2026-01-05T08:{minute:02d}:00.000Z#{eid}", type="page_view",
                      client_ts=f"2026-01-05T08:{minute:02d}:00.000Z", received_at="x")


def test_gsi_query_follows_items_that_are_updated_replaced_or_deleted(backend):
    """The twin answers index queries from a map it keeps up to date; the answers must be
    DynamoDB's whatever happened to the items since they were first written."""
    run = uuid.uuid4().hex[:8]
    a, b = f"c#a-{run}", f"c#b-{run}"
    ids = {n: f"evt-{run}-{n}" for n in range(1, 7)}
    for n, minute in ((1, 10), (2, 20), (3, 30), (4, 40)):
        _subject_event(ids[n], a, minute).save()
    assert [e.event_id for e in EventModel.by_subject.query(a)] == [ids[1], ids[2], ids[3], ids[4]]
    # An update moves event 2 to subject b; event 3 is deleted; event 4 is replaced by a put
    # under subject b; event 5 is created by an update under subject a (later than the rest).
    EventModel(ids[2]).update(actions=[EventModel.subject.set(b)])
    EventModel(ids[3]).delete()
    _subject_event(ids[4], b, 5).save()
    EventModel(ids[5]).update(actions=[EventModel.subject.set(a), EventModel.ts.set(f"2026-01-05T08:50:00.000Z#{ids[5]}"),
                                       EventModel.type.set("page_view")])
    # Event 6 has no subject: it is not in the index at all.
    EventModel(ids[6]).update(actions=[EventModel.type.set("page_view")])
    assert [e.event_id for e in EventModel.by_subject.query(a)] == [ids[1], ids[5]]
    assert [e.event_id for e in EventModel.by_subject.query(b)] == [ids[4], ids[2]]
    assert [e.event_id for e in EventModel.by_subject.query(b, scan_index_forward=False)] == [ids[2], ids[4]]
    assert [e.event_id for e in EventModel.by_subject.query(a, EventModel.ts > "2026-01-05T08:30")] == [ids[5]]
    # Paged one by one, newest first: the same items in the same order.
    paged, last = [], None
    while True:
        page = EventModel.by_subject.query(a, scan_index_forward=False, limit=1, last_evaluated_key=last)
        paged.extend(e.event_id for e in page)
        last = page.last_evaluated_key
        if not last:
            break
    assert paged == [ids[5], ids[1]]
    # A filter on a non-key attribute still applies.
    assert [e.event_id for e in EventModel.by_subject.query(a, filter_condition=EventModel.type == "page_view")] \
        == [ids[1], ids[5]]
    assert list(EventModel.by_subject.query(f"c#nobody-{run}")) == []


def test_gsi_query_after_transactions_that_fail_and_succeed(backend):
    name, endpoint, settings = backend
    run = uuid.uuid4().hex[:8]
    first, second, anon1, anon2 = f"cx-{run}", f"cy-{run}", f"anon1-{run}", f"anon2-{run}"
    IdentityModel(anon1, customer_id=first, linked_at="t0").save()
    IdentityModel(anon2, customer_id=first, linked_at="t0").save()
    assert sorted(i.anonymous_id for i in IdentityModel.by_customer.query(first)) == [anon1, anon2]
    conn = Connection(host=endpoint, region="eu-west-1")
    with pytest.raises(TransactWriteError):
        with TransactWrite(connection=conn) as tx:
            tx.update(IdentityModel(anon1), actions=[IdentityModel.customer_id.set(second)])
            tx.save(IdentityModel(anon2, customer_id=second, linked_at="t1"),
                    condition=IdentityModel.anonymous_id.does_not_exist())
    assert sorted(i.anonymous_id for i in IdentityModel.by_customer.query(first)) == [anon1, anon2]
    assert list(IdentityModel.by_customer.query(second)) == []
    with TransactWrite(connection=conn) as tx:
        tx.update(IdentityModel(anon1), actions=[IdentityModel.customer_id.set(second)])
    assert [i.anonymous_id for i in IdentityModel.by_customer.query(first)] == [anon2]
    assert [i.anonymous_id for i in IdentityModel.by_customer.query(second)] == [anon1]


def test_put_once_and_update_if_on_both_backends(backend):
    """The data layer's one conditional-write helper: the first writer wins, the second learns it
    lost (False), and an error other than the condition is raised, never swallowed."""
    from polku.data.base import put_once, update_if

    eid = f"once-{uuid.uuid4().hex}"
    assert put_once(_event(eid, properties={"n": 1}), EventModel.event_id.does_not_exist()) is True
    assert put_once(_event(eid, properties={"n": 2}), EventModel.event_id.does_not_exist()) is False
    assert EventModel.get(eid, consistent_read=True).properties.as_dict() == {"n": 1}  # the loser wrote nothing
    stored = EventModel.get(eid, consistent_read=True)
    assert update_if(stored, [EventModel.type.set("purchase")], EventModel.type == "page_view") is True
    assert update_if(stored, [EventModel.type.set("search")], EventModel.type == "page_view") is False
    assert EventModel.get(eid, consistent_read=True).type == "purchase"
    with pytest.raises(PutError):  # a key the table refuses (empty string) is an error, not "already there"
        put_once(_event(""), EventModel.event_id.does_not_exist())
