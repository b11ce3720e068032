"""Journey state per customer: enrolments (one per journey run) and event waits (task tokens)."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
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
    sk = UnicodeAttribute(range_key=True)  # "run#<journey>#<execution>" | "wait#<event type>#<token id>"
    journey = UnicodeAttribute(null=True)
    entered_at = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    by_journey = JourneyStateByJourney()
