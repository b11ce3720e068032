"""A/B variant and holdout assignment by stable hash (same customer, same journey -> same answer)."""

from __future__ import annotations

import hashlib


def bucket(customer_id: str, journey: str) -> float:
    """A number in [0, 1) fixed for this customer and journey."""
    digest = hashlib.sha256(f"{journey}\x1f{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(customer_id: str, journey: str, splits: dict[str, float]) -> str:
    """Pick a variant from ``splits`` (name -> share; shares must sum to 1)."""
    if not splits:
        raise ValueError("splits: at least one variant is required")
    total = sum(splits.values())
    if any(v < 0 for v in splits.values()) or abs(total - 1.0) > 1e-9:
        raise ValueError(f"splits: shares must be non-negative and sum to 1 (got {total})")
    x = bucket(customer_id, journey)
    acc = 0.0
    for name in sorted(splits):
        acc += splits[name]
        if x < acc:
            return name
    return sorted(splits)[-1]
