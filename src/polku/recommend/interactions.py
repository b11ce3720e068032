"""Interactions: who touched which item, when, how strongly, in which basket.

Read from any CSV given its column names (the evaluation CLI) or from tracking events
(training). Ids are mapped to dense indices so the maths can use numpy arrays.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# How much each tracked event type says about a customer's taste (purchase strongest).
EVENT_WEIGHTS = {
    "product_viewed": 1.0,
    "view": 1.0,
    "page_viewed": 0.0,
    "added_to_cart": 2.0,
    "cart": 2.0,
    "purchase": 4.0,
    "order_completed": 4.0,
    "purchased": 4.0,
}


class InteractionsError(ValueError):
    """The interactions cannot be read; the message names the column or line."""


@dataclass
class Interactions:
    user: np.ndarray  # int32 user index per row
    item: np.ndarray  # int32 item index per row
    time: np.ndarray  # float64 ordering key per row (larger = later)
    basket: np.ndarray  # int64 basket index per row
    weight: np.ndarray  # float32 strength per row
    user_ids: list[str]
    item_ids: list[str]

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def __len__(self) -> int:
        return len(self.user)

    def subset(self, mask: np.ndarray) -> "Interactions":
        return Interactions(self.user[mask], self.item[mask], self.time[mask], self.basket[mask],
                            self.weight[mask], self.user_ids, self.item_ids)

    def item_counts(self) -> np.ndarray:
        return np.bincount(self.item, minlength=self.n_items).astype(np.float64)

    @classmethod
    def from_records(cls, users, items, times=None, baskets=None, weights=None) -> "Interactions":
        """Build from parallel sequences of raw ids (strings) and optional numbers."""
        n = len(users)
        user_ids, user = _index(users)
        item_ids, item = _index(items)
        time = np.arange(n, dtype=np.float64) if times is None else np.asarray(times, dtype=np.float64)
        if baskets is None:
            # Without basket ids, one user's rows at one time form one basket.
            keys = [f"{u}\x1f{t!r}" for u, t in zip(users, time.tolist())]
        else:
            keys = [f"{u}\x1f{b}" for u, b in zip(users, baskets)]
        _, basket = _index(keys)
        weight = np.ones(n, dtype=np.float32) if weights is None else np.asarray(weights, dtype=np.float32)
        return cls(user, item, time, basket.astype(np.int64), weight, user_ids, item_ids)


def _index(values) -> tuple[list[str], np.ndarray]:
    ids: dict[str, int] = {}
    out = np.empty(len(values), dtype=np.int32)
    for i, v in enumerate(values):
        out[i] = ids.setdefault(str(v), len(ids))
    return list(ids), out


def parse_time(value: str) -> float:
    """A number (order number, epoch seconds) or an ISO-8601 timestamp -> a sortable float."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        ts = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InteractionsError(f"time {value!r} is neither a number nor an ISO-8601 timestamp") from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=dt.timezone.utc)
    return ts.timestamp()


def open_csv(path: Path):
    """A CSV file opened for csv.DictReader; a ``.csv.gz`` is read as it is (decompressed on the fly)."""
    opener = gzip.open if path.suffix == ".gz" else open
    return opener(path, "rt", newline="", encoding="utf-8-sig")


def read_csv(path: str | Path, user_col: str, item_col: str, time_col: str | None = None,
             basket_col: str | None = None, weight_col: str | None = None) -> Interactions:
    """Read interactions from any CSV given its column names. Rows with an empty user or item
    are skipped; an unreadable time names its line."""
    path = Path(path)
    if not path.is_file():
        raise InteractionsError(f"{path}: no such file")
    with open_csv(path) as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        for flag, col in (("--user-col", user_col), ("--item-col", item_col), ("--time-col", time_col),
                          ("--basket-col", basket_col), ("--weight-col", weight_col)):
            if col is not None and col not in header:
                raise InteractionsError(f"{flag} {col!r} is not a column of {path.name} (columns: {', '.join(header)})")
        users, items, times, baskets, weights = [], [], [], [], []
        for line, row in enumerate(reader, start=2):
            u, i = (row.get(user_col) or "").strip(), (row.get(item_col) or "").strip()
            if not u or not i:
                continue
            users.append(u)
            items.append(i)
            if time_col:
                try:
                    times.append(parse_time(row[time_col].strip()))
                except InteractionsError as exc:
                    raise InteractionsError(f"line {line}, column {time_col}: {exc}") from None
            if basket_col:
                baskets.append(row[basket_col])
            if weight_col:
                try:
                    weights.append(float(row[weight_col]))
                except ValueError:
                    raise InteractionsError(f"line {line}, column {weight_col}: {row[weight_col]!r} is not a number") from None
    if not users:
        raise InteractionsError(f"{path.name} has no rows with both {user_col} and {item_col}")
    return Interactions.from_records(users, items, times if time_col else None,
                                     baskets if basket_col else None, weights if weight_col else None)


def basket_age(inter: Interactions) -> np.ndarray:
    """Per row: how many of the same user's baskets are later than this row's basket
    (0 = the user's latest basket). Unit-free, so it works for order numbers and timestamps."""
    if len(inter) == 0:
        return np.zeros(0, dtype=np.int64)
    n_baskets = int(inter.basket.max()) + 1
    b_time = np.full(n_baskets, -np.inf)
    np.maximum.at(b_time, inter.basket, inter.time)
    b_user = np.full(n_baskets, -1, dtype=np.int64)
    b_user[inter.basket] = inter.user
    present = np.where(b_user >= 0)[0]
    order = present[np.lexsort((-b_time[present], b_user[present]))]
    users_sorted = b_user[order]
    first = np.r_[0, np.flatnonzero(np.diff(users_sorted)) + 1]
    starts = np.repeat(first, np.diff(np.r_[first, len(order)]))
    rank = np.zeros(n_baskets, dtype=np.int64)
    rank[order] = np.arange(len(order)) - starts
    return rank[inter.basket]


def recency_weights(inter: Interactions, half_life: float = 5.0) -> np.ndarray:
    """Row weight times 0.5 ** (basket age / half_life)."""
    return inter.weight * np.power(0.5, basket_age(inter) / half_life).astype(np.float32)
