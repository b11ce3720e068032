"""Identity: link an anonymous id (a browser) to a customer, and find who is who.

The link is one conditional put (``attribute_not_exists(anonymous_id)``): repeating
it is harmless, and when two requests race to link the same browser to different
customers exactly one wins; the loser gets :class:`LinkConflict`. Linking never
rewrites stored events: a customer's history is the union of the subjects
``c#<customer_id>`` and ``a#<anonymous_id>`` for each linked anonymous id.
"""

from __future__ import annotations

from typing import Iterable


from polku import clock
from polku.data.base import put_once
from polku.data.identities import IdentityModel
from polku.tracking.normalise import subject_of


class LinkConflict(Exception):
    def __init__(self, anonymous_id: str, customer_id: str):
        super().__init__(f"anonymous id {anonymous_id} already belongs to another customer")
        self.anonymous_id = anonymous_id
        self.customer_id = customer_id


def link(anonymous_id: str, customer_id: str, site_key: str | None = None) -> bool:
    """Link; True when this call created the link, False when it already existed."""
    if put_once(IdentityModel(anonymous_id, customer_id=customer_id, linked_at=clock.now_iso(), site_key=site_key),
                IdentityModel.anonymous_id.does_not_exist()):
        return True
    owner = customer_of(anonymous_id)
    if owner != customer_id:
        raise LinkConflict(anonymous_id, owner or "?")
    return False


def customer_of(anonymous_id: str) -> str | None:
    try:
        return IdentityModel.get(anonymous_id, consistent_read=True).customer_id
    except IdentityModel.DoesNotExist:
        return None


def customers_of(anonymous_ids: Iterable[str]) -> dict[str, str]:
    """anonymous id -> customer id, for those linked (one BatchGetItem per 100)."""
    keys = list(dict.fromkeys(a for a in anonymous_ids if a))
    if not keys:
        return {}
    return {m.anonymous_id: m.customer_id for m in IdentityModel.batch_get(keys)}


def anonymous_ids_of(customer_id: str) -> list[str]:
    return sorted(m.anonymous_id for m in IdentityModel.by_customer.query(customer_id))


def subjects_of(customer_id: str) -> list[str]:
    """Every subject whose events are this customer's."""
    return [subject_of(customer_id, None)] + [subject_of(None, a) for a in anonymous_ids_of(customer_id)]


def unlink_all(customer_id: str) -> list[str]:
    ids = anonymous_ids_of(customer_id)
    for a in ids:
        IdentityModel(a).delete()
    return ids
