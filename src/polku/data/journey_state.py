"""Journey state per customer (JourneyStateTable).

Item kinds, by sort key:

* ``run#<journey>`` — the customer's current or last run of a journey: execution,
  variant, status (``running`` | ``exited`` | ``holdout``), exit reason. The
  conditional write of this item enforces the re-entry policy.
* ``wait#<event type>#<token digest>`` — a task-token wait: the events stream
  resumes the execution when the event arrives (``expires_at`` is the TTL).
* ``offer#<offer id>`` — a personal offer granted in the ERP and whether it was revoked.
* ``log#<at>#<execution>#<n>`` — a recorded happening (e.g. a hand-over to sales).
"""

from __future__ import annotations

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from polku.data import base
from polku.data.base import PolkuModel, get_or_none, put_once, update_if


class JourneyStateByJourney(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_journey"
        projection = AllProjection()

    journey = UnicodeAttribute(hash_key=True)
    entered_at = UnicodeAttribute(range_key=True)


class JourneyStateModel(PolkuModel):
    settings_field = "journey_state_table"

    class Meta:
        table_name = "set-from-settings"

    customer_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    journey = UnicodeAttribute(null=True)
    entered_at = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    # run#
    execution_name = UnicodeAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)
    trigger_event_id = UnicodeAttribute(null=True)
    variant = UnicodeAttribute(null=True)
    exit_reason = UnicodeAttribute(null=True)
    exited_at = UnicodeAttribute(null=True)
    runs = NumberAttribute(null=True)
    # wait#
    token = UnicodeAttribute(null=True)
    event_type = UnicodeAttribute(null=True)
    where = MapAttribute(null=True)
    # offer# / log#
    detail = MapAttribute(null=True)
    by_journey = JourneyStateByJourney()


# -- the table's reads (every module reads journey state through these) ------------------------
RUN, WAIT, OFFER, LOG, STOP = "run#", "wait#", "offer#", "log#", "stop#"


def items(customer_id: str, prefix: str = "") -> list[JourneyStateModel]:
    """The customer's items whose sort key starts with ``prefix`` (all items when empty), read
    consistently: a step that has just written one sees it."""
    condition = JourneyStateModel.sk.startswith(prefix) if prefix else None
    return list(JourneyStateModel.query(customer_id, condition, consistent_read=True))


def find(customer_id: str, sk: str) -> JourneyStateModel | None:
    """One item, read consistently, or None."""
    return get_or_none(JourneyStateModel, customer_id, sk, consistent_read=True)


def of_journey(journey: str) -> list[JourneyStateModel]:
    """Every item of ``journey``, all customers (a scan, eventually consistent)."""
    return list(JourneyStateModel.scan(JourneyStateModel.journey == journey))


def run(customer_id: str, journey: str, consistent_read: bool = True) -> JourneyStateModel | None:
    """The customer's current or last run of ``journey``, or None."""
    return get_or_none(JourneyStateModel, customer_id, f"{RUN}{journey}", consistent_read=consistent_read)


# -- the table's writes -----------------------------------------------------------------------

def claim_run(customer_id: str, journey: str, previous: JourneyStateModel | None, **attributes) -> JourneyStateModel | None:
    """Write the run item of ``journey`` only if the run is still ``previous`` (none, or the one
    entered at ``previous.entered_at``): the re-entry lock. The new item, or None when another
    writer got there first."""
    item = JourneyStateModel(customer_id, f"{RUN}{journey}", journey=journey, **attributes)
    condition = (JourneyStateModel.sk.does_not_exist() if previous is None
                 else JourneyStateModel.entered_at == previous.entered_at)
    return item if put_once(item, condition) else None


def exit_run(customer_id: str, journey: str, execution_arn: str | None, reason: str, exited_at: str) -> bool:
    """Mark the customer's run of ``journey`` exited if it is running (and is the run
    ``execution_arn``, when given). False when it was not."""
    condition = JourneyStateModel.status == "running"
    if execution_arn:
        condition &= JourneyStateModel.execution_arn == execution_arn
    return update_if(JourneyStateModel(customer_id, f"{RUN}{journey}"),
                     [JourneyStateModel.status.set("exited"), JourneyStateModel.exit_reason.set(reason),
                      JourneyStateModel.exited_at.set(exited_at)], condition)


def put(customer_id: str, sk: str, **attributes) -> None:
    """Write one item, replacing any item with the same key (a wait, a stop reason, a holdout)."""
    JourneyStateModel(customer_id, sk, **attributes).save()


def add_once(customer_id: str, sk: str, **attributes) -> JourneyStateModel | None:
    """Write an item only if none has its key (an offer, a log entry). The new item, or None when
    one was there (it is kept)."""
    item = JourneyStateModel(customer_id, sk, **attributes)
    return item if put_once(item, JourneyStateModel.sk.does_not_exist()) else None


def set_status(item: JourneyStateModel, status: str, detail: dict | None = None) -> None:
    """Set an item's status (and replace its detail, when given)."""
    actions = [JourneyStateModel.status.set(status)]
    if detail is not None:
        actions.append(JourneyStateModel.detail.set(detail))
    item.update(actions=actions)


def delete(item: JourneyStateModel) -> None:
    """Delete one item (e.g. a wait that ended)."""
    item.delete()


def delete_all(found: list[JourneyStateModel]) -> int:
    """Delete these items in batches; how many."""
    return base.delete_all(JourneyStateModel, found)
