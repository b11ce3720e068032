"""Identity: link an anonymous id (a browser) to a customer, and find who is who.

The link is one conditional put (``attribute_not_exists(anonymous_id)``): repeating
it is harmless, and when two requests race to link the same browser to different
customers exactly one wins; the loser gets :class:`LinkConflict`. Linking never
rewrites stored events: a customer's history is the union of the subjects
``c#<customer_id>`` and ``a#<anonymous_id>`` for each linked anonymous id.
The identities table's reads and writes are in :mod:`polku.data.identities`.
"""

from __future__ import annotations

from polku import clock
from polku.data import identities
from polku.tracking.normalise import subject_of


class LinkConflict(Exception):
    def __init__(self, anonymous_id: str, customer_id: str):
        super().__init__(f"anonymous id {anonymous_id} already belongs to another customer")
        self.anonymous_id = anonymous_id
        self.customer_id = customer_id


def link(anonymous_id: str, customer_id: str, site_key: str | None = None) -> bool:
    """Link; True when this call created the link, False when it already existed."""
    if identities.add_link(anonymous_id, customer_id, clock.now_iso(), site_key):
        return True
    owner = identities.customer_of(anonymous_id)
    if owner != customer_id:
        raise LinkConflict(anonymous_id, owner or "?")
    return False


def subjects_of(customer_id: str, anonymous_ids: list[str]) -> list[str]:
    """Every subject whose events are this customer's: their own and those of each browser linked
    to them (``anonymous_ids``, :func:`polku.data.identities.anonymous_ids_of`)."""
    return [subject_of(customer_id, None)] + [subject_of(None, a) for a in anonymous_ids]
