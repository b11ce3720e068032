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

The ``web`` channel (a card in the customer's web inbox, shown on their next page view:
docs/onsite.md) is never a fallback for a message that could not go elsewhere. It is used when
a step asks for it (``channel: web``) or, per message type, *alongside* the chosen channel:
for the types in :data:`WEB_CARD_TYPES` a template with a web card part also puts that card in
the inbox (:func:`web_card_alongside`). Usable when the template has a web part, a browser is
linked to the customer and ``web`` was not withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from polku.messaging.recipient import Recipient

DEFAULT_ORDER = ("email", "push", "sms", "webhook")
WEB = "web"
# Message types whose web card (if the template has one) goes alongside the chosen channel.
WEB_CARD_TYPES = frozenset({"reminder", "offer"})
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
    for ch in (*DEFAULT_ORDER, WEB):
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
    usable = [c for c in usable if c != WEB]  # asked for, or alongside; never a fallback
    if recipient.preferred_channel in usable:
        return ChannelDecision(recipient.preferred_channel, "preferred")
    if recipient.last_channel in usable:
        return ChannelDecision(recipient.last_channel, "last_read")
    if usable:
        return ChannelDecision(usable[0], "default")
    detail = "; ".join(f"{ch}: {reason}" for ch, reason in why.items() if ch in supported and ch != WEB) or "template supports no channel"
    return ChannelDecision(None, f"no usable channel ({detail})")


def web_card_alongside(recipient: Recipient, message_type: str, supported: Iterable[str],
                       chosen: str | None) -> ChannelDecision:
    """Whether this message also puts its web card in the customer's web inbox (channel policy
    per message type, :data:`WEB_CARD_TYPES`), and why (or why not)."""
    if message_type not in WEB_CARD_TYPES:
        return ChannelDecision(None, f"message type {message_type} has no web card")
    if chosen == WEB:
        return ChannelDecision(None, "the message itself is the web card")
    usable, why = usable_channels(recipient, supported)
    if WEB not in usable:
        return ChannelDecision(None, f"web: {why.get(WEB, 'not usable')}")
    return ChannelDecision(WEB, "alongside")
