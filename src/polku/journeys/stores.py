"""Stores and their opening hours, each in the store's own time zone. Pure (reads one YAML file).

The one place store hours live: ``src/polku/journeys/stores.yaml`` (shipped in the layer with the
package; format in the file's header and in docs/journeys.md). The journeys' ``store_open`` step asks
:func:`get` and :meth:`Store.is_open`; nothing else knows opening hours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

STORES_FILE = Path(__file__).with_name("stores.yaml")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class StoresError(ValueError):
    """The stores file is wrong; the message names the store and field."""


@dataclass(frozen=True)
class Store:
    store_id: str
    name: str
    time_zone: str
    hours: tuple  # per weekday (Monday first): (opening, closing) as datetime.time, or None (closed)

    def local(self, when: dt.datetime) -> dt.datetime:
        return when.astimezone(ZoneInfo(self.time_zone))

    def is_open(self, when: dt.datetime) -> bool:
        local = self.local(when)
        day = self.hours[local.weekday()]
        return day is not None and day[0] <= local.time().replace(tzinfo=None) < day[1]


def _days(spec: str, where: str) -> tuple[int, list[int]]:
    """(specificity, weekdays) of a day spec: daily (0), a range such as mon-fri (1), one day (2)."""
    spec = spec.strip().lower()
    if spec == "daily":
        return 0, list(range(7))
    if "-" in spec:
        first, _, last = spec.partition("-")
        if first in DAYS and last in DAYS and DAYS.index(first) <= DAYS.index(last):
            return 1, list(range(DAYS.index(first), DAYS.index(last) + 1))
    elif spec in DAYS:
        return 2, [DAYS.index(spec)]
    raise StoresError(f"{where}: day {spec!r} is not daily, a day ({', '.join(DAYS)}) or a range such as mon-fri")


def _span(value, where: str):
    if isinstance(value, str) and value.strip().lower() == "closed":
        return None
    try:
        opening, closing = (dt.time.fromisoformat(p.strip()) for p in str(value).split("-"))
    except ValueError:
        raise StoresError(f"{where}: {value!r} is not \"HH:MM-HH:MM\" or closed") from None
    if closing <= opening:
        raise StoresError(f"{where}: closing {closing:%H:%M} must be after opening {opening:%H:%M}")
    return opening, closing


def parse(data, source: str = "stores.yaml") -> dict[str, Store]:
    if not isinstance(data, dict) or not isinstance(data.get("stores"), dict):
        raise StoresError(f"{source}: needs a mapping `stores:` of store_id -> {{time_zone, hours}}")
    out = {}
    for store_id, raw in data["stores"].items():
        where = f"{source}: store {store_id}"
        if not isinstance(raw, dict):
            raise StoresError(f"{where}: must be a mapping with time_zone and hours")
        tz = raw.get("time_zone")
        try:
            ZoneInfo(str(tz))
        except (ZoneInfoNotFoundError, ValueError):
            raise StoresError(f"{where}: time_zone {tz!r} is not an IANA time zone (e.g. Europe/Helsinki)") from None
        hours = raw.get("hours")
        if not isinstance(hours, dict) or not hours:
            raise StoresError(f"{where}: hours: required (e.g. {{daily: \"09:00-21:00\"}})")
        week: list = [None] * 7
        lines = [(*_days(str(k), f"{where}: hours"), _span(v, f"{where}: hours.{k}")) for k, v in hours.items()]
        for _, days, span in sorted(lines, key=lambda line: line[0]):
            for d in days:
                week[d] = span
        out[str(store_id)] = Store(str(store_id), str(raw.get("name") or store_id), str(tz), tuple(week))
    return out


def load(path: Path | str | None = None) -> dict[str, Store]:
    p = Path(path) if path else STORES_FILE
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoresError(f"{p}: no such file") from None
    except yaml.YAMLError as exc:
        raise StoresError(f"{p}: not valid YAML ({exc})") from None
    return parse(data, p.name)


@lru_cache(maxsize=1)
def current() -> dict[str, Store]:
    """The shipped stores file (read once per warm container)."""
    return load()


def get(store_id: str | None) -> Store | None:
    return current().get(str(store_id)) if store_id else None
