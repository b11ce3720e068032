"""The last check before delivery: consent (confirmed, for marketing), suppression, frequency caps, quiet hours.

Pure domain code: the caller gives the facts (is the address suppressed, when were the
customer's recent messages sent) and gets back a decision: ``send``, ``skip`` (with the
reason, recorded in the message log) or ``defer`` (with the time to try again, e.g. the
end of quiet hours).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from polku.messaging.recipient import Recipient
from polku.messaging.send_time import QuietHours, zone

TRANSACTIONAL = "transactional"


@dataclass(frozen=True)
class FrequencyCaps:
    per_day: int = 2
    per_week: int = 5


@dataclass(frozen=True)
class PolicyDecision:
    action: str  # "send" | "skip" | "defer"
    reason: str = ""
    retry_at: dt.datetime | None = None

    @property
    def send(self) -> bool:
        return self.action == "send"


def check_send(
    recipient: Recipient,
    channel: str,
    message_type: str,
    now: dt.datetime,
    *,
    suppressed: bool,
    recent_sends: Iterable[dt.datetime] = (),
    caps: FrequencyCaps = FrequencyCaps(),
    quiet: QuietHours | None = QuietHours(),
    paused: str | None = None,
) -> PolicyDecision:
    """``paused``: why marketing e-mail is paused (messaging/sending_pause.py), or None."""
    transactional = message_type == TRANSACTIONAL
    if recipient.address(channel) is None:
        return PolicyDecision("skip", f"no {channel} address")
    if not recipient.has_consent(channel, transactional=transactional):
        return PolicyDecision("skip", f"no {channel} consent")
    if suppressed:
        return PolicyDecision("skip", f"{channel} address is on the suppression list")
    if transactional:
        return PolicyDecision("send", "transactional")
    if channel == "web":  # a card waiting in the web inbox interrupts nobody: no caps, no quiet hours
        return PolicyDecision("send", "web inbox")
    if channel in recipient.unconfirmed:  # double opt-in (#16.3): given on the web, link not used yet
        return PolicyDecision("skip", f"{channel} consent awaits confirmation (double opt-in)")
    sends = [t for t in recent_sends if t <= now]
    if sum(1 for t in sends if now - t < dt.timedelta(days=1)) >= caps.per_day:
        return PolicyDecision("skip", f"frequency cap: {caps.per_day} messages per day")
    if sum(1 for t in sends if now - t < dt.timedelta(days=7)) >= caps.per_week:
        return PolicyDecision("skip", f"frequency cap: {caps.per_week} messages per week")
    if paused and channel == "email":  # deferred, not skipped: the journey sends it after the resume
        return PolicyDecision("defer", paused, now + dt.timedelta(hours=1))
    if quiet is not None:
        local = now.astimezone(zone(recipient.time_zone))
        if quiet.contains(local):
            return PolicyDecision("defer", "quiet hours", quiet.next_end(local).astimezone(dt.timezone.utc))
    return PolicyDecision("send")
