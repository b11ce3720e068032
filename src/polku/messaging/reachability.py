"""Is a customer reachable at all: could a journey message of theirs go out on some channel?

The journeys ask this before they start a run (``requires_reachable`` in the registry,
docs/journeys.md "Who may start a journey"): a run for a customer no channel reaches costs state
transitions, offers and waits and ends with every Send ``skipped``. The answer is Send's own
channel choice (:func:`polku.messaging.channel_choice.choose_channel`) for a journey message over
every channel a template can have: a channel with an address and a granted consent, not ``web``
(which is never a fallback). It does not look at what is only temporary (quiet hours, frequency
caps, a sending pause) nor at the suppression list and double opt-in confirmations, which Send
still applies per message.

The profile is read as Send reads it (:func:`polku.tracking.profile_store.load`). The profile
updater and the journey trigger read the events stream independently, so the profile may not yet
hold the event that triggers the journey (an ``identify`` with the consent and a ``form_submit`` in
one request): :func:`check` waits a moment for it and then raises :class:`ProfileBehind`, so the
stream delivers the record again rather than refusing a customer on an out-of-date profile.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Mapping

from polku.messaging.channel_choice import DEFAULT_ORDER, ChannelDecision, choose_channel
from polku.messaging.recipient import Recipient

JOURNEY_MESSAGE = "journey"
# The profile attributes the decision reads (addresses are traits): a batch read needs no more.
PROFILE_ATTRIBUTES = ("customer_id", "traits", "consents", "preferred_channel", "last_read")
WAITS = (0.1, 0.2, 0.4, 0.8)  # seconds between reads of a profile that lacks the trigger event
GIVE_UP_FOR = 5.0  # after one wait in vain, later records do not wait again for this long (seconds)
_gave_up = {"at": -1e9}
_lock = threading.Lock()


class ProfileBehind(RuntimeError):
    """The customer's profile has not applied the triggering event yet; try again later."""


def decide(profile: Mapping | None, customer_id: str) -> ChannelDecision:
    """The channel a journey message to this customer would go on, or why there is none."""
    if not profile:
        return ChannelDecision(None, "no profile")
    return choose_channel(Recipient.from_profile(profile, customer_id), JOURNEY_MESSAGE, DEFAULT_ORDER)


def _behind(profile: Mapping | None, event_id: str) -> bool:
    """Has the profile not yet applied ``event_id``? (A full ``applied`` window cannot tell: no.)"""
    if not profile:
        return True
    from polku.tracking.profile_builder import APPLIED_WINDOW

    applied = profile.get("applied") or ()
    return event_id not in applied and len(applied) < APPLIED_WINDOW


def check(customer_id: str, *, event_id: str | None = None, load: Callable[[str], Mapping | None] | None = None,
          sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic) -> ChannelDecision:
    """Reachability of the customer now. ``event_id``: the tracking event that triggers the entry;
    an unreachable verdict on a profile that has not applied it yet is read again after a short
    wait, then :class:`ProfileBehind` is raised. A reachable customer is never waited for."""
    if load is None:
        from polku.tracking.profile_store import load
    waits = WAITS
    with _lock:
        if monotonic() - _gave_up["at"] < GIVE_UP_FOR:
            waits = ()
    for pause in (*waits, None):
        profile = load(customer_id)
        decision = decide(profile, customer_id)
        if decision.ok or event_id is None or not _behind(profile, event_id):
            return decision
        if pause is None:
            with _lock:
                _gave_up["at"] = monotonic()
            raise ProfileBehind(f"profile of {customer_id} has not applied event {event_id} yet")
        sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover
