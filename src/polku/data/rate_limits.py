"""Counters of rate-limited actions (consent-confirmation sends per address and per site; SES
outcomes per hour for the sending pause), one item per key and window; TTL removes a window once it
is over. The sending pause itself is one item (``sending-paused``)."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from polku.data import base
from polku.data.base import PolkuModel, delete_if, get_or_none, put_once, update_if


class RateLimitModel(PolkuModel):
    settings_field = "rate_limits_table"

    class Meta:
        table_name = "set-from-settings"

    key = UnicodeAttribute(hash_key=True)  # "<what>#<whom>#<window start>", e.g. "confirm-sms#+358401234567#2026-12-04"
    count = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)  # TTL: the end of the window
    reason = UnicodeAttribute(null=True)  # the sending pause: why (messaging/sending_pause.py)
    since = UnicodeAttribute(null=True)  # and since when


# -- the table's reads and writes (every module counts and pauses through these) --------------
PAUSE_KEY = "sending-paused"


def count(key: str, expires_at: int) -> None:
    """Count one against ``key`` (no limit) and set when its window ends."""
    RateLimitModel(key).update(actions=[RateLimitModel.count.add(1), RateLimitModel.expires_at.set(expires_at)])


def take(key: str, limit: int, expires_at: int) -> bool:
    """Count one against ``key``; False (nothing counted) when ``limit`` is reached."""
    return update_if(RateLimitModel(key), [RateLimitModel.count.add(1), RateLimitModel.expires_at.set(expires_at)],
                     RateLimitModel.count.does_not_exist() | (RateLimitModel.count < limit))


def of_keys(keys: list[str]) -> list[RateLimitModel]:
    """The counters of those ``keys`` that exist (batch reads of 100, eventually consistent)."""
    return [m for i in range(0, len(keys), 100) for m in RateLimitModel.batch_get(keys[i:i + 100])]


def delete_all(found: list[RateLimitModel]) -> int:
    """Delete these counters in batches; how many."""
    return base.delete_all(RateLimitModel, found)


def pause_sending(reason: str, since: str) -> bool:
    """Set the sending pause unless it is set (the first crossing wins; a set pause keeps its reason
    and time). True when set now."""
    return put_once(RateLimitModel(PAUSE_KEY, count=1, reason=reason, since=since),
                    RateLimitModel.key.does_not_exist())


def sending_pause() -> RateLimitModel | None:
    """The sending pause (``reason``, ``since``), read consistently, or None."""
    return get_or_none(RateLimitModel, PAUSE_KEY, consistent_read=True)


def lift_sending_pause() -> bool:
    """Delete the sending pause; True if there was one."""
    return delete_if(RateLimitModel(PAUSE_KEY), RateLimitModel.key.exists())
