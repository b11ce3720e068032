"""Send-time optimisation: the next hour within a window at which this customer reads.

Method (documented in docs/messages.md):

1. The profile keeps an hour-of-week histogram of the customer's opens and clicks
   (168 buckets, UTC, Monday 00:00 = 0).
2. The histogram is smoothed over neighbouring hours (kernel 1/4, 1/2, 1/4, circular)
   and then shrunk toward the population's reading pattern with a Dirichlet prior of
   ``prior_strength`` pseudo-observations::

       score(h) = (c(h) + k * pop(h)) / (n + k)

   where ``c`` is the smoothed customer count, ``n`` the customer's total and ``pop`` the
   population distribution (sums to 1). ``k = 168`` is one pseudo-open per hour of the
   week: with no history or a single open the population decides; a few opens at the
   same hour outweigh it, and with many opens the customer's own hours dominate.
3. Candidate slots are the start of every hour in ``[now, now + window)`` (the current
   hour counts as "now"), excluding the quiet hours in the customer's time zone. The
   best-scoring slot wins; ties go to the earliest.
4. The answer is an ISO-8601 UTC timestamp a Step Functions ``Wait`` state can use
   (``TimestampPath``). If the window holds no allowed hour, the end of the quiet hours.

The population pattern is given in *local* hour of week (people read at 08:00 where
they are), the customer's histogram in UTC; each candidate slot is looked up in both.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from polku.clock import to_iso

HOURS_OF_WEEK = 168
UTC = dt.timezone.utc


def _default_population() -> tuple[float, ...]:
    """A plain reading pattern by local hour (morning, lunch and evening peaks), same every day,
    a bit lower at weekends. Replace it with the population histogram from the message log."""
    by_hour = [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.6, 1.4, 2.2, 2.0, 1.6, 1.5,
               1.9, 1.6, 1.3, 1.2, 1.3, 1.5, 1.8, 2.1, 2.2, 1.7, 1.0, 0.5]  # fmt: skip
    weights = [by_hour[h % 24] * (0.85 if h // 24 >= 5 else 1.0) for h in range(HOURS_OF_WEEK)]
    total = sum(weights)
    return tuple(w / total for w in weights)


DEFAULT_POPULATION = _default_population()


@dataclass(frozen=True)
class QuietHours:
    start: int = 21  # local hour at which quiet time begins
    end: int = 8  # local hour at which it ends

    def contains(self, local: dt.datetime) -> bool:
        h = local.hour
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= h < self.end
        return h >= self.start or h < self.end

    def next_end(self, local: dt.datetime) -> dt.datetime:
        """The first moment at or after ``local`` that is not quiet."""
        if not self.contains(local):
            return local
        end = local.replace(hour=self.end, minute=0, second=0, microsecond=0)
        if end <= local:
            end += dt.timedelta(days=1)
        return end


def zone(name: str | None, default: str = "UTC") -> ZoneInfo:
    for candidate in (name, default, "UTC"):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")  # pragma: no cover


def hour_of_week(t: dt.datetime) -> int:
    return t.weekday() * 24 + t.hour


def smooth(hist: Sequence[float]) -> list[float]:
    n = len(hist)
    return [0.25 * hist[(i - 1) % n] + 0.5 * hist[i] + 0.25 * hist[(i + 1) % n] for i in range(n)]


@dataclass(frozen=True)
class SendTime:
    at: dt.datetime  # UTC
    score: float
    reason: str  # "best_hour" | "quiet_hours_end" | "now"

    @property
    def iso(self) -> str:
        return to_iso(self.at)


def choose_send_time(
    now: dt.datetime,
    open_hours: Sequence[float],
    *,
    time_zone: str | None = None,
    window_hours: int = 24,
    quiet: QuietHours | None = QuietHours(),
    population: Sequence[float] = DEFAULT_POPULATION,
    prior_strength: float = 168.0,
    default_time_zone: str = "UTC",
) -> SendTime:
    if len(open_hours) != HOURS_OF_WEEK or len(population) != HOURS_OF_WEEK:
        raise ValueError(f"open_hours and population must have {HOURS_OF_WEEK} buckets")
    if window_hours < 1:
        raise ValueError("window_hours must be at least 1")
    tz = zone(time_zone, default_time_zone)
    now = now.astimezone(UTC)
    pop_total = sum(population) or 1.0
    pop = [p / pop_total for p in population]
    counts = smooth([max(0.0, float(c)) for c in open_hours])
    n = sum(counts)
    best: SendTime | None = None
    hour_start = now.replace(minute=0, second=0, microsecond=0)
    for i in range(window_hours):
        slot = now if i == 0 else hour_start + dt.timedelta(hours=i)
        local = slot.astimezone(tz)
        if quiet is not None and quiet.contains(local):
            continue
        score = (counts[hour_of_week(slot)] + prior_strength * pop[hour_of_week(local)]) / (n + prior_strength)
        if best is None or score > best.score + 1e-12:
            best = SendTime(slot, score, "best_hour")
    if best is not None:
        return best
    end_local = quiet.next_end(now.astimezone(tz)) if quiet is not None else now.astimezone(tz)
    return SendTime(end_local.astimezone(UTC), 0.0, "quiet_hours_end")
