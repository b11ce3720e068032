"""Which channel a message goes on (pure domain code).

Policy per message type:

* ``transactional`` (order confirmation, receipts): e-mail only (it must arrive where
  the customer keeps records); consent must not have been withdrawn.
* every other type (``offer``, ``journey``, ``reminder``, ...): the customer's best
  channel: their preferred channel if it is usable, else the channel where they last
  opened or clicked, else the default order ``email, push, sms, webhook``.

A channel is *usable* when the template supports it, the customer has consent for it
(granted; for transactional: not withdrawn) and a reachable address on it. An explicit
``channel`` asked for by the journey is honoured only if usable. No usable channel
means no message (:class:`NoChannel` says why).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from polku.messaging.recipient import Recipient

DEFAULT_ORDER = ("email", "push", "sms", "webhook")
TRANSACTIONAL_TYPES = frozenset({"transactional"})


@dataclass(frozen=True)
class ChannelDecision:
    channel: str | None
    reason: str  # "requested" | "transactional" | "preferred" | "last_read" | "default" | why none

    @property
    def ok(self) -> bool:
        return self.channel is not None


def usable_channels(
    recipient: Recipient, supported: Iterable[str], *, transactional: bool = False
) -> tuple[list[str], dict[str, str]]:
    """(usable channels in default order, {unusable channel: why})."""
    usable, why = [], {}
    supported = set(supported)
    for ch in DEFAULT_ORDER:
        if ch not in supported:
            why[ch] = "template does not support it"
        elif recipient.address(ch) is None:
            why[ch] = "no address"
        elif not recipient.has_consent(ch, transactional=transactional):
            why[ch] = "consent withdrawn" if recipient.consents.get(ch) is False else "no consent"
        else:
            usable.append(ch)
    return usable, why


def choose_channel(
    recipient: Recipient,
    message_type: str,
    supported: Iterable[str],
    *,
    requested: str | None = None,
) -> ChannelDecision:
    transactional = message_type in TRANSACTIONAL_TYPES
    supported = list(supported)
    if transactional:
        supported = [c for c in supported if c == "email"]
    usable, why = usable_channels(recipient, supported, transactional=transactional)
    if requested:
        if requested in usable:
            return ChannelDecision(requested, "requested")
        return ChannelDecision(None, f"requested channel {requested}: {why.get(requested, 'not usable')}")
    if transactional:
        return ChannelDecision("email", "transactional") if usable else ChannelDecision(
            None, f"transactional e-mail: {why.get('email', 'not usable')}"
        )
    if recipient.preferred_channel in usable:
        return ChannelDecision(recipient.preferred_channel, "preferred")
    if recipient.last_channel in usable:
        return ChannelDecision(recipient.last_channel, "last_read")
    if usable:
        return ChannelDecision(usable[0], "default")
    detail = "; ".join(f"{ch}: {reason}" for ch, reason in why.items() if ch in supported) or "template supports no channel"
    return ChannelDecision(None, f"no usable channel ({detail})")
