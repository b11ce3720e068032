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

from polku.data.base import PolkuModel


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
    try:
        return JourneyStateModel.get(customer_id, sk, consistent_read=True)
    except JourneyStateModel.DoesNotExist:
        return None
