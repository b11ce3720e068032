"""EventBridge schedules in the twin: which scheduled functions are due, and when.

``rate(N unit)`` and AWS's six-field ``cron(min hour day-of-month month day-of-week year)`` are
evaluated against the shared clock. ``Twin.run_schedules(until)`` invokes every due target once
per due time, in time order, with the Scheduled Event payload EventBridge sends.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
_DOW = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MON = {m: i for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), start=1)}


class ScheduleError(ValueError):
    pass


def _field(text: str, lo: int, hi: int, names: dict | None = None) -> set[int] | None:
    """Values a cron field allows; None means any (``*`` or ``?``)."""
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", ""):
            start, end = lo, hi
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _num(a, names), _num(b, names)
        else:
            start = _num(part, names)
            end = start if step == 1 else hi
        if not (lo <= start <= hi and lo <= end <= hi):
            raise ScheduleError(f"cron field {text!r}: values must be within {lo}-{hi}")
        values.update(range(start, end + 1, step))
    return values


def _num(text: str, names: dict | None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ScheduleError(f"cron value {text!r} is not a number")
    return int(text)


@dataclass(frozen=True)
class Schedule:
    expression: str

    def __post_init__(self):
        self._parse()

    def _parse(self):
        m = re.fullmatch(r"rate\((\d+) (\w+)\)", self.expression.strip())
        if m:
            unit = m.group(2)
            if unit not in _UNITS:
                raise ScheduleError(f"{self.expression}: unit must be minute(s), hour(s) or day(s)")
            return ("rate", int(m.group(1)) * _UNITS[unit])
        m = re.fullmatch(r"cron\((.+)\)", self.expression.strip())
        if not m:
            raise ScheduleError(f"{self.expression}: not rate(...) or cron(...)")
        parts = m.group(1).split()
        if len(parts) != 6:
            raise ScheduleError(f"{self.expression}: cron needs 6 fields (min hour dom month dow year)")
        minute, hour, dom, month, dow, year = parts
        return (
            "cron",
            (
                _field(minute, 0, 59),
                _field(hour, 0, 23),
                _field(dom, 1, 31),
                _field(month, 1, 12, _MON),
                _field(dow, 1, 7, _DOW),
                _field(year, 1970, 2199),
            ),
        )

    def due_between(self, after: dt.datetime, until: dt.datetime) -> list[dt.datetime]:
        """Due times t with after < t <= until (UTC, minute resolution)."""
        kind, spec = self._parse()
        out: list[dt.datetime] = []
        if kind == "rate":
            epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
            n = int((after - epoch).total_seconds() // spec) + 1
            t = epoch + dt.timedelta(seconds=n * spec)
            while t <= until:
                out.append(t)
                t += dt.timedelta(seconds=spec)
            return out
        minutes, hours, doms, months, dows, years = spec
        t = (after + dt.timedelta(minutes=1)).replace(second=0, microsecond=0)
        while t <= until:
            if (
                (years is None or t.year in years)
                and (months is None or t.month in months)
                and (doms is None or t.day in doms)
                and (dows is None or (t.isoweekday() % 7) + 1 in dows)
                and (hours is None or t.hour in hours)
            ):
                if minutes is None or t.minute in minutes:
                    out.append(t)
                t += dt.timedelta(minutes=1)
            else:
                t = (t + dt.timedelta(hours=1)).replace(minute=0)
        return out


def scheduled_event(rule_arn: str, at: dt.datetime, region: str, account: str) -> dict:
    return {
        "version": "0",
        "id": f"twin-{int(at.timestamp())}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }
